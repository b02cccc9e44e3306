"""Where the technician is: GPS pings from the phone, which move the dispatcher's map marker."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.actor import Actor
from core.clock import now
from technicians.models import LocationPing, Technician


def record_pings(session: Session, actor: Actor, data: dict) -> dict[str, Any]:
    """Store a batch of GPS pings (a resent ping is skipped) and move the map marker."""
    pings = sorted(data["pings"], key=lambda p: p["recorded_at"])
    known = set(
        session.scalars(
            select(LocationPing.recorded_at).where(
                LocationPing.technician_id == actor.technician_id,
                LocationPing.recorded_at.between(pings[0]["recorded_at"], pings[-1]["recorded_at"]),
            )
        )
    )
    received, accepted = now(), 0
    for ping in pings:
        if ping["recorded_at"] in known:
            continue
        known.add(ping["recorded_at"])
        session.add(
            LocationPing(
                technician_id=actor.technician_id,
                lat=ping["lat"],
                lon=ping["lon"],
                accuracy_m=ping.get("accuracy_m"),
                recorded_at=ping["recorded_at"],
                received_at=received,
            )
        )
        accepted += 1
    tech = session.get(Technician, actor.technician_id)
    newest = pings[-1]
    _move_marker(tech, newest["lat"], newest["lon"], newest["recorded_at"])
    session.flush()
    return {
        "accepted": accepted,
        "duplicates": len(pings) - accepted,
        "last_lat": tech.last_lat,
        "last_lon": tech.last_lon,
        "last_seen_at": tech.last_seen_at,
    }


def note_position(
    session: Session, actor: Actor, lat: float, lon: float, accuracy_m: float | None, recorded_at: datetime
) -> None:
    """Keep the GPS fix a status change carried as a ping, and move the marker."""
    session.add(
        LocationPing(
            technician_id=actor.technician_id,
            lat=lat,
            lon=lon,
            accuracy_m=accuracy_m,
            recorded_at=recorded_at,
            received_at=now(),
        )
    )
    _move_marker(session.get(Technician, actor.technician_id), lat, lon, recorded_at)


def _move_marker(tech: Technician, lat: float, lon: float, recorded_at: datetime) -> None:
    # A ping older than the marker (sent late from a queue) does not move it back.
    if tech.last_seen_at is None or recorded_at >= tech.last_seen_at:
        tech.last_lat, tech.last_lon, tech.last_seen_at = lat, lon, recorded_at
