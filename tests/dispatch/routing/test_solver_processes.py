"""The district solver's worker processes never outlive the process that planned."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.processes import alive, children

ROOT = Path(__file__).resolve().parents[3]

PLAN_A_BIG_DAY = """
import sys
from bench.citygen import generate_city
from dispatch.routing import SearchSettings, solve

problem = generate_city(400, 40, seed=3)
print("solving", flush=True)
solve(problem, time_limit_s=120, settings=SearchSettings(decompose_above_visits=100, workers=2))
"""


def test_killing_the_planner_kills_its_district_solvers():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    planner = subprocess.Popen(
        [sys.executable, "-c", PLAN_A_BIG_DAY], cwd=ROOT, env=env, stdout=subprocess.PIPE
    )
    try:
        assert planner.stdout.readline().strip() == b"solving"
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while time.monotonic() < deadline and len(workers) < 2:
            workers = [pid for pid in children(planner.pid) if alive(pid)]
            time.sleep(0.2)
        assert len(workers) >= 2, "the district solvers did not start"
        planner.send_signal(signal.SIGKILL)
        planner.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(alive(pid) for pid in workers):
            time.sleep(0.1)
        assert not [pid for pid in workers if alive(pid)], "district solvers outlived their planner"
    finally:
        if planner.poll() is None:
            planner.kill()
