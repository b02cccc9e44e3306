"""The dispatcher console in a real browser: Debian's chromium, headless, driven by Playwright.

The app is served on 127.0.0.1 from the test's own database; every request the page makes
to any other host is aborted and fails the test (the console must work on an intranet).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.console import chromium_path, launch_chromium, log_in, loopback_only, serve, wait_until
from core.clock import now

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("morning")]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
DEMO_PASSWORD = "demo1234"

# Sum of the numbers on cluster icons plus the single markers drawn on the map.
MARKERS_ON_MAP = """() => {
  const pane = document.querySelector('.leaflet-marker-pane');
  let n = pane.querySelectorAll('.om-icon').length;
  pane.querySelectorAll('.mc').forEach(c => { n += Number(c.textContent); });
  return n;
}"""


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in requirements-dev.txt
        _missing("the playwright package is not installed")
    if not Path(chromium_path()).exists():
        _missing(f"no chromium at {chromium_path()} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


def _missing(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {why}")
    pytest.skip(why)


@pytest.fixture()
def city(app, db):
    """A small demo city (8 technicians, 40 orders) seeded for today."""
    from application.demo import seed_city

    seed_city(db, technicians=8, orders=40, seed=3)
    return db


BROWSER_ZONE = "America/Sao_Paulo"  # UTC-3, the city Asia/Shanghai is UTC+8


@pytest.fixture()
def page(app, browser):
    """A fresh browser page on the served app; fails the test on any request off loopback."""
    outside: list[str] = []
    errors: list[str] = []
    with serve(app) as base_url:
        # a browser eleven hours from the city: the console must read the city's clock, not its own
        context = browser.new_context(
            viewport={"width": 1500, "height": 950}, locale="zh-CN", timezone_id=BROWSER_ZONE
        )
        loopback_only(context, outside)
        tab = context.new_page()
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        # Anything the page's Content Security Policy blocks is an error too.
        tab.on(
            "console",
            lambda msg: (
                errors.append(msg.text)
                if msg.type == "error" and "Content Security Policy" in msg.text
                else None
            ),
        )
        tab.base_url = base_url
        yield tab
        context.close()
    assert outside == [], f"the console asked hosts other than 127.0.0.1: {outside}"
    assert errors == [], f"script errors on the page: {errors}"


def _open_orders(db, priority: str | None = None) -> int:
    from workorders.lifecycle import NON_FIELD_KINDS, OPEN_STATES
    from workorders.models import WorkOrder

    # The map shows field work: the demo's open complaints are not on it.
    stmt = (
        select(func.count())
        .select_from(WorkOrder)
        .where(WorkOrder.state.in_(OPEN_STATES), WorkOrder.kind.not_in(NON_FIELD_KINDS))
    )
    if priority:
        stmt = stmt.where(WorkOrder.priority == priority)
    db.expire_all()
    return db.scalar(stmt)


def _ready(page) -> None:
    wait_until(
        page, "window.consoleApp && window.consoleApp.ready && window.consoleApp.firstPaintMs", timeout=20_000
    )


def _show_order(page, order_id: int) -> None:
    """Zoom onto one order and click its marker, fanning out its address's group first."""
    grouped = page.evaluate(
        """(id) => {
      const app = window.consoleApp, f = app.features.get(id);
      window.consoleMap.setView([f.geometry.coordinates[1], f.geometry.coordinates[0]], 17,
                                {animate: false});
      const parent = app.cluster.getVisibleParent(app.markers.get(id));
      return parent !== app.markers.get(id);
    }""",
        order_id,
    )
    if grouped:  # another order at the same address: click the group, it fans out
        page.evaluate(
            """(id) => {
          const app = window.consoleApp;
          app.cluster.getVisibleParent(app.markers.get(id))._icon.classList.add('to-open');
        }""",
            order_id,
        )
        page.click(".to-open")
    page.click(f'.om-icon[data-order="{order_id}"]')
    page.wait_for_selector(f'#panel:not([hidden]) h2:has-text("{_code(page, order_id)}")')


def _code(page, order_id: int) -> str:
    return page.evaluate("(id) => window.consoleApp.features.get(id).properties.code", order_id)


def _markers_follow_the_filters(page, db) -> None:
    """As many markers as open orders; filter by priority, then by district, then clear."""
    total = _open_orders(db)
    assert total > 20
    count = page.locator("#order-count")
    assert count.get_attribute("data-total") == str(total)
    assert page.evaluate(MARKERS_ON_MAP) == total
    assert f"{total} / {total}" in count.inner_text()
    assert page.locator(".tm-icon").count() == 8

    page.select_option("#f-priority", "P1")
    p1 = _open_orders(db, "P1")
    assert count.get_attribute("data-shown") == str(p1)
    assert page.evaluate(MARKERS_ON_MAP) == p1
    page.select_option("#f-priority", "")
    district = page.eval_on_selector("#f-district", "s => s.options[1].value")
    page.select_option("#f-district", district)
    in_district = page.evaluate(
        """(d) => Array.from(window.consoleApp.features.values())
        .filter(f => f.properties.district === d).length""",
        district,
    )
    assert 0 < int(count.get_attribute("data-shown")) == in_district < total
    page.click("#f-reset")
    assert count.get_attribute("data-shown") == str(total)


