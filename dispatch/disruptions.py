"""Disruptions of a day under way, each one call, each a re-plan to review.

A plan made at 7:00 is wrong by 9:00. Each disruption here records what
happened (when it is a fact about an order) and stores a proposal of kind
"replan" that keeps what is done and under way, with the order versions it
saw (:func:`dispatch.plans.apply_plan` applies it whole or refuses with 409)
and its diff (:mod:`dispatch.diffs`) in ``result["diff"]``:

* **technician unavailable** (ill, van broken): their stops not started go to
  others, or are listed unplaced with the reason. A visit they are driving to
  is released at once (en route -> assigned, still theirs until the re-plan is
  applied); a visit they are on site at stays with them (they are there: the
  dispatcher records a revisit to release it). The technician stays active:
  marking them off for later days is the technicians' roster, not this.
* **no-show** (customer not home): the visit under way is closed as one
  (-> needs revisit, the restore clock paused as "customer absent", as the
  SLA rules say), the technician's day is re-timed from that site, and a
  revisit slot is suggested: the cheapest place on a later day's held routes.
* **overrun**: the visit on site takes longer; the technician's remaining day
  is re-timed, and stops that would now breach (or no longer fit) move to a
  technician with room; those nobody can take stay, late.
* **emergency** (a P1, an enterprise circuit down): inserted with the least
  disruption (:func:`dispatch.routing.insertion.insert_urgent`), lower-priority
  stops displaced only when nobody has room, and a displaced stop placed
  again with another technician when one has room.

Strategy: ``repair`` (the default: the touched visits inserted into the
others' held routes; nobody else's sequence changes) or ``resolve`` (the rest
of the day solved again from now, warm-started); see :mod:`dispatch.routing.repair`
and ``python -m bench city --disruptions`` for how they compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, Invalid, NotFound
from dispatch.assignment import current_day
from dispatch.board import route_orders
from dispatch.diffs import clock, plan_diff, reason
from dispatch.models import DispatchPlan
from dispatch.planning import DAY_S, plan_clock, store_plan, visit_spec
from dispatch.routing.held import HeldDay, time_held
from dispatch.routing.matrix import HaversineMatrix
from dispatch.routing.problem import (
    Plan,
    Problem,
    TechnicianRoute,
    TechnicianSpec,
    Unassigned,
    VisitSpec,
    late_visits,
)
from technicians import roster_service
from technicians.models import Technician
from technicians.shift_rules import DAY_MIN
from workorders import lifecycle, sla
from workorders import service as wo_service
from workorders.lifecycle import State
from workorders.models import WorkOrder

KIND = "replan"
STRATEGIES = ("repair", "resolve")
DEFAULT_TIME_LIMIT_S = 3.0
REVISIT_DAYS_AHEAD = 7
REVISIT_CANDIDATES = 8


@dataclass
class Day:
    """The applied day from now: the problem, the held sequences, the orders in them."""

    day: date
    at: datetime
    problem: Problem
    plan: Plan
    versions: dict[str, int]
    orders: dict[int | str, WorkOrder]
    # The strategy that made the re-plan (a re-solve may fall back to repair).
    strategy_used: str = "repair"
    # Visits that would breach on their route, moved by the repair to someone in time.
    rescued: dict[int | str, int | str] = field(default_factory=dict)

    def tech(self, technician_id: int | str) -> TechnicianSpec:
        return next(t for t in self.problem.technicians if t.id == technician_id)

    def visit(self, visit_id: int | str) -> VisitSpec:
        return next(v for v in self.problem.visits if v.id == visit_id)

    def sequence(self, technician_id: int | str) -> list[VisitSpec]:
        route = self.plan.route_of(technician_id)
        return [self.visit(s.visit_id) for s in route.stops] if route is not None else []

    def held(self, technician_id: int | str) -> HeldDay:
        matrix = HaversineMatrix(area_type=self.problem.area_type)
        return time_held(self.tech(technician_id), self.sequence(technician_id), matrix)


def _load_day(session: Session, day: date, at: datetime, on_call: bool = False) -> Day:
    problem, plan, versions = current_day(session, day, at, on_call=on_call)
    orders = {int(k): session.get(WorkOrder, int(k)) for k in versions}
    return Day(day, at, problem, plan, versions, orders)


def _order(session: Session, order_id: int) -> WorkOrder:
    order = session.get(WorkOrder, order_id)
    if order is None:
        raise NotFound(N_("Work order %(order_id)s not found."), params={"order_id": order_id})
    return order


def _replan(
    ctx: Day,
    techs: list[TechnicianSpec],
    touched: list[VisitSpec],
    strategy: str,
    time_limit_s: float,
    urgent: tuple[int | str, ...] = (),
) -> tuple[dict[int | str, TechnicianRoute], list[Unassigned], float]:
    """The touched visits placed again among ``techs``: the changed routes, the
    visits left unplaced, the seconds it took. Visits held by a technician not
    in ``techs`` (work under way with one who is out) stay out of it."""
    from dispatch.routing.repair import repair, resolve, sequences

    ids = {t.id for t in techs} | {None}
    touched_ids = {v.id for v in touched}
    visits = [v for v in ctx.problem.visits if v.id in touched_ids or v.pinned_technician in ids]
    problem = replace(ctx.problem, technicians=techs, visits=visits)
    if strategy == "resolve":
        plan = resolve(problem, ctx.plan, touched, time_limit_s)
        held = sequences(ctx.plan)
        was_routed = {s.visit_id for r in ctx.plan.routes for s in r.stops} | touched_ids
        dropped = [u for u in plan.unassigned if u.visit_id in was_routed]
        p1 = {v.id for v in visits if v.priority == "P1"}
        if plan.status in ("optimized", "cancelled") and not any(u.visit_id in p1 for u in dropped):
            changed = {
                r.technician_id: r
                for r in plan.routes
                if [s.visit_id for s in r.stops] != held.get(r.technician_id, [])
            }
            ctx.strategy_used = "resolve"
            return changed, dropped, plan.solve_s
        # Out of time, or a P1 would be dropped: local repair instead (never a P1 dropped by a re-plan).
    result = repair(problem, ctx.plan, touched, time_limit_s, urgent=urgent)
    ctx.rescued = result.rescued
    routes = {r.technician_id: r for r in result.plan.routes if r.technician_id in result.changed}
    return routes, result.unplaced, result.solve_s


def _propose(
    session: Session,
    actor: Actor,
    ctx: Day,
    disruption: dict[str, Any],
    before: dict[int | str, HeldDay],
    after: dict[int | str, TechnicianRoute],
    unplaced: list[Unassigned],
    why: dict[str, str],
    why_visit: dict[int | str, str] | None = None,
    extra: dict[str, Any] | None = None,
    solve_s: float = 0.0,
) -> DispatchPlan:
    """Store the re-plan as a proposal of kind "replan" with its diff."""
    for tech_id in after:
        before.setdefault(tech_id, ctx.held(tech_id))
    routes = list(after.values())
    result = Plan(
        routes=routes,
        unassigned=unplaced,
        objective=0,
        travel_m=sum(r.travel_m for r in routes),
        breaches=late_visits(routes),
        solve_s=round(solve_s, 3),
        status="optimized",
        stats={"mode": "disruption", "strategy": ctx.strategy_used},
    )
    touched = {str(s.visit_id) for r in routes for s in r.stops} | {str(u.visit_id) for u in unplaced}
    versions = {k: v for k, v in ctx.versions.items() if k in touched}
    for order_id in touched - set(versions):
        order = session.get(WorkOrder, int(order_id))
        if order is not None:
            versions[order_id] = order.version
            ctx.orders.setdefault(order.id, order)
    why_visit = {**dict.fromkeys(ctx.rescued, "breach_moved"), **(why_visit or {})}
    diff = plan_diff(ctx.day, before, after, unplaced, ctx.orders, why, why_visit)
    diff.update(extra or {})
    record = store_plan(
        session,
        actor,
        result,
        f"disruption_{disruption['kind']}",
        {**disruption, "moved": len(diff["moved"]), "dropped": len(diff["dropped"])},
        day=ctx.day,
        kind=KIND,
        status="proposed",
        order_versions=versions,
        technician_ids=sorted(after, key=str),
        now_s=plan_clock(ctx.day, ctx.at),
    )
    disruption = {**disruption, "strategy_used": ctx.strategy_used}
    record.result = {**record.result, "disruption": disruption, "diff": diff}
    session.flush()
    return record


def technician_unavailable(
    session: Session,
    actor: Actor,
    technician_id: int,
    note: str | None = None,
    strategy: str = "repair",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> DispatchPlan:
    """A technician can work no more today: their visits not started go to
    others (or are listed unplaced with the reason); one on site stays, one
    driven to is released (see the module's note)."""
    tech = session.get(Technician, technician_id)
    if tech is None or not tech.active:
        message = N_("No such active technician.")
        raise Invalid(message, errors={"technician_id": [message]})
    at = now()
    day = at.date()
    for order in route_orders(session, tech.id, day):
        if order.state == State.EN_ROUTE:
            wo_service.transition(
                session, actor, order, State.ASSIGNED, reason="technician unavailable: visit released"
            )
    session.flush()
    ctx = _load_day(session, day, at)
    sequence = ctx.sequence(tech.id)
    stays = [v for v in sequence if v.pinned_first]
    crew_left = [v for v in sequence if not v.pinned_first and v.crew_size > 1]
    mates = _crew_mates(ctx, tech.id, crew_left)
    before = {t: ctx.held(t) for t in [tech.id, *mates]}
    _take_out(ctx, crew_left)
    touched = [v for v in sequence if not v.pinned_first and v.crew_size <= 1]
    others = [t for t in ctx.problem.technicians if t.id != tech.id]
    after, unplaced, solve_s = _replan(ctx, others, touched, strategy, time_limit_s)
    matrix = HaversineMatrix(area_type=ctx.problem.area_type)
    # Their route is stored even when empty: what they had planned after now is gone.
    after[tech.id] = time_held(ctx.tech(tech.id), stays, matrix).route
    # The crew jobs cannot go on with one person: listed unplaced, the mate's day re-timed without them.
    unplaced += [Unassigned(v.id, "crew_member_unavailable") for v in crew_left]
    for mate in mates:
        after.setdefault(mate, ctx.held(mate).route)
    disruption = {
        "kind": "technician_unavailable",
        "technician_id": tech.id,
        "note": note,
        "strategy": strategy,
    }
    _off_for_the_rest_of_the_day(session, actor, tech, at, note)
    plan = _propose(
        session,
        actor,
        ctx,
        disruption,
        before,
        after,
        unplaced,
        {"moved": "technician_unavailable", "retimed": "replanned", "added": "replanned"},
        {v.id: "technician_unavailable_on_site" for v in stays},
        extra={"kept_on_site": [v.id for v in stays]},
        solve_s=solve_s,
    )
    return plan


def _crew_mates(ctx: Day, technician_id: int, crews: list[VisitSpec]) -> list[int]:
    """The other members, working today, of the two-technician jobs in ``crews``."""
    ids = {v.id for v in crews}
    working = {t.id for t in ctx.problem.technicians}
    return [
        int(r.technician_id)
        for r in ctx.plan.routes
        if r.technician_id in working
        and r.technician_id != technician_id
        and any(s.visit_id in ids for s in r.stops)
    ]


def _take_out(ctx: Day, visits: list[VisitSpec]) -> None:
    """The visits leave the day's held routes and problem (one person cannot do a crew job)."""
    from dispatch.routing.repair import without

    ids = {v.id for v in visits}
    ctx.plan = without(ctx.plan, ids)
    ctx.problem = replace(ctx.problem, visits=[v for v in ctx.problem.visits if v.id not in ids])


def _off_for_the_rest_of_the_day(
    session: Session, actor: Actor, tech: Technician, at: datetime, note: str | None
) -> None:
    """The roster learns it too (once the day is loaded with them in it, to time their visit
    on site), so a later plan of today leaves them out whether or not this re-plan is applied;
    the applied plan gets a re-plan notice, which this re-plan, newer, closes."""
    start_min = at.hour * 60 + at.minute
    if start_min >= DAY_MIN:
        return
    data = {"technician_id": tech.id, "day": at.date(), "kind": "unavailable", "start_min": start_min}
    roster_service.add_exception(session, actor, data | {"end_min": DAY_MIN, "note": note})


def no_show(session: Session, actor: Actor, order_id: int, note: str | None = None) -> DispatchPlan:
    """The customer is not home: close the visit as a no-show (needs revisit,
    the restore clock paused), re-time the technician's day from that site and
    suggest a revisit slot on a later day."""
    order = _order(session, order_id)
    if not lifecycle.is_under_way(order):
        raise Conflict(
            N_("Only a visit under way (en route or on site) can be closed as a no-show; %(code)s is not."),
            slug="not-under-way",
            params={"code": order.code},
            current_state=order.state,
        )
    tech_id = order.technician_id
    wo_service.transition(
        session,
        actor,
        order,
        State.NEEDS_REVISIT,
        reason=f"no-show: customer not home{': ' + note if note else ''}",
    )
    if not sla.clock_of(order).is_paused:
        sla.pause_sla(session, actor, order, "customer_absent", note)
    at = now()
    ctx = _load_day(session, at.date(), at)
    after: dict[int | str, TechnicianRoute] = {}
    before: dict[int | str, HeldDay] = {}
    unplaced: list[Unassigned] = []
    if any(t.id == tech_id for t in ctx.problem.technicians):
        before[tech_id] = ctx.held(tech_id)
        here = ctx.tech(tech_id)
        if order.site.lat is not None and order.site.lon is not None:
            here = replace(here, start_lat=order.site.lat, start_lon=order.site.lon)
        matrix = HaversineMatrix(area_type=ctx.problem.area_type)
        held = time_held(here, ctx.sequence(tech_id), matrix)
        if held.route.stops:
            after[tech_id] = held.route
        unplaced = held.lost
    closed = {
        "order_id": order.id,
        "code": order.code,
        "technician_id": tech_id,
        **reason("no_show"),
        "revisit": revisit_slot(session, order, at),
    }
    return _propose(
        session,
        actor,
        ctx,
        {"kind": "no_show", "order_id": order.id, "note": note, "strategy": "repair"},
        before,
        after,
        unplaced,
        {"moved": "replanned", "retimed": "route_shortened", "added": "replanned"},
        extra={"closed": [closed]},
    )


def revisit_slot(session: Session, order: WorkOrder, at: datetime) -> dict[str, Any] | None:
    """The cheapest place for a revisit on the next days' held routes (any time
    of the day: the customer agrees the window), or None when none fits a week ahead."""
    from dispatch.routing.insertion import Insertion

    for ahead in range(1, REVISIT_DAYS_AHEAD + 1):
        day = at.date() + timedelta(days=ahead)
        problem, plan, _versions = current_day(session, day, at)
        visit = replace(
            visit_spec(order, day),
            pinned_technician=None,
            pinned_first=False,
            started_s=None,
            window_start_s=0,
            window_end_s=DAY_S,
        )
        insertion = Insertion(problem, plan, visit)
        options = [o for o in insertion.options(insertion.qualified()[:REVISIT_CANDIDATES]) if o.fits]
        if options:
            best = options[0]
            return {
                "day": day.isoformat(),
                "technician_id": best.technician_id,
                "start": clock(best.start_s),
                "start_s": best.start_s,
            }
    return None


def overrun(
    session: Session,
    actor: Actor,
    order_id: int,
    extra_min: int,
    strategy: str = "repair",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> DispatchPlan:
    """The visit on site will take ``extra_min`` longer than planned: re-time
    the technician's day; stops that would now breach or no longer fit move to
    someone with room, or stay (late) when nobody can take them."""
    order = _order(session, order_id)
    if order.state != State.ON_SITE:
        raise Conflict(
            N_("Only a visit on site can run over; %(code)s is not on site."),
            slug="not-on-site",
            params={"code": order.code},
            current_state=order.state,
        )
    at = now()
    ctx = _load_day(session, at.date(), at)
    tech_id = order.technician_id
    if order.id not in {v.id for v in ctx.problem.visits} or tech_id not in {
        t.id for t in ctx.problem.technicians
    }:
        # on site since another day, a site without coordinates, a technician no longer active
        raise Conflict(
            N_("%(code)s is not in today's routes."), slug="not-in-route", params={"code": order.code}
        )
    on_site = ctx.visit(order.id)
    longer = replace(on_site, duration_s=on_site.duration_s + extra_min * 60)
    # A two-technician job runs over for both: the second's day shifts as the lead's.
    members = [tech_id, *_second_on_site(ctx, order)]
    was = {m: ctx.held(m) for m in members}
    ctx.problem.visits = [longer if v.id == order.id else v for v in ctx.problem.visits]
    held = {m: ctx.held(m) for m in members}
    late_before = {s.visit_id for day in was.values() for s in day.route.stops if s.late_s > 0}
    breaching = {
        s.visit_id
        for day in held.values()
        for s in day.route.stops
        if s.late_s > 0 and s.visit_id not in late_before
    }
    lost = {u.visit_id for day in held.values() for u in day.lost}
    touched = [ctx.visit(vid) for vid in [*breaching, *(lost - breaching)]]
    others = [t for t in ctx.problem.technicians if t.id not in members]
    after, unplaced, solve_s = _replan(ctx, others, touched, strategy, time_limit_s)
    moved = {s.visit_id for tid, r in after.items() if tid not in members for s in r.stops} & {
        v.id for v in touched
    }
    # Late stops nobody takes stay with the technician; ones that no longer fit are dropped.
    unplaced = [u for u in unplaced if u.visit_id not in breaching]
    matrix = HaversineMatrix(area_type=ctx.problem.area_type)
    for member in members:
        kept = [v for v in ctx.sequence(member) if v.id not in moved and v.id not in lost]
        after[member] = time_held(ctx.tech(member), kept, matrix).route
    disruption = {
        "kind": "overrun",
        "order_id": order.id,
        "extra_min": extra_min,
        "strategy": strategy,
    }
    return _propose(
        session,
        actor,
        ctx,
        disruption,
        dict(held),
        after,
        unplaced,
        {"moved": "overrun_moved", "retimed": "overrun_retimed", "added": "replanned"},
        {vid: "overrun_late" for vid in breaching - moved},
        solve_s=solve_s,
    )


def _second_on_site(ctx: Day, order: WorkOrder) -> list[int]:
    """The crew's second technician, when the visit is in their route today."""
    second = order.second_technician_id
    route = ctx.plan.route_of(second) if second is not None and order.crew_size > 1 else None
    if route is None or all(s.visit_id != order.id for s in route.stops):
        return []
    return [int(second)]


def emergency(
    session: Session,
    actor: Actor,
    order_id: int,
    strategy: str = "repair",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
) -> DispatchPlan:
    """An urgent fault (a P1, say an enterprise circuit down) into today's
    routes with the least disruption; stops it displaces go to another
    technician with room, or are listed unplaced."""
    order = _order(session, order_id)
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
    if not lifecycle.can_insert_urgently(order, at) or order.site.lat is None or order.site.lon is None:
        raise Conflict(
            N_("Only an unassigned, unblocked order can be inserted; %(code)s cannot."),
            slug="not-insertable",
            params={"code": order.code},
            current_state=order.state,
        )
    ctx = _load_day(session, at.date(), at, on_call=True)  # a technician on call may take it
    ctx.orders[order.id] = order
    visit = visit_spec(order, ctx.day)
    techs = ctx.problem.technicians
    after, unplaced, solve_s = _replan(ctx, techs, [visit], strategy, time_limit_s, urgent=(order.id,))
    return _propose(
        session,
        actor,
        ctx,
        {"kind": "emergency", "order_id": order.id, "strategy": strategy},
        {},
        after,
        unplaced,
        {"moved": "displaced_moved", "retimed": "emergency_retimed", "added": "replanned"},
        {order.id: "emergency_inserted"},
        solve_s=solve_s,
    )


def get_disruption(session: Session, plan_id: int) -> DispatchPlan:
    """A stored re-plan with its diff, or 404."""
    record = session.get(DispatchPlan, plan_id)
    if record is None or record.kind != KIND:
        raise NotFound(N_("Plan %(id)s not found."), params={"id": plan_id})
    return record
