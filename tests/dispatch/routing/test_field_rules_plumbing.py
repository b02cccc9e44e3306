"""Crews and visits in order through the optimizer's other paths: days split
by district, urgent insertion into a planned day, pinned orders under way,
and the construction's insertion of held-back visits."""

from __future__ import annotations

from dataclasses import replace

from dispatch.routing import SearchSettings, solve
from dispatch.routing.constraints import linked_nodes
from dispatch.routing.decomposition import districts_of
from dispatch.routing.insertion import insert_urgent
from dispatch.routing.problem import Problem
from tests.dispatch.routing.test_field_rules import ONE_WORKER, stops_by_visit
from tests.dispatch.routing.test_solver import H, random_day, reasons, tech, visit


def test_dependent_follows_its_predecessor_into_its_district():
    techs = [tech("n", base=(10, 0), district="north"), tech("s", base=(-10, 0), district="south")]
    visits = [
        visit("line", (9, 0), district="north"),
        visit("install", (-9, 0), district="south", after=("line",)),
        visit("follow", (-9, 1), district="south", after=("install",)),
        visit("plain", (-9, 2), district="south"),
    ]
    parts = districts_of(Problem(techs, visits))
    where = {v.id: name for name, part in parts.items() for v in part.visits}
    assert where == {"line": "north", "install": "north", "follow": "north", "plain": "south"}


def test_split_day_keeps_crews_and_order():
    problem = random_day(24, 4, seed=11)
    for k, t in enumerate(problem.technicians):
        problem.technicians[k] = replace(t, district="east" if k % 2 else "west")
    visits = problem.visits
    visits[0] = replace(visits[0], crew_size=2, priority="P1")
    visits[7] = replace(visits[7], after=(visits[0].id,), window_start_s=8 * H, window_end_s=18 * H)
    plan = solve(problem, 3.0, settings=SearchSettings(decompose_above_visits=10, workers=1))
    placed = stops_by_visit(plan)
    crew = placed[visits[0].id]
    assert len(crew) == 2 and crew[0][0] != crew[1][0] and crew[0][1] == crew[1][1]
    if visits[7].id in placed:
        assert placed[visits[7].id][0][1] >= crew[0][2]
    else:
        assert reasons(plan)[visits[7].id] in {"day_full", "window_unreachable"}


def test_urgent_insertion_keeps_linked_stops_in_place():
    problem = random_day(18, 3, seed=4)
    visits = problem.visits
    visits[0] = replace(visits[0], crew_size=2, priority="P1")
    visits[2] = replace(visits[2], after=(visits[4].id,), window_start_s=8 * H, window_end_s=18 * H)
    plan = solve(problem, 1.5, settings=ONE_WORKER)
    before = stops_by_visit(plan)
    assert len(before[visits[0].id]) == 2
    fault = visit("urgent", (0.5, 0.5), priority="P1")
    updated = insert_urgent(problem, plan, fault, time_limit_s=2)
    after = stops_by_visit(updated)
    assert "urgent" in after
    # The crew still works together at its planned time, both technicians.
    assert sorted(after[visits[0].id]) == sorted(before[visits[0].id])
    for first, then in ((visits[4].id, visits[2].id),):
        if then in after:
            assert after[then][0][1] >= after[first][0][2]


def test_urgent_dependent_waits_for_its_planned_predecessor():
    problem = Problem([tech("A"), tech("B", base=(2, 0))], [visit("line", (1, 0), window=(10 * H, 11 * H))])
    plan = solve(problem, 1.0, settings=ONE_WORKER)
    line_end = stops_by_visit(plan)["line"][0][2]
    follow = visit("follow", (1.2, 0), after=("line",), priority="P1")
    updated = insert_urgent(problem, plan, follow, time_limit_s=2)
    assert stops_by_visit(updated)["follow"][0][1] >= line_end


def test_visit_after_an_order_on_site_opens_at_its_end():
    on_site = visit("line", (0.5, 0), pinned_technician="A", pinned_first=True, duration_s=2 * H)
    install = visit("install", (0.6, 0), after=("line",))
    problem = Problem([tech("A"), tech("B", base=(0.4, 0))], [on_site, install])
    plan = solve(problem, 1.0, settings=ONE_WORKER)
    placed = stops_by_visit(plan)
    assert placed["install"][0][1] >= placed["line"][0][2]
    assert placed["line"][0][0] == "A"


def test_linked_nodes_are_crews_and_dependents():
    problem = random_day(6, 2)
    visits = problem.visits
    visits[1] = replace(visits[1], crew_size=2)
    visits[3] = replace(visits[3], after=(visits[0].id,))
    from dispatch.routing.model import create_data_model

    data = create_data_model(problem)
    ids = [data.visits[node].id for node in sorted(linked_nodes(data.visits))]
    assert ids == [visits[1].id, visits[1].id, visits[3].id]
