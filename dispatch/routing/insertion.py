"""One order into a day already planned, without reordering anyone's route.

Each technician's held route is put in a routing model of its own (the same
model :mod:`dispatch.routing.model` plans the day with: windows, shift, lunch,
working time, priced deadlines and drops), and sequences are tried on it with
``ReadAssignmentFromRoutes``: the held route, then the new order before each
of its stops. The model prices every try, so options on different
technicians compare on one scale: the change in the objective (travel,
lateness, orders left out).

An urgent order (a P1 fault, or one whose response deadline is near) that
fits nowhere may displace lower-priority work: the technician's cheapest
stops to leave out (P3 installs first, the latest in the day first) are taken
out one at a time until the order fits. Stops with a restore deadline today
are only taken out when nothing else makes room. Every option says what it
displaced and whose visits it pushed later, for the dispatcher to accept or
not.

Nothing here knows about Flask or the database.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from ortools.constraint_solver import pywrapcp

from dispatch.routing import constraints
from dispatch.routing.matrix import HaversineMatrix, TravelMatrix
from dispatch.routing.model import build_routing_model, create_data_model, drop_penalty
from dispatch.routing.problem import (
    Plan,
    Problem,
    TechnicianRoute,
    TechnicianSpec,
    Unassigned,
    VisitSpec,
    late_visits,
    nobody_reason,
)
from dispatch.routing.search import read_plan, search_parameters
from dispatch.routing.settings import LocalSearchSettings, SearchSettings

PRIORITY_RANK = {"P1": 0, "P2": 1, "P3": 2}
# A stop starting at least this much later than before is reported as delayed.
DELAY_REPORTED_S = 60

_HOLD = SearchSettings(
    local_search=LocalSearchSettings(
        first_solution="ALL_UNPERFORMED", metaheuristic="GREEDY_DESCENT", iterated_local_search=False
    ),
)


@dataclass
class Delay:
    """A stop the insertion pushes later: when it started before and after."""

    visit_id: int | str
    before_s: int
    after_s: int
    late_s: int = 0


@dataclass
class InsertionOption:
    """The order on one technician: where and when it would start, what it
    costs, and what it pushes later or out; or, in ``reason``, why not."""

    technician_id: int | str
    reason: str | None = None
    route: TechnicianRoute | None = None
    start_s: int | None = None
    extra_travel_m: float = 0.0
    cost: int = 0
    free_s: int | None = None
    displaced: list[int | str] = field(default_factory=list)
    displaced_with_deadline: list[int | str] = field(default_factory=list)
    dropped: list[Unassigned] = field(default_factory=list)
    delayed: list[Delay] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return self.reason is None


def may_do(tech: TechnicianSpec, visit: VisitSpec) -> bool:
    """The order's pinned technician, or (unpinned) one with every skill it needs whose
    areas, when their team's are a hard limit, include the order's district."""
    if visit.pinned_technician is not None:
        return tech.id == visit.pinned_technician
    return visit.skills <= tech.skills and constraints.covers(tech, visit)


class _TechnicianDay:
    """A technician's held route in a model of its own, to try sequences on."""

    def __init__(
        self,
        tech: TechnicianSpec,
        route_ids: list[int | str],
        visits: dict[int | str, VisitSpec],
        new: VisitSpec,
        matrix: TravelMatrix,
        area_type: str,
    ) -> None:
        self.tech, self.new = tech, new
        # A held stop is this technician's: a crew visit, pinned to its lead, is in the
        # second member's route too (held at its planned start by held_in_place).
        held_visits = [
            v if v.pinned_technician in (None, tech.id) else replace(v, pinned_technician=tech.id)
            for v in (visits[i] for i in route_ids if i in visits)
        ]
        self.data = create_data_model(Problem([tech], [*held_visits, new], area_type), matrix)
        self.node_of = {v.id: node for node, v in enumerate(self.data.visits)}
        screened = {u.visit_id: u for u in self.data.screened_out}
        self.new_reason = screened[new.id].reason if new.id in screened else None
        pinned = {leg.visit.id for leg in self.data.pinned_legs[0]}
        # Stops that can no longer be done today (their window passed) leave the route.
        self.lost = [screened[v.id] for v in held_visits if v.id in screened]
        self.held = [self.node_of[v.id] for v in held_visits if v.id in self.node_of and v.id not in pinned]
        self.setup = build_routing_model(self.data, _HOLD)
        self.setup.routing.CloseModelWithParameters(search_parameters(1.0, _HOLD.local_search))
        self.base, self.base_plan = self._baseline()

    def read(self, nodes: list[int]) -> pywrapcp.Assignment | None:
        """The technician's day with ``nodes`` in this sequence, or None when it breaks a rule."""
        return self.setup.routing.ReadAssignmentFromRoutes([nodes], True)

    def _baseline(self) -> tuple[pywrapcp.Assignment | None, Plan]:
        """The held route as the model times it from departure; stops it can
        no longer reach in sequence are left out (and reported)."""
        solution = self.read(self.held)
        if solution is None:
            kept: list[int] = []
            for node in self.held:
                if self.read([*kept, node]) is not None:
                    kept.append(node)
                else:
                    self.lost.append(Unassigned(self.data.visits[node].id, "window_unreachable"))
            self.held = kept
            solution = self.read(kept)
        return solution, read_plan(self.data, self.setup, solution, time.monotonic(), "optimized")

    def _option(self, solution: pywrapcp.Assignment, removed: list[int]) -> InsertionOption:
        plan = read_plan(self.data, self.setup, solution, time.monotonic(), "optimized")
        route = plan.route_of(self.tech.id)
        # The solution holds the new order, so the technician has a route; and
        # the held route, which it extends, read back too.
        assert route is not None and self.base is not None
        before = {s.visit_id: s.start_s for r in self.base_plan.routes for s in r.stops}
        base_route = self.base_plan.route_of(self.tech.id)
        base_travel = base_route.travel_m if base_route is not None else 0.0
        stop = next(s for s in route.stops if s.visit_id == self.new.id)
        # The base objective counts the new order as left out; add its price back.
        cost = int(solution.ObjectiveValue()) - (int(self.base.ObjectiveValue()) - drop_penalty(self.new))
        visits = self.data.visits
        return InsertionOption(
            technician_id=self.tech.id,
            route=route,
            start_s=stop.start_s,
            extra_travel_m=route.travel_m - base_travel,
            cost=cost,
            free_s=self.tech.shift_end_s - route.end_s,
            displaced=[visits[n].id for n in removed],
            displaced_with_deadline=[visits[n].id for n in removed if visits[n].deadline_s is not None],
            dropped=list(self.lost),
            delayed=[
                Delay(s.visit_id, before[s.visit_id], s.start_s, s.late_s)
                for s in route.stops
                if s.visit_id in before and s.start_s - before[s.visit_id] >= DELAY_REPORTED_S
            ],
        )

    def insert(self, displace: int = 0) -> InsertionOption:
        """The cheapest place for the new order in the held route.

        ``displace`` 0: nothing leaves the route; 1: lower-priority stops
        without a deadline today may; 2: any lower-priority stop may.
        """
        if self.new_reason is not None:
            return InsertionOption(self.tech.id, reason=self.new_reason)
        new_node = self.node_of[self.new.id]
        best: InsertionOption | None = None
        for position in range(len(self.held) + 1):
            nodes = [*self.held[:position], new_node, *self.held[position:]]
            solution = self.read(nodes)
            removed: list[int] = []
            if solution is None and displace:
                solution, removed = self._make_room(nodes, displace)
            if solution is None:
                continue
            option = self._option(solution, removed)
            if best is None or option.cost < best.cost:
                best = option
        return best or InsertionOption(self.tech.id, reason="day_full")

    def _make_room(self, nodes: list[int], displace: int) -> tuple[pywrapcp.Assignment | None, list[int]]:
        """Leave out the cheapest lower-priority stops, latest first, until it fits."""
        rank = PRIORITY_RANK.get(self.new.priority, 2)
        visits = self.data.visits
        candidates = [
            n
            for n in nodes
            if n != self.node_of[self.new.id]
            and PRIORITY_RANK.get(visits[n].priority, 2) > rank
            and (displace >= 2 or visits[n].deadline_s is None)
        ]
        candidates.sort(key=lambda n: (drop_penalty(visits[n]), -nodes.index(n)))
        trial = list(nodes)
        removed: list[int] = []
        for node in candidates:
            trial.remove(node)
            removed.append(node)
            solution = self.read(trial)
            if solution is not None:
                return solution, removed
        return None, []


