"""Brute-force protection for the three login doors (page, staff API, phone API).

Failed logins are counted per account and per address with flask-limiter
(on Redis when there is one, so every worker sees the same counts; in memory
otherwise, and as the fallback when Redis is down). Past the limit the door
answers 429 with ``Retry-After`` until the window has passed, even for the
right password: that is the lockout. Successful logins do not count.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

limiter = Limiter(key_func=get_remote_address)

FAILED_STATUSES = frozenset({400, 401})


def _failed(response: Response) -> bool:
    return response.status_code in FAILED_STATUSES


def _account() -> str:
    """The username tried (JSON body or login form), case-folded."""
    body = request.get_json(silent=True) if request.is_json else None
    name = body.get("username") if isinstance(body, dict) else request.form.get("username")
    return f"account:{str(name or '').strip().casefold()[:80]}"


def account_limit() -> str:
    return current_app.config["LOGIN_FAILURES_PER_ACCOUNT"]


def address_limit() -> str:
    return current_app.config["LOGIN_FAILURES_PER_ADDRESS"]


per_account = limiter.shared_limit(
    account_limit, scope="login-account", key_func=_account, deduct_when=_failed, methods=["POST"]
)
per_address = limiter.shared_limit(
    address_limit, scope="login-address", deduct_when=_failed, methods=["POST"]
)


def guard_login(view):
    """Both limits on a login view."""
    return per_address(per_account(view))


def init_app(app: Flask) -> None:
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    # Redis down must not lock everybody out: count in memory until it is back.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "dispatch-login")
    limiter.init_app(app)
