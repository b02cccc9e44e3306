"""The technician's day as the phone sees it: route, status changes, checklist, photos,
location pings, follow-ups and the offline sync.

No Flask here: views pass the session, the Actor and the caller's language. Every
change goes through ``workorders.service`` (lifecycle, SLA clock, audit trail);
this module adds what only the phone needs.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, defer, joinedload
from sqlalchemy.orm.exc import StaleDataError

import standards
from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, DomainError, Invalid, NotFound, refuse
from core.inputs import bad_text_fields, unstorable_text
from core.models import AuditEvent, User
from mobile_api import idempotency, schemas
from mobile_api.status import (
    FIELD_PAUSED,
    FIELD_RESUMED,
    FIELD_STARTED,
    STATUS_CHANGES,
    VisitProgress,
    allowed_statuses,
    visit_progress,
)
from technicians.models import LocationPing, Technician
from workorders import lifecycle
from workorders import service as wo_service
from workorders.models import WorkOrder

ROUTE_STATES = ("assigned", "en_route", "on_site")
VISIBLE_PHONE_STATES = ("en_route", "on_site")
CHECKLIST_STATES = ("on_site",)
FOLLOWUP_REQUEST_STATES = ("on_site", "completed", "followed_up")
LENGTH_UNITS = ("mm", "cm", "m", "km")


# ---------------------------------------------------------------- reading


def mask_phone(phone: str | None) -> str | None:
    """Keep the first three and last two digits: 138******21."""
    if not phone:
        return phone
    if len(phone) <= 5:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 5) + phone[-2:]


def _findings(raw: list[dict] | None, lang: str) -> list[dict[str, Any]]:
    english = lang == "en"
    return [
        {
            "rule_id": f.get("rule_id"),
            "check": f.get("check"),
            "severity": f.get("severity"),
            "item_id": (f.get("params") or {}).get("item_id"),
            "measured": f.get("measured"),
            "unit": f.get("unit"),
            "limit": f.get("limit"),
            "message": f.get("message_en") if english else f.get("message_zh"),
            "remedy": f.get("remedy_en") if english else f.get("remedy_zh"),
        }
        for f in raw or []
    ]


_templates: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}


def _checklist_template(
    kind: str, product: str, lang: str, rules_version: str | None = None
) -> list[dict[str, Any]]:
    """The checklist of a kind of job as the phone shows it (shared: do not modify it)."""
    # An edited rule file is a new version (checking it stats the file: once per request).
    version = rules_version or standards.load_ruleset().version
    key = (version, kind, product, lang)
    if key not in _templates:
        _templates[key] = [
            item.to_dict() | {"label": item.label(lang)} for item in standards.checklist_for(kind, product)
        ]
    return _templates[key]


def _sla(order: WorkOrder) -> dict[str, Any]:
    status = wo_service.sla_status(order)
    return {
        "paused": status["paused"],
        "restore_deadline": status["restore_deadline"],
        "restore_breached": status["restore_breached"],
        "response_deadline": order.response_deadline,
    }


def stop_view(
    order: WorkOrder,
    lang: str,
    visit: VisitProgress | None = None,
    sequence: int | None = None,
    rules_version: str | None = None,
) -> dict[str, Any]:
    """One order as a stop on the phone: where, when, who, what to check, what is allowed."""
    visit = visit or VisitProgress()
    sla = _sla(order)
    visit.sla_paused = sla["paused"]
    phone = order.customer.phone
    return {
        "sequence": sequence,
        "order_id": order.id,
        "code": order.code,
        "kind": order.kind,
        "product": order.product,
        "priority": order.priority,
        "state": order.state,
        "state_label": lifecycle.label(order.state, lang),
        "description": order.description,
        "planned_start": order.planned_start,
        "appointment_start": order.appointment_start,
        "appointment_end": order.appointment_end,
        "duration_min": order.duration_min,
        "address": order.site.address,
        "district": order.site.district,
        "lat": order.site.lat,
        "lon": order.site.lon,
        "customer_name": order.customer.name,
        "contact_name": order.customer.contact_name,
        # Minimum necessary: the full number only while the visit is under way.
        "customer_phone": phone if order.state in VISIBLE_PHONE_STATES else mask_phone(phone),
        "restore_deadline": sla["restore_deadline"],
        "sla": sla,
        "findings": _findings(order.findings, lang),
        "checklist": _checklist_template(order.kind, order.product, lang, rules_version),
        "technician_id": order.technician_id,
        **_visit_view(order, visit),
    }


def _visit_view(order: WorkOrder, visit: VisitProgress) -> dict[str, Any]:
    """Where the visit stands and what the phone may send next."""
    return {
        "arrived_at": order.arrived_at if order.state == "on_site" else None,
        "work_started_at": visit.work_started_at,
        "paused": visit.paused,
        "pause_reason": visit.pause_reason,
        "allowed_statuses": allowed_statuses(order.state, visit),
        "version": order.version,
    }


@functools.cache
def _route_query() -> Select:
    """Built once: the route is the phone's most frequent request."""
    return (
        select(WorkOrder)
        .options(
            joinedload(WorkOrder.customer),
            joinedload(WorkOrder.site),
            # not shown on the route: skip reading (and decoding) them
            defer(WorkOrder.checklist),
            defer(WorkOrder.closeout_findings),
            defer(WorkOrder.override),
            defer(WorkOrder.required_skills),
        )
        .where(
            WorkOrder.technician_id == bindparam("technician_id"),
            WorkOrder.state.in_(ROUTE_STATES),
            or_(
                WorkOrder.planned_start.is_(None),
                WorkOrder.planned_start.between(bindparam("start"), bindparam("end")),
            ),
        )
        .order_by(
            WorkOrder.planned_sequence.is_(None),
            WorkOrder.planned_sequence,
            WorkOrder.planned_start,
            WorkOrder.id,
        )
    )


