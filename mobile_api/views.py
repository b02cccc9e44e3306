"""Mobile API endpoints (/mobile/v1)."""

from __future__ import annotations

from flask import g

from core.api import BEARER, Blueprint
from core.auth import require_roles
from core.clock import now
from core.db import get_session
from core.schemas import LoginSchema, RefreshSchema, TokenSchema
from core.views import login_with_password, logout_current, refresh_tokens
from mobile_api import service
from mobile_api.schemas import RouteSchema

blp = Blueprint("mobile", __name__, url_prefix="/mobile/v1",
                description="Technician phone app API")


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
def login(args):
    """Log in; returns an access token and a refresh token."""
    return login_with_password(args["username"], args["password"])


@blp.route("/auth/refresh", methods=["POST"])
@blp.arguments(RefreshSchema)
@blp.response(200, TokenSchema)
def refresh(args):
    """Rotate the refresh token."""
    return refresh_tokens(args["refresh_token"])


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
@blp.doc(security=BEARER)
def logout():
    """Revoke this phone's tokens."""
    logout_current()


@blp.route("/route")
@require_roles("technician")
@blp.response(200, RouteSchema)
@blp.doc(security=BEARER)
def route():
    """Today's stops in order, with checklist templates and deadlines."""
    today = now().date()
    stops = service.todays_route(get_session(), g.actor, today)
    return {"technician_id": g.actor.technician_id, "date": today, "stops": stops}
