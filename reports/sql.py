"""The expressions that differ between PostgreSQL and SQLite, each behind one name.

Everything else in the reports is portable SQLAlchemy; these are the places where the two
databases spell a thing differently: seconds since the epoch of a naive datetime, the start
of a day/week/month as text, and percentiles (``percentile_cont`` on PostgreSQL; on SQLite,
which has no such aggregate, the numbers read in one pass and interpolated the same way).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import groupby
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    String,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import array
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

T = TypeVar("T")


class epoch_s(FunctionElement):  # noqa: N801 (a SQL function, named like one)
    """Seconds since 1970-01-01 of a naive datetime column (a float)."""

    type = Float()
    inherit_cache = True


# date_part, not EXTRACT: since PostgreSQL 14 EXTRACT answers numeric, whose arithmetic costs
# several times double precision's over a year of orders (whole seconds stay exact either way).
@compiles(epoch_s)
def _epoch_default(element, compiler, **kw):
    return f"date_part('epoch', {compiler.process(element.clauses, **kw)})"


# julianday() is a float of days: rounded to the millisecond, whole-second times come out as
# whole numbers, so their differences are exact (a 4 h repair is 14400 s, not 14399.99999).
@compiles(epoch_s, "sqlite")
def _epoch_sqlite(element, compiler, **kw):
    return f"round((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0, 3)"


class iso_epoch_s(FunctionElement):  # noqa: N801
    """Seconds since the epoch of ISO 8601 text (a datetime kept inside a JSON column)."""

    type = Float()
    inherit_cache = True


@compiles(iso_epoch_s)
def _iso_epoch_default(element, compiler, **kw):
    return f"date_part('epoch', CAST({compiler.process(element.clauses, **kw)} AS TIMESTAMP))"


@compiles(iso_epoch_s, "sqlite")
def _iso_epoch_sqlite(element, compiler, **kw):
    return f"round((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0, 3)"


class per_dialect(FunctionElement):  # noqa: N801
    """``per_dialect(postgresql_form, sqlite_form)``: two spellings of one condition, each
    database given the one its planner runs faster (the answers must be the same)."""

    type = Boolean()
    inherit_cache = True


@compiles(per_dialect)
def _per_dialect_default(element, compiler, **kw):
    return compiler.process(element.clauses.clauses[0], **kw)


@compiles(per_dialect, "sqlite")
def _per_dialect_sqlite(element, compiler, **kw):
    return compiler.process(element.clauses.clauses[1], **kw)


# PostgreSQL settings for the rest of a report's transaction (SET LOCAL ends with it): sorts
# for the percentiles of a year of orders in memory instead of on disk, no JIT compiling,
# which costs a report's many short expressions more than it saves them, and index probes
# priced as the cached reads they are (a district's follow-ups by order id, not a whole scan).
REPORT_SETTINGS = {"work_mem": "256MB", "jit": "off", "random_page_cost": "1.1"}


def tune_for_report(session: Session, **more: str) -> None:
    """Apply REPORT_SETTINGS (and ``more``) to the session's transaction on PostgreSQL, in one
    round trip (nothing on SQLite)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    settings = REPORT_SETTINGS | more
    session.execute(select(*(func.set_config(name, value, True) for name, value in settings.items())))


class plus_days(FunctionElement):  # noqa: N801
    """``plus_days(value, days)``: a naive datetime column plus a number of days, comparable
    with other datetime columns (on SQLite as text: ``datetime()`` drops the fraction of a
    second, so use it for bounds with a margin, not for exact edges)."""

    type = DateTime()
    inherit_cache = True


@compiles(plus_days)
def _plus_days_default(element, compiler, **kw):
    value, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({value} + make_interval(days => {days}))"


@compiles(plus_days, "sqlite")
def _plus_days_sqlite(element, compiler, **kw):
    value, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"datetime({value}, '+' || {days} || ' days')"


class _PeriodStart(FunctionElement):
    """The first day of the period holding a datetime, as YYYY-MM-DD text. One class per
    unit, so the unit is part of the statement's cache key."""

    type = String()
    inherit_cache = True
    unit = ""


