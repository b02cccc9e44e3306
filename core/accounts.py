"""Users and their logins: create a user, log in with a password, rotate and end token pairs.

Shared by the staff API, the phone API and the CLI; each call works in the
request's unit of work (core.db) and never commits.
"""

from __future__ import annotations

from flask import g, request
from sqlalchemy import select

from core import audit
from core.actor import Actor
from core.auth import (
    Unauthorized,
    actor_for,
    authenticate,
    current_actor,
    find_token,
    hash_password,
    issue_tokens,
    revoke_family,
    stored_token,
    token_ttls,
)
from core.db import get_session
from core.errors import N_, Conflict
from core.models import ApiToken, User
from core.unit_of_work import keep_on_refusal


def login_with_password(username: str, password: str) -> dict:
    """Check a password and issue a token pair; shared by the web API and the mobile API."""
    session = get_session()
    user = authenticate(session, username, password)
    if user is None:
        keep_on_refusal()  # the failure's audit event
        raise Unauthorized(N_("Wrong username or password."))
    tokens = issue_tokens(session, user, *token_ttls())
    audit.record(session, actor_for(user), "login", "user", user.id)
    return tokens | {"role": user.role, "user_id": user.id}


def _family_alive(session, family: str) -> bool:
    return (
        session.scalar(
            select(ApiToken.id).where(ApiToken.family == family, ApiToken.revoked_at.is_(None)).limit(1)
        )
        is not None
    )


def refresh_tokens(raw_refresh: str) -> dict:
    """Rotate a refresh token: the old family is revoked, a new pair issued."""
    session = get_session()
    token = stored_token(session, raw_refresh)
    if (
        token is not None
        and token.kind == "refresh"
        and token.revoked_at is not None
        and _family_alive(session, token.family)
    ):
        # A refresh token already rotated, presented again while its family
        # lives on: one of the two holders stole it. End the whole family.
        revoke_family(session, token.family)
        audit.record(
            session,
            Actor(
                user_id=token.user_id,
                username=token.user.username,
                role=token.user.role,
                origin=request.remote_addr,
            ),
            "refresh_token_reused",
            "user",
            token.user_id,
        )
        keep_on_refusal()  # the family stays revoked
        raise Unauthorized(N_("The refresh token is invalid, expired or revoked."))
    token = find_token(session, raw_refresh, "refresh")
    if token is None:
        raise Unauthorized(N_("The refresh token is invalid, expired or revoked."))
    user = token.user
    # The new pair stays in the family, so a replay of this refresh token ends it too.
    revoke_family(session, token.family)
    tokens = issue_tokens(session, user, *token_ttls(), family=token.family)
    return tokens | {"role": user.role, "user_id": user.id}


def logout_current() -> None:
    """Revoke the bearer token family used for this request."""
    actor = current_actor()
    session = get_session()
    family = g.get("token_family")
    if family:
        revoke_family(session, family)
    audit.record(session, actor, "logout", "user", actor.user_id)


def create_user(session, actor: Actor, data: dict, password_hash: str | None = None) -> User:
    """Create a user with a hashed password; names are unique.

    `password_hash` lets a bulk caller (the demo seed) hash one shared password once.
    """
    if session.scalar(select(User).where(User.username == data["username"])):
        raise Conflict(N_("That username is taken."), slug="username-taken")
    fields = {k: v for k, v in data.items() if k != "password"}
    user = User(password_hash=password_hash or hash_password(data["password"]), **fields)
    session.add(user)
    session.flush()
    audit.record(
        session, actor, "user_created", "user", user.id, after={"username": user.username, "role": user.role}
    )
    return user
