"""What the console's JSON feeds send: the map, the timeline and the side panel
as small plain dicts, built from what the services return.

The map gets only what it draws and filters by (GeoJSON points with a few
properties; routes as stop lists); details come per order when the dispatcher
opens one. What the dispatcher may do with an order is decided here, from
``workorders.lifecycle``, and sent as ``can_*`` flags: the page never holds a
list of states.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import standards
from console import labels
from core import audit
from dispatch import assignment, board, kpis, planning, plans, replan
from dispatch.routing.matrix import great_circle_m
from standards.findings import render
from technicians import service as technicians_service
from technicians.models import Technician
from technicians.service import missing_skills
from workorders import comments, followups, lifecycle, photos, reads
from workorders import labels as code_names
from workorders import service as wo_service
from workorders.models import Site, WorkOrder


def hhmm(moment: datetime | None) -> str | None:
    return None if moment is None else f"{moment.hour:02d}:{moment.minute:02d}"


# ---------------------------------------------------------------- the map and the timeline


def order_feature(row: Any, at: datetime, thresholds: tuple[int, int]) -> dict:
    """One open order (a board row) as a GeoJSON point with what the map colours and filters by.

    Only what the map needs; empty properties are left out to keep 2,000 orders small.
    """
    properties = {
        "code": row.code,
        "kind": row.kind,
        "source": row.source,
        "product": row.product,
        "priority": row.priority,
        "state": row.state,
        "district": row.district,
        "due": f"{row.restore_deadline:%m-%d} {hhmm(row.restore_deadline)}",
        "risk": board.sla_risk(row, at, *thresholds),
    }
    if lifecycle.in_route(row):
        properties["technician_id"] = row.technician_id
        if row.second_technician_id is not None:  # a two-technician job: its second
            properties["second_technician_id"] = row.second_technician_id
    if row.planned_start is not None:
        properties["planned"] = hhmm(row.planned_start)
    if row.blocked:
        properties["blocked"] = True
    if lifecycle.can_insert_urgently(row, at):
        properties["urgent"] = True
    return {
        "type": "Feature",
        "id": row.id,
        "geometry": {"type": "Point", "coordinates": [round(row.lon, 5), round(row.lat, 5)]},
        "properties": properties,
    }


def technician_item(tech: Technician) -> dict:
    """A technician as the map and the timeline need them."""
    seen = tech.last_lat is not None and tech.last_lon is not None
    lat, lon = (tech.last_lat, tech.last_lon) if seen else (tech.home_lat, tech.home_lon)
    return {
        "id": tech.id,
        "name": tech.name,
        "district": tech.district,
        "colour": board.technician_colour(tech.id),
        "skills": tech.skills or [],
        "shift": list(planning.shift_s(tech)),
        "lunch_duration_s": (tech.lunch_duration_min or 0) * 60,
        "position": [round(lat, 5), round(lon, 5)],
        "home": [round(tech.home_lat, 5), round(tech.home_lon, 5)],
        "seen": tech.last_seen_at if seen else None,
    }


def route_items(routes: list[dict]) -> list[dict]:
    """The day's routes (``board.day_routes``), each stop flagged ``done`` when the work is finished."""
    for route in routes:
        for stop in route["stops"]:
            stop["done"] = stop["state"] in lifecycle.DONE_STATES
    return routes


def technicians_seen_since(session: Session, since: datetime) -> list[dict]:
    """Active technicians whose phone reported a position since ``since``."""
    stmt = select(Technician).where(Technician.active.is_(True), Technician.last_seen_at >= since)
    return [technician_item(t) for t in session.scalars(stmt)]


def risky_orders(session: Session, at: datetime, thresholds: tuple[int, int]) -> dict[str, list[int]]:
    """Ids of the open orders whose SLA is at risk or breached at ``at``."""
    risk: dict[str, list[int]] = {"breached": [], "at_risk": []}
    rows = session.execute(
        select(*board.RISK_COLUMNS).where(
            WorkOrder.state.in_(lifecycle.OPEN_STATES),
            WorkOrder.kind.not_in(lifecycle.NON_FIELD_KINDS),  # complaints have their own queue
        )
    )
    for row in rows:
        level = board.sla_risk(row, at, *thresholds)
        if level != "fine":
            risk[level].append(row.id)
    return risk


# ---------------------------------------------------------------- one order


def _may(state: str, target: str, role: str, kind: str | None = None) -> bool:
    try:
        lifecycle.check(state, target, role, kind)
    except lifecycle.IllegalTransition:
        return False
    return True


def action_flags(order: WorkOrder, role: str, at: datetime) -> dict[str, bool]:
    """What ``role`` may do with the order now, as the services will judge it."""
    # dispatch.assignment moves an order already assigned through "scheduled" to its new technician.
    assign_via = (
        lifecycle.State.SCHEDULED if order.state == lifecycle.State.ASSIGNED else lifecycle.State.ASSIGNED
    )
    return {
        "in_route": lifecycle.in_route(order),
        "can_assign": not order.blocked and _may(order.state, assign_via, role, order.kind),
        "can_unassign": order.state in lifecycle.PLANNABLE_STATES
        and _may(order.state, lifecycle.State.VALIDATED, role, order.kind),
        "can_cancel": _may(order.state, lifecycle.State.CANCELLED, role, order.kind),
        "can_insert_urgently": lifecycle.can_insert_urgently(order, at),
    }


