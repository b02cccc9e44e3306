"""Turning an address into coordinates, chosen by configuration.

``GEOCODER`` names the source:

- ``nominatim:URL``: a self-hosted Nominatim on the intranet (geopy's ``Nominatim``);
- ``baidu:KEY``: Baidu's geocoder with the operator's key (geopy's ``BaiduV3``);
- ``table:PATH``: a JSON file of known places, ``{"滨湖新区": [31.73, 117.29], ...}``;
- a name the app factory registered a table under (``demo``: the demo city's districts);
- empty: no geocoding; a site then needs its coordinates.

Network sources go through geopy's ``RateLimiter`` (``GEOCODER_MIN_DELAY_S``
between calls, retries on errors, a failure answers "not found") and every
source through a bounded cache of answers, so the same address is asked once.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from threading import Lock
from typing import Protocol

from flask import Flask, current_app
from geopy.distance import geodesic
from geopy.extra.rate_limiter import RateLimiter
from geopy.location import Location
from geopy.point import Point

USER_AGENT = "fieldservice-dispatch"


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


class NoGeocoder:
    """No source configured: nothing is found."""

    def geocode(self, address: str) -> Location | None:
        return None


class GeopyGeocoder:
    """A geopy geocoder behind geopy's rate limiter (network; never used in tests)."""

    def __init__(self, backend, min_delay_s: float = 1.0, timeout_s: float = 5.0) -> None:
        self._limited = RateLimiter(backend.geocode, min_delay_seconds=min_delay_s, max_retries=2)
        self._timeout_s = timeout_s

    def geocode(self, address: str) -> Location | None:
        return self._limited(address, timeout=self._timeout_s)


class CachedGeocoder:
    """Remembers the last ``size`` answers (found or not), thread-safe."""

    def __init__(self, inner: Geocoder, size: int = 4096) -> None:
        self._inner = inner
        self._size = size
        self._answers: OrderedDict[str, Location | None] = OrderedDict()
        self._lock = Lock()

    def geocode(self, address: str) -> Location | None:
        key = " ".join(address.split())
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
        found = self._inner.geocode(key)
        with self._lock:
            self._answers[key] = found
            while len(self._answers) > self._size:
                self._answers.popitem(last=False)
        return found


def from_spec(
    spec: str, tables: Mapping[str, Mapping[str, tuple[float, float]]] | None = None, min_delay_s: float = 1.0
) -> Geocoder:
    """The geocoder a ``GEOCODER`` value names (see the module docstring)."""
    kind, _sep, arg = spec.strip().partition(":")
    tables = tables or {}
    if not kind:
        source: Geocoder = NoGeocoder()
    elif kind in tables and not arg:
        source = LocalTableGeocoder(tables[kind])
    elif kind == "table":
        places = json.loads(Path(arg).read_text(encoding="utf-8"))
        source = LocalTableGeocoder({name: (float(p[0]), float(p[1])) for name, p in places.items()})
    elif kind == "nominatim":
        from urllib.parse import urlsplit

        from geopy.geocoders import Nominatim

        url = urlsplit(arg)
        domain = url.netloc + url.path.rstrip("/")
        backend = Nominatim(user_agent=USER_AGENT, domain=domain, scheme=url.scheme or "https")
        source = GeopyGeocoder(backend, min_delay_s)
    elif kind == "baidu":
        from geopy.geocoders import BaiduV3

        source = GeopyGeocoder(BaiduV3(api_key=arg, user_agent=USER_AGENT), min_delay_s)
    else:
        known = ", ".join(["nominatim:URL", "baidu:KEY", "table:PATH", *sorted(tables)])
        raise ValueError(f"GEOCODER={spec!r} is not one of: {known}, or empty")
    return CachedGeocoder(source)


def init_app(app: Flask, tables: Mapping[str, Mapping[str, tuple[float, float]]] | None = None) -> None:
    """Build the configured geocoder once; a bad ``GEOCODER`` stops the start."""
    app.extensions["geocoder"] = from_spec(
        app.config.get("GEOCODER", ""), tables, float(app.config.get("GEOCODER_MIN_DELAY_S", 1.0))
    )


def configured() -> Geocoder:
    """The app's geocoder (see :func:`init_app`)."""
    return current_app.extensions["geocoder"]


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance in metres between two (lat, lon) points."""
    return geodesic(a, b).meters
