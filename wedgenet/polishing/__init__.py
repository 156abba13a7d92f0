"""Polishing trained ReLU networks onto cross products of training samples (paper section 4.1).

Modules: :mod:`.selection` (nearest samples, batched cross products, rank-deficient data),
:mod:`.refit` (the convex refit as a weighted Lasso, rebalancing), :mod:`.adapters` (torch
``nn.Sequential`` and numpy weights, Conv2d unfolding), :mod:`.report`.
"""

from .. import _cache  # noqa: F401  (first: numba caches the kernels below in the user cache, not site-packages)
from .api import polish
from .report import LayerReport, NeuronReport, PolishReport
from .selection import polish_weights

__all__ = ["polish", "polish_weights", "PolishReport", "LayerReport", "NeuronReport"]
