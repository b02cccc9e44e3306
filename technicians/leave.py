"""Leave requests from the technician's phone, decided by a supervisor or manager.

A request is pending until decided. Approval writes one whole-day exception per day
(:func:`technicians.roster_service.add_exception`), which marks any plan of those days
for a re-plan; a rejection changes nothing else. A dispatcher decides only for a team
they supervise; managers and administrators for anyone.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, Forbidden, Invalid, Message, NotFound
from technicians.models import Technician
from technicians.roster import LeaveRequest, Team
from technicians.roster_service import add_exception
from technicians.service import get_technician
from technicians.shifts import days_between

MAX_LEAVE_DAYS = 31


def request_leave(session: Session, actor: Actor, technician_id: int, data: dict) -> LeaveRequest:
    """A technician asks for leave or sick days from ``start_on`` to ``end_on`` (pending)."""
    tech = get_technician(session, technician_id)
    start, end = data["start_on"], data["end_on"]
    if end < start:
        message = N_("The last day cannot be before the first.")
        raise Invalid(message, errors={"end_on": [message]})
    if (end - start).days + 1 > MAX_LEAVE_DAYS:
        message = N_("Ask for at most %(days)s days at a time.")
        raise Invalid(
            message,
            params={"days": MAX_LEAVE_DAYS},
            errors={"end_on": [Message(message, days=MAX_LEAVE_DAYS)]},
        )
    if end < now().date():
        message = N_("Those days are over.")
        raise Invalid(message, errors={"end_on": [message]})
    request = LeaveRequest(technician_id=tech.id, **data)
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor,
        "leave_requested",
        "leave_request",
        request.id,
        after={"technician_id": tech.id, "kind": request.kind, "start_on": str(start), "end_on": str(end)},
    )
    return request


def get_request(session: Session, request_id: int) -> LeaveRequest:
    """One leave request or 404."""
    request = session.get(LeaveRequest, request_id)
    if request is None:
        raise NotFound(N_("Leave request %(id)s not found."), params={"id": request_id})
    return request


def list_requests(
    session: Session, status: str | None = None, technician_id: int | None = None
) -> list[LeaveRequest]:
    """Leave requests, newest first, by status and technician when given."""
    stmt = select(LeaveRequest).order_by(LeaveRequest.id.desc())
    if status:
        stmt = stmt.where(LeaveRequest.status == status)
    if technician_id is not None:
        stmt = stmt.where(LeaveRequest.technician_id == technician_id)
    return list(session.scalars(stmt.limit(500)))


def _may_decide(session: Session, actor: Actor, request: LeaveRequest) -> None:
    if actor.role in ("manager", "admin"):
        return
    tech = session.get(Technician, request.technician_id)
    team = session.get(Team, tech.team_id) if tech is not None and tech.team_id is not None else None
    if team is None or team.supervisor_user_id != actor.user_id:
        raise Forbidden(
            N_("Only the technician's supervisor or a manager decides on leave."), slug="not-supervisor"
        )


def decide(session: Session, actor: Actor, request_id: int, approve: bool, note: str | None) -> LeaveRequest:
    """Approve (one whole-day exception per day; plans of those days marked for a
    re-plan) or reject a pending request; a decided one is a 409."""
    request = get_request(session, request_id)
    _may_decide(session, actor, request)
    if request.status != "pending":
        raise Conflict(
            N_("Leave request %(id)s was decided already."), slug="leave-decided", params={"id": request.id}
        )
    request.status = "approved" if approve else "rejected"
    request.decided_by, request.decided_at, request.decision_note = actor.user_id, now(), note
    session.flush()
    if approve:
        for day in days_between(request.start_on, request.end_on):
            add_exception(
                session,
                actor,
                {
                    "technician_id": request.technician_id,
                    "day": day,
                    "kind": request.kind,
                    "note": request.reason,
                },
                leave_request_id=request.id,
            )
    audit.record(session, actor, f"leave_{request.status}", "leave_request", request.id, after={"note": note})
    return request


def days_of(request: LeaveRequest) -> list[date]:
    """The days a request covers."""
    return days_between(request.start_on, request.end_on)
