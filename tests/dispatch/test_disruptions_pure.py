"""The re-plan's parts without the database: a held route timed from now
(dispatch.routing.held) and the local repair (dispatch.routing.repair)."""

from __future__ import annotations

from dispatch.routing.held import time_held
from dispatch.routing.problem import Plan, PlannedStop, Problem, TechnicianRoute, TechnicianSpec, VisitSpec
from dispatch.routing.repair import repair, resolve

NOW = 10 * 3600


def _tech(tid: str, lat: float = 31.85, skills=("adsl", "lan")) -> TechnicianSpec:
    return TechnicianSpec(
        tid,
        frozenset(skills),
        lat,
        117.26,
        lat,
        117.26,
        8 * 3600 + 1800,
        17 * 3600 + 1800,
        available_from_s=NOW,
    )


def _visit(vid: str, lat: float, priority: str = "P3", **fields) -> VisitSpec:
    base = {"duration_s": 3600, "window_start_s": 0, "window_end_s": 24 * 3600, "skills": frozenset({"adsl"})}
    return VisitSpec(vid, lat, 117.26, priority=priority, **{**base, **fields})


def _plan(routes: dict[str, list[str]]) -> Plan:
    held = [
        TechnicianRoute(t, [PlannedStop(v, 0, 0, 0, 0, 0.0) for v in ids], None, 0.0, 0, 0, 0)
        for t, ids in routes.items()
    ]
    return Plan(held, [], 0, 0.0, 0, 0.0, "optimized")


def test_held_route_on_site_ends_when_its_work_is_done_and_later_stops_follow():
    tech = _tech("A")
    on_site = _visit(
        "v1", 31.85, pinned_first=True, pinned_technician="A", started_s=NOW - 600, duration_s=3600
    )
    after = _visit("v2", 31.86)
    day = time_held(tech, [on_site, after])
    first, second = day.route.stops
    assert (first.start_s, first.end_s) == (NOW - 600, NOW + 3000)
    assert second.start_s >= first.end_s + second.travel_s
    assert day.lost == []


def test_held_route_drops_a_stop_whose_window_closes_and_reports_why():
    tech = _tech("A")
    long_one = _visit(
        "v1", 31.85, pinned_first=True, pinned_technician="A", started_s=NOW, duration_s=4 * 3600
    )
    closing = _visit("v2", 31.86, window_start_s=NOW, window_end_s=NOW + 3600)
    later = _visit("v3", 31.86)
    day = time_held(tech, [long_one, closing, later])
    assert [u.visit_id for u in day.lost] == ["v2"] and day.lost[0].reason == "window_unreachable"
    assert [s.visit_id for s in day.route.stops] == ["v1", "v3"]


def test_held_route_counts_a_breach_past_the_deadline():
    tech = _tech("A")
    due = _visit("v1", 31.86, deadline_s=NOW + 60)
    day = time_held(tech, [_visit("v0", 31.855), due])
    assert day.breaches == 1 and day.late_s > 0


def test_repair_moves_the_visits_of_an_absent_technician_and_keeps_the_others_sequence():
    techs = [_tech("B", 31.86), _tech("C", 31.84)]
    visits = [_visit("b1", 31.861), _visit("c1", 31.841), _visit("a1", 31.855), _visit("a2", 31.845, "P1")]
    problem = Problem(techs, visits)
    plan = _plan({"A": ["a1", "a2"], "B": ["b1"], "C": ["c1"]})
    result = repair(problem, plan, [visits[2], visits[3]], time_limit_s=2)
    assert set(result.placed) == {"a1", "a2"} and result.unplaced == []
    routes = {r.technician_id: [s.visit_id for s in r.stops] for r in result.plan.routes}
    assert routes["A"] == []
    assert "b1" in routes["B"] and "c1" in routes["C"]


