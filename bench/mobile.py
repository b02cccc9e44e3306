"""Load benchmark of the technician API (a command, not a test).

    python -m bench mobile --technicians 50 --seconds 20 [--interval-ms 1000]
        [--stops 8] [--workers 2] [--database-url postgresql+psycopg://...] [--photos 5]

Seeds a fresh database (a temporary SQLite file, or a new PostgreSQL database
created next to the one named and dropped afterwards), starts gunicorn with
`--workers` sync workers on 127.0.0.1 at a free port, and runs one thread per
technician: every `--interval-ms` each fetches its route, posts its next status
(en_route, arrived, started, paused, resumed, completed, then the next stop) and
fetches a bare Flask JSON endpoint served by the same app and workers, so the
route can be compared with Flask's own floor in the same run. `--interval-ms 0`
makes it a closed loop (as fast as the workers answer: a saturation figure).
Then it uploads `--photos` different 5 MB JPEGs (12 MP) one at a time and reads
the server's own time for each from the X-Server-Time-Ms header. Every answer also
carries X-Server-Cpu-Ms, the CPU the request cost: on a machine shared with other
work, wall times include waiting for a core, CPU times do not.

Only loopback traffic; the run is bounded in time and stops gunicorn itself.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import math
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench.mobile_seed import Crew, Seeded, seed

HOST = "127.0.0.1"
BARE_PATH = "/bench/bare"
STATUS_PLAN = ("en_route", "arrived", "started", "paused", "resumed", "completed")
PHOTO_TARGET_BYTES = 5_000_000
MAX_SECONDS = 300
MAX_TECHNICIANS = 500


# ---------------------------------------------------------------- the app gunicorn serves


def bench_app():
    """The real app plus a bare JSON endpoint and a server-time header (gunicorn factory)."""
    from flask import g, jsonify

    from application import create_app

    app = create_app()

    @app.get(BARE_PATH)
    def bare():
        return jsonify({"ok": True})

    @app.before_request
    def _start_clock():
        g.bench_started = time.perf_counter(), time.thread_time()

    @app.after_request
    def _server_time(response):
        started = g.get("bench_started")
        if started is not None:
            # wall time in the app, and CPU time (what the request costs, whatever else runs)
            response.headers["X-Server-Time-Ms"] = f"{(time.perf_counter() - started[0]) * 1000:.2f}"
            response.headers["X-Server-Cpu-Ms"] = f"{(time.thread_time() - started[1]) * 1000:.2f}"
        return response

    return app


# ---------------------------------------------------------------- HTTP on loopback


@dataclass
class Timings:
    samples: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, elapsed_ms: float, ok: bool, headers: dict[str, str]) -> None:
        with self.lock:
            self.samples.setdefault(name, []).append(elapsed_ms)
            if "X-Server-Cpu-Ms" in headers:
                self.cpu.setdefault(name, []).append(float(headers["X-Server-Cpu-Ms"]))
            if not ok:
                self.errors[name] = self.errors.get(name, 0) + 1


def request(
    port: int,
    method: str,
    path: str,
    token: str | None = None,
    body: bytes | None = None,
    content_type: str = "application/json",
    timeout_s: float = 30,
) -> tuple[int, bytes, dict[str, str], float]:
    """One request on a new connection; returns status, body, headers and elapsed ms."""
    headers = {"Accept-Language": "zh"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = content_type
    started = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout_s)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        elapsed_ms = (time.perf_counter() - started) * 1000
        return response.status, data, dict(response.getheaders()), elapsed_ms
    finally:
        conn.close()


def _technician(
    port: int, crew: Crew, until: float, interval_s: float, timings: Timings, rng: random.Random
) -> None:
    """One phone: route, next status, bare endpoint; every interval until the deadline."""
    stop_index, step = 0, 0
    time.sleep(rng.uniform(0, interval_s))  # spread the phones over the interval
    while time.perf_counter() < until:
        tick = time.perf_counter()
        status, _body, headers, ms = request(port, "GET", "/mobile/v1/route", crew.token)
        timings.add("route", ms, status == 200, headers)
        if stop_index < len(crew.stops):
            stop = crew.stops[stop_index]
            body = {"status": STATUS_PLAN[step]}
            if body["status"] in ("arrived", "completed"):
                body |= {"lat": stop.lat, "lon": stop.lon, "accuracy_m": 10}
            if body["status"] == "paused":
                body["reason"] = "technician_break"
            status, _body, headers, ms = request(
                port,
                "POST",
                f"/mobile/v1/orders/{stop.order_id}/status",
                crew.token,
                json.dumps(body).encode(),
            )
            timings.add("status", ms, status == 200, headers)
            step += 1
            if step == len(STATUS_PLAN):
                stop_index, step = stop_index + 1, 0
        status, _body, headers, ms = request(port, "GET", BARE_PATH)
        timings.add("bare", ms, status == 200, headers)
        rest = interval_s - (time.perf_counter() - tick)
        if rest > 0:
            time.sleep(rest)


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    rank = max(0, math.ceil(pct / 100 * len(ordered)) - 1)
    return ordered[rank]


def _photo_jpeg(seed_value: int) -> bytes:
    """A 12-megapixel JPEG of about 5 MB: a gradient with sensor-like noise."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed_value)
    width, height = 4000, 3000
    ramp = np.linspace(30, 220, width, dtype=np.float32)[None, :, None]
    noise = rng.normal(0, 18, (height, width, 3)).astype(np.float32)
    pixels = np.clip(ramp + noise, 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels, "RGB")
    for quality in (90, 92, 94, 96):
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        if out.tell() >= PHOTO_TARGET_BYTES:
            break
    return out.getvalue()


