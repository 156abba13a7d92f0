"""Signed distances to spans and affine hulls (docs/conventions.md#geometric-algebra).

* ``dist(x, Span(u_1..u_{d-1})) = <c, x> / ||c||_2`` with ``c = cross(u)``;
* ``dist(x, Aff(u_1..u_d)) = <c, x - u_d> / ||c||_2`` with ``c = cross(u_1-u_d, ..., u_{d-1}-u_d)``.

These are the columns of the p=2 dictionaries (Theorems 3, 5, 15, 17) before the ReLU.
"""

from __future__ import annotations

import numpy as np

from .._linalg import unit_rows
from .._validation import as_float_array, check_nonneg_float
from ._kernels import cross_batch_exp
from .products import DEFAULT_RTOL, _as_stack

__all__ = ["dist_to_span", "dist_to_affine"]


def _unit_normals(name: str, rows: np.ndarray, rtol: float) -> np.ndarray:
    """Unit normals ``cross(rows) / ||cross(rows)||`` for ``rows`` ``(m..., d-1, d)``, from the
    mantissa/exponent kernel (never over- or underflows); ``ValueError`` for dependent rows."""
    d = rows.shape[-1]
    batch = rows.shape[:-2]
    flat = np.ascontiguousarray(rows.reshape((int(np.prod(batch, dtype=np.int64)), d - 1, d)))
    M, _ = cross_batch_exp(flat, check_nonneg_float("rtol", rtol))
    zero = ~np.any(M != 0.0, axis=-1)
    if np.any(zero):
        bad = np.unravel_index(int(np.argmax(zero)), batch) if batch else ()
        raise ValueError(
            f"{name}: the points are linearly (or affinely) dependent, so they do not define a "
            f"hyperplane (first offending batch index: {tuple(int(b) for b in bad)}). "
            "Drop or perturb the dependent points."
        )
    return unit_rows(M).reshape(batch + (d,))


def _check_x(x, d: int) -> np.ndarray:
    arr = as_float_array("x", x, min_ndim=1)
    if arr.shape[-1] != d:
        raise ValueError(f"x must have last dimension d={d} to match U; got shape {arr.shape}")
    return arr


def _point_exponents(xa: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each point divided by a power of two so its largest |entry| is in ``[0.5, 1)``."""
    e = np.frexp(np.max(np.abs(xa), axis=-1))[1].astype(np.int64)
    return np.ldexp(xa, -e[..., None]), e


def _finite(out: np.ndarray, what: str) -> np.ndarray:
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{what}: a distance exceeds the float64 range (about 1.8e308); rescale the input")
    return out


def dist_to_span(x, U, *, rtol: float = DEFAULT_RTOL) -> np.ndarray:
    """Signed distance from points ``x`` to the hyperplane ``Span(u_1, ..., u_{d-1})``.

    ``dist = <c, x> / ||c||_2`` with ``c = cross(U)``; positive on the side that ``c`` points
    to.  ``x`` is ``(..., d)``; ``U`` is ``(d-1, d)`` or a batch ``(m..., d-1, d)``.  The result
    has shape ``x.shape[:-1] + U.shape[:-2]``.  For ``d = 1`` the span of no vectors is
    ``{0}`` and the distance is ``x`` itself.

    Scale-safe over the whole float64 range: the unit normal comes from the mantissa/exponent
    cross product, and each point is divided by a power of two before the inner product and
    multiplied back after (exact).  Dependence uses ``rtol`` as in :func:`wedgenet.cross`
    (invariant to scaling the data or its features); a distance beyond the float64 range
    raises ``ValueError``.
    """
    Ua = _as_stack("U", U, rows_minus_cols=-1)
    xa = _check_x(x, Ua.shape[-1])
    n = _unit_normals("U", Ua, rtol)
    xs, ex = _point_exponents(xa)
    r = np.tensordot(xs, n, axes=([-1], [-1]))  # |r| <= sqrt(d)
    ex = ex.reshape(ex.shape + (1,) * (n.ndim - 1))
    with np.errstate(over="ignore"):
        return _finite(np.ldexp(r, ex), "dist_to_span")


def dist_to_affine(x, U, *, rtol: float = DEFAULT_RTOL) -> np.ndarray:
    """Signed distance from points ``x`` to the affine hull of ``d`` points ``u_1..u_d`` in ``R^d``.

    ``dist = <c, x - u_d> / ||c||_2`` with ``c = cross(u_1 - u_d, ..., u_{d-1} - u_d)``.
    ``x`` is ``(..., d)``; ``U`` is ``(d, d)`` (rows are the points) or a batch
    ``(m..., d, d)``.  The result has shape ``x.shape[:-1] + U.shape[:-2]``.  For ``d = 1``
    the hull of one point ``u`` is ``{u}`` and the distance is ``x - u``.

    Scale-safe: each hull is divided by a power of two (its largest |entry| in ``[0.5, 1)``, so
    differences cannot overflow), each point likewise, and ``<n, x> - <n, u_d>`` is formed at
    the larger of the two exponents; a distance beyond the float64 range raises ``ValueError``.
    """
    Ua = _as_stack("U", U, rows_minus_cols=0)
    d = Ua.shape[-1]
    xa = _check_x(x, d)
    batch = Ua.shape[:-2]
    flat = Ua.reshape((-1, d, d))
    amax = np.max(np.abs(flat), axis=(-2, -1))
    eU = np.frexp(amax)[1].astype(np.int64)
    Us = np.ldexp(flat, -eU[:, None, None])
    last = Us[:, -1, :]
    n = _unit_normals("U", Us[:, :-1, :] - last[:, None, :], rtol)  # (N, d)
    b = np.sum(n * last, axis=-1)  # (N,), |b| <= sqrt(d)
    xs, ex = _point_exponents(xa)
    a = np.tensordot(xs, n, axes=([-1], [-1]))  # x.shape[:-1] + (N,)
    exb = ex[..., None]
    e = np.maximum(exb, eU)
    with np.errstate(over="ignore"):
        out = np.ldexp(np.ldexp(a, exb - e) - np.ldexp(b, eU - e), e)
    return _finite(out, "dist_to_affine").reshape(xa.shape[:-1] + batch)
