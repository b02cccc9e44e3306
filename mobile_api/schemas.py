"""Schemas of the mobile API: strict about what the phone sends, explicit about answers.

Unknown fields are refused (marshmallow's default), numbers and booleans must be
JSON numbers and booleans (no "12" or "yes"), coordinates must be on the globe,
and timestamps from the phone's clock must be plausible.
"""

from __future__ import annotations

import numbers
from datetime import datetime, timedelta

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from core.clock import now, to_local_naive
from core.errors import N_
from core.schemas import CityDateTime
from mobile_api.messages import NOT_ACCEPTED, FieldMessage
from technicians.stock_schemas import MAX_LINES, MAX_QUANTITY, MoveLineSchema
from workorders.schemas import PhotoSchema  # noqa: F401 - the photo endpoints answer it

EARLIEST_CLIENT_TIME = datetime(2000, 1, 1)
# Phone clocks drift; a timestamp further ahead than this is refused as impossible.
CLIENT_CLOCK_AHEAD = timedelta(minutes=10)
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{7,99}$"

STATUSES = ("en_route", "arrived", "started", "paused", "resumed", "completed", "failed")
SLA_PAUSE_REASONS = ("customer_absent", "site_inaccessible", "customer_requested_delay")
WORK_PAUSE_REASONS = ("waiting_for_parts", "technician_break", "other")
PAUSE_REASONS = SLA_PAUSE_REASONS + WORK_PAUSE_REASONS
FOLLOWUP_METHODS = ("phone", "visit")
SYNC_ACTION_TYPES = ("status", "checklist", "followup", "followup_request", "location")
MAX_PINGS_PER_BATCH = 500
MAX_SYNC_ACTIONS = 100
MAX_ID = 2_147_483_647  # the database's integer range


# ---------------------------------------------------------------- validators
#
# Each refuses with a FieldMessage (a msgid and its values), rendered in the
# reader's language by the views (mobile_api.messages).


def between(low: float, high: float) -> validate.Range:
    return validate.Range(low, high, error=FieldMessage(N_("Must be between %(min)s and %(max)s.")))


def length(low: int | None = None, high: int | None = None) -> validate.Length:
    """The length of a text: at least `low`, at most `high` characters."""
    if low is not None and high is not None:
        message = N_("Must be %(min)s to %(max)s characters long.")
    elif low is not None:
        message = N_("Must be at least %(min)s characters long.")
    else:
        message = N_("Must be at most %(max)s characters long.")
    return validate.Length(low, high, error=FieldMessage(message))


def count(low: int, high: int) -> validate.Length:
    """The number of items in a list: `low` to `high`."""
    return validate.Length(low, high, error=FieldMessage(N_("Give %(min)s to %(max)s items.")))


class EquipmentLineSchema(MoveLineSchema):
    """One item used at close-out, refused in the phone's words (the stock API's line otherwise)."""

    item = fields.String(required=True, validate=length(1, 40))
    quantity = fields.Integer(
        validate=between(1, MAX_QUANTITY), metadata=MoveLineSchema().fields["quantity"].metadata
    )
    serials = fields.List(
        fields.String(validate=length(1, 60)),
        load_default=list,
        validate=count(0, MAX_QUANTITY),
        metadata=MoveLineSchema().fields["serials"].metadata,
    )


def one_of(choices: tuple[str, ...] | list[str]) -> validate.OneOf:
    # The accepted codes are in the OpenAPI description (enum), not in the text a person reads.
    return validate.OneOf(choices, error=FieldMessage(NOT_ACCEPTED))


def pattern(regex: str, message: str) -> validate.Regexp:
    return validate.Regexp(regex, error=FieldMessage(message))


# ---------------------------------------------------------------- strict fields


class StrictFloat(fields.Float):
    """A JSON number only: strings and booleans are wrong types, not numbers."""

    def _validated(self, value):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise self.make_error("invalid")
        return super()._validated(value)


