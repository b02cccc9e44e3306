"""The field side of a made-up history (``reports.history``): for the last weeks, each day's
applied dispatch plan and the phone's visit events, so that technicians' utilisation (work,
travel, waiting, idle) and planned against actual on-site time have something to show.

Each completed install or repair of the sample becomes a stop on its technician's route for the
day it was worked: planned to start near when it did, for its planned duration (``duration_min``),
after a planned drive; the events say the technician set off a drive (a little longer or shorter
than planned) before arriving, arrived, started work, and completed at the order's own times.
Routes start at the technician's shift (``Technician.shift_start``; day-by-day shift changes are
not modelled). One applied plan per day, decided the evening before, like the day planner's.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.models import AuditEvent
from dispatch.models import DispatchPlan
from technicians.models import Technician
from workorders.models import WorkOrder

W = WorkOrder
FIELD_WEEKS = 8
# The most orders given a field day: plans and events for a sample, not for a million orders.
FIELD_SAMPLE_MAX = 20_000
# Planned drive between stops, seconds; the actual drive is this times a factor in DRIVE_FACTOR.
DRIVE_S = (600, 2400)
DRIVE_FACTOR = (0.8, 1.4)
START_WORK_AFTER = timedelta(minutes=3)
METRES_PER_S = 8.0  # a city drive, about 30 km/h


@dataclass(frozen=True)
class FieldSummary:
    plans: int
    visits: int
    events: int


def generate_field_days(
    session: Session, rng: random.Random, code_prefix: str, end: date, weeks: int = FIELD_WEEKS
) -> FieldSummary:
    """Plans and visit events for the completed field orders whose code starts with
    ``code_prefix`` (one history run) and that were worked in the ``weeks`` before ``end``."""
    since = datetime.combine(end - timedelta(weeks=weeks), time.min)
    visits = session.execute(
        select(W.id, W.technician_id, W.arrived_at, W.completed_at, W.duration_min)
        .where(
            W.code.like(f"{code_prefix}%"),
            W.kind.in_(("install", "repair")),
            W.technician_id.isnot(None),
            W.arrived_at >= since,
            W.completed_at.isnot(None),
        )
        .order_by(W.arrived_at.desc())
        .limit(FIELD_SAMPLE_MAX)
    ).all()
    shifts = dict(session.execute(select(Technician.id, Technician.shift_start)).all())
    days: dict[date, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    for visit in visits:
        days[visit.arrived_at.date()][visit.technician_id].append(visit)
    plans, events = [], []
    for day, routes in sorted(days.items()):
        plans.append(_plan(rng, day, routes, shifts, events))
    for at in range(0, len(events), 5000):
        session.execute(insert(AuditEvent), events[at : at + 5000])
    if plans:
        session.execute(insert(DispatchPlan), plans)
    session.commit()
    return FieldSummary(len(plans), len(visits), len(events))


def _plan(
    rng: random.Random,
    day: date,
    routes: dict[int, list],
    shifts: dict[int, time | None],
    events: list[dict[str, Any]],
) -> dict[str, Any]:
    """The day's applied plan (one route per technician), its visits' events added to ``events``."""
    midnight = datetime.combine(day, time.min)
    planned_routes = []
    for tech_id, visits in sorted(routes.items()):
        shift = shifts.get(tech_id) or time(8, 30)
        clock_s = int((datetime.combine(day, shift) - midnight).total_seconds())
        stops = []
        for visit in sorted(visits, key=lambda v: v.arrived_at):
            drive_s = rng.randrange(*DRIVE_S)
            arrived_s = int((visit.arrived_at - midnight).total_seconds())
            # planned near when it happened, never before the last stop's planned end
            start_s = max(clock_s + drive_s, arrived_s + rng.randrange(-1800, 1800))
            end_s = start_s + int(visit.duration_min or 60) * 60
            stops.append(
                {
                    "visit_id": visit.id,
                    "arrival_s": start_s,
                    "start_s": start_s,
                    "end_s": end_s,
                    "travel_s": drive_s,
                    "travel_m": drive_s * METRES_PER_S,
                    "late_s": 0,
                }
            )
            clock_s = end_s
            _visit_events(rng, visit, drive_s, events)
        home_s = rng.randrange(*DRIVE_S)
        planned_routes.append(
            {
                "technician_id": tech_id,
                "stops": stops,
                "travel_s": sum(stop["travel_s"] for stop in stops) + home_s,
                "travel_m": (sum(stop["travel_s"] for stop in stops) + home_s) * METRES_PER_S,
                "work_s": sum(stop["end_s"] - stop["start_s"] for stop in stops),
            }
        )
    decided = midnight - timedelta(hours=6)  # the evening before
    return {
        "day": day,
        "kind": "day",
        "status": "applied",
        "order_versions": {},
        "technician_ids": sorted(routes),
        "result": {"routes": planned_routes, "now_s": None},
        "created_at": decided - timedelta(minutes=5),
        "decided_at": decided,
    }


def _visit_events(rng: random.Random, visit, drive_s: int, events: list[dict[str, Any]]) -> None:
    """En route, on site, work started, completed: the phone's events of one visit."""
    drive = timedelta(seconds=drive_s * rng.uniform(*DRIVE_FACTOR))
    for action, at in (
        ("state:en_route", visit.arrived_at - drive),
        ("state:on_site", visit.arrived_at),
        ("field:started", min(visit.arrived_at + START_WORK_AFTER, visit.completed_at)),
        ("state:completed", visit.completed_at),
    ):
        events.append(
            {
                "at": at,
                "actor_name": "history",
                "actor_role": "technician",
                "action": action,
                "entity_type": "work_order",
                "entity_id": visit.id,
            }
        )
