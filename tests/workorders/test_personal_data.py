"""Staff reads of customers' personal data are audited, one event per request;
agents see of technicians only what taking a call needs."""

from __future__ import annotations

from sqlalchemy import select

from core.models import AuditEvent


def _reads(db, via: str) -> list[AuditEvent]:
    db.expire_all()
    return [
        e
        for e in db.scalars(select(AuditEvent).where(AuditEvent.action == "read_personal"))
        if (e.after or {}).get("via") == via
    ]


def _orders(client, world, count: int = 3) -> list[int]:
    h = world.headers("agent")
    ids = []
    for i in range(count):
        c = world.customer(f"客户{i}", lat=31.85 + 0.01 * i)
        resp = client.post(
            "/api/v1/workorders",
            headers=h,
            json={
                "kind": "repair",
                "product": "adsl",
                "priority": "P3",
                "customer_id": c["customer_id"],
                "site_id": c["site_id"],
            },
        )
        assert resp.status_code == 201
        ids.append(resp.get_json()["id"])
    return ids


def test_order_list_detail_and_audit_trail_reads_are_audited_once_per_request(client, world, db):
    world.user("agent", "agent")
    world.user("disp", "dispatcher")
    orders = _orders(client, world)
    h = world.headers("disp")
    listed = client.get("/api/v1/workorders", headers=h)
    assert listed.status_code == 200 and len(listed.get_json()) == 3
    (event,) = _reads(db, "order_list")
    assert event.actor_name == "disp" and len(event.after["customer_ids"]) == 3 and event.after["orders"] == 3
    assert client.get(f"/api/v1/workorders/{orders[0]}", headers=h).status_code == 200
    assert len(_reads(db, "order_detail")) == 1
    assert client.get(f"/api/v1/workorders/{orders[0]}/audit", headers=h).status_code == 200
    (trail,) = _reads(db, "audit_trail")
    assert trail.entity_id is not None


def test_the_staff_order_list_page_read_is_audited(client, world, db):
    import re

    from tests.conftest import PASSWORD

    world.user("agent", "agent")
    _orders(client, world, 2)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "agent", "password": PASSWORD, "csrf_token": token})
    assert client.get("/?list=1").status_code == 200  # an agent's home is /intake; the list is one click away
    (event,) = _reads(db, "order_list_page")
    assert event.actor_name == "agent" and event.after["orders"] == 2


def test_a_customer_reading_their_own_orders_is_not_a_staff_read(client, world, db):
    ids = world.customer("自己")
    world.user("cust", "customer", customer_id=ids["customer_id"])
    assert client.get("/api/v1/workorders", headers=world.headers("cust")).status_code == 200
    assert _reads(db, "order_list") == []


def test_agents_do_not_see_technicians_phones_or_positions(client, world, db):
    from technicians.models import Technician

    world.user("agent", "agent")
    world.user("disp", "dispatcher")
    tech_id = world.technician("wang", ["adsl"])
    tech = db.get(Technician, tech_id)
    tech.phone, tech.last_lat, tech.last_lon = "13900000000", 31.8, 117.2
    db.commit()
    for path in ("/api/v1/technicians", f"/api/v1/technicians/{tech_id}"):
        body = client.get(path, headers=world.headers("agent")).get_json()
        seen = body[0] if isinstance(body, list) else body
        assert seen["name"] == "Wang" and seen["skills"] == ["adsl"]
        assert not {"phone", "last_lat", "last_lon", "home_lat", "home_lon"} & set(seen)
        full = client.get(path, headers=world.headers("disp")).get_json()
        full = full[0] if isinstance(full, list) else full
        assert full["phone"] == "13900000000"
