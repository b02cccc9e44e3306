"""The rule file: loading, caching, catalogue tables, and loud failures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from standards import (
    ACCESS_TYPES,
    KINDS,
    PRIORITIES,
    PRODUCTS,
    SKILLS,
    TIERS,
    RuleFileError,
    expected_duration_min,
    load_ruleset,
    required_skills,
)
from standards.rules import DEFAULT_RULE_FILE, locate_key_line

SHIPPED = DEFAULT_RULE_FILE.read_text(encoding="utf-8")


def line_of(text: str, pattern: str) -> int:
    """1-based line number of the first line matching ``pattern``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if re.search(pattern, line):
            return number
    raise AssertionError(f"{pattern!r} not in text")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "install_code.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_rule_file_loads_with_version(rules):
    assert rules.version == "2026.1"
    assert rules.intake.iptv_adsl_max_route_m == 2500
    assert rules.intake.lan_switch_occupancy_limit_pct == 80.0
    assert set(rules.products) == set(PRODUCTS)
    assert load_ruleset() is rules  # cached
    assert load_ruleset(DEFAULT_RULE_FILE) is rules


def test_codes_are_the_contracted_strings():
    assert KINDS == ("install", "repair", "follow_up", "complaint")
    assert PRIORITIES == ("P1", "P2", "P3")
    assert TIERS == ("group", "provincial", "local_a", "local_b", "local_c")
    assert ACCESS_TYPES == ("adsl", "lan")
    assert SKILLS == ("adsl", "lan", "iptv", "enterprise_circuit", "enterprise_app")
    for code in (
        "adsl",
        "iptv_lan",
        "bundle_adsl_iptv",
        "ddn",
        "mpls_vpn",
        "lan_dedicated",
        "logistics_e",
        "global_eye",
        "business_navigator",
    ):
        assert code in PRODUCTS


@pytest.mark.parametrize(
    ("kind", "product", "skills", "minutes"),
    [
        ("install", "iptv_adsl", {"adsl", "iptv"}, 90),
        ("install", "adsl", {"adsl"}, 60),
        ("install", "bundle_lan_iptv", {"lan", "iptv"}, 120),
        ("repair", "iptv_lan", {"lan", "iptv"}, 60),
        ("follow_up", "adsl", {"adsl"}, 20),
        ("repair", "sdh", {"enterprise_circuit"}, 90),
        ("install", "logistics_e", {"enterprise_app"}, 120),
    ],
)
def test_skills_and_durations(kind, product, skills, minutes):
    assert required_skills(kind, product) == frozenset(skills)
    assert expected_duration_min(kind, product) == minutes


def test_every_product_has_known_skills_and_a_duration_for_every_kind():
    for product in PRODUCTS:
        assert required_skills("install", product) <= set(SKILLS)
        for kind in KINDS:
            if kind == "complaint":  # nobody goes out for a complaint
                assert expected_duration_min(kind, product) == 0
                assert required_skills(kind, product) == frozenset()
            else:
                assert expected_duration_min(kind, product) > 0


def test_catalog_rejects_unknown_codes():
    with pytest.raises(ValueError):
        required_skills("install", "fiber_gpon")
    with pytest.raises(ValueError):
        expected_duration_min("survey", "adsl")


def test_rule_file_edit_is_picked_up(tmp_path):
    path = write(tmp_path, SHIPPED)
    assert load_ruleset(path).intake.lan_switch_occupancy_limit_pct == 80.0
    path.write_text(
        SHIPPED.replace("lan_switch_occupancy_limit_pct = 80.0", "lan_switch_occupancy_limit_pct = 75.5"),
        encoding="utf-8",
    )
    assert load_ruleset(str(path)).intake.lan_switch_occupancy_limit_pct == 75.5


