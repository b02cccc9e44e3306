"""Appointment slots on a planned city day: how long proposing them takes.

``python -m bench city --orders 1000 --technicians 100 --seconds 30 --slots 20``
plans the generated day, then prices the slots (:func:`dispatch.slots.price_slots`,
what :func:`dispatch.booking.propose_slots` runs per day) for ``--slots`` new
orders near the day's orders, on the planned day as held routes, over
``--slot-days`` days each as full as it (the worst case: every day of the
horizon as busy as the planned one). Prints the median and maximum seconds
per order.
"""

from __future__ import annotations

import random
import statistics
import time

from dispatch.routing.matrix import HaversineMatrix
from dispatch.routing.problem import Plan, Problem, VisitSpec
from dispatch.slots import price_slots, slot_windows

# New orders: an install (LAN, IPTV) or a repair, as the city generator mixes them.
NEW_ORDER_KINDS = (
    (frozenset({"lan"}), 40 * 60, "P3"),
    (frozenset({"lan", "iptv"}), 50 * 60, "P3"),
    (frozenset({"lan"}), 30 * 60, "P2"),
    (frozenset({"adsl"}), 45 * 60, "P3"),
)


def new_orders(problem: Problem, count: int, seed: int = 7) -> list[VisitSpec]:
    """``count`` orders near random orders of the day (a few hundred metres off)."""
    rng = random.Random(seed)
    orders = []
    for k in range(count):
        anchor = problem.visits[rng.randrange(len(problem.visits))]
        skills, duration_s, priority = NEW_ORDER_KINDS[k % len(NEW_ORDER_KINDS)]
        orders.append(
            VisitSpec(
                f"NEW-{k + 1}",
                anchor.lat + rng.uniform(-0.004, 0.004),
                anchor.lon + rng.uniform(-0.004, 0.004),
                duration_s,
                0,
                24 * 3600,
                skills=skills,
                priority=priority,
                district=anchor.district,
            )
        )
    return orders


def run_slots(problem: Problem, plan: Plan, count: int, days: int, scheme: str = "halves") -> list[dict]:
    """Time proposing slots for ``count`` new orders over one day, and over
    ``days`` days when more; the figures printed."""
    return [_time_slots(problem, plan, count, n, scheme) for n in sorted({1, days})]


def _time_slots(problem: Problem, plan: Plan, count: int, days: int, scheme: str) -> dict:
    windows = slot_windows(scheme)
    matrix = HaversineMatrix(area_type=problem.area_type)
    seconds, offered, priced = [], 0, 0
    for visit in new_orders(problem, count):
        started = time.monotonic()
        prices = [
            p for _day in range(days) for p in price_slots(problem, plan, visit, windows, matrix=matrix)
        ]
        seconds.append(time.monotonic() - started)
        offered += sum(1 for p in prices if p.fits)
        priced += sum(p.evaluated for p in prices)
    figures = {
        "orders": count,
        "days": days,
        "slots_per_day": len(windows),
        "median_s": statistics.median(seconds),
        "max_s": max(seconds),
        "feasible_slots": offered,
        "technician_days_priced": priced,
    }
    print(
        f"slots: {count} new orders x {days} day(s) x {len(windows)} slots on the planned day: "
        f"median {figures['median_s']:.3f} s, max {figures['max_s']:.3f} s per order, "
        f"feasible slots {offered}/{count * days * len(windows)}, technician-days priced {priced}",
        flush=True,
    )
    return figures
