"""The board's estimate for a route held as it is (no search)."""

from __future__ import annotations

from dispatch.routing.matrix import HaversineMatrix
from dispatch.routing.timing import HeldStop, time_held_route

H = 3600
HOME = (31.80, 117.20)
NEAR = (31.81, 117.21)
FAR = (31.86, 117.30)


def test_a_held_route_is_timed_in_sequence_with_lunch_after_work_and_the_drive_home():
    matrix = HaversineMatrix()
    to_near, _ = matrix.travel(HOME, NEAR)
    near_far, _ = matrix.travel(NEAR, FAR)
    far_home, _ = matrix.travel(FAR, HOME)
    times = time_held_route(
        HOME,
        8 * H,
        [HeldStop(NEAR, 11 * H + 1800, 3600), HeldStop(FAR, None, 1800)],
        lunch_due_s=12 * H,
        lunch_duration_s=3600,
        matrix=matrix,
    )
    first, second = times.stops
    # The first trip ends when its work starts: nobody leaves home hours early.
    assert first.arrival_s == first.start_s == 11 * H + 1800 and first.travel_s == to_near
    assert first.end_s == 12 * H + 1800
    # Lunch was due at 12:00: it is taken when the first job ends, before driving on.
    assert times.lunch_start_s == first.end_s
    assert second.arrival_s == first.end_s + 3600 + near_far == second.start_s
    assert second.end_s == second.start_s + 1800
    assert times.end_s == second.end_s + far_home


def test_without_planned_starts_the_day_starts_at_the_shift_and_lunch_waits_for_its_time():
    times = time_held_route(
        HOME, 8 * H, [HeldStop(NEAR, None, 600)], lunch_due_s=12 * H, lunch_duration_s=3600
    )
    (only,) = times.stops
    assert only.start_s == only.arrival_s == 8 * H + only.travel_s
    assert times.lunch_start_s is None  # the day is over before lunch is due
