"""Geocoding from a local table (no network), the CLI, and the demo seed."""

from sqlalchemy import func, select

from application.demo import seed_city
from core.geocoding import LocalTableGeocoder
from core.models import User
from technicians.models import Technician
from workorders.models import WorkOrder


def test_local_table_prefers_the_longest_place_name():
    geocoder = LocalTableGeocoder({"新区": (1.0, 1.0), "滨湖新区": (31.73, 117.29)})
    found = geocoder.geocode("合肥市滨湖新区徽州大道1号")
    assert (found.latitude, found.longitude) == (31.73, 117.29)
    assert geocoder.geocode("北京市朝阳区") is None


def test_site_without_coordinates_is_geocoded_locally(client, world):
    world.user("agent", "agent")
    h = world.headers("agent")
    customer = client.post(
        "/api/v1/customers", headers=h, json={"name": "赵敏", "kind": "residential"}
    ).get_json()
    site = client.post(
        f"/api/v1/customers/{customer['id']}/sites",
        headers=h,
        json={"address": "合肥市包河区望江路100号", "district": "包河区"},
    ).get_json()
    assert abs(site["lat"] - 31.793) < 1e-6 and abs(site["lon"] - 117.309) < 1e-6
    unknown = client.post(
        f"/api/v1/customers/{customer['id']}/sites", headers=h, json={"address": "无名小路"}
    ).get_json()
    assert unknown["lat"] is None
    # an order at an unplaceable site is blocked with a reason, not planned blind
    order = client.post(
        "/api/v1/workorders",
        headers=h,
        json={"kind": "repair", "product": "adsl", "customer_id": customer["id"], "site_id": unknown["id"]},
    ).get_json()
    assert order["blocked"] and any(f["rule_id"].startswith("ORDER_COORD") for f in order["findings"])


def test_cli_creates_a_user_that_can_log_in(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-user", "wang", "--role", "dispatcher", "--password", "long-enough-1"]
    )
    assert result.exit_code == 0, result.output
    resp = client.post("/api/v1/auth/token", json={"username": "wang", "password": "long-enough-1"})
    assert resp.status_code == 200 and resp.get_json()["role"] == "dispatcher"
    again = runner.invoke(args=["create-user", "wang", "--role", "dispatcher", "--password", "long-enough-1"])
    assert again.exit_code != 0


def test_demo_seed_builds_a_city_once(app, db):
    lines = seed_city(db, technicians=7, orders=30, seed=3)
    assert lines[0].startswith("seeded 7 technicians")
    assert db.scalar(select(func.count()).select_from(Technician)) == 7
    assert db.scalar(select(func.count()).select_from(WorkOrder)) == 30
    kinds = set(db.scalars(select(WorkOrder.kind)))
    assert kinds == {"install", "repair"}
    assert db.scalar(select(func.count()).select_from(User).where(User.role == "customer")) == 1
    second = seed_city(db, technicians=7, orders=30)
    assert "skipped" in second[0]
    assert db.scalar(select(func.count()).select_from(WorkOrder)) == 30
