"""Preferred coverage areas in the compiled construction: a visit outside a technician's
preferred districts costs them ``out_of_area_cost_m`` there as it does in the OR-Tools
model (one price, :func:`dispatch.routing.constraints.out_of_area_costs`)."""

from __future__ import annotations

import numpy as np

from dispatch.routing import construction
from dispatch.routing.constraints import out_of_area_costs
from dispatch.routing.model import create_data_model
from dispatch.routing.problem import Problem
from dispatch.routing.settings import SearchSettings
from tests.dispatch.routing.test_construction import make_core
from tests.dispatch.routing.test_field_rules import with_model
from tests.dispatch.routing.test_solver import tech, visit


def _cost_of(core: construction.CoreProblem, routes: list[list[int]]) -> int:
    """Driving plus what each visit costs its vehicle, over the plan."""
    total = 0
    for k, route in enumerate(routes):
        prev = int(core.v_start[k])
        for u in route:
            total += int(core.cost[prev, u]) + int(core.visit_cost[u, k])
            prev = u
        if route:
            total += int(core.cost[prev, core.v_end[k]])
    return total


def test_the_price_table_follows_the_preferred_areas_only():
    techs = [
        tech("N", coverage_districts=frozenset({"north"})),
        tech("S", coverage_districts=frozenset({"south"}), coverage_hard=True),  # bound: screened, not priced
        tech("X"),  # no areas
    ]
    visits = [visit("n1", district="north"), visit("s1", district="south"), visit("u1")]
    table = out_of_area_costs(techs, visits, 5_000)
    assert table.tolist() == [[0, 0, 0], [5_000, 0, 0], [0, 0, 0]]
    assert not out_of_area_costs(techs, visits, 0).any()


def test_the_construction_pays_for_visits_out_of_area():
    # Two customers side by side, one depot: one vehicle doing both drives least.
    points = [(10.0, 0.0), (10.0, 1.0), (0.0, 0.0)]
    plain = make_core(points, [0, 0], [10**6] * 2, [0, 0], [0, 0], vehicles=2)
    together = construction.solve_core(plain, 0.2, seed=1)
    assert sorted(len(r) for r in together.routes) == [0, 2]
    assert together.cost == _cost_of(plain, together.routes)

    # Customer 0 lies outside vehicle 1's areas, customer 1 outside vehicle 0's.
    priced = make_core(points, [0, 0], [10**6] * 2, [0, 0], [0, 0], vehicles=2)
    priced.visit_cost = np.array([[0, 500], [500, 0]], dtype=np.int64)
    apart = construction.solve_core(priced, 0.2, seed=1)
    assert apart.routes == [[0], [1]]
    assert apart.cost == _cost_of(priced, apart.routes)  # what the search minimised, priced the same way
    assert apart.cost < _cost_of(priced, together.routes)


def test_the_core_of_a_day_carries_the_models_out_of_area_price():
    problem = Problem(
        [
            tech("N", base=(0.0, 0.0), coverage_districts=frozenset({"north"})),
            tech("S", base=(3.0, 0.0), coverage_districts=frozenset({"south"})),
        ],
        [visit("s1", (0.5, 0.0), district="south"), visit("n1", (0.2, 0.0), district="north")],
    )
    data = create_data_model(problem)
    for cost_m, expected_tech in ((0, "N"), (20_000, "S")):
        settings = with_model(SearchSettings(workers=1), out_of_area_cost_m=cost_m)
        core = construction.core_problem(data, settings)
        assert np.array_equal(core.visit_cost, out_of_area_costs(data.technicians, data.visits, cost_m))
        result = construction.solve_core(core, 0.2, seed=0)
        node = next(i for i, v in enumerate(data.visits) if v.id == "s1")
        holder = next(k for k, route in enumerate(result.routes) if node in route)
        # Nearer N takes it for free; priced, its own area's S drives the extra 2.5 km.
        assert data.technicians[holder].id == expected_tech
