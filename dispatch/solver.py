"""Routing optimizer: which technician does which order, in which sequence, when.

Reads top to bottom like OR-Tools' VRP-with-time-windows sample:

1. data model: screen the orders, lay out the nodes, ask the travel matrix;
2. transit callbacks: distance (the cost) and time (travel + work on site);
3. one dimension per concern: time (windows, shifts, lunch, deadlines,
   working time) and, when technicians carry material, capacity;
4. who may do what: skills, manual assignments, drop penalties;
5. search parameters;
6. reading the solution back into a plain :class:`~dispatch.problem.Plan`.

It takes a plain :class:`~dispatch.problem.Problem` and returns a plain plan,
so the benchmark, the background job and the tests call the same function.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_ils_pb2
from ortools.util import optional_boolean_pb2

from dispatch import sisr
from dispatch.matrix import HaversineMatrix, TravelMatrix
from dispatch.problem import (
    Plan,
    PlannedStop,
    Problem,
    TechnicianRoute,
    TechnicianSpec,
    Unassigned,
    VisitSpec,
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

# Operators that cost much time per improvement on plain time-window days
# (chain and subtrip moves, Lin-Kernighan, insertion LNS): switched off when
# ruin-and-recreate does the large moves (SearchSettings.lean_operators).
HEAVY_OPERATORS = (
    "use_relocate_expensive_chain",
    "use_global_cheapest_insertion_path_lns",
    "use_local_cheapest_insertion_path_lns",
    "use_relocate_path_global_cheapest_insertion_insert_unperformed",
    "use_exchange_subtrip",
    "use_relocate_subtrip",
    "use_light_relocate_pair",
    "use_lin_kernighan",
)

# After a cancel during construction, the descent that times the plan gets
# at most this long.
CANCELLED_POLISH_S = 2.0

ProgressCallback = Callable[[dict], None]
CancelHook = Callable[[], bool]


@dataclass
class SearchSettings:
    """How hard and how to search; the defaults suit a dispatch day.

    ``first_solution`` and ``metaheuristic`` are names from OR-Tools'
    ``FirstSolutionStrategy`` and ``LocalSearchMetaheuristic``.
    ``iterated_local_search`` switches to OR-Tools' ruin-and-recreate (SISR)
    search with simulated-annealing acceptance, a greedy descent after each
    ruin, and (with ``lean_operators``) only the cheap local-search operators.
    ``optional_visits=False`` makes every order mandatory (no drop), as the
    Solomon benchmark wants. ``compact_days`` starts each technician as late
    and brings them back as early as their route allows.
    """

    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GREEDY_DESCENT"
    iterated_local_search: bool = True
    optional_visits: bool = True
    gls_lambda: float | None = None
    sisr_avg_removed: int = 15
    sisr_max_sequence: int = 10
    # With a positive value, each ruin is SISR or (picked at random) a random
    # walk removing this many visits.
    random_walk_removed: int = 0
    ils_improve: bool = True
    sa_initial_temperature: float | None = None
    lean_operators: bool = True
    log_search: bool = False
    compact_days: bool = True
    extra: dict = field(default_factory=dict)
    # Days larger than this are split by district (see dispatch.decompose).
    decompose_above_visits: int = 300
    workers: int = 2
    # "sisr": build the plan with dispatch.sisr (compiled ruin and recreate
    # on the routing core, one thread per worker) for ``construction_share``
    # of the time, then let OR-Tools check and polish it with a descent; a
    # plan the full model refuses falls back to OR-Tools' own search below.
    # Empty: OR-Tools builds the first plan and searches alone. On generated
    # city days (dispatch.bench city) the construction cut travel by 20 %
    # (1,000 orders) and 12 % (2,000) with no breach or drop more.
    construction: str = "sisr"
    construction_share: float = 0.9
    seed: int = 0


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

    @property
    def num_nodes(self) -> int:
        return len(self.visits) + 2 * len(self.technicians)

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


def _late_cost(visit: VisitSpec) -> int:
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

    pinned_first: dict[int, list[VisitSpec]] = {}
    candidates: list[VisitSpec] = []
    for visit in problem.visits:
        if visit.pinned_technician is not None and visit.pinned_technician not in tech_index:
            screened.append(Unassigned(visit.id, "pinned_technician_unavailable"))
        elif visit.pinned_first and visit.pinned_technician is not None:
            pinned_first.setdefault(tech_index[visit.pinned_technician], []).append(visit)
        else:
            candidates.append(visit)

    # One matrix over every point: candidate visits, starts, ends, pinned.
    pinned_list = [visit for v in sorted(pinned_first) for visit in pinned_first[v]]
    points = (
        [(visit.lat, visit.lon) for visit in candidates]
        + [(t.start_lat, t.start_lon) for t in techs]
        + [(t.end_lat, t.end_lon) for t in techs]
        + [(visit.lat, visit.lon) for visit in pinned_list]
    )
    all_durations = np.asarray(matrix.durations_s(points), dtype=np.int64)
    all_distances = np.asarray(matrix.distances_m(points), dtype=np.float64)
    n_cand, m = len(candidates), len(techs)
    start_point = [n_cand + v for v in range(m)]
    end_point = [n_cand + m + v for v in range(m)]
    pinned_point = {id(visit): n_cand + 2 * m + k for k, visit in enumerate(pinned_list)}

    # Fold orders en route / on site into the technician's start. Work
    # already begun keeps its start; it ends no earlier than the departure
    # ("now"): the technician is still there.
    start_time = [t.depart_s for t in techs]
    legs: list[list[PinnedLeg]] = [[] for _ in techs]
    for v, visits in pinned_first.items():
        clock, here = techs[v].depart_s, start_point[v]
        for visit in visits:
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
    techs = [_lunch_from(t, start_time[v]) for v, t in enumerate(techs)]

    # Keep only visits some technician can do and reach in its window.
    visits: list[VisitSpec] = []
    allowed: list[list[int]] = []
    keep: list[int] = []
    for i, visit in enumerate(candidates):
        if visit.pinned_technician is not None:
            skilled = [tech_index[visit.pinned_technician]]
        else:
            skilled = [v for v, t in enumerate(techs) if visit.skills <= t.skills]
        if not skilled:
            screened.append(Unassigned(visit.id, "no_skilled_technician"))
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

    node_points = keep + [start_point[v] for v in range(m)] + end_point
    sel = np.asarray(node_points, dtype=np.int64)
    n = len(visits)
    return DataModel(
        problem=problem,
        visits=visits,
        technicians=techs,
        durations_s=all_durations[np.ix_(sel, sel)],
        distances_m=all_distances[np.ix_(sel, sel)],
        service_s=[visit.duration_s for visit in visits] + [0] * (2 * m),
        starts=[n + v for v in range(m)],
        ends=[n + m + v for v in range(m)],
        start_time_s=start_time,
        pinned_legs=legs,
        allowed_vehicles=allowed,
        screened_out=screened,
    )


def _day_from_departure(tech: TechnicianSpec) -> TechnicianSpec:
    """A technician leaving after the shift started: the time on duty so far
    (less a lunch whose window is over) counts against the working-time cap,
    which then runs from departure."""
    on_duty_s = tech.depart_s - tech.shift_start_s
    if on_duty_s <= 0 or tech.max_work_s is None:
        return tech
    if _has_lunch(tech) and tech.depart_s > tech.lunch_latest_s:
        on_duty_s = max(0, on_duty_s - tech.lunch_duration_s)  # lunch is behind them
    return replace(tech, max_work_s=max(0, tech.max_work_s - on_duty_s))


def _lunch_from(tech: TechnicianSpec, depart_s: int) -> TechnicianSpec:
    """No lunch to plan once its window is over at departure; a window under
    way opens at departure."""
    if not _has_lunch(tech) or depart_s <= tech.lunch_earliest_s:
        return tech
    if depart_s > tech.lunch_latest_s:
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


def _has_lunch(tech: TechnicianSpec) -> bool:
    return tech.lunch_duration_s > 0 and tech.lunch_earliest_s is not None and tech.lunch_latest_s is not None


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
            time_dimension.SetCumulVarSoftUpperBound(index, visit.deadline_s, _late_cost(visit))
        elif visit.priority == "P1":
            time_dimension.SetCumulVarSoftUpperBound(index, visit.window_start_s, P1_EARLY_COST_M_PER_S)
    lunch: dict[int, pywrapcp.IntervalVar] = {}
    node_visit_transits = [0] * routing.Size()
    for index in range(routing.Size()):
        node = manager.IndexToNode(index)
        node_visit_transits[index] = data.service_s[node] if node < n else 0
    for v, tech in enumerate(data.technicians):
        start, end = routing.Start(v), routing.End(v)
        begin = min(data.start_time_s[v], tech.shift_end_s)
        time_dimension.CumulVar(start).SetRange(begin, tech.shift_end_s)
        time_dimension.CumulVar(end).SetRange(begin, tech.shift_end_s)
        has_lunch = _has_lunch(tech)
        if tech.max_work_s is not None:
            used = data.start_time_s[v] - tech.depart_s if data.pinned_legs[v] else 0
            span = max(0, tech.max_work_s - used) + (tech.lunch_duration_s if has_lunch else 0)
            time_dimension.SetSpanUpperBoundForVehicle(span, v)
        if has_lunch:
            interval = solver.FixedDurationIntervalVar(
                tech.lunch_earliest_s,
                tech.lunch_latest_s,
                tech.lunch_duration_s,
                False,
                f"lunch_{v}",
            )
            time_dimension.SetBreakIntervalsOfVehicle([interval], v, node_visit_transits)
            lunch[v] = interval
        if settings.compact_days:
            # Leave as late and come back as early as the plan allows.
            routing.AddVariableMaximizedByFinalizer(time_dimension.CumulVar(start))
            routing.AddVariableMinimizedByFinalizer(time_dimension.CumulVar(end))

    # 3b. Capacity, only when technicians carry limited material.
    if any(t.capacity is not None for t in data.technicians):
        demands = [visit.demand for visit in data.visits] + [0] * (2 * data.num_vehicles)
        demand_cb = routing.RegisterUnaryTransitVector(demands)
        big = sum(demands) + 1
        capacities = [t.capacity if t.capacity is not None else big for t in data.technicians]
        routing.AddDimensionWithVehicleCapacity(demand_cb, 0, capacities, True, "Capacity")

    # 4. Who may do what, and the price of leaving an order out.
    for node, visit in enumerate(data.visits):
        index = manager.NodeToIndex(node)
        if len(data.allowed_vehicles[node]) < data.num_vehicles:
            # SetAllowedVehiclesForIndex's Python binding rejects lists in
            # 9.15; restricting the vehicle variable is the same constraint.
            routing.VehicleVar(index).SetValues([-1, *data.allowed_vehicles[node]])
        if settings.optional_visits:
            routing.AddDisjunction([index], drop_penalty(visit))

    return RoutingSetup(data, manager, routing, time_dimension, lunch)


def search_parameters(
    time_limit_s: float, settings: SearchSettings
) -> pywrapcp.DefaultRoutingSearchParameters:
    """Search parameters: first solution, metaheuristic, time limit."""
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, settings.first_solution)
    metaheuristic = settings.metaheuristic
    if settings.iterated_local_search:
        # Ruin and recreate perturbs only at a local optimum; guided local
        # search never declares one, so with it no ruin step would ever run.
        metaheuristic = "GREEDY_DESCENT"
    params.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, metaheuristic)
    if settings.gls_lambda is not None:
        params.guided_local_search_lambda_coefficient = settings.gls_lambda
    if settings.iterated_local_search:
        _use_ruin_and_recreate(params, settings)
    if settings.lean_operators:
        for name in HEAVY_OPERATORS:
            setattr(params.local_search_operators, name, optional_boolean_pb2.BOOL_FALSE)
    params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    # The completion search (cumuls, lunch breaks) after each move and when
    # restoring given routes needs more than the 100 ms default on big days.
    params.lns_time_limit.FromMilliseconds(1000)
    params.log_search = settings.log_search
    for name, value in settings.extra.items():
        _set_path(params, name, value)
    return params


def _use_ruin_and_recreate(params, settings: SearchSettings) -> None:
    """OR-Tools' iterated local search: SISR ruin, cheapest-insertion recreate, SA acceptance."""
    params.use_iterated_local_search = True
    ils = params.iterated_local_search_parameters
    ils.perturbation_strategy = routing_ils_pb2.PerturbationStrategy.RUIN_AND_RECREATE
    # Without the descent after each ruin the search makes many more, smaller
    # steps (SISR as published); with it, fewer but polished ones.
    ils.improve_perturbed_solution = settings.ils_improve
    rr = ils.ruin_recreate_parameters
    del rr.ruin_strategies[:]
    ruin = rr.ruin_strategies.add()
    ruin.sisr.max_removed_sequence_size = settings.sisr_max_sequence
    ruin.sisr.avg_num_removed_visits = settings.sisr_avg_removed
    ruin.sisr.bypass_factor = 0.01
    if settings.random_walk_removed > 0:
        rr.ruin_strategies.add().random_walk.num_removed_visits = settings.random_walk_removed
        rr.ruin_composition_strategy = routing_ils_pb2.RuinCompositionStrategy.RUN_ONE_RANDOMLY
    rr.recreate_strategy.heuristic = routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
    sa = ils.reference_solution_acceptance_strategy.simulated_annealing
    sa.cooling_schedule_strategy = routing_ils_pb2.CoolingScheduleStrategy.EXPONENTIAL
    if settings.sa_initial_temperature is None:
        sa.automatic_temperatures = True
    else:
        sa.initial_temperature = settings.sa_initial_temperature
        sa.final_temperature = 0.01
    ils.best_solution_acceptance_strategy.greedy_descent.SetInParent()


