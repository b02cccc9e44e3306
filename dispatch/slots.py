"""Appointment slots priced on a day's held routes (no Flask, no database).

A slot is an arrival window (the hard window of :class:`VisitSpec`). For each
slot the new visit is slotted into the held routes of the technicians who may
take it with :mod:`dispatch.routing.insertion`, which prices every try on the
planning model's scale (travel, lateness, orders left out), so slots on
different days and technicians compare directly.

Only a few technicians are priced per slot (each is a routing model of their
day): the qualified ones (skills) on shift during the slot, the ones working
nearest the site first. The others could only cost more travel.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from dispatch.routing.insertion import Insertion, InsertionOption
from dispatch.routing.matrix import HaversineMatrix, TravelMatrix
from dispatch.routing.problem import Plan, Problem, TechnicianSpec, VisitSpec

H = 3600

# Arrival windows by scheme: (key, start, end) in seconds from midnight.
SLOT_SCHEMES: dict[str, tuple[tuple[str, int, int], ...]] = {
    "halves": (("am", 8 * H + 1800, 12 * H), ("pm", 13 * H, 17 * H + 1800)),
    "two_hours": (
        ("0830", 8 * H + 1800, 10 * H + 1800),
        ("1030", 10 * H + 1800, 12 * H + 1800),
        ("1300", 13 * H, 15 * H),
        ("1500", 15 * H, 17 * H),
    ),
}
DEFAULT_SCHEME = "halves"
# Technicians priced per slot (nearest qualified on shift first).
CANDIDATES = 4

# Why a slot cannot be booked, beyond the insertion's own reasons
# (day_full, window_unreachable, window_passed).
NO_SKILLED = "no_skilled_technician"
NO_ONE_ON_SHIFT = "no_technician_on_shift"


@dataclass(frozen=True)
class SlotWindow:
    """One arrival window of a scheme."""

    key: str
    start_s: int
    end_s: int


def slot_windows(scheme: str = DEFAULT_SCHEME) -> list[SlotWindow]:
    """The windows of ``scheme`` (KeyError for an unknown one)."""
    return [SlotWindow(key, start, end) for key, start, end in SLOT_SCHEMES[scheme]]


@dataclass
class SlotPrice:
    """A slot on one day: the cheapest technician's option, or why none fits."""

    window: SlotWindow
    option: InsertionOption | None = None
    reason: str | None = None
    evaluated: int = 0

    @property
    def fits(self) -> bool:
        return self.option is not None

    @property
    def cost(self) -> int:
        return self.option.cost if self.option is not None else 0


def on_shift(tech: TechnicianSpec, visit: VisitSpec) -> bool:
    """The technician can start the visit inside its window and finish within the shift."""
    earliest = max(tech.depart_s, visit.window_start_s)
    return earliest <= visit.window_end_s and earliest + visit.duration_s <= tech.shift_end_s


def room_s(tech: TechnicianSpec, plan: Plan, visits: dict[int | str, VisitSpec]) -> int:
    """Time on site the technician's day could still take: the working time left
    from departure (less lunch, within the working-time cap) minus the held stops'
    time on site. Travel only takes more, so a visit longer than this cannot fit."""
    available = tech.shift_end_s - tech.depart_s
    if (
        tech.lunch_earliest_s is not None
        and tech.lunch_latest_s is not None
        and tech.lunch_latest_s >= tech.depart_s
    ):
        available -= tech.lunch_duration_s
    if tech.max_work_s is not None:  # time on duty before departure counts against the cap
        available = min(available, tech.max_work_s - max(tech.depart_s - tech.shift_start_s, 0))
    route = plan.route_of(tech.id)
    held = [visits[s.visit_id] for s in route.stops if s.visit_id in visits] if route is not None else []
    # Work under way may be partly done: it is not counted against the day.
    return available - sum(v.duration_s for v in held if not v.pinned_first and v.started_s is None)


def price_slots(
    problem: Problem,
    plan: Plan,
    visit: VisitSpec,
    windows: list[SlotWindow],
    candidates: int = CANDIDATES,
    matrix: TravelMatrix | None = None,
) -> list[SlotPrice]:
    """Each window of one day priced on the held routes ``plan`` (nobody's route
    reordered, nothing displaced), in the order given."""
    matrix = matrix or HaversineMatrix(area_type=problem.area_type)
    visits = {v.id: v for v in problem.visits}
    skilled = Insertion(problem, plan, visit, matrix).qualified()
    # Technicians whose day is already full are not priced (nearer ones with room are).
    qualified = [t for t in skilled if room_s(t, plan, visits) >= visit.duration_s]
    prices = []
    for window in windows:
        timed = replace(visit, window_start_s=window.start_s, window_end_s=window.end_s)
        if not skilled:
            prices.append(SlotPrice(window, reason=NO_SKILLED))
            continue
        if not qualified:
            prices.append(SlotPrice(window, reason="day_full"))
            continue
        near = [t for t in qualified if on_shift(t, timed)][:candidates]
        if not near:
            prices.append(SlotPrice(window, reason=NO_ONE_ON_SHIFT))
            continue
        options = Insertion(problem, plan, timed, matrix).options(near)
        best = options[0]
        if best.fits:
            prices.append(SlotPrice(window, option=best, evaluated=len(near)))
        else:
            reasons = {o.reason for o in options}
            reason = best.reason if len(reasons) == 1 else "day_full"
            prices.append(SlotPrice(window, reason=reason, evaluated=len(near)))
    return prices


def place(problem: Problem, plan: Plan, visit: VisitSpec, candidates: int = CANDIDATES) -> Plan:
    """``plan`` with ``visit`` (already given its window) in the cheapest held
    route among the nearest qualified technicians; unchanged when it fits
    nowhere. Used to count orders booked on a day but not yet planned."""
    insertion = Insertion(problem, plan, visit)
    near = [t for t in insertion.qualified() if on_shift(t, visit)][:candidates]
    if not near:
        return plan
    best = insertion.options(near)[0]
    if not best.fits or best.route is None:
        return plan
    routes = [r for r in plan.routes if r.technician_id != best.technician_id] + [best.route]
    return replace(plan, routes=routes)
