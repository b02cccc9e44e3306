"""The customer API a hotline agent works with: find the caller, read their card, register
a new customer with their first site, add a site (and its line), and record a repeat call
on an open order. Thin: parse, call the service, return."""

from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.api import BEARER, Blueprint, current_lang
from core.auth import require_roles
from core.db import get_session
from workorders import comments, customers, repeat_calls, service
from workorders.customer_schemas import (
    CardSiteSchema,
    CircuitLineSchema,
    CustomerCardSchema,
    CustomerPageSchema,
    CustomerSearchQuerySchema,
    NewCustomerSchema,
    NewSiteSchema,
    RepeatContactAnswerSchema,
    RepeatContactSchema,
)
from workorders.lifecycle import STAFF
from workorders.schemas import LineSchema

blp = Blueprint(
    "customers",
    __name__,
    url_prefix="/api/v1",
    description="Customers, their sites and circuits, as the hotline agent finds and registers them",
)

STAFF_ROLES = tuple(sorted(STAFF))


@blp.route("/customers")
class Customers(MethodView):
    @require_roles(*STAFF_ROLES)
    @blp.arguments(CustomerSearchQuerySchema, location="query")
    @blp.response(200, CustomerPageSchema)
    @blp.doc(security=BEARER)
    def get(self, args):
        """Find customers by phone number, name, address or circuit number (or line id),
        a page at a time; the customers shown are audited as read."""
        session = get_session()
        return customers.search_customers(
            session, g.actor, args["q"], args["limit"], args["offset"], current_lang()
        )

    @require_roles(*STAFF_ROLES)
    @blp.arguments(NewCustomerSchema)
    @blp.response(201, CustomerCardSchema)
    @blp.doc(security=BEARER)
    def post(self, args):
        """Register a customer and, with ``site``, their first site (and its line). Without
        lat and lon the site's address is geocoded; an address that cannot be located is a
        422 and nothing is registered."""
        session = get_session()
        site = args.pop("site", None)
        customer = customers.register_customer(session, g.actor, args, site)
        return customers.customer_card_for(session, g.actor, customer.id, current_lang())


@blp.route("/customers/<int:customer_id>")
@require_roles(*STAFF_ROLES, "customer")
@blp.response(200, CustomerCardSchema)
@blp.doc(security=BEARER)
def customer_detail(customer_id: int):
    """One customer with their sites, lines (circuits) and open orders; staff reads are
    audited, a customer reads only their own."""
    session = get_session()
    return customers.customer_card_for(session, g.actor, customer_id, current_lang())


@blp.route("/customers/<int:customer_id>/sites", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(NewSiteSchema)
@blp.response(201, CardSiteSchema)
@blp.doc(security=BEARER)
def add_site(args, customer_id: int):
    """Add a site to a customer, with its line when ``line`` is given. Without lat and lon
    the address is geocoded; one that cannot be located is a 422."""
    session = get_session()
    customer = service.get_customer_for(session, g.actor, customer_id)
    site = customers.add_site_with_line(session, g.actor, customer, args)
    return customers.site_view(site, current_lang())


@blp.route("/sites/<int:site_id>/lines", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(CircuitLineSchema)
@blp.response(201, LineSchema)
@blp.doc(security=BEARER)
def add_line(args, site_id: int):
    """Record the access line at a site, with its circuit number and product."""
    session = get_session()
    site = service.get_site_for(session, g.actor, site_id)
    return service.add_line(session, g.actor, site, args)


@blp.route("/workorders/<int:order_id>/contacts", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.arguments(RepeatContactSchema)
@blp.response(201, RepeatContactAnswerSchema)
@blp.alt_response(409, schema=None, description="The order is no longer open")
@blp.doc(security=BEARER)
def repeat_contact(args, order_id: int):
    """The customer called again about this open order: who called and what they said
    become a comment on it and an event in its audit trail."""
    session = get_session()
    order = service.get_order_for(session, g.actor, order_id)
    comment = repeat_calls.record_repeat_contact(
        session, g.actor, order, args["caller_name"], args.get("caller_phone"), args.get("note")
    )
    calls = repeat_calls.repeat_contact_counts(session, [order.id]).get(order.id, 0)
    return {
        "order_id": order.id,
        "code": order.code,
        "repeat_contacts": calls,
        "comment": comments.comment_view(session, comment, current_lang()),
    }
