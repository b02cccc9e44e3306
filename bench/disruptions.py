"""The four disruptions fired at 10:00 on a planned city day, each re-planned
and timed: ``python -m bench city --disruptions [--replan-seconds 5] [--full-seconds 30]``.

The day is planned first (``bench.routing.run_city``). At 10:00 stops that
ended are done, the one under way is on site, the rest held to their
technician. Each disruption is re-planned two ways (:mod:`dispatch.routing.repair`):
local repair (the touched visits inserted into the others' held routes) and a
short re-solve of the nearest technicians' routes (``--replan-seconds``,
warm-started); and, for comparison, a full re-solve of the whole day from now
(``--full-seconds``). Reported per
disruption and strategy: seconds, the day's SLA breaches after it, visits left
unplaced, routes changed, P1s dropped (a P1 that was routed and is no longer).

Measured on a 2-core machine shared with other jobs (``--orders 1000
--technicians 100 --seconds 120 --replan-seconds 5 --full-seconds 30``; 855
visits left at 10:00, 4 breaches held): local repair 0.5-4.2 s, 4 breaches,
1-2 routes changed; the nearest-12 re-solve 2.9-4.9 s, 2 breaches after a
technician or an overrun (4 after the emergency), 6-11 routes changed; the
full 30 s re-plan (by district, cold) left 680+ visits unplaced, 62-65 P1s
among them. No P1 dropped by repair or the short re-solve. Repair is the
service's default (the least to review); the re-solve is offered as
``strategy=resolve`` and falls back to repair if it would drop a P1.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import replace

from dispatch.routing.held import time_held
from dispatch.routing.matrix import HaversineMatrix
from dispatch.routing.problem import Plan, PlannedStop, Problem, TechnicianRoute, VisitSpec
from dispatch.routing.repair import RESOLVE_NEIGHBOURS, repair, resolve, sequences

NOW_S = 10 * 3600
OVERRUN_S = 90 * 60


def day_under_way(problem: Problem, plan: Plan, now_s: int = NOW_S) -> tuple[Problem, Plan]:
    """The planned day at ``now_s``: done stops gone, the one under way on site
    (pinned first), the rest held to their technician; everyone leaves from
    where they are, no earlier than now."""
    visits = {v.id: v for v in problem.visits}
    techs = {t.id: t for t in problem.technicians}
    kept: list[VisitSpec] = []
    routes: list[TechnicianRoute] = []
    for route in plan.routes:
        tech = techs[route.technician_id]
        where = (tech.start_lat, tech.start_lon)
        held: list[PlannedStop] = []
        for stop in route.stops:
            visit = visits[stop.visit_id]
            if stop.end_s <= now_s:
                where = (visit.lat, visit.lon)
                continue
            if stop.start_s <= now_s:
                visit = replace(visit, pinned_technician=tech.id, pinned_first=True, started_s=stop.start_s)
                where = (visit.lat, visit.lon)
            else:
                visit = replace(visit, pinned_technician=tech.id)
            kept.append(visit)
            held.append(stop)
        techs[tech.id] = replace(tech, available_from_s=now_s, start_lat=where[0], start_lon=where[1])
        routes.append(replace(route, stops=held))
    under_way = Problem(list(techs.values()), kept, problem.area_type)
    return under_way, Plan(routes, [], 0, 0.0, 0, 0.0, "optimized")


def _whole_day(problem: Problem, plan: Plan, changed: dict) -> dict[str, int]:
    """SLA breaches and stops over the whole day: changed routes as given, the others timed as held."""
    visits = {v.id: v for v in problem.visits}
    techs = {t.id: t for t in problem.technicians}
    matrix = HaversineMatrix(area_type=problem.area_type)
    late: set = set()
    stops = 0
    for tech_id, ids in sequences(plan).items():
        if tech_id not in techs:
            continue
        route = changed.get(tech_id) or time_held(techs[tech_id], [visits[i] for i in ids], matrix).route
        late |= {s.visit_id for s in route.stops if s.late_s > 0}
        stops += len(route.stops)
    return {"breaches": len(late), "stops": stops}


def _scenarios(problem: Problem, plan: Plan) -> dict[str, tuple[Problem, list[VisitSpec]]]:
    """Each disruption as the problem to re-plan and the visits it touches."""
    visits = {v.id: v for v in problem.visits}
    busiest = max(plan.routes, key=lambda r: len(r.stops))
    on_site = [r for r in plan.routes if r.stops and visits[r.stops[0].visit_id].started_s is not None]
    chosen = max(on_site or plan.routes, key=lambda r: len(r.stops))
    first = visits[chosen.stops[0].visit_id]
    others = [t for t in problem.technicians if t.id != busiest.technician_id]
    scenarios = {
        "technician_unavailable": (
            replace(problem, technicians=others),
            [visits[s.visit_id] for s in busiest.stops if not visits[s.visit_id].pinned_first],
        )
    }
    longer = replace(first, duration_s=first.duration_s + OVERRUN_S)
    overrun = replace(problem, visits=[longer if v.id == first.id else v for v in problem.visits])
    techs = {t.id: t for t in problem.technicians}
    held = time_held(techs[chosen.technician_id], [visits[s.visit_id] for s in chosen.stops][1:])
    timed = time_held(techs[chosen.technician_id], [longer, *(visits[s.visit_id] for s in chosen.stops[1:])])
    was_late = {s.visit_id for s in held.route.stops if s.late_s}
    breaching = [visits[s.visit_id] for s in timed.route.stops if s.late_s and s.visit_id not in was_late]
    breaching += [visits[u.visit_id] for u in timed.lost]
    scenarios["overrun"] = (
        replace(overrun, technicians=[t for t in problem.technicians if t.id != chosen.technician_id]),
        breaching,
    )
    anchor = visits[busiest.stops[len(busiest.stops) // 2].visit_id]
    fault = VisitSpec(
        "EMERGENCY-1",
        anchor.lat + 0.004,
        anchor.lon - 0.003,
        60 * 60,
        NOW_S,
        17 * 3600,
        skills=frozenset({"lan"}),
        priority="P1",
        deadline_s=NOW_S + 4 * 3600,
    )
    scenarios["emergency"] = (problem, [fault])
    return scenarios


def _no_show(problem: Problem, plan: Plan) -> tuple[dict, list]:
    """The customer of the first visit on site is not home: it leaves the
    route, the technician's day is re-timed from that site."""
    visits = {v.id: v for v in problem.visits}
    route = next(r for r in plan.routes if r.stops and visits[r.stops[0].visit_id].started_s is not None)
    absent = visits[route.stops[0].visit_id]
    tech = next(t for t in problem.technicians if t.id == route.technician_id)
    here = replace(tech, start_lat=absent.lat, start_lon=absent.lon)
    held = time_held(
        here, [visits[s.visit_id] for s in route.stops[1:]], HaversineMatrix(area_type=problem.area_type)
    )
    return {tech.id: held.route}, held.lost


