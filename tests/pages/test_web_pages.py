"""Web pages: session login guarded by CSRF, and the customer portal."""

import re

from tests.factories import csrf_token


def test_login_without_csrf_token_is_refused(client, world):
    world.user("disp", "dispatcher")
    resp = client.post("/login", data={"username": "disp", "password": "secret-pass-1"})
    assert resp.status_code == 400
    assert client.get("/").status_code == 302


def test_customer_logs_in_and_sees_own_orders_in_chinese_then_english(client, world):
    world.user("agent", "agent")
    mine = world.customer("张伟")
    other = world.customer("李娜")
    world.user("zhangwei", "customer", customer_id=mine["customer_id"])
    h = world.headers("agent")
    codes = {}
    for name, ids in (("mine", mine), ("other", other)):
        resp = client.post(
            "/api/v1/workorders",
            headers=h,
            json={
                "kind": "repair",
                "product": "adsl",
                "priority": "P2",
                "customer_id": ids["customer_id"],
                "site_id": ids["site_id"],
            },
        )
        codes[name] = resp.get_json()["code"]

    login_page = client.get("/login")
    assert "登录" in login_page.get_data(as_text=True)
    wrong = client.post(
        "/login",
        data={
            "username": "zhangwei",
            "password": "nope",
            "csrf_token": csrf_token(login_page.get_data(as_text=True)),
        },
    )
    assert wrong.status_code == 400 and "用户名或密码错误" in wrong.get_data(as_text=True)

    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login", data={"username": "zhangwei", "password": "secret-pass-1", "csrf_token": csrf_token(page)}
    )
    assert resp.status_code == 302
    portal = client.get("/").get_data(as_text=True)
    assert codes["mine"] in portal and codes["other"] not in portal
    # the customer's words, never the internal state (validated = 已校验)
    assert "承诺修复时间" in portal and "受理" in portal and "已校验" not in portal

    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Promised restore time" in english and "Received" in english and "Validated" not in english
    # the choice sticks for the session
    assert "Promised restore time" in client.get("/").get_data(as_text=True)


def test_logout_needs_csrf_and_ends_the_session(client, world):
    world.user("disp", "dispatcher")
    page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login", data={"username": "disp", "password": "secret-pass-1", "csrf_token": csrf_token(page)}
    )
    home = client.get("/")
    assert home.status_code in (200, 302)
    assert client.post("/logout").status_code == 400
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").headers["Location"].endswith("/login")


# ---------------------------------------------------------------- labels, not codes

# Codes that must never reach a reader; in English, "repair" and "install" are words too.
CODES = ("bundle_lan_iptv", "iptv_lan", "adsl", "validated", "(agent)", "(customer)")
CODES_ZH = CODES + ("repair", "install")


def _visible_text(page_html: str) -> str:
    """What a reader sees: the page without its tags, attributes, scripts and styles."""
    page_html = re.sub(r"<(script|style)\b.*?</\1>", " ", page_html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page_html))


def _log_in(client, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login", data={"username": username, "password": "secret-pass-1", "csrf_token": csrf_token(page)}
    )
    assert resp.status_code == 302


def _shown_codes(text: str, codes: tuple[str, ...] = CODES_ZH) -> list[str]:
    return [code for code in codes if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", text)]


def test_staff_home_shows_labels_and_time_left_in_both_languages(client, world):
    world.user("agent", "agent")
    lan = world.customer("张伟", access_type="lan", route_length_m=None, occupancy_pct=30)
    code = world.take_order(world.headers("agent"), lan, product="bundle_lan_iptv").get_json()["code"]
    _log_in(client, "agent")

    chinese = _visible_text(client.get("/?list=1&lang=zh").get_data(as_text=True))  # agents land on /intake
    assert code in chinese
    for label in ("修障", "LAN 宽带 + IPTV 融合套餐", "P2 重要", "已校验", "(客服话务员)"):
        assert label in chinese, label
    assert re.search(r"剩余 \d+(天\d+小时|小时\d+分|分)", chinese), chinese
    assert _shown_codes(chinese) == []

    english = _visible_text(client.get("/?list=1&lang=en").get_data(as_text=True))
    for label in ("Repair", "LAN broadband + IPTV bundle", "P2 important", "Validated", "(Hotline agent)"):
        assert label in english, label
    assert re.search(r"\d+ (d \d+ h|h \d+ min|min) left", english), english
    assert _shown_codes(english, CODES) == []


def test_portal_shows_kind_product_and_time_left_not_codes(client, world):
    world.user("agent", "agent")
    mine = world.customer("张伟")
    world.user("zhangwei", "customer", customer_id=mine["customer_id"])
    world.order(world.headers("agent"), mine, kind="repair", product="adsl")
    _log_in(client, "zhangwei")

    chinese = _visible_text(client.get("/?lang=zh").get_data(as_text=True))
    assert "修障 · ADSL 宽带" in chinese and "(客户)" in chinese
    assert re.search(r"剩余 \d+", chinese)
    assert _shown_codes(chinese) == []

    english = _visible_text(client.get("/?lang=en").get_data(as_text=True))
    assert "Repair · ADSL broadband" in english and "(Customer)" in english
    assert re.search(r"\d+ (d \d+ h|h \d+ min|min) left", english)
    assert _shown_codes(english, CODES) == []
