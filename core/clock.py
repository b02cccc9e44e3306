"""The city's wall clock. All stored datetimes are naive local city time.

The city's zone is one setting, `CITY_TZ`: the app's config inside an app (request,
CLI command, job run under the app context), the environment outside one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

DEFAULT_CITY_TZ = "Asia/Shanghai"

# How far the clock is moved inside `moved_to` (the demo seed's past days); zero otherwise.
_moved_by: ContextVar[timedelta] = ContextVar("city_clock_moved_by", default=timedelta(0))


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def city_tz_name() -> str:
    """The configured zone name: the app's `CITY_TZ`, else the environment's, else Shanghai."""
    if has_app_context():
        configured = current_app.config.get("CITY_TZ")
        if configured:
            return str(configured)
    return os.environ.get("CITY_TZ") or DEFAULT_CITY_TZ


def city_tz() -> ZoneInfo:
    return _zone(city_tz_name())


def now() -> datetime:
    """Current local city time, naive, to the second."""
    return (datetime.now(city_tz()) + _moved_by.get()).replace(tzinfo=None, microsecond=0)


@contextmanager
def moved_to(moment: datetime) -> Iterator[None]:
    """Inside the block `now()` reads `moment` (naive city time) and ticks on from there.

    For making a believable past (the demo seed walks an order through its day hour by
    hour, so every time stored, deadline and audit entry agrees), never for serving requests.
    """
    real = datetime.now(city_tz()).replace(tzinfo=None)
    token = _moved_by.set(moment - real)
    try:
        yield
    finally:
        _moved_by.reset(token)


def to_local_naive(value: datetime) -> datetime:
    """Convert an aware datetime to naive city time; naive input is taken as city time."""
    if value.tzinfo is None:
        return value
    return value.astimezone(city_tz()).replace(tzinfo=None)


def to_city_aware(value: datetime) -> datetime:
    """A stored naive city time with the city's offset attached (aware input is converted)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=city_tz())
    return value.astimezone(city_tz())
