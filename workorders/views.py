"""Work order, customer, site and line endpoints. Thin: parse, call the service, return."""

from __future__ import annotations

from flask import current_app, g, jsonify, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from core.api import BEARER, Blueprint, current_lang
from core.audit import trail
from core.auth import require_roles
from core.db import get_session
from core.errors import N_, Invalid, NotFound, refuse
from core.schemas import AuditEventSchema, CityDateTime
from workorders import comments, evidence, fault_reports, hotline, photos, service
from workorders.customer_schemas import OrderPreviewSchema
from workorders.lifecycle import STAFF
from workorders.schemas import (
    CommentSchema,
    CrewSizeSchema,
    CustomerOrderSchema,
    HandoverSchema,
    OverrideSchema,
    PhotoSchema,
    SlaPauseSchema,
    TransitionSchema,
    WorkOrderCreateSchema,
    WorkOrderQuerySchema,
    WorkOrderSchema,
)

blp = Blueprint(
    "workorders", __name__, url_prefix="/api/v1", description="Work orders, customers, sites and line records"
)

STAFF_ROLES = tuple(sorted(STAFF))
READ_ROLES = STAFF_ROLES + ("technician", "customer")


class OrderIntakeSchema(WorkOrderCreateSchema):
    """A new order, with what a reported fault adds (written into the description)."""

    fault_since = CityDateTime(
        allow_none=True,
        metadata={"description": "Since when the fault is seen (city time, not in the future)."},
    )
    site_contact_name = fields.String(validate=validate.Length(min=1, max=80))
    site_contact_phone = fields.String(validate=validate.Regexp(r"^[0-9+\- ]{3,30}$"))
    duplicate_ok = fields.Boolean(
        load_default=False,
        metadata={
            "description": "Take a repair although one is open for the same site and line "
            "(otherwise 409 naming it); audited."
        },
    )


class CommentCreateSchema(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=comments.MAX_BODY))


def _render(order, status: int = 200):
    """The staff view (dumped by the route's schema), or the customer's own view.

    Customers get `CustomerOrderSchema`, returned as a finished response so the
    route's staff schema does not apply to it.
    """
    if g.actor.role == "customer":
        body = CustomerOrderSchema().dump(service.customer_view(get_session(), order, current_lang()))
        return jsonify(body), status
    return service.staff_view(order, current_lang())


# One schema documents both views: a customer's is a subset of the staff
# fields plus the status timeline (OpenAPI validators mishandle anyOf of
# components with nullable fields, so no anyOf here).
CALLER_VIEW = (
    "Staff get the whole order; a customer gets their own view: code, product, "
    "state, address, promised times, technician name and the status timeline."
)


def _caller_order(status: int, many: bool = False) -> dict:
    """The documented answer of a route customers use too: the staff order or the customer's view."""
    one = {
        "oneOf": [{"$ref": "#/components/schemas/WorkOrder"}, {"$ref": "#/components/schemas/CustomerOrder"}]
    }
    schema = {"type": "array", "items": one} if many else one
    content = {"application/json": {"schema": schema}}
    return {"responses": {str(status): {"description": CALLER_VIEW, "content": content}}}


def register_spec(api) -> None:
    """Components the routes name by reference only (see :func:`_caller_order`)."""
    api.spec.components.schema("CustomerOrder", schema=CustomerOrderSchema)


def _render_for_caller(orders: list, status: int = 200, many: bool = False):
    """For the routes customers use too: each caller's view, dumped here."""
    session, lang = get_session(), current_lang()
    if g.actor.role == "customer":
        views = [CustomerOrderSchema().dump(service.customer_view(session, o, lang)) for o in orders]
    else:
        views = [WorkOrderSchema().dump(service.staff_view(o, lang)) for o in orders]
    return jsonify(views if many else views[0]), status


# ---------------------------------------------------------------- work orders


