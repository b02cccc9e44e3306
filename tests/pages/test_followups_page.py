"""The agents' follow-up queue page: sections by due time in Chinese and English, and the
one-click result form (CSRF-protected) naming the repeat repair it opens."""

from __future__ import annotations

import re

from tests.factories import PASSWORD, SITE, csrf_token

REPAIR_ANSWERS = {"r3_line_no_fault": True, "r3_drop_twisted_pair": True, "r3_drop_no_joints": True}


def _login(client, username: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    resp = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(page)}
    )
    assert resp.status_code == 302


def _completed_repair(field) -> int:
    oid = field.order("adsl")
    assert field.status(oid, "en_route").status_code == 200
    assert field.status(oid, "arrived", lat=SITE[0], lon=SITE[1]).status_code == 200
    resp = field.client.post(
        f"/mobile/v1/orders/{oid}/checklist", headers=field.tech, json={"answers": REPAIR_ANSWERS}
    )
    assert resp.status_code == 200
    assert field.status(oid, "completed").status_code == 200
    return oid


def _task_id(client, field, oid: int) -> int:
    (task,) = client.get("/api/v1/followups", headers=field.agent, query_string={"order_id": oid}).get_json()
    return task["id"]


def _row(html: str, followup_id: int) -> str:
    match = re.search(rf'<tr id="followup-{followup_id}".*?</tr>', html, re.S)
    assert match, f"no row for follow-up {followup_id}"
    return match.group(0)


def test_queue_in_chinese_and_english(client, field):
    oid = _completed_repair(field)
    code = client.get(f"/api/v1/workorders/{oid}", headers=field.disp).get_json()["code"]
    followup_id = _task_id(client, field, oid)
    _login(client, "agent")
    page = client.get("/followups")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>回访</h1>" in html and "今日到期" in html and "已逾期" in html and "稍后到期" in html
    row = _row(html, followup_id)
    assert "张伟" in row and "13812345678" in row and code in row and "维修" in row and "电话回访" in row
    assert "0 / 3" in row and 'value="not_reached"' in row and 'name="csrf_token"' in row
    english = client.get("/followups?lang=en").get_data(as_text=True)
    assert "<h1>Follow-ups</h1>" in english and "Due today" in english and "Overdue" in english
    row = _row(english, followup_id)
    assert "Phone call" in row and "Record result" in row and "Not reached" in row and "Repair" in row
    # filtered by another customer: the row is gone
    other = field.world.customer("李娜")
    assert f'id="followup-{followup_id}"' not in client.get(
        f"/followups?customer={other['customer_id']}"
    ).get_data(as_text=True)


def test_one_click_result_names_the_repeat_repair(client, field):
    oid = _completed_repair(field)
    followup_id = _task_id(client, field, oid)
    _login(client, "disp")
    page = client.get("/followups").get_data(as_text=True)
    form = {
        "csrf_token": csrf_token(page),
        "service_working": "yes",
        "satisfaction": "2",
        "comment": "网速慢",
    }
    without_token = client.post(f"/followups/{followup_id}/result", data={**form, "csrf_token": ""})
    assert without_token.status_code == 400
    resp = client.post(f"/followups/{followup_id}/result", data={**form, "outcome": "reached"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    repeats = client.get("/api/v1/workorders", headers=field.disp, query_string={"parent_id": oid}).get_json()
    (repeat,) = repeats
    assert repeat["is_repeat_fault"] is True
    recorded = re.search(r'<p class="msg ok"[^>]*id="recorded">.*?</p>', html, re.S).group(0)
    assert f"已开立重复故障维修单 {repeat['code']}" in recorded and "重复故障" in recorded
    assert f'href="/console?order={repeat["id"]}"' in recorded
    assert f'id="followup-{followup_id}"' in html.split('id="section-closed"')[1]  # now among today's results
    order = client.get(f"/api/v1/workorders/{oid}", headers=field.disp).get_json()
    assert order["state"] == "followed_up"


def test_not_reached_button_and_refusals(client, field):
    oid = _completed_repair(field)
    followup_id = _task_id(client, field, oid)
    _login(client, "agent")
    token = csrf_token(client.get("/followups").get_data(as_text=True))
    resp = client.post(
        f"/followups/{followup_id}/result", data={"csrf_token": token, "outcome": "not_reached"}
    )
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "未联系上：请于" in html and "1 / 3" in _row(html, followup_id)
    incomplete = client.post(
        f"/followups/{followup_id}/result", data={"csrf_token": token, "outcome": "reached"}
    )
    assert incomplete.status_code == 422 and "回访结果填写不完整" in incomplete.get_data(as_text=True)
    task = client.get(f"/api/v1/followups/{followup_id}", headers=field.agent).get_json()
    assert task["attempts"] == 1 and task["state"] == "open"
    assert client.post("/followups/999999/result", data={"csrf_token": token}).status_code == 404


def test_who_may_open_the_queue(client, field):
    assert client.get("/followups").status_code == 302  # to the login page
    _login(client, "tech")
    assert client.get("/followups").status_code == 403
