"""From the database to the optimizer and back: build a day's problem, apply a plan.

The solver (`dispatch.solver`) sees only plain dataclasses; this module maps
orders and technicians onto them and applies a computed plan atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import Conflict, Invalid, NotFound
from dispatch.models import DispatchPlan
from dispatch.problem import (
    REASON_MESSAGES,
    Plan,
    PlannedStop,
    Problem,
    TechnicianRoute,
    TechnicianSpec,
    VisitSpec,
)
from technicians.models import Technician
from workorders import lifecycle
from workorders import service as wo_service
from workorders.models import Site, WorkOrder

DAY_S = 24 * 3600
PINNED_STATES = ("en_route", "on_site")


def _seconds(moment: datetime | None, day: date, default: int) -> int:
    """Seconds from the day's midnight, clamped to the day; None gives `default`."""
    if moment is None:
        return default
    delta = moment - datetime.combine(day, time.min)
    return int(min(max(delta.total_seconds(), 0), DAY_S))


def _time_s(value: time | None) -> int | None:
    return None if value is None else value.hour * 3600 + value.minute * 60 + value.second


def technician_spec(
    tech: Technician, departs_at_s: int | None = None, position: tuple[float, float] | None = None
) -> TechnicianSpec:
    """A technician's day as the solver sees it (lunch may start up to 1 h late).

    On a day under way ``departs_at_s`` is now (seconds from midnight) and
    ``position`` where the technician is; they return home at the end.
    """
    lunch_start = _time_s(tech.lunch_start)
    start_lat, start_lon = position or (tech.home_lat, tech.home_lon)
    return TechnicianSpec(
        id=tech.id,
        skills=frozenset(tech.skills or []),
        start_lat=start_lat,
        start_lon=start_lon,
        end_lat=tech.home_lat,
        end_lon=tech.home_lon,
        shift_start_s=_time_s(tech.shift_start),
        shift_end_s=_time_s(tech.shift_end),
        lunch_earliest_s=lunch_start,
        lunch_latest_s=None if lunch_start is None else lunch_start + 3600,
        lunch_duration_s=(tech.lunch_duration_min or 0) * 60,
        max_work_s=(tech.max_work_min or 0) * 60 or None,
        district=tech.district,
        available_from_s=departs_at_s,
    )


PLANNING_HORIZON_DAYS = 60


def plan_clock(day: date, at: datetime) -> int | None:
    """The plan's "now" in seconds from the day's midnight: None for a day
    not begun; a past day, or one beyond the planning horizon, cannot be
    planned (422)."""
    if day < at.date():
        raise Invalid(
            "A day that is over cannot be planned.", errors={"day": ["A day that is over cannot be planned."]}
        )
    if day > at.date() + timedelta(days=PLANNING_HORIZON_DAYS):
        message = f"Days more than {PLANNING_HORIZON_DAYS} days ahead cannot be planned yet."
        raise Invalid(message, errors={"day": [message]})
    return _seconds(at, day, 0) if day == at.date() else None


def technician_positions(
    session: Session, techs: list[Technician], day: date, at: datetime
) -> dict[int, tuple[float, float]]:
    """Where each technician is on a day under way: at the site of the order
    they are working on, else at their last position reported today."""
    if day != at.date():
        return {}
    positions = {
        t.id: (t.last_lat, t.last_lon)
        for t in techs
        if t.last_seen_at is not None
        and t.last_seen_at.date() == day
        and t.last_lat is not None
        and t.last_lon is not None
    }
    on_site = session.execute(
        select(WorkOrder.technician_id, Site.lat, Site.lon)
        .join(Site, WorkOrder.site_id == Site.id)
        .where(WorkOrder.state == "on_site", WorkOrder.technician_id.in_([t.id for t in techs]))
    )
    for tech_id, lat, lon in on_site:
        if lat is not None and lon is not None:
            positions[tech_id] = (lat, lon)
    return positions


def technician_specs(
    session: Session, techs: list[Technician], day: date, at: datetime
) -> list[TechnicianSpec]:
    """Every technician's day from the plan's clock: from now and where they are."""
    departs_at_s = plan_clock(day, at)
    positions = technician_positions(session, techs, day, at)
    return [technician_spec(t, departs_at_s, positions.get(t.id)) for t in techs]


