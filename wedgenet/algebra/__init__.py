"""Geometric-algebra kernels: wedge products, Hodge duals, cross products, volumes, distances."""

from .. import _cache  # noqa: F401  (first: numba caches the kernels below in the user cache, not site-packages)
from .combinations import (
    binomial_table,
    combinations_chunk,
    cross_from_indices,
    n_combinations,
    rank_combinations,
    unrank_combinations,
)
from .distances import dist_to_affine, dist_to_span
from .interop import from_clifford, to_clifford
from .products import DEFAULT_RTOL, blade_indices, cross, hodge_star, signed_volume, wedge

__all__ = [
    "DEFAULT_RTOL",
    "binomial_table",
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
