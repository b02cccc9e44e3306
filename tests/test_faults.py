"""Real servers stopped under the app: it answers 503 with Retry-After, not 500,
and leaves nothing half-done."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import create_app
from core.clock import now
from core.config import Config
from core.models import JobRun
from tests.conftest import PASSWORD


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
