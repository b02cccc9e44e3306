"""The manager's report page: where a manager lands, what it shows, the drill-down, the exports."""

from __future__ import annotations

import re

import pytest

from reports import orders
from reports.pages import FIGURE_TITLES
from tests.factories import PASSWORD, csrf_token
from tests.reports import dataset

RANGE = "from=2026-09-01&to=2026-11-01"


def _log_in(client, username: str):
    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert resp.status_code == 302
    return resp


@pytest.fixture()
def manager(app, db, world, client):
    history = dataset.build(db)
    world.user("boss", "manager")
    return history


def test_a_manager_lands_on_the_report_page(client, manager):
    _log_in(client, "boss")
    home = client.get("/")
    assert home.status_code == 302 and home.headers["Location"].startswith("/reports")
    assert client.get("/?list=1").status_code == 200  # the order list stays one click away


def test_the_page_shows_figures_charts_and_drill_links_in_chinese(client, manager):
    _log_in(client, "boss")
    resp = client.get(f"/reports?{RANGE}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "修复时长报表" in html and "按周的时限达标率" in html
    # six, and on-site time by product (no plan nor visit here: no technician comparison)
    assert html.count("<svg") == 7
    assert dataset.SHUSHAN in html and dataset.BAOHE in html
    links = re.findall(r'href="(/reports/orders\?[^"]+)"', html)
    assert any("figure=restore_breached" in link and "group=" in link for link in links)
    assert 'id="export-xlsx"' in html and "format=xlsx" in html


def test_the_page_in_english(client, manager):
    _log_in(client, "boss")
    html = client.get(f"/reports?{RANGE}&lang=en").get_data(as_text=True)
    assert "Fix-time reports" in html and "SLA compliance by week" in html


def test_a_drill_link_lists_the_orders_and_links_each_order(client, manager):
    _log_in(client, "boss")
    html = client.get(f"/reports?{RANGE}&group_by=district").get_data(as_text=True)
    link = next(
        link.replace("&amp;", "&")
        for link in re.findall(r'href="(/reports/orders\?[^"]+)"', html)
        if "figure=restore_breached" in link and "group=%E8%9C%80" in link  # 蜀山区
    )
    page = client.get(link)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    # the codes as link texts: a bare "R4" can occur inside the page's random CSRF token
    assert ">R2</a>" in text and ">R4</a>" not in text  # R4 is in 包河区
    order_link = re.search(r'<a href="([^"]+)">R2</a>', text).group(1)
    assert client.get(order_link).status_code == 200  # its close-out page


def test_the_export_button_works_with_the_page_login(client, manager):
    _log_in(client, "boss")
    html = client.get(f"/reports?{RANGE}").get_data(as_text=True)
    href = re.search(r'href="([^"]+)" id="export-csv"', html).group(1).replace("&amp;", "&")
    resp = client.get(href)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert "received" in resp.get_data().decode("utf-8-sig").splitlines()[0]


def test_bad_filters_are_shown_not_refused(client, manager):
    _log_in(client, "boss")
    resp = client.get("/reports?from=2026-13-40&group_by=colour")
    assert resp.status_code == 200
    assert "未能识别" in resp.get_data(as_text=True)


def test_an_agent_is_told_the_page_is_not_for_them(client, world, manager):
    world.user("agent1", "agent")
    _log_in(client, "agent1")
    assert client.get("/reports").status_code == 403


def test_every_figure_has_a_title():
    assert set(FIGURE_TITLES) == set(orders.FIGURES)
