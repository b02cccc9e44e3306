"""Schemas of the mobile API."""

from __future__ import annotations

from marshmallow import Schema, fields


class RouteStopSchema(Schema):
    sequence = fields.Integer()
    order_id = fields.Integer()
    code = fields.String()
    kind = fields.String()
    product = fields.String()
    priority = fields.String()
    state = fields.String()
    planned_start = fields.NaiveDateTime(allow_none=True)
    appointment_start = fields.NaiveDateTime(allow_none=True)
    appointment_end = fields.NaiveDateTime(allow_none=True)
    address = fields.String()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    customer_name = fields.String()
    customer_phone = fields.String(allow_none=True)
    restore_deadline = fields.NaiveDateTime()
    findings = fields.List(fields.Dict())
    checklist = fields.List(fields.Dict())
    version = fields.Integer()


class RouteSchema(Schema):
    technician_id = fields.Integer()
    date = fields.Date()
    stops = fields.List(fields.Nested(RouteStopSchema))
