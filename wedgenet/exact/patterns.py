"""Complete enumeration of ReLU activation patterns (chambers of a central hyperplane arrangement).

An activation pattern of the data ``A`` (``A = X``, or ``A = [X, 1]`` with hidden biases) is the
0/1 vector ``1[A u >= 0]`` for some direction ``u``.  The patterns that matter for the exact
convex program (Pilanci & Ergen 2020, eq. 8) are those of the full-dimensional *chambers* of the
central arrangement ``{u : a_i . u = 0}``: every other direction lies on the closure of a chamber,
and on that closed cone the masked product ``D A u`` equals ``(A u)_+`` for the chamber's ``D``.

Algorithm (vertex rays plus local completion; complete by construction)
------------------------------------------------------------------------
1. Drop zero rows (their entry is always 1) and merge parallel rows into distinct hyperplanes,
   remembering each row's orientation.  Work in the row space (rank ``r``) of the distinct normals.
2. With the normals spanning ``R^r``, the closure of every chamber is a *pointed* polyhedral cone,
   so (for ``r >= 2``) it has an extreme ray ``c``.  The constraints tight at ``c`` have rank
   ``r - 1``, so ``+-c`` is the null line of some linearly independent ``(r-1)``-subset of normals.
3. For each independent ``(r-1)``-subset, take its null vector ``c``.  Let ``Z`` be the normals
   vanishing on ``c``.  Near ``c`` the chambers are exactly ``sign(B c)`` off ``Z`` combined with a
   chamber of the sub-arrangement ``Z`` (which has ``c`` in its lineality space):
   - if ``|Z| = r - 1`` (general position) all ``2^(r-1)`` sign choices on ``Z`` occur;
   - otherwise the chambers of ``Z`` are enumerated recursively in its ``(r-1)``-dim row space.
   Every generated sign vector is a genuine chamber, and every chamber is generated from one of its
   extreme rays, so the enumeration is complete (exact arithmetic; degeneracy is detected with a
   relative tolerance of ``1e-9``).  Chambers come in antipodal pairs, so ``-c`` is handled by
   negation.  For ``r = 1`` the two chambers are the two half-lines.

The number of chambers of ``h`` distinct hyperplanes of rank ``r`` is at most
``2 * sum_{k<r} C(h-1, k)`` (erratum G2, docs/conventions.md#g2), with equality in general position.
"""

from __future__ import annotations

import itertools
from math import comb

import numpy as np

from wedgenet._linalg import row_norms, row_space
from wedgenet._validation import as_float_array, check_positive_int

__all__ = ["activation_patterns", "max_pattern_count", "augment"]

_ZERO_ROW_RTOL = 1e-12  # rows shorter than this (relative to the longest) are zero rows
_PARALLEL_TOL = 1e-9  # unit normals closer than this (up to sign) are the same hyperplane
_RANK_RTOL = 1e-10  # singular values below this (relative) are zero
_ON_PLANE_TOL = 1e-9  # |b . c| below this (unit b, unit c) means c lies on the hyperplane
_CHUNK = 4096


def max_pattern_count(n, r) -> int:
    """Upper bound ``2 * sum_{k=0}^{r-1} C(n-1, k)`` on the number of activation patterns.

    ``n`` is the number of (distinct, nonzero) rows and ``r`` their rank.  The bound is attained
    when the rows are in general position (erratum G2, docs/conventions.md#g2; the Watanabe essay's ``C(n, k)``
    is wrong).  ``r = 0`` gives 1 (the single all-ones pattern of the zero arrangement).
    """
    n = check_positive_int("n", n, minimum=0)
    r = check_positive_int("r", r, minimum=0)
    if r > n:
        raise ValueError(f"r must be <= n (a rank cannot exceed the number of rows); got r={r}, n={n}")
    if r == 0:
        return 1
    return 2 * sum(comb(n - 1, k) for k in range(r))


def augment(X: np.ndarray, bias: bool) -> np.ndarray:
    """Return ``[X, 1]`` when ``bias`` else ``X`` (float64)."""
    if bias:
        return np.hstack([X, np.ones((X.shape[0], 1))])
    return np.asarray(X, dtype=np.float64)


