"""A plan's figures and the facts behind its explanations, on a small hand-made day."""

from __future__ import annotations

import pytest

from dispatch.routing.explain import explain_plan, explain_visit
from dispatch.routing.kpis import compare_kpis, plan_kpis
from dispatch.routing.problem import Problem, TechnicianSpec, VisitSpec

H = 3600


def _tech(tid: int, skills: set[str], lat: float, lon: float, district: str = "A") -> TechnicianSpec:
    return TechnicianSpec(
        id=tid,
        skills=frozenset(skills),
        start_lat=lat,
        start_lon=lon,
        end_lat=lat,
        end_lon=lon,
        shift_start_s=8 * H,
        shift_end_s=16 * H,  # 8 h = 480 min each
        district=district,
    )


def _visit(vid: int, lat: float, lon: float, **kw) -> VisitSpec:
    kw.setdefault("duration_s", 3600)
    kw.setdefault("window_start_s", 0)
    kw.setdefault("window_end_s", 24 * H)
    return VisitSpec(id=vid, lat=lat, lon=lon, **kw)


def _problem() -> Problem:
    return Problem(
        technicians=[_tech(1, {"adsl", "iptv"}, 31.80, 117.20), _tech(2, {"adsl"}, 31.90, 117.30, "B")],
        visits=[
            _visit(10, 31.81, 117.19, skills=frozenset({"iptv"}), deadline_s=10 * H),
            _visit(11, 31.82, 117.22, deadline_s=11 * H, district="A"),
            _visit(12, 31.89, 117.29, deadline_s=9 * H),
            _visit(13, 31.85, 117.25, skills=frozenset({"enterprise_circuit"})),
            _visit(14, 31.95, 117.40, window_start_s=8 * H, window_end_s=8 * H + 600, district="B"),
        ],
    )


def _plan() -> dict:
    """Technician 1: visits 10 (09:00-10:00) and 11 (10:20-11:30, 30 min before its
    deadline); technician 2: visit 12 starting 09:30, 30 min after its 09:00 deadline.
    12 km / 40 min and 8 km / 30 min of travel; 13 and 14 left out."""
    return {
        "routes": [
            {
                "technician_id": 1,
                "stops": [
                    {
                        "visit_id": 10,
                        "arrival_s": 8 * H + 600,
                        "start_s": 9 * H,
                        "end_s": 10 * H,
                        "travel_s": 600,
                        "travel_m": 2000.0,
                        "late_s": 0,
                    },
                    {
                        "visit_id": 11,
                        "arrival_s": 10 * H + 1200,
                        "start_s": 10 * H + 1200,
                        "end_s": 11 * H + 1800,
                        "travel_s": 1200,
                        "travel_m": 4000.0,
                        "late_s": 0,
                    },
                ],
                "lunch_start_s": None,
                "travel_m": 12000.0,
                "travel_s": 2400,
                "work_s": 0,
                "end_s": 12 * H,
                "start_s": 8 * H,
            },
            {
                "technician_id": 2,
                "stops": [
                    {
                        "visit_id": 12,
                        "arrival_s": 9 * H + 1800,
                        "start_s": 9 * H + 1800,
                        "end_s": 10 * H + 1800,
                        "travel_s": 900,
                        "travel_m": 4000.0,
                        "late_s": 1800,
                    },
                ],
                "lunch_start_s": None,
                "travel_m": 8000.0,
                "travel_s": 1800,
                "work_s": 0,
                "end_s": 11 * H,
                "start_s": 8 * H,
            },
        ],
        "unassigned": [
            {"visit_id": 13, "reason": "no_skilled_technician"},
            {"visit_id": 14, "reason": "window_unreachable"},
        ],
    }


def test_kpis_match_the_hand_computed_figures() -> None:
    kpis = plan_kpis(_plan(), _problem())
    assert kpis.travel_km == 20.0
    assert kpis.travel_min == 70.0  # 2400 s + 1800 s
    assert kpis.work_min == 60 + 70 + 60
    assert kpis.shift_min == 960
    assert kpis.utilisation_pct == pytest.approx(round(100 * 190 / 960, 1))
    assert (kpis.visits_planned, kpis.technicians_used, kpis.technicians) == (3, 2, 2)
    assert kpis.deadlines_at_risk == 1  # visit 11 starts 40 min before 11:00; visit 10 has an hour
    assert kpis.breaches == 1 and kpis.late_min == 30
    assert kpis.unassigned == 2
    assert kpis.unassigned_by_reason == {"no_skilled_technician": 1, "window_unreachable": 1}


