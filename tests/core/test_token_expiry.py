"""Access tokens expire by the city's clock; the refresh token outlives them."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from core.clock import now
from tests.conftest import PASSWORD


def test_an_access_token_past_its_lifetime_is_refused_and_the_refresh_token_renews_it(
    app, client, world, city_time
):
    world.user("disp", "dispatcher")
    city_time(datetime.combine(now().date(), time(8, 0)))
    pair = client.post("/api/v1/auth/token", json={"username": "disp", "password": PASSWORD}).get_json()
    me = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/api/v1/workorders", headers=me).status_code == 200

    lifetime = timedelta(seconds=app.config["ACCESS_TOKEN_TTL_S"])
    city_time(datetime.combine(now().date(), time(8, 0)) + lifetime + timedelta(minutes=1))
    resp = client.get("/api/v1/workorders", headers=me)
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"
    assert resp.get_json()["type"].endswith("/unauthorized")

    renewed = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert renewed.status_code == 200
    fresh = {"Authorization": f"Bearer {renewed.get_json()['access_token']}"}
    assert client.get("/api/v1/workorders", headers=fresh).status_code == 200
