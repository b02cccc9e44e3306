"""A fault a customer reports lands in the console's queue with its source, and the
order panel shows the comments both ways, with a way to add one (staff API, cookie + CSRF)."""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import Console

pytestmark = pytest.mark.usefixtures("morning")


@pytest.fixture()
def reported(client, world):
    """A fault company A's user reported through the API, with one comment of theirs."""
    world.user("disp", "dispatcher")
    a = world.enterprise("甲公司", tier="group", lat=31.83, lon=117.28)
    world.user("alice", "customer", customer_id=a["customer_id"])
    alice = world.headers("alice")
    body = {
        "kind": "repair",
        "product": "sdh",
        "customer_id": a["customer_id"],
        "site_id": a["site_id"],
        "service_down": True,
        "description": "SDH 电路中断",
    }
    order = client.post("/api/v1/workorders", headers=alice, json=body).get_json()
    url = f"/api/v1/workorders/{order['id']}/comments"
    assert client.post(url, headers=alice, json={"body": "请尽快处理"}).status_code == 201
    return {"order_id": order["id"], "code": order["code"], "alice": alice, "url": url}


def test_a_reported_fault_is_in_the_queue_with_its_source_and_comments(client, reported):
    console = Console(client, "disp")
    status, feed = console.get("/orders")
    assert status == 200
    assert reported["order_id"] in [f["id"] for f in feed["features"]]

    status, panel = console.get(f"/orders/{reported['order_id']}")
    assert status == 200
    assert panel["source"] == "portal" and panel["source_label"] == "客户自助门户"
    assert panel["comments_url"] == reported["url"]
    [comment] = panel["comments"]
    assert comment["body"] == "请尽快处理" and comment["author_role_label"] == "客户"
    html = console.page.get_data(as_text=True)
    settings = json.loads(
        re.search(r'id="console-settings" type="application/json">(.*?)</script>', html, re.S)[1]
    )
    assert settings["strings"]["source"] == "来源" and settings["strings"]["comments"] == "留言"
    assert settings["labels"]["source"]["portal"] == "客户自助门户"


def test_the_dispatcher_answers_from_the_panel_and_the_customer_reads_it(client, reported):
    console = Console(client, "disp")
    refused = client.post(reported["url"], json={"body": "无令牌"})
    assert refused.status_code == 403
    resp = client.post(reported["url"], json={"body": "已安排技术员"}, headers={"X-CSRFToken": console.token})
    assert resp.status_code == 201, resp.get_json()

    _status, panel = console.get(f"/orders/{reported['order_id']}")
    assert [c["body"] for c in panel["comments"]] == ["请尽快处理", "已安排技术员"]
    assert [a["action"] for a in panel["audit"]].count("comment_added") == 2
    seen = client.get(reported["url"], headers=reported["alice"]).get_json()
    assert seen[-1]["body"] == "已安排技术员" and seen[-1]["author_role"] == "dispatcher"
