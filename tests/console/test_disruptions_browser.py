"""The re-plan panel in a real browser: a dispatcher reports a technician unavailable
from the console, reviews the diff (moved visits with their reasons, the cost change)
and applies it; the link to the re-plan shows it decided, with nothing left to apply."""

from __future__ import annotations

import pytest

from bench.console import log_in, wait_until
from tests.console.test_console_browser import browser, page  # noqa: F401 (the browser fixtures)
from tests.dispatch.test_disruptions import Day
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_disruption_form_shows_the_diff_and_applies_it(client, world, city_time, page):  # noqa: F811
    day = Day(client, world, city_time)
    t1 = day.techs[0]
    log_in(page, page.base_url, "disp", PASSWORD)
    page.goto(f"{page.base_url}/console")
    wait_until(page, "window.consoleApp && window.consoleApp.ready", timeout=20_000)

    page.click("#btn-disruption")
    page.select_option("#d-kind", "technician-unavailable")
    page.fill("#d-target", str(t1))
    page.click("#d-submit")
    page.wait_for_selector("#replan-moved", timeout=60_000)
    moved = page.locator("#replan-moved li")
    assert moved.count() >= 1
    first = moved.first.inner_text()
    assert "原装维人员临时无法出勤" in first  # the reason, in the page's language
    assert "T1 →" in first  # from the unavailable technician, by name
    assert "调整前" in page.inner_text("#replan-cost")
    moved_id = int(moved.first.get_attribute("data-order"))
    replan_id = page.evaluate("window.consoleApp.replan.id")

    page.click("#btn-replan-apply")
    page.wait_for_selector("#toast:not([hidden])")
    order = day.get(moved_id)
    assert order["state"] == "assigned" and order["technician_id"] in day.techs[1:]

    page.goto(f"{page.base_url}/console?replan={replan_id}")
    page.wait_for_selector("#replan-kind", timeout=20_000)
    assert "装维人员无法出勤" in page.inner_text("#replan-kind")
    assert page.locator("#replan-moved li").count() >= 1
    assert page.locator("#btn-replan-apply").count() == 0  # applied: nothing left to apply
