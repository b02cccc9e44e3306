"""Every figure against the hand-made history in dataset.py (worked out in the comments)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from reports import figures
from reports.filters import ReportFilter
from tests.reports import dataset
from workorders.models import FollowUp, WorkOrder

SEP, NOV = date(2026, 9, 1), date(2026, 11, 1)


@pytest.fixture()
def history(app, db):
    return dataset.build(db)


def _report(db, **kwargs):
    return figures.report(db, ReportFilter(date_from=SEP, date_to=NOV, **kwargs))


def test_counts_and_backlog(db, history):
    totals = _report(db)["totals"]
    # R1 R2 R3 R4 R5 R6 I1 C1 K1 NEW (OLD came in August)
    assert (totals["received"], totals["completed"], totals["cancelled"]) == (10, 7, 1)
    # OLD is 92 days old, R4 26.5 days, NEW 4 hours; C1 was cancelled
    assert totals["backlog"] == {
        "total": 3,
        "under_1d": 1,
        "1_to_3d": 0,
        "3_to_7d": 0,
        "7_to_30d": 1,
        "over_30d": 1,
    }


def test_response_times_and_compliance(db, history):
    response = _report(db)["totals"]["response"]
    # answered: 600, 1200, 1800, 1800, 1800, 3600 s; p90 sits half way between 1800 and 3600
    spread = (response["n"], response["mean_s"], response["median_s"], response["p90_s"])
    assert spread == (6, 1800.0, 1800.0, 2700.0)
    # met: R1 R3 R5 R6 I1; breached: R2 (late), R4 (never); NEW is not due yet
    assert (response["met"], response["breached"], response["compliance_pct"]) == (5, 2, 71.4)


def test_restore_times_leave_out_the_customers_pause(db, history):
    restore = _report(db)["totals"]["restore"]
    # R1 9 h minus its 2 h pause = 25200; R2 28800; R3 14400; R5 7200; R6 14400
    assert (restore["mean_s"], restore["median_s"], restore["p90_s"]) == (18000.0, 14400.0, 27360.0)
    # R1 made its paused deadline (18:00 <= 19:00); R2 was late, R4 is open past it
    assert (restore["met"], restore["breached"], restore["compliance_pct"]) == (4, 2, 66.7)


def test_install_lead_time_across_the_month_boundary(db, history):
    install = _report(db)["totals"]["install"]
    assert install == {"n": 1, "mean_s": 345600.0, "median_s": 345600.0, "p90_s": 345600.0}  # 4 days


def test_on_site_time_beside_the_planned_duration(db, history):
    on_site = _report(db)["totals"]["on_site"]
    # R1 on site 17:00-18:00 (planned 60 min), R3 10:00-12:00 (planned 90 min)
    assert on_site == {
        "n": 2,
        "mean_s": 5400.0,
        "median_s": 5400.0,
        "p90_s": 6840.0,
        "planned_mean_s": 4500.0,
    }
    by_product = {row["group"]: row["on_site"] for row in _report(db, group_by="product")["rows"]}
    assert by_product["adsl"]["mean_s"] == 7200.0 and by_product["adsl"]["planned_mean_s"] == 5400.0


def test_first_time_fix_and_repeat_faults(db, history):
    totals = _report(db)["totals"]
    # R2 went back to needs_revisit once
    assert totals["first_time_fix"] == {"completed": 6, "first_time": 5, "pct": 83.3}
    # R1 (R2 29 days later) and R5 (R6 exactly 30 days later) repeat; R3 (R4 30 days and 1 s) does not
    assert totals["repeat_faults"] == {
        "completed_repairs": 5,
        "repeated_within_30d": 2,
        "pct": 40.0,
        "flagged_repeats": 1,
    }


def test_follow_ups(db, history):
    assert _report(db)["totals"]["follow_ups"] == {
        "total": 4,
        "done_on_time": 2,
        "done_late": 1,
        "overdue": 1,
        "on_time_pct": 66.7,
        "rated": 3,
        "satisfaction_mean": 4.0,
        "satisfied_pct": 66.7,
    }


def test_an_order_with_two_follow_ups_counts_both(db, history):
    # the facts carry one follow-up per order; a second makes the report join that order's
    r3 = db.get(WorkOrder, history["R3"])
    db.add(
        FollowUp(customer_id=r3.customer_id, order_id=r3.id, reason="repair", method="visit",
                 due_at=dataset.dt("09-20 12:00"), state="done", completed_at=dataset.dt("09-19 16:00"),
                 satisfaction=5)
    )  # fmt: skip
    db.commit()
    assert _report(db)["totals"]["follow_ups"] == {
        "total": 5,
        "done_on_time": 3,
        "done_late": 1,
        "overdue": 1,
        "on_time_pct": 75.0,
        "rated": 4,
        "satisfaction_mean": 4.25,
        "satisfied_pct": 75.0,
    }
    by_month = {row["group"]: row["follow_ups"] for row in _report(db, group_by="month")["rows"]}
    # all five belong to orders received in September
    assert (by_month["2026-09-01"]["total"], by_month["2026-09-01"]["satisfaction_mean"]) == (5, 4.25)


def test_complaint_clocks_count_working_days(db, history):
    assert dataset.FINAL_DEADLINE == datetime(2026, 10, 9, 16, 0)
    complaints = _report(db)["totals"]["complaints"]
    # answered next morning; first handling after 72 h; final answer on 10/8, inside 3 working days
    # (three calendar days would have ended 10/2)
    assert complaints == {
        "total": 1,
        "answer": {"met": 1, "breached": 0, "compliance_pct": 100.0},
        "handling": {"met": 0, "breached": 1, "compliance_pct": 0.0},
        "final": {"met": 1, "breached": 0, "compliance_pct": 100.0},
    }


def test_grouped_by_district(db, history):
    rows = {row["group"]: row for row in _report(db, group_by="district")["rows"]}
    assert set(rows) == {dataset.SHUSHAN, dataset.BAOHE}
    # 蜀山区: R1 R2 R5 R6 K1 NEW; 包河区: R3 R4 I1 C1
    assert (rows[dataset.SHUSHAN]["received"], rows[dataset.BAOHE]["received"]) == (6, 4)
    assert rows[dataset.SHUSHAN]["restore"]["median_s"] == 19800.0  # 7200, 14400 | 25200, 28800
    assert rows[dataset.SHUSHAN]["restore"]["p90_s"] == 27720.0  # 25200 + 0.7 * 3600
    assert rows[dataset.BAOHE]["backlog"]["total"] == 2  # OLD and R4
    assert rows[dataset.SHUSHAN]["repeat_faults"]["repeated_within_30d"] == 2


def test_grouped_by_month_keeps_an_order_in_the_month_it_came(db, history):
    rows = {row["group"]: row for row in _report(db, group_by="month")["rows"]}
    # R2 came in September and was restored in October: a September order
    assert rows["2026-09-01"]["received"] == 6
    assert rows["2026-10-01"]["received"] == 4
    assert rows["2026-09-01"]["restore"]["breached"] == 1
    assert rows["2026-08-01"]["received"] == 0 and rows["2026-08-01"]["backlog"]["over_30d"] == 1


def test_grouped_by_week_and_technician(db, history):
    weeks = {row["group"]: row["received"] for row in _report(db, group_by="week")["rows"]}
    assert weeks["2026-08-31"] == 2  # R1 (Tuesday 9/1) and R3 (Saturday 9/5): the week of Monday 8/31
    assert weeks["2026-09-28"] == 3  # R2 (Wed), I1 (Mon), K1 (Tue)
    techs = {row["label"]: row for row in _report(db, group_by="technician")["rows"]}
    assert techs["王工"]["completed"] == 3 and techs["李工"]["completed"] == 3  # R1 R3 R6 / R2 R5 I1


def test_filters_narrow_every_figure(db, history):
    totals = _report(db, product="adsl", district=dataset.BAOHE)["totals"]
    assert (totals["received"], totals["completed"], totals["backlog"]["total"]) == (2, 1, 1)  # R3, R4
    assert _report(db, technician_id=history["T2"], kind="install")["totals"]["received"] == 1
    assert _report(db, tier="local_a", channel="portal")["totals"]["received"] == 1  # I1


def test_an_empty_range_has_no_rows_and_zero_totals(db, history):
    report = figures.report(db, ReportFilter(date_from=date(2025, 1, 1), date_to=date(2025, 2, 1)))
    assert report["rows"] == [] or all(row["received"] == 0 for row in report["rows"])
    assert report["totals"]["received"] == 0
    assert report["totals"]["restore"]["compliance_pct"] is None


def test_time_to_restore_distribution(db, history):
    bins = figures.restore_distribution(db, ReportFilter(date_from=SEP, date_to=NOV))
    # R5 2 h in [2, 4); R3 and R6 4 h and R1 7 h in [4, 8); R2 8 h in [8, 24): bins hold their lower bound
    assert [b["repairs"] for b in bins] == [0, 1, 3, 1, 0, 0]
    assert (bins[0]["from_h"], bins[-1]["to_h"]) == (0, None)


@pytest.mark.parametrize("group_by", ["district", "technician", "week", "tier", "channel"])
def test_totals_summed_from_groups_equal_the_ungrouped_totals(db, history, group_by):
    assert _report(db, group_by=group_by)["totals"] == _report(db)["totals"]


def test_a_crowded_column_chart_labels_every_few_groups_and_keeps_values_in_tooltips():
    from reports import charts

    weeks = [f"W{i}" for i in range(52)]
    chart = charts.columns("weeks", weeks, [[50.0] * 52, [75.0] * 52], top=100)
    assert all(bar.text == "" for bar in chart.bars)  # too narrow for a value on top
    labelled = [bar.label for bar in chart.bars if bar.series == 0 and bar.show_label]
    assert len(labelled) <= charts.MAX_LABELS and labelled[0] == "W0"
    assert max(bar.h for bar in chart.bars if bar.series == 1) == 1.5 * max(
        bar.h for bar in chart.bars if bar.series == 0
    )
    few = charts.columns("few", ["a", "b"], [[1.0, None]])
    assert [bar.text for bar in few.bars] == ["1", "–"] and few.bars[1].h == 0


def test_a_narrowed_report_finds_the_same_repeat_faults(db, history):
    # narrowed, each order is looked up on its own; over the range, one set of ids: the same rule
    shushan = _report(db, district=dataset.SHUSHAN)["totals"]["repeat_faults"]
    baohe = _report(db, district=dataset.BAOHE, product="adsl")["totals"]["repeat_faults"]
    assert (shushan["repeated_within_30d"], shushan["completed_repairs"]) == (2, 4)  # R1, R5 of R1 R2 R5 R6
    assert (baohe["repeated_within_30d"], baohe["completed_repairs"]) == (
        0,
        1,
    )  # R4 came 30 days and 1 s after R3
