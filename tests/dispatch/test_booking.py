"""Appointment slots priced on the held routes, and booking one (dispatch.booking)."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from core.actor import Actor
from dispatch import booking
from technicians.models import Technician
from tests.factories import order_trail
from workorders import service
from workorders.models import WorkOrder
from workorders.notifications import of_order

D = date(2026, 12, 1)  # a Tuesday, a working day
NEXT = date(2026, 12, 2)
AGENT = Actor(user_id=None, username="agent", role="agent", origin="test")
ADMIN = Actor(user_id=None, username="test", role="admin", origin="test")
SITE = (31.86, 117.27)
FAR = (31.95, 117.27)  # some 10 km north of the site


@pytest.fixture()
def day(city_time):
    return city_time(datetime.combine(D, time(7, 30)))


def _order(db, ids, priority="P2", product="adsl", duration_min=None) -> WorkOrder:
    data = {"kind": "repair", "product": product, "priority": priority, "source": "hotline", **ids}
    order = service.create_order(db, ADMIN, data)
    if duration_min:
        order.duration_min = duration_min
    db.commit()
    assert order.state == "validated"
    return order


def _assign(db, order: WorkOrder, tech_id: int, at: datetime) -> None:
    service.transition(db, ADMIN, order, "assigned", technician_id=tech_id, planned_start=at)
    order.planned_sequence = 1
    db.commit()


def _shift(db, tech_id: int, end: time) -> None:
    tech = db.get(Technician, tech_id)
    tech.shift_end, tech.lunch_start = end, None
    db.commit()


def test_ranking_prefers_the_slot_with_the_least_extra_travel(world, db, day):
    tech = world.technician("wang", ["adsl", "lan"], *FAR)
    here = world.customer("张伟", lat=SITE[0], lon=SITE[1])
    neighbour = world.customer("李娜", lat=SITE[0] + 0.002, lon=SITE[1])
    _assign(db, _order(db, neighbour), tech, datetime.combine(D, time(9)))
    order = _order(db, here)

    slots = booking.propose_slots(db, order, days=3)

    feasible = [s for s in slots if s["feasible"]]
    assert len(feasible) == 6 and [s["rank"] for s in feasible] == [1, 2, 3, 4, 5, 6]
    assert [s["cost"] for s in feasible] == sorted(s["cost"] for s in feasible)
    best = feasible[0]
    # Wang passes the neighbour on the 1st: the site is a few hundred metres on.
    assert best["day"] == D and best["technician_id"] == tech
    assert best["extra_travel_m"] < 2000
    assert str(best["reason"]).startswith("Wang passes nearby, ")
    # The other days he would drive out from home for it alone.
    other_days = [s for s in feasible if s["day"] != D]
    assert other_days and all(s["extra_travel_m"] > 15000 for s in other_days)
    assert all("nothing else that day" in str(s["reason"]) for s in other_days)
    assert best["cost"] < min(s["cost"] for s in other_days)


def test_a_slot_nobody_on_shift_can_take_is_marked_with_the_reason(world, db, day):
    tech = world.technician("wang", ["adsl"], *SITE)
    _shift(db, tech, time(12, 0))
    order = _order(db, world.customer("张伟"))

    slots = booking.propose_slots(db, order, days=2)

    assert {(s["slot"], s["feasible"]) for s in slots} == {("am", True), ("pm", False)}
    marked = [s for s in slots if not s["feasible"]]
    assert len(marked) == 2 and all(s["reason_code"] == "no_technician_on_shift" for s in marked)
    assert all(s["rank"] is None for s in marked) and slots[-1] in marked
    assert str(marked[0]["reason"]) == "No technician with the skills is on shift in this slot."


def test_without_a_skilled_technician_no_slot_is_offered(world, db, day):
    world.technician("wang", ["lan"], *SITE)  # an ADSL repair needs adsl
    order = _order(db, world.customer("张伟"))

    slots = booking.propose_slots(db, order, days=2)

    assert len(slots) == 4 and not any(s["feasible"] for s in slots)
    assert {s["reason_code"] for s in slots} == {"no_skilled_technician"}


def test_booking_sets_the_window_audits_and_tells_the_customer(world, db, day):
    world.technician("wang", ["adsl"], *SITE)
    order = _order(db, world.customer("张伟"))
    version = order.version

    slot = booking.book_slot(db, AGENT, order, NEXT, "pm", version=version)
    db.commit()

    db.refresh(order)
    assert (order.appointment_start, order.appointment_end) == (
        datetime.combine(NEXT, time(13)),
        datetime.combine(NEXT, time(17, 30)),
    )
    assert slot["feasible"] and slot["day"] == NEXT and order.version == version + 1
    assert order.state == "validated" and order.responded_at is not None
    assert "appointment_booked" in order_trail(db, order.id)
    told = [n for n in of_order(db, order) if n.event == "scheduled"]
    assert len(told) == 1 and "13:00" in told[0].body
    # The planner now plans it on that day, inside the window.
    from dispatch.planning import plannable_orders, visit_spec

    assert order in plannable_orders(db, NEXT, None) and order not in plannable_orders(db, D, None)
    assert (visit_spec(order, NEXT).window_start_s, visit_spec(order, NEXT).window_end_s) == (
        13 * 3600,
        63000,
    )


def test_the_last_room_goes_once_and_the_next_booking_gets_the_next_best_slots(world, db, day):
    tech = world.technician("wang", ["adsl"], *SITE)
    _shift(db, tech, time(12, 0))  # mornings only: room for one 150-minute repair
    home = world.customer("张伟")
    first, second = _order(db, home, duration_min=150), _order(db, home, duration_min=150)

    booking.book_slot(db, AGENT, first, D, "am")
    db.commit()

    slots = booking.propose_slots(db, second, days=2)
    on_d = next(s for s in slots if s["day"] == D and s["slot"] == "am")
    assert not on_d["feasible"] and on_d["reason_code"] == "day_full"
    with pytest.raises(booking.SlotTaken) as taken:
        booking.book_slot(db, AGENT, second, D, "am")
    db.rollback()
    alternatives = taken.value.alternatives
    assert alternatives and alternatives[0]["day"] == NEXT and alternatives[0]["slot"] == "am"
    assert taken.value.status == 409
    db.refresh(second)
    assert second.appointment_start is None


@pytest.mark.parametrize(
    ("priority", "state", "slug"),
    [("P1", None, "urgent-order"), ("P3", "cancelled", "not-bookable")],
)
def test_urgent_or_closed_orders_are_not_booked(world, db, day, priority, state, slug):
    world.technician("wang", ["adsl"], *SITE)
    order = _order(db, world.customer("张伟"), priority=priority)
    if state:
        service.transition(db, ADMIN, order, state, reason="test")
        db.commit()
    with pytest.raises(booking.Conflict) as refused:
        booking.propose_slots(db, order)
    assert refused.value.slug == slug
    with pytest.raises(booking.Conflict):
        booking.book_slot(db, AGENT, order, D, "am")
    db.rollback()
    assert db.scalar(select(WorkOrder.appointment_start).where(WorkOrder.id == order.id)) is None


def test_bad_slot_or_day_is_refused_with_the_field(world, db, day):
    world.technician("wang", ["adsl"], *SITE)
    order = _order(db, world.customer("张伟"))
    cases = [(D, "noon", "slot"), (date(2026, 12, 5), "am", "day"), (date(2026, 11, 30), "am", "day")]
    for when, key, field in cases:  # an unknown slot, a Saturday, a past day
        with pytest.raises(booking.Invalid) as refused:
            booking.book_slot(db, AGENT, order, when, key)
        assert field in refused.value.extensions["errors"]
