"""Background job handlers of the dispatch package."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy.orm import Session

from core import jobs
from core.actor import Actor
from core.models import JobRun, User
from dispatch import assignment, planning


def _job_actor(session: Session, job: JobRun) -> Actor:
    """The user who started the job, acting from the job."""
    user = session.get(User, job.created_by) if job.created_by else None
    return Actor(
        user_id=user.id if user else None,
        username=user.username if user else "system",
        role=user.role if user else "system",
        origin="job",
    )


def plan_day_job(session: Session, job: JobRun, report: Callable[[dict], bool]) -> dict:
    """Plan a day for an area, reporting progress and honouring a cancel request."""
    params = job.params or {}
    actor = _job_actor(session, job)
    cancelled = {"flag": False}

    def progress(update: dict) -> None:
        cancelled["flag"] = report(update) or cancelled["flag"]

    record = planning.plan_day(
        session,
        actor,
        date.fromisoformat(params["day"]),
        params.get("district"),
        float(params.get("time_limit_s", 10)),
        progress=progress,
        should_cancel=lambda: cancelled["flag"],
        job_id=job.id,
    )
    session.commit()
    result = record.result
    return {
        "plan_id": record.id,
        "status": result.get("status"),
        "objective": result.get("objective"),
        "unassigned": len(result.get("unassigned", [])),
        "routes": sum(1 for r in result.get("routes", []) if r["stops"]),
    }


def insert_urgent_job(session: Session, job: JobRun, report: Callable[[dict], bool]) -> dict:
    """Propose slotting one urgent order into the applied day."""
    params = job.params or {}
    actor = _job_actor(session, job)
    record = assignment.propose_urgent(
        session,
        actor,
        date.fromisoformat(params["day"]),
        int(params["order_id"]),
        float(params.get("time_limit_s", 5)),
        progress=report,
        job_id=job.id,
    )
    session.commit()
    result = record.result
    placed = any(
        s["visit_id"] == int(params["order_id"]) for r in result.get("routes", []) for s in r["stops"]
    )
    return {
        "plan_id": record.id,
        "status": result.get("status"),
        "placed": placed,
        "objective": result.get("objective"),
        "unassigned": len(result.get("unassigned", [])),
    }


jobs.register("plan_day", plan_day_job)
jobs.register("insert_urgent", insert_urgent_job)
