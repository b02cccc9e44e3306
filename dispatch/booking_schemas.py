"""Booking schemas: the slots proposed for an order, and booking one."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import MAX_DB_INT, CityDateTime, DbId, lang_query
from dispatch.balancing import MAX_MOVES
from dispatch.booking import DEFAULT_DAYS, MAX_DAYS
from standards import PRODUCTS


def _reason(slot: dict) -> str:
    return slot["reason"].render()


class SlotQuerySchema(Schema):
    days = fields.Integer(
        load_default=DEFAULT_DAYS,
        validate=validate.Range(1, MAX_DAYS),
        metadata={"description": "Working days ahead to propose slots on (today included)."},
    )
    lang = lang_query("reasons")


class DraftSlotsSchema(SlotQuerySchema):
    """An order not taken yet: where, what kind and product (as the intake would take it)."""

    site_id = DbId(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["install", "repair"]))
    product = fields.String(required=True, validate=validate.OneOf(list(PRODUCTS)))
    priority = fields.String(
        load_default="P3",
        validate=validate.OneOf(["P2", "P3"]),
        metadata={"description": "P1 faults are inserted into today's routes, not booked."},
    )


class BookingSchema(Schema):
    day = fields.Date(required=True)
    slot = fields.String(
        required=True,
        validate=validate.Length(min=1, max=10),
        metadata={"description": "The slot's key as proposed, e.g. am / pm.", "example": "am"},
    )
    version = fields.Integer(load_default=None, validate=validate.Range(0, MAX_DB_INT))


class DelayedVisitSchema(Schema):
    order_id = fields.Integer()
    code = fields.String(allow_none=True)
    minutes = fields.Integer(metadata={"description": "How much later it would start."})
    late_min = fields.Integer(metadata={"description": "Minutes past its deadline, if any."})


class CustomerSlotSchema(Schema):
    """A slot as a customer sees it: when, whether it can be booked, and why."""

    day = fields.Date()
    slot = fields.String()
    start = CityDateTime()
    end = CityDateTime()
    feasible = fields.Boolean()
    rank = fields.Integer(
        allow_none=True, metadata={"description": "1 is the best slot; none when not bookable."}
    )
    reason = fields.Function(
        _reason, metadata={"description": "Why, in a few words, in the reader's language."}
    )


class SlotSchema(CustomerSlotSchema):
    """A slot with what it costs the plans already made (staff)."""

    reason_code = fields.String(allow_none=True)
    cost = fields.Integer(allow_none=True, metadata={"description": "The routing model's added cost."})
    technician_id = fields.Integer(allow_none=True)
    technician_name = fields.String(allow_none=True)
    expected_start = CityDateTime(allow_none=True)
    extra_travel_m = fields.Integer(allow_none=True)
    free_min = fields.Integer(allow_none=True, metadata={"description": "Shift time left after the route."})
    delayed = fields.List(fields.Nested(DelayedVisitSchema))
    late_orders = fields.Integer()


# ---------------------------------------------------------------- balancing the week


class BalanceQuerySchema(Schema):
    start_day = fields.Date(load_default=None, metadata={"description": "Default today."})
    days = fields.Integer(load_default=5, validate=validate.Range(2, MAX_DAYS))
    lang = lang_query("reasons")


class DayLoadSchema(Schema):
    day = fields.Date()
    load_min = fields.Integer(metadata={"description": "Time on site booked or planned that day."})
    load_pct = fields.Float(metadata={"description": "Of the active technicians' working time."})
    load_pct_after = fields.Float(metadata={"description": "With the proposed moves."})


class MoveSchema(Schema):
    order_id = fields.Integer()
    code = fields.String()
    version = fields.Integer(metadata={"description": "The order's version the move was proposed on."})
    from_day = fields.Date()
    to_day = fields.Date()
    slot = fields.String()
    start = CityDateTime()
    end = CityDateTime()
    technician_id = fields.Integer(allow_none=True)
    technician_name = fields.String(allow_none=True)
    extra_travel_m = fields.Integer(allow_none=True)
    appointment_agreed = fields.Boolean(metadata={"description": "The customer agreed the current window."})
    reason = fields.Function(_reason)


class BalanceSchema(Schema):
    requested_by = fields.String()
    capacity_min = fields.Integer()
    mean_load_pct = fields.Float()
    days = fields.List(fields.Nested(DayLoadSchema))
    moves = fields.List(fields.Nested(MoveSchema))


# ---------------------------------------------------------------- applying the balance


class AcceptedMoveSchema(Schema):
    """One proposed move the dispatcher accepts, as the proposal returned it."""

    order_id = DbId(required=True)
    version = fields.Integer(
        required=True,
        validate=validate.Range(0, MAX_DB_INT),
        metadata={"description": "The order's version in the proposal: a changed order is refused."},
    )
    from_day = fields.Date(required=True, metadata={"description": "The day it is booked on now."})
    to_day = fields.Date(required=True)
    slot = fields.String(required=True, validate=validate.Length(min=1, max=10))
    customer_asked = fields.Boolean(
        load_default=False,
        metadata={
            "description": "The customer was asked and accepts the new slot; needed when they "
            "agreed the current window (appointment_agreed)."
        },
    )


class BalanceApplySchema(Schema):
    moves = fields.List(
        fields.Nested(AcceptedMoveSchema), required=True, validate=validate.Length(min=1, max=MAX_MOVES)
    )


class AppliedMoveSchema(SlotSchema):
    """A move booked: the order, the day it left, and its new slot as priced when booked."""

    order_id = fields.Integer()
    code = fields.String()
    from_day = fields.Date()


class BalanceAppliedSchema(Schema):
    moves = fields.List(fields.Nested(AppliedMoveSchema))
