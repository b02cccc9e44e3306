"""The close-out report of a completed order: what was done, when against the promise, and the proof.

:func:`closeout_report` gathers it (the reader's access checked as for the order
itself, so another company's order is a 404 like a missing one); the PDF
(:mod:`workorders.closeout_pdf`) and the print page render the same data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

import standards
from core import audit
from core.actor import Actor
from core.errors import N_, Conflict, Message
from technicians.models import Technician
from workorders import labels
from workorders.lifecycle import DONE_STATES, State
from workorders.models import Photo, WorkOrder
from workorders.photos import list_photos
from workorders.reads import get_order_for


@dataclass(frozen=True)
class TimeAgainstPromise:
    what: str  # the step, in the reader's words
    promised: datetime | None
    actual: datetime | None

    @property
    def late_min(self) -> int | None:
        """Minutes after the promise (0 when kept); None when either time is missing."""
        if self.promised is None or self.actual is None:
            return None
        return max(0, int((self.actual - self.promised).total_seconds() // 60))


@dataclass(frozen=True)
class ChecklistRow:
    label: str
    answer: str
    limits: str
    ok: bool | None  # None: nothing to judge (not answered, or no limit)


@dataclass
class CloseoutReport:
    code: str
    kind: str
    product: str
    priority: str
    customer: str
    address: str
    line: str | None  # the access line worked on
    technician: str | None
    received_at: datetime
    times: list[TimeAgainstPromise]
    checklist: list[ChecklistRow]
    photos: list[Photo] = field(default_factory=list)
    followup: str | None = None


def closeout_report(session: Session, actor: Actor, order_id: int, lang: str) -> CloseoutReport:
    """The report of an order the actor may see, once its work is done (409 before)."""
    order = get_order_for(session, actor, order_id)
    if order.state not in DONE_STATES:
        raise Conflict(
            N_("The close-out report is ready once the work is completed."),
            slug="not-completed",
            current_state=order.state,
        )
    tech = session.get(Technician, order.technician_id) if order.technician_id else None
    audit.record(session, actor, "read_closeout_report", "work_order", order.id)
    return CloseoutReport(
        code=order.code,
        kind=labels.label("kind", order.kind, lang),
        product=labels.label("product", order.product, lang),
        priority=labels.label("priority", order.priority, lang),
        customer=order.customer.name,
        address=order.site.address,
        line=_line(order),
        technician=tech.name if tech is not None else None,
        received_at=order.received_at,
        times=_times(order),
        checklist=_checklist(order, lang),
        photos=list_photos(session, order),
        followup=_followup(order),
    )


def _times(order: WorkOrder) -> list[TimeAgainstPromise]:
    done = N_("Restored") if order.kind == "repair" else N_("In service")
    return [
        TimeAgainstPromise(Message(N_("Response")).render(), order.response_deadline, order.responded_at),
        TimeAgainstPromise(Message(N_("Technician on site")).render(), None, order.arrived_at),
        TimeAgainstPromise(Message(done).render(), order.restore_deadline, order.completed_at),
    ]


def _checklist(order: WorkOrder, lang: str) -> list[ChecklistRow]:
    try:
        items = standards.checklist_for(order.kind, order.product)
    except ValueError:
        return []
    answers = order.checklist or {}
    rows = []
    for item in items:
        value = answers.get(item.id)
        rows.append(ChecklistRow(item.label(lang), _answer(value, item), _limits(item), _ok(value, item)))
    return rows


def _answer(value: object, item: standards.ChecklistItem) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return Message(N_("Yes") if value else N_("No")).render()
    return f"{value} {item.unit or ''}".strip()


def _limits(item: standards.ChecklistItem) -> str:
    unit = f" {item.unit}" if item.unit else ""
    if item.min_value is not None and item.max_value is not None:
        return f"{item.min_value:g}–{item.max_value:g}{unit}"
    if item.min_value is not None:
        return f"≥ {item.min_value:g}{unit}"
    if item.max_value is not None:
        return f"≤ {item.max_value:g}{unit}"
    return ""


def _ok(value: object, item: standards.ChecklistItem) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value if item.type in ("boolean", "consent") else None
    if isinstance(value, int | float):
        low = item.min_value is None or value >= item.min_value
        high = item.max_value is None or value <= item.max_value
        return low and high
    return None


def _followup(order: WorkOrder) -> str | None:
    if order.state not in (State.FOLLOWED_UP, State.CLOSED) or order.followup_satisfied is None:
        return None
    if order.followup_satisfied:
        return Message(N_("The customer was satisfied.")).render()
    return Message(N_("The customer was not satisfied: a repeat repair was opened.")).render()


def _line(order: WorkOrder) -> str | None:
    if order.line is None:
        return None
    return f"{order.line.access_type.upper()} #{order.line.id}"
