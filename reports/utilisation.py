"""Technician utilisation (work, travel, waiting and idle time per technician and day/week) and
planned against actual on-site time by product: where the planner's duration table is wrong.

Planned time comes from the applied dispatch plans. A plan's routes are JSON, so they are read
in Python, one row per applied plan (a handful a day: the day plan, urgent insertions and the
dispatcher's manual moves); for each technician and day the plans are laid over each other in
the order they were applied, each one replacing the stops from its clock (``now_s``) on.

Actual time comes from the audit trail's visit events (en route, on site, work started, paused,
resumed, and the state that ends the visit), summed per technician and day in the database: each
event opens a segment that lasts until the order's next visit event (a window function). En
route is travel; on site, started and resumed are work; paused is waiting. A segment still open
at the judged moment ends then, or at the end of its day if that is sooner. The technician is
the one who sent the event (the phone's login), or else the order's technician.

A technician's day counts when it has a planned route or an actual segment; its available
time is the shift less lunch (``Technician.shift_start``/``shift_end``/``lunch_duration_min``).
Idle is what is left of it; time beyond it is overtime.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session, aliased

from core.models import AuditEvent
from dispatch.models import DispatchPlan
from reports import measures
from reports.filters import ReportFilter, joined, received_in_range
from reports.sql import day_start, epoch_s, iso_epoch_s, percentiles
from technicians.models import Technician
from workorders.lifecycle import State
from workorders.models import WorkOrder

W = WorkOrder
PERIODS = ("range", "day", "week")
TRAVEL, WORK, WAITING = "travel", "work", "waiting"
# The phone's visit progress as mobile_api.status audits it (an interface: the reports may not import it).
FIELD_STARTED, FIELD_PAUSED, FIELD_RESUMED = "field:started", "field:paused", "field:resumed"
SEGMENT_KINDS = {
    f"state:{State.EN_ROUTE}": TRAVEL,
    f"state:{State.ON_SITE}": WORK,
    FIELD_STARTED: WORK,
    FIELD_RESUMED: WORK,
    FIELD_PAUSED: WAITING,
}
# Events that end a visit's segment without opening one.
VISIT_ENDS = tuple(
    f"state:{s}" for s in (State.COMPLETED, State.NEEDS_REVISIT, State.ASSIGNED, State.CANCELLED)
)
VISIT_ACTIONS = (*SEGMENT_KINDS, *VISIT_ENDS)
# A closed segment starting in the range may end this long after it.
SEGMENT_MARGIN = timedelta(days=2)
DAY_S = 86400
# On-site durations: flagged when the actual median is this far from the planned one, over
# at least this many measured orders.
DURATION_TOLERANCE_PCT = 20.0
MIN_FLAG_SAMPLE = 5


def _visit_events(start: datetime, end: datetime):
    """Each visit event of a work order in [start, end) with the next one's time (None: none yet)."""
    ordering = (AuditEvent.at, AuditEvent.id)
    return (
        select(
            AuditEvent.entity_id.label("order_id"),
            AuditEvent.action.label("action"),
            AuditEvent.at.label("at"),
            AuditEvent.actor_id.label("actor_id"),
            func.lead(AuditEvent.at)
            .over(partition_by=AuditEvent.entity_id, order_by=ordering)
            .label("next_at"),
        )
        .where(
            AuditEvent.entity_type == "work_order",
            AuditEvent.action.in_(VISIT_ACTIONS),
            AuditEvent.at >= start,
            AuditEvent.at < end,
        )
        .subquery()
    )


