"""The phone shows the day the planner and the roster made: a depot stop the applied
plan gave the technician (where, when, before which order, what to load) and
today's shift as the roster has it."""

from __future__ import annotations

from datetime import datetime, time

from core.clock import now
from dispatch.models import DispatchPlan
from technicians import roster_service
from technicians.stock_models import Depot
from tests.conftest import ADMIN


def test_the_route_shows_the_depot_stop_and_what_to_load_there(field, client, db, city_time):
    city_time(datetime.combine(now().date(), time(7, 30)))
    install = field.order(product="iptv_adsl", kind="install", hour=11)
    plugs = [{"item": "cable_m", "quantity": 5}, {"item": "rj45", "quantity": 10}]
    issued = client.post(
        f"/api/v1/technicians/{field.tech_id}/stock/issue", headers=field.disp, json={"lines": plugs}
    )
    assert issued.status_code == 201, issued.get_json()
    db.add(Depot(name="城东仓库", lat=31.85, lon=117.25))
    depot_stop = {"visit_id": "restock", "arrival_s": 9 * 3600, "start_s": 9 * 3600, "end_s": 9 * 3600 + 900}
    route = {"technician_id": field.tech_id, "stops": [], "restocks": [depot_stop]}
    db.add(DispatchPlan(day=now().date(), kind="day", status="applied", result={"routes": [route]}))
    db.commit()

    body = client.get("/mobile/v1/route", headers=field.tech).get_json()
    (stop,) = body["restocks"]
    assert stop["depot_name"] == "城东仓库" and stop["before_order_id"] == install
    assert stop["arrival"].endswith("T09:00:00+08:00") and stop["departure"].endswith("T09:15:00+08:00")
    # An IPTV install over ADSL needs a set-top box and 10 m of cable: the van has 5 m and no box.
    assert {line["item"]: line["quantity"] for line in stop["load"]} == {"stb": 1, "cable_m": 5}
    other = client.get("/mobile/v1/route", headers=field.other_tech).get_json()
    assert other["restocks"] == []


def test_me_shows_the_rosters_shift_for_today(field, client, db, city_time):
    city_time(datetime.combine(now().date(), time(7, 30)))
    today = now().date()
    roster_service.add_exception(
        db,
        ADMIN,
        {
            "technician_id": field.tech_id,
            "day": today,
            "kind": "overtime",
            "start_min": 17 * 60 + 30,
            "end_min": 20 * 60,
        },
    )
    roster_service.add_exception(
        db, ADMIN, {"technician_id": field.other_tech_id, "day": today, "kind": "leave"}
    )
    db.commit()
    me = client.get("/mobile/v1/me", headers=field.tech).get_json()
    assert me["shift"]["end"] == f"{today.isoformat()}T20:00:00+08:00", me["shift"]
    away = client.get("/mobile/v1/me", headers=field.other_tech).get_json()
    assert away["shift"] is None
