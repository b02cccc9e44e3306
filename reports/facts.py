"""The report facts: one narrow row per work order, what the managers' figures read.

A year's report is an aggregate over a year of orders; read from ``work_orders`` it walks
the whole wide heap (descriptions, checklists, findings, JSON clocks) and joins every order to
its site and customer for the district and the tier. This table holds only the columns the
figures' rules (``reports.measures``, ``reports.filters``) read, under the same names, with
the site's district and the customer's tier copied in, and is kept by the database (the
triggers of migration a15c00000001) whenever an order is written, or a site's district or a
customer's tier changes. ``on_facts`` turns a rule written over the orders into the same rule
over this table, so the counts and the drill-down (which lists orders) stay one predicate.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Computed,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    and_,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import visitors
from sqlalchemy.sql.expression import ClauseElement, ColumnElement

from core.db import Base
from reports import measures
from reports.atoms import Atoms, stored_code_sql
from reports.filters import DIMENSIONS, ReportFilter, group_key
from reports.sql import PERIODS

# The order's columns copied as they are (the migration's triggers copy the same list).
ORDER_COLUMNS = (
    "id",
    "received_at",
    "kind",
    "product",
    "priority",
    "source",
    "state",
    "technician_id",
    "responded_at",
    "response_deadline",
    "arrived_at",
    "completed_at",
    "restore_deadline",
    "handled_at",
    "handling_deadline",
    "duration_min",
    "response_s",
    "on_site_s",
    "elapsed_without_pauses_s",
    "repeat_within_30d",
    "is_repeat_fault",
    "updated_at",
)
# The first time the order's audit trail holds an action (measures.OrderHadEvent): action -> column.
EVENT_COLUMNS = {measures.REVISIT: "revisit_at", measures.CANCELLED: "cancelled_at"}
# Copied from the order's site and customer: (table, column) -> the fact's column.
JOINED_COLUMNS = {("sites", "district"): "district", ("customers", "enterprise_tier"): "enterprise_tier"}
# The order's follow-up when it has exactly one (followup_count; migration a15d00000001):
# the follow-up's column -> the fact's.
FOLLOWUP_COLUMNS = {
    "state": "followup_state",
    "due_at": "followup_due_at",
    "completed_at": "followup_completed_at",
    "satisfaction": "followup_satisfaction",
}


# Every other column, in the place index, so that a district's report is an index-only scan.
PLACE_INCLUDES = [
    *(name for name in ORDER_COLUMNS if name not in {"product", "received_at"}),
    "enterprise_tier",
    "revisit_at",
    "cancelled_at",
    "followup_count",
    *FOLLOWUP_COLUMNS.values(),
    "static_code",
]


class ReportOrderFact(Base):
    """One work order as the reports see it (``id`` is the order's id)."""

    __tablename__ = "report_order_facts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(20))
    product: Mapped[str] = mapped_column(String(40))
    priority: Mapped[str] = mapped_column(String(2))
    source: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    technician_id: Mapped[int | None] = mapped_column(Integer)
    district: Mapped[str | None] = mapped_column(String(40))
    enterprise_tier: Mapped[str | None] = mapped_column(String(20))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime)
    response_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    restore_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)
    handling_deadline: Mapped[datetime | None] = mapped_column(DateTime)
    duration_min: Mapped[int | None] = mapped_column(Integer)
    response_s: Mapped[float | None] = mapped_column(Float)
    on_site_s: Mapped[float | None] = mapped_column(Float)
    elapsed_without_pauses_s: Mapped[float | None] = mapped_column(Float)
    repeat_within_30d: Mapped[bool | None] = mapped_column(Boolean)
    is_repeat_fault: Mapped[bool | None] = mapped_column(Boolean)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    revisit_at: Mapped[datetime | None] = mapped_column(DateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)
    followup_count: Mapped[int] = mapped_column(Integer, server_default="0")
    followup_state: Mapped[str | None] = mapped_column(String(12))
    followup_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    followup_completed_at: Mapped[datetime | None] = mapped_column(DateTime)
    followup_satisfaction: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        # the range every report is over; with a filter, the filter's column first
        Index("ix_report_order_facts_received_at", "received_at"),
        # a report on a district (and a product) reads this index alone (PostgreSQL: INCLUDE)
        Index(
            "ix_report_order_facts_place",
            "district",
            "product",
            "received_at",
            postgresql_include=PLACE_INCLUDES,
        ),
        # the backlog: orders still open at a moment
        Index("ix_report_order_facts_completed_at", "completed_at"),
        # the few orders with more than one follow-up, whose follow-ups a report joins
        Index(
            "ix_report_order_facts_followups_many",
            "received_at",
            postgresql_where=text("followup_count > 1"),
            sqlite_where=text("followup_count > 1"),
        ),
    )


