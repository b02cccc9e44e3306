"""Marshmallow schemas for customers, sites, line records and work orders."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.errors import N_
from core.schemas import MAX_DB_INT, CityDateTime, DbId
from standards import KINDS, PRIORITIES, PRODUCTS, TIERS
from standards.crews import MAX_CREW_SIZE
from workorders.lifecycle import STATES

# The channel an order came in by (workorders.labels names each): the 10000 hotline, the
# account manager on the customer's behalf, the network monitoring center, the customer
# portal, a walk-in at a service hall; "customer" is kept for orders taken before these.
SOURCES = ("hotline", "account_manager", "monitoring", "portal", "walk_in", "customer")


class CustomerCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    kind = fields.String(required=True, validate=validate.OneOf(["residential", "enterprise"]))
    enterprise_tier = fields.String(allow_none=True, validate=validate.OneOf(TIERS))
    phone = fields.String(validate=validate.Length(max=30))
    contact_name = fields.String(validate=validate.Length(max=80))

    @validates_schema
    def _tier_fits_kind(self, data: dict, **_kw) -> None:
        if data["kind"] == "enterprise" and not data.get("enterprise_tier"):
            raise ValidationError(N_("Enterprise customers need a tier."), "enterprise_tier")
        if data["kind"] == "residential" and data.get("enterprise_tier"):
            raise ValidationError(N_("Residential customers have no tier."), "enterprise_tier")


class CustomerSchema(CustomerCreateSchema):
    id = fields.Integer(dump_only=True)
    phone = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)


class SiteCreateSchema(Schema):
    address = fields.String(required=True, validate=validate.Length(min=1, max=255))
    district = fields.String(validate=validate.Length(max=40))
    lat = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    lon = fields.Float(allow_none=True, validate=validate.Range(-180, 180))


class SiteSchema(SiteCreateSchema):
    id = fields.Integer(dump_only=True)
    customer_id = fields.Integer(dump_only=True)


class LineCreateSchema(Schema):
    access_type = fields.String(required=True, validate=validate.OneOf(["adsl", "lan"]))
    route_length_m = fields.Float(allow_none=True, validate=validate.Range(0, 100_000))
    switch_id = fields.String(allow_none=True, validate=validate.Length(max=40))
    switch_model = fields.String(allow_none=True, validate=validate.Length(max=60))
    switch_occupancy_pct = fields.Float(allow_none=True, validate=validate.Range(0, 100))
    uplink_raised = fields.Boolean()
    circuit_no = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=40),
        metadata={"description": "The circuit's number on the contract.", "example": "HF-ENT-000123"},
    )
    product = fields.String(
        allow_none=True,
        validate=validate.OneOf(PRODUCTS),
        metadata={"description": "The product the circuit carries."},
    )


class LineSchema(LineCreateSchema):
    id = fields.Integer(dump_only=True)
    site_id = fields.Integer(dump_only=True)


class WorkOrderCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS), metadata={"example": "repair"})
    product = fields.String(
        required=True,
        validate=validate.Length(min=1, max=40),
        metadata={
            "example": "adsl",
            "description": "A product code (the values of WorkOrder.product); another code "
            "is taken but blocked by the intake rules (finding ORDER_CODE).",
        },
    )
    priority = fields.String(
        validate=validate.OneOf(PRIORITIES),
        metadata={
            "description": "Set by staff; left out, a fault gets the rules' priority from "
            "service_down and the customer's tier (P1 for a service down at a group, provincial "
            "or local A enterprise), anything else P3. For a fault a customer reports, the rules "
            "set it (see service_down); a value sent is ignored."
        },
    )
    service_down = fields.Boolean(
        load_default=False,
        metadata={
            "description": "The customer's service is down (not just degraded): raises the "
            "priority the rules give a customer-reported fault."
        },
    )
    source = fields.String(load_default="hotline", validate=validate.OneOf(SOURCES))
    customer_id = DbId(required=True, metadata={"example": 42})
    site_id = DbId(required=True, metadata={"example": 7})
    line_id = DbId(allow_none=True)
    parent_id = DbId(allow_none=True)
    description = fields.String(
        validate=validate.Length(max=2000), metadata={"example": "No broadband since this morning."}
    )
    appointment_start = CityDateTime(allow_none=True)
    appointment_end = CityDateTime(allow_none=True)
    crew_size = fields.Integer(
        load_default=None,
        validate=validate.Range(min=1, max=MAX_CREW_SIZE),
        metadata={
            "description": "Technicians needed on site together (2: planned into two routes at "
            "one start). Staff only; default from the rules (SDH and MPLS VPN installs: 2, "
            "else 1). A customer's value is ignored."
        },
    )
    received_at = CityDateTime(
        allow_none=True,
        metadata={
            "description": "When the customer reached us (the call, the hand-over from the "
            "monitoring center), if before the order is keyed in: every deadline counts from "
            "it. Intake staff only (a customer's order is received when submitted); not in "
            "the future, at most 7 days back; audited with who set it. Default: now."
        },
    )

    @validates_schema
    def _window_order(self, data: dict, **_kw) -> None:
        start, end = data.get("appointment_start"), data.get("appointment_end")
        if (start is None) != (end is None):
            raise ValidationError(N_("Give both ends of the appointment window."), "appointment_end")
        if start and end and end <= start:
            raise ValidationError(N_("The window must end after it starts."), "appointment_end")


class ChecklistAnswerSchema(Schema):
    answers = fields.Dict(keys=fields.String(), required=True)


class OverrideFindingSchema(Schema):
    """One blocking close-out finding an override covers."""

    rule_id = fields.String(
        required=True, validate=validate.Length(min=1, max=40), metadata={"example": "R8"}
    )
    item_id = fields.String(
        validate=validate.Length(min=1, max=60), metadata={"example": "r8_power_line_distance_cm"}
    )


class OverrideSchema(Schema):
    """A supervisor's close-out override: the reason and the blocking findings it covers.

    The overriding user is the one signed in; a name in ``by`` is refused (422), and
    an override from anyone but a supervisor is refused (403)."""

    reason = fields.String(required=True, validate=validate.Length(min=3, max=500))
    findings = fields.List(
        fields.Nested(OverrideFindingSchema),
        validate=validate.Length(min=1, max=50),
        metadata={
            "description": "The blocking findings covered (rule id, optionally the item); "
            "default: every finding blocking now, each with the value measured now."
        },
    )
    by = fields.String(
        load_only=True,
        metadata={"description": "Refused: the override is recorded under the signed-in user."},
    )


class FollowUpSchema(Schema):
    method = fields.String(required=True, validate=validate.OneOf(["phone", "visit"]))
    satisfied = fields.Boolean(required=True)
    service_working = fields.Boolean(load_default=True)
    satisfaction = fields.Integer(strict=True, validate=validate.Range(1, 5))
    note = fields.String(validate=validate.Length(max=2000))


class TransitionSchema(Schema):
    to = fields.String(required=True, validate=validate.OneOf(STATES))
    version = fields.Integer(
        strict=True,
        validate=validate.Range(0, MAX_DB_INT),
        metadata={"description": "Expected order version (optimistic lock)."},
    )
    reason = fields.String(validate=validate.Length(min=1, max=500))
    technician_id = DbId()
    planned_start = CityDateTime()
    lat = fields.Float(validate=validate.Range(-90, 90))
    lon = fields.Float(validate=validate.Range(-180, 180))
    checklist = fields.Dict(keys=fields.String())
    override = fields.Nested(OverrideSchema)
    followup = fields.Nested(FollowUpSchema)


class SlaPauseSchema(Schema):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(["customer_absent", "site_inaccessible", "customer_requested_delay"]),
    )
    note = fields.String(validate=validate.Length(max=500))


class HandoverSchema(Schema):
    to_user_id = DbId(required=True)
    reason = fields.String(validate=validate.Length(max=500))


class WorkOrderQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(STATES))
    kind = fields.String(validate=validate.OneOf(KINDS))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    district = fields.String()
    technician_id = DbId()
    customer_id = DbId()
    site_id = DbId()
    line_id = DbId(metadata={"description": "The circuit (line record) id."})
    source = fields.String(validate=validate.OneOf(SOURCES), metadata={"description": "The intake channel."})
    created_from = CityDateTime(metadata={"description": "Taken at or after this time."})
    created_to = CityDateTime(metadata={"description": "Taken before this time."})
    updated_since = CityDateTime(
        metadata={
            "description": "Only orders changed (state, times, a new comment) at or after this "
            "time: poll with the time of your previous poll."
        }
    )
    parent_id = DbId(metadata={"description": "Orders opened from this one (repeat repairs, visits)."})
    repeat = fields.Boolean(metadata={"description": "true: repeat faults only; false: none of them."})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class OrderFindingSchema(Schema):
    """A standards finding in both languages; `message` is in the reader's language."""

    rule_id = fields.String()
    check = fields.String()
    severity = fields.String(metadata={"description": "block | warn"})
    measured = fields.Float(allow_none=True)
    unit = fields.String(allow_none=True)
    limit = fields.Float(allow_none=True)
    message = fields.String()
    message_zh = fields.String()
    message_en = fields.String()
    remedy_zh = fields.String(allow_none=True)
    remedy_en = fields.String(allow_none=True)
    params = fields.Dict()


