"""Applying the week's balance: the moves the dispatcher accepts, rebooked all or nothing.

:func:`dispatch.balancing.balance_week` only proposes. Here each accepted move (the
order, the version and day it had in the proposal, the day and slot proposed) is
checked first, all of them before any order is rebooked:

* the order must be as the proposal saw it: same version, still bookable (state,
  not blocked, not urgent), still booked on the day it is moved from; otherwise 409
  ``balance-stale`` naming every order that changed (propose again);
* a customer who agreed the current window must have been asked: the move says so
  (``customer_asked``); otherwise 422 ``customer-not-asked`` naming them.

The target days are locked first (in date order, so two dispatchers applying at once
cannot deadlock), then the orders (so a concurrent apply of the same moves finds them
changed), and each order is rebooked through :func:`dispatch.booking.book_slot`,
the same locked, priced-again path as booking one order. A slot no longer free is
409 ``slot-taken`` for that order, with its next best slots; since the request has
one transaction, nothing of the other moves stays either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, Invalid, Message, NotFound
from dispatch.balancing import appointment_agreed
from dispatch.booking import DEFAULT_SCHEME, SlotTaken, book_slot, check_bookable, lock_day
from workorders.models import WorkOrder

STALE = N_("%(codes)s changed since the balance was proposed: propose the balance again.")
NOT_ASKED = N_(
    "The customers of %(codes)s agreed their current window: ask them and confirm each move "
    "(customer_asked) before moving it."
)
ASK_FIRST = N_("Ask the customer first: they agreed the current window.")


@dataclass(frozen=True)
class AcceptedMove:
    """One move of the proposal as the dispatcher accepts it."""

    order_id: int
    version: int
    from_day: date
    to_day: date
    slot: str
    customer_asked: bool = False


def _stale_problem(order: WorkOrder, move: AcceptedMove) -> str | None:
    """Why the order is no longer as the proposal saw it, or None."""
    if order.version != move.version:
        return "changed"
    try:
        check_bookable(order)
    except Conflict:
        return "not_bookable"
    if order.appointment_start is None or order.appointment_start.date() != move.from_day:
        return "window_changed"
    return None


def _checked_orders(session: Session, moves: list[AcceptedMove]) -> dict[int, WorkOrder]:
    """Every move's order, checked as the module says; the first refusal names them all."""
    # Read fresh and locked: a concurrent apply of the same moves waits here, then finds
    # them changed (on SQLite, one writer at a time, FOR UPDATE is not needed).
    stmt = (
        select(WorkOrder)
        .where(WorkOrder.id.in_([m.order_id for m in moves]))
        .order_by(WorkOrder.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    orders: dict[int, WorkOrder] = {o.id: o for o in session.scalars(stmt)}
    missing = next((m.order_id for m in moves if m.order_id not in orders), None)
    if missing is not None:
        raise NotFound(N_("Work order %(order_id)s not found."), params={"order_id": missing})
    stale = [
        {"order_id": order.id, "code": order.code, "problem": problem}
        for move in moves
        if (problem := _stale_problem(order := orders[move.order_id], move)) is not None
    ]
    if stale:
        raise Conflict(
            STALE,
            slug="balance-stale",
            params={"codes": ", ".join(s["code"] for s in stale)},
            conflicts=stale,
        )
    not_asked = [
        orders[m.order_id] for m in moves if appointment_agreed(orders[m.order_id]) and not m.customer_asked
    ]
    if not_asked:
        raise Invalid(
            NOT_ASKED,
            slug="customer-not-asked",
            params={"codes": ", ".join(o.code for o in not_asked)},
            order_ids=[o.id for o in not_asked],
            errors={"moves": [Message(ASK_FIRST)]},
        )
    return orders


def apply_balance(
    session: Session,
    actor: Actor,
    moves: list[AcceptedMove],
    slot_scheme: str = DEFAULT_SCHEME,
    at: datetime | None = None,
) -> list[dict[str, Any]]:
    """Rebook the accepted moves of a week's balance, all or nothing (see the module's
    note); each booked slot as :func:`dispatch.booking.book_slot` returns it, with the
    order and the day it left. The request's transaction keeps them all or none."""
    at = at or now()
    if len({m.order_id for m in moves}) != len(moves):
        message = N_("Each order may be moved once.")
        raise Invalid(message, errors={"moves": [message]})
    # The days first (in date order), then the orders: the order booking one takes too.
    for day in sorted({m.to_day for m in moves}):
        lock_day(session, day)
    orders = _checked_orders(session, moves)
    booked: list[dict[str, Any]] = []
    for move in moves:
        order = orders[move.order_id]
        try:
            slot = book_slot(session, actor, order, move.to_day, move.slot, slot_scheme, at=at)
        except SlotTaken as taken:
            taken.extensions.update(order_id=order.id, code=order.code)
            raise
        booked.append({**slot, "order_id": order.id, "code": order.code, "from_day": move.from_day})
    audit.record(
        session,
        actor,
        "week_balance_applied",
        "booking_day",
        None,
        after={
            "moves": [{"order_id": m.order_id, "to_day": m.to_day.isoformat(), "slot": m.slot} for m in moves]
        },
    )
    return booked
