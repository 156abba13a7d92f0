"""Convex refit of the output layer and rebalancing of the scales (docs/conventions.md#objective).

**The refit is a Lasso.**  Fix the last hidden layer up to a positive scale per neuron: neuron
``j`` is ``s_j (u_j . h + beta_j)_+`` with the polished ``(u_j, beta_j)`` and free ``s_j > 0``
(ReLU is positively homogeneous, so ``s_j`` scales ``u_j`` and ``beta_j`` together; hidden biases
are not penalised).  Layers before it are fixed.  The training objective restricted to the
scales ``s`` and the output layer ``(a_j, t)`` is

    L( sum_j a_j s_j H_j + t ; y ) + (lam/2) sum_j ( s_j^2 ||u_j||_p^2 + ||a_j||_2^2 ) + const,

with ``H_j = (H_prev u_j + beta_j)_+`` the activations of the unscaled neuron.  For fixed
``z_j = a_j s_j`` the minimum over ``s_j`` of ``s_j^2 ||u_j||^2 + ||z_j||^2 / s_j^2`` is
``2 ||u_j|| ||z_j||`` (AM-GM, at ``s_j^2 = ||z_j|| / ||u_j||``).  Substituting
``zeta_j = ||u_j||_p z_j`` and the unit-neuron columns ``K_j = H_j / ||u_j||_p`` gives exactly the
wedgenet Lasso

    min_{zeta, t}  L(K zeta + 1 t; y) + lam * sum_j ||zeta_j||     (``||.||_2`` over outputs),

i.e. a Lasso with column weights ``||u_j||_p``.  It is solved by a wedgenet back-end
(``LassoProblem`` over ``ExplicitColumns``), with its duality-gap certificate.  The network is
read back and balanced (``gamma_j = sqrt(||zeta_j||)`` for a unit neuron): ``w_j = gamma_j u_j /
||u_j||``, ``b_j = gamma_j beta_j / ||u_j||``, ``a_j = zeta_j / gamma_j``, so ``||w_j||_p =
||a_j||_2`` and the network objective equals the Lasso objective (plus the fixed penalty of
the earlier layers).  Neurons with ``zeta_j = 0`` are set to zero (they only cost penalty).
Neurons with ``u_j = 0`` are constant; they are dropped from the refit (the free intercept
absorbs a constant).

**Rebalancing** between two consecutive hidden layers keeps the function: neuron ``j`` of layer
``l`` times ``gamma`` and its outgoing weights (column block ``j`` of layer ``l+1``) divided by
``gamma``; the penalty term ``gamma^2 ||w_j||_p^2 + ||col_j||_F^2 / gamma^2`` is smallest at
``gamma^2 = ||col_j||_F / ||w_j||_p``.  Sweeps over the layers converge (the penalty is convex in
the log-scales).  For ``p = 1`` only the last hidden/output pair is separable and balanced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._linalg import group_norms, row_norms
from ..solvers import ExplicitColumns, LassoProblem, get_backend
from ..solvers.base import SolverResult
from ..solvers.losses import Loss

__all__ = ["RefitResult", "refit_output", "apply_refit", "rebalance"]


@dataclass
class RefitResult:
    zeta: np.ndarray          # (m,) or (m, c): Lasso coefficients of the unit neurons (0 for dropped ones)
    intercept: np.ndarray | float
    objective: float          # Lasso primal = network objective of the refit layers
    result: SolverResult


def refit_output(H: np.ndarray, col_norms: np.ndarray, y: np.ndarray, *, lam: float, loss: Loss,
                 intercept: bool, solver: str = "auto", tol: float = 1e-6, max_iter: int = 100,
                 verbose: bool = False) -> RefitResult:
    """Solve the Lasso with columns ``H_j / col_norms_j`` (see the module docstring)."""
    m = H.shape[1]
    use = np.flatnonzero(col_norms > 0)
    K = H[:, use] / col_norms[use]
    # units: the Lasso with columns K / kappa and lam / kappa has the solution kappa * zeta and the same
    # objective; kappa (the largest column norm) makes the columns order 1 whatever the data's scale
    cn = row_norms(K.T) if K.size else np.ones(0)
    kappa = float(np.max(cn)) if cn.size and np.max(cn) > 0 and np.isfinite(np.max(cn)) else 1.0
    problem = LassoProblem(ExplicitColumns(K / kappa), y, float(lam) / kappa, loss, bool(intercept))
    backend = get_backend(solver, problem)
    res = backend.solve(problem, tol=tol, max_iter=max_iter, verbose=verbose)
    zeta = np.zeros((m,) + y.shape[1:])
    zeta[use[res.support]] = np.asarray(res.coef) / kappa
    return RefitResult(zeta=zeta, intercept=res.intercept, objective=float(res.certificate.primal), result=res)


def apply_refit(W: np.ndarray, b: np.ndarray | None, zeta: np.ndarray, col_norms: np.ndarray, p: int,
                ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Balanced last hidden layer ``(W, b)`` and output weights ``A (c, m)`` from the Lasso solution."""
    mag = group_norms(zeta)
    on = mag > 0
    gamma = np.sqrt(mag)
    f = np.zeros_like(mag)
    f[on] = gamma[on] / col_norms[on]
    W2 = W * f[:, None]
    b2 = None if b is None else b * f
    Z = zeta.reshape(zeta.shape[0], -1)
    A = np.zeros_like(Z)
    A[on] = Z[on] / gamma[on, None]
    return W2, b2, np.ascontiguousarray(A.T)


def _col_blocks(Wnext: np.ndarray, m: int) -> np.ndarray | None:
    """``||column block j||_F`` of the next layer, blocks of ``F / m`` consecutive inputs (channel-major)."""
    F = Wnext.shape[1]
    if F % m:
        return None
    return row_norms(Wnext.reshape(Wnext.shape[0], m, F // m).transpose(1, 0, 2).reshape(m, -1), 2)


def rebalance(weights: list, p: int, *, sweeps: int = 200, rtol: float = 1e-13) -> list:
    """Rescale neurons of consecutive layers (function unchanged) to minimise the penalty.

    ``weights`` is a list of ``(W, b)`` per affine layer (the last one is the output layer, rows of
    conv layers are flattened filters).  Returns a new list.
    """
    out = [(W.copy(), None if b is None else b.copy()) for W, b in weights]
    L = len(out)
    pairs = list(range(L - 1)) if p == 2 else [L - 2]
    for _ in range(sweeps):
        moved = 0.0
        for lyr in pairs:
            W, b = out[lyr]
            Wn, bn = out[lyr + 1]
            m = W.shape[0]
            cn = _col_blocks(Wn, m)
            if cn is None:
                continue
            wn = row_norms(W, p)
            ok = (wn > 0) & (cn > 0)
            g = np.ones(m)
            g[ok] = np.sqrt(np.sqrt(cn[ok] / wn[ok]))
            moved = max(moved, float(np.max(np.abs(np.log(g)))) if m else 0.0)
            rep = Wn.shape[1] // m
            gi = np.repeat(np.where(g > 0, g, 1.0), rep)
            g[(cn == 0)] = 0.0  # outgoing weights are zero: the neuron only costs penalty
            out[lyr] = (W * g[:, None], None if b is None else b * g)
            out[lyr + 1] = (Wn / gi[None, :], bn)
        if moved <= rtol:
            break
    return out
