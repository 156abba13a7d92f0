"""Numba kernel: for each neuron, the first ``k`` linearly independent samples in distance order."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True, parallel=True)
def first_independent(Z: np.ndarray, order: np.ndarray, U: np.ndarray, k: int, rtol: float,
                      rtol_min: float) -> tuple[np.ndarray, np.ndarray]:
    """Greedy independent selection, one neuron per row of ``order``.

    ``order[t]`` lists candidate rows of ``Z`` (nearest first).  Each candidate is first projected
    onto the hyperplane ``U[t]^perp`` (``U[t]`` the unit old neuron, or zero for no projection).
    It is accepted when its residual after projection onto the span of the accepted (projected)
    ones (Gram-Schmidt, repeated once when it cancels) is larger than ``rtol`` times its projected norm.  When
    fewer than ``k`` pass, the candidates are scanned again with ``rtol_min``.  Returns
    ``sel (m, k)`` (``-1`` where fewer than ``k`` were found) and ``count (m,)``.
    """
    m = order.shape[0]
    K = order.shape[1]
    r = Z.shape[1]
    sel = np.full((m, k), -1, dtype=np.int64)
    count = np.zeros(m, dtype=np.int64)
    for t in nb.prange(m):
        Q = np.empty((max(k, 1), r))
        v = np.empty(r)
        c = 0
        for ps in range(2):
            tol = rtol if ps == 0 else rtol_min
            for s in range(K):
                if c == k:
                    break
                i = order[t, s]
                du = 0.0
                for j in range(r):
                    du += Z[i, j] * U[t, j]
                nv = 0.0
                for j in range(r):
                    v[j] = Z[i, j] - du * U[t, j]
                    nv += v[j] * v[j]
                if nv == 0.0:
                    continue
                before = nv
                for _ in range(2):  # Gram-Schmidt, repeated only when it cancelled a lot ("twice is enough")
                    for q in range(c):
                        dot = 0.0
                        for j in range(r):
                            dot += Q[q, j] * v[j]
                        for j in range(r):
                            v[j] -= dot * Q[q, j]
                    nr = 0.0
                    for j in range(r):
                        nr += v[j] * v[j]
                    if nr > 0.25 * before:
                        break
                    before = nr
                if nr > tol * tol * nv:
                    inv = 1.0 / np.sqrt(nr)
                    for j in range(r):
                        Q[c, j] = v[j] * inv
                    sel[t, c] = i
                    c += 1
            if c == k or tol <= rtol_min:
                break
        count[t] = c
    return sel, count
