"""Technician utilisation and planned against actual on-site time, against a small day worked
out by hand (below), over the API, in the exports and on the manager's page.

Tuesday 2026-09-01. Both technicians work 08:30-17:30 with an hour's lunch: 8 h = 28800 s.

Planned (applied plans; a proposed and a discarded plan are left out):
- the day plan, applied the evening before: 王工 A 09:00-10:00 (1800 s there), B 11:00-12:30
  (1200 s there), 1500 s home: work 9000, travel 4500, idle 15300. 李工 C 09:00-10:00 (900 s),
  900 s home: work 3600, travel 1800.
- a manual move applied at 13:00 (clock 46800 s) for 李工 only: D 14:00-15:00 (1200 s there),
  1200 s home. C (09:00, before the clock) stays: work 7200, travel 900 + 1200 + 1200 = 3300,
  idle 18300.
Actual (audit trail):
- 王工 sends them from his phone. A: en route 08:40, on site 09:10, started 09:15, paused 09:30,
  resumed 09:50, completed 10:30: travel 1800, work 300 + 900 + 2400 = 3600, waiting 1200.
  B: en route 10:30, on site 11:00, completed 12:00: travel 1800, work 3600.
  Total work 7200, travel 3600, waiting 1200, idle 28800 - 12000 = 16800.
- 李工 has no login; the dispatcher records C for him: en route 08:30, on site 09:30, completed
  12:30: travel 3600, work 10800, idle 14400: idle half the day.
On site by product (installs and repairs received and completed in the range):
- adsl: A 4800 s on site less 1200 s paused = 3600 (planned 60 min), B 3600 (planned 90 min):
  planned median 4500, actual median 3600, -20%: not over the tolerance (and only 2 orders).
- lan: C 10800 (planned 60 min) and five orders of 90 min planned at 60: actual median 5400,
  mean (5 * 5400 + 10800) / 6 = 6300, p90 between 5400 and 10800: 8100; +50%: longer.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time

import pytest
from openpyxl import load_workbook

from core.models import AuditEvent
from dispatch.models import DispatchPlan
from reports import utilisation
from reports.filters import ReportFilter
from technicians.models import Technician
from tests.factories import PASSWORD, csrf_token
from workorders.models import Customer, Site, WorkOrder

DAY = date(2026, 9, 1)
RANGE = {"from": "2026-09-01", "to": "2026-09-03"}


def at(hhmm: str, day: int = 1) -> datetime:
    return datetime.fromisoformat(f"2026-09-{day:02d}T{hhmm}")


def _stop(order_id: int, start: str, end: str, travel_s: int) -> dict:
    start_s = int((at(start) - at("00:00")).total_seconds())
    end_s = int((at(end) - at("00:00")).total_seconds())
    return {
        "visit_id": order_id,
        "arrival_s": start_s,
        "start_s": start_s,
        "end_s": end_s,
        "travel_s": travel_s,
        "travel_m": travel_s * 8.0,
        "late_s": 0,
    }


def _route(tech_id: int, stops: list[dict], home_s: int) -> dict:
    travel = sum(s["travel_s"] for s in stops) + home_s
    return {"technician_id": tech_id, "stops": stops, "travel_s": travel, "travel_m": 0.0, "work_s": 0}


def build(session, world) -> dict[str, int]:
    """The day in the module's docstring; answers ids by name."""
    user_id = world.user("wang", "technician")
    dispatcher = world.user("disp", "dispatcher")
    wang = Technician(name="王工", user_id=user_id, home_lat=31.85, home_lon=117.26, district="蜀山区")
    li = Technician(name="李工", home_lat=31.80, home_lon=117.30, district="包河区")
    customer = Customer(name="张三", kind="residential")
    session.add_all([wang, li, customer])
    session.flush()
    site = Site(customer_id=customer.id, address="S 路 1 号", district="蜀山区")
    session.add(site)
    session.flush()

    def order(code, tech, product, duration_min, arrived=None, completed=None, day=1):
        o = WorkOrder(
            code=code, kind="repair", product=product, priority="P3", source="hotline",
            customer_id=customer.id, site_id=site.id, technician_id=tech.id, duration_min=duration_min,
            state="completed" if completed else "assigned", received_at=at("07:00", day),
            created_at=at("07:00", day), arrived_at=arrived, completed_at=completed,
            response_deadline=at("09:00", day), restore_deadline=at("23:00", day),
        )  # fmt: skip
        session.add(o)
        session.flush()
        return o

    a = order("A", wang, "adsl", 60, at("09:10"), at("10:30"))
    b = order("B", wang, "adsl", 90, at("11:00"), at("12:00"))
    c = order("C", li, "lan", 60, at("09:30"), at("12:30"))
    d = order("D", li, "lan", 60)
    for i in range(5):
        order(f"L{i}", li, "lan", 60, at("14:00", 2), at("15:30", 2), day=2)
    day_plan = {
        "routes": [
            _route(wang.id, [_stop(a.id, "09:00", "10:00", 1800), _stop(b.id, "11:00", "12:30", 1200)], 1500),
            _route(li.id, [_stop(c.id, "09:00", "10:00", 900)], 900),
        ],
        "now_s": None,
    }
    moved = {"routes": [_route(li.id, [_stop(d.id, "14:00", "15:00", 1200)], 1200)], "now_s": 46800}
    ignored = {"routes": [_route(wang.id, [_stop(d.id, "08:30", "17:00", 9000)], 0)], "now_s": None}
    for result, status, decided in (
        (day_plan, "applied", datetime(2026, 8, 31, 18, 0)),
        (moved, "applied", at("13:00")),
        (ignored, "proposed", None),
        (ignored, "discarded", at("14:00")),
    ):
        session.add(DispatchPlan(day=DAY, kind="day", status=status, result=result, decided_at=decided))
    for o, actor, events in (
        (a, user_id, [("state:en_route", "08:40"), ("state:on_site", "09:10"), ("field:started", "09:15"),
                      ("field:paused", "09:30"), ("field:resumed", "09:50"), ("state:completed", "10:30")]),
        (b, user_id, [("state:en_route", "10:30"), ("state:on_site", "11:00"), ("state:completed", "12:00")]),
        (c, dispatcher, [("state:en_route", "08:30"), ("state:on_site", "09:30"),
                         ("state:completed", "12:30")]),
    ):  # fmt: skip
        for action, hhmm in events:
            session.add(
                AuditEvent(actor_id=actor, actor_name="x", actor_role="technician", action=action,
                           entity_type="work_order", entity_id=o.id, at=at(hhmm))
            )  # fmt: skip
    session.commit()
    return {"wang": wang.id, "li": li.id, "D": d.id}


