"""The repeat-fault flag the database keeps on each order (migration a15b00000001's triggers)
is the reports' rule (reports.measures.computed_repeated_within_window), whatever is written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from reports import measures
from tests.reports import dataset
from workorders.models import WorkOrder


def _flags(db) -> dict[str, tuple[bool, bool]]:
    """code -> (stored flag, the rule asked now), after checking the two agree for every order."""
    db.expire_all()
    rows = db.execute(
        select(WorkOrder.code, WorkOrder.repeat_within_30d, measures.computed_repeated_within_window())
    ).all()
    for code, stored, computed in rows:
        assert bool(stored) == bool(computed), code
    return {code: bool(stored) for code, stored, _computed in rows}


@pytest.fixture()
def history(app, db):
    ids = dataset.build(db)
    db.commit()
    return ids


def test_inserted_orders_carry_the_flag(db, history):
    flags = _flags(db)
    # R1 repeated by R2 29 days on; R5 by R6 exactly 30 days on; R3 not by R4 one second past
    assert flags["R1"] and flags["R5"]
    assert not flags["R3"] and not flags["R2"] and not flags["R6"]
    assert not any(flags[code] for code in flags if not code.startswith("R"))


def test_moving_the_later_repair_out_of_the_window_clears_the_earlier(db, history):
    order = db.get(WorkOrder, history["R6"])
    order.received_at = order.received_at + timedelta(seconds=1)
    db.commit()
    assert not _flags(db)["R5"]
    db.execute(update(WorkOrder).where(WorkOrder.id == history["R4"]).values(received_at=order.received_at))
    db.commit()
    assert not _flags(db)["R3"]  # R4 still more than 30 days after R3


def test_completing_later_and_moving_sites_recompute(db, history):
    r3 = db.get(WorkOrder, history["R3"])
    r3.completed_at = r3.completed_at + timedelta(hours=1)  # R4 now 29 days 23 h on
    db.commit()
    assert _flags(db)["R3"]
    r4 = db.get(WorkOrder, history["R4"])
    r1 = db.get(WorkOrder, history["R1"])
    r4.site_id, r4.line_id = r1.site_id, r1.line_id  # R4 leaves R3's site and line
    db.commit()
    assert not _flags(db)["R3"]


def test_deleting_the_later_repair_clears_the_earlier(db, history):
    db.execute(update(WorkOrder).where(WorkOrder.parent_id == history["R1"]).values(parent_id=None))
    db.execute(delete(WorkOrder).where(WorkOrder.id == history["R2"]))
    db.commit()
    assert not _flags(db)["R1"]
