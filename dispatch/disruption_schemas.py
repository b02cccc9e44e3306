"""Disruption schemas: what the dispatcher reports, and the re-plan with its diff."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.schemas import CityDateTime, DbId

STRATEGIES = ("repair", "resolve")


class ReplanOptionsSchema(Schema):
    strategy = fields.String(load_default="repair", validate=validate.OneOf(STRATEGIES))
    time_limit_s = fields.Float(load_default=3, validate=validate.Range(0.5, 10))


class TechnicianUnavailableSchema(ReplanOptionsSchema):
    technician_id = DbId(required=True)
    note = fields.String(load_default=None, validate=validate.Length(max=500))


class NoShowSchema(Schema):
    order_id = DbId(required=True)
    note = fields.String(load_default=None, validate=validate.Length(max=500))


class OverrunSchema(ReplanOptionsSchema):
    order_id = DbId(required=True)
    extra_min = fields.Integer(required=True, validate=validate.Range(1, 480))


class EmergencySchema(ReplanOptionsSchema):
    order_id = DbId(required=True)


class DisruptionSchema(Schema):
    """A re-plan to review: apply or discard it through /api/v1/dispatch/plans/{id}."""

    id = fields.Integer()
    day = fields.Date()
    kind = fields.String()
    status = fields.String()
    disruption = fields.Function(lambda plan: plan.result.get("disruption"))
    diff = fields.Function(lambda plan: plan.result.get("diff"))
    result = fields.Dict()
    conflicts = fields.List(fields.Dict(), allow_none=True)
    created_at = CityDateTime()
    decided_at = CityDateTime(allow_none=True)
