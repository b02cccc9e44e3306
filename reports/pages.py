"""The manager's report page (where a manager lands after logging in) and the page listing the
orders behind a number. Server-rendered, charts as SVG (reports.charts), Chinese by default.

Every number links to its orders (``/reports/orders``), every order to itself; the export
buttons call the JSON API's export with the same filters (the session cookie logs them in).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from core.auth import load_current_user
from core.db import get_session
from core.messages import N_
from core.security import CSP, csp_nonce
from reports import charts, figures, maps, orders, places, utilisation
from reports.filters import ReportFilter
from reports.schemas import DrillDownQuerySchema, ReportQuerySchema
from workorders import labels

bp = Blueprint("manager_page", __name__)
READERS = ("manager", "admin", "dispatcher")
PAGE_SIZE = 200
# group_by -> the labels group naming its codes (the others show as they are)
LABELLED = {"product": "product", "kind": "kind", "priority": "priority", "tier": "tier", "channel": "source"}
# What each drill-down lists (the page's title).
FIGURE_TITLES = {
    "received": N_("Orders received"),
    "completed": N_("Orders completed"),
    "cancelled": N_("Orders cancelled"),
    "response_met": N_("Answered in time"),
    "response_breached": N_("Response deadline missed"),
    "restore_met": N_("Restored in time"),
    "restore_breached": N_("Restore deadline missed"),
    "completed_work": N_("Installs and repairs completed"),
    "first_time_fix": N_("Fixed on the first visit"),
    "not_first_time_fix": N_("Needed another visit"),
    "completed_repairs": N_("Repairs completed"),
    "repeated": N_("Faults back within 30 days"),
    "flagged_repeat": N_("Repairs opened as repeat faults"),
    "complaints": N_("Complaints"),
    "complaint_answer_met": N_("Complaints answered in time"),
    "complaint_answer_breached": N_("Complaints answered late"),
    "complaint_handling_met": N_("Complaints handled in time"),
    "complaint_handling_breached": N_("Complaints handled late"),
    "complaint_final_met": N_("Complaints closed in time"),
    "complaint_final_breached": N_("Complaints closed late"),
    "followups": N_("Follow-ups"),
    "followup_on_time": N_("Follow-ups done in time"),
    "followup_late": N_("Follow-ups done late"),
    "followup_overdue": N_("Follow-ups overdue"),
    "rated": N_("Follow-ups with a rating"),
    "satisfied": N_("Satisfied customers (4 or 5)"),
    "backlog": N_("Open at the end of the range"),
    "backlog_under_1d": N_("Open for under a day"),
    "backlog_1_to_3d": N_("Open for 1 to 3 days"),
    "backlog_3_to_7d": N_("Open for 3 to 7 days"),
    "backlog_7_to_30d": N_("Open for 7 to 30 days"),
    "backlog_over_30d": N_("Open for over 30 days"),
}
FILTER_ARGS = ("district", "product", "kind", "priority", "tier", "channel", "technician_id")


def _reader():
    user = load_current_user()
    if user is None:
        return None, redirect(url_for("web.login", next=request.full_path))
    if user.role not in READERS:
        return user, (render_template("reports_forbidden.html", user=user), 403)
    return user, None


def _parse(schema_cls, default_group: str | None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The query's filters, or the defaults with the errors to show (a page never answers 422)."""
    raw = {k: v for k, v in request.args.items() if v != "" and k != "lang"}
    if default_group:
        raw.setdefault("group_by", default_group)
    try:
        return schema_cls().load(raw), {}
    except ValidationError as exc:
        errors = exc.normalized_messages()
        kept = {k: v for k, v in raw.items() if k not in errors}
        try:
            return schema_cls().load(kept), errors
        except ValidationError:
            return schema_cls().load({}), errors


def _query(f: ReportFilter) -> dict[str, Any]:
    """The filter as URL arguments (for links and the export)."""
    found: dict[str, Any] = {"from": f.date_from.isoformat(), "to": f.date_to.isoformat()}
    if f.group_by:
        found["group_by"] = f.group_by
    for name in FILTER_ARGS:
        if getattr(f, name) is not None:
            found[name] = getattr(f, name)
    return found


def _group_name(group_by: str | None, row: dict[str, Any]) -> str:
    if row["group"] is None:
        return _("(none)")
    if group_by in LABELLED:
        return labels.label(LABELLED[group_by], row["group"])
    return str(row["label"])


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def _drill(query: dict[str, Any], figure: str, group: str | None = None) -> str:
    args = {**query, "figure": figure}
    if group is not None:
        args["group"] = group
    return url_for("manager_page.orders_page", **args)