def visit_spec(order: WorkOrder, day: date) -> VisitSpec:
    """An order as the solver sees it; en-route and on-site orders are pinned first."""
    pinned_first = order.state in PINNED_STATES
    deadline = order.restore_deadline
    deadline_s = None
    if deadline is not None and deadline.date() <= day:
        deadline_s = _seconds(deadline, day, DAY_S)
    return VisitSpec(
        id=order.id,
        lat=order.site.lat,
        lon=order.site.lon,
        duration_s=max(order.duration_min, 1) * 60,
        window_start_s=_seconds(order.appointment_start, day, 0),
        window_end_s=_seconds(order.appointment_end, day, DAY_S),
        skills=frozenset(order.required_skills or []),
        priority=order.priority,
        tier=order.customer.enterprise_tier,
        deadline_s=deadline_s,
        pinned_technician=order.technician_id if order.state in ("assigned", *PINNED_STATES) else None,
        pinned_first=pinned_first,
        district=order.site.district,
        started_s=_seconds(order.arrived_at, day, 0)
        if order.state == "on_site" and order.arrived_at is not None
        else None,
    )


def plannable_orders(session: Session, day: date, district: str | None) -> list[WorkOrder]:
    """Open orders for the day: unplanned ones, ones planned for it, and those in progress."""
    day_end = datetime.combine(day, time.max)
    stmt = (
        select(WorkOrder)
        .join(Site, WorkOrder.site_id == Site.id)
        .where(
            WorkOrder.state.in_(lifecycle.PLANNABLE_STATES | set(PINNED_STATES)),
            WorkOrder.blocked.is_(False),
            Site.lat.is_not(None),
            Site.lon.is_not(None),
        )
        .order_by(WorkOrder.id)
    )
    if district:
        stmt = stmt.where(Site.district == district)
    orders = []
    for order in session.scalars(stmt):
        if order.appointment_start is not None and order.appointment_start.date() != day:
            continue
        if order.planned_start is not None and order.planned_start > day_end:
            continue
        orders.append(order)
    return orders


def active_technicians(session: Session, district: str | None = None) -> list[Technician]:
    """Technicians on the books and active (of one district when given), by id."""
    stmt = select(Technician).where(Technician.active.is_(True)).order_by(Technician.id)
    if district:
        stmt = stmt.where(Technician.district == district)
    return list(session.scalars(stmt))


def build_problem(
    session: Session, day: date, district: str | None = None, at: datetime | None = None
) -> tuple[Problem, dict[str, int]]:
    """The day's problem from the clock ``at`` (default now) and the version
    of every order in it (for the apply check)."""
    techs = active_technicians(session, district)
    orders = plannable_orders(session, day, district)
    problem = Problem(
        technicians=technician_specs(session, techs, day, at or now()),
        visits=[visit_spec(o, day) for o in orders],
    )
    return problem, {str(o.id): o.version for o in orders}


