"""The orders behind a figure (the drill-down): the same filters and the same predicate as the
count, so a list is exactly as long as the number it was opened from."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from reports import measures
from reports.filters import ALL, ReportFilter, group_key, joined, narrowing, received_in_range
from workorders.models import Customer, FollowUp, Site, WorkOrder

W = WorkOrder

# The figures one can open, by population.
ORDER_FIGURES = measures.ORDER_FIGURES
FOLLOWUP_FIGURES = measures.FOLLOWUP_FIGURES
BACKLOG_FIGURES = measures.BACKLOG_FIGURES
FIGURES = (*ORDER_FIGURES, *FOLLOWUP_FIGURES, *BACKLOG_FIGURES)
# The ``group`` naming the row of orders with no value for the dimension (no technician, no tier).
NULL_GROUP = "(none)"

COLUMNS = (
    "id",
    "code",
    "kind",
    "product",
    "priority",
    "channel",
    "state",
    "district",
    "tier",
    "technician_id",
    "is_repeat_fault",
    "received_at",
    "responded_at",
    "completed_at",
    "response_deadline",
    "restore_deadline",
)


def _selected() -> list[ColumnElement]:
    return [
        W.id,
        W.code,
        W.kind,
        W.product,
        W.priority,
        W.source.label("channel"),
        W.state,
        Site.district,
        Customer.enterprise_tier.label("tier"),
        W.technician_id,
        W.is_repeat_fault,
        W.received_at,
        W.responded_at,
        W.completed_at,
        W.response_deadline,
        W.restore_deadline,
    ]


def orders_statement(f: ReportFilter, figure: str, group: str | None = None) -> Select:
    """The orders counted in ``figure``, oldest received first; when the filter is grouped and
    ``group`` is given, only that row's (NULL_GROUP: the row with no value). ValueError for an
    unknown figure."""
    if figure not in FIGURES:
        raise ValueError(f"unknown figure {figure!r}")
    source = joined()
    if figure in BACKLOG_FIGURES:
        where = [measures.backlog_predicates(f)[figure], *narrowing(f)]
    elif figure in FOLLOWUP_FIGURES:
        # an order appears once even if it had several follow-ups in the figure
        followed = select(FollowUp.order_id).where(measures.followup_predicates(f)[figure])
        where = [*received_in_range(f), W.id.in_(followed)]
    else:
        where = [*received_in_range(f), measures.order_predicates(f)[figure]]
    key = group_key(f)
    if key is not None and group is not None and group != ALL:
        where.append(key.is_(None) if group == NULL_GROUP else _key_matches(f, key, group))
    return select(*_selected()).select_from(source).where(and_(*where)).order_by(W.received_at, W.id)


def _key_matches(f: ReportFilter, key: ColumnElement, group: str) -> ColumnElement:
    if f.group_by == "technician":
        return key == int(group) if group.isdigit() else key.is_(None)
    return key == group


def count_orders(session: Session, f: ReportFilter, figure: str, group: str | None = None) -> int:
    """How many orders the drill-down lists."""
    inner = orders_statement(f, figure, group).order_by(None).subquery()
    return int(session.scalar(select(func.count()).select_from(inner)) or 0)


def list_orders(
    session: Session,
    f: ReportFilter,
    figure: str,
    group: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """One page of the orders behind a figure, as plain dicts (COLUMNS)."""
    stmt = orders_statement(f, figure, group).limit(limit).offset(offset)
    return [dict(row._mapping) for row in session.execute(stmt)]


def stream_orders(
    session: Session, f: ReportFilter, figure: str, group: str | None = None, batch: int = 2000
) -> Iterator[tuple]:
    """Every order behind a figure as tuples in COLUMNS order, fetched ``batch`` rows at a time
    (server-side cursor on PostgreSQL), for the exports."""
    stmt = orders_statement(f, figure, group).execution_options(yield_per=batch)
    for row in session.execute(stmt):
        yield tuple(row)
