"""Load and soak benchmark of the whole service (a command, not a test).

    python -m bench load --database-url postgresql+psycopg://user:pw@127.0.0.1/db \
        --redis-url redis://127.0.0.1:6379/0 [--minutes 2] [--technicians 200]
        [--dispatchers 10] [--customers 5] [--workers 4]

Creates a fresh PostgreSQL database beside the one named (dropped afterwards),
seeds the demo city with one technician per simulated phone, plans and applies
today, starts gunicorn (``--workers`` sync workers) and an RQ worker on
loopback, and runs locust headless (``bench/locustfile.py``): technicians
syncing and pinging, dispatchers on the console, enterprise customers on the
portal. Reports the error rate, p50 and p99 per endpoint, and every server
process's memory (RSS) sampled through the run: the growth from the end of
the first minute to the end is the soak figure (flat means within 10 %).
Needs ``make bench-deps`` (locust).
"""

from __future__ import annotations

import argparse
import csv
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def seed(database_url: str, technicians: int, dispatchers: int, customers: int, orders: int) -> dict:
    """The demo city with ``technicians`` phones, planned and applied today, and the logins."""
    from sqlalchemy import select

    from application import create_app
    from application.demo import DEMO_PASSWORD, seed_city
    from core.accounts import create_user
    from core.actor import Actor
    from core.clock import now
    from core.config import Config
    from core.migrate import upgrade
    from dispatch import planning, plans
    from workorders.models import Customer

    upgrade(database_url)
    app = create_app(Config(DATABASE_URL=database_url, APP_ENV="development", SECRET_KEY="bench-seed"))
    with app.app_context():
        session = app.extensions["db_sessionmaker"]()
        seed_city(session, technicians=technicians, orders=orders, seed=7)
        admin = Actor(user_id=None, username="bench", role="admin", origin="bench")
        for i in range(1, dispatchers + 1):
            create_user(
                session,
                admin,
                {
                    "username": f"disp{i:02d}",
                    "password": DEMO_PASSWORD,
                    "role": "dispatcher",
                    "display_name": f"调度{i:02d}",
                },
            )
        companies = session.scalars(
            select(Customer).where(Customer.kind == "enterprise").order_by(Customer.id)
        )
        for i, company in zip(range(1, customers + 1), companies, strict=False):
            create_user(
                session,
                admin,
                {
                    "username": f"cust{i:02d}",
                    "password": DEMO_PASSWORD,
                    "role": "customer",
                    "display_name": company.name,
                    "customer_id": company.id,
                },
            )
        session.commit()
        started = time.monotonic()
        record = planning.plan_day(session, admin, now().date(), None, time_limit_s=30)
        session.commit()
        plans.apply_plan(session, admin, record.id)
        placed = sum(len(r["stops"]) for r in record.result["routes"])
        session.close()
    return {"placed": placed, "plan_s": round(time.monotonic() - started, 1)}


def _rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _rss_at(samples: list[tuple[float, int]], moment: float) -> int:
    """The last RSS sampled by ``moment`` seconds (the first sample if none)."""
    before = [rss for at, rss in samples if at <= moment]
    return before[-1] if before else samples[0][1]


class MemoryWatch(threading.Thread):
    """RSS of the named server processes and their children, every ``every_s``."""

    def __init__(self, roots: dict[str, int], every_s: float) -> None:
        super().__init__(daemon=True)
        self.roots, self.every_s = roots, every_s
        self.samples: dict[str, list[tuple[float, int]]] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        started = time.monotonic()
        while not self.stop.wait(self.every_s):
            at = time.monotonic() - started
            for name, pid in self.roots.items():
                for label, proc in [(name, pid)] + [(f"{name} child {c}", c) for c in _children(pid)]:
                    rss = _rss_kb(proc)
                    if rss is not None:
                        self.samples.setdefault(label, []).append((at, rss))

    def report(self) -> list[str]:
        """Per process: RSS after the first minute, after warming up (a third of
        the run: every endpoint has been served), and at the end."""
        lines = []
        for label, samples in sorted(self.samples.items()):
            span = samples[-1][0]

            first, warm = _rss_at(samples, 60) / 1024, _rss_at(samples, span / 3) / 1024
            end = statistics.median(rss for _t, rss in samples[-3:]) / 1024
            growth = 100 * (end - warm) / warm if warm else 0.0
            lines.append(
                f"  {label:<26} {first:7.1f} MB at 1 min, {warm:7.1f} MB warm ({span / 180:.1f} min), "
                f"{end:7.1f} MB at the end: {growth:+.1f} % since warm ({len(samples)} samples)"
            )
        return lines


