"""Real servers stopped under the app: it answers 503 with Retry-After, not 500,
and leaves nothing half-done."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from application import create_app
from core.clock import now
from core.config import Config
from core.models import JobRun
from tests.conftest import PASSWORD, World
from tests.processes import alive, children


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def stopped_redis():
    """A redis-server started on its own port, then stopped: the URL of a Redis that is down."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install redis-server")
        pytest.skip("redis-server is not installed")
    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    from redis import Redis

    deadline = time.monotonic() + 10
    while True:
        try:
            Redis.from_url(url).ping()
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    server.terminate()
    server.wait(timeout=10)
    return url


def test_with_redis_down_planning_answers_503_and_leaves_no_job(app, app_config, world, stopped_redis, db):
    world.user("disp", "dispatcher")
    down = create_app(Config(**{**app_config.as_dict(), "REDIS_URL": stopped_redis}))
    client = down.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "disp", "password": PASSWORD}).get_json()
    h = {"Authorization": f"Bearer {token['access_token']}"}
    assert client.get("/api/v1/workorders", headers=h).status_code == 200  # the API still serves
    tomorrow = (now().date() + timedelta(days=1)).isoformat()
    resp = client.post("/api/v1/dispatch/plan", headers=h, json={"day": tomorrow, "time_limit_s": 1})
    assert resp.status_code == 503
    assert resp.mimetype == "application/problem+json"
    assert int(resp.headers["Retry-After"]) > 0
    assert resp.get_json()["type"].endswith("/service-unavailable")
    assert db.scalar(select(func.count()).select_from(JobRun)) == 0


class OwnPostgres:
    """A PostgreSQL server of the test's own (initdb in a temporary folder), to stop and start."""

    def __init__(self, root) -> None:
        bindirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
        if not bindirs:
            if os.environ.get("CI"):
                pytest.fail("CI must install PostgreSQL")
            pytest.skip("PostgreSQL server binaries are not installed")
        self.bin = bindirs[-1]
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.data = root / "pgdata"
        self.data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
            shutil.chown(self.data, "postgres")
        self.port = _free_port()
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "dispatch")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/dispatch"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_owner, f"{self.bin}/{tool}", *args], check=True, capture_output=True, timeout=60
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-l", str(self.data / "log"), "start")

    def crash(self) -> None:
        """Stop at once, as a crash would (committed work must survive)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture()
def own_postgres():
    # Not under pytest's temporary folder: the server's user must be able to reach it.
    root = Path(tempfile.mkdtemp(prefix="dispatch-pg-"))
    try:
        server = OwnPostgres(root)
        yield server
        try:
            server.stop()
        except subprocess.CalledProcessError:
            pass
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _app_with_one_customer(url: str, tmp_path) -> tuple:
    """An app on the database at ``url`` (migrated) with an agent and one
    customer with a site and line; the app and the customer's ids."""
    from core.accounts import create_user
    from core.actor import Actor
    from core.migrate import upgrade
    from workorders import service

    upgrade(url)
    app = create_app(
        Config(
            DATABASE_URL=url,
            TESTING=True,
            REDIS_URL="",
            PHOTO_DIR=str(tmp_path),
            SECRET_KEY="test-secret",
            APP_ENV="testing",
            ARGON2_TIME_COST=1,
            ARGON2_MEMORY_KIB=1024,
        )
    )
    admin = Actor(user_id=None, username="test", role="admin", origin="test")
    with app.extensions["db_sessionmaker"]() as s:
        create_user(
            s, admin, {"username": "agent", "password": PASSWORD, "role": "agent", "display_name": "A"}
        )
        customer = service.create_customer(
            s, admin, {"name": "客户", "kind": "residential", "phone": "13800000000"}
        )
        site = service.add_site(
            s,
            admin,
            customer,
            {"address": "合肥市蜀山区黄山路1号", "district": "蜀山区", "lat": 31.85, "lon": 117.26},
        )
        service.add_line(s, admin, site, {"access_type": "adsl", "route_length_m": 800})
        s.commit()
        return app, {"customer_id": customer.id, "site_id": site.id}