class TimelineEntrySchema(Schema):
    state = fields.String()
    state_label = fields.String()
    at = CityDateTime(allow_none=True)


class SlaPauseEntrySchema(Schema):
    start = CityDateTime()
    reason = fields.String(
        metadata={"enum": ["customer_absent", "site_inaccessible", "customer_requested_delay"]}
    )
    end = CityDateTime(allow_none=True, metadata={"description": "null while the pause lasts."})


class SlaStatusSchema(Schema):
    """Where the order stands against its deadlines (workorders.sla.sla_status)."""

    paused = fields.Boolean()
    pauses = fields.List(fields.Nested(SlaPauseEntrySchema))
    paused_s = fields.Integer(metadata={"description": "Seconds the restore clock stood still."})
    restore_deadline = CityDateTime(metadata={"description": "Restore deadline, pauses included."})
    restore_breached = fields.Boolean()
    response_breached = fields.Boolean()
    source = fields.String(allow_none=True)


class WorkOrderSchema(Schema):
    """The staff view of an order."""

    id = fields.Integer()
    code = fields.String()
    kind = fields.String(metadata={"enum": list(KINDS), "example": "repair"})
    product = fields.String(metadata={"enum": list(PRODUCTS), "example": "adsl"})
    priority = fields.String(metadata={"enum": list(PRIORITIES), "example": "P2"})
    source = fields.String()
    description = fields.String(allow_none=True)
    state = fields.String(metadata={"enum": list(STATES), "example": "assigned"})
    state_label = fields.String()
    kind_label = fields.String()
    product_label = fields.String()
    priority_label = fields.String()
    allowed_next = fields.List(fields.String())
    customer_id = fields.Integer()
    customer_name = fields.String()
    customer_kind = fields.String()
    enterprise_tier = fields.String(allow_none=True)
    site_id = fields.Integer()
    address = fields.String()
    district = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    line_id = fields.Integer(allow_none=True)
    parent_id = fields.Integer(allow_none=True)
    is_repeat_fault = fields.Boolean(
        metadata={"description": "A repair opened because a follow-up found the earlier job did not hold."}
    )
    owner_id = fields.Integer(allow_none=True)
    owner_name = fields.String(allow_none=True)
    technician_id = fields.Integer(allow_none=True)
    technician_name = fields.String(allow_none=True)
    crew_size = fields.Integer(metadata={"description": "Technicians on site together (1 or 2)."})
    second_technician_id = fields.Integer(
        allow_none=True, metadata={"description": "A two-technician job's second; technician_id is the lead."}
    )
    second_technician_name = fields.String(allow_none=True)
    appointment_start = CityDateTime(allow_none=True)
    appointment_end = CityDateTime(allow_none=True)
    planned_start = CityDateTime(allow_none=True)
    received_at = CityDateTime(metadata={"description": "When the customer reached us; clocks start here."})
    response_deadline = CityDateTime()
    responded_at = CityDateTime(allow_none=True)
    handling_deadline = CityDateTime(
        allow_none=True, metadata={"description": "Complaints: first handling due (72 h)."}
    )
    handled_at = CityDateTime(allow_none=True)
    escalated_at = CityDateTime(
        allow_none=True, metadata={"description": "Complaints: when a clock at risk escalated it."}
    )
    restore_deadline = CityDateTime()
    deadline_source = fields.String(
        allow_none=True,
        metadata={
            "description": "Which calendar set restore_deadline: clock-hours, chinesecalendar "
            "(the official calendar), operator-file, holidays-fallback (statutory holidays "
            "without moved working weekends) or weekends-only."
        },
    )
    sla = fields.Nested(SlaStatusSchema)
    required_skills = fields.List(fields.String())
    duration_min = fields.Integer()
    rule_set_version = fields.String(allow_none=True)
    blocked = fields.Boolean()
    findings = fields.List(fields.Nested(OrderFindingSchema))
    checklist = fields.Dict()
    closeout_findings = fields.List(fields.Dict())
    override = fields.Dict(allow_none=True)
    followup_method = fields.String(allow_none=True)
    followup_satisfied = fields.Boolean(allow_none=True)
    followup_note = fields.String(allow_none=True)
    arrived_at = CityDateTime(allow_none=True)
    completed_at = CityDateTime(allow_none=True)
    closed_at = CityDateTime(allow_none=True)
    fault_since = CityDateTime(allow_none=True, metadata={"description": "Reported: the fault began then."})
    site_contact_name = fields.String(allow_none=True, metadata={"description": "Whom to call on site."})
    site_contact_phone = fields.String(allow_none=True)
    state_reason = fields.String(allow_none=True)
    eta = fields.Nested(
        "EtaSchema", allow_none=True, metadata={"description": "The live ETA, only while en route."}
    )
    timeline = fields.List(
        fields.Nested(TimelineEntrySchema),
        metadata={
            "description": "The customer's view only: received, assigned, en route, on site, restored."
        },
    )
    created_at = CityDateTime()
    updated_at = CityDateTime()
    version = fields.Integer()


