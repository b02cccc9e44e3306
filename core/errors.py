"""One error format for every JSON answer: RFC 9457 problem details, in the reader's language."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, json, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from core.messages import N_, Message, render, render_errors, translate  # noqa: F401 - N_, Message re-exported

log = logging.getLogger(__name__)

PROBLEM_TYPE_BASE = "https://dispatch.example/problems/"


class DomainError(Exception):
    """A refusal the service explains in words; the error handler turns it into
    a problem response in the reader's language.

    This is the one way to refuse. Services stay free of Flask, so they cannot
    translate: they raise with an English message id and its values,
    ``Conflict("Plan %(plan)s is %(status)s.", params={"plan": 7, "status": "applied"})``,
    and :func:`domain_problem` renders ``gettext(msgid, **params)`` for the
    caller. A value may be a :class:`core.messages.Message` (a label, rendered
    in the same language) or a :class:`core.messages.Listing` of them. The
    messages of an ``errors`` extension (field -> messages) are message ids or
    messages too. ``detail`` is the English text, for logs and tests.
    """

    status = 400
    slug = "bad-request"

    def __init__(
        self,
        detail: str,
        slug: str | None = None,
        params: dict[str, Any] | None = None,
        keep_changes: bool = False,
        **extensions: object,
    ) -> None:
        self.msgid = detail
        # The request's writes so far stand although it is refused (core.unit_of_work).
        self.keep_changes = keep_changes
        self.params = dict(params or {})
        self.detail = detail % self.params if self.params else detail
        super().__init__(self.detail)
        if slug:
            self.slug = slug
        self.extensions = extensions

    def translated(self) -> str:
        """The detail in the request's language (the message id when the catalog lacks it)."""
        return render(self.msgid, self.params)


def refuse(
    error_cls: type[DomainError],
    msgid: str,
    slug: str | None = None,
    params: dict[str, Any] | None = None,
    **extensions: object,
) -> DomainError:
    """``error_cls(msgid, slug, params, ...)``: kept for call sites that build the error to raise later."""
    return error_cls(msgid, slug=slug, params=params, **extensions)


class NotFound(DomainError):
    status = 404
    slug = "not-found"


class Forbidden(DomainError):
    status = 403
    slug = "forbidden"


class Conflict(DomainError):
    status = 409
    slug = "conflict"


class Unavailable(DomainError):
    """A service the request needs is down; the client may retry after ``retry_after_s``."""

    status = 503
    slug = "service-unavailable"

    def __init__(
        self,
        detail: str,
        retry_after_s: int = 30,
        params: dict[str, Any] | None = None,
        **extensions: object,
    ) -> None:
        super().__init__(detail, params=params, **extensions)
        self.retry_after_s = retry_after_s


class Invalid(DomainError):
    status = 422
    slug = "validation-error"


def _titles() -> dict[int, str]:
    return {
        400: _("Bad request"),
        401: _("Authentication required"),
        403: _("Forbidden"),
        404: _("Not found"),
        405: _("Method not allowed"),
        409: _("Conflict"),
        413: _("Payload too large"),
        415: _("Unsupported media type"),
        422: _("Validation failed"),
        429: _("Too many requests"),
        500: _("Internal server error"),
        503: _("Service unavailable"),
    }


def problem(
    status: int, detail: str | None = None, slug: str | None = None, **extensions: object
) -> Response:
    """Build an application/problem+json response."""
    title = _titles().get(status) or _("Error")
    body: dict[str, object] = {
        "type": PROBLEM_TYPE_BASE + (slug or str(status)),
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.path if request else None
    body.update(extensions)
    resp = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json")
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="dispatch"'
    return resp


def _http_detail(exc: HTTPException) -> str | None:
    """What went wrong, in the reader's language: werkzeug's own English
    descriptions are replaced by ours; one a view gave is a message id."""
    status = exc.code or 500
    if status == 500:
        return None
    if status == 400 and exc.description and "JSON" in exc.description:
        return _("The request body is not valid JSON.")
    if exc.description == type(exc).description:
        known = {
            401: N_("Log in first."),
            403: N_("Your role may not do this."),
            404: N_("There is nothing at this address."),
            405: N_("This address does not take that method."),
            413: N_("The request body is larger than the server accepts."),
            415: N_("The request body is in a format this address does not take."),
            429: N_("Too many requests; try again later."),
        }
        return _(known[status]) if status in known else None
    return translate(exc.description) if exc.description else None


def http_exception_problem(exc: HTTPException) -> Response:
    """Turn any werkzeug/flask-smorest HTTP error into problem details; the
    field messages of a 422 (``errors``) are translated like every refusal's."""
    status = exc.code or 500
    extensions: dict[str, object] = {}
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if messages:
        # webargs nests messages by location ("json", "query", "files"...).
        errors: dict[str, object] = {}
        for location, fields in messages.items():
            if isinstance(fields, dict):
                errors.update(fields)
            else:
                errors[location] = fields
        extensions["errors"] = render_errors(errors)
        detail = _("Some fields are missing or invalid.")
    elif isinstance(data, dict) and data.get("message"):
        detail = translate(str(data["message"]))
    else:
        detail = _http_detail(exc)
    resp = problem(status, detail, **extensions)
    if status == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
        resp.headers["Allow"] = ", ".join(exc.valid_methods)
    return resp


def domain_problem(exc: DomainError, detail: str | None = None) -> Response:
    """A service's refusal as problem details in the reader's language (its
    detail and the field messages of its ``errors``), with ``Retry-After``
    when it has one."""
    extensions = dict(exc.extensions)
    if "errors" in extensions:
        extensions["errors"] = render_errors(extensions["errors"])
    resp = problem(exc.status, exc.translated() if detail is None else detail, exc.slug, **extensions)
    if getattr(exc, "retry_after_s", None):
        resp.headers["Retry-After"] = str(exc.retry_after_s)
    return resp


def _database_unreachable(exc: DBAPIError) -> bool:
    """The server is down, restarting or unreachable (not a bad statement)."""
    return exc.connection_invalidated or isinstance(exc, (OperationalError, InterfaceError))


def response_for(exc: Exception) -> Response:
    """The problem response an exception gets (outside Flask's error handlers:
    a commit failing after the view answered)."""
    if isinstance(exc, DomainError):
        return domain_problem(exc)
    if isinstance(exc, StaleDataError):
        return _stale_problem()
    if isinstance(exc, DBAPIError) and _database_unreachable(exc):
        return _unavailable_problem(exc)
    log.error("commit failed: %s", type(exc).__name__)
    return problem(500, _("Something went wrong on our side; it has been logged."))


def _stale_problem() -> Response:
    return problem(409, _("The record was changed by someone else; reload and retry."), "stale-version")


def _unavailable_problem(exc: DBAPIError) -> Response:
    # What failed, not the statement or its values (they hold personal data).
    log.error("database unavailable: %s on %s %s", type(exc.orig).__name__, request.method, request.path)
    resp = problem(503, _("The database is unavailable; try again shortly."), "service-unavailable")
    resp.headers["Retry-After"] = "5"
    return resp


def register(app: Flask) -> None:
    @app.errorhandler(StaleDataError)
    def _stale(_exc: StaleDataError) -> Response:
        return _stale_problem()

    @app.errorhandler(DBAPIError)
    def _database(exc: DBAPIError) -> Response:
        if not _database_unreachable(exc):
            return _unexpected(exc)
        return _unavailable_problem(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response:
        return http_exception_problem(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        if isinstance(exc, HTTPException):
            return http_exception_problem(exc)
        log.exception("unhandled error")
        return problem(500, _("Something went wrong on our side; it has been logged."))
