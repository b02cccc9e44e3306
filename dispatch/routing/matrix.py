"""Travel times and distances between points.

The solver asks a :class:`TravelMatrix` for full square matrices. The default
:class:`HaversineMatrix` estimates road travel from coordinates (great-circle
distance times a detour factor, over an average speed per area type); a road
network source such as an OSRM server's table service can replace it through
:class:`OsrmTableMatrix` without touching the solver.

Points are ``(lat, lon)`` pairs in degrees.
"""

from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from geopy.distance import great_circle

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius, as geopy's great_circle uses

Point = tuple[float, float]


@runtime_checkable
class TravelMatrix(Protocol):
    """Square matrices of travel between points, row = from, column = to."""

    def durations_s(self, points: Sequence[Point]) -> np.ndarray:
        """Travel times in seconds (integers) between all ``points``."""
        ...

    def distances_m(self, points: Sequence[Point]) -> np.ndarray:
        """Travel distances in metres between all ``points``."""
        ...


def great_circle_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres between two points (single look-up)."""
    return float(great_circle(a, b).meters)


def great_circle_matrix_m(points: Sequence[Point]) -> np.ndarray:
    """All-pairs great-circle distances in metres, vectorised (haversine)."""
    coords = np.radians(np.asarray(points, dtype=np.float64).reshape(-1, 2))
    lat = coords[:, 0]
    lon = coords[:, 1]
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    h = np.sin(dlat / 2.0) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2.0) ** 2
    distances_m: np.ndarray = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    return distances_m


class HaversineMatrix:
    """Road travel estimated from coordinates.

    Road distance = great-circle distance x ``detour_factor``; travel time =
    road distance / the average speed of ``area_type``.
    """

    def __init__(
        self,
        detour_factor: float = 1.3,
        speed_kmh_by_area: dict[str, float] | None = None,
        area_type: str = "urban",
    ) -> None:
        self.detour_factor = detour_factor
        self.speed_kmh_by_area = dict(speed_kmh_by_area or {"urban": 25.0, "suburban": 40.0, "rural": 50.0})
        if area_type not in self.speed_kmh_by_area:
            raise ValueError(f"no average speed for area type {area_type!r}")
        self.area_type = area_type

    @property
    def speed_m_per_s(self) -> float:
        return self.speed_kmh_by_area[self.area_type] * 1000.0 / 3600.0

    def distances_m(self, points: Sequence[Point]) -> np.ndarray:
        """Estimated road distances in metres."""
        return great_circle_matrix_m(points) * self.detour_factor

    def durations_s(self, points: Sequence[Point]) -> np.ndarray:
        """Estimated travel times in whole seconds (rounded)."""
        return np.rint(self.distances_m(points) / self.speed_m_per_s).astype(np.int64)

    def travel(self, a: Point, b: Point) -> tuple[int, float]:
        """Single look-up: (seconds, metres) from ``a`` to ``b``."""
        metres = great_circle_m(a, b) * self.detour_factor
        return int(round(metres / self.speed_m_per_s)), metres


class OsrmError(RuntimeError):
    """The OSRM server refused or answered something unusable."""


class OsrmTableMatrix:
    """Travel from an OSRM server's table service (``/table/v1/{profile}/...``).

    Large point sets are fetched in blocks of at most ``max_table_size``
    sources x destinations, as OSRM limits the table size (default 100).
    Pairs OSRM cannot route (``null``) get ``unreachable_s`` / ``unreachable_m``
    so the solver never uses them. Both matrices come from one request per
    block and are cached for the last point set.
    """

    def __init__(
        self,
        base_url: str,
        timeout_s: float = 10.0,
        profile: str = "driving",
        max_table_size: int = 100,
        unreachable_s: int = 10 * 3600,
        unreachable_m: float = 1_000_000.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.profile = profile
        self.max_table_size = max_table_size
        self.unreachable_s = unreachable_s
        self.unreachable_m = unreachable_m
        self._cache_key: tuple[Point, ...] | None = None
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    def durations_s(self, points: Sequence[Point]) -> np.ndarray:
        """Road travel times in whole seconds."""
        durations_s: np.ndarray = np.rint(self._tables(points)[0]).astype(np.int64)
        return durations_s

    def distances_m(self, points: Sequence[Point]) -> np.ndarray:
        """Road distances in metres."""
        return self._tables(points)[1]

    def _tables(self, points: Sequence[Point]) -> tuple[np.ndarray, np.ndarray]:
        key = tuple((round(lat, 6), round(lon, 6)) for lat, lon in points)
        if self._cache_key == key and self._cache is not None:
            return self._cache
        n = len(key)
        durations = np.zeros((n, n), dtype=np.float64)
        distances = np.zeros((n, n), dtype=np.float64)
        block = max(1, self.max_table_size // 2) if n > self.max_table_size else n
        for src0 in range(0, n, block):
            for dst0 in range(0, n, block):
                src = list(range(src0, min(n, src0 + block)))
                dst = list(range(dst0, min(n, dst0 + block)))
                dur, dist = self._fetch(key, src, dst)
                durations[np.ix_(src, dst)] = dur
                distances[np.ix_(src, dst)] = dist
        self._cache_key, self._cache = key, (durations, distances)
        return durations, distances

    def _fetch(
        self, points: Sequence[Point], src: list[int], dst: list[int]
    ) -> tuple[np.ndarray, np.ndarray]:
        # Send only the coordinates this block needs; OSRM wants lon,lat.
        used = sorted(set(src) | set(dst))
        local = {p: i for i, p in enumerate(used)}
        coords = ";".join(f"{points[p][1]:.6f},{points[p][0]:.6f}" for p in used)
        query = {"annotations": "duration,distance"}
        if len(used) != len(src) or len(used) != len(dst):
            query["sources"] = ";".join(str(local[p]) for p in src)
            query["destinations"] = ";".join(str(local[p]) for p in dst)
        params = urllib.parse.urlencode(query, safe=";,")
        url = f"{self.base_url}/table/v1/{self.profile}/{coords}?{params}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                body = json.loads(response.read().decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise OsrmError(f"OSRM table request failed: {exc}") from exc
        if body.get("code") != "Ok":
            raise OsrmError(f"OSRM answered {body.get('code')}: {body.get('message', '')}")
        if "durations" not in body or "distances" not in body:
            raise OsrmError("OSRM answer lacks durations or distances")
        return (
            _with_unreachable(body["durations"], self.unreachable_s),
            _with_unreachable(body["distances"], self.unreachable_m),
        )


def _with_unreachable(rows: list[list[float | None]], fill: float) -> np.ndarray:
    return np.array(
        [[fill if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in row] for row in rows],
        dtype=np.float64,
    )