def finding_items(findings: list[dict], lang: str) -> list[dict]:
    """Standards findings with their message in the page's language; product and
    access codes in a message are named, not shown as codes."""
    rules = standards.load_ruleset()
    names = {
        "product": code_names.labels("product", lang),
        "access_type": labels.access_labels(),
        "expected_access": labels.access_labels(),
    }
    items = []
    for finding in findings:
        params = finding.get("params") or {}
        message = finding["message_en"] if lang == "en" else finding["message_zh"]
        if finding.get("check") and any(key in params for key in names):
            named = {k: names[k].get(v, v) if k in names else v for k, v in params.items()}
            template = rules.message(finding["check"])
            message = render(template.en if lang == "en" else template.zh, named) or message
        items.append({"rule_id": finding["rule_id"], "severity": finding["severity"], "message": message})
    return items


def audit_items(session: Session, order: WorkOrder) -> list[dict]:
    """The order's audit trail, oldest first, with the reasons the services wrote translated."""
    known = labels.audit_reasons()
    return [
        {
            "at": e.at,
            "actor": e.actor_name,
            "role": e.actor_role,
            "origin": e.origin,
            "action": e.action,
            "reason": labels.audit_reason(e.reason, known),
            "from": (e.before or {}).get("state"),
            "to": (e.after or {}).get("state"),
        }
        for e in audit.trail(session, "work_order", order.id)
    ]


def photo_items(session: Session, order: WorkOrder) -> list[dict]:
    """The order's evidence photos (uploaded from the phone), oldest first.

    Links go to the staff photo endpoint, which checks access and audits each read;
    the panel shows links, not thumbnails, so opening it reads no photo.
    """
    return [
        {key: view[key] for key in ("item_id", "taken_at", "width", "height", "url")}
        for view in (photos.photo_view(p, "/api/v1") for p in photos.list_photos(session, order))
    ]


def order_panel(
    session: Session, order: WorkOrder, role: str, lang: str, at: datetime, thresholds: tuple[int, int]
) -> dict:
    """Everything the side panel shows about one order, and what ``role`` may do with it."""
    view = wo_service.staff_view(order, lang)
    view.update(action_flags(order, role, at))
    view["findings"] = finding_items(view.get("findings") or [], lang)
    view["closeout_findings"] = finding_items(order.closeout_findings or [], lang)
    view["risk"] = board.sla_risk(order, at, *thresholds)
    view["customer_phone"] = order.customer.phone
    view["contact_name"] = order.customer.contact_name
    view["responded_at"] = order.responded_at
    view["audit"] = audit_items(session, order)
    view["photos"] = photo_items(session, order)
    view["source_label"] = code_names.label("source", order.source, lang)
    view["comments"] = comments.comment_items(session, order, lang)
    # While the technician is on the way: the same live ETA the customer sees.
    view["eta"] = reads.eta_view(reads.live_eta(session, order, at), lang)
    # The staff API takes the console's session cookie and its CSRF token.
    view["comments_url"] = f"/api/v1/workorders/{order.id}/comments"
    view.update(followups.repeat_links(session, order))  # the repeat-fault badge and links
    return view


def action_result(session: Session, order: WorkOrder, at: datetime, thresholds: tuple[int, int]) -> dict:
    """The order after an assign, move, unassign or cancel, with its new map point
    (None once it left the board)."""
    row = board.board_order(session, order.id)
    on_board = row is not None and order.state in lifecycle.OPEN_STATES
    tech = session.get(Technician, order.technician_id) if order.technician_id is not None else None
    return {
        "order_id": order.id,
        "code": order.code,
        "state": order.state,
        "version": order.version,
        "technician_id": order.technician_id,
        "technician_name": tech.name if tech else None,
        "planned": hhmm(order.planned_start),
        "sequence": order.planned_sequence,
        "feature": order_feature(row, at, thresholds) if on_board else None,
    }


