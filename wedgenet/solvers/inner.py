"""Restricted solvers: the Lasso on an explicit (small) matrix ``K_S``.

Plug-ins, chosen by capability (``supports(loss, group)``), never by an ``if`` chain:

* :class:`SquaredActiveSet` — an exact primal active-set method (in the family of Osborne's
  active-set / Lee et al.'s feature-sign search) for the squared loss with scalar output, the
  default there: it moves from face to face of the sign pattern, solving each face's linear
  system with an updated Cholesky factor, so it ends at the exact solution (to rounding) in
  finitely many steps, warm-starts from the previous working set's solution, returns exact
  zeros (a vertex: at most ``rank(K_S)`` nonzeros) and is not slowed down by coherent columns
  (where coordinate descent stalls).  A free intercept is eliminated exactly by centring.
* :class:`CvxpyClarabel` — cvxpy with the Clarabel interior-point solver, for every loss (the
  default for the other losses and for vector output, and the fallback for the squared loss).
  Wedge dictionaries are very coherent (neighbouring hyperplanes give nearly equal columns);
  on the small restricted problems an interior-point method reaches a 1e-10 gap in a few
  dozen iterations where coordinate descent can stall.  OSQP is never used.
* :class:`SklearnLiblinear` — scikit-learn's liblinear for the l1 logistic loss (the precise
  fallback when Clarabel's exponential cone stalls).
* :class:`SklearnCD` — scikit-learn's coordinate descent (``Lasso`` / ``MultiTaskLasso``) for the
  squared loss: ``alpha = lam / n`` turns its ``(1/2n)||r||^2 + alpha R`` into ``0.5||r||^2 + lam R``.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.linalg import qr, solve_triangular
from scipy.linalg.lapack import dpotrf, dpotrs, dtrtrs

from .losses import Loss

__all__ = ["InnerSolution", "SquaredActiveSet", "lasso_active_set", "SklearnCD", "SklearnLiblinear", "CvxpyClarabel",
           "INNER_SOLVERS", "clarabel_settings", "inner_solver_for", "register_inner"]

def clarabel_settings(tol: float = 1e-10, max_iter: int = 500, *, ktratio: float | None = None) -> dict:
    """Clarabel's settings for every cvxpy solve of the package (written once here): absolute and
    relative duality gap and feasibility tolerances ``tol``, at most ``max_iter`` iterations, and
    optionally the KKT-ratio tolerance ``ktratio`` (Clarabel's default otherwise)."""
    out = {"tol_gap_abs": tol, "tol_gap_rel": tol, "tol_feas": tol, "max_iter": max_iter}
    if ktratio is not None:
        out["tol_ktratio"] = ktratio
    return out


@dataclass
class InnerSolution:
    coef: np.ndarray
    intercept: np.ndarray | float
    theta: np.ndarray | None  # a dual point when the solver provides one (hinge)
    status: str


# relative size ||K_j - proj_A K_j||^2 / ||K_j||^2 below which a column counts as a linear
# combination of the active ones (then it is exchanged for one of them, see lasso_active_set)
DEPENDENT_RTOL = 1e-12


def _objective(K, y, lam, A, xA):
    r = y - K[:, A] @ xA if len(A) else y
    return 0.5 * float(r @ r) + lam * float(np.abs(xA).sum())


# LAPACK directly: the scipy.linalg wrappers cost ~30 us a call, the steps ~thousands of calls
def _cholesky(G):
    """Lower Cholesky factor of ``G``, or ``None`` if it is not positive definite."""
    L, info = dpotrf(G, lower=1, clean=1)
    return L if info == 0 else None


def _cho_solve(L, b):
    """``(L L^T)^-1 b``; a LAPACK failure or a non-finite solution (overflow on a nearly singular or
    extreme-valued face) raises :class:`SolverError`, which the working set turns into its last
    certified state or a short message, never a raw LAPACK error."""
    x, info = dpotrs(L, b, lower=1)
    if info != 0 or not np.all(np.isfinite(x)):
        from .errors import SolverError

        raise SolverError("active-set: the face system could not be solved in float64 "
                          f"({'LAPACK dpotrs info ' + str(info) if info else 'non-finite solution'})")
    return x


def _chol(K, A):
    """Lower Cholesky factor of ``K_A^T K_A``, or ``None`` if it is (numerically) singular."""
    if not len(A):
        return np.zeros((0, 0))
    KA = K[:, A]
    L = _cholesky(KA.T @ KA)
    if L is None:
        return None
    d = np.diag(L) ** 2
    return L if np.all(d > DEPENDENT_RTOL * np.einsum("ij,ij->j", KA, KA)) else None


def _chol_drop(L, i):
    """The Cholesky factor of ``G`` without row and column ``i`` from that of ``G``."""
    i = int(i[0])
    k = L.shape[0]
    Ln = np.delete(np.delete(L, i, axis=0), i, axis=1)
    if i < k - 1:  # the trailing block absorbs the removed column: L22' L22'^T = L22 L22^T + l l^T
        l2 = L[i + 1:, i]
        L22 = L[i + 1:, i + 1:]
        L22n = _cholesky(L22 @ L22.T + np.outer(l2, l2))
        if L22n is None:
            return None
        Ln[i:, i:] = L22n
    return Ln


def _face_solve(K, y, lam, A, s, L):
    """``argmin 0.5||y - K_A x||^2 + lam s^T x`` (the sign face), one refinement step."""
    KA = K[:, A]
    b = KA.T @ y - lam * s
    x = _cho_solve(L, b)
    x += _cho_solve(L, b - KA.T @ (KA @ x))
    return x


def _face_polish(K, y, lam, A, s):
    """The face solution by QR of ``K_A`` (no squared condition number)."""
    Q, R = qr(K[:, A], mode="economic")
    u = solve_triangular(R, s, trans="T")
    return solve_triangular(R, Q.T @ y - lam * u)


def lasso_active_set(K: np.ndarray, y: np.ndarray, lam: float, init: np.ndarray | None = None,
                     viol_rtol: float = 1e-11, max_steps: int | None = None) -> tuple[np.ndarray, str]:
    """Exact Lasso ``min_x 0.5||y - K x||^2 + lam ||x||_1`` by a primal active-set method.

    The iterate ``x`` keeps a sign pattern ``s`` on an active set ``A`` of linearly independent
    columns.  Each step solves the face problem ``min 0.5||y - K_A x||^2 + lam s^T x``; if its
    solution keeps the signs it is taken, else ``x`` moves toward it up to the first zero
    crossing and that coefficient leaves ``A`` (the objective decreases along the segment).
    On an optimal face, the column of ``K`` with the largest ``|K_j^T r| > lam`` enters with
    the sign of ``K_j^T r`` (the next face solution then gives it that sign).  A column in the
    span of ``A`` cannot enter a full-rank factorisation: it is *exchanged* instead, moving
    along the null direction (same fit, lower penalty) until a coefficient of ``A`` vanishes.
    Each step lowers the objective, so no face repeats and the method ends in finitely many
    steps at a point where ``|K_j^T r| <= lam (1 + viol_rtol)`` off the support and the face
    equations hold to rounding (a final QR solve polishes them).  ``init`` warm-starts from
    its nonzero pattern.  Returns ``(x, status)``.
    """
    K = np.asarray(K, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, m = K.shape
    max_steps = max_steps if max_steps is not None else 50 * min(n, m) + 10 * m + 100
    x = np.zeros(m)
    A = np.zeros(0, dtype=np.int64)
    if init is not None and np.any(init):
        A = np.flatnonzero(init).astype(np.int64)
        x[A] = init[A]
    L = _chol(K, A)
    if L is None:  # dependent warm start: start from zero
        x[:] = 0.0
        A = np.zeros(0, dtype=np.int64)
        L = np.zeros((0, 0))
    norms2 = np.einsum("ij,ij->j", K, K)
    banned = np.zeros(m, dtype=bool)  # columns whose entry failed at the current point (rounding)
    thresh = lam * (1.0 + viol_rtol)
    fresh = -1  # the column that has just entered (its coefficient is still 0) ...
    fresh_sign = 0.0  # ... with the sign of K_j^T r
    status = "max_steps"
    for _ in range(max_steps):
        if A.size:
            s = np.sign(x[A])
            if fresh >= 0:
                s[-1] = fresh_sign
            xn = _face_solve(K, y, lam, A, s, L)
            bad = s * xn <= 0
            if bad.any():
                xa = x[A]
                d = xn - xa
                with np.errstate(divide="ignore", invalid="ignore"):
                    tau = np.where(bad, xa / (xa - xn), np.inf)
                tau[bad & (xa == 0)] = 0.0
                t = float(tau.min())
                xa = xa + t * d
                drop = tau <= t + 1e-15
                if fresh >= 0 and drop[-1] and t == 0.0:
                    banned[fresh] = True  # would leave at once: rounding, do not let it cycle
                else:
                    banned[:] = False  # the objective went down: every column may enter again
                x[A] = np.where(drop, 0.0, xa)
                A = A[~drop]
                fresh = -1
                L = _chol_drop(L, np.flatnonzero(drop)) if drop.sum() == 1 else _chol(K, A)
                if L is None:  # cannot happen in exact arithmetic (a subset of independent columns)
                    status = "singular"
                    break
                continue
            x[A] = xn
            if fresh >= 0:
                banned[:] = False
            fresh = -1
        r = y - K[:, A] @ x[A] if A.size else y.copy()
        c = K.T @ r
        score = np.abs(c)
        score[A] = -np.inf
        score[banned] = -np.inf
        j = int(np.argmax(score))
        if not score[j] > thresh:
            status = "optimal"
            break
        g = K[:, A].T @ K[:, j]
        lvec = dtrtrs(L, g, lower=1)[0] if A.size else g
        d2 = norms2[j] - float(lvec @ lvec)
        if d2 > DEPENDENT_RTOL * norms2[j]:
            k = A.size
            Ln = np.zeros((k + 1, k + 1))
            Ln[:k, :k] = L
            Ln[k, :k] = lvec
            Ln[k, k] = np.sqrt(d2)
            L = Ln
            A = np.append(A, j)
            fresh, fresh_sign = j, float(np.sign(c[j]))
            continue
        # K_j = K_A w (to rounding): exchange it for the first coefficient of A the move zeroes
        w = _cho_solve(L, g)
        sig = np.sign(c[j])
        sa = np.sign(x[A])
        dec = sig * sa * w
        if 1.0 - float(dec.sum()) >= 0 or not np.any(dec > 0):  # no descent: a rounding violation
            banned[j] = True
            continue
        with np.errstate(divide="ignore"):
            tau = np.where(dec > 0, np.abs(x[A]) / dec, np.inf)
        i = int(np.argmin(tau))
        t = float(tau[i])
        before = _objective(K, y, lam, A, x[A])
        xa = x[A] - sig * t * w
        xa[i] = 0.0
        A2 = np.append(np.delete(A, i), j)
        xa2 = np.append(np.delete(xa, i), sig * t)
        if _objective(K, y, lam, A2, xa2) >= before:
            banned[j] = True
            continue
        x[A] = 0.0
        A = A2
        x[A] = xa2
        banned[:] = False
        L = _chol(K, A)
        if L is None:
            status = "singular"
            break
    if A.size and status == "optimal":
        s = np.sign(x[A])
        KA = K[:, A]
        kkt = np.abs(KA.T @ (y - KA @ x[A]) - lam * s).max()
        if kkt > 1e-12 * lam:  # ill-conditioned face: polish it by QR
            xp = _face_polish(K, y, lam, A, s)
            if np.all(s * xp > 0) and np.all(np.isfinite(xp)):
                x[A] = xp
    return x, status


class SquaredActiveSet:
    """Exact active-set Lasso (:func:`lasso_active_set`) for the squared loss, scalar output.

    A free intercept is exact to eliminate: ``t = mean(y - K z)``, so the solver works on the
    centred ``K`` and ``y``.  Exact zeros; warm starts from the previous coefficients.
    """

    name = "active-set"
    warm_starts = True
    zero_rtol = 0.0

    def supports(self, loss: Loss, group: bool) -> bool:
        return loss.quadratic and not group

    def solve(self, K: np.ndarray, y: np.ndarray, lam: float, loss: Loss, intercept: bool,
              init: np.ndarray | None = None, tol: float = 1e-11, max_iter: int | None = None) -> InnerSolution:
        K = np.asarray(K, dtype=np.float64)
        if intercept:
            kmean = K.mean(axis=0)
            ymean = float(y.mean())
            coef, status = lasso_active_set(K - kmean, y - ymean, lam, init, tol, max_iter)
            icpt = ymean - float(kmean @ coef)
        else:
            coef, status = lasso_active_set(K, y, lam, init, tol, max_iter)
            icpt = 0.0
        return InnerSolution(coef, icpt, None, status)


class SklearnCD:
    """Coordinate descent from scikit-learn (squared loss, scalar or vector output).

    Exact zeros, warm starts; on very coherent working sets it can stall, and the working-set
    loop then falls back to :class:`CvxpyClarabel`.
    """

    name = "sklearn-cd"
    warm_starts = True
    zero_rtol = 0.0

    def supports(self, loss: Loss, group: bool) -> bool:
        return loss.quadratic

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


def _pow2_below(v: float) -> float:
    """The power of two ``2^e <= v < 2^(e+1)`` when ``v`` lies outside ``[2^-20, 2^20)``, else 1 (and
    1 for 0 or a non-finite ``v``): dividing by it is exact, and order-1 problems are left as they are."""
    if not (v > 0 and np.isfinite(v)) or 2.0**-20 <= v < 2.0**20:
        return 1.0
    return float(np.ldexp(1.0, int(np.frexp(v)[1]) - 1))


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
        # Units: Clarabel's tolerances are absolute, so the problem is solved in order-1 units: a K
        # whose largest magnitude is far from 1 is divided by the power of two c below it (z = z' / c,
        # penalty lam / c; exact in binary, and the problem's conditioning is unchanged), and for a
        # quadratic loss the targets by the power of two sigma below max |y| (z, t and the objective
        # scale with sigma, lam becomes lam / sigma).  K * a with lam * a is then the same problem.
        csc = _pow2_below(float(np.max(np.abs(K))) if K.size else 0.0)
        Kc = K / csc
        sigma = _pow2_below(float(np.max(np.abs(y)))) if (loss.quadratic and y.size) else 1.0
        ys = y / sigma
        wts = (lam / sigma) / csc
        z = cp.Variable((k, y.shape[1])) if vec else cp.Variable(k)
        t = cp.Variable(y.shape[1]) if vec else cp.Variable()
        pred = Kc @ z
        if intercept:
            pred = pred + (cp.reshape(t, (1, y.shape[1]), order="C") if vec else t)
        reg = wts * (cp.sum(cp.norm(z, 2, axis=1)) if vec else cp.norm1(z))
        cons = []
        if loss.name == "hinge":  # slack form, so the margin duals give the dual point theta = y * s
            xi = cp.Variable(n)
            margin = xi >= 1 - cp.multiply(y, pred)
            cons = [xi >= 0, margin]
            obj = cp.sum(xi)
        else:
            obj = loss.cvxpy(pred, ys)
        prob = cp.Problem(cp.Minimize(obj + reg), cons)
        settings = clarabel_settings(tol, max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "may be inaccurate": the certificate decides
            try:
                prob.solve(solver=cp.CLARABEL, **settings)
            except cp.error.SolverError:
                try:
                    prob.solve(solver=cp.CLARABEL)  # default tolerances as a fallback
                except cp.error.SolverError:  # cvxpy's text advises other solvers: not the user's move
                    raise RuntimeError("Clarabel failed on the restricted problem (solver error)") from None
        if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
            raise RuntimeError(f"Clarabel failed on the restricted problem (status {prob.status})")
        coef = np.asarray(z.value, dtype=np.float64) * (sigma / csc)
        icpt = (np.asarray(t.value, dtype=np.float64) * sigma if vec else float(t.value) * sigma) if intercept else (
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
              init: np.ndarray | None = None, tol: float = 1e-12, max_iter: int = 1000,
              time_limit: float = 120.0) -> InnerSolution:
        """liblinear in a worker thread (it releases the GIL): the caller waits at most
        ``time_limit`` seconds and stays responsive to Ctrl-C (checked every 0.1 s); on either,
        ``SolverError`` / ``KeyboardInterrupt`` is raised at once while the worker, which cannot
        be stopped, finishes its (bounded, ``max_iter``) run in the background."""
        import threading

        import sklearn
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.linear_model import LogisticRegression

        from .errors import SolverError

        if np.unique(y).size < 2:  # liblinear refuses one class; not a property of the problem
            raise SolverError(f"{self.name}: needs both labels in y")
        # scikit-learn 1.8 replaced penalty="l1" by l1_ratio=1
        l1 = {"l1_ratio": 1.0} if tuple(int(v) for v in sklearn.__version__.split(".")[:2]) >= (1, 8) else {
            "penalty": "l1"}
        model = LogisticRegression(C=1.0 / lam, solver="liblinear", fit_intercept=intercept, intercept_scaling=1e6,
                                   tol=tol, max_iter=max_iter, **l1)
        out: dict = {}

        def work() -> None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    model.fit(K, y)
            except Exception as exc:  # reported in the caller's thread
                out["error"] = exc

        th = threading.Thread(target=work, name="wedgenet-liblinear", daemon=True)
        th.start()
        deadline = time.monotonic() + float(time_limit)
        while th.is_alive():
            th.join(0.1)
            if th.is_alive() and time.monotonic() > deadline:
                raise SolverError(f"{self.name}: restricted solve over its time limit of {time_limit:g} s")
        if "error" in out:
            raise SolverError(f"{self.name}: {out['error']}")
        return InnerSolution(model.coef_[0].copy(), float(model.intercept_[0]) if intercept else 0.0, None, "ok")


INNER_SOLVERS: list = [SquaredActiveSet(), CvxpyClarabel(), SklearnLiblinear(), SklearnCD()]


def register_inner(solver, before: str | None = None) -> None:
    """Add a restricted solver to the registry (before the one named ``before``, else last)."""
    names = [s.name for s in INNER_SOLVERS]
    if solver.name in names:
        INNER_SOLVERS.pop(names.index(solver.name))
        names.remove(solver.name)
    INNER_SOLVERS.insert(names.index(before) if before in names else len(INNER_SOLVERS), solver)


def inner_solver_for(loss: Loss, group: bool, after=None):
    """The first registered restricted solver that supports the loss.

    ``after`` returns the next supporting solver after the given one (the fallback when a
    restricted solve is not accurate enough), or ``None``.
    """
    pool = INNER_SOLVERS
    if after is not None:
        names = [s.name for s in pool]
        pool = pool[names.index(after.name) + 1:] if after.name in names else []
        return next((s for s in pool if s.supports(loss, group)), None)
    for s in pool:
        if s.supports(loss, group):
            return s
    raise ValueError(f"no restricted solver supports loss={loss.name!r} (group={group})")
