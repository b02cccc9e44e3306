"""Reading orders: who may see which, the audit of staff reading customers'
data, and what staff and customers are shown of one order.

The views carry each code's label in the reader's language
(:mod:`workorders.labels`) beside the code itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask_babel import force_locale
from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session, object_session

from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, NotFound
from core.i18n import current_lang, time_left
from core.messages import Message
from workorders import lifecycle
from workorders.labels import label
from workorders.lifecycle import State
from workorders.models import LineRecord, OrderComment, Site, WorkOrder
from workorders.sla import sla_status


def _scope(stmt, actor: Actor):
    if actor.role == "customer":
        return stmt.where(WorkOrder.customer_id == actor.customer_id)
    if actor.role == "technician":
        if actor.technician_id is None:  # a technician login without a profile sees nothing
            return stmt.where(false())
        # A crew's second technician reads the order too (what they may change: mobile_api.service).
        return stmt.where(
            or_(
                WorkOrder.technician_id == actor.technician_id,
                WorkOrder.second_technician_id == actor.technician_id,
            )
        )
    return stmt


def record_personal_reads(session: Session, actor: Actor, orders: list[WorkOrder], via: str) -> None:
    """Audit a staff read of customers' personal data (names, phones, addresses):
    one event per request, naming every customer shown. A customer reading
    their own orders is not audited."""
    if actor.role == "customer" or not orders:
        return
    customer_ids = sorted({o.customer_id for o in orders})
    audit.record(
        session,
        actor,
        "read_personal",
        "customer",
        customer_ids[0] if len(customer_ids) == 1 else None,
        after={"via": via, "customer_ids": customer_ids, "orders": len(orders)},
    )


def get_order_for(session: Session, actor: Actor, order_id: int) -> WorkOrder:
    """The order if the actor may see it; otherwise 404 (never reveal that it exists)."""
    order = session.scalar(_scope(select(WorkOrder).where(WorkOrder.id == order_id), actor))
    if order is None:
        raise NotFound(N_("Work order %(id)s not found."), params={"id": order_id})
    return order


def list_orders(session: Session, actor: Actor, filters: dict) -> list[WorkOrder]:
    """Orders the actor may see, newest first, filtered."""
    stmt = _scope(select(WorkOrder), actor)
    for field in (
        "state",
        "kind",
        "priority",
        "technician_id",
        "customer_id",
        "site_id",
        "line_id",
        "source",
        "parent_id",
    ):
        if filters.get(field) is not None:
            stmt = stmt.where(getattr(WorkOrder, field) == filters[field])
    if filters.get("created_from") is not None:
        stmt = stmt.where(WorkOrder.created_at >= filters["created_from"])
    if filters.get("created_to") is not None:
        stmt = stmt.where(WorkOrder.created_at < filters["created_to"])
    if filters.get("updated_since") is not None:
        # A comment changes what the customer sees without touching the order's row (its
        # version is the technician's optimistic lock, so a comment must not bump it).
        since = filters["updated_since"]
        commented = select(OrderComment.order_id).where(OrderComment.created_at >= since)
        stmt = stmt.where(or_(WorkOrder.updated_at >= since, WorkOrder.id.in_(commented)))
    if filters.get("repeat") is not None:
        stmt = stmt.where(WorkOrder.is_repeat_fault == bool(filters["repeat"]))
    if filters.get("district"):
        stmt = stmt.join(Site, WorkOrder.site_id == Site.id).where(Site.district == filters["district"])
    stmt = (
        stmt.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        .limit(filters.get("limit", 100))
        .offset(filters.get("offset", 0))
    )
    return list(session.scalars(stmt))


# ---------------------------------------------------------------- what each reader sees

STAFF_COLUMNS = (
    "id",
    "code",
    "kind",
    "product",
    "priority",
    "source",
    "description",
    "state",
    "customer_id",
    "site_id",
    "line_id",
    "parent_id",
    "is_repeat_fault",
    "owner_id",
    "technician_id",
    "crew_size",
    "second_technician_id",
    "appointment_start",
    "appointment_end",
    "planned_start",
    "received_at",
    "response_deadline",
    "responded_at",
    "handling_deadline",
    "handled_at",
    "escalated_at",
    "restore_deadline",
    "deadline_source",
    "required_skills",
    "duration_min",
    "rule_set_version",
    "blocked",
    "checklist",
    "closeout_findings",
    "override",
    "followup_method",
    "followup_satisfied",
    "followup_note",
    "arrived_at",
    "completed_at",
    "closed_at",
    "state_reason",
    "fault_since",
    "site_contact_name",
    "site_contact_phone",
    "created_at",
    "updated_at",
    "version",
)
CUSTOMER_COLUMNS = (
    "id",
    "code",
    "kind",
    "product",
    "priority",
    "state",
    "description",
    "appointment_start",
    "appointment_end",
    "planned_start",
    "received_at",
    "response_deadline",
    "restore_deadline",
    "parent_id",
    "fault_since",
    "site_contact_name",
    "site_contact_phone",
    "created_at",
    "updated_at",
)


def code_labels(order: WorkOrder, lang: str) -> dict[str, str]:
    """The labels of the order's codes (state, kind, product, priority) in ``lang``."""
    return {
        "state_label": label("state", order.state, lang),
        "kind_label": label("kind", order.kind, lang),
        "product_label": label("product", order.product, lang),
        "priority_label": label("priority", order.priority, lang),
    }


