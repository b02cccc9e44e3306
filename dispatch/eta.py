"""The live ETA of a technician driving to an order.

Computed from the technician's last reported position (the phone's pings move
``Technician.last_lat/last_lon/last_seen_at``) with the travel-time model the
planner uses (:class:`dispatch.routing.matrix.HaversineMatrix`), or along the
roads when a road router is configured (:mod:`dispatch.roads`). Only while the
order is en route: on arrival (or before setting out) there is no ETA. A
position older than :data:`STALE_AFTER` gives no time, and says so, rather than
pretending.

``workorders.reads`` must not import dispatch, so the app factory hands it
:func:`eta_for` (``reads.use_live_eta``), for every process that builds the app.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.clock import now
from dispatch.roads import road_travel
from dispatch.routing.matrix import HaversineMatrix
from technicians.models import Technician
from workorders.lifecycle import State
from workorders.models import WorkOrder

# A position older than this is not a position to promise a time from.
STALE_AFTER = timedelta(minutes=15)
NO_RECENT_POSITION = "no_recent_position"
NO_POSITION = "no_position"


def eta_for(session: Session, order: WorkOrder, at: datetime | None = None) -> dict[str, Any] | None:
    """The technician's expected arrival at the order's site, or None when not en route.

    Returns ``{"eta", "travel_s", "distance_m", "position_at", "computed_at", "note"}``;
    ``eta`` is None and ``note`` names why when there is no recent position.
    """
    if order.state != State.EN_ROUTE or order.technician_id is None:
        return None
    at = at or now()
    tech = session.get(Technician, order.technician_id)
    site = order.site
    base: dict[str, Any] = {
        "eta": None,
        "travel_s": None,
        "distance_m": None,
        "position_at": tech.last_seen_at if tech else None,
        "computed_at": at,
        "note": None,
    }
    if tech is None or tech.last_seen_at is None or tech.last_lat is None or tech.last_lon is None:
        return base | {"note": NO_POSITION}
    if at - tech.last_seen_at > STALE_AFTER:
        return base | {"note": NO_RECENT_POSITION}
    if site.lat is None or site.lon is None:
        return base | {"note": NO_POSITION}
    here, there = (tech.last_lat, tech.last_lon), (site.lat, site.lon)
    # Along the roads when a road router is configured (dispatch.roads), else the planner's estimate.
    seconds, metres = road_travel(here, there) or HaversineMatrix().travel(here, there)
    # Counted from when the position was taken; a technician cannot arrive in the past.
    eta = max(tech.last_seen_at + timedelta(seconds=seconds), at)
    return base | {"eta": eta.replace(microsecond=0), "travel_s": seconds, "distance_m": round(metres)}
