"""The configured road router: routes drawn along the roads, travel times for live ETAs.

``ROAD_ROUTER_URL`` names an OSRM server (empty: none, and callers fall back to straight
lines and the planner's estimate). One :class:`~dispatch.routing.roads.OsrmRouter` per URL
serves the whole process, so its cache of answers is shared by every request; the server is
asked from here, never from the browser (the console works on an intranet without it).
"""

from __future__ import annotations

import threading
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import N_, NotFound
from dispatch.routing.matrix import OsrmError, Point
from dispatch.routing.roads import OsrmRouter
from technicians.models import Technician
from workorders.models import Site, WorkOrder

MAX_STOPS = 99  # one OSRM request: home, the stops

_routers: dict[tuple[str, float], OsrmRouter] = {}
_lock = threading.Lock()


def configured_router() -> OsrmRouter | None:
    """The running app's road router, or None when none is configured (or outside an app)."""
    if not has_app_context():
        return None
    url = (current_app.config.get("ROAD_ROUTER_URL") or "").strip()
    if not url:
        return None
    key = (url, float(current_app.config.get("ROAD_ROUTER_TIMEOUT_S", 5)))
    with _lock:
        if key not in _routers:
            _routers[key] = OsrmRouter(url, timeout_s=key[1])
        return _routers[key]


def road_travel(a: Point, b: Point) -> tuple[int, float] | None:
    """(seconds, metres) along the roads, or None without a router or when it fails."""
    router = configured_router()
    if router is None:
        return None
    try:
        return router.travel(a, b)
    except OsrmError:
        current_app.logger.warning("road router failed; travel estimated instead", exc_info=True)
        return None


def _stop_points(session: Session, order_ids: list[int]) -> list[Point]:
    rows = session.execute(
        select(WorkOrder.id, Site.lat, Site.lon)
        .join(Site, WorkOrder.site_id == Site.id)
        .where(WorkOrder.id.in_(order_ids), Site.lat.is_not(None), Site.lon.is_not(None))
    )
    places = {row.id: (row.lat, row.lon) for row in rows}
    return [places[i] for i in order_ids if i in places]


def route_geometry(session: Session, technician_id: int, order_ids: list[int]) -> dict[str, Any]:
    """A technician's way from home through the orders' sites, and the way home, along the roads.

    ``{"source": "road", "route": [[lat, lon], ...], "home": [[lat, lon], ...], "distance_m",
    "duration_s"}``; ``"source": "straight"`` (and nothing to draw) when no router is configured
    or it failed, so the map draws straight lines. 404 for an unknown technician.
    """
    tech = session.get(Technician, technician_id)
    if tech is None:
        raise NotFound(N_("Technician %(technician_id)s not found."), params={"technician_id": technician_id})
    router = configured_router()
    answer: dict[str, Any] = {"technician_id": technician_id, "source": "straight"}
    stops = _stop_points(session, order_ids[:MAX_STOPS])
    if router is None or not stops:
        return answer
    home = (tech.home_lat, tech.home_lon)
    try:
        out = router.route([home, *stops])
        back = router.route([stops[-1], home])
    except OsrmError as exc:
        current_app.logger.warning("road router failed; straight lines drawn: %s", exc)
        return answer | {"error": "road_router_failed"}
    return answer | {
        "source": "road",
        "route": [[round(lat, 6), round(lon, 6)] for lat, lon in out.coordinates],
        "home": [[round(lat, 6), round(lon, 6)] for lat, lon in back.coordinates],
        "distance_m": round(out.distance_m + back.distance_m),
        "duration_s": round(out.duration_s + back.duration_s),
    }
