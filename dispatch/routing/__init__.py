"""The optimizer: pure Python over OR-Tools and numba, no Flask, no database.

``problem`` (plain dataclasses in, a plain plan out), ``matrix`` (travel
times), ``settings`` (how to search), ``model`` (the OR-Tools routing model),
``construction`` and ``kernels`` (the compiled ruin-and-recreate first plan),
``search`` (solving the model and reading the plan back), ``decomposition``
(big days by district), ``insertion`` (one order into a planned day) and
``solver`` (the entry point, :func:`solve`).
"""

from dispatch.routing.problem import Plan, Problem, TechnicianSpec, VisitSpec
from dispatch.routing.settings import SearchSettings
from dispatch.routing.solver import solve

__all__ = ["Plan", "Problem", "SearchSettings", "TechnicianSpec", "VisitSpec", "solve"]
