"""Background jobs: RQ on Redis when REDIS_URL is set, otherwise inline.

A job's state lives in the `job_runs` table, so the web process can show
progress whichever process runs it. Each package registers its handlers by
kind (``register("plan_day", plan_day_job)`` when its jobs module is imported
by the app factory); a handler takes (session, job, report) where
`report(progress: dict) -> bool` stores progress and returns True when a
cancel was requested. An RQ worker runs ``application.worker.execute``, which
builds the app (and so the registry) before running the job.

Periodic jobs: ``every(kind, seconds)`` marks a registered kind as one to run that
often. :func:`tick` starts each one that is due (no run of its kind recorded in the
last ``seconds``); it is run by ``flask tick`` (cron, a systemd timer, the demo) and by
the RQ tick job (``application.worker.tick``), which first puts the next tick on RQ's
scheduler (:func:`schedule_tick`; the worker runs with ``--with-scheduler``), so the
chain keeps itself going. A job started after a change commits (the delivery of the
notifications it queued) is asked for with :func:`enqueue_after_commit`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app, has_app_context
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Unavailable
from core.models import JobRun

log = logging.getLogger(__name__)

Handler = Callable[[Session, JobRun, Callable[[dict], bool]], dict]

# kind -> handler, filled by register()
_HANDLERS: dict[str, Handler] = {}
# kind -> seconds between runs, filled by every()
_PERIODIC: dict[str, int] = {}
# What an RQ worker calls with the job id (it builds the app, then calls run()).
WORKER_ENTRY = "application.worker.execute"
# What RQ's scheduler runs every TICK_INTERVAL_S: the due periodic jobs, and the next tick.
TICK_ENTRY = "application.worker.tick"
# A periodic job is due this much early: a tick a second ahead of its minute still runs it.
TICK_SLACK_S = 5


def register(kind: str, handler: Handler) -> None:
    """Make ``kind`` a job that ``enqueue`` accepts and ``run`` dispatches to ``handler``."""
    _HANDLERS[kind] = handler


def registered() -> list[str]:
    return sorted(_HANDLERS)


def runner_id() -> str:
    """Host and process running a job, kept in its progress."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _process_gone(runner: str | None) -> bool:
    """True when ``runner`` is a process on this host that no longer exists."""
    host, _sep, pid = (runner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def load_job(session: Session, job_id: int) -> JobRun | None:
    """A job by id; one still marked queued or running whose process on this
    host has gone (a restart killed its thread or work horse) is marked failed
    here, so nobody waits for it."""
    job = session.get(JobRun, job_id)
    if (
        job is not None
        and job.status in ("queued", "running")
        and _process_gone((job.progress or {}).get("runner"))
    ):
        job.status = "failed"
        job.error = "interrupted: the process running this job stopped"
        job.finished_at = now()
        session.commit()
    return job


def echo_job(session: Session, job: JobRun, report: Callable[[dict], bool]) -> dict:
    """A trivial job used to check the job machinery end to end."""
    report({"phase": "echo", "percent": 50})
    return {"echo": (job.params or {}).get("message")}


def enqueue(
    session: Session, kind: str, params: dict, created_by: int | None, background: bool = False
) -> JobRun:
    """Record a job and start it (on RQ, or inline before returning).

    Without Redis, `background=True` runs it in a daemon thread of this process
    instead, so a page can poll its progress while it runs.
    """
    if kind not in _HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = JobRun(
        kind=kind,
        params=params,
        status="queued",
        created_by=created_by,
        progress={"phase": "queued", "percent": 0},
    )
    session.add(job)
    session.commit()
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        _put_on_queue(session, job, redis_url)
    elif background:
        job.progress = {**job.progress, "runner": runner_id()}
        session.commit()
        app = current_app._get_current_object()
        threading.Thread(target=run, args=(app, job.id), name=f"job-{job.id}", daemon=True).start()
    else:
        run(current_app, job.id)
        session.refresh(job)
    return job


def _put_on_queue(session: Session, job: JobRun, redis_url: str) -> None:
    """Hand the recorded job to RQ; with Redis down, take the record back and
    answer 503 (nothing is left "queued" that no worker will ever see)."""
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue

    connection = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    try:
        Queue(current_app.config["RQ_QUEUE"], connection=connection).enqueue(
            WORKER_ENTRY, job.id, job_timeout=3600
        )
    except RedisError as exc:
        log.error(
            "job queue unavailable (%s): job %s of kind %s withdrawn", type(exc).__name__, job.id, job.kind
        )
        session.delete(job)
        session.commit()
        raise Unavailable("The job queue is unavailable; try again shortly.", retry_after_s=30) from None
    finally:
        connection.close()


def run(app: Flask, job_id: int) -> None:
    """Run a recorded job with its own database session."""
    maker = app.extensions["db_sessionmaker"]
    with app.app_context():
        session: Session = maker()
        try:
            job = session.get(JobRun, job_id)
            if job is None:
                log.error("job %s vanished", job_id)
                return
            runner = runner_id()
            job.status = "running"
            job.progress = {**(job.progress or {}), "runner": runner}
            session.commit()

            def report(progress: dict) -> bool:
                with maker() as progress_session:
                    row = progress_session.get(JobRun, job_id)
                    row.progress = {**progress, "runner": runner}
                    progress_session.commit()
                    return bool(row.cancel_requested)

            try:
                result = _HANDLERS[job.kind](session, job, report)
            except Exception as exc:  # noqa: BLE001 - a job's failure is data, not a crash
                session.rollback()
                job = session.get(JobRun, job_id)
                job.status = "failed"
                job.error = f"{type(exc).__name__}: {exc}"
                job.finished_at = now()
                log.error("job %s failed: %s", job_id, traceback.format_exc())
                session.commit()
                return
            session.refresh(job)
            job.status = "cancelled" if job.cancel_requested else "finished"
            job.result = result
            job.finished_at = now()
            job.progress = {**(job.progress or {}), "phase": "done", "percent": 100}
            session.commit()
        finally:
            session.close()


register("echo", echo_job)


# ---------------------------------------------------------------- periodic jobs


def every(kind: str, seconds: int) -> None:
    """Run the registered job ``kind`` every ``seconds`` (started by :func:`tick`)."""
    if kind not in _HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}: register it first")
    if seconds <= 0:
        raise ValueError("a periodic job needs a positive interval")
    _PERIODIC[kind] = seconds


