"""The phone's answers read in one language: Chinese by default, English on request,
down to every field-level message of a 422 and the findings of a refused close-out."""

from __future__ import annotations

import re

import pytest
from marshmallow import Schema, fields

from core.messages import render_errors
from mobile_api import schemas
from mobile_api.messages import FieldMessage
from tests.factories import image_bytes, new_key

EN = {"Accept-Language": "en"}
CJK = re.compile(r"[\u4e00-\u9fff]")
# Raw codes of the domain that human text must not show (states, statuses, products, kinds).
RAW_CODES = re.compile(r"\b(assigned|en_route|on_site|needs_revisit|iptv_lan|iptv_adsl|follow_up)\b")


def _messages(errors) -> list[str]:
    """Every message in a problem's errors map, however deep."""
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in _messages(value)]
    if isinstance(errors, list):
        return [m for value in errors for m in _messages(value)]
    return [errors]


def _chinese(problem: dict) -> None:
    texts = [problem["title"], problem["detail"], *_messages(problem.get("errors", {}))]
    assert all(CJK.search(text) for text in texts), texts
    assert not any(RAW_CODES.search(text) for text in texts), texts


def _english(problem: dict) -> None:
    texts = [problem["title"], problem["detail"], *_messages(problem.get("errors", {}))]
    assert not any(CJK.search(text) for text in texts), texts
    assert not any(RAW_CODES.search(text) for text in texts), texts


def test_a_body_the_schema_refuses_names_each_field_in_the_readers_language(client, field):
    oid = field.order("adsl")
    url = f"/mobile/v1/orders/{oid}/status"
    body = {"status": "teleported", "lat": 91, "lon": 117.2, "version": "3", "speed_kmh": 40}
    zh = client.post(url, headers=field.tech, json=body)
    assert zh.status_code == 422
    problem = zh.get_json()
    _chinese(problem)
    assert problem["errors"]["lat"] == ["须在 -90 到 90 之间。"]
    assert problem["errors"]["version"] == ["不是有效的整数。"]
    assert problem["errors"]["speed_kmh"] == ["未知字段。"]
    assert problem["errors"]["status"] == ["不是可接受的取值。"]

    en = client.post(url, headers={**field.tech, **EN}, json=body).get_json()
    _english(en)
    assert en["errors"]["lat"] == ["Must be between -90 and 90."]
    assert en["errors"]["speed_kmh"] == ["Unknown field."]


def test_a_stop_names_its_kind_product_priority_and_state_in_words(client, field):
    field.order("iptv_adsl", kind="install")
    zh = client.get("/mobile/v1/route", headers=field.tech).get_json()["stops"][0]
    assert (zh["kind"], zh["kind_label"]) == ("install", "装机")
    assert (zh["priority"], zh["priority_label"]) == ("P2", "P2 重要")
    assert zh["state_label"] == "已派单" and CJK.search(zh["product_label"])
    en = client.get("/mobile/v1/route", headers={**field.tech, **EN}).get_json()["stops"][0]
    assert (en["kind_label"], en["state_label"]) == ("Install", "Assigned")
    assert en["product_label"] and not CJK.search(en["product_label"])
    assert not RAW_CODES.search(en["product_label"])


def test_a_nested_list_of_pings_is_explained_item_by_item(client, field):
    body = {"pings": [{"lat": 31.8, "lon": 117.2, "recorded_at": "1999-01-01T00:00:00"}, {"lat": 31.8}]}
    zh = client.post("/mobile/v1/location", headers=field.tech, json=body).get_json()
    _chinese(zh)
    assert zh["errors"]["pings"]["0"]["recorded_at"] == ["时间不合理：早于 2000-01-01。"]
    assert zh["errors"]["pings"]["1"]["lon"] == ["缺少必填字段。"]
    en = client.post("/mobile/v1/location", headers={**field.tech, **EN}, json=body).get_json()
    assert en["errors"]["pings"]["1"]["lon"] == ["Missing data for required field."]


