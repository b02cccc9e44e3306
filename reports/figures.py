"""The figures over a date range, grouped by one dimension, computed in the database.

One grouped aggregate per population (orders received in the range, their follow-ups, the
backlog at the range's end) and one percentile query per duration; the rows that come back
are one per group, merged here into plain dicts. No order is loaded into Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Select, bindparam, case, func, select
from sqlalchemy.orm import Session

from reports import filters, measures
from reports.atoms import by_group, grouped_counts_statement
from reports.facts import FACTS, STORED_ATOMS, on_facts, on_single_followup, read_stored
from reports.filters import ALL, ReportFilter, group_labels, grouped
from reports.sql import (
    SideBySide,
    percentiles,
    percentiles_in_value_order,
    percentiles_with_total,
    tune_for_report,
)
from workorders.models import FollowUp, WorkOrder

W = WorkOrder


# The rules are written over work orders (reports.measures, reports.filters); the figures read
# them over the report facts, the same columns in one narrow table with no joins (reports.facts).
def group_key(f: ReportFilter) -> ColumnElement | None:
    key = filters.group_key(f)
    return None if key is None else on_facts(key)


def received_in_range(f: ReportFilter) -> list[ColumnElement]:
    return [on_facts(condition) for condition in filters.received_in_range(f)]


def narrowing(f: ReportFilter) -> list[ColumnElement]:
    return [on_facts(condition) for condition in filters.narrowing(f)]


def base_select(f: ReportFilter, *columns) -> Select:
    return select(*columns).select_from(FACTS)


DURATIONS = measures.DURATIONS


def _duration_sources(f: ReportFilter) -> dict[str, tuple[ColumnElement, ColumnElement]]:
    found = measures.durations(f)
    return {name: (on_facts(which), on_facts(value)) for name, (which, value) in found.items()}


def _count(condition: ColumnElement) -> ColumnElement:
    # an aggregate FILTER, not a sum of CASE: the row is skipped before any aggregate work
    return func.count().filter(condition)


def _count_sources(f: ReportFilter) -> tuple[dict, dict, list[str]]:
    """What the grouped scan counts (name -> predicate) and sums (name -> (predicate, value)),
    and which of the counts are follow-up figures."""
    counts = {name: on_facts(cond) for name, cond in measures.order_predicates(f).items()}
    sums: dict[str, tuple[ColumnElement, ColumnElement]] = {}
    for name, (which, value) in _duration_sources(f).items():
        counts[f"{name}_n"] = which
        sums[f"{name}_mean_s"] = (which, value)
    on_site = _duration_sources(f)["on_site"][0]
    sums["planned_on_site_mean_min"] = (on_site, FACTS.c.duration_min)
    followup = {name: on_single_followup(cond) for name, cond in measures.followup_predicates(f).items()}
    counts |= followup
    sums["satisfaction"] = (followup["rated"], FACTS.c.followup_satisfaction)
    return counts, sums, list(followup)


def _counts_statement(f: ReportFilter, sources: tuple[dict, dict, list[str]], parted: bool = False) -> Select:
    """The grouped scan of the counts and sums per group (reports.atoms) of ``sources``
    (``_count_sources(f)``) over the orders of the range; ``parted``: of the part of it between
    the parameters ``part_from`` and ``part_to`` (the same statement run for each part, which
    add up to the range's)."""
    counts, sums, _followup = sources
    where = received_in_range(f)
    if parted:
        received = FACTS.c.received_at
        where += [
            received >= bindparam("part_from", type_=DateTime),
            received < bindparam("part_to", type_=DateTime),
        ]
    stored = (STORED_ATOMS, FACTS.c.static_code)
    return grouped_counts_statement(FACTS, where, group_key(f), counts, sums, *stored)


def _raw_counts(session: Session, statement: Select, params: dict | None = None) -> dict[Any, dict]:
    return by_group(session.execute(statement, params or {}))


def _halves(f: ReportFilter) -> list[dict[str, datetime]]:
    """The range in two halves of time, for two connections to count side by side."""
    middle = f.start + (f.end - f.start) / 2
    return [{"part_from": f.start, "part_to": middle}, {"part_from": middle, "part_to": f.end}]


def _added(parts: Sequence[dict[Any, dict[str, Any]]]) -> dict[Any, dict[str, Any]]:
    """Counts and sums per group added up over parts (a sum of nothing stays None)."""
    total: dict[Any, dict[str, Any]] = {}
    for found in parts:
        for key, figures in found.items():
            into = total.setdefault(key, {})
            for name, value in figures.items():
                before = into.get(name)
                into[name] = value if before is None else before if value is None else before + value
    return total


def _counts(
    sources: tuple[dict, dict, list[str]], found: dict, many: dict
) -> tuple[dict[Any, dict[str, Any]], dict[Any, dict[str, Any]]]:
    """The order figures with the duration means, and the follow-up figures, per group, from
    the grouped scan of ``sources`` (its ``found`` counts and sums) and the join of the few
    orders with more than one follow-up (``many``: the facts carry an order's follow-up only
    when it is the one)."""
    _counted, sums, followup = sources
    orders, followups = {}, {}
    for key, raw in found.items():
        figures = dict(raw)
        more = many.get(key, {})
        followups[key] = {
            name: int(figures.pop(name, 0) or 0) + int(more.get(name) or 0) for name in followup
        }
        rated = int(figures.pop("satisfaction_n", 0) or 0) + int(more.get("satisfaction_n") or 0)
        score = float(figures.pop("satisfaction_sum", 0) or 0) + float(more.get("satisfaction_sum") or 0)
        followups[key]["satisfaction_mean"] = score / rated if rated else None
        for name in sums:
            if name != "satisfaction":
                total, n = figures.pop(f"{name}_sum", None), figures.pop(f"{name}_n", None)
                figures[name] = float(total) / int(n) if n and total is not None else None
        planned = figures.pop("planned_on_site_mean_min")
        figures["planned_on_site_mean_s"] = None if planned is None else planned * 60.0
        orders[key] = figures
    return orders, followups


def _besides_the_scan(session: Session, f: ReportFilter) -> tuple[dict, dict]:
    """The follow-ups of orders with more than one, and the backlog, per group."""
    return _many_followups(session, f), _backlog_counts(session, f)


def _many_followups(session: Session, f: ReportFilter) -> dict[Any, dict[str, Any]]:
    """The follow-up figures of the orders with more than one follow-up, joined to them."""
    predicates = measures.followup_predicates(f)
    columns = [_count(cond).label(name) for name, cond in predicates.items()]
    rated = predicates["rated"]
    columns.append(func.sum(FollowUp.satisfaction).filter(rated).label("satisfaction_sum"))
    columns.append(func.count(FollowUp.satisfaction).filter(rated).label("satisfaction_n"))
    stmt = grouped(
        select(*columns)
        .select_from(FACTS.join(FollowUp.__table__, FollowUp.order_id == FACTS.c.id))
        .where(FACTS.c.followup_count > 1, *received_in_range(f)),
        group_key(f),
    )
    return {row.g: dict(row._mapping) for row in session.execute(stmt)}


def _backlog_counts(session: Session, f: ReportFilter) -> dict[Any, dict[str, Any]]:
    predicates = {name: on_facts(cond) for name, cond in measures.backlog_predicates(f).items()}
    columns = [_count(cond).label(name) for name, cond in predicates.items()]
    stmt = grouped(base_select(f, *columns).where(predicates["backlog"], *narrowing(f)), group_key(f))
    return {row.g: dict(row._mapping) for row in session.execute(stmt)}


# The durations' percentiles in two queries of about as many values each, run side by side;
# on PostgreSQL, a report over every order reads each duration alone from its own index
# instead (reports.facts.DURATION_INDEXES): the duration's orders only, in value order, narrow,
# each group's values gathered without sorting the rows (sql.percentiles_in_value_order).
SPLIT = (("response", "install"), ("restore", "on_site"))
ALONE = (("response",), ("on_site",), ("restore",), ("install",))


def _split(session: Session, f: ReportFilter) -> tuple[tuple[str, ...], ...]:
    postgresql = session.get_bind().dialect.name == "postgresql"
    return ALONE if postgresql and not filters.narrowing(f) else SPLIT


def _spreads(session: Session, f: ReportFilter, names: Sequence[str], with_totals: bool) -> tuple[dict, dict]:
    """Median and p90 of the ``names`` durations per group, and over all groups (keyed ALL;
    empty without ``with_totals``)."""
    sources = {name: source for name, source in _duration_sources(f).items() if name in names}
    if session.get_bind().dialect.name == "postgresql" and len(sources) == 1:
        # a duration alone (ALONE): its fixed conditions read from static_code, as its index
        # holds them, so that the planner sees the index answers them (the bits' statistics,
        # migration a15h00000001, tell it how many orders they leave)
        sources = {name: (read_stored(which), value) for name, (which, value) in sources.items()}
        spreads, overall = percentiles_in_value_order(
            session,
            group_key(f),
            sources,
            received_in_range(f),
            FACTS,
            with_total=with_totals and f.group_by is not None,
        )
        if f.group_by is None:
            overall = spreads if with_totals else {name: {} for name in names}
        return spreads, overall
    if with_totals and f.group_by is not None:
        spreads, overall, _none = percentiles_with_total(
            session, group_key(f), sources, received_in_range(f), FACTS
        )
        return spreads, {name: {ALL: found.get("all", {})} for name, found in overall.items()}
    spreads = percentiles(session, group_key(f), sources, received_in_range(f), FACTS)
    return spreads, (spreads if with_totals else {name: {} for name in names})


def _pct(part: int, whole: int) -> float | None:
    return None if not whole else round(100.0 * part / whole, 1)


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def _row(key: Any, counts: dict, followups: dict, backlog: dict, spreads: dict) -> dict[str, Any]:
    """One group's figures as the API answers them."""
    c = {name: int(counts.get(name) or 0) for name in measures.order_predicates_names()}
    fu = {name: int(followups.get(name) or 0) for name in measures.FOLLOWUP_FIGURES}
    durations = {}
    for name in DURATIONS:
        spread = spreads[name].get(key, {})
        durations[name] = {
            "n": int(counts.get(f"{name}_n") or 0),
            "mean_s": _seconds(counts.get(f"{name}_mean_s")),
            "median_s": _seconds(spread.get(0.5)),
            "p90_s": _seconds(spread.get(0.9)),
        }
    return {
        "received": c["received"],
        "completed": c["completed"],
        "cancelled": c["cancelled"],
        "response": {
            **durations["response"],
            "met": c["response_met"],
            "breached": c["response_breached"],
            "compliance_pct": _pct(c["response_met"], c["response_met"] + c["response_breached"]),
        },
        "restore": {
            **durations["restore"],
            "met": c["restore_met"],
            "breached": c["restore_breached"],
            "compliance_pct": _pct(c["restore_met"], c["restore_met"] + c["restore_breached"]),
        },
        "install": durations["install"],
        "on_site": {**durations["on_site"], "planned_mean_s": _seconds(counts.get("planned_on_site_mean_s"))},
        "first_time_fix": {
            "completed": c["completed_work"],
            "first_time": c["first_time_fix"],
            "pct": _pct(c["first_time_fix"], c["completed_work"]),
        },
        "repeat_faults": {
            "completed_repairs": c["completed_repairs"],
            "repeated_within_30d": c["repeated"],
            "pct": _pct(c["repeated"], c["completed_repairs"]),
            "flagged_repeats": c["flagged_repeat"],
        },
        "follow_ups": {
            "total": fu["followups"],
            "done_on_time": fu["followup_on_time"],
            "done_late": fu["followup_late"],
            "overdue": fu["followup_overdue"],
            "on_time_pct": _pct(fu["followup_on_time"], fu["followup_on_time"] + fu["followup_late"]),
            "rated": fu["rated"],
            "satisfaction_mean": None
            if followups.get("satisfaction_mean") is None
            else round(float(followups["satisfaction_mean"]), 2),
            "satisfied_pct": _pct(fu["satisfied"], fu["rated"]),
        },
        "complaints": _complaints(c),
        "backlog": {
            "total": int(backlog.get("backlog") or 0),
            **{name: int(backlog.get(f"backlog_{name}") or 0) for name, _lo, _hi in measures.AGE_BUCKETS},
        },
    }


def _complaints(c: dict[str, int]) -> dict[str, Any]:
    found: dict[str, Any] = {"total": c["complaints"]}
    for clock in ("answer", "handling", "final"):
        met, breached = c[f"complaint_{clock}_met"], c[f"complaint_{clock}_breached"]
        found[clock] = {"met": met, "breached": breached, "compliance_pct": _pct(met, met + breached)}
    return found


def report(session: Session, f: ReportFilter, with_totals: bool = True) -> dict[str, Any]:
    """Every figure for ``f``: one row per group (sorted by key) and the totals over all of them
    (all zero without ``with_totals``, which saves the totals' percentile queries).

    Groups are those with orders received in the range, or with a backlog at its end. The
    totals' counts and means are summed from the groups' (every order is in exactly one group);
    only their percentiles need queries of their own.
    """
    tune_for_report(session)
    with SideBySide(session, workers=2) as side:
        # on PostgreSQL the counts (two halves of the range) and the percentiles run two at a
        # time, one per core, on the report's snapshot, one process each, the longest first
        sources = _count_sources(f)
        if side.parallel and not filters.narrowing(f):  # a large scan: halves, one statement
            parted = _counts_statement(f, sources, parted=True)
            raw = [side.submit(partial(_raw_counts, statement=parted, params=half)) for half in _halves(f)]
        else:
            raw = [side.submit(partial(_raw_counts, statement=_counts_statement(f, sources)))]
        parts = [
            side.submit(partial(_spreads, f=f, names=names, with_totals=with_totals))
            for names in _split(session, f)
        ]
        many, backlog = side.submit(partial(_besides_the_scan, f=f)).result()
        counts, followups = _counts(sources, found=_added([part.result() for part in raw]), many=many)
        spreads: dict[str, dict[Any, dict[float, float | None]]] = {}
        total_spreads: dict[str, dict[Any, dict[float, float | None]]] = {}
        for part in parts:
            by_group, overall = part.result()
            spreads |= by_group
            total_spreads |= overall
    keys = set(counts) | set(backlog)
    rows = {
        key: _row(key, counts.get(key, {}), followups.get(key, {}), backlog.get(key, {}), spreads)
        for key in keys
    }
    totals = _row(ALL, {}, {}, {}, _no_spreads())
    if with_totals:
        totals = _row(ALL, _summed(counts), _summed(followups), _summed(backlog), total_spreads)
    labels = group_labels(session, f, rows)
    return {
        "date_from": f.date_from,
        "date_to": f.date_to,
        "judged_at": f.judged_at,
        "group_by": f.group_by,
        "rows": [
            {"group": _key_text(key), "label": labels.get(key, _key_text(key)), **figures}
            for key, figures in sorted(rows.items(), key=lambda item: (item[0] is None, str(item[0])))
        ],
        "totals": totals,
    }


# A mean and the count it is over: summed groups weigh each group's mean by its count.
WEIGHTED_MEANS = {f"{name}_mean_s": f"{name}_n" for name in DURATIONS} | {
    "satisfaction_mean": "rated",
    "planned_on_site_mean_s": "on_site_n",
}


def _summed(groups: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    """One group's raw figures from all groups': counts added, means weighted by their counts."""
    total: dict[str, Any] = {}
    for raw in groups.values():
        for name, value in raw.items():
            if name == "g" or value is None:
                continue
            weight = WEIGHTED_MEANS.get(name)
            part = float(value) * int(raw.get(weight) or 0) if weight else value
            total[name] = total.get(name, 0) + part
    for mean, weight in WEIGHTED_MEANS.items():
        if mean in total:
            n = sum(int(raw.get(weight) or 0) for raw in groups.values())
            total[mean] = total[mean] / n if n else None
    return total


def _no_spreads() -> dict[str, dict]:
    return {name: {} for name in DURATIONS}


def _key_text(key: Any) -> str | None:
    return None if key is None else str(key)


# Time-to-restore histogram: (lower, upper) bounds in hours; None is open-ended.
RESTORE_BINS_H = ((0, 2), (2, 4), (4, 8), (8, 24), (24, 48), (48, None))


def restore_distribution(session: Session, f: ReportFilter) -> list[dict[str, Any]]:
    """How many repairs took how long to restore (customer pauses left out), in RESTORE_BINS_H,
    counted in one grouped query."""
    which, value = _duration_sources(f)["restore"]
    bin_of = case(
        *[
            (value < upper * 3600, index)
            for index, (_lower, upper) in enumerate(RESTORE_BINS_H)
            if upper is not None
        ],
        else_=len(RESTORE_BINS_H) - 1,
    )
    stmt = (
        base_select(f, bin_of.label("bin"), func.count().label("n"))
        .where(*received_in_range(f), which)
        .group_by(bin_of)
    )
    counts = {int(row.bin): int(row.n) for row in session.execute(stmt)}
    return [
        {"from_h": lower, "to_h": upper, "repairs": counts.get(index, 0)}
        for index, (lower, upper) in enumerate(RESTORE_BINS_H)
    ]
