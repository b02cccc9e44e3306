"""Audit trail: every change and every staff read of personal data."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.models import AuditEvent


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session (committed with the change it describes)."""
    event = AuditEvent(
        actor_id=actor.user_id,
        actor_name=actor.username,
        actor_role=actor.role,
        origin=actor.origin,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        reason=reason,
    )
    session.add(event)
    return event


def trail(session: Session, entity_type: str, entity_id: int) -> list[AuditEvent]:
    """Events for one entity, oldest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return list(session.scalars(stmt))