def _set_path(message, dotted: str, value) -> None:
    *parents, leaf = dotted.split(".")
    for part in parents:
        message = getattr(message, part)
    setattr(message, leaf, value)


# --------------------------------------------------------------------------
# Solving and reading the solution back
# --------------------------------------------------------------------------


class _SearchWatch:
    """Solution callback: best cost, progress reports and the cancel hook."""

    def __init__(
        self,
        routing: pywrapcp.RoutingModel,
        time_limit_s: float,
        progress: ProgressCallback | None,
        should_cancel: CancelHook | None,
    ) -> None:
        self.routing = routing
        self.time_limit_s = max(time_limit_s, 1e-3)
        self.progress = progress
        self.should_cancel = should_cancel
        self.started = time.monotonic()
        self.best_cost: int | None = None
        self.first_cost: int | None = None
        self.solutions = 0
        self.cancelled = False
        self._last_report = 0.0

    def percent(self) -> int:
        return min(100, int(100 * (time.monotonic() - self.started) / self.time_limit_s))

    def __call__(self) -> None:
        cost_var = self.routing.CostVar()
        if not cost_var.Bound():
            # Iterated local search also calls back from inside its ruin and
            # recreate steps, where the cost is not fixed yet; Value() would
            # abort the process there.
            return
        self.solutions += 1
        cost = int(cost_var.Value())
        if self.best_cost is None or cost < self.best_cost:
            self.best_cost = cost
        if self.first_cost is None:
            self.first_cost = cost
            self.report("first_solution")
        elif self.progress is not None and time.monotonic() - self._last_report > 0.5:
            self.report("local_search")
        if self.should_cancel is not None and self.should_cancel():
            self.cancelled = True
            self.routing.CancelSearch()

    def report(self, phase: str) -> None:
        self._last_report = time.monotonic()
        if self.progress is not None:
            percent = 100 if phase == "done" else self.percent()
            self.progress({"phase": phase, "percent": percent, "best_cost": self.best_cost})


