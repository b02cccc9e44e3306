"""The hotline agent's intake page: agents land on it after logging in, in Chinese by
default and in English on request; it offers what the intake API takes and works with
the session cookie and the page's CSRF token."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import PASSWORD, csrf_token


def _log_in(client, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert resp.status_code == 302


def _settings(html: str) -> dict:
    match = re.search(r'<script id="intake-settings" type="application/json">(.*?)</script>', html, re.S)
    assert match, "no settings on the page"
    return json.loads(match.group(1))


def test_an_agent_lands_on_the_intake_page_in_chinese_then_english(client, world):
    world.user("agent", "agent")
    _log_in(client, "agent")
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].endswith("/intake")
    page = client.get("/intake")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="zh-CN">' in html
    assert "电话受理" in html and "查找来电客户" in html and "受理检查" in html
    settings = _settings(html)
    assert settings["lang"] == "zh" and settings["strings"]["taken"] == "已受理，工单号 %(code)s。"
    assert {"kind", "product", "priority", "source", "tier", "channel"} <= set(settings["choices"])
    assert dict((c["code"], c["label"]) for c in settings["choices"]["kind"])["repair"] == "修障"
    english = client.get("/intake?lang=en").get_data(as_text=True)
    assert "Phone intake" in english and "Find the caller" in english and "电话受理" not in english
    assert _settings(english)["strings"]["taken"] == "Order %(code)s is taken."
    # the order list stays one click away
    listing = client.get("/?list=1")
    assert listing.status_code == 200 and 'id="nav-intake"' in listing.get_data(as_text=True)


def test_the_page_offers_exactly_what_the_intake_schema_takes(client, world):
    from workorders.views import OrderIntakeSchema

    world.user("agent", "agent")
    _log_in(client, "agent")
    settings = _settings(client.get("/intake").get_data(as_text=True))
    schema = OrderIntakeSchema()
    for field in ("kind", "source", "priority"):
        offered = [c["code"] for c in settings["choices"][field]]
        assert offered == list(schema.fields[field].validate.choices), field
    assert settings["takes_received_at"] == ("received_at" in schema.fields)
    for key in ("customers", "customer", "sites", "contacts", "preview", "orders"):
        assert settings["urls"][key].startswith("/api/v1/"), key
    assert settings["urls"]["customer"].endswith("/customers/{id}")


def test_the_page_script_and_style_are_served_from_here(client, world):
    world.user("agent", "agent")
    _log_in(client, "agent")
    html = client.get("/intake").get_data(as_text=True)
    assert '<script type="module" src="/static/js/intake.js">' in html
    assert "http://" not in html and "https://" not in html  # no CDN
    script = client.get("/static/js/intake.js")
    assert script.status_code == 200 and "X-CSRFToken" in script.get_data(as_text=True)
    assert client.get("/static/intake.css").status_code == 200


@pytest.mark.parametrize(
    ("role", "lands"), [("dispatcher", "/console"), ("manager", "/reports"), ("admin", None)]
)
def test_other_staff_keep_their_home_and_reach_intake_from_the_menu(client, world, role, lands):
    world.user(role, role)
    _log_in(client, role)
    home = client.get("/")
    if lands:
        assert home.status_code == 302 and home.headers["Location"].split("?")[0].endswith(lands)
    else:
        assert home.status_code == 200 and 'id="nav-intake"' in home.get_data(as_text=True)
    assert client.get("/intake").status_code == 200


def test_customers_and_technicians_are_refused_and_the_anonymous_sent_to_log_in(client, world):
    ids = world.customer("张伟")
    world.user("zhang", "customer", customer_id=ids["customer_id"])
    assert client.get("/intake").status_code == 302
    _log_in(client, "zhang")
    refused = client.get("/intake")
    assert refused.status_code == 403 and "受理页面仅供客服中心人员使用" in refused.get_data(as_text=True)
    assert "intake-settings" not in refused.get_data(as_text=True)


def test_the_page_session_takes_an_order_through_the_api_with_its_csrf_token(client, world):
    world.user("agent", "agent")
    ids = world.customer("张伟")
    _log_in(client, "agent")
    html = client.get("/intake").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    body = {"kind": "repair", "product": "adsl", "priority": "P2", "source": "hotline", **ids}
    without = client.post("/api/v1/workorders/preview", json=body)
    assert without.status_code == 403 and without.get_json()["type"].endswith("csrf-token-missing")
    preview = client.post("/api/v1/workorders/preview", json=body, headers={"X-CSRFToken": token})
    assert preview.status_code == 200 and preview.get_json()["state"] == "validated"
    taken = client.post("/api/v1/workorders", json=body, headers={"X-CSRFToken": token})
    assert taken.status_code == 201 and taken.get_json()["code"].startswith("WO")
    found = client.get("/api/v1/customers", query_string={"q": "张伟"}).get_json()
    assert found["items"][0]["open_orders"] == 1
