"""On-site checklists (R3-R8, and R1 re-measured) and the close-out guard.

The lifecycle calls ``validate_closeout`` before it lets an order reach
"completed": any blocking finding refuses the transition, unless a named
supervisor records an override with a reason, naming the findings it covers.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from standards.codes import KINDS
from standards.findings import Finding, make_finding, render
from standards.rules import load_ruleset
from standards.ruleset import ChecklistRule, RuleSet

# Length units a technician may answer in, as millimetres (exact decimals).
_LENGTH_TO_MM: dict[str, Decimal] = {
    "mm": Decimal(1),
    "cm": Decimal(10),
    "m": Decimal(1000),
    "km": Decimal(1000000),
}


@dataclass(frozen=True)
class ChecklistItem:
    """One thing the technician must confirm, measure, agree or photograph."""

    id: str
    rule_id: str
    type: str  # "boolean" | "measurement" | "consent" | "photo"
    label_zh: str
    label_en: str
    unit: str | None
    min_value: float | None
    max_value: float | None
    required: bool
    photo_required: bool
    required_if: str | None = None  # id of a boolean item whose True answer requires this one

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form for the mobile API."""
        return asdict(self)

    def label(self, lang: str) -> str:
        """The label in ``lang`` ("zh*" for Chinese, else English)."""
        return self.label_zh if lang.lower().startswith("zh") else self.label_en


def _item(rule: ChecklistRule) -> ChecklistItem:
    return ChecklistItem(
        id=rule.id,
        rule_id=rule.rule_id,
        type=rule.type,
        label_zh=rule.label_zh,
        label_en=rule.label_en,
        unit=rule.unit,
        min_value=rule.min_value,
        max_value=rule.max_value,
        required=rule.required,
        photo_required=rule.photo_required,
        required_if=rule.required_if,
    )


