"""The dispatcher console's page and JSON feeds, through the session cookie and CSRF."""

from __future__ import annotations

import json
import re
import time as clock_time
from datetime import datetime, time, timedelta

import pytest

from core.clock import now
from tests.factories import Console, post_order

# Planned from a fresh morning: routes start from now (tests of a day under way set noon).
pytestmark = pytest.mark.usefixtures("morning")


@pytest.fixture()
def city(client, world):
    """A dispatcher, three technicians, four residential orders and one enterprise P1."""
    world.user("disp", "dispatcher")
    h = world.headers("disp")
    techs = {
        "wang": world.technician("wang", ["adsl", "lan", "iptv"], lat=31.85, lon=117.26),
        "li": world.technician("li", ["adsl", "lan"], lat=31.80, lon=117.30, district="包河区"),
        "zhao": world.technician("zhao", ["enterprise_circuit", "lan"], lat=31.83, lon=117.28),
    }
    orders = []
    for i, (lat, lon) in enumerate([(31.86, 117.27), (31.84, 117.25), (31.81, 117.31), (31.79, 117.29)]):
        ids = world.customer(f"客户{i}", lat=lat, lon=lon, district="包河区" if lat < 31.82 else "蜀山区")
        orders.append(post_order(client, h, ids))
    ent = world.enterprise("政企", lat=31.83, lon=117.28)
    circuit = post_order(client, h, ent, product="sdh", priority="P1")
    return {"headers": h, "techs": techs, "orders": orders, "circuit": circuit}


