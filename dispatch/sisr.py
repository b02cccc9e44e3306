"""A fast construction for the routing model: slack-induced string removals.

OR-Tools holds every field rule, but its own ruin-and-recreate runs a few
hundred steps a second on a 100-stop day. This module runs the same idea
(Christiaens and Vanden Berghe's SISR: remove a few nearby strings of stops,
put them back by cheapest insertion with blinks, accept by simulated
annealing) compiled with numba, tens of thousands of steps a second, on the
core of the problem: travel cost, travel time, appointment windows, shifts,
lunch breaks, soft deadlines priced per second late, capacity, which
technician may do which visit and the price of leaving one out. Its best plan
warm-starts OR-Tools (see ``SearchSettings.construction``), which checks and
polishes it against the whole model; a plan the model refuses is not used.

The search runs on one thread per worker: the compiled loop releases the GIL.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numba import njit

NO_ROUTE = -1
REPORT_EVERY_S = 0.5


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
    late_from: np.ndarray | None = None  # int64 [N]
    late_rate: np.ndarray | None = None  # int64 [N]
    # A break per vehicle: it starts in [lunch_open, lunch_close], lasts
    # lunch_duration (0: no break), never during work at a stop.
    lunch_open: np.ndarray | None = None  # int64 [K]
    lunch_close: np.ndarray | None = None  # int64 [K]
    lunch_duration: np.ndarray | None = None  # int64 [K]

    def __post_init__(self) -> None:
        nodes, k = self.cost.shape[0], self.v_start.shape[0]
        if self.late_from is None:
            self.late_from = np.zeros(nodes, dtype=np.int64)
        if self.late_rate is None:
            self.late_rate = np.zeros(nodes, dtype=np.int64)
        if self.lunch_duration is None:
            self.lunch_open = np.zeros(k, dtype=np.int64)
            self.lunch_close = np.zeros(k, dtype=np.int64)
            self.lunch_duration = np.zeros(k, dtype=np.int64)

    @property
    def num_customers(self) -> int:
        return int(self.allowed.shape[0])

    @property
    def num_vehicles(self) -> int:
        return int(self.v_start.shape[0])


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


# --------------------------------------------------------------------------
# Compiled kernels
# --------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _simulate(k, routes, size, c, q, fwd, write, p):
    """Walk route ``k`` from its start, with customer ``c`` put before
    position ``q`` when ``c >= 0``, taking lunch on the way; return the
    lateness cost, or -1 when a window, the lunch window or the shift breaks.

    Lunch is taken during a leg, as soon as it fits in the waiting time before
    the next stop, or when the next stop would end after the latest lunch
    start; a day that ends before lunch takes it after the return.
    """
    travel, service, ready, due = p[1], p[2], p[3], p[4]
    v_start, v_end, v_open, v_close = p[6], p[7], p[8], p[9]
    late_from, late_rate, l_open, l_close, l_dur = p[10], p[11], p[12], p[13], p[14]
    n_stops = size + 1 if c >= 0 else size
    prev = v_start[k]
    depart = v_open[k]
    late = 0
    pending = l_dur[k] > 0
    for j in range(n_stops):
        if c < 0 or j < q:
            u = routes[k, j]
        elif j == q:
            u = c
        else:
            u = routes[k, j - 1]
        start = depart + travel[prev, u]
        if start < ready[u]:
            start = ready[u]
        if pending:
            lunch = depart if depart > l_open[k] else l_open[k]
            if lunch > l_close[k]:
                return -1
            after_lunch = lunch + l_dur[k] + travel[prev, u]
            if after_lunch < ready[u]:
                after_lunch = ready[u]
            if after_lunch <= start or max(start + service[u], l_open[k]) > l_close[k]:
                start = after_lunch
                pending = False
        if start > due[u]:
            return -1
        if late_rate[u] > 0 and start > late_from[u]:
            late += late_rate[u] * (start - late_from[u])
        if write:
            fwd[k, j] = start
        depart = start + service[u]
        prev = u
    if n_stops > 0 and depart + travel[prev, v_end[k]] > v_close[k]:
        return -1
    if pending and n_stops > 0 and max(depart, l_open[k]) > l_close[k]:
        return -1
    return late


@njit(cache=True, nogil=True)
def _update_route(k, routes, lens, fwd, bwd, load, rcost, rlate, route_of, pos_of, p):
    """Start times, latest start times (without lunch: an upper bound), load
    and cost of route ``k`` after a change."""
    cost, travel, service, due, demand = p[0], p[1], p[2], p[4], p[5]
    v_start, v_end, v_close, exact = p[6], p[7], p[9], p[15]
    n_stops = lens[k]
    prev = v_start[k]
    total = 0
    carried = 0
    for j in range(n_stops):
        u = routes[k, j]
        total += cost[prev, u]
        carried += demand[u]
        route_of[u] = k
        pos_of[u] = j
        prev = u
    if n_stops > 0:
        total += cost[prev, v_end[k]]
    late = 0
    if exact[k]:
        late = _simulate(k, routes, n_stops, -1, 0, fwd, True, p)
    else:
        # No lunch and no priced deadlines anywhere: plain earliest starts.
        ready, v_open = p[3], p[8]
        prev = v_start[k]
        t = v_open[k]
        for j in range(n_stops):
            u = routes[k, j]
            t += travel[prev, u]
            if t < ready[u]:
                t = ready[u]
            fwd[k, j] = t
            t += service[u]
            prev = u
    rlate[k] = late
    rcost[k] = total + late
    load[k] = carried
    latest = v_close[k]
    nxt = v_end[k]
    for j in range(n_stops - 1, -1, -1):
        u = routes[k, j]
        lt = latest - travel[u, nxt] - service[u]
        if lt > due[u]:
            lt = due[u]
        bwd[k, j] = lt
        latest = lt
        nxt = u


@njit(cache=True, nogil=True)
def _ruin(state, p, adj, avg_removed, max_string, split_rate, removed):
    routes, lens, fwd, bwd, load, rcost, rlate, route_of, pos_of, touched, absent, n_absent = state
    n = adj.shape[0]
    n_removed = 0
    nonempty = 0
    for k in range(lens.shape[0]):
        if lens[k] > 0:
            nonempty += 1
    if nonempty == 0:
        return 0
    assigned = n - n_absent[0]
    ls_max = min(max_string, assigned / nonempty)
    ks_max = 4.0 * avg_removed / (1.0 + ls_max) - 1.0
    ks = int(np.random.random() * ks_max) + 1
    seed = np.random.randint(0, n)
    ruined = 0
    for idx in range(n):
        if ruined >= ks:
            break
        c = adj[seed, idx]
        k = route_of[c]
        if k < 0 or touched[k]:
            continue
        size = lens[k]
        length = min(size, int(np.random.random() * min(size, ls_max)) + 1)
        pos = pos_of[c]
        keep_from, keep_to = 0, 0
        span = length
        if length < size and np.random.random() < split_rate:
            kept = 1
            while length + kept < size and np.random.random() < 0.5:
                kept += 1
            span = length + kept
        lo = max(0, pos - span + 1)
        hi = min(pos, size - span)
        first = lo + np.random.randint(0, hi - lo + 1)
        if span > length:
            keep_from = first + np.random.randint(0, length + 1)
            keep_to = keep_from + (span - length)
        write = 0
        for j in range(size):
            u = routes[k, j]
            if first <= j < first + span and not (keep_from <= j < keep_to):
                removed[n_removed] = u
                n_removed += 1
                route_of[u] = NO_ROUTE
            else:
                routes[k, write] = u
                write += 1
        lens[k] = write
        touched[k] = 1
        ruined += 1
        _update_route(k, routes, lens, fwd, bwd, load, rcost, rlate, route_of, pos_of, p)
    return n_removed


@njit(cache=True, nogil=True)
def _recreate(state, p, pending, n_pending, allowed, capacity, vclass, class_seen, blink_rate, sort_keys):
    routes, lens, fwd, bwd, load, rcost, rlate, route_of, pos_of, touched, absent, n_absent = state
    cost, travel, service, ready, due, demand, v_start, v_end, v_open, v_close = p[:10]
    exact = p[15]
    n_vehicles = lens.shape[0]
    # Insertion order: random, largest demand, farthest, closest (4:4:2:1).
    pick = np.random.random() * 11.0
    keys = np.empty(n_pending, dtype=np.float64)
    for i in range(n_pending):
        c = pending[i]
        if pick < 4.0:
            keys[i] = np.random.random()
        elif pick < 8.0:
            keys[i] = -demand[c] + np.random.random() * 1e-3
        elif pick < 10.0:
            keys[i] = -sort_keys[c]
        else:
            keys[i] = sort_keys[c]
    order = np.argsort(keys)
    class_seen[:] = 0  # class_seen[c] == oi + 1: an empty route of class c was tried for customer oi
    n_absent[0] = 0
    for oi in range(n_pending):
        c = pending[order[oi]]
        best = np.int64(1) << 62
        best_k = -1
        best_p = -1
        for k in range(n_vehicles):
            if allowed[c, k] == 0 or load[k] + demand[c] > capacity[k]:
                continue
            size = lens[k]
            if size == 0:
                if class_seen[vclass[k]] == oi + 1:
                    continue
                class_seen[vclass[k]] = oi + 1
            for q in range(size + 1):
                if np.random.random() < blink_rate:
                    continue
                if q == 0:
                    a = v_start[k]
                    depart = v_open[k]
                else:
                    a = routes[k, q - 1]
                    depart = fwd[k, q - 1] + service[a]
                if q == size:
                    b = v_end[k]
                    latest = v_close[k]
                else:
                    b = routes[k, q]
                    latest = bwd[k, q]
                t = depart + travel[a, c]
                if t < ready[c]:
                    t = ready[c]
                if t > due[c] or t + service[c] + travel[c, b] > latest:
                    continue
                delta = cost[a, c] + cost[c, b]
                if size > 0:
                    delta -= cost[a, b]
                if exact[k]:
                    # Lateness only grows with an insertion: the travel
                    # delta bounds the whole delta from below.
                    if delta >= best:
                        continue
                    late = _simulate(k, routes, size, c, q, fwd, False, p)
                    if late < 0:
                        continue
                    delta += late - rlate[k]
                if delta < best:
                    best = delta
                    best_k = k
                    best_p = q
        if best_k < 0:
            absent[n_absent[0]] = c
            n_absent[0] += 1
            continue
        size = lens[best_k]
        for j in range(size, best_p, -1):
            routes[best_k, j] = routes[best_k, j - 1]
        routes[best_k, best_p] = c
        lens[best_k] = size + 1
        touched[best_k] = 1
        _update_route(best_k, routes, lens, fwd, bwd, load, rcost, rlate, route_of, pos_of, p)


@njit(cache=True, nogil=True)
def _total(rcost, absent, n_absent, penalty):
    total = 0
    for k in range(rcost.shape[0]):
        total += rcost[k]
    for i in range(n_absent[0]):
        total += penalty[absent[i]]
    return total


@njit(cache=True, nogil=True)
def _copy_routes(src, dst, touched, absent_src, absent_dst, n_src, n_dst, route_of, pos_of, full):
    s_routes, s_lens, s_fwd, s_bwd, s_load, s_rcost, s_rlate = src
    d_routes, d_lens, d_fwd, d_bwd, d_load, d_rcost, d_rlate = dst
    for k in range(s_lens.shape[0]):
        if not full and touched[k] == 0:
            continue
        size = s_lens[k]
        d_lens[k] = size
        d_load[k] = s_load[k]
        d_rcost[k] = s_rcost[k]
        d_rlate[k] = s_rlate[k]
        for j in range(size):
            d_routes[k, j] = s_routes[k, j]
            d_fwd[k, j] = s_fwd[k, j]
            d_bwd[k, j] = s_bwd[k, j]
            if route_of.shape[0] > 0:
                route_of[s_routes[k, j]] = k
                pos_of[s_routes[k, j]] = j
    n_dst[0] = n_src[0]
    for i in range(n_src[0]):
        absent_dst[i] = absent_src[i]
        if route_of.shape[0] > 0:
            route_of[absent_src[i]] = NO_ROUTE


@njit(cache=True, nogil=True)
def _search(
    iterations, t_start, t_end, seed, p, adj, allowed, capacity, vclass, penalty, sort_keys,
    work, current, best, params,
):
    avg_removed, max_string, blink_rate, split_rate = params
    np.random.seed(seed)
    routes, lens, fwd, bwd, load, rcost, rlate, route_of, pos_of, touched, absent, n_absent = work
    c_routes, c_lens, c_fwd, c_bwd, c_load, c_rcost, c_rlate, c_absent, c_n_absent, c_cost = current
    b_routes, b_lens, b_fwd, b_bwd, b_load, b_rcost, b_rlate, b_absent, b_n_absent, b_cost = best
    n = adj.shape[0]
    removed = np.empty(n, dtype=np.int64)
    pending = np.empty(n, dtype=np.int64)
    class_seen = np.zeros(vclass.max() + 1, dtype=np.int64)
    no_index = np.empty(0, dtype=np.int64)
    for it in range(iterations):
        temperature = t_start * (t_end / t_start) ** (it / max(1, iterations))
        touched[:] = 0
        n_removed = _ruin(work, p, adj, avg_removed, max_string, split_rate, removed)
        n_pending = 0
        for i in range(n_removed):
            pending[n_pending] = removed[i]
            n_pending += 1
        for i in range(n_absent[0]):
            pending[n_pending] = absent[i]
            n_pending += 1
        _recreate(work, p, pending, n_pending, allowed, capacity, vclass, class_seen, blink_rate, sort_keys)
        cost = _total(rcost, absent, n_absent, penalty)
        if cost < c_cost[0] - temperature * math.log(np.random.random()):
            _copy_routes(
                (routes, lens, fwd, bwd, load, rcost, rlate),
                (c_routes, c_lens, c_fwd, c_bwd, c_load, c_rcost, c_rlate),
                touched, absent, c_absent, n_absent, c_n_absent, no_index, no_index, False,
            )
            c_cost[0] = cost
            if cost < b_cost[0]:
                _copy_routes(
                    (routes, lens, fwd, bwd, load, rcost, rlate),
                    (b_routes, b_lens, b_fwd, b_bwd, b_load, b_rcost, b_rlate),
                    touched, absent, b_absent, n_absent, b_n_absent, no_index, no_index, True,
                )
                b_cost[0] = cost
        else:
            for i in range(n_pending):
                route_of[pending[i]] = NO_ROUTE
            _copy_routes(
                (c_routes, c_lens, c_fwd, c_bwd, c_load, c_rcost, c_rlate),
                (routes, lens, fwd, bwd, load, rcost, rlate),
                touched, c_absent, absent, c_n_absent, n_absent, route_of, pos_of, False,
            )


# --------------------------------------------------------------------------
# Python side
# --------------------------------------------------------------------------


def _solution_arrays(n: int, k: int) -> tuple:
    return (
        np.zeros((k, n + 1), dtype=np.int64),  # routes
        np.zeros(k, dtype=np.int64),  # lens
        np.zeros((k, n + 1), dtype=np.int64),  # fwd
        np.zeros((k, n + 1), dtype=np.int64),  # bwd
        np.zeros(k, dtype=np.int64),  # load
        np.zeros(k, dtype=np.int64),  # rcost: travel + lateness
        np.zeros(k, dtype=np.int64),  # rlate: lateness
    )


def _vehicle_classes(core: CoreProblem) -> np.ndarray:
    """Vehicles that are interchangeable get one class: an empty route of a
    class is tried once per insertion."""
    seen: dict[tuple, int] = {}
    classes = np.empty(core.num_vehicles, dtype=np.int64)
    for k in range(core.num_vehicles):
        key = (
            int(core.v_start[k]),
            int(core.v_end[k]),
            int(core.v_open[k]),
            int(core.v_close[k]),
            int(core.v_capacity[k]),
            int(core.lunch_open[k]),
            int(core.lunch_close[k]),
            int(core.lunch_duration[k]),
            core.allowed[:, k].tobytes(),
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
    exact = ((core.lunch_duration > 0) | bool((core.late_rate > 0).any())).astype(np.int64)
    p = (core.cost, core.travel, core.service, core.ready, core.due, core.demand,
         core.v_start, core.v_end, core.v_open, core.v_close,
         core.late_from, core.late_rate, core.lunch_open, core.lunch_close, core.lunch_duration, exact)
    customer_cost = core.cost[:n, :n]
    adj = np.argsort(customer_cost, axis=1, kind="stable").astype(np.int64)
    mean_cost = float(customer_cost.mean()) if n > 1 else 1.0
    sort_keys = core.cost[core.v_start, :n].astype(np.float64).mean(axis=0)
    vclass = _vehicle_classes(core)
    penalty = core.penalty.astype(np.int64)
    everyone_out = int(penalty.sum())

    work_routes = _solution_arrays(n, k)
    work = (*work_routes,
            np.full(n, NO_ROUTE, dtype=np.int64),  # route_of
            np.zeros(n, dtype=np.int64),  # pos_of
            np.zeros(k, dtype=np.int64),  # touched
            np.arange(n, dtype=np.int64),  # absent: everyone to start with
            np.array([n], dtype=np.int64))
    current = (*_solution_arrays(n, k), np.arange(n, dtype=np.int64), np.array([n], dtype=np.int64),
               np.array([everyone_out], dtype=np.int64))
    best = (*_solution_arrays(n, k), np.arange(n, dtype=np.int64), np.array([n], dtype=np.int64),
            np.array([everyone_out], dtype=np.int64))
    if initial is not None:
        _start_from(initial, core, p, penalty, work, current, best)
    numeric = (float(params.avg_removed), float(params.max_string), float(params.blink_rate),
               float(params.split_rate))
    t0 = max(1e-9, params.start_temperature * mean_cost)
    t1 = max(1e-9, params.end_temperature * mean_cost)

    started = time.monotonic()
    chunk, done, rng = 200, 0, np.random.default_rng(seed)
    last_report = started
    while True:
        elapsed = time.monotonic() - started
        if elapsed >= seconds or (stop is not None and stop.is_set()):
            break
        if on_progress is not None and time.monotonic() - last_report >= REPORT_EVERY_S:
            last_report = time.monotonic()
            if on_progress(elapsed / seconds, int(best[9][0])) and stop is not None:
                stop.set()
        f0 = elapsed / seconds
        tick = time.monotonic()
        # Temperature falls over the chunk as it would over its share of time.
        f1 = min(1.0, f0 + chunk / max(1.0, done / max(elapsed, 1e-6)) / seconds) if done else f0
        _search(chunk, t0 * (t1 / t0) ** f0, t0 * (t1 / t0) ** f1, int(rng.integers(2**31)), p, adj,
                core.allowed, core.v_capacity, vclass, penalty, sort_keys, work, current, best, numeric)
        done += chunk
        took = time.monotonic() - tick
        # Aim at chunks of about 20 ms so the clock is read often enough.
        chunk = int(max(50, min(20000, chunk * 0.02 / max(took, 1e-4))))
    b_routes, b_lens = best[0], best[1]
    routes = [[int(u) for u in b_routes[v, : b_lens[v]]] for v in range(k)]
    absent = [int(u) for u in best[7][: best[8][0]]]
    return SisrResult(routes, absent, int(best[9][0]), done)


def _start_from(
    initial: Sequence[Sequence[int]], core: CoreProblem, p: tuple, penalty, work, current, best
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
        if route and _simulate(v, trial, len(route), -1, 0, trial, False, p) < 0:
            return False
    if any(int(core.demand[list(r)].sum()) > core.v_capacity[v] for v, r in enumerate(initial) if r):
        return False
    for v, route in enumerate(initial):
        routes[v, : len(route)] = route
        lens[v] = len(route)
    route_of[:] = NO_ROUTE
    for v in range(k):
        _update_route(v, routes, lens, work[2], work[3], work[4], work[5], work[6], route_of, pos_of, p)
    out = [u for u in range(n) if route_of[u] == NO_ROUTE]
    absent[: len(out)] = out
    n_absent[0] = len(out)
    total = _total(work[5], absent, n_absent, penalty)
    no_index = np.empty(0, dtype=np.int64)
    for target in (current, best):
        _copy_routes(
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


if __name__ == "__main__":
    compile_kernels()


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
