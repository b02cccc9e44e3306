"""One install and one repair order walked through every state over HTTP with real tokens."""

from datetime import datetime, timedelta

import pytest

from core.clock import now


def _post(client, url, headers, **body):
    return client.post(url, headers=headers, json=body)


def _move(client, order_id, headers, to, expect=200, **body):
    resp = client.post(f"/api/v1/workorders/{order_id}/transitions", headers=headers, json={"to": to, **body})
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


@pytest.fixture()
def people(world):
    world.user("agent", "agent")
    world.user("disp", "dispatcher")
    world.user("boss", "manager")
    tech_id = world.technician("tech", ["adsl", "iptv", "lan"])
    world.technician("other_tech", ["adsl", "iptv"])
    home = world.customer("张伟", access_type="adsl", route_length_m=1200)
    world.user("zhangwei", "customer", customer_id=home["customer_id"])
    stranger = world.customer("李娜", access_type="lan", route_length_m=None, occupancy_pct=40)
    world.user("lina", "customer", customer_id=stranger["customer_id"])
    return {
        "tech_id": tech_id,
        "home": home,
        "stranger": stranger,
        "agent": world.headers("agent"),
        "disp": world.headers("disp"),
        "boss": world.headers("boss"),
        "tech": world.headers("tech"),
        "other_tech": world.headers("other_tech"),
        "cust": world.headers("zhangwei"),
        "stranger_cust": world.headers("lina"),
    }


def test_install_order_walks_every_state(client, people):
    """Long because it walks one order through every state, each step checking what the last left."""
    p = people
    today = now().date()
    start = datetime.combine(today + timedelta(days=1), datetime.min.time()).replace(hour=9)
    created = _post(
        client,
        "/api/v1/workorders",
        p["agent"],
        kind="install",
        product="iptv_adsl",
        priority="P3",
        source="hotline",
        customer_id=p["home"]["customer_id"],
        site_id=p["home"]["site_id"],
        appointment_start=start.isoformat(),
        appointment_end=(start + timedelta(hours=3)).isoformat(),
    )
    assert created.status_code == 201, created.get_json()
    order = created.get_json()
    oid = order["id"]
    assert order["state"] == "validated" and order["blocked"] is False
    assert order["required_skills"] == ["adsl", "iptv"]
    assert order["rule_set_version"]
    assert datetime.fromisoformat(order["restore_deadline"]) > datetime.fromisoformat(
        order["response_deadline"]
    )

    # stale version is refused, nothing changes
    stale = _move(client, oid, p["disp"], "scheduled", expect=409, version=order["version"] - 1)
    assert stale["current_version"] == order["version"]

    _move(client, oid, p["disp"], "scheduled", planned_start=start.isoformat(), version=order["version"])
    # a technician without the lan skill is fine here; one lacking iptv would be refused
    assigned = _move(client, oid, p["disp"], "assigned", technician_id=p["tech_id"])
    assert assigned["technician_id"] == p["tech_id"]

    # another technician cannot even see it
    assert client.get(f"/api/v1/workorders/{oid}", headers=p["other_tech"]).status_code == 404
    # an illegal jump names the allowed next states
    refused = _move(client, oid, p["tech"], "completed", expect=409)
    assert refused["current_state"] == "assigned"
    assert refused["allowed"] == ["en_route", "scheduled", "validated", "cancelled"]

    _move(client, oid, p["tech"], "en_route")
    on_site = _move(client, oid, p["tech"], "on_site", lat=31.8601, lon=117.2701)
    assert on_site["arrived_at"]

    missing = _move(client, oid, p["tech"], "completed", expect=409)
    ids = {f["params"]["item_id"] for f in missing["findings"]}
    assert {"r8_power_line_distance_cm", "r1_route_length_m", "r3_line_no_fault"} <= ids

    answers = {
        "r3_line_no_fault": True,
        "r3_drop_twisted_pair": True,
        "r3_drop_no_joints": True,
        "r4_identity_verified": True,
        "r4_tariff_confirmed": True,
        "r4_payment_confirmed": True,
        "r4_computer_config_noted": True,
        "r5_indoor_wire_ok": True,
        "r5_wire_fixed": True,
        "r5_not_through_windows_doors": True,
        "r8_power_line_distance_cm": 14.9,
        "r8_socket_spacing_cm": 22,
        "r8_socket_height_cm": 30,
        "r1_route_length_m": 1250,
    }
    failing = _move(client, oid, p["tech"], "completed", expect=409, checklist=answers)
    failing_ids = {f["params"]["item_id"] for f in failing["findings"]}
    assert "r8_power_line_distance_cm" in failing_ids

    answers["r8_power_line_distance_cm"] = 15.0
    photos_only = _move(client, oid, p["tech"], "completed", expect=409, checklist=answers)
    assert {f["params"]["item_id"] for f in photos_only["findings"]} == {
        "r5_not_through_windows_doors",
        "r8_wiring_photo",
    }

    # a technician cannot override; a named supervisor can, with a reason
    assert (
        client.post(
            f"/api/v1/workorders/{oid}/override", headers=p["tech"], json={"reason": "camera broken"}
        ).status_code
        == 403
    )
    override = client.post(
        f"/api/v1/workorders/{oid}/override", headers=p["boss"], json={"reason": "客户拒绝拍照，已电话确认"}
    )
    assert override.get_json()["override"]["by"] == "boss"
    done = _move(client, oid, p["tech"], "completed", checklist=answers)
    assert done["completed_at"] and done["checklist"]["r8_power_line_distance_cm"] == 15.0

    followed = _move(
        client,
        oid,
        p["agent"],
        "followed_up",
        followup={"method": "phone", "satisfied": True, "note": "满意"},
    )
    assert followed["followup_satisfied"] is True
    closed = _move(client, oid, p["disp"], "closed")
    assert closed["state"] == "closed" and closed["allowed_next"] == []

    trail = client.get(f"/api/v1/workorders/{oid}/audit", headers=p["disp"]).get_json()
    states = [e["action"].split(":")[1] for e in trail if e["action"].startswith("state:")]
    assert states == [
        "validated",
        "scheduled",
        "assigned",
        "en_route",
        "on_site",
        "completed",
        "followed_up",
        "closed",
    ]
    actions = [e["action"] for e in trail]
    assert actions[0] == "created" and "checklist_override" in actions
    by_state = {e["action"]: e for e in trail}
    assert by_state["state:en_route"]["actor_name"] == "tech"
    assert by_state["state:en_route"]["before"]["state"] == "assigned"
    assert by_state["state:en_route"]["after"]["state"] == "en_route"
    assert by_state["state:on_site"]["after"]["distance_from_site_m"] < 100
    assert by_state["state:closed"]["actor_role"] == "dispatcher"

    # what the customer sees: their order, its timeline, no internals
    mine = client.get("/api/v1/workorders", headers=p["cust"]).get_json()
    assert [o["id"] for o in mine] == [oid]
    view = client.get(f"/api/v1/workorders/{oid}", headers=p["cust"]).get_json()
    # the customer's steps, every one reached, never the internal states (validated, scheduled)
    steps = ["received", "assigned", "en_route", "on_site", "done", "followed_up"]
    assert [t["state"] for t in view["timeline"]] == steps and all(t["at"] for t in view["timeline"])
    assert [t["state_label"] for t in view["timeline"]][-2:] == ["已开通", "已回访"]
    assert view["state_label"] == "已回访"
    assert "findings" not in view and "owner_id" not in view and "checklist" not in view
    assert view["technician_name"] == "Tech"
    en = client.get(f"/api/v1/workorders/{oid}?lang=en", headers=p["cust"]).get_json()
    assert en["state_label"] == "Followed up"
    # another customer gets 404, not 403
    assert client.get(f"/api/v1/workorders/{oid}", headers=p["stranger_cust"]).status_code == 404
    assert client.get("/api/v1/workorders", headers=p["stranger_cust"]).get_json() == []


