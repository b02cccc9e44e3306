"""Refusals of the order services in the reader's language: states, roles and
skills named by their labels; the codes stay in the problem's extensions."""

from __future__ import annotations

import pytest

ZH = {"Accept-Language": "zh-CN"}
EN = {"Accept-Language": "en"}


def _problem(resp, status: int) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)
    assert resp.mimetype == "application/problem+json"
    return resp.get_json()


@pytest.fixture()
def desk(world):
    world.user("disp", "dispatcher")
    return {"headers": world.headers("disp"), "home": world.customer("张伟")}


def test_an_illegal_transition_names_the_states_by_their_labels(client, world, desk):
    order_id = world.order(desk["headers"], desk["home"])
    url = f"/api/v1/workorders/{order_id}/transitions"
    zh = _problem(client.post(url, headers=desk["headers"] | ZH, json={"to": "completed"}), 409)
    assert zh["detail"] == "工单不能从“已校验”转为“已完工”。"
    assert zh["current_state"] == "validated" and zh["requested_state"] == "completed"
    assert zh["type"].endswith("/illegal-transition")
    en = _problem(client.post(url, headers=desk["headers"] | EN, json={"to": "completed"}), 409)
    assert en["detail"] == "An order cannot go from Validated to Completed."

    world.user("agent", "agent")
    agent = world.headers("agent")
    role = _problem(client.post(url, headers=agent | ZH, json={"to": "scheduled"}), 409)
    assert role["detail"] == "您的角色不能将工单从“已校验”转为“已排程”。" and role["role"] == "agent"


def test_a_technician_without_the_skills_is_refused_with_skill_labels(client, world, desk):
    world.user("agent", "agent")
    order_id = world.order(world.headers("agent"), desk["home"], kind="install", product="iptv_adsl")
    lan_only = world.technician("li", ["lan"])
    url = f"/api/v1/workorders/{order_id}/transitions"
    move = {"to": "assigned", "technician_id": lan_only}
    zh = _problem(client.post(url, headers=desk["headers"] | ZH, json=move), 409)
    assert zh["type"].endswith("/skills-missing")
    assert zh["detail"] == "Li 缺少技能：ADSL、IPTV。"
    assert zh["missing_skills"] == ["adsl", "iptv"] and zh["technician_id"] == lan_only
    en = _problem(client.post(url, headers=desk["headers"] | EN, json=move), 409)
    assert en["detail"] == "Li lacks the skills: ADSL, IPTV."
