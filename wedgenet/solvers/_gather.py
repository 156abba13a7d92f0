"""Numba kernels that price or measure chosen columns of an explicit matrix in place.

``KT`` is the ``(p, n)`` C-ordered transpose of a Fortran ``(n, p)`` dictionary matrix, so a
column is a contiguous row: these kernels read only the rows ``idx`` and allocate nothing, where
``K[:, idx].T @ theta`` would first copy them (fresh pages cost more than the products on a
loaded machine).  Sums are reassociated (``fastmath``): scores agree with BLAS to rounding,
which the pricing bounds' slack covers.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .. import _cache  # noqa: F401  (before the decorators: numba caches the kernels in the user cache)


@nb.njit(cache=True, parallel=True, fastmath=True)
def gather_scores(KT: np.ndarray, idx: np.ndarray, theta: np.ndarray, out: np.ndarray) -> None:
    """``out[a] = |K_{idx[a]}^T theta|`` for a vector ``theta``."""
    n = KT.shape[1]
    for a in nb.prange(idx.size):
        j = idx[a]
        s = 0.0
        for i in range(n):
            s += KT[j, i] * theta[i]
        out[a] = abs(s)


@nb.njit(cache=True, parallel=True, fastmath=True)
def gather_group_scores(KT: np.ndarray, idx: np.ndarray, theta: np.ndarray, out: np.ndarray) -> None:
    """``out[a] = ||K_{idx[a]}^T Theta||_2`` for a matrix ``Theta`` (``(n, c)``)."""
    n = KT.shape[1]
    c = theta.shape[1]
    for a in nb.prange(idx.size):
        j = idx[a]
        acc = np.zeros(c)
        for i in range(n):
            v = KT[j, i]
            for q in range(c):
                acc[q] += v * theta[i, q]
        mx = 0.0
        for q in range(c):
            mx = max(mx, abs(acc[q]))
        s = 0.0
        if mx > 0.0:
            for q in range(c):
                s += (acc[q] / mx) ** 2
        out[a] = mx * np.sqrt(s)


@nb.njit(cache=True, parallel=True)
def gather_norms(KT: np.ndarray, idx: np.ndarray, out: np.ndarray) -> None:
    """``out[a] = ||K_{idx[a]}||_2``, scaled by the column's largest entry (no overflow or underflow)."""
    n = KT.shape[1]
    for a in nb.prange(idx.size):
        j = idx[a]
        mx = 0.0
        for i in range(n):
            mx = max(mx, abs(KT[j, i]))
        s = 0.0
        if mx > 0.0:
            for i in range(n):
                s += (KT[j, i] / mx) ** 2
        out[a] = mx * np.sqrt(s)



@nb.njit(cache=True, nogil=True)
def _gather_range(lo: int, hi: int, src: np.ndarray, pos: np.ndarray, dst: np.ndarray, dst_pos: np.ndarray) -> None:
    n = src.shape[0]
    for a in range(lo, hi):
        j = pos[a]
        k = dst_pos[a]
        for i in range(n):
            dst[i, k] = src[i, j]


#: entries below which a column gather runs on the calling thread (thread start-up costs more)
GATHER_PARALLEL_ENTRIES = 1 << 21


def gather_columns(src: np.ndarray, pos: np.ndarray, dst: np.ndarray, dst_pos: np.ndarray) -> None:
    """``dst[:, dst_pos[a]] = src[:, pos[a]]`` for Fortran ``src`` and ``dst`` (contiguous columns):
    a copy into an existing array (large ones on :func:`~wedgenet._parallel.run_chunked`'s
    threads), where ``dst[:, m] = np.take(src, pos, axis=1)`` first makes a temporary."""
    if pos.size * src.shape[0] < GATHER_PARALLEL_ENTRIES:
        _gather_range(0, pos.size, src, pos, dst, dst_pos)
        return
    from .._parallel import run_chunked

    run_chunked(_gather_range, pos.size, src, pos, dst, dst_pos, min_chunk=256)
