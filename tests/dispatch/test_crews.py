"""Two-technician jobs end to end: intake with a crew size, a day plan that puts the order
into two routes at one start, applying it (lead and second written), both phones, and a
plan whose crew starts differ refused whole."""

from __future__ import annotations

import time as clock_time
from datetime import datetime, time, timedelta

import pytest

from core.clock import now
from dispatch.models import DispatchPlan
from tests.factories import Console, post_order
from workorders.models import WorkOrder

pytestmark = pytest.mark.usefixtures("morning")


def _crew_order(client, h, ids, crew_size=2, product="adsl", kind="repair") -> int:
    body = {
        "kind": kind,
        "product": product,
        "priority": "P2",
        "customer_id": ids["customer_id"],
        "site_id": ids["site_id"],
        "crew_size": crew_size,
    }
    resp = client.post("/api/v1/workorders", headers=h, json=body)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["crew_size"] == crew_size
    return resp.get_json()["id"]


def _setup(client, world):
    world.user("disp", "dispatcher")
    h = world.headers("disp")
    lead = world.technician("lead", ["adsl", "lan", "iptv"], lat=31.85, lon=117.26)
    mate = world.technician("mate", ["adsl", "lan", "iptv"], lat=31.80, lon=117.30)
    crew = _crew_order(client, h, world.customer("双人客户", lat=31.83, lon=117.28))
    singles = [
        post_order(client, h, world.customer(f"客户{i}", lat=lat, lon=lon))
        for i, (lat, lon) in enumerate([(31.86, 117.27), (31.81, 117.31)])
    ]
    return h, (lead, mate), crew, singles


def _plan(client, h, day) -> dict:
    resp = client.post("/api/v1/dispatch/plan", headers=h, json={"day": day.isoformat(), "time_limit_s": 1})
    assert resp.status_code == 202, resp.get_json()
    job = resp.get_json()
    deadline = clock_time.monotonic() + 180  # a cold start compiles the construction kernels
    while job["status"] in ("queued", "running") and clock_time.monotonic() < deadline:
        clock_time.sleep(0.1)
        job = client.get(f"/api/v1/jobs/{job['id']}", headers=h).get_json()
    assert job["status"] == "finished", job
    return client.get(f"/api/v1/dispatch/plans/{job['result']['plan_id']}", headers=h).get_json()


