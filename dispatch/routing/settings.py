"""How the optimizer searches: small nested settings, the defaults suit a dispatch day.

``SearchSettings`` groups what the model holds (:class:`ModelSettings`), how the
first plan is built (:class:`ConstructionSettings`), how OR-Tools searches from
it (:class:`LocalSearchSettings`, with its ruin step in :class:`RuinSettings`),
and the resources (worker threads or processes, the size above which a day is
split by district, the seed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

ProgressCallback = Callable[[dict[str, Any]], None]
CancelHook = Callable[[], bool]


@dataclass(frozen=True)
class ModelSettings:
    """What the routing model holds.

    ``optional_visits=False`` makes every order mandatory (no drop), as the
    Solomon benchmark wants. ``compact_days`` starts each technician as late
    and brings them back as early as their route allows.
    ``out_of_area_cost_m`` is the price (metres of driving) of a visit outside
    the districts its technician covers, when they prefer but are not bound to
    them. ``fair_work_m_per_min`` prices each minute of work on site a
    technician has above their fair share (the work they could do, shared
    among the technicians who could do it): it spreads the work evenly; 0 = off.
    """

    optional_visits: bool = True
    compact_days: bool = True
    out_of_area_cost_m: int = 5_000
    fair_work_m_per_min: int = 10


@dataclass(frozen=True)
class ConstructionSettings:
    """The first plan.

    ``method="sisr"``: built by :mod:`dispatch.routing.construction` (compiled
    ruin and recreate on the routing core, one thread per worker) for ``share``
    of the time, then checked and polished by OR-Tools with a descent; a plan
    the full model refuses falls back to OR-Tools' own search. Empty: OR-Tools
    builds the first plan and searches alone. On generated city days
    (``python -m bench city``) the construction cut travel by 20 % (1,000
    orders) and 12 % (2,000) with no breach or drop more.
    """

    method: str = "sisr"
    share: float = 0.9


@dataclass(frozen=True)
class RuinSettings:
    """The ruin step of OR-Tools' iterated local search: SISR strings, and with
    a positive ``random_walk_removed`` a random walk picked at random instead."""

    avg_removed: int = 15
    max_sequence: int = 10
    random_walk_removed: int = 0


@dataclass(frozen=True)
class LocalSearchSettings:
    """OR-Tools' search.

    ``first_solution`` and ``metaheuristic`` are names from OR-Tools'
    ``FirstSolutionStrategy`` and ``LocalSearchMetaheuristic``.
    ``iterated_local_search`` switches to OR-Tools' ruin-and-recreate search
    with simulated-annealing acceptance, a descent after each ruin when
    ``improve_after_ruin``, and (with ``lean_operators``) only the cheap
    local-search operators. ``extra`` sets any other search parameter by its
    dotted path (experiments).
    """

    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GREEDY_DESCENT"
    iterated_local_search: bool = True
    gls_lambda: float | None = None
    ruin: RuinSettings = field(default_factory=RuinSettings)
    improve_after_ruin: bool = True
    sa_initial_temperature: float | None = None
    lean_operators: bool = True
    log_search: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SearchSettings:
    """How hard and how to search."""

    model: ModelSettings = field(default_factory=ModelSettings)
    construction: ConstructionSettings = field(default_factory=ConstructionSettings)
    local_search: LocalSearchSettings = field(default_factory=LocalSearchSettings)
    # Days larger than this are split by district (dispatch.routing.decomposition).
    decompose_above_visits: int = 300
    workers: int = 2
    seed: int = 0

    def with_local_search(self, **changes: Any) -> SearchSettings:
        return replace(self, local_search=replace(self.local_search, **changes))

    @property
    def constructs(self) -> bool:
        """Whether the first plan comes from the compiled construction."""
        return self.construction.method == "sisr"

    @classmethod
    def from_dict(cls, data: dict[str, Any], base: SearchSettings | None = None) -> SearchSettings:
        """Settings from nested JSON-like data over ``base`` (the defaults):
        ``{"construction": {"share": 0.8}, "workers": 1}``. Unknown names raise."""
        return _merge(base or cls(), data)


_Settings = TypeVar("_Settings", bound="DataclassInstance")


def _merge(current: _Settings, changes: dict[str, Any]) -> _Settings:
    names = {f.name for f in fields(current)}
    unknown = set(changes) - names
    if unknown:
        raise ValueError(f"unknown settings for {type(current).__name__}: {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, value in changes.items():
        old = getattr(current, name)
        nested = is_dataclass(old) and isinstance(value, dict)  # a group of settings, merged in turn
        values[name] = _merge(old, value) if nested else value
    return replace(current, **values)
