"""Complaints (投诉): an order the service center answers, handles and closes, never visited.

A complaint is a work order of kind ``complaint`` taken through the one intake
(:func:`workorders.service.create_order`), so it has a code, a first-contact owner
(the taker, until an explicit hand-over) and the complaint clocks of the rule file
(seed 001), all counted from when the customer reached us (``received_at``):

* ``answer``: answered within 24 h (``response_deadline`` / ``responded_at``);
* ``first_handling``: first handled within 72 h (``handling_deadline`` / ``handled_at``);
* ``final``: the final answer within 3 working days on the official calendar
  (``restore_deadline`` / ``completed_at``; ``deadline_source`` names the calendar).

The final answer completes the complaint through the lifecycle
(:func:`workorders.service.transition`); the follow-up and closing follow as for
any order. A complaint is never planned or routed (``lifecycle.NON_FIELD_KINDS``).
:func:`escalate_at_risk` marks complaints whose next clock runs short, for the
managers; it runs as the ``escalate_complaints`` job.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

import standards
from core import audit, jobs
from core.actor import SYSTEM, Actor
from core.clock import now
from core.errors import N_, Conflict, Invalid, Message, NotFound
from core.i18n import current_lang
from core.models import JobRun
from workorders import lifecycle, notifications
from workorders import service as wo_service
from workorders.labels import term
from workorders.lifecycle import State
from workorders.models import Customer, LineRecord, Site, WorkOrder

COMPLAINT = lifecycle.COMPLAINT_KIND
# A complaint is open (its clocks run) until its final answer completes it.
OPEN_COMPLAINT_STATES = frozenset({State.RECEIVED, State.VALIDATED})
CLOCKS = ("answer", "first_handling", "final")
CLOCK_NAMES = {
    "answer": N_("Answer within 24 h"),
    "first_handling": N_("First handling within 72 h"),
    "final": N_("Final answer within 3 working days"),
}
# The calendar sources of standards.workdays, in words.
SOURCE_NAMES = {
    "clock-hours": N_("Clock hours"),
    "chinesecalendar": N_("Official calendar"),
    "operator-file": N_("Official calendar (entered by the operator)"),
    "holidays-fallback": N_("Fallback: statutory holidays without moved working weekends"),
    "weekends-only": N_("Fallback: weekends only"),
}
ESCALATION_JOB = "escalate_complaints"


class NotAComplaint(Conflict):
    slug = "not-a-complaint"


# ---------------------------------------------------------------- intake


def _line_of(session: Session, site: Site | None, line_id: int | None) -> LineRecord | None:
    if line_id is not None:
        return session.get(LineRecord, line_id)
    return site.lines[0] if site is not None and site.lines else None


def _about(session: Session, data: dict) -> dict[str, Any]:
    """The site, line and product the complaint is about: as given, else from the order it
    is linked to, else the customer's first site and its circuit (a complaint needs no
    visit, but every order names a site and a product)."""
    customer = session.get(Customer, data["customer_id"])
    parent = session.get(WorkOrder, data["parent_id"]) if data.get("parent_id") else None
    if parent is not None and customer is not None and parent.customer_id != customer.id:
        parent = None  # the intake refuses it by name
    site_id = data.get("site_id") or (parent.site_id if parent else None)
    if site_id is None and customer is not None and customer.sites:
        site_id = min(customer.sites, key=lambda s: s.id).id
    if site_id is None:
        message = N_("The customer has no site on record; add one first.")
        raise Invalid(message, errors={"site_id": [message]})
    line_id = data.get("line_id") or (parent.line_id if parent else None)
    product = data.get("product") or (parent.product if parent else None)
    if product is None:
        line = _line_of(session, session.get(Site, site_id), line_id)
        product = line.product if line is not None and line.product else None
    if product is None:
        message = N_("Name the product the complaint is about.")
        raise Invalid(message, errors={"product": [message]})
    return {"site_id": site_id, "line_id": line_id, "product": product}


def create_complaint(session: Session, actor: Actor, data: dict) -> WorkOrder:
    """Take a complaint: the taker owns it (first-contact responsibility) until an explicit
    hand-over; its clocks count from ``received_at`` (default: now).

    ``data``: customer_id, description (what the customer complains of), source,
    optional received_at, parent_id (the order it is about: site, line and product
    default to that order's), site_id, line_id, product, priority.
    """
    order_data = {
        "kind": COMPLAINT,
        "priority": data.get("priority") or "P3",
        "source": data.get("source") or "hotline",
        "customer_id": data["customer_id"],
        "parent_id": data.get("parent_id"),
        "description": data["description"],
        "received_at": data.get("received_at"),
        **_about(session, data),
    }
    return wo_service.create_order(session, actor, order_data)


# ---------------------------------------------------------------- reading


def get_complaint(session: Session, actor: Actor, order_id: int) -> WorkOrder:
    """One complaint the actor may see (another kind of order answers 404 like a missing one)."""
    order = wo_service.get_order_for(session, actor, order_id)
    if order.kind != COMPLAINT:
        raise NotFound(N_("Complaint %(id)s not found."), params={"id": order_id})
    return order


def _clock(name: str, received: datetime, due: datetime | None, done: datetime | None, at: datetime):
    share = standards.load_ruleset().sla.complaint_at_risk_share
    if due is None:
        return None
    budget_s = max((due - received).total_seconds(), 1.0)
    left_s = (due - at).total_seconds()
    running = done is None
    return {
        "clock": name,
        "due": due,
        "done_at": done,
        "met": None if running else done <= due,
        "breached": (at > due) if running else done > due,
        "at_risk": running and 0 <= left_s < share * budget_s,
        "left_s": int(left_s) if running else None,
    }


def clocks(order: WorkOrder, at: datetime | None = None) -> list[dict[str, Any]]:
    """The complaint's three clocks at ``at``: due, done, met, breached, at risk, time left."""
    at = at or now()
    due_done = {
        "answer": (order.response_deadline, order.responded_at),
        "first_handling": (order.handling_deadline, order.handled_at),
        "final": (order.restore_deadline, order.completed_at),
    }
    found = [_clock(name, order.received_at, *due_done[name], at) for name in CLOCKS]
    return [c for c in found if c is not None]


def next_clock(order: WorkOrder, at: datetime | None = None) -> dict[str, Any] | None:
    """The first clock still running (None once the final answer is given or it is cancelled)."""
    if order.state not in OPEN_COMPLAINT_STATES:
        return None
    return next((c for c in clocks(order, at) if c["done_at"] is None), None)


def at_risk(order: WorkOrder, at: datetime | None = None) -> bool:
    """An open complaint with a running clock breached or with little time left."""
    if order.state not in OPEN_COMPLAINT_STATES:
        return False
    return any(c["breached"] or c["at_risk"] for c in clocks(order, at) if c["done_at"] is None)


def list_complaints(session: Session, actor: Actor, filters: dict, at: datetime | None = None) -> list:
    """Complaints by received time (newest first), filtered by state, owner, customer,
    ``at_risk`` (a running clock breached or short) and ``escalated``."""
    at = at or now()
    stmt = select(WorkOrder).where(WorkOrder.kind == COMPLAINT)
    if filters.get("state"):
        stmt = stmt.where(WorkOrder.state == filters["state"])
    if filters.get("owner_id"):
        stmt = stmt.where(WorkOrder.owner_id == filters["owner_id"])
    if filters.get("customer_id"):
        stmt = stmt.where(WorkOrder.customer_id == filters["customer_id"])
    if filters.get("escalated") is not None:
        column = WorkOrder.escalated_at
        stmt = stmt.where(column.is_not(None) if filters["escalated"] else column.is_(None))
    if filters.get("at_risk") is not None:
        stmt = stmt.where(WorkOrder.state.in_(OPEN_COMPLAINT_STATES))
    stmt = stmt.order_by(WorkOrder.received_at.desc(), WorkOrder.id.desc())
    found = list(session.scalars(stmt))
    if filters.get("at_risk") is not None:
        found = [o for o in found if at_risk(o, at) == filters["at_risk"]]
    offset, limit = filters.get("offset", 0), filters.get("limit", 100)
    return found[offset : offset + limit]


def _answers(session: Session, order: WorkOrder) -> list[dict[str, Any]]:
    """What was said to the customer and done, oldest first, from the audit trail."""
    steps = {
        "complaint_answered": "answer",
        "complaint_handled": "first_handling",
        f"state:{State.COMPLETED}": "final",
    }
    return [
        {"step": steps[e.action], "text": e.reason, "by": e.actor_name, "at": e.at}
        for e in audit.trail(session, "work_order", order.id)
        if e.action in steps
    ]


def complaint_view(session: Session, order: WorkOrder, lang: str, at: datetime | None = None) -> dict:
    """The complaint as its owner and the managers see it: the order, its clocks, what
    was answered, whether it is at risk or escalated, and the calendar its final deadline used."""
    at = at or now()
    view = wo_service.staff_view(order, lang)
    running = next_clock(order, at)
    return {
        **view,
        "clocks": [c | {"label": label_of_clock(c["clock"], lang)} for c in clocks(order, at)],
        "next_clock": running["clock"] if running else None,
        "at_risk": at_risk(order, at),
        "escalated": order.escalated_at is not None,
        "deadline_source_label": _source_label(order.deadline_source, lang),
        "answers": _answers(session, order),
        "parent_code": order.parent.code if order.parent is not None else None,
    }


def label_of_clock(name: str, lang: str) -> str:
    """A clock's name in ``lang``."""
    return _say(CLOCK_NAMES[name], lang)


def _source_label(source: str | None, lang: str) -> str | None:
    if source is None:
        return None
    msgid = SOURCE_NAMES.get(source)
    return source if msgid is None else _say(msgid, lang)


def _say(msgid: str, lang: str) -> str:
    if lang != current_lang():
        with force_locale(lang):
            return Message(msgid).render()
    return Message(msgid).render()


# ---------------------------------------------------------------- the agent's steps


def _open_complaint(order: WorkOrder, step: str) -> None:
    if order.kind != COMPLAINT:
        raise NotAComplaint(N_("Order %(code)s is not a complaint."), params={"code": order.code})
    if order.state != State.VALIDATED:
        raise lifecycle.IllegalTransition(
            N_("A complaint that is %(state)s cannot be answered or handled."),
            params={"state": term("state", order.state)},
            current_state=order.state,
            requested_step=step,
            allowed=lifecycle.allowed_next(order.state, order.kind),
        )


def answer(session: Session, actor: Actor, order: WorkOrder, text: str) -> WorkOrder:
    """Record the first answer to the customer (the 24 h clock); once only."""
    _open_complaint(order, "answer")
    if order.responded_at is not None:
        raise Conflict(N_("This complaint was answered already."), slug="already-answered")
    order.responded_at = now()
    session.flush()
    audit.record(
        session,
        actor,
        "complaint_answered",
        "work_order",
        order.id,
        after={"responded_at": order.responded_at, "on_time": _on_time(order, "answer")},
        reason=text,
    )
    notifications.complaint_answered(session, order, text, stage="answer")
    return order


def record_handling(session: Session, actor: Actor, order: WorkOrder, text: str) -> WorkOrder:
    """Record the first handling (the 72 h clock); it answers the customer too if nobody had."""
    _open_complaint(order, "first_handling")
    if order.handled_at is not None:
        raise Conflict(
            N_("The first handling of this complaint is recorded already."), slug="already-handled"
        )
    at = now()
    order.handled_at = at
    order.responded_at = order.responded_at or at
    session.flush()
    audit.record(
        session,
        actor,
        "complaint_handled",
        "work_order",
        order.id,
        after={"handled_at": at, "on_time": _on_time(order, "first_handling")},
        reason=text,
    )
    return order


def final_answer(
    session: Session, actor: Actor, order: WorkOrder, text: str, version: int | None = None
) -> WorkOrder:
    """Give the final answer: the complaint moves to ``completed`` through the lifecycle
    (the follow-up and closing come after, as for any order)."""
    if order.kind != COMPLAINT:
        raise NotAComplaint(N_("Order %(code)s is not a complaint."), params={"code": order.code})
    return wo_service.transition(session, actor, order, State.COMPLETED, reason=text, version=version)


def handover(
    session: Session, actor: Actor, order: WorkOrder, to_user_id: int, reason: str | None
) -> WorkOrder:
    """Hand the complaint to another staff member, explicitly and audited; a closed or
    cancelled complaint keeps the owner it ended with."""
    if order.state in lifecycle.TERMINAL_STATES:
        raise Conflict(N_("A closed complaint keeps its owner."), slug="complaint-closed")
    return wo_service.handover(session, actor, order, to_user_id, reason)


def _on_time(order: WorkOrder, name: str) -> bool | None:
    found = next((c for c in clocks(order) if c["clock"] == name), None)
    return found["met"] if found else None


# ---------------------------------------------------------------- escalation


def _escalated_clocks(session: Session, order: WorkOrder) -> set[str]:
    if order.escalated_at is None:
        return set()
    return {
        (e.after or {}).get("clock")
        for e in audit.trail(session, "work_order", order.id)
        if e.action == "complaint_escalated"
    }


def escalate_at_risk(session: Session, at: datetime) -> list[WorkOrder]:
    """Mark open complaints whose next clock is breached or short of time (less than the
    rule file's ``at_risk_share`` of it left) as escalated to the managers: ``escalated_at``
    is set and a ``complaint_escalated`` event names the clock. Each clock escalates once."""
    stmt = (
        select(WorkOrder)
        .where(WorkOrder.kind == COMPLAINT, WorkOrder.state.in_(OPEN_COMPLAINT_STATES))
        .order_by(WorkOrder.id)
    )
    escalated = []
    for order in session.scalars(stmt):
        running = next_clock(order, at)
        if running is None or not (running["breached"] or running["at_risk"]):
            continue
        if running["clock"] in _escalated_clocks(session, order):
            continue
        order.escalated_at = at
        session.flush()
        audit.record(
            session,
            SYSTEM,
            "complaint_escalated",
            "work_order",
            order.id,
            after={
                "clock": running["clock"],
                "due": running["due"],
                "left_s": running["left_s"],
                "breached": running["breached"],
                "owner_id": order.owner_id,
            },
        )
        escalated.append(order)
    return escalated


def escalate_complaints_job(session: Session, job: JobRun, report: Callable[[dict], bool]) -> dict:
    """The periodic escalation: complaints at risk now are escalated; their codes returned."""
    escalated = escalate_at_risk(session, now())
    session.commit()
    return {"escalated": [o.code for o in escalated]}


jobs.register(ESCALATION_JOB, escalate_complaints_job)
jobs.every(ESCALATION_JOB, 15 * 60)  # started by the tick (flask tick, or RQ's scheduler)

__all__ = [
    "ESCALATION_JOB",
    "answer",
    "at_risk",
    "clocks",
    "complaint_view",
    "create_complaint",
    "escalate_at_risk",
    "final_answer",
    "get_complaint",
    "handover",
    "list_complaints",
    "next_clock",
    "record_handling",
]