def _assign_in_the_panel(page, db):
    """Open a validated order, read its panel, assign it and see the technician's route change."""
    from technicians.models import Technician
    from workorders.models import WorkOrder

    order = db.scalars(
        select(WorkOrder)
        .where(WorkOrder.state == "validated")
        .order_by(WorkOrder.priority.desc(), WorkOrder.id)
    ).first()
    tech = next(
        t
        for t in db.scalars(select(Technician).order_by(Technician.id))
        if set(order.required_skills) <= set(t.skills)
    )
    assert page.evaluate("window.consoleApp.routes.length") == 0
    _show_order(page, order.id)
    panel = page.locator("#panel")
    assert order.code in panel.locator("h2").inner_text()
    assert "操作记录" in panel.inner_text() and "技术规范检查结果" in panel.inner_text()
    # what a person reads: durations in words, roles and codes by their names
    page.click("#panel details summary")
    text = panel.inner_text()
    assert re.search(r"剩余 (\d+小时\d+分|\d+ 分钟)", text) and not re.search(r"\d+h\d+m", text), text
    assert "(调度员)" in text and "(dispatcher)" not in text
    assert order.kind not in text and order.product not in text
    page.select_option("#assign-tech", str(tech.id))
    page.click("#btn-assign")
    page.wait_for_selector("#panel .msg.ok")
    assert "已派给" in panel.locator(".msg.ok").inner_text()
    route = page.evaluate("(t) => window.consoleApp.routes.find(r => r.technician_id === t)", tech.id)
    assert [s["order_id"] for s in route["stops"]] == [order.id]
    assert page.locator(f'.seg.work[data-order="{order.id}"]').count() == 1
    db.expire_all()
    assert db.get(WorkOrder, order.id).state == "assigned"
    page.click("#panel-close")
    return order


def _plan_the_day_and_accept(page, db) -> None:
    """Plan the day through the progress bar (the staff API's job), then accept the proposal."""
    from workorders.models import WorkOrder

    page.select_option("#plan-seconds", "10")  # a loaded machine may find nothing in two
    page.click("#btn-plan")
    page.wait_for_selector("#plan-progress")
    seen = set()
    for _ in range(100):
        # One read of both: the bar is replaced by the summary when the job ends.
        done, value = page.evaluate(
            "() => { const bar = document.querySelector('#plan-progress');"
            " return [!!document.querySelector('#plan-summary'),"
            " bar ? bar.getAttribute('aria-valuenow') : null]; }"
        )
        if value:
            seen.add(int(value))
        if done:
            break
        page.wait_for_timeout(100)
    page.wait_for_selector("#plan-summary", timeout=60_000)
    assert seen, "the progress bar never moved"
    assert re.search(r"共 \d+ 张工单排给 \d+ 名装维人员", page.inner_text("#plan-summary"))
    assert page.locator("#gantt-title .proposal").count() == 1
    page.click("#btn-accept")
    page.wait_for_selector("#toast:not([hidden])")
    wait_until(page, "window.consoleApp.routes.length > 1")
    db.expire_all()
    assigned = db.scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.state == "assigned"))
    assert assigned > 1
    assert page.evaluate("window.consoleApp.routes.reduce((n, r) => n + r.stops.length, 0)") == assigned


def test_dispatcher_day_on_the_map_filter_assign_plan_and_switch_language(city, page):
    db = city
    log_in(page, page.base_url, "dispatcher", DEMO_PASSWORD)
    assert page.url.split("?")[0].endswith("/console")  # the dispatcher's start page
    _ready(page)
    _markers_follow_the_filters(page, db)
    order = _assign_in_the_panel(page, db)
    _plan_the_day_and_accept(page, db)

    # the screenshot a person looks at: the day planned, one order open
    _show_order(page, order.id)
    page.click("#f-reset")  # back to the whole area, the order's panel stays open
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console.png"))

    # English on request, remembered for the session
    page.click("#lang-en")
    _ready(page)
    assert page.inner_text("#btn-plan") == "Plan the day"
    assert "open orders shown" in page.inner_text("#order-count")
    page.reload()
    _ready(page)
    assert page.inner_text("#btn-urgent") == "Insert urgent fault"


def _p1_fault(db, actor, at, product: str, **values):
    """A P1 fault reported by network monitoring at the site of the order ``at``."""
    from workorders import service as wo_service

    order = wo_service.create_order(
        db,
        actor,
        {
            "kind": "repair",
            "product": product,
            "priority": "P1",
            "source": "monitoring",
            "customer_id": at.customer_id,
            "site_id": at.site_id,
            **values,
        },
    )
    db.commit()
    return order


