"""The routing optimizer on small hand-built days (short time limits)."""

from __future__ import annotations

import json
import random

import pytest

from dispatch.routing import SearchSettings, solve
from dispatch.routing.insertion import insert_urgent
from dispatch.routing.matrix import HaversineMatrix
from dispatch.routing.problem import Plan, Problem, TechnicianSpec, Unassigned, VisitSpec
from dispatch.routing.search import plan_sequences
from dispatch.routing.settings import ConstructionSettings

ORTOOLS_ONLY = SearchSettings(construction=ConstructionSettings(method=""))

H = 3600
BASE = (31.2300, 121.4700)
KM_LAT = 1 / 111.2  # degrees of latitude per km


def at(km_north: float, km_east: float = 0.0) -> tuple[float, float]:
    return (BASE[0] + km_north * KM_LAT, BASE[1] + km_east * KM_LAT / 0.855)


def tech(
    tid, skills=("adsl", "lan", "iptv"), base=(0.0, 0.0), shift=(8 * H, 18 * H), lunch=None, **kw
) -> TechnicianSpec:
    lat, lon = at(*base)
    lunch_kw = {}
    if lunch is not None:
        lunch_kw = {
            "lunch_earliest_s": lunch[0],
            "lunch_latest_s": lunch[1],
            "lunch_duration_s": lunch[2],
        }
    return TechnicianSpec(tid, frozenset(skills), lat, lon, lat, lon, shift[0], shift[1], **lunch_kw, **kw)


def visit(vid, where=(1.0, 1.0), window=(8 * H, 18 * H), duration_s=30 * 60, **kw) -> VisitSpec:
    lat, lon = at(*where)
    return VisitSpec(vid, lat, lon, duration_s, window[0], window[1], **kw)


def random_day(n_visits: int, n_techs: int, seed: int = 7) -> Problem:
    rng = random.Random(seed)
    techs = [
        tech(t, base=(rng.uniform(-3, 3), rng.uniform(-3, 3)), lunch=(11 * H + 1800, 13 * H, H))
        for t in range(n_techs)
    ]
    visits = []
    for i in range(n_visits):
        window = (8 * H, 12 * H) if i % 2 == 0 else (13 * H, 18 * H)
        visits.append(
            visit(
                100 + i,
                (rng.uniform(-6, 6), rng.uniform(-6, 6)),
                window,
                priority=rng.choice(["P1", "P2", "P3", "P3"]),
            )
        )
    return Problem(techs, visits)


def assigned(plan: Plan) -> dict:
    return {s.visit_id: r.technician_id for r in plan.routes for s in r.stops}


def reasons(plan: Plan) -> dict:
    return {u.visit_id: u.reason for u in plan.unassigned}


def check_times(problem: Problem, plan: Plan) -> None:
    """Every stop in its window, in its technician's shift, in a consistent sequence."""
    techs = {t.id: t for t in problem.technicians}
    visits = {v.id: v for v in problem.visits}
    for route in plan.routes:
        t = techs[route.technician_id]
        clock = route.start_s
        assert route.start_s >= t.shift_start_s
        assert route.end_s <= t.shift_end_s
        for stop in route.stops:
            v = visits[stop.visit_id]
            assert v.window_start_s <= stop.start_s <= v.window_end_s
            assert stop.start_s >= clock + stop.travel_s
            assert stop.arrival_s <= stop.start_s
            assert stop.end_s == stop.start_s + v.duration_s
            clock = stop.end_s
            if route.lunch_start_s is not None and t.lunch_duration_s:
                lunch_end = route.lunch_start_s + t.lunch_duration_s
                assert stop.end_s <= route.lunch_start_s or stop.start_s >= lunch_end, "work overlaps lunch"


def test_skills_respected() -> None:
    problem = Problem(
        [tech("adsl-only", skills={"adsl"}), tech("lan-only", skills={"lan"})],
        [
            visit(1, (1, 0), skills=frozenset({"adsl"})),
            visit(2, (1.1, 0), skills=frozenset({"lan"})),
            visit(3, (-1, 0), skills=frozenset({"adsl"})),
            visit(4, (-1.1, 0), skills=frozenset({"lan"})),
        ],
    )
    plan = solve(problem, time_limit_s=1)
    who = assigned(plan)
    assert who == {1: "adsl-only", 3: "adsl-only", 2: "lan-only", 4: "lan-only"}
    assert plan.unassigned == []


def test_shift_and_windows_respected() -> None:
    problem = random_day(30, 4)
    plan = solve(problem, time_limit_s=1.5)
    assert plan.status == "optimized"
    assert len(assigned(plan)) + len(plan.unassigned) == 30
    check_times(problem, plan)