class StrictInteger(fields.Integer):
    """A JSON integer only (booleans are not integers here)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(strict=True, **kwargs)

    def _validated(self, value):
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._validated(value)


class StrictBoolean(fields.Boolean):
    """true or false only (no "yes", 1 or "on")."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class ClientTime(fields.DateTime):
    """A time from the phone's clock, as city wall-clock time, refused when impossible.

    With an offset it is converted to city time; without one it is taken as city time.
    Before 2000 or more than CLIENT_CLOCK_AHEAD in the future is refused.
    """

    default_error_messages = {"invalid": N_("Not a date and time (ISO 8601).")}

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            parsed = to_local_naive(super()._deserialize(value, attr, data, **kwargs))
        except OverflowError:  # 0001-01-01T00:00:01+01:00 has no city time
            raise ValidationError(N_("Impossible time: before 2000-01-01.")) from None
        if parsed < EARLIEST_CLIENT_TIME:
            raise ValidationError(N_("Impossible time: before 2000-01-01."))
        if parsed > now() + CLIENT_CLOCK_AHEAD:
            raise ValidationError(N_("Impossible time: in the future by the server's clock."))
        return parsed


class Ready(fields.Nested):
    """Nested data the service already made JSON-ready (the checklist template, findings):
    documented as the nested schema, passed through as is. The route repeats the same
    template for every stop, and dumping it field by field is most of the route's time."""

    def _serialize(self, nested_obj, attr, obj, **kwargs):
        return nested_obj


def latitude(**kwargs) -> StrictFloat:
    return StrictFloat(validate=between(-90, 90), **kwargs)


def longitude(**kwargs) -> StrictFloat:
    return StrictFloat(validate=between(-180, 180), **kwargs)


def accuracy(**kwargs) -> StrictFloat:
    return StrictFloat(validate=between(0, 100_000), allow_none=True, **kwargs)


# ---------------------------------------------------------------- requests


class StatusChangeSchema(Schema):
    status = fields.String(
        required=True,
        validate=one_of(STATUSES),
        metadata={
            "description": "en_route, arrived (needs lat/lon), started, paused (needs reason), "
            "resumed, completed (runs the close-out check), failed (needs reason)."
        },
    )
    lat = latitude()
    lon = longitude()
    accuracy_m = accuracy()
    reason = fields.String(
        validate=length(1, 500),
        metadata={
            "description": "paused: one of "
            + ", ".join(PAUSE_REASONS)
            + " (the first three pause the SLA clock); failed: why, in words."
        },
    )
    note = fields.String(validate=length(high=500))
    version = StrictInteger(
        validate=between(0, MAX_ID),
        metadata={"description": "The order version the phone last saw (optimistic lock)."},
    )
    client_time = ClientTime(metadata={"description": "When it happened, by the phone's clock."})
    equipment = fields.List(
        fields.Nested(EquipmentLineSchema),
        validate=length(high=MAX_LINES),
        metadata={
            "description": "completed: the equipment used, from my van (item, quantity, serials); "
            "checked against the order's bill of materials and my van."
        },
    )
    override = fields.Raw(
        load_only=True,
        metadata={
            "description": "Refused (403): only a supervisor overrides the checklist, "
            "through the staff API (POST /api/v1/workorders/{id}/override)."
        },
    )

    @validates_schema
    def _fix_is_whole(self, data: dict, **_kw) -> None:
        if (data.get("lat") is None) != (data.get("lon") is None):
            raise ValidationError(N_("Give both the latitude and the longitude, or neither."), "lon")


class ChecklistSubmitSchema(Schema):
    answers = fields.Dict(
        keys=fields.String(validate=length(1, 60)),
        values=fields.Raw(allow_none=True),
        required=True,
        metadata={
            "description": "item id -> true/false (boolean and consent items), a number or "
            '{"value": n, "unit": "cm"} (measurements); null clears an answer.'
        },
    )
    client_time = ClientTime()
    override = fields.Raw(
        load_only=True,
        metadata={
            "description": "Refused (403): only a supervisor overrides the checklist, "
            "through the staff API (POST /api/v1/workorders/{id}/override)."
        },
    )


