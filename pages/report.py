"""The customer portal's fault report and an order's comments (routes on the ``web`` blueprint).

An enterprise customer picks one of their company's sites and circuits, says
what is wrong, since when and whom to call on site, may add a photo, and gets
the new order's code and promised times. The order goes through the one intake
(:mod:`workorders.fault_reports`), so it lands in the monitoring center's queue
like any other, its source the customer portal. Forms are CSRF-protected;
refusals are shown on the page in the reader's language.
"""

from __future__ import annotations

from flask import current_app, g, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import CombinedMultiDict
from wtforms import BooleanField, DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

import standards
from core.api import current_lang
from core.auth import load_current_user, require_roles
from core.db import get_session
from core.errors import DomainError
from pages.views import bp
from workorders import comments, fault_reports, labels
from workorders import service as wo_service
from workorders.models import Site

DEFAULT_PRODUCT = "lan_dedicated"


class FaultReportForm(FlaskForm):
    circuit = SelectField(_l("Site and circuit"), validators=[DataRequired()], validate_choice=False)
    product = SelectField(_l("Service"), validators=[DataRequired()], default=DEFAULT_PRODUCT)
    service_down = BooleanField(_l("The service is down"))
    description = TextAreaField(_l("What is wrong"), validators=[DataRequired(), Length(min=1, max=2000)])
    fault_since = DateTimeLocalField(_l("Since when"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    contact_name = StringField(_l("Contact on site"), validators=[DataRequired(), Length(max=80)])
    contact_phone = StringField(
        _l("Contact's phone"), validators=[DataRequired(), Regexp(r"^[0-9+\- ]{3,30}$")]
    )
    photo = FileField(_l("Photo (optional)"))


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(min=1, max=comments.MAX_BODY)])


def _form(cls: type[FlaskForm]) -> FlaskForm:
    """A page form read from the posted form fields only (a JSON body is no form: it fails validation)."""
    if request.method == "POST":
        return cls(formdata=CombinedMultiDict((request.files, request.form)))
    return cls()


def _circuit_choices(sites: list[Site]) -> list[tuple[str, str]]:
    """One choice per line ("site:line"), and the site itself when it has no line record."""
    choices = []
    for site in sites:
        if not site.lines:
            choices.append((f"{site.id}:", site.address))
        for line in site.lines:
            circuit = _(
                "Circuit %(id)s (%(access)s)", id=line.circuit_no or line.id, access=line.access_type.upper()
            )
            if line.product:
                circuit = f"{circuit} · {labels.label('product', line.product, current_lang())}"
            choices.append((f"{site.id}:{line.id}", f"{site.address} · {circuit}"))
    return choices


def _parse_circuit(value: str) -> tuple[int, int | None]:
    site, _sep, line = (value or "").partition(":")
    return (int(site) if site.isdigit() else 0), (int(line) if line.isdigit() else None)


def _photo(form: FaultReportForm) -> tuple[bytes, str | None] | None:
    upload = form.photo.data
    if upload is None or not getattr(upload, "filename", ""):
        return None
    return upload.read(), upload.mimetype


@bp.route("/portal/report", methods=["GET", "POST"])
@require_roles("customer")
def report_fault():
    """Report a fault for one of the company's sites or circuits."""
    user = load_current_user()
    session = get_session()
    form = _form(FaultReportForm)
    form.circuit.choices = _circuit_choices(fault_reports.company_sites(session, g.actor.customer_id))
    form.product.choices = list(labels.labels("product").items())
    error, status, order = None, 200, None
    if form.validate_on_submit():
        site_id, line_id = _parse_circuit(form.circuit.data)
        data = {
            "site_id": site_id,
            "line_id": line_id,
            "product": form.product.data if form.product.data in standards.PRODUCTS else DEFAULT_PRODUCT,
            "service_down": bool(form.service_down.data),
            "description": form.description.data,
            "fault_since": form.fault_since.data,
            "site_contact_name": form.contact_name.data,
            "site_contact_phone": form.contact_phone.data,
        }
        try:
            order = fault_reports.report_fault(
                session, g.actor, data, _photo(form), current_app.config["PHOTO_DIR"]
            )
        except DomainError as exc:
            error, status = exc.translated(), exc.status
        else:
            status = 201
    elif form.is_submitted():
        error, status = _("Some fields are missing or invalid."), 422
    view = wo_service.customer_view(session, order, current_lang()) if order is not None else None
    return render_template("portal_report.html", user=user, form=form, error=error, order=view), status


@bp.route("/portal/orders/<int:order_id>/comments", methods=["GET", "POST"])
@require_roles("customer")
def order_comments(order_id: int):
    """An order's comments with the staff handling it, and a form to add one."""
    user = load_current_user()
    session = get_session()
    order = wo_service.get_order_for(session, g.actor, order_id)  # another company's: 404
    form = _form(CommentForm)
    error, status = None, 200
    if form.validate_on_submit():
        try:
            comments.add_comment(session, g.actor, order, form.body.data)
        except DomainError as exc:
            error, status = exc.translated(), exc.status
        else:
            status = 201
            form = CommentForm(formdata=None)
    elif form.is_submitted():
        error, status = _("A comment holds 1 to %(max)s characters.", max=comments.MAX_BODY), 422
    items = comments.list_comments(session, g.actor, order, current_lang())
    view = wo_service.customer_view(session, order, current_lang())
    page = render_template(
        "portal_comments.html", user=user, order=view, comments=items, form=form, error=error
    )
    return page, status
