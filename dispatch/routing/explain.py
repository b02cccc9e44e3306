"""Why a plan placed a visit where it did, or left it out: the facts, not the words.

Pure: a :class:`Problem` and the plan's stored dict in, plain dicts of facts out, each
``{"code": ..., "params": {...}}``. :mod:`dispatch.explain` names the technicians,
orders and skills in them and writes the sentences in the reader's language.

For a placed visit: who (skills, how near among the qualified, district, workload),
when (appointment window, restore deadline, place in the route) and what it costs
(the detour it adds to the route). For a visit left out: the optimizer's reason and
the specific blocker (the skill nobody on shift has; the window the nearest qualified
technician's route cannot reach, and when they could; the qualified technicians' days).

Travel is the planner's default estimate (:class:`HaversineMatrix`), or the ``travel``
function given.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dispatch.routing.matrix import EARTH_RADIUS_M, HaversineMatrix, Point
from dispatch.routing.problem import Problem, TechnicianSpec, VisitSpec

DAY_S = 24 * 3600
AT_RISK_S = 3600

Travel = Callable[[Point, Point], tuple[int, float]]
Fact = dict[str, Any]


def haversine_travel(area_type: str = "urban") -> Travel:
    """(seconds, metres) between two points as the planner estimates them, without geopy's overhead."""
    matrix = HaversineMatrix(area_type=area_type)
    detour, speed = matrix.detour_factor, matrix.speed_m_per_s

    def travel(a: Point, b: Point) -> tuple[int, float]:
        lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
        h = (
            math.sin((lat2 - lat1) / 2) ** 2
            + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
        )
        metres = 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, h))) * detour
        return int(round(metres / speed)), metres

    return travel


def _fact(code: str, **params: Any) -> Fact:
    return {"code": code, "params": params}


@dataclass
class _Context:
    """The problem and plan indexed for look-ups."""

    problem: Problem
    plan: dict[str, Any]
    travel: Travel

    def __post_init__(self) -> None:
        self.techs = {str(t.id): t for t in self.problem.technicians}
        self.detour = HaversineMatrix(area_type=self.problem.area_type).detour_factor
        self._qualified: dict[frozenset[str], list[TechnicianSpec]] = {}
        self._starts: dict[int, tuple[list[TechnicianSpec], np.ndarray]] = {}
        self.visits = {str(v.id): v for v in self.problem.visits}
        self.routes = {str(r["technician_id"]): r for r in self.plan.get("routes", [])}
        self.unassigned = {str(u["visit_id"]): u for u in self.plan.get("unassigned", [])}
        self.placed: dict[str, tuple[dict[str, Any], int]] = {}
        for route in self.plan.get("routes", []):
            for index, stop in enumerate(route["stops"]):
                self.placed[str(stop["visit_id"])] = (route, index)

    def point(self, visit_id: Any) -> Point:
        visit = self.visits[str(visit_id)]
        return (visit.lat, visit.lon)

    def qualified(self, visit: VisitSpec) -> list[TechnicianSpec]:
        if visit.skills not in self._qualified:
            self._qualified[visit.skills] = [t for t in self.problem.technicians if visit.skills <= t.skills]
        return self._qualified[visit.skills]

    def by_distance(
        self, techs: list[TechnicianSpec], visit: VisitSpec
    ) -> list[tuple[float, TechnicianSpec]]:
        """``techs`` nearest first, with their estimated road distance (m) from where they start
        (vectorised: a big day asks this for every visit)."""
        if not techs:
            return []
        cached = self._starts.get(id(techs))
        if cached is None or cached[0] is not techs:
            points = np.array([(t.start_lat, t.start_lon) for t in techs], dtype=np.float64)
            cached = self._starts[id(techs)] = (techs, np.radians(points))
        starts = cached[1]
        lat, lon = math.radians(visit.lat), math.radians(visit.lon)
        h = (
            np.sin((starts[:, 0] - lat) / 2) ** 2
            + np.cos(starts[:, 0]) * math.cos(lat) * np.sin((starts[:, 1] - lon) / 2) ** 2
        )
        metres = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))) * self.detour
        order = np.argsort(metres, kind="stable")
        return [(float(metres[i]), techs[int(i)]) for i in order]

    def workload(self, tech: TechnicianSpec) -> Fact:
        route = self.routes.get(str(tech.id)) or {"stops": []}
        work_s = sum(s["end_s"] - s["start_s"] for s in route["stops"])
        shift = max(1, tech.shift_end_s - tech.shift_start_s)
        return _fact(
            "workload",
            technician=tech.id,
            stops=len(route["stops"]),
            work_min=round(work_s / 60),
            shift_min=round(shift / 60),
            utilisation_pct=round(100 * work_s / shift),
            ends_s=route.get("end_s"),
        )