def plan_day(
    session: Session,
    actor: Actor,
    day: date,
    district: str | None,
    time_limit_s: float,
    progress: Callable[[dict], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    job_id: int | None = None,
) -> DispatchPlan:
    """Solve the day and store the plan as a proposal for the dispatcher."""
    from dispatch import solver

    at = now()
    problem, versions = build_problem(session, day, district, at)
    plan = solver.solve(problem, time_limit_s=time_limit_s, progress=progress, should_cancel=should_cancel)
    return store_plan(
        session,
        actor,
        plan,
        "plan_computed",
        {"orders": len(problem.visits), "unassigned": len(plan.unassigned), "status": plan.status},
        day=day,
        district=district,
        kind="day",
        status="proposed",
        job_id=job_id,
        order_versions=versions,
        technician_ids=[t.id for t in problem.technicians],
        now_s=plan_clock(day, at),
    )


def store_plan(
    session: Session,
    actor: Actor,
    plan: Plan,
    action: str,
    audit_after: dict,
    now_s: int | None = None,
    **fields,
) -> DispatchPlan:
    """Store a computed plan (its result and objective, by ``actor``) with
    ``fields`` such as day, kind and status, and audit it as ``action``.
    ``now_s`` is the clock it was computed from: none of its times may be earlier."""
    result = {**plan.to_dict(), "now_s": now_s}
    record = DispatchPlan(result=result, objective=plan.objective, created_by=actor.user_id, **fields)
    session.add(record)
    session.flush()
    audit.record(session, actor, action, "dispatch_plan", record.id, after=audit_after)
    return record


def get_plan(session: Session, plan_id: int) -> DispatchPlan:
    """A stored plan or 404."""
    record = session.get(DispatchPlan, plan_id)
    if record is None:
        raise NotFound(f"Plan {plan_id} not found.")
    return record


def plan_conflicts(session: Session, record: DispatchPlan) -> list[dict[str, Any]]:
    """What changed since the plan was computed: order versions, technicians off shift."""
    conflicts: list[dict[str, Any]] = []
    for order_id, version in record.order_versions.items():
        order = session.get(WorkOrder, int(order_id))
        if order is None:
            conflicts.append({"order_id": int(order_id), "problem": "deleted"})
        elif order.version != version:
            conflicts.append(
                {"order_id": order.id, "code": order.code, "problem": "changed", "state": order.state}
            )
    for route in record.result.get("routes", []):
        if not route["stops"]:
            continue
        tech = session.get(Technician, route["technician_id"])
        if tech is None or not tech.active:
            conflicts.append({"technician_id": route["technician_id"], "problem": "technician_unavailable"})
    return conflicts


def timing_problems(session: Session, record: DispatchPlan) -> list[dict[str, Any]]:
    """Stops the plan would write with a missing or impossible time: outside
    the technician's shift, before the plan's clock, or an order in two routes.
    Orders already en route or on site keep their times and are not checked."""
    problems: list[dict[str, Any]] = []
    now_s = record.result.get("now_s")
    seen: set[int] = set()
    for route in record.result.get("routes", []):
        tech = session.get(Technician, route["technician_id"])
        shift_start, shift_end = shift_s(tech) if tech is not None else (0, DAY_S)
        for stop in route["stops"]:
            order_id = int(stop["visit_id"])
            if order_id in seen:
                problems.append({"order_id": order_id, "problem": "in_two_routes"})
            seen.add(order_id)
            order = session.get(WorkOrder, order_id)
            if order is None or order.state in PINNED_STATES:
                continue
            start, end = stop.get("start_s"), stop.get("end_s")
            if not isinstance(start, int) or not isinstance(end, int) or end < start:
                problems.append({"order_id": order_id, "code": order.code, "problem": "missing_time"})
            elif start < shift_start or end > shift_end:
                problems.append({"order_id": order_id, "code": order.code, "problem": "outside_shift"})
            elif now_s is not None and start < now_s:
                problems.append({"order_id": order_id, "code": order.code, "problem": "in_the_past"})
    return problems


def apply_plan(session: Session, actor: Actor, plan_id: int) -> DispatchPlan:
    """Apply a proposed plan whole, or refuse it (409) naming every conflict; never half."""
    record = get_plan(session, plan_id)
    if record.status != "proposed":
        raise Conflict(f"Plan {plan_id} is {record.status}, not proposed.", plan_status=record.status)
    if not any(route["stops"] for route in record.result.get("routes", [])):
        raise Conflict(
            "This proposal places no order; there is nothing to accept.",
            slug="nothing-to-apply",
            unassigned=[u["visit_id"] for u in record.result.get("unassigned", [])],
        )
    refusals = (
        (plan_conflicts, "plan-stale", "The data changed since this plan was computed; plan again."),
        (
            timing_problems,
            "plan-invalid-times",
            "The plan has times outside a shift or already past; plan again.",
        ),
    )
    for check, slug, message in refusals:
        conflicts = check(session, record)
        if conflicts:
            record.status = "refused"
            record.conflicts = conflicts
            record.decided_at, record.decided_by = now(), actor.user_id
            session.commit()
            raise Conflict(message, slug=slug, conflicts=conflicts)
    day_start = datetime.combine(record.day, time.min)
    for route in record.result.get("routes", []):
        for sequence, stop in enumerate(route["stops"], start=1):
            order = session.get(WorkOrder, int(stop["visit_id"]))
            planned = day_start + timedelta(seconds=stop["start_s"])
            if order.state in PINNED_STATES:
                order.planned_sequence = sequence
                continue
            order.planned_start, order.planned_sequence = planned, sequence
            if order.state != "assigned" or order.technician_id != route["technician_id"]:
                _to_assigned(session, actor, order, route["technician_id"], planned)
    for item in record.result.get("unassigned", []):
        order = session.get(WorkOrder, int(item["visit_id"]))
        if order.state in ("scheduled", "assigned"):
            wo_service.transition(session, actor, order, "validated", reason=f"unplanned: {item['reason']}")
    record.status = "applied"
    record.decided_at, record.decided_by = now(), actor.user_id
    audit.record(session, actor, "plan_applied", "dispatch_plan", record.id)
    session.commit()
    return record


def _to_assigned(
    session: Session, actor: Actor, order: WorkOrder, technician_id: int, planned: datetime
) -> None:
    if order.state == "assigned":
        wo_service.transition(session, actor, order, "scheduled", reason="re-planned")
    if order.state in ("validated", "needs_revisit"):
        wo_service.transition(session, actor, order, "scheduled", planned_start=planned, reason="planned")
    wo_service.transition(
        session,
        actor,
        order,
        "assigned",
        technician_id=technician_id,
        planned_start=planned,
        reason="planned",
    )


def discard_plan(session: Session, actor: Actor, plan_id: int) -> DispatchPlan:
    """The dispatcher throws a proposal away."""
    record = get_plan(session, plan_id)
    if record.status != "proposed":
        raise Conflict(f"Plan {plan_id} is {record.status}, not proposed.")
    record.status = "discarded"
    record.decided_at, record.decided_by = now(), actor.user_id
    audit.record(session, actor, "plan_discarded", "dispatch_plan", record.id)
    session.commit()
    return record


# ---------------------------------------------------------------- the dispatcher's board

ROUTE_STATES = ("assigned", *PINNED_STATES)
DONE_STATES = ("completed", "followed_up", "closed")
DEFAULT_AT_RISK_S = 3600
DEFAULT_RESPONSE_AT_RISK_S = 900


def on_board(order: Any, day: date) -> bool:
    """Whether an open order belongs on `day`'s board: nothing booked or planned for a later day.

    Orders whose appointment or plan has passed stay on the board: they still need someone.
    """
    if order.appointment_start is not None and order.appointment_start.date() > day:
        return False
    return order.planned_start is None or order.planned_start.date() <= day


# What the board shows of an order: plain rows, not ORM objects (2,000 of them load
# several times faster this way). `sla_risk` and `on_board` read them like orders.
BOARD_COLUMNS = (
    WorkOrder.id,
    WorkOrder.code,
    WorkOrder.kind,
    WorkOrder.product,
    WorkOrder.priority,
    WorkOrder.state,
    WorkOrder.technician_id,
    WorkOrder.planned_start,
    WorkOrder.planned_sequence,
    WorkOrder.blocked,
    WorkOrder.appointment_start,
    WorkOrder.created_at,
    WorkOrder.response_deadline,
    WorkOrder.responded_at,
    WorkOrder.restore_deadline,
    WorkOrder.deadline_source,
    WorkOrder.sla_clock,
    WorkOrder.completed_at,
    WorkOrder.duration_min,
    WorkOrder.updated_at,
    Site.lat,
    Site.lon,
    Site.district,
)


def _board_select():
    return (
        select(*BOARD_COLUMNS)
        .join(Site, WorkOrder.site_id == Site.id)
        .where(Site.lat.is_not(None), Site.lon.is_not(None))
    )


def board_orders(session: Session, day: date) -> list[Any]:
    """Open orders with coordinates that belong on `day`'s board, as rows, by id."""
    stmt = _board_select().where(WorkOrder.state.in_(lifecycle.OPEN_STATES)).order_by(WorkOrder.id)
    return [row for row in session.execute(stmt) if on_board(row, day)]


def board_order(session: Session, order_id: int) -> Any | None:
    """One order as a board row (whatever its state), or None."""
    return session.execute(_board_select().where(WorkOrder.id == order_id)).first()


def board_changes(session: Session, day: date, since: datetime) -> tuple[list[Any], list[int]]:
    """Orders changed since `since`: rows still on the board, and ids that left it."""
    stmt = _board_select().where(WorkOrder.updated_at >= since).order_by(WorkOrder.id)
    changed, gone = [], []
    for row in session.execute(stmt):
        if row.state in lifecycle.OPEN_STATES and on_board(row, day):
            changed.append(row)
        else:
            gone.append(row.id)
    return changed, gone


def sla_risk(
    order: Any,
    at: datetime,
    at_risk_s: int = DEFAULT_AT_RISK_S,
    response_at_risk_s: int = DEFAULT_RESPONSE_AT_RISK_S,
) -> str:
    """'breached', 'at_risk' or 'fine' against the response and restore deadlines.

    At risk: the restore deadline is less than `at_risk_s` away, an unanswered
    order's response deadline less than `response_at_risk_s` away, or the
    planned visit ends after the restore deadline.
    """
    from workorders.service import sla_status

    sla = sla_status(order, at)
    if sla["restore_breached"] or sla["response_breached"]:
        return "breached"
    restore_left_s = (sla["restore_deadline"] - at).total_seconds()
    if restore_left_s < at_risk_s and order.completed_at is None:
        return "at_risk"
    if order.responded_at is None and (order.response_deadline - at).total_seconds() < response_at_risk_s:
        return "at_risk"
    if (
        order.planned_start is not None
        and order.planned_start + timedelta(minutes=order.duration_min or 0) > sla["restore_deadline"]
    ):
        return "at_risk"
    return "fine"


def shift_s(tech: Technician) -> tuple[int, int]:
    """The technician's shift as seconds from midnight."""
    return _time_s(tech.shift_start) or 0, _time_s(tech.shift_end) or DAY_S


def technician_colour(technician_id: int) -> str:
    """A stable, well-spread colour per technician (golden-angle hues), as #rrggbb."""
    import colorsys

    hue = (technician_id * 137.508) % 360 / 360
    lightness = (0.38, 0.46, 0.32)[technician_id % 3]
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, 0.75)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def _route_key(order: Any) -> tuple:
    """Route order as the technician's phone shows it: planned sequence, then time."""
    return (
        order.planned_sequence is None,
        order.planned_sequence or 0,
        order.planned_start or datetime.max,
        order.id,
    )


