"""Routes along the roads and road ETAs from a configured OSRM server, here a stand-in on
127.0.0.1 that answers /route/v1/driving/... with a bend in every leg (tests call no outside
service)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

import pytest

from core.clock import now
from dispatch.routing.matrix import HaversineMatrix, OsrmError
from dispatch.routing.roads import OsrmRouter
from tests.factories import SITE, Console

SECONDS_PER_LEG = 420.0
METRES_PER_LEG = 3210.0


class _OsrmRouteStandIn(BaseHTTPRequestHandler):
    """Like OSRM's route service: each leg goes through a bend 0.001° north of its midpoint,
    and takes 420 s and 3,210 m."""

    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        type(self).requests.append(self.path)
        if not url.path.startswith("/route/v1/driving/") or "geometries=geojson" not in url.query:
            self.send_error(404)
            return
        points = [[float(x) for x in c.split(",")] for c in url.path.rsplit("/", 1)[1].split(";")]
        line = [points[0]]
        for (lon1, lat1), (lon2, lat2) in zip(points, points[1:], strict=False):
            line += [[(lon1 + lon2) / 2, (lat1 + lat2) / 2 + 0.001], [lon2, lat2]]
        legs = len(points) - 1
        route = {
            "geometry": {"type": "LineString", "coordinates": line},
            "distance": METRES_PER_LEG * legs,
            "duration": SECONDS_PER_LEG * legs,
        }
        body = json.dumps({"code": "Ok", "routes": [route]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def osrm_url() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _OsrmRouteStandIn)
    _OsrmRouteStandIn.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@contextmanager
def _road_router(app, url: str) -> Iterator[None]:
    app.config["ROAD_ROUTER_URL"] = url
    try:
        yield
    finally:
        app.config["ROAD_ROUTER_URL"] = ""


def test_router_reads_the_geometry_and_caches_it(osrm_url):
    router = OsrmRouter(osrm_url, timeout_s=5)
    way = router.route([(31.80, 117.20), (31.82, 117.22), (31.84, 117.20)])
    assert way.coordinates[0] == [31.80, 117.20] and way.coordinates[-1] == [31.84, 117.20]
    assert len(way.coordinates) == 5  # a bend in each of the two legs
    assert way.coordinates[1] == pytest.approx([31.811, 117.21])
    assert way.distance_m == 2 * METRES_PER_LEG and way.duration_s == 2 * SECONDS_PER_LEG
    assert router.travel((31.80, 117.20), (31.82, 117.22)) == (420, METRES_PER_LEG)
    again = router.route([(31.80, 117.20), (31.82, 117.22), (31.84, 117.20)])
    assert again == way and router.requests == 2  # the second route came from the cache

    with pytest.raises(OsrmError):
        OsrmRouter(osrm_url + "/nothing-here", timeout_s=5).route([(31.8, 117.2), (31.9, 117.3)])


def test_console_draws_a_route_and_the_way_home_along_the_roads(app, client, field, osrm_url):
    console = Console(client, "disp")
    orders = [field.order("adsl"), field.order("lan")]
    query = {"technician_id": field.tech_id, "orders": f"{orders[0]},{orders[1]}"}
    status, straight = console.get("/roads", **query)
    assert status == 200 and straight["source"] == "straight"  # no road router configured

    with _road_router(app, osrm_url):
        status, road = console.get("/roads", **query)
        assert status == 200 and road["source"] == "road"
        assert len(road["route"]) == 5  # home, bend, site, bend, site
        assert road["route"][-1] == list(SITE)
        assert road["home"][0] == list(SITE) and len(road["home"]) == 3  # last stop -> bend -> home
        assert road["distance_m"] == 3 * METRES_PER_LEG
        asked = len(_OsrmRouteStandIn.requests)
        assert console.get("/roads", **query)[1] == road
        assert len(_OsrmRouteStandIn.requests) == asked  # fetched once, then cached server-side

        assert console.get("/roads", technician_id=999999, orders=str(orders[0]))[0] == 404
        assert console.get("/roads", technician_id=field.tech_id, orders="1;2")[0] == 422

    with _road_router(app, "http://127.0.0.1:9"):  # a router that is down: straight lines
        status, down = console.get("/roads", **query)
        assert status == 200 and down["source"] == "straight" and down["error"] == "road_router_failed"


def _ping(client, field, lat: float, lon: float, at: datetime) -> None:
    pings = [{"lat": lat, "lon": lon, "accuracy_m": 10, "recorded_at": at.isoformat()}]
    resp = client.post("/mobile/v1/location", headers=field.tech, json={"pings": pings})
    assert resp.status_code == 200, resp.get_json()


def test_live_eta_uses_the_road_router_and_falls_back_without_it(app, client, field, city_time, osrm_url):
    city_time(datetime.combine(now().date(), time(9, 0)))
    oid = field.order("adsl")
    assert field.status(oid, "en_route").status_code == 200
    pinged = now()
    _ping(client, field, 31.80, 117.20, pinged)
    with _road_router(app, osrm_url):
        eta = client.get(f"/api/v1/workorders/{oid}", headers=field.disp).get_json()["eta"]
    assert eta["travel_s"] == SECONDS_PER_LEG and eta["distance_m"] == METRES_PER_LEG
    assert datetime.fromisoformat(eta["eta"]).replace(tzinfo=None) == pinged + timedelta(seconds=420)

    with _road_router(app, "http://127.0.0.1:9"):
        fallback = client.get(f"/api/v1/workorders/{oid}", headers=field.disp).get_json()["eta"]
    seconds, _metres = HaversineMatrix().travel((31.80, 117.20), SITE)
    assert fallback["travel_s"] == seconds