def _whiten(X: np.ndarray, bias: bool) -> np.ndarray:
    """Data with the same activation patterns as ``X``, in well-scaled coordinates.

    ``1[x . w >= 0]`` over all ``w`` does not change under an invertible linear map of the data
    (``w -> M^{-T} w``), nor, with a free bias, under a translation (``b -> b + mu . w``).  So
    the patterns of ``X`` are those of ``sqrt(n) U_r`` from the SVD of ``X`` (centred when
    ``bias``): unit-scale coordinates in the rank-``r`` row space, whatever the scale or the
    conditioning of ``X``.  Without this, ``[X, 1]`` with ``|X| ~ 1e8`` is nearly rank-deficient
    and the rank and on-plane tests disagree.
    """
    n = X.shape[0]
    M = X - X.mean(axis=0) if bias else X
    Uf, s, _ = np.linalg.svd(M, full_matrices=False)
    r = int(np.sum(s > _RANK_RTOL * s[0])) if s.size and s[0] > 0 else 0
    if r == 0:  # all rows equal (bias) or zero: one column of zeros keeps the shapes valid
        return np.zeros((n, 1))
    return Uf[:, :r] * np.sqrt(n)


def _row_space(B: np.ndarray) -> tuple[np.ndarray, int]:
    """Coordinates of the rows of ``B`` in an orthonormal basis of their span, and the rank."""
    V, r = row_space(B, rtol=_RANK_RTOL)
    return B @ V.T, r


def _distinct_hyperplanes(A: np.ndarray):
    """Split rows into zero rows and distinct hyperplanes.

    Returns ``(U, hyp, orient, zero)``: unit normals ``U`` (h, D), and per row the hyperplane
    index ``hyp[i]``, orientation ``orient[i] in {+1, -1}`` (``a_i = |a_i| * orient_i * U[hyp_i]``)
    and the zero-row mask.
    """
    n = A.shape[0]
    norms = row_norms(A)
    top = norms.max() if n else 0.0
    zero = norms <= _ZERO_ROW_RTOL * top if top > 0 else np.ones(n, dtype=bool)
    hyp = np.full(n, -1, dtype=np.int64)
    orient = np.zeros(n, dtype=np.int8)
    reps: list[np.ndarray] = []
    for i in np.flatnonzero(~zero):
        u = A[i] / norms[i]
        if reps:
            R = np.asarray(reps)
            dp = row_norms(R - u)
            dm = row_norms(R + u)
            jp, jm = int(np.argmin(dp)), int(np.argmin(dm))
            if dp[jp] <= _PARALLEL_TOL:
                hyp[i], orient[i] = jp, 1
                continue
            if dm[jm] <= _PARALLEL_TOL:
                hyp[i], orient[i] = jm, -1
                continue
        hyp[i], orient[i] = len(reps), 1
        reps.append(u)
    U = np.asarray(reps).reshape(len(reps), A.shape[1])
    return U, hyp, orient, zero


def _chambers(B: np.ndarray, ids: tuple, cache: dict) -> np.ndarray:
    """All chambers of the central arrangement of the (distinct, unit) rows of ``B``.

    ``ids`` are the top-level indices of the rows of ``B`` (the memoisation key: a sub-arrangement
    through a degenerate ray is met once per independent subset of it).
    Returns an int8 array ``(m, h)`` of sign vectors in {-1, +1}, sorted, without duplicates.
    """
    if ids in cache:
        return cache[ids]
    h = B.shape[0]
    if h == 0:
        out = np.zeros((1, 0), dtype=np.int8)
    else:
        Bc, r = _row_space(B)
        nrm = row_norms(Bc)[:, None]
        Bc = Bc / nrm
        if r == 1:
            s = np.where(Bc[:, 0] > 0, 1, -1).astype(np.int8)
            out = np.unique(np.vstack([s, -s]), axis=0)
        else:
            out = _chambers_from_rays(Bc, r, ids, cache)
    cache[ids] = out
    return out


