"""The van stock: issue, return, write-off through the staff API; the van never
goes negative (409, nothing written); the ledger sums equal the balances;
serialised units are traced; the phone sees its van."""

from __future__ import annotations

from sqlalchemy import func, select

from technicians import stock
from technicians.stock_models import StockBalance, StockMove


def balances(db) -> dict[tuple[int, str], int]:
    return {(b.technician_id, b.item_code): b.quantity for b in db.scalars(select(StockBalance))}


def assert_ledger_matches(db) -> None:
    """Independent of the service: sum the ledger rows by sign in Python."""
    sums: dict[tuple[int, str], int] = {}
    for move in db.scalars(select(StockMove)):
        sign = 1 if move.kind == "issue" else -1
        sums[(move.technician_id, move.item_code)] = sums.get((move.technician_id, move.item_code), 0) + (
            sign * move.quantity
        )
    assert sums == balances(db)
    assert stock.ledger_sums(db) == sums
    assert all(q >= 0 for q in sums.values())


def issue(client, headers, tech_id, lines, expect=201, **body):
    resp = client.post(
        f"/api/v1/technicians/{tech_id}/stock/issue", headers=headers, json={"lines": lines, **body}
    )
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


def test_issue_return_write_off_keep_the_van_and_the_ledger_in_step(field, client, db):
    depot = client.post(
        "/api/v1/stock/depots", headers=field.disp, json={"name": "蜀山仓", "lat": 31.85, "lon": 117.2}
    )
    assert depot.status_code == 201
    moves = issue(
        client,
        field.disp,
        field.tech_id,
        [{"item": "rj45", "quantity": 20}, {"item": "stb", "serials": ["STB-1", "STB-2", "STB-3"]}],
        depot_id=depot.get_json()["id"],
    )
    assert [(m["item"], m["quantity"], m["serial"]) for m in moves] == [
        ("rj45", 20, None),
        ("stb", 1, "STB-1"),
        ("stb", 1, "STB-2"),
        ("stb", 1, "STB-3"),
    ]
    assert [m["balance_after"] for m in moves] == [20, 1, 2, 3]

    back = client.post(
        f"/api/v1/technicians/{field.tech_id}/stock/return",
        headers=field.disp,
        json={"lines": [{"item": "rj45", "quantity": 5}, {"item": "stb", "serials": ["STB-3"]}]},
    )
    assert back.status_code == 201
    lost = client.post(
        f"/api/v1/technicians/{field.tech_id}/stock/write-off",
        headers=field.disp,
        json={"lines": [{"item": "rj45", "quantity": 3}], "reason": "掉落损坏"},
    )
    assert lost.status_code == 201 and lost.get_json()[0]["balance_after"] == 12

    van = client.get(f"/api/v1/technicians/{field.tech_id}/stock", headers=field.boss).get_json()
    assert {i["item"]: (i["quantity"], i["serials"]) for i in van["items"]} == {
        "rj45": (12, []),
        "stb": (2, ["STB-1", "STB-2"]),
    }
    mine = client.get("/mobile/v1/stock", headers=field.tech)
    assert mine.status_code == 200 and mine.get_json() == van
    other = client.get("/mobile/v1/stock", headers=field.other_tech).get_json()
    assert other["items"] == [] and other["technician_id"] == field.other_tech_id
    assert_ledger_matches(db)


def test_the_van_never_goes_negative(field, client, db):
    issue(client, field.disp, field.tech_id, [{"item": "cable_m", "quantity": 30}])
    before = db.scalar(select(func.count()).select_from(StockMove))
    too_many = client.post(
        f"/api/v1/technicians/{field.tech_id}/stock/write-off",
        headers={**field.disp, "Accept-Language": "en"},
        json={"lines": [{"item": "cable_m", "quantity": 31}], "reason": "lost"},
    )
    assert too_many.status_code == 409
    body = too_many.get_json()
    assert body["type"].endswith("not-enough-stock") and body["held"] == 30 and body["wanted"] == 31
    assert "30" in body["detail"] and "cable_m" in body["detail"]
    zh = client.post(
        f"/api/v1/technicians/{field.tech_id}/stock/return",
        headers=field.disp,
        json={"lines": [{"item": "rj45", "quantity": 1}]},
    )
    assert zh.status_code == 409 and "车上" in zh.get_json()["detail"]
    # a refused move in a request with several lines leaves nothing behind
    mixed = client.post(
        f"/api/v1/technicians/{field.tech_id}/stock/return",
        headers=field.disp,
        json={"lines": [{"item": "cable_m", "quantity": 10}, {"item": "rj45", "quantity": 1}]},
    )
    assert mixed.status_code == 409
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(StockMove)) == before
    assert balances(db) == {(field.tech_id, "cable_m"): 30}
    assert_ledger_matches(db)


