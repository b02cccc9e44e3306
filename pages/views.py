"""Web pages: login with a session cookie (CSRF-protected), staff home; a customer's home is
the portal (:mod:`pages.portal`).

Dispatchers are sent on to the map console (`console.views`), hotline agents to the
intake page (`pages.intake`). Pages show
labels, never codes (:mod:`workorders.labels`), and times to a deadline as
people say them ("剩余 1小时58分", "1 h 58 min left").
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from core import audit
from core.api import current_lang
from core.auth import actor_for, authenticate, end_web_session, load_current_user, start_web_session
from core.clock import now
from core.db import get_session
from core.i18n import time_left
from core.throttle import TooManyAttempts, login_door
from core.unit_of_work import keep_on_refusal
from pages.portal import render_portal
from workorders import labels
from workorders import service as wo_service
from workorders.lifecycle import is_open

bp = Blueprint("web", __name__)


@bp.app_template_global("code_label")
def code_label(group: str, code: str | None) -> str:
    """``{{ code_label('role', user.role) }}``: a code's label in the page's language."""
    return labels.label(group, code)


@bp.app_template_global("time_to")
def time_to(deadline: datetime | None) -> str:
    """``{{ time_to(deadline) }}``: how long until ``deadline``, or how long past it."""
    return "" if deadline is None else time_left((deadline - now()).total_seconds())


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200)])


@bp.route("/login", methods=["GET", "POST"])
@login_door
def login():
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        db = get_session()
        user = authenticate(db, form.username.data, form.password.data)
        if user is None:
            keep_on_refusal()  # the failure's audit event
            error = _("Wrong username or password.")
        else:
            lang = session.get("lang")
            session.clear()
            session["user_id"] = user.id
            session["sid"] = start_web_session(db, user)
            if lang:
                session["lang"] = lang
            audit.record(db, actor_for(user), "login_web", "user", user.id)
            return redirect(url_for("web.home"))
    elif request.method == "POST":
        error = _("Please fill in both fields.")
    return render_template("login.html", form=form, error=error), 400 if error else 200


@bp.errorhandler(TooManyAttempts)
def _locked_out(exc: TooManyAttempts):
    """The login page again, saying why, instead of a bare 429."""
    error = exc.translated()
    return (
        render_template("login.html", form=LoginForm(), error=error),
        429,
        {"Retry-After": str(exc.retry_after_s)},
    )


@bp.route("/logout", methods=["POST"])
def logout():
    lang = session.get("lang")
    db = get_session()
    end_web_session(db, session.get("sid"))
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("web.login"))


@bp.route("/")
def home():
    user = load_current_user()
    if user is None:
        return redirect(url_for("web.login"))
    if user.role == "dispatcher" and not request.args.get("list"):
        # The dispatcher's day is the map console; the list stays one click away.
        return redirect(url_for("console.page", lang=request.args.get("lang")))
    if user.role == "agent" and not request.args.get("list"):
        # The hotline agent's day is taking calls (pages.intake); the list stays one click away.
        return redirect(url_for("web.intake", lang=request.args.get("lang")))
    if user.role == "manager" and not request.args.get("list"):
        # A manager reviews fix times and breaches: the report page (reports.pages).
        return redirect(url_for("manager_page.page", lang=request.args.get("lang")))
    actor = actor_for(user)
    db = get_session()
    if user.role == "customer":
        return render_portal(user, actor)
    orders = [o for o in wo_service.list_orders(db, actor, {"limit": 500}) if is_open(o)]
    wo_service.record_personal_reads(db, actor, orders, "order_list_page")
    views = [wo_service.staff_view(o, current_lang()) for o in orders]
    return render_template("home.html", user=user, orders=views)


@bp.route("/docs")
def api_docs():
    """The interactive API reference: Swagger UI, served by the app (static/vendor/swagger-ui),
    rendering /openapi.json (no CDN: it works on an intranet)."""
    return render_template("api_docs.html")


@bp.route("/docs/integration")
def integration_guide():
    """How an enterprise connects its own ticketing system to the API (Chinese by default)."""
    return render_template("integration_guide.html")
