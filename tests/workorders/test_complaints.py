"""Complaints over HTTP with real tokens: the clocks on the official calendar (a national
holiday, the calendar's last published year), the lifecycle from intake to closing, the
first-contact owner, linking, escalation, and never a technician's route."""

import time as clock_time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from core import jobs
from core.clock import now
from core.models import AuditEvent
from dispatch import board
from workorders import complaints
from workorders.models import WorkOrder

URL = "/api/v1/complaints"


@pytest.fixture()
def desk(world):
    ids = {
        "agent": world.user("agent", "agent"),
        "agent2": world.user("agent2", "agent"),
        "disp": world.user("disp", "dispatcher"),
        "boss": world.user("boss", "manager"),
    }
    world.technician("tech", ["adsl", "iptv", "lan"])
    home = world.customer("张伟", access_type="adsl", route_length_m=1200)
    world.user("zhangwei", "customer", customer_id=home["customer_id"])
    other = world.customer("李娜")
    return {
        "ids": ids,
        "home": home,
        "other": other,
        "agent": world.headers("agent"),
        "agent2": world.headers("agent2"),
        "disp": world.headers("disp"),
        "boss": world.headers("boss"),
        "tech": world.headers("tech"),
        "cust": world.headers("zhangwei"),
    }


def _complain(client, desk, expect=201, headers=None, **fields):
    body = {"customer_id": desk["home"]["customer_id"], "description": "装机师傅迟到三小时。", **fields}
    if "parent_id" not in fields:
        body.setdefault("product", "adsl")
    resp = client.post(URL, headers=headers or desk["agent"], json=body)
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


def _step(client, desk, cid, step, expect=200, headers=None, **body):
    resp = client.post(
        f"{URL}/{cid}/{step}", headers=headers or desk["agent"], json={"text": "已致电客户", **body}
    )
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


# ---------------------------------------------------------------- the clocks on the calendar


def test_a_complaint_just_before_golden_week_skips_the_holiday_and_counts_the_working_saturday(
    client, world, desk, city_time
):
    city_time(datetime(2026, 9, 30, 10, 5))
    headers = {**world.headers("agent"), "Accept-Language": "en"}
    c = _complain(client, desk, headers=headers, received_at="2026-09-30T10:00:00", source="hotline")
    assert c["kind"] == "complaint" and c["state"] == "validated"
    assert c["received_at"] == "2026-09-30T10:00:00+08:00"
    assert c["response_deadline"] == "2026-10-01T10:00:00+08:00"  # answer: 24 h, wall clock
    assert c["handling_deadline"] == "2026-10-03T10:00:00+08:00"  # first handling: 72 h
    # Oct 1-7 are the National Day holiday; Oct 8 and 9 are working days, and Saturday
    # Oct 10 is a moved working day: the third working day after Sep 30.
    assert c["restore_deadline"] == "2026-10-10T10:00:00+08:00"
    assert c["deadline_source"] == "chinesecalendar"
    assert c["deadline_source_label"] == "Official calendar"
    assert [k["clock"] for k in c["clocks"]] == ["answer", "first_handling", "final"]
    assert c["clocks"][2]["label"] == "Final answer within 3 working days"
    assert c["next_clock"] == "answer" and c["at_risk"] is False


def test_a_complaint_in_the_last_days_of_the_published_calendar_uses_the_fallback_and_says_so(
    client, world, desk, city_time
):
    city_time(datetime(2026, 12, 30, 10, 5))
    desk["agent"] = world.headers("agent")
    c = _complain(client, desk, received_at="2026-12-30T10:00:00")
    # Dec 31 is a working day (official); 2027 is past chinesecalendar: Jan 1 is New
    # Year's Day by the statutory fallback, then the weekend, then Jan 4 and Jan 5.
    assert c["restore_deadline"] == "2027-01-05T10:00:00+08:00"
    assert c["deadline_source"] == "holidays-fallback"
    assert c["deadline_source_label"] == "备用日历：法定节假日，未含调休上班日"

    within = _complain(client, desk, received_at="2026-12-28T09:00:00")
    assert within["restore_deadline"] == "2026-12-31T09:00:00+08:00"
    assert within["deadline_source"] == "chinesecalendar"
    assert within["deadline_source_label"] == "国家法定工作日历"


