"""The dispatcher's board: which open orders show on a day, their SLA risk, routes with times.

Plain queries for the console's feeds (rows, not ORM objects, where thousands
are read) and the route order every surface shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatch.models import DispatchPlan
from dispatch.planning import seconds_of_day
from dispatch.routing.matrix import HaversineMatrix
from dispatch.routing.timing import HeldStop, time_held_route
from dispatch.stock_planning import nearest_depot
from technicians.models import Technician
from technicians.service import active_technicians
from technicians.stock import list_depots
from workorders import lifecycle
from workorders.models import Site, WorkOrder

DEFAULT_AT_RISK_S = 3600
DEFAULT_RESPONSE_AT_RISK_S = 900


def on_board(order: Any, day: date) -> bool:
    """Whether an open order belongs on `day`'s board: nothing booked or planned for a later day.

    Orders whose appointment or plan has passed stay on the board: they still need someone.
    """
    if order.appointment_start is not None and order.appointment_start.date() > day:
        return False
    return order.planned_start is None or order.planned_start.date() <= day


# What the board shows of an order: plain rows, not ORM objects (2,000 of them load
# several times faster this way). `sla_risk` and `on_board` read them like orders.
# What `sla_risk` reads of an order: its clocks and when it is planned.
RISK_COLUMNS = (
    WorkOrder.id,
    WorkOrder.received_at,
    WorkOrder.response_deadline,
    WorkOrder.responded_at,
    WorkOrder.restore_deadline,
    WorkOrder.deadline_source,
    WorkOrder.sla_clock,
    WorkOrder.completed_at,
    WorkOrder.planned_start,
    WorkOrder.duration_min,
)
BOARD_COLUMNS = (
    *RISK_COLUMNS,
    WorkOrder.code,
    WorkOrder.kind,
    WorkOrder.source,
    WorkOrder.product,
    WorkOrder.priority,
    WorkOrder.state,
    WorkOrder.technician_id,
    WorkOrder.second_technician_id,
    WorkOrder.planned_sequence,
    WorkOrder.blocked,
    WorkOrder.appointment_start,
    WorkOrder.updated_at,
    Site.lat,
    Site.lon,
    Site.district,
)


def _board_select():
    return (
        select(*BOARD_COLUMNS)
        .join(Site, WorkOrder.site_id == Site.id)
        .where(Site.lat.is_not(None), Site.lon.is_not(None))
    )


def board_orders(session: Session, day: date) -> list[Any]:
    """Open orders with coordinates that belong on `day`'s board, as rows, by id."""
    stmt = (
        _board_select()
        .where(WorkOrder.state.in_(lifecycle.OPEN_STATES), WorkOrder.kind.not_in(lifecycle.NON_FIELD_KINDS))
        .order_by(WorkOrder.id)
    )
    return [row for row in session.execute(stmt) if on_board(row, day)]


def board_order(session: Session, order_id: int) -> Any | None:
    """One order as a board row (whatever its state), or None."""
    return session.execute(_board_select().where(WorkOrder.id == order_id)).first()


def board_changes(session: Session, day: date, since: datetime) -> tuple[list[Any], list[int]]:
    """Orders changed since `since`: rows still on the board, and ids that left it."""
    stmt = _board_select().where(WorkOrder.updated_at >= since).order_by(WorkOrder.id)
    changed, gone = [], []
    for row in session.execute(stmt):
        if (
            row.state in lifecycle.OPEN_STATES
            and row.kind not in lifecycle.NON_FIELD_KINDS
            and on_board(row, day)
        ):
            changed.append(row)
        else:
            gone.append(row.id)
    return changed, gone


def sla_risk(
    order: Any,
    at: datetime,
    at_risk_s: int = DEFAULT_AT_RISK_S,
    response_at_risk_s: int = DEFAULT_RESPONSE_AT_RISK_S,
) -> str:
    """'breached', 'at_risk' or 'fine' against the response and restore deadlines.

    At risk: the restore deadline is less than `at_risk_s` away, an unanswered
    order's response deadline less than `response_at_risk_s` away, or the
    planned visit ends after the restore deadline.
    """
    from workorders.service import sla_status

    sla = sla_status(order, at)
    if sla["restore_breached"] or sla["response_breached"]:
        return "breached"
    restore_left_s = (sla["restore_deadline"] - at).total_seconds()
    if restore_left_s < at_risk_s and order.completed_at is None:
        return "at_risk"
    if order.responded_at is None and (order.response_deadline - at).total_seconds() < response_at_risk_s:
        return "at_risk"
    if (
        order.planned_start is not None
        and order.planned_start + timedelta(minutes=order.duration_min or 0) > sla["restore_deadline"]
    ):
        return "at_risk"
    return "fine"


