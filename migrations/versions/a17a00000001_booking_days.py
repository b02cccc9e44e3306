"""booking_days: the row a booking locks, one per day

Revision ID: a17a00000001
Revises: 5d1e8a3c9b70
Create Date: 2026-11-30 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a17a00000001"
down_revision = "5d1e8a3c9b70"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "booking_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bookings", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_booking_days")),
    )


def downgrade() -> None:
    op.drop_table("booking_days")
