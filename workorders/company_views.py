"""Company account endpoints: the company, its logins, its sites and circuits. Thin: parse, call, answer.

The company's id is named ``customer_id`` in the paths: a company is an
enterprise customer, and the id is the same one ``/customers/<id>`` takes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from core.api import BEARER, Blueprint
from core.auth import require_roles
from core.db import get_session
from core.errors import N_
from core.schemas import DbId
from workorders import companies
from workorders.lifecycle import STAFF

blp = Blueprint(
    "companies",
    __name__,
    url_prefix="/api/v1",
    description="Company accounts: an enterprise customer's logins, account manager, sites and circuits",
)

READ_ROLES = (*sorted(STAFF), "customer")


class AccountManagerSchema(Schema):
    id = fields.Integer()
    display_name = fields.String()
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class CompanySchema(Schema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    enterprise_tier = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    account_manager = fields.Nested(AccountManagerSchema, allow_none=True)
    users = fields.Integer(metadata={"description": "How many logins the company has (removed ones too)."})
    sites = fields.Integer()


class CompanyUpdateSchema(Schema):
    account_manager_id = DbId(required=True, allow_none=True)


class CompanyUserCreateSchema(Schema):
    username = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[A-Za-z0-9_.-]{3,80}$", error=N_("Use 3 to 80 letters, digits or _.- characters.")
        ),
    )
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=8, max=200))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    phone = fields.String(validate=validate.Length(max=30))
    email = fields.Email()
    company_admin = fields.Boolean(load_default=False)


class CompanyUserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    company_admin = fields.Boolean()
    active = fields.Boolean()


class CircuitSchema(Schema):
    id = fields.Integer(metadata={"description": "The line record's id: report a fault with it as line_id."})
    circuit_no = fields.String(
        allow_none=True, metadata={"description": "The circuit's number on the contract."}
    )
    product = fields.String(allow_none=True, metadata={"description": "The product the circuit carries."})
    access_type = fields.String()
    route_length_m = fields.Float(allow_none=True)
    switch_id = fields.String(allow_none=True)
    switch_model = fields.String(allow_none=True)
    products = fields.List(fields.String(), metadata={"description": "Products ordered on this circuit."})


class CompanySiteSchema(Schema):
    id = fields.Integer()
    address = fields.String()
    district = fields.String(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    circuits = fields.List(fields.Nested(CircuitSchema))


def user_managers_only(view: Callable) -> Callable:
    """The company (404 when the caller may not see it), then 403 unless the caller
    manages its logins: both before the body is read, so neither a stranger nor a
    colleague learns anything from the validation of what they sent."""

    @functools.wraps(view)
    def wrapper(*args, customer_id: int, **kwargs):
        session = get_session()
        g.company = companies.get_company_for(session, g.actor, customer_id)
        companies.require_user_manager(session, g.actor, g.company)
        return view(*args, customer_id=customer_id, **kwargs)

    return wrapper


@blp.route("/companies/<int:customer_id>")
class Company(MethodView):
    @require_roles(*READ_ROLES)
    @blp.response(200, CompanySchema)
    @blp.doc(security=BEARER)
    def get(self, customer_id: int):
        """The company and its account manager (customers: their own company only)."""
        session = get_session()
        company = companies.get_company_for(session, g.actor, customer_id)
        return companies.company_view(session, company)

    @require_roles("admin")
    @blp.arguments(CompanyUpdateSchema)
    @blp.response(200, CompanySchema)
    @blp.doc(security=BEARER)
    def patch(self, args, customer_id: int):
        """Name the company's account manager (administrators only)."""
        session = get_session()
        company = companies.get_company_for(session, g.actor, customer_id)
        companies.set_account_manager(session, g.actor, company, args["account_manager_id"])
        return companies.company_view(session, company)


@blp.route("/companies/<int:customer_id>/users")
class CompanyUsers(MethodView):
    @require_roles(*READ_ROLES)
    @blp.response(200, CompanyUserSchema(many=True))
    @blp.doc(security=BEARER)
    def get(self, customer_id: int):
        """The company's logins, removed ones included (marked inactive)."""
        session = get_session()
        company = companies.get_company_for(session, g.actor, customer_id)
        return companies.company_users(session, company)

    @require_roles(*READ_ROLES)
    @user_managers_only
    @blp.arguments(CompanyUserCreateSchema)
    @blp.response(201, CompanyUserSchema)
    @blp.doc(security=BEARER)
    def post(self, args, customer_id: int):
        """Add a login to the company: an administrator, its account manager or its own administrator."""
        return companies.add_user(get_session(), g.actor, g.company, args)


@blp.route("/companies/<int:customer_id>/users/<int:user_id>", methods=["DELETE"])
@require_roles(*READ_ROLES)
@user_managers_only
@blp.response(204)
@blp.doc(security=BEARER)
def company_user_remove(customer_id: int, user_id: int):
    """Remove a login: it is deactivated and every token it holds revoked."""
    companies.remove_user(get_session(), g.actor, g.company, user_id)


@blp.route("/companies/<int:customer_id>/sites")
@require_roles(*READ_ROLES)
@blp.response(200, CompanySiteSchema(many=True))
@blp.doc(security=BEARER)
def company_sites(customer_id: int):
    """The company's sites, each with its circuits."""
    session = get_session()
    company = companies.get_company_for(session, g.actor, customer_id)
    return companies.company_sites(session, company)