def test_a_complaint_received_on_a_holiday_starts_its_working_days_on_the_next_working_day(
    client, world, desk, city_time
):
    city_time(datetime(2026, 10, 3, 15, 0))
    desk["agent"] = world.headers("agent")
    c = _complain(client, desk, received_at="2026-10-03T14:00:00")
    # the clock starts at 00:00 of Oct 8 (the first working day): Oct 9, 10 (Sat, worked), 12
    assert c["restore_deadline"] == "2026-10-12T00:00:00+08:00"
    assert c["response_deadline"] == "2026-10-04T14:00:00+08:00"


# ---------------------------------------------------------------- the lifecycle


def test_a_complaint_is_answered_handled_finally_answered_followed_up_and_closed(client, desk, db):
    """Long because it walks one complaint from intake to closing, each step checking the last."""
    c = _complain(client, desk)
    cid = c["id"]
    assert c["owner_id"] == desk["ids"]["agent"] and c["owner_name"] == "Agent"
    assert c["technician_id"] is None and c["required_skills"] == [] and c["duration_min"] == 0
    assert c["findings"] == [] and c["blocked"] is False
    assert c["allowed_next"] == ["completed", "cancelled"]

    answered = _step(client, desk, cid, "answer", text="已致电客户致歉，说明会跟进。")
    assert answered["responded_at"] and answered["clocks"][0]["met"] is True
    again = _step(client, desk, cid, "answer", expect=409)
    assert again["detail"] == "该投诉已答复过。"

    handled = _step(client, desk, cid, "handling", text="已约谈装维班组长。")
    assert handled["handled_at"] and handled["next_clock"] == "final"

    # a complaint never goes to a technician
    refused = client.post(
        f"/api/v1/workorders/{cid}/transitions", headers=desk["disp"], json={"to": "scheduled"}
    )
    assert refused.status_code == 409
    assert refused.get_json()["allowed"] == ["completed", "cancelled"]

    final = _step(client, desk, cid, "final-answer", text="已对班组长通报批评，赠送一个月宽带费。")
    assert final["state"] == "completed" and final["completed_at"]
    assert final["next_clock"] is None and final["at_risk"] is False
    assert [a["step"] for a in final["answers"]] == ["answer", "first_handling", "final"]
    assert final["answers"][2]["text"] == "已对班组长通报批评，赠送一个月宽带费。"
    assert final["owner_id"] == desk["ids"]["agent"]  # kept all along
    late = _step(client, desk, cid, "final-answer", expect=409)
    assert late["current_state"] == "completed"
    assert _step(client, desk, cid, "answer", expect=409)["current_state"] == "completed"

    followed = client.post(
        f"/api/v1/workorders/{cid}/transitions",
        headers=desk["agent"],
        json={"to": "followed_up", "followup": {"method": "phone", "satisfied": True}},
    )
    assert followed.status_code == 200, followed.get_json()
    closed = client.post(
        f"/api/v1/workorders/{cid}/transitions", headers=desk["agent"], json={"to": "closed"}
    )
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"

    trail = [
        e.action
        for e in db.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == "work_order", AuditEvent.entity_id == cid)
            .order_by(AuditEvent.id)  # without an order the database may follow an index
        )
    ]
    assert trail[:4] == ["created", "state:validated", "complaint_answered", "complaint_handled"]
    assert "state:completed" in trail and trail[-1] == "state:closed"


def test_the_final_answer_counts_as_the_answer_and_the_handling_when_none_was_recorded(client, desk):
    c = _complain(client, desk)
    final = _step(client, desk, c["id"], "final-answer", text="问题已解决。")
    assert final["responded_at"] and final["handled_at"] and final["completed_at"]
    assert all(clock["met"] for clock in final["clocks"])


def test_the_generic_transition_needs_the_final_answer_in_words(client, desk):
    c = _complain(client, desk)
    resp = client.post(
        f"/api/v1/workorders/{c['id']}/transitions", headers=desk["agent"], json={"to": "completed"}
    )
    assert resp.status_code == 422
    assert "reason" in resp.get_json()["errors"]