def todays_route(session: Session, actor: Actor, day: date, lang: str = "zh") -> list[dict[str, Any]]:
    """The technician's open stops for `day`, in planned order (unplanned ones last)."""
    orders = list(
        session.scalars(
            _route_query(),
            {
                "technician_id": actor.technician_id,
                "start": datetime.combine(day, time.min),
                "end": datetime.combine(day, time.max),
            },
        )
    )
    progress = visit_progress(session, [o.id for o in orders if o.state in VISIBLE_PHONE_STATES])
    rules_version = standards.load_ruleset().version
    return [
        stop_view(order, lang, progress.get(order.id), sequence, rules_version)
        for sequence, order in enumerate(orders, start=1)
    ]


def order_stop(session: Session, actor: Actor, order_id: int, lang: str) -> dict[str, Any]:
    """One of the technician's orders as a stop (404 for anyone else's)."""
    order = wo_service.get_order_for(session, actor, order_id)
    return stop_view(order, lang, _progress(session, order), order.planned_sequence)


def _progress(session: Session, order: WorkOrder) -> VisitProgress:
    return visit_progress(session, [order.id])[order.id]


def technician_profile(session: Session, actor: Actor, day: date) -> dict[str, Any]:
    """Who the phone belongs to: profile, skills and the day's shift."""
    tech = session.get(Technician, actor.technician_id)
    user = session.get(User, actor.user_id)
    lunch_start = datetime.combine(day, tech.lunch_start) if tech.lunch_start else None
    return {
        "user_id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "technician_id": tech.id,
        "name": tech.name,
        "phone": tech.phone,
        "skills": list(tech.skills or []),
        "district": tech.district,
        "shift": {
            "date": day,
            "start": datetime.combine(day, tech.shift_start),
            "end": datetime.combine(day, tech.shift_end),
            "lunch_start": lunch_start,
            "lunch_end": lunch_start + timedelta(minutes=tech.lunch_duration_min) if lunch_start else None,
            "max_work_min": tech.max_work_min,
        },
        "last_lat": tech.last_lat,
        "last_lon": tech.last_lon,
        "last_seen_at": tech.last_seen_at,
    }


# ---------------------------------------------------------------- whose order


def order_for_change(session: Session, actor: Actor, order_id: int) -> WorkOrder:
    """The technician's order, ready to change: 404 if not theirs, 409 if cancelled."""
    order = wo_service.get_order_for(session, actor, order_id)
    if order.state == "cancelled":
        raise refuse(
            Conflict,
            N_("The dispatcher cancelled this order."),
            slug="order-cancelled",
            reason=order.state_reason,
            current=current_of(order),
        )
    return order


def current_of(order: WorkOrder | None) -> dict[str, Any] | None:
    """What the phone should now believe about an order."""
    if order is None:
        return None
    return {"state": order.state, "technician_id": order.technician_id, "version": order.version}


