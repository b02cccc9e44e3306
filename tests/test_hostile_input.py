"""Input the service cannot store or parse: a clear 4xx in the problem format,
never a 500, and nothing half-written."""

from __future__ import annotations

import re

import pytest
from mobile_factories import Field, new_key
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from workorders.models import WorkOrder

BAD_TEXTS = ["光缆\x00中断", "故障\ud800", "\udfff"]


@pytest.fixture()
def field(world, client) -> Field:
    return Field(world, client)


@pytest.mark.parametrize("text", BAD_TEXTS)
def test_an_order_description_that_cannot_be_stored_is_refused_naming_the_field(client, world, db, text):
    world.user("agent", "agent")
    ids = world.customer("客户")
    resp = client.post(
        "/api/v1/workorders",
        headers=world.headers("agent"),
        json={
            "kind": "repair",
            "product": "adsl",
            "priority": "P2",
            "description": text,
            **{k: ids[k] for k in ("customer_id", "site_id")},
        },
    )
    assert resp.status_code == 422, resp.get_data(as_text=True)
    body = resp.get_json()
    assert resp.mimetype == "application/problem+json"
    assert body["type"].endswith("/unstorable-text")
    assert body["errors"]["json"] == {"description": [body["detail"]]}
    assert db.scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_nul_in_a_query_and_in_a_login_form_is_a_422(client, world):
    world.user("disp", "dispatcher")
    resp = client.get("/api/v1/workorders?district=%00", headers=world.headers("disp"))
    assert resp.status_code == 422 and "district" in resp.get_json()["errors"]["query"]
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    resp = client.post("/login", data={"username": "disp\x00", "password": PASSWORD, "csrf_token": token})
    assert resp.status_code == 422 and "username" in resp.get_json()["errors"]["form"]
    resp = client.post("/api/v1/auth/token", json={"username": "disp\ud800", "password": PASSWORD})
    assert resp.status_code == 422 and "username" in resp.get_json()["errors"]["json"]


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/mobile/v1/auth/token", "/api/v1/workorders"])
def test_deeply_nested_json_is_a_400(client, path):
    resp = client.post(path, data="[" * 50_000 + "]" * 50_000, content_type="application/json")
    assert resp.status_code == 400
    assert resp.get_json()["type"].endswith("/bad-json")


def test_one_bad_note_in_a_sync_batch_fails_alone(client, db, field):
    oid = field.order("adsl")
    bad = {
        "id": new_key(),
        "type": "status",
        "order_id": oid,
        "payload": {"status": "en_route", "note": "路上\x00"},
    }
    good = {"id": new_key(), "type": "status", "order_id": oid, "payload": {"status": "en_route"}}
    for _attempt in range(2):  # the phone sends its queue again: still only the bad one fails
        resp = client.post("/mobile/v1/sync", headers=field.tech, json={"actions": [bad, good]})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        first, second = resp.get_json()["results"]
        assert first["status"] == "refused" and first["http_status"] == 422
        assert first["problem"]["errors"]["payload"] == {"note": [first["problem"]["detail"]]}
        assert second["status"] in ("applied", "duplicate")
    assert db.get(WorkOrder, oid).state == "en_route"
