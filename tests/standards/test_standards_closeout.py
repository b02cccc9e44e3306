"""Checklists per product and the close-out guard (R1 re-measured, R3-R8)."""

from __future__ import annotations

import json

import pytest

from standards import ChecklistItem, checklist_for, validate_closeout

ADSL_ONLY = {"r3_line_no_fault", "r5_wire_fixed", "r5_not_through_windows_doors"}
LAN_ONLY = {"r6_cat5_fixed", "r6_drilling_consent", "r7_rj45_crimped"}
IPTV_ONLY = {"r8_power_line_distance_cm", "r8_socket_spacing_cm", "r8_socket_height_cm"}


def ids(kind: str, product: str) -> set[str]:
    return {item.id for item in checklist_for(kind, product)}


def passing_answers(kind: str, product: str) -> tuple[dict[str, object], dict[str, int]]:
    """Answers and photos that satisfy every item of the checklist."""
    good_measurements = {
        "r8_power_line_distance_cm": 18.0,
        "r8_socket_spacing_cm": 22.0,
        "r8_socket_height_cm": 30.0,
        "r1_route_length_m": 1800.0,
    }
    answers: dict[str, object] = {}
    photos: dict[str, int] = {}
    for item in checklist_for(kind, product):
        if item.type in ("boolean", "consent"):
            answers[item.id] = item.id != "r6_drilling_needed"
        elif item.type == "measurement":
            answers[item.id] = good_measurements[item.id]
        if item.photo_required:
            photos[item.id] = 1
    return answers, photos


def closeout_with(product: str, item_id: str, value: object) -> list:
    answers, photos = passing_answers("install", product)
    answers[item_id] = value
    return validate_closeout("install", product, answers, photos)


@pytest.mark.parametrize(
    ("product", "present", "absent"),
    [
        ("adsl", ADSL_ONLY, LAN_ONLY | IPTV_ONLY | {"r1_route_length_m"}),
        ("lan", LAN_ONLY, ADSL_ONLY | IPTV_ONLY | {"r1_route_length_m"}),
        ("iptv_adsl", ADSL_ONLY | IPTV_ONLY | {"r1_route_length_m"}, LAN_ONLY),
        ("bundle_lan_iptv", LAN_ONLY | IPTV_ONLY, ADSL_ONLY | {"r1_route_length_m"}),
    ],
)
def test_checklist_depends_on_product(product, present, absent):
    items = ids("install", product)
    assert present <= items
    assert not (absent & items)
    assert {
        "r4_identity_verified",
        "r4_tariff_confirmed",
        "r4_payment_confirmed",
        "r4_computer_config_noted",
    } <= items


def test_checklist_covers_r3_to_r8_and_r1_for_iptv_over_adsl():
    rules_seen = {item.rule_id for item in checklist_for("install", "iptv_adsl")}
    assert rules_seen == {"R1", "R3", "R4", "R5", "R8"}
    rules_seen = {item.rule_id for item in checklist_for("install", "iptv_lan")}
    assert rules_seen == {"R4", "R6", "R7", "R8"}


def test_checklist_by_kind():
    assert ids("repair", "adsl") == {
        "r3_line_no_fault",
        "r3_drop_twisted_pair",
        "r3_drop_no_joints",
    }
    assert ids("repair", "lan") == {"r7_rj45_crimped"}
    assert checklist_for("follow_up", "iptv_adsl") == []
    assert checklist_for("install", "sdh") == []
    with pytest.raises(ValueError):
        checklist_for("install", "fiber")
    with pytest.raises(ValueError):
        checklist_for("survey", "adsl")


def test_checklist_items_are_typed_and_serialisable():
    items = checklist_for("install", "iptv_lan")
    assert all(isinstance(item, ChecklistItem) for item in items)
    assert {item.type for item in items} == {"boolean", "consent", "measurement", "photo"}
    height = next(item for item in items if item.id == "r8_socket_height_cm")
    assert (height.unit, height.min_value, height.max_value) == ("cm", 25.0, 35.0)
    consent = next(item for item in items if item.id == "r6_drilling_consent")
    assert consent.type == "consent" and consent.required is False
    data = json.loads(json.dumps([item.to_dict() for item in items]))
    assert data[0]["label_zh"] and data[0]["label_en"]


@pytest.mark.parametrize("product", ["adsl", "lan", "iptv_adsl", "iptv_lan", "bundle_adsl_iptv"])
def test_complete_answers_close_cleanly(product):
    answers, photos = passing_answers("install", product)
    assert validate_closeout("install", product, answers, photos) == []


def test_all_missing_items_are_listed():
    findings = validate_closeout("install", "iptv_adsl", {}, {})
    missing = {f.params["item_id"] for f in findings if f.check == "CLOSEOUT_MISSING"}
    required = {
        item.id for item in checklist_for("install", "iptv_adsl") if item.required and item.type != "photo"
    }
    assert missing == required
    photo_missing = {f.params["item_id"] for f in findings if f.check == "CLOSEOUT_PHOTO_MISSING"}
    assert photo_missing == {"r5_not_through_windows_doors", "r8_wiring_photo"}
    assert all(f.severity == "block" for f in findings)
    # every finding carries the rule id of its item
    by_item = {item.id: item.rule_id for item in checklist_for("install", "iptv_adsl")}
    assert all(f.rule_id == by_item[f.params["item_id"]] for f in findings)


