"""Booking endpoints: the best appointment slots for an order, and booking one.

Staff (the hotline agent on the intake page) and an enterprise customer for
their own company's orders (anyone else's is a 404 like a missing id). The slot
scheme is the app's ``BOOKING_SLOT_SCHEME`` (``halves``: AM 08:30–12:00 /
PM 13:00–17:30; ``two_hours``).
"""

from __future__ import annotations

from flask import current_app, g, jsonify

from core.api import BEARER, Blueprint
from core.auth import require_roles
from core.db import get_session
from dispatch import balance_apply, balancing, booking
from dispatch.booking_schemas import (
    BalanceAppliedSchema,
    BalanceApplySchema,
    BalanceQuerySchema,
    BalanceSchema,
    BookingSchema,
    CustomerSlotSchema,
    DraftSlotsSchema,
    SlotQuerySchema,
    SlotSchema,
)
from workorders import service
from workorders.lifecycle import STAFF

BOOKING_ROLES = (*sorted(STAFF), "customer")

blp = Blueprint(
    "booking", __name__, url_prefix="/api/v1", description="Appointment slots: propose the best, book one"
)


def _scheme() -> str:
    return current_app.config.get("BOOKING_SLOT_SCHEME") or booking.DEFAULT_SCHEME


def _dump(slots: list[dict], many: bool = True):
    """Each caller's view: a customer sees when and why, not whose visits move."""
    schema = CustomerSlotSchema if g.actor.role == "customer" else SlotSchema
    return schema(many=many).dump(slots)


@blp.route("/workorders/<int:order_id>/slots")
@require_roles(*BOOKING_ROLES)
@blp.arguments(SlotQuerySchema, location="query")
@blp.response(200, SlotSchema(many=True))
@blp.alt_response(409, schema=None, description="The order cannot be booked (state, urgent, blocked)")
@blp.doc(security=BEARER)
def order_slots(args, order_id: int):
    """The order's appointment slots over the next working days, best first,
    each with why in a few words; slots nobody can take are listed after, marked."""
    session = get_session()
    order = service.get_order_for(session, g.actor, order_id)
    return jsonify(_dump(booking.propose_slots(session, order, args["days"], _scheme())))


@blp.route("/workorders/<int:order_id>/booking", methods=["POST"])
@require_roles(*BOOKING_ROLES)
@blp.arguments(BookingSchema)
@blp.response(200, SlotSchema)
@blp.alt_response(
    409, schema=None, description="The slot was taken meanwhile: `alternatives` holds the next best"
)
@blp.doc(security=BEARER)
def order_booking(args, order_id: int):
    """Book a slot: sets the order's appointment window (audited, the customer told).
    Two bookings of the last room on a day: one wins, the other gets 409 with
    the next best slots."""
    session = get_session()
    order = service.get_order_for(session, g.actor, order_id)
    try:
        slot = booking.book_slot(
            session, g.actor, order, args["day"], args["slot"], _scheme(), version=args.get("version")
        )
    except booking.SlotTaken as taken:
        taken.extensions["alternatives"] = _dump(taken.alternatives)
        raise
    return jsonify(_dump([slot])[0])


@blp.route("/slots", methods=["POST"])
@require_roles(*sorted(STAFF))
@blp.arguments(DraftSlotsSchema)
@blp.response(200, SlotSchema(many=True))
@blp.doc(security=BEARER)
def draft_slots(args):
    """The slots an order would get before it is taken (the intake form while the
    caller is on the line): the site's place, the kind's and product's skills and time."""
    session = get_session()
    slots = booking.draft_slots(
        session,
        g.actor,
        args["site_id"],
        args["kind"],
        args["product"],
        args["priority"],
        args["days"],
        _scheme(),
    )
    return jsonify(_dump(slots))


@blp.route("/booking/balance")
@require_roles("dispatcher", "manager", "admin")
@blp.arguments(BalanceQuerySchema, location="query")
@blp.response(200, BalanceSchema)
@blp.doc(security=BEARER)
def balance_week(args):
    """A proposal to even out the coming working days: booked, non-urgent visits
    from the fullest days to lighter ones they may take, each with its slot
    there and why. Nothing is changed: book the moves you accept."""
    session = get_session()
    return balancing.balance_week(session, g.actor, args["start_day"], args["days"], _scheme())


@blp.route("/booking/balance/apply", methods=["POST"])
@require_roles("dispatcher", "manager", "admin")
@blp.arguments(BalanceApplySchema)
@blp.response(200, BalanceAppliedSchema)
@blp.alt_response(
    409,
    schema=None,
    description="An order changed since the proposal (`conflicts`), or a slot is no longer free "
    "(`slot-taken`, with `alternatives`): nothing is moved",
)
@blp.alt_response(422, schema=None, description="A customer who agreed their window was not asked")
@blp.doc(security=BEARER)
def apply_balance(args):
    """Apply the week's balance: the accepted moves are rebooked, all or none, each
    through the same locked path as booking one order."""
    session = get_session()
    moves = [balance_apply.AcceptedMove(**move) for move in args["moves"]]
    try:
        booked = balance_apply.apply_balance(session, g.actor, moves, _scheme())
    except booking.SlotTaken as taken:
        taken.extensions["alternatives"] = _dump(taken.alternatives)
        raise
    return {"moves": booked}
