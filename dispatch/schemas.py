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


# ---------------------------------------------------------------- explanations and figures


class PlanKpisSchema(Schema):
    travel_km = fields.Float()
    travel_min = fields.Float()
    work_min = fields.Float()
    shift_min = fields.Float()
    utilisation_pct = fields.Float()
    visits_planned = fields.Integer()
    technicians_used = fields.Integer()
    technicians = fields.Integer()
    deadlines_at_risk = fields.Integer()
    breaches = fields.Integer()
    late_min = fields.Float()
    unassigned = fields.Integer()
    unassigned_by_reason = fields.Dict(keys=fields.String(), values=fields.Integer())


class VisitExplanationItemSchema(Schema):
    order_id = fields.Integer()
    code = fields.String()
    assigned = fields.Boolean()
    technician_id = fields.Integer()
    technician_name = fields.String()
    sequence = fields.Integer()
    start = fields.String(metadata={"description": "HH:MM"})
    why_technician = fields.List(fields.String())
    why_time = fields.List(fields.String())
    cost = fields.Dict(metadata={"description": "extra_km, extra_min, on_site_min and the sentence"})
    reason = fields.String()
    reason_text = fields.String()
    blockers = fields.List(fields.String())
    facts = fields.Dict(metadata={"description": "the facts behind the sentences, as codes and numbers"})


class VisitExplanationSchema(VisitExplanationItemSchema):
    plan_id = fields.Integer()
    status = fields.String()


class PlanExplanationSchema(Schema):
    plan_id = fields.Integer()
    status = fields.String()
    day = fields.Date()
    kpis = fields.Nested(PlanKpisSchema)
    technicians = fields.List(fields.Dict())
    visits = fields.List(fields.Nested(VisitExplanationItemSchema))


class ConsoleRoadsSchema(ConsoleDaySchema):
    """A technician's stops, in order, to draw along the roads (order ids, comma-separated)."""

    technician_id = DbId(required=True)
    orders = fields.String(required=True, validate=validate.Regexp(r"^\d{1,10}(,\d{1,10}){0,98}$"))
