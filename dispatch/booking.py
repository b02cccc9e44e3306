"""Appointment booking: the best slots over the next working days for an order, and booking one.

For each working day (the official calendar, :mod:`standards.workdays`) the day
is read as it stands: every technician's held route (orders assigned to it, in
route order), and the orders already booked on it but not yet planned, each
slotted into its cheapest route in booking order so they count too. Each slot
is then priced with :mod:`dispatch.slots` (the insertion model): feasible or
not, extra travel, who gets later or late, time left in the shift; slots are
ranked by that cost and each says why in a few words.

Booking locks the day's ``booking_days`` row (``SELECT ... FOR UPDATE``), so
bookings on one day are priced one after the other, and prices the slot again
inside the transaction: when the last room went to someone else meanwhile,
409 with the next best slots. Booking sets the order's appointment window,
writes an audit event and queues the customer's "scheduled" message (the hook
the lifecycle calls for a scheduled order); the state is not changed (moving
an order to scheduled is the dispatcher's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

import standards
from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, Invalid, Message
from dispatch.held_routes import held_routes
from dispatch.models import BookingDay
from dispatch.planning import PLANNING_HORIZON_DAYS, technician_specs, visit_spec
from dispatch.routing.problem import Plan, Problem, VisitSpec
from dispatch.slots import (
    DEFAULT_SCHEME,
    SLOT_SCHEMES,
    SlotPrice,
    SlotWindow,
    place,
    price_slots,
    slot_windows,
)
from standards.workdays import default_calendar
from technicians.models import Technician
from technicians.service import active_technicians
from workorders import lifecycle, notifications
from workorders.lifecycle import State
from workorders.models import Site, WorkOrder
from workorders.service import get_site_for

DEFAULT_DAYS = 5
MAX_DAYS = 14
# How many of the next best slots a refused booking offers.
ALTERNATIVES = 3

REASONS = {
    "no_skilled_technician": N_("No technician has the skills this order needs."),
    "outside_areas": N_("The technicians with the skills do not cover this district."),
    "no_technician_on_shift": N_("No technician with the skills is on shift in this slot."),
    "day_full": N_("The qualified technicians nearby are fully booked in this slot."),
    "window_unreachable": N_("Nobody nearby can reach the site in this slot."),
    "window_passed": N_("This slot has passed."),
    "pinned_technician_unavailable": N_("The qualified technicians nearby are fully booked in this slot."),
}
NEARBY = N_("%(name)s passes nearby, %(km)s km more")
FREE_DAY = N_("%(name)s has nothing else that day, %(km)s km there and back")
LATER = N_("%(name)s passes nearby, %(km)s km more; %(count)s visits later, by up to %(minutes)s min")
LATE = N_("%(name)s passes nearby, %(km)s km more; %(count)s visits would miss their deadline")


@dataclass
class SlotDraft:
    """An order not taken yet, priced for slots: where, how long, what skills."""

    lat: float
    lon: float
    duration_min: int
    skills: frozenset[str]
    priority: str = "P3"
    tier: str | None = None
    district: str | None = None


class SlotTaken(Conflict):
    """The slot can no longer be booked; ``alternatives`` holds the next best."""

    slug = "slot-taken"

    def __init__(self, detail: str, alternatives: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.alternatives = alternatives
        self.extensions["alternatives"] = alternatives


# ---------------------------------------------------------------- which orders, days and slots


def can_book(order: WorkOrder) -> bool:
    """Whether the interfaces offer slots for the order (:func:`check_bookable` would pass)."""
    try:
        check_bookable(order)
    except Conflict:
        return False
    return True


def check_bookable(order: WorkOrder) -> None:
    """409 unless the order is field work not yet in anyone's route, unblocked,
    not urgent (P1 faults are inserted into today's routes), with coordinates."""
    params = {"code": order.code}
    if not lifecycle.is_field_work(order) or order.state not in lifecycle.INSERTABLE_STATES:
        raise Conflict(
            N_("%(code)s cannot be booked in its current state."),
            slug="not-bookable",
            params=params,
            current_state=order.state,
        )
    if order.blocked:
        raise Conflict(
            N_("Blocking findings keep %(code)s out of planning: it cannot be booked."),
            slug="not-bookable",
            params=params,
            findings=order.findings,
        )
    if order.priority == "P1":
        raise Conflict(
            N_("%(code)s is urgent: it is inserted into today's routes, not booked."),
            slug="urgent-order",
            params=params,
        )
    if order.site is None or order.site.lat is None or order.site.lon is None:
        raise Conflict(N_("%(code)s has no coordinates."), slug="no-coordinates", params=params)


def scheme_windows(scheme: str) -> list[SlotWindow]:
    """The windows of a slot scheme; an unknown scheme (a configuration error) is refused."""
    if scheme not in SLOT_SCHEMES:
        message = N_("Unknown slot scheme %(scheme)s.")
        raise Invalid(
            message, params={"scheme": scheme}, errors={"slot_scheme": [Message(message, scheme=scheme)]}
        )
    return slot_windows(scheme)


def booking_days(at: datetime, days: int) -> list[date]:
    """The next ``days`` working days on the official calendar, from today."""
    calendar = default_calendar()
    found: list[date] = []
    day = at.date()
    while len(found) < days and day <= at.date() + timedelta(days=PLANNING_HORIZON_DAYS):
        if calendar.is_working_day(day):
            found.append(day)
        day += timedelta(days=1)
    return found


def _open_windows(day: date, windows: list[SlotWindow], at: datetime) -> list[SlotWindow]:
    """The windows not yet begun at ``at``."""
    if day > at.date():
        return windows
    now_s = (at - datetime.combine(day, time.min)).total_seconds()
    return [w for w in windows if w.start_s >= now_s] if day == at.date() else []


# ---------------------------------------------------------------- the day as it stands


def _route_key(order: WorkOrder) -> tuple:
    return (
        order.planned_sequence is None,
        order.planned_sequence or 0,
        order.planned_start or datetime.max,
        order.id,
    )


def day_orders(session: Session, day: date, at: datetime, exclude_id: int | None) -> tuple[list, list]:
    """The day's routed orders and its booked, not yet planned ones (fresh from the database)."""
    day_start, day_end = datetime.combine(day, time.min), datetime.combine(day, time.max)
    routed_on_day = WorkOrder.planned_start.between(day_start, day_end)
    if day == at.date():
        routed_on_day = or_(routed_on_day, WorkOrder.planned_start.is_(None))
    stmt = (
        select(WorkOrder)
        .join(Site, WorkOrder.site_id == Site.id)
        .options(selectinload(WorkOrder.site), selectinload(WorkOrder.customer))
        .where(
            WorkOrder.kind.not_in(lifecycle.NON_FIELD_KINDS),
            Site.lat.is_not(None),
            Site.lon.is_not(None),
            or_(
                and_(
                    WorkOrder.state.in_(lifecycle.ROUTE_STATES),
                    WorkOrder.technician_id.is_not(None),
                    routed_on_day,
                ),
                and_(
                    WorkOrder.state.in_(lifecycle.INSERTABLE_STATES),
                    WorkOrder.blocked.is_(False),
                    WorkOrder.appointment_start.between(day_start, day_end),
                ),
            ),
        )
        .execution_options(populate_existing=True)
    )
    if exclude_id is not None:
        stmt = stmt.where(WorkOrder.id != exclude_id)
    orders = list(session.scalars(stmt))
    routed = sorted((o for o in orders if o.state in lifecycle.ROUTE_STATES), key=_route_key)
    booked = sorted(
        (o for o in orders if o.state not in lifecycle.ROUTE_STATES),
        key=lambda o: (o.appointment_start, o.id),
    )
    return routed, booked


def day_as_booked(
    session: Session,
    day: date,
    at: datetime,
    techs: list[Technician],
    exclude_id: int | None = None,
    also: Sequence[tuple[WorkOrder, int, int]] = (),
) -> tuple[Problem, Plan, dict[int, str]]:
    """The day's problem and held routes, booked orders placed; and every order's code.
    ``also`` are orders as if booked on the day too, each with its window (start, end
    in seconds): a proposal's earlier moves there."""
    routed, booked = day_orders(session, day, at, exclude_id)
    tech_ids = {t.id for t in techs}
    routed = [o for o in routed if o.technician_id in tech_ids]
    extra = [
        replace(visit_spec(order, day), window_start_s=start_s, window_end_s=end_s)
        for order, start_s, end_s in also
    ]
    problem = Problem(
        technicians=technician_specs(session, techs, day, at),
        visits=[visit_spec(o, day) for o in [*routed, *booked]] + extra,
    )
    # A crew job holds its second technician too, at its planned time.
    plan = Plan(held_routes(routed, tech_ids, day), [], 0, 0.0, 0, 0.0, "optimized")
    for visit in [visit_spec(order, day) for order in booked] + extra:
        plan = place(problem, plan, visit)
    codes = {o.id: o.code for o in [*routed, *booked, *(order for order, _s, _e in also)]}
    return problem, plan, codes


# ---------------------------------------------------------------- proposing


def _visit(order_or_draft: WorkOrder | SlotDraft, day: date) -> VisitSpec:
    if isinstance(order_or_draft, SlotDraft):
        draft = order_or_draft
        return VisitSpec(
            id="draft",
            lat=draft.lat,
            lon=draft.lon,
            duration_s=max(draft.duration_min, 1) * 60,
            window_start_s=0,
            window_end_s=24 * 3600,
            skills=draft.skills,
            priority=draft.priority,
            tier=draft.tier,
            district=draft.district,
        )
    return replace(visit_spec(order_or_draft, day), pinned_technician=None, pinned_first=False)


def _km(metres: float) -> str:
    return f"{max(metres, 0) / 1000:.1f}"


def _reason(price: SlotPrice, names: dict[Any, str], held: set[Any]) -> Message:
    option = price.option
    if option is None:
        return Message(REASONS.get(price.reason or "day_full", REASONS["day_full"]))
    name, km = names.get(option.technician_id, str(option.technician_id)), _km(option.extra_travel_m)
    late = [d for d in option.delayed if d.late_s > 0]
    if late:
        return Message(LATE, name=name, km=km, count=len(late))
    if option.delayed:
        minutes = max(d.after_s - d.before_s for d in option.delayed) // 60
        return Message(LATER, name=name, km=km, count=len(option.delayed), minutes=minutes)
    if option.technician_id not in held:
        return Message(FREE_DAY, name=name, km=km)
    return Message(NEARBY, name=name, km=km)


def _slot(day: date, price: SlotPrice, names: dict[Any, str], codes: dict[int, str], held: set[Any]) -> dict:
    """One slot as the interfaces show it (``reason`` a message, rendered by them)."""
    midnight = datetime.combine(day, time.min)
    option = price.option
    slot: dict[str, Any] = {
        "day": day,
        "slot": price.window.key,
        "start": midnight + timedelta(seconds=price.window.start_s),
        "end": midnight + timedelta(seconds=price.window.end_s),
        "feasible": option is not None,
        "reason_code": price.reason,
        "reason": _reason(price, names, held),
        "cost": None,
        "technician_id": None,
        "technician_name": None,
        "expected_start": None,
        "extra_travel_m": None,
        "free_min": None,
        "delayed": [],
        "late_orders": 0,
    }
    if option is not None:
        slot.update(
            cost=option.cost,
            technician_id=option.technician_id,
            technician_name=names.get(option.technician_id),
            expected_start=None if option.start_s is None else midnight + timedelta(seconds=option.start_s),
            extra_travel_m=round(option.extra_travel_m),
            free_min=None if option.free_s is None else option.free_s // 60,
            delayed=[
                {
                    "order_id": d.visit_id,
                    "code": codes.get(d.visit_id),  # type: ignore[call-overload]
                    "minutes": (d.after_s - d.before_s) // 60,
                    "late_min": d.late_s // 60,
                }
                for d in option.delayed
            ],
            late_orders=sum(1 for d in option.delayed if d.late_s > 0),
        )
    return slot


def price_day(
    session: Session,
    order_or_draft: WorkOrder | SlotDraft,
    day: date,
    windows: list[SlotWindow],
    at: datetime,
    techs: list[Technician],
    also: Sequence[tuple[WorkOrder, int, int]] = (),
) -> list[dict[str, Any]]:
    """The ``windows`` of one day priced for the order, as slots (``also``: orders as if
    booked on the day too, see :func:`day_as_booked`)."""
    exclude = order_or_draft.id if isinstance(order_or_draft, WorkOrder) else None
    problem, plan, codes = day_as_booked(session, day, at, techs, exclude, also)
    prices = price_slots(problem, plan, _visit(order_or_draft, day), windows)
    names = {t.id: t.name for t in techs}
    held = {r.technician_id for r in plan.routes if r.stops}
    return [_slot(day, p, names, codes, held) for p in prices]


def rank(slots: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Feasible slots cheapest first (then earliest), numbered; the others after, by time."""
    feasible = sorted((s for s in slots if s["feasible"]), key=lambda s: (s["cost"], s["start"]))
    others = sorted((s for s in slots if not s["feasible"]), key=lambda s: s["start"])
    for number, slot in enumerate(feasible, start=1):
        slot["rank"] = number
    for slot in others:
        slot["rank"] = None
    return feasible + others


def propose_slots(
    session: Session,
    order_or_draft: WorkOrder | SlotDraft,
    days: int = DEFAULT_DAYS,
    slot_scheme: str = DEFAULT_SCHEME,
    at: datetime | None = None,
) -> list[dict[str, Any]]:
    """The order's (or draft's) slots over the next ``days`` working days, best
    first: each feasible or not, with the technician it would go to, the extra
    travel, whose visits it pushes later or late, the time left in the shift,
    and a short reason (a message). 409 for an order that cannot be booked."""
    if isinstance(order_or_draft, WorkOrder):
        check_bookable(order_or_draft)
    windows = scheme_windows(slot_scheme)
    at = at or now()
    techs = active_technicians(session)
    slots: list[dict[str, Any]] = []
    for day in booking_days(at, min(max(days, 1), MAX_DAYS)):
        open_windows = _open_windows(day, windows, at)
        if open_windows:
            slots += price_day(session, order_or_draft, day, open_windows, at, techs)
    return rank(slots)


def draft_slots(
    session: Session,
    actor: Actor,
    site_id: int,
    kind: str,
    product: str,
    priority: str = "P3",
    days: int = DEFAULT_DAYS,
    slot_scheme: str = DEFAULT_SCHEME,
) -> list[dict[str, Any]]:
    """The slots an order not taken yet would get at one of the actor's sites:
    its skills and time on site from the rule file, as the intake would set them.
    404 for a site the actor may not see, 409 when the site has no coordinates."""
    site = get_site_for(session, actor, site_id)
    if site.lat is None or site.lon is None:
        raise Conflict(N_("The site has no coordinates."), slug="no-coordinates")
    draft = SlotDraft(
        lat=site.lat,
        lon=site.lon,
        duration_min=standards.expected_duration_min(kind, product),
        skills=frozenset(standards.required_skills(kind, product)),
        priority=priority,
        tier=site.customer.enterprise_tier,
        district=site.district,
    )
    return propose_slots(session, draft, days, slot_scheme)


# ---------------------------------------------------------------- booking


def lock_day(session: Session, day: date) -> BookingDay:
    """The day's booking row, locked until the transaction ends (created when missing)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(BookingDay).values(day=day, bookings=0).on_conflict_do_nothing(index_elements=["day"])
    )
    stmt = (
        select(BookingDay)
        .where(BookingDay.day == day)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).one()


