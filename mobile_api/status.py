"""What the phone's status buttons mean for a work order: one table, read top to bottom.

The phone speaks of its day (en route, arrived, started, paused, resumed,
completed, failed); the order's lifecycle (``workorders.lifecycle``) speaks of
states. Each row says which lifecycle state a status moves the order to (None:
the state stays and only the visit's progress is recorded), from which states
the phone may send it, and what it needs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from core.messages import N_, Message
from core.models import AuditEvent
from workorders.lifecycle import UNDER_WAY_STATES, State


@dataclass(frozen=True)
class StatusChange:
    target: str | None  # lifecycle state to move to; None keeps the state
    from_states: tuple[str, ...]
    needs_fix: bool = False  # a GPS fix (lat, lon) is required
    needs_reason: bool = False
    effect: str | None = None  # what a stateless status records


UNDER_WAY = tuple(sorted(UNDER_WAY_STATES))

STATUS_CHANGES: dict[str, StatusChange] = {
    "en_route": StatusChange(State.EN_ROUTE, (State.ASSIGNED,)),
    # Far from the site is accepted but flagged (workorders.service.arrival_fix).
    "arrived": StatusChange(State.ON_SITE, (State.EN_ROUTE,), needs_fix=True),
    "started": StatusChange(None, (State.ON_SITE,), effect="work_started"),
    # customer_absent, site_inaccessible, customer_requested_delay pause the SLA clock.
    "paused": StatusChange(None, UNDER_WAY, needs_reason=True, effect="pause"),
    "resumed": StatusChange(None, UNDER_WAY, effect="resume"),
    # The lifecycle runs the close-out check (standards.validate_closeout) on the way.
    "completed": StatusChange(State.COMPLETED, (State.ON_SITE,)),
    "failed": StatusChange(State.NEEDS_REVISIT, UNDER_WAY, needs_reason=True),
}

# What the phone's buttons say, for refusals that name a status (message ids in the
# context "phone status": "Complete" is a button here, not an order's state).
STATUS_CONTEXT = "phone status"
STATUS_LABELS: dict[str, str] = {
    "en_route": N_("On my way"),
    "arrived": N_("Arrived"),
    "started": N_("Start work"),
    "paused": N_("Pause"),
    "resumed": N_("Resume"),
    "completed": N_("Complete"),
    "failed": N_("Cannot finish"),
}

# Audit actions that make up a visit's progress (besides the lifecycle's own state:*).
FIELD_STARTED, FIELD_PAUSED, FIELD_RESUMED = "field:started", "field:paused", "field:resumed"
_VISIT_STARTED = f"state:{State.EN_ROUTE}"
_PROGRESS_ACTIONS = (_VISIT_STARTED, f"state:{State.ON_SITE}", FIELD_STARTED, FIELD_PAUSED, FIELD_RESUMED)


def status_term(status: str) -> Message:
    """A phone status as its button reads, rendered in the reader's language with the refusal."""
    return Message(STATUS_LABELS[status], context=STATUS_CONTEXT)


@dataclass
class VisitProgress:
    """Where the current visit stands, read from the order's audit trail."""

    work_started_at: datetime | None = None
    field_paused: bool = False
    pause_reason: str | None = None
    sla_paused: bool = False  # set by the caller from the order's SLA clock

    @property
    def paused(self) -> bool:
        return self.field_paused or self.sla_paused

    def after(self, status: str, reason: str | None, at: datetime) -> VisitProgress:
        """The progress once `status` is applied (what visit_progress would read back)."""
        if status in ("en_route", "arrived"):
            return VisitProgress()
        if status == "started":
            self.work_started_at = at
        elif status == "paused":
            self.field_paused, self.pause_reason = True, reason
        else:  # resumed, completed, failed all end a pause
            self.field_paused, self.pause_reason = False, None
        return self


@functools.cache
def _progress_query() -> Select:
    return (
        select(AuditEvent.entity_id, AuditEvent.action, AuditEvent.at, AuditEvent.after)
        .where(
            AuditEvent.entity_type == "work_order",
            AuditEvent.entity_id.in_(bindparam("order_ids", expanding=True)),
            AuditEvent.action.in_(_PROGRESS_ACTIONS),
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )


def visit_progress(session: Session, order_ids: list[int]) -> dict[int, VisitProgress]:
    """Progress of the current visit of each order (a new en_route starts a new visit)."""
    progress = {order_id: VisitProgress() for order_id in order_ids}
    if not order_ids:
        return progress
    for order_id, action, at, after in session.execute(_progress_query(), {"order_ids": order_ids}):
        visit = progress[order_id]
        if action == _VISIT_STARTED:
            progress[order_id] = VisitProgress()
        elif action == FIELD_STARTED:
            visit.work_started_at = at
        elif action == FIELD_PAUSED:
            visit.field_paused, visit.pause_reason = True, (after or {}).get("reason")
        elif action == FIELD_RESUMED:
            visit.field_paused, visit.pause_reason = False, None
    return progress


def allowed_statuses(state: str, visit: VisitProgress) -> list[str]:
    """The statuses the phone may send now, in table order."""
    allowed = []
    for status, change in STATUS_CHANGES.items():
        if state not in change.from_states:
            continue
        if status == "started" and (visit.work_started_at is not None or visit.paused):
            continue
        if status == "paused" and visit.paused:
            continue
        if status == "resumed" and not visit.paused:
            continue
        allowed.append(status)
    return allowed
