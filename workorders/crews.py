"""Two-technician jobs: an order's crew size as staff set it.

``crew_size`` 2 makes the planner put the order into two technicians' routes at one start
(dispatch.planning, dispatch.plans): ``technician_id`` is the lead, whose phone reports the
order, ``second_technician_id`` works beside them and reads it (mobile_api.service).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import N_, Conflict, refuse
from standards.crews import default_crew_size
from workorders import lifecycle
from workorders.models import WorkOrder


def intake_crew_size(actor: Actor, kind: str, product: str, asked: int | None) -> int:
    """The crew size of a new order: what staff asked for, else the rule's default
    (a customer's order always gets the default)."""
    if asked is not None and actor.role != "customer":
        return asked
    return default_crew_size(kind, product)


def set_crew_size(session: Session, actor: Actor, order: WorkOrder, crew_size: int) -> WorkOrder:
    """Change how many technicians the order needs (1 or 2; the schema checks the range).

    Refused (409 crew-fixed) once the visit is under way or the order is no longer open: the
    crew on site is the one planned. Down to one technician, the second is taken off; the
    order's version moves on, so a plan computed before is refused as stale (plan again)."""
    if crew_size == order.crew_size:
        return order
    if lifecycle.is_under_way(order) or not lifecycle.is_open(order):
        raise refuse(
            Conflict,
            N_("The crew of an order under way or closed cannot change."),
            slug="crew-fixed",
            state=order.state,
        )
    before = {"crew_size": order.crew_size, "second_technician_id": order.second_technician_id}
    order.crew_size = crew_size
    if crew_size < 2:
        order.second_technician_id = None
    session.flush()
    audit.record(
        session,
        actor,
        "crew_size",
        "work_order",
        order.id,
        before=before,
        after={"crew_size": order.crew_size, "second_technician_id": order.second_technician_id},
    )
    return order
