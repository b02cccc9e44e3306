"""The demo seed brings a year of history for the managers' reports, sized or left out by --history."""

from __future__ import annotations

from sqlalchemy import func, select

from workorders.models import WorkOrder


def _seed(app, *extra: str):
    result = app.test_cli_runner().invoke(
        args=["seed-demo", "--technicians", "7", "--orders", "10", "--seed", "3", *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _history_orders(db) -> int:
    return db.scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.code.like("H3-%"))) or 0


def test_the_demo_seed_adds_the_history_asked_for_once(app, db):
    output = _seed(app, "--history", "300")
    assert "history: 300 orders received" in output
    assert _history_orders(db) == 300
    again = _seed(app, "--history", "300")  # an already seeded database is left alone
    assert "history:" not in again and _history_orders(db) == 300


def test_history_zero_leaves_the_history_out(app, db):
    output = _seed(app, "--history", "0")
    assert "history:" not in output
    assert _history_orders(db) == 0
    assert db.scalar(select(func.count()).select_from(WorkOrder)) > 0  # the city itself is there
