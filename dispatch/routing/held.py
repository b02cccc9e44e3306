"""A technician's held route timed from now, as the solver's route: the re-plan's
"before" and the route of a technician whose day only shifts (an overrun, a
no-show).

The route keeps its sequence. Work under way comes first: a visit on site ends
when its work is done (it started at ``started_s``), one driven to is the next
stop. The other stops are timed with :func:`dispatch.routing.timing.time_held_route`
(each starts no earlier than its window opens, lunch at the first free moment
after it is due). A stop that would start after its window closes, or end after
the shift, cannot be done in this sequence: it leaves the route (reported with
the reason) and the rest is timed again.

Nothing here knows about Flask or the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dispatch.routing.matrix import HaversineMatrix, Point
from dispatch.routing.problem import PlannedStop, TechnicianRoute, TechnicianSpec, Unassigned, VisitSpec
from dispatch.routing.timing import HeldStop, time_held_route


@dataclass
class HeldDay:
    """A held route's times, and the stops that no longer fit in it."""

    route: TechnicianRoute
    lost: list[Unassigned] = field(default_factory=list)

    @property
    def breaches(self) -> int:
        return sum(1 for s in self.route.stops if s.late_s > 0)

    @property
    def late_s(self) -> int:
        return sum(s.late_s for s in self.route.stops)


def _point(visit: VisitSpec) -> Point:
    return (visit.lat, visit.lon)


def _late(visit: VisitSpec, start_s: int) -> int:
    return max(0, start_s - visit.deadline_s) if visit.deadline_s is not None else 0


def _lunch_due(tech: TechnicianSpec) -> int | None:
    """When lunch is due, unless the day has no lunch or its window is already over."""
    if tech.lunch_earliest_s is None or not tech.lunch_duration_s:
        return None
    if tech.lunch_latest_s is not None and tech.depart_s > tech.lunch_latest_s:
        return None
    return tech.lunch_earliest_s


def _time_once(
    tech: TechnicianSpec, visits: Sequence[VisitSpec], matrix: HaversineMatrix
) -> tuple[TechnicianRoute, list[Unassigned]]:
    here: Point = (tech.start_lat, tech.start_lon)
    free_at = tech.depart_s
    stops: list[PlannedStop] = []
    rest = list(visits)
    if rest and rest[0].pinned_first and rest[0].started_s is not None:
        on_site = rest.pop(0)
        began = on_site.started_s or 0
        end = max(free_at, began + on_site.duration_s)
        stops.append(PlannedStop(on_site.id, began, began, end, 0, 0.0, _late(on_site, began)))
        here, free_at = _point(on_site), end
    timing = time_held_route(
        here,
        free_at,
        [HeldStop(_point(v), v.window_start_s, v.duration_s) for v in rest],
        _lunch_due(tech),
        tech.lunch_duration_s,
        matrix,
    )
    lost: list[Unassigned] = []
    travel_m = 0.0
    for visit, times in zip(rest, timing.stops, strict=True):
        _seconds, metres = matrix.travel(here, _point(visit))
        if not visit.pinned_first and times.start_s > visit.window_end_s:
            lost.append(Unassigned(visit.id, "window_unreachable"))
        elif not visit.pinned_first and times.end_s > tech.shift_end_s:
            lost.append(Unassigned(visit.id, "day_full"))
        stops.append(
            PlannedStop(
                visit.id,
                times.arrival_s,
                times.start_s,
                times.end_s,
                times.travel_s,
                round(metres, 1),
                _late(visit, times.start_s),
            )
        )
        travel_m += metres
        here = _point(visit)
    back_s, back_m = matrix.travel(here, (tech.end_lat, tech.end_lon))
    route = TechnicianRoute(
        technician_id=tech.id,
        stops=stops,
        lunch_start_s=timing.lunch_start_s,
        travel_m=round(travel_m + back_m, 1),
        travel_s=sum(s.travel_s for s in stops) + back_s,
        work_s=max(0, timing.end_s - tech.depart_s),
        end_s=timing.end_s,
        start_s=tech.depart_s,
    )
    return route, lost


def time_held(
    tech: TechnicianSpec, visits: Sequence[VisitSpec], matrix: HaversineMatrix | None = None
) -> HeldDay:
    """The technician's route in this sequence, timed from their departure; stops
    it can no longer do (window closed, past the shift) leave it, the first first."""
    matrix = matrix or HaversineMatrix()
    kept = list(visits)
    lost: list[Unassigned] = []
    while True:
        route, missed = _time_once(tech, kept, matrix)
        if not missed:
            return HeldDay(route, lost)
        # The first stop that misses pushes the later ones: drop it alone and time again.
        lost.append(missed[0])
        kept = [v for v in kept if v.id != missed[0].visit_id]
