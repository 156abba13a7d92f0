"""Exterior-algebra products in coordinates: cross, wedge, Hodge star, signed volume.

Vectors are rows.  A k-vector in ``R^d`` is stored as its ``C(d, k)`` coefficients on the
basis blades ``e_I``, ``I`` running over ``itertools.combinations(range(d), k)`` (clifford's
blade order within a grade).  Signs follow docs/conventions.md#geometric-algebra:

* ``<cross(V), y> = det[y; v_1; ...; v_{d-1}]`` (paper Appendix 6.1, eq. 42);
* ``hodge_star(M) = M I^{-1}`` with ``I = e_1 ^ ... ^ e_d`` (clifford's ``MultiVector.dual()``);
* ``cross(V) = hodge_star(wedge(V), d, d-1)``.
"""

from __future__ import annotations

import itertools
import math
from functools import cache

import numpy as np

from .._linalg import unit_rows
from .._resources import check_allocation
from .._validation import as_float_array, check_bool, check_nonneg_float, check_positive_int
from ._kernels import cross_batch_exp

__all__ = ["DEFAULT_RTOL", "cross", "wedge", "hodge_star", "signed_volume", "blade_indices"]

#: Default relative tolerance below which a cross product is declared exactly zero: some row
#: lies within ``rtol * ||v_k||`` of the span of the rows before it.
DEFAULT_RTOL = 1e-12

#: bytes of Python objects per basis blade in the cached blade tables (a tuple of k ints, the
#: dict entry of the Hodge table, the int objects): a conservative estimate for the size check
_BYTES_PER_BLADE = 200

_RANGE_HINT = "outside the float64 range; pass unit=True for the direction, or rescale the input"


def _from_exponent(M: np.ndarray, E: np.ndarray, what: str) -> np.ndarray:
    """``M * 2**E`` (finite ``M`` ``(N, c)``, ``E`` ``(N,)``), or a ``ValueError`` when a nonzero
    row's largest entry would be ``>= 2^1024`` (overflow) or, after a nonzero rescaling
    ``E``, ``< 2^-1022`` (below the normal range, where precision is lost or the value becomes 0)."""
    if not np.any(E):  # the kernel's plain result (no rescaling): finite, nothing to check
        return M
    amax = np.max(np.abs(M), axis=-1)
    total = E + np.frexp(amax)[1]  # largest entry in [2^(total-1), 2^total)
    # E = 0: M holds the computed value itself (a subnormal there is the exact d = 2 result)
    bad = (amax > 0.0) & ((total > 1024) | ((total < -1021) & (E != 0)))
    if np.any(bad):
        t = int(np.argmax(bad))
        raise ValueError(f"{what}: batch element {t} has magnitude about 2^{int(total[t])}, {_RANGE_HINT}")
    E = np.where(amax > 0.0, E, 0)
    return np.ldexp(M, E[:, None].astype(np.int32))


def _as_stack(name: str, V, *, rows_minus_cols: int) -> np.ndarray:
    """Validate a stack of matrices of shape ``(..., d + rows_minus_cols, d)``."""
    arr = as_float_array(name, V, min_ndim=2, allow_empty=True)
    d = arr.shape[-1]
    k = arr.shape[-2]
    if d == 0:
        raise ValueError(f"{name} has vectors of dimension 0 (shape {arr.shape})")
    if k != d + rows_minus_cols:
        raise ValueError(
            f"{name} must have shape (..., {d + rows_minus_cols}, {d}) for vectors in R^{d}; got {arr.shape}"
        )
    if int(np.prod(arr.shape[:-2], dtype=np.int64)) == 0:
        raise ValueError(f"{name} is an empty batch (shape {arr.shape})")
    return arr


