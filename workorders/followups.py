"""Follow-up (回访) tasks: a call or visit after an install, a repair or a complaint, and
the periodic visits to group and local A enterprise customers.

A task is created when an order is completed (``on_completed``, run by
``workorders.service.transition``): a phone call for a residential customer, a
visit for an enterprise, due a configured number of days later. An agent records
the result (:func:`record_result`): not reached counts an attempt and the task is
due again after the retry delay, until the last attempt closes it as unreached;
reached moves the order to ``followed_up`` through the lifecycle, and a service
still down or a score of 2 or less opens a repeat repair linked to the order at
the priority the rule file sets (``standards.repeat_fault_priority``). A result
given as a plain transition, or by a technician on site (``mobile_api.followups``),
goes through the same steps (``on_followed_up``). Every change is audited.

The defaults (due days, retry delay, attempts, the periodic interval and tiers)
are ``FOLLOWUP_*`` in ``core.config.Config``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

import standards
from core import audit
from core.actor import SYSTEM, Actor
from core.clock import now
from core.errors import N_, Conflict, Invalid, Message, NotFound
from standards.followups import SATISFACTION_SCORES
from workorders import service
from workorders.labels import label
from workorders.lifecycle import DONE_STATES, State
from workorders.models import Customer, FollowUp, Site, WorkOrder

OPEN, DONE, UNREACHED, CANCELLED = "open", "done", "unreached", "cancelled"
STATES = (OPEN, DONE, UNREACHED, CANCELLED)
REASONS = ("install", "repair", "complaint", "periodic")
METHODS = ("phone", "visit")
# The agent queue's sections: open tasks past their due time, due by the end of today, later.
DUE_SECTIONS = ("overdue", "today", "later")

# Labels: English message ids with a context ("Open" and "Done" mean other things elsewhere).
STATE_CONTEXT = "follow-up state"
STATE_NAMES = {
    OPEN: N_("Open"),
    DONE: N_("Done"),
    UNREACHED: N_("Not reached"),
    CANCELLED: N_("Cancelled"),
}
REASON_CONTEXT = "follow-up reason"
REASON_NAMES = {
    "install": N_("After an install"),
    "repair": N_("After a repair"),
    "complaint": N_("After a complaint"),
    "periodic": N_("Periodic visit"),
}
METHOD_NAMES = {"phone": N_("Phone call"), "visit": N_("Visit")}


@dataclass(frozen=True)
class FollowUpSettings:
    """When tasks fall due and how often an unreached customer is tried (``FOLLOWUP_*`` config)."""

    due_days: dict[str, float]
    retry_delay: timedelta
    max_attempts: int
    periodic_interval: timedelta
    periodic_tiers: frozenset[str]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> FollowUpSettings:
        tiers = str(config.get("FOLLOWUP_PERIODIC_TIERS", "group,local_a"))
        return cls(
            due_days={
                "install": float(config.get("FOLLOWUP_INSTALL_DUE_DAYS", 3)),
                "repair": float(config.get("FOLLOWUP_REPAIR_DUE_DAYS", 1)),
                "complaint": float(config.get("FOLLOWUP_COMPLAINT_DUE_DAYS", 1)),
            },
            retry_delay=timedelta(hours=float(config.get("FOLLOWUP_RETRY_DELAY_H", 4))),
            max_attempts=max(1, int(config.get("FOLLOWUP_MAX_ATTEMPTS", 3))),
            periodic_interval=timedelta(days=int(config.get("FOLLOWUP_PERIODIC_DAYS", 90))),
            periodic_tiers=frozenset(t.strip() for t in tiers.split(",") if t.strip()),
        )


def settings() -> FollowUpSettings:
    """The running app's follow-up settings (the defaults outside an app)."""
    return FollowUpSettings.from_config(current_app.config if has_app_context() else {})


def _snapshot(task: FollowUp) -> dict[str, Any]:
    return {
        "state": task.state,
        "due_at": task.due_at.isoformat(),
        "attempts": task.attempts,
        "method": task.method,
        "order_id": task.order_id,
    }


# ---------------------------------------------------------------- creating tasks


def method_for(customer: Customer) -> str:
    """A phone call for a residential customer, an on-site visit for an enterprise."""
    return "visit" if customer.kind == "enterprise" else "phone"


