"""Builders for the mobile API tests: a small field team with orders on today's route,
and test images made with Pillow (with EXIF, fake, oversized, decompression bombs)."""

from __future__ import annotations

import io
import re
import struct
import uuid
import zlib
from datetime import datetime, time

from PIL import ExifTags, Image
from sqlalchemy import select

from core.clock import city_tz, now, to_local_naive
from core.models import AuditEvent

SITE = (31.86, 117.27)  # the default test customer's site (tests/conftest.py)


# Every test user's password.
PASSWORD = "secret-pass-1"


class Field:
    """An agent, a dispatcher, a manager, two technicians and a customer with a site."""

    def __init__(self, world, client) -> None:
        self.world, self.client = world, client
        world.user("agent", "agent")
        world.user("disp", "dispatcher")
        world.user("boss", "manager")
        self.tech_id = world.technician("tech", ["adsl", "iptv", "lan"])
        self.other_tech_id = world.technician("other_tech", ["adsl", "iptv", "lan"])
        self.home = world.customer("张伟", access_type="adsl", route_length_m=1200)
        world.user("zhangwei", "customer", customer_id=self.home["customer_id"])
        self.agent, self.disp = world.headers("agent"), world.headers("disp")
        self.boss = world.headers("boss")
        self.tech, self.other_tech = world.headers("tech"), world.headers("other_tech")
        self.cust = world.headers("zhangwei")

    def order(
        self,
        product: str = "adsl",
        kind: str = "repair",
        hour: int = 9,
        technician_id: int | None = None,
        **extra,
    ) -> int:
        """An order assigned to `technician_id` (default: tech), planned today at `hour`
        (several repairs at the one home are meant: duplicate_ok)."""
        body = {
            "kind": kind,
            "product": product,
            "priority": "P2",
            "customer_id": self.home["customer_id"],
            "site_id": self.home["site_id"],
            "duplicate_ok": True,
            **extra,
        }
        resp = self.client.post("/api/v1/workorders", headers=self.agent, json=body)
        assert resp.status_code == 201, resp.get_json()
        oid = resp.get_json()["id"]
        planned = datetime.combine(now().date(), time(hour, 0))
        self.move(
            oid, "assigned", technician_id=technician_id or self.tech_id, planned_start=planned.isoformat()
        )
        return oid

    def move(self, oid: int, to: str, headers=None, expect: int = 200, **body) -> dict:
        resp = self.client.post(
            f"/api/v1/workorders/{oid}/transitions", headers=headers or self.disp, json={"to": to, **body}
        )
        assert resp.status_code == expect, resp.get_json()
        return resp.get_json()

    def status(self, oid: int, status: str, headers=None, key: str | None = None, **body):
        headers = dict(headers or self.tech)
        if key:
            headers["Idempotency-Key"] = key
        return self.client.post(
            f"/mobile/v1/orders/{oid}/status", headers=headers, json={"status": status, **body}
        )

    def arrive(self, oid: int, lat: float = SITE[0], lon: float = SITE[1]) -> None:
        assert self.status(oid, "en_route").status_code == 200
        resp = self.status(oid, "arrived", lat=lat, lon=lon)
        assert resp.status_code == 200, resp.get_json()

    def upload(
        self,
        oid: int,
        item_id: str,
        data: bytes,
        mime: str = "image/jpeg",
        filename: str = "photo.jpg",
        headers=None,
        key: str | None = None,
    ):
        headers = dict(headers or self.tech)
        if key:
            headers["Idempotency-Key"] = key
        return self.client.post(
            f"/mobile/v1/orders/{oid}/photos",
            headers=headers,
            data={"item_id": item_id, "file": (io.BytesIO(data), filename, mime)},
            content_type="multipart/form-data",
        )


def order_trail(db, order_id: int) -> list[str]:
    """The audit actions recorded on a work order, oldest first."""
    return list(
        db.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_type == "work_order", AuditEvent.entity_id == order_id)
            .order_by(AuditEvent.id)
        )
    )


def new_key() -> str:
    return str(uuid.uuid4())


# ---------------------------------------------------------------- images


