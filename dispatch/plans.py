"""Stored plans: read one, check it against what changed since, apply it atomically, discard it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, NotFound
from dispatch.models import DispatchPlan
from dispatch.planning import DAY_S, day_shift_s
from technicians.models import Technician
from workorders import lifecycle
from workorders import service as wo_service
from workorders.labels import term
from workorders.lifecycle import State
from workorders.models import WorkOrder


def get_plan(session: Session, plan_id: int) -> DispatchPlan:
    """A stored plan or 404."""
    record = session.get(DispatchPlan, plan_id)
    if record is None:
        raise NotFound(N_("Plan %(id)s not found."), params={"id": plan_id})
    return record


def _require_proposal(record: DispatchPlan) -> None:
    """Only a proposal can be applied or discarded (409 naming what the plan is now)."""
    if record.status != "proposed":
        raise Conflict(
            N_("Plan %(id)s is no longer a proposal: it is %(status)s."),
            slug="plan-decided",
            params={"id": record.id, "status": term("plan_status", record.status)},
            plan_status=record.status,
        )


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
    the technician's shift, before the plan's clock, or an order in two routes (a
    two-technician job is in as many routes as its crew, all at one start: different
    starts are ``crew_starts_differ``). Orders already en route or on site keep their
    times and are not checked (a crew on site already started together)."""
    problems: list[dict[str, Any]] = []
    now_s = record.result.get("now_s")
    # an urgent fault may go to a technician on call past their shift (dispatch.planning)
    urgent = record.kind == "urgent" or (record.result.get("disruption") or {}).get("kind") == "emergency"
    seen: dict[int, list[Any]] = {}  # order id: the start of each route it is in
    for route in record.result.get("routes", []):
        tech = session.get(Technician, route["technician_id"])
        shift_start, shift_end = (
            day_shift_s(session, tech, record.day, on_call=urgent) if tech is not None else (0, DAY_S)
        )
        for stop in route["stops"]:
            order_id = int(stop["visit_id"])
            order = session.get(WorkOrder, order_id)
            starts = seen.setdefault(order_id, [])
            starts.append(stop.get("start_s"))
            crew_size = order.crew_size if order is not None else 1
            if len(starts) > max(crew_size, 1):
                problems.append({"order_id": order_id, "problem": "in_two_routes"})
            elif len(starts) > 1 and starts[-1] != starts[0] and not lifecycle.is_under_way(order):
                problems.append({"order_id": order_id, "code": order.code, "problem": "crew_starts_differ"})
            if order is None or lifecycle.is_under_way(order):
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
    _require_proposal(record)
    if not any(route["stops"] for route in record.result.get("routes", [])):
        raise Conflict(
            N_("This proposal places no order; there is nothing to accept."),
            slug="nothing-to-apply",
            unassigned=[u["visit_id"] for u in record.result.get("unassigned", [])],
        )
    refusals = (
        (plan_conflicts, "plan-stale", N_("The data changed since this plan was computed; plan again.")),
        (
            timing_problems,
            "plan-invalid-times",
            N_("The plan has times outside a shift or already past; plan again."),
        ),
    )
    for check, slug, message in refusals:
        conflicts = check(session, record)
        if conflicts:
            record.status = "refused"
            record.conflicts = conflicts
            record.decided_at, record.decided_by = now(), actor.user_id
            session.flush()
            # The plan stays marked refused: nobody applies it again.
            raise Conflict(message, slug=slug, keep_changes=True, conflicts=conflicts)
    day_start = datetime.combine(record.day, time.min)
    leads = crew_leads(session, record)
    for route in record.result.get("routes", []):
        for sequence, stop in enumerate(route["stops"], start=1):
            order = session.get(WorkOrder, int(stop["visit_id"]))
            planned = day_start + timedelta(seconds=stop["start_s"])
            if order.id in leads and leads[order.id] != route["technician_id"]:
                # The crew's second technician: same visit, same start; the lead's stop moves it.
                order.second_technician_id = route["technician_id"]
                continue
            if order.id not in leads and _held_for_lead(order, route["technician_id"]):
                continue  # a re-timed route of the crew's second: the visit stays the lead's
            if lifecycle.is_under_way(order):
                order.planned_sequence = sequence
                continue
            order.planned_start, order.planned_sequence = planned, sequence
            if order.state != State.ASSIGNED or order.technician_id != route["technician_id"]:
                _to_assigned(session, actor, order, route["technician_id"], planned)
    for item in record.result.get("unassigned", []):
        order = session.get(WorkOrder, int(item["visit_id"]))
        if order.state in (State.SCHEDULED, State.ASSIGNED):
            order.second_technician_id = None
            wo_service.transition(
                session,
                actor,
                order,
                State.VALIDATED,
                reason=f"unplanned: {item['reason']}",
                back_to_pool=True,
            )
    record.status = "applied"
    record.decided_at, record.decided_by = now(), actor.user_id
    audit.record(session, actor, "plan_applied", "dispatch_plan", record.id)
    session.flush()
    return record


def crew_leads(session: Session, record: DispatchPlan) -> dict[int, int]:
    """For each two-technician order the plan places, its lead: the technician who has it
    already if they are still in its crew, else the first route that holds it."""
    crews: dict[int, list[int]] = {}
    for route in record.result.get("routes", []):
        for stop in route["stops"]:
            crews.setdefault(int(stop["visit_id"]), []).append(route["technician_id"])
    leads = {}
    for order_id, technician_ids in crews.items():
        if len(technician_ids) < 2:
            continue
        current = session.get(WorkOrder, order_id).technician_id
        leads[order_id] = current if current in technician_ids else technician_ids[0]
    return leads


def _held_for_lead(order: WorkOrder, technician_id: int) -> bool:
    """Whether the stop is a crew visit held in its second technician's route (a plan that
    changed only that route: hand assignment, urgent insertion, a re-plan)."""
    return (
        order.crew_size > 1
        and order.second_technician_id == technician_id
        and order.technician_id != technician_id
    )


def _to_assigned(
    session: Session, actor: Actor, order: WorkOrder, technician_id: int, planned: datetime
) -> None:
    if order.state == State.ASSIGNED:
        wo_service.transition(session, actor, order, State.SCHEDULED, reason="re-planned")
    if order.state in (State.VALIDATED, State.NEEDS_REVISIT):
        wo_service.transition(session, actor, order, State.SCHEDULED, planned_start=planned, reason="planned")
    wo_service.transition(
        session,
        actor,
        order,
        State.ASSIGNED,
        technician_id=technician_id,
        planned_start=planned,
        reason="planned",
    )


def discard_plan(session: Session, actor: Actor, plan_id: int) -> DispatchPlan:
    """The dispatcher throws a proposal away."""
    record = get_plan(session, plan_id)
    _require_proposal(record)
    record.status = "discarded"
    record.decided_at, record.decided_by = now(), actor.user_id
    audit.record(session, actor, "plan_discarded", "dispatch_plan", record.id)
    session.flush()
    return record