def _report(name: str, strategy: str, problem: Problem, plan: Plan, run: Callable[[], tuple]) -> None:
    started = time.monotonic()
    changed, unplaced = run()
    seconds = time.monotonic() - started
    routed_p1 = {s.visit_id for r in plan.routes for s in r.stops} | {"EMERGENCY-1"}
    p1 = {v.id for v in problem.visits if v.priority == "P1"} | {"EMERGENCY-1"}
    dropped_p1 = [u.visit_id for u in unplaced if u.visit_id in p1 & routed_p1]
    whole = _whole_day(problem, plan, changed)
    print(
        f"  {name:24s} {strategy:14s} {seconds:6.2f} s  breaches {whole['breaches']:4d}  "
        f"unplaced {len(unplaced):3d}  routes changed {len(changed):3d}  P1 dropped {len(dropped_p1)}",
        flush=True,
    )


def run_disruptions(problem: Problem, plan: Plan, args: argparse.Namespace) -> None:
    """Fire the four disruptions at 10:00 on the planned day and time each re-plan."""
    day, held = day_under_way(problem, plan)
    print(
        f"disruptions at 10:00: {len(day.visits)} visits left in routes, "
        f"{sum(1 for v in day.visits if v.pinned_first)} on site; re-plan limit {args.replan_seconds:g} s, "
        f"full re-plan {args.full_seconds:g} s"
    )
    before = _whole_day(day, held, {})
    print(f"  {'(no disruption)':24s} {'held':14s} {0:6.2f} s  breaches {before['breaches']:4d}")
    _report("no_show", "re-time", day, held, lambda: _no_show(day, held))
    for name, (scenario, touched) in _scenarios(day, held).items():
        ids = {t.id for t in scenario.technicians}

        def local(scenario=scenario, touched=touched):
            result = repair(scenario, held, touched, args.replan_seconds)
            routes = {r.technician_id: r for r in result.plan.routes if r.technician_id in result.changed}
            return routes, result.unplaced

        def solved(limit: float, neighbourhood: int | None, scenario=scenario, touched=touched):
            def run():
                result = resolve(scenario, held, touched, limit, neighbourhood=neighbourhood)
                print(f"    (re-solve status {result.status}, {result.stats.get('solutions')} solutions)")
                before_seq = sequences(held)
                routes = {
                    r.technician_id: r
                    for r in result.routes
                    if [s.visit_id for s in r.stops] != before_seq.get(r.technician_id)
                }
                return routes, result.unassigned

            return run

        only = replace(held, routes=[r for r in held.routes if r.technician_id in ids])
        _report(name, "repair", scenario, only, local)
        _report(
            name,
            f"resolve {args.replan_seconds:g}s",
            scenario,
            only,
            solved(args.replan_seconds, RESOLVE_NEIGHBOURS),
        )
        _report(name, f"full {args.full_seconds:g}s", scenario, only, solved(args.full_seconds, None))
