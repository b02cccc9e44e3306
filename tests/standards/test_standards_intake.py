"""Intake validation: R1, R2, product/access fit, coordinates, appointment window."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from standards_factories import adsl_line, lan_line, make_order

from standards import Finding, validate_intake


def by_rule(findings: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in findings if f.rule_id == rule_id]


def test_valid_install_has_no_findings(rules):
    assert validate_intake(make_order(), adsl_line(1200), rules) == []


@pytest.mark.parametrize(
    ("route_length_m", "blocked"),
    [
        (0, False),
        (2499.9, False),
        (2500, False),
        (2500.0, False),
        (2500.01, True),
        (2501, True),
        (4000, True),
    ],
)
def test_r1_route_length_boundary(rules, route_length_m, blocked):
    findings = by_rule(validate_intake(make_order(), adsl_line(route_length_m), rules), "R1")
    if not blocked:
        assert findings == []
        return
    (finding,) = findings
    assert finding.severity == "block"
    assert finding.measured == pytest.approx(route_length_m)
    assert finding.limit == 2500
    assert finding.unit == "m"
    assert "LAN" in finding.remedy_en and "fiber" in finding.remedy_en
    assert "光纤" in finding.remedy_zh
    assert "2500" in finding.message_zh and str(route_length_m).rstrip("0").rstrip(".") in finding.message_en


@pytest.mark.parametrize("product", ["iptv_adsl", "bundle_adsl_iptv"])
def test_r1_applies_to_every_iptv_over_adsl_product(rules, product):
    findings = validate_intake(make_order(product=product), adsl_line(2501), rules)
    assert [f.rule_id for f in findings] == ["R1"]


def test_r1_not_applied_to_plain_adsl(rules):
    assert validate_intake(make_order(product="adsl"), adsl_line(6000), rules) == []


def test_r1_unknown_route_length_blocks_install(rules):
    (finding,) = validate_intake(make_order(), adsl_line(None), rules)
    assert (finding.rule_id, finding.check, finding.severity) == ("R1", "R1_UNKNOWN", "block")


@pytest.mark.parametrize(
    ("occupancy_pct", "uplink_raised", "blocked"),
    [
        (0, False, False),
        (79.9, False, False),
        (80, False, True),
        (80.0, False, True),
        (95, False, True),
        (95, True, False),
        (100, True, False),
    ],
)
def test_r2_switch_occupancy_boundary(rules, occupancy_pct, uplink_raised, blocked):
    order = make_order(product="iptv_lan")
    findings = by_rule(validate_intake(order, lan_line(occupancy_pct, uplink_raised), rules), "R2")
    if not blocked:
        assert findings == []
        return
    (finding,) = findings
    assert finding.severity == "block"
    assert (finding.measured, finding.limit, finding.unit) == (occupancy_pct, 80.0, "%")
    assert "uplink" in finding.remedy_en.lower()
    assert "上联" in finding.remedy_zh
    assert finding.params["switch_id"] == "SW-HF-0001"


def test_r2_limit_comes_from_the_rule_file(rules):
    from dataclasses import replace

    relaxed = replace(rules, intake=replace(rules.intake, lan_switch_occupancy_limit_pct=90.0))
    assert validate_intake(make_order(product="iptv_lan"), lan_line(85), relaxed) == []
    assert by_rule(validate_intake(make_order(product="iptv_lan"), lan_line(90), relaxed), "R2")


def test_r2_unknown_switch_is_a_warning_unknown_occupancy_blocks(rules):
    findings = validate_intake(make_order(product="iptv_lan"), lan_line(None, switch_id=None), rules)
    assert sorted((f.check, f.severity) for f in findings) == [
        ("R2_SWITCH_UNKNOWN", "warn"),
        ("R2_UNKNOWN", "block"),
    ]


@pytest.mark.parametrize(
    ("product", "line_factory", "expected_access"),
    [
        ("iptv_adsl", lan_line, "adsl"),
        ("adsl", lan_line, "adsl"),
        ("iptv_lan", adsl_line, "lan"),
        ("bundle_lan_iptv", adsl_line, "lan"),
        ("lan_dedicated", adsl_line, "lan"),
    ],
)
def test_product_access_mismatch_blocks(rules, product, line_factory, expected_access):
    findings = validate_intake(make_order(product=product, customer_tier=None), line_factory(), rules)
    mismatch = by_rule(findings, "ORDER_PRODUCT_ACCESS")
    assert len(mismatch) == 1
    assert mismatch[0].severity == "block"
    assert mismatch[0].params["expected_access"] == expected_access
    # no R1/R2 noise on a line of the wrong kind
    assert not by_rule(findings, "R1") and not by_rule(findings, "R2")


def test_unknown_access_type_blocks(rules):
    line = adsl_line()
    line.access_type = "fiber"
    (finding,) = validate_intake(make_order(), line, rules)
    assert finding.rule_id == "ORDER_PRODUCT_ACCESS" and finding.params["access_type"] == "fiber"


def test_missing_line_blocks_residential_install_only(rules):
    (finding,) = validate_intake(make_order(), None, rules)
    assert (finding.rule_id, finding.severity) == ("ORDER_LINE", "block")
    (repair,) = validate_intake(make_order(kind="repair"), None, rules)
    assert repair.severity == "warn"
    assert validate_intake(make_order(kind="follow_up"), None, rules) == []
    # enterprise circuits have no access line
    assert validate_intake(make_order(product="sdh", customer_tier="group"), None, rules) == []


@pytest.mark.parametrize("kind", ["repair", "follow_up"])
def test_repair_and_follow_up_only_warn_on_technical_rules(rules, kind):
    findings = validate_intake(make_order(kind=kind), adsl_line(3000), rules)
    assert [(f.rule_id, f.severity) for f in findings] == [("R1", "warn")]
    findings = validate_intake(make_order(kind=kind, product="iptv_lan"), lan_line(99), rules)
    assert [(f.rule_id, f.severity) for f in findings] == [("R2", "warn")]
    findings = validate_intake(make_order(kind=kind), lan_line(), rules)
    assert [(f.rule_id, f.severity) for f in findings] == [("ORDER_PRODUCT_ACCESS", "warn")]


@pytest.mark.parametrize(
    ("lat", "lon", "check"),
    [
        (None, 117.28, "ORDER_COORDS_MISSING"),
        (31.86, None, "ORDER_COORDS_MISSING"),
        (117.28, 31.86, "ORDER_COORDS_RANGE"),
        (0.0, 0.0, "ORDER_COORDS_RANGE"),
        (91.0, 117.0, "ORDER_COORDS_RANGE"),
        (float("nan"), 117.0, "ORDER_COORDS_RANGE"),
    ],
)
def test_coordinates_present_and_in_range(rules, lat, lon, check):
    (finding,) = validate_intake(make_order(lat=lat, lon=lon), adsl_line(), rules)
    assert (finding.rule_id, finding.check, finding.severity) == ("ORDER_COORDS", check, "block")
    json.dumps(finding.to_dict())  # NaN must not leak into JSON


@pytest.mark.parametrize(
    ("start", "end", "ok"),
    [
        ((8, 0), (10, 0), True),
        ((18, 0), (20, 0), True),
        ((7, 59), (9, 0), False),
        ((19, 0), (20, 1), False),
        ((21, 0), (22, 0), False),
        ((10, 0), (10, 0), False),  # empty window
        ((12, 0), (10, 0), False),  # end before start
    ],
)
def test_residential_window_inside_working_hours(rules, start, end, ok):
    order = make_order(
        appointment_start=datetime(2026, 3, 2, *start), appointment_end=datetime(2026, 3, 2, *end)
    )
    findings = by_rule(validate_intake(order, adsl_line(), rules), "ORDER_WINDOW")
    assert (findings == []) is ok
    if not ok:
        assert findings[0].severity == "block"


def test_window_spanning_midnight_and_half_open_window(rules):
    overnight = make_order(
        appointment_start=datetime(2026, 3, 2, 9), appointment_end=datetime(2026, 3, 3, 10)
    )
    assert by_rule(validate_intake(overnight, adsl_line(), rules), "ORDER_WINDOW")
    half = make_order(appointment_end=None)
    (finding,) = validate_intake(half, adsl_line(), rules)
    assert finding.check == "ORDER_WINDOW_INCOMPLETE"
    unbooked = make_order(appointment_start=None, appointment_end=None)
    assert validate_intake(unbooked, adsl_line(), rules) == []


def test_enterprise_is_served_24x7(rules):
    night = {
        "appointment_start": datetime(2026, 3, 2, 2, 0),
        "appointment_end": datetime(2026, 3, 2, 4, 0),
    }
    assert validate_intake(make_order(product="ddn", customer_tier="group", **night), None, rules) == []
    # an enterprise customer's broadband line too
    assert (
        validate_intake(make_order(product="xdsl", customer_tier="local_c", **night), adsl_line(), rules)
        == []
    )
    # ... but start < end still holds
    bad = make_order(
        product="ddn",
        customer_tier="group",
        appointment_start=datetime(2026, 3, 2, 4),
        appointment_end=datetime(2026, 3, 2, 2),
    )
    assert [f.check for f in validate_intake(bad, None, rules)] == ["ORDER_WINDOW_ORDER"]


def test_enterprise_product_without_tier_warns(rules):
    (finding,) = validate_intake(
        make_order(product="logistics_e", customer_tier=None, appointment_start=None, appointment_end=None),
        None,
        rules,
    )
    assert (finding.rule_id, finding.severity) == ("ORDER_TIER", "warn")


def test_unknown_codes_block(rules):
    order = make_order(kind="install_x", product="fiber_gpon", priority="P0", customer_tier="vip")
    findings = validate_intake(order, adsl_line(), rules)
    assert sorted(f.params["field"] for f in findings if f.rule_id == "ORDER_CODE") == [
        "customer_tier",
        "kind",
        "priority",
        "product",
    ]
    assert all(f.severity == "block" for f in findings)


def test_implausible_line_data_blocks(rules):
    (finding,) = validate_intake(make_order(), adsl_line(-5), rules)
    assert (finding.rule_id, finding.params["field"]) == ("ORDER_LINE", "route_length_m")
    (finding,) = validate_intake(make_order(product="iptv_lan"), lan_line(130), rules)
    assert finding.params["field"] == "switch_occupancy_pct"


def test_aware_datetimes_are_refused(rules):

    order = make_order(appointment_start=datetime(2026, 3, 2, 9, tzinfo=UTC))
    with pytest.raises(ValueError, match="naive"):
        validate_intake(order, adsl_line(), rules)


def test_finding_is_json_and_bilingual(rules):
    (finding,) = validate_intake(make_order(), adsl_line(3100), rules)
    data = json.loads(json.dumps(finding.to_dict()))
    assert data["rule_id"] == "R1" and data["measured"] == 3100 and data["limit"] == 2500
    assert finding.message("zh-CN") == finding.message_zh and "3100" in finding.message_zh
    assert finding.message("en") == finding.message_en
    assert finding.message("zh_Hans") != finding.message("en-US")
    assert finding.remedy("zh") == finding.remedy_zh
