"""Schemas shared by several packages."""

from __future__ import annotations

from datetime import datetime

from marshmallow import INCLUDE, Schema, fields, validate

from core.clock import to_city_aware, to_local_naive
from core.i18n import LANGUAGES
from core.messages import N_

MAX_DB_INT = 2_147_483_647  # ids and versions are 32-bit integer columns


class DbId(fields.Integer):
    """A reference to a row: a whole number the database's integer column can hold."""

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("validate", validate.Range(1, MAX_DB_INT))
        super().__init__(**kwargs)


DATETIME_FORMAT_NOTE = (
    "Dates and times are ISO 8601 / RFC 3339 with the city's UTC offset "
    "(e.g. 2026-12-01T09:00:00+08:00 for Asia/Shanghai, the CITY_TZ setting). Input with "
    "an offset (2026-12-01T01:00:00Z) is converted to city time; input without one is "
    "taken as city time."
)


class CityDateTime(fields.DateTime):
    """A city wall-clock time on the wire, with the city's UTC offset.

    Stored times are naive city times (core.clock). Dumped, they carry the offset
    ("2026-12-01T09:00:00+08:00"); loaded, input with an offset is converted to
    naive city time and input without one is taken as city time. Documented as an
    OpenAPI `date-time` with DATETIME_FORMAT_NOTE in its description.
    """

    def __init__(self, **kwargs) -> None:
        metadata = dict(kwargs.pop("metadata", None) or {})
        own = metadata.get("description")
        metadata["description"] = f"{own} {DATETIME_FORMAT_NOTE}" if own else DATETIME_FORMAT_NOTE
        metadata.setdefault("example", "2026-12-01T09:00:00+08:00")
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if isinstance(value, str):  # already ISO text (a JSON column, an SLA pause)
            value = datetime.fromisoformat(value)
        return to_city_aware(value).isoformat()

    def _deserialize(self, value, attr, data, **kwargs) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            return to_local_naive(parsed)
        except OverflowError:  # 0001-01-01T00:00:00+14:00 has no city time
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None


class ProblemSchema(Schema):
    """RFC 9457 problem details; a problem may carry extension members (current_state...)."""

    class Meta:
        unknown = INCLUDE

    type = fields.String()
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String()
    errors = fields.Dict()


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class RefreshSchema(Schema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=10, max=200))


class TokenSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String()
    token_type = fields.String()
    expires_in = fields.Integer()
    role = fields.String()
    user_id = fields.Integer()


class AuditEventSchema(Schema):
    id = fields.Integer()
    at = CityDateTime()
    actor_name = fields.String()
    actor_role = fields.String()
    origin = fields.String(allow_none=True)
    action = fields.String()
    entity_type = fields.String()
    entity_id = fields.Integer(allow_none=True)
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    reason = fields.String(allow_none=True)


class JobSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String()
    params = fields.Dict(allow_none=True)
    progress = fields.Dict(allow_none=True)
    result = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = CityDateTime()
    finished_at = CityDateTime(allow_none=True)


class UserCreateSchema(Schema):
    username = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Za-z0-9_.-]{3,80}$", error=N_("Use 3 to 80 letters, digits or _.- characters.")
        ),
    )
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=200))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    role = fields.String(
        required=True,
        validate=validate.OneOf(["dispatcher", "technician", "manager", "customer", "agent", "admin"]),
    )
    phone = fields.String(validate=validate.Length(max=30))
    email = fields.Email()
    customer_id = DbId()


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    customer_id = fields.Integer(allow_none=True)
    technician_id = fields.Integer(allow_none=True)
    active = fields.Boolean()


def lang_query(words: str = "messages") -> fields.String:
    """The ``?lang=`` a JSON endpoint takes for the language of its ``words``."""
    return fields.String(
        validate=validate.OneOf(LANGUAGES),
        metadata={"description": f"The {words}' language (else Accept-Language; default Chinese)."},
    )