def solve(
    problem: Problem,
    time_limit_s: float = 10,
    progress: ProgressCallback | None = None,
    should_cancel: CancelHook | None = None,
    matrix: TravelMatrix | None = None,
    settings: SearchSettings | None = None,
) -> Plan:
    """Plan the day: assign, sequence and time every order it can.

    ``progress`` receives ``{"phase", "percent", "best_cost"}`` dicts;
    ``should_cancel`` is polled at every solution the search finds and stops
    it early with the best plan so far (status ``"cancelled"``). ``matrix``
    replaces the default haversine travel estimate (e.g. an OSRM table).
    """
    started = time.monotonic()
    settings = settings or SearchSettings()
    if should_cancel is not None and should_cancel():
        return _empty_plan(problem, started, "cancelled")
    if len(problem.visits) > settings.decompose_above_visits:
        from dispatch.decompose import districts_of, solve_by_district

        if len(districts_of(problem)) > 1:
            return solve_by_district(problem, time_limit_s, progress, should_cancel, matrix, settings)
    return solve_whole(problem, time_limit_s, progress, should_cancel, matrix, settings, started)


def solve_whole(
    problem: Problem,
    time_limit_s: float,
    progress: ProgressCallback | None = None,
    should_cancel: CancelHook | None = None,
    matrix: TravelMatrix | None = None,
    settings: SearchSettings | None = None,
    started: float | None = None,
    initial_routes: dict[int | str, list[int | str]] | None = None,
) -> Plan:
    """Solve ``problem`` as one routing model, optionally from given routes
    (technician id -> visit ids), which must be feasible."""
    started = time.monotonic() if started is None else started
    settings = settings or SearchSettings()
    if should_cancel is not None and settings.iterated_local_search and settings.construction != "sisr":
        # OR-Tools 9.15's iterated local search runs to its time limit however
        # it is cancelled (CancelSearch and custom limits end only the current
        # descent), so a cancellable search uses guided local search instead.
        settings = replace(settings, iterated_local_search=False, metaheuristic="GUIDED_LOCAL_SEARCH")
    data = create_data_model(problem, matrix)
    if not data.visits and not any(data.pinned_legs):
        plan = read_plan(data, None, None, started, "empty")
        _report_done(progress, plan)
        return plan

    setup = build_routing_model(data, settings)
    stats: dict = {}
    remaining = max(0.05, time_limit_s - (time.monotonic() - started))
    watch = _SearchWatch(setup.routing, remaining, progress, should_cancel)
    setup.routing.AddAtSolutionCallback(watch)
    params = search_parameters(remaining, settings)
    initial = None
    given = _route_nodes(data, initial_routes) if initial_routes else None
    if given is not None and settings.construction != "sisr":
        setup.routing.CloseModelWithParameters(params)
        initial = setup.routing.ReadAssignmentFromRoutes(given, True)
    elif settings.construction == "sisr" and data.visits:
        initial, construction = _construct(data, setup, settings, remaining, watch, should_cancel, given)
        stats["construction"] = construction
        if initial is None and given is not None:
            initial = _read_routes(setup, given, watch)
        remaining = max(0.05, time_limit_s - (time.monotonic() - started))
        if initial is not None:
            # A descent polishes the constructed plan against the whole model.
            settings = replace(settings, iterated_local_search=False, metaheuristic="GREEDY_DESCENT")
            if watch.cancelled:
                # Cancelled while constructing: a short descent still has to
                # time the plan (a search cancelled at once returns nothing).
                watch.should_cancel = None
                remaining = min(remaining, CANCELLED_POLISH_S)
        elif should_cancel is not None:
            # Refused by the model: OR-Tools starts over, cancellably (see above).
            settings = replace(settings, iterated_local_search=False, metaheuristic="GUIDED_LOCAL_SEARCH")
        params = search_parameters(remaining, settings)
    if initial is not None:
        solution = setup.routing.SolveFromAssignmentWithParameters(initial, params)
    elif settings.iterated_local_search:
        solution = setup.routing.SolveWithIteratedLocalSearch(params)
    else:
        solution = setup.routing.SolveWithParameters(params)

    status = "cancelled" if watch.cancelled else ("optimized" if solution is not None else "infeasible")
    plan = read_plan(data, setup, solution, started, status)
    plan.stats.update(first_cost=watch.first_cost, solutions=watch.solutions, **stats)
    _report_done(progress, plan)
    return plan


