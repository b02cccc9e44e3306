"""The indexes the report queries need, declared on the tables they index.

They live here, not in the models of the packages that own the tables, because only the
reports need them; declared on the metadata (``application._import_models`` imports this
module) so Alembic's autogenerate sees them as wanted. Migration 5d1e8a3c9b70 creates them.
"""

from __future__ import annotations

from sqlalchemy import Index

from core.models import AuditEvent
from workorders.models import WorkOrder

# A later repair at the same site or on the same line (repeat faults), by when it came in.
REPEAT_BY_SITE = Index("ix_work_orders_site_id_received_at", WorkOrder.site_id, WorkOrder.received_at)
REPEAT_BY_LINE = Index("ix_work_orders_line_id_received_at", WorkOrder.line_id, WorkOrder.received_at)
# Open orders at a moment (the backlog) and completions in a range.
COMPLETED = Index("ix_work_orders_completed_at", WorkOrder.completed_at)
# Whether an order ever went to needs_revisit, or when it was cancelled.
ORDER_EVENTS = Index(
    "ix_audit_events_entity_action", AuditEvent.entity_type, AuditEvent.entity_id, AuditEvent.action
)
