"""dispatch.routing.construction, the compiled construction, checked by an independent checker."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.routing import SearchSettings, construction, solve
from dispatch.routing.problem import Problem
from dispatch.routing.settings import ConstructionSettings
from tests.dispatch.routing.test_solver import H, check_times, random_day, tech, visit

CONSTRUCTED = SearchSettings(construction=ConstructionSettings(method="sisr"))


def make_core(points, ready, due, service, demand, vehicles, capacity=100, allowed=None, penalty=10**9):
    """Customers at ``points[:n]``, one shared depot at ``points[n]``."""
    pts = np.asarray(points, dtype=np.float64)
    n = len(pts) - 1
    dist = np.floor(np.sqrt(((pts[:, None, :] - pts[None, :, :]) ** 2).sum(axis=2)) * 10).astype(np.int64)
    k = vehicles
    return construction.CoreProblem(
        cost=dist,
        travel=dist,
        service=np.asarray(list(service) + [0], dtype=np.int64),
        ready=np.asarray(list(ready) + [0], dtype=np.int64),
        due=np.asarray(list(due) + [10**6], dtype=np.int64),
        demand=np.asarray(list(demand) + [0], dtype=np.int64),
        v_start=np.full(k, n, dtype=np.int64),
        v_end=np.full(k, n, dtype=np.int64),
        v_open=np.zeros(k, dtype=np.int64),
        v_close=np.full(k, 10**6, dtype=np.int64),
        v_capacity=np.full(k, capacity, dtype=np.int64),
        allowed=np.ones((n, k), dtype=np.uint8) if allowed is None else np.asarray(allowed, dtype=np.uint8),
        penalty=np.full(n, penalty, dtype=np.int64),
    )


def _schedule(core: construction.CoreProblem, k: int, route: list[int], lunch_leg: int | None):
    """Earliest start times with lunch taken on leg ``lunch_leg`` (leg j ends
    at stop j; leg len(route) is the way back; None: no lunch). Returns the
    errors and the lateness cost."""
    errors: list[str] = []
    lo, hi, dur = (int(core.lunch_open[k]), int(core.lunch_close[k]), int(core.lunch_duration[k]))
    t, prev, late = int(core.v_open[k]), int(core.v_start[k]), 0
    for j, u in enumerate(route + [None]):
        if j == lunch_leg:
            lunch = max(t, lo)
            if lunch > hi:
                errors.append(f"lunch at {lunch} after {hi}")
            t = lunch + dur
        if u is None:
            break
        t = max(int(core.ready[u]), t + int(core.travel[prev, u]))
        if t > core.due[u]:
            errors.append(f"customer {u} starts at {t} after {int(core.due[u])}")
        if core.late_rate[u] and t > core.late_from[u]:
            late += int(core.late_rate[u]) * (t - int(core.late_from[u]))
        t += int(core.service[u])
        prev = u
    back = t + int(core.travel[prev, core.v_end[k]])
    if lunch_leg == len(route):
        back = t - dur + int(core.travel[prev, core.v_end[k]])  # lunch after the return
    if back > core.v_close[k]:
        errors.append(f"vehicle {k} back at {back} after {int(core.v_close[k])}")
    return errors, late


def route_cost_and_errors(core: construction.CoreProblem, k: int, route: list[int]) -> tuple[int, list[str]]:
    """Travel plus the least lateness over every place lunch could go; errors
    when no place for lunch works (or any other rule breaks)."""
    errors: list[str] = []
    if not route:
        return 0, errors
    cost, load, prev = 0, 0, int(core.v_start[k])
    for u in route:
        if not core.allowed[u, k]:
            errors.append(f"customer {u} not allowed on vehicle {k}")
        cost += int(core.cost[prev, u])
        load += int(core.demand[u])
        prev = u
    cost += int(core.cost[prev, core.v_end[k]])
    if load > core.v_capacity[k]:
        errors.append(f"vehicle {k} carries {load} over {int(core.v_capacity[k])}")
    legs = range(len(route) + 1) if core.lunch_duration[k] > 0 else [None]
    options = [_schedule(core, k, route, leg) for leg in legs]
    feasible = [late for errs, late in options if not errs]
    if not feasible:
        errors.extend(options[0][0] or ["no place for lunch"])
        return cost, errors
    return cost + min(feasible), errors


def check(core: construction.CoreProblem, result: construction.SisrResult) -> None:
    seen = [u for route in result.routes for u in route] + result.absent
    assert sorted(seen) == list(range(core.num_customers)), "every customer exactly once"
    total = 0
    for k, route in enumerate(result.routes):
        cost, errors = route_cost_and_errors(core, k, route)
        assert errors == []
        total += cost
    total += sum(int(core.penalty[u]) for u in result.absent)
    if core.lunch_duration.any():
        assert total <= result.cost  # lunch placed as well as or better than the search did
    else:
        assert total == result.cost


def test_reaches_the_brute_force_optimum_of_a_small_tour_with_windows() -> None:
    points = [(0, 9), (5, 5), (9, 1), (2, 2), (8, 8), (4, 0), (1, 6), (5, 4)]
    ready = [0, 0, 0, 150, 0, 0, 0]
    due = [400, 400, 400, 400, 120, 400, 400]
    core = make_core(points, ready, due, [10] * 7, [1] * 7, vehicles=1)
    best = None
    for perm in itertools.permutations(range(7)):
        cost, errors = route_cost_and_errors(core, 0, list(perm))
        if not errors and (best is None or cost < best):
            best = cost
    assert best is not None
    result = construction.solve_core(core, 0.3)
    check(core, result)
    assert result.absent == []
    assert result.cost == best


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 14),
    vehicles=st.integers(1, 4),
    seed=st.integers(0, 2**16),
    capacity=st.integers(1, 12),
    skills=st.booleans(),
    lunch=st.booleans(),
    deadlines=st.booleans(),
)
def test_every_plan_holds_windows_lunch_capacity_and_skills(
    n, vehicles, seed, capacity, skills, lunch, deadlines
) -> None:
    rng = np.random.default_rng(seed)
    points = rng.integers(0, 50, size=(n + 1, 2))
    ready = rng.integers(0, 300, size=n)
    due = ready + rng.integers(0, 300, size=n)
    allowed = rng.integers(0, 2, size=(n, vehicles)) if skills else None
    core = make_core(
        points,
        ready,
        due,
        rng.integers(0, 30, size=n),
        rng.integers(1, 5, size=n),
        vehicles,
        capacity=capacity,
        allowed=allowed,
        penalty=100_000,
    )
    core.v_close[:] = 900
    if lunch:
        core.lunch_open[:] = 250
        core.lunch_close[:] = 350
        core.lunch_duration[:] = 60
    if deadlines:
        core.late_from[:n] = ready + rng.integers(0, 100, size=n)
        core.late_rate[:n] = rng.integers(0, 3, size=n)
    result = construction.solve_core(core, 0.05, workers=2, seed=seed)
    check(core, result)
    for u in result.absent:
        # Left out only if it fits no vehicle even alone, or the others
        # it would displace are worth more: never with room to spare.
        alone_fits = any(
            not route_cost_and_errors(core, k, [u])[1] and not result.routes[k] for k in range(vehicles)
        )
        assert not alone_fits


def test_lunch_is_kept_free_of_work_and_inside_its_window() -> None:
    # Two stops 1.0 apart, the second starting at 170..200: lunch (60 long,
    # starting 100..110) fits only between them, in the wait before the second.
    points = [(0, 5), (0, 6), (0, 0)]
    core = make_core(points, [0, 170], [100, 200], [10, 10], [1, 1], vehicles=1)
    core.lunch_open[:] = 100
    core.lunch_close[:] = 110
    core.lunch_duration[:] = 60
    core.v_close[:] = 400
    result = construction.solve_core(core, 0.1)
    check(core, result)
    assert result.routes == [[0, 1]]
    # A lunch too long to fit before the second stop's window closes: the
    # second stop cannot be done at all (alone, lunch would have to come first).
    core.lunch_duration[:] = 100
    result = construction.solve_core(core, 0.1)
    check(core, result)
    assert result.absent == [1]


def test_a_costly_deadline_is_served_first() -> None:
    points = [(0, 10), (10, 0), (0, 0)]
    core = make_core(points, [0, 0], [1000, 1000], [50, 50], [1, 1], vehicles=1)
    # Serving 0 first is shorter by nothing (symmetric); customer 1's deadline
    # at 120 makes the order matter: 1 first starts it at 100, in time.
    core.late_from[1], core.late_rate[1] = 120, 10
    result = construction.solve_core(core, 0.1)
    check(core, result)
    assert result.routes == [[1, 0]]
    assert result.cost == 100 + 141 + 100  # no lateness paid


def test_skills_decide_the_vehicle_and_unreachable_customers_stay_out() -> None:
    points = [(1, 1), (2, 2), (40, 40), (0, 0)]
    allowed = [[1, 0], [0, 1], [1, 1]]
    core = make_core(
        points, [0, 0, 0], [500, 500, 100], [5, 5, 5], [1, 1, 1], vehicles=2, allowed=allowed, penalty=50_000
    )
    result = construction.solve_core(core, 0.1)
    check(core, result)
    assert result.routes == [[0], [1]]
    assert result.absent == [2]  # 56.5 away, due at 10.0


def test_construction_warm_starts_the_full_model_with_lunch_and_skills() -> None:
    problem = random_day(40, 5, seed=3)
    plan = solve(problem, 3, settings=CONSTRUCTED)
    check_times(problem, plan)
    stats = plan.stats["construction"]
    assert stats["accepted_by_model"] is True
    assert stats["iterations"] > 100
    assert not plan.unassigned
    # The descent works on the whole objective (deadlines, P1 pulled early),
    # which it can only keep or lower from the constructed plan's.
    assert plan.objective <= plan.stats["first_cost"]


def test_construction_respects_manual_assignments_and_skills() -> None:
    techs = [tech(1, skills=("adsl",)), tech(2, skills=("adsl", "iptv"), base=(5.0, 5.0))]
    visits = [
        visit(10, (0.5, 0.5), skills=frozenset({"iptv"})),
        visit(11, (5.2, 5.1), pinned_technician=1),
        visit(12, (0.2, 0.1), window=(9 * H, 10 * H)),
    ]
    plan = solve(Problem(techs, visits), 2, settings=CONSTRUCTED)
    by_visit = {s.visit_id: r.technician_id for r in plan.routes for s in r.stops}
    assert by_visit[10] == 2
    assert by_visit[11] == 1
    assert by_visit[12] == 1
    assert plan.stats["construction"]["accepted_by_model"] is True


def test_construction_reports_progress_and_stops_on_cancel() -> None:
    events: list[dict] = []
    calls = {"n": 0}

    def should_cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    plan = solve(
        random_day(60, 5),
        time_limit_s=20,
        progress=events.append,
        should_cancel=should_cancel,
        settings=CONSTRUCTED,
    )
    assert plan.status == "cancelled"
    assert plan.solve_s < 5
    assert plan.routes  # the best plan so far, checked by the model
    phases = [e["phase"] for e in events]
    assert "construction" in phases and phases[-1] == "done"
    assert all(isinstance(e["best_cost"], int) for e in events if e["phase"] == "construction")


def test_search_starts_from_given_routes_only_when_they_fit() -> None:
    rng = np.random.default_rng(5)
    n = 30
    points = rng.integers(0, 100, size=(n + 1, 2))
    core = make_core(points, [0] * n, [10**5] * n, [5] * n, [1] * n, vehicles=3, capacity=12)
    given = [list(range(0, 10)), list(range(10, 20)), list(range(20, 30))]
    given_cost = sum(route_cost_and_errors(core, k, r)[0] for k, r in enumerate(given))
    # With no time to search, the answer is the plan it started from.
    construction.compile_kernels()
    still = construction._search_thread(core, 0.0, 0, construction.SisrParameters(), initial=given)
    assert still.routes == given and still.cost == given_cost
    result = construction.solve_core(core, 0.2, initial=given)
    check(core, result)
    assert result.cost <= given_cost
    # Over capacity (12 per vehicle): not used; without time everyone stays out.
    overfull = [list(range(0, 15)), list(range(15, 30)), []]
    unused = construction._search_thread(core, 0.0, 0, construction.SisrParameters(), initial=overfull)
    assert sorted(unused.absent) == list(range(n))
    result = construction.solve_core(core, 0.2, initial=overfull)
    check(core, result)
    assert result.absent == []