def test_a_crew_order_is_planned_into_two_routes_at_one_start_and_applied_to_both(client, world):
    h, (lead, mate), crew, singles = _setup(client, world)
    day = now().date()
    plan = _plan(client, h, day)
    crew_stops = [
        (r["technician_id"], s) for r in plan["result"]["routes"] for s in r["stops"] if s["visit_id"] == crew
    ]
    assert {tech for tech, _stop in crew_stops} == {lead, mate}
    assert len({stop["start_s"] for _tech, stop in crew_stops}) == 1
    planned = {s["visit_id"] for r in plan["result"]["routes"] for s in r["stops"]}
    assert set(singles) <= planned

    applied = client.post(f"/api/v1/dispatch/plans/{plan['id']}/apply", headers=h)
    assert applied.status_code == 200, applied.get_json()
    order = client.get(f"/api/v1/workorders/{crew}", headers=h).get_json()
    first_route_tech = crew_stops[0][0]
    assert order["state"] == "assigned" and order["crew_size"] == 2
    assert order["technician_id"] == first_route_tech
    assert {order["technician_id"], order["second_technician_id"]} == {lead, mate}
    start_s = crew_stops[0][1]["start_s"]
    planned_start = datetime.fromisoformat(order["planned_start"]).replace(tzinfo=None)
    assert planned_start == datetime.combine(day, time.min) + timedelta(seconds=start_s)
    names = {lead: "Lead", mate: "Mate"}
    assert order["technician_name"] == names[order["technician_id"]]
    assert order["second_technician_name"] == names[order["second_technician_id"]]
    # The customer reads both names, on the API and on the portal page.
    world.user("kehu", "customer", customer_id=order["customer_id"])
    mine = client.get(f"/api/v1/workorders/{crew}", headers=world.headers("kehu")).get_json()
    assert "technician_id" not in mine
    assert {mine["technician_name"], mine["second_technician_name"]} == {"Lead", "Mate"}

    # Both phones show the visit; the second reads it and may send nothing.
    lead_h = world.headers(names[order["technician_id"]].lower())
    second_h = world.headers(names[order["second_technician_id"]].lower())
    lead_stop = next(
        s for s in client.get("/mobile/v1/route", headers=lead_h).get_json()["stops"] if s["order_id"] == crew
    )
    second_route = client.get("/mobile/v1/route", headers=second_h).get_json()["stops"]
    second_stop = next(s for s in second_route if s["order_id"] == crew)
    assert lead_stop["crew_role"] == "lead" and "en_route" in lead_stop["allowed_statuses"]
    assert second_stop["crew_role"] == "second" and second_stop["allowed_statuses"] == []
    assert second_stop["planned_start"] == lead_stop["planned_start"]
    # The second technician's day is in planned order, the crew stop among their own.
    starts = [s["planned_start"] for s in second_route]
    assert starts == sorted(starts)
    detail = client.get(f"/mobile/v1/orders/{crew}", headers=second_h)
    assert detail.status_code == 200 and detail.get_json()["crew_role"] == "second"

    refused = client.post(
        f"/mobile/v1/orders/{crew}/status",
        headers=second_h | {"Accept-Language": "en"},
        json={"status": "en_route", "version": order["version"]},
    )
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["type"].endswith("crew-lead-reports")
    assert "lead technician" in refused.get_json()["detail"]
    moved = client.post(
        f"/mobile/v1/orders/{crew}/status",
        headers=lead_h,
        json={"status": "en_route", "version": order["version"]},
    )
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["state"] == "en_route"

    # The board's map point names the second technician too.
    board = client.get(f"/console/api/orders?day={day.isoformat()}", headers=h)
    assert board.status_code == 200, board.get_json()
    feature = next(f for f in board.get_json()["features"] if f["id"] == crew)
    assert feature["properties"]["technician_id"] == order["technician_id"]
    assert feature["properties"]["second_technician_id"] == order["second_technician_id"]
    panel = client.get(f"/console/api/orders/{crew}", headers=h).get_json()
    assert panel["second_technician_name"] == order["second_technician_name"]
    # the customer's portal page names both
    Console(client, "kehu")
    page = client.get("/").get_data(as_text=True)
    assert f"{mine['technician_name']}、{mine['second_technician_name']}" in page


def test_a_plan_whose_crew_starts_differ_is_refused_whole(client, world, db):
    h, (lead, mate), crew, singles = _setup(client, world)
    day = now().date()
    versions = {str(o.id): o.version for o in db.query(WorkOrder).filter(WorkOrder.id.in_([crew, *singles]))}
    routes = [
        {"technician_id": lead, "stops": [{"visit_id": crew, "start_s": 10 * 3600, "end_s": 11 * 3600}]},
        {
            "technician_id": mate,
            "stops": [
                {"visit_id": singles[0], "start_s": 9 * 3600, "end_s": 10 * 3600},
                {"visit_id": crew, "start_s": 10 * 3600 + 1800, "end_s": 11 * 3600 + 1800},
            ],
        },
    ]
    record = DispatchPlan(
        day=day,
        kind="day",
        status="proposed",
        order_versions=versions,
        result={"routes": routes, "unassigned": []},
    )
    db.add(record)
    db.commit()
    refused = client.post(f"/api/v1/dispatch/plans/{record.id}/apply", headers=h)
    assert refused.status_code == 409, refused.get_json()
    problems = {(c["order_id"], c["problem"]) for c in refused.get_json()["conflicts"]}
    assert (crew, "crew_starts_differ") in problems
    db.expire_all()
    for order_id in (crew, singles[0]):
        order = db.get(WorkOrder, order_id)
        assert order.technician_id is None and order.second_technician_id is None
        assert order.state == "validated"


