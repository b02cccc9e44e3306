"""Dispatch schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import MAX_DB_INT, CityDateTime, DbId


class PlanRequestSchema(Schema):
    day = fields.Date(required=True)
    district = fields.String(validate=validate.Length(max=40))
    time_limit_s = fields.Float(load_default=10, validate=validate.Range(0.5, 600))


class PlanSchema(Schema):
    id = fields.Integer()
    day = fields.Date()
    district = fields.String(allow_none=True)
    kind = fields.String()
    status = fields.String()
    job_id = fields.Integer(allow_none=True)
    objective = fields.Integer(allow_none=True)
    result = fields.Dict()
    conflicts = fields.List(fields.Dict(), allow_none=True)
    created_at = CityDateTime()
    decided_at = CityDateTime(allow_none=True)


# ---------------------------------------------------------------- the dispatcher console


class ConsoleDaySchema(Schema):
    day = fields.Date(load_default=None)


class ConsoleLiveSchema(ConsoleDaySchema):
    since = CityDateTime(load_default=None)


class ConsoleAssignSchema(ConsoleDaySchema):
    technician_id = DbId(required=True)
    version = fields.Integer(load_default=None, validate=validate.Range(0, MAX_DB_INT))


class ConsoleUnassignSchema(ConsoleDaySchema):
    version = fields.Integer(load_default=None, validate=validate.Range(0, MAX_DB_INT))
    reason = fields.String(load_default=None, validate=validate.Length(max=500))


class ConsoleCancelSchema(ConsoleDaySchema):
    version = fields.Integer(load_default=None, validate=validate.Range(0, MAX_DB_INT))
    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))


class ConsoleUrgentSchema(ConsoleDaySchema):
    order_id = DbId(required=True)
    time_limit_s = fields.Float(load_default=5, validate=validate.Range(0.5, 120))
