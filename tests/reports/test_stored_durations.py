"""The durations the database stores on each order (migration a15a00000001's trigger) are
the reports' rules (reports.measures.COMPUTED), whoever writes the times and however."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from reports import measures
from tests.reports import dataset
from workorders.models import WorkOrder

STORED = tuple(measures.COMPUTED)


def _stored_and_computed(db) -> list[tuple]:
    db.expire_all()
    columns = [getattr(WorkOrder, name) for name in STORED]
    computed = [rule() for rule in measures.COMPUTED.values()]
    return db.execute(select(WorkOrder.code, *columns, *computed).order_by(WorkOrder.code)).all()


def _assert_agree(rows) -> None:
    half = len(STORED)
    for row in rows:
        stored, computed = row[1 : 1 + half], row[1 + half :]
        assert stored == pytest.approx(computed), row.code


@pytest.fixture()
def history(app, db):
    ids = dataset.build(db)
    db.commit()
    return ids


def test_inserted_orders_carry_their_durations(db, history):
    rows = _stored_and_computed(db)
    _assert_agree(rows)
    by_code = {row.code: row for row in rows}
    # R1: answered after 30 min, 9 h received to completed less its 2 h pause, 1 h on site
    assert tuple(by_code["R1"][1:4]) == (1800.0, 3600.0, 25200.0)
    # R4 was never answered nor completed: nothing to store
    assert tuple(by_code["R4"][1:4]) == (None, None, None)


def test_orm_update_of_a_time_recomputes(db, history):
    order = db.get(WorkOrder, history["R1"])
    order.completed_at = order.completed_at + timedelta(hours=1)
    db.commit()
    _assert_agree(_stored_and_computed(db))
    db.expire_all()
    assert db.get(WorkOrder, history["R1"]).elapsed_without_pauses_s == 25200.0 + 3600


def test_bulk_update_of_a_time_recomputes(db, history):
    received = db.get(WorkOrder, history["R4"]).received_at
    db.execute(
        update(WorkOrder)
        .where(WorkOrder.id == history["R4"])
        .values(responded_at=received + timedelta(minutes=5))
    )
    db.commit()
    _assert_agree(_stored_and_computed(db))
    db.expire_all()
    assert db.get(WorkOrder, history["R4"]).response_s == 300.0


def test_clearing_a_time_clears_the_duration(db, history):
    order = db.get(WorkOrder, history["R1"])
    order.completed_at = None
    db.commit()
    db.expire_all()
    stored = db.get(WorkOrder, history["R1"])
    assert (stored.on_site_s, stored.elapsed_without_pauses_s, stored.response_s) == (None, None, 1800.0)
