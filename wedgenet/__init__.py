"""wedgenet: ReLU neural networks from geometry.

Optimal weights of ReLU networks trained with standard regularisation are wedge products of
training samples (Pilanci, "From Complexity to Clarity").  wedgenet builds the wedge-product
dictionaries, solves the training problem as a convex program, and returns neurons that know
the training samples that define them.
"""

from .algebra import (
    DEFAULT_RTOL,
    blade_indices,
    combinations_chunk,
    cross,
    cross_from_indices,
    dist_to_affine,
    dist_to_span,
    from_clifford,
    hodge_star,
    n_combinations,
    rank_combinations,
    signed_volume,
    to_clifford,
    unrank_combinations,
    wedge,
)
from .dictionaries import Dictionary, MemoryBudgetError, StreamedDictionary, dictionary, streamed_dictionary
from .estimators import WedgeClassifier, WedgeRegressor
from .fitting import FitInterrupted, LamMax, SamplingWarning, fit, fit_path, lam_max
from .network import Neuron, WedgeNetwork, load
from .polish import PolishReport, polish

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_RTOL",
    "Dictionary",
    "MemoryBudgetError",
    "__version__",
    "dictionary",
    "streamed_dictionary",
    "StreamedDictionary",
    "FitInterrupted",
    "fit",
    "fit_path",
    "lam_max",
    "LamMax",
    "SamplingWarning",
    "polish",
    "PolishReport",
    "load",
    "Neuron",
    "WedgeNetwork",
    "WedgeClassifier",
    "WedgeRegressor",
    "blade_indices",
    "combinations_chunk",
    "cross",
    "cross_from_indices",
    "dist_to_affine",
    "dist_to_span",
    "from_clifford",
    "hodge_star",
    "n_combinations",
    "rank_combinations",
    "signed_volume",
    "to_clifford",
    "unrank_combinations",
    "wedge",
]