def _multipart(fields: dict[str, str], file_name: str, data: bytes, mime: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{file_name}"\r\nContent-Type: {mime}\r\n\r\n'.encode()
    )
    parts.append(data)
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# ---------------------------------------------------------------- the run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _wait_ready(port: int, server: subprocess.Popen, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up (see its log)")
        try:
            if request(port, "GET", BARE_PATH, timeout_s=2)[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer in time")


def _postgres_database(base_url: str) -> tuple[str, Callable[[], None]]:
    """A new empty database beside the one named; returns its URL and a dropper."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"dispatch_loadtest_{os.getpid()}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()

    return make_url(base_url).set(database=name).render_as_string(hide_password=False), drop


def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="mobile-loadtest-"))
    drop_database = None
    if args.database_url:
        database_url, drop_database = _postgres_database(args.database_url)
    else:
        database_url = f"sqlite:///{workdir / 'bench.db'}"
    photo_dir = str(workdir / "photos")
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        PHOTO_DIR=photo_dir,
        INSTANCE_DIR=str(workdir),
        SECRET_KEY="loadtest",
        REDIS_URL="",
        APP_ENV="development",
    )
    os.environ.update(INSTANCE_DIR=str(workdir), SECRET_KEY="loadtest", APP_ENV="development")
    server = None
    try:
        started = time.perf_counter()
        seeded = seed(database_url, photo_dir, args.technicians, args.stops)
        print(
            f"seeded {args.technicians} technicians x {args.stops} stops on "
            f"{database_url.split('://')[0]} in {time.perf_counter() - started:.1f} s"
        )
        port = _free_port()
        server = _start_gunicorn(args.workers, port, env, workdir)
        _wait_ready(port, server)
        for crew in seeded.crews[:2]:  # warm both workers' caches
            for _ in range(4):
                request(port, "GET", "/mobile/v1/route", crew.token)
                request(port, "GET", BARE_PATH)
        timings, load_s = _phones(port, seeded.crews, args.seconds, args.interval_ms)
        _report(args, timings, load_s, *_upload_photos(port, seeded, args.photos))
        return 0
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        if drop_database is not None:
            drop_database()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _start_gunicorn(workers: int, port: int, env: dict[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    """gunicorn serving :func:`bench_app` on loopback, its log in ``workdir``."""
    log = open(workdir / "gunicorn.log", "wb")  # noqa: SIM115 - closed with the server
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"{HOST}:{port}",
            "--backlog",
            "256",
            "--log-level",
            "warning",
            "bench.mobile:bench_app()",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=Path(__file__).parent.parent,
    )


def _phones(port: int, crews: list[Crew], seconds: float, interval_ms: int) -> tuple[Timings, float]:
    """One thread per technician's phone for ``seconds``: the timings and how long it took."""
    timings = Timings()
    until = time.perf_counter() + seconds
    threads = [
        threading.Thread(
            target=_technician,
            daemon=True,
            args=(port, crew, until, interval_ms / 1000, timings, random.Random(i)),
        )
        for i, crew in enumerate(crews)
    ]
    load_started, client_cpu = time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    load_s = time.perf_counter() - load_started
    print(f"load generator used {time.process_time() - client_cpu:.1f} s of CPU in {load_s:.1f} s")
    return timings, load_s


def _upload_photos(
    port: int, seeded: Seeded, photos: int
) -> tuple[list[float], list[float], list[float], int]:
    """Upload ``photos`` different 12 MP JPEGs one at a time: the server's wall and
    CPU times, the client's times, and the size of the last one accepted (0: none)."""
    photo_server_ms, photo_client_ms, photo_cpu_ms = [], [], []
    photo_size = 0
    for i in range(photos):
        data = _photo_jpeg(i)
        body, content_type = _multipart(
            {"item_id": seeded.photo_item_id}, f"photo{i}.jpg", data, "image/jpeg"
        )
        status, answer, headers, ms = request(
            port,
            "POST",
            f"/mobile/v1/orders/{seeded.photo_order_id}/photos",
            seeded.photo_token,
            body,
            content_type,
            timeout_s=60,
        )
        if status != 201:
            print(f"photo upload {i}: {status} {answer[:300]!r}")
            continue
        photo_server_ms.append(float(headers["X-Server-Time-Ms"]))
        photo_cpu_ms.append(float(headers["X-Server-Cpu-Ms"]))
        photo_client_ms.append(ms)
        photo_size = len(data)
    return photo_server_ms, photo_client_ms, photo_cpu_ms, photo_size


def _report(
    args: argparse.Namespace,
    timings: Timings,
    load_s: float,
    photo_server_ms: list[float],
    photo_client_ms: list[float],
    photo_cpu_ms: list[float],
    photo_size: int,
) -> None:
    total = sum(len(v) for v in timings.samples.values())
    print(
        f"\n{len(timings.samples.get('route', []))} route, "
        f"{len(timings.samples.get('status', []))} status and "
        f"{len(timings.samples.get('bare', []))} bare requests from {args.technicians} "
        f"technicians in {load_s:.1f} s ({total / load_s:.0f} req/s), one cycle per "
        f"{args.interval_ms} ms per technician, gunicorn {args.workers} sync workers"
    )
    print(
        f"{'endpoint':<10}{'n':>7}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'max ms':>9}{'cpu p50':>9}"
    )
    p95 = {}
    for name in ("route", "status", "bare"):
        values = timings.samples.get(name, [])
        if not values:
            continue
        p95[name] = _percentile(values, 95)
        print(
            f"{name:<10}{len(values):>7}{timings.errors.get(name, 0):>8}"
            f"{statistics.median(values):>9.1f}{p95[name]:>9.1f}"
            f"{_percentile(values, 99):>9.1f}{max(values):>9.1f}"
            f"{statistics.median(timings.cpu.get(name) or [math.nan]):>9.2f}"
        )
    if "route" in p95 and "bare" in p95:
        ratio = p95["route"] / p95["bare"]
        print(
            f"route p95 / bare p95 = {ratio:.2f} (target <= 3); route p95 "
            f"{p95['route']:.1f} ms (target <= 25)"
        )
    if photo_server_ms:
        print(
            f"photo upload ({photo_size / 1e6:.1f} MB JPEG, 12 MP) x{len(photo_server_ms)}: "
            f"server median {statistics.median(photo_server_ms):.0f} ms, max "
            f"{max(photo_server_ms):.0f} ms (target <= 300), CPU median "
            f"{statistics.median(photo_cpu_ms):.0f} ms; client median "
            f"{statistics.median(photo_client_ms):.0f} ms"
        )
    load = os.getloadavg()
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f} at the end of the run (other work on the machine inflates wall "
        f"times; the cpu column does not depend on it)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench mobile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--technicians", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--interval-ms",
        type=int,
        default=1000,
        help="one route + status + bare cycle per technician this often (0: closed loop)",
    )
    parser.add_argument(
        "--stops", type=int, default=0, help="orders per technician (default: enough for the run)"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--photos", type=int, default=5)
    parser.add_argument(
        "--database-url", default="", help="a PostgreSQL URL: a fresh database is created beside it"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= MAX_SECONDS or not 0 < args.technicians <= MAX_TECHNICIANS:
        parser.error(f"--seconds must be in (0, {MAX_SECONDS}] and --technicians in (0, {MAX_TECHNICIANS}]")
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error("--database-url takes a PostgreSQL URL (SQLite is the default)")
    if args.stops <= 0:
        cycles = args.seconds * 1000 / max(args.interval_ms, 1)
        # A day's route: as many stops as the run walks through, at most 8.
        args.stops = max(4, min(8, math.ceil(cycles / len(STATUS_PLAN)) + 1))
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