def actual_by_day(session: Session, f: ReportFilter) -> dict[tuple[int, str], dict[str, float]]:
    """Seconds of travel, work and waiting, and visits started, per (technician id, city date
    as YYYY-MM-DD) for segments that started in the range: one grouped query."""
    events = _visit_events(f.start, f.end + SEGMENT_MARGIN)
    sender = aliased(Technician)
    technician = func.coalesce(sender.id, W.technician_id)
    day = day_start(events.c.at)
    day_end_s = iso_epoch_s(day) + DAY_S
    judged_s = (f.judged_at - datetime(1970, 1, 1)).total_seconds()
    open_end_s = case((day_end_s < judged_s, day_end_s), else_=judged_s)
    end_s = case((events.c.next_at.is_(None), open_end_s), else_=epoch_s(events.c.next_at))
    length_s = end_s - epoch_s(events.c.at)
    kind = case(
        *[(events.c.action == action, kind) for action, kind in SEGMENT_KINDS.items()],
        else_=None,
    )
    segments = (
        select(
            technician.label("technician_id"),
            day.label("day"),
            kind.label("kind"),
            case((length_s > 0, length_s), else_=0.0).label("seconds"),
            case((events.c.action == f"state:{State.ON_SITE}", 1), else_=0).label("visit"),
        )
        .select_from(events)
        .join(W, W.id == events.c.order_id)
        .outerjoin(sender, sender.user_id == events.c.actor_id)
        .where(events.c.at >= f.start, events.c.at < f.end, kind.isnot(None))
    )
    if f.technician_id is not None:
        segments = segments.where(technician == f.technician_id)
    # Grouped on the subquery's columns: PostgreSQL would not match a GROUP BY expression whose
    # literals are bound parameters with the same expression in the select list.
    inner = segments.subquery()
    stmt = select(
        inner.c.technician_id,
        inner.c.day,
        inner.c.kind,
        func.sum(inner.c.seconds).label("seconds"),
        func.sum(inner.c.visit).label("visits"),
    ).group_by(inner.c.technician_id, inner.c.day, inner.c.kind)
    found: dict[tuple[int, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in session.execute(stmt):
        if row.technician_id is None:
            continue
        figures = found[(int(row.technician_id), str(row.day))]
        figures[row.kind] += float(row.seconds or 0)
        figures["visits"] += int(row.visits or 0)
    return found


@dataclass
class _PlannedDay:
    stops: dict[str, dict[str, Any]] = field(default_factory=dict)  # order id -> stop
    return_s: int = 0


def planned_by_day(session: Session, f: ReportFilter) -> dict[tuple[int, str], dict[str, float]]:
    """Planned seconds of work and travel and planned stops per (technician id, YYYY-MM-DD),
    from the applied plans of the range's days (read in Python: their routes are JSON).

    A later applied plan replaces a technician's stops that start at or after its clock (a plan
    for a day not begun replaces them all) and any stop of an order it places itself; its route's
    way home replaces the earlier one.
    """
    stmt = (
        select(DispatchPlan.day, DispatchPlan.result)
        .where(
            DispatchPlan.status == "applied",
            DispatchPlan.day >= f.date_from,
            DispatchPlan.day < f.date_to,
        )
        .order_by(DispatchPlan.decided_at, DispatchPlan.id)
    )
    days: dict[tuple[int, date], _PlannedDay] = defaultdict(_PlannedDay)
    for plan_day, result in session.execute(stmt):
        clock_s = (result or {}).get("now_s") or 0
        for route in (result or {}).get("routes", []):
            tech_id = int(route["technician_id"])
            if f.technician_id is not None and tech_id != f.technician_id:
                continue
            planned = days[(tech_id, plan_day)]
            placed = {str(stop["visit_id"]) for stop in route["stops"]}
            planned.stops = {
                order_id: stop
                for order_id, stop in planned.stops.items()
                if (stop.get("start_s") or 0) < clock_s and order_id not in placed
            }
            planned.stops.update({str(stop["visit_id"]): stop for stop in route["stops"]})
            planned.return_s = int(route.get("travel_s") or 0) - sum(
                int(stop.get("travel_s") or 0) for stop in route["stops"]
            )
    return {
        (tech_id, plan_day.isoformat()): {
            WORK: float(sum(_on_site_s(stop) for stop in planned.stops.values())),
            TRAVEL: float(sum(int(stop.get("travel_s") or 0) for stop in planned.stops.values()))
            + max(planned.return_s, 0),
            "stops": len(planned.stops),
        }
        for (tech_id, plan_day), planned in days.items()
    }


def _on_site_s(stop: dict[str, Any]) -> int:
    """A planned stop's time on site (a stop stored without times counts none)."""
    return max(int(stop.get("end_s") or 0) - int(stop.get("start_s") or 0), 0)


def available_s(tech: Technician) -> int:
    """A working day's time on shift, lunch left out."""
    shift_start = tech.shift_start.hour * 3600 + tech.shift_start.minute * 60
    shift_end = tech.shift_end.hour * 3600 + tech.shift_end.minute * 60
    lunch = tech.lunch_duration_min * 60 if tech.lunch_start is not None else 0
    return max(shift_end - shift_start - lunch, 0)


def _period_of(day_text: str, period: str) -> str | None:
    if period == "range":
        return None
    day = date.fromisoformat(day_text)
    return (day - timedelta(days=day.weekday())).isoformat() if period == "week" else day_text


def _pct(part: float, whole: float) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)


def _figures(days: int, available: float, planned: dict[str, float], actual: dict[str, float]) -> dict:
    """One row's figures from its summed seconds."""
    busy = actual[WORK] + actual[TRAVEL] + actual[WAITING]
    planned_busy = planned[WORK] + planned[TRAVEL]
    return {
        "days": days,
        "available_s": round(available, 1),
        "planned": {
            "stops": int(planned["stops"]),
            "work_s": round(planned[WORK], 1),
            "travel_s": round(planned[TRAVEL], 1),
            "idle_s": round(max(available - planned_busy, 0.0), 1),
            "utilisation_pct": _pct(planned[WORK], available),
        },
        "actual": {
            "visits": int(actual["visits"]),
            "work_s": round(actual[WORK], 1),
            "travel_s": round(actual[TRAVEL], 1),
            "waiting_s": round(actual[WAITING], 1),
            "idle_s": round(max(available - busy, 0.0), 1),
            "overtime_s": round(max(busy - available, 0.0), 1),
            "utilisation_pct": _pct(actual[WORK], available),
        },
    }


def _zero() -> dict[str, float]:
    return {WORK: 0.0, TRAVEL: 0.0, WAITING: 0.0, "visits": 0, "stops": 0}


def utilisation(session: Session, f: ReportFilter, period: str = "range") -> dict[str, Any]:
    """Work, travel, waiting and idle time per technician and ``period`` (range: one row per
    technician; day; week: the Monday's date), planned and actual, with the totals.

    Honours the range, ``technician_id`` and ``district`` (the technician's); the filters on
    orders (product, kind, ...) do not narrow a technician's day and are not applied.
    """
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}")
    planned, actual = planned_by_day(session, f), actual_by_day(session, f)
    tech_ids = {tech_id for tech_id, _day in (*planned, *actual)}
    techs = {
        t.id: t
        for t in session.scalars(select(Technician).where(Technician.id.in_(tech_ids)))
        if f.district is None or t.district == f.district
    }
    groups: dict[tuple[int, str | None], dict[str, Any]] = {}
    for key in sorted(set(planned) | set(actual)):
        tech_id, day_text = key
        if tech_id not in techs:
            continue
        group = groups.setdefault(
            (tech_id, _period_of(day_text, period)),
            {"days": 0, "available": 0.0, "planned": _zero(), "actual": _zero()},
        )
        group["days"] += 1
        group["available"] += available_s(techs[tech_id])
        for side, source in (("planned", planned), ("actual", actual)):
            for name, value in source.get(key, {}).items():
                group[side][name] += value
    rows = [
        {
            "technician_id": tech_id,
            "technician": techs[tech_id].name,
            "period": period_key,
            **_figures(g["days"], g["available"], g["planned"], g["actual"]),
        }
        for (tech_id, period_key), g in sorted(
            groups.items(), key=lambda item: (techs[item[0][0]].name, item[0][0], item[0][1] or "")
        )
    ]
    total = {"days": 0, "available": 0.0, "planned": _zero(), "actual": _zero()}
    for g in groups.values():
        total["days"] += g["days"]
        total["available"] += g["available"]
        for side in ("planned", "actual"):
            for name, value in g[side].items():
                total[side][name] += value
    return {
        "date_from": f.date_from,
        "date_to": f.date_to,
        "judged_at": f.judged_at,
        "period": period,
        "rows": rows,
        "totals": _figures(total["days"], total["available"], total["planned"], total["actual"]),
    }


