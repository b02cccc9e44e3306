"""Crews and visits in order, put into the compiled construction's plan.

The construction (:mod:`dispatch.routing.construction`) knows neither crews
(nodes starting together on different technicians) nor visits in order, so
their nodes are held back from it (:func:`hold_back`) and put into its best
plan here (:func:`insert_linked`), one visit at a time, predecessors first:
each crew at the cheapest positions on distinct technicians where all of
them can start at one time, each dependent no earlier than its
predecessors' end. A placed node and every predecessor keep their start from
then on (the route simulation holds them to it), so later insertions cannot
break the link. What cannot be placed stays out; OR-Tools' search, which
holds every rule, starts from the result.
"""

from __future__ import annotations

from itertools import combinations, permutations

import numpy as np

from dispatch.routing import constraints
from dispatch.routing.construction import CoreProblem, _kernel_problem
from dispatch.routing.kernels import simulate_route
from dispatch.routing.model import DataModel

# Vehicles (cheapest first) whose combinations are tried for one crew.
CREW_CANDIDATES = 8


def hold_back(core: CoreProblem, nodes: set[int]) -> None:
    """Keep ``nodes`` out of the construction: no vehicle may take them."""
    if nodes:
        core.allowed[sorted(nodes), :] = 0


class _Routes:
    """The plan being completed, with the route simulation over held times."""

    def __init__(self, data: DataModel, core: CoreProblem, routes: list[list[int]]) -> None:
        self.data, self.core = data, core
        self.routes = [list(r) for r in routes]
        self.ready, self.due = core.ready.copy(), core.due.copy()
        p = list(_kernel_problem(core))
        p[3], p[4] = self.ready, self.due
        self.p = tuple(p)
        width = len(data.visits) + 2
        self.buf = np.zeros((core.num_vehicles, width), dtype=np.int64)
        self.fwd = np.zeros((core.num_vehicles, width), dtype=np.int64)

    def simulate(self, v: int, node: int = -1, q: int = 0) -> int:
        """Lateness cost of route ``v`` (with ``node`` before position ``q``), -1 if infeasible;
        start times land in ``self.fwd[v]``."""
        route = self.routes[v]
        self.buf[v, : len(route)] = route
        return int(simulate_route(v, self.buf, len(route), node, q, self.fwd, True, self.p))

    def starts(self) -> dict[int, int]:
        """Start of every placed node."""
        placed: dict[int, int] = {}
        for v, route in enumerate(self.routes):
            if route and self.simulate(v) >= 0:
                placed.update({u: int(self.fwd[v, j]) for j, u in enumerate(route)})
        return placed

    def hold(self, node: int, start_s: int) -> None:
        self.ready[node] = self.due[node] = start_s

    def best_positions(self, node: int, vehicles: set[int]) -> list[tuple[int, int, int, int]]:
        """Per vehicle, the cheapest feasible position for ``node``:
        (extra cost, vehicle, position, start), cheapest first."""
        cost, v_start, v_end = self.core.cost, self.core.v_start, self.core.v_end
        found: list[tuple[int, int, int, int]] = []
        for v in sorted(vehicles):
            route = self.routes[v]
            base_late = self.simulate(v) if route else 0
            if base_late < 0:
                continue
            best: tuple[int, int, int, int] | None = None
            for q in range(len(route) + 1):
                late = self.simulate(v, node, q)
                if late < 0:
                    continue
                prev = route[q - 1] if q > 0 else v_start[v]
                nxt = route[q] if q < len(route) else v_end[v]
                extra = int(cost[prev, node] + cost[node, nxt] - cost[prev, nxt]) + late - base_late
                extra += int(self.core.visit_cost[node, v])  # out of the technician's areas
                if best is None or extra < best[0]:
                    best = (extra, v, q, int(self.fwd[v, q]))
            if best is not None:
                found.append(best)
        return sorted(found)

    def place_together(self, group: list[int]) -> bool:
        """Put the crew's nodes on distinct vehicles, starting at one time."""
        allowed = [set(self.data.allowed_vehicles[node]) for node in group]
        found = self.best_positions(group[0], set().union(*allowed))[:CREW_CANDIDATES]
        opens, closes = int(self.ready[group[0]]), int(self.due[group[0]])
        for combo in combinations(found, len(group)):
            if len({c[1] for c in combo}) < len(group):
                continue
            start_s = max(c[3] for c in combo)
            for order in permutations(group):
                if all(c[1] in allowed[group.index(node)] for node, c in zip(order, combo, strict=True)):
                    break
            else:
                continue
            for node in group:
                self.hold(node, start_s)
            if all(
                self.simulate(c[1], node, c[2]) >= 0 and self.fwd[c[1], c[2]] == start_s
                for node, c in zip(order, combo, strict=True)
            ):
                for node, c in zip(order, combo, strict=True):
                    self.routes[c[1]].insert(c[2], node)
                return True
            for node in group:
                self.ready[node], self.due[node] = opens, closes
        return False

    def place_alone(self, node: int) -> bool:
        found = self.best_positions(node, set(self.data.allowed_vehicles[node]))
        if not found:
            return False
        _extra, v, q, start_s = found[0]
        self.routes[v].insert(q, node)
        self.hold(node, start_s)
        return True


def insert_linked(data: DataModel, core: CoreProblem, routes: list[list[int]]) -> list[list[int]]:
    """The construction's ``routes`` (model nodes per vehicle) with the crew
    and dependent visits put in where they fit, predecessors first."""
    linked = constraints.linked_nodes(data.visits)
    if not linked:
        return routes
    plan = _Routes(data, core, routes)
    pairs = constraints.precedences(data.visits)
    before: dict[int, list[int]] = {}
    for first, then in pairs:
        before.setdefault(then, []).append(first)
    starts = plan.starts()
    for first, _then in pairs:
        if first in starts:
            plan.hold(first, starts[first])
    groups = {node: [node] for node in sorted(linked)}
    for group in constraints.crew_groups(data.visits):
        for node in group:
            groups.pop(node, None)
        groups[group[0]] = group
    service = core.service
    for lead in _predecessors_first(sorted(groups), before):
        group = groups[lead]
        predecessors = before.get(lead, [])
        placed = {u for route in plan.routes for u in route}
        if any(p not in placed for p in predecessors):
            continue  # left out with its predecessor
        opens = max([int(plan.ready[lead]), *(int(plan.ready[p] + service[p]) for p in predecessors)])
        if opens > plan.due[lead]:
            continue
        for node in group:
            plan.ready[node] = opens
        if len(group) > 1:
            plan.place_together(group)
        else:
            plan.place_alone(lead)
    return plan.routes


def _predecessors_first(leads: list[int], before: dict[int, list[int]]) -> list[int]:
    """``leads`` ordered so every predecessor among them comes first (cycles: as given)."""
    ordered: list[int] = []
    seen: set[int] = set()

    def visit(node: int, path: set[int]) -> None:
        if node in seen or node in path:
            return
        path.add(node)
        for p in before.get(node, []):
            visit(p, path)
        seen.add(node)
        ordered.append(node)

    for lead in leads:
        visit(lead, set())
    wanted = set(leads)
    return [node for node in ordered if node in wanted]
