"""Restricted solvers: the Lasso on an explicit (small) matrix ``K_S``.

Plug-ins, chosen by capability (``supports(loss, group)``), never by an ``if`` chain:

* :class:`CvxpyClarabel` — cvxpy with the Clarabel interior-point solver, for every loss.  It
  is the default: wedge dictionaries are very coherent (neighbouring hyperplanes give nearly
  equal columns), and on the small restricted problems an interior-point method reaches a
  1e-10 gap in a few dozen iterations where coordinate descent can stall.  OSQP is never used.
* :class:`SklearnLiblinear` — scikit-learn's liblinear for the l1 logistic loss (the precise
  fallback when Clarabel's exponential cone stalls).
* :class:`SklearnCD` — scikit-learn's coordinate descent (``Lasso`` / ``MultiTaskLasso``) for the
  squared loss: ``alpha = lam / n`` turns its ``(1/2n)||r||^2 + alpha R`` into ``0.5||r||^2 + lam R``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .losses import Loss

__all__ = ["InnerSolution", "SklearnCD", "SklearnLiblinear", "CvxpyClarabel", "INNER_SOLVERS", "inner_solver_for"]

CLARABEL_SETTINGS = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500}


@dataclass
class InnerSolution:
    coef: np.ndarray
    intercept: np.ndarray | float
    theta: np.ndarray | None  # a dual point when the solver provides one (hinge)
    status: str


class SklearnCD:
    """Coordinate descent from scikit-learn (squared loss, scalar or vector output).

    Exact zeros, warm starts; on very coherent working sets it can stall, and the working-set
    loop then falls back to :class:`CvxpyClarabel`.
    """

    name = "sklearn-cd"
    warm_starts = True
    zero_rtol = 0.0

    def supports(self, loss: Loss, group: bool) -> bool:
        return loss.name == "squared"

    def solve(self, K: np.ndarray, y: np.ndarray, lam: float, loss: Loss, intercept: bool,
              init: np.ndarray | None = None, tol: float = 1e-12, max_iter: int = 100_000) -> InnerSolution:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import Lasso, MultiTaskLasso

        n = K.shape[0]
        cls = MultiTaskLasso if y.ndim == 2 else Lasso
        kw = {"precompute": True} if cls is Lasso else {}
        model = cls(alpha=lam / n, fit_intercept=intercept, tol=tol, max_iter=max_iter, warm_start=init is not None,
                    **kw)
        if init is not None:
            model.coef_ = np.ascontiguousarray(init.T if y.ndim == 2 else init)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # the outer certificate decides
            model.fit(np.asfortranarray(K), y)
        coef = model.coef_.T if y.ndim == 2 else model.coef_
        icpt = model.intercept_ if intercept else (np.zeros(y.shape[1]) if y.ndim == 2 else 0.0)
        return InnerSolution(np.array(coef, dtype=np.float64), icpt, None, "ok")


class CvxpyClarabel:
    """cvxpy + Clarabel, any loss; tolerances 1e-10.

    Interior-point solutions are not exactly sparse: coefficients below ``zero_rtol`` times
    the largest are treated as zero (the certificate then measures the effect).
    """

    name = "cvxpy-clarabel"
    warm_starts = False
    zero_rtol = 1e-9

    def supports(self, loss: Loss, group: bool) -> bool:
        return True

    def solve(self, K: np.ndarray, y: np.ndarray, lam: float, loss: Loss, intercept: bool,
              init: np.ndarray | None = None, tol: float = 1e-10, max_iter: int = 500) -> InnerSolution:
        import cvxpy as cp

        n, k = K.shape
        vec = y.ndim == 2
        z = cp.Variable((k, y.shape[1])) if vec else cp.Variable(k)
        t = cp.Variable(y.shape[1]) if vec else cp.Variable()
        pred = K @ z
        if intercept:
            pred = pred + (cp.reshape(t, (1, y.shape[1]), order="C") if vec else t)
        reg = cp.sum(cp.norm(z, 2, axis=1)) if vec else cp.norm1(z)
        cons = []
        if loss.name == "hinge":  # slack form, so the margin duals give the dual point theta = y * s
            xi = cp.Variable(n)
            margin = xi >= 1 - cp.multiply(y, pred)
            cons = [xi >= 0, margin]
            obj = cp.sum(xi)
        else:
            obj = loss.cvxpy(pred, y)
        prob = cp.Problem(cp.Minimize(obj + lam * reg), cons)
        settings = dict(CLARABEL_SETTINGS)
        settings.update(tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol, max_iter=max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "may be inaccurate": the certificate decides
            try:
                prob.solve(solver=cp.CLARABEL, **settings)
            except cp.error.SolverError:
                prob.solve(solver=cp.CLARABEL)  # default tolerances as a fallback
        if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            raise RuntimeError(f"Clarabel failed on the restricted problem: status {prob.status}")
        coef = np.asarray(z.value, dtype=np.float64)
        icpt = (np.asarray(t.value, dtype=np.float64) if vec else float(t.value)) if intercept else (
            np.zeros(y.shape[1]) if vec else 0.0)
        theta = None
        if loss.name == "hinge":
            theta = y * np.clip(np.asarray(margin.dual_value, dtype=np.float64), 0.0, 1.0)
        return InnerSolution(coef, icpt, theta, str(prob.status))


class SklearnLiblinear:
    """scikit-learn's liblinear (l1-regularised logistic regression, Newton coordinate descent).

    ``C = 1 / lam`` turns its ``C sum(log-loss) + ||w||_1`` into ``L + lam ||z||_1``.  liblinear
    penalises the intercept as a feature of value ``intercept_scaling``; with a large scaling
    that penalty is negligible, and the certificate re-fits the intercept exactly.  Accurate
    where Clarabel's exponential cone stalls at ~1e-6, so it is the logistic fallback.
    """

    name = "sklearn-liblinear"
    warm_starts = False
    zero_rtol = 0.0

    def supports(self, loss: Loss, group: bool) -> bool:
        return loss.name == "logistic" and not group

    def solve(self, K: np.ndarray, y: np.ndarray, lam: float, loss: Loss, intercept: bool,
              init: np.ndarray | None = None, tol: float = 1e-12, max_iter: int = 100_000) -> InnerSolution:
        import sklearn
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        # scikit-learn 1.8 replaced penalty="l1" by l1_ratio=1
        l1 = {"l1_ratio": 1.0} if tuple(int(v) for v in sklearn.__version__.split(".")[:2]) >= (1, 8) else {
            "penalty": "l1"}
        model = LogisticRegression(C=1.0 / lam, solver="liblinear", fit_intercept=intercept, intercept_scaling=1e6,
                                   tol=tol, max_iter=max_iter, **l1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(K, y)
        return InnerSolution(model.coef_[0].copy(), float(model.intercept_[0]) if intercept else 0.0, None, "ok")


INNER_SOLVERS: list = [CvxpyClarabel(), SklearnLiblinear(), SklearnCD()]


def inner_solver_for(loss: Loss, group: bool, prefer: str | None = None, after=None):
    """The first registered restricted solver that supports the loss.

    ``prefer`` picks one by name; ``after`` returns the next supporting solver after the given
    one (the fallback when a restricted solve is not accurate enough), or ``None``.
    """
    pool = INNER_SOLVERS
    if after is not None:
        names = [s.name for s in pool]
        pool = pool[names.index(after.name) + 1:] if after.name in names else []
        return next((s for s in pool if s.supports(loss, group)), None)
    for s in pool:
        if (prefer is None or s.name == prefer) and s.supports(loss, group):
            return s
    raise ValueError(f"no restricted solver supports loss={loss.name!r} (group={group}); prefer={prefer!r}")