def technician_colour(technician_id: int) -> str:
    """A stable, well-spread colour per technician (golden-angle hues), as #rrggbb."""
    import colorsys

    hue = (technician_id * 137.508) % 360 / 360
    lightness = (0.38, 0.46, 0.32)[technician_id % 3]
    red, green, blue = colorsys.hls_to_rgb(hue, lightness, 0.75)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def _route_key(order: Any) -> tuple:
    """Route order as the technician's phone shows it: planned sequence, then time."""
    return (
        order.planned_sequence is None,
        order.planned_sequence or 0,
        order.planned_start or datetime.max,
        order.id,
    )


def crew_members(order: Any) -> tuple[int, ...]:
    """The technicians whose day holds the order: its lead (``technician_id``) and, for a
    two-technician job, the second, who is busy at the same planned time."""
    members = (order.technician_id,) if order.technician_id is not None else ()
    second = getattr(order, "second_technician_id", None)
    if second is not None and second not in members:
        members += (second,)
    return members


def held_sequence(technician_id: int, orders: Iterable[Any]) -> list[Any]:
    """A technician's held day from orders that are theirs: the ones they lead in route
    order (``planned_sequence``, their own), and the crew visits they are second on
    (whose sequence is the lead's) put in at their planned time. Work under way stays
    first; a crew visit comes before the first own visit planned after it starts."""
    orders = list(orders)  # read twice below: an iterator (a query's result) would be spent
    own = sorted((o for o in orders if o.technician_id == technician_id), key=_route_key)
    crew = sorted(
        (o for o in orders if o.technician_id != technician_id),
        key=lambda o: (not lifecycle.is_under_way(o), o.planned_start or datetime.max, o.id),
    )
    held: list[Any] = []
    for order in own:
        while crew and (
            lifecycle.is_under_way(crew[0])
            or (
                not lifecycle.is_under_way(order)
                and crew[0].planned_start is not None
                and (order.planned_start is None or crew[0].planned_start < order.planned_start)
            )
        ):
            held.append(crew.pop(0))
        held.append(order)
    return held + crew


def route_orders(
    session: Session, technician_id: int, day: date, include_done: bool = False
) -> list[WorkOrder]:
    """A technician's orders for `day` in route order (open ones; finished ones too if asked).

    This is where every held route is read (hand assignment, candidates, urgent insertion,
    disruptions): a two-technician job is in both its technicians' days, the second's at its
    planned time (:func:`held_sequence`), so nobody books the second member over it."""
    day_start = datetime.combine(day, time.min)
    day_end = datetime.combine(day, time.max)
    states = lifecycle.ROUTE_STATES | (lifecycle.DONE_STATES if include_done else frozenset())
    stmt = select(WorkOrder).where(
        or_(WorkOrder.technician_id == technician_id, WorkOrder.second_technician_id == technician_id),
        WorkOrder.state.in_(states),
    )
    orders = []
    for order in session.scalars(stmt):
        if order.planned_start is None:
            if order.state in lifecycle.ROUTE_STATES and order.technician_id == technician_id:
                orders.append(order)
        elif day_start <= order.planned_start <= day_end:
            orders.append(order)
    return held_sequence(technician_id, orders)


def renumber_route(session: Session, technician_id: int | None, day: date) -> None:
    """Close the gaps in a technician's planned sequence after an order left the route
    (the orders they lead: a crew visit's sequence is its lead's)."""
    if technician_id is None:
        return
    own = [o for o in route_orders(session, technician_id, day) if o.technician_id == technician_id]
    for sequence, order in enumerate(own, start=1):
        if order.planned_sequence != sequence:
            order.planned_sequence = sequence


ROUTE_COLUMNS = (
    WorkOrder.id,
    WorkOrder.code,
    WorkOrder.state,
    WorkOrder.priority,
    WorkOrder.technician_id,
    WorkOrder.second_technician_id,
    WorkOrder.planned_start,
    WorkOrder.planned_sequence,
    WorkOrder.duration_min,
    Site.lat,
    Site.lon,
)


