"""Roster schemas: teams, patterns, assignments, exceptions, certificates, leave, the week."""

from __future__ import annotations

import re
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.errors import N_
from core.schemas import CityDateTime, DbId
from technicians.roster import COVERAGE_MODES, EXCEPTION_KINDS, LEAVE_KINDS, PATTERN_KINDS, REQUEST_STATES
from technicians.schemas import SKILL_CHOICES
from technicians.shift_rules import DAY_MIN, hhmm

_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")
MAX_RANGE_DAYS = 62
# Days the roster answers for: the official calendar's years and then some (no overflow at 9999)
ROSTER_DAYS = validate.Range(min=date(2000, 1, 1), max=date(2100, 12, 31))


class ClockMinutes(fields.Field):
    """A time of day on the wire as "HH:MM" ("24:00": the end of the day), minutes from midnight inside."""

    default_error_messages = {"invalid": N_("Give a time as HH:MM.")}

    def _serialize(self, value, attr, obj, **kwargs):
        return hhmm(value)

    def _deserialize(self, value, attr, data, **kwargs):
        match = _CLOCK.match(value) if isinstance(value, str) else None
        if match is None:
            raise self.make_error("invalid")
        minutes = int(match.group(1)) * 60 + int(match.group(2))
        if minutes > DAY_MIN:
            raise self.make_error("invalid")
        return minutes


class TeamSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    supervisor_user_id = fields.Integer(allow_none=True)
    coverage_mode = fields.String()


class TeamCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    supervisor_user_id = DbId(allow_none=True)
    coverage_mode = fields.String(load_default="preference", validate=validate.OneOf(COVERAGE_MODES))


class TeamUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=80))
    supervisor_user_id = DbId(allow_none=True)
    coverage_mode = fields.String(validate=validate.OneOf(COVERAGE_MODES))


class MembershipSchema(Schema):
    """A technician's place on the roster."""

    team_id = DbId(allow_none=True)
    coverage_districts = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)), validate=validate.Length(max=30)
    )
    home_lat = fields.Float(validate=validate.Range(-90, 90))
    home_lon = fields.Float(validate=validate.Range(-180, 180))
    active = fields.Boolean()


class MemberSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    team_id = fields.Integer(allow_none=True)
    coverage_districts = fields.List(fields.String())
    home_lat = fields.Float()
    home_lon = fields.Float()
    active = fields.Boolean()


class PatternFields(Schema):
    name = fields.String(validate=validate.Length(min=1, max=80))
    kind = fields.String(validate=validate.OneOf(PATTERN_KINDS))
    start_min = ClockMinutes(data_key="start")
    end_min = ClockMinutes(data_key="end")
    lunch_start_min = ClockMinutes(data_key="lunch_start", allow_none=True)
    lunch_duration_min = fields.Integer(validate=validate.Range(0, 120))
    on_call = fields.Boolean()
    cycle = fields.List(fields.Boolean(), validate=validate.Length(max=56))


class PatternCreateSchema(PatternFields):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    kind = fields.String(load_default="working_days", validate=validate.OneOf(PATTERN_KINDS))
    start_min = ClockMinutes(data_key="start", required=True)
    end_min = ClockMinutes(data_key="end", required=True)
    lunch_duration_min = fields.Integer(load_default=60, validate=validate.Range(0, 120))
    on_call = fields.Boolean(load_default=False)
    cycle = fields.List(fields.Boolean(), load_default=list, validate=validate.Length(max=56))


class PatternSchema(PatternFields):
    id = fields.Integer()
    version = fields.Integer()


class AssignmentCreateSchema(Schema):
    technician_id = DbId(required=True)
    pattern_id = DbId(required=True)
    start_on = fields.Date(required=True, validate=ROSTER_DAYS)
    end_on = fields.Date(allow_none=True, load_default=None, validate=ROSTER_DAYS)
    rotation_offset = fields.Integer(load_default=0, validate=validate.Range(0, 365))


class AssignmentUpdateSchema(Schema):
    """What may change of an assignment (the technician may not: assign the other one)."""

    pattern_id = DbId()
    start_on = fields.Date(validate=ROSTER_DAYS)
    end_on = fields.Date(allow_none=True, validate=ROSTER_DAYS)
    rotation_offset = fields.Integer(validate=validate.Range(0, 365))


class AssignmentSchema(Schema):
    id = fields.Integer()
    technician_id = fields.Integer()
    pattern_id = fields.Integer()
    pattern_name = fields.String(attribute="pattern.name")
    start_on = fields.Date()
    end_on = fields.Date(allow_none=True)
    rotation_offset = fields.Integer()


class AssignmentQuerySchema(Schema):
    technician_id = DbId()