class CustomerStepSchema(Schema):
    """One step of the customer's timeline, in the customer's words (never an internal state)."""

    state = fields.String(
        metadata={
            "description": "received | assigned | en_route | on_site | done | "
            "followed_up | cancelled | revisit"
        }
    )
    state_label = fields.String()
    at = CityDateTime(allow_none=True, metadata={"description": "When reached; null: not yet."})
    done = fields.Boolean()
    current = fields.Boolean()


class PromiseSchema(Schema):
    kind = fields.String(metadata={"description": "restore (a fault) | completion (an install)"})
    label = fields.String()
    due = CityDateTime()
    met = fields.Boolean(allow_none=True)
    breached = fields.Boolean()
    at_risk = fields.Boolean()


class WaitingSchema(Schema):
    flag = fields.Boolean(metadata={"description": "Waiting for a technician to be sent."})
    urgent = fields.Boolean()
    until = CityDateTime(allow_none=True)
    text = fields.String(allow_none=True)


class EtaSchema(Schema):
    eta = CityDateTime(allow_none=True, metadata={"description": "Expected arrival; null: see note."})
    travel_s = fields.Integer(allow_none=True)
    distance_m = fields.Integer(allow_none=True)
    position_at = CityDateTime(
        allow_none=True, metadata={"description": "The position it was computed from."}
    )
    computed_at = CityDateTime()
    note = fields.String(allow_none=True, metadata={"description": "no_recent_position | no_position"})
    note_text = fields.String(allow_none=True)


