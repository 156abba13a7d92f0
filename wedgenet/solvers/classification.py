"""Dedicated restricted solvers for the classification losses (no cvxpy model per solve).

* :class:`ProxNewton` — proximal Newton for ANY smooth scalar loss, generic over the
  :class:`~wedgenet.solvers.losses.Loss` methods: at ``pred = K z + 1 t`` the loss is replaced
  by its second-order model with per-sample curvature ``h = Loss.curvature(pred, y)`` (or, for a
  loss without it, the constant ``Loss.lipschitz``: a majoriser, so the step is always taken),

      L(pred + d) ~ L(pred) + g^T d + 0.5 sum_i h_i d_i^2,   d = K dz + 1 dt,

  which is a weighted least-squares Lasso in ``u = z + dz``: ``0.5 ||sqrt(h) (K u + 1 t' - zeta)||^2
  + lam ||u||_1`` with the working response ``zeta = pred - g / h``.  It is solved EXACTLY by the
  active-set method of :func:`~wedgenet.solvers.inner.lasso_active_set` (a free intercept is
  eliminated by weighted centring), then a backtracking (Armijo) line search on the true
  objective (Lee, Sun and Saunders 2014, "Proximal Newton-type methods"; the model-solve of
  glmnet/newGLMNET).  Every iteration computes the restricted duality gap with the same dual
  point as the certificate (``theta = -grad L``, projected), and the solve stops when it is
  below ``tol`` (relative): the restricted solution is certified, not just stalled.  Exact
  zeros, warm starts.  A new smooth loss (e.g. the squared hinge, ``lipschitz = 1``) works with
  no new solver code; declaring ``curvature`` makes it converge quadratically.
* :class:`HingeLP` — the hinge loss with the l1 penalty is a linear program,
  ``min 1^T xi + lam 1^T (z+ + z-)  s.t.  xi >= 1 - y (K (z+ - z-) + 1 t), xi, z+, z- >= 0``,
  solved to a vertex by HiGHS (``scipy.optimize.linprog``); the margin constraints' duals
  ``s in [0, 1]`` give the dual point ``theta = y s`` (the certificate's, exactly feasible for
  the restricted columns and with ``1^T theta = 0`` when there is an intercept).

Both respect a time limit and Ctrl-C (Python loops / HiGHS's own time limit) and raise
:class:`~wedgenet.solvers.errors.SolverError` (a ``RuntimeError``) when they cannot finish.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .errors import SolverError
from .inner import InnerSolution, lasso_active_set, register_inner
from .losses import Loss

__all__ = ["ProxNewton", "HingeLP", "RESTRICTED_TIME_LIMIT"]

#: seconds one restricted solve may take before it gives up (the working set keeps its last state)
RESTRICTED_TIME_LIMIT = 120.0


def _objective(loss: Loss, pred, y, lam, z) -> float:
    return loss.value(pred, y) + lam * float(np.abs(z).sum())


def _restricted_gap(loss: Loss, K, y, lam, pred, F, intercept) -> float:
    """Relative duality gap of the restricted problem at ``pred`` (value ``F``)."""
    theta = -loss.gradient(pred, y)
    if intercept:
        theta = loss.project_dual(theta, y)
    mx = float(np.abs(K.T @ theta).max()) if K.shape[1] else 0.0
    scale = 1.0 if mx <= lam else lam / mx
    D = loss.dual_value(scale * theta, y)
    gap = F - D
    return gap / max(abs(F), 1e-300) if math.isfinite(gap) else math.inf


class ProxNewton:
    """Proximal Newton with exact active-set model solves (module docstring), any smooth scalar loss."""

    name = "prox-newton"
    warm_starts = True
    zero_rtol = 0.0

    def supports(self, loss: Loss, group: bool) -> bool:
        has_model = type(loss).curvature is not Loss.curvature or bool(getattr(loss, "lipschitz", None))
        return bool(loss.smooth) and not group and not loss.vector and has_model

    def solve(self, K: np.ndarray, y: np.ndarray, lam: float, loss: Loss, intercept: bool,
              init: np.ndarray | None = None, tol: float = 1e-11, max_iter: int = 200,
              time_limit: float = RESTRICTED_TIME_LIMIT) -> InnerSolution:
        K = np.asarray(K, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        n, k = K.shape
        t_start = time.perf_counter()
        z = np.array(init, dtype=np.float64) if init is not None and np.shape(init) == (k,) else np.zeros(k)
        t = 0.0
        if intercept:
            t = float(loss.refit_intercept(K @ z, y, loss.intercept_only(y) if not np.any(z) else 0.0))
        pred = K @ z + t
        F = _objective(loss, pred, y, lam, z)
        if not math.isfinite(F):
            z[:] = 0.0
            t = float(loss.intercept_only(y)) if intercept else 0.0
            pred = K @ z + t
            F = _objective(loss, pred, y, lam, z)
        curv = getattr(loss, "curvature", None)
        status = "max_iter"
        for _ in range(max_iter):
            if _restricted_gap(loss, K, y, lam, pred, F, intercept) <= tol:
                status = "optimal"
                break
            if time.perf_counter() - t_start > time_limit:
                raise SolverError(f"{self.name}: restricted solve over its time limit of {time_limit:g} s")
            g = loss.gradient(pred, y)
            h = curv(pred, y) if callable(curv) else None  # None: the loss gives no curvature
            if h is None:
                h = np.full(n, float(loss.lipschitz))
            h = np.maximum(np.asarray(h, dtype=np.float64), 0.0)
            hmax = float(h.max()) if h.size else 0.0
            if hmax <= 0.0:
                h = np.full(n, float(loss.lipschitz or 1.0))
                hmax = float(h.max())
            h = np.maximum(h, 1e-12 * hmax)  # keeps the model strictly convex in pred
            sw = np.sqrt(h)
            b = sw * pred - g / sw  # sqrt(h) * zeta with zeta = pred - g / h
            if intercept:
                wm = h / h.sum()
                kbar = wm @ K
                bbar = float(wm @ (pred - g / h))
                A = sw[:, None] * (K - kbar)
                b = b - sw * bbar
            else:
                A = sw[:, None] * K
            u, _ = lasso_active_set(A, b, lam, init=z)
            tn = bbar - float(kbar @ u) if intercept else 0.0
            dz, dt = u - z, tn - t
            dpred = K @ dz + dt
            delta = float(g @ dpred) + lam * (float(np.abs(u).sum()) - float(np.abs(z).sum()))
            if not delta < 0.0:  # no descent direction left: optimal to rounding
                status = "optimal"
                break
            step = 1.0
            while True:
                zn = z + step * dz
                pn = pred + step * dpred
                Fn = _objective(loss, pn, y, lam, zn)
                if Fn <= F + 1e-4 * step * delta or step < 1e-12:
                    break
                step *= 0.5
            if not Fn < F:
                status = "stalled"
                break
            z, t, pred, F = zn, t + step * dt, pn, Fn
        if intercept:  # exact intercept for the final z (the dual point then sums to zero)
            t = float(loss.refit_intercept(K @ z, y, t))
        return InnerSolution(z, t, None, status)


class HingeLP:
    """The hinge-loss Lasso as a linear program solved by HiGHS (module docstring)."""

    name = "highs-lp"
    warm_starts = False
    zero_rtol = 0.0

    def supports(self, loss: Loss, group: bool) -> bool:
        return loss.name == "hinge" and not group

    def solve(self, K: np.ndarray, y: np.ndarray, lam: float, loss: Loss, intercept: bool,
              init: np.ndarray | None = None, tol: float = 1e-10, max_iter: int | None = None,
              time_limit: float = RESTRICTED_TIME_LIMIT) -> InnerSolution:
        import scipy.sparse as sp
        from scipy.optimize import linprog

        K = np.asarray(K, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        n, k = K.shape
        # Units: HiGHS drops matrix entries below 1e-9 and refuses ones above 1e15, so every column
        # is divided by its largest magnitude c_j (then z_j = z'_j / c_j and its cost lam / c_j).
        # A column with ||K_j||_1 < lam is 0 at every optimum (the dual is y * s, s in [0, 1]^n, so
        # |K_j^T theta| <= ||K_j||_1 < lam) and is left out; the costs kept are then <= n.
        cmax = np.max(np.abs(K), axis=0) if n else np.zeros(k)
        safe = np.where(cmax > 0, cmax, 1.0)
        l1 = np.sum(np.abs(K / safe), axis=0) * cmax
        live = np.flatnonzero((cmax > 0) & (l1 >= lam))
        kl = live.size
        yK = y[:, None] * (K[:, live] / safe[live])
        nt = 1 if intercept else 0
        # variables [z'+ (kl), z'- (kl), t (nt, free), xi (n)]; rows: -yK z'+ + yK z'- - y t - xi <= -1
        blocks = [sp.csr_matrix(-yK), sp.csr_matrix(yK)]
        if intercept:
            blocks.append(sp.csr_matrix(-y[:, None]))
        blocks.append(-sp.identity(n, format="csr"))
        A = sp.hstack(blocks, format="csc")
        cost = lam / safe[live]
        c = np.concatenate([cost, cost, np.zeros(nt), np.ones(n)])
        bounds = [(0, None)] * (2 * kl) + [(None, None)] * nt + [(0, None)] * n
        ftol = max(float(tol), 1e-10)  # HiGHS's smallest accepted feasibility tolerance
        res = linprog(c, A_ub=A, b_ub=-np.ones(n), bounds=bounds, method="highs-ds",
                      options={"time_limit": float(time_limit), "primal_feasibility_tolerance": ftol,
                               "dual_feasibility_tolerance": ftol})
        if res.status != 0 or res.x is None:
            raise SolverError(f"{self.name}: HiGHS did not solve the restricted LP ({res.message})")
        x = res.x
        coef = np.zeros(k)
        coef[live] = (x[:kl] - x[kl:2 * kl]) / safe[live]
        icpt = float(x[2 * kl]) if intercept else 0.0
        s = np.clip(-np.asarray(res.ineqlin.marginals, dtype=np.float64), 0.0, 1.0)
        return InnerSolution(coef, icpt, y * s, "optimal")


register_inner(ProxNewton(), before="cvxpy-clarabel")
register_inner(HingeLP(), before="cvxpy-clarabel")