class day_start(_PeriodStart):  # noqa: N801
    inherit_cache = True
    unit = "day"


class week_start(_PeriodStart):  # noqa: N801
    """The Monday of the ISO week."""

    inherit_cache = True
    unit = "week"


class month_start(_PeriodStart):  # noqa: N801
    inherit_cache = True
    unit = "month"


PERIOD_STARTS = {cls.unit: cls for cls in (day_start, week_start, month_start)}
PERIODS = tuple(PERIOD_STARTS)


def period_start(unit: str, value: Any) -> ColumnElement:
    """The start of the ``unit`` (day, week, month) holding ``value``, as YYYY-MM-DD."""
    return PERIOD_STARTS[unit](value)


class period_trunc(FunctionElement):  # noqa: N801
    """What a ``period_start`` is grouped on: on PostgreSQL the ``date_trunc`` inside it (a
    timestamp: cheap to compare, and what the report facts' statistics describe), the text
    made once per group instead of once per order; elsewhere the ``period_start`` itself."""

    type = DateTime()
    inherit_cache = True


# The report facts keep each order's day, week and month (generated columns of migration
# a15e00000001, PostgreSQL): the period of their received_at is read, not computed per order.
STORED_PERIODS = ("report_order_facts", "received_at")


def _truncated(unit: str, value, compiler, **kw) -> str:
    column = value.clauses[0] if len(value.clauses) == 1 else None
    rendered = compiler.process(value, **kw)
    table = getattr(getattr(column, "table", None), "name", None)
    if (table, getattr(column, "name", None)) == STORED_PERIODS and rendered.endswith("received_at"):
        return f"{rendered[: -len('received_at')]}received_{unit}"
    return f"date_trunc('{unit}', {rendered})"


@compiles(period_trunc)
def _period_trunc_default(element, compiler, **kw):
    start = element.clauses.clauses[0]
    return _truncated(start.unit, start.clauses, compiler, **kw)


@compiles(period_trunc, "sqlite")
def _period_trunc_sqlite(element, compiler, **kw):
    return compiler.process(element.clauses.clauses[0], **kw)


def grouping_of(key: ColumnElement) -> ColumnElement:
    """The expression to GROUP BY for a report's ``key`` (a period start is grouped on its
    ``period_trunc``; the key itself is still what is selected: PostgreSQL accepts an
    expression over a grouped one)."""
    return period_trunc(key) if isinstance(key, _PeriodStart) else key


# COLLATE "C": a report sorts a year of orders by this key (its grouping): compared byte by
# byte (the same order for digits and dashes) instead of through the database's locale.
@compiles(_PeriodStart)
def _period_default(element, compiler, **kw):
    truncated = _truncated(element.unit, element.clauses, compiler, **kw)
    return f"(to_char({truncated}, 'YYYY-MM-DD') COLLATE \"C\")"


@compiles(_PeriodStart, "sqlite")
def _period_sqlite(element, compiler, **kw):
    value = compiler.process(element.clauses, **kw)
    if element.unit == "day":
        return f"date({value})"
    if element.unit == "week":  # back 6 days, then forward to a Monday (or stay): the week's Monday
        return f"date({value}, '-6 days', 'weekday 1')"
    return f"date({value}, 'start of month')"