def test_repair_order_with_revisit_and_unsatisfied_followup(client, people):
    """Long because it is one repair's whole story: report, revisit, follow-up, repeat repair."""
    p = people
    created = _post(
        client,
        "/api/v1/workorders",
        p["cust"],
        kind="repair",
        product="adsl",
        priority="P1",
        service_down=True,
        customer_id=p["home"]["customer_id"],
        site_id=p["home"]["site_id"],
        description="宽带无法上网",
    )
    assert created.status_code == 201, created.get_json()
    order = created.get_json()
    oid = order["id"]
    # the rules set a customer's priority (a home line down is P2), not the request
    assert order["state"] == "validated" and order["priority"] == "P2"
    assert "timeline" in order  # the customer got the customer view back
    staff = client.get(f"/api/v1/workorders/{oid}", headers=p["disp"]).get_json()
    assert staff["source"] == "portal"
    created_at = datetime.fromisoformat(staff["created_at"])
    assert datetime.fromisoformat(staff["response_deadline"]) - created_at == timedelta(
        minutes=60
    )  # P2: respond within the hour

    # customers report faults only, never installs
    install = _post(
        client,
        "/api/v1/workorders",
        p["cust"],
        kind="install",
        product="adsl",
        customer_id=p["home"]["customer_id"],
        site_id=p["home"]["site_id"],
    )
    assert install.status_code == 422
    # and only for themselves
    foreign = _post(
        client,
        "/api/v1/workorders",
        p["cust"],
        kind="repair",
        product="lan",
        customer_id=p["stranger"]["customer_id"],
        site_id=p["stranger"]["site_id"],
    )
    assert foreign.status_code == 422

    _move(client, oid, p["disp"], "assigned", technician_id=p["tech_id"])
    route = client.get("/mobile/v1/route", headers=p["tech"]).get_json()
    stop = next(s for s in route["stops"] if s["order_id"] == oid)
    assert stop["customer_phone"] == "138******78"
    assert [i["id"] for i in stop["checklist"]][:1] == ["r3_line_no_fault"]
    _move(client, oid, p["tech"], "en_route")
    route = client.get("/mobile/v1/route", headers=p["tech"]).get_json()
    assert route["stops"][0]["customer_phone"] == "13812345678"
    _move(client, oid, p["tech"], "on_site")
    no_reason = _move(client, oid, p["tech"], "needs_revisit", expect=422)
    assert "reason" in no_reason["errors"]
    _move(client, oid, p["tech"], "needs_revisit", reason="需更换分线盒，备件明天到")
    _move(client, oid, p["disp"], "assigned", technician_id=p["tech_id"])
    _move(client, oid, p["tech"], "en_route")
    _move(client, oid, p["tech"], "on_site")
    _move(
        client,
        oid,
        p["tech"],
        "completed",
        checklist={"r3_line_no_fault": True, "r3_drop_twisted_pair": True, "r3_drop_no_joints": True},
    )
    _move(
        client,
        oid,
        p["agent"],
        "followed_up",
        followup={"method": "phone", "satisfied": False, "note": "晚上仍掉线"},
    )
    _move(client, oid, p["disp"], "closed")

    trail = client.get(f"/api/v1/workorders/{oid}/audit", headers=p["disp"]).get_json()
    states = [e["action"].split(":")[1] for e in trail if e["action"].startswith("state:")]
    assert states == [
        "validated",
        "assigned",
        "en_route",
        "on_site",
        "needs_revisit",
        "assigned",
        "en_route",
        "on_site",
        "completed",
        "followed_up",
        "closed",
    ]
    repeat_event = next(e for e in trail if e["action"] == "repeat_repair_opened")
    repeat_id = repeat_event["after"]["repeat_order_id"]

    mine = client.get("/api/v1/workorders", headers=p["cust"]).get_json()
    repeat = next(o for o in mine if o["id"] == repeat_id)
    assert repeat["parent_id"] == oid and repeat["kind"] == "repair"
    assert repeat["state"] == "validated"
    assert client.get(f"/api/v1/workorders/{repeat_id}", headers=p["stranger_cust"]).status_code == 404

    # the customer's portal page shows both orders and the promised restore time
    client.post("/login", data={"username": "zhangwei", "password": "x"})
    page = client.get("/")
    assert page.status_code == 302  # no CSRF token, no session: back to login