class ExceptionCreateSchema(Schema):
    technician_id = DbId(required=True)
    day = fields.Date(required=True, validate=ROSTER_DAYS)
    kind = fields.String(required=True, validate=validate.OneOf(EXCEPTION_KINDS))
    start_min = ClockMinutes(data_key="start", allow_none=True, load_default=None)
    end_min = ClockMinutes(data_key="end", allow_none=True, load_default=None)
    note = fields.String(allow_none=True, validate=validate.Length(max=500))


class ExceptionSchema(Schema):
    id = fields.Integer()
    technician_id = fields.Integer()
    day = fields.Date()
    kind = fields.String()
    start_min = ClockMinutes(data_key="start", allow_none=True)
    end_min = ClockMinutes(data_key="end", allow_none=True)
    note = fields.String(allow_none=True)
    leave_request_id = fields.Integer(allow_none=True)


class DateRangeSchema(Schema):
    """``first`` to ``last`` (both included), at most 62 days."""

    first = fields.Date(required=True, validate=ROSTER_DAYS)
    last = fields.Date(required=True, validate=ROSTER_DAYS)

    @validates_schema
    def _span(self, data: dict, **_kw) -> None:
        first, last = data.get("first"), data.get("last")
        if first and last and not 0 <= (last - first).days < MAX_RANGE_DAYS:
            raise ValidationError(N_("Ask for 1 to 62 days, the last not before the first."), "last")


class ExceptionQuerySchema(DateRangeSchema):
    technician_id = DbId()


class CertificationCreateSchema(Schema):
    skill = fields.String(required=True, validate=validate.OneOf(SKILL_CHOICES))
    certified_on = fields.Date(required=True, validate=ROSTER_DAYS)
    expires_on = fields.Date(allow_none=True, load_default=None, validate=ROSTER_DAYS)


class CertificationSchema(Schema):
    id = fields.Integer()
    technician_id = fields.Integer()
    skill = fields.String()
    certified_on = fields.Date()
    expires_on = fields.Date(allow_none=True)


class ExpiringQuerySchema(Schema):
    within_days = fields.Integer(load_default=30, validate=validate.Range(1, 365))
    team_id = DbId()


class ExpiringSchema(Schema):
    technician_id = fields.Integer()
    name = fields.String()
    team_id = fields.Integer(allow_none=True)
    skill = fields.String()
    certified_on = fields.Date()
    expires_on = fields.Date()
    days_left = fields.Integer()


class RosterShiftSchema(Schema):
    day = fields.String()
    start = fields.String()
    end = fields.String()
    lunch_start = fields.String(allow_none=True)
    lunch_duration_min = fields.Integer()
    on_call = fields.Boolean()
    source = fields.String()
    reason = fields.String()
    exceptions = fields.List(fields.String())


class DayShiftSchema(Schema):
    day = fields.Date()
    shift = fields.Nested(RosterShiftSchema, allow_none=True)


class WeekQuerySchema(Schema):
    team_id = DbId()
    week = fields.Date(
        validate=ROSTER_DAYS, metadata={"description": "Any day of the week (default: this week)."}
    )


class ExceptionBriefSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    start = fields.String(allow_none=True)
    end = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class TechnicianDaySchema(DayShiftSchema):
    exceptions = fields.List(fields.Nested(ExceptionBriefSchema))


class TechnicianWeekSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    district = fields.String(allow_none=True)
    coverage_districts = fields.List(fields.String())
    days = fields.List(fields.Nested(TechnicianDaySchema))


class WeekDaySchema(Schema):
    day = fields.Date()
    working_day = fields.Boolean()


class WeekSchema(Schema):
    team = fields.Nested(TeamSchema, allow_none=True)
    days = fields.List(fields.Nested(WeekDaySchema))
    technicians = fields.List(fields.Nested(TechnicianWeekSchema))
    expiring = fields.List(fields.Nested(ExpiringSchema))


class LeaveRequestCreateSchema(Schema):
    kind = fields.String(load_default="leave", validate=validate.OneOf(LEAVE_KINDS))
    start_on = fields.Date(required=True, validate=ROSTER_DAYS)
    end_on = fields.Date(required=True, validate=ROSTER_DAYS)
    reason = fields.String(allow_none=True, validate=validate.Length(max=500))


class LeaveRequestSchema(Schema):
    id = fields.Integer()
    technician_id = fields.Integer()
    kind = fields.String()
    start_on = fields.Date()
    end_on = fields.Date()
    reason = fields.String(allow_none=True)
    status = fields.String()
    requested_at = CityDateTime()
    decided_at = CityDateTime(allow_none=True)
    decision_note = fields.String(allow_none=True)


class LeaveQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(REQUEST_STATES))
    technician_id = DbId()


class LeaveDecisionSchema(Schema):
    approve = fields.Boolean(required=True)
    note = fields.String(allow_none=True, validate=validate.Length(max=500))
