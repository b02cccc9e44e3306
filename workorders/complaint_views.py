"""Complaint endpoints under /api/v1/complaints. Thin: parse, call workorders.complaints, return."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from marshmallow import RAISE, Schema, fields, validate

from core.api import BEARER, Blueprint, current_lang
from core.auth import require_roles
from core.db import get_session
from core.schemas import MAX_DB_INT, CityDateTime, DbId, lang_query
from standards import PRIORITIES, PRODUCTS
from workorders import complaints, service
from workorders.lifecycle import STAFF, STATES
from workorders.schemas import SOURCES, HandoverSchema, WorkOrderSchema

blp = Blueprint(
    "complaints",
    __name__,
    url_prefix="/api/v1/complaints",
    description="Complaints: taken, answered (24 h), handled (72 h), finally answered (3 working days)",
)

STAFF_ROLES = tuple(sorted(STAFF))
CLOCK_NAMES = list(complaints.CLOCKS)


class ComplaintCreateSchema(Schema):
    customer_id = DbId(required=True, metadata={"example": 42})
    description = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"example": "装机师傅迟到三小时且未提前告知。"},
    )
    source = fields.String(
        load_default="hotline",
        validate=validate.OneOf(SOURCES),
        metadata={
            "description": "The channel: hotline (10000), account_manager, monitoring, portal, walk_in."
        },
    )
    received_at = CityDateTime(
        allow_none=True,
        metadata={"description": "When the customer complained (the clocks start here); default now."},
    )
    parent_id = DbId(
        allow_none=True,
        metadata={"description": "The order complained about; its site, line and product are the defaults."},
    )
    site_id = DbId(allow_none=True)
    line_id = DbId(allow_none=True)
    product = fields.String(validate=validate.OneOf(PRODUCTS), allow_none=True)
    priority = fields.String(validate=validate.OneOf(PRIORITIES), load_default="P3")


class ComplaintQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(STATES))
    owner_id = DbId()
    customer_id = DbId()
    at_risk = fields.Boolean(
        metadata={"description": "true: a running clock is breached or has less than its at-risk share left."}
    )
    escalated = fields.Boolean(metadata={"description": "true: escalated to the managers."})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))
    lang = lang_query("labels")


class ComplaintStepSchema(Schema):
    text = fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "What was said to the customer or done, in words."},
    )
    version = fields.Integer(
        strict=True,
        validate=validate.Range(0, MAX_DB_INT),
        metadata={"description": "Expected order version (optimistic lock); final answer only."},
    )


class ComplaintClockSchema(Schema):
    clock = fields.String(metadata={"enum": CLOCK_NAMES})
    label = fields.String()
    due = CityDateTime()
    done_at = CityDateTime(allow_none=True)
    met = fields.Boolean(allow_none=True)
    breached = fields.Boolean()
    at_risk = fields.Boolean()
    left_s = fields.Integer(allow_none=True)


class ComplaintAnswerSchema(Schema):
    step = fields.String(metadata={"enum": CLOCK_NAMES})
    text = fields.String(allow_none=True)
    by = fields.String()
    at = CityDateTime()


class ComplaintSchema(WorkOrderSchema):
    """A complaint: the staff view of the order with its clocks and what was answered."""

    clocks = fields.List(fields.Nested(ComplaintClockSchema))
    next_clock = fields.String(allow_none=True, metadata={"enum": CLOCK_NAMES})
    at_risk = fields.Boolean()
    escalated = fields.Boolean()
    deadline_source_label = fields.String(
        allow_none=True, metadata={"description": "The calendar the final-answer deadline used, in words."}
    )
    answers = fields.List(fields.Nested(ComplaintAnswerSchema))
    parent_code = fields.String(allow_none=True)


def _view(order):
    return complaints.complaint_view(get_session(), order, current_lang())


@blp.route("")
class Complaints(MethodView):
    @require_roles(*STAFF_ROLES)
    @blp.arguments(ComplaintQuerySchema, location="query", unknown=RAISE)
    @blp.response(200, ComplaintSchema(many=True))
    @blp.doc(security=BEARER)
    def get(self, args):
        """Complaints, newest first: by state, owner, customer, at risk or escalated."""
        session = get_session()
        found = complaints.list_complaints(session, g.actor, args)
        service.record_personal_reads(session, g.actor, found, "complaint_list")
        return [_view(order) for order in found]

    @require_roles(*STAFF_ROLES)
    @blp.arguments(ComplaintCreateSchema)
    @blp.response(201, ComplaintSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """Take a complaint; the taker owns it until an explicit hand-over."""
        order = complaints.create_complaint(get_session(), g.actor, args)
        return _view(order)


@blp.route("/<int:order_id>")
@require_roles(*STAFF_ROLES)
@blp.response(200, ComplaintSchema)
@blp.doc(security=BEARER)
def complaint_detail(order_id: int):
    """One complaint with its clocks, answers and escalation."""
    session = get_session()
    order = complaints.get_complaint(session, g.actor, order_id)
    service.record_personal_reads(session, g.actor, [order], "complaint_detail")
    return _view(order)


@blp.route("/<int:order_id>/answer", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(ComplaintStepSchema)
@blp.response(200, ComplaintSchema)
@blp.alt_response(409, schema=None, description="Answered already, or the complaint is not open")
@blp.doc(security=BEARER)
def complaint_answer(args, order_id: int):
    """Record the answer to the customer (due 24 h after the complaint was received)."""
    session = get_session()
    order = complaints.get_complaint(session, g.actor, order_id)
    complaints.answer(session, g.actor, order, args["text"])
    return _view(order)


@blp.route("/<int:order_id>/handling", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(ComplaintStepSchema)
@blp.response(200, ComplaintSchema)
@blp.alt_response(409, schema=None, description="Recorded already, or the complaint is not open")
@blp.doc(security=BEARER)
def complaint_handling(args, order_id: int):
    """Record the first handling (due 72 h after the complaint was received)."""
    session = get_session()
    order = complaints.get_complaint(session, g.actor, order_id)
    complaints.record_handling(session, g.actor, order, args["text"])
    return _view(order)


@blp.route("/<int:order_id>/final-answer", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(ComplaintStepSchema)
@blp.response(200, ComplaintSchema)
@blp.alt_response(409, schema=None, description="Illegal transition: the complaint is not open")
@blp.doc(security=BEARER)
def complaint_final_answer(args, order_id: int):
    """Give the final answer (due in 3 working days): the complaint is completed; the
    follow-up and closing go through POST /api/v1/workorders/{id}/transitions."""
    session = get_session()
    order = complaints.get_complaint(session, g.actor, order_id)
    complaints.final_answer(session, g.actor, order, args["text"], args.get("version"))
    return _view(order)


@blp.route("/<int:order_id>/handover", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(HandoverSchema)
@blp.response(200, ComplaintSchema)
@blp.doc(security=BEARER)
def complaint_handover(args, order_id: int):
    """Hand the complaint to another staff member explicitly (audited); closed ones stay put."""
    session = get_session()
    order = complaints.get_complaint(session, g.actor, order_id)
    complaints.handover(session, g.actor, order, args["to_user_id"], args.get("reason"))
    return _view(order)
