"""Racing moves on one van never oversell (PostgreSQL: real parallel requests).

Run with TEST_DATABASE_URL pointing at a PostgreSQL database; SQLite serialises
writers, so there is no race to test there."""

from __future__ import annotations

import os
import threading

import pytest
from sqlalchemy import select

from technicians.stock_models import SerialUnit, StockBalance, StockMove
from tests.factories import REPAIR_ANSWERS

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="TEST_DATABASE_URL not set to PostgreSQL: concurrency is tested there",
)


def _race(app, requests: list[tuple[str, dict, dict]]) -> list[int]:
    """Send every (path, headers, body) at once, one thread and client each; the statuses."""
    barrier, answers = threading.Barrier(len(requests)), [0] * len(requests)

    def send(i: int, path: str, headers: dict, body: dict) -> None:
        client = app.test_client()
        barrier.wait()
        answers[i] = client.post(path, headers=headers, json=body).status_code

    threads = [threading.Thread(target=send, args=(i, *r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def _ledger_equals_balances(db) -> dict[tuple[int, str], int]:
    db.expire_all()
    sums: dict[tuple[int, str], int] = {}
    for move in db.scalars(select(StockMove)):
        key = (move.technician_id, move.item_code)
        sums[key] = sums.get(key, 0) + (move.quantity if move.kind == "issue" else -move.quantity)
    kept = {(b.technician_id, b.item_code): b.quantity for b in db.scalars(select(StockBalance))}
    assert sums == kept
    return kept


def test_concurrent_close_out_and_write_offs_never_oversell(app, db, field, client):
    resp = client.post(
        f"/api/v1/technicians/{field.tech_id}/stock/issue",
        headers=field.disp,
        json={"lines": [{"item": "rj45", "quantity": 6}]},
    )
    assert resp.status_code == 201
    oid = field.order(product="adsl", kind="repair")
    field.arrive(oid)
    client.post(f"/mobile/v1/orders/{oid}/checklist", headers=field.tech, json={"answers": REPAIR_ANSWERS})
    close_out = (
        f"/mobile/v1/orders/{oid}/status",
        field.tech,
        {"status": "completed", "equipment": [{"item": "rj45", "quantity": 2}]},
    )
    write_off = (
        f"/api/v1/technicians/{field.tech_id}/stock/write-off",
        field.disp,
        {"lines": [{"item": "rj45", "quantity": 2}], "reason": "race"},
    )
    answers = _race(app, [close_out] + [write_off] * 7)
    assert sorted(answers).count(200) + sorted(answers).count(201) == 3, answers
    assert set(answers) <= {200, 201, 409}, answers
    kept = _ledger_equals_balances(db)
    assert kept[(field.tech_id, "rj45")] == 0
    state = client.get(f"/api/v1/workorders/{oid}", headers=field.disp).get_json()["state"]
    assert state == ("completed" if answers[0] == 200 else "on_site")


def test_one_serial_used_once_however_many_ask(app, db, field, client):
    client.post(
        f"/api/v1/technicians/{field.tech_id}/stock/issue",
        headers=field.disp,
        json={"lines": [{"item": "stb", "serials": ["ONLY-1"]}]},
    )
    write_off = (
        f"/api/v1/technicians/{field.tech_id}/stock/write-off",
        field.disp,
        {"lines": [{"item": "stb", "serials": ["ONLY-1"]}], "reason": "race"},
    )
    answers = _race(app, [write_off] * 6)
    assert sorted(answers) == [201] + [409] * 5, answers
    assert _ledger_equals_balances(db)[(field.tech_id, "stb")] == 0
    assert db.scalar(select(SerialUnit.status).where(SerialUnit.serial == "ONLY-1")) == "written_off"


def test_concurrent_first_issues_add_up(app, db, field):
    issue = (
        f"/api/v1/technicians/{field.tech_id}/stock/issue",
        field.disp,
        {"lines": [{"item": "cable_m", "quantity": 10}]},
    )
    answers = _race(app, [issue] * 6)
    assert answers == [201] * 6, answers
    assert _ledger_equals_balances(db)[(field.tech_id, "cable_m")] == 60
