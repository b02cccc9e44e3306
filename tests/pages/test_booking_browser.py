"""In a browser: the agent takes an order and books the best slot the page offers."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bench.console import log_in
from tests.console.test_console_browser import ARTIFACTS, browser, page  # noqa: F401
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser]


def test_an_agent_takes_an_order_and_books_the_best_slot(page, world, db):  # noqa: F811
    from workorders.models import WorkOrder

    world.technician("wang", ["adsl"], 31.86, 117.27)
    world.customer("张伟")
    world.user("agent", "agent")
    log_in(page, page.base_url, "agent", PASSWORD)
    page.wait_for_function("window.intakeApp && window.intakeApp.ready && window.bookingApp")
    page.fill("#q", "13812345678")
    page.click("#btn-search")
    page.click("#results button[data-customer]")
    expect(page.locator("#card-name")).to_have_text("张伟")
    page.select_option("#o-kind", "repair")
    page.select_option("#o-product", "adsl")
    page.click("#btn-take")
    page.locator("#taken-code").wait_for()

    best = page.locator("#slots li.feasible").first
    best.wait_for()
    assert "Wang" in best.inner_text() and "公里" in best.inner_text()
    best.locator("button").click()
    expect(page.locator("#slot-booked")).to_contain_text("已预约")
    db.expire_all()
    order = db.scalar(select(WorkOrder))
    assert order.appointment_start is not None and order.appointment_end > order.appointment_start
    page.screenshot(path=str(ARTIFACTS / "intake_booking.png"))
