"""Delivering the outbox (``notifications``): claim a due row, send it, mark it.

Nothing is lost: a row stays ``pending`` until a channel took it, waiting longer
after each failure (``NOTIFY_BACKOFF_S * 2**(attempts-1)``, at most
``NOTIFY_BACKOFF_CAP_S``), and becomes ``failed`` only after ``NOTIFY_MAX_ATTEMPTS``
attempts or a refusal that no retry can change; ``last_error`` says why.

Nothing is sent twice, honestly stated: sending is at-least-once, and the receiver
dedupes. A worker claims a row by one conditional UPDATE (still pending, due, and
``attempts`` as it read them: a compare-and-set that works alike on SQLite and
PostgreSQL) that counts the attempt and moves ``next_attempt_at`` a lease ahead
(``NOTIFY_CLAIM_LEASE_S``), and commits before sending, so no other worker takes it
meanwhile. A worker killed after the channel took the message but before the row
was marked leaves it pending; when the lease runs out the next run sends it again,
with the same id: the email's ``Message-ID`` and the SMS gateway's
``Idempotency-Key`` are the row's id (:mod:`core.delivery`), and mail stores and
gateways keep one message per id. The tests' SMTP server and gateway stand-in do
the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core import jobs
from core.clock import now
from core.delivery import (
    Channel,
    DeliveryPolicy,
    OutboundMessage,
    PermanentDeliveryError,
    RetryableDeliveryError,
    configured,
)
from core.models import JobRun
from workorders.models import Notification

DELIVER_JOB = "deliver_notifications"


def due_ids(session: Session, at: datetime, limit: int) -> list[tuple[int, int, str]]:
    """(id, attempts, channel) of pending rows due at ``at``, the longest waiting first."""
    stmt = (
        select(Notification.id, Notification.attempts, Notification.channel)
        .where(
            Notification.state == "pending",
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= at),
        )
        .order_by(Notification.next_attempt_at, Notification.id)
        .limit(limit)
    )
    return [(row_id, attempts, channel) for row_id, attempts, channel in session.execute(stmt)]


def claim(session: Session, row_id: int, attempts: int, at: datetime, lease_s: int) -> bool:
    """Take the row for one attempt if nobody else did since it was read; committed at once."""
    result = session.execute(
        update(Notification)
        .where(
            Notification.id == row_id,
            Notification.state == "pending",
            Notification.attempts == attempts,
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= at),
        )
        .values(attempts=attempts + 1, next_attempt_at=at + timedelta(seconds=lease_s))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount == 1


def _mark(session: Session, row_id: int, **values: object) -> None:
    session.execute(
        update(Notification)
        .where(Notification.id == row_id, Notification.state == "pending")
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def deliver_one(
    session: Session,
    channels: Mapping[str, Channel],
    row_id: int,
    attempts: int,
    policy: DeliveryPolicy,
    at: datetime | None = None,
) -> str | None:
    """Claim, send and mark one row: "sent", "retry", "failed", or None when another
    worker had it. ``at`` is the run's clock (now)."""
    at = at or now()
    if not claim(session, row_id, attempts, at, policy.lease_s):
        return None
    row = session.get(Notification, row_id, populate_existing=True)
    attempt = attempts + 1
    message = OutboundMessage(
        id=row.id,
        channel=row.channel,
        recipient=row.recipient,
        body=row.body,
        subject=row.subject,
        language=row.language,
    )
    channel = channels.get(row.channel)
    try:
        if channel is None:
            raise PermanentDeliveryError(f"no channel {row.channel!r}")
        channel.send(message)
    except RetryableDeliveryError as exc:
        if attempt >= policy.max_attempts:
            _mark(session, row_id, state="failed", last_error=f"{exc} (after {attempt} attempts)")
            return "failed"
        _mark(session, row_id, next_attempt_at=at + policy.backoff(attempt), last_error=str(exc))
        return "retry"
    except PermanentDeliveryError as exc:
        _mark(session, row_id, state="failed", last_error=str(exc))
        return "failed"
    _mark(session, row_id, state="sent", sent_at=now(), last_error=None, next_attempt_at=None)
    return "sent"


def deliver_due(
    session: Session,
    channels: Mapping[str, Channel],
    policy: DeliveryPolicy | None = None,
    at: datetime | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, int]:
    """Send every pending row due at ``at`` (now), up to the policy's batch; counts by outcome.

    A channel that is not configured is not tried, and one that fails with a
    retryable error is left alone for the rest of the run
    (its server is likely down: its other rows wait for the next run, unclaimed, rather
    than each waiting out a timeout now).
    """
    policy = policy or DeliveryPolicy()
    at = at or now()
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    # A channel with no server configured is not tried: its rows wait, their attempts unspent.
    resting = {name for name, channel in channels.items() if not getattr(channel, "configured", True)}
    for row_id, attempts, channel in due_ids(session, at, policy.batch):
        if should_stop is not None and should_stop():
            break
        if channel in resting:
            counts["skipped"] += 1
            continue
        outcome = deliver_one(session, channels, row_id, attempts, policy, at)
        if outcome == "retry":
            resting.add(channel)
        counts[outcome or "skipped"] += 1
    return counts


def deliver_notifications_job(session: Session, job: JobRun, report: Callable[[dict], bool]) -> dict:
    """The delivery job: the configured channels, the configured policy, the due rows."""
    channels, policy = configured()
    return deliver_due(session, channels, policy)


jobs.register(DELIVER_JOB, deliver_notifications_job)
# Rows waiting for a retry, and any whose job was never started (Redis down at the
# commit, a change made outside the app), are picked up by the periodic run.
jobs.every(DELIVER_JOB, 60)