def checklist_for(kind: str, product: str, rules: RuleSet | None = None) -> list[ChecklistItem]:
    """The checklist for a ``kind`` job on ``product``, in rule-file order.

    Items are filtered by kind, the product's access type (ADSL items are not
    asked on LAN), IPTV (R8 wiring and the R1 re-measurement) and segment.
    Enterprise circuits and follow-ups get an empty list. Raises ValueError
    for an unknown kind or product.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")
    ruleset = rules or load_ruleset()
    info = ruleset.product(product)
    items = []
    for rule in ruleset.checklist:
        if kind not in rule.kinds or info.segment not in rule.segments:
            continue
        if info.access is None or info.access not in rule.access:
            continue
        if rule.iptv_only and not info.iptv:
            continue
        items.append(_item(rule))
    return items


def _check_override(override: dict[str, Any] | None) -> tuple[str, str] | None:
    if override is None:
        return None
    if not isinstance(override, dict):
        raise ValueError("override must be a dict with 'by' and 'reason'")
    by, reason = override.get("by"), override.get("reason")
    if not isinstance(by, str) or not by.strip():
        raise ValueError("an override needs the supervisor's name in 'by'")
    if not isinstance(reason, str) or not reason.strip():
        raise ValueError("an override needs a 'reason'")
    covers = override.get("covers")
    if covers is not None and not (
        isinstance(covers, list) and all(isinstance(c, dict) and c.get("rule_id") for c in covers)
    ):
        raise ValueError("an override's 'covers' must be a list of findings, each with a rule_id")
    return by.strip(), reason.strip()


def override_scope(finding: dict[str, Any]) -> dict[str, Any]:
    """What an override records of one blocking finding it covers: the rule, the check
    item and the kind of gap, and the measured value the supervisor saw (e.g. R8,
    r8_power_line_distance_cm, 14 cm)."""
    params = finding.get("params") or {}
    return {
        "rule_id": finding.get("rule_id"),
        "item_id": params.get("item_id"),
        "check": finding.get("check"),
        "measured": finding.get("measured"),
        "unit": finding.get("unit"),
        "limit": finding.get("limit"),
        "op": params.get("op"),
    }


def _worse(measured: float | None, seen: float | None, op: str | None) -> bool:
    """A measurement further out of range than the one the supervisor saw."""
    if measured is None or seen is None:
        return measured != seen
    if op == "≥":  # a minimum: lower is worse
        return measured < seen
    if op == "≤":  # a maximum: higher is worse
        return measured > seen
    return measured != seen


def covering(override: dict[str, Any] | None, finding: Finding) -> dict[str, Any] | None:
    """The part of ``override`` that lifts the blocking ``finding``, or None.

    An override names the findings it covers (``covers``): the same rule, item and
    kind of gap, with a measurement no worse than the one seen, is covered; another
    rule, item or gap, or a worse measurement, needs its own override. An override
    stored before overrides were scoped (no ``covers``) covers every finding.
    """
    if override is None:
        return None
    covers = override.get("covers")
    if covers is None:
        return override
    scope = override_scope(finding.to_dict())
    for seen in covers:
        same = all(seen.get(key) == scope[key] for key in ("rule_id", "item_id", "check"))
        if same and not _worse(scope["measured"], seen.get("measured"), scope["op"]):
            return dict(seen)
    return None


def measurement_in_unit(value: object, unit: str) -> float | None:
    """Read a measurement answer and express it in ``unit``.

    Accepts a plain number (taken as ``unit``) or ``{"value": 1.5, "unit": "m"}``
    with mm/cm/m/km for length units. Returns None for anything unreadable
    (booleans, strings, NaN, an incompatible unit). Conversion uses exact
    decimals so 150 mm is exactly 15 cm at a 15 cm limit.
    """
    given_unit = unit
    if isinstance(value, dict):
        if set(value) - {"value", "unit"} or "value" not in value:
            return None
        given_unit = value.get("unit", unit)
        value = value["value"]
        if not isinstance(given_unit, str):
            return None
        given_unit = given_unit.strip().lower()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value):
        return None
    if given_unit == unit:
        return float(value)
    if given_unit not in _LENGTH_TO_MM or unit not in _LENGTH_TO_MM:
        return None
    try:
        exact = Decimal(repr(value)) * _LENGTH_TO_MM[given_unit] / _LENGTH_TO_MM[unit]
    except InvalidOperation:
        return None
    return float(exact)


def _photo_count(photos: dict[str, int], item_id: str) -> int:
    count = photos.get(item_id, 0)
    if isinstance(count, bool) or not isinstance(count, int):
        return 0
    return max(count, 0)


def validate_closeout(
    kind: str,
    product: str,
    answers: dict[str, object],
    photos: dict[str, int] | None = None,
    override: dict[str, Any] | None = None,
    rules: RuleSet | None = None,
) -> list[Finding]:
    """Every missing or failing checklist item, measurement or photo, as findings.

    ``answers`` maps item id to a bool (boolean/consent items) or a number or
    ``{"value": x, "unit": "m"}`` (measurements); ``photos`` maps item id to
    the number of photos stored. An empty list means the order may close.
    ``override={"by": name, "reason": text, "covers": [...]}`` turns the blocking
    findings it covers (:func:`covering`) into warnings that name the
    supervisor; an override without a name and a reason raises ValueError (even
    when nothing would block).
    """
    approved = _check_override(override)
    ruleset = rules or load_ruleset()
    items = checklist_for(kind, product, ruleset)
    photos = photos or {}
    findings: list[Finding] = []
    for item in items:
        findings += _check_item(item, answers, photos, ruleset)
    if approved is None:
        return findings
    by, reason = approved
    note = ruleset.message("OVERRIDE_NOTE")
    overridden = []
    for finding in findings:
        cover = covering(override, finding) if finding.severity == "block" else None
        if cover is None:
            overridden.append(finding)
            continue
        params = {
            **finding.params,
            "override_by": cover.get("by") or by,
            "override_reason": cover.get("reason") or reason,
        }
        overridden.append(
            Finding(
                rule_id=finding.rule_id,
                severity="warn",
                measured=finding.measured,
                unit=finding.unit,
                limit=finding.limit,
                params=params,
                message_zh=finding.message_zh + (render(note.zh, params) or ""),
                message_en=finding.message_en + (render(note.en, params) or ""),
                remedy_zh=finding.remedy_zh,
                remedy_en=finding.remedy_en,
                check=finding.check,
            )
        )
    return overridden


def _check_item(
    item: ChecklistItem, answers: dict[str, object], photos: dict[str, int], rules: RuleSet
) -> list[Finding]:
    base = {"item_id": item.id, "label_zh": item.label_zh, "label_en": item.label_en}
    required = item.required or (item.required_if is not None and answers.get(item.required_if) is True)
    answered = item.id in answers and answers[item.id] is not None
    value = answers.get(item.id)
    findings: list[Finding] = []

    if item.type in ("boolean", "consent"):
        if answered and not isinstance(value, bool):
            findings.append(
                make_finding(
                    rules,
                    item.rule_id,
                    "CLOSEOUT_BAD_VALUE",
                    "block",
                    {**base, "value": repr(value)},
                )
            )
        elif required and not answered:
            findings.append(make_finding(rules, item.rule_id, "CLOSEOUT_MISSING", "block", base))
        elif required and value is not True:
            findings.append(make_finding(rules, item.rule_id, "CLOSEOUT_NOT_CONFIRMED", "block", base))
    elif item.type == "measurement":
        findings += _check_measurement(item, base, value, answered, required, rules)

    # A photo is owed for a required item, or for an optional one the technician did.
    photo_owed = item.photo_required and (required or answered or item.type == "photo")
    if photo_owed:
        stored = _photo_count(photos, item.id)
        if stored < 1:
            findings.append(
                make_finding(
                    rules,
                    item.rule_id,
                    "CLOSEOUT_PHOTO_MISSING",
                    "block",
                    {**base, "photos": stored, "photos_required": 1},
                )
            )
    return findings


def _check_measurement(
    item: ChecklistItem,
    base: dict[str, Any],
    value: object,
    answered: bool,
    required: bool,
    rules: RuleSet,
) -> list[Finding]:
    unit = item.unit or ""
    if not answered:
        if required:
            return [make_finding(rules, item.rule_id, "CLOSEOUT_MISSING", "block", {**base, "unit": unit})]
        return []
    measured = measurement_in_unit(value, unit)
    if measured is None:
        shown = value if isinstance(value, (int, float, str)) else repr(value)
        return [
            make_finding(
                rules,
                item.rule_id,
                "CLOSEOUT_BAD_VALUE",
                "block",
                {**base, "value": str(shown), "unit": unit},
            )
        ]
    bounds = {"min_value": item.min_value, "max_value": item.max_value}
    # Compare as exact decimals: 14.9 must fail and 15.0 pass at a 15 cm limit.
    exact = Decimal(repr(measured))
    if item.min_value is not None and exact < Decimal(repr(item.min_value)):
        limit, op = item.min_value, "≥"
    elif item.max_value is not None and exact > Decimal(repr(item.max_value)):
        limit, op = item.max_value, "≤"
    else:
        return []
    return [
        make_finding(
            rules,
            item.rule_id,
            "CLOSEOUT_OUT_OF_RANGE",
            "block",
            {**base, **bounds, "op": op},
            measured=measured,
            unit=unit,
            limit=limit,
        )
    ]
