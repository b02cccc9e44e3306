"""The demo city comes with a depot, stocked vans and some ledger history."""

from __future__ import annotations

from sqlalchemy import func, select

from application.demo import seed_city
from technicians import stock
from technicians.stock_models import Depot, SerialUnit, StockBalance, StockMove


def test_demo_vans_are_stocked_with_history(app, db):
    lines = seed_city(db, technicians=8, orders=12, seed=3)
    assert any(line.startswith("seeded the depot") for line in lines)
    assert db.scalar(select(func.count()).select_from(Depot)) == 1
    vans = stock.van_balances(db)
    assert len(vans) == 8 and all(van["stb"] >= 2 and van["rj45"] >= 30 for van in vans.values())
    kinds = set(db.scalars(select(StockMove.kind)))
    assert {"issue", "return", "write_off"} <= kinds
    assert stock.ledger_sums(db) == {
        (b.technician_id, b.item_code): b.quantity for b in db.scalars(select(StockBalance))
    }
    in_vans = db.scalar(select(func.count()).select_from(SerialUnit).where(SerialUnit.status == "in_van"))
    assert in_vans == sum(
        van.get(code, 0) for van in vans.values() for code in ("adsl_modem", "lan_router", "stb")
    )
