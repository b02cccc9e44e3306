"""Follow-ups (回访) over HTTP: a task when an order completes, the agents' queue, results
that follow the order up or open a repeat repair, retries, and periodic visits."""

from __future__ import annotations

import json
import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from core.clock import now, to_city_aware
from core.models import AuditEvent
from tests.factories import ADSL_INSTALL_ANSWERS, REPAIR_ANSWERS, SITE, image_bytes, local, order_trail


def _complete(field, oid: int, answers: dict, tech_headers=None) -> None:
    """The technician drives there, arrives, answers the checklist and completes the order."""
    tech = tech_headers or field.tech
    assert field.status(oid, "en_route", headers=tech).status_code == 200
    assert field.status(oid, "arrived", headers=tech, lat=SITE[0], lon=SITE[1]).status_code == 200
    if answers:
        resp = field.client.post(
            f"/mobile/v1/orders/{oid}/checklist", headers=tech, json={"answers": answers}
        )
        assert resp.status_code == 200, resp.get_json()
    resp = field.status(oid, "completed", headers=tech)
    assert resp.status_code == 200, resp.get_json()


def _followups(client, headers, **query) -> list[dict]:
    resp = client.get("/api/v1/followups", headers=headers, query_string=query)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def _result(client, headers, followup_id: int, expect: int = 200, **body) -> dict:
    resp = client.post(f"/api/v1/followups/{followup_id}/result", headers=headers, json=body)
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


def _order(client, headers, oid: int) -> dict:
    return client.get(f"/api/v1/workorders/{oid}", headers=headers).get_json()


def _task_trail(db, followup_id: int) -> list[str]:
    return list(
        db.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.entity_type == "follow_up", AuditEvent.entity_id == followup_id)
            .order_by(AuditEvent.id)
        )
    )


def test_repair_followed_up_next_day_score_two_opens_a_repeat_repair(client, db, field):
    """Long because it is the issue's story end to end: repair completed, follow-up due the
    next day by phone, a score of 2, the repeat repair opened, flagged, linked and listed."""
    oid = field.order("adsl")
    _complete(field, oid, REPAIR_ANSWERS)
    completed = _order(client, field.disp, oid)
    (task,) = _followups(client, field.agent, order_id=oid)
    assert task["method"] == "phone" and task["reason"] == "repair" and task["state"] == "open"
    assert task["method_label"] == "电话回访" and task["reason_label"]  # labels in the reader's language
    assert local(task["due_at"]) == local(completed["completed_at"]) + timedelta(days=1)
    assert task["due_at"].endswith("+08:00")
    assert task["customer_name"] == "张伟" and task["phone"] == "13812345678"
    assert task["order_code"] == completed["code"] and task["product"] == "adsl"
    assert task["due"] == "later" and task["attempts"] == 0

    answer = _result(client, field.agent, task["id"], reached=True, service_working=True, satisfaction=2)
    assert answer["state"] == "done" and answer["satisfaction"] == 2 and answer["reached"] is True
    repeat_id, repeat_code = answer["repeat_order_id"], answer["repeat_order_code"]
    assert repeat_id is not None and repeat_code.startswith("WO")

    original = _order(client, field.disp, oid)
    assert original["state"] == "followed_up" and original["followup_satisfied"] is False
    assert original["is_repeat_fault"] is False
    repeat = _order(client, field.disp, repeat_id)
    assert repeat["kind"] == "repair" and repeat["parent_id"] == oid and repeat["is_repeat_fault"] is True
    # residential, working but unsatisfied: the rule file's priority (P3), the one intake's deadlines
    assert repeat["priority"] == "P3" and repeat["state"] == "validated"
    assert repeat["code"] == repeat_code and repeat["owner_name"] == "Agent"

    by_parent = client.get("/api/v1/workorders", headers=field.disp, query_string={"parent_id": oid})
    assert [o["id"] for o in by_parent.get_json()] == [repeat_id]
    repeats = client.get("/api/v1/workorders", headers=field.boss, query_string={"repeat": "true"})
    assert [o["id"] for o in repeats.get_json()] == [repeat_id]
    not_repeats = client.get("/api/v1/workorders", headers=field.boss, query_string={"repeat": "false"})
    assert repeat_id not in [o["id"] for o in not_repeats.get_json()]

    assert _task_trail(db, task["id"]) == ["followup_created", "followup_result"]
    trail = order_trail(db, oid)
    assert trail[-2:] == ["state:followed_up", "repeat_repair_opened"]
    assert _result(
        client, field.agent, task["id"], expect=409, reached=True, service_working=True, satisfaction=5
    )["type"].endswith("followup-closed")
    # the repair itself, once completed, is followed up in its turn
    assert _followups(client, field.agent, order_id=repeat_id) == []


