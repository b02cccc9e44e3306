"""reports.atoms counts a set of predicates from one grouped scan: every count and mean must
be the one a FILTERed aggregate per predicate gives, NULLs (three-valued logic) included."""

from __future__ import annotations

import importlib.util
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import and_, case, func, not_, or_, select

from reports import figures, measures
from reports.atoms import Atoms, by_group, grouped_counts_statement
from reports.facts import DURATION_INDEXES, FACTS, STATIC_CODE_SQL, STORED_ATOMS, on_facts
from reports.filters import ReportFilter
from tests.reports import dataset
from workorders.models import WorkOrder

AT = datetime(2026, 10, 1)
F = FACTS.c


@pytest.fixture()
def history(app, db):
    return dataset.build(db)


def grouped_counts(db, *args):
    """The grouped scan's figures per group."""
    return by_group(db.execute(grouped_counts_statement(*args)))


def _row_by_row(db, predicates, sums, group):
    """The same figures as one FILTERed aggregate per predicate (the way they were counted)."""
    columns = [func.count().filter(predicate).label(name) for name, predicate in predicates.items()]
    for name, (predicate, value) in sums.items():
        columns += [
            func.sum(value).filter(predicate).label(f"{name}_sum"),
            func.count(value).filter(predicate).label(f"{name}_n"),
        ]
    stmt = select(group.label("g"), *columns).group_by(group)
    return {row.g: {k: v for k, v in row._mapping.items() if k != "g"} for row in db.execute(stmt)}


def _same(found, expected):
    assert set(found) == set(expected)
    for key, figures_ in expected.items():
        for name, value in figures_.items():
            got = found[key][name]
            if value is None or got is None:
                assert got in (None, 0) and value in (None, 0), (key, name)
            else:
                assert float(got) == pytest.approx(float(value)), (key, name)


def test_every_report_predicate_counts_as_it_would_row_by_row(db, history):
    f = ReportFilter(date_from=date(2026, 9, 1), date_to=date(2026, 11, 1), group_by="month")
    predicates = {name: on_facts(p) for name, p in measures.order_predicates(f).items()}
    sums = {
        name: (which, value) for name, (which, value) in figures._duration_sources(f).items()
    }  # durations: NULL where an order has none
    group = F.kind
    found = grouped_counts(db, FACTS, [], group, predicates, sums)
    expected = _row_by_row(db, predicates, sums, group)
    _same(found, expected)
    assert sum(int(row["completed"] or 0) for row in found.values()) == 7


def test_nulls_stay_unknown_through_not_and_or(db, history):
    # completed_at is NULL for open orders: "< AT" and its negations are then unknown, so an
    # open order is in none of the three; OR with a known true still holds
    predicates = {
        "before": F.completed_at < AT,
        "not_before": not_(F.completed_at < AT),
        "on_or_after": F.completed_at >= AT,
        "open_or_before": or_(F.completed_at.is_(None), F.completed_at < AT),
        "neither": and_(not_(F.completed_at < AT), not_(F.completed_at >= AT)),
        "answered_late": and_(F.responded_at.isnot(None), F.responded_at > F.response_deadline),
        "not_late": not_(F.responded_at > F.response_deadline),
    }
    group = F.kind
    found = grouped_counts(db, FACTS, [], group, predicates, {})
    _same(found, _row_by_row(db, predicates, {}, group))
    assert sum(int(row["neither"] or 0) for row in found.values()) == 0


def test_an_atom_and_its_negation_share_one_place():
    atoms = Atoms()
    for predicate in (F.state == "cancelled", F.state != "cancelled", F.completed_at.is_(None)):
        atoms.collect(predicate)
    atoms.collect(F.completed_at.isnot(None))
    atoms.collect(and_(F.kind == "repair", F.completed_at > F.restore_deadline))
    atoms.collect(F.completed_at <= F.restore_deadline)
    assert len(atoms.atoms) == 4  # state =, completed_at IS NULL, kind =, completed_at > deadline


