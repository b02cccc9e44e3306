"""A realistic made-up history of orders for demos and benchmarks (never for real data).

A year (or any span) of installs, repairs and complaints ending at ``end``: daily volume with a
seasonal swing, quieter weekends and public holidays (the official calendar), a few bad weeks
where restores take much longer, customer-caused SLA pauses, revisits, cancellations, repeat
faults at the same site, follow-ups with satisfaction scores, and orders still open at the end.
Rows are inserted in batches with the database's own bulk insert, so a million orders is a
matter of minutes, not hours.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

import standards
from core.models import AuditEvent
from reports.history_field import FIELD_WEEKS, generate_field_days
from standards.sla import is_working_day
from technicians.models import Technician
from workorders.models import Customer, FollowUp, LineRecord, Site, WorkOrder

# The demo city's districts and their centres (application.demo.DISTRICTS, which this layer may
# not import; the commands pass theirs in, and a test keeps the two the same).
CITY_DISTRICTS: dict[str, tuple[float, float]] = {
    "蜀山区": (31.851, 117.260),
    "包河区": (31.793, 117.309),
    "庐阳区": (31.878, 117.265),
    "瑶海区": (31.858, 117.309),
    "高新区": (31.820, 117.200),
    "经开区": (31.777, 117.220),
    "滨湖新区": (31.730, 117.290),
}
SITE_SPREAD_DEG = 0.03  # a site lies this far at most from its district's centre, each way
# Actual on-site time against the planned duration, by product (median factor): the planner's
# table is right for most, too short for the enterprise circuits, too long for IPTV.
ON_SITE_FACTOR = {"sdh": 1.45, "mpls_vpn": 1.3, "iptv_lan": 0.75, "iptv_adsl": 0.75}
RESIDENTIAL_PRODUCTS = ("adsl", "lan", "iptv_lan", "iptv_adsl", "bundle_lan_iptv")
ENTERPRISE_PRODUCTS = ("lan_dedicated", "mpls_vpn", "sdh", "ddn", "xdsl")
TIER_RESTORE_H = {"group": 4, "provincial": 6, "local_a": 8, "local_b": 24, "local_c": 48, None: 24}
RESPONSE_MIN = {"P1": 15, "P2": 60, "P3": 120}
CHANNELS = ("hotline", "hotline", "hotline", "portal", "monitoring", "account_manager")
BATCH = 5000


@dataclass(frozen=True)
class Place:
    customer_id: int
    site_id: int
    line_id: int
    tier: str | None
    enterprise: bool


@dataclass(frozen=True)
class HistorySummary:
    orders: int
    follow_ups: int
    audit_events: int
    start: date
    end: date
    field_plans: int = 0
    field_events: int = 0


def _places(
    session: Session, rng: random.Random, wanted: int, districts: Mapping[str, tuple[float, float]]
) -> list[Place]:
    """The sites orders happen at: the database's own (with a line), topped up with made-up
    ones inserted in bulk."""
    rows = session.execute(
        select(Site.customer_id, Site.id, LineRecord.id, Customer.enterprise_tier, Customer.kind)
        .join(LineRecord, LineRecord.site_id == Site.id)
        .join(Customer, Customer.id == Site.customer_id)
        .limit(wanted)
    ).all()
    places = [Place(c, s, ln, tier, kind == "enterprise") for c, s, ln, tier, kind in rows]
    missing = wanted - len(places)
    if missing <= 0:
        return places
    tiers = ("group", "provincial", "local_a", "local_b", "local_c")
    people = [
        {
            "name": f"历史客户{i:06d}",
            "kind": "residential",
            "enterprise_tier": None,
            "created_at": datetime(2000, 1, 1),
        }
        for i in range(missing)
    ]
    for person in people:
        if rng.random() < 0.2:
            person.update(kind="enterprise", enterprise_tier=rng.choice(tiers))
    customer_ids = _insert_returning(session, Customer, people)
    names = sorted(districts)
    chosen = [rng.choice(names) for _ in range(missing)]
    site_ids = _insert_returning(
        session,
        Site,
        [
            {
                "customer_id": c,
                "address": f"合肥市{d}示例路{i}号",
                "district": d,
                "lat": round(districts[d][0] + rng.uniform(-SITE_SPREAD_DEG, SITE_SPREAD_DEG), 6),
                "lon": round(districts[d][1] + rng.uniform(-SITE_SPREAD_DEG, SITE_SPREAD_DEG), 6),
            }
            for i, (c, d) in enumerate(zip(customer_ids, chosen, strict=True))
        ],
    )
    line_ids = _insert_returning(
        session,
        LineRecord,
        [
            {"site_id": s, "access_type": rng.choice(("adsl", "lan")), "route_length_m": 1500.0}
            for s in site_ids
        ],
    )
    for person, c, s, ln in zip(people, customer_ids, site_ids, line_ids, strict=True):
        places.append(Place(c, s, ln, person["enterprise_tier"], person["kind"] == "enterprise"))
    return places


def _insert_returning(session: Session, model, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` and answer their ids, in order.

    The ids are reserved first (the table's sequence on PostgreSQL; past the largest id on
    SQLite, which has one writer at a time) and inserted with the rows: a plain bulk insert,
    where RETURNING with the rows' order kept costs SQLite a statement and a merge per row."""
    table = model.__table__
    ids = _reserve_ids(session, table, len(rows))
    for at in range(0, len(rows), BATCH):
        chunk = [
            row | {"id": id_} for row, id_ in zip(rows[at : at + BATCH], ids[at : at + BATCH], strict=True)
        ]
        session.execute(insert(table), chunk)
    return ids


