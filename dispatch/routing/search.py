"""Searching the routing model and reading its solution back into a plain plan.

5. search parameters (OR-Tools' first solution, metaheuristic, iterated local
   search with SISR ruins, time limit);
6. the search itself, warm-started by the compiled construction
   (:mod:`dispatch.routing.construction`) and watched for progress and cancels;
7. reading routes, stop times and lunch breaks into a :class:`Plan`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2, routing_ils_pb2, routing_parameters_pb2
from ortools.util import optional_boolean_pb2

from dispatch.routing import constraints, construction, linked_insertion
from dispatch.routing.matrix import TravelMatrix
from dispatch.routing.model import (
    DataModel,
    RoutingSetup,
    build_routing_model,
    create_data_model,
)
from dispatch.routing.problem import (
    Plan,
    PlannedStop,
    Problem,
    TechnicianRoute,
    Unassigned,
    VisitSpec,
    late_visits,
)
from dispatch.routing.settings import CancelHook, LocalSearchSettings, ProgressCallback, SearchSettings
from dispatch.routing.stock import DEPOT_SHARE, RESTOCK_VISIT_ID, with_depot_stops

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
# The metaheuristic of a search that must stop when cancelled (see solve_whole).
GUIDED = "GUIDED_LOCAL_SEARCH"


def search_parameters(
    time_limit_s: float, search: LocalSearchSettings
) -> routing_parameters_pb2.RoutingSearchParameters:
    """Search parameters: first solution, metaheuristic, time limit."""
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = getattr(routing_enums_pb2.FirstSolutionStrategy, search.first_solution)
    metaheuristic = search.metaheuristic
    if search.iterated_local_search:
        # Ruin and recreate perturbs only at a local optimum; guided local
        # search never declares one, so with it no ruin step would ever run.
        metaheuristic = "GREEDY_DESCENT"
    params.local_search_metaheuristic = getattr(routing_enums_pb2.LocalSearchMetaheuristic, metaheuristic)
    if search.gls_lambda is not None:
        params.guided_local_search_lambda_coefficient = search.gls_lambda
    if search.iterated_local_search:
        _use_ruin_and_recreate(params, search)
    if search.lean_operators:
        for name in HEAVY_OPERATORS:
            setattr(params.local_search_operators, name, optional_boolean_pb2.BOOL_FALSE)
    params.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    # The completion search (cumuls, lunch breaks) after each move and when
    # restoring given routes needs more than the 100 ms default on big days.
    params.lns_time_limit.FromMilliseconds(1000)
    params.log_search = search.log_search
    for name, value in search.extra.items():
        _set_path(params, name, value)
    return params


def _use_ruin_and_recreate(
    params: routing_parameters_pb2.RoutingSearchParameters, search: LocalSearchSettings
) -> None:
    """OR-Tools' iterated local search: SISR ruin, cheapest-insertion recreate, SA acceptance."""
    params.use_iterated_local_search = True
    ils = params.iterated_local_search_parameters
    ils.perturbation_strategy = routing_ils_pb2.PerturbationStrategy.RUIN_AND_RECREATE
    # Without the descent after each ruin the search makes many more, smaller
    # steps (SISR as published); with it, fewer but polished ones.
    ils.improve_perturbed_solution = search.improve_after_ruin
    rr = ils.ruin_recreate_parameters
    del rr.ruin_strategies[:]
    ruin = rr.ruin_strategies.add()
    ruin.sisr.max_removed_sequence_size = search.ruin.max_sequence
    ruin.sisr.avg_num_removed_visits = search.ruin.avg_removed
    ruin.sisr.bypass_factor = 0.01
    if search.ruin.random_walk_removed > 0:
        rr.ruin_strategies.add().random_walk.num_removed_visits = search.ruin.random_walk_removed
        rr.ruin_composition_strategy = routing_ils_pb2.RuinCompositionStrategy.RUN_ONE_RANDOMLY
    rr.recreate_strategy.heuristic = routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
    sa = ils.reference_solution_acceptance_strategy.simulated_annealing
    sa.cooling_schedule_strategy = routing_ils_pb2.CoolingScheduleStrategy.EXPONENTIAL
    if search.sa_initial_temperature is None:
        sa.automatic_temperatures = True
    else:
        sa.initial_temperature = search.sa_initial_temperature
        sa.final_temperature = 0.01
    ils.best_solution_acceptance_strategy.greedy_descent.SetInParent()