def test_compare_kpis_gives_the_change_of_every_figure() -> None:
    before = plan_kpis(_plan(), _problem())
    better = _plan()
    better["routes"][1]["stops"][0]["late_s"] = 0
    better["routes"][1]["travel_m"] = 6000.0
    better["unassigned"] = better["unassigned"][:1]
    diff = compare_kpis(before, plan_kpis(better, _problem()))
    assert diff["breaches"] == {"before": 1, "after": 0, "delta": -1}
    assert diff["travel_km"]["delta"] == -2.0
    assert diff["unassigned_by_reason"]["window_unreachable"] == {"before": 1, "after": 0, "delta": -1}
    assert diff["unassigned_by_reason"]["no_skilled_technician"]["delta"] == 0


def _codes(facts: list[dict]) -> list[str]:
    return [f["code"] for f in facts]


def test_a_placed_visit_names_its_skills_rank_window_and_cost() -> None:
    item = explain_visit(_problem(), _plan(), 10)
    assert item["assigned"] and item["technician_id"] == 1 and item["sequence"] == 1
    skills = item["why_technician"][0]
    assert skills["code"] == "has_skills"
    assert skills["params"] == {"skills": ["iptv"], "qualified": 1, "technicians": 2}
    assert "nearest" in _codes(item["why_technician"])
    assert "workload" in _codes(item["why_technician"])
    time_codes = _codes(item["why_time"])
    assert time_codes[:2] == ["no_window", "deadline_kept"]
    assert item["why_time"][2]["params"]["sequence"] == 1
    assert item["cost"]["extra_km"] > 0 and item["cost"]["on_site_min"] == 60

    second = explain_visit(_problem(), _plan(), 11)
    assert second["why_time"][1]["code"] == "deadline_at_risk"
    assert second["why_time"][2]["params"]["after"] == 10
    late = explain_visit(_problem(), _plan(), 12)
    assert late["why_time"][1]["code"] == "deadline_breached"
    assert late["why_time"][1]["params"]["late_min"] == 30


def test_left_out_visits_name_the_missing_skill_and_the_unreachable_window() -> None:
    orphan = explain_visit(_problem(), _plan(), 13)
    assert orphan["reason"] == "no_skilled_technician"
    assert orphan["blockers"] == [
        {"code": "nobody_has_skill", "params": {"skills": ["enterprise_circuit"], "technicians": 2}}
    ]
    far = explain_visit(_problem(), _plan(), 14)
    assert far["reason"] == "window_unreachable"
    nearest = far["blockers"][0]
    assert nearest["code"] == "window_unreachable_by"
    assert nearest["params"]["technician"] == 2  # nearer to the far site than technician 1
    assert nearest["params"]["window_end_s"] == 8 * H + 600
    assert nearest["params"]["earliest_s"] > 8 * H + 600
    assert nearest["params"]["after"] is None  # from the start, the earliest it gets


def test_explain_plan_covers_every_visit_and_technician() -> None:
    explained = explain_plan(_problem(), _plan())
    assert [v["visit_id"] for v in explained["visits"]] == [10, 11, 12, 13, 14]
    assert [t["params"]["stops"] for t in explained["technicians"]] == [2, 1]
    assert explain_visit(_problem(), _plan(), 99) is None


def test_a_farther_technician_is_explained_by_the_nearer_ones_day() -> None:
    near, far = _tech(1, {"adsl"}, 31.80, 117.20, "A"), _tech(2, {"adsl"}, 31.90, 117.30, "B")
    problem = Problem(technicians=[near, far], visits=[_visit(20, 31.801, 117.201, district="A")])
    busy = {
        "visit_id": 20,
        "arrival_s": 9 * H,
        "start_s": 9 * H,
        "end_s": 10 * H,
        "travel_s": 900,
        "travel_m": 1.0,
    }
    plan = {
        "routes": [
            {"technician_id": 1, "stops": [], "travel_m": 0.0, "travel_s": 0, "end_s": 8 * H},
            {"technician_id": 2, "stops": [busy], "travel_m": 30000.0, "travel_s": 1800, "end_s": 11 * H},
        ],
        "unassigned": [],
    }
    why = {f["code"]: f["params"] for f in explain_visit(problem, plan, 20)["why_technician"]}
    assert why["not_nearest"]["rank"] == 2 and why["not_nearest"]["nearer"] == 1
    assert why["not_nearest"]["nearer_km"] < why["not_nearest"]["distance_km"]
    assert why["nearer_workload"]["technician"] == 1 and why["nearer_workload"]["stops"] == 0
    assert why["outside_district"] == {"district": "A", "home_district": "B"}
