"""Each figure's rule as one SQL expression over a work order, so the counts and the orders
behind them (the drill-down) are the same predicate.

Times are judged at ``f.judged_at`` (the end of the range, or now if sooner): an order still
open then and past its deadline is a breach; one neither answered nor due yet is pending and
counts on neither side. Cancelled orders are left out of every clock.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Boolean, ColumnElement, Select, and_, case, exists, not_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import Grouping

from core.models import AuditEvent
from reports.filters import ReportFilter
from reports.sql import epoch_s, iso_epoch_s
from workorders.lifecycle import State
from workorders.models import FollowUp, WorkOrder

REPEAT_WINDOW = timedelta(days=30)
# The kinds a response clock and a first-time fix are measured on (complaints have their own clocks).
FIELD_KINDS = ("install", "repair")
SATISFIED_SCORE = 4  # a satisfaction of 4 or 5 (of 5) counts as satisfied

W = WorkOrder


def paused_s() -> ColumnElement:
    """Seconds the restore clock stood still for the customer.

    The pauses are a list inside the ``sla_clock`` JSON, but the clock keeps an invariant that
    needs no unnesting: resuming moves ``restore_deadline`` to ``start + budget + paused``. So
    the paused time is ``restore_deadline - start - budget_s``, two scalar JSON extractions.
    A pause still open when the order was completed has not moved the deadline and counts 0.
    """
    clock = W.sla_clock
    paused = epoch_s(W.restore_deadline) - (
        iso_epoch_s(clock["start"].as_string()) + clock["budget_s"].as_float()
    )
    return case((and_(clock.isnot(None), paused > 0), paused), else_=0.0)


def computed_response_s() -> ColumnElement:
    return epoch_s(W.responded_at) - epoch_s(W.received_at)


def computed_on_site_s() -> ColumnElement:
    return epoch_s(W.completed_at) - epoch_s(W.arrived_at)


def computed_elapsed_without_pauses_s() -> ColumnElement:
    return epoch_s(W.completed_at) - epoch_s(W.received_at) - paused_s()


# The durations below are these rules, stored on each order by the database (the trigger of
# migration a15a00000001 spells them in SQL) when the times they come from change: a report
# reads a number per order instead of parsing its datetimes. The tests check the two agree.
COMPUTED = {
    "response_s": computed_response_s,
    "on_site_s": computed_on_site_s,
    "elapsed_without_pauses_s": computed_elapsed_without_pauses_s,
}


def response_s() -> ColumnElement:
    """Received to first response."""
    return W.response_s


def on_site_s() -> ColumnElement:
    """Arrival to completion: the time the work itself took."""
    return W.on_site_s


def elapsed_without_pauses_s() -> ColumnElement:
    """Received to completed, customer-caused pauses taken out (time to restore, time to install)."""
    return W.elapsed_without_pauses_s


def not_cancelled() -> ColumnElement:
    return W.state != State.CANCELLED


def completed_by(f: ReportFilter) -> ColumnElement:
    return and_(W.completed_at.isnot(None), W.completed_at < f.judged_at)


def answered_by(f: ReportFilter) -> ColumnElement:
    return and_(W.responded_at.isnot(None), W.responded_at < f.judged_at)


def _met(done_at, deadline, judged_at) -> ColumnElement:
    return and_(done_at.isnot(None), done_at < judged_at, done_at <= deadline)


def _breached(done_at, deadline, judged_at) -> ColumnElement:
    """Past the deadline at ``judged_at`` and not done by it in time."""
    return and_(deadline.isnot(None), deadline < judged_at, or_(done_at.is_(None), done_at > deadline))


def _orders_with_event(action: str, before=None) -> Select:
    """The ids of the orders whose audit trail holds ``action`` (before ``before``, if given).

    Used as ``W.id IN (this)``: uncorrelated, so the database builds the set once per query
    (a hashed subplan on PostgreSQL, a temporary index on SQLite) instead of searching the
    trail once per order; NULL ids are left out so that ``NOT IN`` stays a plain yes or no."""
    stmt = select(AuditEvent.entity_id).where(
        AuditEvent.entity_type == "work_order",
        AuditEvent.action == action,
        AuditEvent.entity_id.isnot(None),
    )
    return stmt if before is None else stmt.where(AuditEvent.at < before)


class OrderHadEvent(ColumnElement):
    """Whether the order's audit trail holds ``action`` (before ``before``, if given), as
    ``W.id IN (_orders_with_event(...))``. An element of its own so that ``reports.facts``
    can read the same rule from the facts, which carry each such event's first time."""

    type = Boolean()
    inherit_cache = False  # holds plain attributes: statements with it are not cached

    def __init__(self, action: str, before=None) -> None:
        self.action, self.before = action, before

    def as_membership(self) -> ColumnElement:
        return W.id.in_(_orders_with_event(self.action, self.before))

    def _negate(self) -> ColumnElement:
        return not_(Grouping(self))


