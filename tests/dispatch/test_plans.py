"""Planning a day through the API: the job, the proposal, atomic apply, conflicts."""

import time as clock_time
from datetime import datetime, time, timedelta

import pytest

from core.clock import now
from tests.factories import post_order

# Planned from a fresh morning: routes start from now (tests of a day under way set noon).
pytestmark = pytest.mark.usefixtures("morning")


def _setup(client, world):
    world.user("disp", "dispatcher")
    h = world.headers("disp")
    techs = [
        world.technician("t1", ["adsl", "lan", "iptv"], lat=31.85, lon=117.26),
        world.technician("t2", ["adsl", "lan"], lat=31.80, lon=117.30),
    ]
    day = now().date() + timedelta(days=1)
    am = (datetime.combine(day, time(9)), datetime.combine(day, time(12)))
    orders = []
    for i, (lat, lon) in enumerate([(31.86, 117.27), (31.84, 117.25), (31.81, 117.31), (31.79, 117.29)]):
        ids = world.customer(f"客户{i}", lat=lat, lon=lon)
        orders.append(post_order(client, h, ids, window=am if i % 2 else None))
    far = world.enterprise("政企", lat=31.83, lon=117.28)
    circuit = post_order(client, h, far, product="sdh", priority="P1")
    return h, techs, day, orders, circuit


def _plan(client, h, day):
    resp = client.post("/api/v1/dispatch/plan", headers=h, json={"day": day.isoformat(), "time_limit_s": 1})
    assert resp.status_code == 202, resp.get_json()
    job = resp.get_json()
    assert job["status"] in ("queued", "running")  # answered at once; the plan runs in a thread
    deadline = clock_time.monotonic() + 60
    while job["status"] in ("queued", "running") and clock_time.monotonic() < deadline:
        clock_time.sleep(0.1)
        job = client.get(f"/api/v1/jobs/{job['id']}", headers=h).get_json()
    assert job["status"] == "finished", job
    assert job["progress"]["percent"] == 100
    plan = client.get(f"/api/v1/dispatch/plans/{job['result']['plan_id']}", headers=h)
    return plan.get_json()


def test_plan_apply_assigns_every_planned_order(client, world):
    h, techs, day, orders, circuit = _setup(client, world)
    plan = _plan(client, h, day)
    assert plan["status"] == "proposed"
    planned = {s["visit_id"]: r["technician_id"] for r in plan["result"]["routes"] for s in r["stops"]}
    assert set(planned) == set(orders)
    unassigned = {u["visit_id"]: u for u in plan["result"]["unassigned"]}
    assert unassigned[circuit]["reason"] == "no_skilled_technician"
    assert unassigned[circuit]["message_zh"]

    applied = client.post(f"/api/v1/dispatch/plans/{plan['id']}/apply", headers=h)
    assert applied.status_code == 200 and applied.get_json()["status"] == "applied"
    for oid in orders:
        order = client.get(f"/api/v1/workorders/{oid}", headers=h).get_json()
        assert order["state"] == "assigned"
        assert order["technician_id"] == planned[oid]
        assert datetime.fromisoformat(order["planned_start"]).date() == day
    assert client.get(f"/api/v1/workorders/{circuit}", headers=h).get_json()["state"] == "validated"
    again = client.post(f"/api/v1/dispatch/plans/{plan['id']}/apply", headers=h | {"Accept-Language": "zh"})
    assert again.status_code == 409 and again.get_json()["plan_status"] == "applied"
    assert again.get_json()["detail"] == f"方案 {plan['id']} 已不是待确认的方案（当前：已采纳）。"
    english = client.post(f"/api/v1/dispatch/plans/{plan['id']}/apply", headers=h | {"Accept-Language": "en"})
    assert english.get_json()["detail"] == f"Plan {plan['id']} is no longer a proposal: it is applied."


def test_plan_computed_before_a_change_is_refused_whole(client, world):
    h, techs, day, orders, _circuit = _setup(client, world)
    plan = _plan(client, h, day)
    cancel = client.post(
        f"/api/v1/workorders/{orders[0]}/transitions",
        headers=h,
        json={"to": "cancelled", "reason": "客户取消"},
    )
    assert cancel.status_code == 200
    refused = client.post(f"/api/v1/dispatch/plans/{plan['id']}/apply", headers=h)
    assert refused.status_code == 409
    body = refused.get_json()
    assert [c["order_id"] for c in body["conflicts"]] == [orders[0]]
    for oid in orders[1:]:
        order = client.get(f"/api/v1/workorders/{oid}", headers=h).get_json()
        assert order["state"] == "validated" and order["technician_id"] is None
    status = client.get(f"/api/v1/dispatch/plans/{plan['id']}", headers=h).get_json()
    assert status["status"] == "refused" and status["conflicts"]


def test_plan_request_validation_and_discard(client, world):
    h, _techs, day, _orders, _circuit = _setup(client, world)
    bad = client.post("/api/v1/dispatch/plan", headers=h, json={"day": "2026-13-45"})
    assert bad.status_code == 422 and bad.get_json()["errors"]["day"] == ["不是有效的日期。"]
    far = (now().date() + timedelta(days=61)).isoformat()
    for language, words in (("zh", "暂不能规划 60 天以后的日期。"), ("en", "Days more than 60 days ahead")):
        ahead = client.post(
            "/api/v1/dispatch/plan", headers=h | {"Accept-Language": language}, json={"day": far}
        )
        assert ahead.status_code == 422 and ahead.get_json()["errors"]["day"][0].startswith(words)
    plan = _plan(client, h, day)
    discarded = client.post(f"/api/v1/dispatch/plans/{plan['id']}/discard", headers=h)
    assert discarded.get_json()["status"] == "discarded"
    assert client.post(f"/api/v1/dispatch/plans/{plan['id']}/apply", headers=h).status_code == 409
    assert client.get("/api/v1/dispatch/plans/9999", headers=h).status_code == 404
