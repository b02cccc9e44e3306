"""Effective shifts on the official calendar: working-day patterns (weekends and holidays
off, adjusted working weekends on), rotas, the 24x7 on-call rota, leave, sick, training
and overtime, and technicians without a pattern keeping their fixed shift."""

from __future__ import annotations

from datetime import date, time

import pytest

from technicians import roster_service
from technicians.models import Technician
from technicians.shifts import effective_shift
from tests.conftest import ADMIN

DAY_PATTERN = {
    "name": "day",
    "kind": "working_days",
    "start_min": 510,
    "end_min": 1050,
    "lunch_start_min": 720,
}


@pytest.fixture()
def tech(world, db):
    return db.get(Technician, world.technician("t1", ["adsl"]))


def _pattern(db, **fields):
    data = {"lunch_duration_min": 60, "on_call": False, "cycle": [], "lunch_start_min": None, **fields}
    return roster_service.create_pattern(db, ADMIN, data)


def _assign(db, tech, pattern, start_on=date(2026, 9, 1), offset=0):
    return roster_service.assign_pattern(
        db,
        ADMIN,
        {"technician_id": tech.id, "pattern_id": pattern.id, "start_on": start_on, "rotation_offset": offset},
    )


def _span(shift):
    return None if shift is None else (shift.start_min, shift.end_min)


def test_without_a_pattern_the_technicians_fixed_shift_applies_every_day(tech, db):
    saturday = effective_shift(db, tech, date(2026, 10, 3))
    assert _span(saturday) == (510, 1050) and saturday.source == "fixed"
    assert saturday.lunch_start_min == 720 and saturday.on_call is False


def test_the_day_pattern_follows_the_official_calendar(tech, db):
    _assign(db, tech, _pattern(db, **DAY_PATTERN))
    monday = effective_shift(db, tech, date(2026, 9, 28))
    assert _span(monday) == (510, 1050)
    assert (monday.lunch_start_min, monday.source, monday.reason) == (720, "pattern", "day")
    assert effective_shift(db, tech, date(2026, 9, 26)) is None  # a plain Saturday
    assert effective_shift(db, tech, date(2026, 10, 1)) is None  # National Day (golden week)
    assert effective_shift(db, tech, date(2026, 10, 7)) is None  # still golden week, a Wednesday
    assert _span(effective_shift(db, tech, date(2026, 10, 8))) == (510, 1050)
    # Saturday 2026-10-10 is an adjusted working day: on; Sunday the 11th is off
    assert _span(effective_shift(db, tech, date(2026, 10, 10))) == (510, 1050)
    assert effective_shift(db, tech, date(2026, 10, 11)) is None


def test_before_an_assignment_starts_the_fixed_shift_still_applies(tech, db):
    _assign(db, tech, _pattern(db, **DAY_PATTERN), start_on=date(2026, 10, 5))
    assert effective_shift(db, tech, date(2026, 10, 3)).source == "fixed"
    assert effective_shift(db, tech, date(2026, 10, 5)) is None  # golden week, pattern applies


def test_a_weekend_rota_alternates_by_its_rotation_offset(world, db, tech):
    other = db.get(Technician, world.technician("t2", ["adsl"]))
    # 14-day cycle from Monday 2026-11-02: Saturday and Sunday of the first week only
    weekend = _pattern(
        db,
        name="weekend duty",
        kind="rota",
        start_min=540,
        end_min=1080,
        cycle=[False] * 5 + [True] * 2 + [False] * 7,
    )
    _assign(db, tech, weekend, start_on=date(2026, 11, 2))
    _assign(db, other, weekend, start_on=date(2026, 11, 2), offset=7)
    saturday, next_saturday = date(2026, 11, 7), date(2026, 11, 14)
    assert _span(effective_shift(db, tech, saturday)) == (540, 1080)
    assert effective_shift(db, other, saturday) is None
    assert effective_shift(db, tech, next_saturday) is None
    assert _span(effective_shift(db, other, next_saturday)) == (540, 1080)
    assert effective_shift(db, tech, date(2026, 11, 9)) is None  # a Monday: the rota is off


def test_the_on_call_rota_covers_every_day_round_the_clock_and_flags_it(world, db):
    techs = [db.get(Technician, world.technician(f"oc{i}", ["enterprise_circuit"])) for i in range(3)]
    on_call = _pattern(
        db,
        name="24x7 on call",
        kind="rota",
        start_min=0,
        end_min=1440,
        on_call=True,
        cycle=[True, False, False],
    )
    for i, tech in enumerate(techs):
        _assign(db, tech, on_call, start_on=date(2026, 9, 28), offset=(3 - i) % 3)
    for day in (date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3), date(2026, 10, 4)):
        shifts = [effective_shift(db, t, day) for t in techs]
        working = [s for s in shifts if s is not None]
        assert len(working) == 1, day  # exactly one on call each day, holidays included
        assert (working[0].start_min, working[0].end_min, working[0].on_call) == (0, 1440, True)
        assert working[0].to_dict()["end"] == "24:00" and working[0].source == "on_call"