def test_many_atoms_take_more_than_one_code(db, history):
    # 40 distinct comparisons of a nullable time: two bits each, more than one 62-bit code
    hours = [datetime(2026, 9, 1, h % 24, h // 24) for h in range(40)]
    predicates = {f"before_{i}": F.completed_at < at for i, at in enumerate(hours)}
    atoms = Atoms()
    for predicate in predicates.values():
        atoms.collect(predicate)
    assert len(atoms.codes()) == 2
    group = F.kind
    _same(grouped_counts(db, FACTS, [], group, predicates, {}), _row_by_row(db, predicates, {}, group))


def _migration_constant(name: str):
    path = Path(__file__).parents[2] / "migrations" / "versions" / "a15f00000001_report_facts_layout.py"
    spec = importlib.util.spec_from_file_location("static_code_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def test_the_migration_wrote_the_stored_atoms_of_today():
    # changing reports.facts.STORED_ATOMS needs a migration that writes the column again
    assert _migration_constant("STATIC_CODE_SQL") == STATIC_CODE_SQL


def test_the_stored_code_answers_every_stored_atom_as_asked_live(db, history):
    r1 = db.get(WorkOrder, history["R1"])
    r1.responded_at = None  # a NULL comparison kept too
    db.commit()
    atoms = Atoms(STORED_ATOMS, F.static_code)
    codes = atoms.codes()
    assert codes == [F.static_code]  # every stored atom is read from the column
    live = [
        case((atom, 1), (not_(atom), 0), else_=2).label(f"live{i}") for i, atom in enumerate(STORED_ATOMS)
    ]
    stored = [
        case((atoms.over(atom, codes), 1), (not_(atoms.over(atom, codes)), 0), else_=2).label(f"stored{i}")
        for i, atom in enumerate(STORED_ATOMS)
    ]
    rows = db.execute(select(F.id, *live, *stored)).all()
    assert len(rows) == 11
    n = len(STORED_ATOMS)
    for row in rows:
        assert tuple(row[1 : n + 1]) == tuple(row[n + 1 :]), row.id
    assert any(row[1 + 5] == 2 for row in rows)  # responded_at <= deadline unknown for R1


def test_conditions_read_from_the_stored_code_hold_for_the_rows_they_held_for(db, history):
    # the percentile queries read their conditions' stored atoms from static_code (PostgreSQL)
    r1 = db.get(WorkOrder, history["R1"])
    r1.responded_at = None  # a NULL comparison kept too
    db.commit()
    f = ReportFilter(date_from=date(2026, 9, 1), date_to=date(2026, 11, 1))
    conditions = {name: which for name, (which, _value) in figures._duration_sources(f).items()}
    conditions |= {name: on_facts(cond) for name, cond in measures.order_predicates(f).items()}
    stored = Atoms(STORED_ATOMS, F.static_code)
    read = {name: stored.read_stored(cond) for name, cond in conditions.items()}
    assert "static_code" in str(read["restore"].compile())  # the kind and state read from the code
    assert "kind" not in str(read["restore"].compile())
    for name, cond in conditions.items():
        answers = [case((c, 1), (not_(c), 0), else_=2) for c in (cond, read[name])]
        rows = db.execute(select(F.id, *answers)).all()
        assert len(rows) == 11
        for row in rows:
            assert row[1] == row[2], (name, row.id)


def test_the_migration_made_the_duration_indexes_of_today():
    # changing a duration's conditions needs a migration that makes its index again
    versions = Path(__file__).parents[2] / "migrations" / "versions"
    path = versions / "a15h00000001_report_duration_value_order.py"
    spec = importlib.util.spec_from_file_location("duration_indexes_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    today = {name: (where, key, include) for name, (_index, where, key, include) in DURATION_INDEXES.items()}
    assert module.DURATION_INDEXES == today
    assert all(index == f"ix_report_order_facts_{name}" for name, (index, *_) in DURATION_INDEXES.items())
