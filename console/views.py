"""The dispatcher's map console: one page and the small JSON feeds it draws from.

Web page, not API: it authenticates with the session cookie, so every POST is
CSRF-checked (the page sends the token in an X-CSRFToken header). The feeds send
the map only what it draws (GeoJSON points with a few properties; routes as
stop lists); details come per order when the dispatcher clicks one.
"""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError
from sqlalchemy import select

import standards
from core import audit, jobs
from core.api import current_lang
from core.auth import load_current_user, require_roles
from core.clock import now
from core.db import get_session
from core.errors import Conflict, Invalid, NotFound
from core.models import JobRun
from dispatch import assignment, board, planning, plans
from dispatch.routing.problem import REASON_MESSAGES
from dispatch.schemas import (
    ConsoleAssignSchema,
    ConsoleCancelSchema,
    ConsoleDaySchema,
    ConsoleLiveSchema,
    ConsolePlanSchema,
    ConsoleUnassignSchema,
    ConsoleUrgentSchema,
)
from technicians.models import Technician
from workorders import lifecycle
from workorders import service as wo_service
from workorders.models import Site, WorkOrder

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

VIEW_ROLES = ("dispatcher", "admin", "manager")
ACT_ROLES = ("dispatcher", "admin")
GZIP_ABOVE_BYTES = 2048


# ---------------------------------------------------------------- helpers


def _args(schema: Schema, data: Any) -> dict:
    try:
        return schema.load(data or {})
    except ValidationError as exc:
        raise Invalid(_("Some fields are missing or invalid."), errors=exc.messages) from exc


def _query(schema: Schema) -> dict:
    return _args(schema, request.args.to_dict())


def _body(schema: Schema) -> dict:
    return _args(schema, request.get_json(silent=True))


def _day(args: dict) -> date:
    return args.get("day") or now().date()