FACTS = ReportOrderFact.__table__
_F = FACTS.c

# The comparisons of an order's own columns that the figures' rules are made of, except those
# against the moment a report judges at: answered once per write into ``static_code`` (the
# generated column of migrations a15e00000001 and a15f00000001, laid out by
# ``reports.atoms.Atoms`` in this order: changing the list means a migration), so a report
# reads them instead of asking each of a year of orders again; the tests check the column
# against the comparisons.
STORED_ATOMS = (
    _F.id.isnot(None),
    _F.completed_at.isnot(None),
    _F.state == "cancelled",
    _F.kind.in_(measures.FIELD_KINDS),
    _F.responded_at.isnot(None),
    _F.responded_at <= _F.response_deadline,
    _F.response_deadline.isnot(None),
    _F.kind == "repair",
    _F.completed_at <= _F.restore_deadline,
    _F.restore_deadline.isnot(None),
    _F.revisit_at.isnot(None),
    _F.repeat_within_30d.is_(True),
    _F.is_repeat_fault.is_(True),
    _F.kind == "complaint",
    _F.handled_at.isnot(None),
    _F.handled_at <= _F.handling_deadline,
    _F.handling_deadline.isnot(None),
    _F.kind == "install",
    _F.arrived_at.isnot(None),
    _F.followup_count == 1,
    _F.followup_state == "cancelled",
    _F.followup_state == "done",
    _F.followup_completed_at.isnot(None),
    _F.followup_completed_at <= _F.followup_due_at,
    _F.followup_satisfaction.isnot(None),
    _F.followup_satisfaction >= measures.SATISFIED_SCORE,
    # migration a15f00000001: which of the averaged values an order has (a mean's count)
    _F.response_s.isnot(None),
    _F.elapsed_without_pauses_s.isnot(None),
    _F.on_site_s.isnot(None),
    _F.duration_min.isnot(None),
)
# The generated column's expression (migration a15f00000001 writes the same text): stored on
# PostgreSQL, virtual on SQLite. A table column, read by the reports' statements only.
STATIC_CODE_SQL = f"CAST(({stored_code_sql(STORED_ATOMS)}) AS BIGINT)"
FACTS.append_column(Column("static_code", BigInteger, Computed(STATIC_CODE_SQL)))
_STORED = Atoms(STORED_ATOMS, FACTS.c.static_code)


def read_stored(expression):
    """``expression`` over the facts with the comparisons ``static_code`` answers read from it
    (``reports.atoms.Atoms.read_stored``): for a scan that asks them of every row."""
    return _STORED.read_stored(expression)


# The day, week and month an order came in (migration a15e00000001; PostgreSQL's spelling:
# SQLite's columns are virtual and unused), read by reports.sql's period grouping.
PERIOD_COLUMNS = {unit: f"received_{unit}" for unit in ("day", "week", "month")}
for _unit, _name in PERIOD_COLUMNS.items():
    FACTS.append_column(Column(_name, DateTime, Computed(f"date_trunc('{_unit}', received_at)")))


