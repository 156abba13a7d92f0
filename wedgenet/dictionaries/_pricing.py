"""Numba pricing kernel of the streamed dictionary: scores ``|K_j^T theta|`` without ``K``.

For a block of candidates (a contiguous range of candidate ranks, or positions in a sorted
array of sampled ranks) the kernel computes each candidate's neuron with
:func:`~wedgenet.dictionaries._kernels.neuron_of_subset` (the same code the explicit
dictionary runs), evaluates it on the data, and writes the scores of all its columns in the
explicit layout: ``[+, -]`` per candidate for depth 2, ``[s, j0, outer]`` (``4 n`` columns)
for depth 3.  Memory is ``O(n)`` per thread plus the output block.

Consecutive ranks are walked with the colex successor instead of a fresh unranking, so a
stream costs ``O(k)`` per candidate for the subsets, ``O(d^3)`` for the cross product and
``O(n d)`` (depth 3: ``O(n log n + n c)``) for the scores.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .._parallel import run_chunked
from ..algebra.combinations import unrank_one
from ._kernels import SNAP, _find_anchor, neuron_of_subset
from .families import MODE_AFFINE, MODE_ANCHORED, MODE_PLAIN
from .layout import encode_column, layout_per

#: candidates per parallel work item inside one kernel call
BLOCK = 64


@nb.njit(cache=True, inline="always")
def _next_colex(sub: np.ndarray, k: int) -> None:
    """Advance the sorted subset ``sub`` to its successor in colex order (rank + 1)."""
    for i in range(k):
        if i == k - 1 or sub[i] + 1 < sub[i + 1]:
            sub[i] += 1
            for j in range(i):
                sub[j] = j
            return


@nb.njit(cache=True, inline="always")
def _preacts(ZT: np.ndarray, w: np.ndarray, b: float, z: np.ndarray, snap: bool) -> None:
    """``z = Z w + b`` over the samples (``ZT`` is ``(dr, n)``); optionally snapped like ``_preact``."""
    dr, n = ZT.shape
    for i in range(n):
        z[i] = b
    for j in range(dr):
        wj = w[j]
        for i in range(n):
            z[i] += ZT[j, i] * wj
    if snap:
        for i in range(n):
            s = abs(b)
            for j in range(dr):
                s += abs(ZT[j, i] * w[j])
            if abs(z[i]) <= SNAP * s:
                z[i] = 0.0


@nb.njit(cache=True, fastmath=True)
def _depth2_scalar(ZT4: np.ndarray, w4: np.ndarray, b: float, v: np.ndarray, z: np.ndarray) -> tuple[float, float]:
    """``(sum_i (z_i)_+ v_i, sum_i min(z_i, 0) v_i)`` for ``z = Z w + b`` (the hot loop).

    ``ZT4`` is the data transposed and zero-padded to a multiple of 4 rows (``w4`` likewise), so
    for ``dr <= 4`` the preactivation and both sums are one fused, vectorised loop.  Compiled
    with ``fastmath`` (reassociated sums): scores agree with ``K^T theta`` to rounding, which is
    all pricing needs; the neuron itself is computed without it.
    """
    G, n = ZT4.shape
    sp = 0.0
    sm = 0.0
    if G == 4:
        w0 = w4[0]
        w1 = w4[1]
        w2 = w4[2]
        w3 = w4[3]
        for i in range(n):
            zi = b + ZT4[0, i] * w0 + ZT4[1, i] * w1 + ZT4[2, i] * w2 + ZT4[3, i] * w3
            sp += max(zi, 0.0) * v[i]
            sm += min(zi, 0.0) * v[i]
        return sp, sm
    for i in range(n):
        z[i] = b
    for g in range(0, G, 4):
        w0 = w4[g]
        w1 = w4[g + 1]
        w2 = w4[g + 2]
        w3 = w4[g + 3]
        for i in range(n):
            z[i] += ZT4[g, i] * w0 + ZT4[g + 1, i] * w1 + ZT4[g + 2, i] * w2 + ZT4[g + 3, i] * w3
    for i in range(n):
        sp += max(z[i], 0.0) * v[i]
        sm += min(z[i], 0.0) * v[i]
    return sp, sm


@nb.njit(cache=True, inline="always")
def _norm(acc: np.ndarray) -> float:
    """``||acc||_2`` (the group score of one column)."""
    s = 0.0
    for c in range(acc.shape[0]):
        s += acc[c] * acc[c]
    return np.sqrt(s)


@nb.njit(cache=True, inline="always")
def _depth2_scores(z: np.ndarray, theta: np.ndarray, out: np.ndarray, base: np.int64, accp: np.ndarray,
                   accm: np.ndarray) -> None:
    n = z.shape[0]
    C = theta.shape[1]
    if C == 1:
        sp = 0.0
        sm = 0.0
        for i in range(n):
            zi = z[i]
            v = theta[i, 0]
            sp += max(zi, 0.0) * v
            sm += min(zi, 0.0) * v
        out[base] = abs(sp)
        out[base + 1] = abs(sm)
        return
    for c in range(C):
        accp[c] = 0.0
        accm[c] = 0.0
    for i in range(n):
        zi = z[i]
        if zi > 0.0:
            for c in range(C):
                accp[c] += zi * theta[i, c]
        elif zi < 0.0:
            for c in range(C):
                accm[c] -= zi * theta[i, c]
    out[base] = _norm(accp)
    out[base + 1] = _norm(accm)


@nb.njit(cache=True)
def _depth3_scores(z: np.ndarray, theta: np.ndarray, out: np.ndarray, base: np.int64, u: np.ndarray,
                   rk: np.ndarray, PV: np.ndarray, PUV: np.ndarray, acc1: np.ndarray, acc2: np.ndarray) -> None:
    """Scores of the ``4 n`` depth-3 columns of one candidate in ``O(n log n + n c)``.

    For orientation ``s`` and level ``j0`` (``t0 = u[j0]``, ``u = (s z)_+``), with samples
    sorted by ``u`` and prefix sums ``PV = sum v``, ``PUV = sum u v`` before position ``q`` of
    ``j0``: ``K1^T v = (PUV[n] - PUV[q]) - t0 (PV[n] - PV[q])`` and
    ``K2^T v = t0 PV[q] - PUV[q]`` (samples tied with ``t0`` contribute 0 to either).  A level
    with ``t0 = 0`` other than the first such sample duplicates that sample's columns and is
    scored 0 (the explicit dictionary merges those duplicates the same way).
    """
    n = z.shape[0]
    C = theta.shape[1]
    for so in range(2):
        sgn = 1.0 if so == 0 else -1.0
        for i in range(n):
            v = sgn * z[i]
            u[i] = v if v > 0.0 else 0.0
        order = np.argsort(u, kind="mergesort")
        for q in range(n):
            rk[order[q]] = q
        for c in range(C):
            PV[0, c] = 0.0
            PUV[0, c] = 0.0
        for q in range(n):
            i = order[q]
            for c in range(C):
                PV[q + 1, c] = PV[q, c] + theta[i, c]
                PUV[q + 1, c] = PUV[q, c] + u[i] * theta[i, c]
        first_zero = True
        for j0 in range(n):
            t0 = u[j0]
            col = base + encode_column(0, 1 - 2 * so, j0, 1, n, True)  # K1 at col, K2 at col + 1
            if t0 == 0.0:
                if not first_zero:
                    out[col] = 0.0
                    out[col + 1] = 0.0
                    continue
                first_zero = False
            q = rk[j0]
            for c in range(C):
                acc1[c] = (PUV[n, c] - PUV[q, c]) - t0 * (PV[n, c] - PV[q, c])
                acc2[c] = t0 * PV[q, c] - PUV[q, c]
            if C == 1:
                out[col] = abs(acc1[0])
                out[col + 1] = abs(acc2[0])
            else:
                out[col] = _norm(acc1)
                out[col + 1] = _norm(acc2)


@nb.njit(cache=True, nogil=True)
def _price_blocks(blk_lo: np.int64, blk_hi: np.int64, start: np.int64, count: np.int64, ids: np.ndarray,
                  offsets: np.ndarray, m: int, P: np.ndarray, is_sample: np.ndarray, anchors: np.ndarray, mode: int,
                  pnorm: int, T: np.ndarray, rtol: float, fexp: np.ndarray, row_exp: np.ndarray, ZT: np.ndarray,
                  ZT4: np.ndarray, theta: np.ndarray, depth3: bool, out: np.ndarray) -> None:
    """Blocks ``blk_lo .. blk_hi-1`` (of ``BLOCK`` positions each) of :func:`price_block`."""
    dr, n = ZT.shape
    C = theta.shape[1]
    per = layout_per(n, depth3)
    k = m + 1 if mode == MODE_AFFINE else m
    sampled = ids.shape[0] > 0
    for blk in range(blk_lo, blk_hi):
        lo = blk * BLOCK
        hi = min(lo + BLOCK, count)
        sub = np.zeros(max(k, 1), dtype=np.int64)
        A = np.empty((m, dr))
        cw = np.empty(dr)
        w = np.empty(dr)
        w4 = np.zeros(ZT4.shape[0])
        v = np.ascontiguousarray(theta[:, 0])
        z = np.empty(n)
        accp = np.empty(C)
        accm = np.empty(C)
        if depth3:
            u = np.empty(n)
            rk = np.empty(n, dtype=np.int64)
            PV = np.empty((n + 1, C))
            PUV = np.empty((n + 1, C))
        else:
            u = np.empty(0)
            rk = np.empty(0, dtype=np.int64)
            PV = np.empty((0, C))
            PUV = np.empty((0, C))
        a = np.int64(0)
        nxt = np.int64(0)  # first rank of the next anchor
        for t in range(lo, hi):
            if sampled:
                g = ids[start + t]
                a = _find_anchor(offsets, g)
                unrank_one(g - offsets[a], k, T, sub)
            else:
                g = start + t
                if t == lo or g >= nxt:
                    a = _find_anchor(offsets, g)
                    nxt = offsets[a + 1]
                    unrank_one(g - offsets[a], k, T, sub)
                else:
                    _next_colex(sub, k)
            base = np.int64(t) * per
            # literal (mode, pnorm) for the common families: constant-folded branches, ~40% faster
            if mode == MODE_PLAIN and pnorm == 1:
                nrm, b = neuron_of_subset(sub, a, m, P, is_sample, anchors, MODE_PLAIN, 1, rtol, fexp, row_exp,
                                          A, cw, w)
            elif mode == MODE_ANCHORED and pnorm == 1:
                nrm, b = neuron_of_subset(sub, a, m, P, is_sample, anchors, MODE_ANCHORED, 1, rtol, fexp, row_exp,
                                          A, cw, w)
            else:
                nrm, b = neuron_of_subset(sub, a, m, P, is_sample, anchors, mode, pnorm, rtol, fexp, row_exp,
                                          A, cw, w)
            if nrm == 0.0:
                for q in range(per):
                    out[base + q] = 0.0
                continue
            if depth3:
                _preacts(ZT, w, b, z, True)
                _depth3_scores(z, theta, out, base, u, rk, PV, PUV, accp, accm)
            elif C == 1:
                for j in range(dr):
                    w4[j] = w[j]
                sp, sm = _depth2_scalar(ZT4, w4, b, v, z)
                out[base] = abs(sp)
                out[base + 1] = abs(sm)
            else:
                _preacts(ZT, w, b, z, False)
                _depth2_scores(z, theta, out, base, accp, accm)


def price_block(start: np.int64, count: np.int64, ids: np.ndarray, offsets: np.ndarray, m: int, P: np.ndarray,
                is_sample: np.ndarray, anchors: np.ndarray, mode: int, pnorm: int, T: np.ndarray, rtol: float,
                fexp: np.ndarray, row_exp: np.ndarray, ZT: np.ndarray, ZT4: np.ndarray, theta: np.ndarray,
                depth3: bool, out: np.ndarray, parallel: bool = True) -> None:
    """Scores of the candidates at positions ``start .. start+count-1`` into ``out``.

    Position ``t`` is candidate rank ``t`` when ``ids`` is empty, else ``ids[t]`` (sampled
    mode).  ``out[(t - start) * per + within]`` receives ``|K_col^T theta|`` (the 2-norm of
    ``K_col^T Theta`` for ``C = theta.shape[1] > 1``); degenerate candidates score 0.
    ``ZT`` is the data in working coordinates, transposed ``(dr, n)`` (``ZT4``: zero-padded to a
    multiple of 4 rows); neurons are computed in
    the same coordinates (rank-reduced p=2 families price in the row space, which gives the
    same preactivations as the neurons mapped back to ``R^d``).  Blocks of ``BLOCK`` positions run
    on :func:`~wedgenet._parallel.run_chunked`'s threads (``parallel=False``: all on the calling
    thread, as in a Dask worker).
    """
    start, count = np.int64(start), np.int64(count)
    nblk = (int(count) + BLOCK - 1) // BLOCK
    args = (start, count, ids, offsets, m, P, is_sample, anchors, mode, pnorm, T, rtol, fexp, row_exp, ZT, ZT4, theta,
            depth3, out)
    if parallel:
        run_chunked(_price_blocks, nblk, *args, min_chunk=1)
    else:
        _price_blocks(np.int64(0), np.int64(nblk), *args)
