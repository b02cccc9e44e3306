"""Explanations and figures of a stored plan through the staff API, in both languages."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from core.actor import Actor
from core.clock import now
from tests.factories import Console, post_order

pytestmark = pytest.mark.usefixtures("morning")

DISPATCHER = Actor(user_id=None, username="test", role="dispatcher", origin="test")


def _planned_day(client, world, db):
    """Two technicians, only the first knows IPTV; an IPTV order, two ADSL orders and an
    SDH circuit fault nobody is qualified for; planned tomorrow with a 2 s search."""
    from dispatch import planning

    world.user("disp", "dispatcher")
    h = world.headers("disp")
    world.technician("t1", ["adsl", "lan", "iptv"], lat=31.85, lon=117.26)
    world.technician("t2", ["adsl", "lan"], lat=31.80, lon=117.30)
    day = now().date() + timedelta(days=1)
    window = (datetime.combine(day, time(14)), datetime.combine(day, time(15)))
    iptv = post_order(client, h, world.customer("电视客户", lat=31.86, lon=117.27), product="iptv_lan")
    adsl = post_order(client, h, world.customer("宽带客户", lat=31.81, lon=117.31), window=window)
    post_order(client, h, world.customer("宽带客户2", lat=31.84, lon=117.25))
    circuit = post_order(
        client, h, world.enterprise("政企", lat=31.83, lon=117.28), product="sdh", priority="P1"
    )
    record = planning.plan_day(db, DISPATCHER, day, None, time_limit_s=2)
    db.commit()
    return h, record, {"iptv": iptv, "adsl": adsl, "circuit": circuit}


def test_visit_explanations_name_the_skill_the_window_and_the_blocker(client, world, db):
    h, record, ids = _planned_day(client, world, db)
    base = f"/api/v1/dispatch/plans/{record.id}"

    tv = client.get(f"{base}/visits/{ids['iptv']}/explain", headers=h).get_json()
    assert tv["assigned"] and tv["technician_name"] == "T1"
    assert any("IPTV" in line and "具备所需技能" in line for line in tv["why_technician"])
    assert tv["cost"]["text"].startswith("给路线增加")

    booked = client.get(f"{base}/visits/{ids['adsl']}/explain", headers=h | {"Accept-Language": "en"})
    booked = booked.get_json()
    assert booked["assigned"]
    assert any("Appointment window 14:00–15:00" in line for line in booked["why_time"]), booked["why_time"]

    orphan = client.get(f"{base}/visits/{ids['circuit']}/explain", headers=h).get_json()
    assert orphan["assigned"] is False and orphan["reason"] == "no_skilled_technician"
    assert orphan["blockers"] == ["在班的2名人员中没有人具备技能：政企电路。"]
    english = client.get(f"{base}/visits/{ids['circuit']}/explain", headers=h | {"Accept-Language": "en"})
    assert english.get_json()["blockers"] == ["None of the 2 technicians on shift has: Enterprise circuit."]

    missing = client.get(f"{base}/visits/999999/explain", headers=h)
    assert missing.status_code == 404
    assert client.get("/api/v1/dispatch/plans/999999/explain", headers=h).status_code == 404


def test_plan_explanation_and_kpis_agree_with_the_stored_plan(client, world, db):
    h, record, ids = _planned_day(client, world, db)
    explained = client.get(f"/api/v1/dispatch/plans/{record.id}/explain", headers=h).get_json()
    stops = sum(len(r["stops"]) for r in record.result["routes"])
    placed = [v for v in explained["visits"] if v["assigned"]]
    assert len(placed) == stops and len(explained["visits"]) == 4
    assert [t["name"] for t in explained["technicians"]] == ["T1", "T2"]

    kpis = client.get(f"/api/v1/dispatch/plans/{record.id}/kpis", headers=h).get_json()
    assert kpis == explained["kpis"]
    assert kpis["visits_planned"] == stops >= 2
    assert kpis["unassigned_by_reason"]["no_skilled_technician"] == 1
    assert kpis["travel_km"] == round(record.result["travel_m"] / 1000, 1)
    assert 0 < kpis["utilisation_pct"] < 100

    status, review = Console(client, "disp").get(f"/plans/{record.id}")  # the console's plan review
    assert status == 200 and review["kpis"] == kpis

    from dispatch import kpis as plan_figures

    same = plan_figures.compare_kpis(plan_figures.plan_kpis(db, record.id), kpis)
    assert all(item["delta"] == 0 for key, item in same.items() if key != "unassigned_by_reason")
