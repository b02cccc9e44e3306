"""The hotline agent's intake page (``/intake``, the agent's home): find the caller, read
their card (sites, circuits, open orders), record a repeat call on an open order, register
a new customer or site, and take a new order with the intake findings shown live.

The page is one template and one ES module (``static/js/intake.js``) calling the staff
JSON API with the session cookie and the page's CSRF token, like the console. The
choices it offers (kinds, channels, priorities) are read from the API's own intake schema,
so the form offers what the server takes; labels and sentences come from here in the
page's language.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, url_for
from flask_babel import gettext as _
from marshmallow import Schema, validate

import standards
from core.api import current_lang
from core.auth import load_current_user
from core.messages import N_
from pages.booking import intake_settings
from pages.views import bp
from workorders import labels
from workorders.customer_schemas import CHANNELS, LANGUAGES, NewCustomerSchema
from workorders.lifecycle import STAFF
from workorders.views import OrderIntakeSchema

URL_ID = 9_876_543_210  # stands for the id in a URL template the page fills in

# The sentences the page's script shows, as message ids (translated per request).
STRINGS = {
    "searching": N_("Searching…"),
    "no_results": N_("No customer matches."),
    "results_total": N_("%(n)s customers found"),
    "previous": N_("Previous page"),
    "next": N_("Next page"),
    "open_orders_n": N_("%(n)s open orders"),
    "choose": N_("Open the card"),
    "no_lines": N_("No line on record"),
    "circuit": N_("Circuit %(no)s"),
    "line_id": N_("Line %(id)s"),
    "route_length": N_("route %(m)s m"),
    "occupancy": N_("switch %(model)s, occupancy %(pct)s"),
    "no_open_orders": N_("No open orders."),
    "repeat_calls": N_("called again %(n)s times"),
    "attach": N_("Add this call to it"),
    "attached": N_("The call is recorded on order %(code)s."),
    "caller_required": N_("Say who is calling."),
    "would_state": N_("Would be: %(state)s"),
    "blocked": N_("Blocking findings: the order would wait in received for the dispatcher."),
    "response_by": N_("Response by"),
    "restore_by": N_("Restore by"),
    "handling_by": N_("First handling by"),
    "deadline_source": N_("Deadline from"),
    "no_findings": N_("No findings: the order can go to planning."),
    "duplicate": N_("Order %(code)s is already open for this site and line."),
    "taken": N_("Order %(code)s is taken."),
    "open_in_list": N_("Show it in the order list"),
    "customer_saved": N_("Customer registered."),
    "site_saved": N_("Site added."),
    "failed": N_("Something went wrong."),
    "pick_customer": N_("Find the customer first."),
}


def _choices(schema: Schema, field: str) -> list[str]:
    """The values a field of the API's schema accepts (its OneOf validator's)."""
    validators = schema.fields[field].validators
    for validator in validators:
        if isinstance(validator, validate.OneOf):
            return [str(choice) for choice in validator.choices]
    return []


def _url_template(endpoint: str, name: str) -> str:
    """``endpoint``'s URL with ``{id}`` where its ``name`` argument goes (the page fills it in)."""
    return url_for(endpoint, **{name: URL_ID}).replace(str(URL_ID), "{id}")


def _labelled(group: str, codes: list[str], lang: str) -> list[dict[str, str]]:
    return [{"code": code, "label": labels.label(group, code, lang)} for code in codes]


def page_settings(lang: str) -> dict[str, Any]:
    """What the page's script needs: where to send each request, the choices the API takes
    with their labels, and its sentences, all in ``lang``."""
    order_schema, customer_schema = OrderIntakeSchema(), NewCustomerSchema()
    channel_labels = {"sms": _("By text message (SMS)"), "email": _("By email")}
    language_labels = {"zh": "中文", "en": "English"}
    return {
        "lang": lang,
        "urls": {
            "customers": url_for("customers.Customers"),
            "customer": _url_template("customers.customer_detail", "customer_id"),
            "sites": _url_template("customers.add_site", "customer_id"),
            "contacts": _url_template("customers.repeat_contact", "order_id"),
            "preview": url_for("workorders.order_preview"),
            "orders": url_for("workorders.WorkOrders"),
            "order_list": url_for("web.home", list=1),
        },
        "choices": {
            "kind": _labelled("kind", _choices(order_schema, "kind"), lang),
            "source": _labelled("source", _choices(order_schema, "source"), lang),
            "priority": _labelled("priority", _choices(order_schema, "priority"), lang),
            "product": _labelled("product", list(standards.PRODUCTS), lang),
            "customer_kind": _labelled("customer_kind", _choices(customer_schema, "kind"), lang),
            "tier": _labelled("tier", list(standards.TIERS), lang),
            "channel": [{"code": c, "label": channel_labels.get(c, c)} for c in CHANNELS],
            "language": [{"code": c, "label": language_labels.get(c, c)} for c in LANGUAGES],
            "access_type": [{"code": c, "label": c.upper()} for c in standards.ACCESS_TYPES],
        },
        "takes_received_at": "received_at" in order_schema.fields,
        "strings": {key: _(msgid) for key, msgid in STRINGS.items()},
        "booking": intake_settings(),
    }


@bp.route("/intake")
def intake():
    """The intake page; agents land here after logging in (other staff reach it from the menu)."""
    user = load_current_user()
    if user is None:
        return redirect(url_for("web.login"))
    if user.role not in STAFF:
        return render_template("intake.html", user=user, forbidden=True), 403
    return render_template("intake.html", user=user, forbidden=False, settings=page_settings(current_lang()))
