"""The hotline agent's intake: what an order would get before it is taken, and taking it
without opening a second repair for a fault that is already open.

:func:`preview_order` runs the one intake (:func:`workorders.fault_reports.take_order`,
which calls :func:`workorders.service.create_order`) and rolls the session back: the
findings (R1, R2, product fit), the deadlines and the state are exactly what taking the
order would give, refusals included, and nothing is written (no order, no code, no audit
event). The whole transaction is rolled back, not a savepoint: on SQLite a savepoint's
reads pin a snapshot that a concurrent commit makes stale, and its first write then
fails at once instead of waiting for the lock. So a preview is the whole of its request.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.actor import Actor
from workorders import fault_reports, reads, repeat_calls
from workorders.models import WorkOrder

# What a preview tells of the order it would take (the rest is the order's own business).
PREVIEW_FIELDS = (
    "state",
    "state_label",
    "blocked",
    "findings",
    "kind",
    "product",
    "priority",
    "priority_label",
    "received_at",
    "response_deadline",
    "restore_deadline",
    "handling_deadline",
    "deadline_source",
    "required_skills",
    "duration_min",
    "rule_set_version",
)


def _intake_body(data: dict) -> dict:
    body = dict(data)
    body.pop("duplicate_ok", None)
    return body


def take_call(session: Session, actor: Actor, data: dict) -> WorkOrder:
    """``POST /workorders``: a staff member's new repair repeating an open one at the same
    site and line is refused (409 naming it) unless ``duplicate_ok`` (then audited);
    otherwise the one intake."""
    open_repairs = repeat_calls.guard_duplicate(session, actor, data)
    order = fault_reports.take_order(session, actor, _intake_body(data))
    repeat_calls.record_duplicate_accepted(session, actor, order, open_repairs)
    return order


def preview_order(session: Session, actor: Actor, data: dict, lang: str = "zh") -> dict[str, Any]:
    """What taking ``data`` (a ``POST /workorders`` body) would give, written nowhere:
    the intake findings, state, priority and deadlines, and the open repairs it would
    repeat (``open_repairs``; taking it then needs ``duplicate_ok``). Invalid input is
    refused exactly as the intake refuses it. Rolls back everything the session holds:
    call it as the request's only work."""
    open_repairs = [repeat_calls.open_order_ref(o) for o in repeat_calls.open_repairs_for(session, data)]
    try:
        order = fault_reports.take_order(session, actor, _intake_body(data))
        view = reads.staff_view(order, lang)
        extra = {"received_at": order.received_at, "handling_deadline": order.handling_deadline}
    finally:
        session.rollback()
    preview = {field: view.get(field) for field in PREVIEW_FIELDS} | extra
    return preview | {"open_repairs": open_repairs, "duplicate": bool(open_repairs)}
