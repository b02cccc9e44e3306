"""Safe retries: a request sent again with the same Idempotency-Key gets the first answer.

A phone on one bar of signal often never sees the answer to a request the server
did handle. It sends the request again with the same key; the server answers
with the status and body it gave the first time and changes nothing. The same
key with a different request is refused (422). Keys belong to one user.

The answer is stored in the same transaction as the change it describes, so a
change is never remembered without its answer nor answered without being made.
Refusals by the service (409, 422) are remembered too: they are the first
answer. Requests that never ran (malformed JSON, failed validation, 5xx) are not.

These are plain functions on a session, used by the view decorator
(``mobile_api.views.idempotent``) and by the sync endpoint for its actions.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import N_, DomainError, Invalid, refuse
from mobile_api.models import IdempotencyRecord
from mobile_api.schemas import IDEMPOTENCY_KEY_PATTERN

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
REMEMBERED_REFUSALS = frozenset({409, 422})
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)

HEADER_DOC = {
    "in": "header",
    "name": HEADER,
    "required": False,
    "description": "Any string of 8-100 letters, digits and _.:- chosen by the phone for "
    "this action (a UUID will do). A retry with the same key returns the "
    "first answer and changes nothing.",
    "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN},
}


class BadIdempotencyKey(DomainError):
    status = 400
    slug = "bad-idempotency-key"


def fingerprint(method: str, path: str, body: Any) -> str:
    """A digest of what was asked: method, path and the body in canonical JSON."""
    canonical = json.dumps(
        [method.upper(), path, body], sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def find(session: Session, user_id: int, key: str) -> IdempotencyRecord | None:
    """The remembered answer for this user's key, if any."""
    return session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key)
    )


def check_same_request(record: IdempotencyRecord, method: str, path: str, digest: str) -> None:
    """Refuse (422) a key reused for a different request."""
    if (record.method, record.path, record.fingerprint) != (method.upper(), path, digest):
        raise refuse(
            Invalid,
            N_(
                "This Idempotency-Key was already used for a different "
                "request; use a new key for a new action."
            ),
            slug="idempotency-key-reused",
            first_request=f"{record.method} {record.path}",
        )


def remember(
    session: Session, user_id: int, key: str, method: str, path: str, digest: str, status: int, body: Any
) -> IdempotencyRecord:
    """Add the answer to the session; it is committed with the change it answers.
    Flushed here, so a concurrent retry with the same key fails now (unique key),
    where the caller answers as the first one did."""
    record = IdempotencyRecord(
        user_id=user_id,
        key=key,
        method=method.upper(),
        path=path,
        fingerprint=digest,
        response_status=status,
        response_body=body,
    )
    session.add(record)
    session.flush()
    return record


def validate_key(key: str) -> None:
    """Refuse (400) a key that is not 8-100 letters, digits or _.:- characters."""
    if not _KEY.match(key):
        raise refuse(
            BadIdempotencyKey, N_("The Idempotency-Key must be 8 to 100 letters, digits or _.:- characters.")
        )
