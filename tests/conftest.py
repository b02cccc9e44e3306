"""Shared fixtures: an app on a migrated database (SQLite by default, PostgreSQL when
TEST_DATABASE_URL is set), a client, and helpers to log in with real role tokens."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path

import freezegun
import pytest
from sqlalchemy import text

from application import create_app
from core.actor import Actor
from core.config import Config
from core.db import Base
from core.migrate import upgrade
from tests.factories import PASSWORD, Field

# pytest's own timer (--durations, the CI budget's evidence) keeps the real clock when a
# test freezes the city's.
freezegun.configure(extend_ignore_list=["_pytest"])

ADMIN = Actor(user_id=None, username="test", role="admin", origin="test")


def _database_url(tmp_root: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_root / 'test.db'}"


@pytest.fixture(scope="session")
def app_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("instance")
    url = _database_url(root)
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade(url)
    return Config(
        DATABASE_URL=url,
        TESTING=True,
        APP_ENV="testing",
        WTF_CSRF_ENABLED=True,
        REDIS_URL="",
        PHOTO_DIR=str(root / "photos"),
        SECRET_KEY="test-secret",
        ARGON2_TIME_COST=1,
        ARGON2_MEMORY_KIB=1024,
        # Tests move the city's clock to the hour they mean (09:00 today, the next
        # morning): a token issued just before such a jump must outlive it whatever the
        # real hour is (at 00:30 a jump to 09:00 is 8.5 h, past the 8 h default).
        # Expiry itself is tested with jumps of days (tests/core/test_token_expiry.py).
        ACCESS_TOKEN_TTL_S=3 * 86400,
    )


@pytest.fixture(scope="session")
def _app_session(app_config: Config):
    return create_app(app_config)


def empty_tables(app) -> None:
    """Delete every row of every table (ids start again on PostgreSQL)."""
    engine = app.extensions["db_engine"]
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            # customers.account_manager_id and users.customer_id point at each other:
            # no order of deletes satisfies both, so the check waits for the commit.
            conn.execute(text("PRAGMA defer_foreign_keys = ON"))
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture()
def app(_app_session):
    """The app with every table emptied and the login counters reset before the test."""
    empty_tables(_app_session)
    _app_session.extensions["login_throttle"].reset()
    yield _app_session


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def db(app) -> Iterator:
    """A session outside any request, for arranging data and checking results."""
    session = app.extensions["db_sessionmaker"]()
    yield session
    session.close()


class World:
    """Builds users, technicians, customers and sites through the real services."""

    def __init__(self, app, client) -> None:
        self.app, self.client = app, client

    def session(self):
        return self.app.extensions["db_sessionmaker"]()

    def user(self, username: str, role: str, customer_id: int | None = None):
        from core.accounts import create_user

        with self.session() as s:
            user = create_user(
                s,
                ADMIN,
                {
                    "username": username,
                    "password": PASSWORD,
                    "role": role,
                    "display_name": username.title(),
                    "customer_id": customer_id,
                },
            )
            s.commit()
            return user.id

    def token(self, username: str) -> str:
        resp = self.client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()["access_token"]

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def technician(
        self,
        username: str,
        skills: list[str],
        lat: float = 31.85,
        lon: float = 117.26,
        district: str = "蜀山区",
    ) -> int:
        from technicians.service import create_technician

        user_id = self.user(username, "technician")
        with self.session() as s:
            tech = create_technician(
                s,
                ADMIN,
                {
                    "name": username.title(),
                    "skills": skills,
                    "home_lat": lat,
                    "home_lon": lon,
                    "district": district,
                    "user_id": user_id,
                },
            )
            s.commit()
            return tech.id

    def customer(
        self,
        name: str,
        kind: str = "residential",
        tier: str | None = None,
        access_type: str = "adsl",
        route_length_m: float | None = 1200,
        occupancy_pct: float | None = None,
        lat: float = 31.86,
        lon: float = 117.27,
        district: str = "蜀山区",
    ) -> dict[str, int]:
        from workorders import service

        with self.session() as s:
            customer = service.create_customer(
                s, ADMIN, {"name": name, "kind": kind, "enterprise_tier": tier, "phone": "13812345678"}
            )
            site = service.add_site(
                s,
                ADMIN,
                customer,
                {"address": f"合肥市{district}黄山路1号", "district": district, "lat": lat, "lon": lon},
            )
            line = service.add_line(
                s,
                ADMIN,
                site,
                {
                    "access_type": access_type,
                    "route_length_m": route_length_m,
                    "switch_id": "SW-1" if access_type == "lan" else None,
                    "switch_occupancy_pct": occupancy_pct,
                },
            )
            s.commit()
            return {"customer_id": customer.id, "site_id": site.id, "line_id": line.id}

    def enterprise(self, name: str, tier: str = "group", **site) -> dict[str, int]:
        """An enterprise customer on a LAN line (the usual kind for circuit faults)."""
        return self.customer(
            name,
            kind="enterprise",
            tier=tier,
            access_type="lan",
            route_length_m=None,
            occupancy_pct=20,
            **site,
        )

    def take_order(self, headers: dict, ids: dict, **fields):
        """POST an order for ``ids`` (a customer and site) through the API; the response.
        Tests arrange several repairs at one site freely (``duplicate_ok``); the duplicate
        guard itself is tested with explicit bodies (tests/workorders/test_customer_search.py)."""
        body = {
            "kind": "repair",
            "product": "adsl",
            "priority": "P2",
            "duplicate_ok": True,
            **fields,
            "customer_id": ids["customer_id"],
            "site_id": ids["site_id"],
        }
        return self.client.post("/api/v1/workorders", headers=headers, json=body)

    def order(self, headers: dict, ids: dict, **fields) -> int:
        """An order taken through the API (201 expected); its id."""
        resp = self.take_order(headers, ids, **fields)
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()["id"]

    def proposed_plan(self):
        """An empty day plan for today, waiting for the dispatcher."""
        from datetime import date

        from dispatch.models import DispatchPlan

        with self.session() as s:
            record = DispatchPlan(
                day=date.today(),
                kind="day",
                status="proposed",
                result={"routes": [], "unassigned": []},
                order_versions={},
                technician_ids=[],
            )
            s.add(record)
            s.commit()
            return record.id


@pytest.fixture()
def world(app, client) -> World:
    return World(app, client)


@pytest.fixture()
def city_time():
    """Sets the city's wall clock to a naive local moment; it ticks on from there.

    Planning reads the clock (routes start from now), so tests that plan today
    choose the moment of the day they mean: a fresh morning or a busy midday.
    """
    from freezegun import freeze_time

    from core.clock import city_tz

    running = []

    def set_to(local: datetime) -> datetime:
        while running:
            running.pop().stop()
        # The optimizer times its search with time.monotonic (a duration, not the city's
        # clock): it keeps the real clock, or a search would mix real and frozen readings
        # (freezegun hands real time to some call stacks) and stop at once, empty.
        freezer = freeze_time(local.replace(tzinfo=city_tz()), tick=True, ignore=["dispatch.routing"])
        freezer.start()
        running.append(freezer)
        return local

    yield set_to
    while running:
        running.pop().stop()


@pytest.fixture()
def morning(city_time):
    """Today at 07:30 in the city, before any shift starts."""
    from core.clock import now

    return city_time(datetime.combine(now().date(), time(7, 30)))


@pytest.fixture()
def redis_url():
    """A real Redis (TEST_REDIS_URL), emptied; CI must have one."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must provide TEST_REDIS_URL (a real redis-server)")
        pytest.skip("TEST_REDIS_URL not set (start redis-server to run this)")
    from redis import Redis

    Redis.from_url(url).flushdb()
    return url


@pytest.fixture()
def field(world, client):
    """A technician's phone in the test city (tests.factories.Field)."""
    return Field(world, client)
