"""an index per duration for the percentiles of a report by period

A report's duration percentiles sort each duration's values per group. Reading them from the
facts took a scan of every order and a sort of the rows by group first. An index per duration
(reports.facts.DURATION_INDEXES) holds only that duration's orders (its fixed conditions, read
from static_code), by the month they came in and their value, with the columns the percentile
query asks of them: a report by month reads them in group order (no sort of the rows) and each
month's values come sorted to the percentile's sort; a report by week or day or for the whole
range reads the narrow index instead of the table.

Revision ID: a15g00000001
Revises: a15f00000001
Create Date: 2026-12-01 04:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a15g00000001"
down_revision = "a15f00000001"
branch_labels = None
depends_on = None

# reports.facts.DURATION_INDEXES as of this revision: duration -> (its orders, key, included columns)
DURATION_INDEXES = {
    "response": (
        "(static_code & 8) != 0 AND (static_code & 4) = 0 AND (static_code & 16) != 0",
        ["received_month", "response_s"],
        ["received_at", "received_week", "received_day", "responded_at"],
    ),
    "restore": (
        "(static_code & 256) != 0 AND (static_code & 4) = 0 AND (static_code & 2) != 0",
        ["received_month", "elapsed_without_pauses_s"],
        ["received_at", "received_week", "received_day", "completed_at"],
    ),
    "install": (
        "(static_code & 1048576) != 0 AND (static_code & 4) = 0 AND (static_code & 2) != 0",
        ["received_month", "elapsed_without_pauses_s"],
        ["received_at", "received_week", "received_day", "completed_at"],
    ),
    "on_site": (
        "(static_code & 8) != 0 AND (static_code & 4) = 0 AND (static_code & 2) != 0 AND (static_code & 2097152) != 0",
        ["received_month", "on_site_s"],
        ["received_at", "received_week", "received_day", "completed_at"],
    ),
}


def upgrade() -> None:
    for name, (where, key, include) in DURATION_INDEXES.items():
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


def downgrade() -> None:
    for name in DURATION_INDEXES:
        op.drop_index(f"ix_report_order_facts_{name}", table_name="report_order_facts")
