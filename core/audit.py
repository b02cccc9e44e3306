"""Audit trail: every change and every staff read of personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.clock import to_city_aware
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
        before=_plain(before),
        after=_plain(after),
        reason=reason,
    )
    session.add(event)
    return event


def _plain(value: Any) -> Any:
    """The event's before/after as JSON: a datetime becomes ISO text with the city's offset
    ("2026-12-01T09:00:00+08:00"), the same as every API answer."""
    if isinstance(value, datetime):
        return to_city_aware(value).isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def trail(session: Session, entity_type: str, entity_id: int) -> list[AuditEvent]:
    """Events for one entity, oldest first."""
    stmt = (
        select(AuditEvent)
        .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return list(session.scalars(stmt))