class PingSchema(Schema):
    lat = latitude(required=True)
    lon = longitude(required=True)
    accuracy_m = accuracy()
    recorded_at = ClientTime(required=True)


class PingBatchSchema(Schema):
    pings = fields.List(fields.Nested(PingSchema), required=True, validate=count(1, MAX_PINGS_PER_BATCH))
    client_time = ClientTime()


class FollowUpResultSchema(Schema):
    method = fields.String(required=True, validate=one_of(FOLLOWUP_METHODS))
    satisfied = StrictBoolean(required=True)
    service_working = StrictBoolean(load_default=True)
    satisfaction = StrictInteger(
        validate=between(1, 5),
        metadata={"description": "1 to 5; 2 or less opens a repeat repair, like satisfied=false."},
    )
    note = fields.String(validate=length(high=2000))
    client_time = ClientTime()


class FollowUpRequestSchema(Schema):
    method = fields.String(required=True, validate=one_of(FOLLOWUP_METHODS))
    reason = fields.String(required=True, validate=length(1, 500))
    client_time = ClientTime()


class SyncActionSchema(Schema):
    id = fields.String(
        required=True,
        validate=pattern(IDEMPOTENCY_KEY_PATTERN, N_("Use 8 to 100 letters, digits or _.:- characters.")),
        metadata={"description": "The phone's action id; used as its idempotency key."},
    )
    type = fields.String(required=True, validate=one_of(SYNC_ACTION_TYPES))
    order_id = StrictInteger(
        allow_none=True,
        validate=between(1, MAX_ID),
        metadata={"description": "Required except for location batches."},
    )
    payload = fields.Dict(
        keys=fields.String(),
        required=True,
        metadata={
            "description": "The body the matching endpoint takes (status, checklist, followup, "
            "followup-request, location)."
        },
    )
    # Kept as sent: it joins the payload, whose fingerprint must match the online request.
    client_time = fields.String(
        metadata={"format": "date-time", "description": "When the action was taken, by the phone's clock."}
    )

    @validates("client_time")
    def _plausible_time(self, value: str, **_kw) -> None:
        ClientTime().deserialize(value)


class SyncRequestSchema(Schema):
    actions = fields.List(fields.Nested(SyncActionSchema), required=True, validate=count(1, MAX_SYNC_ACTIONS))


class PhotoUploadSchema(Schema):
    """Documentation of the multipart upload (parsed in the view: form and file together)."""

    item_id = fields.String(required=True, validate=length(1, 60))
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


# ---------------------------------------------------------------- answers


class FindingSchema(Schema):
    rule_id = fields.String()
    check = fields.String()
    severity = fields.String()
    item_id = fields.String(allow_none=True)
    measured = fields.Float(allow_none=True)
    unit = fields.String(allow_none=True)
    limit = fields.Float(allow_none=True)
    message = fields.String()
    remedy = fields.String(allow_none=True)


class ChecklistItemSchema(Schema):
    id = fields.String()
    rule_id = fields.String()
    type = fields.String(metadata={"description": "boolean | measurement | consent | photo"})
    label = fields.String()
    label_zh = fields.String()
    label_en = fields.String()
    unit = fields.String(allow_none=True)
    min_value = fields.Float(allow_none=True)
    max_value = fields.Float(allow_none=True)
    required = fields.Boolean()
    photo_required = fields.Boolean()
    required_if = fields.String(allow_none=True)


class SlaSchema(Schema):
    paused = fields.Boolean()
    restore_deadline = CityDateTime()
    restore_breached = fields.Boolean()
    response_deadline = CityDateTime()


