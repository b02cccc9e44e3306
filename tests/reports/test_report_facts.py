"""The report facts (the triggers of migrations a15c00000001 and a15d00000001) are the orders
as they are now, with their site's district, customer's tier and follow-up, whoever writes
them and however."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, event, func, select, text, update

from core.models import AuditEvent
from reports import figures
from reports.facts import (
    DURATION_INDEXES,
    EVENT_COLUMNS,
    FACTS,
    FOLLOWUP_COLUMNS,
    JOINED_COLUMNS,
    ORDER_COLUMNS,
    PERIOD_COLUMNS,
)
from reports.filters import ReportFilter
from reports.sql import period_start
from tests.reports import dataset
from workorders.models import Customer, FollowUp, Site, WorkOrder


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


def _followups_as_facts(db) -> dict[int, tuple]:
    """What the facts should say of each order's follow-ups: how many, and that one's columns."""
    found: dict[int, list[FollowUp]] = {}
    for task in db.scalars(select(FollowUp).where(FollowUp.order_id.isnot(None))):
        found.setdefault(task.order_id, []).append(task)
    expected = {order_id: (0, None, None, None, None) for order_id in db.scalars(select(WorkOrder.id))}
    for order_id, tasks in found.items():
        one = tasks[0] if len(tasks) == 1 else None
        expected[order_id] = (len(tasks), *(getattr(one, name, None) for name in FOLLOWUP_COLUMNS))
    return expected


def _assert_followup_facts(db) -> dict[int, tuple]:
    db.expire_all()
    columns = [FACTS.c.id, FACTS.c.followup_count, *(FACTS.c[fact] for fact in FOLLOWUP_COLUMNS.values())]
    facts = {row[0]: tuple(row[1:]) for row in db.execute(select(*columns))}
    assert facts == _followups_as_facts(db)
    return facts


def test_an_orders_follow_up_is_copied_and_a_second_one_makes_it_a_join(db, history):
    facts = _assert_followup_facts(db)
    r1 = history["R1"]
    assert facts[r1][:2] == (1, "done") and facts[r1][4] == 5
    assert facts[history["R2"]] == (0, None, None, None, None)
    first = db.scalar(select(FollowUp).where(FollowUp.order_id == r1))
    second = FollowUp(
        customer_id=first.customer_id, order_id=r1, reason="repair", method="visit",
        due_at=first.due_at + timedelta(days=3), state="open",
    )  # fmt: skip
    db.add(second)
    db.commit()
    assert _assert_followup_facts(db)[r1] == (2, None, None, None, None)
    # a follow-up moved to another order leaves both orders' facts right
    second.order_id = history["R2"]
    db.commit()
    facts = _assert_followup_facts(db)
    assert facts[r1][0] == 1 and facts[history["R2"]][:2] == (1, "open")
    db.execute(delete(FollowUp).where(FollowUp.id == second.id))
    first.satisfaction = 2
    db.commit()
    facts = _assert_followup_facts(db)
    assert facts[history["R2"]][0] == 0 and facts[r1][4] == 2


def test_writing_an_order_keeps_its_follow_up_in_the_facts(db, history):
    r1 = db.get(WorkOrder, history["R1"])
    r1.description = "rewritten"  # every order write copies the order's columns again
    r1.state = r1.state
    db.commit()
    db.execute(update(WorkOrder).where(WorkOrder.id == history["R3"]).values(priority="P1"))
    db.commit()
    facts = _assert_followup_facts(db)
    assert facts[history["R1"]][0] == 1 and facts[history["R3"]][0] == 1
    _assert_facts_are_the_orders(db)


def test_the_facts_keep_the_day_week_and_month_an_order_came_in(db, history):
    # PostgreSQL's reports group by these columns instead of truncating received_at per order
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite's period columns are virtual and unused")
    names = list(PERIOD_COLUMNS.items())
    stored = [FACTS.c[name] for _unit, name in names]
    live = [func.date_trunc(unit, FACTS.c.received_at) for unit, _name in names]
    rows = db.execute(select(*stored, *live)).all()
    assert len(rows) == 11
    for row in rows:
        assert tuple(row[:3]) == tuple(row[3:])
    # the report's grouping reads the stored month
    stmt = select(period_start("month", FACTS.c.received_at))
    assert "received_month" in str(stmt.compile(db.get_bind()))


def test_postgresql_lays_out_the_facts_for_a_years_scan(db, history):
    # a15f00000001 built the table again: the columns a report reads of every row come first,
    # and the constraint, indexes and statistics of the table it replaced are all there
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite keeps its layout")
    names = db.execute(
        text(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'report_order_facts'::regclass "
            "AND attnum > 0 AND NOT attisdropped ORDER BY attnum"
        )
    ).scalars()
    names = list(names)
    assert names[:7] == [
        "id",
        "followup_count",
        "received_at",
        "static_code",
        "received_month",
        "received_week",
        "received_day",
    ]
    assert names.index("elapsed_without_pauses_s") < names.index("kind") < names.index("cancelled_at")
    indexes = db.execute(
        text("SELECT indexname FROM pg_indexes WHERE tablename = 'report_order_facts'")
    ).scalars()
    assert set(indexes) == {
        "pk_report_order_facts",
        "ix_report_order_facts_received_at",
        "ix_report_order_facts_completed_at",
        "ix_report_order_facts_followups_many",
        "ix_report_order_facts_place",
        *(name for name, *_ in DURATION_INDEXES.values()),
    }
    statistics = db.execute(
        text("SELECT stxname FROM pg_statistic_ext WHERE stxrelid = 'report_order_facts'::regclass")
    ).scalars()
    periods = {f"report_order_facts_{unit}" for unit in ("day", "week", "month")}
    assert set(statistics) == periods | {"report_order_facts_bits"}
    # the planner knows how many orders each bit the duration indexes test holds (a15h00000001)
    definition = db.execute(
        text("SELECT pg_get_statisticsobjdef(oid) FROM pg_statistic_ext WHERE stxname = :name"),
        {"name": "report_order_facts_bits"},
    ).scalar_one()
    wheres = [where for _name, where, *_ in DURATION_INDEXES.values()]
    tested = {int(bit) for where in wheres for bit in re.findall(r"& (\d+)", where)}
    assert {int(bit) for bit in re.findall(r"static_code & (\d+)", definition)} == tested
    # the triggers still write to it
    assert db.execute(select(func.count()).select_from(FACTS)).scalar_one() == 11
    _assert_facts_are_the_orders(db)


@pytest.mark.parametrize("group_by", ["month", "week", "district", "technician", None])
def test_a_durations_percentiles_are_read_from_its_index_alone_in_value_order(db, history, group_by):
    # each duration's index (a15h00000001) holds its orders' fixed conditions and every column
    # its percentile query asks, keyed by the value: whatever the grouping, the query is an
    # index-only scan in value order, its groups gathered by hashing (no sort of the rows)
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL's plans")
    f = ReportFilter(date_from=date(2026, 9, 1), date_to=date(2026, 11, 1), group_by=group_by)
    assert figures._split(db, f) == figures.ALONE
    connection = db.connection()
    # 11 orders, not vacuumed: a scan or a bitmap is cheaper; what is asked is whether the index
    # can answer alone (every column the query reads) and in order (no sort)
    for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
        connection.exec_driver_sql(f"SET LOCAL {setting} = off")
    for (name,) in figures.ALONE:
        statements: list[tuple] = []

        def seen(conn, cursor, statement, parameters, context, executemany, into=statements):
            into.append((statement, parameters))

        event.listen(connection, "before_cursor_execute", seen)
        try:
            figures._spreads(db, f=f, names=(name,), with_totals=True)
        finally:
            event.remove(connection, "before_cursor_execute", seen)
        ((statement, parameters),) = statements
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))
        assert f"Index Only Scan using ix_report_order_facts_{name} " in plan, plan
        assert "Sort" not in plan, plan
        if group_by is not None:
            assert "Hash Key" in plan, plan
    db.rollback()


def _present(spreads: dict) -> dict:
    """Percentiles by group without the groups that have none (absent and all-None agree)."""
    return {key: spread for key, spread in spreads.items() if any(v is not None for v in spread.values())}


@pytest.mark.parametrize("group_by", ["month", "week", "day", "district", "technician", "product", None])
def test_the_durations_alone_and_in_pairs_give_the_same_percentiles(db, history, group_by):
    f = ReportFilter(date_from=date(2026, 9, 1), date_to=date(2026, 11, 1), group_by=group_by)
    alone, pairs = {}, {}
    for split, found in ((figures.ALONE, alone), (figures.SPLIT, pairs)):
        for names in split:
            by_group, total = figures._spreads(db, f=f, names=names, with_totals=True)
            found |= {name: (_present(by_group[name]), total[name]) for name in names}
    assert alone == pairs
    assert alone["restore"][0] and alone["restore"][1]["all"][0.5] is not None  # figures to compare
