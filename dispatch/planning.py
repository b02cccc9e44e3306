"""From the database to the optimizer: a day's routing problem, planned and stored.

Orders and technicians become the plain dataclasses of :mod:`dispatch.routing`
(on a day under way, from now: each technician leaves from where they are, work
under way stays first); :func:`plan_day` solves the day and stores the plan as
a proposal with the order versions it saw (:mod:`dispatch.plans` applies it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Invalid, Message
from dispatch.models import DispatchPlan
from dispatch.routing.problem import (
    Plan,
    Problem,
    TechnicianSpec,
    VisitSpec,
)
from dispatch.stock_planning import with_stock
from standards.materials import bill_of_materials
from technicians.models import Technician
from technicians.service import active_technicians
from technicians.shifts import DayRoster, roster_for_day, working_on
from workorders import lifecycle
from workorders import service as wo_service
from workorders.lifecycle import State
from workorders.models import Site, WorkOrder

DAY_S = 24 * 3600


def _seconds(moment: datetime | None, day: date, default: int) -> int:
    """Seconds from the day's midnight, clamped to the day; None gives `default`."""
    if moment is None:
        return default
    delta = moment - datetime.combine(day, time.min)
    return int(min(max(delta.total_seconds(), 0), DAY_S))


def seconds_of_day(value: time | None) -> int | None:
    return None if value is None else value.hour * 3600 + value.minute * 60 + value.second


def shift_s(tech: Technician) -> tuple[int, int]:
    """The technician's shift as seconds from midnight."""
    return seconds_of_day(tech.shift_start) or 0, seconds_of_day(tech.shift_end) or DAY_S


def technician_spec(
    tech: Technician,
    departs_at_s: int | None = None,
    position: tuple[float, float] | None = None,
    roster: DayRoster | None = None,
    on_call: bool = False,
) -> TechnicianSpec:
    """A technician's day as the solver sees it (lunch may start up to 1 h late).

    On a day under way ``departs_at_s`` is now (seconds from midnight) and
    ``position`` where the technician is; they return home at the end. With the
    day's ``roster`` (technicians.shifts) the effective shift, the skills valid that
    day and the coverage districts apply; without it, the technician's fixed shift.
    ``on_call``: the day runs to the end of the technician's on-call duty, if longer
    (for an urgent fault, never for the day's plan).
    """
    lunch_start = seconds_of_day(tech.lunch_start)
    start_lat, start_lon = position or (tech.home_lat, tech.home_lon)
    spec = TechnicianSpec(
        id=tech.id,
        skills=frozenset(tech.skills or []),
        start_lat=start_lat,
        start_lon=start_lon,
        end_lat=tech.home_lat,
        end_lon=tech.home_lon,
        shift_start_s=seconds_of_day(tech.shift_start),
        shift_end_s=seconds_of_day(tech.shift_end),
        lunch_earliest_s=lunch_start,
        lunch_latest_s=None if lunch_start is None else lunch_start + 3600,
        lunch_duration_s=(tech.lunch_duration_min or 0) * 60,
        max_work_s=(tech.max_work_min or 0) * 60 or None,
        district=tech.district,
        available_from_s=departs_at_s,
    )
    return spec if roster is None else _rostered(spec, roster, on_call)


def _rostered(spec: TechnicianSpec, roster: DayRoster, on_call: bool = False) -> TechnicianSpec:
    """The spec with the day's roster: skills valid that day, coverage, and the
    effective shift when the technician works that day (to the end of their on-call
    duty with ``on_call``)."""
    spec = replace(
        spec,
        skills=roster.skills,
        coverage_districts=roster.coverage_districts,
        coverage_hard=roster.coverage_hard,
    )
    shift = roster.shift
    if shift is None or (shift.source == "fixed" and not shift.exceptions):
        return spec  # the technician's own fixed shift, exactly as before the roster
    lunch = None if shift.lunch_start_min is None else shift.lunch_start_min * 60
    end_min, max_work_min = shift.end_for(on_call), shift.max_work_min
    if max_work_min is not None:  # on call after the shift: those hours are work the day may hold
        max_work_min += end_min - shift.end_min
    return replace(
        spec,
        shift_start_s=shift.start_min * 60,
        shift_end_s=min(end_min * 60, DAY_S),
        lunch_earliest_s=lunch,
        lunch_latest_s=None if lunch is None else min(lunch + 3600, shift.end_min * 60),
        lunch_duration_s=shift.lunch_duration_min * 60 if lunch is not None else 0,
        max_work_s=(max_work_min or 0) * 60 or None,
    )