class CustomerOrderSchema(Schema):
    """What a customer sees of their own order: no staff names, no internal findings."""

    id = fields.Integer()
    code = fields.String()
    kind = fields.String(metadata={"enum": list(KINDS), "example": "repair"})
    product = fields.String(metadata={"enum": list(PRODUCTS), "example": "adsl"})
    priority = fields.String(metadata={"enum": list(PRIORITIES), "example": "P2"})
    state = fields.String(metadata={"enum": list(STATES), "example": "assigned"})
    state_label = fields.String()
    kind_label = fields.String()
    product_label = fields.String()
    priority_label = fields.String()
    address = fields.String()
    description = fields.String(allow_none=True)
    appointment_start = CityDateTime(allow_none=True)
    appointment_end = CityDateTime(allow_none=True)
    planned_start = CityDateTime(allow_none=True)
    received_at = CityDateTime(metadata={"description": "When we received the order."})
    response_deadline = CityDateTime()
    restore_deadline = CityDateTime(metadata={"description": "Promised restore time."})
    technician_name = fields.String(allow_none=True)
    second_technician_name = fields.String(
        allow_none=True, metadata={"description": "A two-technician job's second technician."}
    )
    parent_id = fields.Integer(allow_none=True)
    created_at = CityDateTime()
    updated_at = CityDateTime(metadata={"description": "Last change; the cursor for updated_since."})
    timeline = fields.List(fields.Nested(CustomerStepSchema))
    open = fields.Boolean()
    site_id = fields.Integer()
    district = fields.String(allow_none=True)
    circuit_id = fields.Integer(allow_none=True, metadata={"description": "The line (circuit) record."})
    circuit_no = fields.String(
        allow_none=True, metadata={"description": "The circuit's number on the contract."}
    )
    circuit_product = fields.String(allow_none=True, metadata={"description": "The product on the circuit."})
    fault_since = CityDateTime(allow_none=True, metadata={"description": "Reported: the fault began then."})
    site_contact_name = fields.String(allow_none=True, metadata={"description": "Whom to call on site."})
    site_contact_phone = fields.String(allow_none=True)
    access_type = fields.String(allow_none=True)
    promise = fields.Nested(PromiseSchema)
    waiting = fields.Nested(WaitingSchema)
    eta = fields.Nested(EtaSchema, allow_none=True, metadata={"description": "Only while en route."})


class PhotoSchema(Schema):
    id = fields.String(metadata={"description": "Unguessable photo id."})
    order_id = fields.Integer()
    item_id = fields.String()
    sha256 = fields.String()
    mime = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    size_bytes = fields.Integer()
    taken_at = CityDateTime(allow_none=True, metadata={"description": "EXIF capture time, kept as evidence."})
    gps_lat = fields.Float(allow_none=True)
    gps_lon = fields.Float(allow_none=True)
    created_at = CityDateTime()
    url = fields.String()


class CommentSchema(Schema):
    """A comment on an order as its readers see it (the order's panel, the portal, the hotline)."""

    id = fields.Integer()
    body = fields.String()
    created_at = CityDateTime()
    author_name = fields.String(allow_none=True)
    author_role = fields.String(allow_none=True)
    author_role_label = fields.String()
    mine = fields.Boolean()


class CrewSizeSchema(Schema):
    crew_size = fields.Integer(required=True, validate=validate.Range(min=1, max=MAX_CREW_SIZE))