class StopSchema(Schema):
    sequence = fields.Integer(allow_none=True)
    order_id = fields.Integer()
    code = fields.String()
    kind = fields.String()
    kind_label = fields.String(metadata={"description": "The kind in the reader's language."})
    product = fields.String()
    product_label = fields.String()
    priority = fields.String()
    priority_label = fields.String()
    state = fields.String()
    state_label = fields.String()
    description = fields.String(allow_none=True)
    planned_start = CityDateTime(allow_none=True, metadata={"description": "Planned arrival."})
    appointment_start = CityDateTime(allow_none=True)
    appointment_end = CityDateTime(allow_none=True)
    duration_min = fields.Integer()
    address = fields.String()
    district = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    customer_name = fields.String()
    contact_name = fields.String(allow_none=True)
    customer_phone = fields.String(
        allow_none=True, metadata={"description": "Masked (138******78) except while the visit is under way."}
    )
    site_contact_name = fields.String(allow_none=True, metadata={"description": "Whom to ask for on site."})
    site_contact_phone = fields.String(
        allow_none=True, metadata={"description": "Masked like customer_phone."}
    )
    fault_since = CityDateTime(
        allow_none=True, metadata={"description": "The customer says it is down since."}
    )
    restore_deadline = CityDateTime(
        metadata={"description": "SLA restore deadline (moved by customer-caused pauses)."}
    )
    sla = fields.Nested(SlaSchema)
    findings = Ready(FindingSchema, many=True)
    checklist = Ready(ChecklistItemSchema, many=True)
    arrived_at = CityDateTime(allow_none=True)
    work_started_at = CityDateTime(allow_none=True)
    paused = fields.Boolean()
    pause_reason = fields.String(allow_none=True)
    allowed_statuses = fields.List(
        fields.String(), metadata={"description": "Status changes the phone may send now."}
    )
    technician_id = fields.Integer(allow_none=True)
    crew_size = fields.Integer(metadata={"description": "2: a two-technician job, both at the same start."})
    second_technician_id = fields.Integer(allow_none=True)
    crew_role = fields.String(
        allow_none=True,
        metadata={
            "description": "lead (reports the order) | second (read-only: statuses are refused "
            "with 409 crew-lead-reports) | null (a one-technician job)."
        },
    )
    version = fields.Integer()


def _wire(value: object) -> object:
    if isinstance(value, datetime):
        return CityDateTime()._serialize(value, None, None)
    if isinstance(value, dict):
        return {key: _wire(item) for key, item in value.items()}
    return value


_STOP_FIELDS = tuple(StopSchema().fields)


def dump_stops(stops: list[dict]) -> list[dict]:
    """StopSchema(many=True).dump(stops), without marshmallow's per-field cost.

    The route is the phone's most frequent request and dumping ~40 fields per stop
    field by field was a third of its time. Stops from mobile_api.service hold only
    JSON types and datetimes; tests check this equals the schema's own dump.
    """
    return [{name: _wire(stop.get(name)) for name in _STOP_FIELDS} for stop in stops]


class LoadLineSchema(Schema):
    item = fields.String()
    quantity = fields.Integer()


class RestockStopSchema(Schema):
    """A planned stop at the depot to load the van."""

    depot_id = fields.Integer(allow_none=True)
    depot_name = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    arrival = CityDateTime()
    departure = CityDateTime()
    before_order_id = fields.Integer(
        allow_none=True, metadata={"description": "The order stop it comes before (null: after the last)."}
    )
    load = fields.List(
        fields.Nested(LoadLineSchema),
        metadata={"description": "What to load: what the day's open orders need beyond the van now."},
    )


class RouteSchema(Schema):
    technician_id = fields.Integer()
    date = fields.Date()
    stops = Ready(StopSchema, many=True, metadata={"description": "In planned order (dumped by dump_stops)."})
    restocks = fields.List(
        fields.Nested(RestockStopSchema),
        metadata={"description": "Depot stops the applied plan gave me today (empty when none)."},
    )