UTILISATION_COLUMNS = (
    "technician_id",
    "technician",
    "period",
    "days",
    "available_s",
    "planned.stops",
    "planned.work_s",
    "planned.travel_s",
    "planned.idle_s",
    "planned.utilisation_pct",
    "actual.visits",
    "actual.work_s",
    "actual.travel_s",
    "actual.waiting_s",
    "actual.idle_s",
    "actual.overtime_s",
    "actual.utilisation_pct",
)


def utilisation_table(found: dict[str, Any]) -> list[tuple]:
    """The utilisation rows, then the totals, as tuples in UTILISATION_COLUMNS order."""
    rows = [*found["rows"], {"technician_id": None, "technician": "total", "period": None, **found["totals"]}]
    return [tuple(_dotted(row, name) for name in UTILISATION_COLUMNS) for row in rows]


def _dotted(row: dict[str, Any], name: str) -> Any:
    value: Any = row
    for part in name.split("."):
        value = value[part]
    return value


# ------------------------------------------------------------ on-site time by product


def _paused_per_order(start: datetime, end: datetime):
    """Seconds each order's technician spent paused between arrival and completion."""
    events = _visit_events(start, end)
    length_s = epoch_s(events.c.next_at) - epoch_s(events.c.at)
    inside = and_(
        events.c.action == FIELD_PAUSED,
        events.c.next_at.isnot(None),
        events.c.at >= W.arrived_at,
        events.c.at < W.completed_at,
    )
    return (
        select(events.c.order_id, func.sum(case((inside, length_s), else_=0.0)).label("paused_s"))
        .select_from(events)
        .join(W, W.id == events.c.order_id)
        .group_by(events.c.order_id)
        # computed once per statement: joined as a subquery, a planner misled by tables not
        # yet analysed could compute it again for every order (minutes on 2,000 orders)
        .cte("paused_per_order")
        .prefix_with("MATERIALIZED")
    )


