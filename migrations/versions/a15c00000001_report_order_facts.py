"""report facts: one narrow row per work order for the managers' reports, kept by the database

A table report_order_facts holding only the columns the report figures read (the order's own,
under the same names, plus its site's district and its customer's tier), so a year's report
scans a narrow table with no joins instead of the wide work_orders heap joined to sites and
customers (reports.facts). Triggers keep it: after an order is inserted or updated its row is
re-read from work_orders (not from NEW, so the values the other triggers set on the same
order, the durations and the repeat flag, are the ones copied) and upserted; deleting an order
deletes it; a site's district or a customer's tier changing is copied to their orders' facts.
The first time an order went to needs_revisit or was cancelled (its audit trail) is kept too,
so a report builds no set of audited order ids per figure. A covering index on (district,
product, received_at) makes a district's report an index-only scan on PostgreSQL, and
statistics on the period truncations let its planner see a year as 12 months, not 1M groups.
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
# reports.facts.EVENT_COLUMNS: the first time the order's audit trail holds an action
EVENTS = {"revisit_at": "state:needs_revisit", "cancelled_at": "state:cancelled"}
COLUMNS = (*ORDER_COLUMNS, "district", "enterprise_tier", *EVENTS)
PLACE_INCLUDES = [
    *(name for name in ORDER_COLUMNS if name not in {"product", "received_at"}),
    "enterprise_tier",
    *EVENTS,
]


def _first_event(action: str, order_id: str) -> str:
    return (
        "(SELECT min(a.at) FROM audit_events a WHERE a.entity_type = 'work_order' "
        f"AND a.entity_id = {order_id} AND a.action = '{action}')"
    )


SELECTED = ", ".join(
    [
        *(f"w.{name}" for name in ORDER_COLUMNS),
        "s.district",
        "c.enterprise_tier",
        *(_first_event(action, "w.id") for action in EVENTS.values()),
    ]
)
FROM = "work_orders w LEFT JOIN sites s ON s.id = w.site_id LEFT JOIN customers c ON c.id = w.customer_id"
# The events' times recomputed for one order (an audit event written, changed or deleted).
EVENTS_OF = ", ".join(
    f"{column} = {_first_event(action, '{row}.entity_id')}" for column, action in EVENTS.items()
)

# PostgreSQL estimates how many periods a year holds (one per order without these statistics).
PERIOD_STATISTICS = ("day", "week", "month")


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
        sa.Column("revisit_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_order_facts")),
    )


def _create_indexes() -> None:
    op.create_index("ix_report_order_facts_received_at", "report_order_facts", ["received_at"])
    op.create_index(
        "ix_report_order_facts_place",
        "report_order_facts",
        ["district", "product", "received_at"],
        postgresql_include=PLACE_INCLUDES,
    )
    op.create_index("ix_report_order_facts_completed_at", "report_order_facts", ["completed_at"])


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
        "CREATE FUNCTION audit_event_report_facts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP <> 'INSERT' AND OLD.entity_type = 'work_order' THEN "
        f"UPDATE report_order_facts SET {EVENTS_OF.format(row='OLD')} WHERE id = OLD.entity_id; END IF; "
        "IF TG_OP <> 'DELETE' AND NEW.entity_type = 'work_order' THEN "
        f"UPDATE report_order_facts SET {EVENTS_OF.format(row='NEW')} WHERE id = NEW.entity_id; END IF; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_events_report_facts AFTER INSERT OR UPDATE OR DELETE ON audit_events "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_report_facts()"
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
    for event, rows in (("insert", ("NEW",)), ("update", ("OLD", "NEW")), ("delete", ("OLD",))):
        updates = " ".join(
            f"UPDATE report_order_facts SET {EVENTS_OF.format(row=row)} WHERE id = {row}.entity_id;"
            for row in rows
        )
        op.execute(
            f"CREATE TRIGGER audit_events_report_facts_{event} AFTER {event.upper()} ON audit_events "
            f"BEGIN {updates} END"
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
        for unit in PERIOD_STATISTICS:
            op.execute(
                f"CREATE STATISTICS report_order_facts_{unit} ON (date_trunc('{unit}', received_at)) "
                "FROM report_order_facts"
            )
        op.execute("ANALYZE report_order_facts")
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for unit in PERIOD_STATISTICS:
            op.execute(f"DROP STATISTICS report_order_facts_{unit}")
        op.execute("DROP TRIGGER audit_events_report_facts ON audit_events")
        op.execute("DROP FUNCTION audit_event_report_facts()")
        op.execute("DROP TRIGGER customers_report_facts ON customers")
        op.execute("DROP FUNCTION customer_report_facts()")
        op.execute("DROP TRIGGER sites_report_facts ON sites")
        op.execute("DROP FUNCTION site_report_facts()")
        op.execute("DROP TRIGGER work_orders_report_facts ON work_orders")
        op.execute("DROP FUNCTION work_order_report_facts()")
    else:
        for name in (
            "audit_events_report_facts_delete",
            "audit_events_report_facts_update",
            "audit_events_report_facts_insert",
            "customers_report_facts",
            "sites_report_facts",
            "work_orders_report_facts_delete",
            "work_orders_report_facts_update",
            "work_orders_report_facts_insert",
        ):
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("report_order_facts")