def test_cancel_needs_reason_and_is_terminal(client, people):
    p = people
    order = _post(
        client,
        "/api/v1/workorders",
        p["agent"],
        kind="install",
        product="adsl",
        customer_id=p["home"]["customer_id"],
        site_id=p["home"]["site_id"],
    ).get_json()
    _move(client, order["id"], p["agent"], "cancelled", expect=422)
    cancelled = _move(client, order["id"], p["agent"], "cancelled", reason="客户取消")
    assert cancelled["state"] == "cancelled" and cancelled["state_reason"] == "客户取消"
    again = _move(client, order["id"], p["disp"], "validated", expect=409)
    assert again["allowed"] == []


def test_blocked_install_stays_received_with_reason(client, world, people):
    p = people
    far = world.customer("远端用户", access_type="adsl", route_length_m=2501)
    resp = _post(
        client,
        "/api/v1/workorders",
        p["agent"],
        kind="install",
        product="iptv_adsl",
        customer_id=far["customer_id"],
        site_id=far["site_id"],
    )
    order = resp.get_json()
    assert resp.status_code == 201 and order["state"] == "received" and order["blocked"]
    r1 = next(f for f in order["findings"] if f["rule_id"] == "R1")
    assert r1["severity"] == "block" and r1["measured"] == 2501 and r1["limit"] == 2500
    refused = _move(client, order["id"], p["disp"], "validated", expect=409)
    assert refused["findings"][0]["rule_id"] == "R1"


def test_assigning_a_technician_without_the_skills_is_refused(client, world, people):
    p = people
    adsl_only = world.technician("adsl_only", ["adsl"])
    order = _post(
        client,
        "/api/v1/workorders",
        p["agent"],
        kind="install",
        product="iptv_adsl",
        customer_id=p["home"]["customer_id"],
        site_id=p["home"]["site_id"],
    ).get_json()
    refused = _move(client, order["id"], p["disp"], "assigned", expect=409, technician_id=adsl_only)
    assert refused["missing_skills"] == ["iptv"]
    after = client.get(f"/api/v1/workorders/{order['id']}", headers=p["disp"]).get_json()
    assert after["state"] == "validated" and after["technician_id"] is None
