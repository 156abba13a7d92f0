"""k-subsets of ``{0..n-1}`` in the combinatorial number system, and cross products over them.

A sorted k-subset ``c_0 < c_1 < ... < c_{k-1}`` has rank

    rank(c) = sum_i C(c_i, i + 1)

(the combinatorial number system).  Ranks enumerate all ``C(n, k)`` subsets in *colex* order
(ordered by the largest element, then the next largest, ...), and the rank of a subset does not
depend on ``n``, so a stream over ``[start, stop)`` needs no state beyond the two integers.
Ranks must fit in int64; larger problems are refused with a clear error.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .._linalg import unit_rows
from .._validation import as_float_array, as_index_array, check_bool, check_nonneg_float, check_positive_int
from ._kernels import cross_rows_exp
from .products import DEFAULT_RTOL, _from_exponent

__all__ = [
    "n_combinations",
    "binomial_table",
    "rank_combinations",
    "unrank_combinations",
    "combinations_chunk",
    "cross_from_indices",
]

_INT64_MAX = np.iinfo(np.int64).max


def n_combinations(n: int, k: int) -> int:
    """``C(n, k)`` as a Python int (exact, unbounded)."""
    n = check_positive_int("n", n, minimum=0)
    k = check_positive_int("k", k, minimum=0)
    return math.comb(n, k)


def binomial_table(n: int, k: int) -> np.ndarray:
    """int64 table ``T[a, j] = C(a, j)`` for ``0 <= a <= n``, ``0 <= j <= k``.

    Raises ``ValueError`` if ``C(n, k)`` does not fit in int64 (ranks would overflow).
    """
    total = math.comb(n, k)
    if total > _INT64_MAX:
        raise ValueError(
            f"C(n={n}, k={k}) = {total:.3e} subsets exceeds the int64 rank range; "
            "sample subsets (max_columns=...) instead of enumerating them"
        )
    return _pascal(n, k)


@nb.njit(cache=True)
def _pascal(n: int, k: int) -> np.ndarray:
    """Pascal's rule ``C(a, j) = C(a-1, j-1) + C(a-1, j)``, saturating at the int64 maximum:
    entries above ``C(n, k)`` (e.g. ``C(68, 34)`` when ``k = 60``) are never read, but must not
    overflow."""
    big = np.iinfo(np.int64).max
    T = np.zeros((n + 1, k + 1), dtype=np.int64)
    for a in range(n + 1):
        T[a, 0] = 1
    for a in range(1, n + 1):
        for j in range(1, min(a, k) + 1):
            x = T[a - 1, j - 1]
            y = T[a - 1, j]
            T[a, j] = big if x > big - y else x + y
    return T


@nb.njit(cache=True)
def unrank_one(r: np.int64, k: int, T: np.ndarray, out: np.ndarray) -> None:
    n = T.shape[0] - 1
    hi = n  # exclusive upper bound for c_{k-1} + 1 search
    for i in range(k - 1, -1, -1):
        # largest c < hi with C(c, i+1) <= r ; C(c, i+1) is nondecreasing in c
        lo_c = i
        hi_c = hi - 1
        while lo_c < hi_c:
            mid = (lo_c + hi_c + 1) // 2
            if T[mid, i + 1] <= r:
                lo_c = mid
            else:
                hi_c = mid - 1
        out[i] = lo_c
        r -= T[lo_c, i + 1]
        hi = lo_c


@nb.njit(cache=True, parallel=True)
def unrank_range(start: np.int64, stop: np.int64, k: int, T: np.ndarray) -> np.ndarray:
    """Subsets with ranks ``start .. stop-1`` (numba kernel; inputs assumed valid)."""
    N = stop - start
    out = np.empty((N, k), dtype=np.int64)
    for t in nb.prange(N):
        unrank_one(start + t, k, T, out[t])
    return out


@nb.njit(cache=True, parallel=True)
def _unrank_many(ranks: np.ndarray, k: int, T: np.ndarray) -> np.ndarray:
    out = np.empty((ranks.shape[0], k), dtype=np.int64)
    for t in nb.prange(ranks.shape[0]):
        unrank_one(ranks[t], k, T, out[t])
    return out


@nb.njit(cache=True, parallel=True)
def _rank_many(combos: np.ndarray, T: np.ndarray) -> np.ndarray:
    N, k = combos.shape
    out = np.empty(N, dtype=np.int64)
    for t in nb.prange(N):
        s = 0
        for i in range(k):
            s += T[combos[t, i], i + 1]
        out[t] = s
    return out


def _check_nk(n, k) -> tuple[int, int]:
    n = check_positive_int("n", n, minimum=1)
    k = check_positive_int("k", k, minimum=0)
    if k > n:
        raise ValueError(f"k must be <= n; got k={k}, n={n}")
    return n, k


def rank_combinations(combos, n: int) -> np.ndarray:
    """Ranks of sorted k-subsets of ``{0..n-1}`` (rows of ``combos``, shape ``(N, k)``)."""
    arr = as_index_array("combos", combos, ndim=2)
    n, k = _check_nk(n, arr.shape[1])
    if arr.shape[0] == 0:
        raise ValueError("combos is empty")
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        raise ValueError(f"combos entries must lie in [0, n={n})")
    if k > 1 and np.any(np.diff(arr, axis=1) <= 0):
        raise ValueError("combos rows must be strictly increasing (sorted subsets without repeats)")
    return _rank_many(arr, binomial_table(n, k))


def unrank_combinations(ranks, n: int, k: int) -> np.ndarray:
    """Sorted k-subsets of ``{0..n-1}`` with the given ranks; shape ``(N, k)``."""
    n, k = _check_nk(n, k)
    r = np.asarray(ranks)
    if r.ndim != 1 or r.size == 0 or not np.issubdtype(r.dtype, np.integer):
        raise ValueError(f"ranks must be a non-empty 1-D integer array; got shape {r.shape}, dtype {r.dtype}")
    total = math.comb(n, k)
    if r.min() < 0 or r.max() >= total:
        raise ValueError(f"ranks must lie in [0, C(n, k) = {total})")
    return _unrank_many(r.astype(np.int64), k, binomial_table(n, k))


def combinations_chunk(n: int, k: int, start: int, stop: int) -> np.ndarray:
    """All k-subsets with ranks in ``[start, stop)``, in colex order; shape ``(stop-start, k)``.

    Chunks ``[0, s), [s, 2s), ...`` visit every subset exactly once.
    """
    n, k = _check_nk(n, k)
    total = math.comb(n, k)
    start = check_positive_int("start", start, minimum=0)
    stop = check_positive_int("stop", stop, minimum=0)
    if not start <= stop <= total:
        raise ValueError(f"need 0 <= start <= stop <= C(n, k) = {total}; got start={start}, stop={stop}")
    return unrank_range(np.int64(start), np.int64(stop), k, binomial_table(n, k))


def cross_from_indices(
    X, idx, *, affine: bool = False, rtol: float = DEFAULT_RTOL, unit: bool = False
) -> np.ndarray:
    """Cross products of subsets of rows of ``X`` without building the ``(N, d-1, d)`` stack.

    * ``affine=False``: ``idx`` is ``(N, d-1)``, result ``cross(X[idx[t]])`` — the normal of
      ``Span(x_{i_1}, ..., x_{i_{d-1}})``.
    * ``affine=True``: ``idx`` is ``(N, d)``, result ``cross(x_{i_1} - x_{i_d}, ...,
      x_{i_{d-1}} - x_{i_d})`` — the normal of ``Aff(x_{i_1}, ..., x_{i_d})``.

    Dependent subsets give exactly 0 (tolerance ``rtol`` as in :func:`wedgenet.cross`).
    ``unit=True`` returns unit normals (any input scale); otherwise a product that is not a
    normal float64 raises ``ValueError`` as in :func:`wedgenet.cross`.  Affine differences
    are formed from ``X / 2`` when ``max |X| >= 2^1022`` (so they cannot overflow) and the
    factor ``2^(d-1)`` is restored exactly.  Parallel numba kernel; result ``(N, d)``.
    """
    Xa = as_float_array("X", X, ndim=2)
    n, d = Xa.shape
    ia = as_index_array("idx", idx, ndim=2)
    need = d if affine else d - 1
    if ia.shape[1] != need:
        raise ValueError(f"idx must have {need} columns for d={d} (affine={affine}); got shape {ia.shape}")
    if ia.shape[0] == 0:
        raise ValueError("idx is empty")
    if ia.size and (ia.min() < 0 or ia.max() >= n):
        raise ValueError(f"idx entries must be row indices of X in [0, {n})")
    rtol = check_nonneg_float("rtol", rtol)
    affine = check_bool("affine", affine)
    unit = check_bool("unit", unit)
    shift = 0
    if affine and np.max(np.abs(Xa)) >= 2.0**1022:
        Xa = Xa * 0.5  # differences of numbers below 2^1023 cannot overflow
        shift = d - 1
    M, E = cross_rows_exp(np.ascontiguousarray(Xa), ia, rtol, affine)
    if unit:
        return unit_rows(M)
    return _from_exponent(M, E + shift, "cross_from_indices")
