"""Reference Lasso over an explicit dictionary (cvxpy + Clarabel), for tests only."""

from __future__ import annotations

import cvxpy as cp
import numpy as np


def lasso_value(K: np.ndarray, y: np.ndarray, lam: float, *, intercept: bool) -> float:
    """``min 0.5 ||K z + 1 t - y||^2 + lam ||z||_1`` (docs/conventions.md#objective), ``t = 0`` if no intercept."""
    z = cp.Variable(K.shape[1])
    pred = K @ z
    if intercept:
        t = cp.Variable()
        pred = pred + t
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(pred - y) + lam * cp.norm1(z)))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11)
    assert prob.status == cp.OPTIMAL, prob.status
    return float(prob.value)
