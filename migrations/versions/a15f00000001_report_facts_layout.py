"""report facts laid out for a year's scan; static_code also says which values an order has

PostgreSQL reads a row's columns in their order up to the last one a query needs, so a year's
report, reading a million rows, paid for every text column laid out before its timestamps and
durations. On PostgreSQL the table is built again (copied in the order orders came in) with
the columns a report reads in every row first: the fixed-width keys, static_code and the
periods, the times compared with the report's moment, the durations; then what a report
groups by; then the rest. Its indexes, constraints and statistics are made again as they were.

static_code gains four atoms (reports.facts.STORED_ATOMS): whether the order has a response
time, a time to restore or deliver, an on-site time, a planned duration; a mean's count is then
read from it instead of counted value by value. On SQLite the virtual column is just redefined.

Revision ID: a15f00000001
Revises: a15e00000001
Create Date: 2026-12-01 04:00:00
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "a15f00000001"
down_revision = "a15e00000001"
branch_labels = None
depends_on = None

# reports.facts.STATIC_CODE_SQL as of this revision
STATIC_CODE_SQL = (
    "CAST((CASE WHEN id IS NOT NULL THEN 1 ELSE 0 END"
    " + CASE WHEN completed_at IS NOT NULL THEN 2 ELSE 0 END"
    " + CASE WHEN state = 'cancelled' THEN 4 ELSE 0 END"
    " + CASE WHEN kind IN ('install', 'repair') THEN 8 ELSE 0 END"
    " + CASE WHEN responded_at IS NOT NULL THEN 16 ELSE 0 END"
    " + CASE WHEN responded_at <= response_deadline THEN 32"
    " WHEN NOT (responded_at <= response_deadline) THEN 0 ELSE 64 END"
    " + CASE WHEN response_deadline IS NOT NULL THEN 128 ELSE 0 END"
    " + CASE WHEN kind = 'repair' THEN 256 ELSE 0 END"
    " + CASE WHEN completed_at <= restore_deadline THEN 512"
    " WHEN NOT (completed_at <= restore_deadline) THEN 0 ELSE 1024 END"
    " + CASE WHEN restore_deadline IS NOT NULL THEN 2048 ELSE 0 END"
    " + CASE WHEN revisit_at IS NOT NULL THEN 4096 ELSE 0 END"
    " + CASE WHEN repeat_within_30d IS true THEN 8192 ELSE 0 END"
    " + CASE WHEN is_repeat_fault IS true THEN 16384 ELSE 0 END"
    " + CASE WHEN kind = 'complaint' THEN 32768 ELSE 0 END"
    " + CASE WHEN handled_at IS NOT NULL THEN 65536 ELSE 0 END"
    " + CASE WHEN handled_at <= handling_deadline THEN 131072"
    " WHEN NOT (handled_at <= handling_deadline) THEN 0 ELSE 262144 END"
    " + CASE WHEN handling_deadline IS NOT NULL THEN 524288 ELSE 0 END"
    " + CASE WHEN kind = 'install' THEN 1048576 ELSE 0 END"
    " + CASE WHEN arrived_at IS NOT NULL THEN 2097152 ELSE 0 END"
    " + CASE WHEN followup_count = 1 THEN 4194304 ELSE 0 END"
    " + CASE WHEN followup_state = 'cancelled' THEN 8388608"
    " WHEN NOT (followup_state = 'cancelled') THEN 0 ELSE 16777216 END"
    " + CASE WHEN followup_state = 'done' THEN 33554432"
    " WHEN NOT (followup_state = 'done') THEN 0 ELSE 67108864 END"
    " + CASE WHEN followup_completed_at IS NOT NULL THEN 134217728 ELSE 0 END"
    " + CASE WHEN followup_completed_at <= followup_due_at THEN 268435456"
    " WHEN NOT (followup_completed_at <= followup_due_at) THEN 0 ELSE 536870912 END"
    " + CASE WHEN followup_satisfaction IS NOT NULL THEN 1073741824 ELSE 0 END"
    " + CASE WHEN followup_satisfaction >= 4 THEN 2147483648"
    " WHEN NOT (followup_satisfaction >= 4) THEN 0 ELSE 4294967296 END"
    " + CASE WHEN response_s IS NOT NULL THEN 8589934592 ELSE 0 END"
    " + CASE WHEN elapsed_without_pauses_s IS NOT NULL THEN 17179869184 ELSE 0 END"
    " + CASE WHEN on_site_s IS NOT NULL THEN 34359738368 ELSE 0 END"
    " + CASE WHEN duration_min IS NOT NULL THEN 68719476736 ELSE 0 END) AS BIGINT)"
)

# PostgreSQL's column order: what a report reads of every row first, the rest after (a column
# not named here, added later, would go last)
LAYOUT = (
    "id",
    "followup_count",
    "received_at",
    "static_code",
    "received_month",
    "received_week",
    "received_day",
    "responded_at",
    "completed_at",
    "response_s",
    "elapsed_without_pauses_s",
    "on_site_s",
    "response_deadline",
    "restore_deadline",
    "handled_at",
    "handling_deadline",
    "followup_due_at",
    "followup_completed_at",
    "duration_min",
    "followup_satisfaction",
    "technician_id",
    "repeat_within_30d",
    "is_repeat_fault",
    "arrived_at",
    "district",
    "product",
    "kind",
    "priority",
    "source",
    "enterprise_tier",
    "state",
    "followup_state",
    "updated_at",
    "revisit_at",
    "cancelled_at",
)


def _static_code_migration():
    """a15e00000001's constants (the static code it wrote, the place index's columns)."""
    path = Path(__file__).with_name("a15e00000001_report_static_code.py")
    spec = importlib.util.spec_from_file_location("report_static_code_a15e", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PREVIOUS = _static_code_migration()
PLACE_INCLUDES = [*PREVIOUS.PREVIOUS.PLACE_INCLUDES, "static_code"]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _rebuild_postgresql()
    else:
        _static_code(STATIC_CODE_SQL)


def downgrade() -> None:
    # the column order stays: only the static code goes back to a15e00000001's
    _static_code(PREVIOUS.STATIC_CODE_SQL)


def _static_code(expression: str) -> None:
    """static_code generated by ``expression`` (the place index holds it on PostgreSQL)."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        PREVIOUS.PREVIOUS._indexes(PREVIOUS.PREVIOUS.PLACE_INCLUDES)
    op.execute("ALTER TABLE report_order_facts DROP COLUMN static_code")
    kind = "STORED" if postgresql else "VIRTUAL"
    op.execute(
        f"ALTER TABLE report_order_facts ADD COLUMN static_code BIGINT GENERATED ALWAYS AS ({expression}) {kind}"
    )
    if postgresql:
        PREVIOUS.PREVIOUS._indexes(PLACE_INCLUDES)
        op.execute("ANALYZE report_order_facts")