def cross(V, *, rtol: float = DEFAULT_RTOL, unit: bool = False) -> np.ndarray:
    """Generalized cross product of ``d-1`` vectors in ``R^d``, batched.

    ``c = cross(V)`` is the unique vector with ``<c, y> = det[y; v_1; ...; v_{d-1}]`` for
    every ``y`` (cofactor expansion along the first row; docs/conventions.md#geometric-algebra).  Equivalently
    ``c = *(v_1 ^ ... ^ v_{d-1})``.  ``||c||_2`` is the ``(d-1)``-volume of the parallelotope
    of the rows, and ``c`` is orthogonal to every row.

    Special cases: ``d = 2`` gives ``(a_2, -a_1)``; ``d = 3`` equals ``numpy.cross``;
    ``d = 1`` (no input vectors) gives ``(1,)``, since ``det[y] = y``.

    Cost ``O(d^3)`` per product: one Householder QR of ``V^T`` (``c = prod(diag R) q_d``),
    computed by a parallel numba kernel; d = 2, 3 use closed forms.

    Parameters
    ----------
    V : array_like, shape ``(..., d-1, d)``
        Rows are the vectors.
    rtol : float
        Rows are declared linearly dependent, and ``c`` is set to exactly ``0``, when some
        row is within relative distance ``rtol`` of the span of the rows before it:
        ``min_k dist(v_k, Span(v_1..v_{k-1})) / ||v_k||_2 <= rtol`` (scale-invariant and,
        unlike the Hadamard ratio ``||c||_2 / prod_i ||v_i||_2``, not shrinking with ``d``).
        The test is taken after each feature (column) is scaled by a power of two so that its
        largest |entry| lies in ``[0.5, 1)``: the decision is exactly invariant under
        power-of-two scalings of features and of the whole input, and the product is
        covariant, ``cross(V D) = det(D) D^{-1} cross(V)`` (docs/conventions.md, "Vectors and signs").
    unit : bool
        Return ``c / ||c||_2`` (dependent rows still give 0).  The unit normal exists at every
        input scale; computed from a mantissa/exponent form, it never over- or underflows.

    Returns
    -------
    ndarray, shape ``(..., d)``

    Raises
    ------
    ValueError
        With ``unit=False``, when a product's largest entry is not representable as a normal
        float64 (``>= 2^1024`` or ``< 2^-1022``): a silent ``inf`` or ``0`` would misstate it.
    """
    arr = _as_stack("V", V, rows_minus_cols=-1)
    rtol = check_nonneg_float("rtol", rtol)
    unit = check_bool("unit", unit)
    d = arr.shape[-1]
    batch = arr.shape[:-2]
    n_batch = int(np.prod(batch, dtype=np.int64))
    flat = np.ascontiguousarray(arr.reshape((n_batch, d - 1, d)))
    M, E = cross_batch_exp(flat, rtol)
    out = unit_rows(M) if unit else _from_exponent(M, E, "cross")
    return out.reshape(batch + (d,))


def signed_volume(V) -> np.ndarray:
    """Signed volume ``det[v_1; ...; v_d]`` of the parallelotope spanned by ``d`` rows in ``R^d``.

    Equals ``<v_1, cross(v_2, ..., v_d)>`` and the single coefficient of
    ``v_1 ^ ... ^ v_d`` on ``I``.  (The simplex with a vertex at the origin has volume
    ``signed_volume / d!``.)  Input ``(..., d, d)``, output ``(...)``.

    Scale-safe: each row is divided by a power of two (exact) before the LU determinant and
    the exponents are added back, so the value is right whenever it is a normal float64; a
    nonzero volume ``>= 2^1024`` or ``< 2^-1022`` raises ``ValueError`` instead of returning
    ``inf`` or ``0``.
    """
    arr = _as_stack("V", V, rows_minus_cols=0)
    d = arr.shape[-1]
    batch = arr.shape[:-2]
    flat, E = _normalize_row_exponents(arr.reshape((-1, d, d)))
    sign, logdet = np.linalg.slogdet(flat)
    det = np.linalg.det(flat)  # |det| <= 1: the rows have max-entry in [0.5, 1)
    M, e2 = np.frexp(det)
    # det underflowed although slogdet sees a nonzero value: rebuild it from the logarithm
    lost = (det == 0.0) & (sign != 0.0)
    if np.any(lost):
        L = logdet[lost] / math.log(2.0)
        e2[lost] = np.floor(L).astype(e2.dtype) + 1
        M[lost] = sign[lost] * np.exp2(L - e2[lost])
    out = _from_exponent(M[:, None], (E.sum(axis=-1) + e2).astype(np.int64), "signed_volume")
    return out[:, 0].reshape(batch)


