"""A realistic synthetic city day for the dispatch benchmark.

Districts on a grid around a city centre, each with a field office where its
technicians start and end; orders cluster around district centres. Mix of
installs, residential repairs, enterprise faults and follow-up visits, with
skills, AM / PM / all-day / exact-slot windows, P1-P3 priorities, enterprise
tiers with restore deadlines, shifts with lunch. Deterministic for a seed.
"""

from __future__ import annotations

import math
import random

from dispatch.routing.problem import TIERS, Problem, TechnicianSpec, VisitSpec

H = 3600
CITY_CENTRE = (30.6586, 104.0647)  # a large Chinese city centre (lat, lon)
DISTRICT_SPACING_KM = 6.0
KM_PER_DEG_LAT = 111.2

# Restore targets per tier in hours (DOMAIN.md defaults).
TIER_RESTORE_H = {"group": 4, "provincial": 6, "local_a": 8, "local_b": 24, "local_c": 48}

# kind: (share, duration minutes, skills, typical priorities)
ORDER_KINDS = {
    "install_broadband": (0.30, 40, ("lan",), ("P3",)),
    "install_iptv": (0.15, 50, ("lan", "iptv"), ("P3",)),
    "install_adsl": (0.05, 45, ("adsl",), ("P3",)),
    "repair_residential": (0.30, 30, ("lan",), ("P1", "P2", "P2", "P3")),
    "repair_enterprise": (0.08, 50, ("enterprise",), ("P1", "P2")),
    "follow_up": (0.12, 15, (), ("P3",)),
}


def _offset(km_north: float, km_east: float) -> tuple[float, float]:
    lat = CITY_CENTRE[0] + km_north / KM_PER_DEG_LAT
    lon = CITY_CENTRE[1] + km_east / (KM_PER_DEG_LAT * math.cos(math.radians(CITY_CENTRE[0])))
    return lat, lon


def district_centres(count: int) -> dict[str, tuple[float, float]]:
    """District name -> centre (km north, km east of the city centre)."""
    side = math.ceil(math.sqrt(count))
    centres = {}
    for k in range(count):
        row, col = divmod(k, side)
        centres[f"D{k + 1:02d}"] = (
            (row - (side - 1) / 2) * DISTRICT_SPACING_KM,
            (col - (side - 1) / 2) * DISTRICT_SPACING_KM,
        )
    return centres


def generate_city(orders: int, technicians: int, seed: int = 1, districts: int | None = None) -> Problem:
    """A city day with ``orders`` work orders and ``technicians`` on shift."""
    rng = random.Random(seed)
    count = districts or max(1, round(technicians / 10))
    centres = district_centres(count)
    names = list(centres)
    # One generator for the whole day, drawn from in this order: the same seed, the same day.
    techs = [_technician(rng, t, names[t % count], centres) for t in range(technicians)]
    kinds = list(ORDER_KINDS)
    shares = [ORDER_KINDS[k][0] for k in kinds]
    visits = [_order(rng, i, names, centres, kinds, shares) for i in range(orders)]
    return Problem(techs, visits, area_type="urban")


def _technician(
    rng: random.Random, t: int, district: str, centres: dict[str, tuple[float, float]]
) -> TechnicianSpec:
    """Technician ``t`` of ``district``: random skills and shift start, lunch, working-time cap."""
    office = _offset(*centres[district])
    skills = {"lan", "follow_up"}
    if rng.random() < 0.5:
        skills.add("adsl")
    if rng.random() < 0.6:
        skills.add("iptv")
    if rng.random() < 0.25:
        skills.add("enterprise")
    start_h = rng.choice([8.5, 8.5, 8.5, 9.0])
    return TechnicianSpec(
        id=f"T{t + 1:04d}",
        skills=frozenset(skills),
        start_lat=office[0],
        start_lon=office[1],
        end_lat=office[0],
        end_lon=office[1],
        shift_start_s=int(start_h * H),
        shift_end_s=int((start_h + 9) * H),
        lunch_earliest_s=int(11.5 * H),
        lunch_latest_s=13 * H,
        lunch_duration_s=45 * 60,
        max_work_s=int(8.25 * H),
        district=district,
    )


def _order(
    rng: random.Random,
    i: int,
    names: list[str],
    centres: dict[str, tuple[float, float]],
    kinds: list[str],
    shares: list[float],
) -> VisitSpec:
    """Order ``i``: a random district, place near its centre, kind, priority, window and deadline."""
    district = names[rng.randrange(len(names))]
    north, east = centres[district]
    lat, lon = _offset(north + rng.gauss(0, 1.6), east + rng.gauss(0, 1.6))
    kind = rng.choices(kinds, shares)[0]
    _, minutes, skills, priorities = ORDER_KINDS[kind]
    priority = rng.choice(priorities)
    tier = rng.choice(TIERS) if kind == "repair_enterprise" else None
    window, deadline = _window_and_deadline(rng, kind, priority, tier)
    return VisitSpec(
        id=f"W{i + 1:05d}",
        lat=lat,
        lon=lon,
        duration_s=int(minutes * 60 * rng.uniform(0.8, 1.2)),
        window_start_s=window[0],
        window_end_s=window[1],
        skills=frozenset(skills if kind != "follow_up" else ("follow_up",)),
        priority=priority,
        tier=tier,
        deadline_s=deadline,
        district=district,
    )


def _window_and_deadline(
    rng: random.Random, kind: str, priority: str, tier: str | None
) -> tuple[tuple[int, int], int | None]:
    """Faults: the whole day, and a restore deadline from when they were reported;
    installs and follow-ups: an AM, PM or exact one-hour slot, no deadline."""
    deadline = None
    if kind.startswith("repair"):
        window = (8 * H + 1800, 17 * H)  # faults: any time in the day
        reported = rng.randint(7 * H, 12 * H)
        hours = TIER_RESTORE_H[tier] if tier else {"P1": 4, "P2": 8, "P3": 24}[priority]
        deadline = reported + hours * H
        if priority == "P1":
            window = (8 * H + 1800, 17 * H)
    else:
        slot = rng.random()
        if slot < 0.45:
            window = (8 * H + 1800, 12 * H)  # AM
        elif slot < 0.9:
            window = (13 * H, 17 * H)  # PM
        else:
            start = rng.choice(range(9 * H, 16 * H, H))
            window = (start, start + H)  # exact slot
    return window, deadline
