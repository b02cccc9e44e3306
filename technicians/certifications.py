"""Certified skills: when each was certified and when it expires.

A certificate is valid from ``certified_on`` up to and including ``expires_on``:
planning on the expiry day still uses it, the day after does not
(:func:`technicians.shift_rules.skill_valid_on`). ``Technician.skills`` stays the
list of skills on record (certificates current or not, and older skills with no
certificate) for the code that reads it; planning asks :func:`technicians.shifts.skills_on`.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Invalid, NotFound
from technicians.models import Technician
from technicians.roster import TechnicianSkill
from technicians.service import get_technician
from technicians.shifts import roster_changed

EXPIRING_DAYS = 30


def certifications(session: Session, technician_id: int) -> list[TechnicianSkill]:
    """A technician's certificates by skill (404 for an unknown technician)."""
    get_technician(session, technician_id)
    stmt = select(TechnicianSkill).where(TechnicianSkill.technician_id == technician_id)
    return list(session.scalars(stmt.order_by(TechnicianSkill.skill)))


def certify(session: Session, actor: Actor, technician_id: int, data: dict) -> TechnicianSkill:
    """Record (or renew) a technician's certificate for a skill; the skill joins their record."""
    tech = get_technician(session, technician_id)
    expires_on = data.get("expires_on")
    if expires_on is not None and expires_on < data["certified_on"]:
        message = N_("A certificate cannot expire before it is issued.")
        raise Invalid(message, errors={"expires_on": [message]})
    row = session.scalar(
        select(TechnicianSkill).where(
            TechnicianSkill.technician_id == tech.id, TechnicianSkill.skill == data["skill"]
        )
    )
    shortened = row is not None and (
        expires_on is not None and (row.expires_on is None or expires_on < row.expires_on)
    )
    if row is None:
        row = TechnicianSkill(technician_id=tech.id, skill=data["skill"])
        session.add(row)
    row.certified_on, row.expires_on = data["certified_on"], expires_on
    if data["skill"] not in (tech.skills or []):
        tech.skills = sorted({*(tech.skills or []), data["skill"]})
    session.flush()
    audit.record(
        session,
        actor,
        "skill_certified",
        "technician",
        tech.id,
        after={"skill": row.skill, "certified_on": str(row.certified_on), "expires_on": str(expires_on)},
    )
    if shortened:  # plans of the days it no longer covers may give them work they cannot do now
        roster_changed(session, actor, [tech.id], expires_on + timedelta(days=1), None, "certificate")
    return row


def revoke(session: Session, actor: Actor, technician_id: int, skill: str) -> None:
    """Remove a technician's certificate and the skill from their record."""
    tech = get_technician(session, technician_id)
    row = session.scalar(
        select(TechnicianSkill).where(
            TechnicianSkill.technician_id == tech.id, TechnicianSkill.skill == skill
        )
    )
    if row is None:
        raise NotFound(
            N_("%(name)s holds no certificate for %(skill)s."), params={"name": tech.name, "skill": skill}
        )
    session.delete(row)
    tech.skills = [s for s in tech.skills or [] if s != skill]
    session.flush()
    audit.record(session, actor, "skill_revoked", "technician", tech.id, after={"skill": skill})
    roster_changed(session, actor, [tech.id], now().date(), None, "certificate")


def expiring(
    session: Session, today: date, within_days: int = EXPIRING_DAYS, team_id: int | None = None
) -> list[tuple[TechnicianSkill, Technician]]:
    """Certificates of active technicians expiring from today to ``within_days`` ahead
    (both included), soonest first."""
    stmt = (
        select(TechnicianSkill, Technician)
        .join(Technician, Technician.id == TechnicianSkill.technician_id)
        .where(
            Technician.active.is_(True),
            TechnicianSkill.expires_on >= today,
            TechnicianSkill.expires_on <= today + timedelta(days=within_days),
        )
        .order_by(TechnicianSkill.expires_on, Technician.name)
    )
    if team_id is not None:
        stmt = stmt.where(Technician.team_id == team_id)
    return [(row, tech) for row, tech in session.execute(stmt)]


def expiring_view(row: TechnicianSkill, tech: Technician, today: date) -> dict:
    """One expiring certificate for JSON and the roster page."""
    return {
        "technician_id": tech.id,
        "name": tech.name,
        "team_id": tech.team_id,
        "skill": row.skill,
        "certified_on": row.certified_on,
        "expires_on": row.expires_on,
        "days_left": (row.expires_on - today).days if row.expires_on else None,
    }
