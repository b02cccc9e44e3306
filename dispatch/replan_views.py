"""Re-plan notices for dispatchers (/api/v1/dispatch/replans): planned days the
roster changed under (dispatch.replan)."""

from __future__ import annotations

from marshmallow import Schema, fields

from core.api import BEARER, Blueprint
from core.auth import require_roles
from core.db import get_session
from core.schemas import CityDateTime, DbId
from dispatch import replan

blp = Blueprint("replans", __name__, url_prefix="/api/v1/dispatch", description="Re-plan notices")


class ReplanQuerySchema(Schema):
    day = fields.Date()
    plan_id = DbId()
    include_closed = fields.Boolean(load_default=False)


class AffectedOrderSchema(Schema):
    id = fields.Integer()
    code = fields.String()


class ReplanNoticeSchema(Schema):
    id = fields.Integer()
    plan_id = fields.Integer()
    day = fields.Date()
    technician_id = fields.Integer()
    reason = fields.String()
    affected_orders = fields.List(fields.Nested(AffectedOrderSchema))
    created_at = CityDateTime()
    open = fields.Boolean()


@blp.route("/replans")
@require_roles("dispatcher", "manager", "admin")
@blp.arguments(ReplanQuerySchema, location="query")
@blp.response(200, ReplanNoticeSchema(many=True))
@blp.doc(security=BEARER)
def replans(args):
    """Plans (proposed or applied) whose day changed on the roster since: the technician,
    why, and the visits affected. Open until the day is planned again."""
    session = get_session()
    found = replan.replan_notices(session, args.get("day"), args.get("plan_id"), not args["include_closed"])
    return [replan.notice_view(session, notice, is_open) for notice, is_open in found]
