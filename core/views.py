"""The staff API's login, users and jobs endpoints (the logic is in core.accounts and core.jobs)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from sqlalchemy import select

from core.accounts import create_user, login_with_password, logout_current, refresh_tokens
from core.api import BEARER, Blueprint
from core.auth import (
    require_roles,
)
from core.db import get_session
from core.errors import N_, NotFound
from core.jobs import load_job
from core.models import User
from core.schemas import (
    JobSchema,
    LoginSchema,
    RefreshSchema,
    TokenSchema,
    UserCreateSchema,
    UserSchema,
)
from core.throttle import login_door

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Login, users, jobs")


@blp.route("/auth/token", methods=["POST"])
@login_door
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
def token(args):
    """Log in with username and password; returns access and refresh tokens."""
    return login_with_password(args["username"], args["password"])


@blp.route("/auth/refresh", methods=["POST"])
@blp.arguments(RefreshSchema)
@blp.response(200, TokenSchema)
def refresh(args):
    """Exchange a refresh token for a new token pair."""
    return refresh_tokens(args["refresh_token"])


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
@blp.doc(security=BEARER)
def logout():
    """Revoke the current token pair."""
    logout_current()


@blp.route("/me")
@require_roles()
@blp.response(200, UserSchema)
@blp.doc(security=BEARER)
def me():
    """The logged-in user."""
    return get_session().get(User, g.actor.user_id)


@blp.route("/users")
class Users(MethodView):
    @require_roles("admin")
    @blp.arguments(UserCreateSchema)
    @blp.response(201, UserSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """Create a user (admin only)."""
        return create_user(get_session(), g.actor, args)

    @require_roles("admin", "manager", "dispatcher")
    @blp.response(200, UserSchema(many=True))
    @blp.doc(security=BEARER)
    def get(self):
        """List users."""
        return list(get_session().scalars(select(User).order_by(User.id)))


@blp.route("/jobs/<int:job_id>")
@require_roles("dispatcher", "manager", "admin")
@blp.response(200, JobSchema)
@blp.doc(security=BEARER)
def job_status(job_id: int):
    """Status and progress of a background job."""
    job = load_job(get_session(), job_id)
    if job is None:
        raise NotFound(N_("No such job."))
    return job


@blp.route("/jobs/<int:job_id>/cancel", methods=["POST"])
@require_roles("dispatcher", "admin")
@blp.response(202, JobSchema)
@blp.doc(security=BEARER)
def job_cancel(job_id: int):
    """Ask a running job to stop; it keeps its best result so far."""
    session = get_session()
    job = load_job(session, job_id)
    if job is None:
        raise NotFound(N_("No such job."))
    if job.status in ("queued", "running"):
        job.cancel_requested = True
    return job
