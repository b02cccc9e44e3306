"""technicians a work order needs on site at once (crew size)

Revision ID: a17c00000001
Revises: 5d1e8a3c9b70
Create Date: 2026-11-30 14:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = "a17c00000001"
down_revision = "5d1e8a3c9b70"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_orders") as batch_op:
        batch_op.add_column(sa.Column("crew_size", sa.Integer(), server_default="1", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("work_orders") as batch_op:
        batch_op.drop_column("crew_size")