def on_site_by_product(session: Session, f: ReportFilter) -> dict[str, Any]:
    """Per product, installs and repairs received in the range and completed (the drill-down's
    ``completed_work``): the planned on-site time (``duration_min``) against the actual one
    (arrival to completion, the technician's recorded pauses left out), mean, median and p90,
    and a flag where the actual median is over DURATION_TOLERANCE_PCT away from the planned
    median (over at least MIN_FLAG_SAMPLE measured orders): longer or shorter."""
    paused = _paused_per_order(f.start, f.end)
    completed = measures.order_predicates(f)["completed_work"]
    measured = and_(completed, W.arrived_at.isnot(None))
    actual_s = measures.on_site_s() - func.coalesce(paused.c.paused_s, 0.0)
    planned_s = W.duration_min * 60.0
    source = joined(f).outerjoin(paused, paused.c.order_id == W.id)
    where = received_in_range(f)
    counts = (
        select(
            W.product.label("g"),
            func.sum(case((completed, 1), else_=0)).label("completed"),
            func.sum(case((measured, 1), else_=0)).label("measured"),
            func.avg(case((measured, planned_s))).label("planned_mean_s"),
            func.avg(case((measured, actual_s))).label("actual_mean_s"),
            func.sum(case((measured, func.coalesce(paused.c.paused_s, 0.0)), else_=0.0)).label("paused_s"),
        )
        .select_from(source)
        .where(*where)
        .group_by(W.product)
    )
    spreads = percentiles(
        session, W.product, {"planned": (measured, planned_s), "actual": (measured, actual_s)}, where, source
    )
    rows = []
    for row in session.execute(counts):
        if not row.completed:
            continue
        planned_median = spreads["planned"].get(row.g, {}).get(0.5)
        actual = spreads["actual"].get(row.g, {})
        rows.append(
            {
                "product": row.g,
                "completed": int(row.completed),
                "measured": int(row.measured or 0),
                "paused_s": round(float(row.paused_s or 0), 1),
                "planned_mean_s": _round(row.planned_mean_s),
                "planned_median_s": _round(planned_median),
                "actual_mean_s": _round(row.actual_mean_s),
                "actual_median_s": _round(actual.get(0.5)),
                "actual_p90_s": _round(actual.get(0.9)),
                **_deviation(int(row.measured or 0), planned_median, actual.get(0.5)),
            }
        )
    rows.sort(key=lambda r: r["product"])
    return {
        "date_from": f.date_from,
        "date_to": f.date_to,
        "judged_at": f.judged_at,
        "tolerance_pct": DURATION_TOLERANCE_PCT,
        "min_sample": MIN_FLAG_SAMPLE,
        "rows": rows,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _deviation(measured: int, planned: float | None, actual: float | None) -> dict[str, Any]:
    """How far the actual median is from the planned one, and whether the table is wrong."""
    if not planned or actual is None:
        return {"deviation_pct": None, "flag": None}
    deviation = round(100.0 * (actual - planned) / planned, 1)
    flag = None
    if measured >= MIN_FLAG_SAMPLE and abs(deviation) > DURATION_TOLERANCE_PCT:
        flag = "longer" if deviation > 0 else "shorter"
    return {"deviation_pct": deviation, "flag": flag}


DURATION_COLUMNS = (
    "product",
    "completed",
    "measured",
    "paused_s",
    "planned_mean_s",
    "planned_median_s",
    "actual_mean_s",
    "actual_median_s",
    "actual_p90_s",
    "deviation_pct",
    "flag",
)


def durations_table(found: dict[str, Any]) -> list[tuple]:
    """The on-site rows as tuples in DURATION_COLUMNS order."""
    return [tuple(row[name] for name in DURATION_COLUMNS) for row in found["rows"]]
