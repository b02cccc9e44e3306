"""Field rules that tie more than one stop or technician together.

* Coverage areas: a technician covers some districts (``coverage_districts``);
  bound to them (``coverage_hard``) they may do no visit elsewhere, which
  :func:`covers` folds into who may do what; else each visit elsewhere costs
  ``ModelSettings.out_of_area_cost_m`` on their arcs (one cost class per
  coverage set, so vehicles with the same areas stay interchangeable).
* Crews: a visit for ``crew_size`` technicians becomes that many nodes with
  the same visit id (:func:`expand_crews`), performed or left out together,
  on different technicians, starting at the same time.
* Visits in order: a visit ``after`` others starts no earlier than their end
  and is left out when one of them is. A predecessor not in the problem is
  done; one en route or on site (pinned first) moves the window's opening
  to its planned end (:func:`after_pinned_legs`).
* Fair shares: with ``ModelSettings.fair_work_m_per_min`` each minute of
  work on site a technician has above their fair share (each visit's work
  split evenly among the technicians allowed to do it) is charged, which
  spreads work evenly among technicians of the same skills and areas.

The data side runs inside ``model.create_data_model``; the model side is
:func:`add_field_constraints`, called at the end of ``build_routing_model``.
The compiled construction knows none of the linking rules: crew and
dependent visits are held back from it and put into its plan by
:mod:`dispatch.routing.linked_insertion` before OR-Tools takes over.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np
from ortools.constraint_solver import pywrapcp

from dispatch.routing.problem import Plan, Problem, TechnicianSpec, Unassigned, VisitSpec
from dispatch.routing.settings import ModelSettings

# Larger than any time of day in the model (its horizon is two days).
_BIG_M_S = 3 * 24 * 3600


class _PinnedLeg(Protocol):
    visit: VisitSpec
    end_s: int


class FieldData(Protocol):
    """What the model side reads from ``model.DataModel``."""

    visits: list[VisitSpec]
    technicians: list[TechnicianSpec]
    allowed_vehicles: list[list[int]]
    service_s: list[int]
    distances_m: np.ndarray
    pinned_legs: Any

    @property
    def num_vehicles(self) -> int: ...


# --------------------------------------------------------------------------
# Data side
# --------------------------------------------------------------------------


def covers(tech: TechnicianSpec, visit: VisitSpec) -> bool:
    """Whether ``tech`` may do ``visit`` as far as their areas go: always,
    unless they are bound to areas and the visit is in none of them. A visit
    of unknown district is anywhere."""
    if not tech.coverage_hard or not tech.coverage_districts or visit.district is None:
        return True
    return visit.district in tech.coverage_districts


def out_of_area(tech: TechnicianSpec, visit: VisitSpec) -> bool:
    """Whether ``visit`` lies outside the areas ``tech`` covers (known district only)."""
    return (
        bool(tech.coverage_districts)
        and visit.district is not None
        and (visit.district not in tech.coverage_districts)
    )


def expand_crews(visits: list[VisitSpec]) -> list[VisitSpec]:
    """Each visit for a crew of k as k nodes with the same id, next to each
    other. Only the first keeps a pinned technician (the crew's lead)."""
    expanded: list[VisitSpec] = []
    for visit in visits:
        expanded.append(visit)
        if visit.crew_size > 1:
            mate = replace(visit, pinned_technician=None, pinned_first=False)
            expanded.extend(mate for _ in range(visit.crew_size - 1))
    return expanded


def after_pinned_legs(
    candidates: list[VisitSpec], pinned_legs: Sequence[Sequence[_PinnedLeg]]
) -> list[VisitSpec]:
    """Visits after an order en route or on site open no earlier than its planned end."""
    ends = {leg.visit.id: leg.end_s for legs in pinned_legs for leg in legs}
    if not ends:
        return candidates
    moved: list[VisitSpec] = []
    for visit in candidates:
        opens = max([visit.window_start_s, *(ends[p] for p in visit.after if p in ends)])
        moved.append(replace(visit, window_start_s=opens) if opens != visit.window_start_s else visit)
    return moved


def screen_linked(
    problem: Problem,
    visits: list[VisitSpec],
    allowed: list[list[int]],
    keep: list[int],
    screened: list[Unassigned],
) -> tuple[list[VisitSpec], list[list[int]], list[int]]:
    """Leave out crews that cannot be complete (a node screened out, or fewer
    technicians allowed than the crew needs) and visits whose predecessor is
    left out, chains included; each left-out visit is reported once."""
    out: dict[int | str, str] = {}
    count: dict[int | str, int] = {}
    crew_techs: dict[int | str, set[int]] = {}
    for visit, vehicles in zip(visits, allowed, strict=True):
        count[visit.id] = count.get(visit.id, 0) + 1
        crew_techs.setdefault(visit.id, set()).update(vehicles)
    for visit in visits:
        if visit.crew_size > 1 and (
            count[visit.id] < visit.crew_size or len(crew_techs[visit.id]) < visit.crew_size
        ):
            out[visit.id] = "no_skilled_technician"
    in_problem = {v.id for v in problem.visits}
    planned = {v.id for v in visits}
    done_or_under_way = {v.id for v in problem.visits if v.pinned_first and v.pinned_technician is not None}
    changed = True
    while changed:
        changed = False
        for visit in visits:
            if visit.id in out:
                continue
            waiting = [
                p
                for p in visit.after
                if p != visit.id
                and p in in_problem
                and p not in done_or_under_way
                and (p not in planned or p in out)
            ]
            if waiting:
                out[visit.id] = "predecessor_unassigned"
                changed = True
    # A crew node screened out alone leaves its mates behind: they go too.
    reported = {u.visit_id for u in screened}
    kept = [i for i, visit in enumerate(visits) if visit.id not in out and visit.id not in reported]
    screened.extend(Unassigned(visit_id, reason) for visit_id, reason in out.items())
    unique = {u.visit_id: u for u in reversed(screened)}  # crew nodes screened alike: once
    screened[:] = [u for u in screened if unique.get(u.visit_id) is u]
    return [visits[i] for i in kept], [allowed[i] for i in kept], [keep[i] for i in kept]


def crew_groups(visits: Sequence[VisitSpec]) -> list[list[int]]:
    """Nodes of each crew visit (two or more nodes with one id)."""
    nodes: dict[int | str, list[int]] = {}
    for node, visit in enumerate(visits):
        nodes.setdefault(visit.id, []).append(node)
    return [group for group in nodes.values() if len(group) > 1]


def precedences(visits: Sequence[VisitSpec]) -> list[tuple[int, int]]:
    """(predecessor node, dependent node) pairs among the model's nodes, the
    first node of a crew standing for it (its nodes start together)."""
    first: dict[int | str, int] = {}
    for node, visit in enumerate(visits):
        first.setdefault(visit.id, node)
    pairs: list[tuple[int, int]] = []
    for visit_id, node in first.items():
        for p in visits[node].after:
            if p != visit_id and p in first:
                pairs.append((first[p], node))
    return pairs


def linked_nodes(visits: Sequence[VisitSpec]) -> set[int]:
    """Nodes the compiled construction does not place: crews and dependents."""
    dependents = {visits[d].id for _, d in precedences(visits)}
    linked = {node for group in crew_groups(visits) for node in group}
    return linked | {node for node, visit in enumerate(visits) if visit.id in dependents}


def fair_shares_min(data: FieldData) -> list[float]:
    """Each technician's fair share of the work on site, in minutes: every
    visit's work split evenly among the technicians allowed to do it."""
    shares = [0.0] * data.num_vehicles
    for node, vehicles in enumerate(data.allowed_vehicles):
        part = data.service_s[node] / 60.0 / max(1, len(vehicles))
        for v in vehicles:
            shares[v] += part
    return shares


def with_predecessors(parts: dict[str, Problem]) -> None:
    """Move each visit into the part holding its predecessors (chains too),
    so that a day split in parts still keeps the visits in order."""
    where = {v.id: name for name, part in parts.items() for v in part.visits}
    for _ in range(len(where)):
        moves = [
            (visit, name, where[p])
            for name, part in parts.items()
            for visit in part.visits
            for p in visit.after
            if p != visit.id and where.get(p, name) != name
        ]
        if not moves:
            return
        for visit, source, target in moves[:1]:  # one at a time: a visit may wait for two
            parts[source].visits.remove(visit)
            parts[target].visits.append(visit)
            where[visit.id] = target


def held_in_place(visits: dict[int | str, VisitSpec], plan: Plan) -> dict[int | str, VisitSpec]:
    """Planned crews, dependents and predecessors for a change to one route
    (urgent insertion): each held to its planned start, as one technician's
    plain visit, so the stops it is linked to on other routes stay right."""
    starts = {s.visit_id: s.start_s for r in plan.routes for s in r.stops}
    predecessors = {p for v in visits.values() for p in v.after}
    held = dict(visits)
    for visit_id, visit in visits.items():
        linked = visit.crew_size > 1 or visit.after or visit_id in predecessors
        if linked and visit_id in starts:
            start_s = starts[visit_id]
            held[visit_id] = replace(
                visit, window_start_s=start_s, window_end_s=start_s, crew_size=1, after=()
            )
    return held


def after_planned(visit: VisitSpec, plan: Plan) -> VisitSpec:
    """``visit`` opening no earlier than its planned predecessors end."""
    ends = {s.visit_id: s.end_s for r in plan.routes for s in r.stops}
    opens = max([visit.window_start_s, *(ends[p] for p in visit.after if p in ends)])
    return replace(visit, window_start_s=opens) if opens != visit.window_start_s else visit


# --------------------------------------------------------------------------
# Model side
# --------------------------------------------------------------------------


def add_field_constraints(
    data: FieldData,
    manager: pywrapcp.RoutingIndexManager,
    routing: pywrapcp.RoutingModel,
    time_dimension: pywrapcp.RoutingDimension,
    settings: ModelSettings,
) -> None:
    """Coverage preference, crews, visit order and fair shares in the OR-Tools model."""
    if settings.out_of_area_cost_m > 0:
        _prefer_coverage(data, routing, settings.out_of_area_cost_m)
    _link_crews(data, manager, routing, time_dimension)
    _order_visits(data, manager, routing, time_dimension)
    if settings.fair_work_m_per_min > 0 and data.visits:
        _share_work(data, routing, settings.fair_work_m_per_min)


def out_of_area_costs(
    technicians: Sequence[TechnicianSpec], visits: Sequence[VisitSpec], cost_m: int
) -> np.ndarray:
    """What each visit costs each technician beyond the driving, [visit, technician]:
    ``cost_m`` where the technician prefers (is not bound to) their areas and the visit
    lies outside them. The OR-Tools model puts it on the arcs into the visit, the
    compiled construction (:func:`dispatch.routing.construction.core_problem`) on the
    visit in the route: one price for one rule."""
    extra = np.zeros((len(visits), len(technicians)), dtype=np.int64)
    if cost_m <= 0:
        return extra
    for v, tech in enumerate(technicians):
        if tech.coverage_districts and not tech.coverage_hard:
            extra[:, v] = [cost_m if out_of_area(tech, visit) else 0 for visit in visits]
    return extra


def _prefer_coverage(data: FieldData, routing: pywrapcp.RoutingModel, cost_m: int) -> None:
    """Arcs into a visit outside a technician's preferred areas cost ``cost_m`` more."""
    preferring = [v for v, t in enumerate(data.technicians) if t.coverage_districts and not t.coverage_hard]
    if not preferring or not data.visits:
        return
    base = np.rint(data.distances_m).astype(np.int64)
    by_visit = out_of_area_costs(data.technicians, data.visits, cost_m)
    callbacks: dict[frozenset[str], int] = {}
    for v in preferring:
        areas = data.technicians[v].coverage_districts
        if areas not in callbacks:
            extra = np.zeros(base.shape[0], dtype=np.int64)
            extra[: len(data.visits)] = by_visit[:, v]
            callbacks[areas] = routing.RegisterTransitMatrix((base + extra[None, :]).tolist())
        routing.SetArcCostEvaluatorOfVehicle(callbacks[areas], v)


def _link_crews(
    data: FieldData,
    manager: pywrapcp.RoutingIndexManager,
    routing: pywrapcp.RoutingModel,
    time_dimension: pywrapcp.RoutingDimension,
) -> None:
    """A crew's nodes: all performed or none, same start, different technicians."""
    solver = routing.solver()
    for group in crew_groups(data.visits):
        indices = [manager.NodeToIndex(node) for node in group]
        lead = indices[0]
        for mate in indices[1:]:
            solver.Add(routing.ActiveVar(lead) == routing.ActiveVar(mate))
            solver.Add(time_dimension.CumulVar(lead) == time_dimension.CumulVar(mate))
        solver.Add(solver.AllDifferentExcept([routing.VehicleVar(i) for i in indices], -1))


def _order_visits(
    data: FieldData,
    manager: pywrapcp.RoutingIndexManager,
    routing: pywrapcp.RoutingModel,
    time_dimension: pywrapcp.RoutingDimension,
) -> None:
    """A dependent visit is performed only with its predecessor and starts after its end."""
    solver = routing.solver()
    for before, after in precedences(data.visits):
        first, then = manager.NodeToIndex(before), manager.NodeToIndex(after)
        active = routing.ActiveVar(then)
        solver.Add(active <= routing.ActiveVar(first))
        # Only binding when the dependent is performed (big-M otherwise).
        solver.Add(
            time_dimension.CumulVar(then) + _BIG_M_S * (1 - active)
            >= time_dimension.CumulVar(first) + data.service_s[before]
        )


def _share_work(data: FieldData, routing: pywrapcp.RoutingModel, m_per_min: int) -> None:
    """A "Work" dimension (minutes on site) with a soft bound at each fair share."""
    minutes = [math.ceil(s / 60) for s in data.service_s]  # per node; starts and ends are 0
    callback = routing.RegisterUnaryTransitVector(minutes)
    total = sum(minutes) + 1
    routing.AddDimension(callback, 0, total, True, "Work")
    work = routing.GetDimensionOrDie("Work")
    for v, share in enumerate(fair_shares_min(data)):
        work.SetCumulVarSoftUpperBound(routing.End(v), math.ceil(share), m_per_min)


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------


def work_figures(problem: Problem, plan: Plan) -> dict[str, float]:
    """How evenly the day's work is spread: mean, standard deviation and
    max - min of the technicians' working minutes (idle technicians count 0)."""
    worked = {r.technician_id: r.work_s / 60.0 for r in plan.routes}
    minutes = [worked.get(t.id, 0.0) for t in problem.technicians]
    if not minutes:
        return {}
    return {
        "work_mean_min": round(statistics.fmean(minutes), 1),
        "work_stdev_min": round(statistics.pstdev(minutes), 1),
        "work_spread_min": round(max(minutes) - min(minutes), 1),
    }
