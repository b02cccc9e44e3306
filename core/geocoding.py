"""Turning an address into coordinates, behind one small interface.

Tests and the demo use `LocalTableGeocoder` (a table of known places, no network).
`GeopyGeocoder` wraps any geopy geocoder (e.g. an intranet Nominatim) for production.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from geopy.distance import geodesic
from geopy.location import Location
from geopy.point import Point


class Geocoder(Protocol):
    def geocode(self, address: str) -> Location | None:
        """The best match for `address`, or None."""


class LocalTableGeocoder:
    """Matches the longest known place name contained in the address."""

    def __init__(self, places: Mapping[str, tuple[float, float]]) -> None:
        # longest names first, so "滨湖新区" wins over a shorter name inside it
        self._places = sorted(places.items(), key=lambda item: -len(item[0]))

    def geocode(self, address: str) -> Location | None:
        for name, (lat, lon) in self._places:
            if name in address:
                return Location(name, Point(lat, lon), {"source": "local-table"})
        return None


class GeopyGeocoder:
    """Adapter for a geopy geocoder instance (network; never used in tests)."""

    def __init__(self, backend, timeout_s: float = 5.0) -> None:
        self._backend = backend
        self._timeout_s = timeout_s

    def geocode(self, address: str) -> Location | None:
        return self._backend.geocode(address, timeout=self._timeout_s)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance in metres between two (lat, lon) points."""
    return geodesic(a, b).meters


def default_geocoder() -> Geocoder:
    """The embedded default: the demo city's districts, no network."""
    from core.demo import DISTRICTS

    return LocalTableGeocoder(DISTRICTS)
