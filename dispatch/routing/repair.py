"""Re-planning part of a day already under way: a few visits placed again.

Two strategies, compared by ``python -m bench city --disruptions``:

* :func:`repair` (local repair): the visits the disruption touched are
  inserted one at a time, most urgent first, into the held routes of the
  others (:func:`dispatch.routing.insertion.insert_urgent`); nobody else's
  sequence changes. A P1 may displace lower-priority stops when nobody has
  room; a displaced stop is then placed again like the others (without
  displacing in turn), or listed as unplaced with the reason.
* :func:`resolve` (re-solve): the rest of the day from now is solved again
  with the day's solver for the technicians working nearest the touched
  visits (or for everyone), every visit not under way free to move,
  warm-started from the held routes (the touched visits left out of them).

After a repair, with its time left, visits that would still breach move to a
technician who makes it in time (``rescued``), then a route still late is solved
again on its own, its stops re-ordered when that saves a breach.

Work under way (``pinned_first``) stays first with its technician in both.
Nothing here knows about Flask or the database.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

from dispatch.routing.held import time_held
from dispatch.routing.insertion import PRIORITY_RANK, insert_urgent
from dispatch.routing.matrix import HaversineMatrix, TravelMatrix
from dispatch.routing.problem import Plan, Problem, TechnicianRoute, TechnicianSpec, Unassigned, VisitSpec
from dispatch.routing.search import solve_whole
from dispatch.routing.settings import SearchSettings
from dispatch.routing.solver import solve

# Candidates tried per visit (the nearest qualified technicians), then fewer once the time is up.
REPAIR_CANDIDATES = 8
REPAIR_CANDIDATES_LATE = 3
# Technicians whose routes a re-solve works on: the ones nearest the touched visits.
RESOLVE_NEIGHBOURS = 12
# A route still late after the rescue is solved again on its own for up to this long,
# while at least RESEQUENCE_MIN_S of the re-plan's time is left.
RESEQUENCE_S = 0.5
RESEQUENCE_MIN_S = 0.2


@dataclass
class Repair:
    """The day after a repair: every route (held, or changed and re-timed),
    which technicians' routes changed, where each touched visit went, and
    the visits left unplaced with the reason."""

    plan: Plan
    changed: set[int | str] = field(default_factory=set)
    placed: dict[int | str, int | str] = field(default_factory=dict)
    unplaced: list[Unassigned] = field(default_factory=list)
    displaced: list[int | str] = field(default_factory=list)
    # Visits that would breach on their route, moved to someone who makes it in time.
    rescued: dict[int | str, int | str] = field(default_factory=dict)
    # Technicians whose own stops were put in a new order to save a breach.
    resequenced: list[int | str] = field(default_factory=list)
    solve_s: float = 0.0


def urgency(visit: VisitSpec) -> tuple[int, int, int]:
    """Most urgent first: priority, then the earliest deadline, then the earliest window end."""
    deadline = visit.deadline_s if visit.deadline_s is not None else 10**9
    return (PRIORITY_RANK.get(visit.priority, 2), deadline, visit.window_end_s)


def free(visit: VisitSpec) -> VisitSpec:
    """The visit free to go to anyone qualified (not held to a technician or first place)."""
    return replace(visit, pinned_technician=None, pinned_first=False, started_s=None)


def without(plan: Plan, visit_ids: set[int | str]) -> Plan:
    """The plan's routes with these visits taken out (the sequence kept)."""
    routes = [
        replace(route, stops=[s for s in route.stops if s.visit_id not in visit_ids]) for route in plan.routes
    ]
    return replace(plan, routes=routes, unassigned=[])


def _with_free_visits(problem: Problem, visits: Sequence[VisitSpec]) -> Problem:
    freed = {v.id: free(v) for v in visits}
    known = {v.id for v in problem.visits}
    kept = [freed.get(v.id, v) for v in problem.visits]
    return Problem(
        problem.technicians, kept + [v for v in freed.values() if v.id not in known], problem.area_type
    )