def _reserve_ids(session: Session, table, count: int) -> list[int]:
    if not count:
        return []
    if session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        return list(
            session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, count)))
        )
    last = session.scalar(select(func.coalesce(func.max(table.c.id), 0))) or 0
    return list(range(last + 1, last + 1 + count))


def _technicians(session: Session, rng: random.Random) -> list[int]:
    found = list(session.scalars(select(Technician.id).limit(200)))
    if found:
        return found
    for i in range(30):
        session.add(Technician(name=f"历史装维{i:02d}", home_lat=31.85, home_lon=117.26, skills=[]))
    session.flush()
    return list(session.scalars(select(Technician.id)))


@lru_cache(maxsize=4096)
def _working(day: date) -> bool:
    return is_working_day(day)


@lru_cache(maxsize=4096)
def _final_answer_day(day: date) -> tuple[date, str]:
    deadline = standards.add_working_days(datetime.combine(day, time(12)), 3)
    return deadline.at.date(), deadline.source


def _daily_volume(day: date, per_day: float) -> float:
    """Orders on ``day``: a summer peak (storms, moves), quieter weekends and holidays."""
    season = 1 + 0.3 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 100) / 365)
    if not _working(day):
        season *= 0.55
    return per_day * season


def _days(start: date, end: date, orders: int) -> list[tuple[date, int]]:
    """How many orders each day gets, summing to ``orders``."""
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    weights = [_daily_volume(d, 1.0) for d in days]
    total = sum(weights)
    counts = [int(orders * w / total) for w in weights]
    for i in range(orders - sum(counts)):  # the rounding's remainder, spread from the start
        counts[i % len(counts)] += 1
    return list(zip(days, counts, strict=True))