def test_service_down_opens_the_repeat_at_the_service_down_priority(client, field):
    oid = field.order("adsl")
    _complete(field, oid, REPAIR_ANSWERS)
    (task,) = _followups(client, field.agent, order_id=oid)
    answer = _result(
        client,
        field.agent,
        task["id"],
        reached=True,
        service_working=False,
        satisfaction=4,
        comment="仍然断网",
    )
    assert answer["repeat_order_priority"] == "P2" and answer["comment"] == "仍然断网"
    assert _order(client, field.disp, answer["repeat_order_id"])["description"].endswith("仍然断网")


def test_satisfied_customer_is_followed_up_without_a_repeat(client, db, field):
    oid = field.order("adsl")
    _complete(field, oid, REPAIR_ANSWERS)
    (task,) = _followups(client, field.agent, order_id=oid, state="open")
    answer = _result(client, field.agent, task["id"], reached=True, service_working=True, satisfaction=5)
    assert answer["state"] == "done" and answer["repeat_order_id"] is None
    assert answer["recorded_by"] is not None and answer["completed_at"].endswith("+08:00")
    order = _order(client, field.disp, oid)
    assert order["state"] == "followed_up" and order["followup_satisfied"] is True
    assert (
        client.get("/api/v1/workorders", headers=field.disp, query_string={"parent_id": oid}).get_json() == []
    )
    assert _followups(client, field.agent, state="open") == []
    assert [t["id"] for t in _followups(client, field.agent, state="done")] == [task["id"]]


def test_not_reached_is_retried_then_closed_as_unreached(client, db, field):
    oid = field.order("adsl")
    _complete(field, oid, REPAIR_ANSWERS)
    (task,) = _followups(client, field.agent, order_id=oid)
    first = _result(client, field.agent, task["id"], reached=False)
    assert first["state"] == "open" and first["attempts"] == 1 and first["reached"] is False
    # due again after the retry delay (FOLLOWUP_RETRY_DELAY_H, 4 h by default)
    assert local(first["due_at"]) - local(first["last_attempt_at"]) == timedelta(hours=4)
    second = _result(client, field.agent, task["id"], reached=False, comment="无人接听")
    assert second["state"] == "open" and second["attempts"] == 2
    third = _result(client, field.agent, task["id"], reached=False)
    assert third["state"] == "unreached" and third["attempts"] == 3 and third["due"] is None
    assert third["repeat_order_id"] is None and third["comment"] == "无人接听"
    assert _order(client, field.disp, oid)["state"] == "completed"  # nobody confirmed the service
    _result(client, field.agent, task["id"], expect=409, reached=False)
    trail = _task_trail(db, task["id"])
    assert trail == ["followup_created", "followup_attempt", "followup_attempt", "followup_unreached"]


def test_a_result_needs_its_answers_and_staff(client, field):
    oid = field.order("adsl")
    _complete(field, oid, REPAIR_ANSWERS)
    (task,) = _followups(client, field.agent, order_id=oid)
    missing = _result(client, field.agent, task["id"], expect=422, reached=True)
    assert set(missing["errors"]) == {"service_working", "satisfaction"}
    _result(client, field.agent, task["id"], expect=422, reached=True, service_working=True, satisfaction=6)
    _result(client, field.agent, task["id"], expect=422, reached="maybe")
    _result(client, field.agent, 999999, expect=404, reached=False)
    refused = client.post(
        f"/api/v1/followups/{task['id']}/result", headers=field.tech, json={"reached": False}
    )
    assert refused.status_code == 403
    assert client.get("/api/v1/followups", headers=field.cust).status_code == 403
    assert client.get("/api/v1/followups?due=yesterday", headers=field.agent).status_code == 422
    one = client.get(f"/api/v1/followups/{task['id']}", headers=field.agent).get_json()
    assert one["id"] == task["id"] and one["attempts"] == 0  # nothing was recorded by the refusals