def test_a_service_refusal_with_field_messages_speaks_the_readers_language(client, field):
    oid = field.order("adsl")
    field.status(oid, "en_route")
    no_fix = field.status(oid, "arrived").get_json()
    _chinese(no_fix)
    assert no_fix["errors"]["lat"] == ["发送该状态时必填。"]
    field.status(oid, "arrived", lat=31.86, lon=117.27)
    bad_reason = field.status(oid, "paused", reason="tired").get_json()
    _chinese(bad_reason)
    assert bad_reason["detail"] == "未知的暂停原因。"
    en = field.status(oid, "paused", headers={**field.tech, **EN}, reason="tired").get_json()
    _english(en)
    assert en["errors"]["reason"] == ["Not one of the accepted values."]
    assert "customer_absent" in en["pause_reasons"]  # the codes the phone may send, as data


def test_refusals_speak_the_callers_language(client, field):
    oid = field.order("adsl")
    zh = field.status(oid, "completed").get_json()
    en = client.post(
        f"/mobile/v1/orders/{oid}/status?lang=en", headers=field.tech, json={"status": "completed"}
    ).get_json()
    assert zh["detail"] == "工单处于“已派单”状态，不能发送“完工”。"
    assert en["detail"] == "'Complete' cannot be sent while the order is 'Assigned'."


def test_a_conflict_names_status_and_state_in_words(field):
    oid = field.order("adsl")
    zh = field.status(oid, "started").get_json()
    assert zh["status"] == 409
    _chinese(zh)
    assert zh["detail"] == "工单处于“已派单”状态，不能发送“开始施工”。"
    en = field.status(oid, "started", headers={**field.tech, **EN}).get_json()
    _english(en)
    assert en["detail"] == "'Start work' cannot be sent while the order is 'Assigned'."
    assert en["current_state"] == "assigned"  # the code stays, as data


def test_checklist_answers_that_do_not_fit_are_explained_per_item(client, world, field):
    lan = world.customer("王芳", access_type="lan", route_length_m=None, occupancy_pct=40)
    oid = field.order("iptv_lan", kind="install", customer_id=lan["customer_id"], site_id=lan["site_id"])
    url = f"/mobile/v1/orders/{oid}/checklist"
    answers = {
        "r6_drilling_consent": "yes",
        "r8_socket_height_cm": {"value": 30, "unit": "kg"},
        "r8_wiring_photo": True,
        "no_such_item": True,
    }
    early = client.post(url, headers=field.tech, json={"answers": answers}).get_json()
    assert early["status"] == 409 and early["detail"] == "检查单须在现场填写。"
    field.arrive(oid)
    zh = client.post(url, headers=field.tech, json={"answers": answers}).get_json()
    _chinese(zh)
    assert zh["errors"]["answers"] == {
        "r6_drilling_consent": ["须为 true 或 false。"],
        "r8_socket_height_cm": ["单位须为以下之一：mm, cm, m, km。"],
        "r8_wiring_photo": ["该项须上传照片作答。"],
        "no_such_item": ["不是该工单检查单中的项目。"],
    }
    en = client.post(url, headers={**field.tech, **EN}, json={"answers": answers}).get_json()
    _english(en)
    assert en["errors"]["answers"]["r8_socket_height_cm"] == ["Unit must be one of: mm, cm, m, km."]


def test_a_refused_completion_lists_the_findings_in_the_readers_language(field):
    oid = field.order("adsl")
    field.arrive(oid)
    zh = field.status(oid, "completed").get_json()
    assert zh["type"].endswith("/checklist-incomplete")
    assert {f["item_id"] for f in zh["findings"]} == {
        "r3_line_no_fault",
        "r3_drop_twisted_pair",
        "r3_drop_no_joints",
    }
    assert all(CJK.search(f["message"]) for f in zh["findings"])
    assert not any("message_en" in f or "message_zh" in f for f in zh["findings"])
    en = field.status(oid, "completed", headers={**field.tech, **EN}).get_json()
    assert en["findings"] and not any(CJK.search(f["message"]) for f in en["findings"])


