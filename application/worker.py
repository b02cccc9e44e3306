"""The RQ worker's entry point (``core.jobs.WORKER_ENTRY``): build the app from
the environment, which registers every package's jobs, then run the job."""

from __future__ import annotations

from core import jobs


def execute(job_id: int) -> None:
    from application import create_app

    jobs.run(create_app(), job_id)
