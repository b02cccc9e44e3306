"""How one technician's day is worked out, with no database: plain data in, an
:class:`EffectiveShift` (or None: not working) out.

The rules, in order:

1. The assignments whose dates include the day (``start_on`` to ``end_on``, both
   inclusive) decide it. None does: the technician's own fixed daily shift (the
   ``technicians`` row) applies every day, as before there was a roster.
2. A ``working_days`` pattern works the official calendar's working days (holidays
   off, adjusted working weekends on). A ``rota`` works the days its cycle marks on,
   counted from the assignment's start plus its rotation offset, whatever the calendar.
3. Regular patterns working that day give the shift (the span of all of them; the
   lunch of the first). An on-call pattern sets the on-call flag and the end of the
   on-call duty (``on_call_end_min``: an urgent fault may be given to the technician
   up to then, past the regular shift); when it is the only one working, its hours
   are the shift.
4. Overtime extends the day to cover its minutes (or makes a day off a working one).
   Then an absence (leave, sick, training) for the whole day leaves the technician
   off; a partial one cuts its minutes out, and the longer remaining part is kept.
5. A lunch no longer inside the shift is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

DAY_MIN = 24 * 60


def hhmm(minutes: int | None) -> str | None:
    """Minutes from midnight as "HH:MM" ("24:00" for the end of the day)."""
    if minutes is None:
        return None
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class PatternDay:
    """A pattern as one assignment applies it (the pattern's hours, the assignment's dates)."""

    name: str
    kind: str  # working_days | rota
    start_min: int
    end_min: int
    lunch_start_min: int | None
    lunch_duration_min: int
    on_call: bool
    cycle: tuple[bool, ...]
    start_on: date
    end_on: date | None
    rotation_offset: int = 0

    def covers(self, day: date) -> bool:
        """The assignment's dates include ``day``."""
        return self.start_on <= day and (self.end_on is None or day <= self.end_on)

    def works(self, day: date, is_working_day: bool) -> bool:
        """This pattern has the technician working on ``day``."""
        if self.kind == "working_days":
            return is_working_day
        if not self.cycle:
            return False
        position = ((day - self.start_on).days + self.rotation_offset) % len(self.cycle)
        return bool(self.cycle[position])


@dataclass(frozen=True)
class DayException:
    """A leave, sick, training or overtime entry for the day (None minutes: the whole day)."""

    kind: str
    start_min: int | None = None
    end_min: int | None = None

    @property
    def whole_day(self) -> bool:
        return self.start_min is None or self.end_min is None


@dataclass(frozen=True)
class FixedShift:
    """The technician's own daily shift (the ``technicians`` row)."""

    start_min: int
    end_min: int
    lunch_start_min: int | None
    lunch_duration_min: int
    max_work_min: int | None


@dataclass(frozen=True)
class EffectiveShift:
    """A technician's working day as planned: the hours, lunch, on-call, and why."""

    day: date
    start_min: int
    end_min: int
    lunch_start_min: int | None
    lunch_duration_min: int
    on_call: bool
    source: str  # fixed | pattern | on_call | overtime
    reason: str  # the pattern's name, or what changed the day
    max_work_min: int | None = None
    exceptions: tuple[str, ...] = field(default=())
    # the end of the day's on-call duty (None: not on call): urgent faults only
    on_call_end_min: int | None = None

    def end_for(self, urgent: bool) -> int:
        """The day's last minute of work: the shift's end, or for an urgent fault the end of
        the on-call duty when that is later."""
        if urgent and self.on_call_end_min is not None:
            return max(self.end_min, self.on_call_end_min)
        return self.end_min

    def to_dict(self) -> dict[str, object]:
        """JSON form with "HH:MM" times."""
        return {
            "day": self.day.isoformat(),
            "start": hhmm(self.start_min),
            "end": hhmm(self.end_min),
            "lunch_start": hhmm(self.lunch_start_min),
            "lunch_duration_min": self.lunch_duration_min if self.lunch_start_min is not None else 0,
            "on_call": self.on_call,
            "source": self.source,
            "reason": self.reason,
            "exceptions": list(self.exceptions),
        }


