"""report facts carry the order's follow-up, so a year's report joins no follow-ups

The follow-up figures (done on time, late, overdue, satisfaction) were a join of a year of
report facts to their follow-ups, the report's slowest query after the percentiles. Nearly
every order has at most one follow-up, so its facts row now holds that one's state, due and
completed times and satisfaction (followup_count says how many the order has; with more than
one, these are NULL and the report joins that order's follow-ups as before, through a partial
index). A trigger on follow_ups keeps the columns whenever a follow-up is written or deleted.
On SQLite the order-copying triggers of a15c00000001 replaced the whole row (INSERT OR
REPLACE), which would blank these columns: they are made upserts of the order's own columns.
The covering place index includes the new columns, so a district's report stays index-only.

Revision ID: a15d00000001
Revises: a15c00000001
Create Date: 2026-11-30 23:40:00
"""

import importlib.util
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "a15d00000001"
down_revision = "a15c00000001"
branch_labels = None
depends_on = None


def _facts_migration():
    """a15c00000001's constants (the columns it copies and how), read from its own file."""
    path = Path(__file__).with_name("a15c00000001_report_order_facts.py")
    spec = importlib.util.spec_from_file_location("report_order_facts_a15c", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FACTS = _facts_migration()
# reports.facts.FOLLOWUP_COLUMNS: the follow-up's column -> the fact's
FOLLOWUP_COLUMNS = {
    "state": "followup_state",
    "due_at": "followup_due_at",
    "completed_at": "followup_completed_at",
    "satisfaction": "followup_satisfaction",
}
PLACE_INCLUDES = [*FACTS.PLACE_INCLUDES, "followup_count", *FOLLOWUP_COLUMNS.values()]


def _of_order(order_id: str) -> str:
    """SET clause: the follow-up columns of one order, from its follow-ups in one pass."""
    only = [f"CASE WHEN count(*) = 1 THEN max(u.{column}) END" for column in FOLLOWUP_COLUMNS]
    return (
        f"(followup_count, {', '.join(FOLLOWUP_COLUMNS.values())}) = "
        f"(SELECT count(*), {', '.join(only)} FROM follow_ups u WHERE u.order_id = {order_id})"
    )


def _refresh(row: str) -> str:
    return f"UPDATE report_order_facts SET {_of_order(f'{row}.order_id')} WHERE id = {row}.order_id;"


def _add_columns() -> None:
    with op.batch_alter_table("report_order_facts") as batch:
        batch.add_column(sa.Column("followup_count", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("followup_state", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("followup_due_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("followup_completed_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("followup_satisfaction", sa.Integer(), nullable=True))


def _fill() -> None:
    if op.get_bind().dialect.name == "postgresql":
        sets = ", ".join(
            f"{fact} = CASE WHEN a.n = 1 THEN a.{column} END" for column, fact in FOLLOWUP_COLUMNS.items()
        )
        maxima = ", ".join(f"max({column}) AS {column}" for column in FOLLOWUP_COLUMNS)
        op.execute(
            f"UPDATE report_order_facts f SET followup_count = a.n, {sets} FROM (SELECT order_id, "
            f"count(*) AS n, {maxima} FROM follow_ups WHERE order_id IS NOT NULL GROUP BY order_id) a "
            "WHERE f.id = a.order_id"
        )
    else:
        op.execute(
            f"UPDATE report_order_facts SET {_of_order('report_order_facts.id')} "
            "WHERE id IN (SELECT order_id FROM follow_ups)"
        )


def _indexes(includes: list[str]) -> None:
    op.drop_index("ix_report_order_facts_place", table_name="report_order_facts")
    op.create_index(
        "ix_report_order_facts_place",
        "report_order_facts",
        ["district", "product", "received_at"],
        postgresql_include=includes,
    )


def _postgresql_triggers() -> None:
    op.execute(
        "CREATE FUNCTION followup_report_facts() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' AND OLD.order_id IS NOT NULL THEN {_refresh('OLD')} END IF; "
        f"IF TG_OP <> 'DELETE' AND NEW.order_id IS NOT NULL THEN {_refresh('NEW')} END IF; "
        "RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER follow_ups_report_facts AFTER INSERT OR UPDATE OR DELETE ON follow_ups "
        "FOR EACH ROW EXECUTE FUNCTION followup_report_facts()"
    )


def _sqlite_order_copies(upsert: bool) -> None:
    """The order-copying triggers: upserts of the order's columns (or a15c00000001's replace)."""
    columns = ", ".join(FACTS.COLUMNS)
    if upsert:
        updates = ", ".join(f"{name} = excluded.{name}" for name in FACTS.COLUMNS if name != "id")
        copy = (
            f"INSERT INTO report_order_facts ({columns}) SELECT {FACTS.SELECTED} FROM {FACTS.FROM} "
            "WHERE w.id = NEW.id ON CONFLICT (id) DO UPDATE SET " + updates
        )
    else:
        copy = (
            f"INSERT OR REPLACE INTO report_order_facts ({columns}) SELECT {FACTS.SELECTED} "
            f"FROM {FACTS.FROM} WHERE w.id = NEW.id"
        )
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER work_orders_report_facts_{event}")
        op.execute(
            f"CREATE TRIGGER work_orders_report_facts_{event} AFTER {event.upper()} ON work_orders "
            f"BEGIN {copy}; END"
        )


def _sqlite_triggers() -> None:
    _sqlite_order_copies(upsert=True)
    for event, rows in (("insert", ("NEW",)), ("update", ("OLD", "NEW")), ("delete", ("OLD",))):
        refreshes = " ".join(_refresh(row) for row in rows)
        op.execute(
            f"CREATE TRIGGER follow_ups_report_facts_{event} AFTER {event.upper()} ON follow_ups "
            f"BEGIN {refreshes} END"
        )


def upgrade() -> None:
    _add_columns()
    _fill()
    _indexes(PLACE_INCLUDES)
    op.create_index(
        "ix_report_order_facts_followups_many",
        "report_order_facts",
        ["received_at"],
        postgresql_where=sa.text("followup_count > 1"),
        sqlite_where=sa.text("followup_count > 1"),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
        op.execute("ANALYZE report_order_facts")
    else:
        _sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER follow_ups_report_facts ON follow_ups")
        op.execute("DROP FUNCTION followup_report_facts()")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER follow_ups_report_facts_{event}")
        _sqlite_order_copies(upsert=False)
    op.drop_index("ix_report_order_facts_followups_many", table_name="report_order_facts")
    _indexes(list(FACTS.PLACE_INCLUDES))
    # plain DROP COLUMN (SQLite 3.35+ too): a batch rebuild of the table would trip over the
    # triggers on work_orders that name it
    for column in ("followup_count", *FOLLOWUP_COLUMNS.values()):
        op.execute(f"ALTER TABLE report_order_facts DROP COLUMN {column}")