def _default(value: Any) -> Any:
    """JSON for what json cannot say: datetimes as ISO text (Flask would send HTTP dates)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _json(payload: Any, status: int = 200) -> Response:
    """Compact JSON, gzipped when the browser accepts it and it is worth it."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=_default).encode()
    response = Response(body, status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    response.vary.add("Accept-Encoding")
    if len(body) > GZIP_ABOVE_BYTES and "gzip" in request.headers.get("Accept-Encoding", ""):
        response.set_data(gzip.compress(body, compresslevel=5))
        response.headers["Content-Encoding"] = "gzip"
    return response


def _hhmm(moment: datetime | None) -> str | None:
    return None if moment is None else f"{moment.hour:02d}:{moment.minute:02d}"


def _order_for_action(order_id: int, version: int | None) -> WorkOrder:
    order = get_session().get(WorkOrder, order_id)
    if order is None:
        raise NotFound(_("No such work order."))
    if version is not None and version != order.version:
        raise Conflict(
            _("The order changed since you loaded it; it has been reloaded."),
            slug="stale-version",
            current_version=order.version,
        )
    return order


def _thresholds() -> tuple[int, int]:
    cfg = current_app.config
    return (int(cfg.get("SLA_AT_RISK_MIN", 60)) * 60, int(cfg.get("SLA_RESPONSE_AT_RISK_MIN", 15)) * 60)


# ---------------------------------------------------------------- labels for the page


def _labels(lang: str) -> dict[str, dict[str, str]]:
    """Every code the page shows, in the page's language."""
    rules = standards.load_ruleset()
    pick = 1 if lang == "en" else 0
    return {
        "state": {s: lifecycle.label(s, lang) for s in lifecycle.STATES},
        "kind": {"install": _("Install"), "repair": _("Repair"), "follow_up": _("Follow-up")},
        "product": {
            p: (rules.product(p).name_en if lang == "en" else rules.product(p).name_zh)
            for p in standards.PRODUCTS
        },
        "priority": {"P1": _("P1 urgent"), "P2": _("P2 important"), "P3": _("P3 general")},
        "risk": {"breached": _("SLA breached"), "at_risk": _("SLA at risk"), "fine": _("Within SLA")},
        "skill": {
            "adsl": "ADSL",
            "lan": "LAN",
            "iptv": "IPTV",
            "enterprise_circuit": _("Enterprise circuit"),
            "enterprise_app": _("Enterprise application"),
        },
        "tier": {
            "group": _("Group"),
            "provincial": _("Provincial"),
            "local_a": _("Local A"),
            "local_b": _("Local B"),
            "local_c": _("Local C"),
        },
        "reason": {code: messages[pick] for code, messages in REASON_MESSAGES.items()},
        "phase": {
            "queued": _("Queued"),
            "construction": _("Building routes"),
            "first_solution": _("First solution"),
            "local_search": _("Improving"),
            "done": _("Done"),
            "building": _("Reading the day"),
            "inserting": _("Inserting the order"),
            "districts": _("Planning district by district"),
        },
        "job_status": {
            "queued": _("Queued"),
            "running": _("Running"),
            "finished": _("Finished"),
            "failed": _("Failed"),
            "cancelled": _("Cancelled"),
        },
        "segment": {
            "travel": _("Travel"),
            "work": _("Work"),
            "lunch": _("Lunch"),
            "idle": _("Idle"),
            "off": _("Off shift"),
        },
        "action": {
            "created": _("Created"),
            "handover": _("Handed over"),
            "read_personal": _("Customer data read"),
            "sla_paused": _("SLA clock paused"),
            "sla_resumed": _("SLA clock resumed"),
            "checklist_override": _("Checklist override"),
            "repeat_repair_opened": _("Repeat repair opened"),
            "read_photo": _("Photo viewed"),
        },
    }


def _strings() -> dict[str, str]:
    """Sentences the page's script builds at run time."""
    return {
        "orders_shown": _("%(shown)s of %(total)s open orders shown"),
        "loading": _("Loading…"),
        "load_failed": _("Could not load the map data; retrying."),
        "updated": _("Updated %(time)s"),
        "no_route": _("No planned stops"),
        "assign": _("Assign"),
        "move": _("Move"),
        "unassign": _("Unassign"),
        "cancel_order": _("Cancel order"),
        "cancel_reason": _("Reason for cancelling"),
        "reason_required": _("Say why the order is cancelled."),
        "assigned_ok": _("%(code)s assigned to %(name)s, stop %(seq)s at %(time)s."),
        "unassigned_ok": _("%(code)s taken back from the technician."),
        "cancelled_ok": _("%(code)s cancelled."),
        "refused": _("Refused"),
        "fit_at": _("starts %(time)s, +%(km)s km, %(free)s min to spare"),
        "delays_others": _("delays %(n)s visits"),
        "nothing_to_accept": _("This proposal places no order: nothing to accept."),
        "displaced": _("Moved out of today to make room"),
        "deadline_today": _("due today"),
        "delayed": _("Visits pushed later"),
        "late_min": _("%(n)s min late"),
        "urgent_displaces": _("It displaces %(n)s lower-priority visits (listed below)."),
        "km": _("%(km)s km"),
        "stops_today": _("%(n)s stops"),
        "choose_technician": _("Choose a technician"),
        "plan_running": _("Planning the day…"),
        "plan_result": _("Proposed plan"),
        "plan_summary": _(
            "%(planned)s orders planned on %(techs)s technicians, "
            "%(unassigned)s left out, %(km)s km of driving, %(late)s late."
        ),
        "urgent_summary_ok": _("%(code)s fits: %(name)s, stop %(seq)s at %(time)s."),
        "urgent_summary_no": _("%(code)s fits nowhere today."),
        "unassigned_orders": _("Orders left out"),
        "none_left_out": _("Every order is planned."),
        "accept": _("Accept"),
        "discard": _("Discard"),
        "applied": _("Plan applied."),
        "discarded": _("Plan discarded."),
        "job_failed": _("The optimizer failed: %(error)s"),
        "best_cost": _("best cost %(cost)s"),
        "pick_urgent": _("Pick an urgent order on the map (or from this list)."),
        "no_urgent": _("No urgent order waiting for a technician."),
        "insert": _("Insert"),
        "details": _("Details"),
        "findings": _("Standards findings"),
        "no_findings": _("No findings."),
        "sla": _("SLA clocks"),
        "audit": _("Audit trail"),
        "photos": _("Photos"),
        "no_photos": _("No photos yet."),
        "response_due": _("Respond by"),
        "restore_due": _("Restore by"),
        "responded": _("Responded"),
        "paused": _("Clock paused"),
        "left": _("%(time)s left"),
        "over": _("%(time)s over"),
        "customer": _("Customer"),
        "address": _("Address"),
        "district": _("District"),
        "product": _("Product"),
        "kind": _("Kind"),
        "priority": _("Priority"),
        "state": _("State"),
        "technician": _("Technician"),
        "planned": _("Planned"),
        "appointment": _("Appointment"),
        "skills": _("Skills needed"),
        "duration": _("On site"),
        "minutes": _("%(n)s min"),
        "description": _("Description"),
        "owner": _("Owner"),
        "source_plan": _("from the plan"),
        "source_estimate": _("estimated"),
        "position_seen": _("last seen %(time)s"),
        "at_home": _("at home base"),
        "shift": _("Shift"),
        "blocked": _("Blocked by the installation code"),
        "stop": _("Stop %(seq)s"),
        "stop_search": _("Stop searching (keep the best plan)"),
    }


# ---------------------------------------------------------------- the page


@bp.route("")
def page():
    """The console page; dispatchers land here after logging in."""
    user = load_current_user()
    if user is None:
        return redirect(url_for("web.login"))
    if user.role not in VIEW_ROLES:
        return render_template("console/forbidden.html", user=user), 403
    lang = current_lang()
    cfg = current_app.config
    settings = {
        "day": now().date().isoformat(),
        "lang": lang,
        "can_act": user.role in ACT_ROLES,
        "tile_url": cfg.get("TILE_URL") or "",
        "tile_attribution": cfg.get("TILE_ATTRIBUTION") or "",
        "refresh_s": int(cfg.get("CONSOLE_REFRESH_S", 15)),
        "labels": _labels(lang),
        "strings": _strings(),
        "urls": {"base": url_for("console.page")},
    }
    return render_template("console/console.html", user=user, settings=settings)


# ---------------------------------------------------------------- feeds for the map


def order_feature(row: Any, at: datetime, thresholds: tuple[int, int]) -> dict:
    """One open order (a board row) as a GeoJSON point with what the map colours and filters by.

    Only what the map needs; empty properties are left out to keep 2,000 orders small.
    """
    properties = {
        "code": row.code,
        "kind": row.kind,
        "product": row.product,
        "priority": row.priority,
        "state": row.state,
        "district": row.district,
        "due": f"{row.restore_deadline:%m-%d} {_hhmm(row.restore_deadline)}",
        "risk": board.sla_risk(row, at, *thresholds),
    }
    if row.technician_id is not None and row.state in lifecycle.ROUTE_STATES:
        properties["technician_id"] = row.technician_id
    if row.planned_start is not None:
        properties["planned"] = _hhmm(row.planned_start)
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


@bp.route("/api/orders")
@require_roles(*VIEW_ROLES)
def orders_feed():
    """Open orders on the day's board, as GeoJSON."""
    day = _day(_query(ConsoleDaySchema()))
    at, thresholds = now(), _thresholds()
    features = [order_feature(row, at, thresholds) for row in board.board_orders(get_session(), day)]
    return _json({"type": "FeatureCollection", "day": day, "generated_at": at, "features": features})


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


@bp.route("/api/technicians")
@require_roles(*VIEW_ROLES)
def technicians_feed():
    """Active technicians at their last reported position (else their home base)."""
    techs = planning.active_technicians(get_session())
    return _json({"technicians": [technician_item(t) for t in techs]})


@bp.route("/api/routes")
@require_roles(*VIEW_ROLES)
def routes_feed():
    """Every technician's stops for the day with times for the timeline."""
    day = _day(_query(ConsoleDaySchema()))
    return _json({"day": day, "routes": board.day_routes(get_session(), day)})


_RISK_COLUMNS = (
    WorkOrder.id,
    WorkOrder.created_at,
    WorkOrder.response_deadline,
    WorkOrder.responded_at,
    WorkOrder.restore_deadline,
    WorkOrder.deadline_source,
    WorkOrder.sla_clock,
    WorkOrder.completed_at,
    WorkOrder.planned_start,
    WorkOrder.duration_min,
)


@bp.route("/api/live")
@require_roles(*VIEW_ROLES)
def live_feed():
    """What changed since `since`: orders, positions, and every order's SLA risk now.

    Polled every few seconds; light enough for that (no order details).
    """
    args = _query(ConsoleLiveSchema())
    day, since = _day(args), args.get("since")
    session = get_session()
    at, thresholds = now(), _thresholds()
    changed, gone = [], []
    techs: list[dict] = []
    if since is not None:
        # A second of overlap: updated_at has whole seconds.
        margin = since - timedelta(seconds=1)
        rows, gone = board.board_changes(session, day, margin)
        changed = [order_feature(row, at, thresholds) for row in rows]
        tech_stmt = select(Technician).where(Technician.active.is_(True), Technician.last_seen_at >= margin)
        techs = [technician_item(t) for t in session.scalars(tech_stmt)]
    risk: dict[str, list[int]] = {"breached": [], "at_risk": []}
    rows = session.execute(select(*_RISK_COLUMNS).where(WorkOrder.state.in_(lifecycle.OPEN_STATES)))
    for row in rows:
        level = board.sla_risk(row, at, *thresholds)
        if level != "fine":
            risk[level].append(row.id)
    return _json({"now": at, "orders": changed, "gone": gone, "technicians": techs, "risk": risk})


# ---------------------------------------------------------------- one order


def _photos(order: WorkOrder) -> list[dict]:
    """The order's evidence photos (uploaded from the phone), oldest first.

    Links go to the staff photo endpoint, which checks access and audits each read;
    the panel shows links, not thumbnails, so opening it reads no photo.
    """
    from workorders import photos

    return [
        {
            "item_id": view["item_id"],
            "taken_at": view["taken_at"],
            "width": view["width"],
            "height": view["height"],
            "url": view["url"],
        }
        for view in (
            photos.photo_view(photo, "/api/v1") for photo in photos.list_photos(get_session(), order)
        )
    ]


def _audit_items(order: WorkOrder) -> list[dict]:
    events = audit.trail(get_session(), "work_order", order.id)
    return [
        {
            "at": e.at,
            "actor": e.actor_name,
            "role": e.actor_role,
            "origin": e.origin,
            "action": e.action,
            "reason": e.reason,
            "from": (e.before or {}).get("state"),
            "to": (e.after or {}).get("state"),
        }
        for e in events
    ]


def _candidates(order: WorkOrder, day: date) -> list[dict]:
    """Active technicians for the assign list, best fit first: who has room,
    when the order would start and what it adds to their travel; those who
    cannot take it last, each with the reason."""
    from dispatch.routing.matrix import great_circle_m

    session = get_session()
    lang = current_lang()
    techs = {t.id: t for t in planning.active_technicians(session)}
    site = (order.site.lat, order.site.lon)
    items = []
    for fit in assignment.assignment_candidates(session, order, day):
        tech = techs[fit["technician_id"]]
        here = (
            (tech.last_lat, tech.last_lon)
            if tech.last_lat is not None and tech.last_lon is not None
            else (tech.home_lat, tech.home_lon)
        )
        missing = sorted(set(order.required_skills or []) - set(tech.skills or []))
        reason = fit["reason"]
        if missing:
            why = _(
                "Lacks: %(skills)s",
                skills="/".join(_labels(lang)["skill"].get(s, s) for s in missing),
            )
        elif reason is not None:
            why = REASON_MESSAGES[reason][1 if lang == "en" else 0]
        else:
            why = None
        items.append(
            {
                "id": tech.id,
                "name": tech.name,
                "district": tech.district,
                "missing_skills": missing,
                "distance_km": None if None in site else round(great_circle_m(site, here) / 1000, 1),
                "stops": fit["stops"],
                "fits": fit["fits"],
                "reason": reason,
                "why_not": why,
                "start": _hhmm(fit["start"]),
                "extra_km": None if fit["extra_travel_m"] is None else round(fit["extra_travel_m"] / 1000, 1),
                "free_min": fit["free_min"],
                "delays": fit["delayed"],
                "colour": board.technician_colour(tech.id),
            }
        )
    return items


def order_panel(order: WorkOrder, day: date) -> dict:
    """Everything the side panel shows about one order."""
    lang = current_lang()
    view = wo_service.staff_view(order, lang)
    view["risk"] = board.sla_risk(order, now(), *_thresholds())
    view["customer_phone"] = order.customer.phone
    view["contact_name"] = order.customer.contact_name
    view["technician_id"] = order.technician_id
    view["responded_at"] = order.responded_at
    view["audit"] = _audit_items(order)
    view["photos"] = _photos(order)
    view["can_insert_urgently"] = lifecycle.can_insert_urgently(order, now())
    return view


@bp.route("/api/orders/<int:order_id>")
@require_roles(*VIEW_ROLES)
def order_detail(order_id: int):
    """One order for the side panel; the read of customer data is audited."""
    day = _day(_query(ConsoleDaySchema()))
    session = get_session()
    order = session.get(WorkOrder, order_id)
    if order is None:
        raise NotFound(_("No such work order."))
    panel = order_panel(order, day)
    audit.record(
        session,
        g.actor,
        "read_personal",
        "customer",
        order.customer_id,
        after={"order_id": order.id, "via": "console"},
    )
    return _json(panel)


@bp.route("/api/orders/<int:order_id>/candidates")
@require_roles(*VIEW_ROLES)
def order_candidates(order_id: int):
    """Who could take the order today, best first, with the figures to choose by."""
    day = _day(_query(ConsoleDaySchema()))
    order = get_session().get(WorkOrder, order_id)
    if order is None:
        raise NotFound(_("No such work order."))
    if order.site.lat is None or order.site.lon is None:
        return _json({"order_id": order.id, "candidates": []})
    return _json({"order_id": order.id, "candidates": _candidates(order, day)})


def _refusal(exc: Conflict) -> Conflict:
    """Put the refusal in the dispatcher's language (the service speaks English)."""
    ext = exc.extensions
    lang = current_lang()
    if exc.slug == "skills-missing":
        tech = get_session().get(Technician, ext["technician_id"])
        skills = ", ".join(_labels(lang)["skill"].get(s, s) for s in ext["missing_skills"])
        exc.detail = _("%(name)s lacks the skills: %(skills)s.", name=tech.name, skills=skills)
    elif exc.slug == "does-not-fit":
        tech = get_session().get(Technician, ext["technician_id"])
        reasons = {
            "window_unreachable": _(
                "%(name)s cannot reach the appointment window within "
                "the shift: agree a new window with the customer or "
                "choose another technician.",
                name=tech.name,
            ),
            "day_full": _(
                "%(name)s's day is full: the order does not fit before the shift ends.", name=tech.name
            ),
            "pinned_technician_unavailable": _(
                "%(name)s is not on shift or cannot fit the order into the shift.", name=tech.name
            ),
        }
        exc.detail = reasons.get(ext["reason"]) or (ext["message_en"] if lang == "en" else ext["message_zh"])
        if ext.get("dropped"):
            exc.detail += " " + _("It would push out %(codes)s.", codes=", ".join(ext["dropped"]))
    elif exc.slug == "already-assigned":
        exc.detail = _("The order is already with this technician.")
    elif exc.slug == "illegal-transition":
        state = ext.get("current_state")
        exc.detail = _(
            "Not possible while the order is %(state)s.", state=lifecycle.label(state, lang) if state else "?"
        )
    exc.msgid, exc.params = exc.detail, {}  # already in the reader's language
    return exc


def _after_action(order: WorkOrder, day: date, **extra: Any) -> Response:
    row = board.board_order(get_session(), order.id)
    feature = (
        order_feature(row, now(), _thresholds())
        if row is not None and order.state in lifecycle.OPEN_STATES
        else None
    )
    return _json(
        {
            "order_id": order.id,
            "code": order.code,
            "state": order.state,
            "version": order.version,
            "technician_id": order.technician_id,
            "planned": _hhmm(order.planned_start),
            "sequence": order.planned_sequence,
            "feature": feature,
            **extra,
        }
    )


@bp.route("/api/orders/<int:order_id>/assign", methods=["POST"])
@require_roles(*ACT_ROLES)
def order_assign(order_id: int):
    """Assign or move the order to a technician, slotted into their route."""
    args = _body(ConsoleAssignSchema())
    day = _day(args)
    session = get_session()
    order = _order_for_action(order_id, args["version"])
    try:
        assignment.assign_order(session, g.actor, order, args["technician_id"], day)
    except Conflict as exc:
        session.rollback()
        raise _refusal(exc) from exc
    tech = session.get(Technician, order.technician_id)
    return _after_action(order, day, technician_name=tech.name)


@bp.route("/api/orders/<int:order_id>/unassign", methods=["POST"])
@require_roles(*ACT_ROLES)
def order_unassign(order_id: int):
    """Take the order back from its technician."""
    args = _body(ConsoleUnassignSchema())
    day = _day(args)
    session = get_session()
    order = _order_for_action(order_id, args["version"])
    try:
        assignment.unassign_order(session, g.actor, order, day, args.get("reason"))
    except Conflict as exc:
        session.rollback()
        raise _refusal(exc) from exc
    return _after_action(order, day)


@bp.route("/api/orders/<int:order_id>/cancel", methods=["POST"])
@require_roles(*ACT_ROLES)
def order_cancel(order_id: int):
    """Cancel the order with a reason."""
    args = _body(ConsoleCancelSchema())
    day = _day(args)
    session = get_session()
    order = _order_for_action(order_id, args["version"])
    try:
        assignment.cancel_order(session, g.actor, order, day, args["reason"])
    except Conflict as exc:
        session.rollback()
        raise _refusal(exc) from exc
    return _after_action(order, day)


# ---------------------------------------------------------------- planning


def _job_item(job: JobRun) -> dict:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress or {},
        "result": job.result,
        "error": job.error,
    }