@blp.route("/workorders")
class WorkOrders(MethodView):
    @require_roles(*STAFF_ROLES, "customer")
    @blp.arguments(OrderIntakeSchema)
    @blp.doc(security=BEARER, **_caller_order(201))
    def post(self, args):
        """Take a new order; it is validated against the installation code at once.

        A customer reports a fault of their own company's site (another company's site
        answers 404 like a missing one); its source is the customer portal. Staff taking a
        repair for a site and line with an open repair get 409 naming it, unless
        ``duplicate_ok``."""
        session = get_session()
        order = hotline.take_call(session, g.actor, args)
        return _render_for_caller([order], 201)

    @require_roles(*READ_ROLES)
    @blp.arguments(WorkOrderQuerySchema, location="query")
    @blp.doc(security=BEARER, **_caller_order(200, many=True))
    def get(self, args):
        """Orders the caller may see (customers: their own; technicians: assigned to them)."""
        session = get_session()
        orders = service.list_orders(session, g.actor, args)
        service.record_personal_reads(session, g.actor, orders, "order_list")
        return _render_for_caller(orders, many=True)


@blp.route("/workorders/preview", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(OrderIntakeSchema)
@blp.response(200, OrderPreviewSchema)
@blp.doc(security=BEARER)
def order_preview(args):
    """What taking this order (the body of ``POST /workorders``) would give: the intake
    findings (R1, R2, product fit), state, priority, deadlines and any open repair it
    would repeat. Nothing is written; invalid input is refused as the intake refuses it."""
    return hotline.preview_order(get_session(), g.actor, args, current_lang())


@blp.route("/workorders/<int:order_id>")
@require_roles(*READ_ROLES)
@blp.doc(security=BEARER, **_caller_order(200))
def order_detail(order_id: int):
    """One order; customers get their view, others get 404 for orders not theirs."""
    session = get_session()
    order = service.get_order_for(session, g.actor, order_id)
    service.record_personal_reads(session, g.actor, [order], "order_detail")
    return _render_for_caller([order])


@blp.route("/workorders/<int:order_id>/transitions", methods=["POST"])
@require_roles(*STAFF_ROLES, "technician")
@blp.arguments(TransitionSchema)
@blp.response(200, WorkOrderSchema)
@blp.alt_response(409, schema=None, description="Illegal transition or guard refused")
@blp.doc(security=BEARER)
def order_transition(args, order_id: int):
    """Move an order to its next state; the answer names what is allowed when refused."""
    session = get_session()
    order = service.get_order_for(session, g.actor, order_id)
    target = args.pop("to")
    service.transition(session, g.actor, order, target, **args)
    return _render(order)


@blp.route("/workorders/<int:order_id>/handover", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(HandoverSchema)
@blp.response(200, WorkOrderSchema)
@blp.doc(security=BEARER)
def order_handover(args, order_id: int):
    """Hand the order's ownership to another staff member."""
    session = get_session()
    order = service.get_order_for(session, g.actor, order_id)
    service.handover(session, g.actor, order, args["to_user_id"], args.get("reason"))
    return _render(order)


@blp.route("/workorders/<int:order_id>/crew", methods=["PATCH"])
@require_roles(*STAFF_ROLES)
@blp.arguments(CrewSizeSchema)
@blp.response(200, WorkOrderSchema)
@blp.alt_response(409, schema=None, description="The visit is under way or the order closed")
@blp.doc(security=BEARER)
def order_crew(args, order_id: int):
    """How many technicians the order needs on site together (1 or 2). Two: the planner
    puts it into two routes at one start; the lead reports it, the second reads it."""
    session = get_session()
    order = service.get_order_for(session, g.actor, order_id)
    service.set_crew_size(session, g.actor, order, args["crew_size"])
    return _render(order)


@blp.route("/workorders/<int:order_id>/override", methods=["POST"])
@require_roles("dispatcher", "manager", "admin")
@blp.arguments(OverrideSchema)
@blp.response(200, WorkOrderSchema)
@blp.doc(security=BEARER)
def order_override(args, order_id: int):
    """A supervisor lets the order close despite the blocking close-out findings it names
    (default: those blocking now, with their measured values); the signed-in user and the
    reason are recorded. A different or worse finding later needs its own override."""
    session = get_session()
    order = service.get_order_for(session, g.actor, order_id)
    service.record_override(session, g.actor, order, args["reason"], args.get("findings"), by=args.get("by"))
    return _render(order)


@blp.route("/workorders/<int:order_id>/sla/pause", methods=["POST"])
@require_roles(*STAFF_ROLES, "technician")
@blp.arguments(SlaPauseSchema)
@blp.response(200, WorkOrderSchema)
@blp.doc(security=BEARER)
def order_sla_pause(args, order_id: int):
    """Pause the restore clock for customer-caused waiting (reason recorded)."""
    session = get_session()
    order = service.get_order_for(session, g.actor, order_id)
    service.pause_sla(session, g.actor, order, args["reason"], args.get("note"))
    return _render(order)


@blp.route("/workorders/<int:order_id>/sla/resume", methods=["POST"])
@require_roles(*STAFF_ROLES, "technician")
@blp.response(200, WorkOrderSchema)
@blp.doc(security=BEARER)
def order_sla_resume(order_id: int):
    """Restart the clock; the restore deadline moves by the paused time."""
    session = get_session()
    order = service.get_order_for(session, g.actor, order_id)
    service.resume_sla(session, g.actor, order)
    return _render(order)


@blp.route("/workorders/<int:order_id>/audit")
@require_roles(*STAFF_ROLES)
@blp.response(200, AuditEventSchema(many=True))
@blp.doc(security=BEARER)
def order_audit(order_id: int):
    """The order's audit trail, oldest first."""
    session = get_session()
    order = service.get_order_for(session, g.actor, order_id)
    events = trail(session, "work_order", order.id)
    if not events:
        raise NotFound(N_("No audit trail."))
    service.record_personal_reads(session, g.actor, [order], "audit_trail")
    return events


@blp.route("/workorders/<int:order_id>/comments")
class OrderComments(MethodView):
    @require_roles(*STAFF_ROLES, "customer")
    @blp.response(200, CommentSchema(many=True))
    @blp.doc(security=BEARER)
    def get(self, order_id: int):
        """The order's comments, oldest first (its company's users and staff)."""
        session = get_session()
        order = service.get_order_for(session, g.actor, order_id)
        service.record_personal_reads(session, g.actor, [order], "order_comments")
        return comments.list_comments(session, g.actor, order, current_lang())

    @require_roles(*STAFF_ROLES, "customer")
    @blp.arguments(CommentCreateSchema)
    @blp.response(201, CommentSchema)
    @blp.doc(security=BEARER)
    def post(self, args, order_id: int):
        """Comment on the order (1 to 2000 characters); audited."""
        session = get_session()
        order = service.get_order_for(session, g.actor, order_id)
        comment = comments.add_comment(session, g.actor, order, args["body"])
        return comments.comment_view(session, comment, current_lang())


REPORT_PHOTO_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "additionalProperties": False,
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "JPEG or PNG, up to 10 MB.",
                    }
                },
            }
        }
    },
}