def _fact_column(element: ClauseElement) -> ClauseElement | None:
    if isinstance(element, measures.OrderHadEvent):
        first = FACTS.c[EVENT_COLUMNS[element.action]]
        if element.before is None:
            return first.isnot(None)
        # never NULL (false where there is no such event), so that NOT of it stays a yes or no
        return and_(first.isnot(None), first < element.before)
    table = getattr(element, "table", None)
    name = getattr(element, "name", None)
    if not isinstance(element, Column) or table is None or getattr(table, "name", None) is None:
        return None
    if table.name == "work_orders":
        if name not in ORDER_COLUMNS:
            raise ValueError(f"work_orders.{name} is not among the report facts")
        return FACTS.c[name]
    if table.name in {t for t, _c in JOINED_COLUMNS}:
        fact = JOINED_COLUMNS.get((table.name, name))
        if fact is None:
            raise ValueError(f"{table.name}.{name} is not among the report facts")
        return FACTS.c[fact]
    return None


def on_facts(expression):
    """``expression`` (a rule over work orders, their site and customer) over the report facts
    instead: the same rule, one narrow table, no joins. ValueError names a column the facts
    lack (add it to the table and the migration's triggers)."""
    if hasattr(expression, "__clause_element__"):  # a mapped attribute (Site.district)
        expression = expression.__clause_element__()
    return visitors.replacement_traverse(expression, {}, _fact_column)


def _followup_fact_column(element: ClauseElement) -> ClauseElement | None:
    table = getattr(element, "table", None)
    if not isinstance(element, Column) or getattr(table, "name", None) != "follow_ups":
        return None
    fact = FOLLOWUP_COLUMNS.get(element.name)
    if fact is None:
        raise ValueError(f"follow_ups.{element.name} is not among the report facts")
    return FACTS.c[fact]


def on_single_followup(expression):
    """A rule over an order's follow-up (``reports.measures.followup_predicates``) read from the
    facts of the orders that have exactly one: the follow-up columns copied there. Orders with
    more (``followup_count > 1``) answer it through a join (``reports.figures``)."""
    on_facts_row = visitors.replacement_traverse(expression, {}, _followup_fact_column)
    return and_(FACTS.c.followup_count == 1, on_facts_row)


def _duration_index(
    name: str, which: ColumnElement, value: ColumnElement
) -> tuple[str, str, list[str], list[str]]:
    """The index a duration's percentiles read (its name, the WHERE text of its orders' fixed
    conditions, its key, the columns it includes): the orders of the duration in value order,
    each with what else the percentile query asks of it (its range, its group by any dimension
    or period, the conditions against the report's moment): an index-only scan that hands every
    group's values to the percentile already sorted (``reports.sql.percentiles_in_value_order``)."""
    stored, live = _STORED.stored_and_live(which)
    where = str(and_(*stored).compile(compile_kwargs={"literal_binds": True})).replace(f"{FACTS.name}.", "")
    key = [c.name for c in visitors.iterate(value) if isinstance(c, Column)]
    asked = [c.name for part in live for c in visitors.iterate(part) if isinstance(c, Column)]
    include = ["received_at", "received_month", "received_week", "received_day", *_dimension_columns()]
    include += [column for column in dict.fromkeys(asked) if column not in include and column not in key]
    return f"ix_report_order_facts_{name}", where, key, include


def _dimension_columns() -> list[str]:
    """The facts' columns a report groups on, other than the periods (received_at's)."""
    found = []
    for dimension in DIMENSIONS:
        if dimension not in PERIODS:
            key = on_facts(group_key(ReportFilter(date(2000, 1, 1), date(2000, 1, 2), group_by=dimension)))
            found.append(key.name)
    return found


# duration name -> its index (migration a15h00000001 makes the same); the figures read a
# duration alone from it when the report is over every order (reports.figures)
DURATION_INDEXES = {
    name: _duration_index(name, on_facts(which), on_facts(value))
    for name, (which, value) in measures.durations(ReportFilter(date(2000, 1, 1), date(2000, 1, 2))).items()
}
for _index_name, _where, _key, _include in DURATION_INDEXES.values():
    Index(
        _index_name,
        *(FACTS.c[column] for column in _key),
        postgresql_include=_include,
        postgresql_where=text(_where),
        sqlite_where=text(_where),
    )
