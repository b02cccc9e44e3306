"""Keeping the roster: teams and their members, shift patterns, who works which
pattern from when, and per-day exceptions (leave, sick, training, overtime).

Every change that may alter a planned day is announced with
:func:`technicians.shifts.roster_changed` (a re-plan notice on that day's plan).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, Invalid, Message, NotFound
from core.models import User
from technicians.models import Technician
from technicians.roster import ShiftAssignment, ShiftException, ShiftPattern, Team
from technicians.service import get_technician
from technicians.shift_rules import DAY_MIN
from technicians.shifts import roster_changed

SUPERVISOR_ROLES = ("dispatcher", "manager", "admin")
MAX_CYCLE_DAYS = 56


def _invalid(field: str, msgid: str, **params) -> Invalid:
    return Invalid(
        msgid, params=params or None, errors={field: [Message(msgid, **params) if params else msgid]}
    )


# ---------------------------------------------------------------- teams


def get_team(session: Session, team_id: int) -> Team:
    """One team or 404."""
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(N_("Team %(team_id)s not found."), params={"team_id": team_id})
    return team


def list_teams(session: Session) -> list[Team]:
    """Every team by name."""
    return list(session.scalars(select(Team).order_by(Team.name)))


def _check_team(session: Session, data: dict, team: Team | None = None) -> None:
    name = data.get("name")
    if name is not None:
        clash = session.scalar(select(Team).where(Team.name == name))
        if clash is not None and clash is not team:
            raise Conflict(
                N_("A team named %(name)s exists already."), slug="team-exists", params={"name": name}
            )
    supervisor_id = data.get("supervisor_user_id")
    if supervisor_id is not None:
        user = session.get(User, supervisor_id)
        if user is None or user.role not in SUPERVISOR_ROLES or not user.active:
            raise _invalid(
                "supervisor_user_id", N_("The supervisor must be an active dispatcher or manager.")
            )


def create_team(session: Session, actor: Actor, data: dict) -> Team:
    """A new team (unique name; the supervisor a dispatcher, manager or admin login)."""
    _check_team(session, data)
    team = Team(**data)
    session.add(team)
    session.flush()
    audit.record(session, actor, "team_created", "team", team.id, after={"name": team.name})
    return team


def update_team(session: Session, actor: Actor, team_id: int, data: dict) -> Team:
    """Rename a team, change its supervisor or coverage mode."""
    team = get_team(session, team_id)
    _check_team(session, data, team)
    for key, value in data.items():
        setattr(team, key, value)
    session.flush()
    audit.record(session, actor, "team_changed", "team", team.id, after=dict(data))
    return team


def update_membership(session: Session, actor: Actor, technician_id: int, data: dict) -> Technician:
    """A technician's team, coverage districts, home base and active flag."""
    tech = get_technician(session, technician_id)
    if data.get("team_id") is not None:
        get_team(session, data["team_id"])
    before = {key: getattr(tech, key) for key in data}
    for key, value in data.items():
        setattr(tech, key, value)
    session.flush()
    audit.record(
        session, actor, "technician_roster_changed", "technician", tech.id, before=before, after=data
    )
    if "active" in data and before.get("active") != data["active"]:
        roster_changed(session, actor, [tech.id], now().date(), None, "active_changed")
    return tech


def team_members(session: Session, team_id: int | None) -> list[Technician]:
    """A team's technicians (every technician when ``team_id`` is None), by name."""
    stmt = select(Technician).order_by(Technician.name, Technician.id)
    if team_id is not None:
        stmt = stmt.where(Technician.team_id == team_id)
    return list(session.scalars(stmt))


# ---------------------------------------------------------------- patterns


def _check_hours(data: dict) -> None:
    start, end = data["start_min"], data["end_min"]
    if not 0 <= start < end <= DAY_MIN:
        raise _invalid("end", N_("The shift must end after it starts, within the day."))
    lunch = data.get("lunch_start_min")
    if lunch is not None and not start <= lunch < lunch + data.get("lunch_duration_min", 60) <= end:
        raise _invalid("lunch_start", N_("Lunch must fall within the shift."))
    if data.get("kind") == "rota" and not 1 <= len(data.get("cycle") or []) <= MAX_CYCLE_DAYS:
        raise _invalid("cycle", N_("A rota needs a cycle of 1 to %(days)s days."), days=MAX_CYCLE_DAYS)


