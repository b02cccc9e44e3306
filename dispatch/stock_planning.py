"""The vans' equipment in the day's problem: what each visit consumes (its bill
of materials, ``standards.materials``) and what each van holds (the ledger,
``technicians.stock``), with the nearest depot to restock at.

Stock is counted from the first issue on: while the ledger is empty every van
is unlimited, so a site that does not keep stock plans as before. A van's
restock is what tops it up to the catalogue's ``van_max``. Orders already under
way (en route, on site) are not planned but will use their materials: their
bill of materials is taken off their technician's van first.
"""

from __future__ import annotations

import math
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.routing.problem import Problem, TechnicianSpec
from standards.materials import bill_of_materials
from technicians.stock import list_depots, list_items, van_balances
from technicians.stock_models import Depot, StockMove
from workorders import lifecycle
from workorders.models import WorkOrder


def stock_is_kept(session: Session) -> bool:
    """Has any van been stocked through the ledger?"""
    return session.scalar(select(StockMove.id).limit(1)) is not None


def with_stock(session: Session, problem: Problem, orders: list[WorkOrder]) -> Problem:
    """``problem`` with each visit's materials and, once stock is kept, each van's
    stock, restock and depot."""
    boms = {o.id: bill_of_materials(o.kind, o.product) for o in orders}
    visits = [replace(v, materials=boms.get(v.id, {})) if boms.get(v.id) else v for v in problem.visits]
    if not stock_is_kept(session):
        return replace(problem, visits=visits)
    held = van_balances(session, [t.id for t in problem.technicians if isinstance(t.id, int)])
    for order in orders:
        if lifecycle.is_under_way(order) and order.technician_id in held:
            van = held[order.technician_id]
            for code, qty in boms[order.id].items():
                van[code] = max(0, van.get(code, 0) - qty)
    van_max = {item.code: item.van_max for item in list_items(session)}
    depots = list_depots(session)
    techs = [
        _stocked(t, held.get(t.id, {}) if isinstance(t.id, int) else {}, van_max, depots)
        for t in problem.technicians
    ]
    return replace(problem, technicians=techs, visits=visits)


def _stocked(
    tech: TechnicianSpec, held: dict[str, int], van_max: dict[str, int], depots: list[Depot]
) -> TechnicianSpec:
    depot = _nearest(depots, tech.start_lat, tech.start_lon)
    if depot is None:
        return replace(tech, stock=dict(held))
    restock = {code: top - held.get(code, 0) for code, top in van_max.items() if top > held.get(code, 0)}
    return replace(tech, stock=dict(held), restock=restock or None, depot_lat=depot.lat, depot_lon=depot.lon)


def _nearest(depots: list[Depot], lat: float, lon: float) -> Depot | None:
    if not depots:
        return None
    return min(depots, key=lambda d: math.hypot(d.lat - lat, (d.lon - lon) * math.cos(math.radians(lat))))
