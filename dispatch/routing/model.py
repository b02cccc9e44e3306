"""The OR-Tools routing model: which technician does which order, in which sequence, when.

Reads top to bottom like OR-Tools' VRP-with-time-windows sample:

1. data model: screen the orders, lay out the nodes, ask the travel matrix;
2. transit callbacks: distance (the cost) and time (travel + work on site);
3. one dimension per concern: time (windows, shifts, lunch, deadlines,
   working time) and, when technicians carry material, capacity;
4. who may do what: skills, manual assignments, drop penalties.

Searching it and reading the solution back is :mod:`dispatch.routing.search`;
the entry point for a day is :func:`dispatch.routing.solve`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from ortools.constraint_solver import pywrapcp

from dispatch.routing import constraints
from dispatch.routing.matrix import HaversineMatrix, TravelMatrix
from dispatch.routing.problem import Plan, Problem, TechnicianSpec, Unassigned, VisitSpec, nobody_reason
from dispatch.routing.settings import SearchSettings
from dispatch.routing.stock import (
    RESTOCK_S,
    can_restock,
    item_demand,
    restock_amounts,
    stock_items,
    van_stock,
)

HORIZON_S = 2 * 24 * 3600  # a day plus the night after it, for late deadlines
DAY_END_S = 24 * 3600

# Cost unit is one metre of driving. Dropping an order costs this many metres
# before tier and deadline weighting; P1 is effectively "never drop".
DROP_PENALTY_M = {"P1": 1_000_000_000, "P2": 300_000, "P3": 100_000}
# Cost per second a visit starts after its restore deadline (steep: an hour
# late on a P1 costs as much as 3,600 km of driving, still far below a drop).
LATE_COST_M_PER_S = {"P1": 1_000, "P2": 200, "P3": 50}
# P1 faults without a deadline are still pulled early: 1 m per second waited.
P1_EARLY_COST_M_PER_S = 1
TIER_WEIGHT = {"group": 3.0, "provincial": 2.5, "local_a": 2.0, "local_b": 1.5, "local_c": 1.2}


# --------------------------------------------------------------------------
# 1. Data model
# --------------------------------------------------------------------------


@dataclass
class PinnedLeg:
    """An order already en route or on site, folded into its technician's start."""

    visit: VisitSpec
    arrival_s: int
    start_s: int
    end_s: int
    travel_s: int
    travel_m: float


@dataclass
class DataModel:
    """Everything the routing model needs, in node order.

    Nodes ``0..n-1`` are the plannable visits; then one start and one end node
    per technician. A technician with orders en route / on site starts, in the
    model, where the last of them ends and when it is done.
    """

    problem: Problem
    visits: list[VisitSpec]
    technicians: list[TechnicianSpec]
    durations_s: np.ndarray
    distances_m: np.ndarray
    service_s: list[int]
    starts: list[int]
    ends: list[int]
    start_time_s: list[int]
    pinned_legs: list[list[PinnedLeg]]
    allowed_vehicles: list[list[int]]
    screened_out: list[Unassigned]
    # Stock (dispatch.routing.stock): the counted items, each node's demand of
    # them [nodes, items], each van's stock and restock [vehicles, items], and
    # each vehicle's optional depot node (after the ends), or None.
    items: list[str] = field(default_factory=list)
    item_demand: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    item_stock: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    item_restock: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.int64))
    restock_nodes: list[int | None] = field(default_factory=list)

    @property
    def num_nodes(self) -> int:
        return (
            len(self.visits) + 2 * len(self.technicians) + sum(1 for r in self.restock_nodes if r is not None)
        )

    @property
    def num_vehicles(self) -> int:
        return len(self.technicians)


def drop_penalty(visit: VisitSpec) -> int:
    """Cost of leaving ``visit`` out: priority x tier x nearness of the deadline."""
    base = DROP_PENALTY_M.get(visit.priority, DROP_PENALTY_M["P3"])
    if visit.priority == "P1":
        return base
    weight = TIER_WEIGHT.get(visit.tier or "", 1.0)
    if visit.deadline_s is not None:
        hours_after_today = (visit.deadline_s - DAY_END_S) / 3600.0
        weight *= 3.0 if hours_after_today <= 0 else 1.0 + 2.0 * max(0.0, 1.0 - hours_after_today / 48.0)
    return int(base * weight)


