"""The managers' reports as JSON and files: /api/v1/reports/figures, /orders (the drill-down)
and /export (CSV or XLSX). Thin: parse the filters, call the report, answer."""

from __future__ import annotations

from flask import send_file, url_for
from marshmallow import RAISE

from core.api import BEARER, Blueprint
from core.auth import require_roles
from core.db import get_session
from reports import export, figures, orders, utilisation
from reports.schemas import (
    DrillDownQuerySchema,
    DrillDownSchema,
    DurationsSchema,
    ExportQuerySchema,
    ReportQuerySchema,
    ReportSchema,
    UtilisationExportQuerySchema,
    UtilisationQuerySchema,
    UtilisationSchema,
)

blp = Blueprint(
    "manager_reports",
    __name__,
    url_prefix="/api/v1/reports",
    description="Managers' reports: fix times, SLA compliance, first-time fix, repeat faults, follow-ups",
)
READERS = ("manager", "admin", "dispatcher")


@blp.route("/figures")
@require_roles(*READERS)
@blp.arguments(ReportQuerySchema, location="query", unknown=RAISE)
@blp.response(200, ReportSchema)
@blp.doc(security=BEARER)
def report_figures(args):
    """Every figure over the range, one row per group (with `group_by`) and the totals.

    Orders count in the range they were received in (city dates, `to` exclusive); open orders
    are judged at the range's end or now, whichever is sooner. Durations are in seconds; the
    restore and install times leave out the customer-caused pauses of the SLA clock.
    """
    return figures.report(get_session(), args["filter"])


@blp.route("/orders")
@require_roles(*READERS)
@blp.arguments(DrillDownQuerySchema, location="query", unknown=RAISE)
@blp.response(200, DrillDownSchema)
@blp.doc(security=BEARER)
def report_orders(args):
    """The orders behind a figure (the same filters, `figure`, and `group` for one row), with
    links to each order."""
    session, f = get_session(), args["filter"]
    figure, group = args["figure"], args.get("group")
    page = orders.list_orders(session, f, figure, group, limit=args["limit"], offset=args["offset"])
    for row in page:
        row["links"] = {
            "api": url_for("workorders.order_detail", order_id=row["id"]),
            "page": url_for("reports_page.closeout_page", order_id=row["id"]),
        }
    return {
        "figure": figure,
        "total": orders.count_orders(session, f, figure, group),
        "limit": args["limit"],
        "offset": args["offset"],
        "orders": page,
    }


@blp.route("/export")
@require_roles(*READERS)
@blp.arguments(ExportQuerySchema, location="query", unknown=RAISE)
@blp.response(200, content_type="text/csv")
@blp.alt_response(200, content_type=export.FORMATS["xlsx"], description="format=xlsx", success=True)
@blp.doc(security=BEARER)
def report_export(args):
    """A table as a file: `table=figures` (one row per group, then the totals) or `table=orders`
    (every order behind `figure`), in `format` csv or xlsx, with the filters applied."""
    session, f, fmt = get_session(), args["filter"], args["format"]
    if args["table"] == "figures":
        found = figures.report(session, f)
        rows = [*found["rows"], {"group": "total", "label": "total", **found["totals"]}]
        columns, values = export.figure_columns(rows), export.figure_rows(rows)
    else:
        columns = list(orders.COLUMNS)
        values = orders.stream_orders(session, f, args["figure"], args.get("group"))
    out = export.write(fmt, args["table"], columns, values)
    name = f"report-{args['table']}-{f.date_from.isoformat()}-{f.date_to.isoformat()}.{fmt}"
    return send_file(out, mimetype=export.FORMATS[fmt], as_attachment=True, download_name=name)


@blp.route("/utilisation")
@require_roles(*READERS)
@blp.arguments(UtilisationQuerySchema, location="query", unknown=RAISE)
@blp.response(200, UtilisationSchema)
@blp.doc(security=BEARER)
def report_utilisation(args):
    """Each technician's work, travel, waiting and idle time, planned (the applied dispatch plans)
    and actual (the recorded status changes), per `period`, within the shift less lunch.

    Takes the range, `technician_id` and `district` (the technician's); the other filters are on
    orders and leave a technician's day whole. Times are in seconds.
    """
    return utilisation.utilisation(get_session(), args["filter"], args["period"])


@blp.route("/durations")
@require_roles(*READERS)
@blp.arguments(ReportQuerySchema, location="query", unknown=RAISE)
@blp.response(200, DurationsSchema)
@blp.doc(security=BEARER)
def report_durations(args):
    """Planned against actual on-site time by product (installs and repairs received in the range
    and completed; pauses on site left out), flagged where the duration table is wrong."""
    return utilisation.on_site_by_product(get_session(), args["filter"])


@blp.route("/utilisation/export")
@require_roles(*READERS)
@blp.arguments(UtilisationExportQuerySchema, location="query", unknown=RAISE)
@blp.response(200, content_type="text/csv")
@blp.alt_response(200, content_type=export.FORMATS["xlsx"], description="format=xlsx", success=True)
@blp.doc(security=BEARER)
def report_utilisation_export(args):
    """`table=utilisation` (one row per technician and period, then the totals) or
    `table=durations` (on-site time by product) as a CSV or XLSX file."""
    session, f, fmt, table = get_session(), args["filter"], args["format"], args["table"]
    if table == "utilisation":
        columns = list(utilisation.UTILISATION_COLUMNS)
        values = utilisation.utilisation_table(utilisation.utilisation(session, f, args["period"]))
    else:
        columns = list(utilisation.DURATION_COLUMNS)
        values = utilisation.durations_table(utilisation.on_site_by_product(session, f))
    out = export.write(fmt, table, columns, values)
    name = f"report-{table}-{f.date_from.isoformat()}-{f.date_to.isoformat()}.{fmt}"
    return send_file(out, mimetype=export.FORMATS[fmt], as_attachment=True, download_name=name)
