"""How fast the dispatcher console is on a big day: a command, not a test.

    .venv/bin/python -m bench console --orders 2000 --technicians 200

Seeds a temporary SQLite database with the demo city generator, puts most
orders into technicians' routes (nearest skilled technician with room: the
benchmark measures the page, not the optimizer), serves the app on
127.0.0.1 and drives headless chromium (Playwright, executable from
CHROMIUM_PATH, default /usr/bin/chromium) through the console:

- first render: from navigation start until markers, routes and timeline are
  drawn (and the frame after it painted);
- filter changes: from setting a filter until the next frame after the redraw;
- payload: bytes of each JSON feed, raw and as sent (gzip).

The browser is told to fail any request that leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def wait_until(page, expression: str, timeout: float = 30_000) -> None:
    """Poll a page expression until it is true. (Playwright's wait_for_function
    compiles its predicate with eval, which the pages' CSP rightly forbids.)"""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout / 1000:.0f} s: {expression}")
        page.wait_for_timeout(100)


def chromium_path() -> str:
    """Debian's chromium unless CHROMIUM_PATH says otherwise."""
    return os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def launch_chromium(playwright):
    """Headless chromium as the tests and the benchmark use it (no downloads, no sandbox)."""
    return playwright.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)


def loopback_only(context, outside: list[str]) -> None:
    """Abort every request to a host other than 127.0.0.1 and remember it in `outside`."""

    def handle(route):
        host = urlparse(route.request.url).hostname
        if route.request.url.startswith(("data:", "blob:")) or host == "127.0.0.1":
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", handle)


@contextmanager
def serve(app) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 on a free port in a thread; yields the base URL."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="console-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def log_in(page, base_url: str, username: str, password: str) -> None:
    """Log in through the login form, as a person would."""
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.login button[type=submit]")
    page.wait_for_load_state("load")


def fill_routes(session: Session, share: float = 0.8, seed: int = 11) -> int:
    """Put `share` of the plannable orders into routes: nearest skilled technician with room.

    Sets state, technician, planned start and sequence directly (no audit):
    benchmark data, not business.
    """
    import random

    from dispatch.routing.matrix import great_circle_m
    from technicians.models import Technician
    from workorders.models import WorkOrder

    rng = random.Random(seed)
    techs = list(session.scalars(select(Technician).where(Technician.active.is_(True))))
    orders = [
        o
        for o in session.scalars(select(WorkOrder).where(WorkOrder.state == "validated"))
        if o.site.lat is not None
    ]
    rng.shuffle(orders)
    orders = orders[: int(len(orders) * share)]
    room = math.ceil(len(orders) / max(len(techs), 1) * 1.2)
    routes: dict[int, list] = {t.id: [] for t in techs}
    placed = 0
    for order in orders:
        skilled = [
            t
            for t in techs
            if set(order.required_skills or []) <= set(t.skills or []) and len(routes[t.id]) < room
        ]
        if not skilled:
            continue
        nearest = min(
            skilled, key=lambda t: great_circle_m((t.home_lat, t.home_lon), (order.site.lat, order.site.lon))
        )
        routes[nearest.id].append(order)
        placed += 1
    from core.clock import now

    today = datetime.combine(now().date(), datetime.min.time())
    for tech in techs:
        start = today + timedelta(hours=tech.shift_start.hour, minutes=tech.shift_start.minute)
        for sequence, order in enumerate(routes[tech.id], start=1):
            order.state, order.technician_id = "assigned", tech.id
            order.planned_sequence = sequence
            order.planned_start = start + timedelta(minutes=20)
            start = order.planned_start + timedelta(minutes=order.duration_min)
        if routes[tech.id]:
            first = routes[tech.id][0].site
            tech.last_lat, tech.last_lon = first.lat + 0.002, first.lon - 0.002
            tech.last_seen_at = now()
    session.commit()
    return placed


def payload_sizes(app, user_id: int) -> dict[str, tuple[int, int, float]]:
    """Feed -> (raw bytes, bytes sent with gzip, server ms) through the test client."""
    import gzip

    from core.auth import start_web_session
    from core.models import User

    client = app.test_client()
    with app.app_context():
        session = app.extensions["db_sessionmaker"]()
        sid = start_web_session(session, session.get(User, user_id))
        session.commit()
        session.close()
    with client.session_transaction() as web_session:
        web_session["user_id"], web_session["sid"] = user_id, sid
    sizes = {}
    for feed in ("orders", "technicians", "routes", "live"):
        started = time.perf_counter()
        resp = client.get(f"/console/api/{feed}", headers={"Accept-Encoding": "gzip"})
        elapsed_ms = (time.perf_counter() - started) * 1000
        assert resp.status_code == 200, resp.data[:200]
        sent = resp.get_data()
        raw = gzip.decompress(sent) if resp.headers.get("Content-Encoding") == "gzip" else sent
        sizes[feed] = (len(raw), len(sent), elapsed_ms)
    return sizes


