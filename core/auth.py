"""Passwords (argon2), bearer tokens for JSON APIs, session login for pages, role checks."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request
from flask import session as web_session
from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload

from core.actor import Actor
from core.clock import now
from core.db import get_session
from core.errors import N_, DomainError
from core.models import ApiToken, User

_hasher = PasswordHasher()
# Checked against when the username is unknown, so that costs what a wrong
# password costs (no telling which names exist by the time an answer takes).
_decoy_hash = _hasher.hash(secrets.token_hex(16))


def configure_hasher(time_cost: int | None, memory_kib: int | None) -> None:
    """Tune argon2 (tests use a cheap profile; production keeps the library's defaults)."""
    global _hasher, _decoy_hash
    if time_cost or memory_kib:
        _hasher = PasswordHasher(time_cost=time_cost or 3, memory_cost=memory_kib or 65536)
        _decoy_hash = _hasher.hash(secrets.token_hex(16))


class Unauthorized(DomainError):
    status = 401
    slug = "unauthorized"


class WrongRole(DomainError):
    status = 403
    slug = "forbidden"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with that name and password, or None (a failure is audited
    in the session; the caller commits)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        try:
            _hasher.verify(_decoy_hash, password)
        except (VerificationError, InvalidHashError):
            pass
    elif user.active and check_password(user, password):
        return user
    from core import audit

    audit.record(
        session,
        Actor(
            user_id=None,
            username=username[:80],
            role="anonymous",
            origin=request.remote_addr if request else None,
        ),
        "login_failed",
        "user",
        user.id if user is not None else None,
        after={"username": username[:80], "known_user": user is not None},
    )
    return None


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_tokens(
    session: Session, user: User, access_ttl_s: int, refresh_ttl_s: int, family: str | None = None
) -> dict[str, object]:
    """Create an access and a refresh token of one family; return the raw values."""
    family = family or secrets.token_hex(16)
    issued = now()
    raw_access = secrets.token_urlsafe(32)
    raw_refresh = secrets.token_urlsafe(32)
    session.add_all(
        [
            ApiToken(
                user_id=user.id,
                token_hash=_digest(raw_access),
                kind="access",
                family=family,
                issued_at=issued,
                expires_at=issued + timedelta(seconds=access_ttl_s),
            ),
            ApiToken(
                user_id=user.id,
                token_hash=_digest(raw_refresh),
                kind="refresh",
                family=family,
                issued_at=issued,
                expires_at=issued + timedelta(seconds=refresh_ttl_s),
            ),
        ]
    )
    return {
        "access_token": raw_access,
        "refresh_token": raw_refresh,
        "token_type": "Bearer",
        "expires_in": access_ttl_s,
    }


def stored_token(session: Session, raw: str) -> ApiToken | None:
    """The token row for a raw value, live or not, with its user."""
    # One query for the token, its user and the user's technician profile (every request).
    return session.scalar(
        select(ApiToken)
        .options(joinedload(ApiToken.user).joinedload(User.technician))
        .where(ApiToken.token_hash == _digest(raw))
    )


def find_token(session: Session, raw: str, kind: str) -> ApiToken | None:
    """A live (unexpired, unrevoked) token of that kind, or None."""
    token = stored_token(session, raw)
    if token is None or token.kind != kind or token.revoked_at is not None:
        return None
    if token.expires_at <= now() or not token.user.active:
        return None
    return token


def revoke_family(session: Session, family: str, at: datetime | None = None) -> None:
    """Revoke every token issued together (logout, refresh rotation)."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.family == family, ApiToken.revoked_at.is_(None))
        .values(revoked_at=at or now())
    )


def start_web_session(session: Session, user: User) -> str:
    """A server-side record of a page login; the cookie holds only its random id,
    so logging out ends it even for a copy of the cookie."""
    raw = secrets.token_urlsafe(32)
    issued = now()
    session.add(
        ApiToken(
            user_id=user.id,
            token_hash=_digest(raw),
            kind="web",
            family=secrets.token_hex(16),
            issued_at=issued,
            expires_at=issued + timedelta(seconds=token_ttls()[0]),
        )
    )
    return raw


def end_web_session(session: Session, raw: str | None) -> None:
    """Log a page session out (its cookie, and every copy of it, stops working)."""
    token = find_token(session, raw, "web") if raw else None
    if token is not None:
        revoke_family(session, token.family)


def actor_for(user: User) -> Actor:
    return Actor(
        user_id=user.id,
        username=user.username,
        role=user.role,
        origin=request.remote_addr if request else None,
        customer_id=user.customer_id,
        technician_id=user.technician_id,
    )


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def load_current_user() -> User | None:
    """The user behind the bearer token, or behind the web session cookie.

    A change made with the cookie alone must carry the page's CSRF token, on
    the JSON API too (its blueprints skip Flask-WTF's check, which is for
    pages): otherwise another site could act with a logged-in browser.
    """
    if "current_user" in g:
        return g.current_user
    user: User | None = None
    header = request.headers.get("Authorization", "")
    session = get_session()
    if header:
        scheme, _sep, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthorized(N_("Use an 'Authorization: Bearer <token>' header."))
        token = find_token(session, raw.strip(), "access")
        if token is None:
            raise Unauthorized(N_("The token is invalid, expired or revoked."))
        user = token.user
        g.token_family = token.family
    elif web_session.get("user_id"):
        token = find_token(session, web_session.get("sid") or "", "web")
        user = token.user if token is not None and token.user_id == web_session["user_id"] else None
        if user is not None and request.method not in SAFE_METHODS:
            _require_csrf_token()
    g.current_user = user
    return user


def _require_csrf_token() -> None:
    from flask_wtf.csrf import CSRFError, validate_csrf

    sent = (
        request.headers.get("X-CSRFToken")
        or request.headers.get("X-CSRF-Token")
        or request.form.get("csrf_token")
    )
    try:
        validate_csrf(sent)
    except (CSRFError, ValueError) as exc:  # flask-wtf raises ValidationError(ValueError)
        raise CsrfMissing(
            N_(
                "A change made with the session cookie needs the page's CSRF token "
                "(X-CSRFToken header); API clients use a bearer token."
            )
        ) from exc


class CsrfMissing(DomainError):
    status = 403
    slug = "csrf-token-missing"


def current_actor() -> Actor:
    user = load_current_user()
    if user is None:
        raise Unauthorized(N_("Log in first."))
    return actor_for(user)


def require_roles(*roles: str) -> Callable:
    """Decorator: 401 without a valid login, 403 when the role is not one of `roles`."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            actor = current_actor()
            if roles and actor.role not in roles:
                raise WrongRole(N_("Your role may not do this."), role=actor.role)
            g.actor = actor
            return view(*args, **kwargs)

        wrapper._required_roles = roles  # read by the OpenAPI security decorator
        return wrapper

    return decorator


def token_ttls() -> tuple[int, int]:
    cfg = current_app.config
    return cfg["ACCESS_TOKEN_TTL_S"], cfg["REFRESH_TOKEN_TTL_S"]
