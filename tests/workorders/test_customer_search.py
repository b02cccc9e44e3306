"""The hotline agent's customer API: finding a caller by phone, name, address or circuit,
the customer card, registering a customer with a geocoded first site, the live intake
preview that writes nothing, the duplicate-repair guard and repeat calls on open orders."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from application.demo import DISTRICTS
from core.db import Base
from core.models import AuditEvent
from tests.conftest import ADMIN
from workorders.models import Customer, OrderComment, Site, WorkOrder

SEARCH = "/api/v1/customers"


@pytest.fixture()
def desk(world):
    """An agent, a residential customer on a long ADSL line and a bank on two circuits."""
    from workorders import service

    world.user("agent", "agent")
    with world.session() as s:
        zhang = service.create_customer(
            s,
            ADMIN,
            {"name": "张伟", "kind": "residential", "phone": "138-1234 5678", "contact_name": "张伟"},
        )
        home = service.add_site(
            s,
            ADMIN,
            zhang,
            {"address": "合肥市蜀山区黄山路1号", "district": "蜀山区", "lat": 31.85, "lon": 117.26},
        )
        adsl = service.add_line(
            s,
            ADMIN,
            home,
            {"access_type": "adsl", "route_length_m": 3200, "circuit_no": "HF-ADSL-0001", "product": "adsl"},
        )
        bank = service.create_customer(
            s,
            ADMIN,
            {"name": "庐州银行", "kind": "enterprise", "enterprise_tier": "group", "phone": "0551-6000000"},
        )
        branch = service.add_site(
            s,
            ADMIN,
            bank,
            {"address": "合肥市包河区徽州大道8号", "district": "包河区", "lat": 31.79, "lon": 117.3},
        )
        lines = [
            service.add_line(
                s,
                ADMIN,
                branch,
                {"access_type": "lan", "switch_id": "SW-9", "switch_occupancy_pct": 40, **extra},
            )
            for extra in (
                {"circuit_no": "MPLS-0551-0042", "product": "mpls_vpn"},
                {"circuit_no": "LAN-0551-0077", "product": "lan_dedicated"},
            )
        ]
        s.commit()
        return {
            "headers": world.headers("agent"),
            "zhang": {"customer_id": zhang.id, "site_id": home.id, "line_id": adsl.id},
            "bank": {"customer_id": bank.id, "site_id": branch.id, "line_id": lines[0].id},
            "bank_line2": lines[1].id,
        }


def _found(client, desk, q: str, **params) -> list[str]:
    resp = client.get(SEARCH, headers=desk["headers"], query_string={"q": q, **params})
    assert resp.status_code == 200, resp.get_json()
    return [c["name"] for c in resp.get_json()["items"]]


def _row_counts(db) -> dict[str, int]:
    db.expire_all()
    return {t.name: db.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


# ---------------------------------------------------------------- search


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("13812345678", ["张伟"]),  # typed without the dashes and spaces stored
        ("138 1234", ["张伟"]),
        ("0551-6000", ["庐州银行"]),
        ("张伟", ["张伟"]),
        ("银行", ["庐州银行"]),
        ("黄山路", ["张伟"]),
        ("徽州大道8号", ["庐州银行"]),
        ("mpls-0551-0042", ["庐州银行"]),  # a circuit number, any case
        ("HF-ADSL", ["张伟"]),
        ("%", []),  # a wildcard is a character, not "everyone"
        ("不存在的人", []),
    ],
)
def test_agents_find_customers_by_phone_name_address_or_circuit(client, desk, q, expected):
    assert _found(client, desk, q) == expected


def test_a_line_id_finds_its_customer_and_results_come_a_page_at_a_time(client, desk):
    assert _found(client, desk, str(desk["bank_line2"])) == ["庐州银行"]
    first = client.get(SEARCH, headers=desk["headers"], query_string={"q": "合肥市", "limit": 1}).get_json()
    second = client.get(
        SEARCH, headers=desk["headers"], query_string={"q": "合肥市", "limit": 1, "offset": 1}
    ).get_json()
    assert first["total"] == second["total"] == 2
    assert {first["items"][0]["name"], second["items"][0]["name"]} == {"张伟", "庐州银行"}
    bank = next(i for i in (first["items"] + second["items"]) if i["name"] == "庐州银行")
    assert (
        bank["kind"] == "enterprise"
        and bank["tier_label"]
        and bank["addresses"] == ["合肥市包河区徽州大道8号"]
    )


def test_search_is_for_staff_needs_a_query_and_its_reads_are_audited(client, world, desk, db):
    assert client.get(SEARCH, headers=desk["headers"]).status_code == 422
    assert client.get(SEARCH, headers=desk["headers"], query_string={"q": "x", "limit": 0}).status_code == 422
    world.user("bank-user", "customer", customer_id=desk["bank"]["customer_id"])
    refused = client.get(SEARCH, headers=world.headers("bank-user"), query_string={"q": "张"})
    assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
    _found(client, desk, "合肥市")
    reads = [
        e
        for e in db.scalars(select(AuditEvent).where(AuditEvent.action == "read_personal"))
        if (e.after or {}).get("via") == "customer_search"
    ]
    assert len(reads) == 1 and sorted(reads[0].after["customer_ids"]) == sorted(
        [desk["zhang"]["customer_id"], desk["bank"]["customer_id"]]
    )


# ---------------------------------------------------------------- the card


def test_the_card_lists_sites_circuits_and_open_orders_and_is_audited(client, world, desk, db):
    order = world.order(desk["headers"], desk["bank"], product="mpls_vpn", line_id=desk["bank"]["line_id"])
    resp = client.get(f"{SEARCH}/{desk['bank']['customer_id']}", headers=desk["headers"])
    assert resp.status_code == 200, resp.get_json()
    card = resp.get_json()
    (site,) = card["sites"]
    assert [(line["circuit_no"], line["product"], line["access_type"]) for line in site["lines"]] == [
        ("MPLS-0551-0042", "mpls_vpn", "lan"),
        ("LAN-0551-0077", "lan_dedicated", "lan"),
    ]
    (listed,) = card["open_orders"]
    assert listed["id"] == order and listed["code"].startswith("WO") and listed["state"] == "validated"
    assert listed["received_at"].endswith("+08:00") and listed["repeat_contacts"] == 0
    home = client.get(f"{SEARCH}/{desk['zhang']['customer_id']}", headers=desk["headers"]).get_json()
    assert home["sites"][0]["lines"][0]["route_length_m"] == 3200 and home["open_orders"] == []
    db.expire_all()
    reads = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "read_personal", AuditEvent.entity_id == desk["bank"]["customer_id"]
        )
    ).all()
    assert any(e.actor_name == "agent" for e in reads)


def test_a_technician_gets_no_card_and_a_missing_customer_is_a_404(client, world, desk):
    world.technician("tech", ["adsl"])
    refused = client.get(f"{SEARCH}/{desk['zhang']['customer_id']}", headers=world.headers("tech"))
    assert refused.status_code == 403
    assert client.get(f"{SEARCH}/999999", headers=desk["headers"]).status_code == 404


# ---------------------------------------------------------------- registering


def test_a_new_customer_and_first_site_are_registered_in_one_call_and_geocoded(client, desk, db):
    body = {
        "name": "李娜",
        "kind": "residential",
        "phone": "13900001111",
        "email": "lina@example.cn",
        "preferred_channel": "email",
        "language": "en",
        "contact_name": "李娜",
        "site": {
            "address": "合肥市包河区望江路100号",
            "line": {
                "access_type": "lan",
                "circuit_no": "LAN-1001",
                "product": "iptv_lan",
                "switch_id": "SW-2",
            },
        },
    }
    resp = client.post(SEARCH, headers=desk["headers"], json=body)
    assert resp.status_code == 201, resp.get_json()
    card = resp.get_json()
    assert (card["email"], card["preferred_channel"], card["language"]) == ("lina@example.cn", "email", "en")
    (site,) = card["sites"]
    assert (site["lat"], site["lon"]) == DISTRICTS["包河区"] and site["district"] == "包河区"
    assert site["lines"][0]["circuit_no"] == "LAN-1001"
    assert _found(client, desk, "LAN-1001") == ["李娜"]
    db.expire_all()
    created = db.scalars(
        select(AuditEvent.action).where(
            AuditEvent.action.in_(["customer_created", "site_created", "line_created"]),
            AuditEvent.actor_name == "agent",
        )
    )
    assert sorted(created) == ["customer_created", "line_created", "site_created"]


def test_an_address_the_geocoder_cannot_place_is_a_422_and_registers_nothing(client, desk, db):
    before = _row_counts(db)
    body = {"name": "王五", "kind": "residential", "site": {"address": "火星基地1号"}}
    resp = client.post(SEARCH, headers=desk["headers"], json=body)
    assert resp.status_code == 422 and resp.mimetype == "application/problem+json"
    problem = resp.get_json()
    assert problem["type"].endswith("address-not-located") and "address" in problem["errors"]
    assert _row_counts(db) == before
    # the agent may place it by hand instead
    body["site"] |= {"lat": 31.9, "lon": 117.1}
    placed = client.post(SEARCH, headers=desk["headers"], json=body)
    assert placed.status_code == 201 and placed.get_json()["sites"][0]["lat"] == 31.9
    half = client.post(
        SEARCH, headers=desk["headers"], json=body | {"site": {"address": "火星", "lat": 31.9}}
    )
    assert half.status_code == 422 and "lon" in half.get_json()["errors"]["site"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "enterprise"}, "enterprise_tier"),
        ({"preferred_channel": "email"}, "email"),
        ({"email": "not-an-address"}, "email"),
        ({"language": "fr"}, "language"),
        ({"phone": "call me"}, "phone"),
    ],
)
def test_a_customer_form_with_a_bad_field_is_a_422_naming_it(client, desk, fields, field):
    resp = client.post(
        SEARCH, headers=desk["headers"], json={"name": "某人", "kind": "residential", **fields}
    )
    assert resp.status_code == 422 and field in resp.get_json()["errors"]


def test_a_site_is_added_with_its_line(client, desk, db):
    resp = client.post(
        f"{SEARCH}/{desk['zhang']['customer_id']}/sites",
        headers=desk["headers"],
        json={"address": "合肥市庐阳区长江中路5号", "line": {"access_type": "adsl", "route_length_m": 900}},
    )
    assert resp.status_code == 201, resp.get_json()
    site = resp.get_json()
    assert (site["lat"], site["lon"]) == DISTRICTS["庐阳区"] and site["lines"][0]["route_length_m"] == 900
    assert db.get(Site, site["id"]).customer_id == desk["zhang"]["customer_id"]


# ---------------------------------------------------------------- the live preview


def _iptv_install(desk) -> dict:
    return {"kind": "install", "product": "iptv_adsl", "priority": "P3", "source": "hotline", **desk["zhang"]}


def test_the_preview_answers_findings_and_deadlines_and_writes_nothing(client, desk, db):
    before = _row_counts(db)
    resp = client.post("/api/v1/workorders/preview", headers=desk["headers"], json=_iptv_install(desk))
    assert resp.status_code == 200, resp.get_json()
    preview = resp.get_json()
    r1 = next(f for f in preview["findings"] if f["rule_id"] == "R1")
    assert r1["severity"] == "block" and r1["measured"] == 3200 and "2500" in r1["message"]
    assert preview["blocked"] is True and preview["state"] == "received"
    assert preview["response_deadline"].endswith("+08:00") and preview["restore_deadline"].endswith("+08:00")
    assert preview["duplicate"] is False and preview["open_repairs"] == []
    assert _row_counts(db) == before  # no order, no audit event, nothing
    taken = client.post("/api/v1/workorders", headers=desk["headers"], json=_iptv_install(desk)).get_json()
    assert [f["rule_id"] for f in taken["findings"]] == [f["rule_id"] for f in preview["findings"]]
    assert taken["restore_deadline"][:16] == preview["restore_deadline"][:16]


def test_the_preview_in_english_and_a_clean_order_has_no_blocking_finding(client, desk):
    body = {"kind": "repair", "product": "mpls_vpn", "priority": "P2", **desk["bank"]}
    headers = desk["headers"] | {"Accept-Language": "en"}
    preview = client.post("/api/v1/workorders/preview", headers=headers, json=body).get_json()
    assert preview["blocked"] is False and preview["state"] == "validated"
    assert preview["state_label"] == "Validated" and preview["priority_label"] == "P2 important"


@pytest.mark.parametrize(
    "change",
    [
        {"product": "no-such-product"},
        {"site_id": 999999},
        {"line_id": 999999},
        {"customer_id": 999999},
        {"kind": "dance"},
        {"appointment_start": "2026-12-01T10:00:00"},
    ],
)
def test_the_preview_refuses_what_the_intake_refuses_word_for_word(client, desk, db, change):
    body = _iptv_install(desk) | change
    preview = client.post("/api/v1/workorders/preview", headers=desk["headers"], json=body)
    before = _row_counts(db)
    taken = client.post("/api/v1/workorders", headers=desk["headers"], json=body)
    assert 400 <= preview.status_code < 500 and preview.status_code == taken.status_code
    same = {k: v for k, v in preview.get_json().items() if k != "instance"}
    assert same == {k: v for k, v in taken.get_json().items() if k != "instance"}
    assert _row_counts(db) == before


def test_customers_and_technicians_cannot_preview(client, world, desk):
    world.user("bank-user", "customer", customer_id=desk["bank"]["customer_id"])
    body = {"kind": "repair", "product": "mpls_vpn", **desk["bank"]}
    assert (
        client.post("/api/v1/workorders/preview", headers=world.headers("bank-user"), json=body).status_code
        == 403
    )


# ---------------------------------------------------------------- a repeat call


def _repair(desk, who: str = "bank", **fields) -> dict:
    return {
        "kind": "repair",
        "product": "mpls_vpn",
        "priority": "P2",
        "source": "hotline",
        **desk[who],
        **fields,
    }


def test_a_second_repair_for_the_same_line_is_a_409_naming_the_open_one(client, desk, db):
    first = client.post("/api/v1/workorders", headers=desk["headers"], json=_repair(desk)).get_json()
    before = _row_counts(db)
    again = client.post("/api/v1/workorders", headers=desk["headers"], json=_repair(desk))
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    problem = again.get_json()
    assert problem["type"].endswith("duplicate-repair") and first["code"] in problem["detail"]
    assert problem["open_order"] == {"id": first["id"], "code": first["code"], "state": "validated"}
    assert _row_counts(db) == before
    preview = client.post(
        "/api/v1/workorders/preview", headers=desk["headers"], json=_repair(desk)
    ).get_json()
    assert preview["duplicate"] is True and preview["open_repairs"][0]["code"] == first["code"]
    # the bank's other circuit and an install at the same site are other business
    other = _repair(desk, line_id=desk["bank_line2"], product="lan_dedicated")
    assert client.post("/api/v1/workorders", headers=desk["headers"], json=other).status_code == 201
    install = _repair(desk, kind="install", product="lan_dedicated")
    assert client.post("/api/v1/workorders", headers=desk["headers"], json=install).status_code == 201


def test_duplicate_ok_takes_the_second_repair_and_audits_it(client, desk, db):
    first = client.post("/api/v1/workorders", headers=desk["headers"], json=_repair(desk)).get_json()
    second = client.post("/api/v1/workorders", headers=desk["headers"], json=_repair(desk, duplicate_ok=True))
    assert second.status_code == 201, second.get_json()
    db.expire_all()
    event = db.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "duplicate_repair_accepted", AuditEvent.entity_id == second.get_json()["id"]
        )
    )
    assert event.actor_name == "agent" and event.after["open_orders"][0]["code"] == first["code"]
    assert db.scalar(select(func.count()).select_from(WorkOrder)) == 2


def test_a_repeat_call_is_recorded_on_the_open_order_as_comment_and_audit(client, desk, db):
    order = client.post("/api/v1/workorders", headers=desk["headers"], json=_repair(desk)).get_json()
    contacts = f"/api/v1/workorders/{order['id']}/contacts"
    body = {"caller_name": "营业部刘经理", "caller_phone": "13800009999", "note": "仍然中断，催修"}
    resp = client.post(contacts, headers=desk["headers"], json=body)
    assert resp.status_code == 201, resp.get_json()
    answer = resp.get_json()
    assert answer["code"] == order["code"] and answer["repeat_contacts"] == 1
    assert "营业部刘经理" in answer["comment"]["body"] and "催修" in answer["comment"]["body"]
    listed = client.get(f"/api/v1/workorders/{order['id']}/comments", headers=desk["headers"]).get_json()
    assert [c["body"] for c in listed] == [answer["comment"]["body"]]
    trail = client.get(f"/api/v1/workorders/{order['id']}/audit", headers=desk["headers"]).get_json()
    (event,) = [e for e in trail if e["action"] == "repeat_contact"]
    assert event["after"]["caller_name"] == "营业部刘经理" and event["actor_name"] == "agent"
    card = client.get(f"{SEARCH}/{desk['bank']['customer_id']}", headers=desk["headers"]).get_json()
    assert card["open_orders"][0]["repeat_contacts"] == 1
    assert db.scalar(select(func.count()).select_from(OrderComment)) == 1


def test_a_repeat_call_needs_a_caller_an_open_order_and_a_staff_member(client, world, desk, db):
    order = client.post("/api/v1/workorders", headers=desk["headers"], json=_repair(desk)).get_json()
    contacts = f"/api/v1/workorders/{order['id']}/contacts"
    assert client.post(contacts, headers=desk["headers"], json={"note": "?"}).status_code == 422
    world.user("bank-user", "customer", customer_id=desk["bank"]["customer_id"])
    refused = client.post(contacts, headers=world.headers("bank-user"), json={"caller_name": "我"})
    assert refused.status_code == 403
    world.user("disp", "dispatcher")
    cancel = {"to": "cancelled", "reason": "客户撤单"}
    moved = client.post(
        f"/api/v1/workorders/{order['id']}/transitions", headers=world.headers("disp"), json=cancel
    )
    assert moved.status_code == 200, moved.get_json()
    closed = client.post(contacts, headers=desk["headers"], json={"caller_name": "刘经理"})
    assert closed.status_code == 409 and order["code"] in closed.get_json()["detail"]
    assert (
        client.post(
            "/api/v1/workorders/999999/contacts", headers=desk["headers"], json={"caller_name": "刘"}
        ).status_code
        == 404
    )
    assert db.scalar(select(func.count()).select_from(Customer)) == 2