def test_bad_lines_are_refused_with_the_field(field, client):
    url = f"/api/v1/technicians/{field.tech_id}/stock/issue"
    cases = [
        ([{"item": "flux_capacitor", "quantity": 1}], "item"),
        ([{"item": "stb", "quantity": 2}], "serials"),
        ([{"item": "stb", "serials": ["A", "A"]}], "serials"),
        ([{"item": "stb", "quantity": 3, "serials": ["A", "B"]}], "quantity"),
        ([{"item": "rj45", "quantity": 2, "serials": ["A"]}], "serials"),
        ([{"item": "rj45"}], "quantity"),
    ]
    for lines, field_name in cases:
        resp = client.post(url, headers=field.disp, json={"lines": lines})
        assert resp.status_code == 422, (lines, resp.get_json())
        assert field_name in resp.get_json()["errors"], (lines, resp.get_json())
    assert (
        client.post(url, headers=field.disp, json={"lines": [{"item": "rj45", "quantity": 0}]}).status_code
        == 422
    )
    assert client.post(url, headers=field.disp, json={"lines": []}).status_code == 422
    missing = client.post("/api/v1/technicians/999999/stock/issue", headers=field.disp, json={"lines": lines})
    assert missing.status_code == 404
    assert client.post(url, headers=field.tech, json={"lines": lines}).status_code == 403


def test_a_serial_is_in_one_place_at_a_time(field, client, db):
    issue(client, field.disp, field.tech_id, [{"item": "adsl_modem", "serials": ["M-1"]}])
    twice = issue(
        client, field.disp, field.other_tech_id, [{"item": "adsl_modem", "serials": ["M-1"]}], expect=409
    )
    assert twice["serial"] == "M-1"
    # not in the other van: cannot be returned from it
    client.post(
        f"/api/v1/technicians/{field.other_tech_id}/stock/issue",
        headers=field.disp,
        json={"lines": [{"item": "adsl_modem", "serials": ["M-2"]}]},
    )
    wrong_van = client.post(
        f"/api/v1/technicians/{field.other_tech_id}/stock/return",
        headers=field.disp,
        json={"lines": [{"item": "adsl_modem", "serials": ["M-1"]}]},
    )
    assert wrong_van.status_code == 409
    # back at the depot it may go out again, to anyone
    back = client.post(
        f"/api/v1/technicians/{field.tech_id}/stock/return",
        headers=field.disp,
        json={"lines": [{"item": "adsl_modem", "serials": ["M-1"]}]},
    )
    assert back.status_code == 201
    issue(client, field.disp, field.other_tech_id, [{"item": "adsl_modem", "serials": ["M-1"]}])
    trace = client.get(
        "/api/v1/stock/serials", headers=field.agent, query_string={"serial": "M-1"}
    ).get_json()
    assert len(trace) == 1
    assert trace[0]["status"] == "in_van" and trace[0]["technician_id"] == field.other_tech_id
    assert [m["kind"] for m in trace[0]["moves"]] == ["issue", "return", "issue"]
    assert (
        client.get("/api/v1/stock/serials", headers=field.agent, query_string={"serial": "nope"}).status_code
        == 404
    )
    ledger = client.get("/api/v1/stock/moves", headers=field.boss, query_string={"serial": "M-1"}).get_json()
    assert len(ledger) == 3
    assert_ledger_matches(db)
