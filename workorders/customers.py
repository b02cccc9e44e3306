"""Customers, their sites (addresses with coordinates) and the access line at each site:
registering them, finding them by what a caller says on the phone (phone number, name,
address, circuit number), and the card an agent reads while the customer is on the line.

Every staff read of a customer's details is audited (the minimum-necessary rule of
DOMAIN.md): the card (:func:`customer_card_for`) and each page of search results.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import audit, geocoding
from core.actor import Actor
from core.errors import N_, Invalid, NotFound
from core.geocoding import Geocoder
from core.schemas import MAX_DB_INT
from workorders.labels import label
from workorders.lifecycle import OPEN_STATES
from workorders.models import Customer, LineRecord, Site, WorkOrder
from workorders.repeat_calls import repeat_contact_counts

SEARCH_LIMIT_MAX = 100
# Fewer digits than this in a query are not searched as a phone number ("1" is in every phone).
PHONE_MIN_DIGITS = 3


def create_customer(session: Session, actor: Actor, data: dict) -> Customer:
    """Register a residential or enterprise customer."""
    customer = Customer(**data)
    session.add(customer)
    session.flush()
    audit.record(
        session,
        actor,
        "customer_created",
        "customer",
        customer.id,
        after={"name": customer.name, "kind": customer.kind, "enterprise_tier": customer.enterprise_tier},
    )
    return customer


def register_customer(
    session: Session,
    actor: Actor,
    data: dict,
    site_data: dict | None = None,
    geocoder: Geocoder | None = None,
) -> Customer:
    """A new customer and, when ``site_data`` is given, their first site (and its line),
    in one unit of work: an address that cannot be located refuses the whole call."""
    customer = create_customer(session, actor, data)
    if site_data is not None:
        add_site_with_line(session, actor, customer, site_data, geocoder)
    return customer


def get_customer_for(session: Session, actor: Actor, customer_id: int) -> Customer:
    """A customer the actor may see: staff see all, a customer only themself, a technician none."""
    customer = session.get(Customer, customer_id)
    hidden = actor.role == "technician" or (actor.role == "customer" and actor.customer_id != customer_id)
    if customer is None or hidden:
        raise NotFound(N_("Customer %(id)s not found."), params={"id": customer_id})
    if actor.is_staff:
        audit.record(session, actor, "read_personal", "customer", customer.id)
    return customer


def _locate(data: dict, geocoder: Geocoder | None) -> dict:
    """``data`` with coordinates: the ones sent, else the geocoder's; neither is a 422."""
    data = dict(data)
    if data.get("lat") is not None and data.get("lon") is not None:
        return data | {"geocoded": False}
    found = (geocoder or geocoding.configured()).geocode(data["address"])
    if found is None:
        message = N_("This address cannot be located; check it, or give the site's lat and lon.")
        raise Invalid(message, slug="address-not-located", errors={"address": [message]})
    data["lat"], data["lon"] = found.latitude, found.longitude
    # A local place table names the district it matched; a network geocoder's answer is a full address.
    if not data.get("district") and (found.raw or {}).get("source") == "local-table":
        data["district"] = found.address
    return data | {"geocoded": True}


def add_site(
    session: Session, actor: Actor, customer: Customer, data: dict, geocoder: Geocoder | None = None
) -> Site:
    """Add an address to a customer; without coordinates, ask the geocoder for them
    (an address it cannot place is refused: a site without coordinates cannot be planned)."""
    data = _locate(data, geocoder)
    geocoded = data.pop("geocoded")
    site = Site(customer_id=customer.id, **data)
    session.add(site)
    session.flush()
    audit.record(session, actor, "site_created", "site", site.id, after=data | {"geocoded": geocoded})
    return site


def add_site_with_line(
    session: Session, actor: Actor, customer: Customer, data: dict, geocoder: Geocoder | None = None
) -> Site:
    """A site and, when ``data["line"]`` is given, the access line at it."""
    data = dict(data)
    line_data = data.pop("line", None)
    site = add_site(session, actor, customer, data, geocoder)
    if line_data:
        add_line(session, actor, site, line_data)
    return site


def add_line(session: Session, actor: Actor, site: Site, data: dict) -> LineRecord:
    """Record the access line at a site (from the network resource system)."""
    line = LineRecord(site_id=site.id, **data)
    session.add(line)
    session.flush()
    audit.record(session, actor, "line_created", "line_record", line.id, after=dict(data))
    return line


def get_site_for(session: Session, actor: Actor, site_id: int) -> Site:
    """A site the actor may see."""
    site = session.get(Site, site_id)
    if site is None or (actor.role == "customer" and site.customer_id != actor.customer_id):
        raise NotFound(N_("Site %(id)s not found."), params={"id": site_id})
    return site


# ---------------------------------------------------------------- finding a caller


def _matching_customer_ids(query: str):
    """A select of the ids of customers whose phone, name, contact, email, site address,
    circuit number or line id matches ``query``."""
    text = query.strip().lower()
    conditions = [
        func.lower(Customer.name).contains(text, autoescape=True),
        func.lower(Customer.contact_name).contains(text, autoescape=True),
        func.lower(Customer.email).contains(text, autoescape=True),
        Customer.id.in_(
            select(Site.customer_id).where(func.lower(Site.address).contains(text, autoescape=True))
        ),
        Customer.id.in_(
            select(Site.customer_id)
            .join(LineRecord, LineRecord.site_id == Site.id)
            .where(func.lower(LineRecord.circuit_no).contains(text, autoescape=True))
        ),
    ]
    digits = re.sub(r"\D", "", text)
    if len(digits) >= PHONE_MIN_DIGITS and re.fullmatch(r"[0-9+\-() ]+", text):
        bare_phone = func.replace(func.replace(func.replace(Customer.phone, "-", ""), " ", ""), "+", "")
        conditions.append(bare_phone.contains(digits, autoescape=True))
    # The line's own id, as the portal shows it ("Circuit 12"): only a number an id column
    # can hold (an 11-digit phone number is out of PostgreSQL's integer range).
    if text.isdigit() and 0 < int(text) <= MAX_DB_INT:
        conditions.append(
            Customer.id.in_(
                select(Site.customer_id)
                .join(LineRecord, LineRecord.site_id == Site.id)
                .where(LineRecord.id == int(text))
            )
        )
    return select(Customer.id).where(or_(*conditions))


