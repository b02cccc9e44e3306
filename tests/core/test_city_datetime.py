"""Dates and times on the JSON APIs: sent with the city's offset, read with or without one,
stored as naive city wall-clock time; the city's zone is the app's CITY_TZ setting."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from marshmallow import Schema, ValidationError
from sqlalchemy import select

from core.clock import city_tz, city_tz_name, now
from core.config import Config
from core.schemas import CityDateTime
from workorders.models import WorkOrder

WITH_CITY_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+08:00$")


def _datetimes(value: object, path: str = "") -> dict[str, str]:
    """Every string in a JSON answer that looks like a date and time, by its path."""
    found: dict[str, str] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            found |= _datetimes(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found |= _datetimes(item, f"{path}[{index}]")
    elif isinstance(value, str) and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d", value):
        found[path] = value
    return found


def _fault(field, **extra) -> dict:
    body = {
        "kind": "repair",
        "product": "adsl",
        "priority": "P2",
        "customer_id": field.home["customer_id"],
        "site_id": field.home["site_id"],
        "duplicate_ok": True,
        **extra,
    }
    resp = field.client.post("/api/v1/workorders", headers=field.agent, json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def test_a_staff_order_answer_sends_every_datetime_with_the_city_offset(field):
    oid = field.order(hour=10)
    resp = field.client.get(f"/api/v1/workorders/{oid}", headers=field.disp)
    assert resp.status_code == 200
    stamps = _datetimes(resp.get_json())
    for key in (".created_at", ".updated_at", ".response_deadline", ".restore_deadline", ".planned_start"):
        assert key in stamps
    assert ".sla.restore_deadline" in stamps
    assert {path: s for path, s in stamps.items() if not WITH_CITY_OFFSET.match(s)} == {}
    planned = datetime.fromisoformat(stamps[".planned_start"])
    assert planned.replace(tzinfo=None) == datetime.combine(now().date(), datetime.min.time()).replace(
        hour=10
    )
    # the list, the customer's view and the technician's record too
    listed = field.client.get("/api/v1/workorders", headers=field.disp).get_json()
    assert all(WITH_CITY_OFFSET.match(s) for s in _datetimes(listed).values())
    mine = field.client.get(f"/api/v1/workorders/{oid}", headers=field.cust).get_json()
    assert WITH_CITY_OFFSET.match(mine["restore_deadline"]) and WITH_CITY_OFFSET.match(mine["created_at"])
    audit = field.client.get(f"/api/v1/workorders/{oid}/audit", headers=field.disp)
    assert audit.status_code == 200 and audit.get_json()
    assert all(WITH_CITY_OFFSET.match(e["at"]) for e in audit.get_json())


def test_input_with_an_offset_is_stored_as_city_time_and_naive_input_as_is(field, db):
    order = _fault(
        field, appointment_start="2026-12-01T01:00:00Z", appointment_end="2026-12-01T12:00:00+08:00"
    )
    stored = db.scalar(select(WorkOrder).where(WorkOrder.id == order["id"]))
    assert stored.appointment_start == datetime(2026, 12, 1, 9, 0)
    assert stored.appointment_end == datetime(2026, 12, 1, 12, 0)
    assert order["appointment_start"] == "2026-12-01T09:00:00+08:00"
    naive = _fault(field, appointment_start="2026-12-02T09:30:00", appointment_end="2026-12-02T11:00:00")
    stored = db.scalar(select(WorkOrder).where(WorkOrder.id == naive["id"]))
    assert stored.appointment_start == datetime(2026, 12, 2, 9, 30)
    assert naive["appointment_end"] == "2026-12-02T11:00:00+08:00"
    # a transition's planned start, given in UTC
    moved = field.move(
        naive["id"], "assigned", technician_id=field.tech_id, planned_start="2026-12-02T02:00:00Z"
    )
    assert moved["planned_start"] == "2026-12-02T10:00:00+08:00"
    db.expire_all()
    assert db.get(WorkOrder, naive["id"]).planned_start == datetime(2026, 12, 2, 10, 0)


def test_a_datetime_that_is_no_datetime_is_a_422(field):
    resp = field.client.post(
        "/api/v1/workorders",
        headers=field.agent,
        json={
            "kind": "repair",
            "product": "adsl",
            "customer_id": field.home["customer_id"],
            "site_id": field.home["site_id"],
            "appointment_start": "Wed, 02 Dec 2026 11:52:13 GMT",
            "appointment_end": "2026-12-02T11:00:00",
        },
    )
    assert resp.status_code == 422
    assert "appointment_start" in resp.get_data(as_text=True)


def test_the_sla_object_has_no_gmt_http_dates(field):
    oid = field.order()
    resp = field.client.post(
        f"/api/v1/workorders/{oid}/sla/pause", headers=field.disp, json={"reason": "customer_absent"}
    )
    assert resp.status_code == 200, resp.get_json()
    assert "GMT" not in resp.get_data(as_text=True)
    sla = resp.get_json()["sla"]
    assert sla["paused"] is True and sla["pauses"][0]["reason"] == "customer_absent"
    assert WITH_CITY_OFFSET.match(sla["restore_deadline"])
    assert WITH_CITY_OFFSET.match(sla["pauses"][0]["start"]) and sla["pauses"][0]["end"] is None
    resumed = field.client.post(f"/api/v1/workorders/{oid}/sla/resume", headers=field.disp)
    assert resumed.status_code == 200, resumed.get_json()
    assert "GMT" not in resumed.get_data(as_text=True)
    assert WITH_CITY_OFFSET.match(resumed.get_json()["sla"]["pauses"][0]["end"])


def test_another_city_tz_is_honoured_by_the_clock_and_the_api(app, field, db):
    oid = field.order()
    stored = db.get(WorkOrder, oid).created_at
    app.config["CITY_TZ"] = "America/New_York"
    try:
        with app.app_context():
            assert city_tz_name() == "America/New_York" and city_tz().key == "America/New_York"
            ny_hour = datetime.now(city_tz()).hour
            assert now().hour == ny_hour
        answer = field.client.get(f"/api/v1/workorders/{oid}", headers=field.disp).get_json()
        # the stored wall-clock time, now read as New York's (UTC-5 in winter, UTC-4 in summer)
        created = datetime.fromisoformat(answer["created_at"])
        assert created.replace(tzinfo=None) == stored
        assert answer["created_at"].endswith(("-05:00", "-04:00"))
    finally:
        app.config["CITY_TZ"] = "Asia/Shanghai"
    # outside an app the environment decides (unset in the tests: Shanghai)
    assert city_tz_name() == "Asia/Shanghai"


def test_a_city_tz_that_is_no_zone_stops_the_start():
    with pytest.raises(ValueError, match="CITY_TZ"):
        Config(TESTING=True, APP_ENV="testing", SECRET_KEY="x", CITY_TZ="Mars/Olympus_Mons")


def test_the_field_in_and_out(app):
    class Stamp(Schema):
        at = CityDateTime(allow_none=True)

    with app.app_context():
        assert Stamp().dump({"at": datetime(2026, 12, 1, 9)}) == {"at": "2026-12-01T09:00:00+08:00"}
        # ISO text kept in a JSON column (an SLA pause) is sent the same way
        assert Stamp().dump({"at": "2026-12-01T09:00:00"}) == {"at": "2026-12-01T09:00:00+08:00"}
        assert Stamp().dump({"at": None}) == {"at": None}
        assert Stamp().load({"at": "2026-12-01T01:00:00Z"}) == {"at": datetime(2026, 12, 1, 9)}
        assert Stamp().load({"at": "2026-12-01T09:00:00"}) == {"at": datetime(2026, 12, 1, 9)}
        # a time with no city time (before year 1 in Shanghai) is invalid, not a crash
        with pytest.raises(ValidationError, match="Not a valid datetime"):
            Stamp().load({"at": "0001-01-01T00:00:00+14:00"})


def test_the_spec_documents_datetimes_with_their_offset(client):
    spec = client.get("/openapi.json").get_json()
    assert "+08:00" in spec["info"]["description"]
    order = spec["components"]["schemas"]["WorkOrder"]["properties"]
    for name in ("created_at", "restore_deadline", "planned_start"):
        assert order[name]["format"] == "date-time"
        assert "offset" in order[name]["description"]
    restore = spec["components"]["schemas"]["SlaStatus"]["properties"]["restore_deadline"]
    assert restore["description"].startswith("Restore deadline, pauses included. Dates and times")
    assert "local-date-time" not in client.get("/openapi.json").get_data(as_text=True)


def test_a_datetime_left_in_a_plain_dict_is_sent_with_the_offset_too(app):
    from flask import jsonify

    with app.test_request_context():
        body = jsonify({"at": datetime(2026, 12, 2, 11, 52, 13), "day": datetime(2026, 12, 2).date()})
        assert body.get_json() == {"at": "2026-12-02T11:52:13+08:00", "day": "2026-12-02"}
