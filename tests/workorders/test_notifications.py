"""Customer notifications: what the lifecycle queues, in which language and on which channel,
once per change, never for a change rolled back; follow-up reminders; the tick command.

The test app has no mail server or SMS gateway (APP_ENV=testing): each message is
logged and counted sent by the delivery job that runs once the change commits.
Delivery through real servers is in tests/core/test_delivery.py.
"""

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from core.actor import Actor
from core.clock import now
from core.models import AuditEvent, JobRun
from workorders import notifications, outbox
from workorders import service as wo_service
from workorders.models import Customer, FollowUp, Notification, WorkOrder

ADMIN = Actor(user_id=None, username="test", role="admin", origin="test")
CHECKLIST = {"r3_line_no_fault": True, "r3_drop_twisted_pair": True, "r3_drop_no_joints": True}


def _rows(db, order_id=None) -> list[Notification]:
    db.expire_all()
    stmt = select(Notification).order_by(Notification.id)
    if order_id is not None:
        stmt = stmt.where(Notification.order_id == order_id)
    return list(db.scalars(stmt))


def _set_customer(db, customer_id: int, **values) -> None:
    db.execute(update(Customer).where(Customer.id == customer_id).values(**values))
    db.commit()


def _ping(client, field, lat: float, lon: float, at: datetime) -> None:
    resp = client.post(
        "/mobile/v1/location",
        headers=field.tech,
        json={"pings": [{"lat": lat, "lon": lon, "accuracy_m": 10, "recorded_at": at.isoformat()}]},
    )
    assert resp.status_code in (200, 201, 202), resp.get_json()


def test_a_repair_tells_the_customer_scheduled_en_route_and_completed_in_chinese_by_sms(
    client, db, field, city_time
):
    city_time(datetime.combine(now().date(), time(8, 10)))
    oid = field.order(hour=9)  # assigned, planned today 09:00
    _ping(client, field, 31.80, 117.20, now())  # some kilometres from the site
    field.move(oid, "en_route", headers=field.tech)
    field.move(oid, "on_site", headers=field.tech, lat=31.86, lon=117.27)
    field.move(oid, "completed", headers=field.tech, checklist=CHECKLIST)

    rows = _rows(db, oid)
    assert [r.event for r in rows] == ["scheduled", "en_route", "completed"]
    code = db.get(WorkOrder, oid).code
    today = now().date().isoformat()
    for row in rows:
        assert (row.channel, row.recipient, row.language) == ("sms", "13812345678", "zh")
        assert code in row.body and "张伟，您好" in row.body
        assert row.state == "sent" and row.attempts == 1 and row.sent_at is not None
    assert f"已预约在{today} 09:00–11:00上门" in rows[0].body
    # the live ETA from the ping: after the ping, before the planned window ends
    eta_text = rows[1].body.split("预计")[1].split("左右")[0]
    eta = datetime.strptime(eta_text, "%Y-%m-%d %H:%M")
    assert now() - timedelta(minutes=1) <= eta <= now() + timedelta(hours=1)
    assert "完工" in rows[2].subject
    # each change started one delivery job after its commit
    kinds = db.scalars(select(JobRun.kind).where(JobRun.kind == outbox.DELIVER_JOB)).all()
    assert len(kinds) == 3


def test_an_english_customer_who_prefers_email_gets_english_email(client, db, field, city_time):
    city_time(datetime.combine(now().date(), time(8, 0)))
    _set_customer(
        db, field.home["customer_id"], email="ops@example.com", preferred_channel="email", language="en"
    )
    oid = field.order(hour=14)
    field.move(oid, "en_route", headers=field.tech)  # no ping: the planned start is told

    scheduled, en_route = _rows(db, oid)
    assert (scheduled.channel, scheduled.recipient, scheduled.language) == ("email", "ops@example.com", "en")
    code = db.get(WorkOrder, oid).code
    assert scheduled.subject == f"Order {code}: your appointment"
    assert scheduled.body.startswith("张伟, the visit for your ADSL")
    assert f"{now().date().isoformat()} 14:00–16:00" in scheduled.body
    assert en_route.body.endswith(f"should arrive around {now().date().isoformat()} 14:00.")


def test_a_technician_late_with_no_position_is_told_without_a_time(client, db, field, city_time):
    city_time(datetime.combine(now().date(), time(10, 0)))
    oid = field.order(hour=9)  # planned an hour ago, no ping yet
    field.move(oid, "en_route", headers=field.tech)
    en_route = _rows(db, oid)[-1]
    assert en_route.event == "en_route"
    assert en_route.body == f"张伟，您好！您的工单{db.get(WorkOrder, oid).code}的技术员已出发，正在赶往您处。"


