"""Heuristic pricing: hill climbing over adjacent vertices of the hyperplane arrangement.

A vertex neuron is the null vector ``v`` of ``D - 1`` independent rows of the arrangement
(:mod:`wedgenet.beyond.vertices`).  Its neighbours swap one row ``r`` for another row ``q``:
this moves along an edge of the arrangement to an adjacent vertex (or a vertex of the l1 ball's
faces ``w_k = 0``).  With ``M = [rows; v^T]`` and ``G = M^{-1}`` (columns ``g_1..g_{D-1}`` dual
to the rows), the null vector after the swap is, in closed form,

    v' = (q . g_r) v - (q . v) g_r

(it is orthogonal to every kept row, since ``a_k . g_r = 0`` and ``a_k . v = 0``, and to ``q``).
So the pre-activations of every neighbour are ``A v' = (q . g_r) (A v) - (q . v) (A g_r)``: one
``(n + d) x (D - 1)`` product and rank-one updates give all ``(D - 1)(n + d)`` neighbours without a
factorisation each.  Their scores need no ``(n + d) x n`` block either: with the sample points
``p_i = (x~_i . v, x~_i . g_r)`` of the plane and ``u_q = (q . g_r, -(q . v))``, the sum
``sum_i theta_i (u_q . p_i)_+`` runs over the ``p_i`` in a half-plane, an arc of angles, so prefix
sums of ``theta_i p_i`` in angular order price every swap by two binary searches, and the norms
``||w'||_2`` have a closed form: ``O((n + d) D log n)`` per step (``p = 1``: plus ``O((n + d) D d)``
for the norms) instead of ``O(n (n + d) D)``.  The swaps within a rounding bound of the best are
priced again directly, so the climb takes the same steps as direct pricing (up to ties within
rounding).

The score of a neuron is its dual violation ``|sum_i theta_i (w . x_i + b)_+| / ||w||_p``
(both orientations; docs/conventions.md, "Certificates").  The climb moves to the best neighbour
while the score increases (strictly, so it cannot cycle) and returns the local maxima.  It is a
heuristic: it gives new columns and a lower estimate of the maximum violation, never a bound.
"""

from __future__ import annotations

import numpy as np

from .._linalg import row_norms
from .vertices import Geometry

__all__ = ["climb", "neighbour_scores", "best_vertices"]

#: largest number of elements of one block of swaps evaluated at once (memory)
CHUNK_ELEMENTS = 2_000_000
#: positions tried first at each step of a climb (all of them before declaring a local maximum)
POSITION_BATCH = 6
#: safety factor of the rounding bound that decides which swaps are re-priced directly
ROUNDING_FACTOR = 32.0

_NONE = (-np.inf, -1, -1, 0)
_EPS = float(np.finfo(np.float64).eps)


def _last_axis_norms(W: np.ndarray, p: int) -> np.ndarray:
    """``||W[..., :]||_p`` along the last axis, as :func:`~wedgenet._linalg.row_norms` gives it.

    Summed directly (the bits of ``numpy.linalg.norm``); the entries whose result leaves
    ``[1e-140, 1e140]`` (where squares could under- or overflow) go through ``row_norms``.
    """
    with np.errstate(over="ignore", under="ignore"):
        out = np.add.reduce(np.abs(W), axis=-1) if p == 1 else np.sqrt(np.add.reduce(W * W, axis=-1))
    bad = ~((out >= 1e-140) & (out <= 1e140))
    if bad.any():
        out[bad] = row_norms(W[bad], p)
    return out


#: the closed-form 2-norms of the swaps are used where their relative rounding bound is below this
NORM_RTOL = 1e-8


