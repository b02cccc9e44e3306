"""durations for the managers' reports stored on each order, kept by the database

Three nullable seconds columns on work_orders (response_s, on_site_s,
elapsed_without_pauses_s) computed by a trigger whenever a time they come from changes, so a
report reads numbers instead of parsing every order's datetimes (SQLite's julianday() on text
dominated a year's report) and any writer, ORM or bulk insert, keeps them right. The
expressions are the ones reports.measures used to compute at query time, to the millisecond on
SQLite (reports.sql.epoch_s), so the figures do not move. Existing rows are filled in.

Revision ID: a15a00000001
Revises: a16b00000001
Create Date: 2026-11-30 14:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "a15a00000001"
down_revision = "a16b00000001"
branch_labels = None
depends_on = None

COLUMNS = ("response_s", "on_site_s", "elapsed_without_pauses_s")
# The times the durations come from: a change to any of them recomputes all three.
SOURCES = "received_at, responded_at, arrived_at, completed_at, restore_deadline, sla_clock"


def _sqlite_epoch(value: str) -> str:
    return f"round((julianday({value}) - 2440587.5) * 86400.0, 3)"


def _sqlite_set() -> str:
    e = _sqlite_epoch
    clock_start = "CAST(json_extract(sla_clock, '$.start') AS VARCHAR)"
    paused = f"({e('restore_deadline')} - ({e(clock_start)} + CAST(json_extract(sla_clock, '$.budget_s') AS FLOAT)))"
    return (
        f"response_s = {e('responded_at')} - {e('received_at')}, "
        f"on_site_s = {e('completed_at')} - {e('arrived_at')}, "
        f"elapsed_without_pauses_s = ({e('completed_at')} - {e('received_at')}) - "
        f"CASE WHEN sla_clock IS NOT NULL AND {paused} > 0 THEN {paused} ELSE 0.0 END"
    )


def _postgresql_durations(row: str) -> dict[str, str]:
    def e(value: str) -> str:
        return f"date_part('epoch', {row}{value})"

    clock_start = f"CAST(({row}sla_clock ->> 'start') AS TIMESTAMP)"
    paused = (
        f"({e('restore_deadline')} - (date_part('epoch', {clock_start}) + "
        f"CAST(({row}sla_clock ->> 'budget_s') AS FLOAT)))"
    )
    return {
        "response_s": f"{e('responded_at')} - {e('received_at')}",
        "on_site_s": f"{e('completed_at')} - {e('arrived_at')}",
        "elapsed_without_pauses_s": f"({e('completed_at')} - {e('received_at')}) - "
        f"CASE WHEN {row}sla_clock IS NOT NULL AND {paused} > 0 THEN {paused} ELSE 0.0 END",
    }


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("work_orders", sa.Column(name, sa.Float(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        assignments = " ".join(
            f"NEW.{name} := {value};" for name, value in _postgresql_durations("NEW.").items()
        )
        op.execute(
            "CREATE FUNCTION work_order_report_durations() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {assignments} RETURN NEW; END $$"
        )
        op.execute(
            f"CREATE TRIGGER work_orders_report_durations BEFORE INSERT OR UPDATE OF {SOURCES} "
            "ON work_orders FOR EACH ROW EXECUTE FUNCTION work_order_report_durations()"
        )
        durations = ", ".join(f"{name} = {value}" for name, value in _postgresql_durations("").items())
        op.execute(f"UPDATE work_orders SET {durations}")
        return
    update = f"UPDATE work_orders SET {_sqlite_set()}"
    op.execute(
        "CREATE TRIGGER work_orders_report_durations_insert AFTER INSERT ON work_orders "
        f"BEGIN {update} WHERE id = NEW.id; END"
    )
    op.execute(
        f"CREATE TRIGGER work_orders_report_durations_update AFTER UPDATE OF {SOURCES} ON work_orders "
        f"BEGIN {update} WHERE id = NEW.id; END"
    )
    op.execute(update)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER work_orders_report_durations ON work_orders")
        op.execute("DROP FUNCTION work_order_report_durations()")
    else:
        op.execute("DROP TRIGGER work_orders_report_durations_update")
        op.execute("DROP TRIGGER work_orders_report_durations_insert")
    for name in reversed(COLUMNS):
        op.execute(f"ALTER TABLE work_orders DROP COLUMN {name}")