def search_customers(
    session: Session, actor: Actor, query: str, limit: int = 20, offset: int = 0, lang: str = "zh"
) -> dict[str, Any]:
    """Customers matching what a caller says (phone, name, address or circuit), by name,
    one page of them: ``{"items": [...], "total": n, "limit": ..., "offset": ...}``.
    Staff only; the customers shown are audited as one read."""
    ids = _matching_customer_ids(query)
    total = session.scalar(select(func.count()).select_from(ids.subquery())) or 0
    limit = max(1, min(limit, SEARCH_LIMIT_MAX))
    stmt = select(Customer).where(Customer.id.in_(ids)).order_by(Customer.name, Customer.id)
    customers = list(session.scalars(stmt.limit(limit).offset(offset)))
    if customers:
        audit.record(
            session,
            actor,
            "read_personal",
            "customer",
            customers[0].id if len(customers) == 1 else None,
            after={"via": "customer_search", "customer_ids": [c.id for c in customers]},
        )
    open_counts = _open_order_counts(session, [c.id for c in customers])
    items = [_summary(c, lang) | {"open_orders": open_counts.get(c.id, 0)} for c in customers]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


def _open_order_counts(session: Session, customer_ids: list[int]) -> dict[int, int]:
    if not customer_ids:
        return {}
    stmt = (
        select(WorkOrder.customer_id, func.count(WorkOrder.id))
        .where(WorkOrder.customer_id.in_(customer_ids), WorkOrder.state.in_(OPEN_STATES))
        .group_by(WorkOrder.customer_id)
    )
    return {customer_id: int(count) for customer_id, count in session.execute(stmt)}


def _summary(customer: Customer, lang: str) -> dict[str, Any]:
    return {
        "id": customer.id,
        "name": customer.name,
        "kind": customer.kind,
        "kind_label": label("customer_kind", customer.kind, lang),
        "enterprise_tier": customer.enterprise_tier,
        "tier_label": label("tier", customer.enterprise_tier, lang),
        "phone": customer.phone,
        "contact_name": customer.contact_name,
        "email": customer.email,
        "preferred_channel": customer.preferred_channel,
        "language": customer.language,
        "addresses": [site.address for site in customer.sites],
    }


# ---------------------------------------------------------------- the customer card


def _line_view(line: LineRecord, lang: str) -> dict[str, Any]:
    return {
        "id": line.id,
        "access_type": line.access_type,
        "circuit_no": line.circuit_no,
        "product": line.product,
        "product_label": label("product", line.product, lang),
        "route_length_m": line.route_length_m,
        "switch_id": line.switch_id,
        "switch_model": line.switch_model,
        "switch_occupancy_pct": line.switch_occupancy_pct,
        "uplink_raised": bool(line.uplink_raised),
    }


def site_view(site: Site, lang: str) -> dict[str, Any]:
    """A site with its lines (access type, circuit number, product, route length), as the card shows it."""
    return {
        "id": site.id,
        "customer_id": site.customer_id,
        "address": site.address,
        "district": site.district,
        "lat": site.lat,
        "lon": site.lon,
        "lines": [_line_view(line, lang) for line in sorted(site.lines, key=lambda line: line.id)],
    }


def _open_order_view(order: WorkOrder, repeat_contacts: int, lang: str) -> dict[str, Any]:
    return {
        "id": order.id,
        "code": order.code,
        "kind": order.kind,
        "kind_label": label("kind", order.kind, lang),
        "product": order.product,
        "product_label": label("product", order.product, lang),
        "priority": order.priority,
        "priority_label": label("priority", order.priority, lang),
        "state": order.state,
        "state_label": label("state", order.state, lang),
        "site_id": order.site_id,
        "line_id": order.line_id,
        "description": order.description,
        "received_at": order.received_at or order.created_at,
        "restore_deadline": order.restore_deadline,
        "repeat_contacts": repeat_contacts,
    }


def open_orders_of(session: Session, customer_id: int) -> list[WorkOrder]:
    """The customer's orders still needing work, newest first."""
    stmt = (
        select(WorkOrder)
        .where(WorkOrder.customer_id == customer_id, WorkOrder.state.in_(OPEN_STATES))
        .order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
    )
    return list(session.scalars(stmt))


def customer_card_for(session: Session, actor: Actor, customer_id: int, lang: str = "zh") -> dict[str, Any]:
    """What an agent reads with the customer on the line: the customer, their sites with
    each line (access type, circuit number, product, route length) and their open orders
    (with how often each was called about again). Audited for staff; a customer sees only
    their own (another's is a 404 like a missing one)."""
    customer = get_customer_for(session, actor, customer_id)
    orders = open_orders_of(session, customer.id)
    calls = repeat_contact_counts(session, [o.id for o in orders])
    return {
        **_summary(customer, lang),
        "sites": [site_view(site, lang) for site in sorted(customer.sites, key=lambda s: s.id)],
        "open_orders": [_open_order_view(o, calls.get(o.id, 0), lang) for o in orders],
    }
