"""Load and validate the versioned rule file (``standards/rules/install_code.toml``).

The rule file is operator data: every problem in it must be reported with the
file path and the line number, so whoever edited it can fix it without reading
Python. This module holds the file's schema, section by section, and the cached
loading; :mod:`standards.tomlfile` locates keys and reports ``file:line``, and
:mod:`standards.ruleset` holds the parsed rule set.
"""

from __future__ import annotations

import os
import re
import string
import threading
import tomllib
from pathlib import Path
from typing import Any

from standards.codes import (
    ACCESS_TYPES,
    CHECKLIST_ITEM_TYPES,
    CHECKLIST_RULE_IDS,
    FIELD_KINDS,
    KINDS,
    PRIORITIES,
    PRODUCTS,
    SEVERITIES,
    SKILLS,
    TIERS,
)
from standards.ruleset import (
    ChecklistRule,
    IntakeRules,
    MessageTemplate,
    ProductRestore,
    ProductRule,
    RuleSet,
    SlaRules,
)
from standards.tomlfile import (
    MISSING,
    KeyPath,
    RuleFileError,
    TomlReader,
    decode_error_line,
    dotted_key,
    locate_key_line,
    read_rule_text,
    read_toml_file,
)

# Re-exported: callers name the rule file's types and errors through this module.
__all__ = [
    "DEFAULT_RULE_FILE",
    "MEASUREMENT_UNITS",
    "MESSAGE_PARAMS",
    "RULES_DIR",
    "ChecklistRule",
    "IntakeRules",
    "MessageTemplate",
    "ProductRestore",
    "ProductRule",
    "RuleFileError",
    "RuleSet",
    "SlaRules",
    "clear_ruleset_cache",
    "load_ruleset",
    "locate_key_line",
    "parse_ruleset",
    "read_rule_text",
    "read_toml_file",
]

RULES_DIR = Path(__file__).resolve().parent / "rules"
DEFAULT_RULE_FILE = RULES_DIR / "install_code.toml"

_ITEM_LABEL_PARAMS = frozenset({"item_id", "label_zh", "label_en"})
_OVERRIDE_PARAMS = frozenset({"override_by", "override_reason"})

# Message id -> placeholders its templates may use. A template naming anything
# else would fail when rendered, so it is refused when the file is loaded.
MESSAGE_PARAMS: dict[str, frozenset[str]] = {
    "R1": frozenset({"measured", "limit", "unit", "product", "access_type"}),
    "R1_UNKNOWN": frozenset({"limit", "unit", "product", "access_type"}),
    "R2": frozenset({"measured", "limit", "unit", "switch_id", "product", "uplink_raised"}),
    "R2_UNKNOWN": frozenset({"limit", "unit", "switch_id", "product"}),
    "R2_SWITCH_UNKNOWN": frozenset({"product"}),
    "ORDER_CODE": frozenset({"field", "value", "allowed"}),
    "ORDER_PRODUCT_ACCESS": frozenset({"product", "access_type", "expected_access"}),
    "ORDER_COORDS_MISSING": frozenset({"lat", "lon"}),
    "ORDER_COORDS_RANGE": frozenset({"lat", "lon", "lat_min", "lat_max", "lon_min", "lon_max"}),
    "ORDER_WINDOW_INCOMPLETE": frozenset({"start", "end"}),
    "ORDER_WINDOW_ORDER": frozenset({"start", "end"}),
    "ORDER_WINDOW_HOURS": frozenset({"start", "end", "hours_start", "hours_end"}),
    "ORDER_LINE_MISSING": frozenset({"product", "kind"}),
    "ORDER_LINE_MISSING_WARN": frozenset({"product", "kind"}),
    "ORDER_LINE_DATA": frozenset({"field", "value"}),
    "ORDER_TIER_MISSING": frozenset({"product"}),
    "CLOSEOUT_MISSING": _ITEM_LABEL_PARAMS,
    "CLOSEOUT_NOT_CONFIRMED": _ITEM_LABEL_PARAMS,
    "CLOSEOUT_OUT_OF_RANGE": _ITEM_LABEL_PARAMS
    | {"measured", "limit", "unit", "op", "min_value", "max_value"},
    "CLOSEOUT_BAD_VALUE": _ITEM_LABEL_PARAMS | {"value", "unit"},
    "CLOSEOUT_PHOTO_MISSING": _ITEM_LABEL_PARAMS | {"photos", "photos_required"},
    "OVERRIDE_NOTE": _OVERRIDE_PARAMS,
}


