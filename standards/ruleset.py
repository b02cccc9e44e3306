"""The rule set as the rest of ``standards`` reads it: plain frozen dataclasses.

:mod:`standards.rules` builds a :class:`RuleSet` from the rule file and checks
it; everything here is already validated.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from standards.codes import PRODUCTS, Severity


@dataclass(frozen=True)
class ProductRule:
    """One product of the catalogue."""

    code: str
    segment: str  # "residential" | "enterprise"
    access: str | None  # "adsl" | "lan" | None (circuits, applications)
    iptv: bool
    skills: frozenset[str]
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class IntakeRules:
    """Thresholds for order intake (R1, R2, window, coordinates)."""

    iptv_adsl_max_route_m: float
    lan_switch_occupancy_limit_pct: float
    unknown_route_length_severity: Severity
    unknown_switch_occupancy_severity: Severity
    residential_start: time
    residential_end: time
    enterprise_24x7: bool
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float


@dataclass(frozen=True)
class ChecklistRule:
    """A checklist item definition with the filters that decide where it applies."""

    id: str
    rule_id: str
    type: str
    label_zh: str
    label_en: str
    unit: str | None
    min_value: float | None
    max_value: float | None
    required: bool
    photo_required: bool
    required_if: str | None
    kinds: frozenset[str]
    access: frozenset[str]
    iptv_only: bool
    segments: frozenset[str]


@dataclass(frozen=True)
class ProductRestore:
    """An enterprise product row that wins over the tier row."""

    hours: float | None
    working_days: int | None


@dataclass(frozen=True)
class SlaRules:
    """Response, restore and complaint time limits."""

    response_min: dict[str, int]
    residential_restore_h: dict[str, float]
    enterprise_restore_h: dict[str, float]
    enterprise_product_restore: dict[str, ProductRestore]
    complaint_answer_h: float
    complaint_first_handling_h: float
    complaint_final_working_days: int
    # A complaint clock with less than this share of its time left is at risk (escalated).
    complaint_at_risk_share: float = 0.25


@dataclass(frozen=True)
class MessageTemplate:
    """Bilingual message and remedy templates for one message id."""

    key: str
    zh: str
    en: str
    remedy_zh: str | None
    remedy_en: str | None


@dataclass(frozen=True)
class RuleSet:
    """Everything in one rule file, validated."""

    path: str
    version: str
    intake: IntakeRules
    products: dict[str, ProductRule]
    durations_min: dict[str, dict[str, int]]
    checklist: tuple[ChecklistRule, ...]
    sla: SlaRules
    messages: dict[str, MessageTemplate] = field(repr=False)
    # cause (service_down | unsatisfied) -> residential or tier -> priority of a repeat repair
    repeat_fault_priority: dict[str, dict[str, str]] = field(default_factory=dict)

    def product(self, code: str) -> ProductRule:
        """Return the catalogue entry for ``code``; ValueError if unknown."""
        try:
            return self.products[code]
        except KeyError:
            raise ValueError(f"unknown product {code!r}; known: {', '.join(PRODUCTS)}") from None

    def message(self, key: str) -> MessageTemplate:
        """Return the templates for message id ``key``."""
        return self.messages[key]
