"""A hotline agent's follow-up calls in a real browser: the queue, one click for a call
not answered, one click for an unsatisfied customer, and the repeat repair named and
opened on the console with its badge and the link back to the original order."""

from __future__ import annotations

import pytest

from bench.console import log_in
from tests.console.test_console_browser import browser, page  # noqa: F401
from tests.factories import PASSWORD, SITE

pytestmark = [pytest.mark.browser]

REPAIR_ANSWERS = {"r3_line_no_fault": True, "r3_drop_twisted_pair": True, "r3_drop_no_joints": True}


def _completed_repair(field) -> int:
    oid = field.order("adsl")
    assert field.status(oid, "en_route").status_code == 200
    assert field.status(oid, "arrived", lat=SITE[0], lon=SITE[1]).status_code == 200
    answers = {"answers": REPAIR_ANSWERS}
    assert (
        field.client.post(f"/mobile/v1/orders/{oid}/checklist", headers=field.tech, json=answers).status_code
        == 200
    )
    assert field.status(oid, "completed").status_code == 200
    return oid


def test_agent_records_calls_in_one_click_and_the_console_shows_the_repeat(page, field, client):  # noqa: F811
    oid = _completed_repair(field)
    code = client.get(f"/api/v1/workorders/{oid}", headers=field.disp).get_json()["code"]
    (task,) = client.get("/api/v1/followups", headers=field.agent, query_string={"order_id": oid}).get_json()
    row = f"#followup-{task['id']}"

    log_in(page, page.base_url, "disp", PASSWORD)
    page.goto(f"{page.base_url}/followups")
    assert "回访" in page.inner_text("h1") and code in page.inner_text(row)
    page.click(f"{row} button[value=not_reached]")
    page.wait_for_load_state("load")
    assert "未联系上" in page.inner_text("#recorded")
    assert "1 / 3" in page.inner_text(row)

    page.check(f"{row} input[name=service_working][value=no]")
    page.select_option(f"{row} select[name=satisfaction]", "2")
    page.fill(f"{row} input[name=comment]", "晚上仍掉线")
    page.click(f"{row} button[value=reached]")
    page.wait_for_load_state("load")
    recorded = page.inner_text("#recorded")
    (repeat,) = client.get(
        "/api/v1/workorders", headers=field.disp, query_string={"parent_id": oid}
    ).get_json()
    assert repeat["code"] in recorded and "重复故障" in recorded

    page.click("#recorded a.repeat-link")  # to the console, the repeat repair open in the panel
    page.wait_for_selector("#repeat-badge")
    assert page.inner_text("#repeat-badge") == "重复故障"
    page.click("#panel-body .parent-order a.open-order")
    page.wait_for_selector("#repeat-orders")
    assert repeat["code"] in page.inner_text("#repeat-orders")
    assert code in page.inner_text("#panel-body h2")
