"""Who works when, with which valid skills: the roster resolved for a day.

:func:`effective_shift` answers for one technician and day; :func:`effective_shifts`
for many at once (the week view, planning). The rules are in
:mod:`technicians.shift_rules`; the official calendar is :mod:`standards.workdays`.

A change to the roster that may spoil a day already planned (a pattern edited or
assigned, leave or sick approved or entered, an exception) is announced with
:func:`roster_changed` to the listener the app factory sets
(``dispatch.replan.mark_replan``: this package may not know dispatch).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import Actor
from standards.workdays import default_calendar
from technicians.models import Technician
from technicians.roster import ShiftAssignment, ShiftException, Team, TechnicianSkill
from technicians.shift_rules import (
    DayException,
    EffectiveShift,
    FixedShift,
    PatternDay,
    resolve_day,
    skill_valid_on,
)


def _minutes(value: time | None) -> int | None:
    return None if value is None else value.hour * 60 + value.minute


def fixed_shift(tech: Technician) -> FixedShift:
    """The technician's own daily shift, used on days no pattern assignment covers."""
    return FixedShift(
        start_min=_minutes(tech.shift_start) or 0,
        end_min=_minutes(tech.shift_end) or 24 * 60,
        lunch_start_min=_minutes(tech.lunch_start),
        lunch_duration_min=tech.lunch_duration_min or 0,
        max_work_min=tech.max_work_min or None,
    )


def pattern_day(assignment: ShiftAssignment) -> PatternDay:
    """An assignment with its pattern's hours, as the rules take it."""
    p = assignment.pattern
    return PatternDay(
        name=p.name,
        kind=p.kind,
        start_min=p.start_min,
        end_min=p.end_min,
        lunch_start_min=p.lunch_start_min,
        lunch_duration_min=p.lunch_duration_min or 0,
        on_call=bool(p.on_call),
        cycle=tuple(bool(x) for x in p.cycle or ()),
        start_on=assignment.start_on,
        end_on=assignment.end_on,
        rotation_offset=assignment.rotation_offset or 0,
    )


def effective_shifts(
    session: Session, techs: Iterable[Technician], days: Iterable[date]
) -> dict[tuple[int, date], EffectiveShift | None]:
    """Each technician's effective shift on each day (None: not working)."""
    techs, days = list(techs), sorted(set(days))
    if not techs or not days:
        return {}
    ids = [t.id for t in techs]
    patterns: dict[int, list[PatternDay]] = defaultdict(list)
    for assignment in session.scalars(
        select(ShiftAssignment).where(ShiftAssignment.technician_id.in_(ids)).order_by(ShiftAssignment.id)
    ):
        patterns[assignment.technician_id].append(pattern_day(assignment))
    exceptions: dict[tuple[int, date], list[DayException]] = defaultdict(list)
    for row in session.scalars(
        select(ShiftException)
        .where(
            ShiftException.technician_id.in_(ids),
            ShiftException.day >= days[0],
            ShiftException.day <= days[-1],
        )
        .order_by(ShiftException.id)
    ):
        exceptions[(row.technician_id, row.day)].append(DayException(row.kind, row.start_min, row.end_min))
    calendar = default_calendar()
    working = {day: calendar.is_working_day(day) for day in days}
    fixed = {t.id: fixed_shift(t) for t in techs}
    return {
        (t.id, day): resolve_day(
            day, fixed[t.id], patterns.get(t.id, []), exceptions.get((t.id, day), []), working[day]
        )
        for t in techs
        for day in days
    }


def effective_shift(session: Session, technician: Technician, day: date) -> EffectiveShift | None:
    """The technician's shift on ``day`` on the official calendar: hours, lunch,
    on-call flag and where it came from; None when they do not work that day."""
    return effective_shifts(session, [technician], [day])[(technician.id, day)]


def shifts_between(session: Session, technician: Technician, first: date, last: date) -> list[dict]:
    """The technician's effective shift on each day from ``first`` to ``last``
    (``shift`` None: off), for the staff API and the phone."""
    days = days_between(first, last)
    shifts = effective_shifts(session, [technician], days)
    return [
        {"day": day, "shift": None if (s := shifts[(technician.id, day)]) is None else s.to_dict()}
        for day in days
    ]


def skills_on(session: Session, techs: Iterable[Technician], day: date) -> dict[int, frozenset[str]]:
    """The skills each technician may be planned for on ``day``: certified skills valid
    that day (valid ON the expiry date, not after), plus skills on the technician's
    record with no certificate row at all (recorded before certificates were kept)."""
    techs = list(techs)
    rows: dict[int, list[TechnicianSkill]] = defaultdict(list)
    if techs:
        for row in session.scalars(
            select(TechnicianSkill).where(TechnicianSkill.technician_id.in_([t.id for t in techs]))
        ):
            rows[row.technician_id].append(row)
    found = {}
    for tech in techs:
        certified = {r.skill for r in rows[tech.id]}
        valid = {r.skill for r in rows[tech.id] if skill_valid_on(r.certified_on, r.expires_on, day)}
        found[tech.id] = frozenset(valid | (set(tech.skills or ()) - certified))
    return found


@dataclass(frozen=True)
class DayRoster:
    """What planning needs of one technician on one day."""

    shift: EffectiveShift | None
    skills: frozenset[str]
    coverage_districts: frozenset[str]
    coverage_hard: bool


def roster_for_day(session: Session, techs: Iterable[Technician], day: date) -> dict[int, DayRoster]:
    """Every technician's shift, valid skills and coverage on ``day``."""
    techs = list(techs)
    shifts = effective_shifts(session, techs, [day])
    skills = skills_on(session, techs, day)
    team_ids = {t.team_id for t in techs if t.team_id is not None}
    hard = {
        team.id
        for team in (session.scalars(select(Team).where(Team.id.in_(team_ids))) if team_ids else [])
        if team.coverage_mode == "hard"
    }
    return {
        t.id: DayRoster(
            shift=shifts[(t.id, day)],
            skills=skills[t.id],
            coverage_districts=frozenset(t.coverage_districts or ()),
            coverage_hard=t.team_id in hard and bool(t.coverage_districts),
        )
        for t in techs
    }


def working_on(session: Session, techs: Iterable[Technician], day: date) -> list[Technician]:
    """Those of ``techs`` who work on ``day`` (in the order given)."""
    techs = list(techs)
    shifts = effective_shifts(session, techs, [day])
    return [t for t in techs if shifts[(t.id, day)] is not None]


def days_between(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last``, both included."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# ---------------------------------------------------------------- changes that may spoil a plan

RosterListener = Callable[[Session, Actor, list[int], date, "date | None", str], None]
_listeners: list[RosterListener] = []


def use_roster_listener(listener: RosterListener) -> None:
    """Set the function told of roster changes (``dispatch.replan.mark_replan``)."""
    _listeners[:] = [listener]


def roster_changed(
    session: Session,
    actor: Actor,
    technician_ids: list[int],
    first_day: date,
    last_day: date | None,
    reason: str,
) -> None:
    """Announce that these technicians' days from ``first_day`` to ``last_day``
    (None: no end) may differ from what was planned, and why."""
    for listener in _listeners:
        listener(session, actor, technician_ids, first_day, last_day, reason)
