"""report facts answer the figures' fixed comparisons once per write (static_code), and keep
each order's day, week and month

A year's report asks some thirty comparisons of every order (reports.atoms); most of them
compare an order's own columns (its kind, whether it was answered within its deadline, its
follow-up's score) and not the moment the report judges at, so their answers only change when
the order does. A generated column keeps them, two bits each at most, laid out as
reports.atoms reads reports.facts.STORED_ATOMS: stored on PostgreSQL (computed when the row is
written), virtual on SQLite (computed when read, as before). Likewise received_day, _week and
_month: a report grouped by period reads them instead of truncating a year of timestamps
(reports.sql reads them on PostgreSQL). The covering place index includes static_code, so a
district's report stays index-only (the periods would pass PostgreSQL's 32 columns).

Revision ID: a15e00000001
Revises: a15d00000001
Create Date: 2026-12-01 00:05:00
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "a15e00000001"
down_revision = "a15d00000001"
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
    " WHEN NOT (followup_satisfaction >= 4) THEN 0 ELSE 4294967296 END) AS BIGINT)"
)


def _followup_migration():
    """a15d00000001's constants (the place index's columns), read from its own file."""
    path = Path(__file__).with_name("a15d00000001_report_followup_facts.py")
    spec = importlib.util.spec_from_file_location("report_followup_facts_a15d", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PREVIOUS = _followup_migration()


# reports.facts.PERIOD_COLUMNS: the day, week (from Monday) and month an order came in
PERIODS = {
    "received_day": ("date_trunc('day', received_at)", "datetime(received_at, 'start of day')"),
    "received_week": (
        "date_trunc('week', received_at)",
        "datetime(received_at, '-6 days', 'weekday 1', 'start of day')",
    ),
    "received_month": ("date_trunc('month', received_at)", "datetime(received_at, 'start of month')"),
}


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    kind = "STORED" if postgresql else "VIRTUAL"
    columns = [f"ADD COLUMN static_code BIGINT GENERATED ALWAYS AS ({STATIC_CODE_SQL}) {kind}"]
    for name, (on_postgresql, on_sqlite) in PERIODS.items():
        spelled = on_postgresql if postgresql else on_sqlite
        timestamp = "TIMESTAMP" if postgresql else "DATETIME"  # what DateTime is on each
        columns.append(f"ADD COLUMN {name} {timestamp} GENERATED ALWAYS AS ({spelled}) {kind}")
    if postgresql:  # one rewrite of the table for all of them
        op.execute(f"ALTER TABLE report_order_facts {', '.join(columns)}")
    else:
        for column in columns:
            op.execute(f"ALTER TABLE report_order_facts {column}")
    # static_code makes 32 columns, PostgreSQL's most for an index: the periods stay out
    PREVIOUS._indexes([*PREVIOUS.PLACE_INCLUDES, "static_code"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE report_order_facts")


def downgrade() -> None:
    PREVIOUS._indexes(PREVIOUS.PLACE_INCLUDES)
    for column in ("static_code", *PERIODS):
        op.execute(f"ALTER TABLE report_order_facts DROP COLUMN {column}")
