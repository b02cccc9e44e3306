"""The dispatcher's map console: one page and the small JSON feeds it draws from.

Web page, not API: it authenticates with the session cookie, so every POST is
CSRF-checked (the page sends the token in an X-CSRFToken header). Each view
parses, calls a service and answers; what the answers hold is built in
:mod:`console.feeds`, the words in :mod:`console.labels`.

Planning jobs and plan decisions are not here: the page starts a plan, polls
and stops its job, and applies or discards a plan through the staff API
(``/api/v1/dispatch/...``, ``/api/v1/jobs/...``), which takes the same cookie
and token. The console keeps only what the staff API has no view of: the map
feeds, the order panel and its actions, urgent insertion, and a plan shaped
for review.
"""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, g, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError

from console import feeds, labels
from console.disruption_labels import disruption_strings
from core import audit, jobs
from core.api import current_lang
from core.auth import load_current_user, require_roles
from core.clock import now, to_city_aware
from core.db import get_session
from core.errors import Conflict, Invalid, NotFound
from core.schemas import JobSchema
from dispatch import assignment, board, roads
from dispatch.schemas import (
    ConsoleAssignSchema,
    ConsoleCancelSchema,
    ConsoleDaySchema,
    ConsoleLiveSchema,
    ConsoleRoadsSchema,
    ConsoleUnassignSchema,
    ConsoleUrgentSchema,
)
from technicians import service as technicians_service
from workorders import lifecycle
from workorders.models import WorkOrder

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# The page's ES modules, preloaded together (console/static/js).
SCRIPT_MODULES = sorted(p.name for p in (Path(__file__).parent / "static" / "js").glob("*.js"))

VIEW_ROLES = ("dispatcher", "admin", "manager")
ACT_ROLES = ("dispatcher", "admin")
GZIP_ABOVE_BYTES = 2048
URL_ID = 9_876_543_210  # stands for the id in a URL template the page fills in


# ---------------------------------------------------------------- helpers


def _args(schema: Schema, data: Any) -> dict:
    try:
        return schema.load(data or {})
    except ValidationError as exc:
        raise Invalid("Some fields are missing or invalid.", errors=exc.messages) from exc


def _query(schema: Schema) -> dict:
    return _args(schema, request.args.to_dict())


def _body(schema: Schema) -> dict:
    return _args(schema, request.get_json(silent=True))


def _day(args: dict) -> date:
    return args.get("day") or now().date()


def _default(value: Any) -> Any:
    """JSON for what json cannot say: datetimes as ISO text with the city's offset, like the
    APIs ("2026-12-01T09:00:00+08:00": a browser in another zone reads the right moment)."""
    if isinstance(value, datetime):
        return to_city_aware(value).isoformat()
    if isinstance(value, date | time):
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


def _thresholds() -> tuple[int, int]:
    """SLA risk warning margins (restore, response) in seconds."""
    cfg = current_app.config
    return (int(cfg.get("SLA_AT_RISK_MIN", 60)) * 60, int(cfg.get("SLA_RESPONSE_AT_RISK_MIN", 15)) * 60)


def _order(order_id: int) -> WorkOrder:
    order = get_session().get(WorkOrder, order_id)
    if order is None:
        raise NotFound("No such work order.")
    return order


def _order_for_action(order_id: int, version: int | None) -> WorkOrder:
    """The order to change, refused when it changed since the page loaded it."""
    order = _order(order_id)
    if version is not None and version != order.version:
        raise Conflict(
            "The order changed since you loaded it; it has been reloaded.",
            slug="stale-version",
            current_version=order.version,
        )
    return order


def _url_template(endpoint: str, name: str) -> str:
    """``endpoint``'s URL with ``{id}`` where its ``name`` argument goes (the page fills it in)."""
    return url_for(endpoint, **{name: URL_ID}).replace(str(URL_ID), "{id}")