def test_on_call_on_top_of_the_day_pattern_keeps_the_day_hours(tech, db):
    _assign(db, tech, _pattern(db, **DAY_PATTERN))
    _assign(
        db,
        tech,
        _pattern(db, name="on call", kind="rota", start_min=0, end_min=1440, on_call=True, cycle=[True]),
    )
    monday = effective_shift(db, tech, date(2026, 9, 28))
    assert (_span(monday), monday.on_call, monday.source) == ((510, 1050), True, "pattern")
    assert monday.on_call_end_min == 1440  # on call after the day's hours (urgent faults only)
    holiday = effective_shift(db, tech, date(2026, 10, 1))
    assert (_span(holiday), holiday.on_call) == ((0, 1440), True)
    # away for the afternoon: not on call that evening either
    roster_service.add_exception(
        db,
        ADMIN,
        {
            "technician_id": tech.id,
            "day": date(2026, 9, 29),
            "kind": "training",
            "start_min": 780,
            "end_min": 1050,
        },
    )
    tuesday = effective_shift(db, tech, date(2026, 9, 29))
    assert (_span(tuesday), tuesday.on_call_end_min) == ((510, 780), None)


def test_leave_and_sick_take_the_day_off(tech, db):
    _assign(db, tech, _pattern(db, **DAY_PATTERN))
    for day, kind in ((date(2026, 9, 28), "leave"), (date(2026, 9, 29), "sick")):
        roster_service.add_exception(db, ADMIN, {"technician_id": tech.id, "day": day, "kind": kind})
        assert effective_shift(db, tech, day) is None
    assert _span(effective_shift(db, tech, date(2026, 9, 30))) == (510, 1050)


def test_part_day_training_keeps_the_longer_remaining_part(tech, db):
    _assign(db, tech, _pattern(db, **DAY_PATTERN))
    morning, afternoon = date(2026, 9, 28), date(2026, 9, 29)
    add = roster_service.add_exception
    add(
        db,
        ADMIN,
        {"technician_id": tech.id, "day": morning, "kind": "training", "start_min": 480, "end_min": 600},
    )
    add(
        db,
        ADMIN,
        {"technician_id": tech.id, "day": afternoon, "kind": "training", "start_min": 840, "end_min": 1080},
    )
    trained = effective_shift(db, tech, morning)
    assert _span(trained) == (600, 1050) and trained.exceptions == ("training",)
    assert trained.lunch_start_min == 720  # still inside
    late = effective_shift(db, tech, afternoon)
    assert _span(late) == (510, 840) and late.lunch_start_min == 720


def test_overtime_extends_the_day_and_adds_to_the_work_cap(tech, db):
    _assign(db, tech, _pattern(db, **DAY_PATTERN))
    day = date(2026, 9, 28)
    roster_service.add_exception(
        db,
        ADMIN,
        {"technician_id": tech.id, "day": day, "kind": "overtime", "start_min": 1050, "end_min": 1200},
    )
    shift = effective_shift(db, tech, day)
    assert _span(shift) == (510, 1200) and shift.max_work_min == 480 + 150
    # overtime on a holiday makes it a working day of those hours, without lunch
    holiday = date(2026, 10, 2)
    roster_service.add_exception(
        db,
        ADMIN,
        {"technician_id": tech.id, "day": holiday, "kind": "overtime", "start_min": 540, "end_min": 780},
    )
    extra = effective_shift(db, tech, holiday)
    assert (_span(extra), extra.source, extra.lunch_start_min) == ((540, 780), "overtime", None)


def test_leave_beats_overtime_on_the_same_day(tech, db):
    day = date(2026, 9, 28)
    add = roster_service.add_exception
    add(
        db,
        ADMIN,
        {"technician_id": tech.id, "day": day, "kind": "overtime", "start_min": 1050, "end_min": 1200},
    )
    add(db, ADMIN, {"technician_id": tech.id, "day": day, "kind": "leave"})
    assert effective_shift(db, tech, day) is None


def test_a_pattern_edit_changes_every_assigned_technicians_hours(tech, db):
    pattern = _pattern(db, **DAY_PATTERN)
    _assign(db, tech, pattern)
    roster_service.update_pattern(db, ADMIN, pattern.id, {"start_min": 480, "end_min": 1020})
    assert _span(effective_shift(db, tech, date(2026, 9, 28))) == (480, 1020)
    assert pattern.version == 2
    assert tech.shift_start == time(8, 30)  # the fixed shift on the technician's row is untouched
