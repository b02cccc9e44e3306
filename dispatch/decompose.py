"""Large days split by district, solved in parallel, then polished whole.

OR-Tools' local search slows down sharply past a few hundred orders, so a
city day is first solved district by district (each a small routing model,
two at a time on the two cores), then the merged plan is the starting point
of one whole-city search that places the leftovers anywhere in the city and
improves across district borders for the time that remains.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import replace

from dispatch.matrix import TravelMatrix
from dispatch.problem import Plan, Problem
from dispatch.solver import (
    CancelHook,
    ProgressCallback,
    SearchSettings,
    plan_sequences,
    solve_whole,
)

# Share of the time budget spent on the district models; the rest polishes.
DISTRICT_SHARE = 0.55


def districts_of(problem: Problem) -> dict[str, Problem]:
    """Split the day into one problem per technicians' district.

    An order goes with its pinned technician, else to its own district when
    that district has technicians; orders with no such district are left to
    the whole-city pass.
    """
    tech_district = {t.id: t.district for t in problem.technicians}
    parts: dict[str, Problem] = {}
    for tech in problem.technicians:
        if tech.district is not None:
            parts.setdefault(tech.district, Problem([], [], problem.area_type)).technicians.append(tech)
    for visit in problem.visits:
        district = visit.district
        if visit.pinned_technician is not None:
            district = tech_district.get(visit.pinned_technician)
        if district in parts:
            parts[district].visits.append(visit)
    return parts


def _solve_part(problem: Problem, time_limit_s: float, matrix, settings) -> Plan:
    return solve_whole(problem, time_limit_s, matrix=matrix, settings=settings)


def solve_by_district(
    problem: Problem,
    time_limit_s: float,
    progress: ProgressCallback | None = None,
    should_cancel: CancelHook | None = None,
    matrix: TravelMatrix | None = None,
    settings: SearchSettings | None = None,
) -> Plan:
    """Solve district by district in parallel, then polish the whole day."""
    started = time.monotonic()
    settings = settings or SearchSettings()
    part_settings = replace(settings, decompose_above_visits=10**9)
    parts = districts_of(problem)
    workers = max(1, settings.workers)
    district_budget_s = time_limit_s * DISTRICT_SHARE * workers
    total_visits = max(1, sum(len(p.visits) for p in parts.values()))
    routes: dict[int | str, list[int | str]] = {}
    cancelled = False
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {
            pool.submit(
                _solve_part,
                part,
                max(0.5, district_budget_s * len(part.visits) / total_visits - 0.3),
                matrix,
                part_settings,
            ): name
            for name, part in sorted(parts.items(), key=lambda kv: -len(kv[1].visits))
        }
        pending = set(futures)
        done_visits = 0
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            for future in finished:
                part_plan = future.result()
                routes.update(plan_sequences(part_plan))
                done_visits += len(parts[futures[future]].visits)
                if progress is not None:
                    percent = min(99, int(100 * (time.monotonic() - started) / time_limit_s))
                    progress(
                        {
                            "phase": "first_solution",
                            "percent": percent,
                            "best_cost": None,
                            "districts_done": len(futures) - len(pending),
                        }
                    )
            if should_cancel is not None and should_cancel():
                cancelled = True
                for future in pending:
                    future.cancel()
                break
    remaining = time_limit_s - (time.monotonic() - started)
    whole_settings = replace(part_settings, first_solution="ALL_UNPERFORMED")
    plan = solve_whole(
        problem,
        max(0.5, remaining) if not cancelled else 0.05,
        progress=progress,
        should_cancel=should_cancel,
        matrix=matrix,
        settings=whole_settings,
        started=started,
        initial_routes=routes,
    )
    plan.stats.update(districts=len(parts), mode="by_district")
    if cancelled:
        plan.status = "cancelled"
    return plan
