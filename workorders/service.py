"""Work order business logic: intake, transitions, hand-over, checklist override, repeat repairs.

Services take a SQLAlchemy session and an Actor; they never import Flask, and
they flush but never commit (the request's unit of work does). This module is
also the package's one import for the interfaces: customers, sites and lines
(:mod:`workorders.customers`), reading orders and what each reader sees
(:mod:`workorders.reads`) and the SLA clocks (:mod:`workorders.sla`) are
re-exported here.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import standards
from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, Invalid, Message
from core.geocoding import distance_m
from core.models import User
from technicians.models import Technician
from technicians.shifts import skills_on
from workorders import lifecycle, notifications
from workorders.crews import intake_crew_size, set_crew_size
from workorders.customers import add_line, add_site, create_customer, get_customer_for, get_site_for
from workorders.lifecycle import State
from workorders.models import Customer, LineRecord, Site, WorkOrder
from workorders.overrides import SUPERVISOR_ROLES, photo_counts, record_override, refuse_field_override
from workorders.reads import customer_view, get_order_for, list_orders, record_personal_reads, staff_view
from workorders.skills import check_skills
from workorders.sla import order_deadlines, pause_sla, received_moment, resume_sla, sla_status

__all__ = [
    "FAR_FROM_SITE_M",
    "SUPERVISOR_ROLES",
    "add_line",
    "add_site",
    "arrival_fix",
    "create_customer",
    "create_order",
    "customer_view",
    "get_customer_for",
    "get_order_for",
    "get_site_for",
    "handover",
    "list_orders",
    "open_repeat_repair",
    "pause_sla",
    "photo_counts",
    "record_override",
    "record_personal_reads",
    "refuse_field_override",
    "resume_sla",
    "set_crew_size",
    "run_intake",
    "sla_status",
    "staff_view",
    "transition",
    "use_followups",
]

FAR_FROM_SITE_M = 500.0
HANDOVER_ROLES = frozenset({"dispatcher", "agent", "manager", "admin"})


# ---------------------------------------------------------------- intake


def _order_facts(order: WorkOrder) -> tuple[standards.OrderFacts, standards.LineFacts | None]:
    facts = standards.OrderFacts(
        kind=order.kind,
        product=order.product,
        priority=order.priority,
        lat=order.site.lat,
        lon=order.site.lon,
        appointment_start=order.appointment_start,
        appointment_end=order.appointment_end,
        customer_tier=order.customer.enterprise_tier,
    )
    line = None
    if order.line is not None:
        line = standards.LineFacts(
            access_type=order.line.access_type,
            route_length_m=order.line.route_length_m,
            switch_id=order.line.switch_id,
            switch_occupancy_pct=order.line.switch_occupancy_pct,
            uplink_raised=bool(order.line.uplink_raised),
        )
    return facts, line


def run_intake(order: WorkOrder) -> list[dict]:
    """Validate the order against the installation code; store and return the findings."""
    rules = standards.load_ruleset()
    findings = _intake_findings(order, rules)
    order.findings = findings
    order.rule_set_version = rules.version
    order.blocked = any(f["severity"] == "block" for f in findings)
    return findings


def _intake_findings(order: WorkOrder, rules: Any) -> list[dict]:
    facts, line = _order_facts(order)
    return [f.to_dict() for f in standards.validate_intake(facts, line, rules)]


def would_block(order: WorkOrder) -> bool:
    """Would validating the order again (as a revisit does on its way back to a route) find a
    blocking problem? Nothing is stored."""
    findings = _intake_findings(order, standards.load_ruleset())
    return any(f["severity"] == "block" for f in findings)


def _new_code(session: Session, created: datetime) -> str:
    """A code people can read out on the phone: the day and six random hex digits, unused so far.

    Six digits are 16.7 million codes; a day of 2,000 orders would draw one twice
    about once in eight days, so a drawn code already taken is drawn again.
    """
    while True:
        code = f"WO{created:%y%m%d}-{secrets.token_hex(3).upper()}"
        if session.scalar(select(WorkOrder.id).where(WorkOrder.code == code)) is None:
            return code


def _refuse_reference(message: str, field: str, field_message: str) -> Invalid:
    return Invalid(message, errors={field: [field_message]})


def _references(session: Session, actor: Actor, data: dict) -> tuple[Customer, Site, LineRecord | None]:
    """The customer, site and line a new order names, each checked against the
    others and against who is asking (422 naming the field otherwise)."""
    if data["product"] not in standards.PRODUCTS:
        choices = Message(N_("Must be one of: %(choices)s."), choices=", ".join(standards.PRODUCTS))
        raise Invalid(N_("Unknown product."), errors={"product": [choices]})
    customer = session.get(Customer, data["customer_id"])
    if customer is None or (actor.role == "customer" and actor.customer_id != customer.id):
        raise _refuse_reference(N_("Unknown customer."), "customer_id", N_("No such customer."))
    if actor.role == "customer" and data["kind"] != "repair":
        message = N_("Customers can report faults only.")
        raise _refuse_reference(message, "kind", message)
    site = session.get(Site, data["site_id"])
    if site is None or site.customer_id != customer.id:
        raise _refuse_reference(N_("Unknown site."), "site_id", N_("No such site for this customer."))
    line = site.lines[0] if site.lines else None
    if data.get("line_id") is not None:
        line = session.get(LineRecord, data["line_id"])
        if line is None or line.site_id != site.id:
            raise _refuse_reference(N_("Unknown line."), "line_id", N_("No such line at this site."))
    if data.get("parent_id") is not None:
        parent = session.get(WorkOrder, data["parent_id"])
        if parent is None or parent.customer_id != customer.id:
            raise _refuse_reference(N_("Unknown parent order."), "parent_id", N_("No such order."))
    return customer, site, line


def _new_order(
    session: Session, actor: Actor, data: dict, customer: Customer, site: Site, line: LineRecord | None
) -> WorkOrder:
    """The order as taken: its code, deadlines, clock, skills and duration from the rules."""
    created = now()
    received = received_moment(actor, data.get("received_at"), created)
    return WorkOrder(
        code=_new_code(session, created),
        kind=data["kind"],
        product=data["product"],
        priority=data["priority"],
        source=data["source"],
        description=data.get("description"),
        state=State.RECEIVED,
        customer=customer,
        site=site,
        line=line,
        parent_id=data.get("parent_id"),
        is_repeat_fault=bool(data.get("is_repeat_fault")),
        owner_id=actor.user_id,
        appointment_start=data.get("appointment_start"),
        appointment_end=data.get("appointment_end"),
        received_at=received,
        **order_deadlines(data, customer, received),
        required_skills=sorted(standards.required_skills(data["kind"], data["product"])),
        duration_min=standards.expected_duration_min(data["kind"], data["product"]),
        crew_size=intake_crew_size(actor, data["kind"], data["product"], data.get("crew_size")),
        created_at=created,
        checklist={},
    )


def create_order(session: Session, actor: Actor, data: dict) -> WorkOrder:
    """Take a new order: check references, validate it, set deadlines and owner.

    The taker becomes the owner (first-contact responsibility). An order with
    no blocking finding moves on to `validated` at once; a blocked one stays
    `received` with its findings for the dispatcher. For a fault a customer
    reports, or one staff take without a priority, the rules set the priority.
    """
    customer, site, line = _references(session, actor, data)
    if actor.role == "customer" or data.get("priority") is None:
        # staff who leave the priority out get the rules' (a hotline agent ticking "service
        # down" for a provincial bank should not have to know that makes it P1)
        service_down = bool(data.get("service_down"))
        priority = "P3"
        if actor.role == "customer" or data.get("kind") == "repair":
            priority = standards.reported_fault_priority(
                customer.kind, customer.enterprise_tier, service_down
            )
        data = {**data, "priority": priority}
    order = _new_order(session, actor, data, customer, site, line)
    run_intake(order)
    session.add(order)
    session.flush()
    audit.record(
        session,
        actor,
        "created",
        "work_order",
        order.id,
        after=_snapshot(order)
        | {
            "findings": len(order.findings),
            "kind": order.kind,
            "source": order.source,
            "received_at": order.received_at,
            # Who said when the customer reached us (None: received when keyed in).
            "received_at_set_by": actor.username if data.get("received_at") is not None else None,
        },
    )
    if not order.blocked:
        _move(session, actor, order, State.VALIDATED, reason="intake passed")
    return order


# ---------------------------------------------------------------- transitions


def _snapshot(order: WorkOrder) -> dict[str, Any]:
    return {
        "state": order.state,
        "technician_id": order.technician_id,
        "owner_id": order.owner_id,
        "planned_start": order.planned_start.isoformat() if order.planned_start else None,
        "version": order.version,
    }


def _move(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    target: str,
    reason: str | None = None,
    extra: dict | None = None,
) -> None:
    before = _snapshot(order)
    order.state = target
    order.state_reason = reason
    session.flush()
    audit.record(
        session,
        actor,
        f"state:{target}",
        "work_order",
        order.id,
        before=before,
        after=_snapshot(order) | (extra or {}),
        reason=reason,
    )


def _require(value: object, field: str, message: str) -> None:
    if value is None or value == "":
        raise Invalid(message, errors={field: [message]})


# What each target state needs before an order may enter it: a guard takes the
# session, the order and the transition's details, checks its precondition
# (refusing in words), sets the fields the move changes, and returns what the
# audit event should add.
Guard = Callable[[Session, WorkOrder, dict[str, Any]], dict[str, Any]]


def _enter_validated(session: Session, order: WorkOrder, details: dict[str, Any]) -> dict[str, Any]:
    run_intake(order)
    if order.blocked and details.get("back_to_pool"):
        # taken out of a route (a plan left it out, a dispatcher unassigned it): it goes
        # back, flagged blocked with its findings, so no plan takes it until it is fixed
        return {"blocked": True}
    if order.blocked:
        raise Conflict(
            N_("Blocking findings keep order %(code)s out of planning."),
            slug="blocked-by-standards",
            params={"code": order.code},
            findings=order.findings,
            order_id=order.id,
        )
    return {}


def _enter_scheduled(session: Session, order: WorkOrder, details: dict[str, Any]) -> dict[str, Any]:
    if details.get("planned_start") is not None:
        order.planned_start = details["planned_start"]
    order.responded_at = order.responded_at or now()
    return {}


def _enter_assigned(session: Session, order: WorkOrder, details: dict[str, Any]) -> dict[str, Any]:
    technician_id = details.get("technician_id") or order.technician_id
    _require(technician_id, "technician_id", N_("Assigning needs a technician."))
    technician = session.get(Technician, technician_id)
    if technician is None or not technician.active:
        message = N_("No such active technician.")
        raise Invalid(message, errors={"technician_id": [message]})
    planned = details.get("planned_start") or order.planned_start or now()
    check_skills(order, technician, skills_on(session, [technician], planned.date())[technician.id])
    order.technician_id = technician_id
    return _enter_scheduled(session, order, details)


def _enter_on_site(session: Session, order: WorkOrder, details: dict[str, Any]) -> dict[str, Any]:
    order.arrived_at = now()
    return arrival_fix(order, details.get("lat"), details.get("lon"))


def _complete_complaint(session: Session, order: WorkOrder, details: dict[str, Any]) -> dict[str, Any]:
    """A complaint is completed by its final answer; giving it answers the customer and
    handles the complaint too, if that was not recorded before. The customer is told."""
    _require(details.get("reason"), "reason", N_("Give the final answer."))
    at = now()
    order.responded_at = order.responded_at or at
    order.handled_at = order.handled_at or at
    order.completed_at = at
    notifications.complaint_answered(session, order, details["reason"], stage="final")
    return {"final_answer": True}


def _enter_completed(session: Session, order: WorkOrder, details: dict[str, Any]) -> dict[str, Any]:
    if order.kind == lifecycle.COMPLAINT_KIND:
        return _complete_complaint(session, order, details)
    if details.get("checklist"):
        order.checklist = {**(order.checklist or {}), **details["checklist"]}
    findings = standards.validate_closeout(
        order.kind,
        order.product,
        order.checklist or {},
        photos=photo_counts(session, order.id),
        override=order.override,
    )
    order.closeout_findings = [f.to_dict() for f in findings]
    if any(f.severity == "block" for f in findings):
        session.flush()
        raise Conflict(
            N_("The on-site checklist is not complete."),
            slug="checklist-incomplete",
            findings=order.closeout_findings,
        )
    order.completed_at = now()
    return {}


def _needs_reason(session: Session, order: WorkOrder, details: dict[str, Any]) -> dict[str, Any]:
    _require(details.get("reason"), "reason", N_("Say why."))
    return {}


def _enter_followed_up(session: Session, order: WorkOrder, details: dict[str, Any]) -> dict[str, Any]:
    followup = details.get("followup")
    _require(followup, "followup", N_("Record the follow-up result."))
    order.followup_method = followup["method"]
    order.followup_satisfied = followup["satisfied"]
    order.followup_note = followup.get("note")
    kept = ("method", "satisfied", "service_working", "satisfaction")
    return {"followup": {key: followup[key] for key in kept if key in followup}}


def _enter_closed(session: Session, order: WorkOrder, details: dict[str, Any]) -> dict[str, Any]:
    order.closed_at = now()
    return {}


GUARDS: dict[State, Guard] = {
    State.VALIDATED: _enter_validated,
    State.SCHEDULED: _enter_scheduled,
    State.ASSIGNED: _enter_assigned,
    State.ON_SITE: _enter_on_site,
    State.COMPLETED: _enter_completed,
    State.NEEDS_REVISIT: _needs_reason,
    State.CANCELLED: _needs_reason,
    State.FOLLOWED_UP: _enter_followed_up,
    State.CLOSED: _enter_closed,
}


# Follow-up tasks (workorders.followups) build on this module, so they hand their two
# steps in here (the app factory wires them): what an order's completion starts (the
# follow-up task) and what a follow-up result given as a transition does (it completes
# that task and, when the job did not hold, opens the repeat repair).
OnCompleted = Callable[[Session, Actor, WorkOrder], object]
OnFollowedUp = Callable[[Session, Actor, WorkOrder, dict[str, Any]], object]
_followup_steps: dict[str, Callable[..., object]] = {}


def use_followups(on_completed: OnCompleted, on_followed_up: OnFollowedUp) -> None:
    """Set the follow-up steps a transition to completed or followed_up runs."""
    _followup_steps.update(completed=on_completed, followed_up=on_followed_up)


def transition(session: Session, actor: Actor, order: WorkOrder, target: str, **details: Any) -> WorkOrder:
    """Move an order to `target` if the table allows it for the actor's role and its guard holds.

    `details` may carry version, reason, technician_id, planned_start, lat, lon, back_to_pool
    (an order taken out of a route returns to validated even when the code now blocks it),
    checklist (answers) and followup, depending on the target, `override` (a
    supervisor's close-out override, recorded first: :func:`record_override`; from
    anyone else 403) and `evidence` (a dict added to the audit event, e.g. the phone's
    GPS fix and clock). A complaint follows its own table and is completed by its
    final answer (`reason`). Completing an order creates its follow-up task; a
    follow-up result completes that task and, when the service does not work or the
    customer is unsatisfied, opens a repeat repair (``followup_task_id`` says the task
    itself is being recorded).
    """
    # An override from anyone but a supervisor is refused before anything else answers.
    refuse_field_override(actor, details)
    version = details.get("version")
    if version is not None and version != order.version:
        raise Conflict(
            N_("The order changed since you loaded it."),
            slug="stale-version",
            current_version=order.version,
            current_state=order.state,
        )
    lifecycle.check(order.state, target, actor.role, order.kind)
    if details.get("override") is not None:
        override = details["override"]
        record_override(
            session, actor, order, override["reason"], override.get("findings"), by=override.get("by")
        )
    guard = GUARDS.get(State(target))
    extra = guard(session, order, details) if guard else {}
    if target in lifecycle.UNASSIGNING_MOVES and order.state in lifecycle.ROUTE_STATES:
        extra["unassigned_technician_id"] = order.technician_id
        order.technician_id = None
    # Where the change came from (the phone's GPS fix, its clock), for the audit trail.
    extra.update(details.get("evidence") or {})
    _move(session, actor, order, target, reason=details.get("reason"), extra=extra)
    notifications.on_transition(session, order, target)

    if target == State.COMPLETED and "completed" in _followup_steps:
        _followup_steps["completed"](session, actor, order)
    if (
        target == State.FOLLOWED_UP
        and details.get("followup_task_id") is None
        and "followed_up" in _followup_steps
    ):
        _followup_steps["followed_up"](session, actor, order, details["followup"])
    return order


def arrival_fix(order: WorkOrder, lat: float | None, lon: float | None) -> dict[str, Any]:
    """The GPS fix on arrival against the site: distance in metres and whether it
    is far from it (accepted, but flagged)."""
    if lat is None or lon is None or order.site.lat is None or order.site.lon is None:
        return {"arrival_fix": None}
    distance = distance_m((lat, lon), (order.site.lat, order.site.lon))
    return {
        "arrival_fix": [lat, lon],
        "distance_from_site_m": round(distance, 1),
        "far_from_site": distance > FAR_FROM_SITE_M,
    }


# ---------------------------------------------------------------- follow-up, hand-over


def open_repeat_repair(
    session: Session,
    actor: Actor,
    original: WorkOrder,
    note: str | None,
    service_working: bool | None = None,
) -> WorkOrder:
    """A follow-up that finds the service down or the customer unsatisfied opens a new
    repair linked to the original order, flagged as a repeat fault, through the one
    intake (deadlines, checks and owner as for any order), at the priority the rule
    file sets for the customer and for whether the service still works."""
    priority = standards.repeat_fault_priority(
        original.customer.kind, original.customer.enterprise_tier, service_working
    )
    data = {
        "kind": "repair",
        "product": original.product,
        "priority": priority,
        "is_repeat_fault": True,
        "source": "hotline",
        "customer_id": original.customer_id,
        "site_id": original.site_id,
        "line_id": original.line_id,
        "parent_id": original.id,
        "description": f"Repeat fault after {original.code}: {note or ''}".strip(),
    }
    repeat = create_order(session, actor, data)
    audit.record(
        session,
        actor,
        "repeat_repair_opened",
        "work_order",
        original.id,
        after={"repeat_order_id": repeat.id, "repeat_code": repeat.code, "priority": repeat.priority},
    )
    return repeat


def handover(
    session: Session, actor: Actor, order: WorkOrder, to_user_id: int, reason: str | None
) -> WorkOrder:
    """Hand ownership on explicitly (first-contact responsibility)."""
    target = session.get(User, to_user_id)
    if target is None or not target.active or target.role not in HANDOVER_ROLES:
        raise Invalid(
            N_("Orders are handed to active staff only."),
            errors={"to_user_id": [N_("Not an active staff user.")]},
        )
    before = _snapshot(order)
    order.owner_id = target.id
    session.flush()
    audit.record(
        session,
        actor,
        "handover",
        "work_order",
        order.id,
        before=before,
        after=_snapshot(order),
        reason=reason,
    )
    return order
