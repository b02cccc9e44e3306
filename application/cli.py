"""`flask --app wsgi …` commands: migrations, users, the demo city."""

from __future__ import annotations

import click
from flask import Flask, current_app

from core import migrate
from core.actor import Actor
from core.db import get_session

CLI_ACTOR = Actor(user_id=None, username="cli", role="admin", origin="cli")


# A year of past orders in the demo: enough for every chart on /reports, a few seconds to add.
DEMO_HISTORY_ORDERS = 4000


def register(app: Flask) -> None:
    register_report_history(app)

    @app.cli.command("db-upgrade")
    @click.argument("revision", default="head")
    def db_upgrade(revision: str) -> None:
        """Apply migrations up to REVISION (default: head)."""
        migrate.upgrade(current_app.config["DATABASE_URL"], revision)
        click.echo(f"database at {revision}")

    @app.cli.command("db-downgrade")
    @click.argument("revision", default="-1")
    def db_downgrade(revision: str) -> None:
        """Step migrations down (default: one step)."""
        migrate.downgrade(current_app.config["DATABASE_URL"], revision)
        click.echo(f"database downgraded to {revision}")

    @app.cli.command("db-revision")
    @click.option("-m", "--message", required=True)
    def db_revision(message: str) -> None:
        """Autogenerate a migration from the models."""
        migrate.revision(current_app.config["DATABASE_URL"], message)

    @app.cli.command("create-user")
    @click.argument("username")
    @click.option(
        "--role",
        required=True,
        type=click.Choice(["dispatcher", "technician", "manager", "customer", "agent", "admin"]),
    )
    @click.option("--name", "display_name", default=None)
    @click.option("--customer-id", type=int, default=None)
    @click.password_option()
    def create_user_cmd(
        username: str, role: str, display_name: str | None, customer_id: int | None, password: str
    ) -> None:
        """Create a login."""
        from core.accounts import create_user

        session = get_session()
        create_user(
            session,
            CLI_ACTOR,
            {
                "username": username,
                "password": password,
                "role": role,
                "display_name": display_name or username,
                "customer_id": customer_id,
            },
        )
        session.commit()
        click.echo(f"created {role} {username}")

    _register_seed_demo(app)
    _register_tick(app)


def _register_seed_demo(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--technicians", default=40)
    @click.option("--orders", default=300)
    @click.option("--seed", default=7)
    @click.option(
        "--companies/--no-companies",
        default=True,
        help="Add the two company accounts (a bank and a hospital) with their logins and orders.",
    )
    @click.option(
        "--history",
        default=DEMO_HISTORY_ORDERS,
        show_default=True,
        type=click.IntRange(0, 5_000_000),
        help="Made-up orders over the past year for the managers' reports (0: none).",
    )
    def seed_demo(technicians: int, orders: int, seed: int, companies: bool, history: int) -> None:
        """Seed a demo city (Hefei): districts, technicians, customers, orders and two
        company accounts, then a year of past orders for the reports; prints every login,
        each company's with its administrator."""
        import time

        from sqlalchemy import func, select

        from application.demo import seed_city
        from core.clock import now
        from core.models import User
        from reports.history import generate

        session = get_session()
        seeded_before = bool(session.scalar(select(func.count()).select_from(User)))
        summary = seed_city(session, technicians=technicians, orders=orders, seed=seed, companies=companies)
        if not seeded_before:
            from application.demo_roster import seed_roster

            summary += seed_roster(session, now().date())
            session.commit()
        for line in summary:
            click.echo(line)
        if history and not seeded_before:  # like the city, the history is added once
            started = time.perf_counter()
            made = generate(session, history, now().date(), days=365, seed=seed)
            click.echo(
                f"history: {made.orders} orders received {made.start} to {made.end} (exclusive) "
                f"for the reports, in {time.perf_counter() - started:.1f} s"
            )


def _register_tick(app: Flask) -> None:
    @app.cli.command("tick")
    @click.option("--force", is_flag=True, help="Start every periodic job, due or not.")
    @click.option(
        "--schedule",
        is_flag=True,
        help="Also put the next tick on RQ's scheduler (needs REDIS_URL and a worker "
        "with --with-scheduler); each tick then schedules the one after it.",
    )
    def tick(force: bool, schedule: bool) -> None:
        """Start the periodic jobs that are due (delivery of the notification outbox, follow-up
        reminders, ...): inline without REDIS_URL, on RQ with it. For cron, a systemd timer or the demo."""
        from core import jobs

        config = current_app.config
        if schedule:
            if not config["REDIS_URL"]:
                raise click.UsageError("--schedule needs REDIS_URL (RQ's scheduler)")
            jobs.schedule_tick(config["REDIS_URL"], config["RQ_QUEUE"], int(config["TICK_INTERVAL_S"]))
        started = jobs.tick(get_session(), force=force)
        for job in started:
            click.echo(f"{job.kind}: {job.status} {job.result or ''}".rstrip())
        if not started:
            click.echo("no periodic job due")


def register_report_history(app: Flask) -> None:
    """``report-history``: a made-up year of orders so the managers' reports have something to show."""

    @app.cli.command("report-history")
    @click.option("--orders", default=20000, show_default=True, type=click.IntRange(1, 5_000_000))
    @click.option("--days", default=365, show_default=True, type=click.IntRange(1, 3 * 366))
    @click.option("--end", default=None, help="The day after the history (YYYY-MM-DD; default: today).")
    @click.option("--seed", default=15, show_default=True)
    def report_history(orders: int, days: int, end: str | None, seed: int) -> None:
        """Add ORDERS made-up installs, repairs and complaints received over DAYS days before END:
        seasonality, holidays, a few bad weeks, customer pauses, revisits, repeat faults,
        follow-ups and complaints (for demos and benchmarks, never on a real database)."""
        from datetime import date

        from core.clock import now
        from reports.history import generate

        try:
            last = date.fromisoformat(end) if end else now().date()
        except ValueError as exc:
            raise click.BadParameter("use YYYY-MM-DD", param_hint="--end") from exc
        made = generate(get_session(), orders, last, days=days, seed=seed)
        click.echo(
            f"added {made.orders} orders, {made.follow_ups} follow-ups and {made.audit_events} audit events "
            f"received {made.start} to {made.end} (exclusive)"
        )