def test_due_sections_follow_the_clock(client, field, city_time):
    today = now().date()
    city_time(datetime.combine(today, time(10, 0)))
    oid = field.order("adsl")
    _complete(field, oid, REPAIR_ANSWERS)
    ids = {t["id"] for t in _followups(client, field.agent, order_id=oid)}
    assert {t["id"] for t in _followups(client, field.agent, due="later")} == ids
    assert _followups(client, field.agent, due="today") == []
    city_time(datetime.combine(today + timedelta(days=1), time(8, 0)))
    agent = field.world.headers("agent")  # a new day, a new login
    assert {t["id"] for t in _followups(client, agent, due="today")} == ids
    city_time(datetime.combine(today + timedelta(days=1), time(11, 0)))
    overdue = _followups(client, agent, due="overdue")
    assert {t["id"] for t in overdue} == ids and overdue[0]["due"] == "overdue"
    assert _followups(client, agent, due="today") == []
    customer = field.home["customer_id"]
    assert {t["id"] for t in _followups(client, agent, customer_id=customer, method="phone")} == ids
    assert _followups(client, agent, method="visit") == []


def test_enterprise_repair_gets_a_visit_and_a_group_fault_repeat_is_p1(client, world, field):
    company = world.enterprise("合肥银行", tier="group")
    etech = world.technician("etech", ["lan", "enterprise_circuit"])
    etech_headers = world.headers("etech")
    oid = field.order(
        "lan_dedicated", technician_id=etech, customer_id=company["customer_id"], site_id=company["site_id"]
    )
    _complete(field, oid, {}, tech_headers=etech_headers)
    (task,) = _followups(client, field.agent, order_id=oid)
    assert task["method"] == "visit" and task["customer_kind"] == "enterprise"
    answer = _result(client, field.disp, task["id"], reached=True, service_working=False, satisfaction=1)
    repeat = _order(client, field.disp, answer["repeat_order_id"])
    assert repeat["priority"] == "P1" and repeat["is_repeat_fault"] and repeat["parent_id"] == oid


def test_install_is_due_after_three_days(client, field):
    oid = field.order("adsl", kind="install")
    field.status(oid, "en_route")
    field.status(oid, "arrived", lat=SITE[0], lon=SITE[1])
    field.upload(oid, "r5_not_through_windows_doors", image_bytes())
    _complete_on_site(field, oid, ADSL_INSTALL_ANSWERS)
    (task,) = _followups(client, field.agent, order_id=oid)
    completed = local(_order(client, field.disp, oid)["completed_at"])
    assert task["reason"] == "install" and local(task["due_at"]) == completed + timedelta(days=3)


def _complete_on_site(field, oid: int, answers: dict) -> None:
    resp = field.client.post(
        f"/mobile/v1/orders/{oid}/checklist", headers=field.tech, json={"answers": answers}
    )
    assert resp.status_code == 200, resp.get_json()
    resp = field.status(oid, "completed")
    assert resp.status_code == 200, resp.get_json()


