"""A stored plan's figures, and two plans compared.

    from dispatch import kpis
    before = kpis.plan_kpis(session, old_plan)      # a DispatchPlan or its id
    after = kpis.plan_kpis(session, new_plan)
    kpis.compare_kpis(before, after)                 # {"travel_km": {"before", "after", "delta"}, ...}

The arithmetic is :mod:`dispatch.routing.kpis` (pure, over the plan and its problem); this
module reads the problem back from the database (:mod:`dispatch.plan_context`). A plan the
optimizer has just returned, not stored yet, goes to :func:`kpis_of` with its problem.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from dispatch import plans
from dispatch.models import DispatchPlan
from dispatch.plan_context import plan_problem
from dispatch.routing import kpis as routing_kpis
from dispatch.routing.problem import Plan, Problem

AT_RISK_S = routing_kpis.AT_RISK_S


def kpis_of(plan: Plan | dict[str, Any], problem: Problem, at_risk_s: int = AT_RISK_S) -> dict[str, Any]:
    """The figures of a plan (a Plan or its stored dict) over ``problem``, as a plain dict."""
    return routing_kpis.plan_kpis(plan, problem, at_risk_s).to_dict()


def plan_kpis(session: Session, plan: DispatchPlan | int, at_risk_s: int = AT_RISK_S) -> dict[str, Any]:
    """The figures of a stored plan (404 for an unknown id): travel km and minutes, utilisation,
    deadlines at risk (a start within ``at_risk_s`` of the restore deadline), breaches, unassigned
    by reason."""
    record = plans.get_plan(session, plan) if isinstance(plan, int) else plan
    problem, _orders = plan_problem(session, record)
    return kpis_of(record.result or {}, problem, at_risk_s)


def compare_kpis(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each figure of two plans' :func:`plan_kpis` before and after, with the change."""
    return routing_kpis.compare_kpis(before, after)
