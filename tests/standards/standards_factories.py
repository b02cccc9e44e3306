"""Test data builders for the standards tests (imported by the test modules)."""

from __future__ import annotations

from datetime import datetime

from standards import LineFacts, OrderFacts


def make_order(**overrides: object) -> OrderFacts:
    """A valid residential IPTV-over-ADSL install order, adjusted by keyword."""
    fields: dict[str, object] = {
        "kind": "install",
        "product": "iptv_adsl",
        "priority": "P3",
        "lat": 31.86,  # Hefei
        "lon": 117.28,
        "appointment_start": datetime(2026, 3, 2, 9, 0),
        "appointment_end": datetime(2026, 3, 2, 11, 0),
        "customer_tier": None,
    }
    fields.update(overrides)
    return OrderFacts(**fields)  # type: ignore[arg-type]


def adsl_line(route_length_m: float | None = 1200.0) -> LineFacts:
    return LineFacts(
        access_type="adsl", route_length_m=route_length_m, switch_id=None, switch_occupancy_pct=None
    )


def lan_line(
    occupancy_pct: float | None = 50.0,
    uplink_raised: bool = False,
    switch_id: str | None = "SW-HF-0001",
) -> LineFacts:
    return LineFacts(
        access_type="lan",
        route_length_m=None,
        switch_id=switch_id,
        switch_occupancy_pct=occupancy_pct,
        uplink_raised=uplink_raised,
    )
