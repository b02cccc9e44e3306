"""The day's problem carries the equipment: each visit's bill of materials, each
van's stock from the ledger, the restock at the nearest depot; and the plan
never gives a van more set-top boxes than it holds."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from core.clock import now
from dispatch.planning import build_problem
from dispatch.routing import solve
from tests.dispatch.routing.test_stock_routing import stock_breaches
from tests.factories import post_order

pytestmark = pytest.mark.usefixtures("morning")


def _day(world, client, iptv_orders: int):
    world.user("disp", "dispatcher")
    h = world.headers("disp")
    a = world.technician("ta", ["adsl", "iptv"], lat=31.85, lon=117.26)
    b = world.technician("tb", ["adsl", "iptv"], lat=31.80, lon=117.30)
    day = now().date() + timedelta(days=1)
    window = (datetime.combine(day, time(9)), datetime.combine(day, time(17)))
    orders = []
    for i in range(iptv_orders):
        ids = world.customer(f"客户{i}", lat=31.84 + 0.004 * i, lon=117.27)
        orders.append(post_order(client, h, ids, product="iptv_adsl", kind="install", window=window))
    return h, a, b, day, orders


def test_without_a_ledger_every_van_is_unlimited(world, client, db):
    _h, _a, _b, day, orders = _day(world, client, 2)
    problem, _versions = build_problem(db, day)
    assert {v.id: v.materials for v in problem.visits} == {
        o: {"stb": 1, "cable_m": 10, "rj45": 2} for o in orders
    }
    assert all(t.stock is None for t in problem.technicians)


def test_vans_from_the_ledger_and_the_plan_keeps_within_them(world, client, db):
    h, a, b, day, orders = _day(world, client, 5)
    depot = client.post("/api/v1/stock/depots", headers=h, json={"name": "总仓", "lat": 31.9, "lon": 117.4})
    assert depot.status_code == 201
    for tech_id, boxes in ((a, ["S-1", "S-2"]), (b, ["S-3"])):
        resp = client.post(
            f"/api/v1/technicians/{tech_id}/stock/issue",
            headers=h,
            json={
                "lines": [
                    {"item": "stb", "serials": boxes},
                    {"item": "cable_m", "quantity": 100},
                    {"item": "rj45", "quantity": 20},
                ]
            },
        )
        assert resp.status_code == 201
    problem, _versions = build_problem(db, day)
    techs = {t.id: t for t in problem.technicians}
    assert techs[a].stock == {"stb": 2, "cable_m": 100, "rj45": 20}
    assert techs[b].stock == {"stb": 1, "cable_m": 100, "rj45": 20}
    assert techs[a].restock == {"adsl_modem": 6, "lan_router": 6, "stb": 4, "cable_m": 200, "rj45": 80}
    assert (techs[a].depot_lat, techs[a].depot_lon) == (31.9, 117.4)

    # without a depot to restock at, three boxes make three installs at most
    unstocked = type(problem)(
        technicians=[type(t)(**{**t.__dict__, "restock": None}) for t in problem.technicians],
        visits=problem.visits,
    )
    plan = solve(unstocked, time_limit_s=1)
    assert sum(len(r.stops) for r in plan.routes) <= 3
    assert stock_breaches(unstocked, plan) == []
    # with the depot, restocking lets more installs happen than the vans hold boxes
    plan = solve(problem, time_limit_s=1)
    assert stock_breaches(problem, plan) == []
    restocks = [s for r in plan.routes for s in r.restocks]
    assert restocks and all(s.kind == "restock" for s in restocks)
    assert sum(len(r.stops) for r in plan.routes) >= 4
