"""The booking API: slots with reasons in the reader's language, booking, refusals as problems."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from technicians.models import Technician

D = date(2026, 12, 1)  # a Tuesday
SITE = (31.86, 117.27)


@pytest.fixture()
def desk(world, db, city_time):
    """An agent, a mornings-only technician near a residential customer, and the customer's login."""
    city_time(datetime.combine(D, time(7, 30)))
    world.user("agent", "agent")
    tech_id = world.technician("wang", ["adsl"], *SITE)
    tech = db.get(Technician, tech_id)
    tech.shift_end, tech.lunch_start = time(12), None
    db.commit()
    home = world.customer("张伟")
    world.user("zhangwei", "customer", customer_id=home["customer_id"])
    return {"agent": world.headers("agent"), "customer": world.headers("zhangwei"), "home": home}


def _order(world, desk, **fields) -> int:
    return world.order(desk["agent"], desk["home"], **fields)


def test_slots_come_best_first_with_reasons_in_chinese_or_english(client, world, desk):
    oid = _order(world, desk)
    resp = client.get(f"/api/v1/workorders/{oid}/slots?days=2", headers=desk["agent"])
    assert resp.status_code == 200, resp.get_json()
    slots = resp.get_json()
    assert [s["rank"] for s in slots] == [1, 2, None, None]
    best = slots[0]
    assert best["start"] == "2026-12-01T08:30:00+08:00" and best["technician_name"] == "Wang"
    assert best["reason"].startswith("Wang当天尚无其他安排，往返") and best["reason"].endswith("公里")
    assert slots[-1]["reason"] == "该时段没有具备所需技能的装维人员在班。"
    english = client.get(f"/api/v1/workorders/{oid}/slots?days=2&lang=en", headers=desk["agent"]).get_json()
    assert english[0]["reason"].startswith("Wang has nothing else that day, ")
    assert english[-1]["reason"] == "No technician with the skills is on shift in this slot."


def test_a_customer_sees_when_and_why_but_not_whose_visits_move(client, world, desk):
    oid = _order(world, desk)
    slots = client.get(f"/api/v1/workorders/{oid}/slots?days=1", headers=desk["customer"]).get_json()
    assert slots and set(slots[0]) == {"day", "slot", "start", "end", "feasible", "rank", "reason"}
    resp = client.post(
        f"/api/v1/workorders/{oid}/booking",
        headers=desk["customer"],
        json={"day": "2026-12-01", "slot": "am"},
    )
    assert resp.status_code == 200, resp.get_json()
    detail = client.get(f"/api/v1/workorders/{oid}", headers=desk["customer"]).get_json()
    assert (detail["appointment_start"], detail["appointment_end"]) == (
        "2026-12-01T08:30:00+08:00",
        "2026-12-01T12:00:00+08:00",
    )


def test_the_second_booking_of_the_last_room_gets_409_with_the_next_best(client, world, desk, db):
    from workorders.models import WorkOrder

    first, second = _order(world, desk), _order(world, desk)
    for oid in (first, second):
        db.get(WorkOrder, oid).duration_min = 150
    db.commit()
    body = {"day": "2026-12-01", "slot": "am"}
    assert (
        client.post(f"/api/v1/workorders/{first}/booking", headers=desk["agent"], json=body).status_code
        == 200
    )
    resp = client.post(f"/api/v1/workorders/{second}/booking", headers=desk["agent"], json=body)
    assert resp.status_code == 409
    problem = resp.get_json()
    assert problem["type"].endswith("/slot-taken") and "已无法预约" in problem["detail"]
    assert problem["alternatives"][0]["start"] == "2026-12-02T08:30:00+08:00"
    assert "公里" in problem["alternatives"][0]["reason"]
    assert db.get(WorkOrder, second).appointment_start is None


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        ("booking", {"day": "2026-12-01", "slot": "noon"}, 422, "slot"),
        ("booking", {"day": "2026-12-05", "slot": "am"}, 422, "day"),  # a Saturday
        ("booking", {"day": "1-12-2026", "slot": "am"}, 422, "day"),
        ("booking", {"slot": "am"}, 422, "day"),
        ("booking", {"day": "2026-12-01", "slot": "am", "version": -1}, 422, "version"),
        ("slots?days=0", None, 422, "days"),
        ("slots?days=abc", None, 422, "days"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, world, desk, path, body, status, field):
    oid = _order(world, desk)
    url = f"/api/v1/workorders/{oid}/{path}"
    resp = (
        client.post(url, headers=desk["agent"], json=body) if body else client.get(url, headers=desk["agent"])
    )
    assert resp.status_code == status, resp.get_json()
    errors = resp.get_json()["errors"]
    assert field in errors or field in errors.get("json", {}) or field in errors.get("query", {})


def test_missing_stale_or_urgent_orders_are_refused(client, world, desk):
    body = {"day": "2026-12-01", "slot": "am"}
    assert (
        client.post("/api/v1/workorders/999999/booking", headers=desk["agent"], json=body).status_code == 404
    )
    assert client.get("/api/v1/workorders/999999/slots", headers=desk["agent"]).status_code == 404
    urgent = _order(world, desk, priority="P1")
    resp = client.get(f"/api/v1/workorders/{urgent}/slots", headers=desk["agent"])
    assert resp.status_code == 409 and resp.get_json()["type"].endswith("/urgent-order")
    oid = _order(world, desk)
    resp = client.post(
        f"/api/v1/workorders/{oid}/booking", headers=desk["agent"], json=body | {"version": 99}
    )
    assert resp.status_code == 409 and resp.get_json()["type"].endswith("/stale-version")


def test_slots_before_the_order_is_taken(client, desk):
    body = {"site_id": desk["home"]["site_id"], "kind": "repair", "product": "adsl", "days": 2}
    resp = client.post("/api/v1/slots", headers=desk["agent"], json=body)
    assert resp.status_code == 200, resp.get_json()
    slots = resp.get_json()
    assert [s["rank"] for s in slots] == [1, 2, None, None] and slots[0]["technician_name"] == "Wang"
    # The same as the order gets once taken.
    oid = client.post(
        "/api/v1/workorders",
        headers=desk["agent"],
        json={"kind": "repair", "product": "adsl", "priority": "P3", **desk["home"]},
    ).get_json()["id"]
    taken = client.get(f"/api/v1/workorders/{oid}/slots?days=2", headers=desk["agent"]).get_json()
    assert [(s["start"], s["feasible"]) for s in taken] == [(s["start"], s["feasible"]) for s in slots]
    assert (
        client.post("/api/v1/slots", headers=desk["agent"], json=body | {"site_id": 999999}).status_code
        == 404
    )
    for bad in ({"product": "pigeon"}, {"priority": "P1"}, {"kind": "complaint"}, {"site_id": None}):
        resp = client.post("/api/v1/slots", headers=desk["agent"], json=body | bad)
        assert resp.status_code == 422, (bad, resp.get_json())
