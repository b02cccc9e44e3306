"""Slot pricing on plain problems (dispatch.slots): no database."""

from __future__ import annotations

from dispatch.routing.problem import Plan, PlannedStop, Problem, TechnicianRoute, TechnicianSpec, VisitSpec
from dispatch.slots import price_slots, room_s, slot_windows

H = 3600
SITE = (31.86, 117.27)


def _tech(tech_id: str, lat: float, shift_end_s: int = 17 * H + 1800) -> TechnicianSpec:
    return TechnicianSpec(tech_id, frozenset({"lan"}), lat, SITE[1], lat, SITE[1], 8 * H + 1800, shift_end_s)


def _visit(visit_id: str, lat: float, duration_s: int) -> VisitSpec:
    return VisitSpec(
        visit_id, lat, SITE[1], duration_s, 8 * H + 1800, 17 * H + 1800, skills=frozenset({"lan"})
    )


def _held(routes: dict[str, list[str]]) -> Plan:
    return Plan(
        [
            TechnicianRoute(t, [PlannedStop(v, 0, 0, 0, 0, 0.0) for v in ids], None, 0.0, 0, 0, 0)
            for t, ids in routes.items()
        ],
        [],
        0,
        0.0,
        0,
        0.0,
        "optimized",
    )


def test_a_full_day_is_not_priced_and_a_farther_technician_with_room_gets_the_slot():
    near, far = _tech("near", SITE[0]), _tech("far", SITE[0] + 0.05)
    busy = _visit("busy", SITE[0] + 0.001, 8 * H + 1800)  # the whole shift on site
    problem = Problem([near, far], [busy])
    plan = _held({"near": ["busy"]})
    new = _visit("new", SITE[0], 40 * 60)

    assert room_s(near, plan, {"busy": busy}) == 1800  # half an hour: the 40-minute job cannot fit
    assert room_s(far, plan, {"busy": busy}) == 9 * H
    prices = price_slots(problem, plan, new, slot_windows("halves"), candidates=1)

    assert [p.window.key for p in prices] == ["am", "pm"]
    assert all(p.fits and p.option.technician_id == "far" and p.evaluated == 1 for p in prices)
    assert all(p.option.extra_travel_m > 5000 for p in prices)  # out and back from 5 km


def test_two_hour_slots_outside_the_shift_are_marked():
    problem = Problem([_tech("am-only", SITE[0], shift_end_s=12 * H)], [])
    prices = price_slots(problem, _held({}), _visit("new", SITE[0], 30 * 60), slot_windows("two_hours"))
    assert [(p.window.key, p.fits, p.reason) for p in prices] == [
        ("0830", True, None),
        ("1030", True, None),
        ("1300", False, "no_technician_on_shift"),
        ("1500", False, "no_technician_on_shift"),
    ]
