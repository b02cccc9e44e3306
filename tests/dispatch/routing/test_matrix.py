"""Travel matrices: haversine estimate and the OSRM table adapter."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

from dispatch.routing.matrix import (
    HaversineMatrix,
    OsrmError,
    OsrmTableMatrix,
    TravelMatrix,
    great_circle_m,
)

BEIJING = (39.9042, 116.4074)
SHANGHAI = (31.2304, 121.4737)
BEIJING_SHANGHAI_KM = 1067.0  # great-circle distance between the city centres


def test_great_circle_beijing_shanghai_within_one_percent() -> None:
    plain = HaversineMatrix(detour_factor=1.0)
    metres = plain.distances_m([BEIJING, SHANGHAI])
    assert metres[0, 1] == pytest.approx(BEIJING_SHANGHAI_KM * 1000, rel=0.01)
    assert metres[0, 1] == pytest.approx(great_circle_m(BEIJING, SHANGHAI), rel=1e-6)
    assert metres[0, 0] == 0.0
    assert metres[1, 0] == pytest.approx(metres[0, 1])


def test_haversine_applies_detour_and_area_speed() -> None:
    points = [(31.23, 121.47), (31.24, 121.48), (31.30, 121.50)]
    plain = HaversineMatrix(detour_factor=1.0).distances_m(points)
    urban = HaversineMatrix(detour_factor=1.3, area_type="urban")
    rural = HaversineMatrix(detour_factor=1.3, area_type="rural")
    np.testing.assert_allclose(urban.distances_m(points), plain * 1.3)
    urban_s = urban.durations_s(points)
    assert urban_s.dtype.kind == "i"
    # 25 km/h urban: seconds = metres / (25000 / 3600)
    assert urban_s[0, 2] == round(plain[0, 2] * 1.3 / (25000 / 3600))
    assert (rural.durations_s(points) <= urban_s).all()
    seconds, metres = urban.travel(points[0], points[2])
    assert seconds == pytest.approx(urban_s[0, 2], abs=1)
    assert metres == pytest.approx(plain[0, 2] * 1.3, rel=1e-6)
    assert isinstance(urban, TravelMatrix)


def test_haversine_rejects_unknown_area() -> None:
    with pytest.raises(ValueError):
        HaversineMatrix(area_type="lunar")


class _OsrmStandIn(BaseHTTPRequestHandler):
    """Answers /table/v1/driving/lon,lat;... like OSRM: 100 s and 1 km per
    unit of index difference between points, so answers are predictable."""

    requests: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        url = urlsplit(self.path)
        type(self).requests.append(self.path)
        if not url.path.startswith("/table/v1/driving/"):
            self.send_error(404)
            return
        coords = url.path.rsplit("/", 1)[1].split(";")
        query = parse_qs(url.query)
        ids = [int(round(float(c.split(",")[1]) * 1000)) for c in coords]  # lat encodes the point number
        src = [int(i) for i in query["sources"][0].split(";")] if "sources" in query else range(len(ids))
        dst = (
            [int(i) for i in query["destinations"][0].split(";")]
            if "destinations" in query
            else range(len(ids))
        )
        durations = [[100.0 * abs(ids[s] - ids[d]) for d in dst] for s in src]
        distances = [[1000.0 * abs(ids[s] - ids[d]) if ids[d] != 99 else None for d in dst] for s in src]
        body = json.dumps({"code": "Ok", "durations": durations, "distances": distances}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture()
def osrm_url():
    server = HTTPServer(("127.0.0.1", 0), _OsrmStandIn)
    _OsrmStandIn.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _points(ids: list[int]) -> list[tuple[float, float]]:
    return [(i / 1000.0, 121.0) for i in ids]


def test_osrm_table_matrix_reads_durations_and_distances(osrm_url: str) -> None:
    osrm = OsrmTableMatrix(osrm_url, timeout_s=5)
    points = _points([1, 2, 5])
    durations = osrm.durations_s(points)
    distances = osrm.distances_m(points)
    np.testing.assert_array_equal(durations, [[0, 100, 400], [100, 0, 300], [400, 300, 0]])
    np.testing.assert_allclose(distances, [[0, 1000, 4000], [1000, 0, 3000], [4000, 3000, 0]])
    assert durations.dtype.kind == "i"
    assert len(_OsrmStandIn.requests) == 1  # both matrices from one request
    assert "annotations=duration,distance" in _OsrmStandIn.requests[0]
    assert isinstance(osrm, TravelMatrix)


def test_osrm_table_matrix_blocks_large_tables_and_marks_unreachable(osrm_url: str) -> None:
    osrm = OsrmTableMatrix(osrm_url, timeout_s=5, max_table_size=4, unreachable_m=123456.0)
    ids = [0, 1, 2, 3, 4, 5, 6, 99]
    durations = osrm.durations_s(_points(ids))
    expected = 100 * np.abs(np.subtract.outer(ids, ids))
    np.testing.assert_array_equal(durations, expected)
    distances = osrm.distances_m(_points(ids))
    assert distances[0, 7] == 123456.0  # OSRM's null: not routable
    assert distances[0, 6] == 6000.0
    assert len(_OsrmStandIn.requests) > 1


def test_osrm_error_is_raised_on_refusal(osrm_url: str) -> None:
    osrm = OsrmTableMatrix(osrm_url + "/nothing-here", timeout_s=5)
    with pytest.raises(OsrmError):
        osrm.durations_s(_points([1, 2]))
