"""The order panel in a real browser: a fault the customer reported shows its source and
the customer's comment, and the dispatcher answers from the panel's form."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bench.console import log_in
from tests.console.test_console_browser import _ready, _show_order, browser, page  # noqa: F401
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("morning")]


def test_the_dispatcher_reads_and_answers_a_customer_comment_in_the_panel(page, world, client, db):  # noqa: F811
    from workorders.models import OrderComment

    world.user("disp", "dispatcher")
    a = world.enterprise("甲公司", tier="group", lat=31.83, lon=117.28)
    world.user("alice", "customer", customer_id=a["customer_id"])
    alice = world.headers("alice")
    body = {"kind": "repair", "product": "sdh", "customer_id": a["customer_id"], "site_id": a["site_id"]}
    order_id = client.post("/api/v1/workorders", headers=alice, json=body).get_json()["id"]
    url = f"/api/v1/workorders/{order_id}/comments"
    assert client.post(url, headers=alice, json={"body": "机房在三楼"}).status_code == 201

    log_in(page, page.base_url, "disp", PASSWORD)
    page.goto(f"{page.base_url}/console")
    _ready(page)
    _show_order(page, order_id)
    panel = page.locator("#panel")
    text = panel.inner_text()
    assert "机房在三楼" in text and "客户自助门户" in text and "(客户)" in text
    page.fill("#comment-body", "技术员一小时内到")
    page.click("#btn-comment")
    page.wait_for_selector("#panel .msg.ok")
    assert "技术员一小时内到" in panel.locator("#comments").inner_text()
    db.expire_all()
    assert [c.body for c in db.scalars(select(OrderComment).order_by(OrderComment.id))] == [
        "机房在三楼",
        "技术员一小时内到",
    ]
    assert client.get(url, headers=alice).get_json()[-1]["author_role"] == "dispatcher"
