"""Slots on the pages: the customer portal's slot page and form, and the intake page's settings."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time

import pytest

from tests.factories import PASSWORD, csrf_token
from workorders.models import WorkOrder

D = date(2026, 12, 1)  # a Tuesday


def _login(client, username: str) -> str:
    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert resp.status_code == 302
    return csrf_token(client.get("/", follow_redirects=True).get_data(as_text=True))


@pytest.fixture()
def company(world, city_time):
    """A bank with an open LAN repair, its user, and a technician nearby."""
    city_time(datetime.combine(D, time(7, 30)))
    world.user("agent", "agent")
    world.technician("wang", ["lan", "enterprise_circuit"], 31.86, 117.27)
    bank = world.enterprise("甲方银行", tier="local_b")
    world.user("bank", "customer", customer_id=bank["customer_id"])
    oid = world.order(world.headers("agent"), bank, product="lan")
    return {"order_id": oid}


def test_the_portal_offers_slots_and_books_one_by_form(client, db, company):
    token = _login(client, "bank")
    oid = company["order_id"]
    home = client.get("/").get_data(as_text=True)
    assert f"/portal/orders/{oid}/slots" in home and "选择上门时段" in home
    page = client.get(f"/portal/orders/{oid}/slots")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Wang当天尚无其他安排，往返" in html and "上午 08:30–12:00" in html
    buttons = re.findall(r'name="slot" value="([^"]+)"', html)
    assert buttons[0].startswith("2026-12-0") and len(buttons) == 10  # 5 working days, AM and PM

    resp = client.post(f"/portal/orders/{oid}/slots", data={"slot": "2026-12-02/pm", "csrf_token": token})
    assert resp.status_code == 200 and "已预约：2026-12-02 13:00–17:30" in resp.get_data(as_text=True)
    order = db.get(WorkOrder, oid)
    assert order.appointment_start == datetime(2026, 12, 2, 13)


@pytest.mark.parametrize(
    ("slot", "status"), [("garbage", 422), ("2026-12-05/am", 422), ("2026-12-01/eve", 422)]
)
def test_a_bad_choice_is_refused_on_the_page(client, db, company, slot, status):
    token = _login(client, "bank")
    oid = company["order_id"]
    resp = client.post(f"/portal/orders/{oid}/slots", data={"slot": slot, "csrf_token": token})
    assert resp.status_code == status
    assert 'role="alert"' in resp.get_data(as_text=True)
    assert db.get(WorkOrder, oid).appointment_start is None


def test_the_intake_page_knows_where_to_ask_for_slots(client, company):
    _login(client, "agent")
    html = client.get("/intake").get_data(as_text=True)
    settings = json.loads(
        re.search(r'id="intake-settings" type="application/json">(.*?)</script>', html, re.S).group(1)
    )
    assert settings["booking"]["urls"] == {
        "slots": "/api/v1/workorders/{id}/slots",
        "booking": "/api/v1/workorders/{id}/booking",
    }
    assert settings["booking"]["strings"]["book"] == "预约"
    assert "js/booking_slots.js" in html and 'id="slots"' in html
