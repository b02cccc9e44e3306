"""Findings: what a check found, in both languages, ready for the UI or the API."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from standards.codes import Severity
from standards.ruleset import RuleSet

__all__ = [
    "Finding",
    "Severity",
    "downgrade",
    "format_number",
    "has_blocking",
    "make_finding",
    "render",
]


@dataclass(frozen=True)
class Finding:
    """One problem found by intake or close-out validation.

    ``rule_id`` names the technical rule (R1..R8) or order check (ORDER_*);
    ``check`` names the message template used, which is finer grained
    (e.g. R1 vs R1_UNKNOWN). A "block" finding stops the order; "warn" does not.
    """

    rule_id: str
    severity: Severity
    measured: float | None
    unit: str | None
    limit: float | None
    params: dict[str, Any]
    message_zh: str
    message_en: str
    remedy_zh: str | None
    remedy_en: str | None
    check: str = field(default="")

    @property
    def blocking(self) -> bool:
        """True when this finding stops the order."""
        return self.severity == "block"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable representation (all values are plain types)."""
        return {
            "rule_id": self.rule_id,
            "check": self.check,
            "severity": self.severity,
            "measured": self.measured,
            "unit": self.unit,
            "limit": self.limit,
            "params": dict(self.params),
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "remedy_zh": self.remedy_zh,
            "remedy_en": self.remedy_en,
        }

    def message(self, lang: str) -> str:
        """The message in ``lang`` ("zh", "zh-CN", "zh_Hans" ... else English)."""
        return self.message_zh if _is_chinese(lang) else self.message_en

    def remedy(self, lang: str) -> str | None:
        """The suggested remedy in ``lang``, or None when there is none."""
        return self.remedy_zh if _is_chinese(lang) else self.remedy_en


def _is_chinese(lang: str) -> bool:
    return lang.strip().lower().replace("_", "-").startswith("zh")


def format_number(value: float) -> str:
    """Render a number for a message: no trailing zeros, no exponent."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return str(value)
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


class _Param:
    """Wraps a param so ``{x}`` renders numbers nicely and ``{x:.1f}`` still works."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __format__(self, spec: str) -> str:
        if spec:
            return format(self.value, spec)
        if isinstance(self.value, (int, float)) and not isinstance(self.value, bool):
            return format_number(self.value)
        if self.value is None:
            return "-"
        if isinstance(self.value, (list, tuple)):
            return ", ".join(str(v) for v in self.value)
        return str(self.value)


class _Params(dict[str, Any]):
    def __missing__(self, key: str) -> _Param:
        return _Param(f"{{{key}}}")

    def __getitem__(self, key: str) -> _Param:
        if key in self.keys():
            return _Param(dict.__getitem__(self, key))
        return self.__missing__(key)


def render(template: str | None, params: dict[str, Any]) -> str | None:
    """Fill a message template with params; unknown placeholders stay visible."""
    if template is None:
        return None
    return template.format_map(_Params(params))


def make_finding(
    rules: RuleSet,
    rule_id: str,
    check: str,
    severity: Severity,
    params: dict[str, Any],
    *,
    measured: float | None = None,
    unit: str | None = None,
    limit: float | None = None,
) -> Finding:
    """Build a Finding whose texts come from the rule file's ``[messages.<check>]``."""
    template = rules.message(check)
    params = dict(params)
    if measured is not None:
        params.setdefault("measured", measured)
    if limit is not None:
        params.setdefault("limit", limit)
    if unit is not None:
        params.setdefault("unit", unit)
    return Finding(
        rule_id=rule_id,
        severity=severity,
        measured=measured,
        unit=unit,
        limit=limit,
        params=params,
        message_zh=render(template.zh, params) or "",
        message_en=render(template.en, params) or "",
        remedy_zh=render(template.remedy_zh, params),
        remedy_en=render(template.remedy_en, params),
        check=check,
    )


def downgrade(finding: Finding, severity: Severity = "warn") -> Finding:
    """Return ``finding`` with another severity (e.g. R1 on a repair order)."""
    return replace(finding, severity=severity)


def has_blocking(findings: list[Finding]) -> bool:
    """True if any finding blocks."""
    return any(f.severity == "block" for f in findings)