# --------------------------------------------------------------------------
# Section parsers
# --------------------------------------------------------------------------
def _parse_intake(r: TomlReader, root: dict[str, Any]) -> IntakeRules:
    where: KeyPath = ("intake",)
    intake = r.table(root, (), "intake")
    r.only_keys(
        intake,
        where,
        {
            "iptv_adsl_max_route_m",
            "lan_switch_occupancy_limit_pct",
            "unknown_route_length_severity",
            "unknown_switch_occupancy_severity",
            "working_hours",
            "service_area",
        },
    )
    hours_where = where + ("working_hours",)
    hours = r.table(intake, where, "working_hours")
    r.only_keys(hours, hours_where, {"residential_start", "residential_end", "enterprise_24x7"})
    area_where = where + ("service_area",)
    area = r.table(intake, where, "service_area")
    r.only_keys(area, area_where, {"lat_min", "lat_max", "lon_min", "lon_max"})
    rules = IntakeRules(
        iptv_adsl_max_route_m=r.number(intake, where, "iptv_adsl_max_route_m", minimum=0),
        lan_switch_occupancy_limit_pct=r.number(
            intake, where, "lan_switch_occupancy_limit_pct", minimum=0, maximum=100
        ),
        unknown_route_length_severity=r.text_value(
            intake, where, "unknown_route_length_severity", choices=SEVERITIES
        ),
        unknown_switch_occupancy_severity=r.text_value(
            intake, where, "unknown_switch_occupancy_severity", choices=SEVERITIES
        ),
        residential_start=r.clock_time(hours, hours_where, "residential_start"),
        residential_end=r.clock_time(hours, hours_where, "residential_end"),
        enterprise_24x7=r.boolean(hours, hours_where, "enterprise_24x7"),
        lat_min=r.number(area, area_where, "lat_min", minimum=-90, maximum=90),
        lat_max=r.number(area, area_where, "lat_max", minimum=-90, maximum=90),
        lon_min=r.number(area, area_where, "lon_min", minimum=-180, maximum=180),
        lon_max=r.number(area, area_where, "lon_max", minimum=-180, maximum=180),
    )
    if rules.residential_start >= rules.residential_end:
        r.fail(
            hours_where + ("residential_end",),
            "intake.working_hours.residential_end must be after residential_start",
        )
    if rules.lat_min >= rules.lat_max:
        r.fail(area_where + ("lat_max",), "intake.service_area.lat_max must be greater than lat_min")
    if rules.lon_min >= rules.lon_max:
        r.fail(area_where + ("lon_max",), "intake.service_area.lon_max must be greater than lon_min")
    return rules


def _parse_products(r: TomlReader, root: dict[str, Any]) -> dict[str, ProductRule]:
    table = r.table(root, (), "products")
    r.only_keys(table, ("products",), PRODUCTS)
    products: dict[str, ProductRule] = {}
    for code in PRODUCTS:
        where: KeyPath = ("products", code)
        row = r.table(table, ("products",), code)
        r.only_keys(row, where, {"segment", "access", "iptv", "skills", "name_zh", "name_en"})
        access = r.text_value(row, where, "access", default=None, choices=ACCESS_TYPES)
        iptv = r.boolean(row, where, "iptv", default=False)
        if iptv and access is None:
            r.fail(where + ("iptv",), f"products.{code}.iptv needs an access type")
        products[code] = ProductRule(
            code=code,
            segment=r.text_value(row, where, "segment", choices=("residential", "enterprise")),
            access=access,
            iptv=iptv,
            skills=r.code_list(row, where, "skills", SKILLS),
            name_zh=r.text_value(row, where, "name_zh"),
            name_en=r.text_value(row, where, "name_en"),
        )
    return products