def test_a_synced_action_is_refused_in_the_readers_language(client, field):
    oid = field.order("adsl")
    action = {
        "id": new_key(),
        "type": "status",
        "order_id": oid,
        "payload": {"status": "en_route", "warp": 9},
    }
    zh = client.post("/mobile/v1/sync", headers=field.tech, json={"actions": [action]}).get_json()
    problem = zh["results"][0]["problem"]
    _chinese(problem)
    assert problem["errors"] == {"warp": ["未知字段。"]}
    action = {**action, "id": new_key(), "order_id": None}
    en = client.post("/mobile/v1/sync", headers={**field.tech, **EN}, json={"actions": [action]}).get_json()
    problem = en["results"][0]["problem"]
    _english(problem)
    assert problem["errors"] == {"order_id": ["Required for this action type."]}


def test_an_upload_with_wrong_fields_is_explained_in_chinese(field):
    oid = field.order("adsl", kind="install")
    field.arrive(oid)
    resp = field.client.post(
        f"/mobile/v1/orders/{oid}/photos",
        headers=field.tech,
        data={"item_id": "x" * 61, "caption": "门口"},
        content_type="multipart/form-data",
    )
    problem = resp.get_json()
    assert resp.status_code == 422
    _chinese(problem)
    assert problem["errors"] == {
        "caption": ["未知字段。"],
        "item_id": ["长度须为 1 到 60 个字符。"],
        "file": ["缺少必填字段。"],
    }
    wrong_item = field.upload(oid, "no_such_item", image_bytes()).get_json()
    _chinese(wrong_item)
    assert "r5_not_through_windows_doors" in wrong_item["checklist_items"]


# ---------------------------------------------------------------- every message has its translation


def _fields_of(schema: Schema):
    for field_obj in schema.fields.values():
        yield from _field_and_inner(field_obj)


def _field_and_inner(field_obj: fields.Field):
    yield field_obj
    if isinstance(field_obj, fields.Nested):
        yield from _fields_of(field_obj.schema)
    if isinstance(field_obj, fields.List):
        yield from _field_and_inner(field_obj.inner)
    if isinstance(field_obj, fields.Dict):
        for part in (field_obj.key_field, field_obj.value_field):
            if part is not None:
                yield from _field_and_inner(part)


REQUEST_SCHEMAS = [
    schemas.StatusChangeSchema,
    schemas.ChecklistSubmitSchema,
    schemas.PingBatchSchema,
    schemas.FollowUpResultSchema,
    schemas.FollowUpRequestSchema,
    schemas.SyncRequestSchema,
    schemas.PhotoUploadSchema,
]
# Messages marshmallow raises only when dumping or for timezone-aware fields, which
# the phone's requests never meet.
NOT_RAISED_ON_LOAD = {"format", "invalid_awareness"}


@pytest.mark.parametrize("schema_cls", REQUEST_SCHEMAS, ids=lambda cls: cls.__name__)
def test_every_message_a_request_schema_can_give_has_a_chinese_translation(app, schema_cls):
    schema = schema_cls()
    messages = list(schema.error_messages.values())
    for field_obj in _fields_of(schema):
        messages += [m for key, m in field_obj.error_messages.items() if key not in NOT_RAISED_ON_LOAD]
        for validator in field_obj.validators:
            error = getattr(validator, "error", None)
            assert isinstance(error, FieldMessage), (field_obj, validator)
            messages.append(error.format(min=1, max=2, choices="a, b", labels="", input="x", regex="."))
    with app.test_request_context("/"):
        rendered = render_errors(messages)
    untranslated = [m for m, text in zip(messages, rendered, strict=True) if not CJK.search(text)]
    assert untranslated == []
