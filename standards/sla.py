"""Response and restore time limits, working days, and the pausable SLA clock.

All datetimes in and out are naive local city time (Asia/Shanghai wall clock).
Clock-hour limits are plain wall-clock arithmetic (enterprise customers are
served 24 x 7); working-day limits follow the official calendar in
``standards.workdays`` and report which calendar source they used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from standards.codes import CUSTOMER_KINDS, PRIORITIES, TIERS
from standards.rules import load_ruleset
from standards.ruleset import RuleSet
from standards.workdays import (
    SOURCE_CLOCK_HOURS,
    SOURCE_HOLIDAYS_FALLBACK,
    SOURCE_OPERATOR_FILE,
    Deadline,
    WorkCalendar,
    default_calendar,
    require_naive,
)

__all__ = [
    "PAUSE_REASONS",
    "SOURCE_CLOCK_HOURS",
    "SOURCE_HOLIDAYS_FALLBACK",
    "SOURCE_OPERATOR_FILE",
    "Deadline",
    "SlaClock",
    "SlaPause",
    "WorkCalendar",
    "add_working_days",
    "complaint_deadlines",
    "response_deadline",
    "restore_deadline",
    "working_day_source",
]

# An enterprise customer nobody has graded yet is an ordinary one.
DEFAULT_ENTERPRISE_TIER = "local_c"

# Only customer-caused waiting stops the clock; our own delays never do.
PAUSE_REASONS: tuple[str, ...] = (
    "customer_absent",
    "site_inaccessible",
    "customer_requested_delay",
)


def _check_priority(priority: str) -> None:
    if priority not in PRIORITIES:
        raise ValueError(f"unknown priority {priority!r}; known: {', '.join(PRIORITIES)}")


def _calendar(calendar: WorkCalendar | str | Path | None) -> WorkCalendar:
    if calendar is None:
        return default_calendar()
    if isinstance(calendar, WorkCalendar):
        return calendar
    return WorkCalendar(calendar)


def add_working_days(
    start: datetime, days: int, calendar: WorkCalendar | str | Path | None = None
) -> Deadline:
    """``days`` mainland-China working days after ``start``.

    ``calendar`` may be a WorkCalendar or the path of an operator overrides
    file (default: ``standards/rules/calendar_overrides.toml``). Never raises
    because a calendar source does not know a year; ``Deadline.source`` says
    whether the official package, the operator file or the fallback was used.
    """
    return _calendar(calendar).add_working_days(start, days)


def working_day_source(d: date, calendar: WorkCalendar | str | Path | None = None) -> str:
    """Which calendar source decides whether ``d`` is a working day."""
    return _calendar(calendar).source(d)


def is_working_day(d: date, calendar: WorkCalendar | str | Path | None = None) -> bool:
    """True if ``d`` is a working day (official calendar, else the fallbacks)."""
    return _calendar(calendar).is_working_day(d)


# (default) The priority of a fault a customer reports themself, by who they
# are and whether their service is down (seed 001: P1 is "service down, data
# loss, major fault"; enterprise customers are served 24 x 7). A customer's
# own word on priority is not taken: it would set the clock.
REPORTED_FAULT_PRIORITY = {
    # (customer kind or enterprise tier, service down) -> priority
    ("group", True): "P1",
    ("provincial", True): "P1",
    ("local_a", True): "P1",
    ("local_b", True): "P2",
    ("local_c", True): "P2",
    ("residential", True): "P2",
}


def reported_fault_priority(customer_kind: str, tier: str | None, service_down: bool) -> str:
    """The priority of a fault reported by the customer: P1 only for a service
    down at a group, provincial or local A enterprise; P2 for other services
    down; P3 otherwise."""
    if customer_kind not in CUSTOMER_KINDS:
        raise ValueError(f"unknown customer kind {customer_kind!r}; known: {', '.join(CUSTOMER_KINDS)}")
    who = "residential" if customer_kind == "residential" else (tier or "local_c")
    return REPORTED_FAULT_PRIORITY.get((who, service_down), "P3")


def response_deadline(created_at: datetime, priority: str, rules: RuleSet | None = None) -> Deadline:
    """When the order must be responded to: P1 15 min, P2 1 h, P3 2 h (wall clock)."""
    require_naive("created_at", created_at)
    _check_priority(priority)
    minutes = (rules or load_ruleset()).sla.response_min[priority]
    return Deadline(at=created_at + timedelta(minutes=minutes), source=SOURCE_CLOCK_HOURS)


def restore_deadline(
    created_at: datetime,
    customer_kind: str,
    tier: str | None,
    product: str,
    priority: str,
    rules: RuleSet | None = None,
    calendar: WorkCalendar | str | Path | None = None,
) -> Deadline:
    """When service must be restored.

    Enterprise: the product row of the rule file if there is one (e.g.
    logistics_e: 3 working days), else the tier row in clock hours (24 x 7).
    Residential: by priority, clock hours (defaults). An enterprise customer
    with no tier on record is treated as local_c (ordinary, 普通聚类客户);
    intake flags the missing tier. Raises ValueError for an unknown customer
    kind, product, priority or tier.
    """
    require_naive("created_at", created_at)
    if customer_kind not in CUSTOMER_KINDS:
        raise ValueError(f"unknown customer kind {customer_kind!r}; known: {', '.join(CUSTOMER_KINDS)}")
    _check_priority(priority)
    ruleset = rules or load_ruleset()
    ruleset.product(product)  # validates the code
    sla = ruleset.sla
    if customer_kind == "residential":
        hours = sla.residential_restore_h[priority]
        return Deadline(at=created_at + timedelta(hours=hours), source=SOURCE_CLOCK_HOURS)
    if tier is None:
        tier = DEFAULT_ENTERPRISE_TIER
    if tier not in TIERS:
        raise ValueError(f"enterprise restore deadline needs a tier in {', '.join(TIERS)}, got {tier!r}")
    row = sla.enterprise_product_restore.get(product)
    if row is not None and row.working_days is not None:
        return add_working_days(created_at, row.working_days, calendar)
    hours = row.hours if row is not None and row.hours is not None else sla.enterprise_restore_h[tier]
    return Deadline(at=created_at + timedelta(hours=hours), source=SOURCE_CLOCK_HOURS)


def complaint_deadlines(
    received_at: datetime,
    rules: RuleSet | None = None,
    calendar: WorkCalendar | str | Path | None = None,
) -> dict[str, Deadline]:
    """Complaint limits: ``answer`` 24 h, ``first_handling`` 72 h, ``final`` 3 working days."""
    require_naive("received_at", received_at)
    sla = (rules or load_ruleset()).sla
    return {
        "answer": Deadline(received_at + timedelta(hours=sla.complaint_answer_h), SOURCE_CLOCK_HOURS),
        "first_handling": Deadline(
            received_at + timedelta(hours=sla.complaint_first_handling_h), SOURCE_CLOCK_HOURS
        ),
        "final": add_working_days(received_at, sla.complaint_final_working_days, calendar),
    }


# --------------------------------------------------------------------------
# The pausable clock
# --------------------------------------------------------------------------
@dataclass
class SlaPause:
    """One customer-caused stop of the clock; ``end`` is None while it lasts."""

    start: datetime
    reason: str
    end: datetime | None = None

    def duration(self, at: datetime | None = None) -> timedelta:
        """How long the clock stood still (up to ``at`` for an open pause)."""
        end = self.end if self.end is not None else (at if at is not None else self.start)
        return max(end - self.start, timedelta(0))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "start": self.start.isoformat(),
            "reason": self.reason,
            "end": self.end.isoformat() if self.end is not None else None,
        }


@dataclass
class SlaClock:
    """A time budget that stops while the customer holds things up.

    ``deadline()`` is ``start + budget`` plus all paused time. Working-day
    budgets are converted to a wall-clock budget when the clock is created
    from a Deadline, and pauses extend it in wall-clock time.
    """

    start: datetime
    budget: timedelta
    pauses: list[SlaPause] = field(default_factory=list)
    source: str = SOURCE_CLOCK_HOURS

    def __post_init__(self) -> None:
        require_naive("start", self.start)
        if isinstance(self.budget, Deadline):
            deadline = self.budget
            require_naive("deadline", deadline.at)
            self.budget = deadline.at - self.start
            self.source = deadline.source
        if not isinstance(self.budget, timedelta):
            raise TypeError(f"budget must be a timedelta or a Deadline, got {type(self.budget).__name__}")
        if self.budget < timedelta(0):
            raise ValueError(f"budget must not be negative, got {self.budget}")

    @classmethod
    def from_deadline(cls, start: datetime, deadline: Deadline) -> SlaClock:
        """A clock running from ``start`` to ``deadline`` (keeps its source)."""
        require_naive("deadline", deadline.at)
        return cls(start=start, budget=deadline.at - start, source=deadline.source)

    @property
    def is_paused(self) -> bool:
        """True while a pause is open."""
        return bool(self.pauses) and self.pauses[-1].end is None

    def pause(self, at: datetime, reason: str) -> None:
        """Stop the clock at ``at`` for a customer-caused ``reason``.

        Raises ValueError if already paused, for an unknown reason, or if
        ``at`` is before the start or before the last resume.
        """
        require_naive("at", at)
        if reason not in PAUSE_REASONS:
            raise ValueError(
                f"pause reason {reason!r} is not customer-caused; allowed: {', '.join(PAUSE_REASONS)}"
            )
        if self.is_paused:
            raise ValueError(f"the clock is already paused since {self.pauses[-1].start}")
        if at < self.start:
            raise ValueError(f"cannot pause at {at}, before the clock started at {self.start}")
        if self.pauses and self.pauses[-1].end is not None and at < self.pauses[-1].end:
            raise ValueError(f"cannot pause at {at}, before the last resume at {self.pauses[-1].end}")
        self.pauses.append(SlaPause(start=at, reason=reason))

    def resume(self, at: datetime) -> None:
        """Restart the clock at ``at``. Raises ValueError if it is running."""
        require_naive("at", at)
        if not self.is_paused:
            raise ValueError("the clock is running; there is nothing to resume")
        current = self.pauses[-1]
        if at < current.start:
            raise ValueError(f"cannot resume at {at}, before the pause started at {current.start}")
        current.end = at

    def paused_total(self, at: datetime | None = None) -> timedelta:
        """All paused time; an open pause counts up to ``at`` (or not at all)."""
        return sum((p.duration(at) for p in self.pauses), timedelta(0))

    def deadline(self, at: datetime | None = None) -> datetime:
        """The due time, extended by paused time.

        While paused the deadline moves with time: pass ``at`` to get it as of
        that moment; without ``at`` the open pause counts as zero so far.
        """
        if at is not None:
            require_naive("at", at)
        return self.start + self.budget + self.paused_total(at)

    def remaining(self, at: datetime) -> timedelta:
        """Time left at ``at`` (negative once breached; frozen while paused)."""
        return self.deadline(at) - at

    def is_breached(self, at: datetime) -> bool:
        """True if ``at`` is after the (pause-extended) deadline."""
        return self.remaining(at) < timedelta(0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form for storing on the order."""
        return {
            "start": self.start.isoformat(),
            "budget_s": self.budget.total_seconds(),
            "source": self.source,
            "pauses": [p.to_dict() for p in self.pauses],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlaClock:
        """Rebuild a clock stored with ``to_dict``; ValueError on bad data."""
        try:
            clock = cls(
                start=datetime.fromisoformat(data["start"]),
                budget=timedelta(seconds=float(data["budget_s"])),
                source=str(data.get("source", SOURCE_CLOCK_HOURS)),
            )
            for raw in data.get("pauses", []):
                clock.pause(datetime.fromisoformat(raw["start"]), raw["reason"])
                if raw.get("end") is not None:
                    clock.resume(datetime.fromisoformat(raw["end"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a stored SlaClock: {exc!r}") from exc
        return clock