def percentiles(
    session: Session,
    group: ColumnElement | None,
    values: Mapping[str, tuple[ColumnElement, ColumnElement]],
    where: Sequence[ColumnElement],
    from_: Any,
    fractions: Sequence[float] = (0.5, 0.9),
) -> dict[str, dict[Any, dict[float, float | None]]]:
    """Continuous percentiles (linear interpolation, like ``percentile_cont``) of each of
    ``values`` (name -> (which rows, the value)) per ``group`` (None: one
    group, keyed "all") over ``from_`` filtered by ``where``.

    PostgreSQL computes them all in one query with ``percentile_cont ... WITHIN GROUP`` (which
    skips NULLs); SQLite has no such aggregate (see ``_ranked_percentiles``). A group with no
    value is absent (its percentiles are None).
    """
    key = group if group is not None else literal_column("'all'")
    names = list(values)
    if session.get_bind().dialect.name != "postgresql":
        return _ranked_percentiles(session, group, values, where, from_, fractions, with_total=False)[0]
    stmt = (
        select(key.label("g"), *_percentile_columns(values, fractions))
        .select_from(from_)
        .where(*where, _any_of(values))
    )
    if group is not None:
        stmt = stmt.group_by(grouping_of(group))
    found: dict[str, dict[Any, dict[float, float | None]]] = {name: {} for name in names}
    for row in session.execute(stmt):
        for name in names:
            found[name][row.g] = _spread(row._mapping[name], fractions)
    return found


def _percentile_columns(
    values: Mapping[str, tuple[ColumnElement, ColumnElement]], fractions: Sequence[float]
) -> list[ColumnElement]:
    """One ``percentile_cont`` per value, of all ``fractions`` at once (an array: one sort of
    the value per group), over the rows its condition FILTERs in (a single value's condition
    is the query's own, ``_any_of``: no FILTER, and an index holding the value's rows and
    columns answers the query alone)."""
    found = []
    for name, (which, value) in values.items():
        percentile = func.percentile_cont(array(list(fractions))).within_group(cast(value, Float))
        found.append((percentile.filter(which) if len(values) > 1 else percentile).label(name))
    return found


def _any_of(values: Mapping[str, tuple[ColumnElement, ColumnElement]]) -> ColumnElement:
    """Rows among at least one value's (the others add nothing to a percentile but their sort)."""
    return or_(*(which for which, _value in values.values()))


def _spread(found: Sequence[float | None] | None, fractions: Sequence[float]) -> dict[float, float | None]:
    if found is None:  # no row for the value in this group
        return {p: None for p in fractions}
    return {p: None if v is None else float(v) for p, v in zip(fractions, found, strict=True)}


def percentiles_with_total(
    session: Session,
    group: ColumnElement,
    values: Mapping[str, tuple[ColumnElement, ColumnElement]],
    where: Sequence[ColumnElement],
    from_: Any,
    fractions: Sequence[float] = (0.5, 0.9),
    extra: Sequence[ColumnElement] = (),
) -> tuple[
    dict[str, dict[Any, dict[float, float | None]]],
    dict[str, dict[Any, dict[float, float | None]]],
    dict[Any, dict[str, Any]] | None,
]:
    """``percentiles`` per ``group`` and over all groups together (keyed "all"), and the
    ``extra`` labelled aggregates per group (None: not computed, ask for them separately).

    PostgreSQL answers all in one pass with GROUPING SETS ((group), ()), the total's row told
    apart by GROUPING() (a group whose key is NULL stays a group): the extra aggregates over the
    same rows (a report's counts) cost no second scan. SQLite reads the numbers once
    (``_ranked_percentiles``) and leaves ``extra`` to the caller."""
    if session.get_bind().dialect.name != "postgresql":
        by_group, total = _ranked_percentiles(
            session, group, values, where, from_, fractions, with_total=True
        )
        return by_group, total, None
    names = list(values)
    grouping = grouping_of(group)
    stmt = (
        select(
            group.label("g"),
            func.grouping(grouping).label("is_total"),
            *_percentile_columns(values, fractions),
            *extra,
        )
        .select_from(from_)
        .where(*where, *([] if extra else [_any_of(values)]))
        .group_by(func.grouping_sets(grouping, literal_column("()")))
    )
    by_group: dict[str, dict[Any, dict[float, float | None]]] = {name: {} for name in names}
    total: dict[str, dict[Any, dict[float, float | None]]] = {name: {} for name in names}
    extras: dict[Any, dict[str, Any]] = {}
    for row in session.execute(stmt):
        found, key = (total, "all") if row.is_total else (by_group, row.g)
        for name in names:
            found[name][key] = _spread(row._mapping[name], fractions)
        if not row.is_total:
            extras[row.g] = {"g": row.g} | {column.name: row._mapping[column.name] for column in extra}
    return by_group, total, (extras if extra else None)


