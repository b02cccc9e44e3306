"""Mobile API endpoints (/mobile/v1), and photo reading for staff (/api/v1).

Thin: parse, call the phone's service modules, answer. Mutating endpoints take
an Idempotency-Key (see mobile_api.idempotency) and are remembered by `idempotent`,
together with the answer a retry will get. Refusals are answered by `problem_for`,
in the reader's language down to each field's messages and a close-out's findings.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from http import HTTPStatus

from flask import Response, current_app, g, make_response, request, send_file
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.accounts import login_with_password, logout_current, refresh_tokens
from core.api import BEARER, Blueprint, current_lang
from core.auth import require_roles
from core.clock import now
from core.db import get_session
from core.errors import (
    N_,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    domain_problem,
    refuse,
)
from core.inputs import checks_text_per_item
from core.schemas import LoginSchema, RefreshSchema, TokenSchema
from core.throttle import login_door
from core.unit_of_work import keep_on_refusal
from dispatch.stock_planning import restock_stops
from mobile_api import checklists, followups, idempotency, pings, service, status_changes, stops
from mobile_api import sync as offline_sync
from mobile_api.idempotency import HEADER_DOC
from mobile_api.schemas import (
    ChecklistStateSchema,
    ChecklistSubmitSchema,
    FollowUpAnswerSchema,
    FollowUpRequestAnswerSchema,
    FollowUpRequestSchema,
    FollowUpResultSchema,
    LocationAnswerSchema,
    MeSchema,
    PhotoSchema,
    PingBatchSchema,
    RouteSchema,
    StatusAnswerSchema,
    StatusChangeSchema,
    StopSchema,
    SyncAnswerSchema,
    SyncRequestSchema,
    dump_stops,
    length,
)
from technicians import stock
from technicians.stock_schemas import VanSchema
from workorders import evidence, photos
from workorders import service as wo_service
from workorders.lifecycle import STAFF

blp = Blueprint("mobile", __name__, url_prefix="/mobile/v1", description="Technician phone app API")
staff_blp = Blueprint("photos", __name__, url_prefix="/api/v1", description="Evidence photos of work orders")

# Ids beyond the database's integer range are no route at all (404), not a database error.
ORDER_ID = "<int(min=1, max=2147483647):order_id>"
PHOTO_ID = "<string(length=32):photo_id>"
PHOTO_READ_ROLES = tuple(sorted(STAFF)) + ("customer",)
PHOTO_RESPONSES = {
    "200": {
        "description": "The photo (metadata stripped).",
        "content": {
            mime: {"schema": {"type": "string", "format": "binary"}} for mime in evidence.ACCEPTED_TYPES
        },
    }
}
UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["item_id", "file"],
                "additionalProperties": False,
                "properties": {
                    "item_id": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 60,
                        "description": "The checklist item the photo proves.",
                    },
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "JPEG, PNG or WebP, at most 10 MB and 40 megapixels.",
                    },
                },
            }
        }
    },
}


def refusals(blueprint: Blueprint, *statuses: int) -> Callable:
    """Document the problem-details answers an endpoint gives (besides `default`)."""

    def decorator(view: Callable) -> Callable:
        for status in statuses:
            view = blueprint.alt_response(status, response=HTTPStatus(status).name)(view)
        return view

    return decorator


READ = (401, 403, 404)
CHANGE = (400, 401, 403, 404, 409, 422)


# ---------------------------------------------------------------- errors and retries


def problem_for(exc: DomainError) -> Response:
    """A DomainError as problem details, in the caller's language; the findings of a
    refused close-out (stored with both languages) as the phone shows them elsewhere."""
    if "findings" in exc.extensions:
        findings = stops.findings_view(exc.extensions["findings"], current_lang())
        exc.extensions = exc.extensions | {"findings": findings}
    return domain_problem(exc)


def problem_body(exc: DomainError, instance: str) -> dict:
    """The problem details body for a sync action (its instance is the action's path)."""
    body = problem_for(exc).get_json()
    body["instance"] = instance
    return body


@blp.errorhandler(DomainError)
def _mobile_refusal(exc: DomainError) -> Response:
    return problem_for(exc)


@staff_blp.errorhandler(DomainError)
def _staff_refusal(exc: DomainError) -> Response:
    return problem_for(exc)


def field_view(view: Callable) -> Callable:
    """Only a technician login with a technician profile (401/403 otherwise)."""

    @require_roles("technician")
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if g.actor.technician_id is None:
            raise refuse(Forbidden, N_("This login has no technician profile."), slug="no-technician-profile")
        return view(*args, **kwargs)

    return wrapper


def _request_body() -> object:
    """What the request asked, independent of multipart boundaries and JSON spacing."""
    if request.mimetype == "multipart/form-data":
        return {
            "form": sorted(request.form.items(multi=True)),
            "files": {
                name: [storage.mimetype, _upload_sha256(storage)]
                for name, storage in request.files.items(multi=True)
            },
        }
    body = request.get_json(silent=True)
    if body is None and request.get_data():
        return {"raw_sha256": hashlib.sha256(request.get_data()).hexdigest()}
    return body


def _upload_sha256(storage) -> str:
    digest = hashlib.sha256()
    for chunk in iter(lambda: storage.stream.read(1 << 20), b""):
        digest.update(chunk)
    storage.stream.seek(0)
    return digest.hexdigest()


def _replay(record) -> Response:
    if record.response_body is None:
        response = Response(status=record.response_status)
    else:
        response = make_response(record.response_body, record.response_status)
        if record.response_status >= 400:
            response.mimetype = "application/problem+json"
    response.headers[idempotency.REPLAY_HEADER] = "true"
    return response


def idempotent(view: Callable) -> Callable:
    """Commit the change with its remembered answer; answer a retry as the first time.

    Goes under `field_view` (it needs g.actor) and above the flask-smorest argument
    and response decorators, so a retry is answered before its body is parsed.
    The change and its remembered answer end in the request's one transaction
    (core.db); a remembered refusal is kept although the request is refused.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        session = get_session()
        key = request.headers.get(idempotency.HEADER)
        if key is None:
            return make_response(view(*args, **kwargs))
        idempotency.validate_key(key)
        user_id, method, path = g.actor.user_id, request.method, request.path
        digest = idempotency.fingerprint(method, path, _request_body())
        record = idempotency.find(session, user_id, key)
        if record is not None:
            idempotency.check_same_request(record, method, path, digest)
            return _replay(record)
        try:
            try:
                response = make_response(view(*args, **kwargs))
            except DomainError as exc:
                if exc.status not in idempotency.REMEMBERED_REFUSALS:
                    raise
                session.rollback()
                response = problem_for(exc)
            if response.status_code < 300 or response.status_code in idempotency.REMEMBERED_REFUSALS:
                idempotency.remember(
                    session,
                    user_id,
                    key,
                    method,
                    path,
                    digest,
                    response.status_code,
                    response.get_json(silent=True),
                )
                keep_on_refusal()
            return response
        except (IntegrityError, StaleDataError):
            # A concurrent retry with the same key got there first: answer as it did.
            session.rollback()
            record = idempotency.find(session, user_id, key)
            if record is None:
                raise
            idempotency.check_same_request(record, method, path, digest)
            current_app.logger.info("concurrent retry of key %s answered by replay", key)
            return _replay(record)

    return wrapper


# ---------------------------------------------------------------- login


@blp.route("/auth/login", methods=["POST"])
@login_door
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@refusals(blp, 401)
def login(args):
    """Log in; returns an access token and a refresh token."""
    return login_with_password(args["username"], args["password"])


@blp.route("/auth/refresh", methods=["POST"])
@blp.arguments(RefreshSchema)
@blp.response(200, TokenSchema)
@refusals(blp, 401)
def refresh(args):
    """Rotate the refresh token (the old pair stops working)."""
    return refresh_tokens(args["refresh_token"])


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
@blp.doc(security=BEARER)
@refusals(blp, 401)
def logout():
    """Revoke this phone's access and refresh tokens."""
    logout_current()


# ---------------------------------------------------------------- the day


@blp.route("/me")
@field_view
@blp.response(200, MeSchema)
@blp.doc(security=BEARER)
@refusals(blp, 401, 403)
def me():
    """The technician: profile, skills and today's shift."""
    return stops.technician_profile(get_session(), g.actor, now().date())


@blp.route("/stock")
@field_view
@blp.response(200, VanSchema)
@blp.doc(security=BEARER)
@refusals(blp, 401, 403)
def my_van():
    """My van: each item I carry, with the serial numbers of modems, routers and set-top boxes."""
    return stock.van(get_session(), g.actor.technician_id)


@blp.route("/route")
@field_view
@blp.response(200, RouteSchema)
@blp.doc(security=BEARER)
@refusals(blp, 401, 403)
def route():
    """Today's stops in order: planned arrival, window, address, customer, findings,
    checklist template, SLA deadline and the statuses allowed now."""
    today = now().date()
    session = get_session()
    day = stops.todays_route(session, g.actor, today, current_lang())
    restocks = restock_stops(session, g.actor.technician_id, today)
    return {
        "technician_id": g.actor.technician_id,
        "date": today,
        "stops": dump_stops(day),
        "restocks": restocks,
    }


@blp.route(f"/orders/{ORDER_ID}")
@field_view
@blp.response(200, StopSchema)
@blp.doc(security=BEARER)
@refusals(blp, *READ)
def order_detail(order_id: int):
    """One of my orders as a stop (404 for anyone else's)."""
    return stops.order_stop(get_session(), g.actor, order_id, current_lang())


@blp.route(f"/orders/{ORDER_ID}/status", methods=["POST"])
@field_view
@idempotent
@blp.arguments(StatusChangeSchema)
@blp.response(200, StatusAnswerSchema)
@blp.doc(security=BEARER, parameters=[HEADER_DOC])
@refusals(blp, *CHANGE)
def order_status(args, order_id: int):
    """Send a status: en_route, arrived (GPS fix; far from the site is flagged), started,
    paused (reason; customer-caused reasons pause the SLA clock), resumed, completed
    (refused with the missing checklist items), failed (reason: the order needs a revisit)."""
    session = get_session()
    order = service.order_for_change(session, g.actor, order_id)
    return status_changes.change_status(session, g.actor, order, args, current_lang())


# ---------------------------------------------------------------- checklist and photos


@blp.route(f"/orders/{ORDER_ID}/checklist")
@field_view
@blp.response(200, ChecklistStateSchema)
@blp.doc(security=BEARER)
@refusals(blp, *READ)
def checklist(order_id: int):
    """The checklist, my answers so far, and what still stops close-out."""
    session = get_session()
    order = wo_service.get_order_for(session, g.actor, order_id)
    return checklists.checklist_state(session, order, current_lang())


@blp.route(f"/orders/{ORDER_ID}/checklist", methods=["POST"])
@field_view
@idempotent
@blp.arguments(ChecklistSubmitSchema)
@blp.response(200, ChecklistStateSchema)
@blp.doc(security=BEARER, parameters=[HEADER_DOC])
@refusals(blp, *CHANGE)
def checklist_submit(args, order_id: int):
    """Answer checklist items (measurements, confirmations, consent); the answer lists
    exactly what is still missing or failing."""
    session = get_session()
    order = service.order_for_change(session, g.actor, order_id)
    return checklists.submit_checklist(session, g.actor, order, args, current_lang())


@blp.route(f"/orders/{ORDER_ID}/photos", methods=["POST"])
@field_view
@idempotent
@blp.response(201, PhotoSchema)
@blp.alt_response(200, schema=PhotoSchema, description="The same picture was already stored for this item.")
@blp.doc(security=BEARER, parameters=[HEADER_DOC], requestBody=UPLOAD_BODY)
@refusals(blp, *CHANGE, 413, 415)
def photo_upload(order_id: int):
    """Upload an evidence photo for a checklist item (multipart: item_id, file)."""
    session = get_session()
    order = service.order_for_change(session, g.actor, order_id)
    item_id, upload = _upload_fields()
    raw = upload.stream.read(evidence.MAX_PHOTO_BYTES + 1)
    photo, created = photos.add_photo(
        session, g.actor, order, item_id, raw, upload.mimetype, current_app.config["PHOTO_DIR"]
    )
    return photos.photo_view(photo), 201 if created else 200


def _upload_fields():
    if request.mimetype != "multipart/form-data":
        raise refuse(evidence.UnsupportedMediaType, N_("Upload the photo as multipart/form-data."))
    errors: dict[str, list[str]] = {}
    for name in (set(request.form) | set(request.files)) - {"item_id", "file"}:
        errors[name] = [N_("Unknown field.")]
    item_id = request.form.get("item_id")
    try:
        length(1, 60)(item_id or "")
    except ValidationError as exc:
        errors["item_id"] = exc.messages
    upload = request.files.get("file")
    if upload is None:
        errors["file"] = [N_("Missing data for required field.")]
    if errors:
        raise refuse(Invalid, N_("Some fields are missing or invalid."), errors=errors)
    return item_id, upload


@blp.route(f"/orders/{ORDER_ID}/photos")
@field_view
@blp.response(200, PhotoSchema(many=True))
@blp.doc(security=BEARER)
@refusals(blp, *READ)
def photo_list(order_id: int):
    """The photos of one of my orders."""
    session = get_session()
    order = wo_service.get_order_for(session, g.actor, order_id)
    return [photos.photo_view(p) for p in photos.list_photos(session, order)]


@blp.route(f"/photos/{PHOTO_ID}")
@field_view
@blp.doc(security=BEARER, responses=PHOTO_RESPONSES)
@refusals(blp, *READ)
def photo_file(photo_id: str):
    """A photo of one of my orders (404 for anyone else's)."""
    return _send_photo(photo_id)


def _send_photo(photo_id: str) -> Response:
    session = get_session()
    photo = photos.photo_for(session, g.actor, photo_id)
    try:
        path = evidence.absolute_path(current_app.config["PHOTO_DIR"], photo.stored_path)
    except ValueError:
        path = None
    if path is None or not path.is_file():
        current_app.logger.error("photo %s: file %s is missing", photo.public_id, photo.stored_path)
        raise NotFound(photos.PHOTO_NOT_FOUND, params={"photo_id": photo_id})
    response = send_file(
        path,
        mimetype=photo.mime,
        max_age=0,
        etag=photo.sha256,
        download_name=f"{photo.public_id}.{path.suffix.lstrip('.')}",
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# ---------------------------------------------------------------- pings, follow-up, sync


@blp.route("/location", methods=["POST"])
@field_view
@idempotent
@blp.arguments(PingBatchSchema)
@blp.response(200, LocationAnswerSchema)
@blp.doc(security=BEARER, parameters=[HEADER_DOC])
@refusals(blp, 400, 401, 403, 422)
def location(args):
    """A batch of GPS pings (for the dispatcher's map); resent pings are skipped."""
    return pings.record_pings(get_session(), g.actor, args)


@blp.route(f"/orders/{ORDER_ID}/followup", methods=["POST"])
@field_view
@idempotent
@blp.arguments(FollowUpResultSchema)
@blp.response(200, FollowUpAnswerSchema)
@blp.doc(security=BEARER, parameters=[HEADER_DOC])
@refusals(blp, *CHANGE)
def followup(args, order_id: int):
    """Record the follow-up result of a completed order (unsatisfied: a repeat repair opens)."""
    session = get_session()
    order = service.order_for_change(session, g.actor, order_id)
    return followups.record_followup(session, g.actor, order, args, current_lang())


@blp.route(f"/orders/{ORDER_ID}/followup-request", methods=["POST"])
@field_view
@idempotent
@blp.arguments(FollowUpRequestSchema)
@blp.response(201, FollowUpRequestAnswerSchema)
@blp.doc(security=BEARER, parameters=[HEADER_DOC])
@refusals(blp, *CHANGE)
def followup_request(args, order_id: int):
    """Ask for a follow-up: a visit opens a follow-up order, a phone call is noted."""
    session = get_session()
    order = service.order_for_change(session, g.actor, order_id)
    return followups.request_followup(session, g.actor, order, args, current_lang())


@blp.route("/sync", methods=["POST"])
@checks_text_per_item
@field_view
@blp.arguments(SyncRequestSchema)
@blp.response(200, SyncAnswerSchema)
@blp.doc(security=BEARER)
@refusals(blp, 401, 403, 422)
def sync(args):
    """Apply actions queued offline, in order, each on its own; answer each one
    (applied, refused with the reason and what is current, or duplicate)."""
    results = offline_sync.apply_actions(
        get_session(), g.actor, args["actions"], current_lang(), problem_body
    )
    return {"results": results}


# ---------------------------------------------------------------- staff


@staff_blp.route(f"/workorders/{ORDER_ID}/photos")
@require_roles(*PHOTO_READ_ROLES)
@staff_blp.response(200, PhotoSchema(many=True))
@staff_blp.doc(security=BEARER)
@refusals(staff_blp, *READ)
def staff_photo_list(order_id: int):
    """An order's evidence photos (customers: their own orders only)."""
    session = get_session()
    order = wo_service.get_order_for(session, g.actor, order_id)
    return [photos.photo_view(p, "/api/v1") for p in photos.list_photos(session, order)]


@staff_blp.route(f"/photos/{PHOTO_ID}")
@require_roles(*PHOTO_READ_ROLES)
@staff_blp.doc(security=BEARER, responses=PHOTO_RESPONSES)
@refusals(staff_blp, *READ)
def staff_photo_file(photo_id: str):
    """An evidence photo, to anyone who may see its order (staff reads are audited)."""
    return _send_photo(photo_id)