def _planned_day_with_an_urgent_fault(db, dispatcher):
    """The day planned and applied, and a residential line fault next to a planned stop
    (several technicians can take it)."""
    from dispatch import planning, plans
    from workorders.models import WorkOrder

    record = planning.plan_day(db, dispatcher, now().date(), None, time_limit_s=10)
    db.commit()
    assert any(r["stops"] for r in record.result["routes"]), (record.result["status"], record.result["stats"])
    plans.apply_plan(db, dispatcher, record.id)
    base = db.scalars(
        select(WorkOrder)
        .where(WorkOrder.state == "assigned", WorkOrder.product.in_(("adsl", "lan")))
        .order_by(WorkOrder.id)
    ).first()
    return _p1_fault(db, dispatcher, base, base.product, description="光缆中断")


def _a_p1_nobody_is_qualified_for(db, dispatcher):
    """An enterprise circuit fault after every technician lost the circuit skill."""
    from technicians.models import Technician
    from workorders.models import Customer, WorkOrder

    for tech in db.scalars(select(Technician)):
        tech.skills = [s for s in tech.skills if s != "enterprise_circuit"]
    enterprise = db.scalars(
        select(WorkOrder)
        .join(Customer, WorkOrder.customer_id == Customer.id)
        .where(Customer.kind == "enterprise")
    ).first()
    return _p1_fault(db, dispatcher, enterprise, "sdh")


def test_urgent_fault_is_inserted_and_markers_draw_without_tiles(app, city, page):
    from core.actor import Actor
    from workorders.models import WorkOrder

    db = city
    dispatcher = Actor(user_id=None, username="test", role="dispatcher", origin="test")
    urgent = _planned_day_with_an_urgent_fault(db, dispatcher)

    # a tile server that is down: tiles fail, the map still shows everything
    app.config["TILE_URL"] = "http://127.0.0.1:9/{z}/{x}/{y}.png"
    try:
        log_in(page, page.base_url, "dispatcher", DEMO_PASSWORD)
        _ready(page)
        assert page.evaluate(MARKERS_ON_MAP) == _open_orders(db)
        assert page.evaluate("window.consoleApp.routes.length") > 0
        page.select_option("#f-routes", "all")  # by default only a chosen technician's routes are drawn
        assert page.locator(".leaflet-overlay-pane canvas").count() == 1  # route lines

        page.click("#btn-urgent")
        page.locator(f'#urgent-list button[data-order="{urgent.id}"]').click()
        page.wait_for_selector("#plan-summary", timeout=30_000)
        assert urgent.code in page.inner_text("#plan-headline")
        assert "可插入" in page.inner_text("#plan-headline")
        page.click("#btn-accept")
        page.wait_for_selector("#toast:not([hidden])")
        db.expire_all()
        assert db.get(WorkOrder, urgent.id).state == "assigned"
        # no route lost its times: every assigned order still has a planned start
        untimed = select(func.count()).select_from(WorkOrder)
        untimed = untimed.where(WorkOrder.state == "assigned", WorkOrder.planned_start.is_(None))
        assert db.scalar(untimed) == 0

        # a P1 nobody on shift is qualified for: shown as placing nothing, no "accept"
        orphan = _a_p1_nobody_is_qualified_for(db, dispatcher)
        page.reload()
        _ready(page)
        page.click("#btn-urgent")
        page.locator(f'#urgent-list button[data-order="{orphan.id}"]').click()
        page.wait_for_selector("#plan-nothing", timeout=30_000)
        assert page.locator("#btn-accept").count() == 0
        assert orphan.code in page.inner_text("#plan-headline")
    finally:
        app.config["TILE_URL"] = ""


def test_the_timeline_reads_the_citys_clock_in_a_browser_elsewhere(city, page):
    from datetime import datetime

    from core.clock import city_tz

    log_in(page, page.base_url, "dispatcher", DEMO_PASSWORD)
    _ready(page)
    assert page.evaluate("new Date().getTimezoneOffset()") == 180  # the browser's own zone
    seen, browser_ms = page.evaluate("[window.consoleApp.cityNow(), Date.now()]")
    # the browser's clock read in the city (the server's clock is frozen by the tests)
    city_now = datetime.fromtimestamp(browser_ms / 1000, city_tz())
    assert seen["day"] == city_now.date().isoformat()
    assert abs(seen["seconds"] - (city_now.hour * 3600 + city_now.minute * 60)) <= 60
    # the timeline's "now" line stands at the city's time when the day's span holds it
    line = page.locator(".g-now")
    if line.count():
        left = float(line.evaluate("n => parseFloat(n.style.left)"))
        ticks = page.locator(".g-axis .g-tick")
        first, last = ticks.first.inner_text(), ticks.last.inner_text()
        lo, hi = (int(t[:2]) * 3600 + int(t[3:]) * 60 for t in (first, last))
        assert abs(lo + left / 100 * (hi - lo) - seen["seconds"]) <= 120
