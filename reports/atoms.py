"""Many FILTERed counts and means in one cheap grouped scan.

A report counts some thirty figures over the same orders, each a predicate; asked row by row,
that is thirty predicates per order, most of the report's time on a year of orders. The
predicates are made of far fewer comparisons (their atoms: ``completed_at < :at``,
``kind = 'repair'``, ...), and a row's answer to every predicate follows from its answers to
the atoms. So the scan reads each atom once per row, packs the answers into one integer (two
bits an atom: true, false, or NULL, which SQL's three-valued logic keeps apart), and groups
the rows by (group, code): a few hundred groups with their row counts and the sums of the
values to average. An outer query over those groups asks every predicate again with each
atom read back from the code: the same predicate, answered by the database, NULLs included,
so a figure counted this way is the figure counted row by row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Integer,
    Select,
    and_,
    case,
    cast,
    false,
    func,
    literal_column,
    null,
    select,
    true,
)
from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import (
    BinaryExpression,
    BindParameter,
    BooleanClauseList,
    ColumnElement,
    Grouping,
    UnaryExpression,
)
from sqlalchemy.sql.schema import Column

from reports.sql import grouping_of

CODE_BITS = 62  # of a signed 64-bit integer


def _is_connective(element: Any) -> bool:
    """AND, OR, NOT and parentheses: the structure above the atoms."""
    if isinstance(element, (BooleanClauseList, Grouping)):
        return True
    return isinstance(element, UnaryExpression) and element.operator in (
        operators.inv,
        operators.is_false,  # AsBoolean: NOT (x)
        operators.is_true,  # AsBoolean: x
    )


def _children(element: Any) -> Sequence[Any]:
    if isinstance(element, BooleanClauseList):
        return element.clauses
    return [element.element]


def _int(value: int) -> ColumnElement:
    """A small integer written into the statement (not a parameter: the same for every report)."""
    return literal_column(str(value), Integer)


def _key(atom: ColumnElement) -> tuple:
    """What tells atoms apart: their structure and the values they compare with."""
    cache_key = atom._generate_cache_key()
    if cache_key is None:  # an element SQLAlchemy cannot key: only itself is itself
        return (id(atom),)
    values = tuple(
        tuple(value) if isinstance(value := bind.effective_value, list) else value
        for bind in cache_key.bindparams
    )
    return (cache_key.key, values)


def _never_null(atom: Any) -> bool:
    """Whether ``atom`` is true or false on every row (IS tests; comparisons of NOT NULL
    columns with values), so one bit holds its answer."""
    if not isinstance(atom, BinaryExpression):
        return False
    if atom.operator in (operators.is_, operators.is_not):
        return True
    return _not_null(atom.left) and _not_null(atom.right)


def _not_null(element: Any) -> bool:
    if isinstance(element, Column):
        return element.nullable is False
    if isinstance(element, BindParameter):
        values = element.value if element.expanding else [element.value]
        return values is not None and all(value is not None for value in values)
    return False


def _weight(value: int) -> ColumnElement:
    """A code's part, a 64-bit integer written into the statement."""
    if value < 2**31:
        return literal_column(str(value), BigInteger)
    return cast(literal_column(str(value)), BigInteger)


