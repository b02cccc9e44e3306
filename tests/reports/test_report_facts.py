"""The report facts (migration a15c00000001's triggers) are the orders as they are now, with
their site's district and customer's tier, whoever writes them and however."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, update

from core.models import AuditEvent
from reports.facts import EVENT_COLUMNS, FACTS, JOINED_COLUMNS, ORDER_COLUMNS
from tests.reports import dataset
from workorders.models import Customer, Site, WorkOrder


def _first(action: str):
    return (
        select(func.min(AuditEvent.at))
        .where(
            AuditEvent.entity_type == "work_order",
            AuditEvent.entity_id == WorkOrder.id,
            AuditEvent.action == action,
        )
        .scalar_subquery()
    )


def _orders_as_facts(db) -> dict[int, tuple]:
    columns = [getattr(WorkOrder, name) for name in ORDER_COLUMNS]
    events = [_first(action) for action in EVENT_COLUMNS]
    stmt = (
        select(*columns, Site.district, Customer.enterprise_tier, *events)
        .join(Site, Site.id == WorkOrder.site_id)
        .join(Customer, Customer.id == WorkOrder.customer_id)
    )
    return {row[0]: tuple(row) for row in db.execute(stmt)}


def _facts(db) -> dict[int, tuple]:
    names = [*ORDER_COLUMNS, *JOINED_COLUMNS.values(), *EVENT_COLUMNS.values()]
    return {row[0]: tuple(row) for row in db.execute(select(*[FACTS.c[name] for name in names]))}


def _assert_facts_are_the_orders(db) -> dict[int, tuple]:
    db.expire_all()
    facts = _facts(db)
    assert facts == _orders_as_facts(db)
    return facts


@pytest.fixture()
def history(app, db):
    ids = dataset.build(db)
    db.commit()
    return ids


def test_inserted_orders_have_their_facts(db, history):
    facts = _assert_facts_are_the_orders(db)
    assert len(facts) == len(history) - 2  # every order (the history's ids also name two technicians)
    r1 = facts[history["R1"]]
    names = [*ORDER_COLUMNS, *JOINED_COLUMNS.values()]
    # the durations and the repeat flag the other triggers set on the order are copied too
    assert r1[names.index("response_s")] == 1800.0
    assert r1[names.index("repeat_within_30d")] is True
    assert r1[names.index("district")] is not None


def test_orm_and_bulk_updates_are_copied(db, history):
    order = db.get(WorkOrder, history["R3"])
    order.completed_at = order.completed_at + timedelta(hours=1)  # R3 becomes a repeat (R4 29 d 23 h on)
    db.commit()
    facts = _assert_facts_are_the_orders(db)
    assert facts[history["R3"]][ORDER_COLUMNS.index("repeat_within_30d")] is True
    db.execute(update(WorkOrder).where(WorkOrder.id == history["R4"]).values(state="cancelled"))
    db.commit()
    facts = _assert_facts_are_the_orders(db)
    assert facts[history["R4"]][ORDER_COLUMNS.index("state")] == "cancelled"


def test_moving_an_order_to_another_site_copies_that_district(db, history):
    r1 = db.get(WorkOrder, history["R1"])
    elsewhere = db.scalar(select(Site).where(Site.district != r1.site.district).limit(1))
    r1.site_id = elsewhere.id
    db.commit()
    facts = _assert_facts_are_the_orders(db)
    assert facts[history["R1"]][len(ORDER_COLUMNS)] == elsewhere.district


def test_a_site_district_and_a_customer_tier_changing_reach_their_orders(db, history):
    r1 = db.get(WorkOrder, history["R1"])
    site_id, customer_id = r1.site_id, r1.customer_id
    db.execute(update(Site).where(Site.id == site_id).values(district="新站区"))
    db.execute(update(Customer).where(Customer.id == customer_id).values(enterprise_tier="group"))
    db.commit()
    facts = _assert_facts_are_the_orders(db)
    at_site = [fact for fact in facts.values() if fact[len(ORDER_COLUMNS)] == "新站区"]
    assert at_site and history["R1"] in {fact[0] for fact in at_site}
    assert facts[history["R1"]][len(ORDER_COLUMNS) + 1] == "group"


def test_deleted_orders_leave_the_facts(db, history):
    db.execute(delete(WorkOrder).where(WorkOrder.id == history["R6"]))
    db.commit()
    facts = _assert_facts_are_the_orders(db)
    assert history["R6"] not in facts
    # R5 was repeated by R6 alone: its fact follows the flag the other trigger cleared
    assert facts[history["R5"]][ORDER_COLUMNS.index("repeat_within_30d")] is False


def test_the_audit_trail_first_revisit_and_cancellation_are_copied(db, history):
    r3, r4 = history["R3"], history["R4"]
    before = _assert_facts_are_the_orders(db)
    at = db.get(WorkOrder, r3).received_at + timedelta(hours=1)
    for order_id, action in ((r3, "state:needs_revisit"), (r4, "state:cancelled"), (r4, "state:cancelled")):
        db.add(
            AuditEvent(
                at=at, actor_name="t", actor_role="dispatcher", action=action,
                entity_type="work_order", entity_id=order_id,
            )
        )  # fmt: skip
        at += timedelta(hours=1)
    db.commit()
    facts = _assert_facts_are_the_orders(db)
    revisit, cancelled = (len(ORDER_COLUMNS) + 2 + i for i in range(2))
    assert facts[r3][revisit] is not None
    assert facts[r4][cancelled] == db.get(WorkOrder, r3).received_at + timedelta(hours=2)  # the first
    db.execute(delete(AuditEvent).where(AuditEvent.entity_id == r4, AuditEvent.action == "state:cancelled"))
    db.commit()
    assert _assert_facts_are_the_orders(db)[r4][cancelled] == before[r4][cancelled]
