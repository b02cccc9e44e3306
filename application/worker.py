"""The RQ worker's entry points: ``core.jobs.WORKER_ENTRY`` (build the app from the
environment, which registers every package's jobs, then run the job) and
``core.jobs.TICK_ENTRY`` (the periodic tick on RQ's scheduler)."""

from __future__ import annotations

from core import jobs


def execute(job_id: int) -> None:
    from application import create_app

    jobs.run(create_app(), job_id)


def tick() -> None:
    """Put the next tick on RQ's scheduler first (a failing run does not end the chain),
    then start the periodic jobs that are due."""
    from application import create_app

    app = create_app()
    with app.app_context():
        config = app.config
        jobs.schedule_tick(config["REDIS_URL"], config["RQ_QUEUE"], int(config["TICK_INTERVAL_S"]))
        with app.extensions["db_sessionmaker"]() as session:
            jobs.tick(session)