def get_pattern(session: Session, pattern_id: int) -> ShiftPattern:
    """One pattern or 404."""
    pattern = session.get(ShiftPattern, pattern_id)
    if pattern is None:
        raise NotFound(N_("Shift pattern %(pattern_id)s not found."), params={"pattern_id": pattern_id})
    return pattern


def list_patterns(session: Session) -> list[ShiftPattern]:
    """Every shift pattern by name."""
    return list(session.scalars(select(ShiftPattern).order_by(ShiftPattern.name)))


def create_pattern(session: Session, actor: Actor, data: dict) -> ShiftPattern:
    """A named pattern: hours, lunch, on-call, and for a rota its cycle of days on and off."""
    _check_hours(data)
    if session.scalar(select(ShiftPattern).where(ShiftPattern.name == data["name"])) is not None:
        raise Conflict(
            N_("A shift pattern named %(name)s exists already."),
            slug="pattern-exists",
            params={"name": data["name"]},
        )
    pattern = ShiftPattern(**data)
    session.add(pattern)
    session.flush()
    audit.record(
        session, actor, "shift_pattern_created", "shift_pattern", pattern.id, after=_pattern_audit(pattern)
    )
    return pattern


def _pattern_audit(pattern: ShiftPattern) -> dict:
    keys = (
        "name",
        "kind",
        "start_min",
        "end_min",
        "lunch_start_min",
        "lunch_duration_min",
        "on_call",
        "cycle",
    )
    return {key: getattr(pattern, key) for key in keys}


def update_pattern(session: Session, actor: Actor, pattern_id: int, data: dict) -> ShiftPattern:
    """Change a pattern's hours or cycle; every technician working it from today on
    gets the change, and days already planned are marked for a re-plan."""
    pattern = get_pattern(session, pattern_id)
    before = _pattern_audit(pattern)
    merged = {**before, **data}
    _check_hours(merged)
    if "name" in data and data["name"] != pattern.name:
        if session.scalar(select(ShiftPattern).where(ShiftPattern.name == data["name"])) is not None:
            raise Conflict(
                N_("A shift pattern named %(name)s exists already."),
                slug="pattern-exists",
                params={"name": data["name"]},
            )
    for key, value in data.items():
        setattr(pattern, key, value)
    pattern.version = (pattern.version or 1) + 1
    session.flush()
    audit.record(
        session,
        actor,
        "shift_pattern_changed",
        "shift_pattern",
        pattern.id,
        before=before,
        after=_pattern_audit(pattern),
    )
    today = now().date()
    techs = sorted(
        set(
            session.scalars(
                select(ShiftAssignment.technician_id).where(
                    ShiftAssignment.pattern_id == pattern.id,
                    (ShiftAssignment.end_on.is_(None)) | (ShiftAssignment.end_on >= today),
                )
            )
        )
    )
    if techs:
        roster_changed(session, actor, techs, today, None, "pattern_changed")
    return pattern


# ---------------------------------------------------------------- assignments


def list_assignments(session: Session, technician_id: int | None = None) -> list[ShiftAssignment]:
    """Pattern assignments (of one technician when given), by start date."""
    stmt = select(ShiftAssignment).order_by(ShiftAssignment.technician_id, ShiftAssignment.start_on)
    if technician_id is not None:
        stmt = stmt.where(ShiftAssignment.technician_id == technician_id)
    return list(session.scalars(stmt))


def assign_pattern(session: Session, actor: Actor, data: dict) -> ShiftAssignment:
    """The technician works the pattern from ``start_on`` (to ``end_on``), rotated by
    ``rotation_offset`` days; days already planned in that span are marked for a re-plan."""
    tech = get_technician(session, data["technician_id"])
    pattern = get_pattern(session, data["pattern_id"])
    if data.get("end_on") is not None and data["end_on"] < data["start_on"]:
        raise _invalid("end_on", N_("The last day cannot be before the first."))
    assignment = ShiftAssignment(**data, created_by=actor.user_id)
    assignment.pattern = pattern
    session.add(assignment)
    session.flush()
    audit.record(
        session,
        actor,
        "shift_assigned",
        "technician",
        tech.id,
        after={
            "pattern": pattern.name,
            "start_on": str(assignment.start_on),
            "end_on": str(assignment.end_on),
        },
    )
    roster_changed(session, actor, [tech.id], assignment.start_on, assignment.end_on, "pattern_assigned")
    return assignment


def _assignment_audit(assignment: ShiftAssignment) -> dict:
    return {
        "pattern": assignment.pattern.name,
        "start_on": str(assignment.start_on),
        "end_on": str(assignment.end_on),
        "rotation_offset": assignment.rotation_offset,
    }