def _was_assigned_to(session: Session, order_id: int, technician_id: int | None) -> bool:
    stmt = select(AuditEvent.after).where(
        AuditEvent.entity_type == "work_order",
        AuditEvent.entity_id == order_id,
        AuditEvent.action == "state:assigned",
    )
    return technician_id is not None and any(
        (after or {}).get("technician_id") == technician_id for after in session.scalars(stmt)
    )


def order_for_sync(session: Session, actor: Actor, order_id: int) -> WorkOrder:
    """Like order_for_change, but an order taken off this technician says so (409)."""
    try:
        return order_for_change(session, actor, order_id)
    except NotFound:
        order = session.get(WorkOrder, order_id)
        if order is None or not _was_assigned_to(session, order_id, actor.technician_id):
            raise
        if order.state == "cancelled":
            raise refuse(
                Conflict,
                N_("The dispatcher cancelled this order."),
                slug="order-cancelled",
                reason=order.state_reason,
                current=current_of(order),
            ) from None
        raise refuse(
            Conflict,
            N_("The dispatcher gave this order to someone else."),
            slug="order-reassigned",
            current=current_of(order),
        ) from None


# ---------------------------------------------------------------- status changes


def _check_version(order: WorkOrder, version: int | None) -> None:
    if version is not None and version != order.version:
        raise refuse(
            Conflict,
            N_("The order changed since you loaded it."),
            slug="stale-version",
            current_version=order.version,
            current_state=order.state,
        )


def _evidence(action: str, data: dict) -> dict[str, Any]:
    """Who-when-where for the audit trail: the phone's clock and GPS fix with the action."""
    client_time = data.get("client_time")
    return {
        "via": "mobile",
        "action": action,
        "client_time": client_time.isoformat() if client_time else None,
        "fix": [data["lat"], data["lon"]] if data.get("lat") is not None else None,
        "accuracy_m": data.get("accuracy_m"),
    }


def change_status(
    session: Session, actor: Actor, order: WorkOrder, data: dict, lang: str = "zh"
) -> dict[str, Any]:
    """Apply one status from the phone (see mobile_api.status.STATUS_CHANGES)."""
    status = data["status"]
    change = STATUS_CHANGES[status]
    _check_version(order, data.get("version"))
    visit = _progress(session, order)
    visit.sla_paused = wo_service.sla_status(order)["paused"]
    allowed = allowed_statuses(order.state, visit)
    if status not in allowed:
        raise refuse(
            Conflict,
            N_("'%(status)s' cannot be sent while the order is '%(state)s'."),
            slug="status-not-allowed",
            params={"status": status, "state": order.state},
            current_state=order.state,
            allowed_statuses=allowed,
        )
    if change.needs_fix and data.get("lat") is None:
        raise refuse(
            Invalid,
            N_("Arrival needs the phone's GPS fix (lat, lon)."),
            errors={"lat": ["Required for this status."], "lon": ["Required for this status."]},
        )
    reason = data.get("reason")
    if change.needs_reason and not reason:
        raise refuse(Invalid, N_("Say why."), errors={"reason": ["Required for this status."]})
    if status == "paused" and reason not in schemas.PAUSE_REASONS:
        raise refuse(
            Invalid,
            N_("Unknown pause reason."),
            errors={"reason": [f"Must be one of: {', '.join(schemas.PAUSE_REASONS)}."]},
        )

    evidence = _evidence(status, data)
    answer: dict[str, Any] = {"far_from_site": None, "distance_from_site_m": None}
    if change.target is not None:
        if visit.paused:  # arriving, finishing or giving up ends the wait
            _resume(session, actor, order, visit, evidence)
        if change.target == "on_site":
            fix = wo_service.arrival_fix(order, data["lat"], data["lon"])
            answer["far_from_site"] = fix.get("far_from_site")
            answer["distance_from_site_m"] = fix.get("distance_from_site_m")
        wo_service.transition(
            session,
            actor,
            order,
            change.target,
            reason=reason,
            lat=data.get("lat"),
            lon=data.get("lon"),
            evidence=evidence,
        )
    elif change.effect == "work_started":
        audit.record(session, actor, FIELD_STARTED, "work_order", order.id, after=evidence)
    elif change.effect == "pause":
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
    if data.get("lat") is not None:
        _note_position(
            session, actor, data["lat"], data["lon"], data.get("accuracy_m"), data.get("client_time") or now()
        )
    session.flush()
    at = now()
    visit = visit.after(status, reason, at)
    sla = _sla(order)
    visit.sla_paused = sla["paused"]
    # Compact on purpose (one bar of signal): the phone has the stop's checklist and
    # findings from the route; GET /orders/{id} gives the whole stop again.
    return answer | {
        "status": status,
        "order_id": order.id,
        "state": order.state,
        "state_label": lifecycle.label(order.state, lang),
        "at": at,
        "sla_paused": sla["paused"],
        "sla": sla,
        **_visit_view(order, visit),
    }


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


