"""Every code an order carries has a label, and every label has its Chinese words."""

from __future__ import annotations

import pytest

import standards
from core.schemas import UserCreateSchema
from workorders import labels
from workorders.lifecycle import STATES
from workorders.schemas import SOURCES, FollowUpSchema, SlaPauseSchema

# Labels that read the same in both languages.
SAME_IN_BOTH = {"ADSL", "LAN", "IPTV"}

CODES = {
    "state": STATES,
    "kind": standards.KINDS,
    "priority": standards.PRIORITIES,
    "tier": standards.TIERS,
    "skill": standards.SKILLS,
    "source": SOURCES,
    "role": UserCreateSchema().fields["role"].validators[0].choices,
    "followup_method": FollowUpSchema().fields["method"].validators[0].choices,
    "sla_pause_reason": SlaPauseSchema().fields["reason"].validators[0].choices,
}


@pytest.mark.parametrize("group", sorted(CODES))
def test_every_code_has_a_chinese_and_an_english_label(app, group):
    assert set(labels.GROUPS[group][0]) == set(CODES[group])
    with app.test_request_context("/"):
        chinese = labels.labels(group, "zh")
        english = labels.labels(group, "en")
    for code in CODES[group]:
        assert english[code] and english[code] != code, (group, code)
        if english[code] not in SAME_IN_BOTH:
            assert chinese[code] != english[code], (group, code, "no Chinese translation")


def test_products_are_named_by_the_rule_file(app):
    with app.test_request_context("/"):
        assert labels.label("product", "bundle_lan_iptv", "zh") == "LAN 宽带 + IPTV 融合套餐"
        assert labels.label("product", "iptv_lan", "en") == "IPTV over LAN"
        assert set(labels.labels("product")) == set(standards.PRODUCTS)


def test_states_are_told_apart_from_the_same_english_words_elsewhere(app):
    """ "On site" is a state here and a duration in the console; the context keeps them apart."""
    with app.test_request_context("/?lang=zh"):
        assert labels.label("state", "on_site") == "现场处理中"
        assert labels.label("state", "cancelled") == "已取消"
        assert labels.label("state", "no_such_state") == "no_such_state"
        assert labels.label("state", None) == ""
