"""Follow-ups (回访): what a result that shows the earlier job did not hold leads to."""

from __future__ import annotations

from standards.codes import CUSTOMER_KINDS
from standards.rules import load_ruleset
from standards.ruleset import RuleSet

# A satisfaction score at or below this opens a repeat repair (scores run 1 to 5).
UNSATISFIED_MAX_SCORE = 2
SATISFACTION_SCORES = (1, 2, 3, 4, 5)


def needs_repeat_repair(service_working: bool | None, satisfaction: int | None) -> bool:
    """True when a follow-up finds the service not working or the customer unsatisfied (score <= 2)."""
    return service_working is False or (satisfaction is not None and satisfaction <= UNSATISFIED_MAX_SCORE)


def repeat_fault_priority(
    customer_kind: str, tier: str | None, service_working: bool | None, rules: RuleSet | None = None
) -> str:
    """The priority of the repeat repair a follow-up opens, from the rule file's
    [follow_up.repeat_fault_priority]: by residential customer or enterprise tier (an
    enterprise with no tier counts as local_c), and by whether the service is still down."""
    if customer_kind not in CUSTOMER_KINDS:
        raise ValueError(f"unknown customer kind {customer_kind!r}; known: {', '.join(CUSTOMER_KINDS)}")
    who = "residential" if customer_kind == "residential" else (tier or "local_c")
    cause = "service_down" if service_working is False else "unsatisfied"
    return (rules or load_ruleset()).repeat_fault_priority[cause][who]