def _wait_ready(url: str, process: subprocess.Popen, timeout_s: float = 60) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited")
        try:
            with urllib.request.urlopen(url + "/openapi.json", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not start")


def _report(prefix: str) -> tuple[list[str], int, int]:
    rows = list(csv.DictReader(open(f"{prefix}_stats.csv", encoding="utf-8")))
    lines = [f"  {'endpoint':<44} {'requests':>8} {'failed':>6} {'p50 ms':>7} {'p99 ms':>7}"]
    total = failed = 0
    for row in rows:
        name = f"{row['Type']} {row['Name']}"
        if row["Name"] == "Aggregated":
            total, failed = int(row["Request Count"]), int(row["Failure Count"])
            name = "all"
        lines.append(
            f"  {name:<44} {row['Request Count']:>8} {row['Failure Count']:>6} "
            f"{row['50%']:>7} {row['99%']:>7}"
        )
    return lines, total, failed


def run(args: argparse.Namespace) -> int:
    from bench.mobile import _free_port, _postgres_database

    database_url, drop_database = _postgres_database(args.database_url)
    workdir = Path(tempfile.mkdtemp(prefix="dispatch-load-"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": args.redis_url,
        "APP_ENV": "development",
        "SECRET_KEY": secrets.token_hex(32),
        "INSTANCE_DIR": str(workdir),
        "PHOTO_DIR": str(workdir / "photos"),
        "PYTHONPATH": str(ROOT),
        "LOAD_TECHNICIANS": str(args.technicians),
        "LOAD_DISPATCHERS": str(args.dispatchers),
        "LOAD_CUSTOMERS": str(args.customers),
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        figures = seed(database_url, args.technicians, args.dispatchers, args.customers, args.orders)
        print(
            f"seeded {args.technicians} technicians, {args.orders} orders; today's plan placed "
            f"{figures['placed']} in {figures['plan_s']} s",
            flush=True,
        )
        port = _free_port()
        host = f"http://127.0.0.1:{port}"
        web, worker = _start_servers(args, port, env)
        processes += [web, worker]
        _wait_ready(host, web)
        watch = MemoryWatch({"gunicorn": web.pid, "rq worker": worker.pid}, args.sample_s)
        watch.start()
        users = args.technicians + args.dispatchers + args.customers
        prefix = str(workdir / "locust")
        started = time.monotonic()
        locust = _run_locust(args, users, host, prefix, env)
        load_s = time.monotonic() - started
        watch.stop.set()
        if not Path(f"{prefix}_stats.csv").exists():
            print(locust.stdout[-3000:], locust.stderr[-3000:], file=sys.stderr)
            return 2
        lines, total, failed = _report(prefix)
        print(
            f"\nload: {users} users ({args.technicians} technicians, {args.dispatchers} dispatchers, "
            f"{args.customers} customers) for {load_s / 60:.1f} min against gunicorn "
            f"({args.workers} workers), "
            f"PostgreSQL and Redis on loopback"
        )
        print("\n".join(lines))
        print(f"error rate: {failed}/{total} = {100 * failed / max(total, 1):.3f} %")
        print("\nmemory (RSS):")
        print("\n".join(watch.report()))
        if locust.returncode not in (0, 1):
            print(locust.stderr[-3000:], file=sys.stderr)
        return 0 if failed == 0 and locust.returncode in (0, 1) else 1
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)
        drop_database()


def _start_servers(
    args: argparse.Namespace, port: int, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    """gunicorn (``--workers`` sync workers on loopback) and an RQ worker, each in its own session."""
    web = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [str(BIN / "rq"), "worker", "--url", args.redis_url, "dispatch"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return web, worker


def _run_locust(
    args: argparse.Namespace, users: int, host: str, prefix: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """locust headless with ``bench/locustfile.py`` for ``--minutes``; its figures go to ``prefix``*.csv."""
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(args.spawn_rate),
            "--run-time",
            f"{round(args.minutes * 60)}s",
            "--host",
            host,
            "--csv",
            prefix,
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("TEST_DATABASE_URL"), required=False)
    parser.add_argument("--redis-url", default=os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--minutes", type=float, default=2)
    parser.add_argument("--technicians", type=int, default=200)
    parser.add_argument("--dispatchers", type=int, default=10)
    parser.add_argument("--customers", type=int, default=5)
    parser.add_argument("--orders", type=int, default=800)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--spawn-rate", type=int, default=20)
    parser.add_argument("--sample-s", type=float, default=10)
    args = parser.parse_args(argv)
    if not args.database_url or not args.database_url.startswith("postgresql"):
        parser.error("--database-url must name a PostgreSQL database (a fresh one is made beside it)")
    return run(args)


if __name__ == "__main__":
    raise SystemExit(main())