def _swap_norms(al: np.ndarray, beta: np.ndarray, v: np.ndarray, Gc: np.ndarray, p: int,
                thr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``||w'||_p`` of every swap, ``w' = alpha_q v_w - beta_q g_w`` (``al`` is ``(k, P)``, ``Gc`` the
    ``(d, k)`` weight rows of the swapped-out duals), and a bound on their relative rounding.

    ``p = 2``: ``||w'||^2 = a^2 |v_w|^2 - 2 a b (v_w . g_w) + b^2 |g_w|^2`` in ``O(k P)``, bound
    ``4 (d + 4) eps (|a| |v_w| + |b| |g_w|)^2 / ||w'||^2``; where that exceeds :data:`NORM_RTOL`
    (cancellation) or could put ``||w'||`` on either side of the threshold ``thr`` (per row of
    ``al``), the norm is summed directly (bound 0).  ``p = 1``: summed directly everywhere.
    """
    k, P = al.shape
    d = v.shape[0]
    if p != 2:
        Wn = al[:, :, None] * v[None, None, :] - beta[None, :, None] * Gc.T[:, None, :]
        return _last_axis_norms(Wn, p), np.zeros((k, P))
    vv, vg, gg = float(v @ v), v @ Gc, np.einsum("ij,ij->j", Gc, Gc)
    b = beta[None, :]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        n2 = (al * al) * vv - (2.0 * al * b) * vg[:, None] + (b * b) * gg[:, None]
        scale = np.abs(al) * np.sqrt(vv) + np.abs(b) * np.sqrt(gg)[:, None]
        rel = np.where(n2 > 0, 4.0 * (d + 4) * _EPS * (scale * scale) / n2, np.inf)  # n2 <= 0: cancelled
        nr = np.sqrt(np.maximum(n2, 0.0))
        redo = ~(rel <= NORM_RTOL) | ~np.isfinite(n2) | (np.abs(nr - thr[:, None]) <= 2.0 * rel * nr + 1e-300)
    if redo.any():
        jj, qq = np.nonzero(redo)
        Wn = al[jj, qq, None] * v[None, :] - beta[qq, None] * Gc.T[jj, :]
        nr[jj, qq] = row_norms(Wn, p)
        rel[jj, qq] = 0.0
    return nr, rel


def _halfplane_sums(s0: np.ndarray, T: np.ndarray, theta: np.ndarray, alpha: np.ndarray,
                    beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``sp[j, q] = sum_i theta_i (alpha[q, j] s0_i - beta_q T[i, j])_+``, the same of ``(.)_-``,
    and the largest angle rounding of the half-plane test.

    With ``p_i = (s0_i, T_ij)`` and ``u_q = (alpha_qj, -beta_q)`` the sum runs over the samples in
    the open half-plane ``u_q . p_i > 0``: an arc of angles of length ``pi``.  Sorting the ``p_i``
    by angle once per position, prefix sums ``C`` of ``theta_i p_i`` give every ``q`` by two binary
    searches: ``sp = u_q . (C[hi] - C[lo])``, and ``sm = sp - u_q . sum_i theta_i p_i``.  Cost
    ``O((n + P) log n)`` per position instead of ``O(n P)``.
    """
    k, n = T.shape[1], s0.shape[0]
    ang = np.arctan2(T.T, s0[None, :])  # (k, n) in [-pi, pi]
    order = np.argsort(ang, axis=1)
    ang = np.take_along_axis(ang, order, axis=1)
    w0 = (theta * s0)[order]  # (k, n)
    w1 = np.take_along_axis((theta[:, None] * T).T, order, axis=1)
    # every position's arc search in one sorted array: row j doubled (angles + 2 pi) and shifted by 8 pi j
    shift = 8.0 * np.pi * np.arange(k)[:, None]
    ext = np.concatenate([ang, ang + 2.0 * np.pi], axis=1) + shift  # (k, 2n), increasing overall
    C = np.zeros((2, k, 2 * n + 1))
    np.cumsum(np.concatenate([w0, w0], axis=1), axis=1, out=C[0, :, 1:])
    np.cumsum(np.concatenate([w1, w1], axis=1), axis=1, out=C[1, :, 1:])
    a, b = alpha.T, beta[None, :]  # (k, P), (1, P)
    lower = np.arctan2(-b, a) - 0.5 * np.pi  # the arc (lower, lower + pi) is the positive side
    lower = np.where(lower < -np.pi, lower + 2.0 * np.pi, lower) + shift
    flat = ext.ravel()
    base = (2 * n) * np.arange(k)[:, None]
    row0 = (2 * n + 1) * np.arange(k)[:, None] - base  # flat index in C of flat index in ext
    lo = np.searchsorted(flat, lower, side="right") + row0
    hi = np.searchsorted(flat, lower + np.pi, side="left") + row0
    C0, C1 = C[0].ravel(), C[1].ravel()
    sp = a * (C0[hi] - C0[lo]) - b * (C1[hi] - C1[lo])
    tot = a * C[0, :, n:n + 1] - b * C[1, :, n:n + 1]  # u_q . sum_i theta_i p_i
    ulp = float(np.spacing(8.0 * np.pi * k + 4.0 * np.pi))
    return sp, sp - tot, 8.0 * ulp