def core_problem(data: DataModel, settings: SearchSettings) -> sisr.CoreProblem:
    """The routing core of the model for :mod:`dispatch.sisr`: the same
    costs, windows, shifts, lunch breaks and soft deadlines; the working-time
    cap is folded into the end of the shift (conservative: counted from the
    earliest departure)."""
    n, m = len(data.visits), data.num_vehicles
    with_demand = any(t.capacity is not None for t in data.technicians)
    ready = np.zeros(data.num_nodes, dtype=np.int64)
    due = np.full(data.num_nodes, HORIZON_S, dtype=np.int64)
    demand = np.zeros(data.num_nodes, dtype=np.int64)
    late_from = np.zeros(data.num_nodes, dtype=np.int64)
    late_rate = np.zeros(data.num_nodes, dtype=np.int64)
    for node, visit in enumerate(data.visits):
        ready[node], due[node] = visit.window_start_s, visit.window_end_s
        demand[node] = visit.demand if with_demand else 0
        if visit.deadline_s is not None:
            late_from[node], late_rate[node] = visit.deadline_s, _late_cost(visit)
        elif visit.priority == "P1":
            late_from[node], late_rate[node] = visit.window_start_s, P1_EARLY_COST_M_PER_S
    v_open = np.empty(m, dtype=np.int64)
    v_close = np.empty(m, dtype=np.int64)
    capacity = np.empty(m, dtype=np.int64)
    lunch = np.zeros((3, m), dtype=np.int64)
    for v, tech in enumerate(data.technicians):
        v_open[v] = min(data.start_time_s[v], tech.shift_end_s)
        close = tech.shift_end_s
        has_lunch = _has_lunch(tech)
        if has_lunch:
            lunch[:, v] = (tech.lunch_earliest_s, tech.lunch_latest_s, tech.lunch_duration_s)
        if tech.max_work_s is not None:
            used = data.start_time_s[v] - tech.depart_s if data.pinned_legs[v] else 0
            span = max(0, tech.max_work_s - used) + (tech.lunch_duration_s if has_lunch else 0)
            close = min(close, v_open[v] + span)
        v_close[v] = max(v_open[v], close)
        capacity[v] = tech.capacity if with_demand and tech.capacity is not None else int(demand.sum()) + 1
    allowed = np.zeros((n, m), dtype=np.uint8)
    for node, vehicles in enumerate(data.allowed_vehicles):
        allowed[node, vehicles] = 1
    mandatory = 10**12
    penalty = np.array(
        [drop_penalty(v) if settings.optional_visits else mandatory for v in data.visits], dtype=np.int64
    )
    return sisr.CoreProblem(
        cost=np.rint(data.distances_m).astype(np.int64),
        travel=np.asarray(data.durations_s, dtype=np.int64),
        service=np.asarray(data.service_s, dtype=np.int64),
        ready=ready,
        due=due,
        demand=demand,
        v_start=np.asarray(data.starts, dtype=np.int64),
        v_end=np.asarray(data.ends, dtype=np.int64),
        v_open=v_open,
        v_close=v_close,
        v_capacity=capacity,
        allowed=allowed,
        penalty=penalty,
        late_from=late_from,
        late_rate=late_rate,
        lunch_open=lunch[0],
        lunch_close=lunch[1],
        lunch_duration=lunch[2],
    )