@pytest.mark.parametrize("path", ["staff", "phone"])
def test_the_old_ways_of_recording_a_result_complete_the_task_too(client, db, field, path):
    """A follow-up given as a transition (staff API) or by the technician on site (mobile
    API) completes the order's task and opens the repeat repair the same way."""
    oid = field.order("adsl")
    _complete(field, oid, REPAIR_ANSWERS)
    (task,) = _followups(client, field.agent, order_id=oid)
    if path == "staff":
        field.move(
            oid,
            "followed_up",
            headers=field.agent,
            followup={"method": "phone", "satisfied": False, "note": "晚上仍掉线"},
        )
        repeat_id = None
    else:
        resp = client.post(
            f"/mobile/v1/orders/{oid}/followup",
            headers=field.tech,
            json={"method": "visit", "satisfied": True, "service_working": False, "note": "仍掉线"},
        )
        assert resp.status_code == 200, resp.get_json()
        repeat_id = resp.get_json()["repeat_order_id"]
    done = client.get(f"/api/v1/followups/{task['id']}", headers=field.agent).get_json()
    assert done["state"] == "done" and done["reached"] is True and done["repeat_order_id"] is not None
    assert repeat_id in (None, done["repeat_order_id"])
    repeat = _order(client, field.disp, done["repeat_order_id"])
    assert repeat["is_repeat_fault"] is True and repeat["parent_id"] == oid
    assert _task_trail(db, task["id"])[-1] == "followup_result"


def test_periodic_visits_are_created_once_per_interval(app, db, world, client):
    from core import jobs
    from workorders.models import FollowUp

    group = world.enterprise("集团客户", tier="group")
    local_a = world.enterprise("本地A客户", tier="local_a")
    world.enterprise("本地B客户", tier="local_b")
    world.customer("居民")
    with app.test_request_context():
        first = jobs.enqueue(db, "plan_periodic_visits", {}, None)
        again = jobs.enqueue(db, "plan_periodic_visits", {}, None)
    assert first.status == "finished" and first.result["created"] == 2
    assert again.status == "finished" and again.result["created"] == 0
    tasks = list(db.scalars(select(FollowUp).order_by(FollowUp.id)))
    assert [t.customer_id for t in tasks] == [group["customer_id"], local_a["customer_id"]]
    assert {(t.reason, t.method, t.state, t.order_id) for t in tasks} == {("periodic", "visit", "open", None)}
    assert [t.site_id for t in tasks] == [group["site_id"], local_a["site_id"]]

    world.user("agent", "agent")
    agent = world.headers("agent")
    visited = _result(client, agent, tasks[0].id, reached=True, service_working=True, satisfaction=5)
    assert visited["state"] == "done" and visited["order_id"] is None
    later = (now() + timedelta(days=89)).isoformat()
    much_later = (now() + timedelta(days=91)).isoformat()
    with app.test_request_context():
        too_soon = jobs.enqueue(db, "plan_periodic_visits", {"at": later}, None)
        due_again = jobs.enqueue(db, "plan_periodic_visits", {"at": much_later}, None)
    # the open local A visit is not doubled; the group's next one is due after the interval
    assert too_soon.result["created"] == 0
    assert due_again.result["created"] == 1
    (new_id,) = due_again.result["followup_ids"]
    assert db.get(FollowUp, new_id).customer_id == group["customer_id"]


def test_console_panel_shows_the_repeat_badge_and_both_links(client, field):
    from tests.factories import Console

    oid = field.order("adsl")
    _complete(field, oid, REPAIR_ANSWERS)
    (task,) = _followups(client, field.agent, order_id=oid)
    repeat_id = _result(client, field.agent, task["id"], reached=True, service_working=False, satisfaction=3)[
        "repeat_order_id"
    ]
    console = Console(client, "disp")
    status, repeat = console.get(f"/orders/{repeat_id}")
    assert status == 200 and repeat["is_repeat_fault"] is True
    original_code = _order(client, field.disp, oid)["code"]
    assert repeat["parent_id"] == oid and repeat["parent_code"] == original_code
    status, original = console.get(f"/orders/{oid}")
    assert original["is_repeat_fault"] is False and original["parent_code"] is None
    assert [r["id"] for r in original["repeat_orders"]] == [repeat_id]
    created = local(_order(client, field.disp, repeat_id)["created_at"])
    seen = datetime.fromisoformat(original["repeat_orders"][0]["created_at"])  # console: city time, +08:00
    assert seen == to_city_aware(created)
    page = console.page.get_data(as_text=True)
    settings = re.search(r'<script id="console-settings" type="application/json">(.*?)</script>', page, re.S)
    strings = json.loads(settings.group(1))["strings"]  # the badge's words come with the page
    assert strings["repeat_fault"] == "重复故障" and strings["parent_order"] == "原工单"