def repair(
    problem: Problem,
    plan: Plan,
    visits: Sequence[VisitSpec],
    time_limit_s: float = 3.0,
    matrix: TravelMatrix | None = None,
    urgent: Collection[int | str] = (),
) -> Repair:
    """Place ``visits`` again into the held routes of ``plan`` (see the module's note).

    ``problem`` holds the day's technicians who may take work and its visits;
    ``visits`` are taken out of their routes first. A P1, or a visit named in
    ``urgent``, may displace lower-priority stops.
    """
    started = time.monotonic()
    work = _with_free_visits(problem, visits)
    spec = {v.id: v for v in work.visits}
    current = without(plan, {v.id for v in visits})
    queue = sorted((spec[v.id] for v in visits), key=urgency)
    result = Repair(current)
    no_displacing: set[int | str] = set()
    while queue:
        visit = queue.pop(0)
        elapsed = time.monotonic() - started
        late = elapsed > time_limit_s
        placed = insert_urgent(
            work,
            current,
            visit,
            # each visit's share of the time left: past it, only the nearest are tried
            time_limit_s=max(0.1, (time_limit_s - elapsed) / (len(queue) + 1)),
            matrix=matrix,
            candidates=REPAIR_CANDIDATES_LATE if late else REPAIR_CANDIDATES,
            displace=(visit.priority == "P1" or visit.id in urgent) and visit.id not in no_displacing,
        )
        changed = placed.stats.get("changed_routes", [])
        if not changed:
            result.unplaced.append(placed.unassigned[-1])
            continue
        result.changed.add(changed[0])
        result.placed[visit.id] = changed[0]
        result.placed = {k: t for k, t in result.placed.items() if k not in placed.stats.get("displaced", [])}
        for item in placed.unassigned:
            if item.reason == "displaced":
                # Placed again like the others, displacing nobody in turn.
                result.displaced.append(item.visit_id)
                freed = free(spec[item.visit_id])
                work.visits = [freed if v.id == freed.id else v for v in work.visits]
                spec[freed.id] = freed
                no_displacing.add(freed.id)
                queue.append(freed)
                queue.sort(key=urgency)
            else:
                result.unplaced.append(item)
        current = replace(placed, unassigned=[])
    result.plan = current
    _rescue_late(work, result, started + time_limit_s, matrix)
    _resequence_late(work, result, started + time_limit_s, matrix)
    result.solve_s = time.monotonic() - started
    return result


def _resequence_late(work: Problem, result: Repair, deadline: float, matrix: TravelMatrix | None) -> None:
    """With the time still left: each route that still has a late visit (timed as held
    from now) is solved again on its own (the same technician, the same visits, work
    under way first), and the new order of its stops kept when it has fewer late visits
    and leaves none out. A crew's or a dependent visit's route keeps its order (its
    partner's times hang on it)."""
    techs = {t.id: t for t in work.technicians}
    spec = {v.id: v for v in work.visits}
    held = HaversineMatrix(area_type=work.area_type)
    late: list[tuple[int, TechnicianRoute, list[VisitSpec]]] = []
    for route in result.plan.routes:
        visits = [spec[s.visit_id] for s in route.stops if s.visit_id in spec]
        if (
            route.technician_id not in techs
            or len(visits) != len(route.stops)
            or any(v.crew_size > 1 or v.after for v in visits)
        ):
            continue
        breaches = time_held(techs[route.technician_id], visits, held).breaches
        if breaches:
            late.append((breaches, route, visits))
    for breaches, route, visits in sorted(late, key=lambda item: -item[0]):
        budget = deadline - time.monotonic()
        if budget < RESEQUENCE_MIN_S:
            return
        alone = Problem([techs[route.technician_id]], visits, work.area_type)
        again = solve(alone, time_limit_s=min(RESEQUENCE_S, budget), matrix=matrix)
        better = again.route_of(route.technician_id)
        if again.unassigned or better is None or _breaches(better) >= breaches:
            continue
        result.plan = replace(
            result.plan,
            routes=[better if r.technician_id == route.technician_id else r for r in result.plan.routes],
        )
        result.changed.add(route.technician_id)
        result.resequenced.append(route.technician_id)


def _breaches(route: TechnicianRoute) -> int:
    return sum(1 for s in route.stops if s.late_s > 0)


