"""The close-out report as a print-styled page, for the customer's and staff's browsers."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from core.api import current_lang
from core.auth import actor_for, load_current_user
from core.db import get_session
from workorders.closeout import closeout_report

bp = Blueprint("reports_page", __name__)


@bp.route("/orders/<int:order_id>/report")
def closeout_page(order_id: int):
    """The report of a completed order the reader may see (404 otherwise, 409 before completion)."""
    user = load_current_user()
    if user is None:
        return redirect(url_for("web.login"))
    report = closeout_report(get_session(), actor_for(user), order_id, current_lang())
    pdf_url = url_for("reports.closeout_report_pdf", order_id=order_id)
    return render_template("closeout_report.html", user=user, report=report, pdf_url=pdf_url)