def test_lunch_break_taken_within_its_window() -> None:
    problem = Problem(
        [tech("t1", lunch=(11 * H + 1800, 13 * H, H))],
        [visit(i, (0.5 * i, 0.3), window=(8 * H, 18 * H), duration_s=45 * 60) for i in range(1, 10)],
    )
    plan = solve(problem, time_limit_s=1)
    (route,) = plan.routes
    assert route.lunch_start_s is not None
    assert 11 * H + 1800 <= route.lunch_start_s <= 13 * H
    check_times(problem, plan)
    assert route.work_s == route.end_s - route.start_s - H


def test_max_work_time_respected() -> None:
    problem = Problem([tech("t1", max_work_s=3 * H)], [visit(i, (0.2 * i, 0)) for i in range(1, 12)])
    plan = solve(problem, time_limit_s=1)
    (route,) = plan.routes
    assert route.work_s <= 3 * H
    assert {u.reason for u in plan.unassigned} == {"day_full"}


def test_p1_never_dropped_while_feasible() -> None:
    # One technician, four hours: only a few of the 12 orders fit.
    visits = [visit(i, (0.3 * i, 0.2), duration_s=45 * 60, priority="P3") for i in range(1, 12)]
    visits.append(visit("fault", (8, -6), duration_s=45 * 60, priority="P1"))
    problem = Problem([tech("t1", shift=(8 * H, 12 * H))], visits)
    plan = solve(problem, time_limit_s=1)
    assert "fault" in assigned(plan)
    assert reasons(plan) and set(reasons(plan).values()) == {"day_full"}


def test_higher_tier_kept_over_ordinary_when_full() -> None:
    visits = [
        visit("ordinary", (2, 0), duration_s=3 * H, priority="P2"),
        visit("group", (-2, 0), duration_s=3 * H, priority="P2", tier="group"),
    ]
    problem = Problem([tech("t1", shift=(8 * H, 12 * H))], visits)
    plan = solve(problem, time_limit_s=1)
    assert list(assigned(plan)) == ["group"]
    assert reasons(plan) == {"ordinary": "day_full"}


def test_unassigned_reasons_are_actionable() -> None:
    problem = Problem(
        [tech("t1", skills={"adsl"}, shift=(8 * H, 12 * H))],
        [
            visit("sdh", (1, 0), skills=frozenset({"sdh"})),
            visit("dawn", (1, 0), window=(5 * H, 6 * H)),
            visit("far", (80, 0), window=(8 * H, 8 * H + 600)),
            *[visit(f"p3-{i}", (0.2 * i, 0.1), duration_s=H) for i in range(6)],
            visit("ghost", (1, 0), pinned_technician="nobody"),
        ],
    )
    plan = solve(problem, time_limit_s=1)
    why = reasons(plan)
    assert why["sdh"] == "no_skilled_technician"
    assert why["dawn"] == "window_unreachable"
    assert why["far"] == "window_unreachable"
    assert why["ghost"] == "pinned_technician_unavailable"
    assert "day_full" in why.values()
    for u in plan.unassigned:
        assert u.message_zh and u.message_en
    with pytest.raises(ValueError):
        Unassigned("x", "because")


def test_pinned_first_stop_held() -> None:
    # t2 is already on the way to "on-site", far from its base; t1 is closer.
    problem = Problem(
        [tech("t1", base=(5, 5)), tech("t2", base=(-5, -5))],
        [
            visit(
                "on-site",
                (5.2, 5.2),
                window=(8 * H, 9 * H),
                pinned_technician="t2",
                pinned_first=True,
            ),
            visit("near-t2", (-5, -4.5)),
            visit("near-t1", (5, 4.5)),
        ],
    )
    plan = solve(problem, time_limit_s=1)
    assert plan_sequences(plan)["t2"][0] == "on-site"
    stop = plan.route_of("t2").stops[0]
    assert stop.start_s >= 8 * H + stop.travel_s


def test_manual_assignment_respected() -> None:
    problem = Problem(
        [tech("t1", base=(0, 0)), tech("t2", base=(9, 9))],
        [visit("by-hand", (0.1, 0.1), pinned_technician="t2"), visit("free", (0.2, 0.1))],
    )
    plan = solve(problem, time_limit_s=1)
    who = assigned(plan)
    assert who["by-hand"] == "t2"  # though t1 is next door
    assert "free" in who


def test_late_visit_is_a_visible_breach() -> None:
    problem = Problem(
        [tech("t1", shift=(9 * H, 18 * H))],
        [visit("sla", (6, 0), deadline_s=9 * H + 60, priority="P2", tier="local_a")],
    )
    plan = solve(problem, time_limit_s=1)
    (stop,) = plan.routes[0].stops
    assert stop.late_s == stop.start_s - (9 * H + 60) > 0
    assert plan.breaches == 1