def route_orders(
    session: Session, technician_id: int, day: date, include_done: bool = False
) -> list[WorkOrder]:
    """A technician's orders for `day` in route order (open ones; finished ones too if asked)."""
    day_start = datetime.combine(day, time.min)
    day_end = datetime.combine(day, time.max)
    states = ROUTE_STATES + (DONE_STATES if include_done else ())
    stmt = select(WorkOrder).where(WorkOrder.technician_id == technician_id, WorkOrder.state.in_(states))
    orders = []
    for order in session.scalars(stmt):
        if order.planned_start is None:
            if order.state in ROUTE_STATES:
                orders.append(order)
        elif day_start <= order.planned_start <= day_end:
            orders.append(order)
    return sorted(orders, key=_route_key)


def renumber_route(session: Session, technician_id: int | None, day: date) -> None:
    """Close the gaps in a technician's planned sequence after an order left the route."""
    if technician_id is None:
        return
    for sequence, order in enumerate(route_orders(session, technician_id, day), start=1):
        if order.planned_sequence != sequence:
            order.planned_sequence = sequence


ROUTE_COLUMNS = (
    WorkOrder.id,
    WorkOrder.code,
    WorkOrder.state,
    WorkOrder.priority,
    WorkOrder.technician_id,
    WorkOrder.planned_start,
    WorkOrder.planned_sequence,
    WorkOrder.duration_min,
    Site.lat,
    Site.lon,
)


