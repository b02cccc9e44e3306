"""The made-up history's field side: applied plans and visit events for its last weeks (the
utilisation page shows work, travel and idle, and planned against actual on-site time), its
sites placed within their districts, and only the demo city's districts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from application.demo import DISTRICTS, SPREAD_DEG
from dispatch.models import DispatchPlan
from reports import history, utilisation
from reports.filters import ReportFilter
from workorders.models import Site

END = date(2026, 11, 1)


@pytest.fixture()
def made(app, db):
    return history.generate(db, 2000, END, days=120, seed=7)


def test_the_history_districts_are_the_demo_citys(made, db):
    assert history.CITY_DISTRICTS == DISTRICTS
    used = set(db.scalars(select(Site.district).distinct()))
    assert used and used <= set(DISTRICTS)


def test_history_sites_lie_within_their_district(made, db):
    sites = db.execute(select(Site.district, Site.lat, Site.lon)).all()
    assert sites
    for district, lat, lon in sites:
        centre_lat, centre_lon = DISTRICTS[district]
        assert abs(lat - centre_lat) <= SPREAD_DEG and abs(lon - centre_lon) <= SPREAD_DEG


def test_the_last_weeks_have_applied_plans_and_visit_events(made, db):
    assert made.field_plans > 30 and made.field_events > 0
    days = db.scalars(select(DispatchPlan.day).where(DispatchPlan.status == "applied")).all()
    assert min(days) >= END - timedelta(weeks=history.FIELD_WEEKS) and max(days) < END
    assert db.scalar(select(func.count()).select_from(DispatchPlan)) == made.field_plans


def test_utilisation_shows_work_travel_and_idle_planned_and_actual(made, db):
    f = ReportFilter(date_from=END - timedelta(weeks=4), date_to=END)
    found = utilisation.utilisation(db, f)
    assert found["rows"]
    totals = found["totals"]
    for side in ("planned", "actual"):
        assert totals[side]["work_s"] > 0 and totals[side]["travel_s"] > 0, side
    assert totals["actual"]["visits"] > 0 and totals["planned"]["stops"] > 0
    assert 0 < totals["actual"]["utilisation_pct"] < 100


def test_on_site_by_product_measures_and_flags_the_slow_circuits(made, db):
    f = ReportFilter(date_from=END - timedelta(days=120), date_to=END)
    rows = {row["product"]: row for row in utilisation.on_site_by_product(db, f)["rows"]}
    assert all(row["measured"] > 0 for row in rows.values())
    # the history keeps SDH on site 45 % over its planned hour, IPTV 25 % under
    assert rows["sdh"]["flag"] == "longer"
    assert rows["iptv_lan"]["flag"] == "shorter"
    assert rows["lan"]["flag"] is None
