"""Follow-up (回访) endpoints: the agents' queue and recording a result. Thin: parse, call
:mod:`workorders.followups`, answer."""

from __future__ import annotations

from flask import g
from marshmallow import Schema, fields, validate

from core.api import BEARER, Blueprint, current_lang
from core.auth import require_roles
from core.clock import now
from core.db import get_session
from core.schemas import CityDateTime, DbId
from workorders import followups
from workorders.lifecycle import STAFF
from workorders.models import FollowUp

blp = Blueprint(
    "followups",
    __name__,
    url_prefix="/api/v1",
    description="Follow-ups (回访) after installs, repairs and complaints, and periodic visits",
)

STAFF_ROLES = tuple(sorted(STAFF))


class FollowUpQuerySchema(Schema):
    due = fields.String(
        validate=validate.OneOf(followups.DUE_SECTIONS),
        metadata={"description": "Open tasks only: overdue (past due), today (due by midnight), later."},
    )
    state = fields.String(validate=validate.OneOf(followups.STATES))
    method = fields.String(validate=validate.OneOf(followups.METHODS))
    reason = fields.String(validate=validate.OneOf(followups.REASONS))
    customer_id = DbId()
    order_id = DbId(metadata={"description": "The order followed up (the parent of a repeat repair)."})
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class FollowUpTaskSchema(Schema):
    """A follow-up task as the agents' queue shows it."""

    id = fields.Integer()
    customer_id = fields.Integer()
    customer_name = fields.String()
    customer_kind = fields.String()
    enterprise_tier = fields.String(allow_none=True)
    tier_label = fields.String()
    phone = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    site_id = fields.Integer(allow_none=True)
    address = fields.String(allow_none=True)
    order_id = fields.Integer(allow_none=True, metadata={"description": "null for a periodic visit."})
    order_code = fields.String(allow_none=True)
    order_kind = fields.String(allow_none=True)
    order_kind_label = fields.String()
    product = fields.String(allow_none=True)
    product_label = fields.String()
    order_state = fields.String(allow_none=True)
    order_completed_at = CityDateTime(allow_none=True)
    reason = fields.String(metadata={"enum": list(followups.REASONS)})
    reason_label = fields.String()
    method = fields.String(metadata={"enum": list(followups.METHODS)})
    method_label = fields.String()
    due_at = CityDateTime()
    due = fields.String(
        allow_none=True, metadata={"description": "overdue | today | later; null once closed."}
    )
    state = fields.String(metadata={"enum": list(followups.STATES)})
    state_label = fields.String()
    attempts = fields.Integer()
    max_attempts = fields.Integer()
    last_attempt_at = CityDateTime(allow_none=True)
    reached = fields.Boolean(allow_none=True)
    service_working = fields.Boolean(allow_none=True)
    satisfaction = fields.Integer(allow_none=True)
    comment = fields.String(allow_none=True)
    recorded_by = fields.Integer(allow_none=True)
    completed_at = CityDateTime(allow_none=True)
    repeat_order_id = fields.Integer(allow_none=True, metadata={"description": "The repeat repair opened."})
    repeat_order_code = fields.String(allow_none=True)
    repeat_order_priority = fields.String(allow_none=True)
    created_at = CityDateTime()


class FollowUpTaskResultSchema(Schema):
    reached = fields.Boolean(required=True, metadata={"description": "false: a call not answered."})
    service_working = fields.Boolean(
        allow_none=True, metadata={"description": "Required when reached: does the service work now?"}
    )
    satisfaction = fields.Integer(
        allow_none=True,
        strict=True,
        validate=validate.Range(1, 5),
        metadata={"description": "Required when reached: 1 (very unsatisfied) to 5 (very satisfied)."},
    )
    comment = fields.String(validate=validate.Length(max=2000))


def _view(task: FollowUp) -> dict:
    return followups.followup_view(task, current_lang(), now())


@blp.route("/followups")
@require_roles(*STAFF_ROLES)
@blp.arguments(FollowUpQuerySchema, location="query")
@blp.response(200, FollowUpTaskSchema(many=True))
@blp.doc(security=BEARER)
def followup_list(args):
    """The follow-up queue, by due time: filter by due (today, overdue, later), state,
    method, reason, customer or the order followed up. The read of customers' phone
    numbers is audited."""
    session = get_session()
    tasks = followups.list_followups(session, args, now())
    followups.record_reads(session, g.actor, tasks, "followup_list")
    return [_view(task) for task in tasks]


@blp.route("/followups/<int:followup_id>")
@require_roles(*STAFF_ROLES)
@blp.response(200, FollowUpTaskSchema)
@blp.doc(security=BEARER)
def followup_detail(followup_id: int):
    """One follow-up task."""
    session = get_session()
    task = followups.get_followup(session, followup_id)
    followups.record_reads(session, g.actor, [task], "followup_detail")
    return _view(task)


@blp.route("/followups/<int:followup_id>/result", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(FollowUpTaskResultSchema)
@blp.response(200, FollowUpTaskSchema)
@blp.alt_response(409, schema=None, description="The follow-up is already closed")
@blp.doc(security=BEARER)
def followup_result(args, followup_id: int):
    """Record a call or visit. Not reached: the task is due again after the retry delay,
    and closed as unreached after the last attempt. Reached: the order is followed up;
    a service not working or a score of 2 or less opens a repeat repair, named in the
    answer (repeat_order_id, repeat_order_code)."""
    session = get_session()
    task = followups.get_followup(session, followup_id)
    followups.record_result(session, g.actor, task, args)
    return _view(task)