def explain_plan(problem: Problem, plan: dict[str, Any], travel: Travel | None = None) -> dict[str, Any]:
    """Every visit of the plan explained, placed ones by route order, then those left out."""
    ctx = _Context(problem, plan, travel or haversine_travel(problem.area_type))
    placed = [
        _explain_placed(ctx, str(stop["visit_id"]))
        for route in plan.get("routes", [])
        for stop in route["stops"]
        if str(stop["visit_id"]) in ctx.visits
    ]
    left_out = [_explain_left_out(ctx, vid) for vid in ctx.unassigned if vid in ctx.visits]
    technicians = [ctx.workload(t) for t in problem.technicians]
    return {"visits": placed + left_out, "technicians": technicians}


def explain_visit(
    problem: Problem, plan: dict[str, Any], visit_id: Any, travel: Travel | None = None
) -> dict[str, Any] | None:
    """One visit explained, or None when the plan does not mention it."""
    ctx = _Context(problem, plan, travel or haversine_travel(problem.area_type))
    key = str(visit_id)
    if key not in ctx.visits:
        return None
    if key in ctx.placed:
        return _explain_placed(ctx, key)
    if key in ctx.unassigned:
        return _explain_left_out(ctx, key)
    return None


# ---------------------------------------------------------------- a placed visit


def _explain_placed(ctx: _Context, visit_id: str) -> dict[str, Any]:
    visit = ctx.visits[visit_id]
    route, index = ctx.placed[visit_id]
    tech = ctx.techs.get(str(route["technician_id"]))
    stop = route["stops"][index]
    why: list[Fact] = []
    if tech is not None:
        why = _why_technician(ctx, visit, tech)
    return {
        "visit_id": visit.id,
        "assigned": True,
        "technician_id": route["technician_id"],
        "sequence": index + 1,
        "start_s": stop["start_s"],
        "why_technician": why,
        "why_time": _why_time(ctx, visit, route, index),
        "cost": _cost(ctx, visit, route, index, tech),
    }


def _why_technician(ctx: _Context, visit: VisitSpec, tech: TechnicianSpec) -> list[Fact]:
    facts: list[Fact] = []
    if visit.pinned_first:
        facts.append(_fact("under_way", technician=tech.id))
    elif visit.pinned_technician is not None:
        facts.append(_fact("pinned", technician=tech.id))
    qualified = ctx.qualified(visit)
    if visit.skills:
        facts.append(
            _fact(
                "has_skills",
                skills=sorted(visit.skills),
                qualified=len(qualified),
                technicians=len(ctx.problem.technicians),
            )
        )
    else:
        facts.append(_fact("no_skills_needed"))
    ranked = ctx.by_distance(qualified or ctx.problem.technicians, visit)
    rank = next((i for i, (_, t) in enumerate(ranked) if t.id == tech.id), None)
    if rank is not None:
        distance_km = round(ranked[rank][0] / 1000, 1)
        if rank == 0:
            facts.append(_fact("nearest", distance_km=distance_km, qualified=len(ranked)))
        else:
            nearer_m, nearer = ranked[0]
            facts.append(
                _fact(
                    "not_nearest",
                    rank=rank + 1,
                    distance_km=distance_km,
                    nearer=nearer.id,
                    nearer_km=round(nearer_m / 1000, 1),
                )
            )
            facts.append({**ctx.workload(nearer), "code": "nearer_workload"})
    if visit.district and tech.district:
        code = "in_district" if visit.district == tech.district else "outside_district"
        facts.append(_fact(code, district=visit.district, home_district=tech.district))
    facts.append(ctx.workload(tech))
    return facts


def _why_time(ctx: _Context, visit: VisitSpec, route: dict[str, Any], index: int) -> list[Fact]:
    stop = route["stops"][index]
    facts: list[Fact] = []
    if visit.window_start_s > 0 or visit.window_end_s < DAY_S:
        facts.append(
            _fact("window", start_s=visit.window_start_s, end_s=visit.window_end_s, at_s=stop["start_s"])
        )
    else:
        facts.append(_fact("no_window"))
    if visit.deadline_s is not None:
        late_s = int(stop.get("late_s") or 0)
        if late_s > 0:
            code = "deadline_breached"
        elif visit.deadline_s - stop["start_s"] < AT_RISK_S:
            code = "deadline_at_risk"
        else:
            code = "deadline_kept"
        facts.append(
            _fact(code, deadline_s=visit.deadline_s, at_s=stop["start_s"], late_min=round(late_s / 60))
        )
    previous = route["stops"][index - 1]["visit_id"] if index > 0 else None
    facts.append(
        _fact(
            "route_order",
            sequence=index + 1,
            stops=len(route["stops"]),
            after=previous,
            arrival_s=stop["arrival_s"],
            travel_min=round(stop["travel_s"] / 60),
        )
    )
    wait_s = stop["start_s"] - stop["arrival_s"]
    if wait_s >= 60 and visit.window_start_s == stop["start_s"]:
        facts.append(_fact("waits_for_window", wait_min=round(wait_s / 60), start_s=visit.window_start_s))
    return facts