def test_a_p1_displaces_lower_priority_work_which_goes_elsewhere_or_is_listed():
    # B's day is full of P3 work; only B has the LAN skill the P1 needs.
    techs = [_tech("B", 31.86), _tech("C", 31.84, skills=("adsl",))]
    full = [_visit(f"b{i}", 31.86 + i / 1000, duration_s=3600) for i in range(7)]
    fault = _visit(
        "p1", 31.862, "P1", skills=frozenset({"lan"}), duration_s=2 * 3600, deadline_s=NOW + 4 * 3600
    )
    problem = Problem(techs, [*full, fault])
    plan = _plan({"B": [v.id for v in full], "C": []})
    result = repair(problem, plan, [fault], time_limit_s=2)
    assert result.placed["p1"] == "B"
    assert result.displaced  # room was made
    for vid in result.displaced:
        assert result.placed.get(vid) == "C" or vid in {u.visit_id for u in result.unplaced}


def test_resolve_keeps_work_under_way_with_its_technician():
    techs = [_tech("A"), _tech("B", 31.86)]
    under_way = _visit("a1", 31.85, pinned_first=True, pinned_technician="A", started_s=NOW - 300)
    visits = [
        under_way,
        _visit("a2", 31.851, pinned_technician="A"),
        _visit("b1", 31.861, pinned_technician="B"),
    ]
    plan = _plan({"A": ["a1", "a2"], "B": ["b1"]})
    solved = resolve(Problem(techs, visits), plan, [visits[1]], time_limit_s=1)
    first = {r.technician_id: r.stops[0].visit_id for r in solved.routes if r.stops}
    assert first["A"] == "a1"
    assert {s.visit_id for r in solved.routes for s in r.stops} == {"a1", "a2", "b1"}


def test_repair_moves_a_visit_that_would_breach_to_someone_who_makes_it_in_time():
    # A's day: three long visits, the last one due by 12:00 but reached only after it.
    a, b = _tech("A"), _tech("B", lat=31.87)
    first, second = _visit("a1", 31.85), _visit("a2", 31.851)
    due = _visit("a3", 31.869, deadline_s=12 * 3600)
    problem = Problem([a, b], [first, second, due])
    plan = _plan({"A": ["a1", "a2", "a3"], "B": []})
    assert time_held(a, [first, second, due]).breaches == 1  # held as it is, a3 is late

    result = repair(problem, plan, [], time_limit_s=2.0)

    assert result.rescued == {"a3": "B"}
    assert result.changed == {"A", "B"}
    moved = result.plan.route_of("B")
    assert [s.visit_id for s in moved.stops] == ["a3"] and moved.stops[0].late_s == 0
    assert [s.visit_id for s in result.plan.route_of("A").stops] == ["a1", "a2"]


def test_repair_reorders_a_late_visits_own_route_when_nobody_else_makes_it_in_time():
    a, b = _tech("A"), _tech("B", lat=31.87, skills=("lan",))  # B lacks the skill
    first, second = _visit("a1", 31.85), _visit("a2", 31.851)
    due = _visit("a3", 31.869, deadline_s=12 * 3600)
    result = repair(Problem([a, b], [first, second, due]), _plan({"A": ["a1", "a2", "a3"], "B": []}), [], 2.0)
    assert result.rescued == {} and result.changed == {"A"} and result.resequenced == ["A"]
    route = result.plan.route_of("A")
    assert sorted(s.visit_id for s in route.stops) == ["a1", "a2", "a3"]
    assert all(s.late_s == 0 for s in route.stops)
    assert [s.visit_id for s in route.stops].index("a3") < 2  # reached before its deadline


def test_repair_leaves_a_late_route_as_it_is_when_no_order_saves_a_breach():
    a, b = _tech("A"), _tech("B", lat=31.87, skills=("lan",))
    # three hours of work all due within the next half hour: only one can be in time
    day = [_visit(f"a{k}", 31.85 + k / 1000, deadline_s=NOW + 1800) for k in range(1, 4)]
    assert time_held(a, day).breaches == 2
    result = repair(Problem([a, b], day), _plan({"A": ["a1", "a2", "a3"], "B": []}), [], 2.0)
    assert result.rescued == {} and result.changed == set() and result.resequenced == []
    assert [s.visit_id for s in result.plan.route_of("A").stops] == ["a1", "a2", "a3"]