def _note_position(
    session: Session, actor: Actor, lat: float, lon: float, accuracy_m: float | None, recorded_at: datetime
) -> None:
    session.add(
        LocationPing(
            technician_id=actor.technician_id,
            lat=lat,
            lon=lon,
            accuracy_m=accuracy_m,
            recorded_at=recorded_at,
            received_at=now(),
        )
    )
    tech = session.get(Technician, actor.technician_id)
    if tech.last_seen_at is None or recorded_at >= tech.last_seen_at:
        tech.last_lat, tech.last_lon, tech.last_seen_at = lat, lon, recorded_at


# ---------------------------------------------------------------- checklist


def checklist_state(session: Session, order: WorkOrder, lang: str = "zh") -> dict[str, Any]:
    """The checklist with the answers so far and exactly what still stops close-out."""
    counts = wo_service.photo_counts(session, order.id)
    answers = {k: v for k, v in (order.checklist or {}).items() if not k.startswith("_")}
    findings = [
        f.to_dict()
        for f in standards.validate_closeout(
            order.kind, order.product, answers, photos=counts, override=order.override
        )
    ]
    items = [
        entry | {"answer": answers.get(entry["id"]), "photos": counts.get(entry["id"], 0)}
        for entry in _checklist_template(order.kind, order.product, lang)
    ]
    missing = [f for f in findings if f["severity"] == "block"]
    return {
        "order_id": order.id,
        "state": order.state,
        "items": items,
        "answers": answers,
        "missing": _findings(missing, lang),
        "warnings": _findings([f for f in findings if f["severity"] != "block"], lang),
        "complete": not missing,
        "override": order.override,
        "version": order.version,
    }


def _answer_error(item: standards.ChecklistItem, value: object) -> str | None:
    """Why `value` cannot be an answer to `item`, or None when it can."""
    if value is None:
        return None
    if item.type == "photo":
        return "Answer this item with a photo upload."
    if item.type in ("boolean", "consent"):
        return None if isinstance(value, bool) else "Must be true or false."
    number, unit = value, item.unit
    if isinstance(value, dict):
        if set(value) - {"value", "unit"} or "value" not in value:
            return 'Use a number or {"value": number, "unit": "cm"}.'
        number, unit = value["value"], value.get("unit", item.unit)
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return "Must be a number."
    if not math.isfinite(number) or abs(number) > 1e9:
        return "Must be a finite number."
    allowed_units = LENGTH_UNITS if item.unit in LENGTH_UNITS else (item.unit,)
    if unit not in allowed_units:
        return f"Unit must be one of: {', '.join(u for u in allowed_units if u)}."
    return None


def submit_checklist(
    session: Session, actor: Actor, order: WorkOrder, data: dict, lang: str = "zh"
) -> dict[str, Any]:
    """Store answers (null clears one) and say what is still missing or failing."""
    if order.state not in CHECKLIST_STATES:
        raise refuse(
            Conflict, N_("The checklist is filled in on site."), slug="not-on-site", current_state=order.state
        )
    items = {item.id: item for item in standards.checklist_for(order.kind, order.product)}
    errors: dict[str, list[str]] = {}
    for item_id, value in data["answers"].items():
        item = items.get(item_id)
        problem = "Not an item of this order's checklist." if item is None else _answer_error(item, value)
        if problem:
            errors[item_id] = [problem]
    if errors:
        raise refuse(
            Invalid, N_("Some answers do not fit this order's checklist."), errors={"answers": errors}
        )
    answers = dict(order.checklist or {})
    for item_id, value in data["answers"].items():
        if value is None:
            answers.pop(item_id, None)
        else:
            answers[item_id] = value
    order.checklist = answers
    session.flush()
    audit.record(
        session,
        actor,
        "checklist_answered",
        "work_order",
        order.id,
        after={"answers": data["answers"], **_evidence("checklist", data)},
    )
    return checklist_state(session, order, lang)


