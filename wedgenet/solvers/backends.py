"""Solver back-ends behind one interface, registered by name.

``solve(problem, tol=..., max_iter=..., verbose=...) -> SolverResult``; every result carries a
certificate computed by pricing *every* column of the problem (docs/conventions.md#certificate).

* ``"working_set"`` (default, ``"auto"``): column generation.  Solve the small restricted
  problem on a working set of columns with a restricted solver (the exact active-set method
  for the scalar squared loss, warm-started; cvxpy + Clarabel otherwise), then make ONE
  pricing pass over the whole dictionary through the column source's ``violators``: it gives
  the certificate's maximum dual violation and the worst violators ``|K_j^T theta| > lam``
  outside the working set, which join it.  Repeat until the dual point is feasible for the
  whole dictionary and the duality gap is below ``tol``.
* ``"cvxpy"``: the full problem with cvxpy + Clarabel (the reference; slow on large ``K``).
* ``"sklearn"``: the full problem with scikit-learn's coordinate descent (squared loss only).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
import time
import warnings

import numpy as np

from .._linalg import group_norms
from .base import LassoProblem, SolverResult, certify, certify_and_price, dual_point
from .certificate import dual_certificate
from .errors import SolverError
from .inner import CvxpyClarabel, SklearnCD, inner_solver_for
from .screening import HOT_BYTES, CachedColumns, PricingMemory, gap_safe_radius

__all__ = ["BACKENDS", "Backend", "FullSolve", "WorkingSet", "get_backend", "register_backend"]

BACKENDS: dict[str, Backend] = {}

# Restricted-solve tolerance used once the working set stops growing but the certificate is not
# yet met: at Clarabel's default 1e-10 the exponential-cone losses (logistic, softmax) come out
# accurate in value but not in the gradient, and the dual point -grad L misses the 1e-6 gap.
PRECISE_INNER_TOL = 1e-12


class Backend:
    name = "backend"

    def supports(self, problem: LassoProblem) -> bool:
        return True

    def solve(self, problem: LassoProblem, *, tol: float = 1e-6, max_iter: int = 100,
              verbose: bool = False, deadline: float | None = None) -> SolverResult:
        """Solve ``problem``; ``deadline`` (a ``time.perf_counter()`` value) is when an iterative
        back-end stops starting new iterations and returns its last certified state."""
        raise NotImplementedError


def register_backend(backend: Backend) -> Backend:
    BACKENDS[backend.name] = backend
    return backend


def get_backend(name: str, problem: LassoProblem) -> Backend:
    """A NEW back-end instance for one fit (a copy of the registered one), so the state of a
    solve (``WorkingSet.best``) belongs to that fit alone, whatever runs concurrently."""
    key = "working_set" if name == "auto" else name
    if not isinstance(key, str) or key not in BACKENDS:
        raise ValueError(f"solver must be 'auto' or one of {tuple(BACKENDS)}; got {name!r}")
    be = BACKENDS[key]
    if not be.supports(problem):
        raise ValueError(f"solver={name!r} does not support loss={problem.loss.name!r}; use solver='auto'")
    return copy.deepcopy(be)


def _scale_advice(history: list | None = None) -> str:
    """What to do when a solve fails or stalls on a badly scaled problem; with the certificate
    ``history``, also ``lam / lam_max`` (at ``z = 0`` the maximum dual violation is ``lam_max / lam``)."""
    ratio = ""
    mv = history[0].max_violation if history else 0.0
    if np.isfinite(mv) and mv > 1e3:  # only a ratio far below 1 explains a failure (a hinge dual at z = 0 can be 0)
        ratio = (f"lam / lam_max = {1.0 / mv:.2g}: far below 1 the fit "
                 "approaches interpolation and the gap cannot be certified in float64; ")
    return (f"{ratio}standardise X and y (order-1 values) and choose lam as a fraction of lam_max, "
            "the smallest lam whose optimum is the zero network")


def _warn_if_not_converged(res: SolverResult, tol: float, stalled: str | None = None, *,
                           timed_out: bool = False) -> None:
    """``ConvergenceWarning`` for an uncertified result; ``stalled`` says why the solve stopped early
    (otherwise it ran out of iterations); ``timed_out``: the time limit stopped it (no scale advice)."""
    if not res.converged:
        from sklearn.exceptions import ConvergenceWarning  # lazy: scikit-learn costs ~1 s to import

        if stalled is None:
            advice = "raise max_iter or loosen tol"
        elif timed_out:
            advice = stalled
        else:
            advice = f"{stalled}; {_scale_advice(res.history)}"
        cert = res.certificate
        why = (f"relative duality gap {cert.relative_gap:.3g} > tol={tol:g} (max dual violation "
               f"{cert.max_violation:.6g})" if cert.relative_gap > tol else
               f"max dual violation {cert.max_violation:.6g} > 1 (relative duality gap {cert.relative_gap:.3g})")
        warnings.warn(f"{res.solver}: {why}; {advice}", ConvergenceWarning, stacklevel=3)


class FullSolve(Backend):
    """Solve over all columns at once with one restricted solver."""

    def __init__(self, name: str, inner) -> None:
        self.name = name
        self.inner = inner

    def supports(self, problem):
        return self.inner.supports(problem.loss, problem.group)

    def solve(self, problem, *, tol=1e-6, max_iter=100, verbose=False, deadline=None):
        # one solve over every column: no iteration boundary at which a deadline could stop it
        idx = np.arange(problem.columns.n_columns)
        K = problem.columns.columns(idx)
        try:
            sol = self.inner.solve(K, problem.y, problem.lam, problem.loss, problem.intercept)
        except RuntimeError as exc:
            raise SolverError(f"{exc}; {_scale_advice()}, or use solver='auto'") from None
        nz = _solution_rows(self.inner, sol.coef, K, problem.y)
        cert, theta, icpt = certify(problem, idx[nz], sol.coef[nz], sol.intercept, sol.theta)
        res = SolverResult(idx[nz], sol.coef[nz], icpt, cert, cert.relative_gap <= tol, 1, self.name, theta)
        _warn_if_not_converged(res, tol)
        return res


def _solution_rows(inner, coef: np.ndarray, K: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Rows of a restricted solution that are not solver noise.

    Interior-point noise: a coefficient whose whole column moves the predictions by less than
    1e-10 of the targets' scale is zero (the certificate then measures the effect of dropping it).
    Exact solvers (``inner.zero_rtol == 0``) keep every nonzero."""
    if not inner.zero_rtol:
        return _nonzero_rows(coef)
    atol = 1e-10 * max(1.0, float(np.abs(y).max())) / max(float(np.abs(K).max()) if K.size else 0.0, 1e-300)
    return _nonzero_rows(coef, inner.zero_rtol, atol)