def staff_view(order: WorkOrder, lang: str = "zh") -> dict[str, Any]:
    """Everything a dispatcher needs about one order."""
    findings = [
        dict(f, message=f["message_en"] if lang == "en" else f["message_zh"]) for f in order.findings or []
    ]
    return {
        **{column: getattr(order, column) for column in STAFF_COLUMNS},
        **code_labels(order, lang),
        "findings": findings,
        "allowed_next": lifecycle.allowed_next(order.state, order.kind),
        "customer_name": order.customer.name,
        "customer_kind": order.customer.kind,
        "enterprise_tier": order.customer.enterprise_tier,
        "address": order.site.address,
        "district": order.site.district,
        "lat": order.site.lat,
        "lon": order.site.lon,
        "owner_name": order.owner.display_name if order.owner else None,
        "technician_name": order.technician.name if order.technician else None,
        "second_technician_name": order.second_technician.name if order.second_technician else None,
        "sla": sla_status(order),
        "eta": live_eta(object_session(order), order),
    }


# ---------------------------------------------------------------- the customer's view

# The live ETA comes from dispatch (dispatch.eta), which this package must not
# import: dispatch hands its function in here when it is imported.
LiveEta = Callable[[Session, WorkOrder, datetime | None], dict[str, Any] | None]
_live_eta: list[LiveEta] = []


def use_live_eta(provider: LiveEta) -> None:
    """Set the function that gives an en-route order's ETA (``dispatch.eta.eta_for``)."""
    _live_eta[:] = [provider]


def live_eta(session: Session | None, order: WorkOrder, at: datetime | None = None) -> dict[str, Any] | None:
    """The ETA of the technician on the way to ``order``, or None (not en route, no provider)."""
    if session is None or not _live_eta:
        return None
    return _live_eta[0](session, order, at)


