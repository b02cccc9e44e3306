"""Appointment slots on the pages: the customer portal's slot page for one of the
company's orders (server-rendered, a CSRF-protected form, no script), and what the
intake page's script needs to show and book the slots of the order just taken
(:func:`intake_settings`, merged into the intake page's settings).

The slots, their ranking and reasons come from :mod:`dispatch.booking`, as the
staff API gives them; a customer sees when and why, not whose visits move.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import current_app, g, render_template, request, url_for
from flask_babel import gettext as _

from core.api import current_lang
from core.auth import load_current_user, require_roles
from core.db import get_session
from core.errors import DomainError
from core.messages import N_
from dispatch import booking
from pages.views import bp
from workorders import service as wo_service

PORTAL_DAYS = 5
URL_ID = 9_876_543_210

# The sentences the intake page's script shows for the slots (message ids).
STRINGS = {
    "slots_title": N_("Appointment slots for %(code)s"),
    "slots_loading": N_("Working out the best slots…"),
    "slots_none": N_("No slot can be offered in the next days."),
    "book": N_("Book"),
    "booked": N_("Booked: %(when)s"),
    "not_bookable": N_("Not bookable"),
    "slot_am": N_("Morning"),
    "slot_pm": N_("Afternoon"),
}


def _slot_name(key: str) -> str:
    names = {"am": _("Morning"), "pm": _("Afternoon")}
    return names.get(key, key)


def intake_settings() -> dict[str, Any]:
    """Where the intake page's script asks for an order's slots and books one, and its sentences."""
    slots = url_for("booking.order_slots", order_id=URL_ID).replace(str(URL_ID), "{id}")
    book = url_for("booking.order_booking", order_id=URL_ID).replace(str(URL_ID), "{id}")
    return {
        "urls": {"slots": slots, "booking": book},
        "strings": {key: _(msgid) for key, msgid in STRINGS.items()},
    }


def _scheme() -> str:
    return current_app.config.get("BOOKING_SLOT_SCHEME") or booking.DEFAULT_SCHEME


def _chosen() -> tuple[date, str] | None:
    """The posted slot, "YYYY-MM-DD/key"; None when malformed."""
    day, _sep, key = request.form.get("slot", "").partition("/")
    try:
        return date.fromisoformat(day), key
    except ValueError:
        return None


@bp.route("/portal/orders/<int:order_id>/slots", methods=["GET", "POST"])
@require_roles("customer")
def portal_slots(order_id: int):
    """The best appointment slots for one of the company's orders, and booking one."""
    user = load_current_user()
    session = get_session()
    order = wo_service.get_order_for(session, g.actor, order_id)  # another company's: 404
    error, status, booked = None, 200, None
    if request.method == "POST":
        chosen = _chosen()
        if chosen is None:
            error, status = _("Choose one of the slots offered."), 422
        else:
            try:
                booked = booking.book_slot(session, g.actor, order, chosen[0], chosen[1], _scheme())
            except DomainError as exc:
                error, status = exc.translated(), exc.status
    slots: list[dict] = []
    if booked is None:
        try:
            slots = booking.propose_slots(session, order, PORTAL_DAYS, _scheme())
        except DomainError as exc:
            error, status = error or exc.translated(), status if error else exc.status
    view = wo_service.customer_view(session, order, current_lang())
    page = render_template(
        "portal_slots.html",
        user=user,
        order=view,
        slots=slots,
        booked=booked,
        error=error,
        slot_name=_slot_name,
    )
    return page, status
