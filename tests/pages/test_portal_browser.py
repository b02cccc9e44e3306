"""An enterprise customer's day on the portal in a real browser: report a fault, see it
listed, follow the technician's live ETA (status and pings sent through the mobile API),
then download the close-out report once the work is done."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from bench.console import log_in
from core.clock import now
from tests.console.test_console_browser import browser, page  # noqa: F401
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser]

SITE = (31.83, 117.28)  # the bank's site
FAR = (31.80, 117.20)
NEAR = (31.835, 117.275)


def _ping(client, headers, point: tuple[float, float]) -> None:
    body = {"pings": [{"lat": point[0], "lon": point[1], "accuracy_m": 10, "recorded_at": now().isoformat()}]}
    resp = client.post("/mobile/v1/location", headers=headers, json=body)
    assert resp.status_code == 200, resp.get_json()


def _status(client, headers, order_id: int, status: str, **body) -> None:
    resp = client.post(
        f"/mobile/v1/orders/{order_id}/status", headers=headers, json={"status": status, **body}
    )
    assert resp.status_code == 200, resp.get_json()


def _eta_text(tab) -> str:
    tab.goto(f"{tab.base_url}/")
    card = tab.locator(".eta")
    return card.first.inner_text() if card.count() else ""


def test_a_company_user_reports_a_fault_follows_the_eta_and_downloads_the_report(
    page,  # noqa: F811
    world,
    client,
    city_time,
):
    city_time(datetime.combine(now().date(), time(9, 0)))
    company = world.enterprise("庐州银行", tier="group", lat=SITE[0], lon=SITE[1])
    world.user("alice", "customer", customer_id=company["customer_id"])
    world.user("disp", "dispatcher")
    tech_id = world.technician("ent_tech", ["enterprise_circuit", "lan"])
    tech, disp = world.headers("ent_tech"), world.headers("disp")

    log_in(page, page.base_url, "alice", PASSWORD)
    page.goto(f"{page.base_url}/portal/report")
    page.select_option("#circuit", f"{company['site_id']}:{company['line_id']}")
    page.select_option("#product", "mpls_vpn")
    page.check("#service_down")
    page.fill("#description", "营业部专线中断")
    page.fill("#fault_since", (now() - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"))
    page.fill("#contact_name", "王工")
    page.fill("#contact_phone", "13800002222")
    page.click("form.report-form button[type=submit]")
    reported = page.locator("#reported").inner_text()
    code = next(word for word in reported.replace("。", " ").split() if word.startswith("WO"))
    page.goto(f"{page.base_url}/")
    assert code in page.inner_text("main")

    order = client.get("/api/v1/workorders", headers=disp).get_json()
    order_id = next(o["id"] for o in order if o["code"] == code)
    planned = datetime.combine(now().date(), time(10, 0)).isoformat()
    moved = client.post(
        f"/api/v1/workorders/{order_id}/transitions",
        headers=disp,
        json={"to": "assigned", "technician_id": tech_id, "planned_start": planned},
    )
    assert moved.status_code == 200, moved.get_json()
    assert _eta_text(page) == ""  # assigned, not yet on the way

    _status(client, tech, order_id, "en_route")
    _ping(client, tech, FAR)
    first = _eta_text(page)
    assert "预计到达" in first
    city_time(now() + timedelta(minutes=5))
    _ping(client, tech, NEAR)
    second = _eta_text(page)
    assert "预计到达" in second and second != first  # a new position, a new estimate

    _status(client, tech, order_id, "arrived", lat=SITE[0], lon=SITE[1])
    assert _eta_text(page) == ""  # on site: no ETA any more
    _status(client, tech, order_id, "completed")

    page.goto(f"{page.base_url}/")
    page.click(f"a[href='/orders/{order_id}/report']")
    assert "完工报告" in page.inner_text("main")
    with page.expect_download() as download:
        page.click("#report-pdf")
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
