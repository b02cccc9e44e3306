"""The figures a dispatcher judges a plan by, from the plan and the problem it solved.

Pure: a :class:`~dispatch.routing.problem.Plan` (or its JSON dict, as stored) and the
:class:`~dispatch.routing.problem.Problem` in, a :class:`PlanKpis` out. Two plans of the
same day compare with :func:`compare_kpis` (what a re-plan or a disruption changed).

- travel: kilometres and minutes driven, the way home included;
- utilisation: time on site over the shift time of every technician in the plan;
- deadlines at risk: visits that start before their restore deadline, but within
  ``at_risk_s`` of it; breaches: visits that start after it (``late_s`` > 0);
- unassigned: how many orders were left out, by reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from dispatch.routing.problem import Plan, Problem

AT_RISK_S = 3600  # a start within the hour before the deadline is at risk


@dataclass
class PlanKpis:
    """One plan's figures; times in minutes, distances in kilometres (rounded to 0.1)."""

    travel_km: float
    travel_min: float
    work_min: float
    shift_min: float
    utilisation_pct: float
    visits_planned: int
    technicians_used: int
    technicians: int
    deadlines_at_risk: int
    breaches: int
    late_min: float
    unassigned: int
    unassigned_by_reason: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# The figures compare_kpis takes a difference of (numbers where lower or higher is better).
COMPARED = (
    "travel_km",
    "travel_min",
    "work_min",
    "utilisation_pct",
    "visits_planned",
    "technicians_used",
    "deadlines_at_risk",
    "breaches",
    "late_min",
    "unassigned",
)


def _plan_dict(plan: Plan | dict[str, Any]) -> dict[str, Any]:
    return plan.to_dict() if isinstance(plan, Plan) else plan


def plan_kpis(plan: Plan | dict[str, Any], problem: Problem, at_risk_s: int = AT_RISK_S) -> PlanKpis:
    """The figures of ``plan`` (a Plan or its stored dict) over ``problem``'s technicians and visits.

    Technicians in the plan but not in the problem count with no shift time (their route
    still counts in travel and work).
    """
    result = _plan_dict(plan)
    shifts = {str(t.id): max(0, t.shift_end_s - t.shift_start_s) for t in problem.technicians}
    deadlines = {str(v.id): v.deadline_s for v in problem.visits}
    travel_m = travel_s = work_s = late_s = shift_s = 0.0
    planned = used = at_risk = 0
    late_ids: set[str] = set()
    routes = result.get("routes", [])
    for route in routes:
        stops = route.get("stops", [])
        shift_s += shifts.get(str(route["technician_id"]), 0)
        travel_m += float(route.get("travel_m") or 0)
        travel_s += float(route.get("travel_s") or 0)
        if stops:
            used += 1
        for stop in stops:
            planned += 1
            work_s += max(0, stop["end_s"] - stop["start_s"])
            late = int(stop.get("late_s") or 0)
            deadline = deadlines.get(str(stop["visit_id"]))
            if late > 0:
                late_ids.add(str(stop["visit_id"]))  # a crew job late in two routes is one breach
                late_s += late
            elif deadline is not None and deadline - stop["start_s"] < at_risk_s:
                at_risk += 1
    reasons = Counter(str(item["reason"]) for item in result.get("unassigned", []))
    return PlanKpis(
        travel_km=round(travel_m / 1000, 1),
        travel_min=round(travel_s / 60, 1),
        work_min=round(work_s / 60, 1),
        shift_min=round(shift_s / 60, 1),
        utilisation_pct=round(100 * work_s / shift_s, 1) if shift_s else 0.0,
        visits_planned=planned,
        technicians_used=used,
        technicians=len(routes),
        deadlines_at_risk=at_risk,
        breaches=len(late_ids),
        late_min=round(late_s / 60, 1),
        unassigned=sum(reasons.values()),
        unassigned_by_reason=dict(sorted(reasons.items())),
    )


def compare_kpis(
    before: PlanKpis | dict[str, Any], after: PlanKpis | dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Each figure before and after, and the change (``after - before``, rounded to 0.1).

    ``unassigned_by_reason`` compares reason by reason, every reason either side names.
    """
    a = before.to_dict() if isinstance(before, PlanKpis) else before
    b = after.to_dict() if isinstance(after, PlanKpis) else after
    diff: dict[str, dict[str, Any]] = {}
    for key in COMPARED:
        old, new = a.get(key) or 0, b.get(key) or 0
        diff[key] = {"before": old, "after": new, "delta": round(new - old, 1)}
    old_reasons, new_reasons = a.get("unassigned_by_reason") or {}, b.get("unassigned_by_reason") or {}
    diff["unassigned_by_reason"] = {
        reason: {
            "before": old_reasons.get(reason, 0),
            "after": new_reasons.get(reason, 0),
            "delta": new_reasons.get(reason, 0) - old_reasons.get(reason, 0),
        }
        for reason in sorted(set(old_reasons) | set(new_reasons))
    }
    return diff