def day_routes(session: Session, day: date) -> list[dict[str, Any]]:
    """Every technician's route for `day` with times for the timeline.

    Times come from the newest applied plan whose route for the technician
    still lists exactly the orders they have; otherwise they are estimated
    from the planned starts, the orders' durations and straight-line travel.
    """
    from dispatch.matrix import HaversineMatrix

    day_start = datetime.combine(day, time.min)
    techs = active_technicians(session)
    by_tech: dict[int, list[Any]] = {t.id: [] for t in techs}
    stmt = (
        select(*ROUTE_COLUMNS)
        .join(Site, WorkOrder.site_id == Site.id)
        .where(WorkOrder.technician_id.is_not(None), WorkOrder.state.in_(ROUTE_STATES + DONE_STATES))
    )
    for row in session.execute(stmt):
        if row.technician_id not in by_tech or row.lat is None or row.lon is None:
            continue
        if row.planned_start is None and row.state not in ROUTE_STATES:
            continue
        if row.planned_start is not None and row.planned_start.date() != day:
            continue
        by_tech[row.technician_id].append(row)
    latest_route: dict[int, dict] = {}
    plans = session.scalars(
        select(DispatchPlan)
        .where(DispatchPlan.day == day, DispatchPlan.status == "applied")
        .order_by(DispatchPlan.decided_at.desc(), DispatchPlan.id.desc())
    )
    for record in plans:
        for route in record.result.get("routes", []):
            latest_route.setdefault(route["technician_id"], route)

    matrix = HaversineMatrix()
    routes = []
    for tech in techs:
        orders = sorted(by_tech[tech.id], key=_route_key)
        if not orders:
            continue
        planned_route = latest_route.get(tech.id)
        if planned_route and [s["visit_id"] for s in planned_route["stops"]] == [o.id for o in orders]:
            timing = [
                (s["arrival_s"], s["start_s"], s["end_s"], s["travel_s"]) for s in planned_route["stops"]
            ]
            lunch_s, end_s = planned_route.get("lunch_start_s"), planned_route["end_s"]
            source = "plan"
        else:
            timing, lunch_s, end_s = _estimate_timing(tech, orders, day_start, matrix)
            source = "estimate"
        stops = [
            {
                "order_id": o.id,
                "code": o.code,
                "sequence": seq,
                "state": o.state,
                "priority": o.priority,
                "lat": round(o.lat, 5),
                "lon": round(o.lon, 5),
                "arrival_s": arrival,
                "start_s": start,
                "end_s": end,
                "travel_s": travel,
            }
            for seq, (o, (arrival, start, end, travel)) in enumerate(
                zip(orders, timing, strict=True), start=1
            )
        ]
        routes.append(
            {
                "technician_id": tech.id,
                "source": source,
                "stops": stops,
                "lunch_start_s": lunch_s,
                "lunch_duration_s": (tech.lunch_duration_min or 0) * 60,
                "end_s": end_s,
            }
        )
    return routes