def _set_path(message: Any, dotted: str, value: Any) -> None:
    """Set the protobuf field at ``dotted`` (e.g. ``local_search_operators.use_or_opt``)."""
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
    if should_cancel is not None and settings.local_search.iterated_local_search and not settings.constructs:
        # OR-Tools 9.15's iterated local search runs to its time limit however
        # it is cancelled (CancelSearch and custom limits end only the current
        # descent), so a cancellable search uses guided local search instead.
        settings = settings.with_local_search(
            iterated_local_search=False, metaheuristic="GUIDED_LOCAL_SEARCH"
        )
    data = create_data_model(problem, matrix)
    if not data.visits and not any(data.pinned_legs):
        plan = read_plan(data, None, None, started, "empty")
        _report_done(progress, plan)
        return plan

    setup = build_routing_model(data, settings)
    stats: dict[str, Any] = {}
    remaining = max(0.05, time_limit_s - (time.monotonic() - started))
    watch = _SearchWatch(setup.routing, remaining, progress, should_cancel)
    setup.routing.AddAtSolutionCallback(watch)
    params = search_parameters(remaining, settings.local_search)
    initial = None
    given = _route_nodes(data, initial_routes) if initial_routes else None
    if given is not None and not settings.constructs:
        setup.routing.CloseModelWithParameters(params)
        initial = setup.routing.ReadAssignmentFromRoutes(given, True)
    elif settings.constructs and data.visits:
        initial, built = _construct(data, setup, settings, remaining, watch, should_cancel, given)
        stats["construction"] = built
        if initial is None and given is not None:
            initial = _read_routes(setup, given, watch)
        remaining = max(0.05, time_limit_s - (time.monotonic() - started))
        if initial is not None:
            # A descent polishes the constructed plan against the whole model.
            settings = settings.with_local_search(iterated_local_search=False, metaheuristic="GREEDY_DESCENT")
            if watch.cancelled:
                # Cancelled while constructing: a short descent still has to
                # time the plan (a search cancelled at once returns nothing).
                watch.should_cancel = None
                remaining = min(remaining, CANCELLED_POLISH_S)
        elif should_cancel is not None:
            # Refused by the model: OR-Tools starts over, cancellably (see above).
            settings = settings.with_local_search(
                iterated_local_search=False, metaheuristic="GUIDED_LOCAL_SEARCH"
            )
        params = search_parameters(remaining, settings.local_search)
    if initial is not None:
        # A polish left too little time finds nothing: the model's own reading
        # of the first plan stands (it was checked against every rule).
        solution = setup.routing.SolveFromAssignmentWithParameters(initial, params) or initial
    elif settings.local_search.iterated_local_search:
        solution = setup.routing.SolveWithIteratedLocalSearch(params)
    else:
        solution = setup.routing.SolveWithParameters(params)

    status = "cancelled" if watch.cancelled else ("optimized" if solution is not None else "infeasible")
    plan = read_plan(data, setup, solution, started, status)
    plan.stats.update(first_cost=watch.first_cost, solutions=watch.solutions, **stats)
    _report_done(progress, plan)
    return plan


