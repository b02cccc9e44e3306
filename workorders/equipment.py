"""Equipment used at a customer's order: recorded at close-out from the
technician's van, checked against the order's bill of materials, and the way
back from a serial number to the customer who has it.

The items close-out may record are the order's bill of materials and what its
rule allows besides (``standards.materials.allowed_items``: a repair may swap
the product's device); the stock itself moves in ``technicians.stock``, which
refuses a serial that is not in this technician's van and a count the van
does not hold (409). Both happen in the close-out's one transaction: a refused
item leaves the order as it was.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from core.actor import Actor
from core.errors import N_, Invalid, NotFound, refuse
from standards.materials import allowed_items
from technicians import stock
from technicians.stock_models import StockMove
from workorders.models import WorkOrder


def record_used_equipment(
    session: Session, actor: Actor, order: WorkOrder, lines: Iterable[stock.MoveRequest]
) -> list[StockMove]:
    """Take the equipment used at ``order`` out of its technician's van (422 for
    an item the job does not use, 409 for one the van does not hold)."""
    lines = list(lines)
    if not lines:
        return []
    if order.technician_id is None:
        raise refuse(Invalid, N_("The order has no technician whose van the equipment came from."))
    allowed = allowed_items(order.kind, order.product)
    wrong = sorted({line.item for line in lines} - allowed)
    if wrong:
        raise refuse(
            Invalid,
            N_("A %(kind)s of %(product)s does not use %(items)s."),
            params={"kind": order.kind, "product": order.product, "items": ", ".join(wrong)},
            errors={"equipment": [N_("Not an item this job uses.")]},
        )
    return stock.use_at_order(session, actor, order.technician_id, order.id, lines)


def serial_trace(session: Session, serial: str) -> list[dict]:
    """Where each unit with this serial is: the van, the depot, or the customer and
    order it was installed at, with its moves (404 when no unit has it)."""
    units = stock.serial_units(session, serial)
    if not units:
        raise refuse(NotFound, N_("No unit has serial number %(serial)s."), params={"serial": serial})
    found = []
    for unit in units:
        order = session.get(WorkOrder, unit.work_order_id) if unit.work_order_id is not None else None
        at_customer = order is not None and unit.status == "at_customer"
        found.append(
            {
                "item": unit.item_code,
                "serial": unit.serial,
                "status": unit.status,
                "technician_id": unit.technician_id,
                "work_order_id": unit.work_order_id,
                "customer_id": order.customer_id if at_customer else None,
                "customer_name": order.customer.name if at_customer else None,
                "site_address": order.site.address if at_customer else None,
                "moves": [
                    m
                    for m in stock.ledger(session, serial=serial, limit=1000)
                    if m.item_code == unit.item_code
                ],
            }
        )
    return found
