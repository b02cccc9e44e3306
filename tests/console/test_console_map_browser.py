"""The dispatcher's map in a real browser: only the chosen technician's route with its way
home, all routes on demand, clusters that show their worst priority and SLA state, and a
proposal's figures and explanations in the review panel."""

from __future__ import annotations

import pytest

from bench.console import log_in, wait_until
from core.actor import Actor
from core.clock import now
from tests.console import test_console_browser as console_browser
from tests.console.test_console_browser import DEMO_PASSWORD, _ready

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("morning")]

# The browser, the served page and the demo city of the console's browser tests.
browser, page, city = console_browser.browser, console_browser.page, console_browser.city

DISPATCHER = Actor(user_id=None, username="test", role="dispatcher", origin="test")

# For every cluster on the map: the priority and SLA state its icon shows, and the worst of its orders.
CLUSTERS = """() => {
  const app = window.consoleApp, seen = new Map();
  const prio = {P1: 2, P2: 1, P3: 0}, risk = {breached: 2, at_risk: 1, fine: 0};
  app.cluster.getLayers().forEach((m) => {
    const parent = app.cluster.getVisibleParent(m);
    if (!parent || parent === m || !parent._icon || seen.has(parent)) return;
    const kids = parent.getAllChildMarkers();
    const worstP = kids.reduce((w, k) => prio[k.options.priority] > prio[w] ? k.options.priority : w, "P3");
    const worstR = kids.reduce((w, k) => risk[k.options.risk] > risk[w] ? k.options.risk : w, "fine");
    const icon = parent._icon.querySelector(".mc");
    seen.set(parent, {shown: icon.dataset.priority, shownRisk: icon.dataset.risk, worst: worstP,
      worstRisk: worstR, badge: parent._icon.querySelector(".mc-badge").textContent, n: kids.length});
  });
  return Array.from(seen.values());
}"""


def _routes_for_two_technicians(db) -> int:
    """Validated orders slotted into two technicians' days (the console's own assignment, no
    day-wide search); the id of the one with the most stops."""
    from sqlalchemy import select

    from core.errors import DomainError
    from dispatch import assignment
    from technicians.models import Technician
    from workorders.models import WorkOrder

    techs = list(db.scalars(select(Technician).order_by(Technician.id)))[:2]
    stops = {t.id: 0 for t in techs}
    orders = db.scalars(select(WorkOrder).where(WorkOrder.state == "validated").order_by(WorkOrder.id))
    for order in list(orders)[:12]:
        tech = min(techs, key=lambda t: stops[t.id])
        try:
            assignment.assign_order(db, DISPATCHER, order, tech.id, now().date(), time_limit_s=0.5)
        except DomainError:
            db.rollback()
            continue
        db.commit()
        stops[tech.id] += 1
    assert min(stops.values()) > 0, stops
    return max(stops, key=stops.get)


def test_map_shows_the_chosen_route_with_its_way_home_and_clusters_show_the_worst(city, page):
    db = city
    tech_id = _routes_for_two_technicians(db)
    log_in(page, page.base_url, "dispatcher", DEMO_PASSWORD)
    _ready(page)
    assert page.evaluate("window.consoleApp.routes.length") > 1

    # nothing chosen: no tangle of every route, a hint how to see them
    assert page.evaluate("window.consoleApp.drawnRoutes.length") == 0
    assert page.locator("#route-hint").is_visible()

    # one technician chosen: their route and their way home, nobody else's
    page.select_option("#f-technician", str(tech_id))
    wait_until(page, "window.consoleApp.drawnRoutes.length > 0")
    drawn = page.evaluate("window.consoleApp.drawnRoutes")
    assert {d["technician_id"] for d in drawn} == {tech_id}
    assert sorted(d["leg"] for d in drawn) == ["home", "route"]
    home = next(d for d in drawn if d["leg"] == "home")
    assert home["points"] == 2 and home["road"] is False  # last stop -> home, straight: no road router
    assert not page.locator("#route-hint").is_visible()
    console_browser.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(console_browser.ARTIFACTS / "console_route.png"))

    # all routes on demand
    page.select_option("#f-technician", "")
    page.select_option("#f-routes", "all")
    drawn = page.evaluate("window.consoleApp.drawnRoutes")
    routed = page.evaluate("window.consoleApp.routes.filter(r => r.stops.length).length")
    assert len({d["technician_id"] for d in drawn}) == routed == 2
    assert len(drawn) == 2 * routed

    # city-wide: clusters coloured and badged by their worst priority, ringed by their worst SLA
    page.evaluate("window.consoleMap.setZoom(11, {animate: false})")
    page.wait_for_timeout(300)
    page.screenshot(path=str(console_browser.ARTIFACTS / "console_clusters.png"))
    clusters = page.evaluate(CLUSTERS)
    assert clusters, "no cluster at zoom 11"
    for c in clusters:
        assert c["shown"] == c["worst"] == c["badge"], c
        assert c["shownRisk"] == c["worstRisk"], c
    assert any(c["shown"] == "P1" for c in clusters), "a P1 hidden in a cluster must show"


def test_plan_review_shows_the_figures_and_why_an_order_was_left_out(city, page):
    db = city
    from technicians.models import Technician

    for tech in db.query(Technician):  # nobody can do enterprise circuits: some orders are left out
        tech.skills = [s for s in tech.skills if s != "enterprise_circuit"]
    db.commit()
    log_in(page, page.base_url, "dispatcher", DEMO_PASSWORD)
    _ready(page)
    page.select_option("#plan-seconds", "2")
    page.click("#btn-plan")
    page.wait_for_selector("#plan-kpis", timeout=60_000)
    assert "公里" in page.inner_text("#plan-kpis")
    assert "%" in page.inner_text("#plan-kpis")
    why = page.locator("#left-out button.why").first
    why.click()
    page.wait_for_selector("#left-out .why-box")
    box = page.inner_text("#left-out .why-box")
    assert "未排入的原因" in box and "政企电路" in box