def test_a_missing_address_falls_back_to_the_other_channel_and_none_queues_nothing(client, db, field):
    _set_customer(db, field.home["customer_id"], email=None, preferred_channel="email")
    oid = field.order(hour=10)
    (row,) = _rows(db, oid)
    assert (row.channel, row.recipient) == ("sms", "13812345678")

    _set_customer(db, field.home["customer_id"], email=None, phone=None)
    other = field.order(hour=11)
    assert _rows(db, other) == []
    skipped = db.scalars(select(AuditEvent).where(AuditEvent.action == "notification_not_sent")).all()
    assert [(e.entity_type, e.entity_id, e.after["event"], e.after["order_id"]) for e in skipped] == [
        ("customer", field.home["customer_id"], "scheduled", other)
    ]


def test_one_change_queues_once_and_a_replan_in_the_same_window_tells_nothing_new(client, db, field):
    oid = field.order(hour=9)
    assert [r.event for r in _rows(db, oid)] == ["scheduled"]
    # the dispatcher moves it by minutes: the window told (09:00–11:00) stays
    field.move(oid, "scheduled")
    field.move(
        oid,
        "assigned",
        technician_id=field.tech_id,
        planned_start=datetime.combine(now().date(), time(9, 40)).isoformat(),
    )
    assert len(_rows(db, oid)) == 1
    # the same change reported twice (a retried call) queues nothing more
    with field.world.app.app_context():
        order = db.get(WorkOrder, oid)
        assert notifications.on_transition(db, order, "assigned") == []
        db.rollback()
    # a new window is news
    field.move(oid, "scheduled")
    later = datetime.combine(now().date(), time(15, 30)).isoformat()
    field.move(oid, "assigned", technician_id=field.tech_id, planned_start=later)
    rows = _rows(db, oid)
    assert len(rows) == 2 and "15:00–17:00" in rows[1].body


def test_a_change_rolled_back_leaves_no_outbox_row_and_starts_no_delivery(app, db, field):
    resp = field.client.post(
        "/api/v1/workorders",
        headers=field.agent,
        json={
            "kind": "repair",
            "product": "adsl",
            "priority": "P2",
            "customer_id": field.home["customer_id"],
            "site_id": field.home["site_id"],
        },
    )
    oid = resp.get_json()["id"]
    with app.app_context():
        order = db.get(WorkOrder, oid)
        planned = datetime.combine(now().date() + timedelta(days=1), time(10))
        wo_service.transition(
            db, ADMIN, order, "assigned", technician_id=field.tech_id, planned_start=planned
        )
        assert [r.event for r in db.scalars(select(Notification))] == ["scheduled"]  # in the transaction
        db.rollback()
    assert _rows(db) == []
    assert db.scalars(select(JobRun).where(JobRun.kind == outbox.DELIVER_JOB)).all() == []
    # an HTTP change refused after the guard (stale version) leaves nothing either
    field.move(oid, "assigned", expect=409, technician_id=field.tech_id, version=0)
    assert _rows(db) == []


def test_a_complaint_answer_is_told_once_per_stage(app, db, field):
    oid = field.order(hour=9)
    with app.app_context():
        order = db.get(WorkOrder, oid)
        first = notifications.complaint_answered(db, order, "已为您更换光猫，费用全免。")
        again = notifications.complaint_answered(db, order, "已为您更换光猫，费用全免。")
        final = notifications.complaint_answered(db, order, None, stage="final")
        db.commit()
    assert len(first) == 1 and again == [] and len(final) == 1
    assert "我们的答复是：“已为您更换光猫，费用全免。”" in first[0].body
    assert "请在客户门户查看" in final[0].body
    assert first[0].subject.startswith("投诉")


def _task(db, customer_id: int, due_at: datetime, order_id=None, method="phone", state="open") -> int:
    task = FollowUp(
        customer_id=customer_id,
        order_id=order_id,
        reason="repair" if order_id else "periodic",
        method=method,
        due_at=due_at,
        state=state,
    )
    db.add(task)
    db.commit()
    return task.id


