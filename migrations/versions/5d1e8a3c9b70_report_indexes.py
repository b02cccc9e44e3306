"""indexes for the managers' reports (repeat faults, backlog, order history)

Revision ID: 5d1e8a3c9b70
Revises: f4edaf2fa5e7
Create Date: 2026-11-30 11:00:00
"""

from alembic import op


revision = "5d1e8a3c9b70"
down_revision = "f4edaf2fa5e7"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_work_orders_site_id_received_at", "work_orders", ["site_id", "received_at"])
    op.create_index("ix_work_orders_line_id_received_at", "work_orders", ["line_id", "received_at"])
    op.create_index("ix_work_orders_completed_at", "work_orders", ["completed_at"])
    op.create_index("ix_audit_events_entity_action", "audit_events", ["entity_type", "entity_id", "action"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_entity_action", table_name="audit_events")
    op.drop_index("ix_work_orders_completed_at", table_name="work_orders")
    op.drop_index("ix_work_orders_line_id_received_at", table_name="work_orders")
    op.drop_index("ix_work_orders_site_id_received_at", table_name="work_orders")