def _base(day: date, fixed: FixedShift, patterns: list[PatternDay], working: bool) -> EffectiveShift | None:
    covering = [p for p in patterns if p.covers(day)]
    if not covering:
        return EffectiveShift(
            day, fixed.start_min, fixed.end_min, fixed.lunch_start_min, fixed.lunch_duration_min,
            False, "fixed", "fixed", fixed.max_work_min,
        )  # fmt: skip
    on = [p for p in covering if p.works(day, working)]
    regular = [p for p in on if not p.on_call]
    on_call = [p for p in on if p.on_call]
    chosen = regular or on_call
    if not chosen:
        return None
    first = chosen[0]
    return EffectiveShift(
        day=day,
        start_min=min(p.start_min for p in chosen),
        end_min=max(p.end_min for p in chosen),
        lunch_start_min=first.lunch_start_min,
        lunch_duration_min=first.lunch_duration_min,
        on_call=bool(on_call),
        source="pattern" if regular else "on_call",
        reason=" + ".join(p.name for p in on),
        max_work_min=fixed.max_work_min,
        on_call_end_min=max(p.end_min for p in on_call) if on_call else None,
    )


def _overtime(day: date, shift: EffectiveShift | None, extra: DayException) -> EffectiveShift:
    start, end = extra.start_min or 0, extra.end_min if extra.end_min is not None else DAY_MIN
    if shift is None:
        return EffectiveShift(
            day, start, end, None, 0, False, "overtime", "overtime", end - start, ("overtime",)
        )
    new_start, new_end = min(shift.start_min, start), max(shift.end_min, end)
    added = (shift.start_min - new_start) + (new_end - shift.end_min)
    max_work = None if shift.max_work_min is None else shift.max_work_min + added
    return replace(
        shift,
        start_min=new_start,
        end_min=new_end,
        max_work_min=max_work,
        exceptions=(*shift.exceptions, "overtime"),
    )


def _absence(shift: EffectiveShift, away: DayException) -> EffectiveShift | None:
    if away.whole_day:
        return None
    a0, a1 = away.start_min or 0, away.end_min or DAY_MIN
    if a1 <= shift.start_min or a0 >= shift.end_min:
        return shift
    before, after = a0 - shift.start_min, shift.end_min - a1
    if before <= 0 and after <= 0:
        return None
    if before >= after:
        start, end = shift.start_min, a0
    else:
        start, end = a1, shift.end_min
    # away for part of the day: no longer on call beyond the hours kept
    return replace(
        shift, start_min=start, end_min=end, exceptions=(*shift.exceptions, away.kind), on_call_end_min=None
    )


def resolve_day(
    day: date,
    fixed: FixedShift,
    patterns: list[PatternDay],
    exceptions: list[DayException],
    is_working_day: bool,
) -> EffectiveShift | None:
    """The technician's shift on ``day`` by the rules above; None: not working."""
    shift = _base(day, fixed, patterns, is_working_day)
    for extra in exceptions:
        if extra.kind == "overtime":
            shift = _overtime(day, shift, extra)
    for away in exceptions:
        if away.kind != "overtime" and shift is not None:
            shift = _absence(shift, away)
    if shift is None:
        return None
    lunch = shift.lunch_start_min
    if lunch is not None and not (
        shift.start_min <= lunch and lunch + shift.lunch_duration_min <= shift.end_min
    ):
        shift = replace(shift, lunch_start_min=None, lunch_duration_min=0)
    return shift


def skill_valid_on(certified_on: date, expires_on: date | None, day: date) -> bool:
    """A certificate counts from ``certified_on`` up to and including ``expires_on``."""
    return certified_on <= day and (expires_on is None or day <= expires_on)
