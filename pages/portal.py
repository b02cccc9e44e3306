"""The customer portal: a company's open and past orders, filterable by site,
circuit (line), step and date, each with its steps in the customer's words, the
promise for its kind, whether it waits for a technician, and the live ETA while
a technician is on the way (:mod:`dispatch.eta`).

Served at ``/`` for a customer login (``pages.views.home`` hands over here). The
page shows no internal state or code: everything comes through
``workorders.reads.customer_view``. While a technician is on the way it reloads
itself every 30 s (a meta refresh: no script, so the CSP stays as it is).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import render_template, request
from sqlalchemy import select

from core.actor import Actor
from core.api import current_lang
from core.db import get_session
from dispatch import booking
from workorders import service as wo_service
from workorders.labels import label
from workorders.models import LineRecord, Site
from workorders.reads import STEPS, step_label

FILTER_STEPS = (*STEPS, "cancelled", "revisit")
REFRESH_S = 30


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def read_filters() -> dict[str, Any]:
    """The page's filters from the query string; anything malformed is ignored."""
    step = request.args.get("step")
    return {
        "site_id": _int_arg("site"),
        "line_id": _int_arg("line"),
        "step": step if step in FILTER_STEPS else None,
        "from": _date_arg("from"),
        "to": _date_arg("to"),
    }


def _matches(view: dict[str, Any], filters: dict[str, Any]) -> bool:
    if filters["site_id"] is not None and view["site_id"] != filters["site_id"]:
        return False
    if filters["line_id"] is not None and view["circuit_id"] != filters["line_id"]:
        return False
    if filters["step"] is not None and _current_step(view) != filters["step"]:
        return False
    created: datetime = view["received_at"]
    if filters["from"] is not None and created < datetime.combine(filters["from"], time()):
        return False
    return filters["to"] is None or created < datetime.combine(filters["to"] + timedelta(days=1), time())


def _current_step(view: dict[str, Any]) -> str:
    return next(step["state"] for step in view["timeline"] if step["current"])


def _choices(db, customer_id: int) -> tuple[list[Site], list[LineRecord]]:
    sites = list(db.scalars(select(Site).where(Site.customer_id == customer_id).order_by(Site.id)))
    lines = list(
        db.scalars(
            select(LineRecord)
            .join(Site, LineRecord.site_id == Site.id)
            .where(Site.customer_id == customer_id)
            .order_by(LineRecord.id)
        )
    )
    return sites, lines


def render_portal(user, actor: Actor):
    """The portal page for a customer login."""
    db = get_session()
    lang = current_lang()
    filters = read_filters()
    orders = wo_service.list_orders(db, actor, {"limit": 200})
    views = [v for v in (wo_service.customer_view(db, o, lang) for o in orders) if _matches(v, filters)]
    sites, lines = _choices(db, actor.customer_id)
    steps = {step: step_label(step, "", lang) for step in FILTER_STEPS}
    return render_template(
        "portal.html",
        user=user,
        open_orders=[v for v in views if v["open"]],
        past_orders=[v for v in views if not v["open"]],
        filters=filters,
        sites=sites,
        lines=lines,
        steps=steps,
        product_label=lambda code: label("product", code, lang),
        refresh_s=REFRESH_S if any(v["eta"] for v in views) else None,
        bookable={o.id for o in orders if booking.can_book(o)},
    )