def _nonzero_rows(coef: np.ndarray, rtol: float = 0.0, atol: float = 0.0) -> np.ndarray:
    """Coefficients (rows) above ``rtol`` times the largest and above ``atol`` in magnitude."""
    mag = group_norms(coef)
    if mag.size == 0:
        return mag.astype(bool)
    return (mag > rtol * mag.max()) & (mag > atol)


_BLAS_CONTROLLER = None


def blas_threads(n: int | None):
    """A context limiting the BLAS libraries to ``n`` threads (no-op for ``None``)."""
    global _BLAS_CONTROLLER
    if n is None:
        return contextlib.nullcontext()
    if _BLAS_CONTROLLER is None:  # inspecting the loaded libraries costs ~1 ms: once
        from threadpoolctl import ThreadpoolController

        _BLAS_CONTROLLER = ThreadpoolController()
    return _BLAS_CONTROLLER.limit(limits=n, user_api="blas")


class WorkingSet(Backend):
    """Column generation with a restricted solver; certified over the whole dictionary.

    ``initial`` columns start the working set; per outer iteration up to
    ``max(grow, 2 |support|)`` violators join it (the working set at least doubles its support,
    as in celer's and skglm's growth rules, so few outer iterations are needed).
    ``blas_threads`` (default 1) caps the BLAS threads during the solve: the restricted solves
    make thousands of small matrix-vector products, where threads cost more than they bring
    (2-3x slower with 2 threads on a loaded 2-core machine, measured); ``None`` leaves the BLAS
    settings alone.

    ``remember`` (default ``True``): with a column source that gives ``max_column_norm()``,
    full pricing passes are replaced by the survivors of the last pass plus a bound on the
    other columns, and Gap Safe screening discards columns for good
    (:mod:`wedgenet.solvers.screening`); ``survivor_bytes`` caps the survivors' memory (level 1:
    re-priced only when the hot set runs out of violators; default ``None``: sized from the memory
    this process can still allocate, :func:`~wedgenet.solvers.screening.survivor_budget`) and
    ``hot_bytes`` the hot survivors' (priced at every outer iteration).

    One instance serves one solve at a time: :func:`get_backend` hands every fit its own copy.
    ``best`` is the best certified state of the running (or last) solve, for Ctrl-C.
    """

    name = "working_set"

    def __init__(self, initial: int = 32, grow: int = 64, blas_threads: int | None = 1, remember: bool = True,
                 survivor_bytes: float | None = None, hot_bytes: float = HOT_BYTES) -> None:
        self.initial = initial
        self.grow = grow
        self.blas_threads = blas_threads
        self.remember = remember
        self.survivor_bytes = survivor_bytes
        self.hot_bytes = hot_bytes
        #: the best certified state of the running (or last) solve of THIS instance
        self.best: SolverResult | None = None
        #: full pricing passes of the last solve
        self.n_full_passes = 0
        #: pricing work of the last solve in full passes: the full passes plus every survivor
        #: pricing (hot set and level-1 re-pricings), in columns, over the number of columns
        self.pass_equivalents = 0.0

    def __deepcopy__(self, memo) -> WorkingSet:  # a fresh instance: settings only, no solve state
        return WorkingSet(self.initial, self.grow, self.blas_threads, self.remember, self.survivor_bytes,
                          self.hot_bytes)

    def solve(self, problem, *, tol=1e-6, max_iter=100, verbose=False, inner=None, warm_start=None,
              deadline: float | None = None):
        """Column generation; ``warm_start`` (a previous result) seeds the working set.

        ``deadline`` (a ``time.perf_counter()`` value): no outer iteration starts when the last
        one, measured (restricted solve and pricing pass), would end after it; the result is then
        the last certified state, with a ``ConvergenceWarning`` saying so.
        """
        self.best = None
        self.n_full_passes = 0
        self.pass_equivalents = 0.0
        with blas_threads(self.blas_threads):
            return self._solve(problem, tol=tol, max_iter=max_iter, verbose=verbose, inner=inner,
                               warm_start=warm_start, deadline=deadline)

    def _memory(self, problem) -> PricingMemory | None:
        src = problem.columns
        if not self.remember or not callable(getattr(src, "max_column_norm", None)):
            return None
        mem = PricingMemory(src, problem.n_samples, problem.lam, self.survivor_bytes, self.hot_bytes)
        return mem if math.isfinite(mem.N) else None

    def _price(self, problem, mem, theta, k, threshold, exclude):
        """``(max_score, violators)``: one full pass (no memory), or the survivors and the bound,
        with a full pass only when the survivors offer no violator and the bound exceeds ``threshold``."""
        if mem is None:
            add, _, m = problem.columns.violators(theta, k, threshold, exclude)  # one full pass
            self.n_full_passes += 1
            return m, add, None, -math.inf
        S, bound = mem.price(theta)
        add = mem.top(S, k, threshold, exclude)
        if add.size == 0 and mem.b2 > threshold:  # level 1 may hold violators: re-price it
            mem.reprice(theta)
            S, bound = mem.price(theta)
            add = mem.top(S, k, threshold, exclude)
        if add.size == 0 and bound > threshold:  # only a pass over every column can tell
            # columns below lam / 2 are not ranked (the bound then starts from lam / 2)
            m = mem.full_pass(theta, 0.5 * problem.lam)
            self.n_full_passes += 1
            S, bound = mem.price(theta)
            add = mem.top(S, k, threshold, exclude)
            return m, add, S, bound
        return mem.max_score(S, bound), add, S, bound

    def _solve(self, problem, *, tol, max_iter, verbose, inner, warm_start, deadline=None):
        inner = inner or inner_solver_for(problem.loss, problem.group)
        p = problem.columns.n_columns
        y = problem.y
        lam = problem.lam
        icpt0 = problem.loss.intercept_only(y) if problem.intercept else (
            np.zeros(y.shape[1]) if y.ndim == 2 else 0.0)
        empty = np.zeros((0,) + y.shape[1:])
        mem = self._memory(problem)
        if mem is not None:  # restricted columns come from the survivors' dense copy when possible
            problem = dataclasses.replace(problem, columns=CachedColumns(problem.columns, mem))
        # one pricing pass: the certificate of z = 0 and the best-scoring columns to start from
        # (threshold -1: any column, even when no score exceeds lam, as with a degenerate hinge dual)
        if mem is None:
            cert, theta, icpt0, ws, _ = certify_and_price(problem, np.zeros(0, dtype=np.int64), empty, icpt0,
                                                          k=min(self.initial, p), threshold=-1.0)
            self.n_full_passes += 1
        else:
            primal, theta, icpt0 = dual_point(problem, np.zeros(0, dtype=np.int64), empty, icpt0)
            m = mem.full_pass(theta)
            self.n_full_passes += 1
            ws = mem.top(mem.price(theta)[0], min(self.initial, p), -1.0, None)
            cert = dual_certificate(problem.loss, y, lam, primal, theta, m, p)
        history = [cert]
        if cert.relative_gap <= tol:  # the zero network is certified optimal
            self.pass_equivalents = float(self.n_full_passes)
            res = SolverResult(np.zeros(0, dtype=np.int64), empty, icpt0, cert, cert.relative_gap <= tol, 0,
                               self.name, theta, history)
            _warn_if_not_converged(res, tol)
            return res
        coef = np.zeros((0,) + y.shape[1:])
        if warm_start is not None and warm_start.support.size:
            ws = np.union1d(ws, warm_start.support)
            coef = np.zeros((ws.size,) + y.shape[1:])
            coef[np.searchsorted(ws, warm_start.support)] = warm_start.coef
        ws = np.sort(ws)
        if coef.shape[0] != ws.size:
            coef = np.zeros((ws.size,) + y.shape[1:])
        support, coef_s, icpt = np.zeros(0, dtype=np.int64), empty, icpt0
        t0 = time.perf_counter()
        it = 0
        tightened = False
        precise: dict = {}
        stalled = None
        n_done = 0
        timed_out = False
        t_iter = time.perf_counter()
        for it in range(1, max_iter + 1):
            now = time.perf_counter()
            if deadline is not None and n_done and now + (now - t_iter) > deadline:
                stalled = (f"stopped after {n_done} iterations: another one ({now - t_iter:.3g} s measured) would "
                           f"pass the time limit; raise time_limit=")
                timed_out = True
                break
            t_iter = now
            Kws = problem.columns.columns(ws)
            try:
                sol = inner.solve(Kws, y, lam, problem.loss, problem.intercept,
                                  init=coef if inner.warm_starts else None, **precise)
            except RuntimeError as exc:  # a restricted solver failed: keep the last certified state
                if n_done == 0:
                    raise SolverError(f"{exc}; {_scale_advice(history)}") from None
                stalled = f"stopped at iteration {it}: {exc}"
                break
            n_done = it
            coef, icpt = sol.coef, sol.intercept
            nz = _solution_rows(inner, coef, Kws, y)
            support, coef_s = ws[nz], coef[nz]
            # pricing: the certificate over every column and the worst violators outside ws
            primal, theta, icpt = dual_point(problem, support, coef_s, icpt, sol.theta)
            m, add, S, bound = self._price(problem, mem, theta, max(self.grow, 2 * support.size),
                                           lam * (1.0 + 1e-9), ws)
            cert = dual_certificate(problem.loss, y, lam, primal, theta, m, p)
            history.append(cert)
            if self.best is None or cert.relative_gap <= self.best.certificate.relative_gap:  # Ctrl-C: wedgenet.fit
                self.best = SolverResult(support, coef_s, icpt, cert, False, it, self.name, theta, history)
            if verbose:
                extra = "" if mem is None else (f" survivors={mem.idx1.size} hot={mem.idx.size} "
                                                f"level-1 repricings={mem.n_reprices} screened={mem.n_screened}"
                                                f"{' rest-screened' if mem.rest_screened else ''}")
                print(f"[working set] iter {it}: |ws|={ws.size} support={support.size} passes={self.n_full_passes}"
                      f"{extra} {cert} ({time.perf_counter() - t0:.2f}s)")
            if cert.relative_gap <= tol and cert.max_violation <= 1.0 + 1e-6:
                break
            if mem is not None and S is not None:
                radius = gap_safe_radius(problem.loss, cert.gap)
                if radius is not None:
                    gone = mem.screen(theta, min(1.0, lam / m) if m > 0 else 1.0, S, bound, radius)
                    # optimal coefficient 0: out of the working set for good (an interior-point
                    # restricted solver keeps them: its accuracy degrades on tiny working sets)
                    if gone.size and not inner.zero_rtol:
                        keep = ~np.isin(ws, gone)
                        ws, coef = ws[keep], coef[keep]
                        add = add[~np.isin(add, gone)]
            if add.size == 0:
                # no violator outside the working set: solve the restricted problem more precisely,
                # first with a tighter tolerance, then with the next solver that supports the loss
                if not precise:
                    precise = {"tol": PRECISE_INNER_TOL}
                    continue
                fallback = inner_solver_for(problem.loss, problem.group, after=inner)
                if fallback is not None and not tightened:
                    inner, tightened, precise = fallback, True, {}
                    continue
                stalled = (f"stalled at iteration {it}: no column is left to add and the restricted "
                           "solves cannot get more precise")
                break
            ws_new = np.union1d(ws, add)  # never drop columns: that can cycle (degenerate hinge duals)
            coef_new = np.zeros((ws_new.size,) + y.shape[1:])
            coef_new[np.searchsorted(ws_new, ws)] = coef
            ws, coef = ws_new, coef_new
        self.pass_equivalents = self.n_full_passes + (mem.priced_columns / max(p, 1) if mem is not None else 0.0)
        res = SolverResult(support, coef_s, icpt, cert, cert.closed(tol), n_done, self.name, theta, history,
                           self.n_full_passes)
        _warn_if_not_converged(res, tol, stalled, timed_out=timed_out)
        return res


register_backend(WorkingSet())
register_backend(FullSolve("cvxpy", CvxpyClarabel()))
register_backend(FullSolve("sklearn", SklearnCD()))
