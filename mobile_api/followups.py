"""Follow-ups (回访) from the phone: the result of one, and asking for one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.errors import N_, Conflict, refuse
from core.models import User
from mobile_api.service import field_evidence
from workorders import lifecycle
from workorders import service as wo_service
from workorders.lifecycle import State
from workorders.models import WorkOrder

# A follow-up can be asked for once the technician is on site, and after the work.
FOLLOWUP_REQUEST_STATES = frozenset({State.ON_SITE, State.COMPLETED, State.FOLLOWED_UP})
# What the answer says of a follow-up by phone: noted for the hotline, no order opened.
PHONE_FOLLOWUP_NOTED = "requested"


def record_followup(
    session: Session, actor: Actor, order: WorkOrder, data: dict, lang: str = "zh"
) -> dict[str, Any]:
    """Record the follow-up result of a completed order through the follow-up service
    (``workorders.followups``, run by the transition): the order's follow-up task is
    completed, and a service down, satisfied=false or a score of 2 or less opens a
    repeat repair."""
    if State.FOLLOWED_UP not in lifecycle.allowed_next(order.state):
        raise refuse(
            lifecycle.IllegalTransition,
            N_("A follow-up result is recorded once the order is completed."),
            current_state=order.state,
            requested_state=State.FOLLOWED_UP,
            allowed=lifecycle.allowed_next(order.state),
        )
    keys = ("method", "satisfied", "service_working", "satisfaction", "note")
    followup = {k: data[k] for k in keys if k in data}
    wo_service.transition(
        session,
        actor,
        order,
        State.FOLLOWED_UP,
        followup=followup,
        evidence=field_evidence("followup", data),
    )
    repeat_id = session.scalar(
        select(WorkOrder.id)
        .where(WorkOrder.parent_id == order.id, WorkOrder.is_repeat_fault.is_(True))
        .order_by(WorkOrder.id.desc())
        .limit(1)
    )
    return {
        "order_id": order.id,
        "state": order.state,
        "followup_method": order.followup_method,
        "followup_satisfied": order.followup_satisfied,
        "repeat_order_id": repeat_id,
    }


def request_followup(
    session: Session, actor: Actor, order: WorkOrder, data: dict, lang: str = "zh"
) -> dict[str, Any]:
    """Ask for a follow-up (回访) of this order.

    A visit opens a follow-up order linked to this one, owned by this order's
    owner, for the dispatcher to plan; a phone follow-up is noted for the hotline.
    """
    _check_followup_wanted(session, order)
    evidence = field_evidence("followup_request", data)
    answer = {"parent_id": order.id, "method": data["method"]}
    if data["method"] == "phone":
        audit.record(
            session,
            actor,
            "followup_requested",
            "work_order",
            order.id,
            after=evidence | {"method": "phone"},
            reason=data["reason"],
        )
        return answer | {"order_id": None, "code": None, "kind": "follow_up", "state": PHONE_FOLLOWUP_NOTED}
    visit = _open_followup_visit(session, actor, order, data["reason"])
    audit.record(
        session,
        actor,
        "followup_requested",
        "work_order",
        order.id,
        after=evidence | {"method": "visit", "followup_order_id": visit.id},
        reason=data["reason"],
    )
    return answer | {"order_id": visit.id, "code": visit.code, "kind": visit.kind, "state": visit.state}


def _check_followup_wanted(session: Session, order: WorkOrder) -> None:
    """Refuse (409) a request before the technician is on site, or a second open one."""
    if order.state not in FOLLOWUP_REQUEST_STATES:
        raise refuse(
            Conflict,
            N_("A follow-up can be requested once you are on site."),
            slug="followup-too-early",
            current_state=order.state,
        )
    open_visit = session.scalar(
        select(WorkOrder).where(
            WorkOrder.parent_id == order.id,
            WorkOrder.kind == "follow_up",
            WorkOrder.state.in_(sorted(lifecycle.OPEN_STATES)),
        )
    )
    if open_visit is not None:
        raise refuse(
            Conflict,
            N_("A follow-up was already requested for this order."),
            slug="followup-already-requested",
            followup_order_id=open_visit.id,
        )


def _open_followup_visit(session: Session, actor: Actor, order: WorkOrder, reason: str) -> WorkOrder:
    """A follow-up order for the dispatcher, handed to the parent order's owner."""
    visit = wo_service.create_order(
        session,
        actor,
        {
            "kind": "follow_up",
            "product": order.product,
            "priority": "P3",
            "source": "field",
            "customer_id": order.customer_id,
            "site_id": order.site_id,
            "line_id": order.line_id,
            "parent_id": order.id,
            "description": f"回访 / follow-up visit for {order.code}: {reason}",
        },
    )
    owner = session.get(User, order.owner_id) if order.owner_id else None
    if owner is not None and owner.active and owner.role in wo_service.SUPERVISOR_ROLES | {"agent"}:
        wo_service.handover(session, actor, visit, owner.id, "follow-up requested on site")
    return visit