def test_the_owner_keeps_it_until_an_explicit_handover(client, desk, db):
    c = _complain(client, desk)
    _step(client, desk, c["id"], "answer", headers=desk["boss"])  # a manager answering takes nothing
    assert client.get(f"{URL}/{c['id']}", headers=desk["boss"]).get_json()["owner_id"] == desk["ids"]["agent"]

    handed = client.post(
        f"{URL}/{c['id']}/handover",
        headers=desk["agent"],
        json={"to_user_id": desk["ids"]["agent2"], "reason": "下班交接"},
    )
    assert handed.status_code == 200 and handed.get_json()["owner_id"] == desk["ids"]["agent2"]
    event = db.scalar(
        select(AuditEvent).where(AuditEvent.entity_id == c["id"], AuditEvent.action == "handover")
    )
    assert event.before["owner_id"] == desk["ids"]["agent"] and event.reason == "下班交接"

    mine = client.get(URL, headers=desk["agent2"], query_string={"owner_id": desk["ids"]["agent2"]})
    assert [x["id"] for x in mine.get_json()] == [c["id"]]

    cancelled = client.post(
        f"/api/v1/workorders/{c['id']}/transitions",
        headers=desk["agent2"],
        json={"to": "cancelled", "reason": "客户撤回投诉"},
    )
    assert cancelled.status_code == 200
    kept = client.post(
        f"{URL}/{c['id']}/handover", headers=desk["agent2"], json={"to_user_id": desk["ids"]["agent"]}
    )
    assert kept.status_code == 409


def test_a_complaint_is_linked_to_the_order_it_is_about(client, desk):
    repair = client.post(
        "/api/v1/workorders",
        headers=desk["agent"],
        json={
            "kind": "repair",
            "product": "iptv_adsl",
            "customer_id": desk["home"]["customer_id"],
            "site_id": desk["home"]["site_id"],
        },
    ).get_json()
    c = _complain(client, desk, parent_id=repair["id"])
    assert c["parent_id"] == repair["id"] and c["parent_code"] == repair["code"]
    assert c["product"] == "iptv_adsl" and c["site_id"] == desk["home"]["site_id"]

    theirs = client.post(
        "/api/v1/workorders",
        headers=desk["agent"],
        json={
            "kind": "repair",
            "product": "adsl",
            "customer_id": desk["other"]["customer_id"],
            "site_id": desk["other"]["site_id"],
        },
    ).get_json()
    for parent_id in (theirs["id"], 999_999):
        refused = _complain(client, desk, expect=422, parent_id=parent_id, product="adsl")
        assert "parent_id" in refused["errors"]


def test_a_complaint_without_a_product_names_what_is_missing(client, desk):
    refused = _complain(client, desk, expect=422, product=None)
    assert "product" in refused["errors"]
    taken = _complain(client, desk, product="adsl", source="walk_in")
    assert taken["source"] == "walk_in"


def test_only_staff_reach_complaints(client, desk):
    c = _complain(client, desk, product="adsl")
    for who in ("tech", "cust"):
        assert client.get(URL, headers=desk[who]).status_code == 403
        assert client.get(f"{URL}/{c['id']}", headers=desk[who]).status_code == 403
        assert _complain(client, desk, expect=403, headers=desk[who], product="adsl")
    # a customer cannot file one as an order either: customers report faults only
    as_order = client.post(
        "/api/v1/workorders",
        headers=desk["cust"],
        json={
            "kind": "complaint",
            "product": "adsl",
            "customer_id": desk["home"]["customer_id"],
            "site_id": desk["home"]["site_id"],
        },
    )
    assert as_order.status_code == 422
    # another kind of order is not a complaint
    repair = client.post(
        "/api/v1/workorders",
        headers=desk["agent"],
        json={
            "kind": "repair",
            "product": "adsl",
            "customer_id": desk["home"]["customer_id"],
            "site_id": desk["home"]["site_id"],
        },
    ).get_json()
    assert client.get(f"{URL}/{repair['id']}", headers=desk["agent"]).status_code == 404


# ---------------------------------------------------------------- escalation


def test_a_complaint_whose_clock_runs_short_is_escalated_once_and_shown_to_the_managers(client, desk, app):
    at = now()
    short = _complain(client, desk, product="adsl", received_at=(at - timedelta(hours=23)).isoformat())
    calm = _complain(client, desk, product="adsl")
    listed = client.get(URL, headers=desk["boss"], query_string={"at_risk": "true"}).get_json()
    assert [c["id"] for c in listed] == [short["id"]]
    assert listed[0]["at_risk"] is True and listed[0]["escalated"] is False

    with app.extensions["db_sessionmaker"]() as session:
        escalated = complaints.escalate_at_risk(session, now())
        session.commit()
        assert [o.id for o in escalated] == [short["id"]]
        assert complaints.escalate_at_risk(session, now()) == []  # each clock escalates once
        event = session.scalar(
            select(AuditEvent).where(
                AuditEvent.entity_id == short["id"], AuditEvent.action == "complaint_escalated"
            )
        )
        assert event.after["clock"] == "answer" and event.after["breached"] is False

    seen = client.get(URL, headers=desk["boss"], query_string={"escalated": "true"}).get_json()
    assert [c["id"] for c in seen] == [short["id"]] and seen[0]["escalated_at"]
    calm_list = client.get(
        URL, headers=desk["boss"], query_string={"at_risk": "false", "lang": "en"}
    ).get_json()
    assert calm_list[0]["clocks"][0]["label"] == "Answer within 24 h"
    unknown = client.get(URL, headers=desk["boss"], query_string={"atrisk": "true"})
    assert unknown.status_code == 422 and "atrisk" in unknown.get_json()["errors"]
    assert [c["id"] for c in calm_list] == [calm["id"]]

    # answered: the next clock (first handling, 72 h) is not short yet
    answered = _step(client, desk, short["id"], "answer")
    assert answered["at_risk"] is False and answered["next_clock"] == "first_handling"


