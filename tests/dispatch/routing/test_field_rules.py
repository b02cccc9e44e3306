"""Coverage areas, crews, visits in order and fair shares (dispatch.routing.constraints).

Every check reads the plan itself (stops, times, technicians), not the model.
Small days, time limits of a second or two.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from dispatch.routing import SearchSettings, solve
from dispatch.routing.constraints import work_figures
from dispatch.routing.problem import Plan, Problem
from dispatch.routing.settings import ModelSettings
from tests.dispatch.routing.test_solver import ORTOOLS_ONLY, H, random_day, reasons, tech, visit

ONE_WORKER = SearchSettings(workers=1)


def with_model(settings: SearchSettings, **changes: int) -> SearchSettings:
    return replace(settings, model=replace(settings.model, **changes))


def stops_by_visit(plan: Plan) -> dict:
    """Visit id -> [(technician id, start, end)] (a crew visit has several)."""
    found: dict = defaultdict(list)
    for route in plan.routes:
        for stop in route.stops:
            found[stop.visit_id].append((route.technician_id, stop.start_s, stop.end_s))
    return found


def districts_day(hard: bool) -> Problem:
    """Two technicians, each covering one district; orders in both."""
    techs = [
        tech("N", base=(0.0, 0.0), coverage_districts=frozenset({"north"}), coverage_hard=hard),
        tech("S", base=(3.0, 0.0), coverage_districts=frozenset({"south"}), coverage_hard=hard),
    ]
    visits = [visit(f"n{i}", (0.2 * i, 0.3), district="north") for i in range(4)]
    # Southern orders lie closer to the northern technician's start.
    visits += [visit(f"s{i}", (0.5 + 0.1 * i, -0.2), district="south") for i in range(4)]
    return Problem(techs, visits)


def test_hard_coverage_is_never_broken():
    problem = districts_day(hard=True)
    problem.visits.append(visit("east", (1.0, 1.0), district="east"))
    plan = solve(problem, 1.5, settings=ONE_WORKER)
    areas = {t.id: t.coverage_districts for t in problem.technicians}
    district = {v.id: v.district for v in problem.visits}
    placed = stops_by_visit(plan)
    assert set(placed) == {v.id for v in problem.visits} - {"east"}
    for visit_id, stops in placed.items():
        for technician_id, _start, _end in stops:
            assert district[visit_id] in areas[technician_id], (visit_id, technician_id)
    assert reasons(plan) == {"east": "outside_areas"}  # skilled technicians, none whose areas allow it


def test_hard_coverage_holds_without_the_construction():
    problem = districts_day(hard=True)
    plan = solve(problem, 1.0, settings=ORTOOLS_ONLY)
    areas = {t.id: t.coverage_districts for t in problem.technicians}
    for visit_id, stops in stops_by_visit(plan).items():
        assert all(visit_id[0] == next(iter(areas[tid]))[0] for tid, _s, _e in stops)


def test_preferred_areas_cost_visits_elsewhere():
    problem = Problem(
        [
            tech("N", base=(0.0, 0.0), coverage_districts=frozenset({"north"})),
            tech("S", base=(3.0, 0.0), coverage_districts=frozenset({"south"})),
        ],
        [visit("s1", (0.5, 0.0), district="south")],
    )
    free = solve(problem, 1.0, settings=with_model(ONE_WORKER, out_of_area_cost_m=0))
    priced = solve(problem, 1.0, settings=with_model(ONE_WORKER, out_of_area_cost_m=20_000))
    assert stops_by_visit(free)["s1"][0][0] == "N"  # nearer
    assert stops_by_visit(priced)["s1"][0][0] == "S"  # its own area, 4 km more driving
    assert priced.travel_m > free.travel_m + 3_000


def test_crew_visit_has_both_technicians_at_the_same_start():
    problem = random_day(16, 3, seed=3)
    problem.visits[0] = replace(problem.visits[0], crew_size=2, priority="P1")
    problem.visits[5] = replace(problem.visits[5], crew_size=2)
    plan = solve(problem, 2.0, settings=ONE_WORKER)
    placed = stops_by_visit(plan)
    for crew in (problem.visits[0], problem.visits[5]):
        stops = placed[crew.id]
        assert len(stops) == 2, stops
        (first, start_a, end_a), (second, start_b, end_b) = stops
        assert first != second
        assert start_a == start_b and end_a == end_b
        assert crew.window_start_s <= start_a <= crew.window_end_s
    assert all(len(stops) == 1 for vid, stops in placed.items() if vid not in {100, 105})


def test_crew_larger_than_the_qualified_technicians_is_left_out_once():
    problem = Problem(
        [tech("A", skills=("fibre",)), tech("B", skills=("lan",))],
        [visit("big", skills=frozenset({"fibre"}), crew_size=2), visit("small", skills=frozenset({"lan"}))],
    )
    plan = solve(problem, 1.0, settings=ONE_WORKER)
    assert [u.visit_id for u in plan.unassigned] == ["big"]
    assert reasons(plan)["big"] == "no_skilled_technician"
    assert "big" not in stops_by_visit(plan)


def test_dependent_visit_starts_after_its_predecessors_end():
    problem = random_day(14, 3, seed=5)
    line_work, install, follow_up = problem.visits[0], problem.visits[1], problem.visits[2]
    # The install's window would let it start before the line work ends;
    # the follow-up also waits for an order not in the problem (done).
    problem.visits[0] = replace(line_work, window_start_s=8 * H, window_end_s=11 * H, duration_s=H)
    problem.visits[1] = replace(install, window_start_s=8 * H, window_end_s=16 * H, after=(line_work.id,))
    problem.visits[2] = replace(follow_up, after=(install.id, "done-elsewhere"))
    for settings in (ONE_WORKER, ORTOOLS_ONLY):
        plan = solve(problem, 1.5, settings=settings)
        placed = stops_by_visit(plan)
        assert {line_work.id, install.id, follow_up.id} <= set(placed), reasons(plan)
        assert placed[install.id][0][1] >= placed[line_work.id][0][2]
        assert placed[follow_up.id][0][1] >= placed[install.id][0][2]


def test_dependent_of_an_impossible_visit_is_left_out():
    problem = Problem(
        [tech("A")],
        [
            visit("line", skills=frozenset({"exchange"})),
            visit("install", after=("line",)),
            visit("follow", after=("install",)),
            visit("other"),
        ],
    )
    plan = solve(problem, 1.0, settings=ONE_WORKER)
    assert reasons(plan) == {
        "line": "no_skilled_technician",
        "install": "predecessor_unassigned",
        "follow": "predecessor_unassigned",
    }
    assert set(stops_by_visit(plan)) == {"other"}


def test_dependent_is_dropped_with_a_predecessor_the_model_drops():
    # The line work is 150 km away: cheaper to leave out than to drive to,
    # and its install, though next door, goes with it.
    problem = Problem(
        [tech("A", shift=(0, 24 * H))],
        [
            visit("line", (150.0, 0.0), window=(0, 24 * H)),
            visit("install", (0.5, 0.0), window=(0, 24 * H), after=("line",)),
            visit("alone", (0.5, 0.2), window=(0, 24 * H)),
        ],
    )
    for settings in (ONE_WORKER, ORTOOLS_ONLY):
        plan = solve(problem, 1.0, settings=settings)
        assert reasons(plan) == {"line": "day_full", "install": "predecessor_unassigned"}
        assert set(stops_by_visit(plan)) == {"alone"}


def test_fair_shares_narrow_the_spread_of_work():
    # Three technicians at one depot and a cluster of orders: the shortest
    # plan sends one technician round them all.
    techs = [tech(t, base=(0.0, 0.0)) for t in ("A", "B", "C")]
    visits = [visit(i, (2.0 + 0.05 * i, 0.1 * (i % 3)), duration_s=40 * 60) for i in range(9)]
    problem = Problem(techs, visits)
    unfair = solve(problem, 1.5, settings=with_model(ONE_WORKER, fair_work_m_per_min=0))
    fair = solve(problem, 1.5, settings=with_model(ONE_WORKER, fair_work_m_per_min=200))
    assert not unfair.unassigned and not fair.unassigned
    before, after = work_figures(problem, unfair), work_figures(problem, fair)
    assert after["work_spread_min"] < before["work_spread_min"] - 60, (before, after)
    assert fair.stats["work_stdev_min"] == after["work_stdev_min"]


def test_model_settings_default_to_a_small_fairness_weight():
    settings = ModelSettings()
    assert 0 < settings.fair_work_m_per_min <= 20
    assert settings.out_of_area_cost_m > 0


def check_field_rules(problem: Problem, plan: Plan) -> None:
    """Every field rule, read from the plan alone."""
    visits = {v.id: v for v in problem.visits}
    techs = {t.id: t for t in problem.technicians}
    placed = stops_by_visit(plan)
    left_out = {u.visit_id for u in plan.unassigned}
    assert set(placed) | left_out == set(visits) and not set(placed) & left_out
    for visit_id, stops in placed.items():
        visit = visits[visit_id]
        assert len(stops) == visit.crew_size, (visit_id, stops)
        assert len({tid for tid, _s, _e in stops}) == len(stops)
        assert len({(start, end) for _t, start, end in stops}) == 1
        for tid, _start, _end in stops:
            tech = techs[tid]
            if tech.coverage_hard and tech.coverage_districts:
                assert visit.district in tech.coverage_districts
        for before in visit.after:
            if before in visits:
                assert before in placed, (visit_id, before)
                assert stops[0][1] >= placed[before][0][2], (visit_id, before)


def test_field_rules_hold_on_random_days():
    for seed in (21, 22, 23):
        problem = random_day(20, 4, seed=seed)
        districts = ("east", "west")
        for k, t in enumerate(problem.technicians):
            problem.technicians[k] = replace(
                t, coverage_districts=frozenset({districts[k % 2]}), coverage_hard=k == 0
            )
        visits = problem.visits
        for k, v in enumerate(visits):
            visits[k] = replace(v, district=districts[k % 2])
        visits[1] = replace(visits[1], crew_size=2)
        visits[6] = replace(visits[6], crew_size=2, after=(visits[4].id,))
        visits[9] = replace(visits[9], after=(visits[1].id,), window_start_s=8 * H, window_end_s=18 * H)
        visits[12] = replace(visits[12], after=(visits[9].id,), window_start_s=8 * H, window_end_s=18 * H)
        for settings in (ONE_WORKER, ORTOOLS_ONLY):
            plan = solve(problem, 1.0, settings=settings)
            check_field_rules(problem, plan)
            if settings is ONE_WORKER:
                # With the construction every crew and chain fits these days;
                # OR-Tools alone may leave a crew out (it inserts one node at a time).
                assert not plan.unassigned, (seed, plan.unassigned)