# ---------------------------------------------------------------- location pings


def record_pings(session: Session, actor: Actor, data: dict) -> dict[str, Any]:
    """Store a batch of GPS pings (a resent ping is skipped) and move the map marker."""
    pings = sorted(data["pings"], key=lambda p: p["recorded_at"])
    known = set(
        session.scalars(
            select(LocationPing.recorded_at).where(
                LocationPing.technician_id == actor.technician_id,
                LocationPing.recorded_at.between(pings[0]["recorded_at"], pings[-1]["recorded_at"]),
            )
        )
    )
    received, accepted = now(), 0
    for ping in pings:
        if ping["recorded_at"] in known:
            continue
        known.add(ping["recorded_at"])
        session.add(
            LocationPing(
                technician_id=actor.technician_id,
                lat=ping["lat"],
                lon=ping["lon"],
                accuracy_m=ping.get("accuracy_m"),
                recorded_at=ping["recorded_at"],
                received_at=received,
            )
        )
        accepted += 1
    tech = session.get(Technician, actor.technician_id)
    newest = pings[-1]
    if tech.last_seen_at is None or newest["recorded_at"] >= tech.last_seen_at:
        tech.last_lat, tech.last_lon = newest["lat"], newest["lon"]
        tech.last_seen_at = newest["recorded_at"]
    session.flush()
    return {
        "accepted": accepted,
        "duplicates": len(pings) - accepted,
        "last_lat": tech.last_lat,
        "last_lon": tech.last_lon,
        "last_seen_at": tech.last_seen_at,
    }


# ---------------------------------------------------------------- follow-up


def record_followup(
    session: Session, actor: Actor, order: WorkOrder, data: dict, lang: str = "zh"
) -> dict[str, Any]:
    """Record the follow-up result of a completed order; unsatisfied opens a repeat repair."""
    followup = {k: data[k] for k in ("method", "satisfied", "service_working", "note") if k in data}
    wo_service.transition(
        session, actor, order, "followed_up", followup=followup, evidence=_evidence("followup", data)
    )
    repeat_id = session.scalar(
        select(WorkOrder.id)
        .where(WorkOrder.parent_id == order.id, WorkOrder.kind == "repair")
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
            WorkOrder.state.in_(lifecycle.OPEN_STATES),
        )
    )
    if open_visit is not None:
        raise refuse(
            Conflict,
            N_("A follow-up was already requested for this order."),
            slug="followup-already-requested",
            followup_order_id=open_visit.id,
        )
    evidence = _evidence("followup_request", data)
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
        return answer | {"order_id": None, "code": None, "kind": "follow_up", "state": "requested"}
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
            "description": f"回访 / follow-up visit for {order.code}: {data['reason']}",
        },
    )
    owner = session.get(User, order.owner_id) if order.owner_id else None
    if owner is not None and owner.active and owner.role in wo_service.SUPERVISOR_ROLES | {"agent"}:
        wo_service.handover(session, actor, visit, owner.id, "follow-up requested on site")
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


# ---------------------------------------------------------------- offline sync


@dataclass(frozen=True)
class Operation:
    """A change the phone can queue offline, and the endpoint that makes it online."""

    method: str
    path: str  # with {order_id}
    schema: type[Schema]
    answer_schema: type[Schema]
    status_code: int
    run: Callable[..., dict[str, Any]]
    needs_order: bool = True


OPERATIONS: dict[str, Operation] = {
    "status": Operation(
        "POST",
        "/mobile/v1/orders/{order_id}/status",
        schemas.StatusChangeSchema,
        schemas.StatusAnswerSchema,
        200,
        change_status,
    ),
    "checklist": Operation(
        "POST",
        "/mobile/v1/orders/{order_id}/checklist",
        schemas.ChecklistSubmitSchema,
        schemas.ChecklistStateSchema,
        200,
        submit_checklist,
    ),
    "followup": Operation(
        "POST",
        "/mobile/v1/orders/{order_id}/followup",
        schemas.FollowUpResultSchema,
        schemas.FollowUpAnswerSchema,
        200,
        record_followup,
    ),
    "followup_request": Operation(
        "POST",
        "/mobile/v1/orders/{order_id}/followup-request",
        schemas.FollowUpRequestSchema,
        schemas.FollowUpRequestAnswerSchema,
        201,
        request_followup,
    ),
    "location": Operation(
        "POST",
        "/mobile/v1/location",
        schemas.PingBatchSchema,
        schemas.LocationAnswerSchema,
        200,
        lambda session, actor, _order, data, _lang: record_pings(session, actor, data),
        needs_order=False,
    ),
}


