"""Numba kernel of the group proximal Newton solver: block coordinate descent on its model.

The model (see :class:`wedgenet.solvers.classification.GroupProxNewton`) at ``pred`` with
gradient ``G`` (``(n, c)``) and per-sample Hessians ``H_i = diag(A_i) - B_i B_i^T`` (``A``, ``B``:
``(n, c)``; ``B = 0`` for a diagonal curvature; softmax: ``A = B = q``, its exact Hessian) is,
for the new coefficients ``U`` (``(k, c)``, rows are groups) and intercept ``s`` (``(c,)``),

    m(U, s) = sum_i [G_i^T D_i + 0.5 D_i^T H_i D_i] + lam sum_j ||U_j||_2,   D = K (U - Z) + 1 (s - t)^T.

Each block step is a proximal gradient step on group ``j`` with the majoriser
``L_j = sum_i K_ij^2 l_i``, ``l_i = min(max_c A_ic, sum_c A_ic - ||B_i||^2) >= lambda_max(H_i)``
(a group soft-threshold: exact zeros); each sweep ends with the exact intercept step
``(sum_i H_i) ds = -sum_i W_i`` (pseudo-inverse: softmax is invariant to a shift of every class).
``W_i = G_i + H_i D_i`` (the model's gradient in the predictions) is kept up to date, so a
step costs ``O(n c)``.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from .. import _cache  # noqa: F401  (before the decorators: numba caches the kernels in the user cache)


@nb.njit(cache=True)
def _block_step(K, A, B, W, D, U, Lj, lam, j):
    n, c = W.shape
    g = np.zeros(c)
    for i in range(n):
        kij = K[i, j]
        if kij != 0.0:
            for q in range(c):
                g[q] += kij * W[i, q]
    L = Lj[j]
    if L <= 0.0:
        return 0.0
    u = np.empty(c)
    nu = 0.0
    for q in range(c):
        u[q] = U[j, q] - g[q] / L
        nu += u[q] * u[q]
    nu = np.sqrt(nu)
    shrink = 0.0 if nu <= lam / L else 1.0 - lam / (L * nu)
    change = 0.0
    delta = np.empty(c)
    for q in range(c):
        delta[q] = shrink * u[q] - U[j, q]
        change = max(change, abs(delta[q]) * np.sqrt(L))
    if change == 0.0:
        return 0.0
    for q in range(c):
        U[j, q] += delta[q]
    for i in range(n):
        kij = K[i, j]
        if kij != 0.0:
            bd = 0.0
            for q in range(c):
                bd += B[i, q] * delta[q]
            for q in range(c):
                d = kij * delta[q]
                D[i, q] += d
                W[i, q] += A[i, q] * d - B[i, q] * kij * bd
    return change


@nb.njit(cache=True)
def model_bcd(K, G, A, B, Z, t, lam, intercept, tol, max_sweeps):
    """Minimise the model from ``U = Z``, ``s = t``; returns ``(U, s, D, sweeps)``.

    Sweeps alternate between every group and the nonzero groups; the loop stops when a full
    sweep moves no block by more than ``tol`` (in the majoriser's metric ``sqrt(L_j) |dU_j|``)."""
    n, k = K.shape
    c = G.shape[1]
    U = Z.copy()
    s = t.copy()
    D = np.zeros((n, c))
    W = G.copy()
    lmax = np.zeros(n)
    for i in range(n):
        mx = 0.0
        tr = 0.0
        for q in range(c):
            mx = max(mx, A[i, q])
            tr += A[i, q] - B[i, q] * B[i, q]
        lmax[i] = min(mx, max(tr, 0.0))
    Lj = np.zeros(k)
    for j in range(k):
        acc = 0.0
        for i in range(n):
            acc += K[i, j] * K[i, j] * lmax[i]
        Lj[j] = acc
    M = np.zeros((c, c))
    if intercept:
        for i in range(n):
            for a in range(c):
                M[a, a] += A[i, a]
                for b in range(c):
                    M[a, b] -= B[i, a] * B[i, b]
    Mp = np.linalg.pinv(M) if intercept else M
    sweeps = 0
    full = True
    while sweeps < max_sweeps:
        sweeps += 1
        change = 0.0
        for j in range(k):
            if full or np.any(U[j] != 0.0):
                change = max(change, _block_step(K, A, B, W, D, U, Lj, lam, j))
        if intercept:
            gs = np.zeros(c)
            for i in range(n):
                for q in range(c):
                    gs[q] += W[i, q]
            ds = -(Mp @ gs)
            quad = 0.0
            for q in range(c):
                quad -= ds[q] * gs[q]
            if quad > 0.0:
                for q in range(c):
                    s[q] += ds[q]
                for i in range(n):
                    bd = 0.0
                    for q in range(c):
                        bd += B[i, q] * ds[q]
                    for q in range(c):
                        D[i, q] += ds[q]
                        W[i, q] += A[i, q] * ds[q] - B[i, q] * bd
                change = max(change, np.sqrt(quad))
        if change <= tol:
            if full:
                break
            full = True  # the active groups settled: check every group once more
        else:
            full = False
    return U, s, D, sweeps
