"""The follow-up (回访) queue for hotline agents and their supervisors (routes on the ``web``
blueprint): open tasks overdue, due today and later, filterable by customer and method,
each with the customer, their phone, the order followed up and a one-click result form
(reached or not, service working, score 1 to 5, comment). Results go through
:mod:`workorders.followups` like the API's; a repeat repair opened is named with a link.
Forms are CSRF-protected; refusals are shown on the page in the reader's language.
"""

from __future__ import annotations

from typing import Any

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from core.api import current_lang
from core.auth import load_current_user, require_roles
from core.clock import now
from core.db import get_session
from core.errors import DomainError
from pages.views import bp
from workorders import followups
from workorders.lifecycle import STAFF
from workorders.models import Customer

QUEUE_ROLES = tuple(sorted(STAFF))
# Roles that may open an order on the map console (console.views.VIEW_ROLES).
CONSOLE_ROLES = frozenset({"dispatcher", "manager", "admin"})
RECENT_LIMIT = 20


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _filters() -> dict[str, Any]:
    """The page's filters from the query string; anything malformed is ignored."""
    method = request.args.get("method")
    return {
        "customer_id": _int_arg("customer"),
        "method": method if method in followups.METHODS else None,
    }


def _yes_no(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


OUTCOMES = ("reached", "not_reached")


def _posted_result() -> dict[str, Any]:
    """The row form's answer: the button pressed says reached or not."""
    score = request.form.get("satisfaction", "")
    comment = (request.form.get("comment") or "").strip()
    return {
        "reached": request.form.get("outcome") == "reached",
        "service_working": _yes_no(request.form.get("service_working")),
        "satisfaction": int(score) if score.isdigit() and len(score) == 1 else None,
        "comment": comment[:2000] or None,
    }


def _queue(session, filters: dict[str, Any]) -> dict[str, list[dict]]:
    at, lang = now(), current_lang()
    sections = {}
    for due in followups.DUE_SECTIONS:
        tasks = followups.list_followups(session, {**filters, "due": due}, at)
        sections[due] = tasks
    closed = [
        task
        for state in (followups.DONE, followups.UNREACHED)
        for task in followups.list_followups(session, {**filters, "state": state, "limit": 500}, at)
        if task.completed_at is not None and task.completed_at.date() == at.date()
    ]
    closed.sort(key=lambda task: task.completed_at, reverse=True)
    sections["closed"] = closed[:RECENT_LIMIT]
    followups.record_reads(
        session, g.actor, [t for tasks in sections.values() for t in tasks], "followup_page"
    )
    return {name: [followups.followup_view(t, lang, at) for t in tasks] for name, tasks in sections.items()}


@bp.route("/followups", methods=["GET"])
def followup_queue():
    """The queue: overdue, due today, later; and what was recorded today."""
    user = load_current_user()
    if user is None:
        return redirect(url_for("web.login"))
    return _render(user)


@require_roles(*QUEUE_ROLES)
def _render(user, error: str | None = None, status: int = 200, recorded: dict | None = None):
    session = get_session()
    filters = _filters()
    customers = list(session.scalars(select(Customer).order_by(Customer.name).limit(500)))
    page = render_template(
        "followups.html",
        user=user,
        sections=_queue(session, filters),
        filters=filters,
        customers=customers,
        error=error,
        recorded=recorded,
        console_link=user.role in CONSOLE_ROLES,
    )
    return page, status


@bp.route("/followups/<int:followup_id>/result", methods=["POST"])
@require_roles(*QUEUE_ROLES)
def followup_record(followup_id: int):
    """Record one row's result; the queue again, saying what was recorded."""
    user = load_current_user()
    session = get_session()
    task = followups.get_followup(session, followup_id)
    if request.form.get("outcome") not in OUTCOMES:
        return _render(user, error=_("Say whether the customer was reached."), status=422)
    try:
        followups.record_result(session, g.actor, task, _posted_result())
    except DomainError as exc:
        session.rollback()  # the page is shown again as it stood
        return _render(user, error=exc.translated(), status=exc.status)
    view = followups.followup_view(task, current_lang(), now())
    return _render(user, recorded=view, status=200)


def recorded_message(view: dict[str, Any]) -> str:
    """What the page says after a result: the outcome in words."""
    if view["state"] == followups.UNREACHED:
        return _("Not reached %(n)s times: the follow-up is closed as unreached.", n=view["attempts"])
    if view["state"] == followups.OPEN:
        return _("Not reached: try again at %(time)s.", time=view["due_at"].strftime("%m-%d %H:%M"))
    if view["repeat_order_code"]:
        return _(
            "Recorded. A repeat repair %(code)s (%(priority)s) was opened.",
            code=view["repeat_order_code"],
            priority=view["repeat_order_priority"],
        )
    return _("Recorded. The customer is satisfied.")


bp.add_app_template_global(recorded_message, "followup_recorded_message")