def _cost(
    ctx: _Context, visit: VisitSpec, route: dict[str, Any], index: int, tech: TechnicianSpec | None
) -> dict[str, Any]:
    """The detour the visit adds: previous point -> visit -> next point, less previous -> next."""
    stops = route["stops"]
    site = (visit.lat, visit.lon)
    if index > 0:
        before = ctx.point(stops[index - 1]["visit_id"])
    elif tech is not None:
        before = (tech.start_lat, tech.start_lon)
    else:
        before = site
    if index + 1 < len(stops):
        after = ctx.point(stops[index + 1]["visit_id"])
    elif tech is not None:
        after = (tech.end_lat, tech.end_lon)
    else:
        after = site
    to_s, to_m = ctx.travel(before, site)
    from_s, from_m = ctx.travel(site, after)
    direct_s, direct_m = ctx.travel(before, after)
    return {
        "extra_km": round(max(0.0, to_m + from_m - direct_m) / 1000, 1),
        "extra_min": round(max(0, to_s + from_s - direct_s) / 60),
        "on_site_min": round(visit.duration_s / 60),
    }


# ---------------------------------------------------------------- a visit left out


def _explain_left_out(ctx: _Context, visit_id: str) -> dict[str, Any]:
    visit = ctx.visits[visit_id]
    item = ctx.unassigned[visit_id]
    reason = str(item["reason"])
    return {
        "visit_id": visit.id,
        "assigned": False,
        "reason": reason,
        "blockers": _blockers(ctx, visit, reason),
    }


def _blockers(ctx: _Context, visit: VisitSpec, reason: str) -> list[Fact]:
    qualified = ctx.qualified(visit)
    if reason == "outside_areas":
        skilled = [t for t in ctx.problem.technicians if visit.skills <= t.skills]
        return [_fact("outside_areas", district=visit.district or "", skilled=len(skilled))]
    if reason == "no_skilled_technician" or not qualified:
        held = frozenset().union(*(t.skills for t in ctx.problem.technicians))
        missing = sorted(visit.skills - held)
        if missing:
            return [_fact("nobody_has_skill", skills=missing, technicians=len(ctx.problem.technicians))]
        return [_fact("nobody_has_all_skills", skills=sorted(visit.skills))]
    if reason == "window_passed":
        return [_fact("window_passed", start_s=visit.window_start_s, end_s=visit.window_end_s)]
    if reason == "displaced":
        return [_fact("displaced")]
    if reason == "crew_member_unavailable":
        return []  # the reason says it all: who could reach it does not matter
    if reason == "pinned_technician_unavailable":
        on_shift = str(visit.pinned_technician) in ctx.techs
        return [_fact("pinned_unavailable", technician=visit.pinned_technician, on_shift=on_shift)]
    ranked = ctx.by_distance(qualified, visit)
    facts = [_reach(ctx, visit, tech, distance_m) for distance_m, tech in ranked[:2]]
    if reason == "day_full":
        facts.insert(0, _fact("qualified_full", qualified=len(qualified)))
    return facts


def _reach(ctx: _Context, visit: VisitSpec, tech: TechnicianSpec, distance_m: float) -> Fact:
    """When ``tech`` could be at the visit at best, from each point of their route."""
    site = (visit.lat, visit.lon)
    route = ctx.routes.get(str(tech.id)) or {"stops": []}
    departures: list[tuple[int, Point, Any]] = [(tech.depart_s, (tech.start_lat, tech.start_lon), None)]
    departures += [(s["end_s"], ctx.point(s["visit_id"]), s["visit_id"]) for s in route["stops"]]
    starts = [
        (max(leave_s + ctx.travel(point, site)[0], visit.window_start_s), after)
        for leave_s, point, after in departures
    ]
    in_window = [start for start in starts if start[0] <= visit.window_end_s]
    best = in_window[0] if in_window else min(starts, key=lambda start: start[0])
    home_s = ctx.travel(site, (tech.end_lat, tech.end_lon))[0]
    finish_s = best[0] + visit.duration_s + home_s
    if best[0] > visit.window_end_s:
        code = "window_unreachable_by"
    elif finish_s > tech.shift_end_s:
        code = "shift_too_short"
    else:
        code = "route_has_no_gap"
    return _fact(
        code,
        technician=tech.id,
        distance_km=round(distance_m / 1000, 1),
        window_start_s=visit.window_start_s,
        window_end_s=visit.window_end_s,
        earliest_s=best[0],
        after=best[1],
        finish_s=finish_s,
        shift_end_s=tech.shift_end_s,
        stops=len(route["stops"]),
    )
