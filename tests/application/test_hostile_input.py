"""Input the service cannot store or parse: a clear 4xx in the problem format,
never a 500, and nothing half-written."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.factories import new_key
from workorders.models import WorkOrder

BAD_TEXTS = ["光缆\x00中断", "故障\ud800", "\udfff"]


@pytest.mark.parametrize("text", BAD_TEXTS)
def test_an_order_description_that_cannot_be_stored_is_refused_naming_the_field(client, world, db, text):
    world.user("agent", "agent")
    ids = world.customer("客户")
    resp = world.take_order(world.headers("agent"), ids, description=text)
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


def test_the_session_cookie_cannot_change_anything_through_the_api_without_the_csrf_token(client, world, db):
    """Another site can make a logged-in dispatcher's browser send the cookie, not the token."""
    from dispatch.models import DispatchPlan
    from tests.factories import Console

    world.user("disp", "dispatcher")
    plan_id = world.proposed_plan()
    console = Console(client, "disp")  # logged in: the browser holds the session cookie
    forged = client.post(f"/api/v1/dispatch/plans/{plan_id}/discard")
    assert forged.status_code == 403 and forged.get_json()["type"].endswith("/csrf-token-missing")
    db.expire_all()
    assert db.get(DispatchPlan, plan_id).status == "proposed"
    # reading with the cookie still works, and the page's own token lets a change through
    assert client.get(f"/api/v1/dispatch/plans/{plan_id}").status_code == 200
    ok = client.post(f"/api/v1/dispatch/plans/{plan_id}/discard", headers={"X-CSRFToken": console.token})
    assert ok.status_code == 200 and ok.get_json()["status"] == "discarded"


def test_refresh_token_reuse_ends_the_whole_family(client, world, db):
    from core.models import AuditEvent

    world.user("disp", "dispatcher")
    first = client.post("/api/v1/auth/token", json={"username": "disp", "password": PASSWORD}).get_json()
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    second = second.get_json()
    me = {"Authorization": f"Bearer {second['access_token']}"}
    assert client.get("/api/v1/workorders", headers=me).status_code == 200
    # the old refresh token again (a thief replaying it): refused, and the new pair dies too
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    assert client.get("/api/v1/workorders", headers=me).status_code == 401
    assert (
        client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}).status_code
        == 401
    )
    assert (
        db.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "refresh_token_reused")
        )
        == 1
    )


@pytest.mark.parametrize(
    ("kind", "tier", "service_down", "expected"),
    [
        ("residential", None, False, "P3"),
        ("residential", None, True, "P2"),
        ("enterprise", "local_c", True, "P2"),
        ("enterprise", "group", True, "P1"),
        ("enterprise", "group", False, "P3"),
    ],
)
def test_a_customer_cannot_choose_the_priority_of_their_fault(
    client, world, kind, tier, service_down, expected
):
    ids = world.customer(
        "客户", kind=kind, tier=tier, access_type="lan", route_length_m=None, occupancy_pct=20
    )
    world.user("cust", "customer", customer_id=ids["customer_id"])
    resp = world.take_order(
        world.headers("cust"), ids, product="lan", priority="P1", service_down=service_down
    )
    assert resp.status_code == 201, resp.get_json()
    order = resp.get_json()
    assert order["priority"] == expected
    created = datetime.fromisoformat(order["created_at"])
    minutes = {"P1": 15, "P2": 60, "P3": 120}[expected]
    assert datetime.fromisoformat(order["response_deadline"]) - created == timedelta(minutes=minutes)


def test_security_headers_on_pages_and_api(client):
    for path in ("/login", "/openapi.json", "/api/v1/workorders"):
        headers = client.get(path).headers
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self' 'nonce-" in csp


def test_a_copied_session_cookie_dies_with_logout(client, world, app):
    from tests.factories import Console

    world.user("disp", "dispatcher")
    Console(client, "disp")
    copied = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/console/api/orders").status_code == 200
    page = client.get("/console").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert thief.get("/console/api/orders").status_code == 401
    assert thief.get("/console").status_code == 302  # back to the login page


