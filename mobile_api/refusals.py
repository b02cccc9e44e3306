"""Refusals of the mobile API: English message ids, translated when they are rendered.

Services stay free of Flask, so they cannot call flask-babel themselves: they
raise a DomainError that carries its message id and parameters, and the view
layer (``mobile_api.views.problem_for``) translates it for the caller.
"""

from __future__ import annotations

from typing import Any

from core.errors import DomainError


def N_(msgid: str) -> str:
    """Mark a message for extraction; it is translated where it is rendered."""
    return msgid


def refuse(error_cls: type[DomainError], msgid: str, slug: str | None = None,
           params: dict[str, Any] | None = None, **extensions: object) -> DomainError:
    """A DomainError whose detail can be translated later (``msgid % params``)."""
    params = params or {}
    error = error_cls(msgid % params if params else msgid, slug=slug, **extensions)
    error.msgid = msgid  # type: ignore[attr-defined]
    error.msg_params = params  # type: ignore[attr-defined]
    return error


def translated_detail(error: DomainError, gettext: Any) -> str:
    """The error's detail in the caller's language (other DomainErrors pass unchanged)."""
    msgid = getattr(error, "msgid", None)
    if msgid is None:
        return error.detail
    return gettext(msgid, **getattr(error, "msg_params", {}))
