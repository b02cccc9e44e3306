"""Background jobs: inline without Redis, and through a real RQ worker process with Redis."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from application import create_app
from core import jobs
from core.config import Config
from core.models import JobRun

ROOT = Path(__file__).resolve().parents[2]


def test_inline_job_runs_before_enqueue_returns(app, db):
    with app.app_context():
        job = jobs.enqueue(db, "echo", {"message": "你好"}, None)
    assert job.status == "finished"
    assert job.result == {"echo": "你好"}
    assert job.progress["percent"] == 100


def test_unknown_job_kind_is_refused(app, db):
    with app.app_context(), pytest.raises(ValueError):
        jobs.enqueue(db, "nope", {}, None)


@pytest.mark.redis
def test_job_runs_in_a_real_rq_worker(app, app_config, redis_url, db):
    rq_config = Config(**{**app_config.as_dict(), "REDIS_URL": redis_url, "RQ_QUEUE": "test-dispatch"})
    rq_app = create_app(rq_config)
    with rq_app.app_context():
        session = rq_app.extensions["db_sessionmaker"]()
        job = jobs.enqueue(session, "echo", {"message": "worker"}, None)
        job_id = job.id
        assert job.status == "queued"  # nothing ran in this process
        session.close()
    env = {
        **os.environ,
        "DATABASE_URL": app_config.DATABASE_URL,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
        "APP_ENV": "testing",
        "PYTHONPATH": str(ROOT),
    }
    worker = subprocess.run(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url, "test-dispatch"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    db.expire_all()
    done = db.get(JobRun, job_id)
    assert done.status == "finished", (done.error, worker.stderr[-2000:])
    assert done.result == {"echo": "worker"}


def test_job_left_running_by_a_stopped_process_is_marked_failed(app, client, db, world):
    world.user("disp", "dispatcher")
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True
    )
    dead_runner = f"{jobs.socket.gethostname()}:{int(gone.stdout)}"
    stale = JobRun(
        kind="plan_day",
        params={},
        status="running",
        progress={"phase": "construction", "percent": 40, "runner": dead_runner},
    )
    alive = JobRun(
        kind="plan_day",
        params={},
        status="running",
        progress={"phase": "construction", "percent": 40, "runner": jobs.runner_id()},
    )
    elsewhere = JobRun(
        kind="plan_day",
        params={},
        status="running",
        progress={"phase": "queued", "percent": 0, "runner": "other-host:1"},
    )
    db.add_all([stale, alive, elsewhere])
    db.commit()
    headers = world.headers("disp")

    body = client.get(f"/api/v1/jobs/{stale.id}", headers=headers).get_json()
    assert body["status"] == "failed"
    assert body["error"].startswith("interrupted")
    assert body["finished_at"] is not None
    for job in (alive, elsewhere):  # a live process, or one we cannot see: leave it
        assert client.get(f"/api/v1/jobs/{job.id}", headers=headers).get_json()["status"] == "running"
    db.expire_all()
    assert db.get(JobRun, stale.id).status == "failed"


def test_inline_job_records_its_runner(app, db):
    with app.app_context():
        job = jobs.enqueue(db, "echo", {"message": "x"}, None)
    assert job.progress["runner"] == jobs.runner_id()
