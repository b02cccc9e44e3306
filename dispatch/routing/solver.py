"""Plan a day: the optimizer's entry point.

A day up to ``SearchSettings.decompose_above_visits`` visits is one routing
model (:func:`dispatch.routing.search.solve_whole`); a larger one spanning
several districts is split by district and re-solved in neighbouring pairs
(:mod:`dispatch.routing.decomposition`). It takes a plain
:class:`~dispatch.routing.problem.Problem` and returns a plain plan, so the
benchmark, the background job and the tests call the same function.
"""

from __future__ import annotations

import time

from dispatch.routing.constraints import work_figures
from dispatch.routing.decomposition import districts_of, solve_by_district
from dispatch.routing.matrix import TravelMatrix
from dispatch.routing.problem import Plan, Problem
from dispatch.routing.search import empty_plan, solve_whole
from dispatch.routing.settings import CancelHook, ProgressCallback, SearchSettings


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
        return empty_plan(problem, started, "cancelled")
    plan = None
    if len(problem.visits) > settings.decompose_above_visits:
        if len(districts_of(problem)) > 1:
            plan = solve_by_district(problem, time_limit_s, progress, should_cancel, matrix, settings)
    if plan is None:
        plan = solve_whole(problem, time_limit_s, progress, should_cancel, matrix, settings, started)
    plan.stats.update(work_figures(problem, plan))
    return plan
