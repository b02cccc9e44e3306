"""Plain data the routing optimizer takes and gives back.

Times are integer seconds from the day's midnight, local time. Distances are
metres. Nothing here knows about Flask or the database: the service layer maps
its models onto these dataclasses, calls ``dispatch.routing.solve`` and maps the
returned :class:`Plan` back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PRIORITIES = ("P1", "P2", "P3")

# Enterprise tiers from seed 003, most important first.
TIERS = ("group", "provincial", "local_a", "local_b", "local_c")

UNASSIGNED_REASONS = (
    "no_skilled_technician",
    "window_unreachable",
    "day_full",
    "pinned_technician_unavailable",
    "window_passed",
    "displaced",
    "predecessor_unassigned",
    "crew_member_unavailable",
    "outside_areas",
)

REASON_MESSAGES: dict[str, tuple[str, str]] = {
    "no_skilled_technician": (
        "没有具备全部所需技能的装维人员，请安排有资质的人员或调整工单技能要求。",
        "No technician has all the required skills: add a qualified technician "
        "or change the order's skill requirements.",
    ),
    "window_unreachable": (
        "没有装维人员能在预约时段和班次结束前到达并完成，请与客户改约时段，或安排值班、加班人员处理。",
        "No technician can reach it and finish within the appointment window and their shift: "
        "agree a new window with the customer, or have a technician on call or on overtime take it.",
    ),
    "day_full": (
        "当天有资质的装维人员已排满，请改约到其他日期或增派人员。",
        "Every qualified technician's day is full: move the order to another day or add a technician.",
    ),
    "pinned_technician_unavailable": (
        "指定的装维人员今天不在班或无法在其班次内完成该工单，请改派他人。",
        "The technician this order is assigned to is not on shift or cannot "
        "fit it into the shift: reassign it.",
    ),
    "window_passed": (
        "预约时段已过，请与客户重新预约。",
        "The appointment window has passed: agree a new one with the customer.",
    ),
    "not_evaluated": (
        "距离较远，未计算能否排入；请先从较近的人员中选择。",
        "Farther away: whether it fits was not worked out; choose among the nearer ones first.",
    ),
    "displaced": (
        "为插入紧急故障让出时间，移出今天的路线，请改约或另行安排。",
        "Moved out of today's route to make room for an urgent fault: rebook it or plan it again.",
    ),
    "predecessor_unassigned": (
        "须在其之前完成的工单未能排入，本单随之未排，请先安排前置工单。",
        "An order that must be done before this one could not be planned: plan that order first.",
    ),
    "outside_areas": (
        "有资质的装维人员所在班组的服务区域（硬性限制）都不含该工单所在片区，请调整服务区域或指定人员。",
        "The technicians with the skills are all limited to areas (a hard limit of their team) that "
        "leave out this order's district: widen an area or assign someone by hand.",
    ),
    "crew_member_unavailable": (
        "本单需两名装维人员同时上门，其中一人今天无法出勤，不能由一人完成，请重新安排两人或改约。",
        "This job needs two technicians at once and one of them is unavailable today: one person cannot "
        "do it; plan it again with two technicians or rebook it.",
    ),
}


@dataclass
class TechnicianSpec:
    """A technician's day: where they start and end, shift, lunch and skills.

    ``lunch_earliest_s``/``lunch_latest_s`` bound the start of the lunch break;
    no lunch is planned when either is ``None`` or the duration is 0.
    ``max_work_s`` caps the time from leaving the start to arriving at the end,
    lunch excluded. ``available_from_s`` is the plan's "now" on a day already
    under way: the technician leaves no earlier than it (from ``start_lat`` /
    ``start_lon``, where they are), and the time on duty before it counts
    against ``max_work_s``; a lunch window already over is not planned.
    ``coverage_districts`` are the districts the technician covers (empty: no
    limit); with ``coverage_hard`` they may only do visits there, else a visit
    elsewhere costs ``ModelSettings.out_of_area_cost_m``.
    """

    id: int | str
    skills: frozenset[str]
    start_lat: float
    start_lon: float
    end_lat: float
    end_lon: float
    shift_start_s: int
    shift_end_s: int
    lunch_earliest_s: int | None = None
    lunch_latest_s: int | None = None
    lunch_duration_s: int = 0
    max_work_s: int | None = None
    district: str | None = None
    capacity: int | None = None
    available_from_s: int | None = None
    # The districts this technician's team covers, and whether they may work only there
    # (set from the roster by dispatch.planning).
    coverage_districts: frozenset[str] = frozenset()
    coverage_hard: bool = False
    # Equipment in the van (see dispatch.routing.stock): item code -> quantity,
    # None for unlimited; what the depot can add, and where the depot is.
    stock: dict[str, int] | None = None
    restock: dict[str, int] | None = None
    depot_lat: float | None = None
    depot_lon: float | None = None

    @property
    def depart_s(self) -> int:
        """The earliest the technician can leave: shift start, or now when later."""
        if self.available_from_s is None:
            return self.shift_start_s
        return max(self.shift_start_s, self.available_from_s)


@dataclass
class VisitSpec:
    """A work order to visit.

    The appointment window bounds the start of the work on site (hard).
    ``deadline_s`` is the restore deadline: a soft upper bound on the start,
    charged steeply, reported as ``late_s`` on the stop. ``pinned_technician``
    is a dispatcher's manual assignment (hard); ``pinned_first`` marks an order
    already en route or on site, which becomes that technician's first stop
    regardless of its window or skills. ``demand`` counts against a
    technician's ``capacity`` (material carried), when one is set.
    ``started_s`` is when work began on an order already on site: its pinned
    stop starts then and ends no earlier than the technician's departure.
    ``crew_size`` technicians do the visit together, all starting at the same
    time (each gets the stop in their route). ``after`` lists visits that must
    be finished first (on any technician): this one starts no earlier than
    their end and is left out when one of them is; an id not in the problem
    counts as done. See :mod:`dispatch.routing.constraints`.
    """

    id: int | str
    lat: float
    lon: float
    duration_s: int
    window_start_s: int
    window_end_s: int
    skills: frozenset[str] = frozenset()
    priority: str = "P3"
    tier: str | None = None
    deadline_s: int | None = None
    pinned_technician: int | str | None = None
    pinned_first: bool = False
    district: str | None = None
    demand: int = 0
    started_s: int | None = None
    crew_size: int = 1
    after: tuple[int | str, ...] = ()
    # Equipment the visit consumes (item code -> quantity, the bill of materials).
    materials: dict[str, int] = field(default_factory=dict)


@dataclass
class Problem:
    """One day to plan: technicians on shift and the orders to place."""

    technicians: list[TechnicianSpec]
    visits: list[VisitSpec]
    area_type: str = "urban"


@dataclass
class PlannedStop:
    """One visit in a route: when the technician arrives, starts and leaves."""

    visit_id: int | str
    arrival_s: int
    start_s: int
    end_s: int
    travel_s: int
    travel_m: float
    late_s: int = 0
    kind: str = "visit"  # or "restock": a depot stop (TechnicianRoute.restocks)


@dataclass
class TechnicianRoute:
    """A technician's planned day; ``work_s`` excludes lunch."""

    technician_id: int | str
    stops: list[PlannedStop]
    lunch_start_s: int | None
    travel_m: float
    travel_s: int
    work_s: int
    end_s: int
    start_s: int = 0
    # Depot stops to restock the van (kind "restock"), kept apart from the
    # order stops; the stops' and the route's times already include them.
    restocks: list[PlannedStop] = field(default_factory=list)


