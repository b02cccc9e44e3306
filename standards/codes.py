"""Code lists shared by the whole service.

These strings are part of the public contract (database values, API values),
so they live in code; the rule file may only describe them, never add new ones.
"""

from __future__ import annotations

from typing import Literal

# Kinds a technician goes out for (the optimizer plans them; durations and skills apply).
FIELD_KINDS: tuple[str, ...] = ("install", "repair", "follow_up")
# A complaint is handled by the service center: answered, handled and closed, never visited.
KINDS: tuple[str, ...] = FIELD_KINDS + ("complaint",)
PRIORITIES: tuple[str, ...] = ("P1", "P2", "P3")
TIERS: tuple[str, ...] = ("group", "provincial", "local_a", "local_b", "local_c")
ACCESS_TYPES: tuple[str, ...] = ("adsl", "lan")
SKILLS: tuple[str, ...] = ("adsl", "lan", "iptv", "enterprise_circuit", "enterprise_app")
CUSTOMER_KINDS: tuple[str, ...] = ("residential", "enterprise")

RESIDENTIAL_PRODUCTS: tuple[str, ...] = (
    "adsl",
    "lan",
    "iptv_adsl",
    "iptv_lan",
    "bundle_adsl_iptv",
    "bundle_lan_iptv",
)
ENTERPRISE_CIRCUITS: tuple[str, ...] = (
    "ddn",
    "frame_relay",
    "atm",
    "sdh",
    "mpls_vpn",
    "circuit_lease",
    "xdsl",
    "lan_terminal",
    "lan_dedicated",
)
# Enterprise application products from seed 003 (商务领航, 物流E通, 全球眼 ...).
ENTERPRISE_APPS: tuple[str, ...] = (
    "business_navigator",
    "logistics_e",
    "global_eye",
    "vpdn",
    "ptt",
    "ngn_virtual_network",
)
PRODUCTS: tuple[str, ...] = RESIDENTIAL_PRODUCTS + ENTERPRISE_CIRCUITS + ENTERPRISE_APPS

# Rule ids a checklist item may belong to (R1 is re-measured at close-out).
CHECKLIST_RULE_IDS: tuple[str, ...] = ("R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8")
CHECKLIST_ITEM_TYPES: tuple[str, ...] = ("boolean", "measurement", "consent", "photo")
Severity = Literal["block", "warn"]
SEVERITIES: tuple[Severity, ...] = ("block", "warn")
