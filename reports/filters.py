"""What a report is over: a date range of city dates, one grouping and the filters, and the
rows they select (work orders joined to their site and customer)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, literal_column, select
from sqlalchemy.sql import Select

from reports.sql import PERIODS, grouping_of, period_start
from technicians.models import Technician
from workorders.models import Customer, Site, WorkOrder

# group_by -> the column it groups on (periods are computed from received_at)
DIMENSIONS = ("district", "product", "kind", "priority", "tier", "channel", "technician", *PERIODS)


@dataclass(frozen=True)
class ReportFilter:
    """Orders received in [date_from, date_to) (city dates, ``date_to`` exclusive), grouped by
    ``group_by`` (None: one row for everything), narrowed by the optional filters."""

    date_from: date
    date_to: date
    group_by: str | None = None
    district: str | None = None
    product: str | None = None
    kind: str | None = None
    priority: str | None = None
    tier: str | None = None
    channel: str | None = None
    technician_id: int | None = None
    # The moment open orders are judged at ("overdue", "backlog"): the range's end, or now if sooner.
    as_of: datetime | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.group_by is not None and self.group_by not in DIMENSIONS:
            raise ValueError(f"unknown group_by {self.group_by!r}")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.date_to, time.min)

    @property
    def judged_at(self) -> datetime:
        """Open orders are judged at the end of the range, or at ``as_of`` if that is sooner."""
        return min(self.end, self.as_of) if self.as_of is not None else self.end

    def days(self) -> int:
        return (self.date_to - self.date_from) // timedelta(days=1)


ALL = "all"  # the one group's key when the report is not grouped


def group_key(f: ReportFilter) -> ColumnElement | None:
    """The grouping expression (None when the report is not grouped)."""
    if f.group_by is None:
        return None
    if f.group_by in PERIODS:
        return period_start(f.group_by, WorkOrder.received_at)
    return {
        "district": Site.district,
        "product": WorkOrder.product,
        "kind": WorkOrder.kind,
        "priority": WorkOrder.priority,
        "tier": Customer.enterprise_tier,
        "channel": WorkOrder.source,
        "technician": WorkOrder.technician_id,
    }[f.group_by]


def grouped(stmt: Select, key: ColumnElement | None) -> Select:
    """``stmt`` grouped by ``key`` (the key selected first as ``g``), or over everything as one
    group named ALL (PostgreSQL refuses a constant in GROUP BY, so there is none then)."""
    if key is None:
        return stmt.add_columns(literal_column(f"'{ALL}'").label("g"))
    return stmt.add_columns(key.label("g")).group_by(grouping_of(key))


def joined(f: ReportFilter | None = None):
    """Orders with their site and customer (every dimension and filter is on one of them);
    given the filter, only the joins it needs (a join per order is most of a report's cost)."""
    source = WorkOrder.__table__
    if f is None or f.group_by == "district" or f.district is not None:
        source = source.join(Site.__table__, Site.id == WorkOrder.site_id)
    if f is None or f.group_by == "tier" or f.tier is not None:
        source = source.join(Customer.__table__, Customer.id == WorkOrder.customer_id)
    return source


def narrowing(f: ReportFilter) -> list[ColumnElement]:
    """The filters other than the date range."""
    conditions: list[ColumnElement] = []
    for value, column in (
        (f.district, Site.district),
        (f.product, WorkOrder.product),
        (f.kind, WorkOrder.kind),
        (f.priority, WorkOrder.priority),
        (f.tier, Customer.enterprise_tier),
        (f.channel, WorkOrder.source),
        (f.technician_id, WorkOrder.technician_id),
    ):
        if value is not None:
            conditions.append(column == value)
    return conditions


def received_in_range(f: ReportFilter) -> list[ColumnElement]:
    """Orders received in the range, narrowed by the filters."""
    return [WorkOrder.received_at >= f.start, WorkOrder.received_at < f.end, *narrowing(f)]


def group_labels(session, f: ReportFilter, keys) -> dict:
    """Readable names for group keys where the key is an id (technicians)."""
    if f.group_by != "technician":
        return {}
    ids = [k for k in keys if k is not None]
    if not ids:
        return {}
    rows = session.execute(select(Technician.id, Technician.name).where(Technician.id.in_(ids)))
    return dict(rows.all())


def base_select(f: ReportFilter, *columns) -> Select:
    return select(*columns).select_from(joined(f))
