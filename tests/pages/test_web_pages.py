"""Web pages: session login guarded by CSRF, and the customer portal."""

import re


def _csrf(page_html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page_html)
    assert match, "login form has no CSRF token"
    return match.group(1)


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
            "csrf_token": _csrf(login_page.get_data(as_text=True)),
        },
    )
    assert wrong.status_code == 400 and "用户名或密码错误" in wrong.get_data(as_text=True)

    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login", data={"username": "zhangwei", "password": "secret-pass-1", "csrf_token": _csrf(page)}
    )
    assert resp.status_code == 302
    portal = client.get("/").get_data(as_text=True)
    assert codes["mine"] in portal and codes["other"] not in portal
    assert "承诺修复时间" in portal and "已校验" in portal

    english = client.get("/?lang=en").get_data(as_text=True)
    assert "Promised restore time" in english and "Validated" in english
    # the choice sticks for the session
    assert "Promised restore time" in client.get("/").get_data(as_text=True)


def test_logout_needs_csrf_and_ends_the_session(client, world):
    world.user("disp", "dispatcher")
    page = client.get("/login").get_data(as_text=True)
    client.post("/login", data={"username": "disp", "password": "secret-pass-1", "csrf_token": _csrf(page)})
    home = client.get("/")
    assert home.status_code in (200, 302)
    assert client.post("/logout").status_code == 400
    token = _csrf(client.get("/login").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").headers["Location"].endswith("/login")
