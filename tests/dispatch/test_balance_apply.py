"""Applying the week's balance (POST /api/v1/booking/balance/apply): the accepted moves
rebooked through the booking path, all or nothing; a changed order or a slot taken since
the proposal refuses the whole request, and a customer who agreed their window must have
been asked.

The week: Tuesday 1 December 2026 is over-full (seven 150-minute visits for two
technicians), the next days are empty.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from core.actor import Actor
from core.models import AuditEvent
from workorders import service
from workorders.models import WorkOrder

D = date(2026, 12, 1)  # a Tuesday
ADMIN = Actor(user_id=None, username="test", role="admin", origin="test")
URL = "/api/v1/booking/balance/apply"


def _booked(db, ids, day: date = D, duration_min: int = 150, until: time = time(17, 30)) -> WorkOrder:
    data = {"kind": "repair", "product": "adsl", "priority": "P3", "source": "hotline", **ids}
    order = service.create_order(db, ADMIN, data)
    order.duration_min = duration_min
    order.appointment_start = datetime.combine(day, time(8, 30))
    order.appointment_end = datetime.combine(day, until)
    order.restore_deadline = datetime(2026, 12, 31)
    db.commit()
    return order


class Week:
    def __init__(self, world, db, client, city_time) -> None:
        city_time(datetime.combine(D, time(7, 30)))
        self.world, self.db, self.client = world, db, client
        for name in ("wang", "li"):
            world.technician(name, ["adsl"], 31.86, 117.27)
        self.home = world.customer("张伟")
        self.orders = [_booked(db, self.home) for _ in range(7)]
        world.user("disp", "dispatcher")
        self.h = world.headers("disp")
        resp = client.get("/api/v1/booking/balance?days=3", headers=self.h)
        assert resp.status_code == 200, resp.get_json()
        # Moves to the earliest target day first (the slot-taken case fills the last one).
        self.moves = sorted(resp.get_json()["moves"], key=lambda m: m["to_day"])
        assert len({m["to_day"] for m in self.moves}) >= 2, self.moves

    def accepted(self, moves: list[dict] | None = None, asked: bool = True) -> list[dict]:
        keys = ("order_id", "version", "from_day", "to_day", "slot")
        return [{k: m[k] for k in keys} | {"customer_asked": asked} for m in (moves or self.moves)]

    def apply(self, moves: list[dict], expect: int, lang: str = "en") -> dict:
        resp = self.client.post(URL, headers=self.h | {"Accept-Language": lang}, json={"moves": moves})
        assert resp.status_code == expect, resp.get_json()
        return resp.get_json()

    def days_booked(self) -> dict[int, date]:
        self.db.expire_all()
        ids = [o.id for o in self.orders]
        rows = self.db.execute(select(WorkOrder.id, WorkOrder.appointment_start).where(WorkOrder.id.in_(ids)))
        return {oid: start.date() for oid, start in rows}


@pytest.fixture()
def week(world, db, client, city_time) -> Week:
    return Week(world, db, client, city_time)


def test_the_whole_proposal_is_rebooked_on_its_proposed_slots(week):
    """Each move was priced with the earlier ones booked on its day: they all fit together."""
    accepted = week.accepted()
    body = week.apply(accepted, 200)
    booked = {m["order_id"]: m for m in body["moves"]}
    assert set(booked) == {m["order_id"] for m in week.moves}
    days = week.days_booked()
    for move in week.moves:
        slot = booked[move["order_id"]]
        assert slot["day"] == move["to_day"] and slot["slot"] == move["slot"]
        assert slot["from_day"] == D.isoformat() and slot["feasible"] is True
        assert days[move["order_id"]].isoformat() == move["to_day"]
    unmoved = set(days) - set(booked)
    assert unmoved and all(days[o] == D for o in unmoved)
    # Each rebooking is the booking path's: audited per order, and the whole once.
    actions = week.db.scalars(select(AuditEvent.action)).all()
    assert actions.count("appointment_booked") == len(week.moves)
    assert actions.count("week_balance_applied") == 1
    # Applying the same proposal again: the orders changed (versions), nothing moves.
    again = week.apply(accepted, 409)
    assert again["type"].endswith("balance-stale")
    assert {c["order_id"] for c in again["conflicts"]} == set(booked)


def test_a_customer_who_agreed_the_window_must_have_been_asked(week):
    accepted = week.accepted()
    accepted[0]["customer_asked"] = False
    refused = week.apply(accepted, 422)
    assert refused["type"].endswith("customer-not-asked")
    assert refused["order_ids"] == [accepted[0]["order_id"]]
    assert week.moves[0]["code"] in refused["detail"] and "ask them" in refused["detail"]
    zh = week.apply(accepted, 422, lang="zh")
    assert "客户" in zh["detail"]
    assert set(week.days_booked().values()) == {D}  # nothing moved


def test_an_order_changed_since_the_proposal_refuses_all_of_it(week, client):
    changed = week.moves[-1]
    resp = client.post(
        f"/api/v1/workorders/{changed['order_id']}/transitions",
        headers=week.h,
        json={"to": "cancelled", "reason": "客户取消"},
    )
    assert resp.status_code == 200, resp.get_json()
    refused = week.apply(week.accepted(), 409)
    assert refused["type"].endswith("balance-stale")
    assert refused["conflicts"] == [
        {"order_id": changed["order_id"], "code": changed["code"], "problem": "changed"}
    ]
    assert set(week.days_booked().values()) == {D}


def test_a_slot_taken_since_the_proposal_refuses_all_of_it(week):
    # The last move's day fills up meanwhile (both technicians booked from 08:30 to 12:15); the
    # moves before it, to other days, are booked first in the request.
    full_day = date.fromisoformat(week.moves[-1]["to_day"])
    for _ in range(2):
        _booked(week.db, week.home, day=full_day, duration_min=225, until=time(8, 30))
    refused = week.apply(week.accepted(), 409)
    assert refused["type"].endswith("slot-taken")
    first_there = next(m for m in week.moves if m["to_day"] == full_day.isoformat())
    assert week.moves[0]["to_day"] != full_day.isoformat()  # booked before it, then undone
    assert refused["order_id"] == first_there["order_id"]
    assert refused["alternatives"] and all(a["feasible"] for a in refused["alternatives"])
    # Nothing half-written: the moves booked before it in the request are undone too.
    assert set(week.days_booked().values()) == {D}
    assert "appointment_booked" not in week.db.scalars(select(AuditEvent.action)).all()


def test_moves_into_one_slot_that_do_not_fit_together_are_refused_whole(week):
    """Three visits of 150 minutes into one morning for two technicians cannot all start by noon."""
    day = week.moves[0]["to_day"]
    same = [
        m | {"order_id": o.id, "code": o.code, "version": o.version}
        for o in week.orders[:3]
        for m in [week.moves[0]]
    ]
    refused = week.apply(week.accepted(same), 409)
    assert refused["type"].endswith("slot-taken") and day in refused["detail"]
    assert set(week.days_booked().values()) == {D}


def test_bad_requests_are_refused_plainly(week):
    accepted = week.accepted()
    twice = week.apply([accepted[0], accepted[0]], 422)
    assert "once" in twice["detail"]
    assert week.apply([], 422)["status"] == 422
    missing = week.apply([accepted[0] | {"order_id": 999999}], 404)
    assert "999999" in missing["detail"]
    not_a_slot = week.apply([accepted[0] | {"slot": "night"}], 422)
    assert not_a_slot["status"] == 422
    too_far = accepted[0] | {"to_day": (D + timedelta(days=60)).isoformat()}
    assert week.apply([too_far], 422)["status"] == 422
    assert set(week.days_booked().values()) == {D}


def test_two_dispatchers_applying_the_same_proposal_at_once_move_it_once(app, week):
    """PostgreSQL: the second waits for the first's locks, then finds the orders changed."""
    import threading

    if week.db.get_bind().dialect.name != "postgresql":
        pytest.skip("row locks need PostgreSQL (set TEST_DATABASE_URL)")
    week.world.user("disp2", "dispatcher")
    barrier, answers = threading.Barrier(2), []

    def apply(headers: dict) -> None:
        client = app.test_client()
        barrier.wait()
        resp = client.post(URL, headers=headers, json={"moves": week.accepted()})
        answers.append((resp.status_code, resp.get_json()))

    threads = [threading.Thread(target=apply, args=(h,)) for h in (week.h, week.world.headers("disp2"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(status for status, _ in answers) == [200, 409], answers
    loser = next(body for status, body in answers if status == 409)
    assert loser["type"].endswith("balance-stale")
    actions = week.db.scalars(select(AuditEvent.action)).all()
    assert actions.count("appointment_booked") == len(week.moves)  # each order moved once