@blp.route("/workorders/<int:order_id>/report-photos", methods=["POST"])
@require_roles(*STAFF_ROLES, "customer")
@blp.response(201, PhotoSchema)
@blp.alt_response(200, schema=PhotoSchema, description="The same picture was already added.")
@blp.doc(security=BEARER, requestBody=REPORT_PHOTO_BODY)
def report_photo_upload(order_id: int):
    """Add a photo of the fault to an open repair (multipart: file): what the customer sees,
    checked and cleaned (location and camera data removed) like any evidence photo."""
    session = get_session()
    order = service.get_order_for(session, g.actor, order_id)
    upload = _report_photo_upload()
    raw = upload.stream.read(evidence.MAX_PHOTO_BYTES + 1)
    photo, created = fault_reports.add_report_photo(
        session, g.actor, order, raw, upload.mimetype, current_app.config["PHOTO_DIR"]
    )
    return photos.photo_view(photo, "/api/v1"), 201 if created else 200


def _report_photo_upload():
    if request.mimetype != "multipart/form-data":
        raise refuse(evidence.UnsupportedMediaType, N_("Upload the photo as multipart/form-data."))
    errors = {name: [N_("Unknown field.")] for name in (set(request.form) | set(request.files)) - {"file"}}
    upload = request.files.get("file")
    if upload is None:
        errors["file"] = [N_("Missing data for required field.")]
    if errors:
        raise refuse(Invalid, N_("Some fields are missing or invalid."), errors=errors)
    return upload
