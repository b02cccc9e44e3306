"""Geocoding from a local table (no network), the CLI, and the demo seed."""

from sqlalchemy import func, select

from application.demo import DEMO_PASSWORD, seed_city
from core.geocoding import LocalTableGeocoder
from core.models import User
from technicians.models import Technician
from tests.conftest import empty_tables
from workorders.lifecycle import State
from workorders.models import Customer, Site, WorkOrder


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
    refused = client.post(
        f"/api/v1/customers/{customer['id']}/sites", headers=h, json={"address": "无名小路"}
    )
    assert refused.status_code == 422 and "address" in refused.get_json()["errors"]
    # a site the geocoder cannot place is kept only with coordinates given by hand
    placed = client.post(
        f"/api/v1/customers/{customer['id']}/sites",
        headers=h,
        json={"address": "无名小路", "lat": 31.8, "lon": 117.2},
    )
    assert placed.status_code == 201 and placed.get_json()["lat"] == 31.8
    with world.session() as s:
        from workorders.models import Site

        unknown = Site(customer_id=customer["id"], address="无名小路2号")  # e.g. imported without coordinates
        s.add(unknown)
        s.commit()
        unknown = {"id": unknown.id}
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
    lines = seed_city(db, technicians=7, orders=30, seed=3, companies=True)
    assert lines[0].startswith("seeded 7 technicians")
    assert db.scalar(select(func.count()).select_from(Technician)) == 7
    city = select(WorkOrder).join(Customer).where(Customer.account_manager_id.is_(None))
    field_work = city.where(WorkOrder.kind != "complaint")  # the demo complaints come on top
    assert len(db.scalars(field_work).all()) == 30
    kinds = set(
        db.scalars(select(WorkOrder.kind).join(Customer).where(Customer.account_manager_id.is_(None)))
    )
    assert kinds == {"install", "repair", "complaint"}
    assert db.scalar(select(User).where(User.username == "enterprise")).customer_id is not None
    total = db.scalar(select(func.count()).select_from(WorkOrder))
    second = seed_city(db, technicians=7, orders=30)
    assert "skipped" in second[0]
    assert db.scalar(select(func.count()).select_from(WorkOrder)) == total


def test_demo_seed_has_two_company_accounts_with_an_order_in_every_state(app, db, client):
    result = app.test_cli_runner().invoke(
        args=["seed-demo", "--technicians", "7", "--orders", "10", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == "seeded 2 company accounts with 22 orders (one in every state)"
    companies = db.scalars(select(Customer).where(Customer.account_manager_id.is_not(None))).all()
    assert [(c.name, c.enterprise_tier) for c in companies] == [
        ("庐州银行", "group"),
        ("滨湖医院", "local_a"),
    ]
    manager = db.get(User, companies[0].account_manager_id)
    assert manager.role == "agent" and companies[1].account_manager_id == manager.id
    for company in companies:
        users = db.scalars(select(User).where(User.customer_id == company.id)).all()
        assert len(users) == 3 and [u.company_admin for u in users].count(True) == 1
        sites = db.scalars(select(Site).where(Site.customer_id == company.id)).all()
        assert len(sites) == 4 and sum(len(s.lines) for s in sites) >= 5
        states = set(db.scalars(select(WorkOrder.state).where(WorkOrder.customer_id == company.id)))
        assert states == set(State)
    assert any(
        "庐州银行 (group): bank_admin (administrator), bank_ops, bank_branch" in line for line in lines
    )
    # a company's administrator logs in with the demo password and sees the company's sites
    token = client.post("/api/v1/auth/token", json={"username": "bank_admin", "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    sites = client.get(f"/api/v1/companies/{companies[0].id}/sites", headers=headers).get_json()
    assert len(sites) == 4 and all(site["circuits"] for site in sites)


def test_the_demo_seed_is_deterministic(app, db):
    """The same seed, the same city, with or without the company accounts (they draw
    their own random numbers, after the city's)."""
    seed_city(db, technicians=7, orders=20, seed=3, companies=True)
    city = (
        select(WorkOrder.product, WorkOrder.priority, Site.address)
        .join(Site, WorkOrder.site_id == Site.id)
        .join(Customer, WorkOrder.customer_id == Customer.id)
        .where(Customer.account_manager_id.is_(None))
        .order_by(WorkOrder.id)
    )
    first = db.execute(city).all()
    db.rollback()  # end the read: emptying the tables waits for every open transaction (PostgreSQL)
    empty_tables(app)
    db.expunge_all()  # the rows are gone: forget them
    seed_city(db, technicians=7, orders=20, seed=3)  # without the companies: the same city
    assert db.execute(city).all() == first
