"""Large days split by district, solved in parallel, then re-solved in pairs.

OR-Tools' local search slows down sharply past a few hundred orders, and
restoring a whole city's plan into one model (lunch breaks on every route)
can by itself take longer than the budget. So a city day is solved in two
rounds of small models, two at a time on the two cores:

1. each district alone (its technicians, its orders);
2. neighbouring districts in pairs, started from the first round's routes:
   orders a full district had to leave out can go to the neighbour, and
   routes improve across the border.

A pair's plan replaces its two district plans only when it scores better
(travel, late and drop costs on the same scale), so the second round can only
help. Every round has an absolute deadline, so the whole stays in budget.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import math
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import Any

from dispatch.routing import constraints, construction
from dispatch.routing.insertion import insert_urgent, may_do
from dispatch.routing.matrix import TravelMatrix
from dispatch.routing.model import drop_penalty, plan_score
from dispatch.routing.problem import (
    Plan,
    Problem,
    TechnicianSpec,
    Unassigned,
    VisitSpec,
    late_visits,
    nobody_reason,
)
from dispatch.routing.search import plan_sequences, solve_whole
from dispatch.routing.settings import CancelHook, ProgressCallback, SearchSettings

logger = logging.getLogger(__name__)

# Shares of the time budget for the district round and the pair round; the
# rest is margin for process start-up, merging and reading plans back.
DISTRICT_SHARE = 0.55
PAIR_SHARE = 0.35
# A round is skipped when less than this is left for each of its models.
MIN_MODEL_S = 0.5
# The leftover pass stops this long before the deadline, and does not start
# an insertion with less than LEFTOVER_MIN_S left.
LEFTOVER_MARGIN_S = 0.5
LEFTOVER_MIN_S = 0.6
# Technicians without a district are grouped around their start, this many
# to a synthetic district.
TECHNICIANS_PER_CLUSTER = 10

# Start routes for a model: technician id -> visit ids in sequence.
Routes = dict[int | str, list[int | str]]


PR_SET_PDEATHSIG = 1  # prctl(2)


def die_with_parent(parent_pid: int) -> None:
    """Pool worker initializer: the kernel kills this process when the one that
    forked it dies (a web worker killed by its timeout, an RQ work horse
    SIGKILLed), so no solver outlives its plan holding ports or connections."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the line above
        os._exit(1)


def districts_of(problem: Problem) -> dict[str, Problem]:
    """Split the day into one problem per technicians' district.

    An order goes with its pinned technician; else to its own district when a
    technician there may do it (its skills, their areas if a hard limit; a crew's
    number of them); else to the nearest district that has one (an enterprise
    fault in a district without enterprise technicians);
    else to its own or nearest district, where it is reported as unassigned
    with its reason. Technicians without a district are clustered around
    their start points into synthetic districts.
    """
    district_of_tech = _technician_districts(problem.technicians)
    parts: dict[str, Problem] = {}
    for tech in problem.technicians:
        parts.setdefault(district_of_tech[tech.id], Problem([], [], problem.area_type)).technicians.append(
            tech
        )
    if not parts:
        return {}
    centres = {
        name: _centre([(t.start_lat, t.start_lon) for t in part.technicians]) for name, part in parts.items()
    }
    staff = {name: part.technicians for name, part in parts.items()}
    for visit in problem.visits:
        parts[_district_for(visit, district_of_tech, centres, staff)].visits.append(visit)
    constraints.with_predecessors(parts)
    return parts


def _technician_districts(technicians: list[TechnicianSpec]) -> dict[int | str, str]:
    named = {t.id: t.district for t in technicians if t.district is not None}
    loose = [t for t in technicians if t.district is None]
    if loose:
        clusters = _cluster([(t.start_lat, t.start_lon) for t in loose], TECHNICIANS_PER_CLUSTER)
        for tech, k in zip(loose, clusters, strict=True):
            named[tech.id] = f"~{k}"
    return named


def _cluster(points: list[tuple[float, float]], per_cluster: int) -> list[int]:
    """Plain k-means (a few rounds) on start points: cluster index per point."""
    count = max(1, round(len(points) / per_cluster))
    centres = [points[round(k * (len(points) - 1) / max(1, count - 1))] for k in range(count)]
    labels = [0] * len(points)
    for _ in range(10):
        labels = [_nearest(p, centres) for p in points]
        for k in range(count):
            members = [p for p, label in zip(points, labels, strict=True) if label == k]
            if members:
                centres[k] = _centre(members)
    return labels


