"""An order's clocks: when it was received (``received_at``, where every deadline counts
from), its deadlines, the restore clock paused for customer-caused waiting, and where the
order stands against its response and restore deadlines."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

import standards
from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, Forbidden, Invalid, Message
from workorders import lifecycle
from workorders.labels import term
from workorders.models import Customer, WorkOrder

# When the customer reached us may be given at intake: up to a week back, and not
# ahead of our clock by more than a phone's or a PC's usual drift.
RECEIVED_AT_MAX_AGE = timedelta(days=7)
RECEIVED_AT_CLOCK_SKEW = timedelta(seconds=60)


def received_moment(actor: Actor, given: datetime | None, created: datetime) -> datetime:
    """When the customer reached us: ``given`` by an intake role (a call keyed in minutes
    later, a fault the monitoring center handed over), else the moment of intake.

    Refused: a customer naming it (their order is received when they submit it), a
    moment in the future (beyond a minute of clock skew) or more than 7 days back.
    """
    if given is None:
        return created
    if actor.role == "customer":
        message = N_("Your order is received when you submit it; leave received_at out.")
        raise Forbidden(message, errors={"received_at": [message]})
    given = given.replace(microsecond=0)
    if given > created + RECEIVED_AT_CLOCK_SKEW:
        message = N_("The order cannot be received in the future.")
        raise Invalid(message, errors={"received_at": [message]})
    if given < created - RECEIVED_AT_MAX_AGE:
        message = N_("An order can be received at most %(days)s days back.")
        raise Invalid(
            message,
            params={"days": RECEIVED_AT_MAX_AGE.days},
            errors={"received_at": [Message(message, days=RECEIVED_AT_MAX_AGE.days)]},
        )
    return min(given, created)


def order_deadlines(data: dict, customer: Customer, received: datetime) -> dict[str, Any]:
    """The order's clocks, all counted from when it was received (wall clock for the hour
    limits, so a P1 called in at 17:55 is due at 18:10 however late it is keyed in)."""
    if data["kind"] == lifecycle.COMPLAINT_KIND:
        clocks = standards.complaint_deadlines(received)
        response, restore = clocks["answer"], clocks["final"]
        handling = clocks["first_handling"].at
    else:
        response = standards.response_deadline(received, data["priority"])
        restore = standards.restore_deadline(
            received, customer.kind, customer.enterprise_tier, data["product"], data["priority"]
        )
        handling = None
    return {
        "response_deadline": response.at,
        "handling_deadline": handling,
        "restore_deadline": restore.at,
        "deadline_source": restore.source,
        "sla_clock": standards.SlaClock.from_deadline(received, restore).to_dict(),
    }


class ClockRefused(Conflict):
    slug = "sla-clock"


def clock_of(order: WorkOrder) -> standards.SlaClock:
    """The order's restore clock. Orders from before clocks were stored get one from their
    deadline, counted from when the order was received (a deadline recorded before that
    moment gives a clock with no time left rather than an error)."""
    if order.sla_clock:
        return standards.SlaClock.from_dict(order.sla_clock)
    # Board rows carry received_at only; stored orders both (received_at backfilled).
    received = getattr(order, "received_at", None) or order.created_at
    start = min(received, order.restore_deadline)
    return standards.SlaClock.from_deadline(
        start, standards.Deadline(order.restore_deadline, order.deadline_source or "clock-hours")
    )


def pause_sla(
    session: Session, actor: Actor, order: WorkOrder, reason: str, note: str | None = None
) -> WorkOrder:
    """Stop the restore clock for customer-caused waiting (customer absent, no access)."""
    if order.state not in lifecycle.OPEN_STATES:
        raise Conflict(
            N_("The clock of an order that is %(state)s cannot be paused."),
            params={"state": term("state", order.state)},
            current_state=order.state,
        )
    clock = clock_of(order)
    if clock.is_paused:
        raise ClockRefused(N_("The restore clock is already paused."))
    try:
        clock.pause(now(), reason)
    except ValueError as exc:  # a time before the clock's start or its last resume
        raise ClockRefused(N_("The restore clock cannot be paused at this time.")) from exc
    order.sla_clock = clock.to_dict()
    session.flush()
    audit.record(
        session, actor, "sla_paused", "work_order", order.id, after={"reason": reason}, reason=note or reason
    )
    return order


def resume_sla(session: Session, actor: Actor, order: WorkOrder) -> WorkOrder:
    """Restart the clock; the restore deadline moves by the time paused."""
    clock = clock_of(order)
    if not clock.is_paused:
        raise ClockRefused(N_("The restore clock is running; there is nothing to resume."))
    try:
        clock.resume(now())
    except ValueError as exc:  # a time before the pause started
        raise ClockRefused(N_("The restore clock cannot be resumed at this time.")) from exc
    before = order.restore_deadline
    order.sla_clock = clock.to_dict()
    order.restore_deadline = clock.deadline()
    session.flush()
    audit.record(
        session,
        actor,
        "sla_resumed",
        "work_order",
        order.id,
        before={"restore_deadline": before},
        after={
            "restore_deadline": order.restore_deadline,
            "paused_s": int(clock.paused_total().total_seconds()),
        },
    )
    return order


def sla_status(order: WorkOrder, at: datetime | None = None) -> dict[str, Any]:
    """Where the order stands against its deadlines right now."""
    at = at or now()
    clock = clock_of(order)
    return {
        "paused": clock.is_paused,
        "pauses": [p.to_dict() for p in clock.pauses],
        "paused_s": int(clock.paused_total(at).total_seconds()),
        "restore_deadline": clock.deadline(at),
        "restore_breached": clock.is_breached(at) and order.completed_at is None,
        "response_breached": order.responded_at is None
        and at > order.response_deadline
        or (order.responded_at is not None and order.responded_at > order.response_deadline),
        "source": clock.source,
    }
