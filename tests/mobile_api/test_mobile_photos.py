"""Evidence photos: only real JPEG/PNG/WebP images within limits are stored, re-encoded
without metadata but with the EXIF capture time and GPS kept as evidence, under a content
hash outside the web root, and shown only to those who may see the order."""

import io
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from core.models import AuditEvent
from tests.factories import ADSL_INSTALL_ANSWERS, image_bytes, png_bomb
from workorders.models import Photo

ITEM = "r5_not_through_windows_doors"  # an ADSL install item that needs a photo


@pytest.fixture()
def on_site(field) -> int:
    oid = field.order("adsl", kind="install")
    field.arrive(oid)
    return oid


def _photo_count(db) -> int:
    return db.scalar(select(func.count()).select_from(Photo))


def test_a_phone_photo_keeps_its_evidence_and_loses_the_rest(app, client, db, field, on_site):
    raw = image_bytes(
        "JPEG",
        size=(80, 60),
        gps=(31.8601, 117.2702),
        taken="2026:03:05 10:20:30",
        orientation=6,
        comment=b"home wifi: 123",
    )
    resp = field.upload(on_site, ITEM, raw)
    assert resp.status_code == 201, resp.get_json()
    photo = resp.get_json()
    assert photo["item_id"] == ITEM and photo["mime"] == "image/jpeg"
    assert photo["taken_at"] == "2026-03-05T10:20:30+08:00"
    assert photo["gps_lat"] == pytest.approx(31.8601, abs=1e-5)
    assert photo["gps_lon"] == pytest.approx(117.2702, abs=1e-5)
    assert (photo["width"], photo["height"]) == (60, 80)  # turned upright
    assert len(photo["id"]) == 32 and photo["url"] == f"/mobile/v1/photos/{photo['id']}"

    row = db.scalar(select(Photo))
    stored = Path(app.config["PHOTO_DIR"]) / row.stored_path
    assert stored.name == f"{row.sha256}.jpg" and stored.is_file()
    assert "static" not in stored.parts and row.sha256 == photo["sha256"]
    clean = Image.open(stored)
    assert dict(clean.getexif()) == {} and "comment" not in clean.info
    assert b"TestPhone" not in stored.read_bytes() and b"home wifi" not in stored.read_bytes()

    served = client.get(photo["url"], headers=field.tech)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.data == stored.read_bytes()
    assert served.headers["Cache-Control"] == "private, no-store"
    listed = client.get(f"/mobile/v1/orders/{on_site}/photos", headers=field.tech).get_json()
    assert [p["id"] for p in listed] == [photo["id"]]
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "photo_added"))
    assert event.after["gps"] == [photo["gps_lat"], photo["gps_lon"]]


