"""Reading orders: who may see which, the audit of staff reading customers'
data, and what staff and customers are shown of one order.

The views carry each code's label in the reader's language
(:mod:`workorders.labels`) beside the code itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import N_, NotFound
from workorders import lifecycle
from workorders.labels import label
from workorders.lifecycle import State
from workorders.models import Site, WorkOrder
from workorders.sla import sla_status


def _scope(stmt, actor: Actor):
    if actor.role == "customer":
        return stmt.where(WorkOrder.customer_id == actor.customer_id)
    if actor.role == "technician":
        if actor.technician_id is None:  # a technician login without a profile sees nothing
            return stmt.where(false())
        return stmt.where(WorkOrder.technician_id == actor.technician_id)
    return stmt


def record_personal_reads(session: Session, actor: Actor, orders: list[WorkOrder], via: str) -> None:
    """Audit a staff read of customers' personal data (names, phones, addresses):
    one event per request, naming every customer shown. A customer reading
    their own orders is not audited."""
    if actor.role == "customer" or not orders:
        return
    customer_ids = sorted({o.customer_id for o in orders})
    audit.record(
        session,
        actor,
        "read_personal",
        "customer",
        customer_ids[0] if len(customer_ids) == 1 else None,
        after={"via": via, "customer_ids": customer_ids, "orders": len(orders)},
    )


def get_order_for(session: Session, actor: Actor, order_id: int) -> WorkOrder:
    """The order if the actor may see it; otherwise 404 (never reveal that it exists)."""
    order = session.scalar(_scope(select(WorkOrder).where(WorkOrder.id == order_id), actor))
    if order is None:
        raise NotFound(N_("Work order %(id)s not found."), params={"id": order_id})
    return order


def list_orders(session: Session, actor: Actor, filters: dict) -> list[WorkOrder]:
    """Orders the actor may see, newest first, filtered."""
    stmt = _scope(select(WorkOrder), actor)
    for field in ("state", "kind", "priority", "technician_id", "customer_id"):
        if filters.get(field) is not None:
            stmt = stmt.where(getattr(WorkOrder, field) == filters[field])
    if filters.get("district"):
        stmt = stmt.join(Site, WorkOrder.site_id == Site.id).where(Site.district == filters["district"])
    stmt = (
        stmt.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        .limit(filters.get("limit", 100))
        .offset(filters.get("offset", 0))
    )
    return list(session.scalars(stmt))


# ---------------------------------------------------------------- what each reader sees

STAFF_COLUMNS = (
    "id",
    "code",
    "kind",
    "product",
    "priority",
    "source",
    "description",
    "state",
    "customer_id",
    "site_id",
    "line_id",
    "parent_id",
    "owner_id",
    "technician_id",
    "appointment_start",
    "appointment_end",
    "planned_start",
    "response_deadline",
    "restore_deadline",
    "deadline_source",
    "required_skills",
    "duration_min",
    "rule_set_version",
    "blocked",
    "checklist",
    "closeout_findings",
    "override",
    "followup_method",
    "followup_satisfied",
    "followup_note",
    "arrived_at",
    "completed_at",
    "closed_at",
    "state_reason",
    "created_at",
    "updated_at",
    "version",
)
CUSTOMER_COLUMNS = (
    "id",
    "code",
    "kind",
    "product",
    "priority",
    "state",
    "description",
    "appointment_start",
    "appointment_end",
    "planned_start",
    "response_deadline",
    "restore_deadline",
    "parent_id",
    "created_at",
)


def code_labels(order: WorkOrder, lang: str) -> dict[str, str]:
    """The labels of the order's codes (state, kind, product, priority) in ``lang``."""
    return {
        "state_label": label("state", order.state, lang),
        "kind_label": label("kind", order.kind, lang),
        "product_label": label("product", order.product, lang),
        "priority_label": label("priority", order.priority, lang),
    }


def staff_view(order: WorkOrder, lang: str = "zh") -> dict[str, Any]:
    """Everything a dispatcher needs about one order."""
    findings = [
        dict(f, message=f["message_en"] if lang == "en" else f["message_zh"]) for f in order.findings or []
    ]
    return {
        **{column: getattr(order, column) for column in STAFF_COLUMNS},
        **code_labels(order, lang),
        "findings": findings,
        "allowed_next": lifecycle.allowed_next(order.state),
        "customer_name": order.customer.name,
        "customer_kind": order.customer.kind,
        "enterprise_tier": order.customer.enterprise_tier,
        "address": order.site.address,
        "district": order.site.district,
        "lat": order.site.lat,
        "lon": order.site.lon,
        "owner_name": order.owner.display_name if order.owner else None,
        "technician_name": order.technician.name if order.technician else None,
        "sla": sla_status(order),
    }


def customer_view(session: Session, order: WorkOrder, lang: str = "zh") -> dict[str, Any]:
    """What a customer may see of their own order: status, promised times, a timeline."""
    timeline = [
        {"state": State.RECEIVED, "state_label": label("state", State.RECEIVED, lang), "at": order.created_at}
    ]
    for event in audit.trail(session, "work_order", order.id):
        if event.action.startswith("state:"):
            state = event.action.split(":", 1)[1]
            timeline.append({"state": state, "state_label": label("state", state, lang), "at": event.at})
    return {
        **{column: getattr(order, column) for column in CUSTOMER_COLUMNS},
        **code_labels(order, lang),
        "address": order.site.address,
        "technician_name": order.technician.name if order.technician else None,
        "timeline": timeline,
    }
