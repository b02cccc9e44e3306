"""The on-site checklist from the phone: answers checked against the item, and what
still stops close-out (``standards.validate_closeout``), in the reader's language."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.orm import Session

import standards
from core import audit
from core.actor import Actor
from core.errors import N_, Conflict, Invalid, refuse
from mobile_api.messages import FieldMessage
from mobile_api.service import field_evidence
from mobile_api.stops import checklist_template, findings_view
from workorders import service as wo_service
from workorders.lifecycle import State
from workorders.models import WorkOrder

# The checklist is filled in on site.
CHECKLIST_STATES = frozenset({State.ON_SITE})
LENGTH_UNITS = ("mm", "cm", "m", "km")
NOT_AN_ITEM = N_("Not an item of this order's checklist.")


def checklist_state(session: Session, order: WorkOrder, lang: str = "zh") -> dict[str, Any]:
    """The checklist with the answers so far and exactly what still stops close-out."""
    counts = wo_service.photo_counts(session, order.id)
    answers = {k: v for k, v in (order.checklist or {}).items() if not k.startswith("_")}
    findings = [
        f.to_dict()
        for f in standards.validate_closeout(
            order.kind, order.product, answers, photos=counts, override=order.override
        )
    ]
    items = [
        entry | {"answer": answers.get(entry["id"]), "photos": counts.get(entry["id"], 0)}
        for entry in checklist_template(order.kind, order.product, lang)
    ]
    missing = [f for f in findings if f["severity"] == "block"]
    return {
        "order_id": order.id,
        "state": order.state,
        "items": items,
        "answers": answers,
        "missing": findings_view(missing, lang),
        "warnings": findings_view([f for f in findings if f["severity"] != "block"], lang),
        "complete": not missing,
        "override": order.override,
        "version": order.version,
    }


def answer_error(item: standards.ChecklistItem, value: object) -> str | None:
    """Why `value` cannot be an answer to `item` (a message id), or None when it can."""
    if value is None:
        return None
    if item.type == "photo":
        return N_("Answer this item with a photo upload.")
    if item.type in ("boolean", "consent"):
        return None if isinstance(value, bool) else N_("Must be true or false.")
    number, unit = value, item.unit
    if isinstance(value, dict):
        if set(value) - {"value", "unit"} or "value" not in value:
            return N_('Use a number or {"value": number, "unit": "cm"}.')
        number, unit = value["value"], value.get("unit", item.unit)
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return N_("Must be a number.")
    if not math.isfinite(number) or abs(number) > 1e9:
        return N_("Must be a finite number.")
    allowed_units = LENGTH_UNITS if item.unit in LENGTH_UNITS else (item.unit,)
    if unit not in allowed_units:
        return FieldMessage(
            N_("Unit must be one of: %(units)s."), units=", ".join(u for u in allowed_units if u)
        )
    return None


def submit_checklist(
    session: Session, actor: Actor, order: WorkOrder, data: dict, lang: str = "zh"
) -> dict[str, Any]:
    """Store answers (null clears one) and say what is still missing or failing."""
    wo_service.refuse_field_override(actor, data)
    if order.state not in CHECKLIST_STATES:
        raise refuse(
            Conflict, N_("The checklist is filled in on site."), slug="not-on-site", current_state=order.state
        )
    items = {item.id: item for item in standards.checklist_for(order.kind, order.product)}
    errors: dict[str, list[str]] = {}
    for item_id, value in data["answers"].items():
        item = items.get(item_id)
        problem = NOT_AN_ITEM if item is None else answer_error(item, value)
        if problem:
            errors[item_id] = [problem]
    if errors:
        raise refuse(
            Invalid, N_("Some answers do not fit this order's checklist."), errors={"answers": errors}
        )
    answers = dict(order.checklist or {})
    for item_id, value in data["answers"].items():
        if value is None:
            answers.pop(item_id, None)
        else:
            answers[item_id] = value
    order.checklist = answers
    session.flush()
    audit.record(
        session,
        actor,
        "checklist_answered",
        "work_order",
        order.id,
        after={"answers": data["answers"], **field_evidence("checklist", data)},
    )
    return checklist_state(session, order, lang)
