"""A customer calling again about a fault that is already open.

The second call must not become a second repair silently: a new repair for a site and
line with an open repair is refused naming the open order (409), unless the agent says
it is a different fault (``duplicate_ok``, audited). The call itself is recorded on the
open order: a comment in the order's comments (who called, what they said) and a
``repeat_contact`` event in its audit trail.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import N_, Conflict
from core.models import AuditEvent
from workorders import comments
from workorders.lifecycle import OPEN_STATES, STAFF, is_open
from workorders.models import OrderComment, Site, WorkOrder

REPEAT_CONTACT = "repeat_contact"
DUPLICATE_ACCEPTED = "duplicate_repair_accepted"


def open_repairs_at(session: Session, site_id: int, line_id: int | None) -> list[WorkOrder]:
    """Open repairs at the site on the same line (an order without a line counts for every
    line of its site), oldest first."""
    stmt = select(WorkOrder).where(
        WorkOrder.site_id == site_id, WorkOrder.kind == "repair", WorkOrder.state.in_(OPEN_STATES)
    )
    if line_id is not None:
        stmt = stmt.where(or_(WorkOrder.line_id == line_id, WorkOrder.line_id.is_(None)))
    return list(session.scalars(stmt.order_by(WorkOrder.created_at, WorkOrder.id)))


def _target_line_id(site: Site, data: dict) -> int | None:
    """The line the new order will name: the one sent, else the site's first (as intake does)."""
    if data.get("line_id") is not None:
        return data["line_id"]
    return site.lines[0].id if site.lines else None


def open_repairs_for(session: Session, data: dict) -> list[WorkOrder]:
    """The open repairs a new repair described by ``data`` (an intake body) would repeat;
    none when the body's customer and site do not belong together (intake refuses those)."""
    if data.get("kind") != "repair" or data.get("site_id") is None:
        return []
    site = session.get(Site, data["site_id"])
    if site is None or site.customer_id != data.get("customer_id"):
        return []
    return open_repairs_at(session, site.id, _target_line_id(site, data))


def open_order_ref(order: WorkOrder) -> dict:
    """How a refusal or a preview names an open order."""
    return {"id": order.id, "code": order.code, "state": order.state}


def guard_duplicate(session: Session, actor: Actor, data: dict) -> list[WorkOrder]:
    """Refuse (409, naming the open order) a staff member's new repair that repeats an open
    one at the same site and line, unless ``data["duplicate_ok"]``; then the open repairs
    are returned for :func:`record_duplicate_accepted`. A customer's own report is not
    guarded here (the portal lists their open orders)."""
    if actor.role not in STAFF:
        return []
    found = open_repairs_for(session, data)
    if found and not data.get("duplicate_ok"):
        first = found[0]
        raise Conflict(
            N_(
                "Order %(code)s is already open for this site and line: record the call on it, "
                "or confirm that this is another fault."
            ),
            slug="duplicate-repair",
            params={"code": first.code},
            open_order=open_order_ref(first),
            open_orders=[open_order_ref(o) for o in found],
        )
    return found


def record_duplicate_accepted(session: Session, actor: Actor, order: WorkOrder, open_repairs: list) -> None:
    """Audit that ``order`` was taken although ``open_repairs`` were open at its site and line."""
    if not open_repairs:
        return
    audit.record(
        session,
        actor,
        DUPLICATE_ACCEPTED,
        "work_order",
        order.id,
        after={"open_orders": [open_order_ref(o) for o in open_repairs]},
    )


def _contact_text(caller_name: str, caller_phone: str | None, note: str | None) -> str:
    # Both languages' words, like a fault report's lines, so every reader understands them.
    who = " ".join(p.strip() for p in (caller_name, caller_phone or "") if p and p.strip())
    lines = [f"再次来电 / Repeat call: {who}"]
    if note and note.strip():
        lines.append(note.strip())
    return "\n".join(lines)


def record_repeat_contact(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    caller_name: str,
    caller_phone: str | None = None,
    note: str | None = None,
) -> OrderComment:
    """A customer called again about ``order`` (still open): the call becomes a comment on
    it and a ``repeat_contact`` audit event (who called, the note, who took the call)."""
    if not is_open(order):
        raise Conflict(
            N_("Order %(code)s is no longer open: take a new order for this call."),
            slug="order-not-open",
            params={"code": order.code},
        )
    comment = comments.add_comment(session, actor, order, _contact_text(caller_name, caller_phone, note))
    audit.record(
        session,
        actor,
        REPEAT_CONTACT,
        "work_order",
        order.id,
        after={
            "caller_name": caller_name,
            "caller_phone": caller_phone,
            "note": note,
            "comment_id": comment.id,
        },
    )
    return comment


def repeat_contact_counts(session: Session, order_ids: list[int]) -> dict[int, int]:
    """How many repeat calls each order has had."""
    if not order_ids:
        return {}
    stmt = (
        select(AuditEvent.entity_id, func.count(AuditEvent.id))
        .where(
            AuditEvent.entity_type == "work_order",
            AuditEvent.action == REPEAT_CONTACT,
            AuditEvent.entity_id.in_(order_ids),
        )
        .group_by(AuditEvent.entity_id)
    )
    return {int(order_id): int(count) for order_id, count in session.execute(stmt)}