def sync(
    session: Session,
    actor: Actor,
    actions: list[dict],
    lang: str,
    render_problem: Callable[[DomainError, str], dict],
) -> list[dict[str, Any]]:
    """Apply queued actions in order, each in its own transaction; answer each one.

    An action's id is its idempotency key, shared with the Idempotency-Key of the
    matching endpoint: an action already applied (online or in an earlier sync)
    is answered "duplicate" with its first answer. A refused action does not undo
    the others; when the order was reassigned or cancelled the refusal says so and
    `current` tells the phone what is true now.
    """
    results = []
    for action in actions:
        results.append(_sync_one(session, actor, action, lang, render_problem))
    return results


def _sync_one(
    session: Session,
    actor: Actor,
    action: dict,
    lang: str,
    render_problem: Callable[[DomainError, str], dict],
) -> dict[str, Any]:
    op = OPERATIONS[action["type"]]
    order_id = action.get("order_id") if op.needs_order else None
    path = op.path.format(order_id=order_id)
    payload = dict(action["payload"])
    if action.get("client_time") and "client_time" not in payload:
        payload["client_time"] = action["client_time"]
    result: dict[str, Any] = {
        "id": action["id"],
        "type": action["type"],
        "order_id": order_id,
        "response": None,
        "problem": None,
    }
    record = None
    try:
        # Checked here, not for the whole batch: one bad note fails alone.
        unstorable = bad_text_fields(payload)
        if unstorable:
            raise unstorable_text({"payload": unstorable})
        digest = idempotency.fingerprint(op.method, path, payload)
        record = idempotency.find(session, actor.user_id, action["id"])
        if record is not None:
            idempotency.check_same_request(record, op.method, path, digest)
            body = record.response_body
            failed = record.response_status >= 400
            result |= {
                "status": "duplicate",
                "http_status": record.response_status,
                "response": None if failed else body,
                "problem": body if failed else None,
            }
        else:
            result |= _apply(session, actor, op, order_id, path, payload, digest, action, lang)
    except DomainError as exc:
        session.rollback()
        problem = render_problem(exc, path)
        if (
            record is None
            and exc.status in idempotency.REMEMBERED_REFUSALS
            and exc.slug not in ("idempotency-key-reused", "unstorable-text")
        ):
            idempotency.remember(
                session, actor.user_id, action["id"], op.method, path, digest, exc.status, problem
            )
            _commit_or_forget(session)
        result |= {"status": "refused", "http_status": exc.status, "problem": problem}
    result["current"] = _current_for(session, actor, order_id)
    return result


def _apply(
    session: Session,
    actor: Actor,
    op: Operation,
    order_id: int | None,
    path: str,
    payload: dict,
    digest: str,
    action: dict,
    lang: str,
) -> dict[str, Any]:
    if op.needs_order and order_id is None:
        raise refuse(
            Invalid,
            N_("This action needs an order_id."),
            errors={"order_id": ["Required for this action type."]},
        )
    try:
        data = op.schema().load(payload)
    except ValidationError as exc:
        raise refuse(Invalid, N_("Some fields are missing or invalid."), errors=exc.messages) from None
    order = order_for_sync(session, actor, order_id) if op.needs_order else None
    try:
        answer = op.run(session, actor, order, data, lang)
        body = op.answer_schema().dump(answer)
        idempotency.remember(
            session, actor.user_id, action["id"], op.method, path, digest, op.status_code, body
        )
        session.commit()
    except (StaleDataError, IntegrityError):
        session.rollback()
        raise refuse(
            Conflict,
            N_("The order changed while this action was applied; send it again."),
            slug="stale-version",
        ) from None
    return {"status": "applied", "http_status": op.status_code, "response": body}


def _commit_or_forget(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:  # the same key was remembered concurrently: keep that one
        session.rollback()


def _current_for(session: Session, actor: Actor, order_id: int | None) -> dict | None:
    if order_id is None:
        return None
    order = session.get(WorkOrder, order_id)
    if order is None:
        return None
    if order.technician_id == actor.technician_id or _was_assigned_to(session, order_id, actor.technician_id):
        return current_of(order)
    return None