def percentiles_in_value_order(
    session: Session,
    group: ColumnElement | None,
    values: Mapping[str, tuple[ColumnElement, ColumnElement]],
    where: Sequence[ColumnElement],
    from_: Any,
    fractions: Sequence[float] = (0.5, 0.9),
    with_total: bool = False,
) -> tuple[dict[str, dict[Any, dict[float, float | None]]], dict[str, dict[Any, dict[float, float | None]]]]:
    """PostgreSQL: the ``percentiles`` of one value per ``group`` (None: one group keyed "all")
    and, ``with_total`` and grouped, over all groups (keyed "all"), without sorting the rows by
    group.

    ``percentile_cont`` per group needs its rows sorted by group first, and sorts each group's
    values again. Here the rows are read in value order (the value's index: no sort either), a
    hash aggregate gathers each group's values into an array in the order they come, and
    ``percentile_cont`` runs over each array's elements: the same percentiles whatever the
    order (it sorts them), and in one pass when they come sorted (its sort checks for that
    first)."""
    ((name, (which, value)),) = values.items()
    key = grouping_of(group) if group is not None else literal_column("'all'")
    rows = (
        select(key.label("k"), cast(value, Float).label("v"))
        .select_from(from_)
        .where(*where, which)
        .order_by(value)
        .subquery("in_value_order")
    )
    gathered = func.array_agg(rows.c.v).label("vs")
    if group is not None and with_total:
        per = select(rows.c.k, func.grouping(rows.c.k).label("is_total"), gathered).group_by(
            func.grouping_sets(rows.c.k, literal_column("()"))
        )
    else:
        per = select(rows.c.k, literal_column("0").label("is_total"), gathered).group_by(rows.c.k)
    groups = per.subquery("per")
    elements = select(func.unnest(groups.c.vs).label("x")).correlate(groups).subquery("elements")
    spread = select(func.percentile_cont(array(list(fractions))).within_group(elements.c.x)).scalar_subquery()
    # a period is grouped on its start's timestamp, and named (as text) once per group
    label = type(group)(groups.c.k) if isinstance(group, _PeriodStart) else groups.c.k
    stmt = select(label.label("g"), groups.c.is_total, spread.label("spread"))
    by_group: dict[str, dict[Any, dict[float, float | None]]] = {name: {}}
    total: dict[str, dict[Any, dict[float, float | None]]] = {name: {}}
    for row in session.execute(stmt):
        found, at = (total, "all") if row.is_total else (by_group, row.g)
        found[name][at] = _spread(row.spread, fractions)
    return by_group, total


def _interpolated(ordered: list[float], p: float) -> float:
    """The ``p`` percentile of sorted values, interpolated between the two values around its
    0-based position ``p * (n - 1)``, as ``percentile_cont`` does."""
    position = p * (len(ordered) - 1)
    below = int(position)  # position >= 0, so int() is floor
    weight = position - below
    found = ordered[below] * (1 - weight)
    if weight > 0:
        found += ordered[below + 1] * weight
    return found


