"""The technician's day as the phone sees it."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import standards
from core.actor import Actor
from workorders.models import WorkOrder

ROUTE_STATES = ("assigned", "en_route", "on_site")
VISIBLE_PHONE_STATES = ("en_route", "on_site")


def mask_phone(phone: str | None) -> str | None:
    """Keep the first three and last two digits: 138******21."""
    if not phone:
        return phone
    if len(phone) <= 5:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 5) + phone[-2:]


def todays_route(session: Session, actor: Actor, day: date) -> list[dict[str, Any]]:
    """The technician's open stops for `day`, in planned order (unplanned ones last)."""
    start, end = datetime.combine(day, time.min), datetime.combine(day, time.max)
    stmt = (select(WorkOrder)
            .where(WorkOrder.technician_id == actor.technician_id,
                   WorkOrder.state.in_(ROUTE_STATES),
                   or_(WorkOrder.planned_start.is_(None),
                       WorkOrder.planned_start.between(start, end)))
            .order_by(WorkOrder.planned_sequence.is_(None), WorkOrder.planned_sequence,
                      WorkOrder.planned_start, WorkOrder.id))
    stops = []
    for seq, order in enumerate(session.scalars(stmt), start=1):
        phone = order.customer.phone
        stops.append({
            "sequence": seq, "order_id": order.id, "code": order.code, "kind": order.kind,
            "product": order.product, "priority": order.priority, "state": order.state,
            "planned_start": order.planned_start,
            "appointment_start": order.appointment_start,
            "appointment_end": order.appointment_end,
            "address": order.site.address, "lat": order.site.lat, "lon": order.site.lon,
            "customer_name": order.customer.name,
            "customer_phone": phone if order.state in VISIBLE_PHONE_STATES else mask_phone(phone),
            "restore_deadline": order.restore_deadline, "findings": order.findings or [],
            "checklist": [item.to_dict() for item in
                          standards.checklist_for(order.kind, order.product)],
            "version": order.version,
        })
    return stops
