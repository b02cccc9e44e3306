"""Equipment in the vans: the stock items the plan must respect, and restocking.

A visit consumes ``VisitSpec.materials`` (item code -> quantity, from the bill
of materials); a technician holds ``TechnicianSpec.stock`` (None: unlimited,
an item missing from the dict: none of it). The plan never gives a
technician more of an item than their van holds.

Restocking "when it pays": a technician with ``restock`` (what the depot can
add per item) and a depot position gets one optional depot stop in the model,
any time in the shift. On each item's dimension the cumul starts at the
restock amount ``R`` and the depot stop takes ``R`` off again, with the van's
capacity set to ``stock + R``: before the depot the visits may use ``stock``,
after it ``stock + R``, and skipping the depot costs nothing. The stop costs
its detour and ``RESTOCK_S`` on site, so the search takes it only when the
orders it lets the technician do are worth more than the detour. The plan
reports it in ``TechnicianRoute.restocks`` as a stop of kind ``"restock"``.

The construction (:mod:`dispatch.routing.construction`) plans with the van's
stock plus its restock; :func:`with_depot_stops` then puts the depot stop into
each route that uses more than the van holds, at the latest place the model
accepts, or trims the route back to the van when no place fits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

from dispatch.routing.problem import TechnicianSpec, VisitSpec

RESTOCK_S = 15 * 60  # loading the van at the depot (default)
# Of the construction's time, the share left for putting depot stops into its plan.
DEPOT_SHARE = 0.15
RESTOCK_VISIT_ID = "restock"
# Stands for "no limit" on an item's dimension (OR-Tools needs a number).
UNLIMITED = 10**9


def stock_items(technicians: Sequence[TechnicianSpec], visits: Sequence[VisitSpec]) -> list[str]:
    """Item codes the plan must count: some visit needs them and some technician's
    stock is limited (sorted). Empty when every technician is unlimited."""
    if all(t.stock is None for t in technicians):
        return []
    needed = {code for visit in visits for code, qty in visit.materials.items() if qty > 0}
    return sorted(needed)


def item_demand(visits: Sequence[VisitSpec], items: Sequence[str], nodes: int) -> np.ndarray:
    """Quantity of each item per model node [nodes, items]; the visits are nodes 0..n-1."""
    demand = np.zeros((nodes, len(items)), dtype=np.int64)
    for node, visit in enumerate(visits):
        for d, code in enumerate(items):
            demand[node, d] = max(0, int(visit.materials.get(code, 0)))
    return demand


def van_stock(technicians: Sequence[TechnicianSpec], items: Sequence[str]) -> np.ndarray:
    """What each van holds of each item [technicians, items] (UNLIMITED for no limit)."""
    stock = np.zeros((len(technicians), len(items)), dtype=np.int64)
    for v, tech in enumerate(technicians):
        for d, code in enumerate(items):
            stock[v, d] = UNLIMITED if tech.stock is None else max(0, int(tech.stock.get(code, 0)))
    return stock


def can_restock(tech: TechnicianSpec) -> bool:
    """Does the technician have a depot to restock at, with something to load?"""
    return (
        tech.stock is not None
        and tech.restock is not None
        and any(q > 0 for q in tech.restock.values())
        and tech.depot_lat is not None
        and tech.depot_lon is not None
    )


def restock_amounts(technicians: Sequence[TechnicianSpec], items: Sequence[str]) -> np.ndarray:
    """What the depot stop adds per technician and item [technicians, items] (0 without one)."""
    amounts = np.zeros((len(technicians), len(items)), dtype=np.int64)
    for v, tech in enumerate(technicians):
        if can_restock(tech) and tech.restock is not None:
            for d, code in enumerate(items):
                amounts[v, d] = max(0, int(tech.restock.get(code, 0)))
    return amounts


def _over_stock_at(route: Sequence[int], demand: np.ndarray, stock: np.ndarray) -> int | None:
    """Position of the first visit in ``route`` the van alone cannot serve, or None."""
    used = np.zeros(demand.shape[1], dtype=np.int64)
    for pos, node in enumerate(route):
        used += demand[node]
        if (used > stock).any():
            return pos
    return None


def _within_van(route: Sequence[int], demand: np.ndarray, stock: np.ndarray) -> list[int]:
    """``route`` without the visits the van cannot serve any more (in order:
    a visit is kept while what it needs is still in the van)."""
    left = stock.copy()
    kept = []
    for node in route:
        if (demand[node] <= left).all():
            left -= demand[node]
            kept.append(node)
    return kept


def with_depot_stops(
    routes: list[list[int]],
    demand: np.ndarray,
    stock: np.ndarray,
    depot_nodes: Sequence[int | None],
    accepts: Callable[[list[list[int]]], bool],
    deadline: float | None = None,
) -> list[list[int]]:
    """Routes (model nodes per vehicle) planned against stock plus restock, made
    valid: a route using more than its van gets its depot node before the first
    visit the van cannot serve (just in time, or first thing); when the detour
    makes the whole route too long, its last visits are left out until it fits.
    Without a depot, or after ``deadline`` (time.monotonic), a route keeps only
    the visits its van can serve."""
    fixed = [list(r) for r in routes]
    needs: list[tuple[int, int]] = []
    for v, route in enumerate(fixed):
        over = _over_stock_at(route, demand, stock[v])
        if over is not None:
            needs.append((v, over))
            fixed[v] = _within_van(route, demand, stock[v])
    for v, over in needs:
        depot = depot_nodes[v]
        if depot is None or (deadline is not None and time.monotonic() > deadline):
            continue
        fixed = _with_depot(fixed, v, routes[v], over, depot, accepts)
    return fixed


def _with_depot(
    fixed: list[list[int]],
    v: int,
    route: list[int],
    over: int,
    depot: int,
    accepts: Callable[[list[list[int]]], bool],
) -> list[list[int]]:
    """``fixed`` with vehicle ``v``'s longest prefix of ``route`` (beyond ``over``)
    that the model accepts with the depot stop before position ``over``.

    Two places for the depot (just in time, first thing) and the longest
    prefix found by bisection (a shorter day fits whenever a longer one does)
    keep the model reads to a handful per route."""

    def trial(pos: int, cut: int) -> list[list[int]]:
        routes = [list(r) for r in fixed]
        routes[v] = [*route[:pos], depot, *route[pos:cut]]
        return routes

    best: tuple[int, int] | None = None
    for pos in sorted({over, 0}, reverse=True):
        low, high = over, len(route)  # longer than `over`: the depot is needed
        while low < high:
            cut = (low + high + 1) // 2
            if accepts(trial(pos, cut)):
                low, best = cut, (pos, cut)
            else:
                high = cut - 1
        if best is not None:
            break
    if best is None or best[1] <= len(fixed[v]):  # no more visits than the van alone serves
        return fixed
    return trial(*best)
