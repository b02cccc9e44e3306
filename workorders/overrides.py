"""Close-out overrides: a supervisor lets an order close despite the blocking
findings the override names, each with the measured value seen; anyone else is
refused (403) before any checklist check could answer instead."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import standards
from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, Forbidden, Invalid, Message
from workorders.models import Photo, WorkOrder

SUPERVISOR_ROLES = frozenset({"dispatcher", "manager", "admin"})


def photo_counts(session: Session, order_id: int) -> dict[str, int]:
    """Stored evidence photos of an order, counted per checklist item."""
    stmt = (
        select(Photo.item_id, func.count(Photo.id)).where(Photo.order_id == order_id).group_by(Photo.item_id)
    )
    return {item_id: int(count) for item_id, count in session.execute(stmt)}


def refuse_field_override(actor: Actor, data: dict[str, Any]) -> None:
    """A close-out override sent by anyone but a supervisor is refused outright (403),
    before any checklist check could answer instead."""
    if data.get("override") is not None and actor.role not in SUPERVISOR_ROLES:
        raise Forbidden(
            N_("Only a supervisor can override the checklist."),
            slug="override-not-allowed",
            errors={"override": [N_("Only a supervisor can override the checklist.")]},
        )


def _blocking_closeout(session: Session, order: WorkOrder) -> list[dict[str, Any]]:
    """The close-out findings that block the order now, as the supervisor sees them."""
    findings = standards.validate_closeout(
        order.kind, order.product, order.checklist or {}, photos=photo_counts(session, order.id)
    )
    return [f.to_dict() for f in findings if f.severity == "block"]


def _chosen(blocking: list[dict[str, Any]], named: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The blocking findings the supervisor names (rule id, and item id where given); all
    of them when none is named. Naming one that does not block is refused."""
    if not named:
        return blocking
    chosen, unknown = [], []
    for pick in named:
        hits = [
            f
            for f in blocking
            if f["rule_id"] == pick["rule_id"]
            and (pick.get("item_id") is None or f["params"].get("item_id") == pick["item_id"])
        ]
        if not hits:
            unknown.append(pick.get("item_id") or pick["rule_id"])
        chosen += [f for f in hits if f not in chosen]
    if unknown:
        message = N_("Not a finding that blocks this order's close-out: %(names)s.")
        raise Invalid(
            message,
            params={"names": ", ".join(unknown)},
            errors={"findings": [Message(message, names=", ".join(unknown))]},
        )
    return chosen


def record_override(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    reason: str,
    findings: list[dict[str, Any]] | None = None,
    by: str | None = None,
) -> WorkOrder:
    """A supervisor lets an order close despite the blocking close-out findings it names.

    The override covers the findings blocking now (or those of them named in
    ``findings``: rule id and optional item id), each with the measured value the
    supervisor saw; a different finding, or the same one measured worse, needs an
    override of its own (``standards.checklists.is_covered``). The overriding user is
    the authenticated actor: a name sent in ``by`` is refused (422), and anyone but a
    supervisor is refused (403). Overrides add up; each covered finding keeps who
    approved it, when, and why.
    """
    if actor.role not in SUPERVISOR_ROLES:
        refuse_field_override(actor, {"override": True})
    if by is not None:
        message = N_("The override is recorded under your own login; do not send a name.")
        raise Invalid(message, errors={"by": [message]})
    blocking = _blocking_closeout(session, order)
    if not blocking:
        raise Conflict(N_("Nothing blocks this order's close-out; there is nothing to override."))
    at = now().isoformat()
    approved = {"by": actor.username, "by_user_id": actor.user_id, "reason": reason, "at": at}
    new = [standards.override_scope(f) | approved for f in _chosen(blocking, findings)]
    scope_keys = ("rule_id", "item_id", "check")
    kept = [
        c
        for c in (order.override or {}).get("covers", [])
        if not any(all(c.get(k) == n[k] for k in scope_keys) for n in new)
    ]
    order.override = approved | {"covers": kept + new}
    session.flush()
    audit.record(
        session,
        actor,
        "checklist_override",
        "work_order",
        order.id,
        after={**approved, "covers": new},
        reason=reason,
    )
    return order