def image_bytes(
    fmt: str = "JPEG",
    size: tuple[int, int] = (64, 48),
    color: tuple[int, int, int] = (200, 120, 40),
    gps: tuple[float, float] | None = None,
    taken: str | None = None,
    orientation: int | None = None,
    **save_kwargs,
) -> bytes:
    """A small image; with `gps` and `taken` it carries EXIF like a phone camera's,
    plus a camera make and a comment that must not survive."""
    image = Image.new("RGB", size, color)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    exif[ExifTags.Base.Software] = "secret-build-1.2"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if taken:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken
    if gps:
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        info[ExifTags.GPS.GPSLatitudeRef] = "N" if gps[0] >= 0 else "S"
        info[ExifTags.GPS.GPSLatitude] = _dms(abs(gps[0]))
        info[ExifTags.GPS.GPSLongitudeRef] = "E" if gps[1] >= 0 else "W"
        info[ExifTags.GPS.GPSLongitude] = _dms(abs(gps[1]))
    out = io.BytesIO()
    image.save(out, fmt, exif=exif, **save_kwargs)
    return out.getvalue()


def _dms(degrees: float) -> tuple[float, float, float]:
    whole = int(degrees)
    minutes = (degrees - whole) * 60
    return (float(whole), float(int(minutes)), round((minutes - int(minutes)) * 60, 4))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _png_chunk(b"IEND", b"")
    )


def today_at(hour: int, minute: int = 0) -> str:
    """Today's time as the mobile API writes it: city time with its UTC offset."""
    return datetime.combine(now().date(), time(hour, minute)).replace(tzinfo=city_tz()).isoformat()


def local(text: str) -> datetime:
    """An API timestamp as naive city time (how the server stores it)."""
    return to_local_naive(datetime.fromisoformat(text))


# The checklist answers of a complete ADSL install (standards' R3-R5 items).
# What an ADSL repair's close-out checklist needs (the line and the drop checked).
REPAIR_ANSWERS = {"r3_line_no_fault": True, "r3_drop_twisted_pair": True, "r3_drop_no_joints": True}

ADSL_INSTALL_ANSWERS = {
    "r3_line_no_fault": True,
    "r3_drop_twisted_pair": True,
    "r3_drop_no_joints": True,
    "r4_identity_verified": True,
    "r4_tariff_confirmed": True,
    "r4_payment_confirmed": True,
    "r4_computer_config_noted": True,
    "r5_indoor_wire_ok": True,
    "r5_wire_fixed": True,
    "r5_not_through_windows_doors": True,
}


def post_order(client, headers, ids, product="adsl", kind="repair", priority="P2", window=None):
    """Take an order through the staff API as the user of ``headers``; its id."""
    body = {
        "kind": kind,
        "product": product,
        "priority": priority,
        "customer_id": ids["customer_id"],
        "site_id": ids["site_id"],
    }
    if window:
        body["appointment_start"], body["appointment_end"] = (w.isoformat() for w in window)
    resp = client.post("/api/v1/workorders", headers=headers, json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'name="csrf-token" content="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


# What the page asks the staff API for rather than its own feeds: plans and jobs.
STAFF_API = (
    (re.compile(r"^/plan$"), "/api/v1/dispatch/plan"),
    (re.compile(r"^/plans/(\d+)/(apply|discard)$"), r"/api/v1/dispatch/plans/\1/\2"),
    (re.compile(r"^/jobs/(\d+)(/cancel)?$"), r"/api/v1/jobs/\1\2"),
)


def _url(path: str) -> str:
    """Where the page sends a request for ``path``: the staff API or /console/api."""
    for pattern, target in STAFF_API:
        if pattern.match(path):
            return pattern.sub(target, path)
    return f"/console/api{path}"


class Console:
    """A logged-in browser session on the console, without a browser: requests go
    where the page sends them (see STAFF_API), with the session cookie and, for a
    change, the page's CSRF token."""

    def __init__(self, client, username: str) -> None:
        self.client = client
        page = client.get("/login").get_data(as_text=True)
        resp = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page)}
        )
        assert resp.status_code == 302
        self.page = client.get("/console")
        self.token = csrf_token(self.page.get_data(as_text=True)) if self.page.status_code == 200 else None

    def get(self, path: str, **query):
        resp = self.client.get(_url(path), query_string=query)
        return resp.status_code, resp.get_json()

    def post(self, path: str, body: dict | None = None, csrf: bool = True):
        headers = {"X-CSRFToken": self.token} if csrf else {}
        body = dict(body or {})
        if path == "/plan":
            body.setdefault("day", now().date().isoformat())  # the page always names its day
        resp = self.client.post(_url(path), json=body, headers=headers)
        return resp.status_code, resp.get_json()