def _chambers_from_rays(B: np.ndarray, r: int, ids: tuple, cache: dict) -> np.ndarray:
    h = B.shape[0]
    found: list[np.ndarray] = []
    # sign completions of r-1 independent hyperplanes through a ray: all 2^(r-1) sign choices
    completions = np.array(list(itertools.product((1, -1), repeat=r - 1)), dtype=np.int8)
    combos_iter = itertools.combinations(range(h), r - 1)
    while True:
        combos = np.array(list(itertools.islice(combos_iter, _CHUNK)), dtype=np.int64)
        if combos.size == 0:
            break
        combos = combos.reshape(-1, r - 1)
        M = B[combos]  # (k, r-1, r)
        _, s, vt = np.linalg.svd(M, full_matrices=True)
        independent = s[:, -1] > _RANK_RTOL * 1e2  # unit rows: s_max ~ 1
        if not np.any(independent):
            continue
        combos, c = combos[independent], vt[independent, -1, :]  # unit null vectors
        S = c @ B.T  # (k, h)
        onplane = np.abs(S) <= _ON_PLANE_TOL
        base = np.where(S > 0, 1, -1).astype(np.int8)
        nz = onplane.sum(axis=1)
        generic = nz == r - 1
        if np.any(generic):
            g_base, g_comb = base[generic], combos[generic]
            k = g_base.shape[0]
            rep = np.repeat(g_base, completions.shape[0], axis=0)  # (k*2^(r-1), h)
            rows = np.repeat(np.arange(k), completions.shape[0])
            cols = g_comb[rows]  # (k*2^(r-1), r-1)
            rep[np.arange(rep.shape[0])[:, None], cols] = np.tile(completions, (k, 1))
            found.append(np.unique(rep, axis=0))
        for j in np.flatnonzero(~generic):
            Z = np.flatnonzero(onplane[j])
            if Z.size == h:  # c "on" every row contradicts rank r: a rounding artefact, not a ray
                continue
            sub = _chambers(B[Z], tuple(ids[z] for z in Z), cache)
            blk = np.repeat(base[j][None, :], sub.shape[0], axis=0)
            blk[:, Z] = sub
            found.append(blk)
    if not found:  # cannot happen for rank r >= 2 rows, kept for safety
        raise RuntimeError("no extreme rays found; the arrangement rank computation is inconsistent")
    allc = np.vstack(found)
    return np.unique(np.vstack([allc, -allc]), axis=0)


def activation_patterns(X, *, bias: bool = False, max_patterns: int = 20000) -> np.ndarray:
    """All distinct nonzero activation patterns ``1[A u >= 0]`` of the data, ``A = X`` or ``[X, 1]``.

    These are the diagonal matrices ``D_i`` of the exact convex program of Pilanci & Ergen (2020),
    eq. (8), one per full-dimensional chamber of the central hyperplane arrangement of the rows of
    ``A`` in ``R^d`` (``bias=False``) or ``R^{d+1}`` (``bias=True``).  The enumeration is complete
    (see the module docstring for the algorithm and proof) and handles rank-deficient ``X``,
    duplicate or parallel rows, zero rows and ``d = 1``.  The all-zeros pattern is omitted: it
    contributes nothing to the program.

    Parameters
    ----------
    X : (n, d) array of finite floats.
    bias : if True, use the rows of ``[X, 1]`` (hidden biases).
    max_patterns : the upper bound ``2 * sum_{k<r} C(h-1, k)`` (``h`` distinct hyperplanes of rank
        ``r``) is computed first; if it exceeds this, ``ValueError`` is raised.

    Returns
    -------
    (P, n) bool array, rows sorted lexicographically (deterministic order).
    """
    X = as_float_array("X", X, ndim=2)
    if X.shape[1] == 0:
        raise ValueError(f"X must have at least one column; got shape {X.shape}")
    if not isinstance(bias, (bool, np.bool_)):
        raise ValueError(f"bias must be a bool; got {bias!r}")
    max_patterns = check_positive_int("max_patterns", max_patterns)
    A = augment(_whiten(X, bool(bias)), bool(bias))
    n = A.shape[0]
    U, hyp, orient, zero = _distinct_hyperplanes(A)
    h = U.shape[0]
    _, r = _row_space(U) if h else (None, 0)
    bound = max_pattern_count(h, r) if h else 1
    if bound > max_patterns:
        raise ValueError(
            f"max_patterns={max_patterns} is too small: the data have {h} distinct hyperplanes of rank {r}, "
            f"so there may be up to {bound} activation patterns. Use a smaller n (or lower-dimensional "
            f"data), raise max_patterns, or pass sampled patterns to solve_exact(patterns=...)."
        )
    ch = _chambers(U, tuple(range(h)), {})  # (m, h) signs
    pats = np.ones((ch.shape[0], n), dtype=bool)
    nzr = np.flatnonzero(~zero)
    if nzr.size:
        pats[:, nzr] = (ch[:, hyp[nzr]] * orient[nzr][None, :]) > 0
    pats = pats[pats.any(axis=1)]
    return np.unique(pats, axis=0)
