"""What the phone reads: the day's route as stops, one stop, and the technician's profile."""

from __future__ import annotations

import functools
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, or_, select
from sqlalchemy.orm import Session, defer, joinedload

import standards
from core.actor import Actor
from core.models import User
from dispatch.board import held_sequence
from mobile_api.status import VisitProgress, allowed_statuses, visit_progress
from technicians.models import Technician
from technicians.shift_rules import EffectiveShift
from technicians.shifts import effective_shift
from workorders import labels, lifecycle
from workorders import service as wo_service
from workorders.models import WorkOrder


def mask_phone(phone: str | None) -> str | None:
    """Keep the first three and last two digits: 138******21."""
    if not phone:
        return phone
    if len(phone) <= 5:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 5) + phone[-2:]


def findings_view(raw: list[dict] | None, lang: str) -> list[dict[str, Any]]:
    """Findings from ``standards`` (stored with both languages) as the phone shows them:
    message and remedy in the reader's language."""
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


def checklist_template(
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


_code_labels: dict[tuple[str, str, str, str, str], dict[str, str]] = {}


def code_labels(order: WorkOrder, lang: str, rules_version: str | None = None) -> dict[str, str]:
    """The words the phone shows for the order's kind, product and priority (the codes
    are sent beside them). Cached: a route repeats the same few codes."""
    # Product names come from the rule file: an edited file is a new version.
    version = rules_version or standards.load_ruleset().version
    key = (version, lang, order.kind, order.product, order.priority)
    if key not in _code_labels:
        _code_labels[key] = {
            "kind_label": labels.label("kind", order.kind, lang),
            "product_label": labels.label("product", order.product, lang),
            "priority_label": labels.label("priority", order.priority, lang),
        }
    return _code_labels[key]


def sla_view(order: WorkOrder) -> dict[str, Any]:
    """The order's SLA clock: paused or running, and its deadlines."""
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
    sla = sla_view(order)
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
        "state_label": labels.label("state", order.state, lang),
        **code_labels(order, lang, rules_version),
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
        "customer_phone": phone if lifecycle.is_under_way(order) else mask_phone(phone),
        # A reported fault's contact on site, masked the same way; and since when it is down.
        "site_contact_name": order.site_contact_name,
        "site_contact_phone": (
            order.site_contact_phone
            if lifecycle.is_under_way(order)
            else mask_phone(order.site_contact_phone)
        ),
        "fault_since": order.fault_since,
        "restore_deadline": sla["restore_deadline"],
        "sla": sla,
        "findings": findings_view(order.findings, lang),
        "checklist": checklist_template(order.kind, order.product, lang, rules_version),
        "technician_id": order.technician_id,
        "crew_size": order.crew_size,
        "second_technician_id": order.second_technician_id,
        **visit_view(order, visit),
    }


def visit_view(order: WorkOrder, visit: VisitProgress) -> dict[str, Any]:
    """Where the visit stands and what the phone may send next."""
    return {
        "arrived_at": order.arrived_at if order.state == lifecycle.State.ON_SITE else None,
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
            or_(
                WorkOrder.technician_id == bindparam("technician_id"),
                WorkOrder.second_technician_id == bindparam("technician_id"),
            ),
            WorkOrder.state.in_(sorted(lifecycle.ROUTE_STATES)),
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
    rows = session.scalars(
        _route_query(),
        {
            "technician_id": actor.technician_id,
            "start": datetime.combine(day, time.min),
            "end": datetime.combine(day, time.max),
        },
    )
    # The same order as the console and the planner's held day: a crew visit the technician
    # is second on (it carries its lead's sequence number) sits at its planned start.
    orders = held_sequence(actor.technician_id, rows)
    progress = visit_progress(session, [o.id for o in orders if lifecycle.is_under_way(o)])
    rules_version = standards.load_ruleset().version
    return [
        for_reader(stop_view(order, lang, progress.get(order.id), sequence, rules_version), order, actor)
        for sequence, order in enumerate(orders, start=1)
    ]


def for_reader(stop: dict[str, Any], order: WorkOrder, actor: Actor) -> dict[str, Any]:
    """The stop as this technician sees it: on a two-technician job the second technician
    reads it and sends nothing (the lead reports; mobile_api.service refuses with 409)."""
    if order.crew_size < 2 and order.second_technician_id is None:
        stop["crew_role"] = None
    elif order.technician_id == actor.technician_id:
        stop["crew_role"] = "lead"
    else:
        stop["crew_role"] = "second"
        stop["allowed_statuses"] = []
    return stop


def order_stop(session: Session, actor: Actor, order_id: int, lang: str) -> dict[str, Any]:
    """One of the technician's orders as a stop (404 for anyone else's)."""
    order = wo_service.get_order_for(session, actor, order_id)
    return for_reader(
        stop_view(order, lang, progress_of(session, order), order.planned_sequence), order, actor
    )


def progress_of(session: Session, order: WorkOrder) -> VisitProgress:
    """Where the order's current visit stands."""
    return visit_progress(session, [order.id])[order.id]


def technician_profile(session: Session, actor: Actor, day: date) -> dict[str, Any]:
    """Who the phone belongs to: profile, skills and the day's shift."""
    tech = session.get(Technician, actor.technician_id)
    user = session.get(User, actor.user_id)
    shift = effective_shift(session, tech, day)  # the roster's day: pattern, leave, overtime
    midnight = datetime.combine(day, time.min)
    return {
        "user_id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "technician_id": tech.id,
        "name": tech.name,
        "phone": tech.phone,
        "skills": list(tech.skills or []),
        "district": tech.district,
        "shift": None if shift is None else _shift_view(shift, midnight, tech.max_work_min),
        "last_lat": tech.last_lat,
        "last_lon": tech.last_lon,
        "last_seen_at": tech.last_seen_at,
    }


def _shift_view(shift: EffectiveShift, midnight: datetime, max_work_min: int | None) -> dict[str, Any]:
    lunch = None if shift.lunch_start_min is None else midnight + timedelta(minutes=shift.lunch_start_min)
    return {
        "date": shift.day,
        "start": midnight + timedelta(minutes=shift.start_min),
        "end": midnight + timedelta(minutes=shift.end_min),
        "lunch_start": lunch,
        "lunch_end": lunch + timedelta(minutes=shift.lunch_duration_min) if lunch else None,
        "max_work_min": shift.max_work_min or max_work_min,
        "on_call": shift.on_call,
        "reason": shift.reason,
    }