def test_toml_syntax_error_names_file_and_line(tmp_path):
    broken = SHIPPED.replace("iptv_adsl_max_route_m = 2500", "iptv_adsl_max_route_m = = 2500")
    path = write(tmp_path, broken)
    with pytest.raises(RuleFileError) as error:
        load_ruleset(path)
    expected = line_of(broken, r"iptv_adsl_max_route_m = = 2500")
    assert error.value.line == expected
    assert str(error.value).startswith(f"{path}:{expected}:")
    assert "TOML syntax error" in str(error.value)


@pytest.mark.parametrize(
    ("old", "new", "marker", "words"),
    [
        # a string where a number belongs
        (
            "iptv_adsl_max_route_m = 2500",
            'iptv_adsl_max_route_m = "2.5km"',
            r"^iptv_adsl_max_route_m",
            "must be a number",
        ),
        # a number out of range
        (
            "lan_switch_occupancy_limit_pct = 80.0",
            "lan_switch_occupancy_limit_pct = 180.0",
            r"^lan_switch_occupancy_limit_pct",
            "<= 100",
        ),
        # an unknown rule id on a checklist item
        ('rule_id = "R8"', 'rule_id = "R9"', r'rule_id = "R9"', "R9"),
        # an unknown message id
        (
            "[messages.OVERRIDE_NOTE]",
            "[messages.R99]\nzh = 'x'\nen = 'x'\n\n[messages.OVERRIDE_NOTE]",
            r"^\[messages\.R99\]",
            "unknown rule/message id",
        ),
        # a template with a placeholder the finding does not have
        (
            'remedy_en = "Raise the switch uplink first, then install IPTV."',
            'remedy_en = "Raise the uplink of {switch_model} first."',
            r"switch_model",
            "unknown placeholder",
        ),
        # a typo in a key
        (
            "unknown_route_length_severity",
            "unknown_route_lenght_severity",
            r"lenght",
            "unknown key",
        ),
        # wrong type for a time of day
        (
            "residential_start = 08:00:00",
            'residential_start = "8am"',
            r"^residential_start",
            "local time",
        ),
        # an unknown product in a table
        (
            "[sla.enterprise_product_restore.logistics_e]",
            "[sla.enterprise_product_restore.fiber_gpon]",
            r"fiber_gpon",
            "unknown key",
        ),
        # an unknown skill
        ('skills = ["adsl", "iptv"]', 'skills = ["adsl", "tv"]', r'"tv"', "unknown code"),
    ],
)
def test_schema_errors_name_file_and_line(tmp_path, old, new, marker, words):
    assert old in SHIPPED
    text = SHIPPED.replace(old, new, 1)
    path = write(tmp_path, text)
    with pytest.raises(RuleFileError) as error:
        load_ruleset(path)
    expected = line_of(text, marker)
    assert (error.value.path, error.value.line) == (str(path.resolve()), expected), str(error.value)
    assert words in str(error.value)


def test_missing_key_points_at_its_table(tmp_path):
    text = SHIPPED.replace("P2 = 60\n", "", 1)
    path = write(tmp_path, text)
    with pytest.raises(RuleFileError) as error:
        load_ruleset(path)
    assert error.value.line == line_of(text, r"^\[sla\.response_min\]")
    assert "missing key sla.response_min.P2" in str(error.value)


def test_missing_file_is_a_rule_file_error(tmp_path):
    with pytest.raises(RuleFileError, match="cannot read"):
        load_ruleset(tmp_path / "nope.toml")


def test_locate_key_line_handles_arrays_of_tables():
    text = '[[checklist]]\nid = "a"\n\n[[checklist]]\nid = "b"\nunit = "cm"\n[x]\n"quoted.key" = 1\n'
    assert locate_key_line(text, ("checklist", 1, "unit")) == 6
    assert locate_key_line(text, ("checklist", 0, "id")) == 2
    assert locate_key_line(text, ("checklist", 1, "missing")) == 4
    assert locate_key_line(text, ("x", "quoted.key")) == 8