def late_cost(visit: VisitSpec) -> int:
    weight = TIER_WEIGHT.get(visit.tier or "", 1.0)
    return int(LATE_COST_M_PER_S.get(visit.priority, LATE_COST_M_PER_S["P3"]) * weight)


def create_data_model(problem: Problem, matrix: TravelMatrix | None = None) -> DataModel:
    """Screen the orders and build the node layout and travel matrices.

    Orders no technician could ever do (skills, unreachable window, absent
    pinned technician) are screened out here with their reason, so the search
    only sees orders it can place.
    """
    matrix = matrix or HaversineMatrix(area_type=problem.area_type)
    techs = [_day_from_departure(t) for t in problem.technicians]
    tech_index = {t.id: v for v, t in enumerate(techs)}
    screened: list[Unassigned] = []
    pinned_first, candidates = _split_pinned_first(problem.visits, tech_index, screened)
    candidates = constraints.expand_crews(candidates)

    # One matrix over every point: candidate visits, starts, ends, pinned.
    pinned_list = [visit for v in sorted(pinned_first) for visit in pinned_first[v]]
    items = stock_items(techs, candidates)
    depots = [v for v, t in enumerate(techs) if items and can_restock(t)]
    points = (
        [(visit.lat, visit.lon) for visit in candidates]
        + [(t.start_lat, t.start_lon) for t in techs]
        + [(t.end_lat, t.end_lon) for t in techs]
        + [(visit.lat, visit.lon) for visit in pinned_list]
        + [(techs[v].depot_lat or 0.0, techs[v].depot_lon or 0.0) for v in depots]
    )
    all_durations = np.asarray(matrix.durations_s(points), dtype=np.int64)
    all_distances = np.asarray(matrix.distances_m(points), dtype=np.float64)
    n_cand, m = len(candidates), len(techs)
    start_point = [n_cand + v for v in range(m)]
    end_point = [n_cand + m + v for v in range(m)]
    pinned_point = {id(visit): n_cand + 2 * m + k for k, visit in enumerate(pinned_list)}

    start_time, legs = _fold_pinned_legs(
        techs, pinned_first, pinned_point, start_point, all_durations, all_distances
    )
    techs = [_lunch_from(t, start_time[v]) for v, t in enumerate(techs)]
    candidates = constraints.after_pinned_legs(candidates, legs)
    visits, allowed, keep = _reachable_candidates(
        candidates, techs, tech_index, start_time, start_point, end_point, all_durations, screened
    )
    visits, allowed, keep = constraints.screen_linked(problem, visits, allowed, keep, screened)

    depot_point = len(points) - len(depots)
    node_points = keep + [start_point[v] for v in range(m)] + end_point
    node_points += [depot_point + j for j in range(len(depots))]
    sel = np.asarray(node_points, dtype=np.int64)
    n = len(visits)
    restock_nodes: list[int | None] = [None] * m
    for j, v in enumerate(depots):
        restock_nodes[v] = n + 2 * m + j
    return DataModel(
        problem=problem,
        visits=visits,
        technicians=techs,
        durations_s=all_durations[np.ix_(sel, sel)],
        distances_m=all_distances[np.ix_(sel, sel)],
        service_s=[visit.duration_s for visit in visits] + [0] * (2 * m) + [RESTOCK_S] * len(depots),
        starts=[n + v for v in range(m)],
        ends=[n + m + v for v in range(m)],
        start_time_s=start_time,
        pinned_legs=legs,
        allowed_vehicles=allowed,
        screened_out=screened,
        items=items,
        item_demand=item_demand(visits, items, len(node_points)),
        item_stock=van_stock(techs, items),
        item_restock=restock_amounts(techs, items) if depots else np.zeros((m, len(items)), dtype=np.int64),
        restock_nodes=restock_nodes,
    )


def _split_pinned_first(
    visits: list[VisitSpec], tech_index: dict[int | str, int], screened: list[Unassigned]
) -> tuple[dict[int, list[VisitSpec]], list[VisitSpec]]:
    """Orders en route / on site by technician index, and the orders to plan.
    An order pinned to a technician who is not on shift is screened out."""
    pinned_first: dict[int, list[VisitSpec]] = {}
    candidates: list[VisitSpec] = []
    for visit in visits:
        if visit.pinned_technician is not None and visit.pinned_technician not in tech_index:
            screened.append(Unassigned(visit.id, "pinned_technician_unavailable"))
        elif visit.pinned_first and visit.pinned_technician is not None:
            pinned_first.setdefault(tech_index[visit.pinned_technician], []).append(visit)
        else:
            candidates.append(visit)
    return pinned_first, candidates


