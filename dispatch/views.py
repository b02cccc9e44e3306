"""Dispatch endpoints: start a planning job, read, apply or discard a plan."""

from __future__ import annotations

from flask import g

from core import jobs
from core.api import BEARER, Blueprint
from core.auth import require_roles
from core.clock import now
from core.db import get_session
from core.schemas import JobSchema
from dispatch import planning, plans
from dispatch.schemas import PlanRequestSchema, PlanSchema

blp = Blueprint(
    "dispatch", __name__, url_prefix="/api/v1/dispatch", description="Planning the day with the optimizer"
)


@blp.route("/plan", methods=["POST"])
@require_roles("dispatcher", "admin")
@blp.arguments(PlanRequestSchema)
@blp.response(202, JobSchema)
@blp.doc(security=BEARER)
def start_plan(args):
    """Start planning a day (an RQ job, or a thread of this process without Redis);
    answers at once: poll /api/v1/jobs/{id}."""
    planning.plan_clock(args["day"], now())  # a day that is over: 422 before any job starts
    params = {
        "day": args["day"].isoformat(),
        "district": args.get("district"),
        "time_limit_s": args["time_limit_s"],
    }
    return jobs.enqueue(get_session(), "plan_day", params, g.actor.user_id, background=True)


@blp.route("/plans/<int:plan_id>")
@require_roles("dispatcher", "manager", "admin")
@blp.response(200, PlanSchema)
@blp.doc(security=BEARER)
def plan_detail(plan_id: int):
    """A computed plan with its routes and unassigned orders."""
    return plans.get_plan(get_session(), plan_id)


@blp.route("/plans/<int:plan_id>/apply", methods=["POST"])
@require_roles("dispatcher", "admin")
@blp.response(200, PlanSchema)
@blp.doc(security=BEARER)
def plan_apply(plan_id: int):
    """Apply the plan whole, or 409 naming what changed since it was computed."""
    return plans.apply_plan(get_session(), g.actor, plan_id)


@blp.route("/plans/<int:plan_id>/discard", methods=["POST"])
@require_roles("dispatcher", "admin")
@blp.response(200, PlanSchema)
@blp.doc(security=BEARER)
def plan_discard(plan_id: int):
    """Throw the proposal away."""
    return plans.discard_plan(get_session(), g.actor, plan_id)
