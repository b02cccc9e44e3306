"""From the database to the optimizer and back: build a day's problem, apply a plan.

The solver (`dispatch.solver`) sees only plain dataclasses; this module maps
orders and technicians onto them and applies a computed plan atomically.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import Conflict, NotFound
from dispatch.models import DispatchPlan
from dispatch.problem import Problem, TechnicianSpec, VisitSpec
from technicians.models import Technician
from workorders import lifecycle
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


def technician_spec(tech: Technician) -> TechnicianSpec:
    """A technician's day as the solver sees it (lunch may start up to 1 h late)."""
    lunch_start = _time_s(tech.lunch_start)
    return TechnicianSpec(
        id=tech.id, skills=frozenset(tech.skills or []),
        start_lat=tech.home_lat, start_lon=tech.home_lon,
        end_lat=tech.home_lat, end_lon=tech.home_lon,
        shift_start_s=_time_s(tech.shift_start), shift_end_s=_time_s(tech.shift_end),
        lunch_earliest_s=lunch_start,
        lunch_latest_s=None if lunch_start is None else lunch_start + 3600,
        lunch_duration_s=(tech.lunch_duration_min or 0) * 60,
        max_work_s=(tech.max_work_min or 0) * 60 or None, district=tech.district,
    )


def visit_spec(order: WorkOrder, day: date) -> VisitSpec:
    """An order as the solver sees it; en-route and on-site orders are pinned first."""
    pinned_first = order.state in PINNED_STATES
    deadline = order.restore_deadline
    deadline_s = None
    if deadline is not None and deadline.date() <= day:
        deadline_s = _seconds(deadline, day, DAY_S)
    return VisitSpec(
        id=order.id, lat=order.site.lat, lon=order.site.lon,
        duration_s=max(order.duration_min, 1) * 60,
        window_start_s=_seconds(order.appointment_start, day, 0),
        window_end_s=_seconds(order.appointment_end, day, DAY_S),
        skills=frozenset(order.required_skills or []), priority=order.priority,
        tier=order.customer.enterprise_tier, deadline_s=deadline_s,
        pinned_technician=order.technician_id if order.state in (
            "assigned", *PINNED_STATES) else None,
        pinned_first=pinned_first, district=order.site.district,
    )


def plannable_orders(session: Session, day: date, district: str | None) -> list[WorkOrder]:
    """Open orders for the day: unplanned ones, ones planned for it, and those in progress."""
    day_end = datetime.combine(day, time.max)
    stmt = (select(WorkOrder).join(Site, WorkOrder.site_id == Site.id)
            .where(WorkOrder.state.in_(lifecycle.PLANNABLE_STATES | set(PINNED_STATES)),
                   WorkOrder.blocked.is_(False),
                   Site.lat.is_not(None), Site.lon.is_not(None))
            .order_by(WorkOrder.id))
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


def build_problem(session: Session, day: date, district: str | None = None
                  ) -> tuple[Problem, dict[str, int]]:
    """The day's problem and the version of every order in it (for the apply check)."""
    techs_stmt = select(Technician).where(Technician.active.is_(True)).order_by(Technician.id)
    if district:
        techs_stmt = techs_stmt.where(Technician.district == district)
    techs = list(session.scalars(techs_stmt))
    orders = plannable_orders(session, day, district)
    problem = Problem(technicians=[technician_spec(t) for t in techs],
                      visits=[visit_spec(o, day) for o in orders])
    return problem, {str(o.id): o.version for o in orders}


def plan_day(session: Session, actor: Actor, day: date, district: str | None,
             time_limit_s: float, progress: Callable[[dict], None] | None = None,
             should_cancel: Callable[[], bool] | None = None,
             job_id: int | None = None) -> DispatchPlan:
    """Solve the day and store the plan as a proposal for the dispatcher."""
    from dispatch import solver

    problem, versions = build_problem(session, day, district)
    plan = solver.solve(problem, time_limit_s=time_limit_s, progress=progress,
                        should_cancel=should_cancel)
    record = DispatchPlan(day=day, district=district, kind="day", status="proposed",
                          job_id=job_id, order_versions=versions,
                          technician_ids=[t.id for t in problem.technicians],
                          result=plan.to_dict(), created_by=actor.user_id,
                          objective=plan.objective)
    session.add(record)
    session.flush()
    audit.record(session, actor, "plan_computed", "dispatch_plan", record.id,
                 after={"orders": len(problem.visits), "unassigned": len(plan.unassigned),
                        "status": plan.status})
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
            conflicts.append({"order_id": order.id, "code": order.code,
                              "problem": "changed", "state": order.state})
    for route in record.result.get("routes", []):
        if not route["stops"]:
            continue
        tech = session.get(Technician, route["technician_id"])
        if tech is None or not tech.active:
            conflicts.append({"technician_id": route["technician_id"],
                              "problem": "technician_unavailable"})
    return conflicts


def apply_plan(session: Session, actor: Actor, plan_id: int) -> DispatchPlan:
    """Apply a proposed plan whole, or refuse it (409) naming every conflict; never half."""
    record = get_plan(session, plan_id)
    if record.status != "proposed":
        raise Conflict(f"Plan {plan_id} is {record.status}, not proposed.",
                       plan_status=record.status)
    conflicts = plan_conflicts(session, record)
    if conflicts:
        record.status = "refused"
        record.conflicts = conflicts
        record.decided_at, record.decided_by = now(), actor.user_id
        session.commit()
        raise Conflict("The data changed since this plan was computed; plan again.",
                       slug="plan-stale", conflicts=conflicts)
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
            from workorders import service as wo_service

            wo_service.transition(session, actor, order, "validated",
                                  reason=f"unplanned: {item['reason']}")
    record.status = "applied"
    record.decided_at, record.decided_by = now(), actor.user_id
    audit.record(session, actor, "plan_applied", "dispatch_plan", record.id)
    session.commit()
    return record


def _to_assigned(session: Session, actor: Actor, order: WorkOrder, technician_id: int,
                 planned: datetime) -> None:
    from workorders import service as wo_service

    if order.state == "assigned":
        wo_service.transition(session, actor, order, "scheduled", reason="re-planned")
    if order.state in ("validated", "needs_revisit"):
        wo_service.transition(session, actor, order, "scheduled", planned_start=planned,
                              reason="planned")
    wo_service.transition(session, actor, order, "assigned", technician_id=technician_id,
                          planned_start=planned, reason="planned")


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
