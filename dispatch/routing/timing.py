"""Times for a route held as it is, without a search: the board's estimate.

A plan from the optimizer carries its own times (read back from the OR-Tools
model, :func:`dispatch.routing.search.read_plan`). A route changed by hand
since, through the lifecycle's transitions, has none; the board then shows
this estimate: the technician leaves at the start of the shift, drives the
straight-line travel time to each stop in turn, starts no earlier than the
stop's planned start, works its duration, takes lunch at the first free moment
after it is due, and drives home.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.routing.matrix import HaversineMatrix, Point


@dataclass(frozen=True)
class HeldStop:
    """A stop of a held route: where, not before when (seconds from midnight), for how long."""

    point: Point
    not_before_s: int | None
    duration_s: int


@dataclass(frozen=True)
class StopTimes:
    arrival_s: int
    start_s: int
    end_s: int
    travel_s: int


@dataclass(frozen=True)
class HeldRouteTimes:
    stops: list[StopTimes]
    lunch_start_s: int | None
    end_s: int


def time_held_route(
    home: Point,
    shift_start_s: int,
    stops: Sequence[HeldStop],
    lunch_due_s: int | None = None,
    lunch_duration_s: int = 0,
    matrix: HaversineMatrix | None = None,
) -> HeldRouteTimes:
    """Arrival, start, end and travel per stop, the lunch start and the return home."""
    matrix = matrix or HaversineMatrix()
    lunch_at: int | None = None
    here, free_at = home, shift_start_s
    timing: list[StopTimes] = []
    for index, stop in enumerate(stops):
        travel, _metres = matrix.travel(here, stop.point)
        leave = free_at
        if lunch_due_s is not None and lunch_at is None and lunch_duration_s and leave >= lunch_due_s:
            lunch_at, leave = leave, leave + lunch_duration_s
        arrival = leave + travel
        start = max(arrival, stop.not_before_s) if stop.not_before_s is not None else arrival
        if index == 0 and stop.not_before_s is not None:
            # Nobody leaves home hours early: the first trip ends when the work starts.
            arrival = max(start, shift_start_s + travel)
            start = arrival
        end = start + stop.duration_s
        timing.append(StopTimes(arrival, start, end, travel))
        here, free_at = stop.point, end
    back, _metres = matrix.travel(here, home)
    if lunch_due_s is not None and lunch_at is None and lunch_duration_s and free_at >= lunch_due_s:
        lunch_at = free_at
        free_at += lunch_duration_s
    return HeldRouteTimes(timing, lunch_at, free_at + back)
