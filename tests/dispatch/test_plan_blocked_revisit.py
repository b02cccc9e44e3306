"""An order a plan leaves out goes back to the pool even when the installation code
now blocks it (its line changed since intake): the plan applies, the order comes back
flagged with its findings and no plan takes it again; a direct validation names it."""

from __future__ import annotations

from datetime import datetime, time

from core.clock import now
from dispatch.models import DispatchPlan
from dispatch.planning import plannable_orders
from workorders.models import LineRecord, WorkOrder


def test_a_plan_leaving_out_an_order_the_code_now_blocks_still_applies(client, world, db, city_time):
    city_time(datetime.combine(now().date(), time(7, 30)))
    world.user("disp", "dispatcher")
    disp = world.headers("disp")
    tech = world.technician("wang", ["adsl", "lan"])
    ids = world.customer("王女士", access_type="adsl")
    left_out = world.order(disp, ids, kind="install", product="adsl")
    kept = world.order(disp, ids, kind="install", product="adsl")
    at = datetime.combine(now().date(), time(10, 0)).isoformat()
    for oid in (left_out, kept):
        moved = client.post(
            f"/api/v1/workorders/{oid}/transitions",
            headers=disp,
            json={"to": "assigned", "technician_id": tech, "planned_start": at},
        )
        assert moved.status_code == 200, moved.get_json()
    # the line is found to be a LAN line: an ADSL install on it is now blocked by the code
    db.get(LineRecord, ids["line_id"]).access_type = "lan"
    versions = {str(o.id): o.version for o in db.query(WorkOrder).filter(WorkOrder.id.in_([left_out, kept]))}
    plan = DispatchPlan(
        day=now().date(),
        kind="day",
        status="proposed",
        result={
            "routes": [
                {
                    "technician_id": tech,
                    "stops": [
                        {
                            "visit_id": kept,
                            "arrival_s": 36000,
                            "start_s": 36000,
                            "end_s": 39600,
                            "travel_s": 600,
                        }
                    ],
                    "lunch_start_s": None,
                    "end_s": 40200,
                }
            ],
            "unassigned": [{"visit_id": left_out, "reason": "day_full"}],
        },
        order_versions=versions,
        technician_ids=[tech],
    )
    db.add(plan)
    db.commit()

    applied = client.post(f"/api/v1/dispatch/plans/{plan.id}/apply", headers=disp)
    assert applied.status_code == 200, applied.get_json()
    db.expire_all()
    order = db.get(WorkOrder, left_out)
    assert order.state == "validated" and order.technician_id is None and order.blocked
    assert "ORDER_PRODUCT_ACCESS" in {f["rule_id"] for f in order.findings}
    assert left_out not in {o.id for o in plannable_orders(db, now().date(), None)}

    # taking the other one back by hand through the API is a validation: refused, naming it
    refused = client.post(f"/api/v1/workorders/{kept}/transitions", headers=disp, json={"to": "validated"})
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["type"].endswith("/blocked-by-standards") and body["order_id"] == kept
    assert db.get(WorkOrder, kept).code in body["detail"]
