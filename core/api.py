"""The flask-smorest Api: OpenAPI spec from the schemas, problem-details errors."""

from __future__ import annotations

from flask_babel import get_locale
from flask_smorest import Api as _SmorestApi
from flask_smorest import Blueprint  # noqa: F401 - re-exported for the packages

from core.errors import http_exception_problem
from core.schemas import ProblemSchema


class Api(_SmorestApi):
    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error):  # noqa: D102 - flask-smorest hook
        return http_exception_problem(error)


def current_lang() -> str:
    """'zh' or 'en', from ?lang=, the session or Accept-Language (see core.i18n)."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"


BEARER = [{"bearerAuth": []}]