def _ranked_percentiles(
    session: Session,
    group: ColumnElement | None,
    values: Mapping[str, tuple[ColumnElement, ColumnElement]],
    where: Sequence[ColumnElement],
    from_: Any,
    fractions: Sequence[float],
    with_total: bool,
) -> tuple[dict[str, dict[Any, dict[float, float | None]]], dict[str, dict[Any, dict[float, float | None]]]]:
    """SQLite: every value's percentiles per group (and over all groups, keyed "all", if
    ``with_total``), from one pass over the orders.

    SQLite has no percentile aggregate, and ranking with window functions sorts every value
    twice inside the database (per group, then overall): on a year of orders that was most of
    the report's time. Instead one query reads the group and one number per value (NULL where
    the row is not among that value's; the durations are stored columns, so nothing is
    parsed), and the numbers, not the orders, are sorted here and interpolated as
    ``percentile_cont`` does."""
    names = list(values)
    key = group if group is not None else literal_column("'all'")
    stmt = (
        select(key.label("g"), *[case((which, value)) for which, value in values.values()])
        .select_from(from_)
        .where(*where)
    )
    by_group: dict[str, dict[Any, dict[float, float | None]]] = {name: {} for name in names}
    total: dict[str, dict[Any, dict[float, float | None]]] = {name: {} for name in names}
    runs: list[list[list[float]]] = [[] for _ in names]  # each group's sorted values, per value
    # the rows come one group after another (ORDER BY the key), so a group is a slice of rows
    # and each of its values one list comprehension, not one Python statement per number
    # the driver's own tuples: the columns are text, numbers and NULLs that need no processing,
    # and building a Row per order cost as much as the rest of this function
    rows_by_key = session.connection().execute(stmt.order_by(key)).cursor.fetchall()
    for g, rows in groupby(rows_by_key, key=itemgetter(0)):
        group_rows = list(rows)
        for i, name in enumerate(names):
            found = sorted([float(row[i + 1]) for row in group_rows if row[i + 1] is not None])
            if found:
                by_group[name][g] = {p: _interpolated(found, p) for p in fractions}
                runs[i].append(found)
    if with_total:
        for name, sorted_runs in zip(names, runs, strict=True):
            if sorted_runs:  # merging sorted runs is what Python's sort does fastest
                everything = sorted([v for run in sorted_runs for v in run])
                total[name]["all"] = {p: _interpolated(everything, p) for p in fractions}
    return by_group, total


class SideBySide:
    """Report queries run side by side on PostgreSQL, on a pool of connections that all read
    the snapshot of ``session``'s transaction (``pg_export_snapshot``: the figures agree as if
    read in one transaction, which the session's own later statements, each with a snapshot
    of its own under READ COMMITTED, would not); elsewhere (SQLite, one writer file) each runs
    at once on ``session`` itself.

    A percentile sorts on one core (PostgreSQL does not parallelise ordered-set aggregates),
    so a year's report finishes sooner with its percentile queries split by duration and run
    side by side beside the counts, each query in one process (they are the parallelism).
    ``submit(work)`` calls ``work(session)`` with a session of its own and answers a future
    of what it returns; leaving the block waits for all of them."""

    def __init__(self, session: Session, workers: int = 2) -> None:
        self.session = session
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._snapshot = ""

    def __enter__(self) -> SideBySide:
        postgresql = self.session.get_bind().dialect.name == "postgresql"
        unflushed = self.session.new or self.session.dirty or self.session.deleted
        if postgresql and self.workers > 0 and not unflushed:
            # whether the transaction wrote (other transactions, even on its snapshot, would
            # not see those rows: the work then runs on the session) and its snapshot, at once
            wrote, snapshot = self.session.execute(
                select(func.pg_current_xact_id_if_assigned(), func.pg_export_snapshot())
            ).one()
            if wrote is None:
                if not _SNAPSHOT_ID.fullmatch(snapshot):
                    raise ValueError(f"unexpected snapshot id {snapshot!r}")
                self._snapshot = snapshot
                self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="report")
        return self

    @property
    def parallel(self) -> bool:
        """Whether the work submitted runs side by side (on PostgreSQL, with nothing unwritten)."""
        return self._pool is not None

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def submit(self, work: Callable[[Session], T]) -> Future[T]:
        if self._pool is None:
            done: Future[T] = Future()
            done.set_result(work(self.session))
            return done
        return self._pool.submit(self._run, work)

    def _run(self, work: Callable[[Session], T]) -> T:
        engine = self.session.get_bind().engine
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                connection.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{self._snapshot}'")
                with Session(bind=connection) as session:
                    # one process per query: the queries side by side are the parallelism
                    tune_for_report(session, max_parallel_workers_per_gather="0")
                    return work(session)


_SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+-[0-9]+")