def _estimate_timing(
    tech: Technician, orders: list[Any], day_start: datetime, matrix
) -> tuple[list[tuple[int, int, int, int]], int | None, int]:
    """(arrival, start, end, travel) per stop, lunch start and return time, by estimate."""
    shift_start = _time_s(tech.shift_start) or 0
    lunch_s = _time_s(tech.lunch_start)
    lunch_len = (tech.lunch_duration_min or 0) * 60
    lunch_at = None
    here = (tech.home_lat, tech.home_lon)
    free_at = shift_start
    timing = []
    for index, order in enumerate(orders):
        there = (order.lat, order.lon)
        travel, _metres = matrix.travel(here, there)
        planned = (
            None if order.planned_start is None else int((order.planned_start - day_start).total_seconds())
        )
        leave = free_at
        if lunch_s is not None and lunch_at is None and lunch_len and leave >= lunch_s:
            lunch_at, leave = leave, leave + lunch_len
        arrival = leave + travel
        start = max(arrival, planned) if planned is not None else arrival
        if index == 0 and planned is not None:
            # Nobody leaves home hours early: the first trip ends when the work starts.
            arrival = max(start, shift_start + travel)
            start = arrival
        end = start + max(order.duration_min or 0, 1) * 60
        timing.append((arrival, start, end, travel))
        here, free_at = there, end
    back, _metres = matrix.travel(here, (tech.home_lat, tech.home_lon))
    if lunch_s is not None and lunch_at is None and lunch_len and free_at >= lunch_s:
        lunch_at = free_at
        free_at += lunch_len
    return timing, lunch_at, free_at + back


def _one_route_plan(technician_id: int, orders: list[WorkOrder]) -> Plan:
    """The plan a technician is following now, as the solver's Plan (sequence only)."""
    stops = [PlannedStop(o.id, 0, 0, 0, 0, 0.0) for o in orders]
    route = TechnicianRoute(technician_id, stops, None, 0.0, 0, 0, 0)
    return Plan([route], [], 0, 0.0, 0, 0.0, "optimized")


def _placeable_visit(order: WorkOrder, day: date) -> VisitSpec:
    """The order as a free visit (not held to its current technician or first place)."""
    return replace(visit_spec(order, day), pinned_technician=None, pinned_first=False)


