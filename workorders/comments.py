"""Comments on an order, both ways: the order's own company's customer users and
staff (account manager, dispatcher, agent, manager, admin). Each comment writes
an audit event. Callers find the order with :func:`workorders.service.get_order_for`
first, so another company's order answers 404 like a missing one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Forbidden, Invalid
from core.models import User
from workorders.labels import label
from workorders.lifecycle import STAFF
from workorders.models import OrderComment, WorkOrder

MAX_BODY = 2000
COMMENT_ROLES = frozenset(STAFF) | {"customer"}


def _may_comment(actor: Actor, order: WorkOrder) -> None:
    if actor.role not in COMMENT_ROLES:
        raise Forbidden(N_("Your role may not comment on orders."))
    if actor.role == "customer" and actor.customer_id != order.customer_id:
        raise Forbidden(N_("Your role may not comment on orders."))


def _clean_body(body: str | None) -> str:
    text = (body or "").strip()
    if not 1 <= len(text) <= MAX_BODY:
        message = N_("A comment holds 1 to %(max)s characters.")
        raise Invalid(message, params={"max": MAX_BODY}, errors={"body": [message]})
    return text


def add_comment(session: Session, actor: Actor, order: WorkOrder, body: str | None) -> OrderComment:
    """Add a comment to ``order`` (already read through get_order_for) and audit it."""
    _may_comment(actor, order)
    comment = OrderComment(
        order_id=order.id, author_id=actor.user_id, body=_clean_body(body), created_at=now()
    )
    session.add(comment)
    session.flush()
    audit.record(
        session,
        actor,
        "comment_added",
        "work_order",
        order.id,
        after={"comment_id": comment.id, "chars": len(comment.body)},
    )
    return comment


def list_comments(session: Session, actor: Actor, order: WorkOrder, lang: str = "zh") -> list[dict[str, Any]]:
    """The order's comments, oldest first, each with its author's name and role in ``lang``."""
    _may_comment(actor, order)
    return comment_items(session, order, lang, actor.user_id)


def comment_items(
    session: Session, order: WorkOrder, lang: str = "zh", reader_id: int | None = None
) -> list[dict[str, Any]]:
    """The order's comments as plain dicts (for the console panel: staff only, no check here)."""
    stmt = (
        select(OrderComment, User.display_name, User.role)
        .join(User, OrderComment.author_id == User.id)
        .where(OrderComment.order_id == order.id)
        .order_by(OrderComment.created_at, OrderComment.id)
    )
    return [
        {
            "id": comment.id,
            "body": comment.body,
            "created_at": comment.created_at,
            "author_name": name,
            "author_role": role,
            "author_role_label": label("role", role, lang),
            "mine": reader_id is not None and comment.author_id == reader_id,
        }
        for comment, name, role in session.execute(stmt)
    ]


def comment_view(session: Session, comment: OrderComment, lang: str = "zh") -> dict[str, Any]:
    """One comment as the API answers after adding it."""
    author = session.get(User, comment.author_id)
    return {
        "id": comment.id,
        "body": comment.body,
        "created_at": comment.created_at,
        "author_name": author.display_name if author else None,
        "author_role": author.role if author else None,
        "author_role_label": label("role", author.role if author else None, lang),
        "mine": True,
    }
