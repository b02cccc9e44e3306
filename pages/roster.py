"""The roster week page (``/roster``, routes on the ``web`` blueprint): a team's week
with each technician's effective shift per day, leave and other exceptions, on-call
duty and certificates expiring within 30 days; editors add leave or an exception
from a form. Everything goes through the technicians package's roster services."""

from __future__ import annotations

from datetime import date, timedelta

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from marshmallow import ValidationError

from core.auth import load_current_user, require_roles
from core.clock import now
from core.db import get_session
from core.errors import DomainError
from pages.views import bp
from technicians import roster_service
from technicians.roster import EXCEPTION_KINDS
from technicians.roster_schemas import ExceptionCreateSchema
from technicians.roster_week import week_start, week_view

VIEW_ROLES = ("agent", "dispatcher", "manager", "admin")
EDIT_ROLES = frozenset({"dispatcher", "manager", "admin"})


def _int_arg(name: str) -> int | None:
    value = request.values.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _week_arg() -> date:
    try:
        asked = date.fromisoformat(request.values.get("week", ""))
    except ValueError:
        asked = now().date()
    if not date(2000, 1, 1) <= asked <= date(2100, 12, 31):  # the roster's days (no overflow)
        asked = now().date()
    return week_start(asked)


@bp.route("/roster", methods=["GET"])
def roster_page():
    """The week of one team (or everyone)."""
    user = load_current_user()
    if user is None:
        return redirect(url_for("web.login"))
    return _render(user)


@require_roles(*VIEW_ROLES)
def _render(user, error: str | None = None, status: int = 200, saved: bool = False):
    session = get_session()
    team_id = _int_arg("team")
    teams = roster_service.list_teams(session)
    if team_id is not None and team_id not in {t.id for t in teams}:
        team_id = None
    first = _week_arg()
    page = render_template(
        "roster.html",
        user=user,
        teams=teams,
        team_id=team_id,
        week=week_view(session, team_id, first, now().date()),
        previous_week=first - timedelta(days=7),
        next_week=first + timedelta(days=7),
        kinds=EXCEPTION_KINDS,
        can_edit=user.role in EDIT_ROLES,
        error=error,
        saved=saved,
    )
    return page, status


@bp.route("/roster/exceptions", methods=["POST"])
@require_roles(*EDIT_ROLES)
def roster_exception():
    """Add leave, sick, training or overtime from the page's form; the week again."""
    user = load_current_user()
    session = get_session()
    form = {key: value for key, value in request.form.items() if key != "csrf_token" and value != ""}
    form.pop("team", None)
    form.pop("week", None)
    try:
        data = ExceptionCreateSchema().load(form)
        roster_service.add_exception(session, g.actor, data)
    except ValidationError:
        return _render(user, error=_("Check the technician, day, kind and times."), status=422)
    except DomainError as exc:
        session.rollback()
        return _render(user, error=exc.translated(), status=exc.status)
    return _render(user, saved=True)