@pytest.fixture()
def day(app, db, world):
    return build(db, world)


def _filter(**kwargs) -> ReportFilter:
    return ReportFilter(date_from=DAY, date_to=date(2026, 9, 3), **kwargs)


def test_planned_and_actual_time_per_technician(db, day):
    found = utilisation.utilisation(db, _filter())
    rows = {row["technician"]: row for row in found["rows"]}
    wang, li = rows["王工"], rows["李工"]
    assert (wang["days"], wang["available_s"]) == (1, 28800.0)
    assert wang["planned"] == {
        "stops": 2,
        "work_s": 9000.0,
        "travel_s": 4500.0,
        "idle_s": 15300.0,
        "utilisation_pct": 31.2,
    }
    assert wang["actual"] == {
        "visits": 2,
        "work_s": 7200.0,
        "travel_s": 3600.0,
        "waiting_s": 1200.0,
        "idle_s": 16800.0,
        "overtime_s": 0.0,
        "utilisation_pct": 25.0,
    }
    assert (li["planned"]["stops"], li["planned"]["work_s"], li["planned"]["travel_s"]) == (2, 7200.0, 3300.0)
    assert li["planned"]["idle_s"] == 18300.0
    # the dispatcher recorded 李工's visit: it is his, by the order
    assert (li["actual"]["travel_s"], li["actual"]["work_s"], li["actual"]["idle_s"]) == (
        3600.0,
        10800.0,
        14400.0,
    )
    assert li["actual"]["idle_s"] == li["available_s"] / 2
    totals = found["totals"]
    assert (totals["days"], totals["available_s"], totals["actual"]["work_s"]) == (2, 57600.0, 18000.0)
    assert totals["planned"]["travel_s"] == 7800.0


