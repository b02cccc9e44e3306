"""The bill of materials as rules data (standards/rules/materials.toml)."""

from __future__ import annotations

import pytest

from standards.codes import PRODUCTS, RESIDENTIAL_PRODUCTS
from standards.materials import allowed_items, bill_of_materials, load_materials
from standards.tomlfile import RuleFileError


def test_installs_take_their_device_cable_and_plugs():
    assert bill_of_materials("install", "adsl") == {"adsl_modem": 1, "cable_m": 20, "rj45": 2}
    assert bill_of_materials("install", "iptv_lan") == {"stb": 1, "cable_m": 15, "rj45": 2}
    assert bill_of_materials("install", "bundle_lan_iptv") == {
        "lan_router": 1,
        "stb": 1,
        "cable_m": 40,
        "rj45": 6,
    }
    for product in RESIDENTIAL_PRODUCTS:
        assert bill_of_materials("install", product), product


def test_repairs_plan_consumables_and_may_swap_the_device():
    assert bill_of_materials("repair", "iptv_adsl") == {"rj45": 2}
    assert allowed_items("repair", "iptv_adsl") == {"rj45", "stb", "cable_m"}
    assert bill_of_materials("follow_up", "adsl") == {} and allowed_items("follow_up", "adsl") == set()
    assert bill_of_materials("repair", "sdh") == {}  # enterprise circuits: nothing from the van


def test_catalogue_knows_which_items_carry_serials():
    items = load_materials().items
    assert {code for code, item in items.items() if item.serialised} == {"adsl_modem", "lan_router", "stb"}
    assert items["cable_m"].unit == "m" and items["rj45"].van_max == 100
    every = load_materials().boms
    assert all(product in PRODUCTS for _kind, product in every)
    assert all(code in items for entry in every.values() for code in entry.items)


ITEM_A = (
    'version = "x"\n[items.a]\nname_zh = "甲"\nname_en = "A"\nunit = "pcs"\nserialised = false\nvan_max = 1\n'
)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            ITEM_A.replace('"pcs"', '"kg"'),
            "unit",
        ),
        (
            ITEM_A + '[[bom]]\nkind = "install"\nproducts = ["adsl"]\nitems = { b = 1 }\n',
            "unknown item 'b'",
        ),
        (
            ITEM_A + '[[bom]]\nkind = "install"\nproducts = ["adsl"]\nitems = { a = 0 }\n',
            ">= 1",
        ),
        (
            ITEM_A + '[[bom]]\nkind = "install"\nproducts = ["warp"]\nitems = { a = 1 }\n',
            "unknown code 'warp'",
        ),
    ],
)
def test_a_broken_file_names_its_line(tmp_path, body, problem):
    path = tmp_path / "materials.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_materials(path)
    assert problem in str(caught.value) and str(path) in str(caught.value)
    assert caught.value.line > 0