def on_completed(session: Session, actor: Actor, order: WorkOrder) -> FollowUp | None:
    """The follow-up task an order's completion starts: installs, repairs and complaints
    (a follow-up visit order needs none). Due the configured days after completion;
    an order completed again (after a revisit) keeps its one open task."""
    if order.kind not in settings().due_days:
        return None
    existing = session.scalar(
        select(FollowUp).where(FollowUp.order_id == order.id, FollowUp.state == OPEN).limit(1)
    )
    if existing is not None:
        return existing
    completed = order.completed_at or now()
    task = FollowUp(
        customer_id=order.customer_id,
        order_id=order.id,
        site_id=order.site_id,
        reason=order.kind,
        method=method_for(order.customer),
        due_at=completed + timedelta(days=settings().due_days[order.kind]),
        state=OPEN,
        attempts=0,
        created_at=now(),
    )
    session.add(task)
    session.flush()
    audit.record(session, actor, "followup_created", "follow_up", task.id, after=_snapshot(task))
    return task


def plan_periodic_visits(session: Session, at: datetime, actor: Actor = SYSTEM) -> list[FollowUp]:
    """Create the periodic on-site visits due at ``at``: one per enterprise customer of a
    configured tier (default group and local A) whose last periodic visit is due an
    interval ago or more (or who never had one), due at ``at``. Idempotent: a customer
    with an open periodic visit, or one due within the interval, gets none."""
    config = settings()
    customers = session.scalars(
        select(Customer)
        .where(Customer.kind == "enterprise", Customer.enterprise_tier.in_(sorted(config.periodic_tiers)))
        .order_by(Customer.id)
    )
    created = []
    for customer in customers:
        last = session.scalar(
            select(FollowUp)
            .where(FollowUp.customer_id == customer.id, FollowUp.reason == "periodic")
            .order_by(FollowUp.due_at.desc(), FollowUp.id.desc())
            .limit(1)
        )
        if last is not None and (last.state == OPEN or last.due_at + config.periodic_interval > at):
            continue
        site_id = session.scalar(select(Site.id).where(Site.customer_id == customer.id).order_by(Site.id))
        task = FollowUp(
            customer_id=customer.id,
            order_id=None,
            site_id=site_id,
            reason="periodic",
            method="visit",
            due_at=at,
            state=OPEN,
            attempts=0,
            created_at=now(),
        )
        session.add(task)
        session.flush()
        audit.record(session, actor, "followup_created", "follow_up", task.id, after=_snapshot(task))
        created.append(task)
    return created


# ---------------------------------------------------------------- reading tasks


def get_followup(session: Session, followup_id: int) -> FollowUp:
    """One task, or 404."""
    task = session.get(FollowUp, followup_id)
    if task is None:
        raise NotFound(N_("Follow-up %(id)s not found."), params={"id": followup_id})
    return task


def due_section(task: FollowUp, at: datetime) -> str | None:
    """Where an open task stands in the queue at ``at``: overdue, today or later (None: not open)."""
    if task.state != OPEN:
        return None
    if task.due_at < at:
        return "overdue"
    return "today" if task.due_at < _end_of_day(at) else "later"


def _end_of_day(at: datetime) -> datetime:
    return datetime.combine(at.date() + timedelta(days=1), time())


def list_followups(
    session: Session, filters: Mapping[str, Any], at: datetime | None = None
) -> list[FollowUp]:
    """Tasks by due time, filtered: ``due`` (overdue | today | later: open tasks only),
    ``state``, ``method``, ``reason``, ``customer_id``, ``order_id`` (the order followed up)."""
    at = at or now()
    stmt = select(FollowUp)
    for field in ("state", "method", "reason", "customer_id", "order_id"):
        if filters.get(field) is not None:
            stmt = stmt.where(getattr(FollowUp, field) == filters[field])
    due = filters.get("due")
    if due is not None:
        stmt = stmt.where(FollowUp.state == OPEN)
        if due == "overdue":
            stmt = stmt.where(FollowUp.due_at < at)
        elif due == "today":
            stmt = stmt.where(FollowUp.due_at >= at, FollowUp.due_at < _end_of_day(at))
        else:
            stmt = stmt.where(FollowUp.due_at >= _end_of_day(at))
    stmt = (
        stmt.order_by(FollowUp.due_at, FollowUp.id)
        .limit(filters.get("limit", 200))
        .offset(filters.get("offset", 0))
    )
    return list(session.scalars(stmt))


def record_reads(session: Session, actor: Actor, tasks: list[FollowUp], via: str) -> None:
    """Audit a staff read of the customers' names and phone numbers the tasks show."""
    if not tasks:
        return
    customer_ids = sorted({t.customer_id for t in tasks})
    audit.record(
        session,
        actor,
        "read_personal",
        "customer",
        customer_ids[0] if len(customer_ids) == 1 else None,
        after={"via": via, "customer_ids": customer_ids, "followups": len(tasks)},
    )


