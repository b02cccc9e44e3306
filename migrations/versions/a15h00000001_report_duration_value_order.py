"""the duration indexes in value order, with every dimension a report groups on

A report's duration percentiles sort each group's values. The indexes of a15g00000001 held a
duration's orders by (month, value): a report by month read each month's values sorted, but
any other grouping read the table and sorted its rows by group, then each group's values. The
same indexes keyed by the value alone, including every dimension and period a report groups
on (reports.facts.DURATION_INDEXES), hand any group's values over already sorted
(reports.sql.percentiles_in_value_order gathers them per group by hashing, not sorting).

Whether to read a duration's whole index in value order or the few orders of a short range
by received_at and sort them is the planner's choice, and it made it blind: it priced each
bit test of static_code at a guess (0.5 %), so a day's report read a whole duration index
as a bitmap. Statistics on the bits the indexes test (STATIC_BITS) tell it how many orders
each combination holds.

Revision ID: a15h00000001
Revises: a15g00000001
Create Date: 2026-12-01 09:30:00
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "a15h00000001"
down_revision = "a15g00000001"
branch_labels = None
depends_on = None

GROUPED_ON = [
    "received_at",
    "received_month",
    "received_week",
    "received_day",
    "district",
    "product",
    "kind",
    "priority",
    "enterprise_tier",
    "source",
    "technician_id",
]
# reports.facts.DURATION_INDEXES as of this revision: duration -> (its orders, key, included columns)
DURATION_INDEXES = {
    "response": (
        "(static_code & 8) != 0 AND (static_code & 4) = 0 AND (static_code & 16) != 0",
        ["response_s"],
        [*GROUPED_ON, "responded_at"],
    ),
    "restore": (
        "(static_code & 256) != 0 AND (static_code & 4) = 0 AND (static_code & 2) != 0",
        ["elapsed_without_pauses_s"],
        [*GROUPED_ON, "completed_at"],
    ),
    "install": (
        "(static_code & 1048576) != 0 AND (static_code & 4) = 0 AND (static_code & 2) != 0",
        ["elapsed_without_pauses_s"],
        [*GROUPED_ON, "completed_at"],
    ),
    "on_site": (
        "(static_code & 8) != 0 AND (static_code & 4) = 0 AND (static_code & 2) != 0 AND (static_code & 2097152) != 0",
        ["on_site_s"],
        [*GROUPED_ON, "completed_at"],
    ),
}


# the static_code bits DURATION_INDEXES test: PostgreSQL's statistics on their combinations
STATIC_BITS = (2, 4, 8, 16, 256, 1048576, 2097152)
STATISTICS = "report_order_facts_bits"


def _previous():
    """Migration a15g00000001 (its indexes, made again on downgrade)."""
    path = Path(__file__).with_name("a15g00000001_report_duration_indexes.py")
    spec = importlib.util.spec_from_file_location("report_duration_indexes_a15g", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _make(indexes: dict) -> None:
    for name, (where, key, include) in indexes.items():
        op.drop_index(f"ix_report_order_facts_{name}", table_name="report_order_facts")
        op.create_index(
            f"ix_report_order_facts_{name}",
            "report_order_facts",
            key,
            postgresql_include=include,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ANALYZE report_order_facts")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        bits = ", ".join(f"(static_code & {bit})" for bit in STATIC_BITS)
        op.execute(f"CREATE STATISTICS {STATISTICS} (mcv) ON {bits} FROM report_order_facts")
    _make(DURATION_INDEXES)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")
    _make(_previous().DURATION_INDEXES)
