"""Messages to customers about the changes that matter to them, written to the outbox.

:func:`queue` adds a row to ``notifications`` in the caller's transaction: the unit
of work commits it with the change it tells of, or rolls it back with it. The text
is rendered now, in the customer's language (``Customer.language``, Chinese unless
English), from English message ids translated in ``translations/`` (so translators
keep one catalog), and goes to the customer's preferred channel, or the other one
when the preferred one has no address; a customer with neither gets nothing, and the
audit trail says so. Once the change commits, the delivery job starts
(:mod:`workorders.outbox`).

Every row has a ``dedupe_key``, unique per event, order, customer and what the
message says that matters (the appointment window, the change's version): one
change never queues two messages, and a re-plan that keeps the window tells
nobody anything new.

The events: ``scheduled`` (the appointment window), ``en_route`` (the live ETA, or
the planned start without one), ``completed`` (the lifecycle queues these three,
:func:`on_transition`), ``followup_due`` (the periodic reminder scan,
:func:`queue_due_followups`) and ``complaint_answered`` (the complaint service).
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, time, timedelta
from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit, jobs
from core.actor import Actor
from core.clock import now
from core.messages import N_
from core.models import JobRun
from workorders import outbox
from workorders.labels import label
from workorders.lifecycle import State
from workorders.models import Customer, FollowUp, Notification, WorkOrder
from workorders.reads import live_eta

log = logging.getLogger(__name__)

SYSTEM = Actor(user_id=None, username="system", role="system", origin="notifications")
LANGUAGES = ("zh", "en")
CHANNELS = ("email", "sms")
# Orders whose lifecycle the customer hears of (a complaint has its own messages).
TOLD_KINDS = frozenset({"install", "repair", "follow_up"})
# A planned start with no booked window is told as this long a window, from the hour.
PLANNED_WINDOW = timedelta(hours=2)
# Follow-up reminders are not sent before this hour of the city's day.
REMINDERS_FROM = time(8, 0)
MAX_KEY = 120

# event -> variant -> (subject, body): English message ids, translated when queued.
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "scheduled": {
        "": (
            N_("Order %(code)s: your appointment"),
            N_(
                "%(name)s, the visit for your %(product)s order %(code)s is booked for %(window)s. "
                "The technician will call before coming. Questions: call 10000."
            ),
        ),
    },
    "en_route": {
        "eta": (
            N_("Order %(code)s: technician on the way"),
            N_(
                "%(name)s, the technician for your order %(code)s is on the way "
                "and should arrive around %(eta)s."
            ),
        ),
        "": (
            N_("Order %(code)s: technician on the way"),
            N_("%(name)s, the technician for your order %(code)s is on the way."),
        ),
    },
    "completed": {
        "": (
            N_("Order %(code)s: completed"),
            N_(
                "%(name)s, the work on your %(product)s order %(code)s was completed at %(time)s. "
                "We will contact you to ask whether everything works; if it does not, call 10000."
            ),
        ),
    },
    "followup_due": {
        "phone": (
            N_("Order %(code)s: follow-up call today"),
            N_(
                "%(name)s, we will call you today about order %(code)s to ask whether "
                "the service works and how satisfied you are."
            ),
        ),
        "visit": (
            N_("Order %(code)s: follow-up visit today"),
            N_("%(name)s, we will visit you today about order %(code)s to check that the service works."),
        ),
        "periodic": (
            N_("Service visit today"),
            N_("%(name)s, your account team will visit you today for the regular service visit."),
        ),
    },
    "complaint_answered": {
        "answer": (
            N_("Complaint %(code)s: our answer"),
            N_(
                '%(name)s, our answer to your complaint %(code)s: "%(answer)s". '
                "If it is not resolved, call 10000."
            ),
        ),
        "": (
            N_("Complaint %(code)s: our answer"),
            N_(
                "%(name)s, your complaint %(code)s has been answered: "
                "read the answer in the customer portal, or call 10000."
            ),
        ),
    },
}
EVENTS = tuple(TEMPLATES)


# ---------------------------------------------------------------- queueing


def queue(
    session: Session,
    event: str,
    *,
    order: WorkOrder | None = None,
    customer: Customer | None = None,
    context: dict[str, Any] | None = None,
    dedupe: str | None = None,
) -> list[Notification]:
    """Add the message for ``event`` to the outbox in the caller's transaction; the rows added.

    ``customer`` defaults to the order's. ``context`` holds the event's values
    (``window``, ``eta``, ``answer``, ``variant``...; datetimes are shown in city time).
    ``dedupe`` names what makes this message new (default: a digest of ``context``):
    a row with the same event, order, customer and ``dedupe`` queued before, committed
    or in this transaction, means nothing is queued now ([] is returned).
    """
    if event not in TEMPLATES:
        raise ValueError(f"unknown notification event {event!r}")
    customer = customer or (order.customer if order is not None else None)
    if customer is None:
        raise ValueError("a notification needs a customer or an order")
    context = dict(context or {})
    key = dedupe_key(event, order, customer, dedupe if dedupe is not None else _digest(context))
    if session.scalar(select(Notification.id).where(Notification.dedupe_key == key)) is not None:
        return []
    address = contact_for(customer)
    if address is None:
        log.warning("customer %s has no email or phone: %s notification not queued", customer.id, event)
        audit.record(
            session,
            SYSTEM,
            "notification_not_sent",
            "customer",
            customer.id,
            after={"event": event, "order_id": order.id if order else None, "reason": "no email or phone"},
        )
        return []
    channel, recipient = address
    language = customer.language if customer.language in LANGUAGES else "zh"
    subject, body = render(event, language, customer, order, context)
    row = Notification(
        customer_id=customer.id,
        order_id=order.id if order is not None else None,
        event=event,
        channel=channel,
        recipient=recipient,
        language=language,
        subject=subject,
        body=body,
        state="pending",
        attempts=0,
        next_attempt_at=now(),
        dedupe_key=key,
        created_at=now(),
    )
    session.add(row)
    session.flush()
    jobs.enqueue_after_commit(session, outbox.DELIVER_JOB)
    return [row]


def contact_for(customer: Customer) -> tuple[str, str] | None:
    """(channel, address): the preferred channel, else the other one with an address; None: neither."""
    addresses = {"email": (customer.email or "").strip(), "sms": (customer.phone or "").strip()}
    preferred = customer.preferred_channel if customer.preferred_channel in CHANNELS else "sms"
    for channel in (preferred, *(c for c in CHANNELS if c != preferred)):
        if addresses[channel]:
            return channel, addresses[channel]
    return None


def dedupe_key(event: str, order: WorkOrder | None, customer: Customer, meaning: str) -> str:
    """The outbox's uniqueness: event, order, customer and what makes the message new."""
    key = f"{event}:o{order.id if order is not None else '-'}:c{customer.id}:{meaning}"
    if len(key) <= MAX_KEY:
        return key
    return f"{event}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def _digest(context: dict[str, Any]) -> str:
    text = json.dumps(context, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# ---------------------------------------------------------------- rendering


def _shown(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value


def window_text(start: datetime, end: datetime | None) -> str:
    """An appointment window as people read it: "2026-12-01 09:00–11:00"."""
    if end is None:
        return f"{start:%Y-%m-%d %H:%M}"
    if end.date() == start.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


def render(
    event: str, language: str, customer: Customer, order: WorkOrder | None, context: dict[str, Any]
) -> tuple[str, str]:
    """(subject, body) of ``event`` in ``language``; the variant is ``context["variant"]``,
    else the first one whose value the context has, else the plain one."""
    variants = TEMPLATES[event]
    variant = context.get("variant")
    if variant not in variants:
        variant = next((v for v in variants if v and context.get(v)), "")
    if variant not in variants:
        variant = next(iter(variants))
    subject_id, body_id = variants[variant]
    with force_locale(language):
        params = {
            "name": customer.contact_name or customer.name,
            "code": order.code if order is not None else "",
            "product": label("product", order.product, language) if order is not None else "",
            **{name: _shown(value) for name, value in context.items()},
        }
        return gettext(subject_id, **params), gettext(body_id, **params)


# ---------------------------------------------------------------- the lifecycle's messages


def appointment_window(order: WorkOrder) -> tuple[datetime, datetime | None] | None:
    """The window told to the customer: the booked one, else the planned start's hour and
    the next two (so a re-plan by minutes tells nothing new), else None."""
    if order.appointment_start is not None:
        return order.appointment_start, order.appointment_end
    if order.planned_start is not None:
        start = order.planned_start.replace(minute=0, second=0, microsecond=0)
        return start, start + PLANNED_WINDOW
    return None


def on_transition(session: Session, order: WorkOrder, target: str) -> list[Notification]:
    """Queue what the customer hears of ``order`` entering ``target`` (called by
    ``workorders.service.transition`` after the move is flushed)."""
    if order.kind not in TOLD_KINDS:
        return []
    if target in (State.SCHEDULED, State.ASSIGNED):
        window = appointment_window(order)
        if window is None:
            return []
        start, end = window
        told = window_text(start, end)
        return queue(session, "scheduled", order=order, context={"window": told}, dedupe=f"w{told}")
    if target == State.EN_ROUTE:
        eta = (live_eta(session, order) or {}).get("eta")
        if eta is None and order.planned_start is not None and order.planned_start >= now():
            eta = order.planned_start  # no live position yet: the plan's time, unless already past
        return queue(session, "en_route", order=order, context={"eta": eta}, dedupe=f"v{order.version}")
    if target == State.COMPLETED:
        done = order.completed_at or now()
        return queue(session, "completed", order=order, context={"time": done}, dedupe=f"{done:%Y%m%d%H%M%S}")
    return []


def complaint_answered(session: Session, complaint: WorkOrder, answer: str | None, stage: str = "answer"):
    """Tell the customer their complaint was answered (``stage``: which answer, e.g.
    "answer" for the 24 h one, "final" for the final one; each is told once)."""
    return queue(
        session,
        "complaint_answered",
        order=complaint,
        context={"answer": (answer or "").strip()},
        dedupe=stage,
    )


# ---------------------------------------------------------------- what staff see and do


def of_order(session: Session, order: WorkOrder) -> list[Notification]:
    """The messages about ``order``, oldest first."""
    return list(
        session.scalars(
            select(Notification).where(Notification.order_id == order.id).order_by(Notification.id)
        )
    )


def list_outbox(session: Session, filters: dict[str, Any]) -> list[Notification]:
    """Outbox rows, newest first, filtered by state, event, channel, customer_id and order_id,
    ``limit`` at a time from ``offset``."""
    stmt = select(Notification)
    for name in ("state", "event", "channel", "customer_id", "order_id"):
        if filters.get(name) is not None:
            stmt = stmt.where(getattr(Notification, name) == filters[name])
    stmt = (
        stmt.order_by(Notification.id.desc())
        .limit(filters.get("limit", 100))
        .offset(filters.get("offset", 0))
    )
    return list(session.scalars(stmt))


def retry_failed(session: Session, actor: Actor, order: WorkOrder) -> list[Notification]:
    """Put the order's failed messages back in the outbox with fresh attempts, to the
    customer's address as it is now (it may have been corrected); the rows retried.
    Audited on the order."""
    address = contact_for(order.customer)
    failed = [row for row in of_order(session, order) if row.state == "failed" and address is not None]
    for row in failed:
        row.channel, row.recipient = address
        row.state, row.attempts, row.next_attempt_at = "pending", 0, now()
    if failed:
        session.flush()
        audit.record(
            session,
            actor,
            "notifications_retried",
            "work_order",
            order.id,
            after={"notification_ids": [row.id for row in failed]},
        )
        jobs.enqueue_after_commit(session, outbox.DELIVER_JOB)
    return failed


# ---------------------------------------------------------------- follow-up reminders


def queue_due_followups(session: Session, at: datetime | None = None) -> int:
    """Queue ``followup_due`` once per open follow-up task due today (nothing before
    :data:`REMINDERS_FROM`); the number queued. Run by the periodic job."""
    at = at or now()
    if at.time() < REMINDERS_FROM:
        return 0
    day_start = datetime.combine(at.date(), time.min)
    tasks = session.scalars(
        select(FollowUp)
        .where(
            FollowUp.state == "open",
            FollowUp.due_at >= day_start,
            FollowUp.due_at < day_start + timedelta(days=1),
        )
        .order_by(FollowUp.id)
    )
    queued = 0
    for task in tasks:
        variant = "periodic" if task.order_id is None or task.reason == "periodic" else task.method
        rows = queue(
            session,
            "followup_due",
            order=task.order,
            customer=task.customer,
            context={"variant": variant if variant in TEMPLATES["followup_due"] else "phone"},
            dedupe=f"f{task.id}:{at.date().isoformat()}",
        )
        queued += len(rows)
    return queued


def followup_reminders_job(session: Session, job: JobRun, report) -> dict:
    """The periodic scan for follow-ups due today (:func:`queue_due_followups`)."""
    queued = queue_due_followups(session)
    session.commit()
    return {"queued": queued}


FOLLOWUP_REMINDERS_JOB = "followup_reminders"
jobs.register(FOLLOWUP_REMINDERS_JOB, followup_reminders_job)
jobs.every(FOLLOWUP_REMINDERS_JOB, 15 * 60)
