"""The notification outbox for staff: what an order's customer was told, what is waiting or
failed, and sending the failed ones again. Thin: parse, call the service, return."""

from __future__ import annotations

from flask import g
from marshmallow import Schema, fields, validate

from core.api import BEARER, Blueprint
from core.auth import require_roles
from core.db import get_session
from core.schemas import CityDateTime
from workorders import notifications, service
from workorders.lifecycle import STAFF

blp = Blueprint(
    "notifications", __name__, url_prefix="/api/v1", description="Messages to customers: the outbox"
)

STAFF_ROLES = tuple(sorted(STAFF))
STATES = ("pending", "sent", "failed")


def _masked(row) -> str:
    """The address as staff lists show it: 138******78, o***@example.com."""
    recipient = row.recipient or ""
    if row.channel == "email":
        name, _at, domain = recipient.partition("@")
        return f"{name[:1]}***@{domain}"
    return recipient[:3] + "*" * max(len(recipient) - 5, 0) + recipient[-2:]


class NotificationSchema(Schema):
    id = fields.Integer(metadata={"description": "Also the message id the channel sees."})
    order_id = fields.Integer(allow_none=True)
    customer_id = fields.Integer(allow_none=True)
    event = fields.String(metadata={"description": f"One of {', '.join(notifications.EVENTS)}."})
    channel = fields.String(metadata={"description": "email | sms"})
    recipient = fields.Function(_masked, metadata={"description": "Masked address."})
    language = fields.String()
    subject = fields.String(allow_none=True)
    body = fields.String()
    state = fields.String(metadata={"description": "pending | sent | failed"})
    attempts = fields.Integer()
    next_attempt_at = CityDateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    sent_at = CityDateTime(allow_none=True)
    created_at = CityDateTime()


class OutboxQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf(STATES))
    event = fields.String(validate=validate.OneOf(notifications.EVENTS))
    channel = fields.String(validate=validate.OneOf(notifications.CHANNELS))
    customer_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    order_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=500))
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2**31 - 1))


@blp.route("/notifications")
@require_roles(*STAFF_ROLES)
@blp.arguments(OutboxQuerySchema, location="query")
@blp.response(200, NotificationSchema(many=True))
@blp.doc(security=BEARER)
def outbox_list(args):
    """The outbox, newest first: e.g. ``?state=failed`` for the messages that did not go out."""
    return notifications.list_outbox(get_session(), args)


@blp.route("/workorders/<int:order_id>/notifications")
@require_roles(*STAFF_ROLES)
@blp.response(200, NotificationSchema(many=True))
@blp.doc(security=BEARER)
def order_notifications(order_id: int):
    """What the order's customer was told, or is about to be, oldest first."""
    session = get_session()
    order = service.get_order_for(session, g.actor, order_id)
    service.record_personal_reads(session, g.actor, [order], "notifications")
    return notifications.of_order(session, order)


@blp.route("/workorders/<int:order_id>/notifications/retry", methods=["POST"])
@require_roles(*STAFF_ROLES)
@blp.response(200, NotificationSchema(many=True))
@blp.doc(security=BEARER)
def order_notifications_retry(order_id: int):
    """Send the order's failed messages again, to the customer's current address; the rows retried."""
    session = get_session()
    order = service.get_order_for(session, g.actor, order_id)
    return notifications.retry_failed(session, g.actor, order)
