"""Heuristic pricing: hill climbing over adjacent vertices of the hyperplane arrangement.

A vertex neuron is the null vector ``v`` of ``D - 1`` independent rows of the arrangement
(:mod:`wedgenet.beyond.vertices`).  Its neighbours swap one row ``r`` for another row ``q``:
this moves along an edge of the arrangement to an adjacent vertex (or a vertex of the l1 ball's
faces ``w_k = 0``).  With ``M = [rows; v^T]`` and ``G = M^{-1}`` (columns ``g_1..g_{D-1}`` dual
to the rows), the null vector after the swap is, in closed form,

    v' = (q . g_r) v - (q . v) g_r

(it is orthogonal to every kept row, since ``a_k . g_r = 0`` and ``a_k . v = 0``, and to ``q``).
So the pre-activations of every neighbour are ``A v' = (q . g_r) (A v) - (q . v) (A g_r)``: one
``(n + d) x (D - 1)`` product and rank-one updates price all ``(D - 1)(n + d)`` neighbours in
``O(n (n + d) D)`` without a factorisation each.

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

#: largest ``(rows of a chunk) * n`` evaluated at once (memory of the pre-activation block)
CHUNK_ELEMENTS = 2_000_000
#: positions tried first at each step of a climb (all of them before declaring a local maximum)
POSITION_BATCH = 6


def neighbour_scores(geo: Geometry, rows: np.ndarray, v: np.ndarray, theta: np.ndarray,
                     positions: np.ndarray | None = None):
    """The best neighbour of the vertex ``(rows, v)``: ``(score, r_position, q_row, sign)``.

    ``score`` is the largest ``|sum theta_i (A v')_+| / ||w'||_p`` (times ``R``: data units, so it
    compares with dictionary scores) over every swap and both orientations; ``sign`` is the
    orientation (+1: ``v'``, -1: ``-v'``).  ``(-inf, -1, -1, 0)`` if no swap gives a neuron.
    ``positions`` restricts the rows that may be swapped out (default: all ``D - 1``).
    """
    D = geo.D
    M = np.vstack([geo.rows[rows], v[None, :]])
    try:
        G = np.linalg.inv(M)
    except np.linalg.LinAlgError:
        return -np.inf, -1, -1, 0
    s0 = geo.A @ v  # (n,)
    S = geo.A @ G[:, : D - 1]  # (n, D-1)
    P = geo.rows.shape[0]
    alpha = geo.rows @ G[:, : D - 1]  # (P, D-1)
    beta = geo.rows @ v  # (P,)
    chunk = max(1, CHUNK_ELEMENTS // max(geo.n, 1))
    best = (-np.inf, -1, -1, 0)
    in_set = np.zeros(P, dtype=bool)
    in_set[rows] = True
    for r in (range(D - 1) if positions is None else positions):
        r = int(r)
        Wn = alpha[:, r, None] * v[None, : geo.d] - beta[:, None] * G[None, : geo.d, r]
        nrm = row_norms(Wn, geo.p)
        scale_ok = nrm > 1e-10 * max(float(np.abs(alpha[:, r]).max()), float(np.abs(beta).max()), 1e-300)
        valid = scale_ok & ~in_set
        for a in range(0, P, chunk):
            sl = slice(a, min(P, a + chunk))
            Z = alpha[sl, r, None] * s0[None, :] - beta[sl, None] * S[None, :, r]
            sp = np.maximum(Z, 0.0) @ theta
            sm = np.maximum(-Z, 0.0) @ theta
            with np.errstate(divide="ignore", invalid="ignore"):
                val_p = np.abs(sp) / nrm[sl]
                val_m = np.abs(sm) / nrm[sl]
            ok = valid[sl]
            val_p = np.where(ok, val_p, -np.inf)
            val_m = np.where(ok, val_m, -np.inf)
            ip, im = int(np.argmax(val_p)), int(np.argmax(val_m))
            if val_p[ip] * geo.R > best[0]:
                best = (float(val_p[ip] * geo.R), r, a + ip, 1)
            if val_m[im] * geo.R > best[0]:
                best = (float(val_m[im] * geo.R), r, a + im, -1)
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
        rows = geo.tight_rows(v0)
        if rows is None:
            continue
        v = geo.vertex(rows, sign_ref=v0)
        if v is None:
            continue
        rows, v, score, _ = climb(geo, rows, v, theta, max_steps=max_steps, deadline=deadline)
        key = (tuple(sorted(rows.tolist())), float(np.sign(v[np.argmax(np.abs(v))])))
        if key not in out or out[key][2] < score:
            out[key] = (rows, v, score)
    return sorted(out.values(), key=lambda t: -t[2])
