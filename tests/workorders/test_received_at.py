"""When the customer reached us (received_at): who may set it, its limits, and every
deadline counting from it, over HTTP with real tokens."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core.models import AuditEvent

# A working Tuesday: a P1 called in at 17:55 and keyed in at 18:02.
KEYED_IN = datetime(2026, 12, 1, 18, 2)


@pytest.fixture()
def desk(world, city_time):
    city_time(KEYED_IN)
    world.user("agent", "agent")
    world.user("disp", "dispatcher")
    bank = world.enterprise("合肥银行", tier="group")
    world.user("bank_user", "customer", customer_id=bank["customer_id"])
    return {
        "ids": bank,
        "agent": world.headers("agent"),
        "disp": world.headers("disp"),
        "cust": world.headers("bank_user"),
    }


def _take(world, headers, ids, **fields):
    return world.take_order(headers, ids, product="lan_dedicated", **fields)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_a_p1_called_in_before_it_is_keyed_is_due_15_minutes_after_the_call(world, db, desk):
    resp = _take(world, desk["agent"], desk["ids"], priority="P1", received_at="2026-12-01T17:55:00")
    assert resp.status_code == 201, resp.get_json()
    order = resp.get_json()
    assert order["received_at"] == "2026-12-01T17:55:00+08:00"
    assert order["created_at"].startswith("2026-12-01T18:0")
    # wall clock, not working hours: 15 min after the call, however late it is keyed in
    assert order["response_deadline"] == "2026-12-01T18:10:00+08:00"
    # a group customer's restore time (4 h) counts from the call too
    assert order["restore_deadline"] == "2026-12-01T21:55:00+08:00"
    assert order["deadline_source"] == "clock-hours"
    assert order["sla"]["restore_deadline"] == "2026-12-01T21:55:00+08:00"

    created = db.scalar(
        select(AuditEvent).where(AuditEvent.entity_id == order["id"], AuditEvent.action == "created")
    )
    assert created.after["received_at"] == "2026-12-01T17:55:00+08:00"
    assert created.after["received_at_set_by"] == "agent"
    assert created.actor_name == "agent"


def test_an_offset_is_converted_to_city_time(world, desk):
    order = _take(world, desk["agent"], desk["ids"], priority="P1", received_at="2026-12-01T09:55:00Z")
    assert order.status_code == 201, order.get_json()
    assert order.get_json()["received_at"] == "2026-12-01T17:55:00+08:00"
    assert order.get_json()["response_deadline"] == "2026-12-01T18:10:00+08:00"


def test_without_received_at_the_order_is_received_when_keyed_in(world, db, desk):
    order = _take(world, desk["agent"], desk["ids"], priority="P2").get_json()
    received = _at(order["received_at"])
    assert received == _at(order["created_at"])
    assert _at(order["response_deadline"]) - received == timedelta(hours=1)
    created = db.scalar(
        select(AuditEvent).where(AuditEvent.entity_id == order["id"], AuditEvent.action == "created")
    )
    assert created.after["received_at_set_by"] is None


@pytest.mark.parametrize(
    "received_at",
    [
        "2026-12-01T18:10:00",  # eight minutes ahead of the clock
        "2026-12-01T10:10:00Z",  # the same, with an offset
        "2026-11-23T18:00:00",  # eight days back
    ],
)
def test_a_received_at_in_the_future_or_over_seven_days_back_is_refused(world, desk, received_at):
    resp = _take(world, desk["agent"], desk["ids"], received_at=received_at)
    assert resp.status_code == 422, resp.get_json()
    problem = resp.get_json()
    assert "received_at" in problem["errors"]
    assert problem["detail"]  # in words, in the reader's language


def test_the_limits_in_words_in_english(world, desk):
    headers = {**desk["agent"], "Accept-Language": "en"}
    ahead = _take(world, headers, desk["ids"], received_at="2026-12-01T18:30:00").get_json()
    assert ahead["detail"] == "The order cannot be received in the future."
    back = _take(world, headers, desk["ids"], received_at="2026-11-20T18:30:00").get_json()
    assert back["detail"] == "An order can be received at most 7 days back."


def test_a_moment_within_a_minute_of_clock_skew_counts_as_now(world, desk):
    resp = _take(world, desk["agent"], desk["ids"], received_at="2026-12-01T18:02:30")
    assert resp.status_code == 201, resp.get_json()
    order = resp.get_json()
    assert _at(order["received_at"]) <= _at(order["created_at"])


def test_six_days_back_is_taken_and_its_clocks_are_already_breached(world, desk):
    resp = _take(world, desk["agent"], desk["ids"], priority="P3", received_at="2026-11-25T18:30:00")
    assert resp.status_code == 201, resp.get_json()
    order = resp.get_json()
    assert order["response_deadline"] == "2026-11-25T20:30:00+08:00"
    assert order["sla"]["response_breached"] is True


def test_a_customer_cannot_say_when_their_order_was_received(world, desk):
    refused = world.take_order(
        desk["cust"], desk["ids"], product="lan_dedicated", received_at="2026-12-01T17:00:00"
    )
    assert refused.status_code == 403, refused.get_json()
    assert "received_at" in refused.get_json()["errors"]

    taken = world.take_order(desk["cust"], desk["ids"], product="lan_dedicated")
    assert taken.status_code == 201, taken.get_json()
    view = taken.get_json()
    # the customer's own view carries when it was received, with the city's offset
    assert view["received_at"].endswith("+08:00")
    assert abs(_at(view["received_at"]) - _at(view["created_at"])) < timedelta(seconds=2)


def test_the_channels(world, desk):
    for source in ("hotline", "account_manager", "monitoring", "walk_in", "portal", "customer"):
        resp = _take(world, desk["agent"], desk["ids"], source=source)
        assert resp.status_code == 201, (source, resp.get_json())
        assert resp.get_json()["source"] == source
    refused = _take(world, desk["agent"], desk["ids"], source="fax")
    assert refused.status_code == 422
    assert "source" in refused.get_json()["errors"]
