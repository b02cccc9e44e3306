"""/docs: Swagger UI served by the app (no CDN) under the CSP; the integration guide."""

from __future__ import annotations

import re

ATTRIBUTE_URLS = re.compile(r"""\b(?:src|href)=["']([^"']*)["']""")


def _nonce(resp) -> str:
    match = re.search(r"'nonce-([^']+)'", resp.headers["Content-Security-Policy"])
    assert match
    return match.group(1)


def test_docs_serve_swagger_ui_from_local_assets_only(client):
    resp = client.get("/docs")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    urls = ATTRIBUTE_URLS.findall(html)
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in urls
    assert "/static/vendor/swagger-ui/swagger-ui.css" in urls
    assert "/openapi.json" in urls and "/docs/integration" in urls
    # nothing from another host, no protocol-relative URL
    assert [u for u in urls if re.match(r"^(?:[a-z]+:)?//", u)] == []
    assert 'data-spec-url="/openapi.json"' in html
    # under the CSP: every inline script carries this response's nonce, no inline handlers
    nonce = _nonce(resp)
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", html)
    assert inline and all(f'nonce="{nonce}"' in attrs for attrs in inline)
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert "validatorUrl: null" in html
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "README.md"):
        served = client.get(f"/static/vendor/swagger-ui/{asset}")
        assert served.status_code == 200, asset
        served.close()
    bundle = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
    assert b"SwaggerUIBundle" in bundle.get_data()
    bundle.close()


def test_docs_speak_chinese_by_default_and_english_on_request(client):
    zh = client.get("/docs").get_data(as_text=True)
    assert "API 参考" in zh and "企业工单系统对接指南" in zh
    en = client.get("/docs?lang=en").get_data(as_text=True)
    assert "API reference" in en and "Integration guide for enterprise ticketing systems" in en


def test_the_integration_guide_walks_through_the_calls_in_both_languages(client):
    zh = client.get("/docs/integration", headers={"Accept-Language": "zh-CN"})
    assert zh.status_code == 200
    html = zh.get_data(as_text=True)
    assert "对接企业自有工单系统" in html and "登录并保持令牌有效" in html and "跟踪工单变化" in html
    for call in (
        "/api/v1/auth/token",
        "/api/v1/auth/refresh",
        "POST /api/v1/workorders",
        "GET /api/v1/workorders",
    ):
        assert call in html, call
    assert "+08:00" in html
    en = client.get("/docs/integration?lang=en").get_data(as_text=True)
    assert "Connecting your ticketing system" in en and "Follow the changes" in en
    assert "对接企业自有工单系统" not in en


def test_the_spec_names_the_codes_and_gives_an_example(client):
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    order = schemas["WorkOrder"]["properties"]
    assert "repair" in order["kind"]["enum"] and "P1" in order["priority"]["enum"]
    assert "closed" in order["state"]["enum"] and "adsl" in order["product"]["enum"]
    assert order["sla"]["$ref"].endswith("/SlaStatus")
    create = next(
        s for name, s in schemas.items() if name.startswith("OrderIntake") or name == "WorkOrderCreate"
    )
    assert create["properties"]["kind"]["example"] == "repair"
    assert create["properties"]["site_id"]["example"] == 7