def _fold_pinned_legs(
    techs: list[TechnicianSpec],
    pinned_first: dict[int, list[VisitSpec]],
    pinned_point: dict[int, int],
    start_point: list[int],
    all_durations: np.ndarray,
    all_distances: np.ndarray,
) -> tuple[list[int], list[list[PinnedLeg]]]:
    """Fold orders en route / on site into the technician's start: each start
    time and the pinned legs per technician; ``start_point`` moves to where the
    last of them is. Work already begun keeps its start; it ends no earlier
    than the departure ("now"): the technician is still there."""
    start_time = [t.depart_s for t in techs]
    legs: list[list[PinnedLeg]] = [[] for _ in techs]
    for v, pinned in pinned_first.items():
        clock, here = techs[v].depart_s, start_point[v]
        for visit in pinned:
            there = pinned_point[id(visit)]
            travel_s = int(all_durations[here, there])
            if visit.started_s is not None:
                arrival = start = visit.started_s
                end = max(start + visit.duration_s, clock)
            else:
                arrival = clock + travel_s
                start = max(arrival, min(visit.window_start_s, visit.window_end_s))
                end = start + visit.duration_s
            legs[v].append(PinnedLeg(visit, arrival, start, end, travel_s, float(all_distances[here, there])))
            clock, here = end, there
        start_time[v], start_point[v] = clock, here
    return start_time, legs


def _reachable_candidates(
    candidates: list[VisitSpec],
    techs: list[TechnicianSpec],
    tech_index: dict[int | str, int],
    start_time: list[int],
    start_point: list[int],
    end_point: list[int],
    all_durations: np.ndarray,
    screened: list[Unassigned],
) -> tuple[list[VisitSpec], list[list[int]], list[int]]:
    """Keep only visits some technician can do and reach in its window: the
    visits, the technicians allowed on each, and their points in the matrix.
    The others are screened out with the reason."""
    visits: list[VisitSpec] = []
    allowed: list[list[int]] = []
    keep: list[int] = []
    for i, visit in enumerate(candidates):
        if visit.pinned_technician is not None:
            skilled = [tech_index[visit.pinned_technician]]
        else:
            skilled = [
                v for v, t in enumerate(techs) if visit.skills <= t.skills and constraints.covers(t, visit)
            ]
        if not skilled:
            screened.append(Unassigned(visit.id, nobody_reason(techs, visit)))
            continue
        reachable = [
            v
            for v in skilled
            if _can_reach(techs[v], start_time[v], visit, all_durations, start_point[v], i, end_point[v])
        ]
        if not reachable:
            if visit.pinned_technician is not None:
                reason = "pinned_technician_unavailable"
            elif all(visit.window_end_s < (techs[v].available_from_s or -1) for v in skilled):
                reason = "window_passed"
            else:
                reason = "window_unreachable"
            screened.append(Unassigned(visit.id, reason))
            continue
        visits.append(visit)
        allowed.append(reachable)
        keep.append(i)
    return visits, allowed, keep


def _day_from_departure(tech: TechnicianSpec) -> TechnicianSpec:
    """A technician leaving after the shift started: the time on duty so far
    (less a lunch whose window is over) counts against the working-time cap,
    which then runs from departure."""
    on_duty_s = tech.depart_s - tech.shift_start_s
    if on_duty_s <= 0 or tech.max_work_s is None:
        return tech
    window = lunch_window(tech)
    if window is not None and tech.depart_s > window[1]:
        on_duty_s = max(0, on_duty_s - tech.lunch_duration_s)  # lunch is behind them
    return replace(tech, max_work_s=max(0, tech.max_work_s - on_duty_s))


def _lunch_from(tech: TechnicianSpec, depart_s: int) -> TechnicianSpec:
    """No lunch to plan once its window is over at departure; a window under
    way opens at departure."""
    window = lunch_window(tech)
    if window is None or depart_s <= window[0]:
        return tech
    if depart_s > window[1]:
        return replace(tech, lunch_earliest_s=None, lunch_latest_s=None, lunch_duration_s=0)
    return replace(tech, lunch_earliest_s=depart_s)