def test_per_day_and_the_technician_filter(db, day):
    found = utilisation.utilisation(db, _filter(technician_id=day["li"]), period="day")
    assert [(row["technician"], row["period"]) for row in found["rows"]] == [("李工", "2026-09-01")]
    weekly = utilisation.utilisation(db, _filter(), period="week")
    assert {row["period"] for row in weekly["rows"]} == {"2026-08-31"}  # the Monday
    assert utilisation.utilisation(db, _filter(district="包河区"))["totals"]["days"] == 1


def test_a_visit_still_under_way_ends_at_the_end_of_its_day(db, day):
    db.add(
        AuditEvent(actor_name="x", actor_role="dispatcher", action="state:en_route", entity_type="work_order",
                   entity_id=day["D"], at=at("16:00", 2))
    )  # fmt: skip
    db.commit()
    rows = utilisation.utilisation(db, _filter(), period="day")["rows"]
    second = next(row for row in rows if row["period"] == "2026-09-02")
    assert (second["technician"], second["actual"]["travel_s"]) == ("李工", 8 * 3600.0)
    assert second["actual"]["overtime_s"] == 0.0 and second["actual"]["idle_s"] == 0.0
    # judged earlier (now is 18:00 that day), it has lasted 2 h so far
    judged = _filter(as_of=datetime.combine(date(2026, 9, 2), time(18, 0)))
    rows = utilisation.utilisation(db, judged, period="day")["rows"]
    assert next(r for r in rows if r["period"] == "2026-09-02")["actual"]["travel_s"] == 7200.0


def test_on_site_time_by_product_flags_the_wrong_durations(db, day):
    found = utilisation.on_site_by_product(db, _filter())
    rows = {row["product"]: row for row in found["rows"]}
    adsl, lan = rows["adsl"], rows["lan"]
    assert (adsl["completed"], adsl["measured"], adsl["paused_s"]) == (2, 2, 1200.0)
    assert (adsl["planned_median_s"], adsl["actual_median_s"], adsl["actual_mean_s"]) == (
        4500.0,
        3600.0,
        3600.0,
    )
    assert (adsl["deviation_pct"], adsl["flag"]) == (-20.0, None)
    assert (lan["completed"], lan["measured"], lan["planned_median_s"]) == (6, 6, 3600.0)
    assert (lan["actual_median_s"], lan["actual_mean_s"], lan["actual_p90_s"]) == (5400.0, 6300.0, 8100.0)
    assert (lan["deviation_pct"], lan["flag"]) == (50.0, "longer")


@pytest.fixture()
def manager(day, world):
    world.user("boss", "manager")
    return {"headers": world.headers("boss"), **day}


def test_the_api_answers_utilisation_and_durations(client, manager):
    resp = client.get(
        "/api/v1/reports/utilisation", query_string={**RANGE, "period": "day"}, headers=manager["headers"]
    )
    body = resp.get_json()
    assert resp.status_code == 200, body
    assert body["judged_at"] == "2026-09-03T00:00:00+08:00" and body["period"] == "day"
    li = next(row for row in body["rows"] if row["technician_id"] == manager["li"])
    assert li["actual"]["idle_s"] == 14400.0 and li["period"] == "2026-09-01"
    resp = client.get("/api/v1/reports/durations", query_string=RANGE, headers=manager["headers"])
    lan = next(row for row in resp.get_json()["rows"] if row["product"] == "lan")
    assert lan["flag"] == "longer"


