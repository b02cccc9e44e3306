"""An enterprise's ticketing system polls its orders: filters by site, circuit,
channel and date, and ``updated_since`` returning what changed (a state move or a
new comment) since the previous poll, nothing else and nothing of another company."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from core.clock import now


@pytest.fixture()
def polled(world, city_time):
    city_time(datetime.combine(now().date(), datetime.min.time()).replace(hour=9))
    world.user("agent", "agent")
    a = world.enterprise("甲公司", tier="group")
    b = world.enterprise("乙公司", tier="local_c")
    world.user("alice", "customer", customer_id=a["customer_id"])
    world.user("bob", "customer", customer_id=b["customer_id"])
    return {"a": a, "b": b}


def _report(client, headers, ids, text):
    body = {
        "kind": "repair",
        "product": "lan_dedicated",
        "customer_id": ids["customer_id"],
        "site_id": ids["site_id"],
        "description": text,
    }
    resp = client.post("/api/v1/workorders", headers=headers, json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def _codes(client, headers, **query) -> list[str]:
    resp = client.get("/api/v1/workorders", headers=headers, query_string=query)
    assert resp.status_code == 200, resp.get_json()
    return sorted(order["code"] for order in resp.get_json())


def test_updated_since_returns_what_changed_since_the_previous_poll(client, world, polled, city_time):
    alice, bob = world.headers("alice"), world.headers("bob")
    first = _report(client, alice, polled["a"], "一号线路中断")
    second = _report(client, alice, polled["a"], "二号线路中断")
    _report(client, bob, polled["b"], "乙公司的故障")

    poll = now() + timedelta(minutes=1)
    city_time(poll.replace(tzinfo=None) + timedelta(minutes=5))
    assert _codes(client, alice, updated_since=poll.isoformat()) == []

    # the agent cancels the first at the customer's word; a comment lands on the second
    agent = world.headers("agent")
    moved = client.post(
        f"/api/v1/workorders/{first['id']}/transitions",
        headers=agent,
        json={"to": "cancelled", "reason": "客户已自行恢复"},
    )
    assert moved.status_code == 200, moved.get_json()
    commented = client.post(
        f"/api/v1/workorders/{second['id']}/comments", headers=agent, json={"body": "已安排"}
    )
    assert commented.status_code == 201, commented.get_json()

    assert _codes(client, alice, updated_since=poll.isoformat()) == sorted([first["code"], second["code"]])
    # an offset is converted: the same moment in UTC selects the same orders
    utc = (poll - timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    assert _codes(client, alice, updated_since=utc) == sorted([first["code"], second["code"]])
    assert _codes(client, bob, updated_since=poll.isoformat()) == []  # another company's changes stay hidden
    listed = client.get("/api/v1/workorders", headers=alice, query_string={"updated_since": poll.isoformat()})
    assert all(order["updated_at"].endswith("+08:00") for order in listed.get_json())


def test_the_list_filters_by_site_circuit_channel_and_date(client, world, polled):
    alice = world.headers("alice")
    a = polled["a"]
    order = _report(client, alice, a, "专线中断")
    assert _codes(client, alice, site_id=a["site_id"]) == [order["code"]]
    assert order["circuit_id"] == a["line_id"]  # the site's one circuit
    assert _codes(client, alice, line_id=a["line_id"]) == [order["code"]]
    assert _codes(client, alice, line_id=a["line_id"] + 1000) == []
    assert _codes(client, alice, source="portal") == [order["code"]]
    assert _codes(client, alice, source="hotline") == []
    today = now().date()
    assert _codes(client, alice, created_from=f"{today}T00:00:00") == [order["code"]]
    assert _codes(client, alice, created_to=f"{today}T00:00:00") == []
    bad = client.get("/api/v1/workorders", headers=alice, query_string={"updated_since": "yesterday"})
    assert bad.status_code == 422 and "updated_since" in bad.get_json()["errors"]