def _rebuild_postgresql() -> None:
    """report_order_facts copied into a table of the same columns in LAYOUT's order, which then
    takes its name, its constraints, indexes and statistics (their definitions read from the
    catalog before the old table goes). The triggers that keep it name it in their bodies."""
    bind = op.get_bind()
    columns = {
        row.name: row
        for row in bind.exec_driver_sql(
            "SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null, "
            "a.attgenerated AS generated, pg_get_expr(d.adbin, d.adrelid) AS expression "
            "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE a.attrelid = 'report_order_facts'::regclass AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum"
        )
    }
    order = [name for name in LAYOUT if name in columns] + [name for name in columns if name not in LAYOUT]
    definitions, copied = [], []
    for name in order:
        column = columns[name]
        spelled = f"{name} {column.type}"
        if name == "static_code":
            spelled += f" GENERATED ALWAYS AS ({STATIC_CODE_SQL}) STORED"
        elif column.generated == "s":
            spelled += f" GENERATED ALWAYS AS ({column.expression}) STORED"
        else:
            copied.append(name)
            if column.expression is not None:
                spelled += f" DEFAULT {column.expression}"
        if column.not_null:
            spelled += " NOT NULL"
        definitions.append(spelled)
    constraints = bind.exec_driver_sql(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'report_order_facts'::regclass ORDER BY conname"
    ).all()
    indexes = (
        bind.exec_driver_sql(
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = 'report_order_facts'::regclass "
            "AND i.indexrelid NOT IN (SELECT conindid FROM pg_constraint WHERE conrelid = i.indrelid) "
            "ORDER BY i.indexrelid::regclass::text"
        )
        .scalars()
        .all()
    )
    statistics = (
        bind.exec_driver_sql(
            "SELECT pg_get_statisticsobjdef(oid) FROM pg_statistic_ext "
            "WHERE stxrelid = 'report_order_facts'::regclass ORDER BY stxname"
        )
        .scalars()
        .all()
    )
    op.execute(f"CREATE TABLE report_order_facts_laid_out ({', '.join(definitions)})")
    listed = ", ".join(copied)
    op.execute(
        f"INSERT INTO report_order_facts_laid_out ({listed}) "
        f"SELECT {listed} FROM report_order_facts ORDER BY received_at, id"
    )
    op.execute("DROP TABLE report_order_facts")
    op.execute("ALTER TABLE report_order_facts_laid_out RENAME TO report_order_facts")
    for name, definition in constraints:
        op.execute(f"ALTER TABLE report_order_facts ADD CONSTRAINT {name} {definition}")
    for definition in (*indexes, *statistics):
        op.execute(definition)
    op.execute("ANALYZE report_order_facts")