def _nearest(point: tuple[float, float], centres: list[tuple[float, float]]) -> int:
    """Index of the centre nearest ``point`` (the first of equals)."""
    return min(range(len(centres)), key=lambda k: _sq(point, centres[k]))


def _district_for(
    visit: VisitSpec,
    district_of_tech: dict[int | str, str],
    centres: dict[str, tuple[float, float]],
    staff: dict[str, list[TechnicianSpec]],
) -> str:
    if visit.pinned_technician is not None and visit.pinned_technician in district_of_tech:
        return district_of_tech[visit.pinned_technician]
    here = (visit.lat, visit.lon)
    by_distance = sorted(centres, key=lambda name: _sq(here, centres[name]))
    if visit.district in centres:
        by_distance.remove(visit.district)
        by_distance.insert(0, visit.district)
    for name in by_distance:  # enough technicians with the skills whose areas allow it
        if sum(1 for t in staff[name] if may_do(t, visit)) >= visit.crew_size:
            return name
    return by_distance[0]


def _centre(points: list[tuple[float, float]]) -> tuple[float, float]:
    return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))


def _sq(a: tuple[float, float], b: tuple[float, float]) -> float:
    # Equirectangular is plenty to rank districts inside one city.
    dlat, dlon = a[0] - b[0], (a[1] - b[1]) * math.cos(math.radians(a[0]))
    return dlat * dlat + dlon * dlon


def _solve_part(
    problem: Problem,
    share_s: float,
    deadline: float,
    matrix: TravelMatrix | None,
    settings: SearchSettings,
    initial_routes: Routes | None,
) -> Plan:
    # time.monotonic() is system-wide, so the parent's deadline holds here.
    limit = min(share_s, deadline - time.monotonic())
    return solve_whole(
        problem, max(0.05, limit), matrix=matrix, settings=settings, initial_routes=initial_routes
    )


def _run_round(
    pool: ProcessPoolExecutor,
    jobs: dict[str, tuple[Problem, Routes | None]],
    budget_s: float,
    workers: int,
    matrix: TravelMatrix | None,
    settings: SearchSettings,
    on_done: Callable[[str, Plan], None],
    should_cancel: CancelHook | None,
) -> bool:
    """Solve ``jobs`` (name -> problem, start routes) on the pool, largest
    first, all done by ``budget_s`` from now. Returns True when cancelled.

    With ``k`` jobs on ``workers`` processes each worker runs about
    ``k / workers`` of them one after another, so a job of average size gets
    that fraction of the budget; larger jobs get more, and the absolute
    deadline cuts whatever the last job in a queue would overrun."""
    deadline = time.monotonic() + budget_s
    mean_size = max(1.0, sum(len(p.visits) for p, _ in jobs.values()) / max(1, len(jobs)))
    slot_s = budget_s / math.ceil(len(jobs) / workers)
    futures = {
        pool.submit(
            _solve_part,
            problem,
            slot_s * max(0.5, min(2.0, len(problem.visits) / mean_size)),
            deadline,
            matrix,
            settings,
            routes,
        ): name
        for name, (problem, routes) in sorted(jobs.items(), key=lambda kv: -len(kv[1][0].visits))
    }
    pending = set(futures)
    while pending:
        finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
        for future in finished:
            try:
                plan = future.result()
            except Exception:  # noqa: BLE001 - a crashed model loses its part, not the day
                logger.exception("district model %s failed", futures[future])
                continue
            on_done(futures[future], plan)
        if should_cancel is not None and should_cancel():
            for future in pending:
                future.cancel()
            return True
    return False