def _construct(
    data: DataModel,
    setup: RoutingSetup,
    settings: SearchSettings,
    remaining: float,
    watch: _SearchWatch,
    should_cancel: CancelHook | None = None,
    seed_routes: list[list[int]] | None = None,
) -> tuple[pywrapcp.Assignment | None, dict]:
    """First plan from :mod:`dispatch.sisr`, read into the closed model.

    Progress is reported as phase ``construction``; a cancel ends the
    construction with its best plan so far and the descent after it at its
    first solution.
    """
    tick = time.monotonic()

    def on_progress(_fraction: float, best_cost: int) -> bool:
        watch.best_cost = best_cost
        watch.report("construction")
        if should_cancel is not None and should_cancel():
            watch.cancelled = True
        return watch.cancelled

    result = sisr.solve_core(
        core_problem(data, settings),
        remaining * settings.construction_share,
        workers=max(1, settings.workers),
        seed=settings.seed,
        on_progress=on_progress,
        initial=seed_routes,
    )
    watch.best_cost = None  # from here on, the whole model's objective
    setup.routing.CloseModelWithParameters(search_parameters(remaining, settings))
    initial = _read_routes(setup, result.routes, watch)
    info = {
        "cost": result.cost,
        "iterations": result.iterations,
        "seconds": round(time.monotonic() - tick, 3),
        "accepted_by_model": initial is not None,
    }
    return initial, info