@bp.route("/reports")
def page():
    """Filters, key figures, the charts, the grouped table with drill-down links, the exports."""
    user, refused = _reader()
    if refused:
        return refused
    args, errors = _parse(ReportQuerySchema, "district")
    f: ReportFilter = args["filter"]
    session = get_session()
    main = figures.report(session, f)
    query = _query(f)
    for row in main["rows"]:
        row["name"] = _group_name(f.group_by, row)
        row["drill_group"] = orders.NULL_GROUP if row["group"] is None else row["group"]
    return render_template(
        "reports.html",
        user=user,
        f=f,
        query=query,
        errors=errors,
        report=main,
        charts=_charts(session, f, main, query),
        util=_utilisation_section(session, f, query),
        drill=_drill,
        hours=_hours,
        options=_options(),
        exports={
            fmt: url_for("manager_reports.report_export", **query, table="figures", format=fmt)
            for fmt in ("csv", "xlsx")
        },
    )


def _charts(session, f: ReportFilter, main: dict[str, Any], query: dict[str, Any]) -> list[charts.Chart]:
    """The five charts: restore-time distribution, SLA compliance by week, restore breaches by
    district and by product, technicians' median restore time, backlog by age."""
    by = {
        dim: main
        if f.group_by == dim
        else figures.report(session, replace(f, group_by=dim), with_totals=False)
        for dim in ("week", "district", "product", "technician")
    }
    bins = figures.restore_distribution(session, f)
    weeks = by["week"]["rows"]
    backlog = main["totals"]["backlog"]

    def breaches(dim: str) -> list[tuple[str, float | None, str | None]]:
        return [
            (
                _group_name(dim, row),
                row["restore"]["breached"],
                _drill({**query, "group_by": dim}, "restore_breached", row["group"] or orders.NULL_GROUP),
            )
            for row in by[dim]["rows"]
            if row["received"]
        ]

    return [
        charts.columns(
            _("Time to restore (hours, customer pauses left out)"),
            [f"{b['from_h']}–{b['to_h']}" if b["to_h"] else f"≥{b['from_h']}" for b in bins],
            [[b["repairs"] for b in bins]],
        ),
        charts.columns(
            _("SLA compliance by week (%)"),
            [row["group"][5:] for row in weeks if row["received"]],
            [
                [row["response"]["compliance_pct"] for row in weeks if row["received"]],
                [row["restore"]["compliance_pct"] for row in weeks if row["received"]],
            ],
            series_names=[_("Response"), _("Restore")],
            top=100,
        ),
        charts.rows(_("Restore breaches by district"), breaches("district")),
        charts.rows(_("Restore breaches by product"), breaches("product")),
        charts.rows(
            _("Median time to restore by technician (hours)"),
            [
                (
                    _group_name("technician", row),
                    _hours(row["restore"]["median_s"]),
                    _drill({**query, "group_by": "technician"}, "completed_repairs", row["group"]),
                )
                for row in by["technician"]["rows"]
                if row["group"] is not None and row["restore"]["n"]
            ],
        ),
        charts.columns(
            _("Backlog by age at the end of the range"),
            [_("under 1 day"), _("1–3 days"), _("3–7 days"), _("7–30 days"), _("over 30 days")],
            [[backlog[k] for k in ("under_1d", "1_to_3d", "3_to_7d", "7_to_30d", "over_30d")]],
        ),
    ]


def _options() -> dict[str, dict[str, str]]:
    """The filter form's choices with their labels in the page's language."""
    return {
        "group_by": {
            "district": _("District"),
            "product": _("Product"),
            "kind": _("Kind"),
            "priority": _("Priority"),
            "tier": _("Enterprise tier"),
            "channel": _("Channel"),
            "technician": _("Technician"),
            "day": _("Day"),
            "week": _("Week"),
            "month": _("Month"),
        },
        "product": labels.labels("product"),
        "kind": labels.labels("kind"),
        "priority": labels.labels("priority"),
        "tier": labels.labels("tier"),
        "channel": labels.labels("source"),
    }


@bp.route("/reports/orders")
def orders_page():
    """The orders behind one number of the report page, each linked to the order."""
    user, refused = _reader()
    if refused:
        return refused
    args, errors = _parse(DrillDownQuerySchema, None)
    f: ReportFilter = args["filter"]
    session = get_session()
    figure, group = args["figure"], args.get("group")
    offset = args["offset"]
    found = orders.list_orders(session, f, figure, group, limit=PAGE_SIZE, offset=offset)
    total = orders.count_orders(session, f, figure, group)
    for row in found:
        row["links"] = {
            "api": url_for("workorders.order_detail", order_id=row["id"]),
            "page": url_for("reports_page.closeout_page", order_id=row["id"])
            if row["completed_at"]
            else None,
        }
    query = _query(f)
    drill_args = {**query, "figure": figure, **({"group": group} if group is not None else {})}
    return render_template(
        "reports_orders.html",
        user=user,
        f=f,
        figure=figure,
        title=_(FIGURE_TITLES[figure]),
        group=group,
        errors=errors,
        orders=found,
        total=total,
        offset=offset,
        page_size=PAGE_SIZE,
        back=url_for("manager_page.page", **query),
        page_url=lambda at: url_for("manager_page.orders_page", **drill_args, offset=at),
        exports={
            fmt: url_for("manager_reports.report_export", **drill_args, table="orders", format=fmt)
            for fmt in ("csv", "xlsx")
        },
    )


