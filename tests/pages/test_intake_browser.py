"""The hotline agent's intake in a real browser: log in, land on the intake page, find the
caller by phone, open the card, see an intake finding appear live while choosing the
product, take the order and get its code, then record a repeat call on it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bench.console import log_in
from tests.conftest import ADMIN
from tests.console.test_console_browser import ARTIFACTS, browser, page  # noqa: F401
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser]


def _customer_on_a_long_adsl_line(world) -> dict:
    from workorders import service

    with world.session() as s:
        customer = service.create_customer(
            s, ADMIN, {"name": "张伟", "kind": "residential", "phone": "138-1234-5678"}
        )
        site = service.add_site(
            s,
            ADMIN,
            customer,
            {"address": "合肥市蜀山区黄山路1号", "district": "蜀山区", "lat": 31.85, "lon": 117.26},
        )
        line = service.add_line(
            s,
            ADMIN,
            site,
            {"access_type": "adsl", "route_length_m": 3200, "circuit_no": "HF-ADSL-0001", "product": "adsl"},
        )
        s.commit()
        return {"customer_id": customer.id, "site_id": site.id, "line_id": line.id}


def test_an_agent_finds_a_caller_sees_a_finding_live_and_takes_an_order(page, world, db):  # noqa: F811
    from workorders.models import OrderComment, WorkOrder

    ids = _customer_on_a_long_adsl_line(world)
    world.user("agent", "agent")
    log_in(page, page.base_url, "agent", PASSWORD)
    assert page.url.split("?")[0].endswith("/intake")  # the agent's home
    page.wait_for_function("window.intakeApp && window.intakeApp.ready")

    page.fill("#q", "13812345678")
    page.click("#btn-search")
    page.click(f"#results button[data-customer='{ids['customer_id']}']")
    expect(page.locator("#card-name")).to_have_text("张伟")
    expect(page.locator("#card-sites")).to_contain_text("HF-ADSL-0001")

    # an IPTV-over-ADSL install on a 3.2 km line: R1 blocks it, shown before anything is taken
    page.select_option("#o-kind", "install")
    page.select_option("#o-product", "iptv_adsl")
    r1 = page.locator("#preview-body li.finding.block[data-rule='R1']")
    r1.wait_for()
    assert "2500" in r1.inner_text() and "3200" in r1.inner_text()
    db.expire_all()
    assert db.scalars(select(WorkOrder)).all() == []  # the live check wrote nothing

    # a repair of the broadband instead: no blocking finding, then taken
    page.select_option("#o-kind", "repair")
    page.select_option("#o-product", "adsl")
    page.wait_for_function(
        '() => !document.querySelector("#preview-body li.finding.block")'
        " && document.querySelector('#preview-body .state')"
    )
    page.fill("#o-description", "宽带时断时续")
    page.click("#btn-take")
    page.locator("#taken-code").wait_for()
    code = page.locator("#taken-code").inner_text()
    assert code.startswith("WO")
    db.expire_all()
    order = db.scalar(select(WorkOrder).where(WorkOrder.code == code))
    assert order is not None and order.kind == "repair" and order.line_id == ids["line_id"]
    assert order.source == "hotline" and order.description == "宽带时断时续"
    assert page.get_attribute("#taken-link", "href").endswith(f"#order-{code}")

    # the customer calls again: the card lists the open order; one click records the call on it
    item = page.locator(f"#card-orders li[data-code='{code}']")
    item.wait_for()
    page.fill("#caller-name", "张伟")
    page.fill("#caller-note", "还是断")
    item.locator("button.attach").click()
    page.locator("#contact-status", has_text=code).wait_for()
    db.expire_all()
    (comment,) = db.scalars(select(OrderComment).where(OrderComment.order_id == order.id)).all()
    assert "张伟" in comment.body and "还是断" in comment.body

    # a second repair of the same line is not taken silently
    page.click("#btn-take")
    page.locator("#duplicate-box").wait_for(state="visible")
    expect(page.locator("#order-error")).to_contain_text(code)
    expect(page.locator("#preview-body .state")).to_be_visible()  # the live check kept working throughout
    assert page.locator("#preview-body .error").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "intake.png"), full_page=True)
    db.expire_all()
    assert len(db.scalars(select(WorkOrder)).all()) == 1


def test_an_agent_registers_a_new_caller_and_adds_a_site_inline(page, world, db):  # noqa: F811
    from workorders.models import Customer, LineRecord

    world.user("agent", "agent")
    log_in(page, page.base_url, "agent", PASSWORD)
    page.wait_for_function("window.intakeApp && window.intakeApp.ready")
    page.click("#btn-new-customer")
    page.fill("#c-name", "李娜")
    page.fill("#c-phone", "13900001111")
    page.fill("#c-address", "合肥市包河区望江路100号")
    page.select_option("#c-access", "adsl")
    page.fill("#c-circuit", "HF-ADSL-7788")
    page.fill("#c-route", "1800")
    page.click("#customer-form button[type=submit]")
    expect(page.locator("#card-name")).to_have_text("李娜")
    expect(page.locator("#card-sites")).to_contain_text("HF-ADSL-7788")
    expect(page.locator("#o-circuit")).to_contain_text("望江路100号")

    # a second site the geocoder cannot place: refused in words, then placed by hand
    page.click("#btn-new-site")
    page.fill("#s-address", "无名小路3号")
    page.click("#site-form button[type=submit]")
    expect(page.locator("#site-error")).to_contain_text("无法定位该地址")
    page.fill("#s-lat", "31.8")
    page.fill("#s-lon", "117.2")
    page.click("#site-form button[type=submit]")
    expect(page.locator("#card-sites")).to_contain_text("无名小路3号")
    db.expire_all()
    customer = db.scalar(select(Customer).where(Customer.name == "李娜"))
    assert customer.phone == "13900001111" and len(customer.sites) == 2
    line = db.scalar(select(LineRecord).where(LineRecord.circuit_no == "HF-ADSL-7788"))
    assert line.route_length_m == 1800 and line.site.district == "包河区"
