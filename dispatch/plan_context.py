"""The routing problem a stored plan answered, rebuilt from the database.

A stored plan keeps its result, the order versions it saw and its technicians, not the
problem itself. Explanations (:mod:`dispatch.explain`) and figures (:mod:`dispatch.kpis`)
need the problem's windows, deadlines, skills and shifts: they are read again here from
the orders and technicians, at the plan's own clock (``now_s``). An order changed since
the plan was computed is read as it is now, but an assignment made after the plan (by
applying it) is not taken for a dispatcher's pin.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.models import DispatchPlan
from dispatch.planning import technician_spec, visit_spec
from dispatch.routing.problem import Problem
from technicians.models import Technician
from technicians.service import active_technicians
from workorders.models import Site, WorkOrder


def plan_order_ids(record: DispatchPlan) -> set[int]:
    """Every order the plan saw, placed or left out."""
    result = record.result or {}
    ids = {int(k) for k in (record.order_versions or {})}
    ids |= {int(s["visit_id"]) for r in result.get("routes", []) for s in r["stops"]}
    ids |= {int(u["visit_id"]) for u in result.get("unassigned", [])}
    return ids


def plan_technicians(session: Session, record: DispatchPlan) -> list[Technician]:
    """The plan's technicians; an urgent insertion keeps only the routes it changed, so
    every active technician is read for it (who else could have taken the order)."""
    result = record.result or {}
    ids = {int(t) for t in record.technician_ids or []}
    ids |= {int(r["technician_id"]) for r in result.get("routes", [])}
    techs = (
        {t.id: t for t in session.scalars(select(Technician).where(Technician.id.in_(ids)))} if ids else {}
    )
    if record.kind != "day" or not ids:
        techs.update({t.id: t for t in active_technicians(session, record.district)})
    return [techs[k] for k in sorted(techs)]


def plan_problem(session: Session, record: DispatchPlan) -> tuple[Problem, dict[int, WorkOrder]]:
    """The plan's problem at its own clock, and its orders by id (orders without a place left out)."""
    now_s = (record.result or {}).get("now_s")
    ids = plan_order_ids(record)
    orders: dict[int, WorkOrder] = {}
    if ids:
        stmt = (
            select(WorkOrder)
            .join(Site, WorkOrder.site_id == Site.id)
            .where(WorkOrder.id.in_(ids), Site.lat.is_not(None), Site.lon.is_not(None))
        )
        orders = {o.id: o for o in session.scalars(stmt)}
    seen = record.order_versions or {}
    visits = []
    for order in orders.values():
        visit = visit_spec(order, record.day)
        if not visit.pinned_first and seen.get(str(order.id)) != order.version:
            visit.pinned_technician = None  # assigned after the plan (maybe by it): no pin then
        visits.append(visit)
    techs = [technician_spec(t, now_s) for t in plan_technicians(session, record)]
    return Problem(technicians=techs, visits=visits), orders