def _parse_durations(r: TomlReader, root: dict[str, Any]) -> dict[str, dict[str, int]]:
    table = r.table(root, (), "durations")
    r.only_keys(table, ("durations",), FIELD_KINDS)
    durations: dict[str, dict[str, int]] = {}
    for kind in FIELD_KINDS:
        where: KeyPath = ("durations", kind)
        row = r.table(table, ("durations",), kind)
        r.only_keys(row, where, ("default",) + PRODUCTS)
        per_product = {"default": r.number(row, where, "default", integer=True, minimum=1, maximum=24 * 60)}
        for code in row:
            if code != "default":
                per_product[code] = r.number(row, where, code, integer=True, minimum=1, maximum=24 * 60)
        durations[kind] = per_product
    return durations


_CHECKLIST_KEYS = {
    "id",
    "rule_id",
    "type",
    "label_zh",
    "label_en",
    "unit",
    "min_value",
    "max_value",
    "required",
    "photo_required",
    "required_if",
    "kinds",
    "access",
    "iptv_only",
    "segments",
}
MEASUREMENT_UNITS: tuple[str, ...] = ("mm", "cm", "m", "km", "pct")


def _parse_checklist(r: TomlReader, root: dict[str, Any]) -> tuple[ChecklistRule, ...]:
    rows = root.get("checklist", MISSING)
    if rows is MISSING:
        r.fail(("checklist",), "missing [[checklist]] items")
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        r.fail(("checklist",), "checklist must be an array of tables ([[checklist]])")
    items: list[ChecklistRule] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        where: KeyPath = ("checklist", index)
        r.only_keys(row, where, _CHECKLIST_KEYS)
        item_id = r.text_value(row, where, "id")
        if not re.fullmatch(r"[a-z0-9_]+", item_id):
            r.fail(
                where + ("id",),
                f"checklist id {item_id!r} must be lower-case letters, digits and _",
            )
        if item_id in seen:
            r.fail(where + ("id",), f"duplicate checklist id {item_id!r}")
        seen.add(item_id)
        item_type = r.text_value(row, where, "type", choices=CHECKLIST_ITEM_TYPES)
        unit = r.text_value(row, where, "unit", default=None, choices=MEASUREMENT_UNITS)
        min_value = r.number(row, where, "min_value", default=None)
        max_value = r.number(row, where, "max_value", default=None)
        if item_type == "measurement":
            if unit is None:
                r.fail(where + ("unit",), f"measurement {item_id!r} needs a unit")
            if min_value is None and max_value is None:
                r.fail(where, f"measurement {item_id!r} needs min_value or max_value")
            if min_value is not None and max_value is not None and min_value > max_value:
                r.fail(where + ("max_value",), f"{item_id!r}: max_value is below min_value")
        elif unit is not None or min_value is not None or max_value is not None:
            r.fail(
                where + ("type",),
                f"{item_type} item {item_id!r} cannot have unit/min_value/max_value",
            )
        items.append(
            ChecklistRule(
                id=item_id,
                rule_id=r.text_value(row, where, "rule_id", choices=CHECKLIST_RULE_IDS),
                type=item_type,
                label_zh=r.text_value(row, where, "label_zh"),
                label_en=r.text_value(row, where, "label_en"),
                unit=unit,
                min_value=min_value,
                max_value=max_value,
                required=r.boolean(row, where, "required", default=True),
                photo_required=r.boolean(row, where, "photo_required", default=item_type == "photo"),
                required_if=r.text_value(row, where, "required_if", default=None),
                kinds=r.code_list(row, where, "kinds", KINDS, default=["install"]),
                access=r.code_list(row, where, "access", ACCESS_TYPES, default=list(ACCESS_TYPES)),
                iptv_only=r.boolean(row, where, "iptv_only", default=False),
                segments=r.code_list(
                    row, where, "segments", ("residential", "enterprise"), default=["residential"]
                ),
            )
        )
    by_id = {item.id: item for item in items}
    for index, item in enumerate(items):
        if item.required_if is not None:
            target = by_id.get(item.required_if)
            if target is None or target.type not in ("boolean", "consent"):
                r.fail(
                    ("checklist", index, "required_if"),
                    f"{item.id!r}: required_if must name a boolean checklist item, got {item.required_if!r}",
                )
    return tuple(items)


