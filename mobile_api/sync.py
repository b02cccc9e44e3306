"""Offline sync: the actions a phone queued without signal, applied in order, each alone.

An action is the body of one of the phone's endpoints (``OPERATIONS``); its id is
its idempotency key, shared with the Idempotency-Key of that endpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from core.actor import Actor
from core.errors import N_, Conflict, DomainError, Invalid, refuse
from core.inputs import bad_text_fields, unstorable_text
from mobile_api import idempotency, schemas
from mobile_api.checklists import submit_checklist
from mobile_api.followups import record_followup, request_followup
from mobile_api.pings import record_pings
from mobile_api.service import current_of, order_for_sync, was_assigned_to
from mobile_api.status_changes import change_status
from workorders.models import WorkOrder


@dataclass(frozen=True)
class Operation:
    """A change the phone can queue offline, and the endpoint that makes it online."""

    method: str
    path: str  # with {order_id}
    schema: type[Schema]
    answer_schema: type[Schema]
    status_code: int
    run: Callable[..., dict[str, Any]]
    needs_order: bool = True


OPERATIONS: dict[str, Operation] = {
    "status": Operation(
        "POST",
        "/mobile/v1/orders/{order_id}/status",
        schemas.StatusChangeSchema,
        schemas.StatusAnswerSchema,
        200,
        change_status,
    ),
    "checklist": Operation(
        "POST",
        "/mobile/v1/orders/{order_id}/checklist",
        schemas.ChecklistSubmitSchema,
        schemas.ChecklistStateSchema,
        200,
        submit_checklist,
    ),
    "followup": Operation(
        "POST",
        "/mobile/v1/orders/{order_id}/followup",
        schemas.FollowUpResultSchema,
        schemas.FollowUpAnswerSchema,
        200,
        record_followup,
    ),
    "followup_request": Operation(
        "POST",
        "/mobile/v1/orders/{order_id}/followup-request",
        schemas.FollowUpRequestSchema,
        schemas.FollowUpRequestAnswerSchema,
        201,
        request_followup,
    ),
    "location": Operation(
        "POST",
        "/mobile/v1/location",
        schemas.PingBatchSchema,
        schemas.LocationAnswerSchema,
        200,
        lambda session, actor, _order, data, _lang: record_pings(session, actor, data),
        needs_order=False,
    ),
}

# Refusals that are not the action's first answer: the same id may be sent again.
_NOT_REMEMBERED = frozenset({"idempotency-key-reused", "unstorable-text"})


def apply_actions(
    session: Session,
    actor: Actor,
    actions: list[dict],
    lang: str,
    render_problem: Callable[[DomainError, str], dict],
) -> list[dict[str, Any]]:
    """Apply queued actions in order, each in its own transaction; answer each one.

    An action already applied (online or in an earlier sync) is answered
    "duplicate" with its first answer. A refused action does not undo the
    others; when the order was reassigned or cancelled the refusal says so and
    `current` tells the phone what is true now. `render_problem` turns a refusal
    into the problem body the matching endpoint would answer.
    """
    return [_sync_one(session, actor, action, lang, render_problem) for action in actions]


def _sync_one(
    session: Session,
    actor: Actor,
    action: dict,
    lang: str,
    render_problem: Callable[[DomainError, str], dict],
) -> dict[str, Any]:
    op = OPERATIONS[action["type"]]
    order_id = action.get("order_id") if op.needs_order else None
    path = op.path.format(order_id=order_id)
    payload = dict(action["payload"])
    if action.get("client_time") and "client_time" not in payload:
        payload["client_time"] = action["client_time"]
    result: dict[str, Any] = {
        "id": action["id"],
        "type": action["type"],
        "order_id": order_id,
        "response": None,
        "problem": None,
    }
    record = None
    try:
        # Checked here, not for the whole batch: one bad note fails alone.
        unstorable = bad_text_fields(payload)
        if unstorable:
            raise unstorable_text({"payload": unstorable})
        digest = idempotency.fingerprint(op.method, path, payload)
        record = idempotency.find(session, actor.user_id, action["id"])
        if record is not None:
            idempotency.check_same_request(record, op.method, path, digest)
            result |= _replayed(record)
        else:
            result |= _apply(session, actor, op, order_id, path, payload, digest, action, lang)
    except DomainError as exc:
        session.rollback()
        problem = render_problem(exc, path)
        if (
            record is None
            and exc.status in idempotency.REMEMBERED_REFUSALS
            and exc.slug not in _NOT_REMEMBERED
        ):
            idempotency.remember(
                session, actor.user_id, action["id"], op.method, path, digest, exc.status, problem
            )
            _commit_or_forget(session)
        result |= {"status": "refused", "http_status": exc.status, "problem": problem}
    result["current"] = _current_for(session, actor, order_id)
    return result


def _replayed(record) -> dict[str, Any]:
    body = record.response_body
    failed = record.response_status >= 400
    return {
        "status": "duplicate",
        "http_status": record.response_status,
        "response": None if failed else body,
        "problem": body if failed else None,
    }


def _apply(
    session: Session,
    actor: Actor,
    op: Operation,
    order_id: int | None,
    path: str,
    payload: dict,
    digest: str,
    action: dict,
    lang: str,
) -> dict[str, Any]:
    if op.needs_order and order_id is None:
        raise refuse(
            Invalid,
            N_("This action needs an order_id."),
            errors={"order_id": [N_("Required for this action type.")]},
        )
    try:
        data = op.schema().load(payload)
    except ValidationError as exc:
        raise refuse(Invalid, N_("Some fields are missing or invalid."), errors=exc.messages) from None
    order = order_for_sync(session, actor, order_id) if op.needs_order else None
    try:
        answer = op.run(session, actor, order, data, lang)
        body = op.answer_schema().dump(answer)
        idempotency.remember(
            session, actor.user_id, action["id"], op.method, path, digest, op.status_code, body
        )
        session.commit()
    except (StaleDataError, IntegrityError):
        session.rollback()
        raise refuse(
            Conflict,
            N_("The order changed while this action was applied; send it again."),
            slug="stale-version",
        ) from None
    return {"status": "applied", "http_status": op.status_code, "response": body}


def _commit_or_forget(session: Session) -> None:
    try:
        session.commit()
    except IntegrityError:  # the same key was remembered concurrently: keep that one
        session.rollback()


def _current_for(session: Session, actor: Actor, order_id: int | None) -> dict | None:
    if order_id is None:
        return None
    order = session.get(WorkOrder, order_id)
    if order is None:
        return None
    if order.technician_id == actor.technician_id or was_assigned_to(session, order_id, actor.technician_id):
        return current_of(order)
    return None
