"""Routes along the roads from an OSRM server's route service (``/route/v1/{profile}/...``).

:class:`OsrmRouter` asks for the way through a list of points and gives back its geometry
(``[lat, lon]`` pairs, for drawing), distance and duration; :meth:`OsrmRouter.travel` is the
single look-up the live ETA uses. Answers are kept in a small least-recently-used cache keyed
by the points (rounded to about 10 cm), so a map redrawn every few seconds asks once.
Thread-safe: one router serves every request of a process.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
import urllib.request
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.routing.matrix import OsrmError, Point

MAX_POINTS = 100  # OSRM's default route size limit (--max-viaroute-size is larger; stay under)


@dataclass(frozen=True)
class RoadRoute:
    """The way along the roads: drawn through ``coordinates`` ([lat, lon]), in metres and seconds."""

    coordinates: list[list[float]]
    distance_m: float
    duration_s: float


class OsrmRouter:
    """Routes from an OSRM server; ``cache_size`` answers kept."""

    def __init__(
        self, base_url: str, timeout_s: float = 5.0, profile: str = "driving", cache_size: int = 512
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.profile = profile
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple[Point, ...], RoadRoute] = OrderedDict()
        self._lock = threading.Lock()
        self.requests = 0  # how many times the server was asked (the cache's effect, for tests)

    def route(self, points: Sequence[Point]) -> RoadRoute:
        """The way through ``points`` in order (at least two; more than ``MAX_POINTS`` in pieces)."""
        key = tuple((round(lat, 6), round(lon, 6)) for lat, lon in points)
        if len(key) < 2:
            raise ValueError("a route needs at least two points")
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        pieces = [self._fetch(key[i : i + MAX_POINTS]) for i in range(0, len(key) - 1, MAX_POINTS - 1)]
        coordinates: list[list[float]] = []
        for piece in pieces:
            coordinates += piece.coordinates[1:] if coordinates else piece.coordinates
        answer = RoadRoute(coordinates, sum(p.distance_m for p in pieces), sum(p.duration_s for p in pieces))
        with self._lock:
            self._cache[key] = answer
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return answer

    def travel(self, a: Point, b: Point) -> tuple[int, float]:
        """(seconds, metres) along the roads from ``a`` to ``b``."""
        answer = self.route([a, b])
        return int(round(answer.duration_s)), answer.distance_m

    def _fetch(self, points: Sequence[Point]) -> RoadRoute:
        coords = ";".join(f"{lon:.6f},{lat:.6f}" for lat, lon in points)  # OSRM wants lon,lat
        query = urllib.parse.urlencode({"overview": "full", "geometries": "geojson", "steps": "false"})
        url = f"{self.base_url}/route/v1/{self.profile}/{coords}?{query}"
        self.requests += 1
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                body = json.loads(response.read().decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise OsrmError(f"OSRM route request failed: {exc}") from exc
        if body.get("code") != "Ok" or not body.get("routes"):
            raise OsrmError(f"OSRM answered {body.get('code')}: {body.get('message', '')}")
        best = body["routes"][0]
        try:
            line = [[float(lat), float(lon)] for lon, lat in best["geometry"]["coordinates"]]
            return RoadRoute(line, float(best["distance"]), float(best["duration"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise OsrmError(f"OSRM route answer unusable: {exc}") from exc
