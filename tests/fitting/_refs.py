"""Independent references for the convex-fitting tests (issue 4).

Nothing here uses wedgenet's solvers or losses: the Lasso references are written directly in
cvxpy (Clarabel), and the non-convex network is trained with torch Adam.  Conventions are those
of docs/conventions.md#objective: squared loss ``0.5 ||r||^2`` (a sum), Lasso ``L(K z + 1 t, y) + lam ||z||_1``
(group penalty ``lam sum_j ||Z_j||_2`` for vector output), network penalty
``(lam/2) sum_j (||w_j||_p^2 + a_j^2)`` with unpenalised hidden biases and intercept.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
from scipy.special import log_expit, logsumexp

CLARABEL_TIGHT = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 1000}


# ---------------------------------------------------------------------------------- data
def regression_data(seed: int, n: int, d: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sin(2 * X[:, 0]) + 0.5 * rng.standard_normal(n)
    return X, y


def xor_data(seed: int = 0, n: int = 16):
    rng = np.random.default_rng(seed)
    corners = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    C = corners[np.arange(n) % 4]
    X = C + 0.3 * rng.standard_normal(C.shape)
    y = np.sign(C[:, 0] * C[:, 1])
    return X, y


# ---------------------------------------------------------------------------------- losses (numpy)
def loss_value(loss: str, pred: np.ndarray, y: np.ndarray) -> float:
    """The losses written out independently of ``wedgenet.solvers.losses``."""
    if loss == "squared":
        return float(0.5 * np.sum((pred - y) ** 2))
    if loss == "logistic":
        return float(-np.sum(log_expit(y * pred)))
    if loss == "hinge":
        return float(np.sum(np.maximum(0.0, 1.0 - y * pred)))
    if loss == "softmax":  # y: integer labels
        return float(np.sum(logsumexp(pred, axis=1) - pred[np.arange(pred.shape[0]), y]))
    raise AssertionError(loss)


def lasso_objective(K, y, lam, coef, intercept, loss="squared") -> float:
    pred = K @ coef + intercept
    pen = np.abs(coef).sum() if coef.ndim == 1 else np.linalg.norm(coef, axis=1).sum()
    return loss_value(loss, pred, y) + lam * pen


# ---------------------------------------------------------------------------------- cvxpy references
def lasso_reference(K: np.ndarray, y: np.ndarray, lam: float, *, loss: str = "squared",
                    intercept: bool = True) -> float:
    """Optimal value of ``L(K z + 1 t, y) + lam R(z)`` over the full matrix ``K`` (cvxpy + Clarabel).

    ``y``: ``(n,)`` targets / +-1 labels, ``(n, c)`` targets (squared, group penalty) or ``(n,)``
    integer labels for ``softmax`` (group penalty over the ``c`` class scores).
    """
    n, p = K.shape
    if loss == "softmax":
        c = int(y.max()) + 1
        Y = np.zeros((n, c))
        Y[np.arange(n), y] = 1.0
    vec = loss == "softmax" or y.ndim == 2
    c = (Y.shape[1] if loss == "softmax" else y.shape[1]) if vec else 1
    z = cp.Variable((p, c)) if vec else cp.Variable(p)
    pred = K @ z
    if intercept:
        t = cp.Variable((1, c)) if vec else cp.Variable()
        pred = pred + (np.ones((n, 1)) @ t if vec else t)
    reg = cp.sum(cp.norm(z, 2, axis=1)) if vec else cp.norm1(z)
    if loss == "squared":
        L = 0.5 * cp.sum_squares(pred - y)
    elif loss == "logistic":
        L = cp.sum(cp.logistic(-cp.multiply(y, pred)))
    elif loss == "hinge":
        L = cp.sum(cp.pos(1 - cp.multiply(y, pred)))
    elif loss == "softmax":
        L = cp.sum(cp.log_sum_exp(pred, axis=1)) - cp.sum(cp.multiply(Y, pred))
    else:
        raise AssertionError(loss)
    prob = cp.Problem(cp.Minimize(L + lam * reg))
    prob.solve(solver=cp.CLARABEL, **CLARABEL_TIGHT)
    assert prob.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE), prob.status
    # report the objective re-evaluated in numpy at the returned point (an upper bound on the optimum)
    zv = np.asarray(z.value)
    tv = (np.asarray(t.value).reshape(-1) if vec else float(t.value)) if intercept else 0.0
    return lasso_objective(K, y, lam, zv, tv, loss)


# ---------------------------------------------------------------------------------- networks
def network_objective_np(X, y, W1, b1, W2, b2, lam, reg) -> float:
    """``0.5||f(X)-y||^2 + (lam/2) sum_j (||w_j||_p^2 + a_j^2)`` for a depth-2 scalar network."""
    f = np.maximum(X @ W1.T + b1, 0.0) @ W2 + b2
    p = 1 if reg == "l1" else 2
    wn = np.linalg.norm(W1, ord=p, axis=1)
    return float(0.5 * np.sum((f - y) ** 2) + 0.5 * lam * np.sum(wn**2 + W2**2))


def adam_best_objectives(X, y, lam, reg, *, width, n_init=20, steps=3000, lr=0.02, seed=0) -> np.ndarray:
    """Train ``n_init`` two-layer ReLU networks with Adam (float64, batched over initialisations).

    Objective: ``0.5||f(X)-y||^2 + (lam/2) sum_j (||w_j||_p^2 + a_j^2)``, ``f = sum_j a_j (w_j.x + b_j)_+ + t``
    with ``b_j`` and ``t`` unpenalised.  Returns, per initialisation, the smallest objective value
    evaluated anywhere along its trajectory (every one is the objective of a real network).
    """
    import torch

    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(seed)
    dt = torch.float64
    Xt = torch.from_numpy(np.asarray(X, dtype=np.float64))
    yt = torch.from_numpy(np.asarray(y, dtype=np.float64))
    R, m, d = n_init, width, X.shape[1]
    W = (0.5 * torch.randn(R, m, d, generator=g, dtype=dt)).requires_grad_()
    b = (0.5 * torch.randn(R, m, generator=g, dtype=dt)).requires_grad_()
    a = (0.5 * torch.randn(R, m, generator=g, dtype=dt)).requires_grad_()
    t = torch.zeros(R, dtype=dt).requires_grad_()
    opt = torch.optim.Adam([W, b, a, t], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=lr * 1e-3)
    best = torch.full((R,), float("inf"), dtype=dt)
    for _ in range(steps):
        opt.zero_grad()
        H = torch.relu(torch.einsum("rmd,nd->rnm", W, Xt) + b[:, None, :])
        f = torch.einsum("rnm,rm->rn", H, a) + t[:, None]
        wnorm = W.abs().sum(-1) if reg == "l1" else W.norm(dim=-1)
        obj = 0.5 * ((f - yt) ** 2).sum(-1) + 0.5 * lam * (wnorm**2 + a**2).sum(-1)
        best = torch.minimum(best, obj.detach())
        obj.sum().backward()
        opt.step()
        sched.step()
    # the final point too, re-evaluated independently in numpy for the best run
    with torch.no_grad():
        r = int(torch.argmin(best))
        final = network_objective_np(X, y, W[r].numpy(), b[r].numpy(), a[r].numpy(), float(t[r]), lam, reg)
    out = best.numpy().copy()
    out[r] = min(out[r], final)
    return out
