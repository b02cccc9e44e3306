"""A report's queries side by side (reports.sql.SideBySide): on PostgreSQL on connections of
their own that read the report's snapshot; with unwritten changes, or on SQLite, in the
report's own session. Either way the figures are the ones its session sees."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, update

from reports import figures
from reports.facts import FACTS
from reports.filters import ReportFilter
from reports.sql import SideBySide
from tests.reports import dataset
from workorders.models import WorkOrder

F = ReportFilter(date_from=date(2026, 9, 1), date_to=date(2026, 11, 1), group_by="month")


@pytest.fixture()
def history(app, db):
    return dataset.build(db)


def _not_p1(db) -> list[int]:
    return list(db.scalars(select(WorkOrder.id).where(WorkOrder.priority != "P1").order_by(WorkOrder.id)))


def _count(session) -> int:
    return session.scalar(select(func.count()).select_from(FACTS).where(FACTS.c.priority == "P1"))


def test_the_percentiles_side_by_side_are_those_of_the_session(db, history):
    alone = [figures._spreads(db, f=F, names=names, with_totals=True) for names in figures.SPLIT]
    db.rollback()
    with SideBySide(db) as side:
        assert side.parallel is (db.get_bind().dialect.name == "postgresql")
        parts = [
            side.submit(lambda s, n=names: figures._spreads(s, f=F, names=n, with_totals=True))
            for names in figures.SPLIT
        ]
        assert [part.result() for part in parts] == alone


def test_work_side_by_side_reads_the_snapshot_of_the_report(app, db, history):
    order_id = _not_p1(db)[0]
    before = _count(db)
    with SideBySide(db) as side:
        # an order written and committed elsewhere once the report has begun is not in it
        other = app.extensions["db_sessionmaker"]()
        other.execute(update(WorkOrder).where(WorkOrder.id == order_id).values(priority="P1"))
        other.commit()
        other.close()
        seen = side.submit(_count).result()
    assert seen == before if side.parallel else seen == before + 1
    db.rollback()
    assert _count(db) == before + 1


def test_unwritten_changes_keep_the_work_in_the_session(db, history):
    order_id = _not_p1(db)[0]
    before = _count(db)
    db.execute(update(WorkOrder).where(WorkOrder.id == order_id).values(priority="P1"))
    with SideBySide(db) as side:
        assert not side.parallel
        assert side.submit(_count).result() == before + 1
    assert figures.report(db, F)["totals"]["received"] == 10
    db.rollback()


def _order_figures(session, f: ReportFilter) -> tuple:
    """The counts and sums, the follow-ups of orders with several, and the backlog per group."""
    counts = figures._raw_counts(session, figures._counts_statement(f, figures._count_sources(f)))
    return counts, *figures._besides_the_scan(session, f)


def test_every_figure_of_a_report_is_read_from_its_snapshot(app, db, history):
    # the counts, follow-ups and backlog too, not only the percentiles: the report's session
    # (READ COMMITTED) would see a commit made after the snapshot was taken
    order_id = _not_p1(db)[0]
    p1 = ReportFilter(date_from=F.date_from, date_to=F.date_to, group_by="month", priority="P1")
    before = _order_figures(db, p1)
    db.rollback()
    with SideBySide(db, workers=len(figures.SPLIT) + 1) as side:
        other = app.extensions["db_sessionmaker"]()
        other.execute(update(WorkOrder).where(WorkOrder.id == order_id).values(priority="P1"))
        other.commit()
        other.close()
        seen = side.submit(lambda s: _order_figures(s, p1)).result()
    if side.parallel:
        assert seen == before
    else:  # SQLite: the session itself, which sees the commit
        assert seen != before
    db.rollback()
    assert _order_figures(db, p1) != before


def test_the_halves_of_the_range_add_up_to_the_range(db, history):
    # a year's report counts its two halves side by side (reports.figures._halves): added up,
    # every count and sum is the whole range's, groups met in both halves included
    for group_by in (None, "month", "kind"):
        f = ReportFilter(date_from=date(2026, 9, 10), date_to=date(2026, 10, 20), group_by=group_by)
        sources = figures._count_sources(f)
        whole = figures._raw_counts(db, figures._counts_statement(f, sources))
        parted = figures._counts_statement(f, sources, parted=True)
        halves = [figures._raw_counts(db, parted, half) for half in figures._halves(f)]
        assert all(halves) and figures._added(halves) == whole
        assert set(halves[0]) & set(halves[1])  # a group in both halves: its figures were added


def test_adding_parts_keeps_a_sum_of_nothing_none():
    parts = [{"a": {"n": 2, "s": None}}, {"a": {"n": 3, "s": 1.5}, "b": {"n": 1, "s": None}}]
    assert figures._added(parts) == {"a": {"n": 5, "s": 1.5}, "b": {"n": 1, "s": None}}
