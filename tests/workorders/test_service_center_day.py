"""Issue 14's story over HTTP with real delivery: a repair is assigned and completed
(the customer told by SMS at each step), the follow-up is due the next day, the
agent's call scores 2, a repeat repair is opened and flagged, and every message in
the outbox reaches the SMS gateway stand-in once."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from core.clock import now
from tests.core import test_delivery as delivery
from tests.factories import REPAIR_ANSWERS, SITE
from workorders.models import Notification

# The loopback mail server, the SMS gateway stand-in and the app sending to them.
mail, gateway, notify_app = delivery.mail, delivery.gateway, delivery.notify_app


def _post(client, url: str, headers: dict, body: dict, expect: int = 200) -> dict:
    resp = client.post(url, headers=headers, json=body)
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


def test_repair_follow_up_score_two_repeat_repair_and_every_message_delivered_once(
    notify_app,
    gateway,
    db,
    world,
    field,
    city_time,
):
    """Long because it is the issue's whole walk: intake, assignment, the technician's day,
    the follow-up call the next day, the repeat repair, and the outbox delivered."""
    city_time(datetime.combine(now().date(), time(8, 0)))
    client = notify_app.test_client()
    body = {
        "kind": "repair",
        "product": "adsl",
        "priority": "P2",
        "source": "hotline",
        "customer_id": field.home["customer_id"],
        "site_id": field.home["site_id"],
    }
    oid = _post(client, "/api/v1/workorders", field.agent, body, expect=201)["id"]
    planned = datetime.combine(now().date(), time(10)).isoformat()
    move = {"to": "assigned", "technician_id": field.tech_id, "planned_start": planned}
    _post(client, f"/api/v1/workorders/{oid}/transitions", field.disp, move)

    def status(name: str, **extra) -> None:
        _post(client, f"/mobile/v1/orders/{oid}/status", field.tech, {"status": name, **extra})

    status("en_route")
    status("arrived", lat=SITE[0], lon=SITE[1])
    _post(client, f"/mobile/v1/orders/{oid}/checklist", field.tech, {"answers": REPAIR_ANSWERS})
    status("completed")

    # the next morning, before the completion's hour, the agent's queue has the call due today
    city_time(datetime.combine(now().date() + timedelta(days=1), time(7, 45)))
    agent, disp = world.headers("agent"), world.headers("disp")  # yesterday's tokens have expired
    resp = client.get("/api/v1/followups", headers=agent, query_string={"due": "today"})
    assert resp.status_code == 200, resp.get_json()
    due = resp.get_json()
    (task,) = [t for t in due if t["order_id"] == oid]
    assert task["method"] == "phone" and task["reason"] == "repair"
    with notify_app.app_context():
        from workorders import notifications

        with notify_app.extensions["db_sessionmaker"]() as session:
            # the reminder run at 08:00, when reminders start for the day
            at = datetime.combine(now().date(), notifications.REMINDERS_FROM)
            assert notifications.queue_due_followups(session, at) == 1
            session.commit()

    answer = _post(
        client,
        f"/api/v1/followups/{task['id']}/result",
        agent,
        {"reached": True, "service_working": True, "satisfaction": 2, "comment": "上网时断时续"},
    )
    repeat_id = answer["repeat_order_id"]
    repeat = client.get(f"/api/v1/workorders/{repeat_id}", headers=disp).get_json()
    assert repeat["is_repeat_fault"] is True and repeat["parent_id"] == oid
    assert client.get(f"/api/v1/workorders/{oid}", headers=disp).get_json()["state"] == "followed_up"

    # the outbox holds one message per change the customer hears of; delivery sends each once
    delivery._deliver(notify_app, now() + timedelta(hours=1))
    db.expire_all()
    told = select(Notification).where(Notification.order_id == oid).order_by(Notification.id)
    rows = db.scalars(told).all()
    assert [r.event for r in rows] == ["scheduled", "en_route", "completed", "followup_due"]
    assert all(r.state == "sent" and r.channel == "sms" for r in rows)
    assert sorted(gateway.messages) == sorted(str(r.id) for r in rows)
    assert len(gateway.messages) == len(set(gateway.requests))
    delivery._deliver(notify_app, now() + timedelta(days=1))
    assert len(gateway.messages) == len(rows)  # nothing sent twice