def test_a_one_technician_order_in_two_routes_is_still_refused(client, world, db):
    h, (lead, mate), _crew, singles = _setup(client, world)
    single = singles[0]
    versions = {str(single): db.get(WorkOrder, single).version}
    stop = {"visit_id": single, "start_s": 10 * 3600, "end_s": 11 * 3600}
    routes = [{"technician_id": lead, "stops": [stop]}, {"technician_id": mate, "stops": [dict(stop)]}]
    record = DispatchPlan(
        day=now().date(), kind="day", status="proposed", order_versions=versions, result={"routes": routes}
    )
    db.add(record)
    db.commit()
    refused = client.post(f"/api/v1/dispatch/plans/{record.id}/apply", headers=h)
    assert refused.status_code == 409
    assert {"order_id": single, "problem": "in_two_routes"} in refused.get_json()["conflicts"]


def test_crew_size_at_intake_by_rule_and_by_patch(client, world):
    world.user("disp", "dispatcher")
    h = world.headers("disp")
    bank = world.enterprise("银行")
    sdh_install = post_order(client, h, bank, product="sdh", kind="install")
    assert client.get(f"/api/v1/workorders/{sdh_install}", headers=h).get_json()["crew_size"] == 2
    adsl = post_order(client, h, world.customer("居民"))
    assert client.get(f"/api/v1/workorders/{adsl}", headers=h).get_json()["crew_size"] == 1

    changed = client.patch(f"/api/v1/workorders/{adsl}/crew", headers=h, json={"crew_size": 2})
    assert changed.status_code == 200 and changed.get_json()["crew_size"] == 2
    too_many = client.patch(f"/api/v1/workorders/{adsl}/crew", headers=h, json={"crew_size": 3})
    assert too_many.status_code == 422
    missing = client.patch("/api/v1/workorders/999999/crew", headers=h, json={"crew_size": 1})
    assert missing.status_code == 404
    back = client.patch(f"/api/v1/workorders/{adsl}/crew", headers=h, json={"crew_size": 1})
    assert back.get_json()["crew_size"] == 1 and back.get_json()["second_technician_id"] is None


def test_a_crew_order_is_not_assigned_by_hand_and_unassigning_drops_the_second(client, world, db):
    from core.errors import Conflict
    from dispatch import assignment
    from tests.conftest import ADMIN

    h, (lead, mate), crew, _singles = _setup(client, world)
    order = db.get(WorkOrder, crew)
    with pytest.raises(Conflict) as refused:
        assignment.assign_order(db, ADMIN, order, lead, now().date())
    assert refused.value.slug == "crew-needs-plan"
    db.rollback()

    plan = _plan(client, h, now().date())
    assert client.post(f"/api/v1/dispatch/plans/{plan['id']}/apply", headers=h).status_code == 200
    db.expire_all()
    order = db.get(WorkOrder, crew)
    assert order.second_technician_id is not None
    assignment.unassign_order(db, ADMIN, order, now().date())
    db.commit()
    assert order.state == "validated" and order.second_technician_id is None
    for name in ("lead", "mate"):
        stops = client.get("/mobile/v1/route", headers=world.headers(name)).get_json()["stops"]
        assert crew not in {s["order_id"] for s in stops}


def test_a_crew_job_late_in_both_of_its_routes_is_one_breach():
    from dispatch.routing.kpis import plan_kpis
    from dispatch.routing.problem import Plan, PlannedStop, Problem, TechnicianRoute, late_visits

    def route(tech: int, *stops: PlannedStop) -> TechnicianRoute:
        return TechnicianRoute(tech, list(stops), None, 1000.0, 120, 3600, 40000)

    crew_late = PlannedStop("crew", 36000, 36000, 39600, 120, 1000.0, late_s=600)
    alone_late = PlannedStop("alone", 40000, 40000, 41000, 120, 1000.0, late_s=60)
    on_time = PlannedStop("fine", 30000, 30000, 31000, 120, 1000.0)
    routes = [route(1, on_time, crew_late), route(2, crew_late, alone_late)]
    assert late_visits(routes) == 2
    plan = Plan(routes, [], 0, 4000.0, late_visits(routes), 1.0, "optimized")
    assert plan_kpis(plan, Problem(technicians=[], visits=[])).breaches == 2