def update_assignment(session: Session, actor: Actor, assignment_id: int, data: dict) -> ShiftAssignment:
    """Change an assignment's pattern, dates or rotation (say, end a rota when the technician
    leaves it); the days it covered before or covers now are marked for a re-plan."""
    assignment = session.get(ShiftAssignment, assignment_id)
    if assignment is None:
        raise NotFound(N_("Assignment %(id)s not found."), params={"id": assignment_id})
    before = _assignment_audit(assignment)
    first, last = assignment.start_on, assignment.end_on
    start_on, end_on = data.get("start_on", first), data.get("end_on", last)
    if end_on is not None and end_on < start_on:
        raise _invalid("end_on", N_("The last day cannot be before the first."))
    if "pattern_id" in data:
        assignment.pattern = get_pattern(session, data["pattern_id"])
    for key in ("start_on", "end_on", "rotation_offset"):
        if key in data:
            setattr(assignment, key, data[key])
    session.flush()
    audit.record(
        session,
        actor,
        "shift_assignment_changed",
        "technician",
        assignment.technician_id,
        before=before,
        after=_assignment_audit(assignment),
    )
    # the span of both: a day the assignment left or took may differ from its plan
    span_end = None if last is None or end_on is None else max(last, end_on)
    roster_changed(
        session,
        actor,
        [assignment.technician_id],
        min(first, start_on),
        span_end,
        "pattern_assignment_changed",
    )
    return assignment


def remove_assignment(session: Session, actor: Actor, assignment_id: int) -> None:
    """Take a pattern assignment away (its days fall back to the other assignments)."""
    assignment = session.get(ShiftAssignment, assignment_id)
    if assignment is None:
        raise NotFound(N_("Assignment %(id)s not found."), params={"id": assignment_id})
    tech_id, first, last = assignment.technician_id, assignment.start_on, assignment.end_on
    session.delete(assignment)
    session.flush()
    audit.record(
        session, actor, "shift_unassigned", "technician", tech_id, after={"assignment_id": assignment_id}
    )
    roster_changed(session, actor, [tech_id], first, last, "pattern_removed")


# ---------------------------------------------------------------- exceptions


def list_exceptions(
    session: Session, technician_ids: list[int] | None, first: date, last: date
) -> list[ShiftException]:
    """Exceptions from ``first`` to ``last`` (of these technicians when given), by day."""
    stmt = (
        select(ShiftException)
        .where(ShiftException.day >= first, ShiftException.day <= last)
        .order_by(ShiftException.day, ShiftException.id)
    )
    if technician_ids is not None:
        stmt = stmt.where(ShiftException.technician_id.in_(technician_ids))
    return list(session.scalars(stmt))


def add_exception(
    session: Session, actor: Actor, data: dict, leave_request_id: int | None = None
) -> ShiftException:
    """Leave, sick, training (the whole day, or from ``start_min`` to ``end_min``) or
    overtime (those minutes worked) for one technician and day; a plan of that day
    is marked for a re-plan."""
    tech = get_technician(session, data["technician_id"])
    start, end = data.get("start_min"), data.get("end_min")
    if (start is None) != (end is None):
        raise _invalid("end", N_("Give both the start and the end, or neither for the whole day."))
    if start is not None and not 0 <= start < end <= DAY_MIN:
        raise _invalid("end", N_("The end must be after the start, within the day."))
    if data["kind"] == "overtime" and start is None:
        raise _invalid("start", N_("Overtime needs its start and end."))
    row = ShiftException(**data, leave_request_id=leave_request_id, created_by=actor.user_id)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "shift_exception_added",
        "technician",
        tech.id,
        after={"day": str(row.day), "kind": row.kind, "start_min": start, "end_min": end},
    )
    roster_changed(session, actor, [tech.id], row.day, row.day, row.kind)
    return row


def remove_exception(session: Session, actor: Actor, exception_id: int) -> None:
    """Take an exception away; that day's plan is marked for a re-plan."""
    row = session.get(ShiftException, exception_id)
    if row is None:
        raise NotFound(N_("Exception %(id)s not found."), params={"id": exception_id})
    tech_id, day, kind = row.technician_id, row.day, row.kind
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor,
        "shift_exception_removed",
        "technician",
        tech_id,
        after={"day": str(day), "kind": kind},
    )
    roster_changed(session, actor, [tech_id], day, day, f"{kind}_removed")
