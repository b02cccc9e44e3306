"""Technician schemas."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.errors import N_
from core.schemas import CityDateTime, DbId

SKILL_CHOICES = ("adsl", "lan", "iptv", "enterprise_circuit", "enterprise_app")


class TechnicianCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    phone = fields.String(validate=validate.Length(max=30))
    skills = fields.List(
        fields.String(validate=validate.OneOf(SKILL_CHOICES)), required=True, validate=validate.Length(min=1)
    )
    district = fields.String(validate=validate.Length(max=40))
    home_lat = fields.Float(required=True, validate=validate.Range(-90, 90))
    home_lon = fields.Float(required=True, validate=validate.Range(-180, 180))
    shift_start = fields.Time(load_default=None)
    shift_end = fields.Time(load_default=None)
    lunch_start = fields.Time(allow_none=True)
    lunch_duration_min = fields.Integer(validate=validate.Range(0, 120))
    max_work_min = fields.Integer(validate=validate.Range(30, 720))
    user_id = DbId(allow_none=True)

    @validates_schema
    def _shift_order(self, data: dict, **_kw) -> None:
        start, end = data.get("shift_start"), data.get("shift_end")
        if start and end and end <= start:
            raise ValidationError(N_("The shift must end after it starts."), "shift_end")


class TechnicianSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    phone = fields.String(allow_none=True)
    skills = fields.List(fields.String())
    district = fields.String(allow_none=True)
    home_lat = fields.Float()
    home_lon = fields.Float()
    shift_start = fields.Time()
    shift_end = fields.Time()
    lunch_start = fields.Time(allow_none=True)
    lunch_duration_min = fields.Integer()
    max_work_min = fields.Integer()
    active = fields.Boolean()
    user_id = fields.Integer(allow_none=True)
    last_lat = fields.Float(allow_none=True)
    last_lon = fields.Float(allow_none=True)
    last_seen_at = CityDateTime(allow_none=True)


class TechnicianQuerySchema(Schema):
    district = fields.String()
    skill = fields.String(validate=validate.OneOf(SKILL_CHOICES))
    active = fields.Boolean()


class TechnicianPublicSchema(Schema):
    """What an agent sees of a technician: no phone, home or last position."""

    id = fields.Integer()
    name = fields.String()
    skills = fields.List(fields.String())
    district = fields.String(allow_none=True)
    active = fields.Boolean()
