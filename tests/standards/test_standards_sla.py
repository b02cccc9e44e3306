"""Response/restore deadlines, working days across holidays and the 2027 edge, SLA clock."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from standards import (
    Deadline,
    SlaClock,
    add_working_days,
    complaint_deadlines,
    response_deadline,
    restore_deadline,
    working_day_source,
)
from standards.rules import RuleFileError
from standards.workdays import WorkCalendar

T0 = datetime(2026, 3, 2, 9, 30)  # a Monday


@pytest.mark.parametrize(("priority", "minutes"), [("P1", 15), ("P2", 60), ("P3", 120)])
def test_response_deadline_per_priority(priority, minutes):
    deadline = response_deadline(T0, priority)
    assert deadline == Deadline(T0 + timedelta(minutes=minutes), "clock-hours")


@pytest.mark.parametrize(
    ("tier", "hours"),
    [("group", 4), ("provincial", 6), ("local_a", 8), ("local_b", 24), ("local_c", 48)],
)
def test_enterprise_restore_deadline_per_tier_is_clock_hours(tier, hours):
    saturday_night = datetime(2026, 3, 7, 23, 0)
    deadline = restore_deadline(saturday_night, "enterprise", tier, "sdh", "P2")
    assert deadline == Deadline(saturday_night + timedelta(hours=hours), "clock-hours")


def test_enterprise_without_tier_is_treated_as_local_c():
    assert restore_deadline(T0, "enterprise", None, "sdh", "P1").at == T0 + timedelta(hours=48)


def test_residential_restore_by_priority():
    hours = {p: restore_deadline(T0, "residential", None, "iptv_lan", p).at - T0 for p in ("P1", "P2", "P3")}
    assert hours == {
        "P1": timedelta(hours=24),
        "P2": timedelta(hours=48),
        "P3": timedelta(hours=72),
    }


def test_logistics_e_restores_in_three_working_days_over_national_day():
    # Tue 29 Sep 2026 + 3 working days: 30 Sep, then Oct 1-7 off, 8 Oct, 9 Oct.
    deadline = restore_deadline(datetime(2026, 9, 29, 10), "enterprise", "group", "logistics_e", "P1")
    assert deadline == Deadline(datetime(2026, 10, 9, 10), "chinesecalendar")


def test_restore_deadline_rejects_bad_input():
    with pytest.raises(ValueError):
        restore_deadline(T0, "enterprise", "vip", "sdh", "P1")
    with pytest.raises(ValueError):
        restore_deadline(T0, "government", None, "sdh", "P1")
    with pytest.raises(ValueError):
        restore_deadline(T0, "residential", None, "adsl", "P4")
    with pytest.raises(ValueError):
        response_deadline(T0.replace(tzinfo=__import__("datetime").UTC), "P1")


def test_chinese_calendar_agrees_with_the_2026_schedule_we_test_against():
    for day in (date(2026, 2, 14), date(2026, 2, 28), date(2026, 9, 20), date(2026, 10, 10)):
        assert chinese_calendar.is_workday(day), day  # moved working weekends
    for n in range(15, 24):
        assert not chinese_calendar.is_workday(date(2026, 2, n))
    for n in range(1, 8):
        assert not chinese_calendar.is_workday(date(2026, 10, n))


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Friday 13 Feb 2026 -> Saturday 14 Feb is a moved working day
        (datetime(2026, 2, 13, 10), 1, datetime(2026, 2, 14, 10)),
        # Sat 14 Feb (working) + 1 -> holiday 15-23 Feb -> Tue 24 Feb
        (datetime(2026, 2, 14, 16), 1, datetime(2026, 2, 24, 16)),
        # From inside the holiday the clock starts at 00:00 of 24 Feb
        (datetime(2026, 2, 18, 11), 0, datetime(2026, 2, 24, 0)),
        (datetime(2026, 2, 18, 11), 1, datetime(2026, 2, 25, 0)),
        # Fri 27 Feb + 1 -> Saturday 28 Feb is a moved working day
        (datetime(2026, 2, 27, 9), 1, datetime(2026, 2, 28, 9)),
        # Sat 19 Sep (off) -> Sun 20 Sep is a moved working day
        (datetime(2026, 9, 19, 9), 1, datetime(2026, 9, 21, 0)),
        # Fri 9 Oct + 1 -> Saturday 10 Oct is a moved working day
        (datetime(2026, 10, 9, 15), 1, datetime(2026, 10, 10, 15)),
        # a plain week: Thursday + 3 -> Tuesday
        (datetime(2026, 3, 5, 14), 3, datetime(2026, 3, 10, 14)),
    ],
)
def test_working_days_follow_the_official_2026_calendar(start, days, expected):
    assert add_working_days(start, days) == Deadline(expected, "chinesecalendar")


def test_late_december_2026_into_2027_uses_the_fallback_without_crashing():
    deadline = add_working_days(datetime(2026, 12, 30, 10), 3)
    # 31 Dec (Thu), 1 Jan 2027 is New Year's Day, then Mon 4 and Tue 5 Jan
    assert deadline == Deadline(datetime(2027, 1, 5, 10), "holidays-fallback")
    assert working_day_source(date(2026, 12, 31)) == "chinesecalendar"
    assert working_day_source(date(2027, 1, 4)) == "holidays-fallback"
    final = complaint_deadlines(datetime(2026, 12, 29, 10))["final"]
    assert final.source == "holidays-fallback" and final.at == datetime(2027, 1, 4, 10)


def test_span_inside_known_years_reports_chinesecalendar_only():
    assert add_working_days(datetime(2026, 12, 25, 10), 3).source == "chinesecalendar"


def test_operator_file_for_2027_is_honoured(tmp_path):
    overrides = tmp_path / "calendar_overrides.toml"
    overrides.write_text(
        'version = "2027.1"\n'
        "[years.2027]\n"
        "holidays = [2027-01-01, 2027-01-04]\n"
        "workdays = [2027-01-09]  # a moved working Saturday\n",
        encoding="utf-8",
    )
    calendar = WorkCalendar(overrides)
    assert working_day_source(date(2027, 1, 4), calendar) == "operator-file"
    deadline = add_working_days(datetime(2026, 12, 30, 10), 3, calendar)
    # 31 Dec, (1 Jan off, 2-3 weekend, 4 Jan off by the file), 5 Jan, 6 Jan
    assert deadline == Deadline(datetime(2027, 1, 6, 10), "operator-file")
    # the path alone works too, and Saturday 9 Jan counts
    assert add_working_days(datetime(2027, 1, 8, 9), 1, overrides).at == datetime(2027, 1, 9, 9)
    # 2028 is in neither source: back to the fallback
    assert working_day_source(date(2028, 3, 1), calendar) == "holidays-fallback"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('version = "2027.1"\n[years.2027]\nholidays = [2027-13-01]\n', 3),
        ('version = "2027.1"\n[years.2027]\nholidays = ["2027-01-01"]\n', 3),
        ('version = "2027.1"\n\n[years.2027]\nworkdays = [2028-01-08]\n', 4),
        ('version = "2027.1"\n[years.2027]\nholidays = [2027-01-01]\nworkdays = [2027-01-01]\n', 2),
    ],
)
def test_malformed_calendar_file_names_file_and_line(tmp_path, text, line):
    bad = tmp_path / "calendar_overrides.toml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError) as error:
        WorkCalendar(bad)
    assert error.value.line == line
    assert str(error.value).startswith(f"{bad}:{line}:")


def test_far_years_never_crash():
    for year in (1990, 2003, 2027, 2031, 2099):
        deadline = add_working_days(datetime(year, 12, 28, 8), 5)
        assert deadline.source in ("holidays-fallback", "weekends-only")
        assert deadline.at.weekday() < 5


DATES = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31))


@settings(max_examples=150, deadline=None)
@given(start=DATES, days=st.integers(min_value=0, max_value=30))
def test_property_result_is_a_working_day_and_not_before_start(start, days):
    deadline = add_working_days(start, days)
    calendar = WorkCalendar()
    assert calendar.is_working_day(deadline.at.date())
    assert deadline.at >= start
    if days > 0:
        assert deadline.at > start
    if deadline.at.year >= 2027:
        assert deadline.source == "holidays-fallback"


@settings(max_examples=150, deadline=None)
@given(start=DATES, days=st.integers(min_value=0, max_value=20), extra=st.integers(1, 10))
def test_property_more_days_never_earlier(start, days, extra):
    assert add_working_days(start, days + extra).at > add_working_days(start, days).at


HOLIDAY_SEASONS_2026 = st.one_of(
    # Spring Festival: 15-23 Feb off, Sat 14 Feb and Sat 28 Feb worked
    st.datetimes(min_value=datetime(2026, 2, 1), max_value=datetime(2026, 3, 5)),
    # National Day: 1-7 Oct off, Sun 20 Sep and Sat 10 Oct worked
    st.datetimes(min_value=datetime(2026, 9, 10), max_value=datetime(2026, 10, 20)),
)


@settings(max_examples=150, deadline=None)
@given(start=HOLIDAY_SEASONS_2026, days=st.integers(min_value=1, max_value=6))
def test_property_holiday_seasons_2026_count_exactly_the_official_working_days(start, days):
    deadline = add_working_days(start, days)
    assert deadline.source == "chinesecalendar"
    first = start.date() + timedelta(days=1)
    counted = [first + timedelta(n) for n in range((deadline.at.date() - first).days + 1)]
    if not chinese_calendar.is_workday(start.date()):
        # the clock starts at 00:00 of the next working day and ends at 00:00
        assert deadline.at.time() == datetime.min.time()
        counted = counted[:-1]
    working = [d for d in counted if chinese_calendar.is_workday(d)]
    assert len(working) == days
    assert not any(date(2026, 2, 15) <= d <= date(2026, 2, 23) for d in working)
    assert not any(date(2026, 10, 1) <= d <= date(2026, 10, 7) for d in working)
    assert chinese_calendar.is_workday(deadline.at.date())


@settings(max_examples=100, deadline=None)
@given(start=st.datetimes(min_value=datetime(2026, 12, 15), max_value=datetime(2026, 12, 31, 23, 59)))
def test_property_year_edge_three_working_days(start):
    deadline = add_working_days(start, 3)
    assert deadline.at.year in (2026, 2027)
    expected = "holidays-fallback" if deadline.at.year == 2027 else "chinesecalendar"
    assert deadline.source == expected


def test_complaint_deadlines():
    limits = complaint_deadlines(datetime(2026, 9, 30, 9))
    assert limits["answer"] == Deadline(datetime(2026, 10, 1, 9), "clock-hours")
    assert limits["first_handling"] == Deadline(datetime(2026, 10, 3, 9), "clock-hours")
    # 3 working days from 30 Sep: 8 Oct, 9 Oct, Sat 10 Oct (moved working day)
    assert limits["final"] == Deadline(datetime(2026, 10, 10, 9), "chinesecalendar")


def test_add_working_days_rejects_bad_input():
    with pytest.raises(ValueError):
        add_working_days(T0, -1)
    with pytest.raises(TypeError):
        add_working_days(T0, 1.5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# SlaClock
# --------------------------------------------------------------------------
def test_clock_pause_and_resume_extend_the_deadline():
    clock = SlaClock(start=T0, budget=timedelta(hours=4))
    assert clock.deadline() == T0 + timedelta(hours=4)
    clock.pause(T0 + timedelta(hours=1), "customer_absent")
    assert clock.is_paused
    # while paused, remaining time is frozen
    assert (
        clock.remaining(T0 + timedelta(hours=2))
        == clock.remaining(T0 + timedelta(hours=5))
        == timedelta(hours=3)
    )
    clock.resume(T0 + timedelta(hours=2, minutes=30))
    assert clock.deadline() == T0 + timedelta(hours=5, minutes=30)
    clock.pause(T0 + timedelta(hours=3), "site_inaccessible")
    clock.resume(T0 + timedelta(hours=3, minutes=15))
    assert clock.deadline() == T0 + timedelta(hours=5, minutes=45)
    assert [p.reason for p in clock.pauses] == ["customer_absent", "site_inaccessible"]
    assert not clock.is_breached(T0 + timedelta(hours=5, minutes=45))
    assert clock.is_breached(T0 + timedelta(hours=5, minutes=46))


def test_clock_refuses_bad_transitions():
    clock = SlaClock(start=T0, budget=timedelta(hours=1))
    with pytest.raises(ValueError):
        clock.resume(T0)
    with pytest.raises(ValueError):
        clock.pause(T0, "technician_late")  # not customer-caused
    with pytest.raises(ValueError):
        clock.pause(T0 - timedelta(minutes=1), "customer_absent")
    clock.pause(T0, "customer_requested_delay")
    with pytest.raises(ValueError):
        clock.pause(T0 + timedelta(minutes=5), "customer_absent")
    with pytest.raises(ValueError):
        clock.resume(T0 - timedelta(minutes=5))


def test_clock_from_deadline_and_json_round_trip():
    deadline = restore_deadline(T0, "enterprise", "local_a", "mpls_vpn", "P1")
    clock = SlaClock.from_deadline(T0, deadline)
    assert clock.deadline() == deadline.at and clock.source == "clock-hours"
    assert SlaClock(T0, deadline).budget == timedelta(hours=8)  # a Deadline as the budget
    clock.pause(T0 + timedelta(minutes=10), "customer_absent")
    clock.resume(T0 + timedelta(minutes=40))
    clock.pause(T0 + timedelta(hours=1), "site_inaccessible")
    stored = json.loads(json.dumps(clock.to_dict()))
    restored = SlaClock.from_dict(stored)
    assert restored == clock
    assert restored.is_paused
    assert restored.remaining(T0 + timedelta(hours=9)) == clock.remaining(T0 + timedelta(hours=9))
    with pytest.raises(ValueError):
        SlaClock.from_dict({"start": T0.isoformat()})


def test_deadline_to_dict():
    assert Deadline(T0, "operator-file").to_dict() == {
        "at": "2026-03-02T09:30:00",
        "source": "operator-file",
    }
    assert Deadline.from_dict(Deadline(T0, "x").to_dict()) == Deadline(T0, "x")