@bp.route("/api/plan", methods=["POST"])
@require_roles(*ACT_ROLES)
def plan_start():
    """Start the optimizer on the day; the page polls the job for progress."""
    args = _body(ConsolePlanSchema())
    planning.plan_clock(_day(args), now())  # a day that is over: 422 before any job starts
    params = {
        "day": _day(args).isoformat(),
        "district": args.get("district"),
        "time_limit_s": args["time_limit_s"],
    }
    job = jobs.enqueue(get_session(), "plan_day", params, g.actor.user_id, background=True)
    return _json(_job_item(job), 202)


@bp.route("/api/urgent", methods=["POST"])
@require_roles(*ACT_ROLES)
def urgent_start():
    """Start inserting one P1 order into the applied day (a job, like planning)."""
    args = _body(ConsoleUrgentSchema())
    session = get_session()
    order = session.get(WorkOrder, args["order_id"])
    if order is None:
        raise NotFound(_("No such work order."))
    if not lifecycle.is_urgent(order, now()):
        raise Conflict(
            _(
                "Only P1 faults and orders due for a response within the hour are inserted "
                "urgently; plan the day for the others."
            ),
            slug="not-urgent",
        )
    if not lifecycle.can_insert_urgently(order, now()):
        raise Conflict(_("Only an unassigned, unblocked order can be inserted."), slug="not-insertable")
    params = {"day": _day(args).isoformat(), "order_id": order.id, "time_limit_s": args["time_limit_s"]}
    job = jobs.enqueue(session, "insert_urgent", params, g.actor.user_id, background=True)
    return _json(_job_item(job), 202)


