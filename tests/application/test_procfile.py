"""The production-like run: honcho starts the Procfile (gunicorn + RQ worker) and a
planning job posted to the web process is finished by the worker process."""

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests

from application import create_app
from core.accounts import create_user
from core.actor import Actor
from core.config import Config
from core.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
ADMIN = Actor(user_id=None, username="test", role="admin", origin="test")


# The Procfile runs in production: it needs a real secret.
SECRET = "procfile-secret-0123456789abcdef0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.redis
def test_honcho_runs_web_and_worker(tmp_path, redis_url):
    db_url = f"sqlite:///{tmp_path / 'procfile.db'}"
    upgrade(db_url)
    app = create_app(Config(DATABASE_URL=db_url, SECRET_KEY=SECRET))
    with app.app_context():
        session = app.extensions["db_sessionmaker"]()
        create_user(
            session,
            ADMIN,
            {"username": "disp", "password": "procfile-pass", "role": "dispatcher", "display_name": "Disp"},
        )
        session.commit()
        session.close()

    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": SECRET,
        "INSTANCE_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "honcho", "start", "-p", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/openapi.json", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "web did not start"
            time.sleep(0.5)
        token = requests.post(
            f"{base}/api/v1/auth/token", json={"username": "disp", "password": "procfile-pass"}, timeout=10
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        day = (date.today() + timedelta(days=1)).isoformat()
        job = requests.post(
            f"{base}/api/v1/dispatch/plan", headers=headers, json={"day": day, "time_limit_s": 1}, timeout=10
        ).json()
        assert job["status"] == "queued"
        while job["status"] in ("queued", "running"):
            assert time.monotonic() < deadline + 60, job
            time.sleep(0.5)
            job = requests.get(f"{base}/api/v1/jobs/{job['id']}", headers=headers, timeout=10).json()
        assert job["status"] == "finished", job
        assert job["result"]["plan_id"] >= 1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
