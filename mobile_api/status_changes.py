"""A status sent from the phone, applied to the order (the table is ``mobile_api.status``).

A status is checked against where the visit stands, then either moves the
order through the lifecycle (``workorders.service.transition``) or records
the visit's progress (work started, paused, resumed) in the audit trail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, Invalid, refuse
from mobile_api import schemas
from mobile_api.messages import NOT_ACCEPTED
from mobile_api.pings import note_position
from mobile_api.service import check_version, field_evidence
from mobile_api.status import (
    FIELD_PAUSED,
    FIELD_RESUMED,
    FIELD_STARTED,
    STATUS_CHANGES,
    StatusChange,
    VisitProgress,
    allowed_statuses,
    status_term,
)
from mobile_api.stops import progress_of, sla_view, visit_view
from technicians.stock import MoveRequest
from workorders import equipment, labels, lifecycle
from workorders import service as wo_service
from workorders.models import WorkOrder

REQUIRED_FOR_STATUS = N_("Required for this status.")


def change_status(
    session: Session, actor: Actor, order: WorkOrder, data: dict, lang: str = "zh"
) -> dict[str, Any]:
    """Apply one status from the phone (see mobile_api.status.STATUS_CHANGES) and answer
    with the order's state, its SLA clock and what the phone may send next."""
    wo_service.refuse_field_override(actor, data)
    status = data["status"]
    check_version(order, data.get("version"))
    visit = progress_of(session, order)
    visit.sla_paused = wo_service.sla_status(order)["paused"]
    _check_allowed(order, status, data, visit)
    evidence = field_evidence(status, data)
    change = STATUS_CHANGES[status]
    if data.get("equipment"):
        _record_equipment(session, actor, order, status, data["equipment"])
    if change.target is not None:
        answer = _move(session, actor, order, change, data, visit, evidence)
    else:
        _record_progress(session, actor, order, change, data, visit, evidence)
        answer = {"far_from_site": None, "distance_from_site_m": None}
    if data.get("lat") is not None:
        note_position(
            session, actor, data["lat"], data["lon"], data.get("accuracy_m"), data.get("client_time") or now()
        )
    session.flush()
    at = now()
    visit = visit.after(status, data.get("reason"), at)
    sla = sla_view(order)
    visit.sla_paused = sla["paused"]
    # Compact on purpose (one bar of signal): the phone has the stop's checklist and
    # findings from the route; GET /orders/{id} gives the whole stop again.
    return answer | {
        "status": status,
        "order_id": order.id,
        "state": order.state,
        "state_label": labels.label("state", order.state, lang),
        "at": at,
        "sla_paused": sla["paused"],
        "sla": sla,
        **visit_view(order, visit),
    }


def _record_equipment(
    session: Session, actor: Actor, order: WorkOrder, status: str, lines: list[dict]
) -> None:
    """The equipment used, out of the technician's van, in the close-out's transaction."""
    if status != "completed":
        raise refuse(
            Invalid,
            N_("Equipment is recorded when the order is completed."),
            errors={"equipment": [N_("Equipment is recorded when the order is completed.")]},
        )
    equipment.record_used_equipment(
        session,
        actor,
        order,
        [MoveRequest(line["item"], line.get("quantity"), tuple(line.get("serials") or ())) for line in lines],
    )


def _check_allowed(order: WorkOrder, status: str, data: dict, visit: VisitProgress) -> None:
    """Refuse a status the visit does not allow now (409) or that lacks what it needs (422)."""
    allowed = allowed_statuses(order.state, visit)
    if status not in allowed:
        raise refuse(
            Conflict,
            N_("'%(status)s' cannot be sent while the order is '%(state)s'."),
            slug="status-not-allowed",
            params={"status": status_term(status), "state": labels.term("state", order.state)},
            current_state=order.state,
            allowed_statuses=allowed,
        )
    change = STATUS_CHANGES[status]
    if change.needs_fix and data.get("lat") is None:
        raise refuse(
            Invalid,
            N_("Arrival needs the phone's GPS fix (lat, lon)."),
            errors={"lat": [REQUIRED_FOR_STATUS], "lon": [REQUIRED_FOR_STATUS]},
        )
    reason = data.get("reason")
    if change.needs_reason and not reason:
        raise refuse(Invalid, N_("Say why."), errors={"reason": [REQUIRED_FOR_STATUS]})
    if change.effect == "pause" and reason not in schemas.PAUSE_REASONS:
        raise refuse(
            Invalid,
            N_("Unknown pause reason."),
            errors={"reason": [NOT_ACCEPTED]},
            pause_reasons=list(schemas.PAUSE_REASONS),
        )


def _move(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    change: StatusChange,
    data: dict,
    visit: VisitProgress,
    evidence: dict,
) -> dict[str, Any]:
    """Move the order through the lifecycle; on arrival, say how far the fix is from the site."""
    answer: dict[str, Any] = {"far_from_site": None, "distance_from_site_m": None}
    if visit.paused:  # arriving, finishing or giving up ends the wait
        _resume(session, actor, order, visit, evidence)
    if change.target == lifecycle.State.ON_SITE:
        fix = wo_service.arrival_fix(order, data["lat"], data["lon"])
        answer["far_from_site"] = fix.get("far_from_site")
        answer["distance_from_site_m"] = fix.get("distance_from_site_m")
    wo_service.transition(
        session,
        actor,
        order,
        change.target,
        reason=data.get("reason"),
        lat=data.get("lat"),
        lon=data.get("lon"),
        evidence=evidence,
    )
    return answer


def _record_progress(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    change: StatusChange,
    data: dict,
    visit: VisitProgress,
    evidence: dict,
) -> None:
    """Work started, paused or resumed: the state stays, the audit trail records the visit."""
    if change.effect == "work_started":
        audit.record(session, actor, FIELD_STARTED, "work_order", order.id, after=evidence)
    elif change.effect == "pause":
        reason = data["reason"]
        sla_pause = reason in schemas.SLA_PAUSE_REASONS
        if sla_pause:
            wo_service.pause_sla(session, actor, order, reason, data.get("note"))
        audit.record(
            session,
            actor,
            FIELD_PAUSED,
            "work_order",
            order.id,
            after=evidence | {"reason": reason, "sla_paused": sla_pause},
            reason=data.get("note"),
        )
    elif change.effect == "resume":
        _resume(session, actor, order, visit, evidence)


def _resume(session: Session, actor: Actor, order: WorkOrder, visit: VisitProgress, evidence: dict) -> None:
    if visit.sla_paused:
        wo_service.resume_sla(session, actor, order)
    audit.record(
        session,
        actor,
        FIELD_RESUMED,
        "work_order",
        order.id,
        after=evidence | {"resumed_sla": visit.sla_paused},
    )
