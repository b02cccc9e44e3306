"""company accounts and order comments

Revision ID: b7c13e0a2f41
Revises: 87144051f51c
Create Date: 2026-11-30 09:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = "b7c13e0a2f41"
down_revision = "87144051f51c"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("company_admin", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account_manager_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_customers_account_manager_id_users"), "users", ["account_manager_id"], ["id"]
        )
    op.create_table(
        "order_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["users.id"], name=op.f("fk_order_comments_author_id_users")),
        sa.ForeignKeyConstraint(
            ["order_id"], ["work_orders.id"], name=op.f("fk_order_comments_order_id_work_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_comments")),
    )
    with op.batch_alter_table("order_comments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_comments_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("order_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_comments_order_id"))
    op.drop_table("order_comments")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_customers_account_manager_id_users"), type_="foreignkey")
        batch_op.drop_column("account_manager_id")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("company_admin")