def periodic() -> dict[str, int]:
    """Every periodic job kind with its interval in seconds."""
    return dict(sorted(_PERIODIC.items()))


def due_periodic(session: Session, at: datetime | None = None) -> list[str]:
    """The periodic kinds with no run recorded within their interval before ``at``.

    The job records are the memory: whichever process ran a kind last (a tick, an
    RQ worker, a job started after a commit), the next tick sees it.
    """
    at = at or now()
    due = []
    for kind, seconds in periodic().items():
        last = session.scalar(select(func.max(JobRun.created_at)).where(JobRun.kind == kind))
        if last is None or (at - last).total_seconds() + TICK_SLACK_S >= seconds:
            due.append(kind)
    return due


def tick(session: Session, at: datetime | None = None, force: bool = False) -> list[JobRun]:
    """Start every periodic job that is due (all of them with ``force``): inline, or on RQ.

    Two ticks racing may start a kind twice; periodic handlers are written to be safe
    to run twice (they claim rows or dedupe what they queue).
    """
    kinds = list(periodic()) if force else due_periodic(session, at)
    started = []
    for kind in kinds:
        try:
            started.append(enqueue(session, kind, {"periodic": True}, None))
        except Unavailable:
            log.error("periodic job %s not started: the job queue is unavailable", kind)
    return started


def schedule_tick(redis_url: str, queue_name: str, interval_s: int, at_epoch: float | None = None) -> bool:
    """Put the next tick on RQ's scheduler, at the start of the next ``interval_s`` slot.

    The RQ job id names the slot (``tick-<interval>-<slot>``), so however many ticks,
    workers or ``flask tick --schedule`` calls ask for it, each slot runs once. False
    when that slot's tick was already there.
    """
    from redis import Redis
    from rq import Queue
    from rq.exceptions import DuplicateJobError
    from rq.job import JobStatus

    slot = int((time.time() if at_epoch is None else at_epoch) // interval_s) + 1
    run_at = datetime.fromtimestamp(slot * interval_s, tz=UTC)
    connection = Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=5)
    try:
        queue = Queue(queue_name, connection=connection)
        job = queue.create_job(
            TICK_ENTRY,
            job_id=f"tick-{interval_s}-{slot}",
            status=JobStatus.SCHEDULED,
            timeout=max(interval_s * 10, 600),
            result_ttl=max(interval_s * 10, 600),
            failure_ttl=86400,
        )
        queue.schedule_job(job, run_at, unique=True)
        return True
    except DuplicateJobError:
        return False
    finally:
        connection.close()


# ---------------------------------------------------------------- jobs started by a commit

_AFTER_COMMIT = "jobs_after_commit"


def enqueue_after_commit(session: Session, kind: str, params: dict | None = None) -> None:
    """Start ``kind`` once ``session``'s transaction commits; never if it rolls back.

    Outside an app context there is no queue to put it on: the periodic tick runs it.
    A failure to start it is logged, never raised: the change is already committed.
    """
    if kind not in _HANDLERS:
        raise ValueError(f"unknown job kind {kind!r}")
    if not has_app_context():
        log.debug("job %s left to the next tick: no app to start it from", kind)
        return
    pending = session.info.setdefault(_AFTER_COMMIT, {})
    pending[kind] = (current_app._get_current_object(), params or {})


@event.listens_for(Session, "after_commit")
def _start_after_commit(session: Session) -> None:
    pending = session.info.pop(_AFTER_COMMIT, None) or {}
    for kind, (app, params) in pending.items():
        try:
            with app.app_context():
                with app.extensions["db_sessionmaker"]() as job_session:
                    enqueue(job_session, kind, params, None)
        except Exception:  # noqa: BLE001 - the change is committed; the tick retries the job
            log.exception("job %s not started after the commit", kind)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)
