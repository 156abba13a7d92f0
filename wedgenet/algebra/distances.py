"""Signed distances to spans and affine hulls (docs/conventions.md#geometric-algebra).

* ``dist(x, Span(u_1..u_{d-1})) = <c, x> / ||c||_2`` with ``c = cross(u)``;
* ``dist(x, Aff(u_1..u_d)) = <c, x - u_d> / ||c||_2`` with ``c = cross(u_1-u_d, ..., u_{d-1}-u_d)``.

These are the columns of the p=2 dictionaries (Theorems 3, 5, 15, 17) before the ReLU.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array
from .products import DEFAULT_RTOL, _as_stack, cross

__all__ = ["dist_to_span", "dist_to_affine"]


def _unit_normals(name: str, C: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(C, axis=-1)
    if np.any(norms == 0):
        bad = np.argwhere(np.atleast_1d(norms == 0))
        raise ValueError(
            f"{name}: the points are linearly (or affinely) dependent, so they do not define a "
            f"hyperplane (first offending batch index: {tuple(bad[0]) if bad.size else ()}). "
            "Drop or perturb the dependent points."
        )
    return C / norms[..., None]


def _check_x(x, d: int) -> np.ndarray:
    arr = as_float_array("x", x, min_ndim=1)
    if arr.shape[-1] != d:
        raise ValueError(f"x must have last dimension d={d} to match U; got shape {arr.shape}")
    return arr


def dist_to_span(x, U, *, rtol: float = DEFAULT_RTOL) -> np.ndarray:
    """Signed distance from points ``x`` to the hyperplane ``Span(u_1, ..., u_{d-1})``.

    ``dist = <c, x> / ||c||_2`` with ``c = cross(U)``; positive on the side that ``c`` points
    to.  ``x`` is ``(..., d)``; ``U`` is ``(d-1, d)`` or a batch ``(m..., d-1, d)``.  The result
    has shape ``x.shape[:-1] + U.shape[:-2]``.  For ``d = 1`` the span of no vectors is
    ``{0}`` and the distance is ``x`` itself.
    """
    Ua = _as_stack("U", U, rows_minus_cols=-1)
    xa = _check_x(x, Ua.shape[-1])
    n = _unit_normals("U", cross(Ua, rtol=rtol))
    return np.tensordot(xa, n, axes=([-1], [-1]))


def dist_to_affine(x, U, *, rtol: float = DEFAULT_RTOL) -> np.ndarray:
    """Signed distance from points ``x`` to the affine hull of ``d`` points ``u_1..u_d`` in ``R^d``.

    ``dist = <c, x - u_d> / ||c||_2`` with ``c = cross(u_1 - u_d, ..., u_{d-1} - u_d)``.
    ``x`` is ``(..., d)``; ``U`` is ``(d, d)`` (rows are the points) or a batch
    ``(m..., d, d)``.  The result has shape ``x.shape[:-1] + U.shape[:-2]``.  For ``d = 1``
    the hull of one point ``u`` is ``{u}`` and the distance is ``x - u``.
    """
    Ua = _as_stack("U", U, rows_minus_cols=0)
    xa = _check_x(x, Ua.shape[-1])
    last = Ua[..., -1, :]
    n = _unit_normals("U", cross(Ua[..., :-1, :] - last[..., None, :], rtol=rtol))
    offset = np.sum(n * last, axis=-1)  # (m...)
    return np.tensordot(xa, n, axes=([-1], [-1])) - offset
