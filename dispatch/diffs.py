"""A re-plan as the dispatcher reviews it: what moves, what is re-timed, what is
dropped or added, each with its reason in Chinese and English, and the cost
change (travel, lateness, breaches) over the technicians concerned.

"Before" is the concerned technicians' held routes timed from now with what is
known (:func:`dispatch.routing.held.time_held`, an overrun's longer visit
included); "after" is the proposal. A start is re-timed when it moves by a
minute or more from the time the technician was given (``planned_start``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from dispatch.routing.held import HeldDay
from dispatch.routing.problem import REASON_MESSAGES, TechnicianRoute, Unassigned, late_visits
from workorders.models import WorkOrder

RETIMED_S = 60

# Why an entry of a re-plan's diff is there: (Chinese, English).
DIFF_REASONS: dict[str, tuple[str, str]] = {
    "technician_unavailable": (
        "原装维人员临时无法出勤（生病、车辆故障等），改由他人上门。",
        "The technician became unavailable (ill, van broken): another technician takes the visit.",
    ),
    "technician_unavailable_on_site": (
        "装维人员已在现场，本单保留由其处理；如需改派请登记为需再次上门。",
        "The technician is on site: the visit stays with them; record a revisit to release it.",
    ),
    "no_show": (
        "客户不在家，本次上门按未遇客户关闭，SLA 时钟已暂停，请按建议时段预约再次上门。",
        "Customer not home: the visit is closed as a no-show, the SLA clock paused; "
        "book the revisit in the suggested slot.",
    ),
    "route_shortened": (
        "前一单提前结束，后续上门时间重新计算。",
        "A visit ended early: the following visits are re-timed.",
    ),
    "overrun_retimed": (
        "前一单超时，后续上门时间顺延。",
        "The visit before ran over: the following visits start later.",
    ),
    "overrun_moved": (
        "前一单超时后本单将超出时限，改由有空的装维人员上门。",
        "After the overrun this visit would breach its deadline: a technician with room takes it.",
    ),
    "overrun_late": (
        "前一单超时后本单将超出时限，且无人可接，保留原安排。",
        "After the overrun this visit will be late and nobody else can take it: it stays.",
    ),
    "emergency_inserted": (
        "紧急故障（P1）以最小扰动插入当天路线。",
        "Urgent fault (P1) inserted into the day with the least disruption.",
    ),
    "emergency_retimed": (
        "为紧急故障让出时间，上门时间顺延。",
        "Pushed later to make room for the urgent fault.",
    ),
    "displaced_moved": (
        "为插入紧急故障移出原路线，改由其他装维人员上门。",
        "Moved out of its route to make room for an urgent fault: another technician takes it.",
    ),
    "breach_moved": (
        "按原路线将超出时限，改由能按时到达的装维人员上门。",
        "Would have breached its deadline on its route: a technician who makes it in time takes it.",
    ),
    "replanned": (
        "路线重新规划后调整。",
        "Changed by the re-plan of the rest of the day.",
    ),
}


def reason(code: str) -> dict[str, str]:
    """A reason code with its message in both languages (diff reasons, then the solver's)."""
    zh, en = DIFF_REASONS.get(code) or REASON_MESSAGES[code]
    return {"reason": code, "message_zh": zh, "message_en": en}


def clock(seconds: int | None) -> str | None:
    """Seconds from midnight as HH:MM."""
    if seconds is None:
        return None
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _seconds(moment: datetime | None, day: date) -> int | None:
    if moment is None or moment.date() != day:
        return None
    return int((moment - datetime.combine(day, time.min)).total_seconds())


def figures(routes: list[TechnicianRoute], unplaced: int) -> dict[str, Any]:
    """A set of routes' travel, lateness and breaches (stops starting after their deadline)."""
    return {
        "travel_km": round(sum(r.travel_m for r in routes) / 1000, 1),
        "late_s": sum(s.late_s for r in routes for s in r.stops),
        "breaches": late_visits(routes),
        "unplaced": unplaced,
    }


def _entry(order: WorkOrder | None, visit_id: int | str) -> dict[str, Any]:
    if order is None:
        return {"order_id": visit_id}
    return {"order_id": order.id, "code": order.code, "priority": order.priority}


def plan_diff(
    day: date,
    before: Mapping[int | str, HeldDay],
    after: Mapping[int | str, TechnicianRoute],
    unplaced: list[Unassigned],
    orders: Mapping[int | str, WorkOrder],
    why: Mapping[str, str],
    why_visit: Mapping[int | str, str] | None = None,
) -> dict[str, Any]:
    """The diff between the concerned technicians' routes ``before`` and ``after``.

    ``why`` gives the reason code of each kind of entry ("moved", "retimed",
    "added"); ``why_visit`` overrides it for single visits.
    """
    why_visit = why_visit or {}
    was = {s.visit_id: (tech, s) for tech, held in before.items() for s in held.route.stops}
    now_at = {s.visit_id: (tech, s) for tech, route in after.items() for s in route.stops}
    diff: dict[str, list[dict[str, Any]]] = {"moved": [], "retimed": [], "dropped": [], "added": []}
    for visit_id, (tech, stop) in now_at.items():
        order = orders.get(visit_id)
        told = _seconds(order.planned_start, day) if order is not None else None
        item = {**_entry(order, visit_id), "new_start": clock(stop.start_s), "new_start_s": stop.start_s}
        if visit_id not in was:
            code = why_visit.get(visit_id, why["added"])
            diff["added"].append({**item, "to_technician_id": tech, **reason(code)})
            continue
        old_tech, old_stop = was[visit_id]
        old_start = told if told is not None else old_stop.start_s
        item.update(old_start=clock(old_start), old_start_s=old_start)
        if old_tech != tech:
            code = why_visit.get(visit_id, why["moved"])
            diff["moved"].append(
                {**item, "from_technician_id": old_tech, "to_technician_id": tech, **reason(code)}
            )
        elif abs(stop.start_s - old_start) >= RETIMED_S:
            code = why_visit.get(visit_id, why["retimed"])
            diff["retimed"].append({**item, "technician_id": tech, "late_s": stop.late_s, **reason(code)})
    for item in unplaced:
        order = orders.get(item.visit_id)
        old_tech = was[item.visit_id][0] if item.visit_id in was else None
        diff["dropped"].append(
            {**_entry(order, item.visit_id), "from_technician_id": old_tech, **reason(item.reason)}
        )
    lost_before = sum(len(held.lost) for held in before.values())
    cost = {
        "before": figures([held.route for held in before.values()], lost_before),
        "after": figures(list(after.values()), len(unplaced)),
    }
    cost["change"] = {key: round(cost["after"][key] - cost["before"][key], 1) for key in cost["before"]}
    return {**diff, "cost": cost}