def _rescue_late(work: Problem, result: Repair, deadline: float, matrix: TravelMatrix | None) -> None:
    """With the time left: each visit that would breach its deadline on its route
    (timed as held from now), most urgent first, moves to another technician who
    makes it in time without making anyone late; the rest stay. A full re-plan
    would reshuffle the whole day to save them; this keeps every other sequence."""
    techs = {t.id: t for t in work.technicians}
    spec = {v.id: v for v in work.visits}
    held = HaversineMatrix(area_type=work.area_type)
    timed = {
        r.technician_id: time_held(techs[r.technician_id], [spec[s.visit_id] for s in r.stops], held).route
        for r in result.plan.routes
        if r.technician_id in techs and all(s.visit_id in spec for s in r.stops)
    }
    late = [
        s.visit_id
        for r in timed.values()
        for s in r.stops
        if s.late_s > 0 and not spec[s.visit_id].pinned_first
    ]
    for visit_id in sorted(late, key=lambda v: urgency(spec[v])):
        if time.monotonic() > deadline:
            return
        source = next(t for t, r in timed.items() if any(s.visit_id == visit_id for s in r.stops))
        rest = [spec[s.visit_id] for s in timed[source].stops if s.visit_id != visit_id]
        shorter = time_held(techs[source], rest, held)
        if shorter.lost:
            continue
        base = replace(
            result.plan,
            routes=[shorter.route if r.technician_id == source else r for r in result.plan.routes],
        )
        placed = insert_urgent(
            work,
            base,
            free(spec[visit_id]),
            time_limit_s=max(0.1, deadline - time.monotonic()),
            matrix=matrix,
            candidates=REPAIR_CANDIDATES_LATE,
            displace=False,
        )
        target = (placed.stats.get("changed_routes") or [None])[0]
        if target is None or target == source or target not in timed:
            continue
        route = placed.route_of(target)
        if route is None or _breaches(route) > _breaches(timed[target]):
            continue
        if any(s.visit_id == visit_id and s.late_s > 0 for s in route.stops):
            continue
        result.plan = replace(placed, unassigned=[])
        timed[source], timed[target] = shorter.route, route
        result.changed |= {source, target}
        result.rescued[visit_id] = target


def nearest_technicians(
    problem: Problem, plan: Plan, visits: Sequence[VisitSpec], count: int
) -> list[TechnicianSpec]:
    """The ``count`` technicians working nearest the visits (where they are or any stop of theirs)."""
    where = {v.id: (v.lat, v.lon) for v in problem.visits}

    def closeness(tech: TechnicianSpec) -> float:
        route = plan.route_of(tech.id)
        points = [(tech.start_lat, tech.start_lon)]
        if route is not None:
            points += [where[s.visit_id] for s in route.stops if s.visit_id in where]
        return min((lat - v.lat) ** 2 + (lon - v.lon) ** 2 for lat, lon in points for v in visits)

    return sorted(problem.technicians, key=closeness)[:count]


def resolve(
    problem: Problem,
    plan: Plan,
    visits: Sequence[VisitSpec],
    time_limit_s: float = 5.0,
    matrix: TravelMatrix | None = None,
    settings: SearchSettings | None = None,
    neighbourhood: int | None = RESOLVE_NEIGHBOURS,
) -> Plan:
    """Solve the rest of the day again from now: work under way held, every
    other visit free, warm-started from ``plan``'s held routes (``visits``
    taken out of them).

    With ``neighbourhood``, only the routes of that many technicians working
    nearest the touched visits are solved again (the returned plan holds
    theirs; the others stay as held). Without it the whole day is; a day too
    big for one model is then solved by district, without the warm start.
    """
    settings = settings or SearchSettings()
    touched = {v.id for v in visits}
    techs = problem.technicians
    if neighbourhood is not None and visits and len(techs) > neighbourhood:
        techs = nearest_technicians(problem, plan, visits, neighbourhood)
    chosen = {t.id for t in techs}
    theirs = {s.visit_id for r in plan.routes if r.technician_id in chosen for s in r.stops}
    if len(techs) == len(problem.technicians):
        theirs = {v.id for v in problem.visits}
    kept = [v for v in problem.visits if v.id in theirs and v.id not in touched]
    freed = [v if v.pinned_first else free(v) for v in kept]
    work = Problem(techs, freed + [free(v) for v in visits], problem.area_type)
    if len(work.visits) > settings.decompose_above_visits:
        return solve(work, time_limit_s=time_limit_s, matrix=matrix, settings=settings)
    # From the held routes straight into the local search: a construction from
    # scratch would spend the short limit rebuilding what is already planned.
    settings = replace(settings, construction=replace(settings.construction, method="held"))
    first = {v.id for v in problem.visits if v.pinned_first}
    initial = {
        route.technician_id: [s.visit_id for s in route.stops if s.visit_id not in touched | first]
        for route in plan.routes
        if route.technician_id in chosen
    }
    return solve_whole(work, time_limit_s, matrix=matrix, settings=settings, initial_routes=initial)


def sequences(plan: Plan) -> dict[int | str, list[int | str]]:
    """Each technician's visit ids in route order."""
    return {r.technician_id: [s.visit_id for s in r.stops] for r in plan.routes}


def route_map(routes: Sequence[TechnicianRoute]) -> dict[int | str, TechnicianRoute]:
    return {r.technician_id: r for r in routes}
