"""The close-out report of a completed order: a PDF with Chinese glyphs, and a print page."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.factories import ADSL_INSTALL_ANSWERS, csrf_token, image_bytes

ITEM = "r5_not_through_windows_doors"  # an ADSL install item that needs a photo


def _completed(client, field) -> int:
    oid = field.order("adsl", kind="install")
    field.arrive(oid)
    client.post(
        f"/mobile/v1/orders/{oid}/checklist", headers=field.tech, json={"answers": ADSL_INSTALL_ANSWERS}
    )
    assert field.upload(oid, ITEM, image_bytes(taken="2026:03:05 10:20:30")).status_code == 201
    done = field.status(oid, "completed")
    assert done.status_code == 200, done.get_json()
    return oid


def _text(pdf: bytes) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


def test_the_customer_downloads_the_report_in_chinese_with_times_checklist_and_photos(client, field):
    oid = _completed(client, field)
    resp = client.get(f"/api/v1/workorders/{oid}/report.pdf", headers=field.cust)
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    text = _text(resp.data)
    code = client.get(f"/api/v1/workorders/{oid}", headers=field.cust).get_json()["code"]
    assert f"完工报告 {code}" in text
    assert "时限与承诺对照" in text and "已开通" in text
    assert "检查项与测量值" in text and "合格" in text
    assert "照片" in text and ITEM in text
    assert "张伟" in text


def test_staff_get_it_in_english_and_it_waits_for_completion(client, field):
    oid = _completed(client, field)
    resp = client.get(f"/api/v1/workorders/{oid}/report.pdf?lang=en", headers=field.disp)
    text = _text(resp.data)
    assert "Close-out report" in text and "Times against the promise" in text
    open_order = field.order("adsl", kind="repair")
    early = client.get(f"/api/v1/workorders/{open_order}/report.pdf", headers=field.disp)
    assert early.status_code == 409 and early.get_json()["type"].endswith("not-completed")


def test_another_companys_user_gets_the_same_404_as_for_a_missing_order(client, world, field):
    oid = _completed(client, field)
    other = world.enterprise("另一家公司")
    world.user("other_cust", "customer", customer_id=other["customer_id"])
    theirs = client.get(f"/api/v1/workorders/{oid}/report.pdf", headers=world.headers("other_cust"))
    missing = client.get("/api/v1/workorders/999999/report.pdf", headers=world.headers("other_cust"))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.get_json()["detail"].replace(str(oid), "N") == missing.get_json()["detail"].replace(
        "999999", "N"
    )


def test_the_print_page_shows_the_report_and_links_the_pdf(client, field):
    oid = _completed(client, field)
    page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login", data={"username": "zhangwei", "password": "secret-pass-1", "csrf_token": csrf_token(page)}
    )
    assert f"/orders/{oid}/report" in client.get("/").get_data(as_text=True)  # linked from the portal
    html = client.get(f"/orders/{oid}/report").get_data(as_text=True)
    assert "完工报告" in html and "时限与承诺对照" in html and f"/api/v1/workorders/{oid}/report.pdf" in html
    assert "@media print" not in html  # the print style is a stylesheet, not inline
    assert (
        client.get(f"/api/v1/workorders/{oid}/report.pdf").status_code == 200
    )  # the page's session is enough
