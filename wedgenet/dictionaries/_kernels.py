"""Numba kernels shared by the explicit and (later) streamed dictionaries.

A *candidate* is one first-layer neuron: an anchor ``a`` (or none) and a subset ``S`` of a
generator pool, identified by the integer ``g = a * n_subsets + rank(S)`` (combinatorial
number system, :mod:`wedgenet.algebra.combinations`).  ``unrank_candidates`` maps candidate
ids to subsets and ``neurons_of_subsets`` maps subsets to unit-norm neurons ``(w, b)`` with
``w = c / ||c||_p``, ``c = cross(rows)``;
``fill_hash_pairs`` writes the depth-2 ReLU columns of both orientations and fingerprints them
in one pass; ``hash_level_columns`` fingerprints the depth-3 second-layer units without
writing them; ``representatives`` merges equal columns; ``fill_columns`` writes chosen
columns into a Fortran-ordered ``K``; and ``compact_columns`` moves kept columns forward.  Inputs are
assumed valid (the public layer validates once).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from .._parallel import run_chunked
from ..algebra._kernels import _cross_core, _scale_pow2
from ..algebra.combinations import unrank_one
from .families import MODE_AFFINE, MODE_ANCHORED, MODE_BIAS_ONLY, MODE_PLAIN  # noqa: F401 (re-exported)
from .layout import decode_column, encode_column, layout_per

#: entries with |z| <= SNAP * (sum_k |x_k w_k| + |b|) are rounding noise of a point on the
#: breakline and are set to exactly 0 before the ReLU
SNAP = 1e-12

#: candidates per parallel chunk in kernels that need per-candidate workspace (allocated once
#: per chunk rather than once per candidate)
CHUNK = 256


@nb.njit(cache=True, inline="always")
def _find_anchor(offsets: np.ndarray, g: np.int64) -> np.int64:
    """Largest ``a`` with ``offsets[a] <= g`` (binary search; ``offsets`` is nondecreasing)."""
    lo = 0
    hi = offsets.shape[0] - 2
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if offsets[mid] <= g:
            lo = mid
        else:
            hi = mid - 1
    return lo


@nb.njit(cache=True, inline="always")
def neuron_of_subset(sub: np.ndarray, a: np.int64, m: int, P: np.ndarray, is_sample: np.ndarray,
                     anchors: np.ndarray, mode: int, pnorm: int, rtol: float, fexp: np.ndarray,
                     row_exp: np.ndarray, A: np.ndarray, c: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """The neuron of one candidate: the theorem, implemented once (docs/conventions.md, "Dictionaries").

    ``sub`` holds the candidate's pool indices (``m + 1`` of them in affine mode), ``a`` its
    anchor.  ``P`` and ``anchors`` are in working coordinates, feature ``k`` of the data divided
    by ``2^fexp[k]``; the cross product ``c`` of the rows is then, in data coordinates, the
    normal ``c_k 2^-fexp[k]``.  Writes the working weight ``w`` whose data weight
    ``w_k 2^-fexp[k] = v_k / ||v||_p`` has unit p-norm, where ``v_k = c_k 2^(-fexp[k] - M)`` and
    ``M`` the largest binary exponent of ``c_k 2^-fexp[k]`` (so no step over/underflows), and
    returns ``(||c_data||_p, b)``: the norm of the cross product of the rows in data
    coordinates (``+inf`` or the smallest subnormal where that lies outside float64) and the
    bias.  ``||c||_p = 0`` (and ``w`` untouched) for a dependent subset.  ``A`` ``(m, dr)`` and
    ``c`` ``(dr,)`` are workspace.  Both the explicit dictionary (:func:`neurons_of_subsets`) and
    the streamed pricer (:mod:`._pricing`) call this.
    """
    dr = P.shape[1]
    ecorr = 0  # 2^ecorr converts ||.|| of the working rows' product to that of the data rows
    if mode == MODE_AFFINE:
        last = sub[m]
        for i in range(m):
            q = sub[i]
            for j in range(dr):
                A[i, j] = P[q, j] - P[last, j]
    elif mode == MODE_ANCHORED:
        for i in range(m):
            q = sub[i]
            ecorr -= row_exp[q]
            if is_sample[q]:
                for j in range(dr):
                    A[i, j] = P[q, j] - anchors[a, j]
            else:
                for j in range(dr):
                    A[i, j] = P[q, j]
    else:
        for i in range(m):
            q = sub[i]
            ecorr -= row_exp[q]
            for j in range(dr):
                A[i, j] = P[q, j]
    E = _cross_core(A, c, rtol)  # _cross_one without compiling it as one more layer
    if E != 0:
        _scale_pow2(c, E)
    M = np.int64(-(1 << 40))
    for j in range(dr):
        if c[j] != 0.0:
            ej = math.frexp(c[j])[1] - fexp[j]
            if ej > M:
                M = ej
    if M == -(1 << 40):
        return 0.0, 0.0
    nrm = 0.0
    if pnorm == 1:
        for j in range(dr):
            nrm += abs(math.ldexp(c[j], -fexp[j] - M))
    else:
        for j in range(dr):
            v = math.ldexp(c[j], -fexp[j] - M)
            nrm += v * v
        nrm = np.sqrt(nrm)
    off = 0.0
    for j in range(dr):
        w[j] = math.ldexp(c[j] / nrm, -M)
    if mode == MODE_AFFINE:
        last = sub[m]
        for j in range(dr):
            off -= w[j] * P[last, j]
    elif mode == MODE_ANCHORED or mode == MODE_BIAS_ONLY:
        for j in range(dr):
            off -= w[j] * anchors[a, j]
    for j in range(dr):
        ecorr += fexp[j]
    big = math.ldexp(nrm, M + ecorr)
    return (big if big > 0.0 else 5e-324), off


@nb.njit(cache=True, nogil=True)
def _unrank_range(lo: int, hi: int, ids: np.ndarray, offsets: np.ndarray, k: int, T: np.ndarray,
                  subsets: np.ndarray, cand_anchor: np.ndarray) -> None:
    """Rows ``lo..hi-1`` of :func:`unrank_candidates`' outputs."""
    for t in range(lo, hi):
        g = ids[t]
        a = _find_anchor(offsets, g)
        cand_anchor[t] = a
        unrank_one(g - offsets[a], k, T, subsets[t])


