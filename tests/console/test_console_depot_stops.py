"""The console draws a planned restock: the day's route names the depot, where it is,
when, and which order it comes before (the phone shows the same stop)."""

from __future__ import annotations

from datetime import datetime, time

from core.clock import now
from dispatch.models import DispatchPlan
from technicians.stock_models import Depot
from tests.factories import Console


def _stop(visit_id, start_h: float, minutes: int) -> dict:
    start = int(start_h * 3600)
    return {"visit_id": visit_id, "arrival_s": start, "start_s": start, "end_s": start + minutes * 60}


def test_the_days_route_has_the_depot_stop_before_the_order_it_serves(field, client, db, city_time):
    city_time(datetime.combine(now().date(), time(7, 30)))
    first = field.order(product="adsl", hour=9)
    install = field.order(product="iptv_adsl", kind="install", hour=11)
    db.add(Depot(name="城东仓库", lat=31.85, lon=117.25))
    route = {
        "technician_id": field.tech_id,
        "stops": [{**_stop(first, 9, 45), "travel_s": 600}, {**_stop(install, 11, 90), "travel_s": 900}],
        "restocks": [_stop("restock", 10, 15)],
        "lunch_start_s": None,
        "end_s": 13 * 3600,
    }
    db.add(DispatchPlan(day=now().date(), kind="day", status="applied", result={"routes": [route]}))
    db.commit()

    status, body = Console(client, "disp").get("/routes")
    assert status == 200
    routes = {r["technician_id"]: r for r in body["routes"]}
    mine = routes[field.tech_id]
    assert mine["source"] == "plan" and [s["order_id"] for s in mine["stops"]] == [first, install]
    (depot,) = mine["restocks"]
    assert depot == {
        "depot": "城东仓库",
        "lat": 31.85,
        "lon": 117.25,
        "arrival_s": 10 * 3600,
        "end_s": 10 * 3600 + 900,
        "before_order_id": install,
    }
    # another technician's route, estimated from planned starts, has no depot stop
    other = field.order(product="adsl", hour=10, technician_id=field.other_tech_id)
    status, body = Console(client, "disp").get("/routes")
    theirs = next(r for r in body["routes"] if r["technician_id"] == field.other_tech_id)
    assert [s["order_id"] for s in theirs["stops"]] == [other] and theirs["restocks"] == []
