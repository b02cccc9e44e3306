"""The fault maps in a real browser: drawn in the report page's frame under its security
policy with nothing fetched off 127.0.0.1, and the downloaded file drawn with no network."""

from __future__ import annotations

import pytest

from bench.console import log_in, wait_until
from tests.console.test_console_browser import browser, page  # noqa: F401
from tests.factories import PASSWORD
from tests.reports.test_maps import history, manager  # noqa: F401
from tests.reports.test_report_pages import RANGE, _log_in

pytestmark = [pytest.mark.browser]

DISTRICT_PATHS = ".leaflet-overlay-pane path.leaflet-interactive"


def test_the_map_draws_in_the_report_page(page, manager):  # noqa: F811
    log_in(page, page.base_url, "boss", PASSWORD)
    page.goto(f"{page.base_url}/reports?{RANGE}")
    frame = page.frame_locator("#map-frame")
    # one district layer shown at a time: the history's two districts
    frame.locator(DISTRICT_PATHS).first.wait_for()
    assert frame.locator(DISTRICT_PATHS).count() == 2
    assert frame.locator("canvas.leaflet-heatmap-layer").count() == 1  # the faults' heat layer
    labels = sorted(text.split() for text in frame.locator(".district-label").all_inner_texts())
    assert labels == [["包河区", "3"], ["蜀山区", "4"]]  # each district's faults, without hovering
    control = frame.locator(".leaflet-control-layers").inner_text()
    assert "按区：故障" in control and "按站点热力：超时" in control
    frame.locator(".leaflet-control-layers label", has_text="按区：超时").click()
    assert frame.locator(DISTRICT_PATHS).count() == 2  # the other measure replaces the first
    labels = sorted(text.split() for text in frame.locator(".district-label").all_inner_texts())
    assert labels == [["包河区", "2"], ["蜀山区", "2"]]


def test_the_downloaded_file_draws_with_no_network(browser, client, manager):  # noqa: F811
    _log_in(client, "boss")
    html = client.get(f"/reports/map.html?{RANGE}&download=1").get_data(as_text=True)
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    asked: list[str] = []
    errors: list[str] = []

    def refuse(route):
        if not route.request.url.startswith("data:"):
            asked.append(route.request.url)
        route.abort()

    context.route("**/*", refuse)
    tab = context.new_page()
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        tab.set_content(html)
        wait_until(tab, f"document.querySelectorAll('{DISTRICT_PATHS}').length === 2")
        assert tab.evaluate("L.version") == "1.9.4" and tab.evaluate("typeof L.heatLayer") == "function"
        assert tab.locator("canvas.leaflet-heatmap-layer").count() == 1
        assert "故障地图" in tab.title()
    finally:
        context.close()
    assert asked == [] and errors == []
