"""The flask-smorest Api: OpenAPI spec from the schemas, problem-details errors."""

from __future__ import annotations

import http
from datetime import date, datetime

from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api as _SmorestApi
from flask_smorest import Blueprint  # noqa: F401 - re-exported for the packages
from flask_smorest.utils import prepare_response
from werkzeug.routing import IntegerConverter

from core.clock import to_city_aware
from core.errors import http_exception_problem
from core.i18n import current_lang  # noqa: F401 - re-exported for the interfaces
from core.schemas import DATETIME_FORMAT_NOTE, MAX_DB_INT, ProblemSchema

PROBLEM_CONTENT_TYPE = "application/problem+json"


def _city_json_default(value: object) -> object:
    if isinstance(value, datetime):
        return to_city_aware(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return DefaultJSONProvider.default(value)


class CityJSONProvider(DefaultJSONProvider):
    """Flask's JSON, but a datetime left in a plain dict is sent like a CityDateTime field
    ("2026-12-01T09:00:00+08:00") and a date as "2026-12-01", never as Flask's default HTTP
    date in GMT ("Tue, 01 Dec 2026 09:00:00 GMT", which misreads a city wall-clock time)."""

    default = staticmethod(_city_json_default)


class Api(_SmorestApi):
    ERROR_SCHEMA = ProblemSchema

    def init_app(self, app, *args, **kwargs):  # noqa: D102 - flask-smorest hook
        # Every JSON answer of the app (the APIs, the console's feeds) goes through it.
        app.json = CityJSONProvider(app)
        super().init_app(app, *args, **kwargs)

    def _init_spec(self, *args, **kwargs):  # noqa: D102 - flask-smorest hook
        super()._init_spec(*args, **kwargs)
        # Every datetime field is core.schemas.CityDateTime, an OpenAPI date-time with the
        # city's offset; the spec's description says so once for every operation.
        info = self.spec.options.setdefault("info", {})
        described = info.get("description", "")
        info["description"] = f"{described} {DATETIME_FORMAT_NOTE}".strip()

    def handle_http_exception(self, error):  # noqa: D102 - flask-smorest hook
        return http_exception_problem(error)

    def _register_responses(self):  # noqa: D102 - flask-smorest hook
        # Errors are served as application/problem+json (core.errors): say so in the spec,
        # so clients and schema checkers match the error bodies to the Problem schema.
        for status in http.HTTPStatus:
            response: dict = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


BEARER = [{"bearerAuth": []}]


class DbIdConverter(IntegerConverter):
    """`<int:...>` in every route: only ids an integer column can hold match.

    A larger number is no route at all (404), never a database overflow (500).
    """

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("min", 0)
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(map, *args, **kwargs)


def db_id_schema(converter: DbIdConverter) -> dict:
    return {"type": "integer", "minimum": converter.min, "maximum": converter.max}