def test_production_refuses_to_start_without_a_real_secret(monkeypatch, tmp_path):
    from core.config import Config

    monkeypatch.setenv("INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    for secret in (None, "test-secret", "short"):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            Config(APP_ENV="production", SECRET_KEY=secret)
    strong = Config(APP_ENV="production", SECRET_KEY="k" * 20 + "0123456789abcdef")
    assert strong.SESSION_COOKIE_SECURE is True
    assert Config(APP_ENV="development").SESSION_COOKIE_SECURE is False


def test_the_kept_secret_key_file_is_private(monkeypatch, tmp_path):
    import core.config

    monkeypatch.setattr(core.config, "INSTANCE_DIR", tmp_path)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    key = core.config.Config(APP_ENV="development").SECRET_KEY
    key_file = tmp_path / "secret_key"
    assert key_file.read_text() == key and len(key) == 64
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert core.config.Config(APP_ENV="development").SECRET_KEY == key  # kept across restarts


@pytest.mark.parametrize("door", ["/api/v1/auth/token", "/mobile/v1/auth/login", "/login"])
def test_failed_logins_lock_the_account_then_time_out(client, world, db, city_time, door):
    from core.clock import now
    from core.models import AuditEvent

    city_time(now())
    world.user("disp", "dispatcher")

    def attempt(password: str, username: str = "disp"):
        if door == "/login":
            page = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
            return client.post(
                "/login", data={"username": username, "password": password, "csrf_token": token}
            )
        return client.post(door, json={"username": username, "password": password})

    for _ in range(5):
        assert attempt("wrong-password").status_code in (400, 401)
    locked = attempt(PASSWORD)  # the right password, too late
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    text = locked.get_data(as_text=True)
    assert "15" in text  # says how long
    failures = db.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed")).all()
    assert len(failures) == 5 and all(e.after["username"] == "disp" for e in failures)
    # another account from another address is not locked by it
    world.user("agent", "agent")
    other = client.post(
        "/api/v1/auth/token",
        json={"username": "agent", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert other.status_code == 200
    city_time(now() + timedelta(minutes=16))  # the window has passed
    assert attempt(PASSWORD).status_code in (200, 302)


def test_unknown_usernames_cost_what_wrong_passwords_cost(client, world, monkeypatch):
    """A decoy hash is verified for an unknown name: every failed login costs one argon2 verify."""
    from argon2 import PasswordHasher

    from core import auth

    world.user("disp", "dispatcher")
    verified: list[str] = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash, password):  # noqa: A002 - the library's own parameter name
            verified.append(hash)
            return super().verify(hash, password)

    hasher = CountingHasher(time_cost=1, memory_cost=1024)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_decoy_hash", hasher.hash("decoy"))
    for username, address in (("disp", "10.1.0.1"), ("nobody-here", "10.1.0.2")):
        resp = client.post(
            "/api/v1/auth/token",
            json={"username": username, "password": "x" * 12},
            environ_base={"REMOTE_ADDR": address},
        )
        assert resp.status_code == 401
    assert len(verified) == 2 and verified[1] == auth._decoy_hash


@pytest.mark.parametrize(
    ("kind", "tier", "order_kind", "service_down", "sent", "expected"),
    [
        ("enterprise", "provincial", "repair", True, None, "P1"),
        ("residential", None, "repair", True, None, "P2"),
        ("enterprise", "provincial", "repair", False, None, "P3"),
        ("enterprise", "provincial", "install", True, None, "P3"),
        ("enterprise", "provincial", "repair", True, "P3", "P3"),  # staff's own word stands
    ],
)
def test_staff_who_leave_the_priority_out_get_the_rules_one(
    client, world, kind, tier, order_kind, service_down, sent, expected
):
    ids = world.customer(
        "客户", kind=kind, tier=tier, access_type="lan", route_length_m=None, occupancy_pct=20
    )
    world.user("hotline", "agent")
    body = {"kind": order_kind, "product": "lan", "service_down": service_down, "duplicate_ok": True, **ids}
    if sent is not None:
        body["priority"] = sent
    resp = client.post("/api/v1/workorders", headers=world.headers("hotline"), json=body)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["priority"] == expected
