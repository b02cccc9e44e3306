"""The OpenAPI document lists the endpoints; migrations go up and one step down cleanly."""

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from core.db import Base
from core.migrate import downgrade, upgrade

INITIAL_REVISION = "1611da11f7b0"


def test_openapi_lists_endpoints(client):
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    for path in (
        "/api/v1/workorders",
        "/api/v1/workorders/{order_id}/transitions",
        "/api/v1/technicians",
        "/api/v1/dispatch/plan",
        "/mobile/v1/route",
        "/api/v1/auth/token",
    ):
        assert path in spec["paths"], path
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    post = spec["paths"]["/api/v1/workorders"]["post"]
    assert "422" in post["responses"]


def test_docs_page_is_browsable(client):
    """/docs renders the spec it names (Swagger UI, see tests/core/test_api_docs*.py)."""
    resp = client.get("/docs")
    assert resp.status_code == 200
    assert 'data-spec-url="/openapi.json"' in resp.get_data(as_text=True)
    assert "/api/v1/workorders" in client.get("/openapi.json").get_json()["paths"]


def _walk(url: str) -> None:
    upgrade(url)
    engine = create_engine(url)
    tables = set(inspect(engine).get_table_names())
    assert {"work_orders", "technicians", "audit_events", "users"} <= tables
    assert {"photos", "idempotency_records", "location_pings"} <= tables
    columns = {c["name"] for c in inspect(engine).get_columns("work_orders")}
    assert "sla_clock" in columns
    assert {"order_comments", "follow_ups", "notifications"} <= tables
    assert {"received_at", "is_repeat_fault", "handling_deadline"} <= columns
    assert {"company_admin"} <= {c["name"] for c in inspect(engine).get_columns("users")}
    # The models and the migrations describe the same schema.
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    # Down to the initial schema (later revisions stack on top): no SLA clock, no mobile tables.
    downgrade(url, INITIAL_REVISION)
    after_down = {c["name"] for c in inspect(engine).get_columns("work_orders")}
    later_columns = {"sla_clock", "received_at", "fault_since", "site_contact_name", "site_contact_phone"}
    later_columns |= {"is_repeat_fault", "handling_deadline", "handled_at", "escalated_at"}
    later_columns |= {"response_s", "on_site_s", "elapsed_without_pauses_s", "repeat_within_30d"}
    later_columns |= {"crew_size", "second_technician_id"}
    assert after_down == columns - later_columns
    later_tables = {"photos", "idempotency_records", "location_pings", "order_comments"}
    assert not (later_tables | {"follow_ups", "notifications"}) & set(inspect(engine).get_table_names())
    upgrade(url)
    assert set(inspect(engine).get_table_names()) == tables
    assert {c["name"] for c in inspect(engine).get_columns("work_orders")} == columns
    engine.dispose()


def test_migrations_on_fresh_sqlite(tmp_path):
    _walk(f"sqlite:///{tmp_path / 'fresh.db'}")


def test_migrations_on_fresh_postgresql():
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.skip("TEST_DATABASE_URL not set: the PostgreSQL run covers this")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = "dispatch_migration_walk"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        _walk(make_url(base).set(database=name).render_as_string(hide_password=False))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()