def test_console_page_needs_a_staff_login_and_speaks_chinese_then_english(client, world):
    assert client.get("/console").headers["Location"].endswith("/login")
    assert client.get("/console/api/orders").status_code == 401

    world.user("disp", "dispatcher")
    console = Console(client, "disp")
    html = console.page.get_data(as_text=True)
    assert console.page.status_code == 200
    assert "规划当天" in html and "插入紧急故障" in html and "地图调度台" in html
    # everything the page loads comes from the app itself
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith(("/", "?", "data:", "#")) for s in sources), sources
    assert "vendor/leaflet/leaflet.js" in html and "leaflet.markercluster.js" in html
    settings = json.loads(
        re.search(r'id="console-settings" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    assert settings["labels"]["state"]["validated"] == "已校验"
    assert settings["labels"]["role"]["dispatcher"] == "调度员"
    assert settings["tile_url"] == ""
    # plans and jobs go to the staff API; the page fills in the ids
    assert settings["urls"]["plan_start"] == "/api/v1/dispatch/plan"
    assert settings["urls"]["plan_apply"] == "/api/v1/dispatch/plans/{id}/apply"
    assert settings["urls"]["job"] == "/api/v1/jobs/{id}"

    english = client.get("/console?lang=en").get_data(as_text=True)
    assert "Plan the day" in english and "Insert urgent fault" in english
    # a dispatcher's start page is the console
    assert client.get("/").headers["Location"].split("?")[0].endswith("/console")
    assert client.get("/?list=1").status_code == 200


def test_console_is_not_for_customers_or_technicians(client, world):
    ids = world.customer("张伟")
    world.user("zhangwei", "customer", customer_id=ids["customer_id"])
    console = Console(client, "zhangwei")
    assert console.page.status_code == 403
    assert client.get("/console/api/orders").status_code == 403
    world.technician("tech1", ["adsl"])
    Console(client, "tech1")
    assert client.get("/console/api/routes").status_code == 403


def test_orders_feed_is_geojson_of_open_orders_with_sla_risk(client, world, city, db):
    from workorders.models import WorkOrder

    order = db.get(WorkOrder, city["orders"][0])
    order.created_at = now() - timedelta(hours=6)
    order.restore_deadline = now() - timedelta(hours=1)  # breached
    order.sla_clock = None
    soon = db.get(WorkOrder, city["orders"][1])
    soon.restore_deadline, soon.sla_clock = now() + timedelta(minutes=30), None
    soon.responded_at = now()
    db.commit()
    console = Console(client, "disp")
    status, feed = console.get("/orders")
    assert status == 200 and feed["type"] == "FeatureCollection"
    assert {f["id"] for f in feed["features"]} == set(city["orders"]) | {city["circuit"]}
    by_id = {f["id"]: f for f in feed["features"]}
    lon, lat = by_id[city["orders"][0]]["geometry"]["coordinates"]
    assert (lat, lon) == (31.86, 117.27)
    props = by_id[city["orders"][0]]["properties"]
    assert props["risk"] == "breached" and props["state"] == "validated"
    assert props["district"] == "蜀山区" and props["priority"] == "P2"
    assert by_id[city["orders"][1]]["properties"]["risk"] == "at_risk"
    # no personal data on the map feed
    assert "政企" not in json.dumps(feed, ensure_ascii=False)

    status, techs = console.get("/technicians")
    assert [t["name"] for t in techs["technicians"]] == ["Wang", "Li", "Zhao"]
    assert techs["technicians"][0]["position"] == [31.85, 117.26]
    assert re.fullmatch(r"#[0-9a-f]{6}", techs["technicians"][0]["colour"])


def test_big_feeds_are_gzipped(client, world, city):
    Console(client, "disp")
    resp = client.get("/console/api/orders", headers={"Accept-Encoding": "gzip"})
    assert resp.status_code == 200
    # small here, so sent plain; the header is honoured once it is worth it
    assert resp.headers.get("Content-Encoding") in (None, "gzip")
    assert "Accept-Encoding" in resp.headers["Vary"]


def test_posts_without_the_csrf_header_are_refused(client, world, city):
    console = Console(client, "disp")
    status, body = console.post(
        f"/orders/{city['orders'][0]}/assign", {"technician_id": city["techs"]["wang"]}, csrf=False
    )
    assert status == 400 and "CSRF" in body["detail"]


def test_assign_slots_the_order_into_the_route_and_refuses_with_reasons(client, world, city):
    console = Console(client, "disp")
    first, second = city["orders"][:2]
    wang = city["techs"]["wang"]
    status, body = console.post(f"/orders/{first}/assign", {"technician_id": wang})
    assert status == 200, body
    assert body["state"] == "assigned" and body["technician_id"] == wang
    assert body["sequence"] == 1 and re.fullmatch(r"\d\d:\d\d", body["planned"])
    assert body["feature"]["properties"]["technician_id"] == wang
    status, body = console.post(f"/orders/{second}/assign", {"technician_id": wang})
    assert status == 200

    status, routes = console.get("/routes")
    (route,) = routes["routes"]
    assert route["technician_id"] == wang and route["source"] == "plan"
    assert sorted(s["order_id"] for s in route["stops"]) == [first, second]
    assert [s["sequence"] for s in route["stops"]] == [1, 2]
    assert route["stops"][0]["end_s"] <= route["stops"][1]["arrival_s"]

    # skills: Li has no enterprise circuit skill
    status, refused = console.post(
        f"/orders/{city['circuit']}/assign", {"technician_id": city["techs"]["li"]}
    )
    assert status == 409 and refused["type"].endswith("skills-missing")
    assert refused["detail"] == "Li 缺少技能：政企电路。"
    assert refused["missing_skills"] == ["enterprise_circuit"]
    resp = client.post(
        f"/console/api/orders/{city['circuit']}/assign?lang=en",
        json={"technician_id": city["techs"]["li"]},
        headers={"X-CSRFToken": console.token},
    )
    assert resp.get_json()["detail"] == "Li lacks the skills: Enterprise circuit."
    client.get("/console?lang=zh")  # back to the default for the rest
    # already there
    status, refused = console.post(f"/orders/{first}/assign", {"technician_id": wang})
    assert status == 409 and refused["type"].endswith("already-assigned")
    assert re.fullmatch(r"WO\S+ 已经派给 Wang。", refused["detail"]), refused["detail"]
    # stale version
    status, refused = console.post(
        f"/orders/{first}/assign", {"technician_id": city["techs"]["li"], "version": 1}
    )
    assert status == 409 and refused["type"].endswith("stale-version")


def test_assign_is_refused_when_the_shift_cannot_hold_it(client, world, city, db):
    from technicians.models import Technician

    wang = db.get(Technician, city["techs"]["wang"])
    wang.shift_start, wang.shift_end, wang.lunch_start = time(8), time(11), None
    db.commit()
    ids = world.customer("下午", lat=31.85, lon=117.27)
    day = now().date()
    afternoon = (datetime.combine(day, time(14)), datetime.combine(day, time(17)))
    late = post_order(client, city["headers"], ids, kind="install", priority="P3", window=afternoon)
    console = Console(client, "disp")
    status, refused = console.post(f"/orders/{late}/assign", {"technician_id": city["techs"]["wang"]})
    assert status == 409 and refused["type"].endswith("does-not-fit"), refused
    assert refused["reason"] == "window_unreachable"
    assert refused["detail"].startswith("Wang 在班次内赶不上预约时段")
    status, order = console.get(f"/orders/{late}")
    assert order["state"] == "validated" and order["technician_id"] is None


def test_move_unassign_and_cancel_keep_routes_numbered(client, world, city, db):
    from core.models import AuditEvent

    console = Console(client, "disp")
    a, b, c = city["orders"][:3]
    wang, li = city["techs"]["wang"], city["techs"]["li"]
    for order_id in (a, b, c):
        assert console.post(f"/orders/{order_id}/assign", {"technician_id": wang})[0] == 200
    status, moved = console.post(f"/orders/{a}/assign", {"technician_id": li})
    assert status == 200 and moved["technician_id"] == li and moved["sequence"] == 1

    routes = {r["technician_id"]: r for r in console.get("/routes")[1]["routes"]}
    assert [s["sequence"] for s in routes[wang]["stops"]] == [1, 2]
    assert {s["order_id"] for s in routes[wang]["stops"]} == {b, c}
    assert routes[wang]["source"] == "estimate"  # the stored timing no longer matches
    assert routes[li]["source"] == "plan"

    status, body = console.post(f"/orders/{b}/unassign")
    assert status == 200 and body["state"] == "validated" and body["technician_id"] is None
    routes = {r["technician_id"]: r for r in console.get("/routes")[1]["routes"]}
    assert [(s["order_id"], s["sequence"]) for s in routes[wang]["stops"]] == [(c, 1)]

    status, refused = console.post(f"/orders/{c}/cancel", {"reason": ""})
    assert status == 422
    status, body = console.post(f"/orders/{c}/cancel", {"reason": "客户已自行修复"})
    assert status == 200 and body["state"] == "cancelled" and body["feature"] is None
    assert wang not in {r["technician_id"] for r in console.get("/routes")[1]["routes"]}
    cancel = db.query(AuditEvent).filter_by(entity_id=c, action="state:cancelled").one()
    assert cancel.reason == "客户已自行修复" and cancel.actor_name == "disp"


def test_order_panel_has_details_findings_sla_audit_and_candidates(client, world, city, db):
    from core.models import AuditEvent

    console = Console(client, "disp")
    status, panel = console.get(f"/orders/{city['circuit']}")
    assert status == 200
    assert panel["code"] and panel["customer_name"] == "政企" and panel["priority"] == "P1"
    assert panel["sla"]["restore_deadline"] and panel["risk"] in ("breached", "at_risk", "fine")
    assert [e["action"] for e in panel["audit"]][:2] == ["created", "state:validated"]
    assert panel["photos"] == []
    assert panel["can_insert_urgently"] is True  # a P1 nobody has yet
    # the reasons the services wrote are in the reader's language
    assert [e["reason"] for e in panel["audit"]][1] == "受理校验通过"
    # the assign list: the skilled technician first, with when and at what cost;
    # the others after, marked with what they lack and not offered as fitting
    status, body = console.get(f"/orders/{city['circuit']}/candidates")
    assert status == 200
    first, *others = body["candidates"]
    assert first["name"] == "Zhao" and first["fits"] and first["missing_skills"] == []
    assert first["start"] == "08:30" and first["extra_km"] == 0.0  # the circuit is at Zhao's base
    assert first["free_min"] > 0
    assert [c["fits"] for c in others] == [False, False]
    assert all(c["missing_skills"] == ["enterprise_circuit"] for c in others)
    assert [c["why_not"] for c in others] == ["缺少技能：政企电路"] * 2
    assert first["offered"] and not any(c["offered"] for c in others)
    read = db.query(AuditEvent).filter_by(action="read_personal").one()
    assert read.actor_name == "disp" and read.after["via"] == "console"


def test_the_panel_says_what_the_dispatcher_may_do_as_the_services_judge_it(client, world, city):
    def flags(console, order_id):
        panel = console.get(f"/orders/{order_id}")[1]
        names = ("in_route", "can_assign", "can_unassign", "can_cancel", "can_insert_urgently")
        return {name: panel[name] for name in names}

    console = Console(client, "disp")
    order = city["orders"][0]
    assert flags(console, order) == {
        "in_route": False,
        "can_assign": True,
        "can_unassign": False,
        "can_cancel": True,
        "can_insert_urgently": True,  # a P2: a response is due within the hour
    }
    assert console.post(f"/orders/{order}/assign", {"technician_id": city["techs"]["wang"]})[0] == 200
    assert flags(console, order) == {
        "in_route": True,
        "can_assign": True,  # a move
        "can_unassign": True,
        "can_cancel": True,
        "can_insert_urgently": False,
    }
    # a manager watches: the same order, nothing to do
    world.user("boss", "manager")
    client.post("/logout", data={"csrf_token": console.token})
    watcher = Console(client, "boss")
    assert not any(v for k, v in flags(watcher, order).items() if k.startswith("can_"))


def test_findings_and_plan_reasons_name_things_not_codes(client, world, city):
    import standards

    ids = world.customer("错配", access_type="adsl", lat=31.85, lon=117.27)
    mismatch = post_order(client, city["headers"], ids, product="iptv_lan")
    console = Console(client, "disp")
    panel = console.get(f"/orders/{mismatch}")[1]
    messages = " ".join(f["message"] for f in panel["findings"])
    assert standards.load_ruleset().product("iptv_lan").name_zh in messages
    assert "iptv_lan" not in messages and "adsl" not in messages
    english = client.get(f"/console/api/orders/{mismatch}?lang=en").get_json()
    messages = " ".join(f["message"] for f in english["findings"])
    assert standards.load_ruleset().product("iptv_lan").name_en in messages and "iptv_lan" not in messages
    client.get("/console?lang=zh")


def test_plans_and_jobs_have_no_second_copy_under_the_console(client, world, city):
    console = Console(client, "disp")
    headers = {"X-CSRFToken": console.token}
    assert client.post("/console/api/plan", json={"time_limit_s": 1}, headers=headers).status_code == 404
    status, job = console.post("/plan", {"time_limit_s": 1})  # the staff API, with the cookie
    assert status == 202 and job["kind"] == "plan_day"
    assert client.get(f"/console/api/jobs/{job['id']}").status_code == 404
    job = _wait_job(console, job["id"])
    plan_id = job["result"]["plan_id"]
    assert client.post(f"/console/api/plans/{plan_id}/discard", headers=headers).status_code == 404
    # the review of a plan stays: codes and reasons in words, which the staff API's plan lacks
    status, review = console.get(f"/plans/{plan_id}")
    assert status == 200 and all(s["code"].startswith("WO") for r in review["routes"] for s in r["stops"])
    assert console.post(f"/plans/{plan_id}/discard")[0] == 200


def test_live_feed_reports_changes_positions_and_risk(client, world, city, db):
    from sqlalchemy import update

    from technicians.models import Technician
    from workorders.models import WorkOrder

    # the orders were made a while ago (the feed overlaps a second to miss nothing)
    db.execute(update(WorkOrder).values(updated_at=now() - timedelta(minutes=5)))
    db.commit()
    console = Console(client, "disp")
    status, first = console.get("/live")
    assert status == 200 and first["orders"] == [] and "breached" in first["risk"]
    since = first["now"]
    console.post(f"/orders/{city['orders'][0]}/assign", {"technician_id": city["techs"]["wang"]})
    console.post(f"/orders/{city['orders'][1]}/cancel", {"reason": "重复工单"})
    tech = db.get(Technician, city["techs"]["li"])
    tech.last_lat, tech.last_lon, tech.last_seen_at = 31.81, 117.30, now()
    db.commit()
    status, live = console.get("/live", since=since)
    assert [f["id"] for f in live["orders"]] == [city["orders"][0]]
    assert live["orders"][0]["properties"]["state"] == "assigned"
    assert live["gone"] == [city["orders"][1]]
    assert [(t["id"], t["position"]) for t in live["technicians"]] == [(city["techs"]["li"], [31.81, 117.3])]


def _wait_job(console, job_id: int) -> dict:
    deadline = clock_time.monotonic() + 60
    while clock_time.monotonic() < deadline:
        status, job = console.get(f"/jobs/{job_id}")
        assert status == 200
        if job["status"] not in ("queued", "running"):
            return job
        clock_time.sleep(0.2)
    raise AssertionError("job did not finish")


def test_plan_the_day_runs_as_a_job_then_is_applied(client, world, city):
    console = Console(client, "disp")
    status, job = console.post("/plan", {"time_limit_s": 1})
    assert status == 202 and job["kind"] == "plan_day"
    job = _wait_job(console, job["id"])
    assert job["status"] == "finished" and job["progress"]["percent"] == 100
    status, plan = console.get(f"/plans/{job['result']['plan_id']}")
    assert plan["status"] == "proposed"
    planned = {s["order_id"] for r in plan["routes"] for s in r["stops"]}
    assert planned | {u["order_id"] for u in plan["unassigned"]} == set(city["orders"]) | {city["circuit"]}
    assert all(u["message"] and u["message"] != u["reason"] for u in plan["unassigned"])
    status, applied = console.post(f"/plans/{plan['id']}/apply")
    assert status == 200 and applied["status"] == "applied"
    routes = console.get("/routes")[1]["routes"]
    assert {s["order_id"] for r in routes for s in r["stops"]} == planned
    assert all(r["source"] == "plan" for r in routes)
    assert console.post(f"/plans/{plan['id']}/discard")[0] == 409


def test_urgent_fault_is_slotted_into_the_applied_day(client, world, city):
    console = Console(client, "disp")
    wang = city["techs"]["wang"]
    for order_id in city["orders"][:2]:
        assert console.post(f"/orders/{order_id}/assign", {"technician_id": wang})[0] == 200
    ids = world.customer("急修", lat=31.85, lon=117.265)
    urgent = post_order(client, city["headers"], ids, priority="P1")

    # a P3 answered within two hours is not urgent (a P2, due an answer within the hour, is)
    p3 = post_order(client, city["headers"], world.customer("普通", lat=31.84, lon=117.26), priority="P3")
    status, refused = console.post("/urgent", {"order_id": p3})
    assert status == 409 and refused["type"].endswith("not-urgent")
    assert refused["detail"].endswith("请通过当日规划安排。")
    status, job = console.post("/urgent", {"order_id": urgent, "time_limit_s": 1})
    assert status == 202
    job = _wait_job(console, job["id"])
    assert job["status"] == "finished" and job["result"]["placed"] is True
    status, plan = console.get(f"/plans/{job['result']['plan_id']}")
    assert plan["kind"] == "urgent"
    sequences = {r["technician_id"]: [s["order_id"] for s in r["stops"]] for r in plan["routes"]}
    # the two planned stops keep their order, the urgent one is slotted in
    assert [o for o in sequences[wang] if o != urgent] == [
        s["order_id"] for s in console.get("/routes")[1]["routes"][0]["stops"]
    ]
    assert urgent in {o for stops in sequences.values() for o in stops}
    assert console.post(f"/plans/{plan['id']}/apply")[0] == 200
    status, panel = console.get(f"/orders/{urgent}")
    assert panel["state"] == "assigned"


def test_sla_risk_levels():
    from types import SimpleNamespace

    from dispatch.board import sla_risk

    at = datetime(2026, 5, 6, 10, 0)

    def order(
        restore_h: float, response_min: float = 60, responded: bool = True, planned_h: float | None = None
    ):
        return SimpleNamespace(
            sla_clock=None,
            created_at=at - timedelta(hours=1),
            restore_deadline=at + timedelta(hours=restore_h),
            deadline_source="clock-hours",
            response_deadline=at + timedelta(minutes=response_min),
            responded_at=at - timedelta(minutes=30) if responded else None,
            completed_at=None,
            duration_min=60,
            planned_start=None if planned_h is None else at + timedelta(hours=planned_h),
        )

    assert sla_risk(order(-0.5), at) == "breached"
    assert sla_risk(order(0.5), at) == "at_risk"
    assert sla_risk(order(5), at) == "fine"
    assert sla_risk(order(5, response_min=10, responded=False), at) == "at_risk"
    assert sla_risk(order(5, response_min=-5, responded=False), at) == "breached"
    assert sla_risk(order(5, planned_h=4.5), at) == "at_risk"
    assert sla_risk(order(0.5), at, at_risk_s=600) == "fine"


def test_technician_colours_are_stable_and_distinct():
    from dispatch.board import technician_colour

    colours = [technician_colour(i) for i in range(1, 41)]
    assert colours == [technician_colour(i) for i in range(1, 41)]
    assert len(set(colours)) == 40


def test_timeline_estimates_travel_and_lunch_without_a_plan(client, world, city, db):
    from dispatch.board import day_routes
    from workorders.models import WorkOrder

    day = now().date()
    wang = city["techs"]["wang"]
    for sequence, (order_id, hour) in enumerate(
        ((city["orders"][0], 11.5), (city["orders"][1], 14)), start=1
    ):
        order = db.get(WorkOrder, order_id)
        order.state, order.technician_id, order.planned_sequence = "assigned", wang, sequence
        order.planned_start = datetime.combine(day, time.min) + timedelta(hours=hour)
    db.commit()
    (route,) = day_routes(db, day)
    assert route["source"] == "estimate"
    first, second = route["stops"]
    assert (first["start_s"], second["start_s"]) == (11.5 * 3600, 14 * 3600)
    assert first["end_s"] == first["start_s"] + db.get(WorkOrder, first["order_id"]).duration_min * 60
    assert first["travel_s"] > 0 and first["arrival_s"] == first["start_s"]
    # lunch (due at 12:00) waits until the first job is done
    assert route["lunch_start_s"] == first["end_s"]
    assert route["end_s"] > second["end_s"]  # the drive home