def _chosen_window(day: date, slot_key: str, slot_scheme: str, at: datetime) -> SlotWindow:
    """The slot asked for, or 422 naming the field: unknown slot, not a working day, begun or too far."""
    window = next((w for w in scheme_windows(slot_scheme) if w.key == slot_key), None)
    if window is None:
        message = N_("No such slot: choose one of %(slots)s.")
        params = {"slots": ", ".join(w.key for w in scheme_windows(slot_scheme))}
        raise Invalid(message, params=params, errors={"slot": [Message(message, **params)]})
    if day not in booking_days(at, MAX_DAYS) or not _open_windows(day, [window], at):
        message = N_("Slots can be booked on the next %(days)s working days, from now on.")
        raise Invalid(message, params={"days": MAX_DAYS}, errors={"day": [Message(message, days=MAX_DAYS)]})
    return window


def book_slot(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    day: date,
    slot_key: str,
    slot_scheme: str = DEFAULT_SCHEME,
    version: int | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Book the order into a slot: its appointment window is set, audited and
    told to the customer; the slot as priced is returned.

    The day is locked first and the slot priced again: when it no longer fits
    (another booking took the last room), 409 slot-taken with the next best
    slots in ``alternatives``. 409 too for an order that cannot be booked or
    changed since the caller loaded it (``version``); 422 for a bad slot or day.
    """
    at = at or now()
    check_bookable(order)
    if version is not None and version != order.version:
        raise Conflict(
            N_("The order changed since you loaded it."), slug="stale-version", current_version=order.version
        )
    window = _chosen_window(day, slot_key, slot_scheme, at)
    booking_day = lock_day(session, day)
    techs = active_technicians(session)
    slot = price_day(session, order, day, [window], at, techs)[0]
    if not slot["feasible"]:
        alternatives = [
            s for s in propose_slots(session, order, DEFAULT_DAYS, slot_scheme, at) if s["feasible"]
        ]
        raise SlotTaken(
            N_("The %(slot)s slot on %(day)s can no longer be booked: choose another one."),
            alternatives=alternatives[:ALTERNATIVES],
            params={"slot": window.key, "day": day.isoformat()},
            reason_code=slot["reason_code"],
        )
    before = _window_of(order)
    order.appointment_start, order.appointment_end = slot["start"], slot["end"]
    order.responded_at = order.responded_at or at  # the customer has heard from us
    booking_day.bookings += 1
    booking_day.updated_at = at
    session.flush()
    audit.record(
        session,
        actor,
        "appointment_booked",
        "work_order",
        order.id,
        before=before,
        after=_window_of(order)
        | {"slot": window.key, "technician_id": slot["technician_id"], "cost": slot["cost"]},
    )
    notifications.on_transition(session, order, State.SCHEDULED)
    return slot


def _window_of(order: WorkOrder) -> dict[str, str | None]:
    return {
        "appointment_start": order.appointment_start.isoformat() if order.appointment_start else None,
        "appointment_end": order.appointment_end.isoformat() if order.appointment_end else None,
    }