@bp.route("/api/jobs/<int:job_id>")
@require_roles(*VIEW_ROLES)
def job_detail(job_id: int):
    """Status and progress (phase, percent, best cost) of a planning job."""
    job = jobs.load_job(get_session(), job_id)
    if job is None or job.kind not in ("plan_day", "insert_urgent"):
        raise NotFound(_("No such job."))
    return _json(_job_item(job))


@bp.route("/api/jobs/<int:job_id>/cancel", methods=["POST"])
@require_roles(*ACT_ROLES)
def job_cancel(job_id: int):
    """Stop a planning job early; it keeps the best plan found so far."""
    session = get_session()
    job = jobs.load_job(session, job_id)
    if job is None or job.kind not in ("plan_day", "insert_urgent"):
        raise NotFound(_("No such job."))
    if job.status in ("queued", "running"):
        job.cancel_requested = True
    return _json(_job_item(job), 202)


def plan_item(plan_id: int) -> dict:
    """A stored plan with what the page needs to preview it: routes, left-out orders."""
    session = get_session()
    record = plans.get_plan(session, plan_id)
    lang = current_lang()
    result = record.result or {}
    ids = {int(s["visit_id"]) for r in result.get("routes", []) for s in r["stops"]}
    ids |= {int(u["visit_id"]) for u in result.get("unassigned", [])}
    orders = {}
    if ids:
        stmt = (
            select(
                WorkOrder.id,
                WorkOrder.code,
                WorkOrder.priority,
                WorkOrder.kind,
                WorkOrder.product,
                Site.lat,
                Site.lon,
                Site.district,
            )
            .join(Site, WorkOrder.site_id == Site.id)
            .where(WorkOrder.id.in_(ids))
        )
        orders = {row.id: row for row in session.execute(stmt)}
    routes = []
    for route in result.get("routes", []):
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
                    "arrival_s": stop["arrival_s"],
                    "start_s": stop["start_s"],
                    "end_s": stop["end_s"],
                    "travel_s": stop["travel_s"],
                    "late_s": stop.get("late_s", 0),
                }
            )
        routes.append(
            {
                "technician_id": route["technician_id"],
                "stops": stops,
                "lunch_start_s": route.get("lunch_start_s"),
                "end_s": route["end_s"],
                "travel_m": route.get("travel_m"),
                "source": "plan",
            }
        )
    unassigned = []
    for item in result.get("unassigned", []):
        row = orders.get(int(item["visit_id"]))
        unassigned.append(
            {
                "order_id": item["visit_id"],
                "code": row.code if row else str(item["visit_id"]),
                "priority": row.priority if row else None,
                "district": row.district if row else None,
                "reason": item["reason"],
                "message": item.get("message_en") if lang == "en" else item.get("message_zh"),
            }
        )
    stats = result.get("stats") or {}
    placed = sum(len(r["stops"]) for r in routes)

    def code_of(order_id: Any) -> str:
        row = orders.get(int(order_id))
        return row.code if row else str(order_id)

    delayed = [
        {
            "order_id": item["visit_id"],
            "code": code_of(item["visit_id"]),
            "before_s": item["before_s"],
            "after_s": item["after_s"],
            "late_s": item.get("late_s", 0),
        }
        for item in stats.get("delayed", [])
    ]
    return {
        "id": record.id,
        "kind": record.kind,
        "status": record.status,
        "can_accept": record.status == "proposed" and placed > 0,
        "placed": placed,
        "urgent_order_id": stats.get("visit_id"),
        "displaced": [
            {
                "order_id": vid,
                "code": code_of(vid),
                "deadline_today": vid in stats.get("displaced_with_deadline", []),
            }
            for vid in stats.get("displaced", [])
        ],
        "delayed": delayed,
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
    }