def _can_reach(
    tech: TechnicianSpec,
    depart_s: int,
    visit: VisitSpec,
    durations: np.ndarray,
    start: int,
    node: int,
    end: int,
) -> bool:
    """Can ``tech`` do ``visit`` alone in the day: window, shift and working time."""
    there, back = int(durations[start, node]), int(durations[node, end])
    begin = max(depart_s + there, visit.window_start_s)
    if begin > visit.window_end_s:
        return False
    if begin + visit.duration_s + back > tech.shift_end_s:
        return False
    return tech.max_work_s is None or there + visit.duration_s + back <= tech.max_work_s


# --------------------------------------------------------------------------
# 2-5. Routing model, callbacks, dimensions, search
# --------------------------------------------------------------------------


@dataclass
class RoutingSetup:
    """The built OR-Tools model and handles needed to read a solution back."""

    data: DataModel
    manager: pywrapcp.RoutingIndexManager
    routing: pywrapcp.RoutingModel
    time_dimension: pywrapcp.RoutingDimension
    lunch: dict[int, pywrapcp.IntervalVar]


def lunch_window(tech: TechnicianSpec) -> tuple[int, int] | None:
    """Earliest and latest start of the technician's lunch, or None when no lunch is planned."""
    earliest, latest = tech.lunch_earliest_s, tech.lunch_latest_s
    if tech.lunch_duration_s > 0 and earliest is not None and latest is not None:
        return earliest, latest
    return None


def has_lunch(tech: TechnicianSpec) -> bool:
    return lunch_window(tech) is not None


