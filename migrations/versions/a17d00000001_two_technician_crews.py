"""two-technician jobs: an order's crew size and its second technician

work_orders.crew_size (1 or 2, default 1) and work_orders.second_technician_id (nullable,
technicians). The columns are added in place, not through a batch copy of work_orders, so the
report-duration triggers of a15a00000001 stay on the table (SQLite accepts an inline REFERENCES
on ADD COLUMN and drops such a column again since 3.35).

Revision ID: a17d00000001
Revises: a15a00000001
Create Date: 2026-11-30 15:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a17d00000001"
down_revision = "a15a00000001"
branch_labels = None
depends_on = None

FK_NAME = "fk_work_orders_second_technician_id_technicians"
INDEX_NAME = "ix_work_orders_second_technician_id"


def upgrade() -> None:
    op.add_column("work_orders", sa.Column("crew_size", sa.Integer(), nullable=False, server_default="1"))
    if op.get_bind().dialect.name == "postgresql":
        op.add_column("work_orders", sa.Column("second_technician_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FK_NAME, "work_orders", "technicians", ["second_technician_id"], ["id"])
    else:
        op.execute(
            "ALTER TABLE work_orders ADD COLUMN second_technician_id INTEGER "
            f"CONSTRAINT {FK_NAME} REFERENCES technicians (id)"
        )
    op.create_index(INDEX_NAME, "work_orders", ["second_technician_id"])


def downgrade() -> None:
    op.drop_index(INDEX_NAME, table_name="work_orders")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(FK_NAME, "work_orders", type_="foreignkey")
    op.execute("ALTER TABLE work_orders DROP COLUMN second_technician_id")
    op.execute("ALTER TABLE work_orders DROP COLUMN crew_size")
