"""Schemas of the hotline agent's customer API (:mod:`workorders.customer_views`): finding a
caller, the customer card, a new customer with their first site, a new site with its line,
and a repeat call on an open order."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.errors import N_
from core.schemas import CityDateTime
from standards import ACCESS_TYPES, PRODUCTS
from workorders.schemas import (
    CommentSchema,
    CustomerCreateSchema,
    LineCreateSchema,
    OrderFindingSchema,
    SiteCreateSchema,
)

PHONE = validate.Regexp(r"^[0-9+\- ]{3,30}$")
# A customer's phone: the length checked first, then the characters (each refusal says one thing).
PHONE_CHARS = validate.Regexp(r"^[0-9+\- ()]*$")
CHANNELS = ("sms", "email")
LANGUAGES = ("zh", "en")


class CircuitLineSchema(LineCreateSchema):
    """A line with the circuit number on the customer's contract and the product on it."""

    access_type = fields.String(required=True, validate=validate.OneOf(ACCESS_TYPES))
    circuit_no = fields.String(allow_none=True, validate=validate.Length(min=1, max=40))
    product = fields.String(allow_none=True, validate=validate.OneOf(PRODUCTS))


class NewSiteSchema(SiteCreateSchema):
    """An address; without lat and lon the configured geocoder places it (or the call is a 422)."""

    line = fields.Nested(CircuitLineSchema, allow_none=True)

    @validates_schema
    def _both_coordinates(self, data: dict, **_kw) -> None:
        if (data.get("lat") is None) != (data.get("lon") is None):
            raise ValidationError(N_("Give both lat and lon, or neither."), "lon")


class NewCustomerSchema(CustomerCreateSchema):
    """A customer as the agent registers them, with their first site (and its line)."""

    phone = fields.String(validate=[validate.Length(max=30), PHONE_CHARS])
    email = fields.Email(allow_none=True, validate=validate.Length(max=120))
    preferred_channel = fields.String(load_default="sms", validate=validate.OneOf(CHANNELS))
    language = fields.String(load_default="zh", validate=validate.OneOf(LANGUAGES))
    site = fields.Nested(NewSiteSchema, allow_none=True)

    @validates_schema
    def _channel_reachable(self, data: dict, **_kw) -> None:
        if data.get("preferred_channel") == "email" and not data.get("email"):
            raise ValidationError(N_("Email notifications need an email address."), "email")


class CustomerSearchQuerySchema(Schema):
    q = fields.String(
        required=True,
        validate=validate.Length(min=1, max=120),
        metadata={"description": "A phone number, name, address or circuit number (or line id)."},
    )
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000_000))


class CustomerSummarySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String(metadata={"enum": ["residential", "enterprise"]})
    kind_label = fields.String()
    enterprise_tier = fields.String(allow_none=True)
    tier_label = fields.String()
    phone = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    preferred_channel = fields.String()
    language = fields.String()
    addresses = fields.List(fields.String())
    open_orders = fields.Integer(metadata={"description": "How many of the customer's orders are open."})


class CustomerPageSchema(Schema):
    items = fields.List(fields.Nested(CustomerSummarySchema))
    total = fields.Integer()
    limit = fields.Integer()
    offset = fields.Integer()


class CardLineSchema(Schema):
    id = fields.Integer()
    access_type = fields.String()
    circuit_no = fields.String(allow_none=True)
    product = fields.String(allow_none=True)
    product_label = fields.String()
    route_length_m = fields.Float(allow_none=True)
    switch_id = fields.String(allow_none=True)
    switch_model = fields.String(allow_none=True)
    switch_occupancy_pct = fields.Float(allow_none=True)
    uplink_raised = fields.Boolean()


class CardSiteSchema(Schema):
    id = fields.Integer()
    customer_id = fields.Integer()
    address = fields.String()
    district = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    lines = fields.List(fields.Nested(CardLineSchema))


class OpenOrderSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    kind = fields.String()
    kind_label = fields.String()
    product = fields.String()
    product_label = fields.String()
    priority = fields.String()
    priority_label = fields.String()
    state = fields.String()
    state_label = fields.String()
    site_id = fields.Integer()
    line_id = fields.Integer(allow_none=True)
    description = fields.String(allow_none=True)
    received_at = CityDateTime()
    restore_deadline = CityDateTime()
    repeat_contacts = fields.Integer(metadata={"description": "Calls recorded on it since it was taken."})


class CustomerCardSchema(CustomerSummarySchema):
    """The customer with their sites, lines and open orders."""

    sites = fields.List(fields.Nested(CardSiteSchema))
    open_orders = fields.List(fields.Nested(OpenOrderSchema))


class RepeatContactSchema(Schema):
    caller_name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    caller_phone = fields.String(allow_none=True, validate=PHONE)
    note = fields.String(allow_none=True, validate=validate.Length(max=1000))


class RepeatContactAnswerSchema(Schema):
    order_id = fields.Integer()
    code = fields.String()
    repeat_contacts = fields.Integer()
    comment = fields.Nested(CommentSchema)


class OpenOrderRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    state = fields.String()


class OrderPreviewSchema(Schema):
    """What taking the order would give; nothing was written."""

    state = fields.String()
    state_label = fields.String()
    blocked = fields.Boolean()
    findings = fields.List(fields.Nested(OrderFindingSchema))
    kind = fields.String()
    product = fields.String()
    priority = fields.String()
    priority_label = fields.String()
    received_at = CityDateTime(allow_none=True)
    response_deadline = CityDateTime()
    restore_deadline = CityDateTime()
    handling_deadline = CityDateTime(allow_none=True)
    deadline_source = fields.String(allow_none=True)
    required_skills = fields.List(fields.String())
    duration_min = fields.Integer()
    rule_set_version = fields.String(allow_none=True)
    duplicate = fields.Boolean(metadata={"description": "An open repair at this site and line exists."})
    open_repairs = fields.List(fields.Nested(OpenOrderRefSchema))
