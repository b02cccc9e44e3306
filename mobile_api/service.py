"""Which order the phone may change, and what every change from the phone records.

The phone's services live by concern beside this module: ``stops`` (the day's
route, one stop, the profile), ``status_changes``, ``checklists``, ``pings``,
``followups`` and ``sync`` (actions queued offline). No Flask in any of them:
views pass the session, the Actor and the caller's language. Every change goes
through ``workorders.service`` (lifecycle, SLA clock, audit trail); these
modules add what only the phone needs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.errors import N_, Conflict, NotFound, refuse
from core.models import AuditEvent
from workorders import service as wo_service
from workorders.lifecycle import State
from workorders.models import WorkOrder

_ASSIGNED_ACTION = f"state:{State.ASSIGNED}"


def order_for_change(session: Session, actor: Actor, order_id: int) -> WorkOrder:
    """The technician's order, ready to change: 404 if not theirs, 409 if cancelled."""
    order = wo_service.get_order_for(session, actor, order_id)
    if order.state == State.CANCELLED:
        raise _cancelled(order)
    if order.technician_id != actor.technician_id:
        # A two-technician job: the second technician reads it and works beside the lead,
        # but the lead alone reports it (statuses, checklist, photos), so the order has one
        # lifecycle and one account of the visit.
        raise refuse(
            Conflict,
            N_("The crew's lead technician reports this order; your phone shows it read-only."),
            slug="crew-lead-reports",
            lead_technician_id=order.technician_id,
        )
    return order


def order_for_sync(session: Session, actor: Actor, order_id: int) -> WorkOrder:
    """Like order_for_change, but an order taken off this technician says so (409)."""
    try:
        return order_for_change(session, actor, order_id)
    except NotFound:
        order = session.get(WorkOrder, order_id)
        if order is None or not was_assigned_to(session, order_id, actor.technician_id):
            raise
        if order.state == State.CANCELLED:
            raise _cancelled(order) from None
        raise refuse(
            Conflict,
            N_("The dispatcher gave this order to someone else."),
            slug="order-reassigned",
            current=current_of(order),
        ) from None


def _cancelled(order: WorkOrder) -> Conflict:
    return refuse(
        Conflict,
        N_("The dispatcher cancelled this order."),
        slug="order-cancelled",
        reason=order.state_reason,
        current=current_of(order),
    )


def current_of(order: WorkOrder | None) -> dict[str, Any] | None:
    """What the phone should now believe about an order."""
    if order is None:
        return None
    return {"state": order.state, "technician_id": order.technician_id, "version": order.version}


def was_assigned_to(session: Session, order_id: int, technician_id: int | None) -> bool:
    """Whether the order was ever assigned to this technician (by its audit trail)."""
    stmt = select(AuditEvent.after).where(
        AuditEvent.entity_type == "work_order",
        AuditEvent.entity_id == order_id,
        AuditEvent.action == _ASSIGNED_ACTION,
    )
    return technician_id is not None and any(
        (after or {}).get("technician_id") == technician_id for after in session.scalars(stmt)
    )


def check_version(order: WorkOrder, version: int | None) -> None:
    """Refuse (409) a change made on an older version of the order than the current one."""
    if version is not None and version != order.version:
        raise refuse(
            Conflict,
            N_("The order changed since you loaded it."),
            slug="stale-version",
            current_version=order.version,
            current_state=order.state,
        )


def field_evidence(action: str, data: dict) -> dict[str, Any]:
    """Who-when-where for the audit trail: the phone's clock and GPS fix with the action."""
    client_time = data.get("client_time")
    return {
        "via": "mobile",
        "action": action,
        "client_time": client_time,
        "fix": [data["lat"], data["lon"]] if data.get("lat") is not None else None,
        "accuracy_m": data.get("accuracy_m"),
    }
