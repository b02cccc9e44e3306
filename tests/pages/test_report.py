"""The portal's fault report page and an order's comment page, as an enterprise customer."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

import standards
from core.clock import now
from tests.factories import PASSWORD, csrf_token, image_bytes
from workorders.fault_reports import REPORT_PHOTO_ITEM
from workorders.models import Photo, WorkOrder


@pytest.fixture()
def portal(client, world):
    """Alice of company A logged in to the portal; company B's site for the 404s."""
    world.user("disp", "dispatcher")
    a = world.enterprise("甲公司", tier="provincial")
    b = world.enterprise("乙公司", tier="local_b", lat=31.80)
    world.user("alice", "customer", customer_id=a["customer_id"])
    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert resp.status_code == 302
    return {"a": a, "b": b}


def _form(client, circuit: str, **fields):
    token = csrf_token(client.get("/portal/report").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "circuit": circuit,
        "product": "mpls_vpn",
        "service_down": "y",
        "description": "MPLS 专线不通",
        "fault_since": (now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "contact_name": "王工",
        "contact_phone": "13800002222",
        **fields,
    }
    return client.post("/portal/report", data=data, content_type="multipart/form-data")


def test_the_report_page_lists_the_companys_circuits_in_chinese_then_english(client, portal):
    html = client.get("/portal/report").get_data(as_text=True)
    assert "故障申报" in html and "现场联系人" in html and 'name="csrf_token"' in html
    assert f'value="{portal["a"]["site_id"]}:{portal["a"]["line_id"]}"' in html
    assert f'value="{portal["b"]["site_id"]}:' not in html
    english = client.get("/portal/report?lang=en").get_data(as_text=True)
    assert "Report a fault" in english and "Contact on site" in english


def test_reporting_on_the_page_makes_a_portal_repair_with_the_tiers_deadlines(client, db, portal):
    a = portal["a"]
    photo = (io.BytesIO(image_bytes()), "fault.jpg", "image/jpeg")
    resp = _form(client, f"{a['site_id']}:{a['line_id']}", photo=photo)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 201, html
    order = db.scalar(select(WorkOrder).where(WorkOrder.customer_id == a["customer_id"]))
    assert order.code in html and "承诺修复时间" in html
    assert f"{order.restore_deadline:%Y-%m-%d %H:%M}" in html
    assert order.source == "portal" and order.kind == "repair" and order.product == "mpls_vpn"
    assert order.priority == "P1" and order.line_id == a["line_id"]  # provincial, service down
    expected = standards.restore_deadline(order.created_at, "enterprise", "provincial", "mpls_vpn", "P1")
    assert order.restore_deadline == expected.at
    assert order.description == "MPLS 专线不通"
    assert (order.site_contact_name, order.site_contact_phone) == ("王工", "13800002222")
    portal_page = client.get("/").get_data(as_text=True)  # the portal is a customer's home
    assert "现场联系人" in portal_page and "王工 13800002222" in portal_page
    stored = db.scalars(select(Photo).where(Photo.order_id == order.id)).all()
    assert [p.item_id for p in stored] == [REPORT_PHOTO_ITEM]


def test_the_page_refuses_another_companys_site_like_a_missing_one(client, db, portal):
    theirs = _form(client, f"{portal['b']['site_id']}:")
    missing = _form(client, "999999:")
    assert theirs.status_code == missing.status_code == 404

    def message(resp):
        text = re.search(r'role="alert">([^<]+)<', resp.get_data(as_text=True)).group(1)
        return re.sub(r"\d+", "N", text)

    assert message(theirs) == message(missing)
    assert db.scalar(select(WorkOrder.id)) is None


def test_a_bad_photo_or_missing_fields_take_no_order(client, db, portal):
    a = portal["a"]
    fake = (io.BytesIO(b"not an image at all"), "x.jpg", "image/jpeg")
    assert _form(client, f"{a['site_id']}:{a['line_id']}", photo=fake).status_code in (415, 422)
    assert _form(client, f"{a['site_id']}:{a['line_id']}", description="").status_code == 422
    assert db.scalar(select(WorkOrder.id)) is None


def test_comments_on_the_portal_page_reach_the_staff_and_back(client, world, portal):
    a = portal["a"]
    _form(client, f"{a['site_id']}:{a['line_id']}")
    disp = world.headers("disp")
    order_id = client.get("/api/v1/workorders", headers=disp).get_json()[0]["id"]
    page_url = f"/portal/orders/{order_id}/comments"
    page = client.get(page_url).get_data(as_text=True)
    assert "暂无留言" in page
    resp = client.post(page_url, data={"csrf_token": csrf_token(page), "body": "机房钥匙在前台"})
    assert resp.status_code == 201 and "机房钥匙在前台" in resp.get_data(as_text=True)
    assert client.post(page_url, data={"body": "没有令牌"}).status_code in (400, 403)

    staff_seen = client.get(f"/api/v1/workorders/{order_id}/comments", headers=disp).get_json()
    assert [c["body"] for c in staff_seen] == ["机房钥匙在前台"]
    client.post(f"/api/v1/workorders/{order_id}/comments", headers=disp, json={"body": "明早九点到"})
    assert "明早九点到" in client.get(page_url).get_data(as_text=True)
    assert "Comments" in client.get(page_url + "?lang=en").get_data(as_text=True)


def test_another_companys_order_page_is_a_404(client, world, portal):
    world.user("agent", "agent")
    b = portal["b"]
    resp = client.post(
        "/api/v1/workorders",
        headers=world.headers("agent"),
        json={"kind": "repair", "product": "lan", "customer_id": b["customer_id"], "site_id": b["site_id"]},
    )
    theirs = client.get(f"/portal/orders/{resp.get_json()['id']}/comments")
    missing = client.get("/portal/orders/999999/comments")
    assert theirs.status_code == missing.status_code == 404
    assert re.sub(r"\d+", "N", theirs.get_json()["detail"]) == re.sub(
        r"\d+", "N", missing.get_json()["detail"]
    )