def unrank_candidates(ids: np.ndarray, offsets: np.ndarray, k: int, T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pool-index subsets and anchors of the candidate ranks ``ids``.

    Candidate ``g`` belongs to anchor ``a`` with ``offsets[a] <= g < offsets[a+1]`` and is the
    subset of pool indices with colex rank ``g - offsets[a]`` (for an anchor with a shorter
    pool, the ranks below ``C(len, k)`` enumerate exactly the subsets of that pool prefix).
    Returns ``subsets (N, k)`` (``k = m + 1`` in affine mode) and ``cand_anchor (N,)``.  Runs on
    :func:`~wedgenet._parallel.run_chunked`'s threads.
    """
    N = ids.shape[0]
    subsets = np.empty((N, k), dtype=np.int64)
    cand_anchor = np.empty(N, dtype=np.int64)
    run_chunked(_unrank_range, N, ids, offsets, k, T, subsets, cand_anchor, min_chunk=4 * CHUNK)
    return subsets, cand_anchor


@nb.njit(cache=True, nogil=True)
def _neurons_range(lo: int, hi: int, subsets: np.ndarray, cand_anchor: np.ndarray, m: int, P: np.ndarray,
                   is_sample: np.ndarray, anchors: np.ndarray, mode: int, pnorm: int, rtol: float, fexp: np.ndarray,
                   row_exp: np.ndarray, W: np.ndarray, b: np.ndarray, norms: np.ndarray) -> None:
    """Rows ``lo..hi-1`` of :func:`neurons_of_subsets`' outputs (one workspace for the range)."""
    dr = P.shape[1]
    A = np.empty((m, dr))
    c = np.empty(dr)
    for t in range(lo, hi):
        nrm, off = neuron_of_subset(subsets[t], cand_anchor[t], m, P, is_sample, anchors, mode, pnorm, rtol,
                                    fexp, row_exp, A, c, W[t])
        norms[t] = nrm
        b[t] = off


def neurons_of_subsets(
    subsets: np.ndarray,
    cand_anchor: np.ndarray,
    m: int,
    P: np.ndarray,
    is_sample: np.ndarray,
    anchors: np.ndarray,
    mode: int,
    pnorm: int,
    rtol: float,
    fexp: np.ndarray,
    row_exp: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit-norm neurons of candidates given by their pool-index subsets and anchors.

    Ranked candidates get their subsets from :func:`unrank_candidates`; pools beyond the int64
    rank range are sampled by subsets directly.  Returns ``W (N, dr)``, ``b (N,)`` and
    ``norms (N,)`` (``||c||_p``, 0 for a degenerate subset).  The candidates are independent;
    they run in ranges on :func:`~wedgenet._parallel.run_chunked`'s threads (a ``prange`` here
    made numba compile the whole cross-product kernel twice more).
    """
    N = subsets.shape[0]
    dr = P.shape[1]
    W = np.zeros((N, dr))
    b = np.zeros(N)
    norms = np.zeros(N)
    run_chunked(_neurons_range, N, subsets, cand_anchor, m, P, is_sample, anchors, mode, pnorm, rtol, fexp, row_exp,
                W, b, norms, min_chunk=CHUNK)
    return W, b, norms


@nb.njit(cache=True, inline="always")
def _preact(X: np.ndarray, i: int, W: np.ndarray, t: np.int64, b: float) -> float:
    """``x_i . w_t + b``, snapped to exactly 0 within rounding of a point on the breakline."""
    z = b
    s = abs(b)
    for j in range(X.shape[1]):
        v = X[i, j] * W[t, j]
        z += v
        s += abs(v)
    if abs(z) <= SNAP * s:
        return 0.0
    return z


@nb.njit(cache=True, inline="always")
def _column_params(X: np.ndarray, W: np.ndarray, b: np.ndarray, col: np.int64, depth3: bool):
    """``(t, s, t0, outer)`` of candidate column ``col``: neuron, orientation, threshold, outer sign.

    The column is decoded by :func:`~wedgenet.dictionaries.layout.decode_column`; at depth 3
    the threshold is ``t0 = u[j0]``, ``u = (s (X w + b))_+`` (Theorems 12, 13).
    """
    t, so, j0, oo = decode_column(col, X.shape[0], depth3)
    sgn = 1.0 if so > 0 else -1.0
    if not depth3:
        return t, sgn, 0.0, 0.0
    t0 = sgn * _preact(X, j0, W, t, b[t])
    return t, sgn, (t0 if t0 > 0.0 else 0.0), (1.0 if oo > 0 else -1.0)


@nb.njit(cache=True, inline="always")
def _entry(X: np.ndarray, W: np.ndarray, b: np.ndarray, t: np.int64, sgn: float, t0: float,
           outer: float, i: int) -> float:
    """``K[i, col]`` from the column's parameters (``outer = 0`` for depth 2)."""
    u = sgn * _preact(X, i, W, t, b[t])
    u = u if u > 0.0 else 0.0
    if outer == 0.0:
        return u
    v = outer * (u - t0)
    return v if v > 0.0 else 0.0


@nb.njit(cache=True, inline="always")
def _store_pair(h: np.ndarray, g: np.ndarray, cmax: np.ndarray, nz: np.ndarray, base: int, h1: float,
                h2: float, g1: float, g2: float, m1: float, m2: float) -> None:
    """Fingerprints of the column pair ``base, base + 1`` (the two signs of one ReLU argument)."""
    h[base] = h1
    h[base + 1] = h2
    g[base] = g1
    g[base + 1] = g2
    cmax[base] = m1
    cmax[base + 1] = m2
    nz[base] = m1 > 0.0
    nz[base + 1] = m2 > 0.0


@nb.njit(cache=True, nogil=True)
def _hash_level_range(lo: int, hi: int, X: np.ndarray, W: np.ndarray, b: np.ndarray, r: np.ndarray, h: np.ndarray,
                      g: np.ndarray, nz: np.ndarray, cmax: np.ndarray, thr: np.ndarray) -> None:
    """Candidates ``lo..hi-1`` of :func:`hash_level_columns`."""
    n = X.shape[0]
    for t in range(lo, hi):
        z = np.empty(n)
        for i in range(n):
            z[i] = _preact(X, i, W, t, b[t])
        us = np.empty(n)
        for so in range(2):
            sgn = 1.0 if so == 0 else -1.0
            for i in range(n):
                v = sgn * z[i]
                us[i] = v if v > 0.0 else 0.0
            for j0 in range(n):
                t0 = us[j0]
                base = encode_column(t, 1 - 2 * so, j0, 1, n, True)  # K1 at base, K2 at base + 1
                h1 = 0.0
                h2 = 0.0
                g1 = 0.0
                g2 = 0.0
                m1 = 0.0
                m2 = 0.0
                for i in range(n):
                    diff = us[i] - t0
                    if diff > 0.0:
                        h1 += r[0, i] * diff
                        g1 += r[1, i] * diff
                        m1 = max(m1, diff)
                    elif diff < 0.0:
                        h2 -= r[0, i] * diff
                        g2 -= r[1, i] * diff
                        m2 = max(m2, -diff)
                _store_pair(h, g, cmax, nz, base, h1, h2, g1, g2, m1, m2)
                thr[base] = t0
                thr[base + 1] = t0


def hash_level_columns(X: np.ndarray, W: np.ndarray, b: np.ndarray,
                       r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Depth 3: per candidate column, hashes ``h = r[0]^T K``, ``g = r[1]^T K``, nonzero flag, max
    and threshold, without writing ``K`` (most of these columns are merged or zero; the kept
    ones are written by :func:`fill_columns`).

    Column layout ``[s, j0, outer]`` per first-layer neuron: ``s`` in (+, -), level ``j0`` in
    ``0..n-1`` and outer in (``K1 = (u - t0)_+``, ``K2 = (t0 - u)_+``), where
    ``u = (s (X w + b))_+`` and ``t0 = u[j0]`` (Theorems 12, 13).  Candidates run in ranges on
    :func:`~wedgenet._parallel.run_chunked`'s threads.
    """
    n = X.shape[0]
    N = W.shape[0]
    per = layout_per(n, True)
    h = np.zeros(N * per)
    g = np.zeros(N * per)
    nz = np.zeros(N * per, dtype=np.bool_)
    cmax = np.zeros(N * per)
    thr = np.zeros(N * per)
    run_chunked(_hash_level_range, N, X, W, b, r, h, g, nz, cmax, thr, min_chunk=max(1, CHUNK // max(1, n)))
    return h, g, nz, cmax, thr


@nb.njit(cache=True, inline="always")
def _preacts(XT: np.ndarray, W: np.ndarray, t: np.int64, b: float, z: np.ndarray, s: np.ndarray) -> None:
    """``z = X @ w_t + b`` for all rows at once (``XT = X.T`` contiguous), snapped like
    :func:`_preact`, with the same operation order (so the same values), vectorisable over rows."""
    n = XT.shape[1]
    ab = abs(b)
    for i in range(n):
        z[i] = b
        s[i] = ab
    for j in range(XT.shape[0]):
        wj = W[t, j]
        for i in range(n):
            v = XT[j, i] * wj
            z[i] += v
            s[i] += abs(v)
    for i in range(n):
        if abs(z[i]) <= SNAP * s[i]:
            z[i] = 0.0


@nb.njit(cache=True, nogil=True, fastmath={"reassoc", "nsz", "nnan", "ninf"})
def _fill_hash_range(lo: int, hi: int, XT: np.ndarray, W: np.ndarray, b: np.ndarray, r: np.ndarray, K: np.ndarray,
                     h: np.ndarray, g: np.ndarray, nz: np.ndarray, cmax: np.ndarray) -> None:
    """Candidates ``lo..hi-1`` of :func:`fill_hash_pairs` (one workspace for the range)."""
    n = XT.shape[1]
    z = np.empty(n)
    s = np.empty(n)
    for t in range(lo, hi):
        cp = encode_column(t, 1, -1, 0, n, False)  # columns cp (+c), cp + 1 (-c)
        _preacts(XT, W, t, b[t], z, s)
        hp = 0.0
        hm = 0.0
        gp = 0.0
        gm = 0.0
        mp = 0.0
        mm = 0.0
        for i in range(n):
            zi = z[i]
            pi = zi if zi > 0.0 else 0.0
            mi = -zi if zi < 0.0 else 0.0
            K[i, cp] = pi
            K[i, cp + 1] = mi
            hp += r[0, i] * pi
            hm += r[0, i] * mi
            gp += r[1, i] * pi
            gm += r[1, i] * mi
            mp = max(mp, pi)
            mm = max(mm, mi)
        _store_pair(h, g, cmax, nz, cp, hp, hm, gp, gm, mp, mm)


def fill_hash_pairs(XT: np.ndarray, W: np.ndarray, b: np.ndarray, r: np.ndarray,
                    K: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Depth 2 in one pass: write both orientations ``K[:, 2t] = (z)_+``, ``K[:, 2t+1] = (-z)_+``
    of every candidate ``t`` (``z = X w_t + b``) into the Fortran-ordered ``K`` ``(n, 2N)``, and
    return the column fingerprints ``h = r[0]^T K``, ``g = r[1]^T K``, nonzero flag and column max.

    The reductions may be reassociated (fingerprints need only be equal to within rounding
    for equal columns, which :func:`representatives` allows for); the column entries are
    computed in strict arithmetic by :func:`_preacts` and equal those of :func:`fill_columns`.
    Candidates run in ranges on :func:`~wedgenet._parallel.run_chunked`'s threads.
    """
    N = W.shape[0]
    h = np.zeros(2 * N)
    g = np.zeros(2 * N)
    nz = np.zeros(2 * N, dtype=np.bool_)
    cmax = np.zeros(2 * N)
    run_chunked(_fill_hash_range, N, XT, W, b, r, K, h, g, nz, cmax, min_chunk=CHUNK)
    return h, g, nz, cmax


@nb.njit(cache=True)
def _same_column(X, W, b, depth3: bool, c: np.int64, o: np.int64, tol: float) -> bool:
    """Whether columns ``c`` and ``o`` agree entrywise within ``tol`` (a tolerance on the scale of
    the columns, so every test here is relative to the data scale)."""
    tc, sc, t0c, oc = _column_params(X, W, b, c, depth3)
    to, so, t0o, oo = _column_params(X, W, b, o, depth3)
    if oc == oo and abs(t0c - t0o) <= tol:
        # same signed neuron => same column (cheap O(d) test that settles most duplicates)
        same_neuron = abs(sc * b[tc] - so * b[to]) <= 1e-2 * tol
        if same_neuron:
            wmax = 0.0
            for j in range(W.shape[1]):
                wmax = max(wmax, abs(W[tc, j]))
            for j in range(W.shape[1]):
                if abs(sc * W[tc, j] - so * W[to, j]) > 1e-12 * wmax:
                    same_neuron = False
                    break
        if same_neuron:
            return True
    for i in range(X.shape[0]):
        if abs(_entry(X, W, b, tc, sc, t0c, oc, i) - _entry(X, W, b, to, so, t0o, oo, i)) > tol:
            return False
    return True


@nb.njit(cache=True, nogil=True)
def _link_range(lo: int, hi: int, X: np.ndarray, W: np.ndarray, b: np.ndarray, depth3: bool, h: np.ndarray,
                g: np.ndarray, order: np.ndarray, nz: np.ndarray, ref: np.ndarray, rel: float,
                link: np.ndarray) -> None:
    """Window scans of :func:`representatives` for hash-order positions ``lo..hi-1``: ``link[pos]``
    is the earliest position before ``pos`` in its window holding an equal column, else ``pos``."""
    n = X.shape[0]
    for pos in range(lo, hi):
        c = order[pos]
        link[pos] = pos
        if not nz[c]:
            continue
        htol = n * rel * ref[c]
        q = pos - 1
        while q >= 0 and h[c] - h[order[q]] <= htol:
            o = order[q]
            if nz[o] and abs(g[c] - g[o]) <= htol and _same_column(X, W, b, depth3, c, o,
                                                                    rel * min(ref[c], ref[o])):
                link[pos] = q
            q -= 1


@nb.njit(cache=True)
def _groups_of_links(order: np.ndarray, nz: np.ndarray, link: np.ndarray) -> np.ndarray:
    """Lowest column index of each linked group, per column (-2 for a zero column)."""
    p = order.shape[0]
    root = np.empty(p, dtype=np.int64)
    low = np.full(p, np.iinfo(np.int64).max, dtype=np.int64)
    for pos in range(p):
        rt = pos if link[pos] == pos else root[link[pos]]
        root[pos] = rt
        low[rt] = min(low[rt], order[pos])
    rep = np.empty(p, dtype=np.int64)
    for pos in range(p):
        c = order[pos]
        rep[c] = low[root[pos]] if nz[c] else -2
    return rep


def representatives(X: np.ndarray, W: np.ndarray, b: np.ndarray, depth3: bool, h: np.ndarray,
                    g: np.ndarray, order: np.ndarray, nz: np.ndarray, ref: np.ndarray, rel: float) -> np.ndarray:
    """For every candidate column, the lowest index of the group of equal columns (-2 if zero).

    Columns ``c, o`` are equal when every entry differs by at most
    ``tol = rel * min(ref[c], ref[o])``, ``ref`` the largest preactivation ``max_i |x_i.w + b|``
    of the column's neuron (so the merge does not depend on the data scale, nor on how
    differently the neurons are scaled, and rounding noise of a neuron is judged at its own
    scale); such columns have hashes within ``tol * n <= n rel ref[c]`` (the hash weights lie
    in ``[0.5, 1)``), so each column is compared
    only with the short window before it in hash order, and only when the second hash ``g``
    agrees too.  Equal signed neurons settle a comparison in ``O(d)``; otherwise entries are
    recomputed on the fly, so ``K`` need not exist.  The window scans run in ranges on
    :func:`~wedgenet._parallel.run_chunked`'s threads; the
    linking of each column to the earliest equal column, and of groups to their lowest
    index, is two linear passes.
    """
    link = np.empty(order.shape[0], dtype=np.int64)  # by position in hash order
    run_chunked(_link_range, order.shape[0], X, W, b, depth3, h, g, order, nz, ref, rel, link, min_chunk=CHUNK)
    return _groups_of_links(order, nz, link)


@nb.njit(cache=True, nogil=True)
def _fill_columns_range(lo: int, hi: int, X: np.ndarray, W: np.ndarray, b: np.ndarray, depth3: bool,
                        cols: np.ndarray, K: np.ndarray) -> None:
    """Columns ``cols[lo:hi]`` of :func:`fill_columns`."""
    n = X.shape[0]
    for q in range(lo, hi):
        t, sgn, t0, outer = _column_params(X, W, b, cols[q], depth3)
        for i in range(n):
            K[i, q] = _entry(X, W, b, t, sgn, t0, outer, i)


def fill_columns(X: np.ndarray, W: np.ndarray, b: np.ndarray, depth3: bool, cols: np.ndarray,
                 K: np.ndarray) -> None:
    """Write the candidate columns ``cols`` into the Fortran-ordered ``K`` (one pass, no temporaries;
    ranges of columns on :func:`~wedgenet._parallel.run_chunked`'s threads)."""
    run_chunked(_fill_columns_range, cols.shape[0], X, W, b, depth3, cols, K, min_chunk=CHUNK)


@nb.njit(cache=True)
def compact_columns(K: np.ndarray, keep: np.ndarray) -> None:
    """Move columns ``keep`` (increasing) of the Fortran-ordered ``K`` to the front, in place.

    Column ``keep[q]`` goes to position ``q <= keep[q]``; a forward sequential pass never
    overwrites a column before it is read.
    """
    n = K.shape[0]
    for q in range(keep.shape[0]):
        src = keep[q]
        if src != q:
            for i in range(n):
                K[i, q] = K[i, src]


@nb.njit(cache=True, nogil=True)
def _column_params_range(lo: int, hi: int, X: np.ndarray, W: np.ndarray, b: np.ndarray, depth3: bool,
                         cols: np.ndarray, t: np.ndarray, sgn: np.ndarray, thr: np.ndarray, outer: np.ndarray) -> None:
    """Columns ``cols[lo:hi]`` of :func:`column_params`."""
    for q in range(lo, hi):
        t[q], sgn[q], thr[q], outer[q] = _column_params(X, W, b, cols[q], depth3)


def column_params(X: np.ndarray, W: np.ndarray, b: np.ndarray, depth3: bool,
                  cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column of the ``[orientation (, level, outer)]`` layout: neuron, sign, threshold, outer sign.

    The same parameters :func:`fill_columns` evaluates (see ``_column_params``), for the
    streamed dictionary's per-column metadata.
    """
    N = cols.shape[0]
    t = np.empty(N, dtype=np.int64)
    sgn = np.empty(N)
    thr = np.empty(N)
    outer = np.empty(N)
    run_chunked(_column_params_range, N, X, W, b, depth3, cols, t, sgn, thr, outer, min_chunk=4 * CHUNK)
    return t, sgn, thr, outer
