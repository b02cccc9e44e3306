"""Dispatch endpoints: start a planning job, read, apply or discard a plan."""

from __future__ import annotations

from flask import g

from core import jobs
from core.api import BEARER, Blueprint
from core.auth import require_roles
from core.clock import now
from core.db import get_session
from core.schemas import JobSchema
from dispatch import explain, kpis, planning, plans
from dispatch.schemas import (
    PlanExplanationSchema,
    PlanKpisSchema,
    PlanRequestSchema,
    PlanSchema,
    VisitExplanationSchema,
)

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


@blp.route("/plans/<int:plan_id>/explain")
@require_roles("dispatcher", "manager", "admin")
@blp.response(200, PlanExplanationSchema)
@blp.doc(security=BEARER)
def plan_explain(plan_id: int):
    """Why the plan is what it is: each visit's technician, time and cost, each order left
    out with its blocker, each technician's day and the plan's figures (reader's language)."""
    return explain.explain_plan(get_session(), plan_id)


@blp.route("/plans/<int:plan_id>/visits/<int:order_id>/explain")
@require_roles("dispatcher", "manager", "admin")
@blp.response(200, VisitExplanationSchema)
@blp.doc(security=BEARER)
def visit_explain(plan_id: int, order_id: int):
    """Why the plan placed this order with this technician at this time, and what it costs;
    or why it left the order out (404 when the plan does not include the order)."""
    return explain.explain_visit(get_session(), plan_id, order_id)


@blp.route("/plans/<int:plan_id>/kpis")
@require_roles("dispatcher", "manager", "admin")
@blp.response(200, PlanKpisSchema)
@blp.doc(security=BEARER)
def plan_kpis(plan_id: int):
    """The plan's figures: travel, utilisation, deadlines at risk, breaches, unassigned by reason."""
    return kpis.plan_kpis(get_session(), plan_id)
