"""Problem details in the reader's language: the detail of a refusal and every
field message of a 422, whoever made it (marshmallow, a schema, a service)."""

from __future__ import annotations

import pytest

from core.i18n import format_duration, time_left
from core.messages import Listing, Message, render_errors, translate

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


def test_a_422_from_the_schemas_carries_chinese_field_messages(client, desk):
    body = {"kind": "teleport", "product": "adsl", "site_id": desk["home"]["site_id"], "colour": "red"}
    zh = _problem(client.post("/api/v1/workorders", headers=desk["headers"] | ZH, json=body), 422)
    assert zh["detail"] == "部分字段缺失或不合法。"
    assert zh["errors"]["customer_id"] == ["缺少必填字段。"]
    assert zh["errors"]["colour"] == ["未知字段。"]
    assert zh["errors"]["kind"] == ["须为以下之一：install, repair, follow_up, complaint。"]

    en = _problem(client.post("/api/v1/workorders", headers=desk["headers"] | EN, json=body), 422)
    assert en["detail"] == "Some fields are missing or invalid."
    assert en["errors"]["customer_id"] == ["Missing data for required field."]
    assert en["errors"]["kind"] == ["Must be one of: install, repair, follow_up, complaint."]


def test_filled_in_marshmallow_messages_and_own_validators_are_translated(client, desk):
    customer = {"name": "", "kind": "enterprise", "phone": "1" * 31}
    zh = _problem(client.post("/api/v1/customers", headers=desk["headers"] | ZH, json=customer), 422)
    assert zh["errors"]["name"] == ["长度须在 1 到 120 之间。"]
    assert zh["errors"]["phone"] == ["长度不能超过 30。"]
    en = _problem(client.post("/api/v1/customers", headers=desk["headers"] | EN, json=customer), 422)
    assert en["errors"]["name"] == ["Length must be between 1 and 120."]

    window = {
        "kind": "install",
        "product": "adsl",
        **{k: desk["home"][k] for k in ("customer_id", "site_id")},
        "appointment_start": "2026-11-23T14:00:00",
        "appointment_end": "2026-11-23T09:00:00",
    }
    zh = _problem(client.post("/api/v1/workorders", headers=desk["headers"] | ZH, json=window), 422)
    assert zh["errors"]["appointment_end"] == ["预约时段的结束时间须晚于开始时间。"]
    query = _problem(client.get("/api/v1/workorders?limit=0", headers=desk["headers"] | ZH), 422)
    assert query["errors"]["limit"] == ["须大于等于 1 且小于等于 1000。"]


def test_a_422_from_a_service_names_its_field_in_the_readers_language(client, desk):
    body = {"kind": "install", "product": "warp", **{k: desk["home"][k] for k in ("customer_id", "site_id")}}
    zh = _problem(client.post("/api/v1/workorders", headers=desk["headers"] | ZH, json=body), 422)
    assert zh["detail"] == "未知产品。"
    assert zh["errors"]["product"][0].startswith("须为以下之一：adsl, lan, ")
    en = _problem(client.post("/api/v1/workorders", headers=desk["headers"] | EN, json=body), 422)
    assert en["detail"] == "Unknown product."
    assert en["errors"]["product"][0].startswith("Must be one of: adsl, lan, ")


def test_werkzeug_errors_speak_the_readers_language_too(client):
    zh = _problem(client.get("/api/v1/nothing-here", headers=ZH), 404)
    assert zh["title"] == "未找到"
    assert zh["detail"] == "该地址下没有内容。"
    en = _problem(client.get("/api/v1/nothing-here", headers=EN), 404)
    assert en["detail"] == "There is nothing at this address."


def test_messages_render_in_the_request_language(app):
    skills = Listing([Message("Enterprise circuit"), Message("IPTV")])
    refusal = Message("%(name)s lacks the skills: %(skills)s.", name="Li", skills=skills)
    assert refusal == "Li lacks the skills: Enterprise circuit, IPTV."
    with app.test_request_context("/", headers=ZH):
        assert refusal.render() == "Li 缺少技能：政企电路、IPTV。"
        # the longest template wins: a bounded range is not read as "at least"
        assert translate("Must be greater than or equal to 0 and less than or equal to 5.") == (
            "须大于等于 0 且小于等于 5。"
        )
        assert (
            translate("Already in the reader's words, or unknown.")
            == "Already in the reader's words, or unknown."
        )
        assert render_errors({"answers": {"0": ["Not a valid boolean."]}}) == {
            "answers": {"0": ["须为 true 或 false。"]}
        }
    with app.test_request_context("/", headers=EN):
        assert refusal.render() == "Li lacks the skills: Enterprise circuit, IPTV."


@pytest.mark.parametrize(
    "seconds,zh,en",
    [
        (118 * 60, "1小时58分", "1 h 58 min"),
        (45 * 60 + 59, "45分", "45 min"),
        (2 * 86400 + 3 * 3600, "2天3小时", "2 d 3 h"),
    ],
)
def test_durations_read_as_people_say_them(app, seconds, zh, en):
    with app.test_request_context("/", headers=ZH):
        assert format_duration(seconds) == zh
        assert time_left(seconds) == f"剩余 {zh}"
        assert time_left(-seconds) == f"已超 {zh}"
    with app.test_request_context("/", headers=EN):
        assert format_duration(seconds) == en
        assert time_left(seconds) == f"{en} left"
