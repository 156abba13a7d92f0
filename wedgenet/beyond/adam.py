"""A short Adam run on the network objective, to seed column generation (numpy; no torch needed).

Minimises ``L(f(X), y) + (lam/2) sum_j (||w_j||_p^2 + a_j^2)`` (docs/conventions.md, "The
objective") over a width-``width`` two-layer network ``f(x) = sum_j a_j (w_j . x + b_j)_+ + t``,
float64, full batch, Adam with step ``lr`` dropped tenfold for the last 30% of the steps.  The
gradients are written out (``g = dL/df``):

    dF/da_j = sum_i g_i h_ij + lam a_j,      dF/db_j = sum_i g_i a_j [z_ij > 0],
    dF/dw_j = sum_i g_i a_j [z_ij > 0] x_i + lam ||w_j||_1 sign(w_j)   (p = 1; lam w_j for p = 2),
    dF/dt   = sum_i g_i.

The first-layer neurons ``(W1, b1)`` are then snapped to vertices of the arrangement by
:meth:`wedgenet.beyond.vertices.Geometry.tight_rows` (their tightest rows: the samples nearest
their breaklines, as polishing does) in :func:`wedgenet.beyond.fit_beyond`.  The products are
small, so BLAS runs on one thread (threads cost more than they save here).
"""

from __future__ import annotations

import time

import numpy as np

from .._linalg import relu_layer, row_norms
from ..solvers.losses import get_loss

__all__ = ["adam_network", "ADAM_LOSSES"]

#: losses the seed run differentiates (a subgradient for the hinge)
ADAM_LOSSES = ("squared", "logistic", "hinge", "squared_hinge")
_BETA1, _BETA2, _EPS = 0.9, 0.999, 1e-8


def adam_network(X: np.ndarray, y: np.ndarray, *, lam: float, loss: str = "squared", reg: str = "l1",
                 bias: bool = True, width: int = 64, steps: int = 2000, lr: float = 1e-2,
                 random_state: int = 0, deadline: float | None = None, init=None,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """``(W1, b1, a, t, objective)`` of one Adam run from a uniform ``+-1/sqrt(d)`` initialisation.

    ``y`` is encoded for ``loss`` (``+-1`` for the classification losses).  The run takes exactly
    ``steps`` steps, so it is reproducible for a fixed ``random_state``; ``deadline`` (a
    ``time.perf_counter()`` value) is only a safety net: past it the run stops where it is (the
    caller can tell: the clock is then past ``deadline``).  ``init`` ``(W1, b1, a, t)`` starts from
    a given network instead (``width`` is then its width).
    """
    from threadpoolctl import threadpool_limits

    if loss not in ADAM_LOSSES:
        raise ValueError(f"the Adam seed supports loss in {ADAM_LOSSES}; got {loss!r}")
    lo = get_loss(loss)
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    n, d = X.shape
    rng = np.random.default_rng(int(random_state))
    bound = 1.0 / np.sqrt(d)
    if init is None:
        W = rng.uniform(-bound, bound, (width, d))
        b = rng.uniform(-bound, bound, width) if bias else np.zeros(width)
        a = rng.standard_normal(width) / np.sqrt(width)
        t = np.zeros(1)
    else:
        W, b, a = (np.array(v, dtype=np.float64).reshape(s) for v, s in zip(init[:3], ((-1, d), (-1,), (-1,)),
                                                                               strict=True))
        width = W.shape[0]
        t = np.array([float(init[3]) if bias else 0.0])
    params = [W, b, a, t]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    lam = float(lam)
    with threadpool_limits(limits=1, user_api="blas"):
        k = 0
        while k < steps:
            k += 1
            if deadline is not None and k % 10 == 0 and time.perf_counter() > deadline:
                break  # the safety net (not reproducible); normally every step runs
            W, b, a, t = params
            Z = X @ W.T + b
            H = np.maximum(Z, 0.0)
            g = lo.gradient(H @ a + t[0], y)
            G = (Z > 0) * g[:, None] * a[None, :]
            gW = G.T @ X + lam * (np.abs(W).sum(axis=1)[:, None] * np.sign(W) if reg == "l1" else W)
            grads = [gW, G.sum(axis=0) if bias else np.zeros(width), H.T @ g + lam * a,
                     np.array([g.sum()]) if bias else np.zeros(1)]
            step = lr if k <= 0.7 * steps else 0.1 * lr
            c1, c2 = 1.0 - _BETA1**k, 1.0 - _BETA2**k
            for i in range(4):
                m[i] = _BETA1 * m[i] + (1 - _BETA1) * grads[i]
                v[i] = _BETA2 * v[i] + (1 - _BETA2) * grads[i] ** 2
                params[i] = params[i] - step * (m[i] / c1) / (np.sqrt(v[i] / c2) + _EPS)
    W, b, a, t = params
    f = relu_layer(X, W, b) @ a + t[0]
    p = 1 if reg == "l1" else 2
    obj = lo.value(f, y) + 0.5 * lam * float(np.sum(row_norms(W, p) ** 2) + a @ a)
    return W, b, a, float(t[0]), float(obj)