def neighbour_scores(geo: Geometry, rows: np.ndarray, v: np.ndarray, theta: np.ndarray,
                     positions: np.ndarray | None = None):
    """The best neighbour of the vertex ``(rows, v)``: ``(score, r_position, q_row, sign)``.

    ``score`` is the largest ``|sum theta_i (A v')_+| / ||w'||_p`` (times ``R``: data units, so it
    compares with dictionary scores) over every swap and both orientations; ``sign`` is the
    orientation (+1: ``v'``, -1: ``-v'``).  ``(-inf, -1, -1, 0)`` if no swap gives a neuron.
    ``positions`` restricts the rows that may be swapped out (default: all ``D - 1``).

    Every swap is priced by half-plane prefix sums (:func:`_halfplane_sums`, rounding at most
    ``e = (ROUNDING_FACTOR eps (n + 2) + angle rounding) sum_i |theta_i| |p_i|_1 |u_q|_1``) over
    norms :func:`_swap_norms` (relative rounding at most ``rho``): the score lies in
    ``[(s - e) / (||w'|| (1 + rho)), (s + e) / (||w'|| (1 - rho))]``.  The swaps whose interval
    reaches the largest lower end are priced again directly, ``|theta . (A v')_+| / ||w'||_p`` with
    the norm summed, so the choice is the direct one.  Ties go to the earliest position (in the
    order of ``positions``), then to ``+1``, then to the lowest row.
    """
    D = geo.D
    M = np.vstack([geo.rows[rows], v[None, :]])
    try:
        G = np.linalg.inv(M)
    except np.linalg.LinAlgError:
        return _NONE
    pos = np.arange(D - 1) if positions is None else np.asarray(positions, dtype=np.int64).reshape(-1)
    if pos.size == 0:
        return _NONE
    s0 = geo.A @ v  # (n,)
    S = geo.A @ G[:, : D - 1]  # (n, D-1)
    P = geo.rows.shape[0]
    alpha = geo.rows @ G[:, : D - 1]  # (P, D-1)
    beta = geo.rows @ v  # (P,)
    babs = np.abs(beta)
    bmax = float(babs.max())
    ath = np.abs(theta)
    kc = max(1, CHUNK_ELEMENTS // max(P * max(geo.d, 1) + 6 * geo.n + 8 * P, 1))
    lower, upper, valid = [], [], []
    for c in range(0, pos.size, kc):
        pc = pos[c:c + kc]
        al = alpha[:, pc].T  # (k, P)
        aal = np.abs(al)
        thr = 1e-10 * np.maximum(np.maximum(aal.max(axis=1), bmax), 1e-300)
        nr, rel = _swap_norms(al, beta, v[: geo.d], G[: geo.d, pc], geo.p, thr)  # (k, P)
        valid.append(nr > thr[:, None])
        Sc = S[:, pc]
        sp, sm, ang_err = _halfplane_sums(s0, Sc, theta, al.T, beta)
        mass = ath @ np.abs(s0) + ath @ np.abs(Sc)  # (k,): sum_i |theta_i| |p_i|_1
        err = (ROUNDING_FACTOR * _EPS * (geo.n + 2) + ang_err) * mass[:, None] * (aal + babs[None, :])
        num = np.stack([np.abs(sp), np.abs(sm)])  # (2, k, P)
        with np.errstate(divide="ignore", invalid="ignore"):
            lower.append(np.maximum(num - err, 0.0) / (nr * (1.0 + rel)))
            upper.append((num + err) / (nr * (1.0 - rel)))
    lower_a, upper_a = np.concatenate(lower, axis=1), np.concatenate(upper, axis=1)
    ok = np.concatenate(valid, axis=0)
    ok[:, rows] = False
    ok = ok[None] & np.isfinite(lower_a) & np.isfinite(upper_a)
    if not ok.any():
        return _NONE
    floor = np.max(np.where(ok, lower_a, -np.inf))
    window = ok & (upper_a >= floor)
    best = _NONE
    for j in np.flatnonzero(window.any(axis=(0, 2))):
        r = int(pos[j])
        qs = np.flatnonzero(window[:, j, :].any(axis=0))
        nrm = row_norms(alpha[qs, r, None] * v[None, : geo.d] - beta[qs, None] * G[None, : geo.d, r], geo.p)
        Z = alpha[qs, r, None] * s0[None, :] - beta[qs, None] * S[None, :, r]
        vals = np.stack([np.abs(np.maximum(Z, 0.0) @ theta), np.abs(np.maximum(-Z, 0.0) @ theta)]) / nrm
        for si, sign in ((0, 1), (1, -1)):
            cand = np.where(window[si, j, qs], vals[si], -np.inf)
            i = int(np.argmax(cand))
            val = float(cand[i] * geo.R)
            if val > best[0]:
                best = (val, r, int(qs[i]), sign)
    return best


def climb(geo: Geometry, rows: np.ndarray, v: np.ndarray, theta: np.ndarray, *, max_steps: int = 200,
          rtol: float = 1e-12, deadline: float | None = None):
    """Hill climbing from the vertex ``(rows, v)``; returns ``(rows, v, score, steps)`` at a local maximum
    (or where ``deadline``, a ``time.perf_counter()`` value, stopped it).

    ``score`` is ``|sum_i theta_i (w . x_i + b)_+|`` for the unit-norm data neuron of ``v``.
    """
    import time

    rows = np.asarray(rows, dtype=np.int64).copy()
    score = float(abs(geo.scores(v[None], theta)[0]))
    rng = np.random.default_rng(len(rows))
    steps = 0
    for steps in range(1, max_steps + 1):  # noqa: B007
        if deadline is not None and time.perf_counter() > deadline:
            steps -= 1
            break
        # swap out a random batch of positions first (cheap when D is large); the whole
        # neighbourhood only when the batch does not improve, so a stop is a local maximum
        order = rng.permutation(geo.D - 1)
        s, r, q, sign = neighbour_scores(geo, rows, v, theta, order[:POSITION_BATCH])
        if not s > score * (1.0 + rtol) + 1e-300 and geo.D - 1 > POSITION_BATCH:
            s, r, q, sign = neighbour_scores(geo, rows, v, theta, order[POSITION_BATCH:])
        if not s > score * (1.0 + rtol) + 1e-300:
            steps -= 1
            break
        new_rows = rows.copy()
        new_rows[r] = q
        vn = geo.vertex(new_rows)
        if vn is None:
            break
        sc = geo.scores(np.vstack([vn, -vn]), theta)
        vn = vn if abs(sc[0]) >= abs(sc[1]) else -vn
        val = float(max(abs(sc[0]), abs(sc[1])))
        if not val > score * (1.0 + rtol):  # rounding disagreed with the rank-one update
            break
        rows, v, score = new_rows, vn, val
    return rows, v, score, steps


def best_vertices(geo: Geometry, V0: np.ndarray, theta: np.ndarray, *, max_starts: int = 8, max_steps: int = 200,
                  deadline: float | None = None):
    """Climb from the scaled neurons ``V0`` (best first); distinct local maxima by decreasing score.

    Returns a list of ``(rows, v, score)``; each start is first snapped to a vertex (its
    tightest ``D - 1`` independent rows, oriented like it).
    """
    import time

    out: dict[tuple, tuple] = {}
    for v0 in V0[:max_starts]:
        if deadline is not None and time.perf_counter() > deadline:
            break
        snapped = geo.snap(v0)
        if snapped is None:
            continue
        rows, v, score, _ = climb(geo, *snapped, theta, max_steps=max_steps, deadline=deadline)
        key = (tuple(sorted(rows.tolist())), float(np.sign(v[np.argmax(np.abs(v))])))
        if key not in out or out[key][2] < score:
            out[key] = (rows, v, score)
    return sorted(out.values(), key=lambda t: -t[2])