def _label(names: Mapping[str, str], code: str | None, context: str | None = None) -> str:
    if code is None:
        return ""
    msgid = names.get(code)
    return code if msgid is None else Message(msgid, context=context).render()


def followup_view(task: FollowUp, lang: str = "zh", at: datetime | None = None) -> dict[str, Any]:
    """A task as the agent's queue shows it: the customer and how to reach them, the
    order followed up (code, kind, product, completed when), due time, attempts, result."""
    at = at or now()
    order, customer, repeat = task.order, task.customer, task.repeat_order
    site = order.site if order is not None else _site(task)
    return {
        "id": task.id,
        "customer_id": customer.id,
        "customer_name": customer.name,
        "customer_kind": customer.kind,
        "enterprise_tier": customer.enterprise_tier,
        "tier_label": label("tier", customer.enterprise_tier, lang),
        "phone": customer.phone,
        "contact_name": customer.contact_name,
        "site_id": task.site_id,
        "address": site.address if site else None,
        "order_id": task.order_id,
        "order_code": order.code if order else None,
        "order_kind": order.kind if order else None,
        "order_kind_label": label("kind", order.kind, lang) if order else "",
        "product": order.product if order else None,
        "product_label": label("product", order.product, lang) if order else "",
        "order_state": order.state if order else None,
        "order_completed_at": order.completed_at if order else None,
        "reason": task.reason,
        "reason_label": _label(REASON_NAMES, task.reason, REASON_CONTEXT),
        "method": task.method,
        "method_label": _label(METHOD_NAMES, task.method),
        "due_at": task.due_at,
        "due": due_section(task, at),
        "state": task.state,
        "state_label": _label(STATE_NAMES, task.state, STATE_CONTEXT),
        "attempts": task.attempts,
        "max_attempts": settings().max_attempts,
        "last_attempt_at": task.last_attempt_at,
        "reached": task.reached,
        "service_working": task.service_working,
        "satisfaction": task.satisfaction,
        "comment": task.comment,
        "recorded_by": task.recorded_by,
        "completed_at": task.completed_at,
        "repeat_order_id": task.repeat_order_id,
        "repeat_order_code": repeat.code if repeat else None,
        "repeat_order_priority": repeat.priority if repeat else None,
        "created_at": task.created_at,
    }


def _site(task: FollowUp) -> Site | None:
    session = object_session(task)
    return session.get(Site, task.site_id) if session is not None and task.site_id else None


# ---------------------------------------------------------------- recording the result


def _check_result(data: Mapping[str, Any]) -> None:
    """A reached customer's answer needs whether the service works and a score of 1 to 5."""
    if data.get("reached") is None:
        raise Invalid(N_("Say whether the customer was reached."), errors={"reached": [N_("Required.")]})
    if not data["reached"]:
        return
    errors: dict[str, list[str]] = {}
    if data.get("service_working") is None:
        errors["service_working"] = [N_("Say whether the service works.")]
    if data.get("satisfaction") not in SATISFACTION_SCORES:
        errors["satisfaction"] = [N_("Give a satisfaction score from 1 to 5.")]
    if errors:
        raise Invalid(N_("The follow-up result is incomplete."), errors=errors)


def record_result(session: Session, actor: Actor, task: FollowUp, data: Mapping[str, Any]) -> FollowUp:
    """Record a call or visit: ``reached``, and when reached ``service_working``,
    ``satisfaction`` (1-5) and ``comment``. Not reached: one more attempt, due again after
    the retry delay, closed as unreached after the last. Reached: the task is done, the
    order moves to followed_up, and a service down or a score of 2 or less opens a repeat
    repair linked to the order (``task.repeat_order``). Refused (409) once the task is closed."""
    if task.state != OPEN:
        raise Conflict(
            N_("This follow-up is already closed."),
            slug="followup-closed",
            state=task.state,
        )
    _check_result(data)
    before = _snapshot(task)
    at = now()
    task.attempts = (task.attempts or 0) + 1
    task.last_attempt_at = at
    task.recorded_by = actor.user_id
    if data.get("comment"):
        task.comment = data["comment"]
    if not data["reached"]:
        _not_reached(session, actor, task, before, at)
        return task
    task.reached = True
    task.service_working = bool(data["service_working"])
    task.satisfaction = int(data["satisfaction"])
    satisfied = not standards.needs_repeat_repair(task.service_working, task.satisfaction)
    order = task.order
    if order is not None and order.state == State.COMPLETED:
        followup = {
            "method": task.method,
            "satisfied": satisfied,
            "service_working": task.service_working,
            "satisfaction": task.satisfaction,
            "note": task.comment,
        }
        service.transition(
            session, actor, order, State.FOLLOWED_UP, followup=followup, followup_task_id=task.id
        )
    _finish(session, actor, task, before, at, satisfied)
    return task


