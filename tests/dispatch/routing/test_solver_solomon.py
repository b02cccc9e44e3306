"""The Solomon benchmark's independent checker, on a tiny hand-made instance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.solomon import (
    SolomonInstance,
    TenthsMatrix,
    check_solution,
    gap_pct,
    read_bks,
    read_instance,
    to_problem,
    truncated_distance_tenths,
)
from dispatch.routing import SearchSettings, solve
from dispatch.routing.settings import ModelSettings

TINY_VRP = """NAME : TINY
TYPE : CVRPTW
DIMENSION : 4
VEHICLES : 2
CAPACITY : 10
SERVICE_TIME : 1
EDGE_WEIGHT_TYPE : EUC_2D
NODE_COORD_SECTION
1 0 0
2 0 3
3 4 0
4 3 4
DEMAND_SECTION
1 0
2 1
3 1
4 1
TIME_WINDOW_SECTION
1 0 100
2 0 10
3 5 20
4 0 50
DEPOT_SECTION
1
-1
EOF
"""


@pytest.fixture()
def tiny(tmp_path: Path) -> SolomonInstance:
    path = tmp_path / "TINY.vrp"
    path.write_text(TINY_VRP)
    return read_instance(path)


def test_reads_vrplib_instance(tiny: SolomonInstance) -> None:
    assert tiny.num_customers == 3
    assert tiny.vehicles == 2 and tiny.capacity == 10
    assert tiny.service == [0, 10, 10, 10]  # tenths; the depot has none
    assert tiny.ready[2] == 50 and tiny.due[2] == 200


def test_distance_is_truncated_to_one_decimal() -> None:
    coords = np.array([[0, 0], [3, 1], [1, 4], [3, 4]])
    tenths = truncated_distance_tenths(coords)
    assert tenths[0, 1] == 31  # sqrt(10) = 3.162 -> 3.1
    assert tenths[1, 2] == 36  # sqrt(13) = 3.606 -> 3.6
    assert tenths[0, 3] == 50  # exactly 5
    assert truncated_distance_tenths(coords + 0.5)[0, 1] == 31


def test_checker_accepts_feasible_solution(tiny: SolomonInstance) -> None:
    result = check_solution(tiny, [[1, 3, 2]])
    assert result.feasible, result.errors
    assert result.cost == pytest.approx(3.0 + 3.1 + 4.1 + 4.0)
    assert gap_pct(result.cost, 14.2) == pytest.approx(0.0)


def test_checker_rejects_time_window_violation(tiny: SolomonInstance) -> None:
    result = check_solution(tiny, [[2, 3, 1]])  # customer 1 reached at 14.2 > 10
    assert not result.feasible
    assert any("1 at 14.2" in e for e in result.errors)


def test_checker_rejects_missing_and_repeated_customers(tiny: SolomonInstance) -> None:
    assert any("not visited: [2]" in e for e in check_solution(tiny, [[1, 3]]).errors)
    assert any("more than once" in e for e in check_solution(tiny, [[1, 3, 2], [3]]).errors)


def test_checker_rejects_capacity_and_vehicle_count(tiny: SolomonInstance) -> None:
    tiny.capacity = 2
    assert any("capacity" in e for e in check_solution(tiny, [[1, 3, 2]]).errors)
    assert any("routes > 2" in e for e in check_solution(tiny, [[1], [2], [3]]).errors)


def test_solver_finds_checked_optimum_of_tiny(tiny: SolomonInstance) -> None:
    plan = solve(
        to_problem(tiny),
        time_limit_s=0.5,
        matrix=TenthsMatrix(tiny),
        settings=SearchSettings(model=ModelSettings(optional_visits=False)),
    )
    routes = [[s.visit_id for s in r.stops] for r in plan.routes]
    result = check_solution(tiny, routes)
    assert result.feasible, result.errors
    assert result.cost == pytest.approx(14.2)


def test_bks_read_from_sol_file(tmp_path: Path) -> None:
    (tmp_path / "TINY.sol").write_text("Route #1: 1 3 2\nCost 14.2\n")
    assert read_bks(tmp_path / "TINY.sol") == pytest.approx(14.2)
    assert read_bks(tmp_path / "NONE.sol") is None
