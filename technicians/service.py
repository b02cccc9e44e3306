"""Technician logic: register, list, look up, and the questions every planner asks
(who is working, what skills a technician lacks for a job)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import N_, Invalid, NotFound, refuse
from core.models import User
from technicians.models import Technician


def create_technician(session: Session, actor: Actor, data: dict) -> Technician:
    """Register a technician, optionally linked to a login of role technician."""
    data = {k: v for k, v in data.items() if v is not None}
    user_id = data.get("user_id")
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or user.role != "technician" or user.technician is not None:
            raise refuse(
                Invalid,
                N_("Link a technician login that has no technician yet."),
                errors={"user_id": [N_("Not a free technician login.")]},
            )
    tech = Technician(**data)
    session.add(tech)
    session.flush()
    audit.record(
        session,
        actor,
        "technician_created",
        "technician",
        tech.id,
        after={"name": tech.name, "skills": tech.skills},
    )
    return tech


def _technicians(district: str | None = None, active: bool | None = None) -> Select:
    stmt = select(Technician).order_by(Technician.id)
    if district:
        stmt = stmt.where(Technician.district == district)
    if active is not None:
        stmt = stmt.where(Technician.active.is_(active))
    return stmt


def active_technicians(session: Session, district: str | None = None) -> list[Technician]:
    """Technicians on the books and active (of one district when given), by id."""
    return list(session.scalars(_technicians(district, active=True)))


def list_technicians(
    session: Session, district: str | None = None, skill: str | None = None, active: bool | None = None
) -> list[Technician]:
    """Technicians, filtered by district, skill and active flag."""
    techs = list(session.scalars(_technicians(district, active)))
    if skill:
        techs = [t for t in techs if not missing_skills(t, [skill])]
    return techs


def missing_skills(tech: Technician, required: Iterable[str] | None) -> list[str]:
    """The skills a job needs that the technician lacks, sorted (empty: qualified)."""
    return sorted(set(required or ()) - set(tech.skills or ()))


def get_technician(session: Session, technician_id: int) -> Technician:
    """One technician or 404."""
    tech = session.get(Technician, technician_id)
    if tech is None:
        raise refuse(
            NotFound, N_("Technician %(technician_id)s not found."), params={"technician_id": technician_id}
        )
    return tech
