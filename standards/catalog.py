"""Product catalogue: codes, skills a job needs and how long it takes on site."""

from __future__ import annotations

from standards.codes import (
    ACCESS_TYPES,
    CUSTOMER_KINDS,
    ENTERPRISE_APPS,
    ENTERPRISE_CIRCUITS,
    FIELD_KINDS,
    KINDS,
    PRIORITIES,
    PRODUCTS,
    RESIDENTIAL_PRODUCTS,
    SKILLS,
    TIERS,
)
from standards.rules import load_ruleset
from standards.ruleset import ProductRule, RuleSet

__all__ = [
    "ACCESS_TYPES",
    "CUSTOMER_KINDS",
    "ENTERPRISE_APPS",
    "ENTERPRISE_CIRCUITS",
    "FIELD_KINDS",
    "KINDS",
    "PRIORITIES",
    "PRODUCTS",
    "RESIDENTIAL_PRODUCTS",
    "SKILLS",
    "TIERS",
    "expected_duration_min",
    "product_info",
    "required_skills",
]


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")


def product_info(product: str, rules: RuleSet | None = None) -> ProductRule:
    """Catalogue entry (segment, access type, IPTV flag, names) for ``product``."""
    return (rules or load_ruleset()).product(product)


def required_skills(kind: str, product: str, rules: RuleSet | None = None) -> frozenset[str]:
    """Skills a technician needs for a ``kind`` job on ``product``.

    The skills table is per product and the same for every kind: a follow-up
    visit checks the same service the install or repair delivered. A complaint
    is nobody's field job: it needs no skill. Raises ValueError for an unknown
    kind or product.
    """
    _check_kind(kind)
    skills = (rules or load_ruleset()).product(product).skills
    return skills if kind in FIELD_KINDS else frozenset()


def expected_duration_min(kind: str, product: str, rules: RuleSet | None = None) -> int:
    """Expected time on site in minutes, from the rule file's durations table.

    Uses the product row of the kind's table, else the kind's default; a
    complaint has no time on site (0). Raises ValueError for an unknown kind or
    product.
    """
    _check_kind(kind)
    ruleset = rules or load_ruleset()
    ruleset.product(product)  # validates the code
    if kind not in FIELD_KINDS:
        return 0
    table = ruleset.durations_min[kind]
    return table.get(product, table["default"])