class Atoms:
    """The distinct atoms of a set of predicates, each with its place in the codes.

    An atom whose negation is already one (``a > b`` of ``a <= b``, ``x IS NULL`` of
    ``x IS NOT NULL``, ``s != v`` of ``s = v``) is read as NOT that one: the two agree in
    three-valued logic too (NOT NULL is NULL), and the codes stay short. An atom that is
    never NULL takes one bit, the others two (1 true, 0 false, 2 NULL).

    ``stored`` atoms are already answered in ``stored_code``, a column the database keeps
    (``reports.facts.STORED_ATOMS``): they are read from it instead of asked row by row; it is
    the first code, laid out as ``layout`` lays them out."""

    def __init__(
        self, stored: Sequence[ColumnElement] = (), stored_code: ColumnElement | None = None
    ) -> None:
        self.atoms: list[ColumnElement] = []
        # id() of an atom element met -> (its atom's place, whether it is that atom's negation)
        self._index: dict[int, tuple[int, bool]] = {}
        self._layout: list[tuple[int, int, int]] = []  # per atom: (code, shift, bits)
        self._by_key: dict[tuple, tuple[int, bool]] = {}  # _key() of an atom -> as in _index
        self._decoded: dict[tuple[int, bool], ColumnElement] = {}
        self._stored_code = stored_code
        self._live_from = -1  # set once the stored atoms are in
        for atom in stored if stored_code is not None else ():
            self._add(atom)
        self._live_from = len(self.atoms)  # the atoms after these are asked row by row

    def collect(self, predicate: ColumnElement) -> None:
        if _is_connective(predicate):
            for child in _children(predicate):
                self.collect(child)
            return
        if id(predicate) in self._index:
            return
        found = self._by_key.get(_key(predicate))
        if found is None:
            found = self._by_key.get(_key(~predicate))
            found = None if found is None else (found[0], not found[1])
        if found is not None:
            self._index[id(predicate)] = found
            return
        self._add(predicate)

    def _add(self, atom: ColumnElement) -> None:
        self._index[id(atom)] = (len(self.atoms), False)
        self._by_key[_key(atom)] = (len(self.atoms), False)
        bits = 1 if _never_null(atom) else 2
        code, shift = self._layout[-1][:2] if self._layout else (0, 0)
        if self._layout:
            shift += self._layout[-1][2]
        first_live = self._stored_code is not None and len(self.atoms) == self._live_from
        if shift + bits > CODE_BITS or first_live:
            code, shift = code + 1, 0
        self._layout.append((code, shift, bits))
        self.atoms.append(atom)

    def codes(self) -> list[ColumnElement]:
        """Integers per row holding every atom's answer (CODE_BITS bits each at most)."""
        terms: list[list[ColumnElement]] = [[] for _ in range(self._layout[-1][0] + 1 if self._layout else 1)]
        live = zip(self.atoms[self._live_from :], self._layout[self._live_from :], strict=True)
        for atom, (code, shift, bits) in live:
            # constants chosen by CASE: the atom is asked once and nothing is multiplied
            weight = 1 << shift
            if bits == 1:
                answer = case((atom, _weight(weight)), else_=_weight(0))
            else:
                answer = case(
                    (true(), _weight(weight)), (false(), _weight(0)), value=atom, else_=_weight(2 * weight)
                )
            terms[code].append(answer)
        found = []
        for parts in terms:
            if self._stored_code is not None and not found:
                found.append(self._stored_code)
                continue
            code_value = parts[0] if parts else literal_column("0", BigInteger)
            for part in parts[1:]:
                code_value = code_value + part
            found.append(code_value)
        return found

    def over(self, predicate: ColumnElement, codes: Sequence[ColumnElement]) -> ColumnElement:
        """``predicate`` with each of its atoms read back from ``codes`` (true, false or NULL)."""

        def replace(element: Any) -> ColumnElement | None:
            found = self._index.get(id(element))
            if found is None:
                return None
            if found not in self._decoded:  # one expression per atom, shared by the predicates
                self._decoded[found] = self._answer(found, codes)
            return self._decoded[found]

        return visitors.replacement_traverse(predicate, {}, replace)

    def read_stored(self, predicate: ColumnElement) -> ColumnElement:
        """``predicate`` with each stored atom in it (or its negation) read from the stored
        code, the other comparisons asked as they are: the same answers, NULLs included, for a
        few integer operations a row instead of comparing texts."""
        if self._stored_code is None:
            return predicate
        codes = [self._stored_code]

        def replace(element: Any) -> ColumnElement | None:
            found = self._stored(element)
            return None if found is None else self._answer(found, codes)

        return visitors.replacement_traverse(predicate, {}, replace)

    def _stored(self, element: Any) -> tuple[int, bool] | None:
        """The place of ``element`` among the stored atoms (and whether it is that atom's
        negation), or None if it is not one."""
        if self._stored_code is None or not isinstance(element, BinaryExpression):
            return None
        found = self._by_key.get(_key(element))
        if found is None:
            negation = self._by_key.get(_key(~element))
            found = None if negation is None else (negation[0], not negation[1])
        return None if found is None or found[0] >= self._live_from else found

    def stored_and_live(self, predicate: ColumnElement) -> tuple[list[ColumnElement], list[ColumnElement]]:
        """The conjuncts of ``predicate`` (an AND) that the stored code answers, read from it, and
        the others as they are."""
        stored, live = [], []
        for conjunct in _conjuncts(predicate):
            found = self._stored(conjunct)
            if found is None:
                live.append(conjunct)
            else:
                stored.append(self._answer(found, [self._stored_code]))
        return stored, live

    def _answer(self, found: tuple[int, bool], codes: Sequence[ColumnElement]) -> ColumnElement:
        """The atom at ``found`` (its place, whether negated) read from ``codes``: a one-bit atom
        as a bit test (never NULL), a two-bit one as true, false or NULL."""
        place, negated = found
        code, shift, bits = self._layout[place]
        if bits == 1:
            bit = codes[code].op("&", return_type=BigInteger)(_weight(1 << shift))
            return bit == _int(0) if negated else bit != _int(0)
        shifted = codes[code].op(">>", return_type=BigInteger)(literal_column(str(shift), Integer))
        answer = shifted.op("&", return_type=BigInteger)(_int((1 << bits) - 1))
        yes, no = (false(), true()) if negated else (true(), false())
        return case((answer == _int(1), yes), (answer == _int(0), no), else_=null())


