"""equipment in the vans: items, depots, balances, the ledger of moves, serials

Revision ID: a16b00000001
Revises: a16a00000001
Create Date: 2026-11-30 14:00:00
"""

import sqlalchemy as sa
from alembic import op


revision = "a16b00000001"
down_revision = "a16a00000001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock_items",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=80), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("serialised", sa.Boolean(), nullable=False),
        sa.Column("van_max", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "stock_depots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "stock_balances",
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name="ck_stock_balances_not_negative"),
        sa.ForeignKeyConstraint(["item_code"], ["stock_items.code"]),
        sa.ForeignKeyConstraint(["technician_id"], ["technicians.id"]),
        sa.PrimaryKeyConstraint("technician_id", "item_code"),
    )
    op.create_table(
        "stock_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=60), nullable=True),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("depot_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("quantity > 0", name="ck_stock_moves_positive"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["depot_id"], ["stock_depots.id"]),
        sa.ForeignKeyConstraint(["item_code"], ["stock_items.code"]),
        sa.ForeignKeyConstraint(["technician_id"], ["technicians.id"]),
        sa.ForeignKeyConstraint(["work_order_id"], ["work_orders.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_stock_moves_technician_item", "stock_moves", ["technician_id", "item_code"])
    op.create_index("ix_stock_moves_serial", "stock_moves", ["serial"])
    op.create_index("ix_stock_moves_work_order", "stock_moves", ["work_order_id"])
    op.create_table(
        "stock_serials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("serial", sa.String(length=60), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_code"], ["stock_items.code"]),
        sa.ForeignKeyConstraint(["technician_id"], ["technicians.id"]),
        sa.ForeignKeyConstraint(["work_order_id"], ["work_orders.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_code", "serial", name="uq_stock_serials_item_serial"),
    )
    op.create_index("ix_stock_serials_serial", "stock_serials", ["serial"])


def downgrade() -> None:
    op.drop_index("ix_stock_serials_serial", table_name="stock_serials")
    op.drop_table("stock_serials")
    op.drop_index("ix_stock_moves_work_order", table_name="stock_moves")
    op.drop_index("ix_stock_moves_serial", table_name="stock_moves")
    op.drop_index("ix_stock_moves_technician_item", table_name="stock_moves")
    op.drop_table("stock_moves")
    op.drop_table("stock_balances")
    op.drop_table("stock_depots")
    op.drop_table("stock_items")