def test_postgres_down_under_writes_answers_503_and_loses_no_acknowledged_write(
    own_postgres, tmp_path, caplog
):
    from workorders.models import WorkOrder

    app, ids = _app_with_one_customer(own_postgres.url, tmp_path)
    client = app.test_client()
    token = client.post("/api/v1/auth/token", json={"username": "agent", "password": PASSWORD}).get_json()
    h = {"Authorization": f"Bearer {token['access_token']}"}

    acknowledged, unavailable, other = [], 0, []

    def write(n: int) -> None:
        nonlocal unavailable
        marker = f"断网-{n:04d}"
        resp = client.post(
            "/api/v1/workorders",
            headers=h,
            json={
                "kind": "repair",
                "product": "adsl",
                "priority": "P3",
                "description": marker,
                "duplicate_ok": True,
                **ids,
            },
        )
        if resp.status_code == 201:
            acknowledged.append(marker)
        elif resp.status_code == 503:
            assert resp.mimetype == "application/problem+json" and int(resp.headers["Retry-After"]) > 0
            unavailable += 1
        else:
            other.append((resp.status_code, resp.get_data(as_text=True)[:200]))

    n = 0
    for n in range(20):
        write(n)
    own_postgres.crash()
    down_until = time.monotonic() + 3
    while time.monotonic() < down_until:
        n += 1
        write(n)
    own_postgres.start()
    for after in range(n + 1, n + 20):
        write(after)

    assert other == []
    assert unavailable >= 3, "writes while the database was down should be refused with 503"
    assert len(acknowledged) >= 39  # before the crash and after the restart
    with app.extensions["db_sessionmaker"]() as s:
        stored = set(s.scalars(select(WorkOrder.description)))
    assert set(acknowledged) <= stored, "an acknowledged write was lost"
    logged = caplog.text
    assert "database unavailable" in logged
    assert "断网-" not in logged and "$argon2" not in logged  # no row values in the log


@pytest.mark.redis
def test_rq_work_horse_killed_mid_plan_fails_the_job_applies_nothing_and_leaves_no_solver(
    app, app_config, redis_url, db, city_time
):
    import signal
    import sys

    from application.demo import seed_city
    from core import jobs
    from dispatch.models import DispatchPlan
    from workorders.models import WorkOrder

    # Tomorrow morning: the worker runs on the real clock, and a day planned ahead is planned
    # whole whatever the hour of this run (today after the shifts end would have nobody).
    tomorrow = now().date() + timedelta(days=1)
    city_time(datetime.combine(tomorrow, dt_time(8, 0)))
    seed_city(db, technicians=20, orders=340, seed=11)  # big enough to be planned by district
    rq_app = create_app(Config(**{**app_config.as_dict(), "REDIS_URL": redis_url, "RQ_QUEUE": "test-kill"}))
    with rq_app.app_context():
        session = rq_app.extensions["db_sessionmaker"]()
        day = tomorrow.isoformat()  # the seeded appointments are that day's
        job_id = jobs.enqueue(session, "plan_day", {"day": day, "time_limit_s": 120}, None).id
        session.close()
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DATABASE_URL": app_config.DATABASE_URL,
        "REDIS_URL": redis_url,
        "SECRET_KEY": "test-secret",
        "APP_ENV": "testing",
        "PYTHONPATH": str(root),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "rq.cli", "worker", "--burst", "--url", redis_url, "test-kill"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        horse = solvers = None
        while time.monotonic() < deadline:
            db.expire_all()
            job = db.get(JobRun, job_id)
            runner = (job.progress or {}).get("runner", "")
            if job.status == "running" and runner.rpartition(":")[2].isdigit():
                horse = int(runner.rpartition(":")[2])
                solvers = children(horse)
                if len(solvers) >= 2:
                    break
            time.sleep(0.2)
        assert horse and solvers and len(solvers) >= 2, "the plan never reached its district solvers"
        os.kill(horse, signal.SIGKILL)
        worker.wait(timeout=60)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(pid) for pid in solvers):
            time.sleep(0.1)
        assert not [pid for pid in solvers if alive(pid)], "solver processes outlived the horse"
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    client = app.test_client()
    world = World(app, client)
    world.user("disp", "dispatcher")
    h = world.headers("disp")
    job = client.get(f"/api/v1/jobs/{job_id}", headers=h).get_json()
    assert job["status"] == "failed" and "interrupted" in job["error"]
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(DispatchPlan)) == 0
    assert db.scalar(select(func.count()).select_from(WorkOrder).where(WorkOrder.state == "assigned")) == 0
