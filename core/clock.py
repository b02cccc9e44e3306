"""The city's wall clock. All stored datetimes are naive local city time."""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo


def city_tz() -> ZoneInfo:
    return ZoneInfo(os.environ.get("CITY_TZ", "Asia/Shanghai"))


def now() -> datetime:
    """Current local city time, naive, to the second."""
    return datetime.now(city_tz()).replace(tzinfo=None, microsecond=0)


def to_local_naive(value: datetime) -> datetime:
    """Convert an aware datetime to naive city time; naive input is taken as city time."""
    if value.tzinfo is None:
        return value
    return value.astimezone(city_tz()).replace(tzinfo=None)