def test_urgent_work_first() -> None:
    problem = Problem(
        [tech("t1")],
        # p3 is on the way, but doing it first would make p1 miss its deadline.
        [
            visit("p3", (1, 0), priority="P3", duration_s=H),
            visit("p1", (1.5, 0), priority="P1", deadline_s=9 * H),
        ],
    )
    plan = solve(problem, time_limit_s=1)
    assert plan_sequences(plan)["t1"][0] == "p1"
    assert plan.breaches == 0


def test_progress_callback_reports_phases() -> None:
    events: list[dict] = []
    solve(random_day(20, 3), time_limit_s=2, progress=events.append)
    phases = [e["phase"] for e in events]
    assert phases[0] == "construction"
    assert phases.index("first_solution") > phases.index("construction")
    assert phases[-1] == "done"
    assert all(0 <= e["percent"] <= 100 for e in events)
    assert all(isinstance(e["best_cost"], int) for e in events)
    percents = [e["percent"] for e in events]
    assert percents == sorted(percents)

    events.clear()
    solve(random_day(20, 3), time_limit_s=1, progress=events.append, settings=ORTOOLS_ONLY)
    assert [e["phase"] for e in events][0] == "first_solution"


def test_cancel_stops_early() -> None:
    calls = {"n": 0}

    def should_cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    plan = solve(random_day(60, 5), time_limit_s=20, should_cancel=should_cancel)
    assert plan.status == "cancelled"
    assert plan.solve_s < 5
    assert plan.routes  # best plan so far is still returned


def test_urgent_insertion_keeps_existing_sequences() -> None:
    problem = random_day(40, 4, seed=3)
    plan = solve(problem, time_limit_s=1.5)
    fault = visit("urgent", (0.5, 0.5), priority="P1", window=(8 * H, 18 * H))
    new_plan = insert_urgent(problem, plan, fault, time_limit_s=2)
    assert new_plan.solve_s < 2
    assert "urgent" in assigned(new_plan)
    before, after = plan_sequences(plan), plan_sequences(new_plan)
    for tid, sequence in before.items():
        assert [v for v in after.get(tid, []) if v != "urgent"] == sequence
    check_times(Problem(problem.technicians, [*problem.visits, fault]), new_plan)


def test_urgent_insertion_reports_reason_when_it_cannot_fit() -> None:
    problem = Problem([tech("t1", skills={"adsl"})], [visit(1, (1, 0))])
    plan = solve(problem, time_limit_s=1)
    new_plan = insert_urgent(problem, plan, visit("sdh", (1, 1), skills=frozenset({"sdh"}), priority="P1"))
    assert reasons(new_plan) == {"sdh": "no_skilled_technician"}
    assert plan_sequences(new_plan) == plan_sequences(plan)


def test_plan_is_plain_json() -> None:
    plan = solve(random_day(10, 2), time_limit_s=0.5, matrix=HaversineMatrix(detour_factor=1.4))
    data = json.loads(json.dumps(plan.to_dict()))
    assert set(data) >= {
        "routes",
        "unassigned",
        "objective",
        "travel_m",
        "breaches",
        "solve_s",
        "status",
    }
    assert data["travel_m"] == pytest.approx(sum(r["travel_m"] for r in data["routes"]))


def test_empty_day() -> None:
    plan = solve(Problem([tech("t1")], []), time_limit_s=0.5)
    assert plan.routes == [] and plan.unassigned == [] and plan.status == "empty"


def test_large_day_is_split_by_district_and_re_solved_in_pairs() -> None:
    from dispatch.routing import SearchSettings

    rng = random.Random(5)
    techs = [tech(f"n{t}", base=(10, 0), district="north") for t in range(2)]
    techs += [tech(f"s{t}", base=(-10, 0), district="south") for t in range(2)]
    techs.append(tech("ent", skills=("enterprise",), base=(10, 1), district="north"))
    visits = [
        visit(f"{d}{i}", (c + rng.uniform(-2, 2), rng.uniform(-2, 2)), district=d)
        for d, c in (("north", 10), ("south", -10))
        for i in range(12)
    ]
    # An enterprise fault in the south: only the north has the skill.
    visits.append(
        visit("ent-fault", (-9, 0), skills=frozenset({"enterprise"}), priority="P1", district="south")
    )
    problem = Problem(techs, visits)
    plan = solve(problem, time_limit_s=4, settings=SearchSettings(decompose_above_visits=10))
    assert plan.stats.get("mode") == "by_district"
    assert assigned(plan)["ent-fault"] == "ent"
    assert plan.unassigned == []
    check_times(problem, plan)


