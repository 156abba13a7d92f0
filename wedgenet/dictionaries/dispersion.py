"""Maximum chamber diameter ``D(X)`` (paper Definition 3, eq. 16): the ``eps`` of the p=2 bound.

``D(X) = max ||w - v||_2`` over unit vectors ``w, v`` with ``sign(X w) = sign(X v)``.  The p=2
dictionaries are within ``1/(1 - eps)`` of the optimum when ``D(X) <= eps < 1`` (Thm 5, 17), or,
with biases, when ``D(X - 1 x_j^T) <= eps`` for every ``j`` (locally eps-dispersed, Thm 3, 5).

Exact values are computed for ``d <= 2``: in the plane the chambers are angular sectors between
consecutive lines ``x_i^T w = 0``, and a sector of angle ``theta <= pi`` has diameter
``2 sin(theta / 2)``.  For ``d = 1`` each chamber is a single unit vector and ``D = 0``.
"""

from __future__ import annotations

import numpy as np

from .._linalg import row_norms
from .._validation import as_float_array

__all__ = ["max_chamber_diameter"]


def _diameter_2d(A: np.ndarray) -> float:
    A = A[row_norms(A) > 0]
    if A.shape[0] == 0:
        return 2.0  # no hyperplane: the whole circle is one chamber
    # angle of each line {w : a.w = 0} modulo pi: the line's direction is perpendicular to a
    ang = np.sort(np.mod(np.arctan2(A[:, 0], -A[:, 1]), np.pi))
    gaps = np.diff(np.r_[ang, ang[0] + np.pi])
    theta = float(gaps.max())
    return float(2.0 * np.sin(min(theta, np.pi) / 2.0))


def max_chamber_diameter(X, *, bias: bool = False) -> float:
    """``D(X)``, or ``max_j D(X - 1 x_j^T)`` with ``bias=True`` (exact for ``d <= 2``).

    Returns a value in ``[0, 2]``; the p=2 bound ``1/(1 - eps)`` is informative only when it is
    below 1.
    """
    Xa = as_float_array("X", X, ndim=2)
    n, d = Xa.shape
    if d > 2:
        raise ValueError(
            f"the exact maximum chamber diameter is implemented for d <= 2 (got d={d}); for "
            "Gaussian data the paper's bound D(X) <= 9 (d/n)^(1/4) applies with high probability"
        )
    if d == 1:
        return 0.0 if np.any(Xa != 0) else 2.0
    if not bias:
        return _diameter_2d(Xa)
    return max(_diameter_2d(np.delete(Xa - Xa[j], j, axis=0)) for j in range(n))
