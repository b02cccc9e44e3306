"""Comments on an order both ways (customer and staff), company isolation, the audit
event, and faults customers report through the API (source, tier deadlines, 404s)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

import standards
from core.clock import now
from core.models import AuditEvent
from tests.factories import image_bytes
from workorders.models import WorkOrder


@pytest.fixture()
def companies(world):
    world.user("agent", "agent")
    world.user("disp", "dispatcher")
    a = world.enterprise("甲公司", tier="group")
    b = world.enterprise("乙公司", tier="local_c")
    world.user("alice", "customer", customer_id=a["customer_id"])
    world.user("bob", "customer", customer_id=b["customer_id"])
    return {"a": a, "b": b}


def _report(client, headers, ids, **extra):
    body = {
        "kind": "repair",
        "product": "lan_dedicated",
        "customer_id": ids["customer_id"],
        "site_id": ids["site_id"],
        "description": "专线中断",
        **extra,
    }
    return client.post("/api/v1/workorders", headers=headers, json=body)


def _comparable(resp) -> dict:
    body = dict(resp.get_json() or {})
    body.pop("instance", None)
    body["detail"] = re.sub(r"\d+", "N", body.get("detail", ""))
    return {"status": resp.status_code, **body}


def test_a_customer_reports_a_fault_with_since_and_contact_through_the_api(client, world, db, companies):
    alice = world.headers("alice")
    since = (now() - timedelta(hours=2)).replace(second=0, microsecond=0)
    resp = _report(
        client,
        alice,
        companies["a"],
        service_down=True,
        fault_since=since.isoformat(),
        site_contact_name="王工",
        site_contact_phone="13800001111",
    )
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["code"].startswith("WO") and body["priority"] == "P1"  # group tier, service down
    order = db.get(WorkOrder, body["id"])
    assert order.source == "portal" and order.kind == "repair"
    assert order.description == "专线中断"  # the report's facts are fields, not prose
    assert (order.fault_since, order.site_contact_name, order.site_contact_phone) == (
        since,
        "王工",
        "13800001111",
    )
    seen = client.get(f"/api/v1/workorders/{order.id}", headers=alice).get_json()
    assert seen["fault_since"] == since.strftime("%Y-%m-%dT%H:%M:%S+08:00")
    assert (seen["site_contact_name"], seen["site_contact_phone"]) == ("王工", "13800001111")
    expected = standards.restore_deadline(order.created_at, "enterprise", "group", "lan_dedicated", "P1")
    assert order.restore_deadline == expected.at and order.deadline_source == expected.source
    event = db.scalar(
        select(AuditEvent).where(AuditEvent.entity_id == order.id, AuditEvent.action == "fault_reported")
    )
    assert event.after["site_contact_name"] == "王工"

    # the same fault at a local C company gets that tier's (later) deadline
    bob = world.headers("bob")
    later = db.get(WorkOrder, _report(client, bob, companies["b"], service_down=True).get_json()["id"])
    assert later.restore_deadline - later.created_at > order.restore_deadline - order.created_at


def test_a_fault_cannot_start_in_the_future(client, world, companies):
    resp = _report(
        client, world.headers("alice"), companies["a"], fault_since=(now() + timedelta(days=1)).isoformat()
    )
    assert resp.status_code == 422 and "fault_since" in resp.get_json()["errors"]


def test_another_companys_site_answers_like_a_missing_one(client, world, companies):
    alice = world.headers("alice")
    theirs = _report(client, alice, {**companies["a"], "site_id": companies["b"]["site_id"]})
    missing = _report(client, alice, {**companies["a"], "site_id": 999999})
    assert theirs.status_code == 404
    assert _comparable(theirs) == _comparable(missing)
    assert "999999" not in theirs.get_json()["detail"]


def test_comments_both_ways_with_audit(client, world, db, companies):
    alice, disp = world.headers("alice"), world.headers("disp")
    order_id = _report(client, alice, companies["a"]).get_json()["id"]
    url = f"/api/v1/workorders/{order_id}/comments"

    assert client.get(url, headers=alice).get_json() == []
    resp = client.post(url, headers=alice, json={"body": "  请尽快上门  "})
    assert resp.status_code == 201
    mine = resp.get_json()
    assert mine["body"] == "请尽快上门" and mine["author_role"] == "customer" and mine["mine"] is True
    assert client.post(url, headers=disp, json={"body": "已派单，技术员下午到"}).status_code == 201

    seen = client.get(url, headers=alice).get_json()
    assert [c["body"] for c in seen] == ["请尽快上门", "已派单，技术员下午到"]
    assert seen[1]["author_role_label"] == "调度员" and seen[1]["mine"] is False
    english = client.get(url + "?lang=en", headers=alice).get_json()
    assert english[1]["author_role_label"] == "Dispatcher"
    assert [c["body"] for c in client.get(url, headers=disp).get_json()] == [c["body"] for c in seen]

    events = db.scalars(
        select(AuditEvent).where(AuditEvent.entity_id == order_id, AuditEvent.action == "comment_added")
    ).all()
    assert [e.actor_role for e in events] == ["customer", "dispatcher"]
    assert events[0].after["comment_id"] == mine["id"]


def test_another_companys_user_gets_404_like_a_missing_order(client, world, companies):
    order_id = _report(client, world.headers("alice"), companies["a"]).get_json()["id"]
    bob = world.headers("bob")
    for method in ("get", "post"):
        send = getattr(client, method)
        kwargs = {"json": {"body": "看看"}} if method == "post" else {}
        theirs = send(f"/api/v1/workorders/{order_id}/comments", headers=bob, **kwargs)
        missing = send("/api/v1/workorders/999999/comments", headers=bob, **kwargs)
        assert theirs.status_code == 404
        assert _comparable(theirs) == _comparable(missing)


def test_comment_bodies_are_checked_in_the_readers_language(client, world, companies):
    alice = world.headers("alice")
    order_id = _report(client, alice, companies["a"]).get_json()["id"]
    url = f"/api/v1/workorders/{order_id}/comments"
    too_long = client.post(url, headers=alice, json={"body": "长" * 2001})
    assert too_long.status_code == 422 and "body" in too_long.get_json()["errors"]
    blank = client.post(url, headers=alice, json={"body": "   "})
    assert blank.status_code == 422 and "1" in blank.get_json()["detail"]
    assert "字" in blank.get_json()["detail"]
    blank_en = client.post(url + "?lang=en", headers=alice, json={"body": "   "})
    assert blank_en.get_json()["detail"] == "A comment holds 1 to 2000 characters."
    nul = client.post(url, headers=alice, json={"body": "坏\x00"})
    assert nul.status_code == 422
    assert client.get(url, headers=alice).get_json() == []


def test_a_customer_adds_a_photo_to_their_open_fault_through_the_api(client, world, db, companies, app):
    alice = world.headers("alice")
    order_id = _report(client, alice, companies["a"]).get_json()["id"]
    url = f"/api/v1/workorders/{order_id}/report-photos"

    def upload(headers, data=None):
        data = data if data is not None else {"file": (io.BytesIO(image_bytes()), "fault.jpg", "image/jpeg")}
        return client.post(url, headers=headers, data=data, content_type="multipart/form-data")

    first = upload(alice)
    assert first.status_code == 201, first.get_json()
    photo = first.get_json()
    assert photo["item_id"] == "customer_report" and photo["order_id"] == order_id
    assert upload(alice).status_code == 200  # the same picture is kept once
    listed = client.get(f"/api/v1/workorders/{order_id}/photos", headers=alice).get_json()
    assert [p["id"] for p in listed] == [photo["id"]]
    assert client.get(photo["url"], headers=alice).status_code == 200

    assert upload(world.headers("bob")).status_code == 404  # another company's order
    not_a_picture = upload(alice, {"file": (io.BytesIO(b"not an image"), "x.jpg", "image/jpeg")})
    assert not_a_picture.status_code in (415, 422), not_a_picture.get_json()
    stray = upload(alice, {"note": "x"})
    assert stray.status_code == 422 and set(stray.get_json()["errors"]) == {"note", "file"}
    as_json = client.post(url, headers=alice, json={"file": "x"})
    assert as_json.status_code == 415

    cancelled = client.post(
        f"/api/v1/workorders/{order_id}/transitions",
        headers=world.headers("agent"),
        json={"to": "cancelled", "reason": "客户撤销"},
    )
    assert cancelled.status_code == 200, cancelled.get_json()
    late = upload(alice, {"file": (io.BytesIO(image_bytes(color=(10, 200, 90))), "late.jpg", "image/jpeg")})
    assert late.status_code == 409 and late.get_json()["type"].endswith("fault-not-open")