def _parse_sla(r: TomlReader, root: dict[str, Any]) -> SlaRules:
    sla = r.table(root, (), "sla")
    top: KeyPath = ("sla",)
    r.only_keys(
        sla,
        top,
        {
            "response_min",
            "residential_restore_h",
            "enterprise_restore_h",
            "enterprise_product_restore",
            "complaints",
        },
    )

    def code_table(key: str, codes: tuple[str, ...], integer: bool) -> dict[str, Any]:
        row = r.table(sla, top, key)
        r.only_keys(row, top + (key,), codes)
        return {
            code: r.number(row, top + (key,), code, integer=integer, minimum=0 if integer else 0.0)
            for code in codes
        }

    overrides_table = r.table(sla, top, "enterprise_product_restore", default={})
    overrides_where = top + ("enterprise_product_restore",)
    r.only_keys(overrides_table, overrides_where, PRODUCTS)
    overrides: dict[str, ProductRestore] = {}
    for code in overrides_table:
        where = overrides_where + (code,)
        row = r.table(overrides_table, overrides_where, code)
        r.only_keys(row, where, {"hours", "working_days"})
        hours = r.number(row, where, "hours", default=None, minimum=0)
        days = r.number(row, where, "working_days", default=None, integer=True, minimum=0)
        if (hours is None) == (days is None):
            r.fail(where, f"{dotted_key(where)} needs exactly one of hours or working_days")
        overrides[code] = ProductRestore(hours=hours, working_days=days)

    complaints = r.table(sla, top, "complaints")
    cwhere = top + ("complaints",)
    r.only_keys(complaints, cwhere, {"answer_h", "first_handling_h", "final_working_days", "at_risk_share"})
    return SlaRules(
        response_min=code_table("response_min", PRIORITIES, True),
        residential_restore_h=code_table("residential_restore_h", PRIORITIES, False),
        enterprise_restore_h=code_table("enterprise_restore_h", TIERS, False),
        enterprise_product_restore=overrides,
        complaint_answer_h=r.number(complaints, cwhere, "answer_h", minimum=0),
        complaint_first_handling_h=r.number(complaints, cwhere, "first_handling_h", minimum=0),
        complaint_final_working_days=r.number(
            complaints, cwhere, "final_working_days", integer=True, minimum=0
        ),
        complaint_at_risk_share=r.number(
            complaints, cwhere, "at_risk_share", default=0.25, minimum=0.0, maximum=1.0
        ),
    )


def _parse_messages(r: TomlReader, root: dict[str, Any]) -> dict[str, MessageTemplate]:
    table = r.table(root, (), "messages")
    for key in table:
        if key not in MESSAGE_PARAMS:
            r.fail(("messages", key), f"unknown rule/message id {key!r} in [messages]")
    messages: dict[str, MessageTemplate] = {}
    formatter = string.Formatter()
    for key, allowed in MESSAGE_PARAMS.items():
        where: KeyPath = ("messages", key)
        row = r.table(table, ("messages",), key)
        r.only_keys(row, where, {"zh", "en", "remedy_zh", "remedy_en"})
        texts: dict[str, str | None] = {}
        for name in ("zh", "en", "remedy_zh", "remedy_en"):
            value = r.text_value(row, where, name, default=None if name.startswith("remedy") else MISSING)
            if value is not None:
                try:
                    fields = [f for _, f, _, _ in formatter.parse(value) if f is not None]
                except ValueError as exc:
                    r.fail(where + (name,), f"messages.{key}.{name}: bad template: {exc}")
                for placeholder in fields:
                    if placeholder not in allowed:
                        r.fail(
                            where + (name,),
                            f"messages.{key}.{name} uses unknown placeholder {{{placeholder}}}; "
                            f"allowed: {', '.join(sorted(allowed))}",
                        )
            texts[name] = value
        if (texts["remedy_zh"] is None) != (texts["remedy_en"] is None):
            r.fail(where, f"messages.{key} needs both remedy_zh and remedy_en, or neither")
        messages[key] = MessageTemplate(
            key=key,
            zh=texts["zh"] or "",
            en=texts["en"] or "",
            remedy_zh=texts["remedy_zh"],
            remedy_en=texts["remedy_en"],
        )
    return messages