def generate(
    session: Session,
    orders: int,
    end: date,
    days: int = 365,
    seed: int = 15,
    sites: int | None = None,
    districts: Mapping[str, tuple[float, float]] | None = None,
    field_weeks: int = FIELD_WEEKS,
) -> HistorySummary:
    """Add ``orders`` made-up orders received over the ``days`` before ``end`` (with their
    follow-ups and audit events), committing batch by batch; then, for the last ``field_weeks``
    weeks, the applied plans and the visits' events (``reports.history_field``). ``sites``
    defaults to one per order: a site sees a fault every year or two, so faults back within 30
    days are about 1 in 8. New sites lie in ``districts`` (name -> centre), by default the
    demo city's."""
    rng = random.Random(seed)
    start = end - timedelta(days=days)
    places = _places(session, rng, sites or max(orders, 50), districts or CITY_DISTRICTS)
    technicians = _technicians(session, rng)
    session.commit()
    bad_weeks = {start + timedelta(weeks=rng.randrange(max(days // 7, 1))) for _ in range(3)}
    prefix = f"H{seed}-{rng.randrange(16**6):06x}-"
    made = followups = events = 0
    batch: list[tuple[dict[str, Any], dict[str, Any]]] = []
    recent: deque[tuple[Place, datetime]] = deque(maxlen=500)  # repairs lately completed
    for day, count in _days(start, end, orders):
        slow = any(week <= day < week + timedelta(days=7) for week in bad_weeks)
        for _ in range(count):
            order, extra = _order(rng, day, end, slow, places, technicians, recent)
            order["code"] = f"{prefix}{made:07d}"
            made += 1
            batch.append((order, extra))
            if len(batch) >= BATCH:
                f, e = _flush(session, batch, rng)
                followups, events, batch = followups + f, events + e, []
    if batch:
        f, e = _flush(session, batch, rng)
        followups, events = followups + f, events + e
    field = generate_field_days(session, rng, prefix, end, weeks=field_weeks) if field_weeks else None
    return HistorySummary(
        made,
        followups,
        events,
        start,
        end,
        field_plans=field.plans if field else 0,
        field_events=field.events if field else 0,
    )


# Columns every made-up order has alike.
_FIXED: dict[str, Any] = {
    "duration_min": 60,
    "version": 1,
    "required_skills": [],
    "findings": [],
    "checklist": {},
    "closeout_findings": [],
    "blocked": False,
    "state": "completed",
}


def _pause(row: dict[str, Any], start: datetime, paused: timedelta, budget: timedelta) -> None:
    """One customer-caused pause on the restore clock, stored as workorders.sla stores it: the
    clock in JSON, and the restore deadline moved by the pause."""
    received = row["received_at"]
    row["sla_clock"] = {
        "start": received.isoformat(),
        "budget_s": budget.total_seconds(),
        "source": "clock-hours",
        "pauses": [
            {"start": start.isoformat(), "reason": "customer_absent", "end": (start + paused).isoformat()}
        ],
    }
    row["restore_deadline"] = received + budget + paused


def _order(
    rng: random.Random,
    day: date,
    end: date,
    slow: bool,
    places: list[Place],
    technicians: list[int],
    recent: deque[tuple[Place, datetime]],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One order's columns, and what follows it (revisit, cancellation, follow-up)."""
    received = datetime.combine(day, time(7)) + timedelta(seconds=rng.randrange(15 * 3600))
    kind = rng.choices(("repair", "install", "complaint"), weights=(62, 33, 5))[0]
    place = rng.choice(places)
    repeat = False
    if kind == "repair" and recent and rng.random() < 0.08:
        # A fault that comes back: a repair at a site fixed in the last weeks (some past 30 days).
        earlier_place, fixed_at = recent[rng.randrange(len(recent))]
        if timedelta(0) < received - fixed_at <= timedelta(days=45):
            place, repeat = earlier_place, True
    product = rng.choice(ENTERPRISE_PRODUCTS if place.enterprise else RESIDENTIAL_PRODUCTS)
    priority = rng.choices(("P1", "P2", "P3"), weights=(10, 30, 60))[0]
    response_deadline = received + timedelta(minutes=RESPONSE_MIN[priority])
    if kind == "install":
        budget = timedelta(days=7)
    elif kind == "complaint":
        final_day, _source = _final_answer_day(received.date())
        budget = datetime.combine(final_day, received.time()) - received
    else:
        budget = timedelta(hours=TIER_RESTORE_H[place.tier])
    row: dict[str, Any] = _FIXED | {
        "kind": kind,
        "product": product,
        "priority": priority,
        "source": rng.choice(CHANNELS),
        "customer_id": place.customer_id,
        "site_id": place.site_id,
        "line_id": place.line_id,
        "technician_id": rng.choice(technicians) if kind != "complaint" else None,
        "received_at": received,
        "created_at": received,
        "updated_at": received,
        "response_deadline": response_deadline,
        "restore_deadline": received + budget,
        "is_repeat_fault": repeat and rng.random() < 0.5,
    }
    if kind == "complaint":
        row["handling_deadline"] = received + timedelta(hours=72)
    response = timedelta(minutes=rng.lognormvariate(math.log(RESPONSE_MIN[priority] * 0.6), 0.6))
    row["responded_at"] = received + response
    work_h = rng.lognormvariate(math.log(budget.total_seconds() / 3600 * 0.45), 0.7) * (2.5 if slow else 1)
    paused = timedelta(0)
    if kind == "repair" and rng.random() < 0.08:  # the customer was out, or the site closed
        paused = timedelta(minutes=rng.randrange(30, 360))
        _pause(row, received + response + timedelta(minutes=10), paused, budget)
    completed = received + response + timedelta(hours=work_h) + paused
    cutoff = datetime.combine(end, time.min)
    extra = {"revisit": kind != "complaint" and rng.random() < 0.1, "cancel": rng.random() < 0.03}
    if extra["cancel"]:
        row.update(state="cancelled", responded_at=None)
    elif completed >= cutoff:  # still open when the history ends
        row.update(state="assigned" if kind != "complaint" else "received")
        if row["responded_at"] >= cutoff:
            row["responded_at"] = None
    else:
        row["completed_at"] = completed
        if kind != "complaint":  # on site for about the planned time, longer or shorter by product
            factor = rng.lognormvariate(math.log(ON_SITE_FACTOR.get(product, 1.0)), 0.3)
            on_site = timedelta(minutes=_FIXED["duration_min"] * factor)
            row["arrived_at"] = max(completed - on_site, received + response)
        row["closed_at"] = completed if kind == "complaint" else None
        if kind == "complaint":
            row["handled_at"] = received + timedelta(hours=rng.uniform(2, 90))
        if kind == "repair":
            recent.append((place, completed))
    return row, extra


def _flush(session: Session, batch: list[tuple[dict[str, Any], dict[str, Any]]], rng: random.Random):
    """Insert a batch of orders (ids back in order), then their audit events and follow-ups."""
    rows = [row for row, _extra in batch]
    keys = sorted({key for row in rows for key in row})
    rows = [{key: row.get(key) for key in keys} for row in rows]
    ids = _insert_returning(session, WorkOrder, rows)
    events, followups = [], []
    for order_id, (row, extra) in zip(ids, batch, strict=True):
        received = row["received_at"]
        if extra["revisit"] and row["state"] != "cancelled":
            events.append(_event(order_id, "state:needs_revisit", received + timedelta(hours=2)))
        if extra["cancel"]:
            events.append(_event(order_id, "state:cancelled", received + timedelta(hours=1)))
        done = row.get("completed_at")
        if done is not None and rng.random() < 0.8:
            due = done + timedelta(days=3 if row["kind"] == "install" else 1)
            answered = rng.random() < 0.85
            at = done + timedelta(hours=rng.uniform(2, 40)) if answered else None
            followups.append(
                {
                    "customer_id": row["customer_id"],
                    "order_id": order_id,
                    "site_id": row["site_id"],
                    "reason": row["kind"],
                    "method": "phone",
                    "due_at": due,
                    "state": "done" if answered else "open",
                    "attempts": 1 if answered else 0,
                    "satisfaction": rng.choices((1, 2, 3, 4, 5), weights=(3, 4, 10, 35, 48))[0]
                    if answered
                    else None,
                    "completed_at": at,
                    "created_at": done,
                }
            )
    if events:
        session.execute(insert(AuditEvent), events)
    if followups:
        session.execute(insert(FollowUp), followups)
    session.commit()
    return len(followups), len(events)


def _event(order_id: int, action: str, at: datetime) -> dict[str, Any]:
    return {
        "at": at,
        "actor_name": "history",
        "actor_role": "dispatcher",
        "action": action,
        "entity_type": "work_order",
        "entity_id": order_id,
    }