@bp.route("/api/plans/<int:plan_id>")
@require_roles(*VIEW_ROLES)
def plan_detail(plan_id: int):
    """A computed plan shaped for the map and the timeline."""
    return _json(plan_item(plan_id))


@bp.route("/api/plans/<int:plan_id>/apply", methods=["POST"])
@require_roles(*ACT_ROLES)
def plan_apply(plan_id: int):
    """Accept the proposal: every order moves at once, or nothing does (409, conflicts)."""
    session = get_session()
    try:
        plans.apply_plan(session, g.actor, plan_id)
    except Conflict as exc:
        if exc.slug == "plan-stale":
            exc.detail = _("The data changed since this plan was computed; plan again.")
        elif exc.slug == "plan-invalid-times":
            exc.detail = _("The plan has times outside a shift or already past; plan again.")
        elif exc.slug == "nothing-to-apply":
            exc.detail = _("This proposal places no order; there is nothing to accept.")
        raise
    return _json(plan_item(plan_id))


@bp.route("/api/plans/<int:plan_id>/discard", methods=["POST"])
@require_roles(*ACT_ROLES)
def plan_discard(plan_id: int):
    """Throw the proposal away."""
    plans.discard_plan(get_session(), g.actor, plan_id)
    return _json(plan_item(plan_id))
