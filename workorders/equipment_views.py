"""Staff API: which customer has the unit with a serial number."""

from __future__ import annotations

from core.api import BEARER, Blueprint
from core.auth import require_roles
from core.db import get_session
from technicians.stock_schemas import SerialQuerySchema, SerialTraceSchema
from workorders import equipment

blp = Blueprint("equipment", __name__, url_prefix="/api/v1", description="Equipment at customers")


@blp.route("/stock/serials")
@require_roles("dispatcher", "manager", "agent", "admin")
@blp.arguments(SerialQuerySchema, location="query")
@blp.response(200, SerialTraceSchema(many=True))
@blp.doc(security=BEARER)
def serial_trace(args):
    """Find a serial: in which van, or at which customer and order, and its moves."""
    return equipment.serial_trace(get_session(), args["serial"])