# Each filter is set from the full view, then cleared again; both changes are timed.
FILTER_STEPS = (
    ("district", 1),
    ("kind", "repair"),
    ("product", 1),
    ("priority", "P1"),
    ("state", "assigned"),
    ("risk", "breached"),
    ("technician", 3),
)

MEASURE_FILTER = """async ([name, value]) => {
  const select = document.getElementById('f-' + name);
  if (typeof value === 'number') value = select.options[Math.min(value, select.options.length - 1)].value;
  const t0 = performance.now();
  select.value = value;
  select.dispatchEvent(new Event('change'));
  const render = window.consoleApp.lastRenderMs;
  await new Promise(r => requestAnimationFrame(() => setTimeout(r, 0)));
  return [performance.now() - t0, render, window.consoleApp.shownCount];
}"""


def measure(base_url: str, runs: int = 3) -> dict:
    """First render and filter-change times in headless chromium."""
    from playwright.sync_api import sync_playwright

    from application.demo import DEMO_PASSWORD

    first, painted, filters = [], [], []
    outside: list[str] = []
    with sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(viewport={"width": 1600, "height": 1000})
        loopback_only(context, outside)
        page = context.new_page()
        log_in(page, base_url, "dispatcher", DEMO_PASSWORD)
        for _run in range(runs):
            page.goto(f"{base_url}/console")
            wait_until(page, "window.consoleApp && window.consoleApp.firstPaintMs", timeout=60_000)
            first.append(page.evaluate("window.consoleApp.firstRenderMs"))
            painted.append(page.evaluate("window.consoleApp.firstPaintMs"))
        for name, value in FILTER_STEPS:
            for step in (value, ""):
                total_ms, render_ms, shown = page.evaluate(MEASURE_FILTER, [name, step])
                filters.append((name, step, total_ms, render_ms, shown))
        markers = page.evaluate("window.consoleApp.features.size")
        browser.close()
    return {
        "first_render_ms": first,
        "first_paint_ms": painted,
        "filters": filters,
        "markers": markers,
        "outside_requests": outside,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--technicians", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3, help="page loads to time")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        os.environ.setdefault("ARGON2_TIME_COST", "1")
        os.environ.setdefault("ARGON2_MEMORY_KIB", "1024")
        from application import create_app
        from application.demo import seed_city
        from core.config import Config
        from core.migrate import upgrade
        from core.models import User

        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        app = create_app(
            Config(
                DATABASE_URL=url,
                PHOTO_DIR=str(Path(tmp) / "photos"),
                SECRET_KEY="console-bench",
                APP_ENV="development",
                ARGON2_TIME_COST=1,
                ARGON2_MEMORY_KIB=1024,
            )
        )
        started = time.perf_counter()
        with app.app_context():
            session = app.extensions["db_sessionmaker"]()
            seed_city(session, technicians=args.technicians, orders=args.orders)
            placed = fill_routes(session)
            dispatcher_id = session.scalar(select(User.id).where(User.username == "dispatcher"))
            session.close()
        print(
            f"seeded {args.orders} orders, {args.technicians} technicians, {placed} in routes "
            f"in {time.perf_counter() - started:.1f} s"
        )
        sizes = payload_sizes(app, dispatcher_id)
        with serve(app) as base_url:
            result = measure(base_url, args.runs)

    print(f"open orders on the map: {result['markers']}")
    print("payload (raw / sent gzip / server time):")
    for feed, (raw, sent, elapsed_ms) in sizes.items():
        print(f"  {feed:<12} {raw / 1024:8.1f} KiB / {sent / 1024:7.1f} KiB  {elapsed_ms:6.0f} ms")
    total_raw = sum(s[0] for f, s in sizes.items() if f != "live")
    total_sent = sum(s[1] for f, s in sizes.items() if f != "live")
    print(f"  first load   {total_raw / 1024:8.1f} KiB / {total_sent / 1024:7.1f} KiB")
    print(
        "first render (navigation start -> drawn / painted), ms: "
        + ", ".join(
            f"{a:.0f}/{b:.0f}"
            for a, b in zip(result["first_render_ms"], result["first_paint_ms"], strict=True)
        )
    )
    print(f"  median painted: {statistics.median(result['first_paint_ms']):.0f} ms")
    print("filter changes (until next frame / redraw in script), ms:")
    for name, value, total_ms, render_ms, shown in result["filters"]:
        print(
            f"  {name:<11} {str(value) or '(all)':<10} {total_ms:6.0f} / {render_ms:6.0f}"
            f"   {shown} orders shown"
        )
    worst = max(f[2] for f in result["filters"])
    print(f"  worst: {worst:.0f} ms")
    if result["outside_requests"]:
        print(f"REQUESTS OUTSIDE 127.0.0.1: {result['outside_requests']}")


if __name__ == "__main__":
    main()