def test_bad_period_is_a_clear_422(client, manager):
    resp = client.get(
        "/api/v1/reports/utilisation", query_string={"period": "hour"}, headers=manager["headers"]
    )
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"


def test_exports_of_utilisation_and_durations(client, manager):
    resp = client.get(
        "/api/v1/reports/utilisation/export",
        query_string={**RANGE, "format": "csv"},
        headers=manager["headers"],
    )
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert [row["technician"] for row in rows] == ["李工", "王工", "total"]
    assert rows[0]["actual.idle_s"] == "14400.0" and rows[2]["actual.work_s"] == "18000.0"
    resp = client.get(
        "/api/v1/reports/utilisation/export",
        query_string={**RANGE, "format": "xlsx", "table": "durations"},
        headers=manager["headers"],
    )
    assert resp.status_code == 200
    sheet = list(
        load_workbook(io.BytesIO(resp.get_data()), read_only=True)["durations"].iter_rows(values_only=True)
    )
    assert sheet[0][0] == "product" and [row[0] for row in sheet[1:]] == ["adsl", "lan"]
    assert sheet[2][sheet[0].index("flag")] == "longer"


def test_other_roles_may_not_read_utilisation(client, world, manager):
    world.user("agent1", "agent")
    for path in (
        "/api/v1/reports/utilisation",
        "/api/v1/reports/durations",
        "/api/v1/reports/utilisation/export",
    ):
        assert client.get(path, headers=world.headers("agent1")).status_code == 403
        assert client.get(path).status_code == 401


def test_the_openapi_spec_documents_them(client):
    spec = client.get("/openapi.json").get_json()
    for path in (
        "/api/v1/reports/utilisation",
        "/api/v1/reports/durations",
        "/api/v1/reports/utilisation/export",
    ):
        assert path in spec["paths"], path
    names = {p["name"] for p in spec["paths"]["/api/v1/reports/utilisation"]["get"]["parameters"]}
    assert {"from", "to", "period", "technician_id", "district"} <= names


def _log_in(client, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert resp.status_code == 302


def test_the_page_shows_utilisation_durations_complaints_and_follow_ups(client, manager, db):
    _log_in(client, "boss")
    html = client.get("/reports?from=2026-09-01&to=2026-09-03").get_data(as_text=True)
    assert 'id="utilisation-table"' in html and 'id="durations-table"' in html
    assert 'id="complaints-table"' in html and 'id="followups-table"' in html
    assert "装维人员工时对比" in html and "李工" in html
    table = html.split('id="durations-table"')[1].split("</table>")[0]
    assert table.count('class="flag longer"') == 1  # lan
    links = re.findall(r'href="(/reports/orders\?[^"]+)"', html)
    assert any("figure=complaint_answer_breached" in link for link in links)
    assert any("figure=followup_late" in link for link in links)
    assert any("table=durations" in href for href in re.findall(r'href="([^"]+)"', html))
    li = re.search(r'<a href="(/reports/orders\?[^"]+)">李工</a>', html).group(1).replace("&amp;", "&")
    listed = client.get(li).get_data(as_text=True)
    assert all(f">{code}</a>" in listed for code in ("C", "L0", "L4")) and ">A</a>" not in listed
    english = client.get("/reports?from=2026-09-01&to=2026-09-03&lang=en").get_data(as_text=True)
    assert "Technician comparison" in english and "On-site time by product" in english


def test_the_visit_events_are_the_ones_the_phone_records():
    from mobile_api import status

    assert (utilisation.FIELD_STARTED, utilisation.FIELD_PAUSED, utilisation.FIELD_RESUMED) == (
        status.FIELD_STARTED,
        status.FIELD_PAUSED,
        status.FIELD_RESUMED,
    )
