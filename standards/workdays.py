"""Mainland-China working days, with an honest note of where each answer came from.

Sources, in order of preference for any one day:

1. ``chinesecalendar`` - the official State Council schedule with moved working
   weekends (版本 1.11 knows 2004-2026 and raises NotImplementedError beyond).
2. The operator file ``standards/rules/calendar_overrides.toml`` - the official
   schedule for a year the package does not know yet, typed in by the operator
   when the State Council publishes it.
3. ``holidays.China`` plus plain weekends - statutory holidays computed for any
   year, but without moved working weekends ("holidays-fallback").
4. Plain weekends, if even that fails ("weekends-only").

Asking about a date never raises because a source does not know its year.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from standards.rules import RULES_DIR
from standards.tomlfile import RuleFileError, locate_key_line, read_toml_file

SOURCE_CHINESECALENDAR = "chinesecalendar"
SOURCE_OPERATOR_FILE = "operator-file"
SOURCE_HOLIDAYS_FALLBACK = "holidays-fallback"
SOURCE_WEEKENDS_ONLY = "weekends-only"
SOURCE_CLOCK_HOURS = "clock-hours"

# Weakest last: a span reports the weakest source any of its days used.
_SOURCE_STRENGTH = {
    SOURCE_CHINESECALENDAR: 0,
    SOURCE_OPERATOR_FILE: 1,
    SOURCE_HOLIDAYS_FALLBACK: 2,
    SOURCE_WEEKENDS_ONLY: 3,
}

DEFAULT_OVERRIDES_FILE = RULES_DIR / "calendar_overrides.toml"

# No official schedule has more than ~10 days off in a row; a longer run means
# a broken operator file, and we refuse rather than loop for ever.
_MAX_CONSECUTIVE_DAYS_OFF = 60


@dataclass(frozen=True)
class Deadline:
    """A due time (naive city time) and the source that set it."""

    at: datetime
    source: str

    def to_dict(self) -> dict[str, str]:
        """JSON-serialisable form: ISO datetime and source."""
        return {"at": self.at.isoformat(), "source": self.source}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Deadline:
        """Inverse of ``to_dict``."""
        return cls(at=datetime.fromisoformat(data["at"]), source=str(data["source"]))


def weakest_source(sources: Iterable[str]) -> str:
    """The least authoritative of ``sources`` (what a span of days must report)."""
    return max(sources, key=lambda s: _SOURCE_STRENGTH.get(s, 99))


def require_naive(name: str, value: datetime) -> None:
    """Refuse aware datetimes: every datetime here is naive city time."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is not None:
        raise ValueError(f"{name} must be a naive local (city) datetime, got {value!r}")


@lru_cache(maxsize=64)
def _statutory_holidays(year: int) -> frozenset[date]:
    import holidays  # imported lazily: only needed for years chinesecalendar lacks

    return frozenset(holidays.country_holidays("CN", years=year).keys())


def _chinese_calendar_is_workday(day: date) -> bool | None:
    """The official answer, or None when the package does not know the year."""
    try:
        import chinese_calendar
    except ImportError:  # pragma: no cover - it is pinned in requirements.txt
        return None
    try:
        return bool(chinese_calendar.is_workday(day))
    except (NotImplementedError, KeyError, ValueError):
        return None


