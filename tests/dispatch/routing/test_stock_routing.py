"""The planner respects the equipment in the vans (dispatch.routing.stock), checked
by an independent checker written here: per route and item, what the visits use
never exceeds the van's stock, plus the restock when the route has a depot stop
before the visits that need it."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.routing import SearchSettings, construction, solve
from dispatch.routing.model import create_data_model
from dispatch.routing.problem import Plan, Problem
from dispatch.routing.settings import ConstructionSettings
from dispatch.routing.stock import RESTOCK_S
from tests.dispatch.routing.test_solver import H, at, check_times, tech, visit

CONSTRUCTED = SearchSettings(construction=ConstructionSettings(method="sisr"))
ITEMS = ("stb", "adsl_modem", "rj45")


def stock_breaches(problem: Problem, plan: Plan) -> list[str]:
    """Every item a route uses beyond its van (independent of the solver's code):
    walk the route in time order; a restock stop adds the technician's restock."""
    techs = {t.id: t for t in problem.technicians}
    visits = {v.id: v for v in problem.visits}
    errors = []
    for route in plan.routes:
        tech_spec = techs[route.technician_id]
        if tech_spec.stock is None:
            continue
        held = dict(tech_spec.stock)
        events = [(s.start_s, 0, s) for s in route.restocks] + [(s.start_s, 1, s) for s in route.stops]
        for _start, _order, stop in sorted(events, key=lambda e: (e[0], e[1])):
            if stop.kind == "restock":
                assert tech_spec.restock is not None, "a restock stop for a technician who cannot restock"
                for code, qty in tech_spec.restock.items():
                    held[code] = held.get(code, 0) + qty
                continue
            for code, qty in visits[stop.visit_id].materials.items():
                held[code] = held.get(code, 0) - qty
                if held[code] < 0:
                    errors.append(f"{route.technician_id} short of {code} at {stop.visit_id}")
    return errors


def test_three_set_top_boxes_never_make_five_iptv_installs() -> None:
    visits = [visit(i, where=(0.5 * i, 0.5), materials={"stb": 1}) for i in range(5)]
    problem = Problem([tech("t", stock={"stb": 3})], visits)
    plan = solve(problem, time_limit_s=1)
    assert sum(len(r.stops) for r in plan.routes) == 3
    assert len(plan.unassigned) == 2
    assert stock_breaches(problem, plan) == []


def test_unlimited_stock_changes_nothing() -> None:
    visits = [visit(i, where=(0.5 * i, 0.5), materials={"stb": 1}) for i in range(5)]
    problem = Problem([tech("t")], visits)  # stock None: unlimited
    data = create_data_model(problem)
    assert data.items == [] and data.restock_nodes == [None]
    plan = solve(problem, time_limit_s=1)
    assert sum(len(r.stops) for r in plan.routes) == 5


def test_second_technician_takes_what_the_first_van_cannot() -> None:
    visits = [visit(i, where=(0.3 * i, 0.2), materials={"stb": 1}) for i in range(4)]
    problem = Problem([tech("a", stock={"stb": 1}), tech("b", base=(5.0, 5.0), stock={"stb": 3})], visits)
    plan = solve(problem, time_limit_s=1)
    assert not plan.unassigned
    assert len(plan.route_of("a").stops) <= 1
    assert stock_breaches(problem, plan) == []


def test_restock_at_the_depot_when_it_pays() -> None:
    depot = at(1.0, 1.0)
    visits = [visit(i, where=(0.4 * i, 0.6), materials={"stb": 1}) for i in range(5)]
    van = tech("t", stock={"stb": 2}, restock={"stb": 4}, depot_lat=depot[0], depot_lon=depot[1])
    problem = Problem([van], visits)
    plan = solve(problem, time_limit_s=1)
    route = plan.route_of("t")
    assert route is not None and len(route.stops) == 5 and not plan.unassigned
    assert [s.kind for s in route.restocks] == ["restock"]
    restock = route.restocks[0]
    assert restock.end_s - restock.start_s == RESTOCK_S
    # the depot visit sits in the timeline: no order stop overlaps it
    assert all(s.end_s <= restock.start_s or s.start_s >= restock.end_s for s in route.stops)
    assert stock_breaches(problem, plan) == []
    check_times(problem, plan)


def test_no_restock_stop_when_the_van_suffices() -> None:
    depot = at(4.0, 4.0)
    visits = [visit(i, where=(0.4 * i, 0.6), materials={"stb": 1}) for i in range(2)]
    van = tech("t", stock={"stb": 2}, restock={"stb": 4}, depot_lat=depot[0], depot_lon=depot[1])
    plan = solve(Problem([van], visits), time_limit_s=1)
    route = plan.route_of("t")
    assert route is not None and len(route.stops) == 2 and route.restocks == []


def test_construction_core_counts_every_item() -> None:
    visits = [visit(i, where=(0.3 * i, 0.2), materials={"stb": 1, "rj45": 2}) for i in range(4)]
    problem = Problem([tech("a", stock={"stb": 4, "rj45": 3})], visits)
    data = create_data_model(problem)
    core = construction.core_problem(data, CONSTRUCTED)
    result = construction.solve_core(core, 0.2)
    used = sum(len(r) for r in result.routes)
    assert used == 1  # three plugs: one visit's two, not two visits' four
    assert core.load_capacity().shape == (1, 3)


def random_stock_day(seed: int, n_visits: int) -> Problem:
    rng = random.Random(seed)
    techs = []
    for t in range(3):
        stock = {code: rng.randint(0, 4) for code in ITEMS}
        restock = None
        depot = at(0.0, 0.0)
        if rng.random() < 0.5:
            restock = {code: rng.randint(0, 3) for code in ITEMS}
        techs.append(
            tech(
                t,
                base=(rng.uniform(-3, 3), rng.uniform(-3, 3)),
                stock=stock,
                restock=restock,
                depot_lat=depot[0],
                depot_lon=depot[1],
            )
        )
    visits = []
    for i in range(n_visits):
        start = rng.choice([8, 10, 13]) * H
        materials = {code: rng.randint(0, 2) for code in rng.sample(ITEMS, rng.randint(0, 3))}
        visits.append(
            visit(
                i,
                where=(rng.uniform(-4, 4), rng.uniform(-4, 4)),
                window=(start, start + 4 * H),
                duration_s=rng.choice([20, 40]) * 60,
                materials=materials,
                priority=rng.choice(["P2", "P3"]),
            )
        )
    return Problem(techs, visits)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n_visits=st.integers(1, 12))
def test_solver_never_exceeds_stock(seed: int, n_visits: int) -> None:
    problem = random_stock_day(seed, n_visits)
    plan = solve(problem, time_limit_s=0.5)
    assert plan.status in ("optimized", "empty")
    assert stock_breaches(problem, plan) == []
    placed = [s.visit_id for r in plan.routes for s in r.stops] + [u.visit_id for u in plan.unassigned]
    assert sorted(placed) == sorted(v.id for v in problem.visits)
    check_times(problem, plan)
