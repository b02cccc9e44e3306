"""Close-out records the equipment used: out of the technician's van, checked
against the order's bill of materials, and each serial traced to the customer."""

from __future__ import annotations

from sqlalchemy import select

from technicians.stock_models import SerialUnit, StockBalance
from tests.factories import REPAIR_ANSWERS


def stock_up(field, client, tech_id=None, lines=None):
    resp = client.post(
        f"/api/v1/technicians/{tech_id or field.tech_id}/stock/issue",
        headers=field.disp,
        json={
            "lines": lines
            or [{"item": "adsl_modem", "serials": ["M-1", "M-2"]}, {"item": "rj45", "quantity": 10}]
        },
    )
    assert resp.status_code == 201, resp.get_json()


def ready_to_close(field, client) -> int:
    oid = field.order(product="adsl", kind="repair")
    field.arrive(oid)
    resp = client.post(
        f"/mobile/v1/orders/{oid}/checklist", headers=field.tech, json={"answers": REPAIR_ANSWERS}
    )
    assert resp.status_code == 200
    return oid


def held(db, tech_id) -> dict[str, int]:
    db.expire_all()
    return {
        b.item_code: b.quantity
        for b in db.scalars(select(StockBalance).where(StockBalance.technician_id == tech_id))
    }


def test_close_out_takes_the_equipment_from_the_van_and_traces_the_serial(field, client, db):
    stock_up(field, client)
    oid = ready_to_close(field, client)
    done = field.status(
        oid,
        "completed",
        equipment=[{"item": "adsl_modem", "serials": ["M-2"]}, {"item": "rj45", "quantity": 2}],
    )
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["state"] == "completed"
    assert held(db, field.tech_id) == {"adsl_modem": 1, "rj45": 8}
    trace = client.get("/api/v1/stock/serials", headers=field.disp, query_string={"serial": "M-2"}).get_json()
    assert trace[0]["status"] == "at_customer" and trace[0]["work_order_id"] == oid
    assert trace[0]["customer_id"] == field.home["customer_id"] and trace[0]["customer_name"] == "张伟"
    used = client.get(
        "/api/v1/stock/moves", headers=field.disp, query_string={"work_order_id": oid}
    ).get_json()
    assert sorted((m["item"], m["kind"], m["signed_quantity"]) for m in used) == [
        ("adsl_modem", "use", -1),
        ("rj45", "use", -2),
    ]


def test_a_serial_not_in_my_van_refuses_the_close_out_and_changes_nothing(field, client, db):
    stock_up(field, client)
    stock_up(field, client, field.other_tech_id, [{"item": "adsl_modem", "serials": ["OTHER-1"]}])
    oid = ready_to_close(field, client)
    refused = field.status(
        oid,
        "completed",
        equipment=[{"item": "rj45", "quantity": 2}, {"item": "adsl_modem", "serials": ["OTHER-1"]}],
    )
    assert refused.status_code == 409 and refused.get_json()["serial"] == "OTHER-1"
    assert held(db, field.tech_id) == {"adsl_modem": 2, "rj45": 10}
    unit = db.scalar(select(SerialUnit).where(SerialUnit.serial == "OTHER-1"))
    assert unit.status == "in_van" and unit.technician_id == field.other_tech_id
    order = client.get(f"/api/v1/workorders/{oid}", headers=field.disp).get_json()
    assert order["state"] == "on_site"


def test_more_than_the_van_holds_is_a_409(field, client, db):
    stock_up(field, client)
    oid = ready_to_close(field, client)
    refused = field.status(oid, "completed", equipment=[{"item": "rj45", "quantity": 11}])
    assert refused.status_code == 409 and refused.get_json()["held"] == 10
    assert held(db, field.tech_id)["rj45"] == 10


def test_an_item_the_job_does_not_use_is_a_422(field, client, db):
    stock_up(field, client, lines=[{"item": "stb", "serials": ["S-1"]}])
    oid = ready_to_close(field, client)
    refused = field.status(oid, "completed", equipment=[{"item": "stb", "serials": ["S-1"]}])
    assert refused.status_code == 422 and "equipment" in refused.get_json()["errors"]
    unknown = field.status(oid, "completed", equipment=[{"item": "warp_core", "quantity": 1}])
    assert unknown.status_code == 422
    early = field.status(oid, "started", equipment=[{"item": "rj45", "quantity": 1}])
    assert early.status_code == 422
    assert held(db, field.tech_id) == {"stb": 1}