@dataclass(frozen=True)
class YearSchedule:
    """An operator-entered official schedule for one year."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]


def load_calendar_overrides(path: str | Path) -> dict[int, YearSchedule]:
    """Parse an operator calendar file; RuleFileError with file and line if malformed.

    Format::

        version = "2027.1"
        [years.2027]
        holidays = [2027-01-01, [2027-02-05, 2027-02-11]]   # dates or [first, last]
        workdays = [2027-02-20]                              # moved working weekends
    """
    path = Path(path)
    text, root = read_toml_file(path)

    def fail(keypath: tuple[str | int, ...], problem: str) -> RuleFileError:
        return RuleFileError(path, locate_key_line(text, keypath), problem)

    for key in root:
        if key not in ("version", "years"):
            raise fail((key,), f"unknown key {key!r}; allowed: version, years")
    if not isinstance(root.get("version"), str):
        raise fail(("version",), "version must be a string such as '2027.1'")
    years = root.get("years", {})
    if not isinstance(years, dict):
        raise fail(("years",), "years must be a table of [years.YYYY] tables")
    schedules: dict[int, YearSchedule] = {}
    for year_key, table in years.items():
        where = ("years", year_key)
        if not (year_key.isdigit() and len(year_key) == 4):
            raise fail(where, f"year key {year_key!r} must be a four-digit year")
        year = int(year_key)
        if not isinstance(table, dict):
            raise fail(where, f"years.{year_key} must be a table")
        for key in table:
            if key not in ("holidays", "workdays"):
                raise fail(
                    where + (key,),
                    f"unknown key years.{year_key}.{key}; allowed: holidays, workdays",
                )
        days: dict[str, frozenset[date]] = {}
        for kind in ("holidays", "workdays"):
            entries = table.get(kind, [])
            if not isinstance(entries, list):
                raise fail(where + (kind,), f"years.{year_key}.{kind} must be a list of dates")
            collected: set[date] = set()
            for entry in entries:
                collected |= _expand_entry(entry, year, fail, where + (kind,))
            days[kind] = frozenset(collected)
        both = days["holidays"] & days["workdays"]
        if both:
            raise fail(where, f"years.{year_key}: {min(both)} is listed as both holiday and workday")
        schedules[year] = YearSchedule(year=year, holidays=days["holidays"], workdays=days["workdays"])
    return schedules


def _expand_entry(
    entry: Any,
    year: int,
    fail: Callable[[tuple[str | int, ...], str], RuleFileError],
    where: tuple[str | int, ...],
) -> set[date]:
    if isinstance(entry, date) and not isinstance(entry, datetime):
        first = last = entry
    elif (
        isinstance(entry, list)
        and len(entry) == 2
        and all(isinstance(e, date) and not isinstance(e, datetime) for e in entry)
    ):
        first, last = entry
        if last < first:
            raise fail(where, f"range [{first}, {last}] ends before it starts")
    else:
        raise fail(where, f"{entry!r} is not a date (YYYY-MM-DD) or a [first, last] pair of dates")
    if first.year != year or last.year != year:
        raise fail(where, f"{entry!r} is not in {year}")
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


class WorkCalendar:
    """Answers "is this a working day, and who says so?" for any date."""

    def __init__(self, overrides_path: str | Path | None = DEFAULT_OVERRIDES_FILE) -> None:
        """Load the operator file at ``overrides_path`` (None: no operator file)."""
        self.overrides_path = Path(overrides_path) if overrides_path is not None else None
        self.overrides: dict[int, YearSchedule] = {}
        if self.overrides_path is not None and self.overrides_path.exists():
            self.overrides = load_calendar_overrides(self.overrides_path)
        self._memo: dict[date, tuple[bool, str]] = {}

    def classify(self, day: date) -> tuple[bool, str]:
        """``(is_working_day, source)`` for ``day``; never raises for a valid date."""
        if isinstance(day, datetime):
            day = day.date()
        cached = self._memo.get(day)
        if cached is not None:
            return cached
        result = self._classify(day)
        self._memo[day] = result
        return result

    def _classify(self, day: date) -> tuple[bool, str]:
        official = _chinese_calendar_is_workday(day)
        if official is not None:
            return official, SOURCE_CHINESECALENDAR
        schedule = self.overrides.get(day.year)
        if schedule is not None:
            if day in schedule.holidays:
                return False, SOURCE_OPERATOR_FILE
            if day in schedule.workdays:
                return True, SOURCE_OPERATOR_FILE
            return day.weekday() < 5, SOURCE_OPERATOR_FILE
        try:
            statutory = _statutory_holidays(day.year)
        except (NotImplementedError, KeyError, ValueError, AttributeError, OverflowError):
            return day.weekday() < 5, SOURCE_WEEKENDS_ONLY
        return (day.weekday() < 5 and day not in statutory), SOURCE_HOLIDAYS_FALLBACK

    def is_working_day(self, day: date) -> bool:
        """True if ``day`` is a working day in mainland China."""
        return self.classify(day)[0]

    def source(self, day: date) -> str:
        """Which source decided ``day``."""
        return self.classify(day)[1]

    def add_working_days(self, start: datetime, days: int) -> Deadline:
        """The deadline ``days`` working days after ``start`` (naive city time).

        From a working day, the deadline keeps the start's time of day on the
        ``days``-th following working day. From a non-working day the clock
        starts at 00:00 of the next working day. The result therefore always
        falls on a working day. ``Deadline.source`` is the weakest source used
        by any day from the start to the result.
        """
        require_naive("start", start)
        if isinstance(days, bool) or not isinstance(days, int):
            raise TypeError(f"days must be an int, got {type(days).__name__}")
        if days < 0:
            raise ValueError(f"days must be >= 0, got {days}")
        try:
            return self._add(start, days)
        except OverflowError:
            raise ValueError(f"{days} working days after {start} is beyond the calendar") from None

    def _add(self, start: datetime, days: int) -> Deadline:
        day = start.date()
        working, source = self.classify(day)
        sources = {source}
        time_of_day = start.time()
        if not working:
            day = self._next_working(day, sources)
            time_of_day = time(0, 0)
        for _ in range(days):
            day = self._next_working(day, sources)
        return Deadline(at=datetime.combine(day, time_of_day), source=weakest_source(sources))

    def _next_working(self, day: date, sources: set[str]) -> date:
        for _ in range(_MAX_CONSECUTIVE_DAYS_OFF):
            day += timedelta(days=1)
            working, source = self.classify(day)
            sources.add(source)
            if working:
                return day
        raise ValueError(
            f"no working day within {_MAX_CONSECUTIVE_DAYS_OFF} days after {day}; check {self.overrides_path}"
        )


_default_calendar: WorkCalendar | None = None
_default_lock = threading.Lock()


def default_calendar() -> WorkCalendar:
    """The calendar with the shipped operator file, created on first use."""
    global _default_calendar
    with _default_lock:
        if _default_calendar is None:
            _default_calendar = WorkCalendar()
        return _default_calendar


def reset_default_calendar() -> None:
    """Forget the default calendar so an edited operator file is re-read."""
    global _default_calendar
    with _default_lock:
        _default_calendar = None