def build_routing_model(data: DataModel, settings: SearchSettings) -> RoutingSetup:
    """Build the OR-Tools routing model holding every field rule."""
    manager = pywrapcp.RoutingIndexManager(data.num_nodes, data.num_vehicles, data.starts, data.ends)
    routing = pywrapcp.RoutingModel(manager)
    solver = routing.solver()
    n = len(data.visits)

    # 2. Transit callbacks: distance is the cost; time is travel plus the work
    # done at the node we leave.
    distance_cb = routing.RegisterTransitMatrix(np.rint(data.distances_m).astype(np.int64).tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(distance_cb)
    service = np.asarray(data.service_s, dtype=np.int64)
    time_cb = routing.RegisterTransitMatrix((data.durations_s + service[:, None]).tolist())

    # 3a. Time: appointment windows, shifts, working time, deadlines, lunch.
    routing.AddDimension(time_cb, HORIZON_S, HORIZON_S, False, "Time")
    time_dimension = routing.GetDimensionOrDie("Time")
    for node, visit in enumerate(data.visits):
        index = manager.NodeToIndex(node)
        time_dimension.CumulVar(index).SetRange(visit.window_start_s, visit.window_end_s)
        if visit.deadline_s is not None:
            time_dimension.SetCumulVarSoftUpperBound(index, visit.deadline_s, late_cost(visit))
        elif visit.priority == "P1":
            time_dimension.SetCumulVarSoftUpperBound(index, visit.window_start_s, P1_EARLY_COST_M_PER_S)
    lunch: dict[int, pywrapcp.IntervalVar] = {}
    node_visit_transits = [0] * routing.Size()
    for index in range(routing.Size()):
        # Work at a visit or a depot stop; starts and ends have none.
        node_visit_transits[index] = data.service_s[manager.IndexToNode(index)]
    for v, tech in enumerate(data.technicians):
        start, end = routing.Start(v), routing.End(v)
        begin = min(data.start_time_s[v], tech.shift_end_s)
        time_dimension.CumulVar(start).SetRange(begin, tech.shift_end_s)
        time_dimension.CumulVar(end).SetRange(begin, tech.shift_end_s)
        with_lunch = has_lunch(tech)
        if tech.max_work_s is not None:
            used = data.start_time_s[v] - tech.depart_s if data.pinned_legs[v] else 0
            span = max(0, tech.max_work_s - used) + (tech.lunch_duration_s if with_lunch else 0)
            time_dimension.SetSpanUpperBoundForVehicle(span, v)
        if with_lunch:
            interval = solver.FixedDurationIntervalVar(
                tech.lunch_earliest_s,
                tech.lunch_latest_s,
                tech.lunch_duration_s,
                False,
                f"lunch_{v}",
            )
            time_dimension.SetBreakIntervalsOfVehicle([interval], v, node_visit_transits)
            lunch[v] = interval
        if settings.model.compact_days:
            # Leave as late and come back as early as the plan allows.
            routing.AddVariableMaximizedByFinalizer(time_dimension.CumulVar(start))
            routing.AddVariableMinimizedByFinalizer(time_dimension.CumulVar(end))

    # 3b. Capacity, only when technicians carry limited material.
    if any(t.capacity is not None for t in data.technicians):
        demands = [visit.demand for visit in data.visits] + [0] * (data.num_nodes - n)
        demand_cb = routing.RegisterUnaryTransitVector(demands)
        big = sum(demands) + 1
        capacities = [t.capacity if t.capacity is not None else big for t in data.technicians]
        routing.AddDimensionWithVehicleCapacity(demand_cb, 0, capacities, True, "Capacity")

    # 3c. Stock: one dimension per counted item, and the optional depot stops.
    if data.items:
        add_stock_dimensions(data, manager, routing, time_dimension)

    # 4. Who may do what, and the price of leaving an order out.
    for node, visit in enumerate(data.visits):
        index = manager.NodeToIndex(node)
        if len(data.allowed_vehicles[node]) < data.num_vehicles:
            # SetAllowedVehiclesForIndex's Python binding rejects lists in
            # 9.15; restricting the vehicle variable is the same constraint.
            routing.VehicleVar(index).SetValues([-1, *data.allowed_vehicles[node]])
        if settings.model.optional_visits:
            routing.AddDisjunction([index], drop_penalty(visit))

    # 5. Coverage areas, crews, visits in order, fair shares.
    constraints.add_field_constraints(data, manager, routing, time_dimension, settings.model)
    return RoutingSetup(data, manager, routing, time_dimension, lunch)


def add_stock_dimensions(
    data: DataModel,
    manager: pywrapcp.RoutingIndexManager,
    routing: pywrapcp.RoutingModel,
    time_dimension: pywrapcp.RoutingDimension,
) -> None:
    """One capacity dimension per item a van holds a limited stock of; the
    depot stop of a technician who can restock is optional, theirs alone, in
    their shift, and lifts the van's limit by the restock (see
    :mod:`dispatch.routing.stock` for the cumul that starts at the restock)."""
    for v, node in enumerate(data.restock_nodes):
        if node is None:
            continue
        index = manager.NodeToIndex(node)
        tech = data.technicians[v]
        time_dimension.CumulVar(index).SetRange(min(data.start_time_s[v], tech.shift_end_s), tech.shift_end_s)
        routing.VehicleVar(index).SetValues([-1, v])
        routing.AddDisjunction([index], 0)
    for d, code in enumerate(data.items):
        transits = [int(q) for q in data.item_demand[:, d]]
        for v, node in enumerate(data.restock_nodes):
            if node is not None:
                transits[node] = -int(data.item_restock[v, d])
        callback = routing.RegisterUnaryTransitVector(transits)
        restock = [int(r) for r in data.item_restock[:, d]]
        capacities = [int(data.item_stock[v, d]) + restock[v] for v in range(data.num_vehicles)]
        routing.AddDimensionWithVehicleCapacity(callback, 0, capacities, False, f"Stock:{code}")
        dimension = routing.GetDimensionOrDie(f"Stock:{code}")
        for v in range(data.num_vehicles):
            dimension.CumulVar(routing.Start(v)).SetValue(restock[v])


def plan_score(problem: Problem, plan: Plan) -> float:
    """The plan's cost on the objective's scale, computed from the plan itself:
    travel metres, late starts and left-out orders priced as in the model.
    Comparable between plans of the same problem from different models."""
    visits = {v.id: v for v in problem.visits}
    late = sum(
        s.late_s * late_cost(visits[s.visit_id]) for r in plan.routes for s in r.stops if s.visit_id in visits
    )
    dropped = sum(drop_penalty(visits[u.visit_id]) for u in plan.unassigned if u.visit_id in visits)
    return plan.travel_m + late + dropped