def _conjuncts(predicate: ColumnElement) -> list[ColumnElement]:
    if isinstance(predicate, Grouping):
        return _conjuncts(predicate.element)
    if isinstance(predicate, BooleanClauseList) and predicate.operator is operators.and_:
        return [part for clause in predicate.clauses for part in _conjuncts(clause)]
    return [predicate]


def by_group(rows: Any) -> dict[Any, dict[str, Any]]:
    """``grouped_counts_statement``'s rows by group: each group's figures by name."""
    return {row.g: {name: value for name, value in row._mapping.items() if name != "g"} for row in rows}


def grouped_counts_statement(
    from_: Any,
    where: Sequence[ColumnElement],
    group: ColumnElement | None,
    counts: Mapping[str, ColumnElement],
    sums: Mapping[str, tuple[ColumnElement, ColumnElement]],
    stored: Sequence[ColumnElement] = (),
    stored_code: ColumnElement | None = None,
) -> Select:
    """Per ``group`` (None: one group keyed "all"), over ``from_`` filtered by ``where``:
    for each of ``counts`` (name -> predicate) the number of rows it holds for, and for each
    of ``sums`` (name -> (predicate, value)) ``{name}_sum`` and ``{name}_n``, the sum and the
    number of the non-NULL values over the rows the predicate holds for (an average is the one
    over the other, as ``avg(value) FILTER (WHERE predicate)`` would answer). ``stored`` and
    ``stored_code``: atoms ``from_`` keeps answered (see ``Atoms``). Its rows are read by
    ``by_group``."""
    atoms = Atoms(stored, stored_code)
    for predicate in counts.values():
        atoms.collect(predicate)
    # a value's count is that of the rows where it is there: one more atom (often a stored one)
    present = {name: and_(predicate, value.isnot(None)) for name, (predicate, value) in sums.items()}
    for predicate in present.values():
        atoms.collect(predicate)
    values: list[ColumnElement] = []
    value_of: dict[str, int] = {}
    for name, (_predicate, value) in sums.items():
        place = next((i for i, seen in enumerate(values) if seen.compare(value)), None)
        if place is None:
            place = len(values)
            values.append(value)
        value_of[name] = place
    codes = atoms.codes()
    key = group if group is not None else literal_column("'all'")
    inner_columns = [key.label("g"), *(code.label(f"code{i}") for i, code in enumerate(codes))]
    inner_columns.append(func.count().label("n"))
    for place, value in enumerate(values):
        inner_columns.append(func.sum(value).label(f"s{place}"))
    inner: Select = select(*inner_columns).select_from(from_).where(*where)
    inner = inner.group_by(*([grouping_of(group)] if group is not None else []), *codes)
    rows = inner.subquery("by_code")
    read = [rows.c[f"code{i}"] for i in range(len(codes))]
    outer_columns = [rows.c.g]
    for name, predicate in counts.items():
        outer_columns.append(func.sum(rows.c.n).filter(atoms.over(predicate, read)).label(name))
    for name, (predicate, _value) in sums.items():
        place = value_of[name]
        summed = func.sum(rows.c[f"s{place}"]).filter(atoms.over(predicate, read))
        outer_columns.append(summed.label(f"{name}_sum"))
        outer_columns.append(func.sum(rows.c.n).filter(atoms.over(present[name], read)).label(f"{name}_n"))
    return select(*outer_columns).group_by(rows.c.g)


def stored_code_sql(atoms: Sequence[ColumnElement]) -> str:
    """The SQL (PostgreSQL's and SQLite's alike) of a generated column answering ``atoms``
    laid out as ``Atoms(atoms, column)`` reads them: for a migration to freeze."""
    layout = Atoms(atoms, literal_column("stored"))._layout
    parts = []
    for atom, (_code, shift, bits) in zip(atoms, layout, strict=True):
        text = str(atom.compile(compile_kwargs={"literal_binds": True}))
        text = text.replace(f"{_atom_table(atom)}.", "")
        weight = 1 << shift
        if bits == 1:
            parts.append(f"CASE WHEN {text} THEN {weight} ELSE 0 END")
        else:
            parts.append(f"CASE WHEN {text} THEN {weight} WHEN NOT ({text}) THEN 0 ELSE {2 * weight} END")
    return " + ".join(parts)


def _atom_table(atom: ColumnElement) -> str:
    """The name of the one table ``atom`` reads."""
    names = {column.table.name for column in visitors.iterate(atom) if isinstance(column, Column)}
    (name,) = names
    return name