def _construct(
    data: DataModel,
    setup: RoutingSetup,
    settings: SearchSettings,
    remaining: float,
    watch: _SearchWatch,
    should_cancel: CancelHook | None = None,
    seed_routes: list[list[int]] | None = None,
) -> tuple[pywrapcp.Assignment | None, dict[str, Any]]:
    """First plan from :mod:`dispatch.routing.construction`, read into the closed model.

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

    core = construction.core_problem(data, settings)
    # Crews and visits in order are put in after (see linked_insertion).
    held_back = constraints.linked_nodes(data.visits)
    linked_insertion.hold_back(core, held_back)
    if seed_routes is not None and held_back:
        seed_routes = [[u for u in route if u not in held_back] for route in seed_routes]
    any_depot = any(node is not None for node in data.restock_nodes)
    result = construction.solve_core(
        core,
        # Depot stops are put into the plan after it (model reads): they get a share.
        remaining * settings.construction.share * (1 - DEPOT_SHARE if any_depot else 1),
        workers=max(1, settings.workers),
        seed=settings.seed,
        on_progress=on_progress,
        initial=seed_routes,
    )
    routes = linked_insertion.insert_linked(data, core, result.routes) if held_back else result.routes
    watch.best_cost = None  # from here on, the whole model's objective
    setup.routing.CloseModelWithParameters(search_parameters(remaining, settings.local_search))
    depot_tick = time.monotonic()

    def with_depots(routes: list[list[int]]) -> list[list[int]]:
        if not data.items:
            return routes
        return with_depot_stops(
            routes,
            data.item_demand,
            data.item_stock,
            # The routes are read as indices: the visits' are their nodes, a depot's is not.
            [None if node is None else setup.manager.NodeToIndex(node) for node in data.restock_nodes],
            lambda trial: _read_routes(setup, trial, watch) is not None,
            deadline=tick + remaining * settings.construction.share,
        )

    initial = _read_routes(setup, with_depots(routes), watch)
    if initial is None and routes is not result.routes:
        # The linked visits' placement was refused: keep the construction's plan without them.
        initial = _read_routes(setup, with_depots(result.routes), watch)
    info = {
        "cost": result.cost,
        "iterations": result.iterations,
        "seconds": round(time.monotonic() - tick, 3),
        "accepted_by_model": initial is not None,
    }
    if data.items:
        info["depot_stops_s"] = round(time.monotonic() - depot_tick, 3)
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
    nodes_of: dict[int | str, list[int]] = {}
    for node, visit in enumerate(data.visits):
        nodes_of.setdefault(visit.id, []).append(node)
    taken: set[int] = set()
    result: list[list[int]] = []
    for tech in data.technicians:
        route: list[int] = []
        for vid in routes.get(tech.id, []):
            # A crew visit is on several routes: each takes the next of its nodes.
            free = [u for u in nodes_of.get(vid, []) if u not in taken]
            if free:
                taken.add(free[0])
                route.append(free[0])
        result.append(route)
    return result


def _report_done(progress: ProgressCallback | None, plan: Plan) -> None:
    if progress is not None:
        progress({"phase": "done", "percent": 100, "best_cost": plan.objective})


def empty_plan(problem: Problem, started: float, status: str) -> Plan:
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
    for v in range(len(data.technicians)):
        route = _read_route(data, setup, solution, v, lunch_starts.get(v), served)
        if route is not None:
            routes.append(route)
    left_out: set[int | str] = set()
    for node, visit in enumerate(data.visits):
        if node not in served and visit.id not in left_out:
            left_out.add(visit.id)  # a crew's nodes: reported once
            reason = "pinned_technician_unavailable" if visit.pinned_technician is not None else "day_full"
            unassigned.append(Unassigned(visit.id, reason))
    _blame_predecessors(data, served, unassigned)
    objective = int(solution.ObjectiveValue()) if solution is not None else 0
    return Plan(
        routes=routes,
        unassigned=unassigned,
        objective=objective,
        travel_m=sum(r.travel_m for r in routes),
        breaches=late_visits(routes),
        solve_s=time.monotonic() - started,
        status=status,
    )


def _read_route(
    data: DataModel,
    setup: RoutingSetup | None,
    solution: pywrapcp.Assignment | None,
    v: int,
    lunch_start: int | None,
    served: set[int],
) -> TechnicianRoute | None:
    """Technician ``v``'s route: the pinned legs, then the solution's stops
    (their nodes added to ``served``); None when the technician has no stop."""
    tech = data.technicians[v]
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
    route_start_s = tech.depart_s
    end_s = data.start_time_s[v]
    restocks: list[PlannedStop] = []
    if setup is not None and solution is not None:
        no_pinned_legs = not stops
        depart_s, end_s, back_m, back_s = _read_solved_stops(
            data, setup, solution, v, lunch_start, stops, served, restocks
        )
        if no_pinned_legs:
            route_start_s = depart_s
    else:
        back_m, back_s = 0.0, 0
        if stops:
            end_s = stops[-1].end_s
    if not stops:
        return None
    if lunch_start is not None and not (route_start_s <= lunch_start < end_s):
        lunch_start = None  # lunch falls outside the working day: nothing to plan
    lunch_s = tech.lunch_duration_s if lunch_start is not None else 0
    return TechnicianRoute(
        technician_id=tech.id,
        stops=stops,
        lunch_start_s=lunch_start,
        travel_m=sum(s.travel_m for s in stops + restocks) + back_m,
        travel_s=sum(s.travel_s for s in stops + restocks) + back_s,
        work_s=max(0, end_s - route_start_s - lunch_s),
        end_s=end_s,
        start_s=route_start_s,
        restocks=restocks,
    )


def _read_solved_stops(
    data: DataModel,
    setup: RoutingSetup,
    solution: pywrapcp.Assignment,
    v: int,
    lunch_start: int | None,
    stops: list[PlannedStop],
    served: set[int],
    restocks: list[PlannedStop],
) -> tuple[int, int, float, int]:
    """Append vehicle ``v``'s stops in the solution to ``stops`` (its depot
    stops to ``restocks``); return its departure and return times and the
    drive back (metres, seconds)."""
    routing, manager, time_dim = setup.routing, setup.manager, setup.time_dimension
    index = routing.Start(v)
    depart_s: int = solution.Min(time_dim.CumulVar(index))
    prev_node, prev_end = manager.IndexToNode(index), depart_s
    index = solution.Value(routing.NextVar(index))
    while not routing.IsEnd(index):
        node = manager.IndexToNode(index)
        start_s = solution.Min(time_dim.CumulVar(index))
        travel_s = int(data.durations_s[prev_node, node])
        arrival = prev_end + travel_s
        if lunch_start is not None and prev_end <= lunch_start < start_s:
            arrival += data.technicians[v].lunch_duration_s
        travel_m = float(data.distances_m[prev_node, node])
        if node >= len(data.visits):  # the technician's depot stop
            duration_s = data.service_s[node]
            stop = PlannedStop(
                RESTOCK_VISIT_ID,
                min(arrival, start_s),
                start_s,
                start_s + duration_s,
                travel_s,
                travel_m,
                kind="restock",
            )
            restocks.append(stop)
        else:
            served.add(node)
            visit = data.visits[node]
            duration_s = visit.duration_s
            stop = PlannedStop(
                visit.id,
                min(arrival, start_s),
                start_s,
                start_s + duration_s,
                travel_s,
                travel_m,
                _late(visit, start_s),
            )
            stops.append(stop)
        prev_node, prev_end = node, start_s + duration_s
        index = solution.Value(routing.NextVar(index))
    end_node = manager.IndexToNode(index)
    end_s: int = solution.Min(time_dim.CumulVar(index))
    back_m = float(data.distances_m[prev_node, end_node])
    back_s = int(data.durations_s[prev_node, end_node])
    return depart_s, end_s, back_m, back_s


def _blame_predecessors(data: DataModel, served: set[int], unassigned: list[Unassigned]) -> None:
    """A visit left out with a predecessor left out is reported for that reason."""
    waiting = {
        data.visits[then].id for first, then in constraints.precedences(data.visits) if first not in served
    }
    for k, item in enumerate(unassigned):
        if item.visit_id in waiting and item.reason == "day_full":
            unassigned[k] = Unassigned(item.visit_id, "predecessor_unassigned")


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


def plan_sequences(plan: Plan) -> dict[int | str, list[int | str]]:
    """Technician id -> ordered visit ids, a convenient view for comparisons."""
    return {route.technician_id: [s.visit_id for s in route.stops] for route in plan.routes}


def visit_ids(visits: Sequence[VisitSpec]) -> list[int | str]:
    """Ids of ``visits`` in order."""
    return [v.id for v in visits]