class Insertion:
    """Options for one new order over a planned day, technician by technician."""

    def __init__(
        self, problem: Problem, plan: Plan, visit: VisitSpec, matrix: TravelMatrix | None = None
    ) -> None:
        self.problem, self.plan, self.visit = problem, plan, constraints.after_planned(visit, plan)
        self.matrix = matrix or HaversineMatrix(area_type=problem.area_type)
        # Stops linked to other routes (crews, visits in order) keep their times.
        self.visits = constraints.held_in_place({v.id: v for v in problem.visits if v.id != visit.id}, plan)
        self._days: dict[int | str, _TechnicianDay] = {}

    def qualified(self) -> list[TechnicianSpec]:
        """Technicians who may do the order, the ones working nearest it first."""
        visit = self.visit
        skilled = [t for t in self.problem.technicians if may_do(t, visit)]
        where = {v.id: (v.lat, v.lon) for v in self.problem.visits}

        def closeness(tech: TechnicianSpec) -> float:
            route = self.plan.route_of(tech.id)
            points = [(tech.start_lat, tech.start_lon)]
            if route is not None:
                points += [where[s.visit_id] for s in route.stops if s.visit_id in where]
            return min((lat - visit.lat) ** 2 + (lon - visit.lon) ** 2 for lat, lon in points)

        return sorted(skilled, key=closeness)

    def day_of(self, tech: TechnicianSpec) -> _TechnicianDay:
        if tech.id not in self._days:
            route = self.plan.route_of(tech.id)
            ids = [s.visit_id for s in route.stops] if route is not None else []
            self._days[tech.id] = _TechnicianDay(
                tech, ids, self.visits, self.visit, self.matrix, self.problem.area_type
            )
        return self._days[tech.id]

    def options(self, techs: Iterable[TechnicianSpec], displace: int = 0) -> list[InsertionOption]:
        """One option per technician (skills checked here too), cheapest first, misfits last."""
        options = []
        for tech in techs:
            if not may_do(tech, self.visit):
                options.append(InsertionOption(tech.id, reason="no_skilled_technician"))
            else:
                options.append(self.day_of(tech).insert(displace))
        return sorted(options, key=lambda o: (not o.fits, o.cost))


