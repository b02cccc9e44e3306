"""The phone API refuses bad input with problem details naming the field, and changes nothing."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.clock import now
from technicians.models import LocationPing
from tests.factories import order_trail


@pytest.mark.parametrize(
    "body,field_name",
    [
        ({"status": "teleported"}, "status"),
        ({"status": "en_route", "version": "3"}, "version"),
        ({"status": "en_route", "version": True}, "version"),
        ({"status": "en_route", "lat": "31.8", "lon": 117.2}, "lat"),
        ({"status": "en_route", "lat": 91, "lon": 117.2}, "lat"),
        ({"status": "en_route", "lat": 31.8, "lon": -181}, "lon"),
        ({"status": "en_route", "lat": 31.8}, "lon"),
        ({"status": "en_route", "speed_kmh": 40}, "speed_kmh"),
        ({"status": "en_route", "client_time": "1999-12-31T23:59:59"}, "client_time"),
        ({"status": "en_route", "client_time": "2999-01-01T00:00:00"}, "client_time"),
        ({"status": "en_route", "client_time": "yesterday"}, "client_time"),
        ({"status": "en_route", "client_time": "2026-02-30T10:00:00"}, "client_time"),
    ],
)
def test_bad_status_bodies_are_refused_and_change_nothing(client, db, field, body, field_name):
    oid = field.order("adsl")
    before = order_trail(db, oid)
    resp = client.post(f"/mobile/v1/orders/{oid}/status", headers=field.tech, json=body)
    assert resp.status_code == 422, resp.get_json()
    problem = resp.get_json()
    assert resp.headers["Content-Type"].startswith("application/problem+json")
    assert field_name in problem["errors"] and problem["status"] == 422
    db.expire_all()
    assert order_trail(db, oid) == before


def test_malformed_and_mistyped_requests(client, db, field):
    oid = field.order("adsl")
    url = f"/mobile/v1/orders/{oid}/status"
    broken = client.post(
        url, headers={**field.tech, "Content-Type": "application/json"}, data='{"status": "en_route"'
    )
    assert broken.status_code in (400, 422)
    assert broken.headers["Content-Type"].startswith("application/problem+json")
    assert client.post(url, headers=field.tech, json=["en_route"]).status_code == 422
    assert client.post(url, headers=field.tech, json={}).status_code == 422
    future_clock = (now() + timedelta(hours=2)).isoformat()
    pings = client.post(
        "/mobile/v1/location",
        headers=field.tech,
        json={
            "pings": [
                {"lat": 31.8, "lon": 117.2, "recorded_at": now().isoformat()},
                {"lat": 31.8, "lon": 117.2, "recorded_at": future_clock},
            ]
        },
    )
    assert pings.status_code == 422
    assert client.post("/mobile/v1/location", headers=field.tech, json={"pings": []}).status_code == 422
    assert db.scalar(select(func.count()).select_from(LocationPing)) == 0
    assert (
        client.post(
            "/mobile/v1/orders/999999/status", headers=field.tech, json={"status": "en_route"}
        ).status_code
        == 404
    )
    assert client.get(f"/mobile/v1/orders/{oid}", headers=field.tech).get_json()["state"] == "assigned"


def test_a_phone_time_before_the_first_year_in_another_zone_is_refused_not_a_500(client, field):
    """0001-01-01 with a positive offset has no city time at all (found by schemathesis)."""
    ping = {"lat": 31.85, "lon": 117.26, "accuracy_m": 10, "recorded_at": "0001-01-01T00:00:01.0+01:00"}
    resp = client.post("/mobile/v1/location", headers=field.tech, json={"pings": [ping]})
    assert resp.status_code == 422, resp.get_json()
    assert "recorded_at" in str(resp.get_json()["errors"])
