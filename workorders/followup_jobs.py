"""Background jobs of follow-ups: the periodic on-site visits to key enterprise customers.

``plan_periodic_visits`` runs daily from the tick (:func:`core.jobs.tick`): it is
idempotent, so a run that repeats or overlaps creates nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from core import jobs
from core.actor import SYSTEM
from core.clock import now, to_local_naive
from core.models import JobRun
from workorders import followups

PERIODIC_VISITS_JOB = "plan_periodic_visits"


def plan_periodic_visits_job(session: Session, job: JobRun, report: Callable[[dict], bool]) -> dict:
    """Create the periodic visits due now (or at the job's ``at``, city time, ISO 8601)."""
    params = job.params or {}
    at = datetime.fromisoformat(params["at"]) if params.get("at") else now()
    at = to_local_naive(at) if at.tzinfo is not None else at
    created = followups.plan_periodic_visits(session, at, SYSTEM)
    session.commit()
    return {"created": len(created), "followup_ids": [task.id for task in created]}


jobs.register(PERIODIC_VISITS_JOB, plan_periodic_visits_job)
jobs.every(PERIODIC_VISITS_JOB, 24 * 3600)  # started by the tick (flask tick, or RQ's scheduler)
