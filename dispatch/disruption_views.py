"""Disruption endpoints: report one, get the re-plan and its diff to review.

Apply or discard the re-plan with the plan routes (/api/v1/dispatch/plans/{id}/apply).
"""

from __future__ import annotations

from flask import g

from core.api import BEARER, Blueprint
from core.auth import require_roles
from core.db import get_session
from dispatch import disruptions
from dispatch.disruption_schemas import (
    DisruptionSchema,
    EmergencySchema,
    NoShowSchema,
    OverrunSchema,
    TechnicianUnavailableSchema,
)

blp = Blueprint(
    "disruptions",
    __name__,
    url_prefix="/api/v1/dispatch/disruptions",
    description="Disruptions of the day under way, each a re-plan to review before applying",
)


@blp.route("/technician-unavailable", methods=["POST"])
@require_roles("dispatcher", "admin")
@blp.arguments(TechnicianUnavailableSchema)
@blp.response(201, DisruptionSchema)
@blp.doc(security=BEARER)
def technician_unavailable(args):
    """A technician can work no more today: their visits not started go to others."""
    return disruptions.technician_unavailable(get_session(), g.actor, **args)


@blp.route("/no-show", methods=["POST"])
@require_roles("dispatcher", "admin")
@blp.arguments(NoShowSchema)
@blp.response(201, DisruptionSchema)
@blp.doc(security=BEARER)
def no_show(args):
    """The customer is not home: the visit closed as a no-show, the day re-timed, a revisit suggested."""
    return disruptions.no_show(get_session(), g.actor, **args)


@blp.route("/overrun", methods=["POST"])
@require_roles("dispatcher", "admin")
@blp.arguments(OverrunSchema)
@blp.response(201, DisruptionSchema)
@blp.doc(security=BEARER)
def overrun(args):
    """The visit on site runs over: the day re-timed, stops that would breach moved."""
    return disruptions.overrun(get_session(), g.actor, **args)


@blp.route("/emergency", methods=["POST"])
@require_roles("dispatcher", "admin")
@blp.arguments(EmergencySchema)
@blp.response(201, DisruptionSchema)
@blp.doc(security=BEARER)
def emergency(args):
    """An urgent fault inserted with the least disruption."""
    return disruptions.emergency(get_session(), g.actor, **args)


@blp.route("/<int:plan_id>")
@require_roles("dispatcher", "manager", "admin")
@blp.response(200, DisruptionSchema)
@blp.doc(security=BEARER)
def disruption_detail(plan_id: int):
    """A re-plan with its diff: moved, re-timed, dropped, added, and the cost change."""
    return disruptions.get_disruption(get_session(), plan_id)
