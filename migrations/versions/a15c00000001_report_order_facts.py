"""report facts: one narrow row per work order for the managers' reports, kept by the database

A table report_order_facts holding only the columns the report figures read (the order's own,
under the same names, plus its site's district and its customer's tier), so a year's report
scans a narrow table with no joins instead of the wide work_orders heap joined to sites and
customers (reports.facts). Triggers keep it: after an order is inserted or updated its row is
re-read from work_orders (not from NEW, so the values the other triggers set on the same
order, the durations and the repeat flag, are the ones copied) and upserted; deleting an order
deletes it; a site's district or a customer's tier changing is copied to their orders' facts.
Existing orders are copied in.

Revision ID: a15c00000001
Revises: a15b00000001
Create Date: 2026-11-30 17:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a15c00000001"
down_revision = "a15b00000001"
branch_labels = None
depends_on = None

# reports.facts.ORDER_COLUMNS: the order's columns copied as they are
ORDER_COLUMNS = (
    "id",
    "received_at",
    "kind",
    "product",
    "priority",
    "source",
    "state",
    "technician_id",
    "responded_at",
    "response_deadline",
    "arrived_at",
    "completed_at",
    "restore_deadline",
    "handled_at",
    "handling_deadline",
    "duration_min",
    "response_s",
    "on_site_s",
    "elapsed_without_pauses_s",
    "repeat_within_30d",
    "is_repeat_fault",
    "updated_at",
)
COLUMNS = (*ORDER_COLUMNS, "district", "enterprise_tier")
SELECTED = ", ".join([*(f"w.{name}" for name in ORDER_COLUMNS), "s.district", "c.enterprise_tier"])
FROM = "work_orders w LEFT JOIN sites s ON s.id = w.site_id LEFT JOIN customers c ON c.id = w.customer_id"


def _create_table() -> None:
    op.create_table(
        "report_order_facts",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("product", sa.String(length=40), nullable=False),
        sa.Column("priority", sa.String(length=2), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=True),
        sa.Column("district", sa.String(length=40), nullable=True),
        sa.Column("enterprise_tier", sa.String(length=20), nullable=True),
        sa.Column("responded_at", sa.DateTime(), nullable=True),
        sa.Column("response_deadline", sa.DateTime(), nullable=True),
        sa.Column("arrived_at", sa.DateTime(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("restore_deadline", sa.DateTime(), nullable=True),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.Column("handling_deadline", sa.DateTime(), nullable=True),
        sa.Column("duration_min", sa.Integer(), nullable=True),
        sa.Column("response_s", sa.Float(), nullable=True),
        sa.Column("on_site_s", sa.Float(), nullable=True),
        sa.Column("elapsed_without_pauses_s", sa.Float(), nullable=True),
        sa.Column("repeat_within_30d", sa.Boolean(), nullable=True),
        sa.Column("is_repeat_fault", sa.Boolean(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_order_facts")),
    )


def _create_indexes() -> None:
    for name, columns in (
        ("received_at", ["received_at"]),
        ("district_received_at", ["district", "received_at"]),
        ("product_received_at", ["product", "received_at"]),
        ("completed_at", ["completed_at"]),
    ):
        op.create_index(f"ix_report_order_facts_{name}", "report_order_facts", columns)


def _postgresql_triggers() -> None:
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in COLUMNS if name != "id")
    op.execute(
        "CREATE FUNCTION work_order_report_facts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP = 'DELETE' THEN DELETE FROM report_order_facts WHERE id = OLD.id; RETURN NULL; END IF; "
        f"INSERT INTO report_order_facts ({', '.join(COLUMNS)}) SELECT {SELECTED} FROM {FROM} "
        f"WHERE w.id = NEW.id ON CONFLICT (id) DO UPDATE SET {updates}; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER work_orders_report_facts AFTER INSERT OR UPDATE OR DELETE ON work_orders "
        "FOR EACH ROW EXECUTE FUNCTION work_order_report_facts()"
    )
    op.execute(
        "CREATE FUNCTION site_report_facts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE report_order_facts f SET district = NEW.district FROM work_orders w "
        "WHERE w.site_id = NEW.id AND f.id = w.id; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER sites_report_facts AFTER UPDATE OF district ON sites "
        "FOR EACH ROW WHEN (OLD.district IS DISTINCT FROM NEW.district) EXECUTE FUNCTION site_report_facts()"
    )
    op.execute(
        "CREATE FUNCTION customer_report_facts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE report_order_facts f SET enterprise_tier = NEW.enterprise_tier FROM work_orders w "
        "WHERE w.customer_id = NEW.id AND f.id = w.id; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER customers_report_facts AFTER UPDATE OF enterprise_tier ON customers FOR EACH ROW "
        "WHEN (OLD.enterprise_tier IS DISTINCT FROM NEW.enterprise_tier) EXECUTE FUNCTION customer_report_facts()"
    )


def _sqlite_triggers() -> None:
    copy = f"INSERT OR REPLACE INTO report_order_facts ({', '.join(COLUMNS)}) SELECT {SELECTED} FROM {FROM}"
    for event in ("insert", "update"):
        op.execute(
            f"CREATE TRIGGER work_orders_report_facts_{event} AFTER {event.upper()} ON work_orders "
            f"BEGIN {copy} WHERE w.id = NEW.id; END"
        )
    op.execute(
        "CREATE TRIGGER work_orders_report_facts_delete AFTER DELETE ON work_orders "
        "BEGIN DELETE FROM report_order_facts WHERE id = OLD.id; END"
    )
    op.execute(
        "CREATE TRIGGER sites_report_facts AFTER UPDATE OF district ON sites BEGIN "
        "UPDATE report_order_facts SET district = NEW.district "
        "WHERE id IN (SELECT id FROM work_orders WHERE site_id = NEW.id); END"
    )
    op.execute(
        "CREATE TRIGGER customers_report_facts AFTER UPDATE OF enterprise_tier ON customers BEGIN "
        "UPDATE report_order_facts SET enterprise_tier = NEW.enterprise_tier "
        "WHERE id IN (SELECT id FROM work_orders WHERE customer_id = NEW.id); END"
    )


def upgrade() -> None:
    _create_table()
    # copied before the indexes exist: one sorted build each instead of a million inserts
    op.execute(f"INSERT INTO report_order_facts ({', '.join(COLUMNS)}) SELECT {SELECTED} FROM {FROM}")
    _create_indexes()
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
        op.execute("ANALYZE report_order_facts")
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER customers_report_facts ON customers")
        op.execute("DROP FUNCTION customer_report_facts()")
        op.execute("DROP TRIGGER sites_report_facts ON sites")
        op.execute("DROP FUNCTION site_report_facts()")
        op.execute("DROP TRIGGER work_orders_report_facts ON work_orders")
        op.execute("DROP FUNCTION work_order_report_facts()")
    else:
        for name in (
            "customers_report_facts",
            "sites_report_facts",
            "work_orders_report_facts_delete",
            "work_orders_report_facts_update",
            "work_orders_report_facts_insert",
        ):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("report_order_facts")