# The steps a customer is shown, in order, and the states that reach each one.
# Internal planning states (validated, scheduled) stay "received" for the customer.
STEPS = ("received", "assigned", "en_route", "on_site", "done", "followed_up")
STEP_OF_STATE = {
    State.RECEIVED: "received",
    State.VALIDATED: "received",
    State.SCHEDULED: "received",
    State.ASSIGNED: "assigned",
    State.EN_ROUTE: "en_route",
    State.ON_SITE: "on_site",
    State.COMPLETED: "done",
    State.FOLLOWED_UP: "followed_up",
    State.CLOSED: "followed_up",
}
# (message context, English message id) per step; a step whose words depend on
# the kind of order maps kind -> words ("" for any other kind).
CUSTOMER_STEP = "customer step"
STEP_NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "received": {"": (CUSTOMER_STEP, N_("Received"))},
    "assigned": {
        "repair": ("customer step: repair", N_("Technician assigned")),
        "install": ("customer step: install", N_("Technician assigned")),
        "": (CUSTOMER_STEP, N_("Technician assigned")),
    },
    "en_route": {"": (CUSTOMER_STEP, N_("Technician on the way"))},
    "on_site": {"": (CUSTOMER_STEP, N_("On site"))},
    "done": {
        "repair": (CUSTOMER_STEP, N_("Restored")),
        "install": (CUSTOMER_STEP, N_("In service")),
        "": (CUSTOMER_STEP, N_("Done")),
    },
    "followed_up": {"": (CUSTOMER_STEP, N_("Followed up"))},
    "cancelled": {"": (CUSTOMER_STEP, N_("Cancelled"))},
    "revisit": {"": (CUSTOMER_STEP, N_("Another visit needed"))},
}
# kind of order -> (message context, English message id) of its promise
PROMISE_NAMES = {
    "repair": ("promise", N_("Promised restore time")),
    "install": ("promise: install", N_("Promised completion time")),
    "follow_up": ("promise", N_("Promised completion time")),
}


def _say(lang: str, msgid: str, context: str | None = None, **params: Any) -> str:
    """A message in ``lang``."""
    if lang != current_lang():
        with force_locale(lang):
            return Message(msgid, context=context, **params).render()
    return Message(msgid, context=context, **params).render()


def step_label(step: str, kind: str, lang: str) -> str:
    """What the customer calls ``step`` of an order of ``kind``."""
    names = STEP_NAMES[step]
    context, msgid = names.get(kind, names[""])
    return _say(lang, msgid, context)


def _short_time(at: datetime) -> str:
    return at.strftime("%H:%M") if at.date() == now().date() else at.strftime("%m-%d %H:%M")


def customer_timeline(session: Session, order: WorkOrder, lang: str) -> list[dict[str, Any]]:
    """The customer's steps with when each was reached (None: not yet), the current one marked."""
    reached: dict[str, datetime] = {"received": order.received_at}
    for event in audit.trail(session, "work_order", order.id):
        if not event.action.startswith("state:"):
            continue
        state = event.action.split(":", 1)[1]
        if state in STEP_OF_STATE and STEP_OF_STATE[state] != "received":
            reached[STEP_OF_STATE[state]] = event.at  # a revisit runs the steps again: the latest counts
    if order.state in (State.CANCELLED, State.NEEDS_REVISIT):
        steps = [s for s in STEPS if s in reached]
        steps.append("cancelled" if order.state == State.CANCELLED else "revisit")
        reached[steps[-1]] = order.updated_at
        current = steps[-1]
    else:
        steps, current = list(STEPS), STEP_OF_STATE.get(order.state, "received")
    done_upto = steps.index(current)
    return [
        {
            "state": step,
            "state_label": step_label(step, order.kind, lang),
            "at": reached.get(step) if i <= done_upto else None,
            "done": i <= done_upto,
            "current": step == current,
        }
        for i, step in enumerate(steps)
    ]


def promise_of(order: WorkOrder, eta: dict[str, Any] | None, lang: str, at: datetime | None = None) -> dict:
    """The promise that matters for the kind: the restore time of a fault, the
    completion (opening) time of an install; at risk when the work, as it now
    stands, would end after it."""
    at = at or now()
    kind = "restore" if order.kind == "repair" else "completion"
    due = sla_status(order, at)["restore_deadline"]
    finished = order.completed_at
    if finished is not None or not lifecycle.is_open(order):
        projected = finished
    elif order.state == State.ON_SITE and order.arrived_at is not None:
        projected = max(at, order.arrived_at + timedelta(minutes=order.duration_min))
    else:
        start = max(at, (eta or {}).get("eta") or order.planned_start or at)
        projected = start + timedelta(minutes=order.duration_min)
    context, msgid = PROMISE_NAMES.get(order.kind, PROMISE_NAMES["follow_up"])
    return {
        "kind": kind,
        "label": _say(lang, msgid, context),
        "due": due,
        "met": None if finished is None else finished <= due,
        "breached": (finished or at) > due,
        "at_risk": projected is not None and finished is None and projected > due,
    }


