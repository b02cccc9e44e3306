"""A fault an enterprise customer reports (portal page or API): the site and
circuit it concerns, what is wrong, since when, a contact on site and an
optional photo. It becomes a repair order from the customer portal through
the one intake (:func:`workorders.service.create_order`), with the deadlines
of the company's tier.

"Since when" and the contact on site are the order's own fields
(``fault_since``, ``site_contact_name``, ``site_contact_phone``), shown to the
technician, the console and the customer, and kept in the ``fault_reported``
audit event.
The photo is stored like an evidence photo (checked and cleaned by
:mod:`workorders.evidence`) under the fixed item ``customer_report``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Conflict, Invalid, NotFound, refuse
from workorders import evidence, lifecycle, photos
from workorders import service as wo_service
from workorders.models import Photo, Site, WorkOrder

REPORT_PHOTO_ITEM = "customer_report"
SITE_NOT_FOUND = N_("Site %(id)s not found.")
REPORT_FIELDS = ("fault_since", "site_contact_name", "site_contact_phone")


def company_sites(session: Session, customer_id: int) -> list[Site]:
    """The company's sites (with their lines), by address."""
    stmt = select(Site).where(Site.customer_id == customer_id).order_by(Site.address, Site.id)
    return list(session.scalars(stmt))


def site_for_report(session: Session, actor: Actor, site_id: int) -> Site:
    """The site a fault is reported for; a customer asking for another company's
    site gets the 404 a missing one gets."""
    site = session.get(Site, site_id)
    if site is None or (actor.role == "customer" and site.customer_id != actor.customer_id):
        raise NotFound(SITE_NOT_FOUND, params={"id": site_id})
    return site


def check_report(report: dict) -> dict:
    """The report's fields, trimmed; a fault cannot start in the future."""
    since = report.get("fault_since")
    if since is not None and since > now():
        message = N_("The fault cannot start in the future.")
        raise Invalid(message, errors={"fault_since": [message]})
    return {
        field: (value.strip() or None) if isinstance(value, str) else value for field, value in report.items()
    }


def take_order(session: Session, actor: Actor, data: dict) -> WorkOrder:
    """Intake for ``POST /workorders``: a customer naming their own company gets another
    company's site as a 404 like a missing one (another company named outright stays the
    intake's 422 "Unknown customer", as for a missing one); the report's fields are
    checked, the one intake takes the order, and the fields are set on it."""
    if actor.role == "customer":
        if data.get("customer_id") == actor.customer_id:
            site_for_report(session, actor, data["site_id"])
        data = {**data, "source": "portal"}
    data = dict(data)
    report = check_report({field: data.pop(field, None) for field in REPORT_FIELDS})
    order = wo_service.create_order(session, actor, data)
    if any(value is not None for value in report.values()):
        for field, value in report.items():
            setattr(order, field, value)
        _record_report(session, actor, order, report)
    return order


def report_fault(
    session: Session,
    actor: Actor,
    data: dict,
    photo: tuple[bytes, str | None] | None = None,
    photo_dir: str | None = None,
) -> WorkOrder:
    """A fault from the portal page: ``data`` holds site_id, line_id, product,
    service_down, description and the report's fields; ``photo`` the raw bytes and
    their declared type. The photo is checked before the order is taken."""
    site = site_for_report(session, actor, data["site_id"])
    clean = evidence.inspect_and_clean(*photo) if photo is not None else None
    order = take_order(
        session,
        actor,
        {
            **data,
            "kind": "repair",
            "priority": data.get("priority") or "P3",
            "source": "portal",
            "customer_id": site.customer_id,
        },
    )
    if clean is not None and photo_dir is not None:
        photos.keep(session, actor, order, REPORT_PHOTO_ITEM, clean, photo_dir)
    return order


def _record_report(session: Session, actor: Actor, order: WorkOrder, report: dict) -> None:
    since = report.get("fault_since")
    audit.record(
        session,
        actor,
        "fault_reported",
        "work_order",
        order.id,
        after={
            "fault_since": since,
            "site_contact_name": report.get("site_contact_name"),
            "site_contact_phone": report.get("site_contact_phone"),
        },
    )


def add_report_photo(
    session: Session, actor: Actor, order: WorkOrder, raw: bytes, declared_type: str | None, photo_dir: str
) -> tuple[Photo, bool]:
    """A photo the customer adds to their open fault (``POST .../report-photos``): checked and
    cleaned like any evidence photo, stored under ``customer_report``; the same picture twice
    is stored once. ``order`` was read through get_order_for (another company's is a 404)."""
    if order.kind != "repair" or not lifecycle.is_open(order):
        raise refuse(
            Conflict,
            N_("Photos of a fault are added while the fault is open."),
            slug="fault-not-open",
            current_state=order.state,
        )
    clean = evidence.inspect_and_clean(raw, declared_type)
    existing = session.scalar(
        select(Photo).where(
            Photo.order_id == order.id, Photo.item_id == REPORT_PHOTO_ITEM, Photo.sha256 == clean.sha256
        )
    )
    if existing is not None:
        return existing, False
    return photos.keep(session, actor, order, REPORT_PHOTO_ITEM, clean, photo_dir), True