def _page_urls() -> dict[str, str]:
    """Where the page's script sends each request: its own feeds, and the staff API for plans and jobs."""
    return {
        "base": url_for("console.page"),
        "plan_start": url_for("dispatch.start_plan"),
        "plan_apply": _url_template("dispatch.plan_apply", "plan_id"),
        "plan_discard": _url_template("dispatch.plan_discard", "plan_id"),
        "job": _url_template("auth.job_status", "job_id"),
        "job_cancel": _url_template("auth.job_cancel", "job_id"),
        "explain_visit": url_for("dispatch.visit_explain", plan_id=URL_ID, order_id=URL_ID + 1)
        .replace(str(URL_ID + 1), "{order}")
        .replace(str(URL_ID), "{id}"),
        "plan_kpis": _url_template("dispatch.plan_kpis", "plan_id"),
        "disruptions": url_for("disruptions.technician_unavailable").rsplit("/", 1)[0],
        "disruption": _url_template("disruptions.disruption_detail", "plan_id"),
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
        # the city's offset from UTC: the browser's clock read as the city's, whatever its own zone
        "utc_offset_min": int(to_city_aware(now()).utcoffset().total_seconds() // 60),
        "lang": lang,
        "can_act": user.role in ACT_ROLES,
        "tile_url": cfg.get("TILE_URL") or "",
        "tile_attribution": cfg.get("TILE_ATTRIBUTION") or "",
        "refresh_s": int(cfg.get("CONSOLE_REFRESH_S", 15)),
        "road_routes": bool(cfg.get("ROAD_ROUTER_URL")),
        "open_states": [s for s in lifecycle.STATES if s in lifecycle.OPEN_STATES],
        "labels": labels.code_labels(lang),
        "strings": {**labels.page_strings(), **disruption_strings()},
        "urls": _page_urls(),
    }
    return render_template(
        "console/console.html", user=user, settings=settings, script_modules=SCRIPT_MODULES
    )


# ---------------------------------------------------------------- feeds for the map


@bp.route("/api/orders")
@require_roles(*VIEW_ROLES)
def orders_feed():
    """Open orders on the day's board, as GeoJSON."""
    day = _day(_query(ConsoleDaySchema()))
    at, thresholds = now(), _thresholds()
    rows = board.board_orders(get_session(), day)
    features = [feeds.order_feature(row, at, thresholds) for row in rows]
    return _json({"type": "FeatureCollection", "day": day, "generated_at": at, "features": features})


@bp.route("/api/technicians")
@require_roles(*VIEW_ROLES)
def technicians_feed():
    """Active technicians at their last reported position (else their home base)."""
    techs = technicians_service.active_technicians(get_session())
    return _json({"technicians": [feeds.technician_item(t) for t in techs]})


@bp.route("/api/routes")
@require_roles(*VIEW_ROLES)
def routes_feed():
    """Every technician's stops for the day with times for the timeline."""
    day = _day(_query(ConsoleDaySchema()))
    return _json({"day": day, "routes": feeds.route_items(board.day_routes(get_session(), day))})


@bp.route("/api/roads")
@require_roles(*VIEW_ROLES)
def roads_feed():
    """One technician's way through their stops and back home along the roads (the configured
    road router, asked by the server and cached); ``source: straight`` when there is none."""
    args = _query(ConsoleRoadsSchema())
    order_ids = [int(i) for i in args["orders"].split(",")]
    return _json(roads.route_geometry(get_session(), args["technician_id"], order_ids))


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
    changed: list[dict] = []
    gone: list[int] = []
    techs: list[dict] = []
    if since is not None:
        margin = since - timedelta(seconds=1)  # a second of overlap: updated_at has whole seconds
        rows, gone = board.board_changes(session, day, margin)
        changed = [feeds.order_feature(row, at, thresholds) for row in rows]
        techs = feeds.technicians_seen_since(session, margin)
    risk = feeds.risky_orders(session, at, thresholds)
    return _json({"now": at, "orders": changed, "gone": gone, "technicians": techs, "risk": risk})


# ---------------------------------------------------------------- one order


@bp.route("/api/orders/<int:order_id>")
@require_roles(*VIEW_ROLES)
def order_detail(order_id: int):
    """One order for the side panel; the read of customer data is audited."""
    session = get_session()
    order = _order(order_id)
    panel = feeds.order_panel(session, order, g.actor.role, current_lang(), now(), _thresholds())
    after = {"order_id": order.id, "via": "console"}
    audit.record(session, g.actor, "read_personal", "customer", order.customer_id, after=after)
    return _json(panel)


@bp.route("/api/orders/<int:order_id>/candidates")
@require_roles(*VIEW_ROLES)
def order_candidates(order_id: int):
    """Who could take the order today, best first, with the figures to choose by."""
    day = _day(_query(ConsoleDaySchema()))
    order = _order(order_id)
    return _json({"order_id": order.id, "candidates": feeds.candidate_items(get_session(), order, day)})


@bp.route("/api/orders/<int:order_id>/assign", methods=["POST"])
@require_roles(*ACT_ROLES)
def order_assign(order_id: int):
    """Assign or move the order to a technician, slotted into their route."""
    args = _body(ConsoleAssignSchema())
    session = get_session()
    order = _order_for_action(order_id, args["version"])
    assignment.assign_order(session, g.actor, order, args["technician_id"], _day(args))
    return _json(feeds.action_result(session, order, now(), _thresholds()))


@bp.route("/api/orders/<int:order_id>/unassign", methods=["POST"])
@require_roles(*ACT_ROLES)
def order_unassign(order_id: int):
    """Take the order back from its technician."""
    args = _body(ConsoleUnassignSchema())
    session = get_session()
    order = _order_for_action(order_id, args["version"])
    assignment.unassign_order(session, g.actor, order, _day(args), args.get("reason"))
    return _json(feeds.action_result(session, order, now(), _thresholds()))


@bp.route("/api/orders/<int:order_id>/cancel", methods=["POST"])
@require_roles(*ACT_ROLES)
def order_cancel(order_id: int):
    """Cancel the order with a reason."""
    args = _body(ConsoleCancelSchema())
    session = get_session()
    order = _order_for_action(order_id, args["version"])
    assignment.cancel_order(session, g.actor, order, _day(args), args["reason"])
    return _json(feeds.action_result(session, order, now(), _thresholds()))


# ---------------------------------------------------------------- urgent insertion and plan review


@bp.route("/api/urgent", methods=["POST"])
@require_roles(*ACT_ROLES)
def urgent_start():
    """Start inserting one urgent order into the applied day (a job, polled like planning
    at ``/api/v1/jobs/{id}``).

    The order is checked here as well as in the job, so a wrong pick is refused at
    once (409) rather than as a failed job.
    """
    args = _body(ConsoleUrgentSchema())
    session = get_session()
    order = _order(args["order_id"])
    at = now()
    if not lifecycle.is_urgent(order, at):
        raise Conflict(
            "Only P1 faults and orders due for a response within the hour are inserted "
            "urgently; plan the day for %(code)s.",
            slug="not-urgent",
            params={"code": order.code},
        )
    if not lifecycle.can_insert_urgently(order, at):
        raise Conflict(
            "Only an unassigned, unblocked order can be inserted; %(code)s cannot.",
            slug="not-insertable",
            params={"code": order.code},
            current_state=order.state,
        )
    params = {"day": _day(args).isoformat(), "order_id": order.id, "time_limit_s": args["time_limit_s"]}
    job = jobs.enqueue(session, "insert_urgent", params, g.actor.user_id, background=True)
    return _json(JobSchema().dump(job), 202)  # as the staff API answers for a job


@bp.route("/api/plans/<int:plan_id>")
@require_roles(*VIEW_ROLES)
def plan_detail(plan_id: int):
    """A computed plan shaped for review on the map, the timeline and the panel.

    The staff API's ``/api/v1/dispatch/plans/{id}`` gives the stored plan as the
    optimizer wrote it (visit ids and seconds); the review needs each stop's order
    code, priority and place, the left-out orders' reasons in words, the orders an
    urgent insertion displaces or delays, and whether it can be accepted. It reads
    the plan through the same service (``dispatch.plans.get_plan``); accepting and
    discarding go to the staff API.
    """
    return _json(feeds.plan_review(get_session(), plan_id))
