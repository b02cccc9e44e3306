"""The dispatcher's hand on the day: assign, move, unassign and cancel one order,
insert an urgent one, and the candidates for an order with how each fits.

Each change slots the order into a technician's held route with
:mod:`dispatch.routing.insertion` and stores the new timing as a plan.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, Invalid, NotFound
from dispatch.board import renumber_route, route_orders
from dispatch.held_routes import held_route
from dispatch.models import DispatchPlan
from dispatch.planning import (
    plan_clock,
    store_plan,
    technician_specs,
    visit_spec,
)
from dispatch.routing.problem import (
    REASON_MESSAGES,
    Plan,
    Problem,
    TechnicianRoute,
    VisitSpec,
)
from dispatch.stock_planning import with_stock
from technicians.models import Technician
from technicians.service import active_technicians
from technicians.shifts import skills_on, working_on
from workorders import lifecycle
from workorders import service as wo_service
from workorders.lifecycle import State
from workorders.models import WorkOrder
from workorders.skills import check_skills

# The refusal when an order does not fit one technician's day, by the insertion's
# reason (message ids: the error handler translates them with the params given).
DOES_NOT_FIT_MESSAGES = {
    "window_unreachable": N_(
        "%(name)s cannot reach the appointment window within the shift: agree a new window "
        "with the customer or choose another technician."
    ),
    "day_full": N_("%(name)s's day is full: the order does not fit before the shift ends."),
    "pinned_technician_unavailable": N_("%(name)s is not on shift or cannot fit the order into the shift."),
    "window_passed": N_("The appointment window of %(code)s has passed: agree a new one with the customer."),
}


def _one_route_plan(technician_id: int, orders: list[WorkOrder], day: date) -> Plan:
    """The plan a technician is following now, as the solver's Plan: the sequence, and
    each stop's planned start (what holds a crew visit, or a visit linked to another
    route, in place: :func:`dispatch.routing.constraints.held_in_place`)."""
    return Plan([held_route(technician_id, orders, day)], [], 0, 0.0, 0, 0.0, "optimized")


def _placeable_visit(order: WorkOrder, day: date) -> VisitSpec:
    """The order as a free visit (not held to its current technician or first place)."""
    return replace(visit_spec(order, day), pinned_technician=None, pinned_first=False)


def assign_order(
    session: Session, actor: Actor, order: WorkOrder, technician_id: int, day: date, time_limit_s: float = 1.0
) -> DispatchPlan:
    """Assign an order to a technician (or move it from another), at the best place in their day.

    The order is slotted into the technician's route without reordering it,
    the route timed from now and from where the technician is. Refused, with
    nothing changed, when the technician lacks a skill (409 skills-missing),
    the lifecycle does not allow it, or the order does not fit in the shift
    without dropping another stop (409 does-not-fit, with the solver's reason).
    The technician's new timing is stored as an applied plan of kind "manual".
    """
    tech = session.get(Technician, technician_id)
    if tech is None or not tech.active:
        raise Invalid(
            N_("No such active technician."), errors={"technician_id": [N_("No such active technician.")]}
        )
    previous = order.technician_id if lifecycle.in_route(order) else None
    _check_assignable(session, actor, order, tech, previous, day)
    at = now()
    option = _best_place(session, order, tech, day, at)
    _write_route(session, actor, order, tech, option.route, day, previous)
    result = Plan(
        [option.route],
        [],
        option.cost,
        option.route.travel_m,
        sum(1 for s in option.route.stops if s.late_s),
        0.0,
        "optimized",
    )
    return store_plan(
        session,
        actor,
        result,
        "plan_manual",
        {"order_id": order.id, "technician_id": tech.id, "from_technician_id": previous},
        day=day,
        kind="manual",
        status="applied",
        technician_ids=[tech.id],
        order_versions={},
        decided_by=actor.user_id,
        decided_at=at,
        now_s=plan_clock(day, at),
    )


def _check_assignable(
    session: Session, actor: Actor, order: WorkOrder, tech: Technician, previous: int | None, day: date
) -> None:
    """Refuse what no slot can fix: the same technician, missing skills (certificates valid
    on the day), the lifecycle, no coordinates, a two-technician job (the day plan places
    those, into both technicians' routes at one start)."""
    if order.crew_size > 1:
        raise Conflict(
            N_("%(code)s needs two technicians at once: plan the day to place it."),
            slug="crew-needs-plan",
            params={"code": order.code},
        )
    if previous == tech.id:
        raise Conflict(
            N_("%(code)s is already with %(name)s."),
            slug="already-assigned",
            params={"code": order.code, "name": tech.name},
            technician_id=tech.id,
        )
    check_skills(order, tech, skills_on(session, [tech], day)[tech.id])
    if order.state == State.ASSIGNED:
        lifecycle.check(State.ASSIGNED, State.SCHEDULED, actor.role, order.kind)
    else:
        lifecycle.check(order.state, State.ASSIGNED, actor.role, order.kind)
    if order.site.lat is None or order.site.lon is None:
        raise Conflict(N_("%(code)s has no coordinates."), slug="no-coordinates", params={"code": order.code})


def _best_place(session: Session, order: WorkOrder, tech: Technician, day: date, at: datetime):
    """The cheapest place for the order in the technician's held route, or 409 does-not-fit."""
    from dispatch.routing.insertion import Insertion

    current = [o for o in route_orders(session, tech.id, day) if o.site.lat is not None]
    problem = with_stock(
        session,
        Problem(
            technicians=technician_specs(session, [tech], day, at),
            visits=[visit_spec(o, day) for o in current],
        ),
        current,
    )
    option = Insertion(problem, _one_route_plan(tech.id, current, day), _placeable_visit(order, day)).options(
        problem.technicians
    )[0]
    if not option.fits:
        zh, en = REASON_MESSAGES[option.reason]
        raise Conflict(
            DOES_NOT_FIT_MESSAGES.get(option.reason, N_("%(code)s does not fit into %(name)s's day.")),
            slug="does-not-fit",
            params={"code": order.code, "name": tech.name},
            reason=option.reason,
            message_zh=zh,
            message_en=en,
            technician_id=tech.id,
        )
    return option


def _write_route(
    session: Session,
    actor: Actor,
    order: WorkOrder,
    tech: Technician,
    route: TechnicianRoute,
    day: date,
    previous: int | None,
) -> None:
    """Move the order to the technician and write the route's new sequence and times."""
    day_start = datetime.combine(day, time.min)
    stop_of = {s.visit_id: s for s in route.stops}
    planned = day_start + timedelta(seconds=stop_of[order.id].start_s)
    reason = "moved in the console" if previous else "assigned in the console"
    if order.state == State.ASSIGNED:
        wo_service.transition(session, actor, order, State.SCHEDULED, reason=reason)
    wo_service.transition(
        session, actor, order, State.ASSIGNED, technician_id=tech.id, planned_start=planned, reason=reason
    )
    sequence = 0
    for stop in route.stops:
        stop_order = order if stop.visit_id == order.id else session.get(WorkOrder, stop.visit_id)
        if stop_order.technician_id != tech.id:
            continue  # a crew visit the technician is second on: held at its time, its lead's to move
        sequence += 1
        stop_order.planned_sequence = sequence
        if not lifecycle.is_under_way(stop_order):
            stop_order.planned_start = day_start + timedelta(seconds=stop.start_s)
    renumber_route(session, previous, day)
    renumber_route(session, tech.id, day)  # stops the day can no longer reach stay, after the route


def unassign_order(
    session: Session, actor: Actor, order: WorkOrder, day: date, reason: str | None = None
) -> WorkOrder:
    """Take an order back from its technician (back to validated, out of any route)."""
    technician_id = order.technician_id
    wo_service.transition(
        session,
        actor,
        order,
        State.VALIDATED,
        reason=reason or "unassigned in the console",
        back_to_pool=True,
    )
    order.planned_start, order.planned_sequence = None, None
    order.second_technician_id = None  # a crew's second leaves with the lead
    renumber_route(session, technician_id, day)
    return order


def cancel_order(session: Session, actor: Actor, order: WorkOrder, day: date, reason: str) -> WorkOrder:
    """Cancel an order with the reason; its technician's route closes up."""
    technician_id = order.technician_id
    wo_service.transition(session, actor, order, State.CANCELLED, reason=reason)
    renumber_route(session, technician_id, day)
    return order


def current_day(
    session: Session, day: date, at: datetime | None = None, on_call: bool = False
) -> tuple[Problem, Plan, dict[str, int]]:
    """The day as applied, from the clock ``at``: every active technician and
    the sequence they hold now (times are the solver's to compute), with the
    version of every order in a route. Technicians off that day on the roster
    (leave, sick, a day off) are left out: nothing is inserted into their day.
    ``on_call``: a technician on call works to the end of the duty (an urgent fault)."""
    techs = working_on(session, active_technicians(session), day)
    visits: list[VisitSpec] = []
    routes: list[TechnicianRoute] = []
    versions: dict[str, int] = {}
    routed: list[WorkOrder] = []
    for tech in techs:
        orders = [
            o
            for o in route_orders(session, tech.id, day)
            if o.site.lat is not None and o.site.lon is not None
        ]
        # A two-technician job is in both its technicians' routes, once in the problem.
        orders_new = [o for o in orders if o.id not in versions]
        routed.extend(orders_new)
        visits.extend(visit_spec(o, day) for o in orders_new)
        routes.extend(_one_route_plan(tech.id, orders, day).routes)
        versions.update({str(o.id): o.version for o in orders})
    specs = technician_specs(session, techs, day, at or now(), on_call=on_call)
    # nothing is inserted beyond a van's stock
    problem = with_stock(session, Problem(technicians=specs, visits=visits), routed)
    return problem, Plan(routes, [], 0, 0.0, 0, 0.0, "optimized"), versions


def propose_urgent(
    session: Session,
    actor: Actor,
    day: date,
    order_id: int,
    time_limit_s: float = 5.0,
    progress: Callable[[dict], None] | None = None,
    job_id: int | None = None,
) -> DispatchPlan:
    """Slot one urgent order into the applied day, keeping every route's sequence.

    The day is taken from now: each technician leaves from where they are,
    no earlier than now. When no qualified technician has room, lower-priority
    visits are displaced (see :mod:`dispatch.routing.insertion`). Stores a proposed
    plan of kind "urgent" holding only the route that changes (re-timed whole),
    the displaced orders as unassigned, and in ``stats`` the visits delayed;
    when the order fits nowhere the plan lists it as unassigned with the
    reason and cannot be applied.
    """
    from dispatch.routing.insertion import insert_urgent

    order = session.get(WorkOrder, order_id)
    if order is None:
        raise NotFound(N_("Work order %(order_id)s not found."), params={"order_id": order_id})
    at = now()
    if not lifecycle.is_urgent(order, at):
        raise Conflict(
            N_(
                "Only P1 faults and orders due for a response within the hour are inserted "
                "urgently; plan the day for %(code)s."
            ),
            slug="not-urgent",
            params={"code": order.code},
        )
    if not lifecycle.can_insert_urgently(order, at):
        raise Conflict(
            N_("Only an unassigned, unblocked order can be inserted; %(code)s cannot."),
            slug="not-insertable",
            params={"code": order.code},
            current_state=order.state,
        )
    if progress:
        progress({"phase": "building", "percent": 10, "best_cost": None})
    problem, plan, versions = current_day(session, day, at, on_call=True)
    if progress:
        progress({"phase": "inserting", "percent": 30, "best_cost": None})
    result = insert_urgent(
        problem, plan, _placeable_visit(order, day), time_limit_s=time_limit_s, displace=True
    )
    changed = set(result.stats.get("changed_routes", []))
    result.routes = [r for r in result.routes if r.technician_id in changed]
    touched = {str(s.visit_id) for r in result.routes for s in r.stops}
    touched |= {str(u.visit_id) for u in result.unassigned}
    order_versions = {k: v for k, v in versions.items() if k in touched}
    order_versions[str(order.id)] = order.version
    placed = bool(changed)
    return store_plan(
        session,
        actor,
        result,
        "plan_urgent_computed",
        {"order_id": order.id, "placed": placed, "displaced": result.stats.get("displaced", [])},
        day=day,
        kind="urgent",
        status="proposed",
        job_id=job_id,
        order_versions=order_versions,
        technician_ids=sorted(changed),
        now_s=plan_clock(day, at),
    )


CANDIDATES_EVALUATED = 30


def assignment_candidates(
    session: Session, order: WorkOrder, day: date, at: datetime | None = None
) -> list[dict[str, Any]]:
    """Every active technician's fit for the order, best first: whether it
    fits their day as it stands (and if not, why), when it would start, the
    extra travel and the time left in the shift after it. Only the
    ``CANDIDATES_EVALUATED`` qualified technicians working nearest are worked
    out (each is a model of their day); the others are listed as not evaluated."""
    from dispatch.routing.insertion import Insertion, InsertionOption, may_do

    at = at or now()
    problem, plan, _versions = current_day(session, day, at)
    visit = _placeable_visit(order, day)
    insertion = Insertion(problem, plan, visit)
    near = insertion.qualified()[:CANDIDATES_EVALUATED]
    near_ids = {t.id for t in near}
    options = insertion.options(near) + [
        InsertionOption(t.id, reason="not_evaluated" if may_do(t, visit) else "no_skilled_technician")
        for t in problem.technicians
        if t.id not in near_ids
    ]
    stops = {r.technician_id: len(r.stops) for r in plan.routes}
    day_start = datetime.combine(day, time.min)
    return [
        {
            "technician_id": option.technician_id,
            "fits": option.fits,
            "reason": option.reason,
            "start": None if option.start_s is None else day_start + timedelta(seconds=option.start_s),
            "extra_travel_m": round(option.extra_travel_m) if option.fits else None,
            "free_min": None if option.free_s is None else option.free_s // 60,
            "stops": stops.get(option.technician_id, 0),
            "delayed": len(option.delayed),
        }
        for option in options
    ]