def _normalize_row_exponents(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Divide every row of ``A`` (shape ``(..., k, d)``) by a power of two so that its largest
    |entry| lies in ``[0.5, 1)`` (zero rows stay zero); returns the scaled array and the
    exponents ``(..., k)``.  Exact: multilinear quantities (minors, volumes) of ``A`` are those
    of the result times ``2^(sum of exponents)``."""
    amax = np.max(np.abs(A), axis=-1)
    E = np.frexp(amax)[1]
    return np.ldexp(A, -E[..., None]), E.astype(np.int64)


@cache
def blade_indices(d: int, k: int) -> tuple[tuple[int, ...], ...]:
    """Basis blades of grade ``k`` in ``R^d``: ``tuple(itertools.combinations(range(d), k))``."""
    return tuple(itertools.combinations(range(d), k))


def wedge(V) -> np.ndarray:
    """Coefficients of the k-blade ``v_1 ^ ... ^ v_k`` for ``k`` rows in ``R^d``, batched.

    ``(v_1 ^ ... ^ v_k)_I = det(V[:, I])`` for ``I`` in ``itertools.combinations(range(d), k)``.
    Input ``(..., k, d)`` with ``1 <= k <= d``; output ``(..., C(d, k))``.

    Rows are scaled by powers of two before the minors are taken (exact), so no minor over-
    or underflows on the way; a blade whose largest coefficient is not a normal float64
    raises ``ValueError``.  The ``C(d, k)`` blade table and minors are sized against the
    memory this process can still allocate before anything is built
    (:func:`wedgenet._resources.check_allocation`).
    """
    arr = as_float_array("V", V, min_ndim=2)
    k, d = arr.shape[-2], arr.shape[-1]
    if k < 1 or k > d:
        raise ValueError(f"V must hold 1 <= k <= d rows of vectors in R^d; got shape {arr.shape}")
    if k == 1:
        return arr[..., 0, :].copy()
    batch = arr.shape[:-2]
    n_batch = int(np.prod(batch, dtype=np.int64))
    n_blades = math.comb(d, k)
    check_allocation(
        n_blades * (_BYTES_PER_BLADE + 8 * k) + 2 * n_batch * n_blades * 8 * (k * k + 1),
        f"wedge: {n_blades:.3g} coefficients of a {k}-blade in R^{d} (x{n_batch})",
    )
    flat, E = _normalize_row_exponents(arr.reshape((n_batch, k, d)))
    combos = np.array(blade_indices(d, k), dtype=np.intp)  # (C, k)
    minors = np.moveaxis(flat[:, :, combos], -3, -2)  # (N, C, k, k), entries <= 1
    dets = np.linalg.det(minors)  # |det| <= k^(k/2)
    amax = np.max(np.abs(dets), axis=-1)
    e2 = np.frexp(amax)[1]
    M = np.ldexp(dets, -e2[:, None])
    out = _from_exponent(M, E.sum(axis=-1) + e2, "wedge")
    return out.reshape(batch + (n_blades,))


def _basis_product(indices: list[int]) -> tuple[int, tuple[int, ...]]:
    """Sign and blade of the Euclidean geometric product ``e_{i1} e_{i2} ...``."""
    seq = list(indices)
    sign = 1
    # bubble sort, counting transpositions of distinct anticommuting vectors
    for a in range(len(seq)):
        for b in range(len(seq) - 1 - a):
            if seq[b] > seq[b + 1]:
                seq[b], seq[b + 1] = seq[b + 1], seq[b]
                sign = -sign
    out: list[int] = []
    for i in seq:  # e_i e_i = +1 in the Euclidean metric
        if out and out[-1] == i:
            out.pop()
        else:
            out.append(i)
    return sign, tuple(out)


@cache
def _hodge_table(d: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """For each grade-k blade, the position of its dual blade and the sign of ``e_I I^{-1}``."""
    src = blade_indices(d, k)
    dst_pos = {b: i for i, b in enumerate(blade_indices(d, d - k))}
    inv_sign = (-1) ** (d * (d - 1) // 2)  # I^{-1} = (-1)^{d(d-1)/2} I
    pos = np.empty(len(src), dtype=np.intp)
    sgn = np.empty(len(src))
    for i, blade in enumerate(src):
        s, rest = _basis_product(list(blade) + list(range(d)))
        pos[i] = dst_pos[rest]
        sgn[i] = s * inv_sign
    return pos, sgn


def hodge_star(B, d: int, k: int) -> np.ndarray:
    """Hodge dual ``*M = M I^{-1}`` of k-vectors given by coefficients, batched.

    ``I = e_1 ^ ... ^ e_d``; the result equals clifford's ``MultiVector.dual()``.
    Input ``(..., C(d, k))`` coefficients in ``combinations(range(d), k)`` order; output
    ``(..., C(d, d-k))`` in ``combinations(range(d), d-k)`` order.  The grade ``k`` must be
    given because ``C(d, k) = C(d, d-k)``.  The coefficient count is checked before any blade
    table is built, and the tables against the memory this process can still allocate.
    """
    d = check_positive_int("d", d)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= d:
        raise ValueError(f"k must be an integer grade in [0, d={d}]; got {k!r}")
    arr = as_float_array("B", B, min_ndim=1)
    n_src = math.comb(d, int(k))  # = C(d, d-k): checked before any blade table is built
    if arr.shape[-1] != n_src:
        raise ValueError(f"B must have {n_src} = C({d}, {k}) coefficients in its last axis; got {arr.shape}")
    check_allocation(
        n_src * (2 * _BYTES_PER_BLADE + 16 * d) + 2 * arr.nbytes,
        f"hodge_star: blade tables for C({d}, {k}) = {n_src:.3g} coefficients",
    )
    pos, sgn = _hodge_table(d, int(k))
    out = np.empty(arr.shape[:-1] + (n_src,))
    out[..., pos] = arr * sgn
    return out