@compiles(OrderHadEvent)
def _order_had_event(element, compiler, **kw):
    return f"({compiler.process(element.as_membership(), **kw)})"


REVISIT = f"state:{State.NEEDS_REVISIT}"
CANCELLED = f"state:{State.CANCELLED}"


def went_to_revisit() -> ColumnElement:
    """The order was once sent back as needing another visit (its audit trail says so)."""
    return OrderHadEvent(REVISIT)


def cancelled_before(at) -> ColumnElement:
    return OrderHadEvent(CANCELLED, before=at)


def repeated_within_window(f: ReportFilter | None = None) -> ColumnElement:
    """Another repair at the same site or on the same line received within 30 days after this
    order was completed (the 30th day's last second included).

    Read from the order itself: the database keeps the flag (the triggers of migration
    a15b00000001 spell ``computed_repeated_within_window`` in SQL) whenever an order at the
    site or on the line comes, goes or changes, so a report joins no repairs to later ones."""
    return W.repeat_within_30d.is_(True)


def computed_repeated_within_window() -> ColumnElement:
    """The rule the stored flag keeps, asked of the orders themselves (the tests check they agree)."""
    later = aliased(WorkOrder)
    return and_(
        W.kind == "repair",
        W.completed_at.isnot(None),
        exists(
            select(later.id).where(
                later.id != W.id,
                later.kind == "repair",
                or_(later.site_id == W.site_id, and_(W.line_id.isnot(None), later.line_id == W.line_id)),
                later.received_at > W.completed_at,
                epoch_s(later.received_at) - epoch_s(W.completed_at) <= REPEAT_WINDOW.total_seconds(),
            )
        ),
    )


# duration name -> (which orders, the value in seconds); each reported as n, mean, median, p90
DURATIONS = ("response", "restore", "install", "on_site")


def durations(f: ReportFilter) -> dict[str, tuple[ColumnElement, ColumnElement]]:
    """Each duration's orders (all conditions ANDed) and value."""
    field = and_(W.kind.in_(FIELD_KINDS), not_cancelled())
    return {
        "response": (and_(field, answered_by(f)), response_s()),
        "restore": (and_(W.kind == "repair", not_cancelled(), completed_by(f)), elapsed_without_pauses_s()),
        "install": (and_(W.kind == "install", not_cancelled(), completed_by(f)), elapsed_without_pauses_s()),
        # Arrival to completion, beside the planner's duration (duration_min): where it is wrong.
        "on_site": (and_(field, completed_by(f), W.arrived_at.isnot(None)), on_site_s()),
    }