def solve_by_district(
    problem: Problem,
    time_limit_s: float,
    progress: ProgressCallback | None = None,
    should_cancel: CancelHook | None = None,
    matrix: TravelMatrix | None = None,
    settings: SearchSettings | None = None,
) -> Plan:
    """Solve district by district in parallel, then neighbouring pairs."""
    started = time.monotonic()
    settings = settings or SearchSettings()
    # Each district runs in its own process: one construction thread each.
    part_settings = replace(settings, decompose_above_visits=10**9, workers=1)
    parts = districts_of(problem)
    workers = max(1, settings.workers)
    if settings.constructs:
        construction.compile_kernels()  # once here, not in every forked process
    plans: dict[str, Plan] = {}
    context = multiprocessing.get_context("fork")

    def report(phase: str, **extra: Any) -> None:
        if progress is not None:
            percent = min(99, int(100 * (time.monotonic() - started) / max(time_limit_s, 1e-3)))
            progress({"phase": phase, "percent": percent, "best_cost": None, **extra})

    def district_done(name: str, plan: Plan) -> None:
        plans[name] = plan
        report("first_solution", districts_done=len(plans))

    pairs_improved = 0
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=die_with_parent, initargs=(os.getpid(),)
    )
    with pool:
        jobs: dict[str, tuple[Problem, Routes | None]] = {name: (part, None) for name, part in parts.items()}
        cancelled = _run_round(
            pool,
            jobs,
            time_limit_s * DISTRICT_SHARE,
            workers,
            matrix,
            part_settings,
            district_done,
            should_cancel,
        )
        pairs = _neighbour_pairs(parts, plans)
        remaining = time_limit_s - (time.monotonic() - started)
        round_s = min(time_limit_s * PAIR_SHARE, remaining - time_limit_s * (1 - DISTRICT_SHARE - PAIR_SHARE))
        if not cancelled and pairs and round_s / math.ceil(len(pairs) / workers) >= MIN_MODEL_S:
            cancelled, pairs_improved = _pair_round(
                pool,
                problem,
                parts,
                plans,
                pairs,
                round_s,
                workers,
                matrix,
                part_settings,
                report,
                should_cancel,
            )
    plan = _merge(problem, [plans[name] for name in parts if name in plans])
    if not cancelled:
        plan = _place_leftovers(problem, plan, started + time_limit_s - LEFTOVER_MARGIN_S, matrix)
    plan.solve_s = time.monotonic() - started
    plan.stats.update(
        mode="by_district", districts=len(parts), pairs=len(pairs), pairs_improved=pairs_improved
    )
    if cancelled:
        plan.status = "cancelled"
    if progress is not None:
        progress({"phase": "done", "percent": 100, "best_cost": plan.objective})
    return plan


def _pair_round(
    pool: ProcessPoolExecutor,
    problem: Problem,
    parts: dict[str, Problem],
    plans: dict[str, Plan],
    pairs: list[tuple[str, str]],
    round_s: float,
    workers: int,
    matrix: TravelMatrix | None,
    settings: SearchSettings,
    report: Callable[..., None],
    should_cancel: CancelHook | None,
) -> tuple[bool, int]:
    """Re-solve each pair of districts from their two plans; a pair's plan
    replaces both in ``plans`` (under the first name) when it scores better.
    Returns whether the round was cancelled and how many pairs improved."""
    pair_jobs: dict[str, tuple[Problem, Routes | None]] = {}
    pair_of: dict[str, tuple[str, str]] = {}
    for a, b in pairs:
        joined = Problem(
            parts[a].technicians + parts[b].technicians,
            parts[a].visits + parts[b].visits,
            problem.area_type,
        )
        routes = {**plan_sequences(plans[a]), **plan_sequences(plans[b])}
        pair_jobs[f"{a}+{b}"] = (joined, routes)
        pair_of[f"{a}+{b}"] = (a, b)
    pairs_improved = 0

    def pair_done(name: str, plan: Plan) -> None:
        nonlocal pairs_improved
        a, b = pair_of[name]
        joined = pair_jobs[name][0]
        before = plan_score(joined, _merge(joined, [plans[a], plans[b]]))
        if plan.status == "optimized" and plan_score(joined, plan) < before:
            plans[a], plans[b] = plan, _empty_like(plans[b])
            pairs_improved += 1
        report("local_search", pairs_done=pairs_improved)

    cancelled = False
    try:
        cancelled = _run_round(pool, pair_jobs, round_s, workers, matrix, settings, pair_done, should_cancel)
    except BrokenProcessPool:
        logger.exception("pair round skipped: a worker process died")
    return cancelled, pairs_improved


