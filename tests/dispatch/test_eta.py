"""The live ETA of a technician on the way (dispatch.eta), as the customer reads it
in the order JSON: from the last ping, changing with a new ping, saying so when the
position is older than 15 minutes, gone on arrival. Pings and status changes go
through the mobile API."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from core.clock import now
from dispatch.eta import NO_RECENT_POSITION, STALE_AFTER, eta_for
from dispatch.routing.matrix import HaversineMatrix
from tests.factories import SITE, Console
from workorders.models import WorkOrder

FAR = (31.80, 117.20)  # about 10 km from the test site
NEAR = (31.85, 117.26)  # about 1.5 km from it


def _ping(client, field, lat: float, lon: float, at: datetime) -> None:
    resp = client.post(
        "/mobile/v1/location",
        headers=field.tech,
        json={"pings": [{"lat": lat, "lon": lon, "accuracy_m": 10, "recorded_at": at.isoformat()}]},
    )
    assert resp.status_code == 200, resp.get_json()


def _customer_order(client, field, oid: int, lang: str = "zh") -> dict:
    resp = client.get(f"/api/v1/workorders/{oid}?lang={lang}", headers=field.cust)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _local(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp).replace(tzinfo=None)


def _on_the_way(client, field, city_time) -> int:
    city_time(datetime.combine(now().date(), time(9, 0)))
    oid = field.order("adsl")
    assert field.status(oid, "en_route").status_code == 200
    return oid


def test_eta_while_en_route_comes_from_the_last_ping_and_changes_with_a_new_one(client, db, field, city_time):
    oid = _on_the_way(client, field, city_time)
    first_at = now()
    _ping(client, field, *FAR, first_at)
    body = _customer_order(client, field, oid)
    eta = body["eta"]
    seconds, metres = HaversineMatrix().travel(FAR, SITE)
    assert _local(eta["position_at"]) == first_at and eta["note"] is None
    assert _local(eta["eta"]) == first_at + timedelta(seconds=seconds)
    assert eta["distance_m"] == round(metres) and eta["travel_s"] == seconds
    first_eta = _local(eta["eta"])
    staff = client.get(f"/api/v1/workorders/{oid}", headers=field.disp).get_json()
    assert _local(staff["eta"]["eta"]) == first_eta  # the dispatcher reads the same estimate

    # the technician moves on: a new ping, a new (earlier) arrival, from the new position time
    city_time(first_at + timedelta(minutes=5))
    _ping(client, field, *NEAR, now())
    again = _customer_order(client, field, oid)["eta"]
    assert _local(again["position_at"]) > first_at
    assert _local(again["eta"]) < first_eta and again["distance_m"] < eta["distance_m"]


def test_no_recent_position_after_15_minutes_is_said_not_guessed(client, db, field, city_time):
    oid = _on_the_way(client, field, city_time)
    pinged = now()
    _ping(client, field, *FAR, pinged)
    assert _customer_order(client, field, oid)["eta"]["eta"] is not None

    city_time(pinged + STALE_AFTER + timedelta(minutes=1))
    stale = _customer_order(client, field, oid)["eta"]
    assert stale["eta"] is None and stale["note"] == NO_RECENT_POSITION
    assert _local(stale["position_at"]) == pinged
    assert "近期没有装维人员的位置" in stale["note_text"]
    english = _customer_order(client, field, oid, "en")["eta"]
    assert english["note_text"] == "No recent position of the technician: no arrival time can be given."


def test_eta_is_gone_on_arrival_and_absent_before_setting_out(client, db, field, city_time):
    city_time(datetime.combine(now().date(), time(9, 0)))
    oid = field.order("adsl")
    assert _customer_order(client, field, oid)["eta"] is None  # assigned, not yet on the way
    assert field.status(oid, "en_route").status_code == 200
    _ping(client, field, *NEAR, now())
    assert _customer_order(client, field, oid)["eta"]["eta"] is not None
    assert field.status(oid, "arrived", lat=SITE[0], lon=SITE[1]).status_code == 200
    body = _customer_order(client, field, oid)
    assert body["eta"] is None and body["state"] == "on_site"
    assert eta_for(db, db.get(WorkOrder, oid)) is None


def test_eta_for_counts_from_the_position_time_and_never_lies_in_the_past(client, db, field, city_time):
    oid = _on_the_way(client, field, city_time)
    pinged = now()
    _ping(client, field, *NEAR, pinged)
    order = db.get(WorkOrder, oid)
    seconds, _ = HaversineMatrix().travel(NEAR, SITE)
    assert eta_for(db, order, pinged)["eta"] == pinged + timedelta(seconds=seconds)
    # 10 minutes on, the estimate from that position would lie in the past: now is the best we can say
    later = pinged + timedelta(minutes=10)
    assert seconds < 600 and eta_for(db, order, later)["eta"] == later
    assert eta_for(db, order, pinged + STALE_AFTER + timedelta(seconds=1))["eta"] is None


def test_the_console_panel_shows_the_same_live_eta_and_the_map_knows_the_channel(
    client, db, field, city_time
):
    oid = _on_the_way(client, field, city_time)
    _ping(client, field, *FAR, now())
    customer_eta = _customer_order(client, field, oid)["eta"]
    console = Console(client, "disp")
    status, panel = console.get(f"/orders/{oid}")
    assert status == 200
    assert panel["eta"]["eta"] == customer_eta["eta"] and panel["eta"]["eta"].endswith("+08:00")
    assert panel["eta"]["position_at"] == customer_eta["position_at"]
    status, feed = console.get("/orders")
    sources = {f["id"]: f["properties"]["source"] for f in feed["features"]}
    assert sources[oid] == db.get(WorkOrder, oid).source
    # on arrival the panel's ETA is gone, like the customer's
    assert field.status(oid, "arrived", lat=SITE[0], lon=SITE[1]).status_code == 200
    assert console.get(f"/orders/{oid}")[1]["eta"] is None
