"""The demo city's roster: teams with supervisors, the day pattern on the official
calendar, a weekend duty rota, a 24x7 on-call rota for enterprise faults, some leave
(one request approved, one pending) and certificates, some expiring within 30 days.

Run by ``flask seed-demo`` after the city (``seed_city`` itself stays as the tests and
benchmarks know it). Rows are added directly: one flush, no per-row audit.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import User
from technicians.models import Technician
from technicians.roster import (
    LeaveRequest,
    ShiftAssignment,
    ShiftException,
    ShiftPattern,
    Team,
    TechnicianSkill,
)

# 14 days from a Monday: Saturday and Sunday of the first week on
WEEKEND_CYCLE = [False] * 5 + [True] * 2 + [False] * 7
ON_CALL_CYCLE = [True, False, False, False]


def _patterns(session: Session) -> dict[str, ShiftPattern]:
    patterns = {
        "day": ShiftPattern(
            name="白班", kind="working_days", start_min=510, end_min=1050, lunch_start_min=720
        ),
        "weekend": ShiftPattern(
            name="周末值班",
            kind="rota",
            start_min=540,
            end_min=1080,
            lunch_start_min=720,
            cycle=WEEKEND_CYCLE,
        ),
        "on_call": ShiftPattern(
            name="政企7x24值守",
            kind="rota",
            start_min=0,
            end_min=1440,
            on_call=True,
            cycle=ON_CALL_CYCLE,
            lunch_start_min=None,
        ),  # fmt: skip
    }
    for pattern in patterns.values():
        pattern.lunch_duration_min = 60 if pattern.lunch_start_min is not None else 0
        session.add(pattern)
    return patterns


def _teams(session: Session) -> list[Team]:
    supervisors = {
        u.username: u.id
        for u in session.scalars(select(User).where(User.role.in_(("dispatcher", "manager"))))
    }
    teams = [
        Team(
            name="西片装维班组", supervisor_user_id=supervisors.get("dispatcher"), coverage_mode="preference"
        ),
        Team(name="东片装维班组", supervisor_user_id=supervisors.get("manager"), coverage_mode="preference"),
        Team(name="政企保障组", supervisor_user_id=supervisors.get("manager"), coverage_mode="hard"),
    ]
    session.add_all(teams)
    session.flush()
    return teams


def seed_roster(session: Session, today: date) -> list[str]:
    """Seed the roster once (nothing when a team exists); one summary line."""
    if session.scalar(select(Team.id).limit(1)) is not None:
        return ["roster already seeded"]
    techs = list(session.scalars(select(Technician).order_by(Technician.id)))
    teams, patterns = _teams(session), _patterns(session)
    session.flush()
    monday = today - timedelta(days=today.weekday() + 28)
    enterprise = [t for t in techs if "enterprise_circuit" in (t.skills or [])]
    on_call = enterprise[: len(ON_CALL_CYCLE)]
    # The enterprise team serves the whole city and only it (a hard limit: the city's
    # districts, not a district of its own); the residential teams prefer their own district.
    patch = sorted({t.district for t in techs if t.district})
    for i, tech in enumerate(techs):
        team = teams[2] if tech in enterprise else teams[i % 2]
        own = [tech.district] if tech.district else []
        tech.team_id, tech.coverage_districts = team.id, patch if tech in enterprise else own
        session.add(ShiftAssignment(technician_id=tech.id, pattern_id=patterns["day"].id, start_on=monday))
        if i % 4 == 1:  # every fourth works weekend duty, two alternating crews
            offset = 7 * ((i // 4) % 2)
            session.add(
                ShiftAssignment(
                    technician_id=tech.id,
                    pattern_id=patterns["weekend"].id,
                    start_on=monday,
                    rotation_offset=offset,
                )
            )
        _certificates(session, tech, i, today)
    for i, tech in enumerate(on_call):
        session.add(
            ShiftAssignment(
                technician_id=tech.id, pattern_id=patterns["on_call"].id, start_on=monday, rotation_offset=i
            )
        )
    leave_lines = _leave(session, techs, today)
    session.flush()
    expiring = sum(1 for i in range(len(techs)) if i % 6 == 2)
    return [
        f"roster: {len(teams)} teams, {len(patterns)} shift patterns (day, weekend rota, 24x7 on call for "
        f"{len(on_call)}), {leave_lines}, {expiring} certificates expiring within 30 days"
    ]


def _certificates(session: Session, tech: Technician, i: int, today: date) -> None:
    for k, skill in enumerate(tech.skills or []):
        expires = today + timedelta(days=365 + 30 * k)
        if k == 0 and i % 6 == 2:
            expires = today + timedelta(days=3 + i % 25)  # within the manager's 30 days
        session.add(
            TechnicianSkill(
                technician_id=tech.id,
                skill=skill,
                certified_on=today - timedelta(days=700),
                expires_on=expires,
            )
        )


def _leave(session: Session, techs: list[Technician], today: date) -> str:
    if len(techs) < 4:
        return "no leave"
    tomorrow = today + timedelta(days=1)
    approved = LeaveRequest(
        technician_id=techs[2].id, kind="leave", start_on=tomorrow, end_on=tomorrow + timedelta(days=2),
        reason="家中有事", status="approved",
    )  # fmt: skip
    pending = LeaveRequest(
        technician_id=techs[3].id, kind="leave", start_on=today + timedelta(days=7),
        end_on=today + timedelta(days=8), reason="孩子开家长会",
    )  # fmt: skip
    session.add_all([approved, pending])
    session.flush()
    for n in range(3):
        session.add(
            ShiftException(
                technician_id=techs[2].id,
                day=tomorrow + timedelta(days=n),
                kind="leave",
                leave_request_id=approved.id,
            )
        )
    session.add(
        ShiftException(
            technician_id=techs[0].id,
            day=tomorrow,
            kind="training",
            start_min=510,
            end_min=720,
            note="光猫新机型培训",
        )
    )
    session.add(
        ShiftException(technician_id=techs[1].id, day=today, kind="overtime", start_min=1050, end_min=1170)
    )
    return "leave approved for one and pending for another, a training morning and an evening of overtime"
