"""Customers, their sites (addresses with coordinates) and the access line at each site."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import audit, geocoding
from core.actor import Actor
from core.errors import N_, NotFound
from core.geocoding import Geocoder
from workorders.models import Customer, LineRecord, Site


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


def get_customer_for(session: Session, actor: Actor, customer_id: int) -> Customer:
    """A customer the actor may see: staff see all, a customer only themself, a technician none."""
    customer = session.get(Customer, customer_id)
    hidden = actor.role == "technician" or (actor.role == "customer" and actor.customer_id != customer_id)
    if customer is None or hidden:
        raise NotFound(N_("Customer %(id)s not found."), params={"id": customer_id})
    if actor.is_staff:
        audit.record(session, actor, "read_personal", "customer", customer.id)
    return customer


def add_site(
    session: Session, actor: Actor, customer: Customer, data: dict, geocoder: Geocoder | None = None
) -> Site:
    """Add an address to a customer; without coordinates, ask the geocoder for them."""
    data = dict(data)
    if data.get("lat") is None or data.get("lon") is None:
        found = (geocoder or geocoding.configured()).geocode(data["address"])
        if found is not None:
            data["lat"], data["lon"] = found.latitude, found.longitude
            data["geocoded"] = True
    geocoded = data.pop("geocoded", False)
    site = Site(customer_id=customer.id, **data)
    session.add(site)
    session.flush()
    audit.record(session, actor, "site_created", "site", site.id, after=data | {"geocoded": geocoded})
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
