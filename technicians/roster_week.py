"""A team's week as the roster page and its JSON show it: each technician's effective
shift per day (hours, on-call, leave and other exceptions) and expiring certificates."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy.orm import Session

from standards.workdays import default_calendar
from technicians import certifications
from technicians.roster import Team
from technicians.roster_service import get_team, list_exceptions, team_members
from technicians.shift_rules import hhmm
from technicians.shifts import days_between, effective_shifts


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def week_view(session: Session, team_id: int | None, first: date, today: date, days: int = 7) -> dict:
    """The week from ``first`` for a team (every technician when ``team_id`` is None)."""
    team: Team | None = get_team(session, team_id) if team_id is not None else None
    techs = [t for t in team_members(session, team_id) if t.active]
    week = days_between(first, first + timedelta(days=days - 1))
    shifts = effective_shifts(session, techs, week)
    exceptions = defaultdict(list)
    for row in list_exceptions(session, [t.id for t in techs], week[0], week[-1]):
        exceptions[(row.technician_id, row.day)].append(
            {
                "id": row.id,
                "kind": row.kind,
                "start": hhmm(row.start_min),
                "end": hhmm(row.end_min),
                "note": row.note,
            }
        )
    calendar = default_calendar()
    expiring = [
        certifications.expiring_view(row, tech, today)
        for row, tech in certifications.expiring(session, today, team_id=team_id)
    ]
    return {
        "team": None
        if team is None
        else {"id": team.id, "name": team.name, "coverage_mode": team.coverage_mode},
        "days": [{"day": day, "working_day": calendar.is_working_day(day)} for day in week],
        "technicians": [
            {
                "id": tech.id,
                "name": tech.name,
                "district": tech.district,
                "coverage_districts": tech.coverage_districts or [],
                "days": [
                    {
                        "day": day,
                        "shift": None if shifts[(tech.id, day)] is None else shifts[(tech.id, day)].to_dict(),
                        "exceptions": exceptions.get((tech.id, day), []),
                    }
                    for day in week
                ],
            }
            for tech in techs
        ],
        "expiring": expiring,
    }
