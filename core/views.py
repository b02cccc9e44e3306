"""Auth, users and jobs endpoints."""

from __future__ import annotations

from flask import g, request
from flask.views import MethodView
from flask_babel import gettext as _
from sqlalchemy import select

from core import audit
from core.actor import Actor
from core.api import BEARER, Blueprint
from core.auth import (
    Unauthorized,
    actor_for,
    authenticate,
    current_actor,
    find_token,
    hash_password,
    issue_tokens,
    require_roles,
    revoke_family,
    stored_token,
    token_ttls,
)
from core.db import get_session
from core.errors import Conflict, NotFound
from core.jobs import load_job
from core.models import ApiToken, User
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


def login_with_password(username: str, password: str) -> dict:
    """Check a password and issue a token pair; shared by the web API and the mobile API."""
    session = get_session()
    user = authenticate(session, username, password)
    if user is None:
        session.commit()  # the failure's audit event
        raise Unauthorized(_("Wrong username or password."))
    tokens = issue_tokens(session, user, *token_ttls())
    audit.record(session, actor_for(user), "login", "user", user.id)
    session.commit()
    return tokens | {"role": user.role, "user_id": user.id}


def _family_alive(session, family: str) -> bool:
    return session.scalar(
        select(ApiToken.id).where(ApiToken.family == family, ApiToken.revoked_at.is_(None)).limit(1)
    ) is not None


def refresh_tokens(raw_refresh: str) -> dict:
    """Rotate a refresh token: the old family is revoked, a new pair issued."""
    session = get_session()
    token = stored_token(session, raw_refresh)
    if token is not None and token.kind == "refresh" and token.revoked_at is not None \
            and _family_alive(session, token.family):
        # A refresh token already rotated, presented again while its family
        # lives on: one of the two holders stole it. End the whole family.
        revoke_family(session, token.family)
        audit.record(session, Actor(user_id=token.user_id, username=token.user.username,
                                    role=token.user.role, origin=request.remote_addr),
                     "refresh_token_reused", "user", token.user_id)
        session.commit()
        raise Unauthorized(_("The refresh token is invalid, expired or revoked."))
    token = find_token(session, raw_refresh, "refresh")
    if token is None:
        raise Unauthorized(_("The refresh token is invalid, expired or revoked."))
    user = token.user
    # The new pair stays in the family, so a replay of this refresh token ends it too.
    revoke_family(session, token.family)
    tokens = issue_tokens(session, user, *token_ttls(), family=token.family)
    session.commit()
    return tokens | {"role": user.role, "user_id": user.id}


def logout_current() -> None:
    """Revoke the bearer token family used for this request."""
    actor = current_actor()
    session = get_session()
    family = g.get("token_family")
    if family:
        revoke_family(session, family)
    audit.record(session, actor, "logout", "user", actor.user_id)
    session.commit()


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
        return create_user(get_session(), g.actor, args, commit=True)

    @require_roles("admin", "manager", "dispatcher")
    @blp.response(200, UserSchema(many=True))
    @blp.doc(security=BEARER)
    def get(self):
        """List users."""
        return list(get_session().scalars(select(User).order_by(User.id)))


def create_user(session, actor: Actor, data: dict, commit: bool = False,
                password_hash: str | None = None) -> User:
    """Create a user with a hashed password; names are unique.

    `password_hash` lets a bulk caller (the demo seed) hash one shared password once.
    """
    if session.scalar(select(User).where(User.username == data["username"])):
        raise Conflict(_("That username is taken."), slug="username-taken")
    fields = {k: v for k, v in data.items() if k != "password"}
    user = User(password_hash=password_hash or hash_password(data["password"]), **fields)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user_created", "user", user.id,
                 after={"username": user.username, "role": user.role})
    if commit:
        session.commit()
    return user


@blp.route("/jobs/<int:job_id>")
@require_roles("dispatcher", "manager", "admin")
@blp.response(200, JobSchema)
@blp.doc(security=BEARER)
def job_status(job_id: int):
    """Status and progress of a background job."""
    job = load_job(get_session(), job_id)
    if job is None:
        raise NotFound(_("No such job."))
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
        raise NotFound(_("No such job."))
    if job.status in ("queued", "running"):
        job.cancel_requested = True
        session.commit()
    return job
