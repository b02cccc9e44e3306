"""Balancing the week: booked, non-urgent visits proposed from the fullest day to lighter ones."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from core.actor import Actor
from dispatch.balancing import balance_week
from workorders import service
from workorders.models import WorkOrder

D = date(2026, 12, 1)  # a Tuesday
ADMIN = Actor(user_id=None, username="test", role="admin", origin="test")


def _booked(db, ids, priority: str, deadline: datetime | None = datetime(2026, 12, 31)) -> WorkOrder:
    data = {"kind": "repair", "product": "adsl", "priority": priority, "source": "hotline", **ids}
    order = service.create_order(db, ADMIN, data)
    order.duration_min = 150
    order.appointment_start, order.appointment_end = (
        datetime.combine(D, time(8, 30)),
        datetime.combine(D, time(17, 30)),
    )
    order.restore_deadline = deadline
    db.commit()
    return order


def test_the_fullest_day_gives_its_p3_visits_to_lighter_days_and_nothing_changes(
    world, db, client, city_time
):
    city_time(datetime.combine(D, time(7, 30)))
    for name in ("wang", "li"):
        world.technician(name, ["adsl"], 31.86, 117.27)
    home = world.customer("张伟")
    p3 = [_booked(db, home, "P3") for _ in range(5)]
    p2 = _booked(db, home, "P2")
    due_today = _booked(db, home, "P3", deadline=datetime.combine(D, time(18)))

    proposal = balance_week(db, ADMIN, D, days=3)

    days = {d["day"]: d for d in proposal["days"]}
    assert list(days) == [D, date(2026, 12, 2), date(2026, 12, 3)]
    assert proposal["capacity_min"] == 2 * 8 * 60
    assert days[D]["load_min"] == 7 * 150 and days[D]["load_pct_after"] < days[D]["load_pct"]
    moves = proposal["moves"]
    assert moves and all(m["from_day"] == D and m["to_day"] > D for m in moves)
    moved = {m["order_id"] for m in moves}
    assert moved <= {o.id for o in p3}  # P3 first; P2 and the one due today stay
    assert p2.id not in moved and due_today.id not in moved
    assert all(m["appointment_agreed"] and m["technician_name"] in ("Wang", "Li") for m in moves)
    assert str(moves[0]["reason"]).startswith("2026-12-01 is ")
    total_after = sum(d["load_pct_after"] for d in days.values())
    assert total_after == pytest.approx(sum(d["load_pct"] for d in days.values()), abs=0.2)  # moved, not lost
    # A proposal only: every order still on the 1st.
    db.expire_all()
    starts = db.scalars(select(WorkOrder.appointment_start)).all()
    assert {s.date() for s in starts} == {D}

    world.user("disp", "dispatcher")
    resp = client.get("/api/v1/booking/balance?days=3", headers=world.headers("disp"))
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert len(body["moves"]) == len(moves) and "负荷" in body["moves"][0]["reason"]
    assert client.get("/api/v1/booking/balance?days=1", headers=world.headers("disp")).status_code == 422