def nobody_reason(technicians: list[TechnicianSpec], visit: VisitSpec) -> str:
    """Why nobody may take an unpinned visit: no one has the skills, or those who have
    them are bound to areas without its district."""
    skilled = sum(1 for t in technicians if visit.skills <= t.skills)
    return "outside_areas" if skilled >= visit.crew_size else "no_skilled_technician"


def late_visits(routes: list[TechnicianRoute]) -> int:
    """Visits that start after their deadline: a breach is the order's, so a
    two-technician job late in both of its routes counts once."""
    return len({s.visit_id for r in routes for s in r.stops if s.late_s > 0})


@dataclass
class Unassigned:
    """An order left out of the plan, with a reason a person can act on."""

    visit_id: int | str
    reason: str
    message_zh: str = ""
    message_en: str = ""

    def __post_init__(self) -> None:
        if self.reason not in UNASSIGNED_REASONS:
            raise ValueError(f"unknown unassigned reason {self.reason!r}")
        zh, en = REASON_MESSAGES[self.reason]
        self.message_zh = self.message_zh or zh
        self.message_en = self.message_en or en


@dataclass
class Plan:
    """The optimizer's answer: routes, unassigned orders and summary figures.

    ``status`` is one of ``"optimized"`` (search ran to its limit),
    ``"cancelled"`` (stopped by the caller, best plan so far), ``"empty"``
    (nothing to plan) or ``"infeasible"`` (no plan found at all).
    """

    routes: list[TechnicianRoute]
    unassigned: list[Unassigned]
    objective: int
    travel_m: float
    breaches: int
    solve_s: float
    status: str
    stats: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (ids kept as given)."""
        return asdict(self)

    def route_of(self, technician_id: int | str) -> TechnicianRoute | None:
        """The route of one technician, or None when they are not in the plan."""
        for route in self.routes:
            if route.technician_id == technician_id:
                return route
        return None
