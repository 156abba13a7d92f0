"""wedgenet: ReLU neural networks from geometry.

Optimal weights of ReLU networks trained with standard regularisation are wedge products of
training samples (Pilanci, "From Complexity to Clarity").  wedgenet builds the wedge-product
dictionaries, solves the training problem as a convex program, and returns neurons that know
the training samples that define them.

The public names below are imported on first use (PEP 562 module ``__getattr__``), so ``import
wedgenet`` does not pay for numba, scikit-learn, cvxpy or scipy until a function needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Dictionary",
    "MemoryBudgetError",
    "__version__",
    "dictionary",
    "streamed_dictionary",
    "StreamedDictionary",
    "FitInterrupted",
    "FitSettings",
    "LamMax",
    "SamplingWarning",
    "SolverError",
    "fit",
    "fit_path",
    "lam_max",
    "polish",
    "PolishReport",
    "load",
    "Neuron",
    "WedgeNetwork",
    "WedgeClassifier",
    "WedgeRegressor",
    "WedgeClassifierCV",
    "WedgeRegressorCV",
    "cross",
    "cross_from_indices",
    "dist_to_affine",
    "dist_to_span",
    "from_clifford",
    "hodge_star",
    "signed_volume",
    "to_clifford",
    "wedge",
]

#: low-level names that moved to ``wedgenet.algebra`` (still reachable here, with a DeprecationWarning)
_MOVED = frozenset({"DEFAULT_RTOL", "blade_indices", "combinations_chunk", "n_combinations", "rank_combinations",
                    "unrank_combinations"})

#: Where each lazily exported name lives (a submodule of this package).  A name exported by another
#: module is added here and to ``__all__``; ``tests/install`` checks the two agree.
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        ["DEFAULT_RTOL", "blade_indices", "combinations_chunk", "cross", "cross_from_indices", "dist_to_affine",
         "dist_to_span", "from_clifford", "hodge_star", "n_combinations", "rank_combinations", "signed_volume",
         "to_clifford", "unrank_combinations", "wedge"],
        ".algebra",
    ),
    **dict.fromkeys(["Dictionary", "MemoryBudgetError", "StreamedDictionary", "dictionary", "streamed_dictionary"],
                    ".dictionaries"),
    **dict.fromkeys(["WedgeClassifier", "WedgeRegressor", "WedgeClassifierCV", "WedgeRegressorCV"], ".estimators"),
    **dict.fromkeys(["FitInterrupted", "LamMax", "SamplingWarning", "fit", "fit_path", "lam_max"], ".fitting"),
    "FitSettings": ".settings",
    "SolverError": ".solvers",
    **dict.fromkeys(["Neuron", "WedgeNetwork", "load"], ".network"),
    **dict.fromkeys(["PolishReport", "polish"], ".polishing"),
}

#: Submodules reachable as attributes (``wedgenet.plot``) without an explicit import.
_SUBMODULES = frozenset({"algebra", "beyond", "cli", "datasets", "dictionaries", "estimators", "exact", "fitting",
                         "inspect", "network", "plot", "polishing", "report", "settings", "solvers", "standardize"})

if TYPE_CHECKING:  # static analysers and IDEs see the eager imports
    from .algebra import (
        cross,
        cross_from_indices,
        dist_to_affine,
        dist_to_span,
        from_clifford,
        hodge_star,
        signed_volume,
        to_clifford,
        wedge,
    )
    from .dictionaries import Dictionary, MemoryBudgetError, StreamedDictionary, dictionary, streamed_dictionary
    from .estimators import WedgeClassifier, WedgeClassifierCV, WedgeRegressor, WedgeRegressorCV
    from .fitting import FitInterrupted, LamMax, SamplingWarning, fit, fit_path, lam_max
    from .network import Neuron, WedgeNetwork, load
    from .polishing import PolishReport, polish
    from .settings import FitSettings
    from .solvers import SolverError


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if name in _MOVED:
        import warnings

        warnings.warn(f"wedgenet.{name} moved to wedgenet.algebra.{name}", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(".algebra", __name__), name)
    if module is not None:
        value = getattr(importlib.import_module(module, __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)
