"""The compiled kernels of the construction (:mod:`dispatch.routing.construction`).

Slack-induced string removals (Christiaens and Vanden Berghe's SISR) on the
routing core, compiled with numba (``nogil``, so one search thread per worker
runs in parallel). A route is simulated in node numbers over the arrays of a
``CoreProblem`` passed as the tuple ``p``; see ``construction._search_thread``
for the layout of the working arrays.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

NO_ROUTE = -1

# Arrays passed together as one tuple: the problem ``p``, a plan's routes and
# state. numba types each call from its arguments; these hints are for mypy.
Arrays = tuple[np.ndarray, ...]


@njit(cache=True, nogil=True)
def simulate_route(
    k: int, routes: np.ndarray, size: int, c: int, q: int, fwd: np.ndarray, write: bool, p: Arrays
) -> int:
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
def update_route(
    k: int,
    routes: np.ndarray,
    lens: np.ndarray,
    fwd: np.ndarray,
    bwd: np.ndarray,
    load: np.ndarray,
    rcost: np.ndarray,
    rlate: np.ndarray,
    route_of: np.ndarray,
    pos_of: np.ndarray,
    p: Arrays,
) -> None:
    """Start times, latest start times (without lunch: an upper bound), load
    and cost of route ``k`` after a change."""
    cost, travel, service, due, demand = p[0], p[1], p[2], p[4], p[5]
    v_start, v_end, v_close, exact, visit_cost = p[6], p[7], p[9], p[15], p[16]
    n_stops = lens[k]
    prev = v_start[k]
    total = 0
    # One load per dimension: the generic demand, then each stock item.
    for d in range(load.shape[1]):
        load[k, d] = 0
    for j in range(n_stops):
        u = routes[k, j]
        total += cost[prev, u] + visit_cost[u, k]
        for d in range(load.shape[1]):
            load[k, d] += demand[u, d]
        route_of[u] = k
        pos_of[u] = j
        prev = u
    if n_stops > 0:
        total += cost[prev, v_end[k]]
    late = 0
    if exact[k]:
        late = simulate_route(k, routes, n_stops, -1, 0, fwd, True, p)
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
def ruin(
    state: Arrays,
    p: Arrays,
    adj: np.ndarray,
    avg_removed: float,
    max_string: float,
    split_rate: float,
    removed: np.ndarray,
) -> int:
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
        update_route(k, routes, lens, fwd, bwd, load, rcost, rlate, route_of, pos_of, p)
    return n_removed


@njit(cache=True, nogil=True)
def fits(load: np.ndarray, demand: np.ndarray, capacity: np.ndarray, k: int, c: int) -> bool:
    """Does customer ``c`` fit in vehicle ``k``'s load on every dimension
    (the generic demand and each stock item)?"""
    for d in range(load.shape[1]):
        if load[k, d] + demand[c, d] > capacity[k, d]:
            return False
    return True


@njit(cache=True, nogil=True)
def recreate(
    state: Arrays,
    p: Arrays,
    pending: np.ndarray,
    n_pending: int,
    allowed: np.ndarray,
    capacity: np.ndarray,
    vclass: np.ndarray,
    class_seen: np.ndarray,
    blink_rate: float,
    sort_keys: np.ndarray,
) -> None:
    """Put the ``pending`` customers back by cheapest insertion with blinks.

    Long because it is one compiled loop (insertion order, the scan over
    routes and positions, the move), kept whole as benchmarked: splitting it
    would put calls into the innermost loop of the construction.
    """
    routes, lens, fwd, bwd, load, rcost, rlate, route_of, pos_of, touched, absent, n_absent = state
    cost, travel, service, ready, due, demand, v_start, v_end, v_open, v_close = p[:10]
    exact, visit_cost = p[15], p[16]
    n_vehicles = lens.shape[0]
    # Insertion order: random, largest demand, farthest, closest (4:4:2:1).
    pick = np.random.random() * 11.0
    keys = np.empty(n_pending, dtype=np.float64)
    for i in range(n_pending):
        c = pending[i]
        if pick < 4.0:
            keys[i] = np.random.random()
        elif pick < 8.0:
            keys[i] = -demand[c].sum() + np.random.random() * 1e-3
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
            if allowed[c, k] == 0 or not fits(load, demand, capacity, k, c):
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
                delta = cost[a, c] + cost[c, b] + visit_cost[c, k]
                if size > 0:
                    delta -= cost[a, b]
                if exact[k]:
                    # Lateness only grows with an insertion: the travel
                    # delta bounds the whole delta from below.
                    if delta >= best:
                        continue
                    late = simulate_route(k, routes, size, c, q, fwd, False, p)
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
        update_route(best_k, routes, lens, fwd, bwd, load, rcost, rlate, route_of, pos_of, p)


@njit(cache=True, nogil=True)
def total_cost(rcost: np.ndarray, absent: np.ndarray, n_absent: np.ndarray, penalty: np.ndarray) -> int:
    total = 0
    for k in range(rcost.shape[0]):
        total += rcost[k]
    for i in range(n_absent[0]):
        total += penalty[absent[i]]
    return total


@njit(cache=True, nogil=True)
def copy_routes(
    src: Arrays,
    dst: Arrays,
    touched: np.ndarray,
    absent_src: np.ndarray,
    absent_dst: np.ndarray,
    n_src: np.ndarray,
    n_dst: np.ndarray,
    route_of: np.ndarray,
    pos_of: np.ndarray,
    full: bool,
) -> None:
    s_routes, s_lens, s_fwd, s_bwd, s_load, s_rcost, s_rlate = src
    d_routes, d_lens, d_fwd, d_bwd, d_load, d_rcost, d_rlate = dst
    for k in range(s_lens.shape[0]):
        if not full and touched[k] == 0:
            continue
        size = s_lens[k]
        d_lens[k] = size
        d_load[k, :] = s_load[k, :]
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
def search(
    iterations: int,
    t_start: float,
    t_end: float,
    seed: int,
    p: Arrays,
    adj: np.ndarray,
    allowed: np.ndarray,
    capacity: np.ndarray,
    vclass: np.ndarray,
    penalty: np.ndarray,
    sort_keys: np.ndarray,
    work: Arrays,
    current: Arrays,
    best: Arrays,
    params: tuple[float, float, float, float],
) -> None:
    """``iterations`` steps of ruin, recreate and simulated-annealing acceptance
    from ``t_start`` to ``t_end``, keeping the current and the best plan.

    Long because it is the compiled main loop; most of its lines are the
    arguments of the three copies between the working, current and best plans.
    """
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
        n_removed = ruin(work, p, adj, avg_removed, max_string, split_rate, removed)
        n_pending = 0
        for i in range(n_removed):
            pending[n_pending] = removed[i]
            n_pending += 1
        for i in range(n_absent[0]):
            pending[n_pending] = absent[i]
            n_pending += 1
        recreate(work, p, pending, n_pending, allowed, capacity, vclass, class_seen, blink_rate, sort_keys)
        cost = total_cost(rcost, absent, n_absent, penalty)
        if cost < c_cost[0] - temperature * math.log(np.random.random()):
            copy_routes(
                (routes, lens, fwd, bwd, load, rcost, rlate),
                (c_routes, c_lens, c_fwd, c_bwd, c_load, c_rcost, c_rlate),
                touched,
                absent,
                c_absent,
                n_absent,
                c_n_absent,
                no_index,
                no_index,
                False,
            )
            c_cost[0] = cost
            if cost < b_cost[0]:
                copy_routes(
                    (routes, lens, fwd, bwd, load, rcost, rlate),
                    (b_routes, b_lens, b_fwd, b_bwd, b_load, b_rcost, b_rlate),
                    touched,
                    absent,
                    b_absent,
                    n_absent,
                    b_n_absent,
                    no_index,
                    no_index,
                    True,
                )
                b_cost[0] = cost
        else:
            for i in range(n_pending):
                route_of[pending[i]] = NO_ROUTE
            copy_routes(
                (c_routes, c_lens, c_fwd, c_bwd, c_load, c_rcost, c_rlate),
                (routes, lens, fwd, bwd, load, rcost, rlate),
                touched,
                c_absent,
                absent,
                c_n_absent,
                n_absent,
                route_of,
                pos_of,
                False,
            )