def _place_leftovers(problem: Problem, plan: Plan, deadline: float, matrix: TravelMatrix | None) -> Plan:
    """Slot orders both rounds left out (day full in their own and the
    neighbouring district) into the nearest skilled technicians' routes
    anywhere in the city, most important first, while time is left. The
    routes keep their sequences; an order that fits nowhere stays out."""
    visits = {v.id: v for v in problem.visits}
    # "no skilled technician" in a district's part may only mean none of that district's.
    retry = ("day_full", "window_unreachable", "no_skilled_technician")
    # A crew needs several routes at once: not one route's insertion.
    left = [
        u
        for u in plan.unassigned
        if u.reason in retry and u.visit_id in visits and visits[u.visit_id].crew_size == 1
    ]
    left.sort(key=lambda u: -drop_penalty(visits[u.visit_id]))
    placed = 0
    for leftover in left:
        budget_s = deadline - time.monotonic()
        if budget_s < LEFTOVER_MIN_S:
            break
        visit = visits[leftover.visit_id]
        others = Problem(
            problem.technicians, [v for v in problem.visits if v.id != visit.id], problem.area_type
        )
        base = replace(plan, unassigned=[u for u in plan.unassigned if u.visit_id != visit.id])
        trial = insert_urgent(
            others, base, visit, time_limit_s=min(1.0, budget_s), matrix=matrix, displace=False
        )
        if any(s.visit_id == visit.id for r in trial.routes for s in r.stops):
            plan, placed = replace(trial, stats=dict(plan.stats)), placed + 1
        else:  # the city-wide reason replaces the district's
            why = next((u for u in trial.unassigned if u.visit_id == visit.id), leftover)
            plan = replace(plan, unassigned=[why if u.visit_id == visit.id else u for u in plan.unassigned])
    plan.stats["leftovers_placed"] = placed
    return _city_wide_reasons(problem, plan)


def _city_wide_reasons(problem: Problem, plan: Plan) -> Plan:
    """Orders left out as "no skilled technician" by their district's part (and not
    retried, for lack of time or being a crew), with the city's reason: full days when
    enough technicians in the city may do them, else skills or areas."""
    visits = {v.id: v for v in problem.visits}

    def city_reason(u: Unassigned) -> Unassigned:
        visit = visits.get(u.visit_id)
        if u.reason != "no_skilled_technician" or visit is None:
            return u
        able = sum(1 for t in problem.technicians if may_do(t, visit))
        if able >= visit.crew_size:
            return Unassigned(u.visit_id, "day_full")
        return Unassigned(u.visit_id, nobody_reason(problem.technicians, visit))

    return replace(plan, unassigned=[city_reason(u) for u in plan.unassigned])


def _neighbour_pairs(parts: dict[str, Problem], plans: dict[str, Plan]) -> list[tuple[str, str]]:
    """Disjoint pairs of nearest districts, those with orders left out first."""
    centres = {
        name: _centre([(t.start_lat, t.start_lon) for t in part.technicians]) for name, part in parts.items()
    }
    free = [name for name in parts if name in plans]
    free.sort(key=lambda name: -len(plans[name].unassigned))
    pairs: list[tuple[str, str]] = []
    while len(free) >= 2:
        first = free.pop(0)
        nearest = min(free, key=lambda name: _sq(centres[first], centres[name]))
        free.remove(nearest)
        pairs.append((first, nearest))
    return pairs


def _empty_like(plan: Plan) -> Plan:
    return Plan([], [], 0, 0.0, 0, plan.solve_s, plan.status)


def _merge(problem: Problem, part_plans: list[Plan]) -> Plan:
    """One plan from plans of disjoint parts; orders no part placed or
    reported are unassigned (their district never ran)."""
    routes = [r for p in part_plans for r in p.routes]
    unassigned = [u for p in part_plans for u in p.unassigned]
    known = {s.visit_id for r in routes for s in r.stops} | {u.visit_id for u in unassigned}
    unassigned += [Unassigned(v.id, "day_full") for v in problem.visits if v.id not in known]
    order = {t.id: k for k, t in enumerate(problem.technicians)}
    routes.sort(key=lambda r: order.get(r.technician_id, len(order)))
    return Plan(
        routes=routes,
        unassigned=unassigned,
        objective=sum(p.objective for p in part_plans),
        travel_m=sum(r.travel_m for r in routes),
        breaches=late_visits(routes),
        solve_s=max((p.solve_s for p in part_plans), default=0.0),
        status="optimized" if routes or not problem.visits else "infeasible",
    )