def order_predicates(f: ReportFilter) -> dict[str, ColumnElement]:
    """Every countable figure about orders received in the range, by name (the drill-down's
    ``figure`` parameter takes these names)."""
    at = f.judged_at
    field = and_(W.kind.in_(FIELD_KINDS), not_cancelled())
    repair = and_(W.kind == "repair", not_cancelled())
    complaint = and_(W.kind == "complaint", not_cancelled())
    completed_field = and_(field, completed_by(f))
    completed_repair = and_(repair, completed_by(f))
    final_answer = W.completed_at  # a complaint's final answer closes its handling
    return {
        "received": W.id.isnot(None),
        "completed": completed_by(f),
        "cancelled": W.state == State.CANCELLED,
        "response_met": and_(field, _met(W.responded_at, W.response_deadline, at)),
        "response_breached": and_(field, _breached(W.responded_at, W.response_deadline, at)),
        "restore_met": and_(repair, _met(W.completed_at, W.restore_deadline, at)),
        "restore_breached": and_(repair, _breached(W.completed_at, W.restore_deadline, at)),
        "completed_work": completed_field,
        "first_time_fix": and_(completed_field, ~went_to_revisit()),
        "not_first_time_fix": and_(completed_field, went_to_revisit()),
        "completed_repairs": completed_repair,
        "repeated": and_(completed_repair, repeated_within_window(f)),
        "flagged_repeat": and_(W.kind == "repair", W.is_repeat_fault.is_(True)),
        "complaints": complaint,
        "complaint_answer_met": and_(complaint, _met(W.responded_at, W.response_deadline, at)),
        "complaint_answer_breached": and_(complaint, _breached(W.responded_at, W.response_deadline, at)),
        "complaint_handling_met": and_(complaint, _met(W.handled_at, W.handling_deadline, at)),
        "complaint_handling_breached": and_(complaint, _breached(W.handled_at, W.handling_deadline, at)),
        "complaint_final_met": and_(complaint, _met(final_answer, W.restore_deadline, at)),
        "complaint_final_breached": and_(complaint, _breached(final_answer, W.restore_deadline, at)),
    }


def followup_predicates(f: ReportFilter) -> dict[str, ColumnElement]:
    """Follow-ups of the orders received in the range, judged at the range's end."""
    at = f.judged_at
    done = and_(FollowUp.state == "done", FollowUp.completed_at.isnot(None), FollowUp.completed_at < at)
    return {
        "followups": FollowUp.state != "cancelled",
        "followup_on_time": and_(done, FollowUp.completed_at <= FollowUp.due_at),
        "followup_late": and_(done, FollowUp.completed_at > FollowUp.due_at),
        "followup_overdue": and_(FollowUp.due_at < at, ~done, FollowUp.state != "cancelled"),
        "rated": and_(done, FollowUp.satisfaction.isnot(None)),
        "satisfied": and_(done, FollowUp.satisfaction >= SATISFIED_SCORE),
    }


# Backlog age buckets at the judged moment: (name, lower bound, upper bound) of the age.
AGE_BUCKETS = (
    ("under_1d", timedelta(0), timedelta(days=1)),
    ("1_to_3d", timedelta(days=1), timedelta(days=3)),
    ("3_to_7d", timedelta(days=3), timedelta(days=7)),
    ("7_to_30d", timedelta(days=7), timedelta(days=30)),
    ("over_30d", timedelta(days=30), None),
)


def open_at(at) -> ColumnElement:
    """Received before ``at`` and neither completed nor cancelled by then."""
    return and_(
        W.received_at < at,
        or_(W.completed_at.is_(None), W.completed_at >= at),
        ~cancelled_before(at),
        # a cancellation with no audit event (data from before the trail) still counts
        or_(W.state != State.CANCELLED, W.updated_at >= at),
    )


def backlog_predicates(f: ReportFilter) -> dict[str, ColumnElement]:
    """Open orders at the judged moment by age (their own received date may precede the range)."""
    at = f.judged_at
    found = {"backlog": open_at(at)}
    for name, lower, upper in AGE_BUCKETS:
        # age >= lower  <=>  received_at <= at - lower; parameters, so the index on received_at serves
        condition = [W.received_at <= at - lower]
        if upper is not None:
            condition.append(W.received_at > at - upper)
        found[f"backlog_{name}"] = and_(open_at(at), *condition)
    return found


def order_predicates_names() -> tuple[str, ...]:
    """The names ``order_predicates`` answers, without building the expressions."""
    return ORDER_FIGURES


ORDER_FIGURES = (
    "received",
    "completed",
    "cancelled",
    "response_met",
    "response_breached",
    "restore_met",
    "restore_breached",
    "completed_work",
    "first_time_fix",
    "not_first_time_fix",
    "completed_repairs",
    "repeated",
    "flagged_repeat",
    "complaints",
    "complaint_answer_met",
    "complaint_answer_breached",
    "complaint_handling_met",
    "complaint_handling_breached",
    "complaint_final_met",
    "complaint_final_breached",
)
FOLLOWUP_FIGURES = (
    "followups",
    "followup_on_time",
    "followup_late",
    "followup_overdue",
    "rated",
    "satisfied",
)
BACKLOG_FIGURES = ("backlog", *(f"backlog_{name}" for name, _lo, _hi in AGE_BUCKETS))
