"""The technician's phone API: login, the day's route, status changes, checklist, pings,
follow-ups, and its OpenAPI description. Over HTTP with real tokens (bad input:
test_mobile_bad_input.py; languages: test_mobile_language.py)."""

from datetime import datetime, timedelta

from sqlalchemy import func, select

from core.clock import city_tz, now
from core.models import AuditEvent
from technicians.models import LocationPing, Technician
from tests.factories import ADSL_INSTALL_ANSWERS, SITE, local, order_trail, today_at


def _get(client, url, headers, expect=200):
    resp = client.get(url, headers=headers)
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


# ---------------------------------------------------------------- login


def test_login_refresh_logout(client, field):
    resp = client.post("/mobile/v1/auth/login", json={"username": "tech", "password": "secret-pass-1"})
    assert resp.status_code == 200
    tokens = resp.get_json()
    assert tokens["role"] == "technician" and tokens["token_type"] == "Bearer"
    access = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/mobile/v1/me", headers=access).status_code == 200

    wrong = client.post("/mobile/v1/auth/login", json={"username": "tech", "password": "nope"})
    assert wrong.status_code == 401
    assert wrong.headers["Content-Type"].startswith("application/problem+json")

    rotated = client.post("/mobile/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    # the old pair is revoked by the rotation
    assert client.get("/mobile/v1/me", headers=access).status_code == 401
    fresh = {"Authorization": f"Bearer {rotated.get_json()['access_token']}"}
    assert client.get("/mobile/v1/route", headers=fresh).status_code == 200
    # replaying the old refresh token is taken as theft: the rotated pair dies too
    assert (
        client.post("/mobile/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}).status_code
        == 401
    )
    assert client.get("/mobile/v1/route", headers=fresh).status_code == 401

    again = client.post(
        "/mobile/v1/auth/login", json={"username": "tech", "password": "secret-pass-1"}
    ).get_json()
    fresh = {"Authorization": f"Bearer {again['access_token']}"}
    assert client.post("/mobile/v1/auth/logout", headers=fresh).status_code == 204
    assert client.get("/mobile/v1/route", headers=fresh).status_code == 401
    assert (
        client.post("/mobile/v1/auth/refresh", json={"refresh_token": again["refresh_token"]}).status_code
        == 401
    )


def test_only_technicians_with_a_profile_use_the_phone_api(client, world, field):
    assert client.get("/mobile/v1/route", headers=field.disp).status_code == 403
    assert client.get("/mobile/v1/route").status_code == 401
    world.user("bare_tech", "technician")  # a login without a technician profile
    refused = client.get("/mobile/v1/route", headers=world.headers("bare_tech"))
    assert refused.status_code == 403
    assert refused.get_json()["type"].endswith("/no-technician-profile")
    # nor does such a login see unassigned orders through the staff API
    field.client.post(
        "/api/v1/workorders",
        headers=field.agent,
        json={
            "kind": "repair",
            "product": "adsl",
            "customer_id": field.home["customer_id"],
            "site_id": field.home["site_id"],
        },
    )
    assert client.get("/api/v1/workorders", headers=world.headers("bare_tech")).get_json() == []


def test_me_has_profile_skills_and_todays_shift(client, field):
    me = _get(client, "/mobile/v1/me", field.tech)
    assert me["username"] == "tech" and me["technician_id"] == field.tech_id
    assert me["skills"] == ["adsl", "iptv", "lan"]
    assert me["shift"]["date"] == now().date().isoformat()
    assert me["shift"]["start"] == today_at(8, 30) and me["shift"]["end"] == today_at(17, 30)
    assert me["shift"]["lunch_end"] == today_at(13, 0)


# ---------------------------------------------------------------- route


def test_route_lists_my_stops_in_order_with_what_the_visit_needs(client, field):
    late = field.order("iptv_adsl", kind="install", hour=15)
    early = field.order("adsl", kind="repair", hour=9)
    field.order("adsl", technician_id=field.other_tech_id)  # not mine
    route = _get(client, "/mobile/v1/route", field.tech)
    assert route["technician_id"] == field.tech_id
    assert [s["order_id"] for s in route["stops"]] == [early, late]
    assert [s["sequence"] for s in route["stops"]] == [1, 2]
    first, second = route["stops"]
    assert first["planned_start"] == today_at(9) and first["address"].startswith("合肥市")
    assert (first["lat"], first["lon"]) == SITE and first["customer_name"] == "张伟"
    assert first["customer_phone"] == "138******78"  # masked until the visit starts
    assert first["allowed_statuses"] == ["en_route"]
    assert first["restore_deadline"] == first["sla"]["restore_deadline"]
    assert local(first["restore_deadline"]) > now()
    assert [i["id"] for i in first["checklist"]] == [
        "r3_line_no_fault",
        "r3_drop_twisted_pair",
        "r3_drop_no_joints",
    ]
    assert first["checklist"][0]["label"] == "话线测试：无地气、无杂音（听筒测试）"
    assert {i["id"] for i in second["checklist"]} >= {"r8_wiring_photo", "r1_route_length_m"}
    en = _get(client, "/mobile/v1/route?lang=en", field.tech)
    assert en["stops"][0]["checklist"][0]["label"].startswith("Phone line tested")

    field.status(early, "en_route")
    stop = _get(client, "/mobile/v1/route", field.tech)["stops"][0]
    assert stop["customer_phone"] == "13812345678" and stop["state"] == "en_route"
    assert stop["allowed_statuses"] == ["arrived", "paused", "failed"]


def test_route_carries_intake_findings(client, world, field):
    far = world.customer("远端用户", access_type="adsl", route_length_m=2600)
    # on a repair, a line longer than R1 allows is a warning: the visit goes ahead
    oid = field.order("iptv_adsl", kind="repair", customer_id=far["customer_id"], site_id=far["site_id"])
    stop = _get(client, f"/mobile/v1/orders/{oid}", field.tech)
    r1 = next(f for f in stop["findings"] if f["rule_id"] == "R1")
    assert r1["severity"] == "warn" and r1["measured"] == 2600 and r1["limit"] == 2500
    assert "2.5" in r1["message"] or "2500" in r1["message"]
    en = _get(client, f"/mobile/v1/orders/{oid}?lang=en", field.tech)
    assert en["findings"][0]["message"] != r1["message"]


def test_another_technicians_order_is_404_everywhere(client, field):
    oid = field.order("adsl", technician_id=field.other_tech_id)
    for url in (
        f"/mobile/v1/orders/{oid}",
        f"/mobile/v1/orders/{oid}/checklist",
        f"/mobile/v1/orders/{oid}/photos",
    ):
        assert client.get(url, headers=field.tech).status_code == 404, url
    assert field.status(oid, "en_route").status_code == 404
    assert (
        client.post(
            f"/mobile/v1/orders/{oid}/checklist",
            headers=field.tech,
            json={"answers": {"r3_line_no_fault": True}},
        ).status_code
        == 404
    )
    assert client.get(f"/mobile/v1/orders/{oid}", headers=field.other_tech).status_code == 200


# ---------------------------------------------------------------- status changes


def test_every_status_maps_onto_the_lifecycle(client, db, field):
    oid = field.order("adsl", kind="repair")
    version = _get(client, f"/mobile/v1/orders/{oid}", field.tech)["version"]
    stale = field.status(oid, "en_route", version=version - 1)
    assert stale.status_code == 409 and stale.get_json()["current_version"] == version

    en_route = field.status(
        oid, "en_route", version=version, client_time=(now() - timedelta(minutes=1)).isoformat()
    )
    assert en_route.status_code == 200
    assert en_route.get_json()["state"] == "en_route"

    arrived = field.status(oid, "arrived", lat=31.8601, lon=117.2702, accuracy_m=8)
    body = arrived.get_json()
    assert arrived.status_code == 200 and body["state"] == "on_site"
    assert body["far_from_site"] is False and body["distance_from_site_m"] < 50
    assert body["arrived_at"] and body["allowed_statuses"] == ["started", "paused", "completed", "failed"]

    started = field.status(oid, "started").get_json()
    assert started["state"] == "on_site" and started["work_started_at"]
    assert "started" not in started["allowed_statuses"]
    again = field.status(oid, "started")
    assert again.status_code == 409 and again.get_json()["allowed_statuses"]

    # completion runs the close-out check and names what is missing
    refused = field.status(oid, "completed")
    assert refused.status_code == 409
    assert {f["item_id"] for f in refused.get_json()["findings"]} == {
        "r3_line_no_fault",
        "r3_drop_twisted_pair",
        "r3_drop_no_joints",
    }
    client.post(
        f"/mobile/v1/orders/{oid}/checklist",
        headers=field.tech,
        json={"answers": {"r3_line_no_fault": True, "r3_drop_twisted_pair": True, "r3_drop_no_joints": True}},
    )
    done = field.status(oid, "completed", lat=31.8601, lon=117.2702)
    assert done.status_code == 200 and done.get_json()["state"] == "completed"
    assert done.get_json()["allowed_statuses"] == []

    actions = order_trail(db, oid)
    assert [a for a in actions if a.startswith("state:")][-3:] == [
        "state:en_route",
        "state:on_site",
        "state:completed",
    ]
    assert "field:started" in actions
    arrival = db.scalar(
        select(AuditEvent).where(AuditEvent.entity_id == oid, AuditEvent.action == "state:on_site")
    )
    assert arrival.actor_name == "tech" and arrival.after["via"] == "mobile"
    assert arrival.after["fix"] == [31.8601, 117.2702] and arrival.after["accuracy_m"] == 8
    tech = db.get(Technician, field.tech_id)
    assert (tech.last_lat, tech.last_lon) == (31.8601, 117.2702) and tech.last_seen_at


def test_arrival_far_from_site_is_accepted_but_flagged(client, db, field):
    oid = field.order("adsl")
    field.status(oid, "en_route")
    no_fix = field.status(oid, "arrived")
    assert no_fix.status_code == 422 and set(no_fix.get_json()["errors"]) == {"lat", "lon"}
    far = field.status(oid, "arrived", lat=31.90, lon=117.27)
    assert far.status_code == 200
    body = far.get_json()
    assert body["far_from_site"] is True and body["distance_from_site_m"] > 4000
    event = db.scalar(
        select(AuditEvent).where(AuditEvent.entity_id == oid, AuditEvent.action == "state:on_site")
    )
    assert event.after["far_from_site"] is True


def test_pause_for_absent_customer_stops_the_sla_clock(client, db, field):
    from freezegun import freeze_time

    oid = field.order("adsl")
    field.arrive(oid)
    original = datetime.fromisoformat(
        _get(client, f"/mobile/v1/orders/{oid}", field.tech)["restore_deadline"]
    )
    base = now().replace(tzinfo=city_tz())
    with freeze_time(base) as clock:  # still: the pause lasts exactly 40 minutes
        bad = field.status(oid, "paused", reason="feeling_tired")
        assert bad.status_code == 422 and "reason" in bad.get_json()["errors"]
        assert field.status(oid, "paused").status_code == 422  # a reason is required

        paused = field.status(oid, "paused", reason="customer_absent", note="敲门无人应答")
        assert paused.status_code == 200, paused.get_json()
        body = paused.get_json()
        assert body["sla_paused"] is True and body["paused"] is True
        assert body["pause_reason"] == "customer_absent"
        assert body["allowed_statuses"] == ["resumed", "completed", "failed"]
        assert field.status(oid, "paused", reason="customer_absent").status_code == 409

        clock.move_to(base + timedelta(minutes=40))
        resumed = field.status(oid, "resumed")
        assert resumed.status_code == 200
        stop = resumed.get_json()
        assert stop["paused"] is False and stop["sla"]["paused"] is False
        assert datetime.fromisoformat(stop["sla"]["restore_deadline"]) == original + timedelta(minutes=40)
        assert field.status(oid, "resumed").status_code == 409
    actions = order_trail(db, oid)
    assert actions.count("sla_paused") == 1 and actions.count("sla_resumed") == 1


def test_a_break_is_recorded_without_touching_the_sla_clock(client, db, field):
    oid = field.order("adsl")
    field.arrive(oid)
    paused = field.status(oid, "paused", reason="waiting_for_parts").get_json()
    assert paused["paused"] is True and paused["sla_paused"] is False
    # giving up while paused ends the pause first, and needs a reason
    assert field.status(oid, "failed").status_code == 422
    failed = field.status(oid, "failed", reason="分线盒损坏，需备件")
    assert failed.status_code == 200 and failed.get_json()["state"] == "needs_revisit"
    order = client.get(f"/api/v1/workorders/{oid}", headers=field.disp).get_json()
    assert order["state_reason"] == "分线盒损坏，需备件"
    actions = order_trail(db, oid)
    assert "sla_paused" not in actions and actions.index("field:resumed") < actions.index(
        "state:needs_revisit"
    )
    # the order left the route
    assert _get(client, "/mobile/v1/route", field.tech)["stops"] == []


def test_status_sent_in_the_wrong_state_names_what_is_allowed(field):
    oid = field.order("adsl")
    refused = field.status(oid, "completed")
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["type"].endswith("/status-not-allowed")
    assert body["current_state"] == "assigned" and body["allowed_statuses"] == ["en_route"]
    zh = field.status(oid, "arrived", lat=31.86, lon=117.27)
    assert "不能" in zh.get_json()["detail"]


def test_cancelled_order_refuses_changes_with_the_reason(field):
    oid = field.order("adsl")
    field.move(oid, "cancelled", headers=field.agent, reason="客户取消")
    refused = field.status(oid, "en_route")
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["type"].endswith("/order-cancelled") and body["reason"] == "客户取消"
    assert body["current"]["state"] == "cancelled"


# ---------------------------------------------------------------- checklist


def test_checklist_answers_say_exactly_what_is_still_missing(client, field):
    oid = field.order("adsl", kind="install")
    early = client.post(
        f"/mobile/v1/orders/{oid}/checklist", headers=field.tech, json={"answers": {"r3_line_no_fault": True}}
    )
    assert early.status_code == 409  # filled in on site
    field.arrive(oid)
    before = _get(client, f"/mobile/v1/orders/{oid}/checklist", field.tech)
    assert before["complete"] is False and len(before["items"]) == 10

    answers = dict(ADSL_INSTALL_ANSWERS, r4_payment_confirmed=False)
    del answers["r5_wire_fixed"]
    resp = client.post(f"/mobile/v1/orders/{oid}/checklist", headers=field.tech, json={"answers": answers})
    assert resp.status_code == 200, resp.get_json()
    state = resp.get_json()
    missing = {(f["item_id"], f["check"]) for f in state["missing"]}
    assert missing == {
        ("r4_payment_confirmed", "CLOSEOUT_NOT_CONFIRMED"),
        ("r5_wire_fixed", "CLOSEOUT_MISSING"),
        ("r5_not_through_windows_doors", "CLOSEOUT_PHOTO_MISSING"),
    }
    assert all(f["message"] for f in state["missing"]) and state["complete"] is False
    entry = next(i for i in state["items"] if i["id"] == "r4_payment_confirmed")
    assert entry["answer"] is False and entry["photos"] == 0

    fixed = client.post(
        f"/mobile/v1/orders/{oid}/checklist",
        headers=field.tech,
        json={"answers": {"r4_payment_confirmed": True, "r5_wire_fixed": True}},
    ).get_json()
    assert [f["item_id"] for f in fixed["missing"]] == ["r5_not_through_windows_doors"]
    cleared = client.post(
        f"/mobile/v1/orders/{oid}/checklist", headers=field.tech, json={"answers": {"r5_wire_fixed": None}}
    ).get_json()
    assert "r5_wire_fixed" not in cleared["answers"]


def test_measurements_with_units_and_consent(client, world, field):
    lan = world.customer("王芳", access_type="lan", route_length_m=None, occupancy_pct=40)
    body = {
        "kind": "install",
        "product": "iptv_lan",
        "customer_id": lan["customer_id"],
        "site_id": lan["site_id"],
    }
    oid = client.post("/api/v1/workorders", headers=field.agent, json=body).get_json()["id"]
    field.move(oid, "assigned", technician_id=field.tech_id)
    field.arrive(oid)
    state = client.post(
        f"/mobile/v1/orders/{oid}/checklist",
        headers=field.tech,
        json={
            "answers": {
                "r6_drilling_needed": True,
                "r8_power_line_distance_cm": {"value": 140, "unit": "mm"},
                "r8_socket_spacing_cm": 0.25,
                "r8_socket_height_cm": {"value": 30, "unit": "cm"},
            }
        },
    ).get_json()
    checks = {f["item_id"]: f["check"] for f in state["missing"]}
    assert checks["r6_drilling_consent"] == "CLOSEOUT_MISSING"  # drilling needs consent
    assert checks["r8_power_line_distance_cm"] == "CLOSEOUT_OUT_OF_RANGE"  # 14 cm < 15 cm
    assert "r8_socket_spacing_cm" in checks and "r8_socket_height_cm" not in checks
    bad = client.post(
        f"/mobile/v1/orders/{oid}/checklist",
        headers=field.tech,
        json={
            "answers": {
                "r6_drilling_consent": "yes",
                "r8_socket_height_cm": {"value": 30, "unit": "kg"},
                "r8_wiring_photo": True,
                "no_such_item": True,
            }
        },
    )
    assert bad.status_code == 422
    assert set(bad.get_json()["errors"]["answers"]) == {
        "r6_drilling_consent",
        "r8_socket_height_cm",
        "r8_wiring_photo",
        "no_such_item",
    }


# ---------------------------------------------------------------- pings and follow-up


def test_location_pings_in_batches_move_the_map_marker(client, db, field):
    t0 = now() - timedelta(minutes=10)
    pings = [
        {
            "lat": round(31.80 + i / 1000, 3),
            "lon": 117.20,
            "accuracy_m": 12,
            "recorded_at": (t0 + timedelta(minutes=i)).isoformat(),
        }
        for i in range(5)
    ]
    resp = client.post("/mobile/v1/location", headers=field.tech, json={"pings": pings[::-1]})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["accepted"] == 5 and resp.get_json()["last_lat"] == 31.804
    # a resent batch is skipped ping by ping; an older ping does not move the marker back
    again = client.post("/mobile/v1/location", headers=field.tech, json={"pings": pings[:2]}).get_json()
    assert again == {**again, "accepted": 0, "duplicates": 2, "last_lat": 31.804}
    assert db.scalar(select(func.count()).select_from(LocationPing)) == 5
    staff = client.get(f"/api/v1/technicians/{field.tech_id}", headers=field.disp).get_json()
    assert staff["last_lat"] == 31.804 and staff["last_seen_at"] == pings[-1]["recorded_at"] + "+08:00"
    assert local(resp.get_json()["last_seen_at"]).isoformat() == pings[-1]["recorded_at"]


def test_followup_result_and_request(client, db, field):
    oid = field.order("adsl")
    field.arrive(oid)
    request_phone = client.post(
        f"/mobile/v1/orders/{oid}/followup-request",
        headers=field.tech,
        json={"method": "phone", "reason": "客户希望晚上回电"},
    )
    assert request_phone.status_code == 201
    assert request_phone.get_json()["order_id"] is None
    visit = client.post(
        f"/mobile/v1/orders/{oid}/followup-request",
        headers=field.tech,
        json={"method": "visit", "reason": "雨天后复查线路"},
    )
    assert visit.status_code == 201, visit.get_json()
    visit_id = visit.get_json()["order_id"]
    staff_view = client.get(f"/api/v1/workorders/{visit_id}", headers=field.disp).get_json()
    assert staff_view["kind"] == "follow_up" and staff_view["parent_id"] == oid
    assert staff_view["owner_name"] == "Agent" and staff_view["state"] == "validated"
    twice = client.post(
        f"/mobile/v1/orders/{oid}/followup-request",
        headers=field.tech,
        json={"method": "visit", "reason": "again"},
    )
    assert twice.status_code == 409 and twice.get_json()["followup_order_id"] == visit_id

    too_early = client.post(
        f"/mobile/v1/orders/{oid}/followup", headers=field.tech, json={"method": "visit", "satisfied": True}
    )
    assert too_early.status_code == 409
    client.post(
        f"/mobile/v1/orders/{oid}/checklist",
        headers=field.tech,
        json={"answers": {"r3_line_no_fault": True, "r3_drop_twisted_pair": True, "r3_drop_no_joints": True}},
    )
    assert field.status(oid, "completed").status_code == 200
    result = client.post(
        f"/mobile/v1/orders/{oid}/followup",
        headers=field.tech,
        json={"method": "visit", "satisfied": False, "service_working": False, "note": "仍掉线"},
    )
    assert result.status_code == 200, result.get_json()
    body = result.get_json()
    assert body["state"] == "followed_up" and body["followup_satisfied"] is False
    repeat = client.get(f"/api/v1/workorders/{body['repeat_order_id']}", headers=field.disp).get_json()
    assert repeat["kind"] == "repair" and repeat["parent_id"] == oid


# ---------------------------------------------------------------- the contract


def test_openapi_documents_the_mobile_api(client):
    spec = client.get("/openapi.json").get_json()
    for path in (
        "/mobile/v1/me",
        "/mobile/v1/orders/{order_id}/status",
        "/mobile/v1/orders/{order_id}/checklist",
        "/mobile/v1/orders/{order_id}/photos",
        "/mobile/v1/photos/{photo_id}",
        "/mobile/v1/location",
        "/mobile/v1/sync",
        "/mobile/v1/orders/{order_id}/followup",
        "/api/v1/photos/{photo_id}",
    ):
        assert path in spec["paths"], path
    status = spec["paths"]["/mobile/v1/orders/{order_id}/status"]["post"]
    assert [p["name"] for p in status["parameters"]] == ["Idempotency-Key"]
    assert set(status["responses"]) >= {"200", "404", "409", "422"}
    problem = spec["components"]["responses"]["CONFLICT"]["content"]
    assert list(problem) == ["application/problem+json"]
    upload = spec["paths"]["/mobile/v1/orders/{order_id}/photos"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"413", "415"} <= set(upload["responses"])


def test_the_fast_route_dump_equals_the_schema_dump(app, client, field):
    from mobile_api import stops as stops_service
    from mobile_api.schemas import StopSchema, dump_stops

    field.order("iptv_adsl", kind="install", hour=10)
    visiting = field.order("adsl", hour=9)
    field.arrive(visiting)
    assert field.status(visiting, "paused", reason="customer_absent").status_code == 200
    with app.test_request_context():
        from core.actor import Actor
        from core.db import get_session

        actor = Actor(user_id=None, username="tech", role="technician", technician_id=field.tech_id)
        stops = stops_service.todays_route(get_session(), actor, now().date(), "en")
    assert len(stops) == 2 and stops[0]["paused"] and stops[0]["arrived_at"]
    assert dump_stops(stops) == StopSchema(many=True).dump(stops)