def day_shift_s(session: Session, tech: Technician, day: date, on_call: bool = False) -> tuple[int, int]:
    """The technician's shift on ``day`` as seconds from midnight (their fixed
    shift when the roster has them off: a plan made before the change is checked
    against the hours it was made for); ``on_call``: to the end of their on-call
    duty, if later (an urgent fault's plan)."""
    roster = roster_for_day(session, [tech], day)[tech.id]
    if roster.shift is None:
        return shift_s(tech)
    return roster.shift.start_min * 60, min(roster.shift.end_for(on_call) * 60, DAY_S)


PLANNING_HORIZON_DAYS = 60


def plan_clock(day: date, at: datetime) -> int | None:
    """The plan's "now" in seconds from the day's midnight: None for a day
    not begun; a past day, or one beyond the planning horizon, cannot be
    planned (422)."""
    if day < at.date():
        message = N_("A day that is over cannot be planned.")
        raise Invalid(message, errors={"day": [message]})
    if day > at.date() + timedelta(days=PLANNING_HORIZON_DAYS):
        message = N_("Days more than %(days)s days ahead cannot be planned yet.")
        params = {"days": PLANNING_HORIZON_DAYS}
        raise Invalid(message, params=params, errors={"day": [Message(message, **params)]})
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
        .where(WorkOrder.state == State.ON_SITE, WorkOrder.technician_id.in_([t.id for t in techs]))
    )
    for tech_id, lat, lon in on_site:
        if lat is not None and lon is not None:
            positions[tech_id] = (lat, lon)
    return positions


def technician_specs(
    session: Session, techs: list[Technician], day: date, at: datetime, on_call: bool = False
) -> list[TechnicianSpec]:
    """Every technician's day from the plan's clock: from now and where they are
    (``on_call``: to the end of their on-call duty, for an urgent fault)."""
    departs_at_s = plan_clock(day, at)
    positions = technician_positions(session, techs, day, at)
    rosters = roster_for_day(session, techs, day)
    return [technician_spec(t, departs_at_s, positions.get(t.id), rosters[t.id], on_call) for t in techs]


def visit_spec(order: WorkOrder, day: date) -> VisitSpec:
    """An order as the solver sees it; en-route and on-site orders are pinned first."""
    pinned_first = lifecycle.is_under_way(order)
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
        pinned_technician=order.technician_id if lifecycle.in_route(order) else None,
        pinned_first=pinned_first,
        district=order.site.district,
        materials=bill_of_materials(order.kind, order.product),
        started_s=_seconds(order.arrived_at, day, 0)
        if order.state == State.ON_SITE and order.arrived_at is not None
        else None,
        # An order opened from another (a follow-up visit, a repeat repair)
        # comes after it; a parent not planned today counts as done.
        # A two-technician job (crew_size 2) goes into two routes at one start.
        after=(order.parent_id,) if order.parent_id is not None else (),
        crew_size=max(order.crew_size or 1, 1),
    )


def plannable_orders(session: Session, day: date, district: str | None) -> list[WorkOrder]:
    """Open orders for the day: unplanned ones, ones planned for it, and those in progress."""
    day_end = datetime.combine(day, time.max)
    stmt = (
        select(WorkOrder)
        .join(Site, WorkOrder.site_id == Site.id)
        .where(
            WorkOrder.state.in_(lifecycle.PLANNABLE_STATES | lifecycle.UNDER_WAY_STATES),
            WorkOrder.kind.not_in(lifecycle.NON_FIELD_KINDS),  # complaints are never routed
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
        # a revisit is validated again on its way back to a route: one the code now blocks
        # would make the whole plan's apply fail
        if order.state == State.NEEDS_REVISIT and wo_service.would_block(order):
            continue
        if order.planned_start is not None and order.planned_start > day_end:
            continue
        orders.append(order)
    return orders


def build_problem(
    session: Session, day: date, district: str | None = None, at: datetime | None = None
) -> tuple[Problem, dict[str, int]]:
    """The day's problem from the clock ``at`` (default now) and the version
    of every order in it (for the apply check). Technicians off that day
    (technicians.shifts: the roster, leave, the official calendar) are left out."""
    techs = working_on(session, active_technicians(session, district), day)
    orders = plannable_orders(session, day, district)
    problem = Problem(
        technicians=technician_specs(session, techs, day, at or now()),
        visits=[visit_spec(o, day) for o in orders],
    )
    problem = with_stock(session, problem, orders)  # equipment: bills of materials, the vans
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
    from dispatch.routing import solve

    at = now()
    problem, versions = build_problem(session, day, district, at)
    plan = solve(problem, time_limit_s=time_limit_s, progress=progress, should_cancel=should_cancel)
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
