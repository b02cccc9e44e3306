"""The customer portal and the customer's order JSON: steps in the customer's words
per kind, the promise per kind, waiting for a technician, filters, both languages,
no internal states or codes. Status changes and pings go through the mobile API."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from core.clock import now
from tests.factories import PASSWORD, SITE, csrf_token

REPAIR_ZH = ["受理", "已派修", "装维人员在途", "到场处理", "已恢复", "已回访"]
INSTALL_ZH = ["受理", "已派装", "装维人员在途", "到场处理", "已开通", "已回访"]
REPAIR_EN = ["Received", "Technician assigned", "Technician on the way", "On site", "Restored", "Followed up"]
INSTALL_EN = [
    "Received",
    "Technician assigned",
    "Technician on the way",
    "On site",
    "In service",
    "Followed up",
]
# What the customer must never read: internal states and codes.
INTERNAL_ZH = ("已校验", "已排程")
INTERNAL_EN = ("Validated", "Scheduled", "En route", "Assigned")
CODES = ("validated", "scheduled", "en_route", "on_site", "repair", "install", "adsl", "received")


def _view(client, field, oid: int, lang: str = "zh") -> dict:
    resp = client.get(f"/api/v1/workorders/{oid}?lang={lang}", headers=field.cust)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _local(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).replace(tzinfo=None)


def _unassigned_p1(client, field) -> int:
    body = {
        "kind": "repair",
        "product": "adsl",
        "priority": "P1",
        "customer_id": field.home["customer_id"],
        "site_id": field.home["site_id"],
    }
    resp = client.post("/api/v1/workorders", headers=field.agent, json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def _login(client, username: str = "zhangwei") -> None:
    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert resp.status_code == 302


def _visible_text(html: str) -> str:
    body = html.split("<main>", 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_repair_steps_in_the_customers_words_as_the_order_moves(client, field, city_time):
    city_time(datetime.combine(now().date(), time(8, 0)))
    oid = field.order("adsl", kind="repair")
    view = _view(client, field, oid)
    assert [s["state_label"] for s in view["timeline"]] == REPAIR_ZH
    assert [s["state"] for s in view["timeline"] if s["current"]] == ["assigned"]
    assert [s["done"] for s in view["timeline"]] == [True, True, False, False, False, False]
    assert view["state_label"] == "已派修" and view["timeline"][1]["at"] is not None
    assert view["timeline"][2]["at"] is None

    assert field.status(oid, "en_route").status_code == 200
    view = _view(client, field, oid)
    assert view["state_label"] == "装维人员在途" and view["timeline"][2]["current"]
    assert field.status(oid, "arrived", lat=SITE[0], lon=SITE[1]).status_code == 200
    view = _view(client, field, oid, "en")
    assert [s["state_label"] for s in view["timeline"]] == REPAIR_EN
    assert view["state_label"] == "On site" and view["timeline"][3]["current"] and view["timeline"][3]["at"]


def test_install_steps_and_its_promise_is_the_completion_time(client, field):
    oid = field.order("adsl", kind="install")
    view = _view(client, field, oid)
    assert [s["state_label"] for s in view["timeline"]] == INSTALL_ZH
    assert view["promise"]["kind"] == "completion" and view["promise"]["label"] == "承诺开通时间"
    assert view["kind_label"] and view["product_label"] and view["address"]
    english = _view(client, field, oid, "en")
    assert [s["state_label"] for s in english["timeline"]] == INSTALL_EN
    assert english["promise"]["label"] == "Promised completion time"


def test_repair_promise_is_the_restore_time_and_at_risk_once_it_cannot_be_kept(client, field, city_time):
    city_time(datetime.combine(now().date(), time(8, 0)))
    oid = field.order("adsl", kind="repair")
    view = _view(client, field, oid)
    promise = view["promise"]
    assert promise["kind"] == "restore" and promise["label"] == "承诺修复时间"
    assert _local(promise["due"]) == _local(view["restore_deadline"])
    assert promise["at_risk"] is False and promise["breached"] is False and promise["met"] is None
    # the clock runs past the promise while the technician has not even set out
    city_time(_local(promise["due"]) - timedelta(minutes=10))
    field.cust = field.world.headers("zhangwei")  # a token of the new day
    late = _view(client, field, oid)["promise"]
    assert late["at_risk"] is True and late["breached"] is False
    city_time(_local(promise["due"]) + timedelta(minutes=1))
    field.cust = field.world.headers("zhangwei")
    assert _view(client, field, oid)["promise"]["breached"] is True


def test_an_unassigned_p1_says_it_waits_for_a_technician_and_until_when(client, field, city_time):
    city_time(datetime.combine(now().date(), time(10, 0)))
    oid = _unassigned_p1(client, field)
    view = _view(client, field, oid)
    waiting, due = view["waiting"], _local(view["response_deadline"])
    assert waiting["flag"] is True and waiting["urgent"] is True and _local(waiting["until"]) == due
    assert (
        waiting["text"].startswith("紧急：正在等待派出装维人员") and due.strftime("%H:%M") in waiting["text"]
    )
    assert view["state_label"] == "受理" and view["technician_name"] is None
    english = _view(client, field, oid, "en")["waiting"]["text"]
    assert english.startswith(
        "Urgent: waiting for a technician to be sent, at the latest by " + due.strftime("%H:%M")
    )
    # past the promised response, it says so rather than going quiet
    city_time(due + timedelta(minutes=5))
    assert "已过" in _view(client, field, oid)["waiting"]["text"]
    # once someone is sent, it no longer waits
    field.move(oid, "assigned", technician_id=field.tech_id, planned_start=now().isoformat())
    assert _view(client, field, oid)["waiting"]["flag"] is False


def test_portal_page_in_both_languages_shows_no_internal_states_or_codes(client, field, city_time):
    city_time(datetime.combine(now().date(), time(8, 0)))
    waiting = _unassigned_p1(client, field)
    install = field.order("adsl", kind="install", hour=11)
    repair = field.order("adsl", kind="repair", hour=9)
    assert field.status(repair, "en_route").status_code == 200
    ping = {"lat": 31.85, "lon": 117.26, "accuracy_m": 10, "recorded_at": now().isoformat()}
    assert client.post("/mobile/v1/location", headers=field.tech, json={"pings": [ping]}).status_code == 200
    _login(client)

    html = client.get("/").get_data(as_text=True)
    text = _visible_text(html)
    for word in (
        "受理",
        "已派装",
        "装维人员在途",
        "承诺修复时间",
        "承诺开通时间",
        "预计到达",
        "紧急：正在等待派出装维人员",
    ):
        assert word in text, word
    for word in INTERNAL_ZH + CODES:
        assert word not in text, word
    assert 'http-equiv="refresh"' in html  # the ETA refreshes while someone is on the way
    assert all(f'id="order-{oid}"' in html for oid in (waiting, install, repair))

    english = _visible_text(client.get("/?lang=en").get_data(as_text=True))
    for word in (
        "Received",
        "Technician on the way",
        "Promised restore time",
        "Promised completion time",
        "Expected arrival",
        "Urgent: waiting for a technician",
    ):
        assert word in english, word
    # ("repair" is an English word of the heading too: the codes that are no words)
    for word in INTERNAL_EN + tuple(c for c in CODES if c not in ("repair", "install")):
        assert word not in english, word


def test_portal_filters_by_step_and_date_and_splits_open_from_past(client, field, city_time):
    city_time(datetime.combine(now().date(), time(8, 0)))
    waiting = _unassigned_p1(client, field)
    repair = field.order("adsl", kind="repair")
    assert field.status(repair, "en_route").status_code == 200
    _login(client)

    on_the_way = client.get("/?step=en_route").get_data(as_text=True)
    assert f'id="order-{repair}"' in on_the_way and f'id="order-{waiting}"' not in on_the_way
    received = client.get(f"/?step=received&site={field.home['site_id']}").get_data(as_text=True)
    assert f'id="order-{waiting}"' in received and f'id="order-{repair}"' not in received
    tomorrow = (now().date() + timedelta(days=1)).isoformat()
    none = client.get(f"/?from={tomorrow}").get_data(as_text=True)
    assert "order-card" not in none and "暂无进行中的工单" in none
    today = now().date().isoformat()
    both = client.get(f"/?from={today}&to={today}&step=nonsense").get_data(as_text=True)
    assert f'id="order-{repair}"' in both and f'id="order-{waiting}"' in both
    assert "暂无历史工单" in both  # nothing completed yet


def test_portal_shows_the_eta_with_its_position_time_then_says_when_the_position_is_old(
    client, field, city_time
):
    start = city_time(datetime.combine(now().date(), time(9, 0)))
    oid = field.order("adsl", kind="repair")
    assert field.status(oid, "en_route").status_code == 200
    ping = {"lat": 31.85, "lon": 117.26, "accuracy_m": 10, "recorded_at": start.isoformat()}
    assert client.post("/mobile/v1/location", headers=field.tech, json={"pings": [ping]}).status_code == 200
    _login(client)
    eta = _local(_view(client, field, oid, "en")["eta"]["eta"])

    page = _visible_text(client.get("/?lang=en").get_data(as_text=True))
    assert f"Expected arrival: {eta.strftime('%H:%M')}" in page
    assert "from the technician's position at 09:00" in page
    assert f'href="/portal/orders/{oid}/comments"' in client.get("/").get_data(as_text=True)

    city_time(start + timedelta(minutes=16))
    _login(client)
    stale = _visible_text(client.get("/?lang=zh").get_data(as_text=True))
    assert "近期没有装维人员的位置，暂时无法预计到达时间。" in stale and "预计到达: " not in stale
    assert "最后位置" in stale and "09:00" in stale


def test_a_cancelled_order_ends_its_steps_with_cancelled_and_an_assigned_one_says_when_it_sets_out(
    client, field, city_time
):
    city_time(datetime.combine(now().date(), time(8, 0)))
    dropped = _unassigned_p1(client, field)
    field.move(dropped, "cancelled", headers=field.agent, reason="customer fixed it")
    view = _view(client, field, dropped)
    assert [s["state_label"] for s in view["timeline"]] == ["受理", "已取消"]
    assert view["state_label"] == "已取消" and view["open"] is False and view["waiting"]["flag"] is False
    assert view["timeline"][-1]["current"] and view["timeline"][-1]["at"]

    planned = field.order("adsl", kind="repair", hour=14)
    waiting = _view(client, field, planned, "en")["waiting"]
    assert (
        waiting["flag"] is False
        and waiting["text"] == "A technician is assigned and plans to set out at 14:00."
    )