def test_the_demo_seed_has_follow_ups_in_every_state(app, db):
    from application.demo import seed_city
    from workorders.followups import due_section
    from workorders.models import FollowUp, WorkOrder

    lines = seed_city(db, technicians=12, orders=10, seed=3, companies=True)
    assert any(line.startswith("seeded 6 follow-ups") for line in lines), lines
    tasks = list(db.scalars(select(FollowUp)))
    at = now()
    open_sections = {due_section(t, at) for t in tasks if t.state == "open"}
    assert {"overdue", "today"} <= open_sections
    assert {t.state for t in tasks} >= {"open", "done", "unreached"}
    assert any(t.state == "open" and t.attempts == 1 for t in tasks)  # tried once, due again
    assert any(t.state == "done" and t.satisfaction == 5 and t.repeat_order_id is None for t in tasks)
    repeat = next(t for t in tasks if t.repeat_order_id is not None)
    repeat_order = db.get(WorkOrder, repeat.repeat_order_id)
    assert repeat_order.is_repeat_fault and repeat_order.parent_id == repeat.order_id
    assert {t.reason for t in tasks} >= {"repair", "periodic"}
    # the companies' completed repairs lived their day in the past: received, responded,
    # arrived and completed in that order; no order of the seed has a negative time (the
    # managers' report charts them)
    walked = [t for t in tasks if t.order and t.order.description.startswith("演示工单：专线中断")]
    assert len(walked) == 6
    for task in walked:
        order = task.order
        assert order.received_at < order.responded_at < order.arrived_at < order.completed_at <= at
    for column in (WorkOrder.response_s, WorkOrder.on_site_s, WorkOrder.elapsed_without_pauses_s):
        assert db.scalar(select(func.count()).where(column < 0)) == 0


def test_the_rule_file_and_the_config_set_priority_and_due_time(app, client, field, tmp_path, monkeypatch):
    """Not hard-coded: an operator's rule file sets the repeat priority, the config the due time."""
    from standards.rules import DEFAULT_RULE_FILE

    text = DEFAULT_RULE_FILE.read_text(encoding="utf-8")
    section = text.index("[follow_up.repeat_fault_priority.unsatisfied]")
    edited = text[:section] + text[section:].replace('residential = "P3"', 'residential = "P1"', 1)
    rule_file = tmp_path / "install_code.toml"
    rule_file.write_text(edited, encoding="utf-8")
    monkeypatch.setenv("STANDARDS_RULES_FILE", str(rule_file))
    monkeypatch.setitem(app.config, "FOLLOWUP_REPAIR_DUE_DAYS", 2)

    oid = field.order("adsl")
    _complete(field, oid, REPAIR_ANSWERS)
    (task,) = _followups(client, field.agent, order_id=oid)
    completed = local(_order(client, field.disp, oid)["completed_at"])
    assert local(task["due_at"]) == completed + timedelta(days=2)
    answer = _result(client, field.agent, task["id"], reached=True, service_working=True, satisfaction=2)
    assert answer["repeat_order_priority"] == "P1"


def test_a_wrong_priority_in_the_rule_file_names_its_line():
    from standards.rules import DEFAULT_RULE_FILE, RuleFileError, parse_ruleset

    text = DEFAULT_RULE_FILE.read_text(encoding="utf-8")
    section = text.index("[follow_up.repeat_fault_priority.service_down]")
    broken = text[:section] + text[section:].replace('group = "P1"', 'group = "P9"', 1)
    line = broken[: broken.index('group = "P9"')].count("\n") + 1
    with pytest.raises(RuleFileError) as refused:
        parse_ruleset(DEFAULT_RULE_FILE, broken)
    assert f":{line}:" in str(refused.value) and "follow_up.repeat_fault_priority.service_down.group" in str(
        refused.value
    )