# ------------------------------------------------------------ utilisation, durations, clocks


def _utilisation_section(session, f: ReportFilter, query: dict[str, Any]) -> dict[str, Any]:
    """The technicians' time (planned and actual, one row per technician over the range), the
    technician comparison chart, on-site time by product with its chart, and the exports."""
    used = utilisation.utilisation(session, f)
    durations = utilisation.on_site_by_product(session, f)
    for row in durations["rows"]:
        row["name"] = labels.label("product", row["product"])
    by_technician = {**query, "group_by": "technician"}
    comparison = charts.stacked_rows(
        _("Technician comparison: actual hours"),
        [
            (
                row["technician"],
                [_hours(row["actual"][k]) for k in ("work_s", "travel_s", "waiting_s", "idle_s")],
                _drill(by_technician, "completed_work", str(row["technician_id"])),
            )
            for row in used["rows"]
        ],
        [_("Work"), _("Travel"), _("Waiting"), _("Idle")],
    )
    minutes = [
        [None if r[k] is None else round(r[k] / 60) for r in durations["rows"]]
        for k in ("planned_median_s", "actual_median_s")
    ]
    on_site = charts.columns(
        _("Median on-site time by product (minutes)"),
        [f"⚠ {r['name']}" if r["flag"] else r["name"] for r in durations["rows"]],
        minutes,
        series_names=[_("Planned"), _("Actual")],
    )
    exports = {
        (table, fmt): url_for("manager_reports.report_utilisation_export", **query, table=table, format=fmt)
        for table in ("utilisation", "durations")
        for fmt in ("csv", "xlsx")
    }
    exports[("utilisation", "csv-day")] = url_for(
        "manager_reports.report_utilisation_export", **query, table="utilisation", format="csv", period="day"
    )
    return {
        "used": used,
        "durations": durations,
        "charts": [comparison, on_site],
        "exports": exports,
        "by_technician": by_technician,
        "flags": {"longer": _("Planned too short"), "shorter": _("Planned too long")},
    }


# ---- the fault maps (issue 15: "maps where place matters") ----


def _fault_map(f: ReportFilter):
    """The folium map of faults for ``f`` and the asset mapping it was built with."""
    content = places.places(get_session(), f, current_app.config.get("DISTRICT_CENTRES"))
    last_day = f.date_to - timedelta(days=1)
    caption = _(maps.TEXTS["range"]) % {"start": f.date_from.isoformat(), "end": last_day.isoformat()}

    def asset_url(path: str) -> str:
        return url_for("static", filename=path)

    fmap = maps.build(
        maps.MapContent(caption=caption, **content),
        translate=_,
        asset_url=asset_url,
        tile_url=current_app.config.get("TILE_URL") or "",
        tile_attribution=current_app.config.get("TILE_ATTRIBUTION") or "",
    )
    return fmap, asset_url


def _map_answer(html: str, download_name: str | None = None) -> Response:
    """The map page with its own CSP: its inline scripts by nonce, framed by our own pages only."""
    response = Response(html, mimetype="text/html")
    tiles = urlsplit(current_app.config.get("TILE_URL") or "")
    tile_origin = f" {tiles.scheme}://{tiles.netloc}" if tiles.scheme and tiles.netloc else ""
    response.headers["Content-Security-Policy"] = CSP.format(nonce=csp_nonce(), tiles=tile_origin).replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    if download_name:
        response.headers["Content-Disposition"] = f'attachment; filename="{download_name}"'
    return response


@bp.route("/reports/map")
def map_frame():
    """The fault maps for the report page's frame (assets from /static)."""
    _user, refused = _reader()
    if refused:
        return refused
    args, _errors = _parse(ReportQuerySchema, None)
    fmap, _asset_url = _fault_map(args["filter"])
    return _map_answer(maps.linked(fmap, csp_nonce()))


@bp.route("/reports/map.html")
def map_file():
    """The fault maps as one self-contained HTML file (every asset inlined), to take to a
    meeting with no network; ``download=1`` sends it as an attachment."""
    _user, refused = _reader()
    if refused:
        return refused
    args, _errors = _parse(ReportQuerySchema, None)
    f: ReportFilter = args["filter"]
    fmap, asset_url = _fault_map(f)
    html = maps.inlined(fmap, Path(current_app.static_folder), asset_url, csp_nonce())
    name = f"fault-map_{f.date_from.isoformat()}_{f.date_to.isoformat()}.html"
    return _map_answer(html, name if request.args.get("download") == "1" else None)
