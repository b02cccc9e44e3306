"""Two agents booking the last room of a day at the same moment (PostgreSQL: real row locks).

Run with TEST_DATABASE_URL=postgresql+psycopg://... ; on SQLite (one writer at a time,
no row locks) it is skipped.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from dispatch.models import BookingDay
from technicians.models import Technician
from workorders.models import WorkOrder

D = date(2026, 12, 1)  # a Tuesday
SITE = (31.86, 117.27)


def test_two_agents_race_for_the_last_room_one_wins_the_other_gets_the_next_best(app, world, db, city_time):
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("row locks need PostgreSQL (set TEST_DATABASE_URL)")
    city_time(datetime.combine(D, time(7, 30)))
    tech_id = world.technician("wang", ["adsl"], *SITE)
    tech = db.get(Technician, tech_id)
    tech.shift_end, tech.lunch_start = time(12), None  # mornings only: room for one long repair
    db.commit()
    home = world.customer("张伟")
    agents = []
    for name in ("agent1", "agent2"):
        world.user(name, "agent")
        agents.append(world.headers(name))
    orders = [world.order(agents[0], home) for _ in range(2)]
    for oid in orders:
        db.get(WorkOrder, oid).duration_min = 150
    db.commit()

    barrier, answers = threading.Barrier(2), {}

    def book(oid: int, headers: dict) -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(
            f"/api/v1/workorders/{oid}/booking", headers=headers, json={"day": str(D), "slot": "am"}
        )
        answers[oid] = (resp.status_code, resp.get_json())

    threads = [threading.Thread(target=book, args=(oid, h)) for oid, h in zip(orders, agents, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert sorted(status for status, _ in answers.values()) == [200, 409], answers
    loser = next(body for status, body in answers.values() if status == 409)
    assert loser["type"].endswith("/slot-taken")
    assert loser["alternatives"] and loser["alternatives"][0]["start"] == "2026-12-02T08:30:00+08:00"
    db.expire_all()
    booked = db.scalars(select(WorkOrder).where(WorkOrder.appointment_start.is_not(None))).all()
    assert len(booked) == 1 and answers[booked[0].id][0] == 200
    assert db.get(BookingDay, D).bookings == 1