def test_a_breached_complaint_escalates_and_the_job_is_registered(client, desk, app):
    assert complaints.ESCALATION_JOB in jobs.registered()
    late = _complain(client, desk, product="adsl", received_at=(now() - timedelta(hours=30)).isoformat())
    with app.app_context():
        with app.extensions["db_sessionmaker"]() as session:
            job = jobs.enqueue(session, complaints.ESCALATION_JOB, {}, desk["ids"]["boss"])
            assert job.status == "finished", job.error
            assert job.result == {"escalated": [late["code"]]}
    view = client.get(f"{URL}/{late['id']}", headers=desk["boss"]).get_json()
    assert view["escalated"] is True
    assert view["clocks"][0]["breached"] is True


# ---------------------------------------------------------------- never on a route


def test_complaints_are_never_planned_nor_on_the_board(client, desk, db):
    day = now().date() + timedelta(days=1)
    repair = client.post(
        "/api/v1/workorders",
        headers=desk["agent"],
        json={
            "kind": "repair",
            "product": "adsl",
            "customer_id": desk["home"]["customer_id"],
            "site_id": desk["home"]["site_id"],
        },
    ).get_json()
    complaint = _complain(client, desk, product="adsl", priority="P1")
    started = client.post(
        "/api/v1/dispatch/plan", headers=desk["disp"], json={"day": day.isoformat(), "time_limit_s": 1}
    )
    assert started.status_code == 202, started.get_json()
    job = started.get_json()
    deadline = clock_time.monotonic() + 60
    while job["status"] in ("queued", "running") and clock_time.monotonic() < deadline:
        clock_time.sleep(0.1)
        job = client.get(f"/api/v1/jobs/{job['id']}", headers=desk["disp"]).get_json()
    assert job["status"] == "finished", job
    plan = client.get(f"/api/v1/dispatch/plans/{job['result']['plan_id']}", headers=desk["disp"]).get_json()
    planned = {s["visit_id"] for r in plan["result"]["routes"] for s in r["stops"]}
    unplanned = {u["visit_id"] for u in plan["result"]["unassigned"]}
    assert repair["id"] in planned | unplanned
    assert complaint["id"] not in planned | unplanned

    on_board = {row.id for row in board.board_orders(db, now().date())}
    assert repair["id"] in on_board and complaint["id"] not in on_board
    assert db.get(WorkOrder, complaint["id"]).technician_id is None


def test_the_demo_seed_has_complaints_in_every_state(db):
    from application.demo import seed_city

    seed_city(db, technicians=3, orders=12, seed=5)
    found = list(db.scalars(select(WorkOrder).where(WorkOrder.kind == "complaint")))
    assert {o.state for o in found} == {"validated", "completed", "followed_up", "closed", "cancelled"}
    open_ones = [o for o in found if o.state == "validated"]
    assert any(o.responded_at is None for o in open_ones) and any(o.handled_at for o in open_ones)
    assert any(o.escalated_at for o in open_ones)
    assert all(o.technician_id is None and o.owner_id for o in found)
    assert all(o.received_at < o.created_at for o in found)


def test_the_customer_reads_their_complaint_with_its_promise(client, desk):
    c = _complain(client, desk)
    listed = client.get("/api/v1/workorders", headers=desk["cust"])
    assert listed.status_code == 200, listed.get_json()
    mine = {o["id"]: o for o in listed.get_json()}
    view = mine[c["id"]]
    assert view["kind"] == "complaint" and view["received_at"].endswith("+08:00")
    assert view["promise"]["due"] == c["restore_deadline"]  # the final answer
    assert "owner_id" not in view and "clocks" not in view
