"""Company accounts: an enterprise customer, its account manager, its logins, its sites and circuits.

A company is an enterprise :class:`workorders.models.Customer`. Its users are
customer logins (``User.customer_id``); one or more of them is the company's
administrator (``User.company_admin``), who may invite and remove colleagues.
An administrator and the company's account manager (a staff user) may do so
too; only an administrator names the account manager.

Who may see a company: staff (their reads are audited as reads of personal
data) and the company's own users. Anyone else, and any id that is not a
company, gets the same 404 a missing id gets, word for word.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from core import audit
from core.accounts import create_user
from core.actor import Actor
from core.auth import revoke_family
from core.errors import N_, Conflict, Forbidden, Invalid, NotFound
from core.models import STAFF_ROLES, ApiToken, User
from workorders.models import Customer, Site, WorkOrder

USER_FIELDS = ("username", "password", "display_name", "phone", "email", "company_admin")


def get_company_for(session: Session, actor: Actor, company_id: int) -> Customer:
    """The company if the actor may see it; otherwise 404 (never reveal that it exists)."""
    company = session.get(Customer, company_id)
    hidden = (
        company is None
        or company.kind != "enterprise"
        or not (actor.is_staff or actor.role == "customer")
        or (actor.role == "customer" and actor.customer_id != company_id)
    )
    if hidden:
        raise NotFound(N_("Company %(id)s not found."), params={"id": company_id})
    if actor.is_staff:
        audit.record(session, actor, "read_personal", "customer", company.id, after={"via": "company"})
    return company


def may_manage_users(session: Session, actor: Actor, company: Customer) -> bool:
    """An administrator, the company's account manager, or the company's own administrator."""
    if actor.role == "admin":
        return True
    if actor.is_staff:
        return actor.user_id is not None and actor.user_id == company.account_manager_id
    if actor.role == "customer" and actor.customer_id == company.id and actor.user_id is not None:
        user = session.get(User, actor.user_id)
        return bool(user is not None and user.active and user.company_admin)
    return False


def require_user_manager(session: Session, actor: Actor, company: Customer) -> None:
    """403 unless the actor may add and remove the company's logins."""
    if not may_manage_users(session, actor, company):
        message = N_("Only an administrator, the account manager or the company's administrator may do this.")
        raise Forbidden(message)


def company_view(session: Session, company: Customer) -> dict[str, Any]:
    """The company, its account manager and how many users and sites it has."""
    manager = session.get(User, company.account_manager_id) if company.account_manager_id else None
    return {
        "id": company.id,
        "name": company.name,
        "kind": company.kind,
        "enterprise_tier": company.enterprise_tier,
        "phone": company.phone,
        "contact_name": company.contact_name,
        "account_manager": None
        if manager is None
        else {
            "id": manager.id,
            "display_name": manager.display_name,
            "phone": manager.phone,
            "email": manager.email,
        },
        "users": len(company_users(session, company)),
        "sites": len(company.sites),
    }


def company_users(session: Session, company: Customer) -> list[User]:
    """The company's customer logins, active or removed, oldest first."""
    stmt = select(User).where(User.customer_id == company.id, User.role == "customer").order_by(User.id)
    return list(session.scalars(stmt))


def add_user(session: Session, actor: Actor, company: Customer, data: dict) -> User:
    """Invite a colleague: a customer login of this company.

    Only an administrator or the account manager may make a new company
    administrator; the company's own administrator invites ordinary users.
    """
    require_user_manager(session, actor, company)
    fields = {k: data[k] for k in USER_FIELDS if k in data}
    if fields.get("company_admin") and actor.role == "customer":
        message = N_("Only an administrator or the account manager may name a company administrator.")
        raise Forbidden(message)
    user = create_user(session, actor, fields | {"role": "customer", "customer_id": company.id})
    audit.record(
        session,
        actor,
        "company_user_added",
        "customer",
        company.id,
        after={"user_id": user.id, "username": user.username, "company_admin": bool(user.company_admin)},
    )
    return user


def remove_user(session: Session, actor: Actor, company: Customer, user_id: int) -> User:
    """Deactivate a company's login and revoke every token and page session it holds."""
    require_user_manager(session, actor, company)
    user = session.get(User, user_id)
    if user is None or user.customer_id != company.id or user.role != "customer":
        raise NotFound(N_("User %(id)s not found."), params={"id": user_id})
    if user.id == actor.user_id:
        raise Conflict(N_("You cannot remove your own login."), slug="own-login")
    families = session.scalars(
        select(ApiToken.family).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).distinct()
    )
    for family in list(families):
        revoke_family(session, family)
    was_active = user.active
    user.active = False
    session.flush()
    audit.record(
        session,
        actor,
        "company_user_removed",
        "customer",
        company.id,
        before={"user_id": user.id, "active": was_active},
        after={"user_id": user.id, "active": False},
    )
    return user


def set_account_manager(session: Session, actor: Actor, company: Customer, user_id: int | None) -> Customer:
    """Name the company's account manager, an active staff user (administrators only)."""
    if actor.role != "admin":
        raise Forbidden(N_("Only an administrator may name a company's account manager."))
    if user_id is not None:
        manager = session.get(User, user_id)
        if manager is None or not manager.active or manager.role not in STAFF_ROLES:
            message = N_("The account manager must be an active staff user.")
            raise Invalid(message, errors={"account_manager_id": [message]})
    before = company.account_manager_id
    company.account_manager_id = user_id
    session.flush()
    audit.record(
        session,
        actor,
        "account_manager_set",
        "customer",
        company.id,
        before={"account_manager_id": before},
        after={"account_manager_id": user_id},
    )
    return company


def company_sites(session: Session, company: Customer) -> list[dict[str, Any]]:
    """The company's sites, each with its circuits (line records) and the products
    on each circuit: its own product and those ordered on it."""
    sites = session.scalars(
        select(Site).options(selectinload(Site.lines)).where(Site.customer_id == company.id).order_by(Site.id)
    ).all()
    products: dict[int, set[str]] = {}
    rows = session.execute(
        select(WorkOrder.line_id, WorkOrder.product).where(
            WorkOrder.customer_id == company.id, WorkOrder.line_id.is_not(None)
        )
    )
    for line_id, product in rows:
        products.setdefault(line_id, set()).add(product)
    return [
        {
            "id": site.id,
            "address": site.address,
            "district": site.district,
            "lat": site.lat,
            "lon": site.lon,
            "circuits": [
                {
                    "id": line.id,
                    "circuit_no": line.circuit_no,
                    "product": line.product,
                    "access_type": line.access_type,
                    "route_length_m": line.route_length_m,
                    "switch_id": line.switch_id,
                    "switch_model": line.switch_model,
                    "products": sorted(products.get(line.id, set()) | ({line.product} - {None})),
                }
                for line in sorted(site.lines, key=lambda line: line.id)
            ],
        }
        for site in sites
    ]