def assign_order(
    session: Session, actor: Actor, order: WorkOrder, technician_id: int, day: date, time_limit_s: float = 1.0
) -> DispatchPlan:
    """Assign an order to a technician (or move it from another), at the best place in their day.

    The order is slotted into the technician's route without reordering it,
    the route timed from now and from where the technician is. Refused, with
    nothing changed, when the technician lacks a skill (409 skills-missing),
    the lifecycle does not allow it, or the order does not fit in the shift
    without dropping another stop (409 does-not-fit, with the solver's reason).
    The technician's new timing is stored as an applied plan of kind "manual".
    """
    from dispatch.insertion import Insertion

    tech = session.get(Technician, technician_id)
    if tech is None or not tech.active:
        raise Invalid("No such active technician.", errors={"technician_id": ["No such active technician."]})
    previous = order.technician_id if order.state in ROUTE_STATES else None
    if previous == tech.id:
        raise Conflict(
            f"{order.code} is already with {tech.name}.", slug="already-assigned", technician_id=tech.id
        )
    missing = sorted(set(order.required_skills or []) - set(tech.skills or []))
    if missing:
        raise Conflict(
            f"{tech.name} lacks skills: {', '.join(missing)}.",
            slug="skills-missing",
            missing_skills=missing,
            technician_id=tech.id,
        )
    if order.state == "assigned":
        lifecycle.check("assigned", "scheduled", actor.role)
    else:
        lifecycle.check(order.state, "assigned", actor.role)
    if order.site.lat is None or order.site.lon is None:
        raise Conflict(f"{order.code} has no coordinates.", slug="no-coordinates")

    at = now()
    current = [o for o in route_orders(session, tech.id, day) if o.site.lat is not None]
    problem = Problem(
        technicians=technician_specs(session, [tech], day, at), visits=[visit_spec(o, day) for o in current]
    )
    option = Insertion(problem, _one_route_plan(tech.id, current), _placeable_visit(order, day)).options(
        problem.technicians
    )[0]
    if not option.fits:
        zh, en = REASON_MESSAGES[option.reason]
        raise Conflict(
            f"{order.code} does not fit into {tech.name}'s day: {en}",
            slug="does-not-fit",
            reason=option.reason,
            message_zh=zh,
            message_en=en,
            technician_id=tech.id,
        )
    route = option.route

    day_start = datetime.combine(day, time.min)
    stop_of = {s.visit_id: s for s in route.stops}
    planned = day_start + timedelta(seconds=stop_of[order.id].start_s)
    reason = "moved in the console" if previous else "assigned in the console"
    if order.state == "assigned":
        wo_service.transition(session, actor, order, "scheduled", reason=reason)
    wo_service.transition(
        session, actor, order, "assigned", technician_id=tech.id, planned_start=planned, reason=reason
    )
    for sequence, stop in enumerate(route.stops, start=1):
        stop_order = order if stop.visit_id == order.id else session.get(WorkOrder, stop.visit_id)
        stop_order.planned_sequence = sequence
        if stop_order.state not in PINNED_STATES:
            stop_order.planned_start = day_start + timedelta(seconds=stop.start_s)
    renumber_route(session, previous, day)
    renumber_route(session, tech.id, day)  # stops the day can no longer reach stay, after the route
    result = Plan(
        [route], [], option.cost, route.travel_m, sum(1 for s in route.stops if s.late_s), 0.0, "optimized"
    )
    return store_plan(
        session,
        actor,
        result,
        "plan_manual",
        {"order_id": order.id, "technician_id": tech.id, "from_technician_id": previous},
        day=day,
        kind="manual",
        status="applied",
        technician_ids=[tech.id],
        order_versions={},
        decided_by=actor.user_id,
        decided_at=at,
        now_s=plan_clock(day, at),
    )


def unassign_order(
    session: Session, actor: Actor, order: WorkOrder, day: date, reason: str | None = None
) -> WorkOrder:
    """Take an order back from its technician (back to validated, out of any route)."""
    technician_id = order.technician_id
    wo_service.transition(session, actor, order, "validated", reason=reason or "unassigned in the console")
    order.planned_start, order.planned_sequence = None, None
    renumber_route(session, technician_id, day)
    return order


def cancel_order(session: Session, actor: Actor, order: WorkOrder, day: date, reason: str) -> WorkOrder:
    """Cancel an order with the reason; its technician's route closes up."""
    technician_id = order.technician_id
    wo_service.transition(session, actor, order, "cancelled", reason=reason)
    renumber_route(session, technician_id, day)
    return order


def current_day(
    session: Session, day: date, at: datetime | None = None
) -> tuple[Problem, Plan, dict[str, int]]:
    """The day as applied, from the clock ``at``: every active technician and
    the sequence they hold now (times are the solver's to compute), with the
    version of every order in a route."""
    techs = active_technicians(session)
    visits: list[VisitSpec] = []
    routes: list[TechnicianRoute] = []
    versions: dict[str, int] = {}
    for tech in techs:
        orders = [
            o
            for o in route_orders(session, tech.id, day)
            if o.site.lat is not None and o.site.lon is not None
        ]
        visits.extend(visit_spec(o, day) for o in orders)
        routes.extend(_one_route_plan(tech.id, orders).routes)
        versions.update({str(o.id): o.version for o in orders})
    problem = Problem(technicians=technician_specs(session, techs, day, at or now()), visits=visits)
    return problem, Plan(routes, [], 0, 0.0, 0, 0.0, "optimized"), versions