def day_routes(session: Session, day: date) -> list[dict[str, Any]]:
    """Every technician's route for `day` with times for the timeline.

    Times come from the newest applied plan whose route for the technician
    still lists exactly the orders they have; otherwise they are estimated
    (:mod:`dispatch.routing.timing`) from the planned starts, the orders'
    durations and straight-line travel.
    """
    day_start = datetime.combine(day, time.min)
    techs = active_technicians(session)
    by_tech = _route_rows(session, day, [t.id for t in techs])
    latest_route = _latest_applied_routes(session, day)
    matrix = HaversineMatrix()
    depots = list_depots(session) if any(r.get("restocks") for r in latest_route.values()) else []
    routes = []
    for tech in techs:
        orders = held_sequence(tech.id, by_tech[tech.id])
        if not orders:
            continue
        planned_route = latest_route.get(tech.id)
        if planned_route and [s["visit_id"] for s in planned_route["stops"]] == [o.id for o in orders]:
            timing = [
                (s["arrival_s"], s["start_s"], s["end_s"], s["travel_s"]) for s in planned_route["stops"]
            ]
            lunch_s, end_s = planned_route.get("lunch_start_s"), planned_route["end_s"]
            source = "plan"
            restocks = _depot_stops(planned_route, nearest_depot(depots, tech.home_lat, tech.home_lon))
        else:
            restocks = []
            timing, lunch_s, end_s = _estimate(tech, orders, day_start, matrix)
            source = "estimate"
        stops = [
            {
                "order_id": o.id,
                "code": o.code,
                "sequence": seq,
                "state": o.state,
                "priority": o.priority,
                "lat": round(o.lat, 5),
                "lon": round(o.lon, 5),
                "arrival_s": arrival,
                "start_s": start,
                "end_s": end,
                "travel_s": travel,
            }
            for seq, (o, (arrival, start, end, travel)) in enumerate(
                zip(orders, timing, strict=True), start=1
            )
        ]
        routes.append(
            {
                "technician_id": tech.id,
                "source": source,
                "stops": stops,
                "lunch_start_s": lunch_s,
                "lunch_duration_s": (tech.lunch_duration_min or 0) * 60,
                "end_s": end_s,
                "restocks": restocks,
            }
        )
    return routes


def _depot_stops(route: dict, depot: Any) -> list[dict[str, Any]]:
    """The plan's depot stops of a route, placed at the technician's depot, each naming
    the order it comes before (None: after the last)."""
    if depot is None:
        return []
    stops = route["stops"]
    return [
        {
            "depot": depot.name,
            "lat": round(depot.lat, 5),
            "lon": round(depot.lon, 5),
            "arrival_s": stop["arrival_s"],
            "end_s": stop["end_s"],
            "before_order_id": next((s["visit_id"] for s in stops if s["start_s"] >= stop["end_s"]), None),
        }
        for stop in route.get("restocks") or []
    ]


def _route_rows(session: Session, day: date, technician_ids: list[int]) -> dict[int, list[Any]]:
    """The rows of each technician's route on ``day`` (assigned, under way, or done that day;
    a crew visit in both its technicians')."""
    by_tech: dict[int, list[Any]] = {tid: [] for tid in technician_ids}
    stmt = (
        select(*ROUTE_COLUMNS)
        .join(Site, WorkOrder.site_id == Site.id)
        .where(
            WorkOrder.technician_id.is_not(None),
            WorkOrder.state.in_(lifecycle.ROUTE_STATES | lifecycle.DONE_STATES),
        )
    )
    for row in session.execute(stmt):
        if row.lat is None or row.lon is None:
            continue
        if row.planned_start is None and row.state not in lifecycle.ROUTE_STATES:
            continue
        if row.planned_start is not None and row.planned_start.date() != day:
            continue
        for member in crew_members(row):  # a crew visit is on both its technicians' timelines
            if member in by_tech:
                by_tech[member].append(row)
    return by_tech


def _latest_applied_routes(session: Session, day: date) -> dict[int, dict]:
    """Technician id -> their route in the newest applied plan of ``day``."""
    latest_route: dict[int, dict] = {}
    plans = session.scalars(
        select(DispatchPlan)
        .where(DispatchPlan.day == day, DispatchPlan.status == "applied")
        .order_by(DispatchPlan.decided_at.desc(), DispatchPlan.id.desc())
    )
    for record in plans:
        for route in record.result.get("routes", []):
            latest_route.setdefault(route["technician_id"], route)
    return latest_route


def _estimate(tech: Technician, orders: list[Any], day_start: datetime, matrix: HaversineMatrix):
    """(arrival, start, end, travel) per stop, lunch start and return, for a route with no plan times."""
    held = time_held_route(
        (tech.home_lat, tech.home_lon),
        seconds_of_day(tech.shift_start) or 0,
        [
            HeldStop(
                (o.lat, o.lon),
                None if o.planned_start is None else int((o.planned_start - day_start).total_seconds()),
                max(o.duration_min or 0, 1) * 60,
            )
            for o in orders
        ],
        seconds_of_day(tech.lunch_start),
        (tech.lunch_duration_min or 0) * 60,
        matrix,
    )
    timing = [(t.arrival_s, t.start_s, t.end_s, t.travel_s) for t in held.stops]
    return timing, held.lunch_start_s, held.end_s
