"""The made-up history for demos and benchmarks: it loads, and the reports find in it what was planted."""

from __future__ import annotations

from datetime import date

from reports import figures
from reports.filters import ReportFilter


def test_the_history_command_fills_a_year_the_reports_can_read(app, db):
    result = app.test_cli_runner().invoke(
        args=["report-history", "--orders", "3000", "--end", "2026-11-01", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "added 3000 orders" in result.output
    report = figures.report(db, ReportFilter(date_from=date(2025, 11, 1), date_to=date(2026, 11, 1)))
    totals = report["totals"]
    assert totals["received"] == 3000
    assert 0.02 * 3000 < totals["cancelled"] < 0.05 * 3000
    repeats = totals["repeat_faults"]
    assert 0 < repeats["repeated_within_30d"] < repeats["completed_repairs"] / 5
    assert totals["repeat_faults"]["flagged_repeats"] > 0
    assert 70 < totals["first_time_fix"]["pct"] < 97
    assert totals["complaints"]["total"] > 50 and totals["complaints"]["final"]["met"] > 0
    assert totals["follow_ups"]["overdue"] > 0 and 3.5 < totals["follow_ups"]["satisfaction_mean"] < 4.6
    assert totals["restore"]["breached"] > 0 and totals["restore"]["met"] > totals["restore"]["breached"]
    assert totals["backlog"]["total"] > 0


def test_the_history_has_seasons_and_quiet_holidays(app, db):
    app.test_cli_runner().invoke(args=["report-history", "--orders", "3000", "--end", "2026-11-01"])
    months = {
        row["group"]: row["received"]
        for row in figures.report(
            db, ReportFilter(date_from=date(2025, 11, 1), date_to=date(2026, 11, 1), group_by="month"),
            with_totals=False,
        )["rows"]
    }  # fmt: skip
    assert months["2026-07-01"] > 1.3 * months["2026-01-01"]  # a summer of storms, a quiet winter
    days = {
        row["group"]: row["received"]
        for row in figures.report(
            db, ReportFilter(date_from=date(2026, 9, 28), date_to=date(2026, 10, 12), group_by="day"),
            with_totals=False,
        )["rows"]
    }  # fmt: skip
    national_day = sum(days[f"2026-10-0{d}"] for d in range(2, 6))
    working_days = sum(days[d] for d in ("2026-09-28", "2026-09-29", "2026-09-30", "2026-10-09"))
    assert national_day < working_days


def test_a_bad_end_date_is_a_clear_error(app):
    result = app.test_cli_runner().invoke(args=["report-history", "--orders", "10", "--end", "soon"])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output
