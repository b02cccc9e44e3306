"""The demo seed's roster: teams with supervisors, the three patterns, one technician on
call each day, some leave and certificates expiring within 30 days."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from core.clock import now
from technicians import certifications
from technicians.models import Technician
from technicians.roster import LeaveRequest, ShiftPattern, Team
from technicians.shifts import effective_shifts


def test_seed_demo_adds_a_roster(app, db):
    result = app.test_cli_runner().invoke(
        args=["seed-demo", "--technicians", "14", "--orders", "10", "--seed", "3", "--history", "0"]
    )
    assert result.exit_code == 0, result.output
    assert any(line.startswith("roster: 3 teams, 3 shift patterns") for line in result.output.splitlines())
    teams = db.scalars(select(Team).order_by(Team.id)).all()
    assert all(t.supervisor_user_id is not None for t in teams) and teams[2].coverage_mode == "hard"
    assert {p.kind for p in db.scalars(select(ShiftPattern))} == {"working_days", "rota"}
    today = now().date()
    assert certifications.expiring(db, today)  # the manager has someone to remind
    techs = db.scalars(select(Technician)).all()
    assert all(t.team_id is not None for t in techs)
    days = [today + timedelta(days=n) for n in range(4)]
    shifts = effective_shifts(db, techs, days)
    for day in days:
        assert sum(1 for t in techs if (s := shifts[(t.id, day)]) is not None and s.on_call) == 1
    statuses = set(db.scalars(select(LeaveRequest.status)))
    assert statuses == {"approved", "pending"}
    assert db.scalar(select(func.count()).select_from(Team)) == 3