def waiting_of(order: WorkOrder, lang: str, at: datetime | None = None) -> dict[str, Any]:
    """Whether the order waits for a technician, until when, said plainly."""
    at = at or now()
    nobody = order.technician_id is None or order.state in (
        State.RECEIVED,
        State.VALIDATED,
        State.SCHEDULED,
        State.NEEDS_REVISIT,
    )
    if not lifecycle.is_open(order) or not nobody:
        if order.state == State.ASSIGNED and order.planned_start is not None:
            text = _say(
                lang,
                N_("A technician is assigned and plans to set out at %(time)s."),
                time=_short_time(order.planned_start),
            )
            return {"flag": False, "until": order.planned_start, "text": text}
        return {"flag": False, "until": None, "text": None}
    until = order.response_deadline if order.responded_at is None else None
    urgent = order.priority == "P1"
    if until is None:
        text = _say(lang, N_("Waiting for a technician to be sent."))
    elif until >= at:
        msgid = (
            N_("Urgent: waiting for a technician to be sent, at the latest by %(time)s (%(left)s).")
            if urgent
            else N_("Waiting for a technician to be sent, at the latest by %(time)s (%(left)s).")
        )
        text = _say(
            lang, msgid, time=_short_time(until), left=_in_lang(lang, time_left, (until - at).seconds)
        )
    else:
        text = _say(
            lang,
            N_("Waiting for a technician: the promised response time %(time)s has passed (%(over)s)."),
            time=_short_time(until),
            over=_in_lang(lang, time_left, (until - at).total_seconds()),
        )
    return {"flag": True, "until": until, "urgent": urgent, "text": text}


def _in_lang(lang: str, fn: Callable[..., str], *args: Any) -> str:
    if lang != current_lang():
        with force_locale(lang):
            return fn(*args)
    return fn(*args)


ETA_NOTES = {
    "no_recent_position": N_("No recent position of the technician: no arrival time can be given."),
    "no_position": N_("The technician's position is unknown: no arrival time can be given."),
}


def eta_view(eta: dict[str, Any] | None, lang: str) -> dict[str, Any] | None:
    """The ETA as the customer reads it: the time, from which position time, or why there is none."""
    if eta is None:
        return None
    note = eta.get("note")
    return {
        **eta,
        "note_text": _say(lang, ETA_NOTES[note]) if note in ETA_NOTES else None,
    }


def customer_view(session: Session, order: WorkOrder, lang: str = "zh") -> dict[str, Any]:
    """What a customer may see of their own order: the steps in their words, the
    promise for its kind, whether it waits for a technician, the live ETA."""
    at = now()
    eta = live_eta(session, order, at)
    line = order.line_id and session.get(LineRecord, order.line_id)
    return {
        **{column: getattr(order, column) for column in CUSTOMER_COLUMNS},
        **code_labels(order, lang),
        "state_label": _current_step_label(order, lang),
        "open": lifecycle.is_open(order),
        "address": order.site.address,
        "site_id": order.site_id,
        "district": order.site.district,
        "circuit_id": order.line_id,
        "circuit_no": line.circuit_no if line else None,
        "circuit_product": line.product if line else None,
        "access_type": line.access_type if line else None,
        "technician_name": order.technician.name if order.technician else None,
        "second_technician_name": order.second_technician.name if order.second_technician else None,
        "timeline": customer_timeline(session, order, lang),
        "promise": promise_of(order, eta, lang, at),
        "waiting": waiting_of(order, lang, at),
        "eta": eta_view(eta, lang),
    }


def _current_step_label(order: WorkOrder, lang: str) -> str:
    """The order's state in the customer's words (never an internal state)."""
    if order.state == State.CANCELLED:
        return step_label("cancelled", order.kind, lang)
    if order.state == State.NEEDS_REVISIT:
        return step_label("revisit", order.kind, lang)
    return step_label(STEP_OF_STATE.get(order.state, "received"), order.kind, lang)