@pytest.mark.parametrize(
    ("item_id", "value", "fails"),
    [
        ("r8_power_line_distance_cm", 15.0, False),
        ("r8_power_line_distance_cm", 15, False),
        ("r8_power_line_distance_cm", 14.9, True),
        ("r8_power_line_distance_cm", {"value": 150, "unit": "mm"}, False),
        ("r8_power_line_distance_cm", {"value": 149, "unit": "mm"}, True),
        ("r8_power_line_distance_cm", {"value": 0.15, "unit": "m"}, False),
        ("r8_socket_spacing_cm", 20.0, False),
        ("r8_socket_spacing_cm", 19.9, True),
        ("r8_socket_height_cm", 25.0, False),
        ("r8_socket_height_cm", 35.0, False),
        ("r8_socket_height_cm", 24.9, True),
        ("r8_socket_height_cm", 35.1, True),
        ("r1_route_length_m", 2500, False),
        ("r1_route_length_m", 2501, True),
        ("r1_route_length_m", {"value": 2.5, "unit": "km"}, False),
        ("r1_route_length_m", {"value": 2.501, "unit": "km"}, True),
        ("r1_route_length_m", {"value": 2500, "unit": "m"}, False),
    ],
)
def test_measurement_boundaries_and_units(item_id, value, fails):
    findings = closeout_with("iptv_adsl", item_id, value)
    if not fails:
        assert findings == []
        return
    (finding,) = findings
    assert finding.check == "CLOSEOUT_OUT_OF_RANGE"
    assert finding.params["item_id"] == item_id
    assert finding.measured is not None and finding.limit is not None
    assert finding.unit in ("cm", "m")


def test_failing_measurement_reports_measured_and_limit():
    (finding,) = closeout_with("iptv_adsl", "r8_power_line_distance_cm", 14.9)
    assert (finding.rule_id, finding.severity) == ("R8", "block")
    assert (finding.measured, finding.limit, finding.unit) == (14.9, 15.0, "cm")
    assert "14.9" in finding.message_en and "15" in finding.message_en and "≥" in finding.message_en
    assert "14.9" in finding.message_zh and "弱电线" in finding.message_zh
    (too_long,) = closeout_with("iptv_adsl", "r1_route_length_m", {"value": 2.6, "unit": "km"})
    assert (too_long.rule_id, too_long.measured, too_long.limit) == ("R1", 2600.0, 2500.0)


@pytest.mark.parametrize(
    "value", ["15", True, None, {"value": 15, "unit": "inch"}, {"value": "x"}, float("nan"), [15]]
)
def test_unreadable_measurement_is_refused(value):
    findings = closeout_with("iptv_lan", "r8_power_line_distance_cm", value)
    assert len(findings) == 1
    assert findings[0].check == ("CLOSEOUT_MISSING" if value is None else "CLOSEOUT_BAD_VALUE")
    json.dumps(findings[0].to_dict())


def test_boolean_false_or_non_bool_fails():
    (finding,) = closeout_with("adsl", "r4_identity_verified", False)
    assert (finding.check, finding.rule_id) == ("CLOSEOUT_NOT_CONFIRMED", "R4")
    (finding,) = closeout_with("adsl", "r4_identity_verified", "yes")
    assert finding.check == "CLOSEOUT_BAD_VALUE"


def test_missing_photo_is_listed():
    answers, photos = passing_answers("install", "lan")
    photos["r7_rj45_crimped"] = 0
    del photos["r6_cat5_fixed"]
    findings = validate_closeout("install", "lan", answers, photos)
    assert sorted((f.rule_id, f.check, f.params["item_id"]) for f in findings) == [
        ("R6", "CLOSEOUT_PHOTO_MISSING", "r6_cat5_fixed"),
        ("R7", "CLOSEOUT_PHOTO_MISSING", "r7_rj45_crimped"),
    ]


def test_drilling_consent_required_only_when_drilling():
    answers, photos = passing_answers("install", "lan")
    del answers["r6_drilling_consent"]
    assert validate_closeout("install", "lan", answers, photos) == []
    answers["r6_drilling_needed"] = True
    (finding,) = validate_closeout("install", "lan", answers, photos)
    assert (finding.rule_id, finding.check) == ("R6", "CLOSEOUT_MISSING")
    answers["r6_drilling_consent"] = False
    (finding,) = validate_closeout("install", "lan", answers, photos)
    assert finding.check == "CLOSEOUT_NOT_CONFIRMED"
    answers["r6_drilling_consent"] = True
    assert validate_closeout("install", "lan", answers, photos) == []


def test_override_turns_blocks_into_named_warnings():
    override = {"by": "supervisor_li", "reason": "customer refuses socket move; signed waiver"}
    findings = validate_closeout("install", "iptv_adsl", {}, {}, override=override)
    assert findings and all(f.severity == "warn" for f in findings)
    assert all(f.params["override_by"] == "supervisor_li" for f in findings)
    assert "supervisor_li" in findings[0].message_en and "supervisor_li" in findings[0].message_zh
    plain = validate_closeout("install", "iptv_adsl", {}, {})
    assert len(plain) == len(findings)


@pytest.mark.parametrize(
    "override",
    [
        {},
        {"by": "supervisor_li"},
        {"reason": "ok"},
        {"by": "", "reason": "ok"},
        {"by": "supervisor_li", "reason": "   "},
        {"by": None, "reason": "ok"},
    ],
)
def test_override_requires_name_and_reason(override):
    with pytest.raises(ValueError):
        validate_closeout("install", "adsl", {}, {}, override=override)
