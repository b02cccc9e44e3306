"""repeat faults stored on each order, kept by the database

One boolean on work_orders, repeat_within_30d: a completed repair after which another repair
came in at the same site or on the same line within 30 days (the 30th day's last second
included), the rule reports.measures.computed_repeated_within_window spells in SQL. A report reads the
flag instead of joining a year of repairs to the repairs after them (two hash joins over the
whole table on every report). Triggers recompute the flag of the repairs at a site or line
whenever an order there is inserted, deleted, or changes kind, site, line, received_at or
completed_at, to the second as the query did (SQLite: julianday() rounded to the millisecond).
Existing rows are filled in.

Revision ID: a15b00000001
Revises: a17d00000001
Create Date: 2026-11-30 15:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a15b00000001"
down_revision = "a17d00000001"
branch_labels = None
depends_on = None

WINDOW_S = 30 * 86400
SOURCES = "kind, site_id, line_id, received_at, completed_at"


def _flag(row: str, epoch) -> str:
    """Whether the order ``row`` (a table alias) is a completed repair repeated within the window."""
    return (
        f"({row}.kind = 'repair' AND {row}.completed_at IS NOT NULL AND EXISTS (SELECT 1 FROM work_orders later "
        f"WHERE later.id <> {row}.id AND later.kind = 'repair' "
        f"AND (later.site_id = {row}.site_id OR ({row}.line_id IS NOT NULL AND later.line_id = {row}.line_id)) "
        f"AND later.received_at > {row}.completed_at "
        f"AND {epoch('later.received_at')} - {epoch(row + '.completed_at')} <= {WINDOW_S}))"
    )


def _pg_epoch(value: str) -> str:
    return f"date_part('epoch', {value})"


def _sqlite_epoch(value: str) -> str:
    return f"round((julianday({value}) - 2440587.5) * 86400.0, 3)"


def _recompute(place: str, epoch, row: str = "e", flag_where: str = "") -> str:
    """UPDATE the flag of every order at ``place``'s site or on its line, and of ``place`` itself
    (``place``: NEW or OLD; ``row``: how the updated table is named, SQLite's triggers take no alias)."""
    table = "work_orders" if row == "work_orders" else f"work_orders AS {row}"
    return (
        f"UPDATE {table} SET repeat_within_30d = {_flag(row, epoch)} "
        f"WHERE ({row}.site_id = {place}.site_id "
        f"OR ({place}.line_id IS NOT NULL AND {row}.line_id = {place}.line_id) "
        f"OR {row}.id = {place}.id){flag_where}"
    )


def upgrade() -> None:
    op.add_column(
        "work_orders",
        sa.Column("repeat_within_30d", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        changed = f" AND e.repeat_within_30d IS DISTINCT FROM {_flag('e', _pg_epoch)}"
        op.execute(
            "CREATE FUNCTION work_order_repeat_flags() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF TG_OP <> 'INSERT' THEN {_recompute('OLD', _pg_epoch, flag_where=changed)}; END IF; "
            f"IF TG_OP <> 'DELETE' THEN {_recompute('NEW', _pg_epoch, flag_where=changed)}; END IF; "
            "RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER work_orders_repeat_flags AFTER INSERT OR DELETE OR UPDATE OF {SOURCES} "
            "ON work_orders FOR EACH ROW EXECUTE FUNCTION work_order_repeat_flags()"
        )
        op.execute(
            "UPDATE work_orders AS w SET repeat_within_30d = true FROM ("
            "SELECT e.id FROM work_orders e JOIN work_orders later ON later.site_id = e.site_id "
            f"WHERE e.kind = 'repair' AND e.completed_at IS NOT NULL AND later.id <> e.id "
            "AND later.kind = 'repair' AND later.received_at > e.completed_at "
            f"AND {_pg_epoch('later.received_at')} - {_pg_epoch('e.completed_at')} <= {WINDOW_S} "
            "UNION SELECT e.id FROM work_orders e JOIN work_orders later ON later.line_id = e.line_id "
            f"WHERE e.kind = 'repair' AND e.completed_at IS NOT NULL AND later.id <> e.id "
            "AND later.kind = 'repair' AND later.received_at > e.completed_at "
            f"AND {_pg_epoch('later.received_at')} - {_pg_epoch('e.completed_at')} <= {WINDOW_S}"
            ") AS repeated WHERE w.id = repeated.id"
        )
        return
    op.execute(
        "CREATE TRIGGER work_orders_repeat_flags_insert AFTER INSERT ON work_orders "
        f"BEGIN {_recompute('NEW', _sqlite_epoch, 'work_orders')}; END"
    )
    op.execute(
        f"CREATE TRIGGER work_orders_repeat_flags_update AFTER UPDATE OF {SOURCES} ON work_orders "
        f"BEGIN {_recompute('OLD', _sqlite_epoch, 'work_orders')}; {_recompute('NEW', _sqlite_epoch, 'work_orders')}; END"
    )
    op.execute(
        "CREATE TRIGGER work_orders_repeat_flags_delete AFTER DELETE ON work_orders "
        f"BEGIN {_recompute('OLD', _sqlite_epoch, 'work_orders')}; END"
    )
    op.execute(
        f"UPDATE work_orders AS e SET repeat_within_30d = {_flag('e', _sqlite_epoch)} WHERE kind = 'repair'"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER work_orders_repeat_flags ON work_orders")
        op.execute("DROP FUNCTION work_order_repeat_flags()")
    else:
        for event in ("delete", "update", "insert"):
            op.execute(f"DROP TRIGGER work_orders_repeat_flags_{event}")
    op.execute("ALTER TABLE work_orders DROP COLUMN repeat_within_30d")
