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
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import DispatchPlan
from dispatch.routing.problem import Problem, TechnicianSpec
from standards.materials import bill_of_materials
from technicians.models import Technician
from technicians.stock import list_depots, list_items, van_balances
from technicians.stock_models import Depot, StockMove
from workorders import lifecycle
from workorders.models import WorkOrder


def stock_is_kept(session: Session) -> bool:
    """Has any van been stocked through the ledger?"""
    return session.scalar(select(StockMove.id).limit(1)) is not None


def with_stock(session: Session, problem: Problem, orders: list[WorkOrder]) -> Problem:
    """``problem`` (its visits carry their bill of materials: ``dispatch.planning.visit_spec``)
    with, once stock is kept, each van's stock, restock and depot."""
    if not stock_is_kept(session):
        return problem
    held = van_balances(session, [t.id for t in problem.technicians if isinstance(t.id, int)])
    for order in orders:
        if lifecycle.is_under_way(order) and order.technician_id in held:
            van = held[order.technician_id]
            for code, qty in bill_of_materials(order.kind, order.product).items():
                van[code] = max(0, van.get(code, 0) - qty)
    van_max = {item.code: item.van_max for item in list_items(session)}
    depots = list_depots(session)
    techs = [
        _stocked(t, held.get(t.id, {}) if isinstance(t.id, int) else {}, van_max, depots)
        for t in problem.technicians
    ]
    return replace(problem, technicians=techs)


def _stocked(
    tech: TechnicianSpec, held: dict[str, int], van_max: dict[str, int], depots: list[Depot]
) -> TechnicianSpec:
    depot = nearest_depot(depots, tech.start_lat, tech.start_lon)
    if depot is None:
        return replace(tech, stock=dict(held))
    restock = {code: top - held.get(code, 0) for code, top in van_max.items() if top > held.get(code, 0)}
    return replace(tech, stock=dict(held), restock=restock or None, depot_lat=depot.lat, depot_lon=depot.lon)


def nearest_depot(depots: list[Depot], lat: float, lon: float) -> Depot | None:
    """The depot a technician starting at (lat, lon) restocks at (the planner's choice)."""
    if not depots:
        return None
    return min(depots, key=lambda d: math.hypot(d.lat - lat, (d.lon - lon) * math.cos(math.radians(lat))))


def restock_stops(session: Session, technician_id: int, day: date) -> list[dict]:
    """The depot stops the day's applied plan gave the technician, for the phone: where,
    when, before which order, and what to load there (what the rest of the day's open
    orders need beyond the van now). The newest applied plan that routed the technician
    that day says; a plan without depot stops for them means none."""
    route = None
    plans = session.scalars(
        select(DispatchPlan)
        .where(DispatchPlan.day == day, DispatchPlan.status == "applied")
        .order_by(DispatchPlan.id.desc())
    )
    for plan in plans:
        route = next(
            (r for r in (plan.result or {}).get("routes", []) if r.get("technician_id") == technician_id),
            None,
        )
        if route is not None:
            break
    if route is None or not route.get("restocks"):
        return []
    orders = list(
        session.scalars(
            select(WorkOrder)
            .where(WorkOrder.technician_id == technician_id, WorkOrder.state.in_(lifecycle.ROUTE_STATES))
            .where(WorkOrder.planned_start >= datetime.combine(day, time.min))
            .where(WorkOrder.planned_start <= datetime.combine(day, time.max))
            .order_by(WorkOrder.planned_start)
        )
    )
    needed: dict[str, int] = {}
    for order in orders:
        for code, qty in bill_of_materials(order.kind, order.product).items():
            needed[code] = needed.get(code, 0) + qty
    van = van_balances(session, [technician_id]).get(technician_id, {})
    load = {code: qty - van.get(code, 0) for code, qty in needed.items() if qty > van.get(code, 0)}
    tech = session.get(Technician, technician_id)
    depot = nearest_depot(list_depots(session), tech.home_lat, tech.home_lon) if tech is not None else None
    day_start = datetime.combine(day, time.min)
    stops = []
    for stop in route["restocks"]:
        leaves = day_start + timedelta(seconds=stop["end_s"])
        following = next(
            (o for o in orders if o.planned_start is not None and o.planned_start >= leaves), None
        )
        stops.append(
            {
                "depot_id": depot.id if depot else None,
                "depot_name": depot.name if depot else None,
                "lat": depot.lat if depot else None,
                "lon": depot.lon if depot else None,
                "arrival": day_start + timedelta(seconds=stop["arrival_s"]),
                "departure": leaves,
                "before_order_id": following.id if following else None,
                "load": [{"item": code, "quantity": qty} for code, qty in sorted(load.items())],
            }
        )
    return stops