class ShiftSchema(Schema):
    """Today's shift as the roster has it (pattern, rota, leave, overtime)."""

    date = fields.Date()
    start = CityDateTime()
    end = CityDateTime()
    lunch_start = CityDateTime(allow_none=True)
    lunch_end = CityDateTime(allow_none=True)
    max_work_min = fields.Integer()
    on_call = fields.Boolean()
    reason = fields.String(metadata={"description": "The pattern's name, or what changed the day."})


class MeSchema(Schema):
    user_id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    technician_id = fields.Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)
    skills = fields.List(fields.String())
    district = fields.String(allow_none=True)
    shift = fields.Nested(ShiftSchema, allow_none=True, metadata={"description": "null: off today."})
    last_lat = fields.Float(allow_none=True)
    last_lon = fields.Float(allow_none=True)
    last_seen_at = CityDateTime(allow_none=True)


class StatusAnswerSchema(Schema):
    """The order after a status change: compact, the stop itself comes with the route."""

    status = fields.String()
    order_id = fields.Integer()
    state = fields.String()
    state_label = fields.String()
    at = CityDateTime()
    far_from_site = fields.Boolean(
        allow_none=True,
        metadata={"description": "On arrival: the GPS fix is far from the site (accepted, flagged)."},
    )
    distance_from_site_m = fields.Float(allow_none=True)
    sla_paused = fields.Boolean()
    sla = fields.Nested(SlaSchema)
    arrived_at = CityDateTime(allow_none=True)
    work_started_at = CityDateTime(allow_none=True)
    paused = fields.Boolean()
    pause_reason = fields.String(allow_none=True)
    allowed_statuses = fields.List(fields.String())
    version = fields.Integer()


class ChecklistEntrySchema(ChecklistItemSchema):
    answer = fields.Raw(allow_none=True)
    photos = fields.Integer()


class ChecklistStateSchema(Schema):
    order_id = fields.Integer()
    state = fields.String()
    items = fields.List(fields.Nested(ChecklistEntrySchema))
    answers = fields.Dict()
    missing = fields.List(
        fields.Nested(FindingSchema),
        metadata={
            "description": "What still stops close-out: missing, failing or unconfirmed items "
            "and missing photos. Empty when the order may be completed."
        },
    )
    warnings = fields.List(fields.Nested(FindingSchema))
    complete = fields.Boolean()
    override = fields.Dict(allow_none=True)
    version = fields.Integer()


class LocationAnswerSchema(Schema):
    accepted = fields.Integer()
    duplicates = fields.Integer()
    last_lat = fields.Float(allow_none=True)
    last_lon = fields.Float(allow_none=True)
    last_seen_at = CityDateTime(allow_none=True)


class FollowUpAnswerSchema(Schema):
    order_id = fields.Integer()
    state = fields.String()
    followup_method = fields.String(allow_none=True)
    followup_satisfied = fields.Boolean(allow_none=True)
    repeat_order_id = fields.Integer(allow_none=True)


class FollowUpRequestAnswerSchema(Schema):
    order_id = fields.Integer()
    code = fields.String()
    kind = fields.String()
    state = fields.String()
    parent_id = fields.Integer()
    method = fields.String()


class CurrentOrderSchema(Schema):
    state = fields.String()
    technician_id = fields.Integer(allow_none=True)
    version = fields.Integer()


class SyncResultSchema(Schema):
    id = fields.String()
    type = fields.String()
    order_id = fields.Integer(allow_none=True)
    status = fields.String(metadata={"description": "applied | refused | duplicate"})
    http_status = fields.Integer(
        metadata={"description": "The status the matching endpoint answered (or first answered)."}
    )
    response = fields.Raw(
        allow_none=True, metadata={"description": "The matching endpoint's answer when applied."}
    )
    problem = fields.Dict(
        allow_none=True,
        metadata={"description": "Problem details (as the endpoint would answer) when refused."},
    )
    current = fields.Nested(CurrentOrderSchema, allow_none=True)


class SyncAnswerSchema(Schema):
    results = fields.List(fields.Nested(SyncResultSchema))
