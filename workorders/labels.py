"""Words for the codes an order carries, in the reader's language.

Pages and API views show these labels, never the codes (``repair``,
``iptv_lan``, ``dispatcher``), and they all come from here. Every label is an
English message id translated by flask-babel (``translations/``); states and
plan statuses have a message context ("order state", "plan status"), because
"On site" and "Cancelled" mean other things elsewhere. The states' names are
kept with the states (``lifecycle.STATE_NAMES``, so the state machine can name
them in its refusals); product names come from the rule file, which holds
them in both languages.

:func:`label` gives the text now (in a request: its language; elsewhere:
English); :func:`term` gives an untranslated :class:`core.messages.Message`
for a refusal's values, which the error handler renders with the refusal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flask_babel import force_locale

import standards
from core.i18n import current_lang
from core.messages import N_, Listing, Message
from workorders.lifecycle import STATE_CONTEXT, STATE_NAMES

KIND = {
    "install": N_("Install"),
    "repair": N_("Repair"),
    "follow_up": N_("Follow-up"),
    "complaint": N_("Complaint"),
}
PRIORITY = {"P1": N_("P1 urgent"), "P2": N_("P2 important"), "P3": N_("P3 general")}
TIER = {
    "group": N_("Group"),
    "provincial": N_("Provincial"),
    "local_a": N_("Local A"),
    "local_b": N_("Local B"),
    "local_c": N_("Local C"),
}
CUSTOMER_KIND = {"residential": N_("Residential customer"), "enterprise": N_("Enterprise customer")}
ROLE = {
    "dispatcher": N_("Dispatcher"),
    "admin": N_("Administrator"),
    "manager": N_("Manager"),
    "agent": N_("Hotline agent"),
    "technician": N_("Technician"),
    "customer": N_("Customer"),
}
# Where an order came in.
SOURCE = {
    "hotline": N_("Hotline 10000"),
    "account_manager": N_("Account manager"),
    "monitoring": N_("Network monitoring center"),
    "portal": N_("Customer portal"),
    "walk_in": N_("Walk-in at a service hall"),
    # Kept for orders taken before the channels were named.
    "customer": N_("Reported by the customer"),
}
SKILL = {
    "adsl": N_("ADSL"),
    "lan": N_("LAN"),
    "iptv": N_("IPTV"),
    "enterprise_circuit": N_("Enterprise circuit"),
    "enterprise_app": N_("Enterprise application"),
}
FOLLOWUP_METHOD = {"phone": N_("Phone call"), "visit": N_("Visit")}
SLA_PAUSE_REASON = {
    "customer_absent": N_("Customer absent"),
    "site_inaccessible": N_("No access to the site"),
    "customer_requested_delay": N_("Customer asked to wait"),
}
# A dispatch plan's standing (dispatch.plans).
PLAN_STATUS = {
    "proposed": N_("proposed"),
    "applied": N_("applied"),
    "discarded": N_("discarded"),
    "refused": N_("refused"),
}

# group -> (code -> message id, message context)
GROUPS: dict[str, tuple[Mapping[str, str], str | None]] = {
    "state": (STATE_NAMES, STATE_CONTEXT),
    "kind": (KIND, None),
    "priority": (PRIORITY, None),
    "tier": (TIER, None),
    "customer_kind": (CUSTOMER_KIND, None),
    "role": (ROLE, None),
    "source": (SOURCE, None),
    "skill": (SKILL, None),
    "followup_method": (FOLLOWUP_METHOD, None),
    "sla_pause_reason": (SLA_PAUSE_REASON, None),
    "plan_status": (PLAN_STATUS, "plan status"),
}


def term(group: str, code: str) -> Message | str:
    """The label of ``code`` untranslated, for a refusal's values (an unknown code stays a code)."""
    msgids, context = GROUPS[group]
    msgid = msgids.get(code)
    return code if msgid is None else Message(msgid, context=context)


def terms(group: str, codes: Iterable[str]) -> Listing:
    """Several labels as one value of a refusal ("ADSL, IPTV" / "ADSL、IPTV")."""
    return Listing([term(group, code) for code in codes])


def _product_name(code: str, lang: str) -> str:
    try:
        product = standards.load_ruleset().product(code)
    except KeyError:
        return code
    return product.name_en if lang == "en" else product.name_zh


def label(group: str, code: str | None, lang: str | None = None) -> str:
    """The label of ``code`` in the request's language (or ``lang``); "" for None."""
    if code is None:
        return ""
    if group == "product":
        return _product_name(code, lang or current_lang())
    if lang is not None and lang != current_lang():
        with force_locale(lang):
            return label(group, code)
    found = term(group, code)
    return found.render() if isinstance(found, Message) else found


def labels(group: str, lang: str | None = None) -> dict[str, str]:
    """Every code of ``group`` with its label (for a page's script or a form)."""
    codes = standards.PRODUCTS if group == "product" else GROUPS[group][0]
    return {str(code): label(group, code, lang) for code in codes}