def _read_routes(
    setup: RoutingSetup, routes: list[list[int]], watch: _SearchWatch
) -> pywrapcp.Assignment | None:
    """Routes (model nodes per vehicle) as an assignment of the closed model,
    or None when they break a rule. Reading calls the solution callback; a
    cancel there would stay latched in the solver and fail the search after."""
    hook, watch.should_cancel = watch.should_cancel, None
    try:
        return setup.routing.ReadAssignmentFromRoutes(routes, True)
    finally:
        watch.should_cancel = hook


def _route_nodes(data: DataModel, routes: dict[int | str, list[int | str]]) -> list[list[int]]:
    """Visit ids per technician id -> model nodes per vehicle (pinned legs left out)."""
    node_of = {visit.id: node for node, visit in enumerate(data.visits)}
    return [[node_of[vid] for vid in routes.get(t.id, []) if vid in node_of] for t in data.technicians]


def _report_done(progress: ProgressCallback | None, plan: Plan) -> None:
    if progress is not None:
        progress({"phase": "done", "percent": 100, "best_cost": plan.objective})


def _empty_plan(problem: Problem, started: float, status: str) -> Plan:
    return Plan([], [], 0, 0.0, 0, time.monotonic() - started, status)


def read_plan(
    data: DataModel,
    setup: RoutingSetup | None,
    solution: pywrapcp.Assignment | None,
    started: float,
    status: str,
) -> Plan:
    """Read routes, stop times, lunch and the unassigned orders into a :class:`Plan`."""
    unassigned = list(data.screened_out)
    routes: list[TechnicianRoute] = []
    served: set[int] = set()
    lunch_starts = _lunch_starts(setup, solution)
    for v, tech in enumerate(data.technicians):
        stops = [
            PlannedStop(
                leg.visit.id,
                leg.arrival_s,
                leg.start_s,
                leg.end_s,
                leg.travel_s,
                leg.travel_m,
                _late(leg.visit, leg.start_s),
            )
            for leg in data.pinned_legs[v]
        ]
        depart_s = data.start_time_s[v]
        route_start_s = tech.depart_s
        end_s = depart_s
        lunch_start = lunch_starts.get(v)
        if setup is not None and solution is not None:
            routing, manager, time_dim = setup.routing, setup.manager, setup.time_dimension
            index = routing.Start(v)
            depart_s = solution.Min(time_dim.CumulVar(index))
            if not stops:
                route_start_s = depart_s
            prev_node, prev_end = manager.IndexToNode(index), depart_s
            index = solution.Value(routing.NextVar(index))
            while not routing.IsEnd(index):
                node = manager.IndexToNode(index)
                served.add(node)
                visit = data.visits[node]
                start_s = solution.Min(time_dim.CumulVar(index))
                travel_s = int(data.durations_s[prev_node, node])
                arrival = prev_end + travel_s
                if lunch_start is not None and prev_end <= lunch_start < start_s:
                    arrival += data.technicians[v].lunch_duration_s
                stops.append(
                    PlannedStop(
                        visit.id,
                        min(arrival, start_s),
                        start_s,
                        start_s + visit.duration_s,
                        travel_s,
                        float(data.distances_m[prev_node, node]),
                        _late(visit, start_s),
                    )
                )
                prev_node, prev_end = node, start_s + visit.duration_s
                index = solution.Value(routing.NextVar(index))
            end_node = manager.IndexToNode(index)
            end_s = solution.Min(time_dim.CumulVar(index))
            back_m = float(data.distances_m[prev_node, end_node])
            back_s = int(data.durations_s[prev_node, end_node])
        else:
            back_m, back_s = 0.0, 0
            if stops:
                end_s = stops[-1].end_s
        if not stops:
            continue
        if lunch_start is not None and not (route_start_s <= lunch_start < end_s):
            lunch_start = None  # lunch falls outside the working day: nothing to plan
        lunch_s = data.technicians[v].lunch_duration_s if lunch_start is not None else 0
        routes.append(
            TechnicianRoute(
                technician_id=tech.id,
                stops=stops,
                lunch_start_s=lunch_start,
                travel_m=sum(s.travel_m for s in stops) + back_m,
                travel_s=sum(s.travel_s for s in stops) + back_s,
                work_s=max(0, end_s - route_start_s - lunch_s),
                end_s=end_s,
                start_s=route_start_s,
            )
        )
    for node, visit in enumerate(data.visits):
        if node not in served:
            reason = "pinned_technician_unavailable" if visit.pinned_technician is not None else "day_full"
            unassigned.append(Unassigned(visit.id, reason))
    objective = int(solution.ObjectiveValue()) if solution is not None else 0
    return Plan(
        routes=routes,
        unassigned=unassigned,
        objective=objective,
        travel_m=sum(r.travel_m for r in routes),
        breaches=sum(1 for r in routes for s in r.stops if s.late_s > 0),
        solve_s=time.monotonic() - started,
        status=status,
    )


