"""The van stock API for dispatchers and managers: the catalogue, depots, each
technician's van, issue / return / write-off, and the ledger."""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.api import BEARER, Blueprint
from core.auth import require_roles
from core.db import get_session
from technicians import stock
from technicians.stock_schemas import (
    DepotCreateSchema,
    DepotSchema,
    LedgerQuerySchema,
    StockItemSchema,
    StockMoveRequestSchema,
    StockMoveSchema,
    VanSchema,
    WriteOffRequestSchema,
)

blp = Blueprint("stock", __name__, url_prefix="/api/v1", description="Equipment in the vans")


def _lines(args: dict) -> list[stock.MoveRequest]:
    return [
        stock.MoveRequest(line["item"], line.get("quantity"), tuple(line.get("serials") or ()))
        for line in args["lines"]
    ]


@blp.route("/stock/items")
@require_roles("dispatcher", "manager", "admin")
@blp.response(200, StockItemSchema(many=True))
@blp.doc(security=BEARER)
def stock_items():
    """The items catalogue (from the bill-of-materials rule file)."""
    return stock.list_items(get_session())


@blp.route("/stock/depots")
class Depots(MethodView):
    @require_roles("dispatcher", "manager", "admin")
    @blp.response(200, DepotSchema(many=True))
    @blp.doc(security=BEARER)
    def get(self):
        """Every depot."""
        return stock.list_depots(get_session())

    @require_roles("dispatcher", "admin")
    @blp.arguments(DepotCreateSchema)
    @blp.response(201, DepotSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """Register a depot."""
        return stock.create_depot(get_session(), g.actor, args)


@blp.route("/technicians/<int:technician_id>/stock")
@require_roles("dispatcher", "manager", "admin")
@blp.response(200, VanSchema)
@blp.doc(security=BEARER)
def technician_van(technician_id: int):
    """What a technician's van holds, with the serials in it."""
    return stock.van(get_session(), technician_id)


@blp.route("/technicians/<int:technician_id>/stock/issue", methods=["POST"])
@require_roles("dispatcher", "admin")
@blp.arguments(StockMoveRequestSchema)
@blp.response(201, StockMoveSchema(many=True))
@blp.doc(security=BEARER)
def issue_stock(args, technician_id: int):
    """Load a van from a depot (serialised items: one serial per unit)."""
    return stock.issue(get_session(), g.actor, technician_id, _lines(args), args.get("depot_id"))


@blp.route("/technicians/<int:technician_id>/stock/return", methods=["POST"])
@require_roles("dispatcher", "admin")
@blp.arguments(StockMoveRequestSchema)
@blp.response(201, StockMoveSchema(many=True))
@blp.doc(security=BEARER)
def return_stock(args, technician_id: int):
    """Items back from a van to a depot (409 when the van holds fewer)."""
    return stock.return_to_depot(get_session(), g.actor, technician_id, _lines(args), args.get("depot_id"))


@blp.route("/technicians/<int:technician_id>/stock/write-off", methods=["POST"])
@require_roles("dispatcher", "admin")
@blp.arguments(WriteOffRequestSchema)
@blp.response(201, StockMoveSchema(many=True))
@blp.doc(security=BEARER)
def write_off_stock(args, technician_id: int):
    """Items lost or broken in a van, with the reason (409 when the van holds fewer)."""
    return stock.write_off(get_session(), g.actor, technician_id, _lines(args), args["reason"])


@blp.route("/stock/moves")
@require_roles("dispatcher", "manager", "admin")
@blp.arguments(LedgerQuerySchema, location="query")
@blp.response(200, StockMoveSchema(many=True))
@blp.doc(security=BEARER)
def stock_moves(args):
    """The ledger, newest first: by technician, item, serial or order."""
    return stock.ledger(get_session(), **args)
