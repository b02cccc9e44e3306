"""The close-out report as a PDF download (staff API, bearer token or the page's session)."""

from __future__ import annotations

from pathlib import Path

from flask import Response, current_app, g

from core.api import BEARER, Blueprint, current_lang
from core.auth import require_roles
from core.db import get_session
from workorders import evidence
from workorders.closeout import closeout_report
from workorders.closeout_pdf import DEFAULT_FONT, DEFAULT_FONT_INDEX, render_pdf
from workorders.lifecycle import STAFF

blp = Blueprint("reports", __name__, url_prefix="/api/v1", description="Close-out reports")
READERS = (*sorted(STAFF), "customer")


def closeout_pdf_response(order_id: int) -> Response:
    """The report of ``order_id`` for the current actor, as a PDF attachment."""
    report = closeout_report(get_session(), g.actor, order_id, current_lang())
    photo_dir = current_app.config["PHOTO_DIR"]
    body = render_pdf(
        report,
        lambda stored: _photo_path(photo_dir, stored),
        current_app.config.get("REPORT_FONT") or DEFAULT_FONT,
        int(current_app.config.get("REPORT_FONT_INDEX") or DEFAULT_FONT_INDEX),
    )
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{report.code}.pdf"'
    return response


def _photo_path(photo_dir: str, stored: str) -> Path:
    try:
        return evidence.absolute_path(photo_dir, stored)
    except ValueError:
        return Path("/nonexistent")


@blp.route("/workorders/<int:order_id>/report.pdf")
@require_roles(*READERS)
@blp.doc(
    security=BEARER,
    responses={"200": {"description": "The close-out report (PDF)", "content": {"application/pdf": {}}}},
)
def closeout_report_pdf(order_id: int):
    """The close-out report of a completed order: times against the promise, checklist
    results and measurements with their limits, technician and photos (409 before completion)."""
    return closeout_pdf_response(order_id)