# Who a repeat repair's priority depends on: a residential customer or an enterprise tier.
REPEAT_FAULT_WHO: tuple[str, ...] = ("residential",) + TIERS
# What the follow-up found: the service still down, or working but the customer unsatisfied.
REPEAT_FAULT_CAUSES: tuple[str, ...] = ("service_down", "unsatisfied")


def _parse_follow_up(r: TomlReader, root: dict[str, Any]) -> dict[str, dict[str, str]]:
    """[follow_up.repeat_fault_priority.<cause>]: the priority of the repair a follow-up opens."""
    table = r.table(root, (), "follow_up")
    r.only_keys(table, ("follow_up",), {"repeat_fault_priority"})
    where: KeyPath = ("follow_up", "repeat_fault_priority")
    causes = r.table(table, ("follow_up",), "repeat_fault_priority")
    r.only_keys(causes, where, REPEAT_FAULT_CAUSES)
    priorities: dict[str, dict[str, str]] = {}
    for cause in REPEAT_FAULT_CAUSES:
        row = r.table(causes, where, cause)
        r.only_keys(row, where + (cause,), REPEAT_FAULT_WHO)
        priorities[cause] = {
            who: r.text_value(row, where + (cause,), who, choices=PRIORITIES) for who in REPEAT_FAULT_WHO
        }
    return priorities


def parse_ruleset(path: str | Path, text: str) -> RuleSet:
    """Parse and validate rule-file ``text`` read from ``path`` (uncached)."""
    path = Path(path)
    try:
        root = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError(path, decode_error_line(exc, text), f"TOML syntax error: {exc}") from exc
    r = TomlReader(path, text)
    r.only_keys(
        root, (), {"version", "intake", "products", "durations", "checklist", "sla", "follow_up", "messages"}
    )
    version = r.text_value(root, (), "version")
    if not re.fullmatch(r"\d{4}\.\d+(\.\d+)?", version):
        r.fail(("version",), f"version {version!r} must look like '2026.1'")
    return RuleSet(
        path=str(path),
        version=version,
        intake=_parse_intake(r, root),
        products=_parse_products(r, root),
        durations_min=_parse_durations(r, root),
        checklist=_parse_checklist(r, root),
        sla=_parse_sla(r, root),
        messages=_parse_messages(r, root),
        repeat_fault_priority=_parse_follow_up(r, root),
    )


# --------------------------------------------------------------------------
# Cached loading
# --------------------------------------------------------------------------
_cache: dict[str, tuple[tuple[int, int], RuleSet]] = {}
_cache_lock = threading.Lock()


def load_ruleset(path: str | Path | None = None) -> RuleSet:
    """Load, validate and cache the rule file (default: the shipped install code).

    The cache is keyed by the resolved path and the file's mtime and size, so an
    edited file is picked up on the next call. Raises RuleFileError naming the
    file and line for any problem in it.
    """
    if path is None:
        # An operator may point the service at an edited copy of the rule file.
        path = os.environ.get("STANDARDS_RULES_FILE") or DEFAULT_RULE_FILE
    resolved = Path(path).resolve()
    try:
        stat = resolved.stat()
    except OSError as exc:
        raise RuleFileError(resolved, 0, f"cannot read rule file: {exc}") from exc
    stamp = (stat.st_mtime_ns, stat.st_size)
    key = str(resolved)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
    ruleset = parse_ruleset(resolved, read_rule_text(resolved))
    with _cache_lock:
        _cache[key] = (stamp, ruleset)
    return ruleset


def clear_ruleset_cache() -> None:
    """Forget every cached rule set (tests, or after deploying a new file)."""
    with _cache_lock:
        _cache.clear()