def test_order_goes_to_nearest_district_with_the_skill() -> None:
    from dispatch.routing.decomposition import districts_of

    techs = [
        tech("n", base=(10, 0), district="north"),
        tech("s", base=(-10, 0), district="south"),
        tech("far-ent", skills=("enterprise",), base=(30, 0), district="far"),
        tech("near-ent", skills=("enterprise",), base=(0, 0), district="middle"),
    ]
    visits = [
        visit("home", (-9, 0), district="south"),
        visit("ent", (-9, 0), skills=frozenset({"enterprise"}), district="south"),
        visit("loose", (9, 0)),
    ]
    parts = districts_of(Problem(techs, visits))
    where = {v.id: name for name, part in parts.items() for v in part.visits}
    assert where == {"home": "south", "ent": "middle", "loose": "north"}


def test_technicians_without_district_are_clustered_by_start() -> None:
    from dispatch.routing.decomposition import districts_of

    techs = [tech(f"a{k}", base=(10, 0)) for k in range(10)]
    techs += [tech(f"b{k}", base=(-10, 0)) for k in range(10)]
    parts = districts_of(Problem(techs, [visit("v", (9, 0))]))
    assert len(parts) == 2
    groups = sorted(sorted(t.id[0] for t in part.technicians) for part in parts.values())
    assert groups == [["a"] * 10, ["b"] * 10]


def test_split_day_stays_within_its_time_limit() -> None:
    from dispatch.routing import SearchSettings

    problem = random_day(60, 6, seed=3)
    for k, t in enumerate(problem.technicians):
        t.district = "east" if k % 2 else "west"
    for v in problem.visits:
        v.district = "east" if v.lon > BASE[1] else "west"
    plan = solve(problem, time_limit_s=3, settings=SearchSettings(decompose_above_visits=10))
    assert plan.stats.get("mode") == "by_district"
    assert plan.solve_s <= 3.5
    check_times(problem, plan)
    p1 = {v.id for v in problem.visits if v.priority == "P1"}
    assert not [u for u in plan.unassigned if u.visit_id in p1]


def test_plan_score_prices_drops_above_travel() -> None:
    from dispatch.routing.model import plan_score

    problem = Problem([tech("t1")], [visit("a", priority="P1"), visit("b", priority="P3")])
    plan = solve(problem, time_limit_s=1)
    dropped_p3 = Plan(plan.routes, [Unassigned("b", "day_full")], 0, plan.travel_m, 0, 0.0, "optimized")
    assert plan_score(problem, plan) < plan_score(problem, dropped_p3)


def test_hard_areas_decide_the_district_an_order_goes_to_and_who_may_take_it() -> None:
    from dispatch.routing.decomposition import _city_wide_reasons, districts_of
    from dispatch.routing.insertion import insert_urgent

    bound = dict(coverage_hard=True, coverage_districts=frozenset({"north"}))
    techs = [
        tech("n-iptv", skills=("iptv", "lan"), base=(8, 0), district="north", **bound),
        tech("s", skills=("adsl",), base=(-10, 0), district="south"),
        tech("m-iptv", skills=("iptv", "lan"), base=(20, 0), district="middle"),
    ]
    order = visit("iptv", (-9, 0), skills=frozenset({"iptv", "lan"}), district="south")
    problem = Problem(techs, [order])
    # the north's technician has the skills but may not leave the north: the order goes to
    # the farther district whose technician may take it
    parts = districts_of(problem)
    assert [v.id for v in parts["middle"].visits] == ["iptv"]
    # urgent insertion (and every held-route user) keeps the limit too
    only_north = Problem([techs[0], techs[1]], [])
    inserted = insert_urgent(only_north, solve(only_north, time_limit_s=0.5), order, time_limit_s=0.5)
    assert [u.reason for u in inserted.unassigned] == ["outside_areas"]
    # a district's "no skilled technician" becomes the city's reason when someone may do it
    left = Plan([], [Unassigned("iptv", "no_skilled_technician")], 0, 0.0, 0, 0.0, "optimized")
    assert [u.reason for u in _city_wide_reasons(problem, left).unassigned] == ["day_full"]
    bound_only = Problem(only_north.technicians, [order])
    assert [u.reason for u in _city_wide_reasons(bound_only, left).unassigned] == ["outside_areas"]
    unskilled = Problem([techs[1]], [order])
    assert [u.reason for u in _city_wide_reasons(unskilled, left).unassigned] == ["no_skilled_technician"]