@pytest.mark.parametrize("fmt,mime", [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_are_accepted(db, field, on_site, fmt, mime):
    resp = field.upload(
        on_site, ITEM, image_bytes(fmt, gps=(31.86, 117.27)), mime=mime, filename=f"p.{fmt.lower()}"
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["mime"] == mime and resp.get_json()["gps_lat"] == 31.86


@pytest.mark.parametrize(
    "case,expect,slug",
    [
        ("text_renamed_jpg", 422, "not-an-image"),
        ("truncated_jpeg", 422, "not-an-image"),
        ("png_declared_as_jpeg", 422, "not-an-image"),
        ("gif", 415, "unsupported-media-type"),
        ("pdf_type", 415, "unsupported-media-type"),
        ("bomb_png", 413, "too-many-pixels"),
        ("just_over_40_mp", 413, "too-many-pixels"),
        ("over_10_mb", 413, "payload-too-large"),
        ("over_the_request_limit", 413, "413"),
    ],
)
def test_fake_oversize_and_bomb_images_are_refused(app, db, field, on_site, case, expect, slug):
    jpeg = image_bytes("JPEG")
    uploads = {
        "text_renamed_jpg": (b"this is a shopping list, not a photo\n" * 20, "image/jpeg"),
        "truncated_jpeg": (jpeg[: len(jpeg) // 2], "image/jpeg"),
        "png_declared_as_jpeg": (image_bytes("PNG"), "image/jpeg"),
        "gif": (image_bytes("GIF"), "image/gif"),
        "pdf_type": (jpeg, "application/pdf"),
        "bomb_png": (png_bomb(), "image/png"),
        "just_over_40_mp": (png_bomb(8000, 5001), "image/png"),
        "over_10_mb": (jpeg + b"\0" * (10 * 1024 * 1024 + 1 - len(jpeg)), "image/jpeg"),
        "over_the_request_limit": (jpeg + b"\0" * (13 * 1024 * 1024), "image/jpeg"),
    }
    data, mime = uploads[case]
    files_before = set(Path(app.config["PHOTO_DIR"]).rglob("*"))
    resp = field.upload(on_site, ITEM, data, mime=mime)
    assert resp.status_code == expect, resp.get_json()
    assert resp.get_json()["type"].endswith("/" + slug)
    assert _photo_count(db) == 0
    assert set(Path(app.config["PHOTO_DIR"]).rglob("*")) == files_before


def test_upload_needs_a_known_item_a_file_and_multipart(client, db, field, on_site):
    assert field.upload(on_site, "no_such_item", image_bytes()).status_code == 422
    missing = client.post(
        f"/mobile/v1/orders/{on_site}/photos",
        headers=field.tech,
        data={"item_id": ITEM},
        content_type="multipart/form-data",
    )
    assert missing.status_code == 422 and "file" in missing.get_json()["errors"]
    extra = client.post(
        f"/mobile/v1/orders/{on_site}/photos",
        headers=field.tech,
        data={"item_id": ITEM, "caption": "x", "file": (io.BytesIO(image_bytes()), "a.jpg", "image/jpeg")},
        content_type="multipart/form-data",
    )
    assert extra.status_code == 422 and "caption" in extra.get_json()["errors"]
    as_json = client.post(f"/mobile/v1/orders/{on_site}/photos", headers=field.tech, json={"item_id": ITEM})
    assert as_json.status_code == 415
    assert _photo_count(db) == 0


def test_the_same_picture_is_stored_once(db, field, on_site):
    raw = image_bytes(gps=(31.86, 117.27))
    first = field.upload(on_site, ITEM, raw)
    second = field.upload(on_site, ITEM, raw)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json()["id"] == second.get_json()["id"] and _photo_count(db) == 1


def test_photos_only_for_those_who_may_see_the_order(client, world, db, field, on_site):
    url = field.upload(on_site, ITEM, image_bytes()).get_json()["url"]
    photo_id = url.rsplit("/", 1)[1]
    assert client.get(url, headers=field.other_tech).status_code == 404
    assert client.get(f"/mobile/v1/photos/{'0' * 32}", headers=field.tech).status_code == 404
    assert client.get(url).status_code == 401
    # staff read it under /api/v1, and the read is audited
    staff = client.get(f"/api/v1/photos/{photo_id}", headers=field.disp)
    assert staff.status_code == 200 and staff.mimetype == "image/jpeg"
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "read_photo")).actor_name == "disp"
    listed = client.get(f"/api/v1/workorders/{on_site}/photos", headers=field.disp).get_json()
    assert listed[0]["url"] == f"/api/v1/photos/{photo_id}"
    # the customer may see the photos of their own order, another customer may not
    assert client.get(f"/api/v1/photos/{photo_id}", headers=field.cust).status_code == 200
    other = world.customer("李娜")
    world.user("lina", "customer", customer_id=other["customer_id"])
    assert client.get(f"/api/v1/photos/{photo_id}", headers=world.headers("lina")).status_code == 404
    assert client.get(f"/api/v1/photos/{photo_id}", headers=field.tech).status_code == 403


def test_photos_off_site_are_refused(field):
    oid = field.order("adsl", kind="install")
    resp = field.upload(oid, ITEM, image_bytes())
    assert resp.status_code == 409 and resp.get_json()["current_state"] == "assigned"


def test_completion_counts_the_stored_photos(client, field, on_site):
    client.post(
        f"/mobile/v1/orders/{on_site}/checklist", headers=field.tech, json={"answers": ADSL_INSTALL_ANSWERS}
    )
    refused = field.status(on_site, "completed")
    assert refused.status_code == 409
    assert [f["item_id"] for f in refused.get_json()["findings"]] == [ITEM]
    # a photo claimed in the answers does not count: only stored photos do
    client.post(
        f"/api/v1/workorders/{on_site}/transitions",
        headers=field.tech,
        json={"to": "completed", "checklist": {"_photos": {ITEM: 3}}},
    )
    assert field.status(on_site, "completed").status_code == 409

    field.upload(on_site, ITEM, image_bytes(taken="2026:03:05 10:20:30"))
    state = client.get(f"/mobile/v1/orders/{on_site}/checklist", headers=field.tech).get_json()
    assert state["complete"] is True and state["missing"] == []
    done = field.status(on_site, "completed")
    assert done.status_code == 200 and done.get_json()["state"] == "completed"
    completed_at = client.get(f"/api/v1/workorders/{on_site}", headers=field.disp).get_json()["completed_at"]
    assert datetime.fromisoformat(completed_at)


def test_an_upright_jpeg_keeps_its_pixels_exactly_and_loses_its_metadata(app, db, field, on_site):
    raw = image_bytes(
        "JPEG",
        size=(120, 90),
        gps=(31.85, 117.26),
        taken="2026:03:05 10:20:30",
        comment=b"home wifi: 123",
        quality=80,
    )
    resp = field.upload(on_site, ITEM, raw)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["gps_lat"] == pytest.approx(31.85, abs=1e-5)
    assert (resp.get_json()["width"], resp.get_json()["height"]) == (120, 90)
    stored = (Path(app.config["PHOTO_DIR"]) / db.scalar(select(Photo)).stored_path).read_bytes()
    clean = Image.open(io.BytesIO(stored))
    assert dict(clean.getexif()) == {} and "comment" not in clean.info
    assert b"TestPhone" not in stored and b"home wifi" not in stored
    # no re-encoding: the decoded pixels are the uploaded ones, bit for bit
    assert clean.tobytes() == Image.open(io.BytesIO(raw)).tobytes()
    assert len(stored) < len(raw)
