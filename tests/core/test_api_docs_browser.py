"""/docs in a real browser: Swagger UI renders the spec from local assets under the CSP,
and "Try it out" reaches the API (Debian's chromium, headless, driven by Playwright)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.console import chromium_path, launch_chromium, loopback_only, serve, wait_until
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture()
def tab(app):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is in requirements-dev.txt
        _missing("the playwright package is not installed")
    if not Path(chromium_path()).exists():
        _missing(f"no chromium at {chromium_path()} (apt-get install chromium)")
    outside: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright, serve(app) as base_url:
        browser = launch_chromium(playwright)
        context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        loopback_only(context, outside)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.base_url = base_url
        yield page
        context.close()
        browser.close()
    assert outside == [], f"/docs asked hosts other than 127.0.0.1: {outside}"
    assert errors == [], f"errors on the page (CSP included): {errors}"


def _missing(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests must run in CI: {why}")
    pytest.skip(why)


def test_swagger_ui_renders_the_spec_and_tries_a_login(tab, world):
    world.user("disp", "dispatcher")
    tab.goto(f"{tab.base_url}/docs")
    wait_until(tab, "document.querySelectorAll('.opblock').length >= 20")
    assert "API 参考" in tab.inner_text("main")
    # "Try it out" on the login: the request goes to this app and its answer is shown
    login = tab.locator(".opblock-post", has_text="/api/v1/auth/token").first
    login.locator(".opblock-summary").click()
    login.get_by_role("button", name="Try it out").click()
    body = {"username": "disp", "password": PASSWORD}
    login.locator("textarea.body-param__text").fill(json.dumps(body))
    login.get_by_role("button", name="Execute").click()
    wait_until(tab, "document.querySelector('.live-responses-table tbody .response-col_status')")
    status = login.locator(".live-responses-table tbody .response-col_status").first.inner_text()
    assert status.strip().startswith("200")
    assert "access_token" in login.locator(".live-responses-table tbody").inner_text()
