"""A fault an enterprise customer reports (portal page or API): the site and
circuit it concerns, what is wrong, since when, a contact on site and an
optional photo. It becomes a repair order from the customer portal through
the one intake (:func:`workorders.service.create_order`), with the deadlines
of the company's tier.

No column holds "since when" and the contact on site: they are written into
the order's description under the customer's text (both languages' words, so
any reader understands them) and kept in the ``fault_reported`` audit event.
The photo is stored like an evidence photo (checked and cleaned by
:mod:`workorders.evidence`) under the fixed item ``customer_report``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core.actor import Actor
from core.clock import now
from core.errors import N_, Invalid, NotFound
from workorders import evidence, photos
from workorders import service as wo_service
from workorders.models import Site, WorkOrder

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


def report_text(
    description: str | None,
    fault_since: datetime | None = None,
    site_contact_name: str | None = None,
    site_contact_phone: str | None = None,
) -> str | None:
    """The order's description: the customer's words, then since when and whom to call on site."""
    parts = [(description or "").strip()]
    if fault_since is not None:
        if fault_since > now():
            message = N_("The fault cannot start in the future.")
            raise Invalid(message, errors={"fault_since": [message]})
        parts.append(f"故障开始 / Since: {fault_since:%Y-%m-%d %H:%M}")
    contact = " ".join(p.strip() for p in (site_contact_name, site_contact_phone) if p and p.strip())
    if contact:
        parts.append(f"现场联系人 / On-site contact: {contact}")
    text = "\n".join(p for p in parts if p)
    return text or None


def take_order(session: Session, actor: Actor, data: dict) -> WorkOrder:
    """Intake for ``POST /workorders``: a customer naming their own company gets another
    company's site as a 404 like a missing one (another company named outright stays the
    intake's 422 "Unknown customer", as for a missing one); the report's fields go into
    the description, then the one intake."""
    if actor.role == "customer":
        if data.get("customer_id") == actor.customer_id:
            site_for_report(session, actor, data["site_id"])
        data = {**data, "source": "portal"}
    report = {field: data.pop(field, None) for field in REPORT_FIELDS}
    data["description"] = report_text(data.get("description"), **report)
    order = wo_service.create_order(session, actor, data)
    if any(value is not None for value in report.values()):
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
            "fault_since": since.isoformat() if since else None,
            "site_contact_name": report.get("site_contact_name"),
            "site_contact_phone": report.get("site_contact_phone"),
        },
    )