def insertion_options(
    problem: Problem, plan: Plan, visit: VisitSpec, matrix: TravelMatrix | None = None
) -> list[InsertionOption]:
    """Where the order would go on each technician's day, without displacing
    anyone: the assign list's figures. Cheapest first, misfits last with
    their reason."""
    return Insertion(problem, plan, visit, matrix).options(problem.technicians)


def insert_urgent(
    problem: Problem,
    plan: Plan,
    visit: VisitSpec,
    time_limit_s: float = 2,
    matrix: TravelMatrix | None = None,
    candidates: int = 12,
    displace: bool | None = None,
) -> Plan:
    """Place a new order into a planned day, fast; every route keeps its sequence.

    The ``candidates`` qualified technicians working nearest the order are
    tried first, then the others while time is left. With ``displace`` (by
    default for a P1) and no room anywhere, lower-priority stops leave the
    chosen route (see the module's note). The returned plan is ``plan`` with
    the chosen technician's route replaced and re-timed; ``stats`` names the
    changed route, what was displaced and what was delayed. When the order
    fits nowhere it is listed as unassigned with the reason.
    """
    started = time.monotonic()
    if displace is None:
        displace = visit.priority == "P1"
    insertion = Insertion(problem, plan, visit, matrix)
    qualified = insertion.qualified()
    near, far = qualified[:candidates], qualified[candidates:]
    rounds = [(near, 0), (far, 0)]
    if displace:
        rounds += [(near, 1), (far, 1), (near, 2), (far, 2)]
    best: InsertionOption | None = None
    tried = 0
    reasons: set[str] = set()
    for techs, level in rounds:
        if not techs:
            continue
        if level == 0 and techs is far and time.monotonic() - started > time_limit_s:
            continue  # out of time for the far ones: displacing near ones is next
        options = insertion.options(techs, level)
        tried += len(techs)
        reasons |= {o.reason for o in options if o.reason is not None}
        if options and options[0].fits:
            best = options[0]
            break
    if not qualified:
        reasons = {nobody_reason(problem.technicians, visit)}
    reason = reasons.pop() if len(reasons) == 1 else "day_full"
    return _with_option(problem, plan, visit, best, reason, started, tried)


def _with_option(
    problem: Problem,
    plan: Plan,
    visit: VisitSpec,
    option: InsertionOption | None,
    reason: str,
    started: float,
    tried: int,
) -> Plan:
    stats: dict[str, Any] = {
        "mode": "urgent_insertion",
        "visit_id": visit.id,
        "candidates": tried,
        "changed_routes": [],
    }
    if option is None:
        return Plan(
            routes=list(plan.routes),
            unassigned=[*plan.unassigned, Unassigned(visit.id, reason)],
            objective=plan.objective,
            travel_m=plan.travel_m,
            breaches=plan.breaches,
            solve_s=time.monotonic() - started,
            status="optimized",
            stats=stats,
        )
    assert option.route is not None  # an option that fits has its route
    routes = [r for r in plan.routes if r.technician_id != option.technician_id] + [option.route]
    order = {t.id: k for k, t in enumerate(problem.technicians)}
    routes.sort(key=lambda r: order.get(r.technician_id, len(order)))
    left_out = [Unassigned(vid, "displaced") for vid in option.displaced] + option.dropped
    stats.update(
        changed_routes=[option.technician_id],
        displaced=list(option.displaced),
        displaced_with_deadline=list(option.displaced_with_deadline),
        delayed=[vars(d) for d in option.delayed],
        extra_travel_m=round(option.extra_travel_m, 1),
        start_s=option.start_s,
    )
    return Plan(
        routes=routes,
        unassigned=[*plan.unassigned, *left_out],
        objective=plan.objective + option.cost,
        travel_m=sum(r.travel_m for r in routes),
        breaches=late_visits(routes),
        solve_s=time.monotonic() - started,
        status="optimized",
        stats=stats,
    )