def test_follow_ups_due_today_are_reminded_once_a_day_and_not_before_eight(app, db, field):
    oid = field.order(hour=9)
    customer_id = field.home["customer_id"]
    today = now().date()
    at_nine = datetime.combine(today, time(9))
    _task(db, customer_id, datetime.combine(today, time(15)), order_id=oid)
    _task(db, customer_id, datetime.combine(today, time(10)), method="visit")  # periodic visit
    _task(db, customer_id, datetime.combine(today + timedelta(days=1), time(9)), order_id=oid)
    _task(db, customer_id, datetime.combine(today, time(11)), order_id=oid, state="done")

    with app.app_context():
        assert notifications.queue_due_followups(db, at=datetime.combine(today, time(7, 30))) == 0
        assert notifications.queue_due_followups(db, at=at_nine) == 2
        db.commit()
        assert notifications.queue_due_followups(db, at=at_nine + timedelta(hours=3)) == 0
        db.commit()
    reminders = [r for r in _rows(db) if r.event == "followup_due"]
    assert [r.order_id for r in reminders] == [oid, None]
    assert "致电回访" in reminders[0].body and "定期走访" in reminders[1].body
    with app.app_context():  # the next day it is a new reminder (if the task is still open then)
        assert notifications.queue_due_followups(db, at=at_nine + timedelta(days=1)) == 1


def test_flask_tick_runs_the_due_periodic_jobs_once(app, db, field):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["tick"])
    assert first.exit_code == 0, first.output
    assert "deliver_notifications: finished" in first.output
    assert "followup_reminders: finished" in first.output
    second = runner.invoke(args=["tick"])
    assert second.output.strip() == "no periodic job due"
    forced = runner.invoke(args=["tick", "--force"])
    assert "deliver_notifications: finished" in forced.output
    refused = runner.invoke(args=["tick", "--schedule"])
    assert refused.exit_code != 0 and "REDIS_URL" in refused.output


@pytest.mark.parametrize("event", notifications.EVENTS)
def test_every_event_reads_in_both_languages(app, db, field, event):
    oid = field.order(hour=9)
    with app.app_context():
        order = db.get(WorkOrder, oid)
        context = {"window": "2026-12-01 09:00–11:00", "eta": now(), "time": now(), "answer": "好"}
        for variant in notifications.TEMPLATES[event]:
            zh = notifications.render(event, "zh", order.customer, order, {**context, "variant": variant})
            en = notifications.render(event, "en", order.customer, order, {**context, "variant": variant})
            assert zh != en
            assert "您好" in zh[1] or "今日" in zh[0], zh
            assert en[1].isascii() or "张伟" in en[1], en
            assert "%(" not in zh[1] + en[1]


def test_staff_see_what_the_customer_was_told_and_send_failed_messages_again(app, client, db, field):
    oid = field.order(hour=9)
    told = client.get(f"/api/v1/workorders/{oid}/notifications", headers=field.agent)
    assert told.status_code == 200, told.get_json()
    (row,) = told.get_json()
    assert (row["event"], row["channel"], row["recipient"], row["state"]) == (
        "scheduled",
        "sms",
        "138******78",
        "sent",
    )
    assert row["created_at"].endswith("+08:00") and row["sent_at"].endswith("+08:00")
    reads = db.scalars(select(AuditEvent).where(AuditEvent.action == "read_personal")).all()
    assert any(e.after["via"] == "notifications" for e in reads)

    # the gateway refused the number; the agent corrects it and sends the message again
    db.execute(update(Notification).values(state="failed", last_error="SMS gateway HTTP 400"))
    db.commit()
    _set_customer(db, field.home["customer_id"], phone="13900001111")
    failed = client.get("/api/v1/notifications?state=failed", headers=field.boss).get_json()
    assert [(r["id"], r["last_error"]) for r in failed] == [(row["id"], "SMS gateway HTTP 400")]
    retried = client.post(f"/api/v1/workorders/{oid}/notifications/retry", headers=field.agent)
    assert retried.status_code == 200, retried.get_json()
    assert [r["recipient"] for r in retried.get_json()] == ["139******11"]
    (again,) = _rows(db, oid)
    assert (again.state, again.attempts, again.recipient) == ("sent", 1, "13900001111")
    assert db.scalars(select(AuditEvent.action).where(AuditEvent.action == "notifications_retried")).all()
    nothing = client.post(f"/api/v1/workorders/{oid}/notifications/retry", headers=field.agent)
    assert nothing.get_json() == []

    assert client.get("/api/v1/notifications?state=lost", headers=field.boss).status_code == 422
    assert client.get("/api/v1/notifications?limit=0", headers=field.boss).status_code == 422
    assert client.get("/api/v1/notifications", headers=field.cust).status_code == 403
    assert client.get(f"/api/v1/workorders/{oid}/notifications", headers=field.tech).status_code == 403
    assert client.get("/api/v1/workorders/999999/notifications", headers=field.agent).status_code == 404
