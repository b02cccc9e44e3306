"""Headers every answer carries, and the rules a production start-up must meet.

The pages run only their own scripts (the console's one inline script by a
per-request nonce), may not be framed, and load images only from here and the
configured tile server. HSTS is sent in production, where the app sits behind
TLS.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g

# Inline style attributes stay allowed: the map builds its markers with them.
CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:{tiles}; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
WEAK_SECRETS = frozenset({"", "dev", "secret", "changeme", "change-me", "test-secret"})
MIN_SECRET_LEN = 32


def csp_nonce() -> str:
    """This request's nonce for an inline script (templates: ``nonce="{{ csp_nonce() }}"``)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _tile_origin() -> str:
    parts = urlsplit(current_app.config.get("TILE_URL") or "")
    return f" {parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _secure_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Content-Security-Policy", CSP.format(nonce=csp_nonce(), tiles=_tile_origin()))
    if current_app.config.get("APP_ENV") == "production":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def check_production_secret(secret: str | None) -> None:
    """Refuse to start in production without a real SECRET_KEY."""
    if not secret or secret in WEAK_SECRETS or len(secret) < MIN_SECRET_LEN:
        raise RuntimeError(
            f"APP_ENV=production needs SECRET_KEY set to a random value of at least "
            f"{MIN_SECRET_LEN} characters (python -c 'import secrets; print(secrets.token_hex(32))')."
        )


def init_app(app: Flask) -> None:
    app.after_request(_secure_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
