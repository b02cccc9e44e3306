"""An order's clocks: the restore clock paused for customer-caused waiting, and
where the order stands against its response and restore deadlines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

import standards
from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict
from workorders import lifecycle
from workorders.labels import term
from workorders.models import WorkOrder


class ClockRefused(Conflict):
    slug = "sla-clock"


def clock_of(order: WorkOrder) -> standards.SlaClock:
    """The order's restore clock (orders from before clocks were stored get one from their
    deadline, counted from when the order was received)."""
    if order.sla_clock:
        return standards.SlaClock.from_dict(order.sla_clock)
    return standards.SlaClock.from_deadline(
        order.received_at, standards.Deadline(order.restore_deadline, order.deadline_source or "clock-hours")
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
        before={"restore_deadline": before.isoformat()},
        after={
            "restore_deadline": order.restore_deadline.isoformat(),
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
