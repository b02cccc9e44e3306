"""Technical standards of the broadband / IPTV install and repair service.

Pure Python (no web framework, no database): the rule file loader, intake
validation, the product catalogue, on-site checklists and SLA clocks. The rule
data itself lives in versioned TOML files under ``standards/rules/``.
"""

from standards.catalog import (
    ACCESS_TYPES,
    FIELD_KINDS,
    KINDS,
    PRIORITIES,
    PRODUCTS,
    SKILLS,
    TIERS,
    expected_duration_min,
    required_skills,
)
from standards.checklists import ChecklistItem, checklist_for, override_scope, validate_closeout
from standards.findings import Finding
from standards.followups import needs_repeat_repair, repeat_fault_priority
from standards.intake import LineFacts, OrderFacts, validate_intake
from standards.rules import load_ruleset
from standards.ruleset import RuleSet
from standards.sla import (
    Deadline,
    SlaClock,
    add_working_days,
    complaint_deadlines,
    reported_fault_priority,
    response_deadline,
    restore_deadline,
    working_day_source,
)
from standards.tomlfile import RuleFileError

__all__ = [
    "ACCESS_TYPES",
    "FIELD_KINDS",
    "KINDS",
    "PRIORITIES",
    "PRODUCTS",
    "SKILLS",
    "TIERS",
    "ChecklistItem",
    "Deadline",
    "Finding",
    "LineFacts",
    "OrderFacts",
    "RuleFileError",
    "RuleSet",
    "SlaClock",
    "add_working_days",
    "checklist_for",
    "complaint_deadlines",
    "expected_duration_min",
    "load_ruleset",
    "needs_repeat_repair",
    "repeat_fault_priority",
    "override_scope",
    "required_skills",
    "reported_fault_priority",
    "response_deadline",
    "restore_deadline",
    "validate_closeout",
    "validate_intake",
    "working_day_source",
]
