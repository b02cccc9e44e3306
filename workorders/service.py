"""Work order business logic: intake, transitions, hand-over, follow-up, views.

Services take a SQLAlchemy session and an Actor; they never import Flask.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session

import standards
from core import audit, geocoding
from core.actor import Actor
from core.clock import now
from core.errors import Conflict, Invalid, NotFound
from core.geocoding import Geocoder, distance_m
from core.models import User
from technicians.models import Technician
from workorders import lifecycle
from workorders.models import Customer, LineRecord, Photo, Site, WorkOrder

FAR_FROM_SITE_M = 500.0
SUPERVISOR_ROLES = frozenset({"dispatcher", "manager", "admin"})


# ---------------------------------------------------------------- customers


def create_customer(session: Session, actor: Actor, data: dict) -> Customer:
    """Register a residential or enterprise customer."""
    customer = Customer(**data)
    session.add(customer)
    session.flush()
    audit.record(
        session,
        actor,
        "customer_created",
        "customer",
        customer.id,
        after={"name": customer.name, "kind": customer.kind, "enterprise_tier": customer.enterprise_tier},
    )
    return customer


def get_customer_for(session: Session, actor: Actor, customer_id: int) -> Customer:
    """A customer the actor may see: staff see all, a customer only themself."""
    customer = session.get(Customer, customer_id)
    if customer is None or (actor.role == "customer" and actor.customer_id != customer_id):
        raise NotFound(f"Customer {customer_id} not found.")
    if actor.role == "technician":
        raise NotFound(f"Customer {customer_id} not found.")
    if actor.is_staff:
        audit.record(session, actor, "read_personal", "customer", customer.id)
    return customer


def add_site(
    session: Session, actor: Actor, customer: Customer, data: dict, geocoder: Geocoder | None = None
) -> Site:
    """Add an address to a customer; without coordinates, ask the geocoder for them."""
    data = dict(data)
    if data.get("lat") is None or data.get("lon") is None:
        found = (geocoder or geocoding.configured()).geocode(data["address"])
        if found is not None:
            data["lat"], data["lon"] = found.latitude, found.longitude
            data["geocoded"] = True
    geocoded = data.pop("geocoded", False)
    site = Site(customer_id=customer.id, **data)
    session.add(site)
    session.flush()
    audit.record(session, actor, "site_created", "site", site.id, after=data | {"geocoded": geocoded})
    return site


def add_line(session: Session, actor: Actor, site: Site, data: dict) -> LineRecord:
    """Record the access line at a site (from the network resource system)."""
    line = LineRecord(site_id=site.id, **data)
    session.add(line)
    session.flush()
    audit.record(session, actor, "line_created", "line_record", line.id, after=dict(data))
    return line


def get_site_for(session: Session, actor: Actor, site_id: int) -> Site:
    """A site the actor may see."""
    site = session.get(Site, site_id)
    if site is None or (actor.role == "customer" and site.customer_id != actor.customer_id):
        raise NotFound(f"Site {site_id} not found.")
    return site


# ---------------------------------------------------------------- intake


def _order_facts(order: WorkOrder) -> tuple[standards.OrderFacts, standards.LineFacts | None]:
    facts = standards.OrderFacts(
        kind=order.kind,
        product=order.product,
        priority=order.priority,
        lat=order.site.lat,
        lon=order.site.lon,
        appointment_start=order.appointment_start,
        appointment_end=order.appointment_end,
        customer_tier=order.customer.enterprise_tier,
    )
    line = None
    if order.line is not None:
        line = standards.LineFacts(
            access_type=order.line.access_type,
            route_length_m=order.line.route_length_m,
            switch_id=order.line.switch_id,
            switch_occupancy_pct=order.line.switch_occupancy_pct,
            uplink_raised=bool(order.line.uplink_raised),
        )
    return facts, line


def run_intake(order: WorkOrder) -> list[dict]:
    """Validate the order against the installation code; store and return the findings."""
    rules = standards.load_ruleset()
    facts, line = _order_facts(order)
    findings = [f.to_dict() for f in standards.validate_intake(facts, line, rules)]
    order.findings = findings
    order.rule_set_version = rules.version
    order.blocked = any(f["severity"] == "block" for f in findings)
    return findings


def _new_code(created: datetime) -> str:
    return f"WO{created:%y%m%d}-{secrets.token_hex(3).upper()}"


def create_order(session: Session, actor: Actor, data: dict) -> WorkOrder:
    """Take a new order: check references, validate it, set deadlines and owner.

    The taker becomes the owner (first-contact responsibility). An order with
    no blocking finding moves on to `validated` at once; a blocked one stays
    `received` with its findings for the dispatcher.
    """
    if data["product"] not in standards.PRODUCTS:
        raise Invalid(
            "Unknown product.", errors={"product": [f"Must be one of: {', '.join(standards.PRODUCTS)}."]}
        )
    customer = session.get(Customer, data["customer_id"])
    if customer is None or (actor.role == "customer" and actor.customer_id != customer.id):
        raise Invalid("Unknown customer.", errors={"customer_id": ["No such customer."]})
    if actor.role == "customer" and data["kind"] != "repair":
        raise Invalid(
            "Customers can report faults only.",
            errors={"kind": ["Customers can report faults (repair) only."]},
        )
    site = session.get(Site, data["site_id"])
    if site is None or site.customer_id != customer.id:
        raise Invalid("Unknown site.", errors={"site_id": ["No such site for this customer."]})
    line = None
    if data.get("line_id") is not None:
        line = session.get(LineRecord, data["line_id"])
        if line is None or line.site_id != site.id:
            raise Invalid("Unknown line.", errors={"line_id": ["No such line at this site."]})
    elif site.lines:
        line = site.lines[0]
    if data.get("parent_id") is not None:
        parent = session.get(WorkOrder, data["parent_id"])
        if parent is None or parent.customer_id != customer.id:
            raise Invalid("Unknown parent order.", errors={"parent_id": ["No such order."]})

    if actor.role == "customer":
        data = {
            **data,
            "priority": standards.reported_fault_priority(
                customer.kind, customer.enterprise_tier, bool(data.get("service_down"))
            ),
        }
    created = now()
    response = standards.response_deadline(created, data["priority"])
    restore = standards.restore_deadline(
        created, customer.kind, customer.enterprise_tier, data["product"], data["priority"]
    )
    order = WorkOrder(
        code=_new_code(created),
        kind=data["kind"],
        product=data["product"],
        priority=data["priority"],
        source=data["source"],
        description=data.get("description"),
        state="received",
        customer=customer,
        site=site,
        line=line,
        parent_id=data.get("parent_id"),
        owner_id=actor.user_id,
        appointment_start=data.get("appointment_start"),
        appointment_end=data.get("appointment_end"),
        response_deadline=response.at,
        restore_deadline=restore.at,
        deadline_source=restore.source,
        sla_clock=standards.SlaClock.from_deadline(created, restore).to_dict(),
        required_skills=sorted(standards.required_skills(data["kind"], data["product"])),
        duration_min=standards.expected_duration_min(data["kind"], data["product"]),
        created_at=created,
        checklist={},
    )
    run_intake(order)
    session.add(order)
    session.flush()
    audit.record(
        session,
        actor,
        "created",
        "work_order",
        order.id,
        after=_snapshot(order) | {"findings": len(order.findings)},
    )
    if not order.blocked:
        _move(session, actor, order, "validated", reason="intake passed")
    return order


# ---------------------------------------------------------------- reading


def _scope(stmt, actor: Actor):
    if actor.role == "customer":
        return stmt.where(WorkOrder.customer_id == actor.customer_id)
    if actor.role == "technician":
        if actor.technician_id is None:  # a technician login without a profile sees nothing
            return stmt.where(false())
        return stmt.where(WorkOrder.technician_id == actor.technician_id)
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
        raise NotFound(f"Work order {order_id} not found.")
    return order


def list_orders(session: Session, actor: Actor, filters: dict) -> list[WorkOrder]:
    """Orders the actor may see, newest first, filtered."""
    stmt = _scope(select(WorkOrder), actor)
    for field in ("state", "kind", "priority", "technician_id", "customer_id"):
        if filters.get(field) is not None:
            stmt = stmt.where(getattr(WorkOrder, field) == filters[field])
    if filters.get("district"):
        stmt = stmt.join(Site, WorkOrder.site_id == Site.id).where(Site.district == filters["district"])
    stmt = (
        stmt.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        .limit(filters.get("limit", 100))
        .offset(filters.get("offset", 0))
    )
    return list(session.scalars(stmt))


# ---------------------------------------------------------------- transitions


def _snapshot(order: WorkOrder) -> dict[str, Any]:
    return {
        "state": order.state,
        "technician_id": order.technician_id,
        "owner_id": order.owner_id,
        "planned_start": order.planned_start.isoformat() if order.planned_start else None,
        "version": order.version,
    }


def _move(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    target: str,
    reason: str | None = None,
    extra: dict | None = None,
) -> None:
    before = _snapshot(order)
    order.state = target
    order.state_reason = reason
    session.flush()
    audit.record(
        session,
        actor,
        f"state:{target}",
        "work_order",
        order.id,
        before=before,
        after=_snapshot(order) | (extra or {}),
        reason=reason,
    )


def _require(value: object, field: str, message: str) -> None:
    if value is None or value == "":
        raise Invalid(message, errors={field: [message]})


def _check_technician_fits(session: Session, order: WorkOrder, technician_id: int) -> Technician:
    tech = session.get(Technician, technician_id)
    if tech is None or not tech.active:
        raise Invalid("No such active technician.", errors={"technician_id": ["No such active technician."]})
    missing = sorted(set(order.required_skills) - set(tech.skills))
    if missing:
        raise Conflict(f"Technician {tech.name} lacks skills: {', '.join(missing)}.", missing_skills=missing)
    return tech


def transition(session: Session, actor: Actor, order: WorkOrder, target: str, **details: Any) -> WorkOrder:
    """Move an order to `target` if the table allows it for the actor's role and its guard holds.

    `details` may carry version, reason, technician_id, planned_start, lat, lon,
    checklist (answers) and followup, depending on the target, and `evidence` (a
    dict added to the audit event, e.g. the phone's GPS fix and clock).
    """
    version = details.get("version")
    if version is not None and version != order.version:
        raise Conflict(
            "The order changed since you loaded it.",
            slug="stale-version",
            current_version=order.version,
            current_state=order.state,
        )
    lifecycle.check(order.state, target, actor.role)
    reason = details.get("reason")
    extra: dict[str, Any] = {}

    if target == "validated":
        run_intake(order)
        if order.blocked:
            raise Conflict(
                "Blocking findings keep this order out of planning.",
                slug="blocked-by-standards",
                findings=order.findings,
            )
    elif target == "scheduled":
        if details.get("planned_start") is not None:
            order.planned_start = details["planned_start"]
        order.responded_at = order.responded_at or now()
    elif target == "assigned":
        technician_id = details.get("technician_id") or order.technician_id
        _require(technician_id, "technician_id", "Assigning needs a technician.")
        _check_technician_fits(session, order, technician_id)
        order.technician_id = technician_id
        if details.get("planned_start") is not None:
            order.planned_start = details["planned_start"]
        order.responded_at = order.responded_at or now()
    elif target == "on_site":
        order.arrived_at = now()
        extra.update(_arrival_fix(order, details.get("lat"), details.get("lon")))
    elif target == "completed":
        if details.get("checklist"):
            order.checklist = {**(order.checklist or {}), **details["checklist"]}
        findings = standards.validate_closeout(
            order.kind,
            order.product,
            order.checklist or {},
            photos=photo_counts(session, order.id),
            override=order.override,
        )
        order.closeout_findings = [f.to_dict() for f in findings]
        if any(f.severity == "block" for f in findings):
            session.flush()
            raise Conflict(
                "The on-site checklist is not complete.",
                slug="checklist-incomplete",
                findings=order.closeout_findings,
            )
        order.completed_at = now()
    elif target in ("needs_revisit", "cancelled"):
        _require(reason, "reason", "Say why.")
    elif target == "followed_up":
        followup = details.get("followup")
        _require(followup, "followup", "Record the follow-up result.")
        order.followup_method = followup["method"]
        order.followup_satisfied = followup["satisfied"]
        order.followup_note = followup.get("note")
    elif target == "closed":
        order.closed_at = now()

    if target in ("validated", "scheduled") and order.state in ("assigned", "en_route"):
        extra["unassigned_technician_id"] = order.technician_id
        order.technician_id = None
    # Where the change came from (the phone's GPS fix, its clock), for the audit trail.
    extra.update(details.get("evidence") or {})
    _move(session, actor, order, target, reason=reason, extra=extra)

    if target == "followed_up":
        followup = details["followup"]
        if not followup["satisfied"] or not followup.get("service_working", True):
            repeat = open_repeat_repair(session, actor, order, followup.get("note"))
            extra["repeat_order_id"] = repeat.id
    return order


def _arrival_fix(order: WorkOrder, lat: float | None, lon: float | None) -> dict[str, Any]:
    """Note the GPS fix on arrival; far from the site is accepted but flagged."""
    if lat is None or lon is None or order.site.lat is None or order.site.lon is None:
        return {"arrival_fix": None}
    distance = distance_m((lat, lon), (order.site.lat, order.site.lon))
    return {
        "arrival_fix": [lat, lon],
        "distance_from_site_m": round(distance, 1),
        "far_from_site": distance > FAR_FROM_SITE_M,
    }


def arrival_fix(order: WorkOrder, lat: float | None, lon: float | None) -> dict[str, Any]:
    """The GPS fix against the site: distance in metres and whether it is far from it."""
    return _arrival_fix(order, lat, lon)


def photo_counts(session: Session, order_id: int) -> dict[str, int]:
    """Stored evidence photos of an order, counted per checklist item."""
    stmt = (
        select(Photo.item_id, func.count(Photo.id)).where(Photo.order_id == order_id).group_by(Photo.item_id)
    )
    return {item_id: int(count) for item_id, count in session.execute(stmt)}


def record_override(session: Session, actor: Actor, order: WorkOrder, reason: str) -> WorkOrder:
    """A named supervisor lets an order close despite checklist gaps, with a reason."""
    if actor.role not in SUPERVISOR_ROLES:
        raise Conflict("Only a supervisor can override the checklist.")
    order.override = {
        "by": actor.username,
        "by_user_id": actor.user_id,
        "reason": reason,
        "at": now().isoformat(),
    }
    session.flush()
    audit.record(
        session, actor, "checklist_override", "work_order", order.id, after=order.override, reason=reason
    )
    return order


def open_repeat_repair(session: Session, actor: Actor, original: WorkOrder, note: str | None) -> WorkOrder:
    """An unsatisfied follow-up opens a new repair linked to the original order."""
    product = original.product
    data = {
        "kind": "repair",
        "product": product,
        "priority": "P2",
        "source": "hotline",
        "customer_id": original.customer_id,
        "site_id": original.site_id,
        "line_id": original.line_id,
        "parent_id": original.id,
        "description": f"Repeat fault after {original.code}: {note or ''}".strip(),
    }
    repeat = create_order(session, actor, data)
    audit.record(
        session,
        actor,
        "repeat_repair_opened",
        "work_order",
        original.id,
        after={"repeat_order_id": repeat.id, "repeat_code": repeat.code},
    )
    return repeat


def _clock(order: WorkOrder) -> standards.SlaClock:
    if order.sla_clock:
        return standards.SlaClock.from_dict(order.sla_clock)
    return standards.SlaClock.from_deadline(
        order.created_at, standards.Deadline(order.restore_deadline, order.deadline_source or "clock-hours")
    )


def pause_sla(
    session: Session, actor: Actor, order: WorkOrder, reason: str, note: str | None = None
) -> WorkOrder:
    """Stop the restore clock for customer-caused waiting (customer absent, no access)."""
    if order.state not in lifecycle.OPEN_STATES:
        raise Conflict(f"The clock of a {order.state} order cannot be paused.", current_state=order.state)
    clock = _clock(order)
    try:
        clock.pause(now(), reason)
    except ValueError as exc:
        raise Conflict(str(exc), slug="sla-clock") from exc
    order.sla_clock = clock.to_dict()
    session.flush()
    audit.record(
        session, actor, "sla_paused", "work_order", order.id, after={"reason": reason}, reason=note or reason
    )
    return order


def resume_sla(session: Session, actor: Actor, order: WorkOrder) -> WorkOrder:
    """Restart the clock; the restore deadline moves by the time paused."""
    clock = _clock(order)
    try:
        clock.resume(now())
    except ValueError as exc:
        raise Conflict(str(exc), slug="sla-clock") from exc
    before = order.restore_deadline
    order.sla_clock = clock.to_dict()
    order.restore_deadline = clock.deadline()
    session.flush()
    audit.record(
        session,
        actor,
        "sla_resumed",
        "work_order",
        order.id,
        before={"restore_deadline": before.isoformat()},
        after={
            "restore_deadline": order.restore_deadline.isoformat(),
            "paused_s": int(clock.paused_total().total_seconds()),
        },
    )
    return order


def sla_status(order: WorkOrder, at: datetime | None = None) -> dict[str, Any]:
    """Where the order stands against its deadlines right now."""
    at = at or now()
    clock = _clock(order)
    return {
        "paused": clock.is_paused,
        "pauses": [p.to_dict() for p in clock.pauses],
        "paused_s": int(clock.paused_total(at).total_seconds()),
        "restore_deadline": clock.deadline(at),
        "restore_breached": clock.is_breached(at) and order.completed_at is None,
        "response_breached": order.responded_at is None
        and at > order.response_deadline
        or (order.responded_at is not None and order.responded_at > order.response_deadline),
        "source": clock.source,
    }


def handover(
    session: Session, actor: Actor, order: WorkOrder, to_user_id: int, reason: str | None
) -> WorkOrder:
    """Hand ownership on explicitly (first-contact responsibility)."""
    target = session.get(User, to_user_id)
    if target is None or not target.active or target.role not in ("dispatcher", "agent", "manager", "admin"):
        raise Invalid(
            "Orders are handed to active staff only.", errors={"to_user_id": ["Not an active staff user."]}
        )
    before = _snapshot(order)
    order.owner_id = target.id
    session.flush()
    audit.record(
        session,
        actor,
        "handover",
        "work_order",
        order.id,
        before=before,
        after=_snapshot(order),
        reason=reason,
    )
    return order


# ---------------------------------------------------------------- views of an order


def staff_view(order: WorkOrder, lang: str = "zh") -> dict[str, Any]:
    """Everything a dispatcher needs about one order."""
    findings = [
        dict(f, message=f["message_en"] if lang == "en" else f["message_zh"]) for f in order.findings or []
    ]
    return {
        **{
            c: getattr(order, c)
            for c in (
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
                "owner_id",
                "technician_id",
                "appointment_start",
                "appointment_end",
                "planned_start",
                "response_deadline",
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
                "created_at",
                "updated_at",
                "version",
            )
        },
        "findings": findings,
        "state_label": lifecycle.label(order.state, lang),
        "allowed_next": lifecycle.allowed_next(order.state),
        "customer_name": order.customer.name,
        "customer_kind": order.customer.kind,
        "enterprise_tier": order.customer.enterprise_tier,
        "address": order.site.address,
        "district": order.site.district,
        "lat": order.site.lat,
        "lon": order.site.lon,
        "owner_name": order.owner.display_name if order.owner else None,
        "technician_name": order.technician.name if order.technician else None,
        "sla": sla_status(order),
    }


def customer_view(session: Session, order: WorkOrder, lang: str = "zh") -> dict[str, Any]:
    """What a customer may see of their own order: status, promised times, a timeline."""
    events = audit.trail(session, "work_order", order.id)
    timeline = [
        {"state": "received", "state_label": lifecycle.label("received", lang), "at": order.created_at}
    ]
    for event in events:
        if event.action.startswith("state:"):
            state = event.action.split(":", 1)[1]
            timeline.append({"state": state, "state_label": lifecycle.label(state, lang), "at": event.at})
    return {
        **{
            c: getattr(order, c)
            for c in (
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
                "response_deadline",
                "restore_deadline",
                "parent_id",
                "created_at",
            )
        },
        "state_label": lifecycle.label(order.state, lang),
        "address": order.site.address,
        "technician_name": order.technician.name if order.technician else None,
        "timeline": timeline,
    }
