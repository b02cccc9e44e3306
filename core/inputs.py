"""Text the service will not store: checked once per request, before any view.

PostgreSQL refuses NUL in text and no encoder writes an unpaired surrogate, so
such input would fail deep inside a write. Every string of a request (query,
form fields, JSON keys and values) is checked here and refused with a 422
naming the field; a JSON body nested too deeply to parse is a 400. A view that
answers item by item (the phone's sync batch) checks its items itself with
:func:`bad_text_fields`, so one bad item fails alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request

from core.errors import N_, DomainError, Invalid

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BadJson(DomainError):
    status = 400
    slug = "bad-json"


def bad_text_fields(value: Any, path: str = "") -> list[str]:
    """Dotted paths of every string (or key) in ``value`` holding NUL or a lone surrogate."""
    found: list[str] = []
    if isinstance(value, str):
        if UNSTORABLE.search(value):
            found.append(path or "(body)")
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and UNSTORABLE.search(key):
                found.append(where.encode("utf-8", "replace").decode("utf-8"))
            else:
                found.extend(bad_text_fields(item, where))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(bad_text_fields(item, f"{path}.{index}" if path else str(index)))
    return found


def unstorable_text(fields: dict[str, list[str]]) -> Invalid:
    """The 422 for text that cannot be stored, naming each field by location."""
    message = N_("Text may not contain NUL characters or unpaired surrogates.")
    return Invalid(
        message,
        slug="unstorable-text",
        errors={where: {name: [message] for name in names} for where, names in fields.items() if names},
    )


def _bad_keys(values) -> list[str]:
    """Names in a query or form (a MultiDict) with an unstorable key or value."""
    return sorted({name for key, value in values.items(multi=True) for name in bad_text_fields({key: value})})


def checks_text_per_item(view: Callable) -> Callable:
    """Mark a view that checks its body's items itself (see the module's note)."""
    view.checks_text_per_item = True
    return view


def check_request_text() -> None:
    """before_request: refuse unstorable text anywhere in the request."""
    fields = {"query": _bad_keys(request.args), "form": _bad_keys(request.form)}
    view = current_app.view_functions.get(request.endpoint or "")
    if request.is_json:
        body = parsed_json()  # too deep to parse: 400, for every view
        if not getattr(view, "checks_text_per_item", False):
            fields["json"] = bad_text_fields(body)
    if any(fields.values()):
        raise unstorable_text(fields)


def parsed_json() -> Any:
    """The request's JSON body (None when it is not JSON); too deep to parse is a 400."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        raise BadJson(N_("The JSON body is nested too deeply.")) from None


def init_app(app: Flask) -> None:
    app.before_request(check_request_text)
