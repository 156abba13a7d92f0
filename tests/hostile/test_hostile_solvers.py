"""Hostile input against the solver layer (issues 12 and 17): time limits, Ctrl-C, degenerate
labels, NaN dual points, extreme lam, per-fit back-ends and the SolverError type."""

from __future__ import annotations

import _thread
import threading
import time
import warnings

import numpy as np
import pytest

import wedgenet as wn
from wedgenet.solvers import ExplicitColumns, LassoProblem, SolverError, get_backend, get_loss
from wedgenet.solvers.base import certify
from wedgenet.solvers.inner import SklearnLiblinear


def _separable(n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    y = np.where(X[:, 0] + 0.3 * X[:, 1] > 0, 1.0, -1.0)
    return X, y


def test_solver_error_is_a_runtime_error_of_the_solvers_package():
    assert issubclass(SolverError, RuntimeError)
    assert SolverError.__module__ == "wedgenet.solvers.errors"


def test_backends_are_instantiated_per_fit():
    X, y = _separable(10)
    D = wn.dictionary(X, reg="l1", bias=True)
    pr = LassoProblem(D, y, 0.1, get_loss("squared"), True)
    a, b = get_backend("auto", pr), get_backend("auto", pr)
    assert a is not b and a.best is None
    a.solve(pr)
    assert a.best is not None and b.best is None


def test_separable_logistic_fit_ends_within_a_time_bound():
    X, y = _separable()
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = wn.fit(X, y, loss="logistic", lam=1e-6)
    assert time.perf_counter() - t < 60
    assert np.isfinite(net.info["primal"])


def test_liblinear_fallback_respects_its_time_limit():
    X, y = _separable()
    K = wn.dictionary(X, reg="l1", bias=True).K
    t = time.perf_counter()
    try:
        SklearnLiblinear().solve(K, y, 1e-6, get_loss("logistic"), True, max_iter=10**7, time_limit=0.5)
    except SolverError as exc:
        assert "time limit" in str(exc)
    assert time.perf_counter() - t < 5.0


def test_liblinear_fallback_answers_ctrl_c_within_a_second():
    X, y = _separable(200, 1)
    K = np.tile(wn.dictionary(X, reg="l1", bias=True).K, (1, 3))
    timer = threading.Timer(0.3, _thread.interrupt_main)
    t = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            SklearnLiblinear().solve(K, y, 1e-8, get_loss("logistic"), True, tol=1e-15, max_iter=10**7,
                                     time_limit=60)
            time.sleep(5)  # liblinear finished before the interrupt: the interrupt lands here
    finally:
        timer.cancel()
    # the caller polls every 0.1 s; generous bound for a loaded machine (liblinear itself runs far longer)
    assert time.perf_counter() - t < 5.0


def test_one_label_logistic_without_intercept_is_solved_not_rejected():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([1.0, 1.0, 1.0])
    net = wn.fit(X, y, loss="logistic", bias=False, lam=1e-4)
    assert net.relative_gap <= 1e-6 and net.max_violation <= 1 + 1e-6
    assert np.all(net.decision_function(X) > 0) if hasattr(net, "decision_function") else True


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_violators_with_a_non_finite_theta_raise(bad):
    X, y = _separable(12)
    theta = y.copy()
    theta[3] = bad
    for src in (wn.dictionary(X, reg="l1", bias=True), wn.streamed_dictionary(X, reg="l1", bias=True),
                ExplicitColumns(wn.dictionary(X, reg="l1", bias=True).K)):
        with pytest.raises(ValueError, match="theta"):
            src.violators(theta, 5, 0.1)


def test_reported_gap_at_tiny_lam_does_not_understate_the_recomputed_one():
    X, y = _separable(40, 3)
    y = np.sin(3 * X[:, 0]) + X[:, 1]
    D = wn.dictionary(X, reg="l1", bias=True)
    lam_max = float(np.abs(D.K.T @ (y - y.mean())).max())
    lam = 1e-12 * lam_max
    pr = LassoProblem(D, y, lam, get_loss("squared"), True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = get_backend("auto", pr).solve(pr)
    again, _, _ = certify(pr, res.support, res.coef, res.intercept)
    assert res.certificate.gap >= again.gap * (1 - 1e-6)
    assert res.certificate.relative_gap >= again.relative_gap * (1 - 1e-6)
