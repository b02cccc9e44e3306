"""Balancing the week: a reviewable proposal to move booked, non-urgent visits from
the fullest working days to lighter ones within what each order allows.

A day's load is the time on site of the orders on it (in a route that day, or
booked on it and not yet planned) against the working time of the active
technicians (shift less lunch). Orders that may move: booked on a day, not yet
in anyone's route (so not started), not P1, unblocked, whose restore deadline
(if any) leaves them at least one other day of the horizon. From each day
fuller than the week's mean by more than :data:`MARGIN_PCT`, the most movable
orders (P3 first, the latest deadline first) go to the lightest day they may
take, priced there with :mod:`dispatch.booking` (the best feasible slot), until
the day is back near the mean. Nothing is applied: each move says why, and
whether the customer agreed the current window (then they must be asked).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy.orm import Session

from core.actor import Actor
from core.clock import now
from core.errors import N_, Message
from dispatch.booking import DEFAULT_SCHEME, booking_days, day_orders, price_day, scheme_windows
from dispatch.planning import shift_s
from technicians.models import Technician
from technicians.service import active_technicians
from workorders.models import WorkOrder

MARGIN_PCT = 10.0
MAX_MOVES = 20
PRIORITY_ORDER = {"P3": 0, "P2": 1, "P1": 2}
MOVE_REASON = N_("%(from_day)s is %(from_load)s full, %(to_day)s %(to_load)s: %(name)s can take it there")


def _capacity_min(techs: list[Technician]) -> int:
    total = 0
    for tech in techs:
        start_s, end_s = shift_s(tech)
        lunch_min = (tech.lunch_duration_min or 0) if tech.lunch_start is not None else 0
        total += max(end_s - start_s, 0) // 60 - lunch_min
    return total


def _pct(load_min: float, capacity_min: int) -> float:
    return round(100.0 * load_min / capacity_min, 1) if capacity_min else 0.0


def _movable(order: WorkOrder, day: date, days: list[date]) -> list[date]:
    """The other days of the horizon the order may go to (none: it stays)."""
    if order.priority == "P1" or order.blocked:
        return []
    deadline = order.restore_deadline
    return [d for d in days if d != day and (deadline is None or d <= deadline.date())]


def appointment_agreed(order: WorkOrder) -> bool:
    """Whether the customer agreed the order's current window (moving it means asking them)."""
    return order.appointment_start is not None


def _move_order(order: WorkOrder) -> tuple:
    """P3 first; among them no deadline, then the latest deadline, first."""
    deadline = order.restore_deadline
    return (PRIORITY_ORDER.get(order.priority, 0), -deadline.timestamp() if deadline else float("-inf"))


def balance_week(
    session: Session,
    actor: Actor,
    start_day: date | None = None,
    days: int = 5,
    slot_scheme: str = DEFAULT_SCHEME,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Propose moves that even out the next ``days`` working days from
    ``start_day`` (default today): each day's load before and after, and the
    moves (order, from, to, the slot and technician it would get there, why).
    Nothing is changed; ``actor`` is who asked (for the record of the proposal)."""
    at = at or now()
    start = max(start_day or at.date(), at.date())
    horizon = [d for d in booking_days(at, 60) if d >= start][:days]
    windows = scheme_windows(slot_scheme)
    techs = active_technicians(session)
    capacity = _capacity_min(techs)
    load: dict[date, float] = {}
    booked: dict[date, list[WorkOrder]] = {}
    for day in horizon:
        routed, waiting = day_orders(session, day, at, None)
        load[day] = float(sum(o.duration_min for o in [*routed, *waiting]))
        booked[day] = sorted(waiting, key=_move_order)
    before = dict(load)
    mean = sum(_pct(v, capacity) for v in load.values()) / len(load) if load else 0.0
    moves: list[dict[str, Any]] = []
    # The moves proposed so far, by target day: each next one is priced with them booked
    # there, so the moves can be booked together (POST /booking/balance/apply).
    proposed: dict[date, list[tuple[WorkOrder, int, int]]] = {}
    for day in sorted(horizon, key=lambda d: -load[d]):
        for order in booked[day]:
            if len(moves) >= MAX_MOVES or _pct(load[day], capacity) <= mean + MARGIN_PCT:
                break
            targets = [d for d in _movable(order, day, horizon) if _pct(load[d], capacity) < mean]
            targets.sort(key=lambda d: load[d])
            move = _best_move(session, order, day, targets, windows, at, techs, proposed)
            if move is None:
                continue
            to_day = move["to_day"]
            midnight = datetime.combine(to_day, time.min)
            window_s = (
                int((move["start"] - midnight).total_seconds()),
                int((move["end"] - midnight).total_seconds()),
            )
            proposed.setdefault(to_day, []).append((order, *window_s))
            move["reason"] = Message(
                MOVE_REASON,
                from_day=day.isoformat(),
                from_load=f"{_pct(load[day], capacity):.0f}%",
                to_day=to_day.isoformat(),
                to_load=f"{_pct(load[to_day], capacity):.0f}%",
                name=move["technician_name"] or "",
            )
            load[day] -= order.duration_min
            load[to_day] += order.duration_min
            moves.append(move)
    return {
        "requested_by": actor.username,
        "capacity_min": capacity,
        "mean_load_pct": round(mean, 1),
        "days": [
            {
                "day": d,
                "load_min": int(before[d]),
                "load_pct": _pct(before[d], capacity),
                "load_pct_after": _pct(load[d], capacity),
            }
            for d in horizon
        ],
        "moves": moves,
    }


def _best_move(
    session: Session,
    order: WorkOrder,
    day: date,
    targets: list[date],
    windows: list,
    at: datetime,
    techs: list[Technician],
    proposed: dict[date, list[tuple[WorkOrder, int, int]]],
) -> dict[str, Any] | None:
    """The order on the lightest target day it fits (its cheapest slot there, the moves
    ``proposed`` there before it counted), or None."""
    for target in targets[:2]:  # the two lightest: each day priced is a model per technician
        also = proposed.get(target, [])
        slots = [s for s in price_day(session, order, target, windows, at, techs, also) if s["feasible"]]
        if not slots:
            continue
        best = min(slots, key=lambda s: s["cost"])
        return {
            "order_id": order.id,
            "code": order.code,
            "version": order.version,
            "from_day": day,
            "to_day": target,
            "slot": best["slot"],
            "start": best["start"],
            "end": best["end"],
            "technician_id": best["technician_id"],
            "technician_name": best["technician_name"],
            "extra_travel_m": best["extra_travel_m"],
            "appointment_agreed": appointment_agreed(order),
        }
    return None
