"""Background jobs: RQ on Redis when REDIS_URL is set, otherwise inline.

A job's state lives in the `job_runs` table, so the web process can show
progress whichever process runs it. Each package registers its handlers by
kind (``register("plan_day", plan_day_job)`` when its jobs module is imported
by the app factory); a handler takes (session, job, report) where
`report(progress: dict) -> bool` stores progress and returns True when a
cancel was requested. An RQ worker runs ``application.worker.execute``, which
builds the app (and so the registry) before running the job.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback
from collections.abc import Callable

from flask import Flask, current_app
from sqlalchemy.orm import Session

from core.clock import now
from core.errors import Unavailable
from core.models import JobRun

log = logging.getLogger(__name__)

Handler = Callable[[Session, JobRun, Callable[[dict], bool]], dict]

# kind -> handler, filled by register()
_HANDLERS: dict[str, Handler] = {}
# What an RQ worker calls with the job id (it builds the app, then calls run()).
WORKER_ENTRY = "application.worker.execute"


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
