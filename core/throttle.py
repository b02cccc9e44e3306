"""Brute-force protection for the three login doors (page, staff API, phone API).

Failed logins are counted per account and per address with the ``limits``
library (the one under flask-limiter), on Redis when there is one, so every
worker sees the same counts, and in memory otherwise or while Redis is down.
Past a limit the door answers 429 with ``Retry-After`` until the window has
passed, even for the right password: that is the lockout. Successful logins
do not count. Each app has its own counters (``app.extensions``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from core.errors import DomainError

log = logging.getLogger(__name__)

FAILED_STATUSES = frozenset({400, 401})


class TooManyAttempts(DomainError):
    status = 429
    slug = "too-many-logins"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            "Too many failed logins for this account or from this address; try again in 15 minutes."
        )
        self.retry_after_s = retry_after_s


def login_door(view: Callable) -> Callable:
    """Mark a login view: its POSTs are counted and locked out as above."""
    view.login_door = True
    return view


class LoginThrottle:
    def __init__(self, app: Flask) -> None:
        self.limits: tuple[tuple[str, RateLimitItem], ...] = (
            ("account", parse(app.config["LOGIN_FAILURES_PER_ACCOUNT"])),
            ("address", parse(app.config["LOGIN_FAILURES_PER_ADDRESS"])),
        )
        redis_url = app.config.get("REDIS_URL")
        self.memory = MovingWindowRateLimiter(MemoryStorage())
        self.shared = MovingWindowRateLimiter(storage_from_string(redis_url)) if redis_url else None

    def _run(self, action: Callable[[MovingWindowRateLimiter], object]):
        if self.shared is not None:
            try:
                return action(self.shared)
            except Exception as exc:  # noqa: BLE001 - Redis down must not lock everybody out
                log.warning("login counters unavailable (%s); counting in memory", type(exc).__name__)
        return action(self.memory)

    def _keys(self) -> list[tuple[RateLimitItem, str]]:
        try:
            body = request.get_json(silent=True) if request.is_json else None
        except RecursionError:  # refused as a 400 by core.inputs; it still counts
            body = None
        name = body.get("username") if isinstance(body, dict) else request.form.get("username")
        who = {"account": str(name or "").strip().casefold()[:80], "address": request.remote_addr or "-"}
        return [(item, f"login-{kind}:{who[kind]}") for kind, item in self.limits]

    def check(self) -> None:
        """before_request: refuse a door's POST while an account or address is locked."""
        for item, key in self._keys():
            if not self._run(lambda limiter, item=item, key=key: limiter.test(item, key)):
                stats = self._run(lambda limiter, item=item, key=key: limiter.get_window_stats(item, key))
                raise TooManyAttempts(max(1, int(stats.reset_time - time.time()) + 1))

    def count(self, response: Response) -> Response:
        """after_request: a failed login counts against its account and address."""
        if response.status_code in FAILED_STATUSES:
            for item, key in self._keys():
                self._run(lambda limiter, item=item, key=key: limiter.hit(item, key))
        return response

    def reset(self) -> None:
        self._run(lambda limiter: limiter.storage.reset())


def _is_door() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return request.method == "POST" and getattr(view, "login_door", False)


def init_app(app: Flask) -> None:
    throttle = LoginThrottle(app)
    app.extensions["login_throttle"] = throttle

    @app.before_request
    def _locked() -> None:
        if _is_door():
            throttle.check()

    @app.after_request
    def _count(response: Response) -> Response:
        return throttle.count(response) if _is_door() else response
