"""Technician logic: register, list, and look up by user."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import Invalid, NotFound
from core.models import User
from technicians.models import Technician


def create_technician(session: Session, actor: Actor, data: dict) -> Technician:
    """Register a technician, optionally linked to a login of role technician."""
    data = {k: v for k, v in data.items() if v is not None}
    user_id = data.get("user_id")
    if user_id is not None:
        user = session.get(User, user_id)
        if user is None or user.role != "technician" or user.technician is not None:
            raise Invalid(
                "Link a technician login that has no technician yet.",
                errors={"user_id": ["Not a free technician login."]},
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


def list_technicians(
    session: Session, district: str | None = None, skill: str | None = None, active: bool | None = None
) -> list[Technician]:
    """Technicians, filtered by district, skill and active flag."""
    stmt = select(Technician).order_by(Technician.id)
    if district:
        stmt = stmt.where(Technician.district == district)
    if active is not None:
        stmt = stmt.where(Technician.active == active)
    techs = list(session.scalars(stmt))
    if skill:
        techs = [t for t in techs if skill in (t.skills or [])]
    return techs


def get_technician(session: Session, technician_id: int) -> Technician:
    """One technician or 404."""
    tech = session.get(Technician, technician_id)
    if tech is None:
        raise NotFound(f"Technician {technician_id} not found.")
    return tech
