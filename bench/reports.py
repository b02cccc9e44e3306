"""Benchmark of the managers' reports (a command, not a test).

    python -m bench reports --orders 100000 [--database-url postgresql+psycopg://...]
        [--export-rows 100000] [--repeat 3] [--keep] [--existing]

Builds a fresh database (a temporary SQLite file, or a new PostgreSQL database created next to
the one named and dropped afterwards), migrates it, fills it with ``--orders`` made-up orders
over a year (``reports.history``: seasons, holidays, bad weeks, pauses, repeats, follow-ups),
then times, best and median of ``--repeat`` runs:

- the full report for the year (every figure, the totals and one row per month);
- a filtered one (one district and one product, one row per week);
- a drill-down page (the first 100 restore breaches and their count);
- the XLSX export of ``--export-rows`` orders, with the process's peak memory before and after.

The issue's targets: a year's report in 2 s and a filtered one in 500 ms on a million orders in
PostgreSQL; 100,000 orders in SQLite in 2 s; 100,000 rows to XLSX in 10 s without holding them.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from bench.mobile import _postgres_database

YEAR_END = date(2026, 11, 1)


def _timed(label: str, repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    best, median = min(times), statistics.median(times)
    print(f"{label:<44} best {best * 1000:8.0f} ms   median {median * 1000:8.0f} ms")
    return best


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(args: argparse.Namespace) -> int:
    from application import create_app
    from core.config import Config
    from core.migrate import upgrade
    from reports.history import generate

    workdir = Path(tempfile.mkdtemp(prefix="reports-bench-"))
    drop_database = None
    if args.existing:
        url = args.database_url
    elif args.database_url:
        url, drop_database = _postgres_database(args.database_url)
    else:
        url = f"sqlite:///{workdir / 'bench.db'}"
    try:
        if not args.existing:
            upgrade(url)
        app = create_app(
            Config(
                DATABASE_URL=url,
                APP_ENV="development",
                SECRET_KEY="bench",
                REDIS_URL="",
                PHOTO_DIR=str(workdir),
            )
        )
        with app.app_context():
            session = app.extensions["db_sessionmaker"]()
            if not args.existing:
                started = time.perf_counter()
                made = generate(session, args.orders, YEAR_END, days=365)
                print(
                    f"{url.split('://')[0]}: {made.orders} orders, {made.follow_ups} follow-ups, "
                    f"{made.audit_events} audit events in {time.perf_counter() - started:.1f} s"
                )
            _time_reports(session, args)
            session.close()
        return 0
    finally:
        if drop_database is not None:
            drop_database()
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _time_reports(session, args: argparse.Namespace) -> None:
    """The year's figures in a line, then the timings."""
    from reports import export, figures, orders
    from reports.filters import ReportFilter

    year = ReportFilter(date_from=YEAR_END - timedelta(days=365), date_to=YEAR_END, group_by="month")
    found = figures.report(session, year)
    district = (
        found["rows"]
        and figures.report(
            session,
            ReportFilter(year.date_from, year.date_to, group_by="district"),
            with_totals=False,
        )["rows"][0]["group"]
    )
    narrow = ReportFilter(year.date_from, year.date_to, group_by="week", district=district, product="lan")
    t = found["totals"]
    print(
        f"year: received {t['received']}, restore in time {t['restore']['compliance_pct']}%, "
        f"median restore {t['restore']['median_s']} s, first-time fix {t['first_time_fix']['pct']}%, "
        f"repeats {t['repeat_faults']['pct']}%, satisfaction {t['follow_ups']['satisfaction_mean']}, "
        f"backlog {t['backlog']['total']}"
    )
    _timed("full report, a year by month", args.repeat, lambda: figures.report(session, year))
    _timed(f"filtered: {district}, lan, by week", args.repeat, lambda: figures.report(session, narrow))
    _timed(
        "drill-down: 100 restore breaches + count",
        args.repeat,
        lambda: (
            orders.list_orders(session, year, "restore_breached"),
            orders.count_orders(session, year, "restore_breached"),
        ),
    )
    before = _peak_mib()

    def xlsx() -> None:
        rows = orders.stream_orders(session, year, "received")
        limited = (row for i, row in zip(range(args.export_rows), rows, strict=False))
        with export.write("xlsx", "orders", list(orders.COLUMNS), limited) as out:
            out.seek(0, 2)
            print(f"  xlsx {out.tell() / 1e6:.1f} MB", end="  ")

    _timed(f"export {args.export_rows} orders to XLSX", 1, xlsx)
    print(f"peak memory {before:.0f} MiB before the export, {_peak_mib():.0f} MiB after")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench reports", description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--database-url", help="a PostgreSQL server to create the benchmark database on")
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (SQLite file)")
    parser.add_argument(
        "--existing",
        action="store_true",
        help="time the reports on the database --database-url names as it is (migrated and filled "
        "before, e.g. by `flask report-history`): no new database, nothing generated",
    )
    args = parser.parse_args(argv)
    if args.existing and not args.database_url:
        parser.error("--existing needs --database-url")
    return run(args)
