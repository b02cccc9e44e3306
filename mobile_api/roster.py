"""The technician's own roster on the phone (routes on the ``mobile`` blueprint):
their effective shifts for a span of days, and leave requests (pending until their
supervisor or a manager decides through the staff API, /api/v1/roster)."""

from __future__ import annotations

from flask import g

from core.api import BEARER
from core.db import get_session
from mobile_api.idempotency import HEADER_DOC
from mobile_api.views import CHANGE, READ, blp, field_view, idempotent, refusals
from technicians import leave
from technicians.roster_schemas import (
    DateRangeSchema,
    DayShiftSchema,
    LeaveRequestCreateSchema,
    LeaveRequestSchema,
)
from technicians.service import get_technician
from technicians.shifts import shifts_between


@blp.route("/shifts")
@field_view
@blp.arguments(DateRangeSchema, location="query")
@blp.response(200, DayShiftSchema(many=True))
@blp.doc(security=BEARER)
@refusals(blp, 401, 403, 422)
def my_shifts(args):
    """My shift on each day from ``first`` to ``last`` (null: a day off), on the
    official calendar with leave, overtime and on-call duty."""
    session = get_session()
    return shifts_between(
        session, get_technician(session, g.actor.technician_id), args["first"], args["last"]
    )


@blp.route("/leave-requests", methods=["POST"])
@field_view
@idempotent
@blp.arguments(LeaveRequestCreateSchema)
@blp.response(201, LeaveRequestSchema)
@blp.doc(security=BEARER, parameters=[HEADER_DOC])
@refusals(blp, *CHANGE)
def leave_request(args):
    """Ask for leave or sick days (pending until a supervisor decides)."""
    return leave.request_leave(get_session(), g.actor, g.actor.technician_id, args)


@blp.route("/leave-requests")
@field_view
@blp.response(200, LeaveRequestSchema(many=True))
@blp.doc(security=BEARER)
@refusals(blp, *READ)
def my_leave_requests():
    """My leave requests and their decisions, newest first."""
    return leave.list_requests(get_session(), technician_id=g.actor.technician_id)
