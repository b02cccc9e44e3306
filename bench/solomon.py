"""Solomon VRPTW instances: reading, an independent checker, and the mapping
onto the dispatch solver's :class:`~dispatch.routing.problem.Problem`.

Convention of the best-known solutions (DIMACS): Euclidean distance truncated
to one decimal, travel time equals distance, service time as given, objective
is total distance only, at most VEHICLES routes. Everything here works in
tenths so the arithmetic is exact integers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dispatch.routing.problem import Problem, TechnicianSpec, VisitSpec

SCALE = 10  # tenths: distances are truncated to one decimal


@dataclass
class SolomonInstance:
    """One instance, node 0 the depot; times and distances in tenths."""

    name: str
    coords: np.ndarray  # (n+1, 2)
    demand: list[int]
    capacity: int
    vehicles: int
    ready: list[int]  # tenths
    due: list[int]  # tenths
    service: list[int]  # tenths
    distance: np.ndarray = field(init=False)  # tenths, truncated

    def __post_init__(self) -> None:
        self.distance = truncated_distance_tenths(self.coords)

    @property
    def num_customers(self) -> int:
        return len(self.demand) - 1


def truncated_distance_tenths(coords: np.ndarray) -> np.ndarray:
    """floor(10 x Euclidean distance), exact for integer coordinates."""
    coords = np.asarray(coords, dtype=np.float64)
    if np.all(coords == np.round(coords)):
        ints = coords.astype(np.int64)
        sq = ((ints[:, None, :] - ints[None, :, :]) ** 2).sum(axis=2) * SCALE * SCALE
        root = np.floor(np.sqrt(sq.astype(np.float64))).astype(np.int64)
        # Correct the float square root to the exact integer square root.
        root -= (root * root > sq).astype(np.int64)
        root += ((root + 1) * (root + 1) <= sq).astype(np.int64)
        return root
    diff = coords[:, None, :] - coords[None, :, :]
    return np.floor(np.sqrt((diff**2).sum(axis=2)) * SCALE + 1e-9).astype(np.int64)


def read_instance(path: str | Path) -> SolomonInstance:
    """Read a VRPLIB-format Solomon instance with ``vrplib``."""
    import vrplib

    raw = vrplib.read_instance(str(path), compute_edge_weights=False)
    coords = np.asarray(raw["node_coord"], dtype=np.float64)
    windows = np.asarray(raw["time_window"], dtype=np.float64)
    service = np.asarray(raw["service_time"], dtype=np.float64)
    if service.ndim == 0:
        service = np.full(len(coords), float(service))
        service[0] = 0.0
    return SolomonInstance(
        name=str(raw.get("name", Path(path).stem)),
        coords=coords,
        demand=[int(d) for d in raw["demand"]],
        capacity=int(raw["capacity"]),
        vehicles=int(raw.get("vehicles", len(coords) - 1)),
        ready=[int(round(w * SCALE)) for w in windows[:, 0]],
        due=[int(round(w * SCALE)) for w in windows[:, 1]],
        service=[int(round(s * SCALE)) for s in service],
    )


def read_bks(path: str | Path) -> float | None:
    """Best-known cost from a ``.sol`` file beside the instance, if present."""
    import vrplib

    path = Path(path)
    if not path.exists():
        return None
    return float(vrplib.read_solution(str(path))["cost"])


@dataclass
class CheckResult:
    """Outcome of :func:`check_solution`; ``cost`` in instance units."""

    feasible: bool
    cost: float
    routes: int
    errors: list[str]


def check_solution(instance: SolomonInstance, routes: Sequence[Sequence[int]]) -> CheckResult:
    """Check a solution independently of any solver.

    ``routes`` list customer numbers (1..n) per vehicle, depot omitted. Checks
    every customer exactly once, the vehicle count, capacity, time windows
    (arrival by the due time, waiting allowed, back at the depot by its due
    time), and recomputes the cost.
    """
    errors: list[str] = []
    n = instance.num_customers
    seen: dict[int, int] = {}
    routes = [list(r) for r in routes if len(r) > 0]
    if len(routes) > instance.vehicles:
        errors.append(f"{len(routes)} routes > {instance.vehicles} vehicles")
    dist = instance.distance
    total = 0
    for r, route in enumerate(routes):
        load, clock, prev = 0, instance.ready[0], 0
        for customer in route:
            if not 1 <= customer <= n:
                errors.append(f"route {r + 1}: unknown customer {customer}")
                continue
            seen[customer] = seen.get(customer, 0) + 1
            load += instance.demand[customer]
            total += int(dist[prev, customer])
            arrival = clock + int(dist[prev, customer])
            if arrival > instance.due[customer]:
                due = instance.due[customer] / SCALE
                errors.append(f"route {r + 1}: {customer} at {arrival / SCALE} > due {due}")
            clock = max(arrival, instance.ready[customer]) + instance.service[customer]
            prev = customer
        total += int(dist[prev, 0])
        back = clock + int(dist[prev, 0])
        if back > instance.due[0]:
            errors.append(f"route {r + 1}: back at {back / SCALE} > due {instance.due[0] / SCALE}")
        if load > instance.capacity:
            errors.append(f"route {r + 1}: load {load} > capacity {instance.capacity}")
    missing = [c for c in range(1, n + 1) if c not in seen]
    if missing:
        errors.append(f"customers not visited: {missing[:10]}{' ...' if len(missing) > 10 else ''}")
    twice = [c for c, k in seen.items() if k > 1]
    if twice:
        errors.append(f"customers visited more than once: {twice[:10]}")
    return CheckResult(not errors, total / SCALE, len(routes), errors)


def gap_pct(cost: float, bks: float | None) -> float | None:
    """Gap to the best-known cost in percent."""
    if bks is None or bks <= 0 or math.isnan(cost):
        return None
    return 100.0 * (cost - bks) / bks


class TenthsMatrix:
    """A :class:`~dispatch.routing.matrix.TravelMatrix` over a Solomon instance.

    The solver's points are ``(node, 0)`` pairs; both matrices are the
    truncated distance in tenths, so travel time equals distance.
    """

    def __init__(self, instance: SolomonInstance) -> None:
        self.instance = instance

    def _pick(self, points: Sequence[tuple[float, float]]) -> np.ndarray:
        nodes = np.asarray([int(p[0]) for p in points], dtype=np.int64)
        return self.instance.distance[np.ix_(nodes, nodes)]

    def durations_s(self, points: Sequence[tuple[float, float]]) -> np.ndarray:
        return self._pick(points)

    def distances_m(self, points: Sequence[tuple[float, float]]) -> np.ndarray:
        return self._pick(points).astype(np.float64)


def to_problem(instance: SolomonInstance) -> Problem:
    """Map an instance onto the dispatch model.

    Vehicles are technicians without skills or lunch, customers are visits
    (all mandatory when solved with ``optional_visits=False``); ``lat``
    carries the node number for :class:`TenthsMatrix`.
    """
    depot_ready, depot_due = instance.ready[0], instance.due[0]
    technicians = [
        TechnicianSpec(
            id=k,
            skills=frozenset(),
            start_lat=0,
            start_lon=0,
            end_lat=0,
            end_lon=0,
            shift_start_s=depot_ready,
            shift_end_s=depot_due,
            capacity=instance.capacity,
        )
        for k in range(instance.vehicles)
    ]
    visits = [
        VisitSpec(
            id=c,
            lat=float(c),
            lon=0.0,
            duration_s=instance.service[c],
            window_start_s=instance.ready[c],
            window_end_s=instance.due[c],
            priority="P3",
            demand=instance.demand[c],
        )
        for c in range(1, instance.num_customers + 1)
    ]
    return Problem(technicians, visits)