def candidate_items(session: Session, order: WorkOrder, day: date) -> list[dict]:
    """Active technicians for the assign list, best fit first: who has room,
    when the order would start and what it adds to their travel; those who
    cannot take it last, each with the reason in words. ``offered``: whether
    the list lets the dispatcher pick them (a far one not worked out is offered:
    the assignment itself checks it)."""
    if order.site.lat is None or order.site.lon is None:
        return []
    techs = {t.id: t for t in technicians_service.active_technicians(session)}
    site = (order.site.lat, order.site.lon)
    skill_names, fit_reasons = code_names.labels("skill"), labels.fit_labels()
    items = []
    for fit in assignment.assignment_candidates(session, order, day):
        tech = techs[fit["technician_id"]]
        seen = tech.last_lat is not None and tech.last_lon is not None
        here = (tech.last_lat, tech.last_lon) if seen else (tech.home_lat, tech.home_lon)
        missing = missing_skills(tech, order.required_skills)
        if missing:
            why = labels.lacks_skills([skill_names.get(s, s) for s in missing])
        else:
            why = fit_reasons.get(fit["reason"]) if fit["reason"] else None
        items.append(
            {
                "id": tech.id,
                "name": tech.name,
                "district": tech.district,
                "missing_skills": missing,
                "distance_km": round(great_circle_m(site, here) / 1000, 1),
                "stops": fit["stops"],
                "fits": fit["fits"],
                "offered": fit["fits"] or fit["reason"] == "not_evaluated",
                "reason": fit["reason"],
                "why_not": why,
                "start": hhmm(fit["start"]),
                "extra_km": None if fit["extra_travel_m"] is None else round(fit["extra_travel_m"] / 1000, 1),
                "free_min": fit["free_min"],
                "delays": fit["delayed"],
                "colour": board.technician_colour(tech.id),
            }
        )
    return items


# ---------------------------------------------------------------- a plan for review


def _plan_orders(session: Session, result: dict) -> dict[int, Any]:
    """Code, priority, place and district of every order a stored plan mentions, by id."""
    ids = {int(s["visit_id"]) for r in result.get("routes", []) for s in r["stops"]}
    ids |= {int(u["visit_id"]) for u in result.get("unassigned", [])}
    if not ids:
        return {}
    stmt = (
        select(WorkOrder.id, WorkOrder.code, WorkOrder.priority, Site.lat, Site.lon, Site.district)
        .join(Site, WorkOrder.site_id == Site.id)
        .where(WorkOrder.id.in_(ids))
    )
    return {row.id: row for row in session.execute(stmt)}


def _plan_route(route: dict, orders: dict[int, Any]) -> dict:
    stops = []
    for seq, stop in enumerate(route["stops"], start=1):
        row = orders.get(int(stop["visit_id"]))
        stops.append(
            {
                "order_id": stop["visit_id"],
                "sequence": seq,
                "code": row.code if row else str(stop["visit_id"]),
                "priority": row.priority if row else None,
                "lat": row.lat if row else None,
                "lon": row.lon if row else None,
                **{key: stop[key] for key in ("arrival_s", "start_s", "end_s", "travel_s")},
                "late_s": stop.get("late_s", 0),
            }
        )
    return {
        "technician_id": route["technician_id"],
        "stops": stops,
        "lunch_start_s": route.get("lunch_start_s"),
        "end_s": route["end_s"],
        "travel_m": route.get("travel_m"),
        "source": "plan",
    }


def _left_out(item: dict, orders: dict[int, Any], reasons: dict[str, str]) -> dict:
    row = orders.get(int(item["visit_id"]))
    return {
        "order_id": item["visit_id"],
        "code": row.code if row else str(item["visit_id"]),
        "priority": row.priority if row else None,
        "district": row.district if row else None,
        "reason": item["reason"],
        "message": reasons.get(item["reason"], item["reason"]),
    }


def plan_review(session: Session, plan_id: int) -> dict:
    """A stored plan as the review panel, the map and the timeline preview it:
    routes with order codes and places, left-out orders with the reason in words,
    and for an urgent insertion the orders it displaces or delays."""
    record = plans.get_plan(session, plan_id)
    result = record.result or {}
    stats = result.get("stats") or {}
    orders = _plan_orders(session, result)
    reasons = labels.reason_labels()

    def code_of(order_id: Any) -> str:
        row = orders.get(int(order_id))
        return row.code if row else str(order_id)

    routes = [_plan_route(route, orders) for route in result.get("routes", [])]
    placed = sum(len(r["stops"]) for r in routes)
    unassigned = [_left_out(item, orders, reasons) for item in result.get("unassigned", [])]
    return {
        "id": record.id,
        "kind": record.kind,
        "status": record.status,
        "can_accept": record.status == "proposed" and placed > 0,
        # the roster changed under this plan since (leave, sick, a pattern): plan the day again
        "replan_needed": [
            replan.notice_view(session, notice, is_open)
            for notice, is_open in replan.replan_notices(session, plan_id=record.id)
        ],
        "placed": placed,
        "urgent_order_id": stats.get("visit_id"),
        "displaced": [
            {
                "order_id": order_id,
                "code": code_of(order_id),
                "deadline_today": order_id in stats.get("displaced_with_deadline", []),
            }
            for order_id in stats.get("displaced", [])
        ],
        "delayed": [
            {
                "order_id": item["visit_id"],
                "code": code_of(item["visit_id"]),
                "before_s": item["before_s"],
                "after_s": item["after_s"],
                "late_s": item.get("late_s", 0),
            }
            for item in stats.get("delayed", [])
        ],
        "now_s": result.get("now_s"),
        "day": record.day,
        "objective": record.objective,
        "travel_m": result.get("travel_m"),
        "breaches": result.get("breaches"),
        "solve_s": result.get("solve_s"),
        "solver_status": result.get("status"),
        "routes": routes,
        "unassigned": unassigned,
        "conflicts": record.conflicts,
        "kpis": kpis.plan_kpis(session, record),
    }
