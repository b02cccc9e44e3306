"""A fast construction for the routing model: slack-induced string removals.

OR-Tools holds every field rule, but its own ruin-and-recreate runs a few
hundred steps a second on a 100-stop day. This module runs the same idea
(Christiaens and Vanden Berghe's SISR: remove a few nearby strings of stops,
put them back by cheapest insertion with blinks, accept by simulated
annealing) compiled with numba, tens of thousands of steps a second, on the
core of the problem: travel cost, travel time, appointment windows, shifts,
lunch breaks, soft deadlines priced per second late, capacity, which
technician may do which visit and the price of leaving one out. Its best plan
warm-starts OR-Tools (see ``ConstructionSettings``), which checks and
polishes it against the whole model; a plan the model refuses is not used.

The search runs on one thread per worker: the compiled loop releases the GIL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from dispatch.routing.constraints import out_of_area_costs
from dispatch.routing.kernels import (
    NO_ROUTE,
    Arrays,
    copy_routes,
    search,
    simulate_route,
    total_cost,
    update_route,
)
from dispatch.routing.model import (
    HORIZON_S,
    P1_EARLY_COST_M_PER_S,
    DataModel,
    drop_penalty,
    late_cost,
    lunch_window,
)
from dispatch.routing.settings import SearchSettings

REPORT_EVERY_S = 0.5

# Stands for an array the caller did not give: CoreProblem fills it in.
_NOT_GIVEN = np.empty(0, dtype=np.int64)


def _not_given() -> np.ndarray:
    return _NOT_GIVEN


@dataclass
class CoreProblem:
    """The routing core in node numbers: customers ``0..n-1``, then any
    other nodes (technicians' starts and ends) referenced by ``v_start`` and
    ``v_end``. Times are seconds (or any one unit), costs integers."""

    cost: np.ndarray  # int64 [N, N]
    travel: np.ndarray  # int64 [N, N]
    service: np.ndarray  # int64 [N]
    ready: np.ndarray  # int64 [N], earliest start of service
    due: np.ndarray  # int64 [N], latest start of service
    demand: np.ndarray  # int64 [N]
    v_start: np.ndarray  # int64 [K], start node per vehicle
    v_end: np.ndarray  # int64 [K]
    v_open: np.ndarray  # int64 [K], earliest departure
    v_close: np.ndarray  # int64 [K], latest return
    v_capacity: np.ndarray  # int64 [K]
    allowed: np.ndarray  # uint8 [n, K]
    penalty: np.ndarray  # int64 [n], cost of leaving a customer out
    # Soft deadlines: starting after late_from costs late_rate per unit of time.
    # Not given: no deadline anywhere (zeros).
    late_from: np.ndarray = field(default_factory=_not_given)  # int64 [N]
    late_rate: np.ndarray = field(default_factory=_not_given)  # int64 [N]
    # A break per vehicle: it starts in [lunch_open, lunch_close], lasts
    # lunch_duration (0: no break), never during work at a stop. Not given: no breaks.
    lunch_open: np.ndarray = field(default_factory=_not_given)  # int64 [K]
    lunch_close: np.ndarray = field(default_factory=_not_given)  # int64 [K]
    lunch_duration: np.ndarray = field(default_factory=_not_given)  # int64 [K]
    # Stock items carried (one column per item): what each node consumes and
    # what each vehicle holds. Not given: no items.
    item_demand: np.ndarray = field(default_factory=_not_given)  # int64 [N, D]
    item_capacity: np.ndarray = field(default_factory=_not_given)  # int64 [K, D]
    # What serving a customer costs a vehicle beyond the driving (a visit outside the
    # technician's preferred areas). Not given: nothing (zeros).
    visit_cost: np.ndarray = field(default_factory=_not_given)  # int64 [n, K]

    def __post_init__(self) -> None:
        nodes, k = self.cost.shape[0], self.v_start.shape[0]
        if self.visit_cost is _NOT_GIVEN:
            self.visit_cost = np.zeros((self.allowed.shape[0], k), dtype=np.int64)
        if self.item_demand is _NOT_GIVEN:
            self.item_demand = np.zeros((nodes, 0), dtype=np.int64)
            self.item_capacity = np.zeros((k, 0), dtype=np.int64)
        if self.late_from is _NOT_GIVEN:
            self.late_from = np.zeros(nodes, dtype=np.int64)
        if self.late_rate is _NOT_GIVEN:
            self.late_rate = np.zeros(nodes, dtype=np.int64)
        if self.lunch_duration is _NOT_GIVEN:
            self.lunch_open = np.zeros(k, dtype=np.int64)
            self.lunch_close = np.zeros(k, dtype=np.int64)
            self.lunch_duration = np.zeros(k, dtype=np.int64)

    @property
    def num_customers(self) -> int:
        return int(self.allowed.shape[0])

    @property
    def num_vehicles(self) -> int:
        return int(self.v_start.shape[0])

    def load_demand(self) -> np.ndarray:
        """Demand per node on every load dimension: the generic one, then each item [N, 1 + D]."""
        return np.column_stack([self.demand, self.item_demand]).astype(np.int64)

    def load_capacity(self) -> np.ndarray:
        """Capacity per vehicle on every load dimension [K, 1 + D]."""
        return np.column_stack([self.v_capacity, self.item_capacity]).astype(np.int64)


@dataclass
class SisrParameters:
    """Defaults follow the published method, with temperatures scaled to the
    mean distance between customers and cooled over the time given."""

    avg_removed: float = 10.0  # c-bar: customers removed per ruin on average
    max_string: float = 10.0  # L-max: longest string removed from one route
    blink_rate: float = 0.01  # chance to skip an insertion position
    split_rate: float = 0.5  # chance a string keeps a few customers in place
    start_temperature: float = 0.1  # x mean customer-to-customer cost
    end_temperature: float = 0.002


# One search per worker, each with its own settings: the published ones,
# and larger removals, which long routes (few vehicles, wide windows) need to
# move whole stretches between routes.
PORTFOLIO = (SisrParameters(), SisrParameters(avg_removed=20.0, max_string=20.0))


@dataclass
class SisrResult:
    routes: list[list[int]]  # customer nodes per vehicle
    absent: list[int]
    cost: int
    iterations: int


def _solution_arrays(n: int, k: int, dims: int) -> Arrays:
    return (
        np.zeros((k, n + 1), dtype=np.int64),  # routes
        np.zeros(k, dtype=np.int64),  # lens
        np.zeros((k, n + 1), dtype=np.int64),  # fwd
        np.zeros((k, n + 1), dtype=np.int64),  # bwd
        np.zeros((k, dims), dtype=np.int64),  # load per dimension (see CoreProblem.load_demand)
        np.zeros(k, dtype=np.int64),  # rcost: travel + lateness
        np.zeros(k, dtype=np.int64),  # rlate: lateness
    )


def _vehicle_classes(core: CoreProblem) -> np.ndarray:
    """Vehicles that are interchangeable get one class: an empty route of a
    class is tried once per insertion."""
    seen: dict[tuple[int | bytes, ...], int] = {}
    classes = np.empty(core.num_vehicles, dtype=np.int64)
    for k in range(core.num_vehicles):
        key = (
            int(core.v_start[k]),
            int(core.v_end[k]),
            int(core.v_open[k]),
            int(core.v_close[k]),
            core.load_capacity()[k].tobytes(),
            int(core.lunch_open[k]),
            int(core.lunch_close[k]),
            int(core.lunch_duration[k]),
            core.allowed[:, k].tobytes(),
            core.visit_cost[:, k].tobytes(),
        )
        classes[k] = seen.setdefault(key, len(seen))
    return classes


def _search_thread(
    core: CoreProblem,
    seconds: float,
    seed: int,
    params: SisrParameters,
    stop: threading.Event | None = None,
    on_progress: Callable[[float, int], bool] | None = None,
    initial: Sequence[Sequence[int]] | None = None,
) -> SisrResult:
    n, k = core.num_customers, core.num_vehicles
    p = _kernel_problem(core)
    customer_cost = core.cost[:n, :n]
    adj = np.argsort(customer_cost, axis=1, kind="stable").astype(np.int64)
    mean_cost = float(customer_cost.mean()) if n > 1 else 1.0
    sort_keys = core.cost[core.v_start, :n].astype(np.float64).mean(axis=0)
    vclass = _vehicle_classes(core)
    penalty = core.penalty.astype(np.int64)
    capacity = core.load_capacity()
    work, current, best = _working_arrays(n, k, capacity.shape[1], int(penalty.sum()))
    if initial is not None:
        _start_from(initial, core, p, penalty, work, current, best)
    numeric = (
        float(params.avg_removed),
        float(params.max_string),
        float(params.blink_rate),
        float(params.split_rate),
    )
    t0 = max(1e-9, params.start_temperature * mean_cost)
    t1 = max(1e-9, params.end_temperature * mean_cost)

    def run_chunk(iterations: int, t_start: float, t_end: float, chunk_seed: int) -> None:
        search(
            iterations,
            t_start,
            t_end,
            chunk_seed,
            p,
            adj,
            core.allowed,
            capacity,
            vclass,
            penalty,
            sort_keys,
            work,
            current,
            best,
            numeric,
        )

    done = _anneal(run_chunk, seconds, t0, t1, seed, best[9], stop, on_progress)
    b_routes, b_lens = best[0], best[1]
    routes = [[int(u) for u in b_routes[v, : b_lens[v]]] for v in range(k)]
    absent = [int(u) for u in best[7][: best[8][0]]]
    return SisrResult(routes, absent, int(best[9][0]), done)


def _kernel_problem(core: CoreProblem) -> Arrays:
    """The core as the tuple ``p`` the kernels unpack, with ``exact`` (per vehicle,
    whether its routes need the full simulation: a lunch break, or priced deadlines
    anywhere), then the visit costs."""
    exact = ((core.lunch_duration > 0) | bool((core.late_rate > 0).any())).astype(np.int64)
    return (
        core.cost,
        core.travel,
        core.service,
        core.ready,
        core.due,
        core.load_demand(),
        core.v_start,
        core.v_end,
        core.v_open,
        core.v_close,
        core.late_from,
        core.late_rate,
        core.lunch_open,
        core.lunch_close,
        core.lunch_duration,
        exact,
        core.visit_cost,
    )


def _working_arrays(n: int, k: int, dims: int, everyone_out: int) -> tuple[Arrays, Arrays, Arrays]:
    """The search's plans, everyone absent to start with: the working one
    (routes, then ``route_of``, ``pos_of``, ``touched``, ``absent``,
    ``n_absent``), the current one and the best one (routes, then ``absent``,
    ``n_absent`` and the cost)."""
    work = (
        *_solution_arrays(n, k, dims),
        np.full(n, NO_ROUTE, dtype=np.int64),  # route_of
        np.zeros(n, dtype=np.int64),  # pos_of
        np.zeros(k, dtype=np.int64),  # touched
        np.arange(n, dtype=np.int64),  # absent: everyone to start with
        np.array([n], dtype=np.int64),
    )
    current = (
        *_solution_arrays(n, k, dims),
        np.arange(n, dtype=np.int64),
        np.array([n], dtype=np.int64),
        np.array([everyone_out], dtype=np.int64),
    )
    best = (
        *_solution_arrays(n, k, dims),
        np.arange(n, dtype=np.int64),
        np.array([n], dtype=np.int64),
        np.array([everyone_out], dtype=np.int64),
    )
    return work, current, best


def _anneal(
    run_chunk: Callable[[int, float, float, int], None],
    seconds: float,
    t0: float,
    t1: float,
    seed: int,
    best_cost: np.ndarray,
    stop: threading.Event | None,
    on_progress: Callable[[float, int], bool] | None,
) -> int:
    """Run the compiled search in chunks of iterations for ``seconds``, the
    temperature falling from ``t0`` to ``t1`` over the time; return the
    iterations done. ``best_cost`` (one element) is what progress reports."""
    started = time.monotonic()
    chunk, done, rng = 200, 0, np.random.default_rng(seed)
    last_report = started
    while True:
        elapsed = time.monotonic() - started
        if elapsed >= seconds or (stop is not None and stop.is_set()):
            break
        if on_progress is not None and time.monotonic() - last_report >= REPORT_EVERY_S:
            last_report = time.monotonic()
            if on_progress(elapsed / seconds, int(best_cost[0])) and stop is not None:
                stop.set()
        f0 = elapsed / seconds
        tick = time.monotonic()
        # Temperature falls over the chunk as it would over its share of time.
        f1 = min(1.0, f0 + chunk / max(1.0, done / max(elapsed, 1e-6)) / seconds) if done else f0
        run_chunk(chunk, t0 * (t1 / t0) ** f0, t0 * (t1 / t0) ** f1, int(rng.integers(2**31)))
        done += chunk
        took = time.monotonic() - tick
        # Aim at chunks of about 20 ms so the clock is read often enough.
        chunk = int(max(50, min(20000, chunk * 0.02 / max(took, 1e-4))))
    return done


def _start_from(
    initial: Sequence[Sequence[int]],
    core: CoreProblem,
    p: Arrays,
    penalty: np.ndarray,
    work: Arrays,
    current: Arrays,
    best: Arrays,
) -> bool:
    """Load given routes as the current and best plan, if they fit the core."""
    n, k = core.num_customers, core.num_vehicles
    routes, lens = work[0], work[1]
    route_of, pos_of, absent, n_absent = work[7], work[8], work[10], work[11]
    placed = [u for r in initial for u in r]
    if len(initial) != k or len(set(placed)) != len(placed) or any(not 0 <= u < n for u in placed):
        return False
    trial = np.zeros_like(routes)
    for v, route in enumerate(initial):
        if any(not core.allowed[u, v] for u in route):
            return False
        trial[v, : len(route)] = route
        if route and simulate_route(v, trial, len(route), -1, 0, trial, False, p) < 0:
            return False
    demand, capacity = core.load_demand(), core.load_capacity()
    if any((demand[list(r)].sum(axis=0) > capacity[v]).any() for v, r in enumerate(initial) if r):
        return False
    for v, route in enumerate(initial):
        routes[v, : len(route)] = route
        lens[v] = len(route)
    route_of[:] = NO_ROUTE
    for v in range(k):
        update_route(v, routes, lens, work[2], work[3], work[4], work[5], work[6], route_of, pos_of, p)
    out = [u for u in range(n) if route_of[u] == NO_ROUTE]
    absent[: len(out)] = out
    n_absent[0] = len(out)
    total = total_cost(work[5], absent, n_absent, penalty)
    no_index = np.empty(0, dtype=np.int64)
    for target in (current, best):
        copy_routes(
            work[:7], target[:7], work[9], absent, target[7], n_absent, target[8], no_index, no_index, True
        )
        target[9][0] = total
    return True


def compile_kernels() -> None:
    """Compile the kernels, or load them from numba's cache (``__pycache__``
    beside this file; ``make install`` fills it), once per process."""
    global _compiled
    if _compiled:
        return
    core = CoreProblem(
        cost=np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]], dtype=np.int64),
        travel=np.array([[0, 1, 2], [1, 0, 1], [2, 1, 0]], dtype=np.int64),
        service=np.zeros(3, dtype=np.int64),
        ready=np.zeros(3, dtype=np.int64),
        due=np.full(3, 100, dtype=np.int64),
        demand=np.zeros(3, dtype=np.int64),
        v_start=np.array([2], dtype=np.int64),
        v_end=np.array([2], dtype=np.int64),
        v_open=np.array([0], dtype=np.int64),
        v_close=np.array([100], dtype=np.int64),
        v_capacity=np.array([10], dtype=np.int64),
        allowed=np.ones((2, 1), dtype=np.uint8),
        penalty=np.full(2, 1000, dtype=np.int64),
    )
    _search_thread(core, 0.001, 0, SisrParameters())
    _compiled = True


_compiled = False


def solve_core(
    core: CoreProblem,
    seconds: float,
    workers: int = 1,
    seed: int = 0,
    params: SisrParameters | Sequence[SisrParameters] | None = None,
    on_progress: Callable[[float, int], bool] | None = None,
    initial: Sequence[Sequence[int]] | None = None,
) -> SisrResult:
    """Best plan found by ``workers`` independent searches in ``seconds``.

    ``on_progress(fraction_of_time, best_cost)`` is called from the first
    search about every half second; returning True stops every search early
    (each returns its best plan so far). ``initial`` (customers per vehicle)
    starts every search from that plan when it fits the core.
    """
    if params is None:
        params = PORTFOLIO
    elif isinstance(params, SisrParameters):
        params = [params]
    stop = threading.Event()
    if core.num_customers == 0:
        return SisrResult([[] for _ in range(core.num_vehicles)], [], 0, 0)
    tick = time.monotonic()
    compile_kernels()
    # A cold numba cache costs seconds of compiling; they come out of the budget.
    seconds = max(0.01, seconds - (time.monotonic() - tick))
    if workers <= 1:
        return _search_thread(core, seconds, seed, params[0], stop, on_progress, initial)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(
                _search_thread,
                core,
                seconds,
                seed + w,
                params[w % len(params)],
                stop,
                on_progress if w == 0 else None,
                initial,
            )
            for w in range(workers)
        ]
        results = [f.result() for f in futures]
    return min(results, key=lambda r: r.cost)


def core_problem(data: DataModel, settings: SearchSettings) -> CoreProblem:
    """The routing core of the model for the construction: the same
    costs, windows, shifts, lunch breaks, soft deadlines and van stock; the working-time
    cap is folded into the end of the shift (conservative: counted from the
    earliest departure); a visit outside a technician's preferred areas costs what it
    costs in the model (:func:`dispatch.routing.constraints.out_of_area_costs`)."""
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
            late_from[node], late_rate[node] = visit.deadline_s, late_cost(visit)
        elif visit.priority == "P1":
            late_from[node], late_rate[node] = visit.window_start_s, P1_EARLY_COST_M_PER_S
    v_open = np.empty(m, dtype=np.int64)
    v_close = np.empty(m, dtype=np.int64)
    capacity = np.empty(m, dtype=np.int64)
    lunch = np.zeros((3, m), dtype=np.int64)
    for v, tech in enumerate(data.technicians):
        v_open[v] = min(data.start_time_s[v], tech.shift_end_s)
        close = tech.shift_end_s
        window = lunch_window(tech)
        with_lunch = window is not None
        if window is not None:
            lunch[:, v] = (window[0], window[1], tech.lunch_duration_s)
        if tech.max_work_s is not None:
            used = data.start_time_s[v] - tech.depart_s if data.pinned_legs[v] else 0
            span = max(0, tech.max_work_s - used) + (tech.lunch_duration_s if with_lunch else 0)
            close = min(close, v_open[v] + span)
        v_close[v] = max(v_open[v], close)
        capacity[v] = tech.capacity if with_demand and tech.capacity is not None else int(demand.sum()) + 1
    allowed = np.zeros((n, m), dtype=np.uint8)
    for node, vehicles in enumerate(data.allowed_vehicles):
        allowed[node, vehicles] = 1
    mandatory = 10**12
    penalty = np.array(
        [drop_penalty(v) if settings.model.optional_visits else mandatory for v in data.visits],
        dtype=np.int64,
    )
    return CoreProblem(
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
        # The van's stock and its restock: dispatch.routing.stock.with_depot_stops
        # puts the depot stop into a route that needs it.
        item_demand=data.item_demand if data.items else _NOT_GIVEN,
        item_capacity=data.item_stock + data.item_restock if data.items else _NOT_GIVEN,
        visit_cost=out_of_area_costs(data.technicians, data.visits, settings.model.out_of_area_cost_m),
    )


if __name__ == "__main__":
    compile_kernels()
