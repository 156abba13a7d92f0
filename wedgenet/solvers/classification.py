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
* :class:`GroupProxNewton` — the same method for a smooth vector loss (softmax) with the group
  penalty: the model (with softmax's exact per-sample Hessian ``diag(q) - q q^T``) is solved by
  block coordinate descent (:mod:`wedgenet.solvers._group_cd`); registered after Clarabel, as
  its fallback (slower on coherent wedge columns, measured).
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

from .._linalg import group_norms, row_norms
from .base import penalty
from .errors import SolverError
from .inner import InnerSolution, lasso_active_set, register_inner
from .losses import Loss

__all__ = ["ProxNewton", "GroupProxNewton", "HingeLP", "RESTRICTED_TIME_LIMIT"]

#: seconds one restricted solve may take before it gives up (the working set keeps its last state)
RESTRICTED_TIME_LIMIT = 120.0


def _objective(loss: Loss, pred, y, lam, z) -> float:
    """``L(pred, y) + lam * sum_j ||z_j||``: ``|z_j|`` for a vector ``z``, row norms for a matrix."""
    return loss.value(pred, y) + lam * penalty(z)


def _has_newton_model(loss: Loss) -> bool:
    """The loss gives proximal Newton a quadratic model: its own ``curvature`` or a Lipschitz bound."""
    return type(loss).curvature is not Loss.curvature or bool(getattr(loss, "lipschitz", None))


def _restricted_gap(loss: Loss, K, y, lam, pred, F, intercept) -> float:
    """Relative duality gap of the restricted problem at ``pred`` (value ``F``), with the
    certificate's dual point ``-grad L`` (projected for an intercept, scaled to feasibility;
    group scores ``||K_j^T Theta||_2`` for a vector loss)."""
    theta = -loss.gradient(pred, y)
    if intercept:
        theta = loss.project_dual(theta, y)
    if K.shape[1]:
        c = K.T @ theta
        mx = float(group_norms(c).max())
    else:
        mx = 0.0
    scale = 1.0 if mx <= lam else lam / mx
    D = loss.dual_value(scale * theta, y)
    gap = F - D
    return gap / max(abs(F), 1e-300) if math.isfinite(gap) else math.inf


def _backtrack(objective, F: float, delta: float, z: np.ndarray, dz: np.ndarray, pred: np.ndarray,
               dpred: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Armijo backtracking along a proximal Newton direction: the first ``step = 2^-k`` with
    ``F(z + step dz) <= F + 1e-4 step delta`` (``delta`` the model decrease; ``objective(z, pred)``
    takes the predictions ``pred + step dpred`` of the trial point), or the last one above 1e-12.
    Returns ``(z_new, pred_new, F_new, step)``."""
    step = 1.0
    while True:
        zn = z + step * dz
        pn = pred + step * dpred
        Fn = objective(zn, pn)
        if Fn <= F + 1e-4 * step * delta or step < 1e-12:
            return zn, pn, Fn, step
        step *= 0.5


class ProxNewton:
    """Proximal Newton with exact active-set model solves (module docstring), any smooth scalar loss."""

    name = "prox-newton"
    warm_starts = True
    zero_rtol = 0.0

    def supports(self, loss: Loss, group: bool) -> bool:
        return bool(loss.smooth) and not group and not loss.vector and _has_newton_model(loss)

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
            zn, pn, Fn, step = _backtrack(lambda zz, pp: _objective(loss, pp, y, lam, zz), F, delta, z, dz, pred,
                                          dpred)
            if not Fn < F:
                status = "stalled"
                break
            z, t, pred, F = zn, t + step * dt, pn, Fn
        if intercept:  # exact intercept for the final z (the dual point then sums to zero)
            t = float(loss.refit_intercept(K @ z, y, t))
        return InnerSolution(z, t, None, status)


class GroupProxNewton:
    """Proximal Newton for a smooth VECTOR loss (softmax) with the group penalty ``sum_j ||Z_j||_2``.

    At ``pred = K Z + 1 t^T`` the loss is replaced by its second-order model with the diagonal
    curvature ``H = Loss.curvature(pred, Y)`` (``(n, c)``; the constant ``Loss.lipschitz`` for a
    loss without it), a weighted least-squares group Lasso in the new coefficients that block
    coordinate descent solves (:func:`~wedgenet.solvers._group_cd.model_bcd`: proximal block
    steps with a per-group majoriser, exact zeros, exact intercept steps), then an Armijo line
    search on the true objective.  The model is solved to an accuracy tied to the current
    restricted gap (loose far from the optimum, tight near it).  Every iteration computes the
    restricted duality gap with the certificate's dual point, and the solve stops when it is
    below ``tol`` (relative).  Warm starts.  Registered AFTER cvxpy + Clarabel (the softmax default
    stays Clarabel): on the very coherent wedge columns coordinate descent needs many sweeps, so
    it is the fallback when Clarabel fails or stalls, not the fast path.
    """

    name = "group-prox-newton"
    warm_starts = True
    zero_rtol = 0.0

    def supports(self, loss: Loss, group: bool) -> bool:
        return bool(loss.smooth) and group and bool(loss.vector) and _has_newton_model(loss)

    def solve(self, K: np.ndarray, y: np.ndarray, lam: float, loss: Loss, intercept: bool,
              init: np.ndarray | None = None, tol: float = 1e-11, max_iter: int = 100,
              time_limit: float = RESTRICTED_TIME_LIMIT) -> InnerSolution:
        from ._group_cd import model_bcd

        K = np.ascontiguousarray(K, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        n, k = K.shape
        c = y.shape[1]
        t_start = time.perf_counter()
        Z = np.array(init, dtype=np.float64) if init is not None and np.shape(init) == (k, c) else np.zeros((k, c))
        t = np.zeros(c)
        if intercept:
            t = np.asarray(loss.refit_intercept(K @ Z, y, loss.intercept_only(y)), dtype=np.float64)
        pred = K @ Z + t
        F = _objective(loss, pred, y, lam, Z)
        if not math.isfinite(F):
            Z[:] = 0.0
            t = np.asarray(loss.intercept_only(y), dtype=np.float64) if intercept else np.zeros(c)
            pred = K @ Z + t
            F = _objective(loss, pred, y, lam, Z)
        curv = getattr(loss, "curvature", None)
        status = "max_iter"
        for _ in range(max_iter):
            gap = _restricted_gap(loss, K, y, lam, pred, F, intercept)
            if gap <= tol:
                status = "optimal"
                break
            if time.perf_counter() - t_start > time_limit:
                raise SolverError(f"{self.name}: restricted solve over its time limit of {time_limit:g} s")
            G = loss.gradient(pred, y)
            A, B = self._hessian(loss, curv, pred, y, n, c)
            # model accuracy tied to the gap: block moves below 1e-3 of the gap's square root
            mtol = max(1e-3 * math.sqrt(max(gap, 0.0) * max(abs(F), 1e-300)), 1e-15 * math.sqrt(max(abs(F), 1e-300)))
            U, tn, dpred, _ = model_bcd(K, np.ascontiguousarray(G), A, B, Z, t, float(lam), bool(intercept), mtol,
                                        5000)
            dZ, dt = U - Z, tn - t
            pen = float(row_norms(Z).sum())
            delta = float(np.sum(G * dpred)) + lam * (float(row_norms(U).sum()) - pen)
            if not delta < 0.0:  # no descent direction left: optimal to rounding
                status = "optimal"
                break
            Zn, pn, Fn, step = _backtrack(lambda zz, pp: _objective(loss, pp, y, lam, zz), F, delta, Z, dZ,
                                          pred, dpred)
            if not Fn < F:
                status = "stalled"
                break
            Z, t, pred, F = Zn, t + step * dt, pn, Fn
        if intercept:  # exact intercept for the final Z (the dual point then sums to zero)
            t = np.asarray(loss.refit_intercept(K @ Z, y, t), dtype=np.float64)
        return InnerSolution(Z, t, None, status)


    @staticmethod
    def _hessian(loss: Loss, curv, pred, y, n: int, c: int) -> tuple[np.ndarray, np.ndarray]:
        """``(A, B)`` with per-sample Hessians ``diag(A_i) - B_i B_i^T``: the loss's
        ``hessian_diag_lowrank`` when it has one (softmax: exact), else its diagonal ``curvature``
        (``B = 0``), else the constant ``lipschitz`` (a majoriser)."""
        exact = getattr(loss, "hessian_diag_lowrank", None)
        if callable(exact):
            A, B = exact(pred, y)
            return np.ascontiguousarray(A, dtype=np.float64), np.ascontiguousarray(B, dtype=np.float64)
        H = curv(pred, y) if callable(curv) else None
        if H is None:
            H = np.full((n, c), float(loss.lipschitz))
        H = np.maximum(np.asarray(H, dtype=np.float64), 0.0)
        hmax = float(H.max()) if H.size else 0.0
        if hmax <= 0.0:
            H = np.full((n, c), float(loss.lipschitz or 1.0))
            hmax = float(H.max())
        return np.ascontiguousarray(np.maximum(H, 1e-12 * hmax)), np.zeros((n, c))


_HIGHS_BANNER_SHOWN = False


def _quiet_highs(highspy):
    """A ``highspy.Highs`` with its output off.  The first one of a process prints HiGHS's banner
    to the C-level stdout from its constructor: that one is built with file descriptor 1
    pointed at the null device."""
    global _HIGHS_BANNER_SHOWN
    import os
    import sys

    if _HIGHS_BANNER_SHOWN:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _HIGHS_BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    return h


def _lp_column_units(K: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Column units of the hinge LP: ``(c, live)`` with ``c_j = max_i |K_ij|`` (1 for a zero column).

    HiGHS drops matrix entries below 1e-9 and refuses ones above 1e15, so column ``j`` enters the LP
    divided by ``c_j`` (then ``z_j = z'_j / c_j`` and its cost is ``lam / c_j``).  A column with
    ``||K_j||_1 < lam`` is 0 at every optimum (the dual is ``y * s``, ``s`` in ``[0, 1]^n``, so
    ``|K_j^T theta| <= ||K_j||_1 < lam``) and is left out (``live`` False); the costs kept are <= n.
    """
    cmax = np.max(np.abs(K), axis=0) if K.shape[0] else np.zeros(K.shape[1])
    safe = np.where(cmax > 0, cmax, 1.0)
    l1 = np.sum(np.abs(K / safe), axis=0) * cmax
    return safe, (cmax > 0) & (l1 >= lam)


class HingeLP:
    """The hinge-loss Lasso as a linear program solved by HiGHS (module docstring).

    With ``highspy`` (a dependency of cvxpy) the LP of each thread's last working set is kept:
    the next restricted problem of the same ``(y, lam, intercept)`` only adds the new columns
    (and pins those that left at zero), and HiGHS re-solves from the previous optimal basis
    (column generation's warm start: the old basis stays primal feasible).  Without it, each
    restricted problem is a fresh ``scipy.optimize.linprog`` solve.
    """

    name = "highs-lp"
    warm_starts = False
    zero_rtol = 0.0

    def __init__(self) -> None:
        import threading

        self._local = threading.local()

    def __deepcopy__(self, memo) -> HingeLP:
        return HingeLP()

    def __getstate__(self) -> dict:
        return {}

    def __setstate__(self, state) -> None:
        self.__init__()

    def supports(self, loss: Loss, group: bool) -> bool:
        return loss.name == "hinge" and not group

    def solve(self, K: np.ndarray, y: np.ndarray, lam: float, loss: Loss, intercept: bool,
              init: np.ndarray | None = None, tol: float = 1e-10, max_iter: int | None = None,
              time_limit: float = RESTRICTED_TIME_LIMIT) -> InnerSolution:
        K = np.asarray(K, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        ftol = max(float(tol), 1e-10)  # HiGHS's smallest accepted feasibility tolerance
        try:
            import highspy
        except ImportError:  # pragma: no cover - highspy comes with cvxpy
            return self._solve_scipy(K, y, lam, intercept, ftol, time_limit)
        return self._solve_highspy(highspy, K, y, float(lam), bool(intercept), ftol, float(time_limit))

    # ------------------------------------------------------------------ warm-started HiGHS model
    def _model(self, highspy, y: np.ndarray, lam: float, intercept: bool, ftol: float):
        """The thread's LP for ``(y, lam, intercept)``: rows ``y_i (K_i z + t) + xi_i >= 1``, columns
        ``[t (free, with an intercept), xi (n), then z+ / z- pairs as columns arrive]``."""
        key = (y.tobytes(), lam, intercept, ftol)
        st = getattr(self._local, "state", None)
        if st is not None and st["key"] == key:
            return st
        inf = highspy.kHighsInf
        n = y.size
        h = _quiet_highs(highspy)
        h.setOptionValue("primal_feasibility_tolerance", ftol)
        h.setOptionValue("dual_feasibility_tolerance", ftol)
        empty_i, empty_f = np.zeros(0, dtype=np.int32), np.zeros(0)
        h.addRows(n, np.ones(n), np.full(n, inf), 0, empty_i, empty_i, empty_f)
        rows = np.arange(n, dtype=np.int32)
        if intercept:
            h.addCol(0.0, -inf, inf, n, rows, y.copy())
        h.addCols(n, np.ones(n), np.zeros(n), np.full(n, inf), n, rows, rows, np.ones(n))
        st = {"key": key, "h": h, "cols": {}, "first": 1 if intercept else 0, "n": n, "on": set()}
        self._local.state = st
        return st

    def _solve_highspy(self, highspy, K, y, lam, intercept, ftol, time_limit) -> InnerSolution:
        st = self._model(highspy, y, lam, intercept, ftol)
        h, cols, n = st["h"], st["cols"], st["n"]
        inf = highspy.kHighsInf
        cmax, live = _lp_column_units(K, lam)
        pos = np.full(K.shape[1], -1, dtype=np.int64)
        rows = np.arange(n, dtype=np.int32)
        for j in np.flatnonzero(live):
            kk = K[:, j].tobytes()
            c0 = cols.get(kk)
            if c0 is None:  # a new column, in units of its largest entry: its z'+ and z'- variables
                yk = y * (K[:, j] / cmax[j])
                c0 = h.getNumCol()
                h.addCols(2, np.full(2, lam / cmax[j]), np.zeros(2), np.full(2, inf), 2 * n,
                          np.array([0, n], dtype=np.int32), np.concatenate([rows, rows]),
                          np.concatenate([yk, -yk]))
                cols[kk] = c0
            pos[j] = c0
        on = set(pos[live].tolist())
        for c0 in st["on"] - on:  # columns not in this working set: pinned at zero
            h.changeColsBounds(2, np.array([c0, c0 + 1], dtype=np.int32), np.zeros(2), np.zeros(2))
        for c0 in on - st["on"]:
            if c0 in st.get("pinned", set()):
                h.changeColsBounds(2, np.array([c0, c0 + 1], dtype=np.int32), np.zeros(2), np.full(2, inf))
        st["pinned"] = (st.get("pinned", set()) | (st["on"] - on)) - on
        st["on"] = on
        h.setOptionValue("time_limit", time_limit)
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            self._local.state = None  # start afresh next time
            raise SolverError(f"{self.name}: HiGHS did not solve the restricted LP ({h.modelStatusToString(status)})")
        sol = h.getSolution()
        x = np.asarray(sol.col_value)
        coef = np.zeros(K.shape[1])
        coef[live] = (x[pos[live]] - x[pos[live] + 1]) / cmax[live]
        icpt = float(x[0]) if intercept else 0.0
        # the margin rows' duals (>= 0 for a >= row of a minimisation) are s in [0, 1]
        s = np.clip(np.asarray(sol.row_dual, dtype=np.float64), 0.0, 1.0)
        return InnerSolution(coef, icpt, y * s, "optimal")

    # ------------------------------------------------------------------ scipy (no highspy)
    def _solve_scipy(self, K, y, lam, intercept, ftol, time_limit) -> InnerSolution:
        import scipy.sparse as sp
        from scipy.optimize import linprog

        n, k = K.shape
        safe, keep = _lp_column_units(K, lam)
        live = np.flatnonzero(keep)
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
# after Clarabel: on wedge dictionaries (very coherent columns) block coordinate descent needs many
# sweeps, and working-set softmax fits measured 1.2-5x slower than with Clarabel (iris and wine,
# two features); it is the fallback when Clarabel fails or stalls
register_inner(GroupProxNewton())
