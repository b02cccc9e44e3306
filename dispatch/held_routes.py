"""Held routes as the optimizer sees them: each technician's applied day, in sequence,
with the planned start of every stop.

A two-technician job is held in both its technicians' routes (the lead's and the
second's, :func:`dispatch.board.crew_members`), at its planned start: the insertion
model keeps a crew visit (and any visit linked to another route) at that time
(:func:`dispatch.routing.constraints.held_in_place`), so an order slotted into the
second member's day goes around the crew job, never over it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime, time
from typing import Any

from dispatch.board import crew_members, held_sequence
from dispatch.routing.problem import PlannedStop, TechnicianRoute


def planned_start_s(order: Any, day: date) -> int:
    """The order's planned start in seconds from ``day``'s midnight (0 when it has none that day)."""
    if order.planned_start is None or order.planned_start.date() != day:
        return 0
    return int((order.planned_start - datetime.combine(day, time.min)).total_seconds())


def held_route(technician_id: int, orders: Iterable[Any], day: date) -> TechnicianRoute:
    """A technician's held orders (already in route order) as the solver's route: the
    sequence with each planned start; the other times are the solver's to compute."""
    stops = []
    for order in orders:
        start_s = planned_start_s(order, day)
        stops.append(PlannedStop(order.id, start_s, start_s, start_s, 0, 0.0))
    return TechnicianRoute(technician_id, stops, None, 0.0, 0, 0, 0)


def held_routes(orders: Iterable[Any], technician_ids: Collection[int], day: date) -> list[TechnicianRoute]:
    """The held routes of ``technician_ids`` from the day's routed orders: each order in
    its lead's route and, for a crew job, its second's too (see the module's note)."""
    by_tech: dict[int, list[Any]] = {}
    for order in orders:
        for member in crew_members(order):
            if member in technician_ids:
                by_tech.setdefault(member, []).append(order)
    return [held_route(tech_id, held_sequence(tech_id, held), day) for tech_id, held in by_tech.items()]