def _late(visit: VisitSpec, start_s: int) -> int:
    return max(0, start_s - visit.deadline_s) if visit.deadline_s is not None else 0


def _lunch_starts(setup: RoutingSetup | None, solution: pywrapcp.Assignment | None) -> dict[int, int]:
    if setup is None or solution is None or not setup.lunch:
        return {}
    by_name = {interval.Name(): v for v, interval in setup.lunch.items()}
    container = solution.IntervalVarContainer()
    starts: dict[int, int] = {}
    for i in range(container.Size()):
        element = container.Element(i)
        v = by_name.get(element.Var().Name())
        if v is not None and element.PerformedValue():
            starts[v] = element.StartValue()
    return starts


def plan_score(problem: Problem, plan: Plan) -> float:
    """The plan's cost on the objective's scale, computed from the plan itself:
    travel metres, late starts and left-out orders priced as in the model.
    Comparable between plans of the same problem from different models."""
    visits = {v.id: v for v in problem.visits}
    late = sum(
        s.late_s * _late_cost(visits[s.visit_id])
        for r in plan.routes
        for s in r.stops
        if s.visit_id in visits
    )
    dropped = sum(drop_penalty(visits[u.visit_id]) for u in plan.unassigned if u.visit_id in visits)
    return plan.travel_m + late + dropped


def plan_sequences(plan: Plan) -> dict[int | str, list[int | str]]:
    """Technician id -> ordered visit ids, a convenient view for comparisons."""
    return {route.technician_id: [s.visit_id for s in route.stops] for route in plan.routes}


def visit_ids(visits: Sequence[VisitSpec]) -> list[int | str]:
    """Ids of ``visits`` in order."""
    return [v.id for v in visits]