def propose_urgent(
    session: Session,
    actor: Actor,
    day: date,
    order_id: int,
    time_limit_s: float = 5.0,
    progress: Callable[[dict], None] | None = None,
    job_id: int | None = None,
) -> DispatchPlan:
    """Slot one urgent order into the applied day, keeping every route's sequence.

    The day is taken from now: each technician leaves from where they are,
    no earlier than now. When no qualified technician has room, lower-priority
    visits are displaced (see :mod:`dispatch.insertion`). Stores a proposed
    plan of kind "urgent" holding only the route that changes (re-timed whole),
    the displaced orders as unassigned, and in ``stats`` the visits delayed;
    when the order fits nowhere the plan lists it as unassigned with the
    reason and cannot be applied.
    """
    from dispatch.insertion import insert_urgent

    order = session.get(WorkOrder, order_id)
    if order is None:
        raise NotFound(f"Work order {order_id} not found.")
    at = now()
    if not lifecycle.is_urgent(order, at):
        raise Conflict(
            f"{order.code} is {order.priority} and not near its response deadline; "
            "plan the day for it instead.",
            slug="not-urgent",
        )
    if not lifecycle.can_insert_urgently(order, at):
        raise Conflict(
            f"{order.code} is {order.state}; only an unassigned, unblocked order can be inserted.",
            slug="not-insertable",
            current_state=order.state,
        )
    if progress:
        progress({"phase": "building", "percent": 10, "best_cost": None})
    problem, plan, versions = current_day(session, day, at)
    if progress:
        progress({"phase": "inserting", "percent": 30, "best_cost": None})
    result = insert_urgent(
        problem, plan, _placeable_visit(order, day), time_limit_s=time_limit_s, displace=True
    )
    changed = set(result.stats.get("changed_routes", []))
    result.routes = [r for r in result.routes if r.technician_id in changed]
    touched = {str(s.visit_id) for r in result.routes for s in r.stops}
    touched |= {str(u.visit_id) for u in result.unassigned}
    order_versions = {k: v for k, v in versions.items() if k in touched}
    order_versions[str(order.id)] = order.version
    placed = bool(changed)
    return store_plan(
        session,
        actor,
        result,
        "plan_urgent_computed",
        {"order_id": order.id, "placed": placed, "displaced": result.stats.get("displaced", [])},
        day=day,
        kind="urgent",
        status="proposed",
        job_id=job_id,
        order_versions=order_versions,
        technician_ids=sorted(changed),
        now_s=plan_clock(day, at),
    )


CANDIDATES_EVALUATED = 30


def assignment_candidates(
    session: Session, order: WorkOrder, day: date, at: datetime | None = None
) -> list[dict[str, Any]]:
    """Every active technician's fit for the order, best first: whether it
    fits their day as it stands (and if not, why), when it would start, the
    extra travel and the time left in the shift after it. Only the
    ``CANDIDATES_EVALUATED`` qualified technicians working nearest are worked
    out (each is a model of their day); the others are listed as not evaluated."""
    from dispatch.insertion import Insertion, InsertionOption, may_do

    at = at or now()
    problem, plan, _versions = current_day(session, day, at)
    visit = _placeable_visit(order, day)
    insertion = Insertion(problem, plan, visit)
    near = insertion.qualified()[:CANDIDATES_EVALUATED]
    near_ids = {t.id for t in near}
    options = insertion.options(near) + [
        InsertionOption(t.id, reason="not_evaluated" if may_do(t, visit) else "no_skilled_technician")
        for t in problem.technicians
        if t.id not in near_ids
    ]
    stops = {r.technician_id: len(r.stops) for r in plan.routes}
    day_start = datetime.combine(day, time.min)
    return [
        {
            "technician_id": option.technician_id,
            "fits": option.fits,
            "reason": option.reason,
            "start": None if option.start_s is None else day_start + timedelta(seconds=option.start_s),
            "extra_travel_m": round(option.extra_travel_m) if option.fits else None,
            "free_min": None if option.free_s is None else option.free_s // 60,
            "stops": stops.get(option.technician_id, 0),
            "delayed": len(option.delayed),
        }
        for option in options
    ]