def _not_reached(session: Session, actor: Actor, task: FollowUp, before: dict, at: datetime) -> None:
    config = settings()
    task.reached = False
    if task.attempts >= config.max_attempts:
        task.state = UNREACHED
        task.completed_at = at
        action = "followup_unreached"
    else:
        task.due_at = at + config.retry_delay
        action = "followup_attempt"
    session.flush()
    audit.record(session, actor, action, "follow_up", task.id, before=before, after=_snapshot(task))


def _finish(
    session: Session, actor: Actor, task: FollowUp, before: dict, at: datetime, satisfied: bool
) -> None:
    """Close a reached task; open the repeat repair when the job did not hold."""
    task.state = DONE
    task.completed_at = at
    session.flush()
    if not satisfied:
        parent = task.order or _last_done_order(session, task)
        if parent is not None:
            repeat = service.open_repeat_repair(session, actor, parent, task.comment, task.service_working)
            task.repeat_order_id = repeat.id
            session.flush()
    after = _snapshot(task) | {
        "reached": True,
        "service_working": task.service_working,
        "satisfaction": task.satisfaction,
        "repeat_order_id": task.repeat_order_id,
    }
    audit.record(session, actor, "followup_result", "follow_up", task.id, before=before, after=after)


def _last_done_order(session: Session, task: FollowUp) -> WorkOrder | None:
    """For a periodic visit that finds a fault: the customer's last finished job at the
    visited site (or anywhere), which the repair is linked to as a repeat fault."""
    stmt = (
        select(WorkOrder)
        .where(
            WorkOrder.customer_id == task.customer_id,
            WorkOrder.state.in_(sorted(DONE_STATES)),
            WorkOrder.kind != "follow_up",
        )
        .order_by(WorkOrder.completed_at.desc(), WorkOrder.id.desc())
        .limit(1)
    )
    at_site = session.scalar(stmt.where(WorkOrder.site_id == task.site_id)) if task.site_id else None
    return at_site or session.scalar(stmt)


def on_followed_up(session: Session, actor: Actor, order: WorkOrder, followup: Mapping[str, Any]) -> FollowUp:
    """A result given as a transition to followed_up (the staff API, a technician on
    site): the order's open task is completed with it (a task is made for an order that
    had none), and the repeat repair is opened the same way as from the queue."""
    task = session.scalar(
        select(FollowUp)
        .where(FollowUp.order_id == order.id, FollowUp.state == OPEN)
        .order_by(FollowUp.id.desc())
        .limit(1)
    )
    if task is None:
        task = FollowUp(
            customer_id=order.customer_id,
            order_id=order.id,
            site_id=order.site_id,
            reason=order.kind if order.kind in REASONS else "repair",
            method=followup.get("method") or method_for(order.customer),
            due_at=now(),
            state=OPEN,
            attempts=0,
            created_at=now(),
        )
        session.add(task)
        session.flush()
    before = _snapshot(task)
    at = now()
    task.method = followup.get("method") or task.method
    task.attempts = (task.attempts or 0) + 1
    task.last_attempt_at = at
    task.recorded_by = actor.user_id
    task.reached = True
    task.service_working = followup.get("service_working", True)
    task.satisfaction = followup.get("satisfaction")
    task.comment = followup.get("note")
    satisfied = bool(followup.get("satisfied", True)) and not standards.needs_repeat_repair(
        task.service_working, task.satisfaction
    )
    _finish(session, actor, task, before, at, satisfied)
    return task


# ---------------------------------------------------------------- repeat faults of an order


def repeat_links(session: Session, order: WorkOrder) -> dict[str, Any]:
    """For an order's panel: the order a repeat repair was opened from, and the repeat
    repairs opened from this one (oldest first)."""
    parent = session.get(WorkOrder, order.parent_id) if order.parent_id else None
    repeats = session.scalars(
        select(WorkOrder)
        .where(WorkOrder.parent_id == order.id, WorkOrder.is_repeat_fault.is_(True))
        .order_by(WorkOrder.created_at, WorkOrder.id)
    )
    return {
        "parent_code": parent.code if parent else None,
        "repeat_orders": [
            {"id": r.id, "code": r.code, "priority": r.priority, "state": r.state, "created_at": r.created_at}
            for r in repeats
        ],
    }
