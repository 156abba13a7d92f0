"""Certificates (docs/conventions.md#certificate), solver back-ends and fit_path.

The certificate is checked against an independent optimum (cvxpy on the full dictionary): the
reported dual value is a true lower bound, the primal a true upper bound, and the gap covers
the suboptimality.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _refs import lasso_reference, regression_data, xor_data
from sklearn.exceptions import ConvergenceWarning

import wedgenet as wn


def _fit_no_warning(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return wn.fit(*args, **kw)


def _problems():
    Xr, yr = regression_data(0, 10, 2)
    Xc, yc = xor_data(2, 14)
    Y2 = np.c_[yr, np.cos(Xr[:, 1])]
    lab = np.arange(12) % 3
    Xs = np.random.default_rng(5).standard_normal((12, 2))
    return [
        ("squared-l1", Xr, yr, dict(lam=0.1, reg="l1")),
        ("squared-l2", Xr, yr, dict(lam=0.05, reg="l2")),
        ("squared-nobias", Xr, yr, dict(lam=0.1, bias=False)),
        ("vector", Xr, Y2, dict(lam=0.2)),
        ("logistic", Xc, yc, dict(lam=0.3, loss="logistic")),
        ("hinge", Xc, yc, dict(lam=0.3, loss="hinge")),
        ("softmax", Xs, lab, dict(lam=0.3, loss="softmax")),
    ]


PROBLEMS = _problems()


@pytest.mark.parametrize("name,X,y,kw", PROBLEMS, ids=[p[0] for p in PROBLEMS])
def test_certificate_is_valid_and_tight(name, X, y, kw):
    net = _fit_no_warning(X, y, **kw)
    i = net.info
    assert i["converged"] is True
    assert net.duality_gap >= 0
    assert i["primal"] - i["dual"] == pytest.approx(net.duality_gap, abs=1e-12)
    assert net.relative_gap <= 1e-6
    assert net.max_violation <= 1 + 1e-6
    assert i["n_columns"] == wn.dictionary(X, reg=kw.get("reg", "l1"), bias=kw.get("bias", True)).n_columns
    # against an independent optimum: dual <= opt <= primal <= opt + gap
    loss = kw.get("loss", "squared")
    D = wn.dictionary(X, reg=kw.get("reg", "l1"), bias=kw.get("bias", True))
    opt = lasso_reference(D.K, y, kw["lam"], loss=loss, intercept=D.fit_intercept)
    slack = 1e-8 * abs(opt)
    assert i["dual"] <= opt + slack
    assert i["primal"] >= opt - slack
    assert i["primal"] - opt <= net.duality_gap + slack


@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-8])
def test_requested_tolerance_is_met(tol):
    X, y = regression_data(9, 12, 2)
    net = _fit_no_warning(X, y, lam=0.05, tol=tol)
    assert 0 <= net.relative_gap <= tol and net.info["converged"]
    assert net.duality_gap == pytest.approx(net.relative_gap * net.info["primal"], rel=1e-9)
    best = _fit_no_warning(X, y, lam=0.05, tol=1e-8)
    lo = best.info["dual"]  # a lower bound on the optimum
    assert lo - 1e-12 <= net.info["primal"] <= best.info["primal"] + net.duality_gap + 1e-12
    assert net.info["dual"] <= best.info["primal"] + 1e-12


def test_certificate_detects_a_non_optimal_network():
    # max_iter=1 stops the working set early: the warning is raised and the certificate shows it
    X, y = regression_data(1, 12, 2)
    with pytest.warns(ConvergenceWarning, match="duality gap"):
        net = wn.fit(X, y, lam=0.01, max_iter=1, tol=1e-14)
    assert net.info["converged"] is False
    assert net.relative_gap > 1e-14 and net.max_violation > 1.0
    good = _fit_no_warning(X, y, lam=0.01)
    # the early network is feasible, so not better; its gap bounds its suboptimality
    assert net.info["primal"] >= good.info["primal"] * (1 - 1e-9)
    assert net.info["primal"] - good.info["primal"] <= net.duality_gap + 1e-9
    assert net.objective(X, y) == pytest.approx(net.info["primal"], rel=1e-9)


def test_hinge_working_set_does_not_cycle():
    # regression: dropping zero columns from the working set made this degenerate hinge problem
    # cycle between two working sets for max_iter iterations and stop at a 13% duality gap
    rng = np.random.default_rng(3)
    X = rng.standard_normal((14, 2))
    y = np.sign(X[:, 0] * X[:, 1] + 0.1)
    net = _fit_no_warning(X, y, lam=1.0, loss="hinge")
    assert net.relative_gap <= 1e-6 and net.info["n_iter"] < 20
    K = wn.dictionary(X, reg="l1", bias=True).K
    assert net.info["primal"] == pytest.approx(lasso_reference(K, y, 1.0, loss="hinge"), rel=1e-7)


@pytest.mark.parametrize("seed", range(6))
def test_classification_losses_converge_at_default_tol(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((14, 2))
    for loss in ("logistic", "hinge", "softmax"):
        y = np.arange(14) % 3 if loss == "softmax" else np.sign(X[:, 0] * X[:, 1] + 0.1)
        for lam in (0.1, 1.0):
            net = _fit_no_warning(X, y, lam=lam, loss=loss)
            assert net.relative_gap <= 1e-6 and net.max_violation <= 1 + 1e-6


def test_logistic_l2_converges_at_default_tol():
    # Clarabel's exponential cone stalls at ~1e-6 here; the working set then falls back to
    # liblinear (docs/conventions.md#certificate: the certificate needs an accurate dual point)
    X, y = xor_data(0, 16)
    net = _fit_no_warning(X, y, lam=1.0, loss="logistic", reg="l2")
    assert net.relative_gap <= 1e-6


# ------------------------------------------------------------------------- back-ends
@pytest.mark.parametrize("reg,bias", [("l1", True), ("l2", True), ("l1", False)])
def test_solvers_agree(reg, bias):
    X, y = regression_data(3, 10, 2)
    vals = {}
    for solver in ("auto", "working_set", "cvxpy", "sklearn"):
        net = _fit_no_warning(X, y, lam=0.1, reg=reg, bias=bias, solver=solver)
        assert net.info["solver"] == ("working_set" if solver == "auto" else solver)
        assert net.relative_gap <= 1e-6
        assert net.objective(X, y) == pytest.approx(net.info["primal"], rel=1e-9)
        vals[solver] = net.info["primal"]
    ref = vals["auto"]
    for v in vals.values():
        assert v == pytest.approx(ref, rel=1e-6)


def test_solvers_agree_vector_output():
    X, _ = regression_data(3, 9, 2)
    Y = np.c_[np.sin(X[:, 0]), X[:, 1] ** 2]
    auto = _fit_no_warning(X, Y, lam=0.2)
    cvx = _fit_no_warning(X, Y, lam=0.2, solver="cvxpy")
    assert cvx.info["primal"] == pytest.approx(auto.info["primal"], rel=1e-6)
    # MultiTaskLasso's coordinate descent needs ~1.4e5 sweeps here (SklearnCD stops at 1e5): whatever
    # it returns, its certificate must be honest and a non-converged result must warn
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always", ConvergenceWarning)
        sk = wn.fit(X, Y, lam=0.2, solver="sklearn")
    assert bool(rec) == (not sk.info["converged"])
    assert sk.info["primal"] >= auto.info["primal"] * (1 - 1e-9)
    assert sk.info["primal"] - auto.info["primal"] <= sk.duality_gap + 1e-9
    assert sk.info["dual"] <= auto.info["primal"] * (1 + 1e-9)


def test_cvxpy_backend_agrees_for_logistic_and_sklearn_refuses_it():
    X, y = xor_data(0, 12)
    a = wn.fit(X, y, lam=0.5, loss="logistic")
    b = wn.fit(X, y, lam=0.5, loss="logistic", solver="cvxpy")
    assert a.info["primal"] == pytest.approx(b.info["primal"], rel=1e-6)
    for loss in ("logistic", "hinge", "softmax"):
        yy = np.arange(12) % 3 if loss == "softmax" else y
        with pytest.raises(ValueError, match="sklearn"):
            wn.fit(X, yy, lam=0.5, loss=loss, solver="sklearn")


# ------------------------------------------------------------------------- 8. fit_path
LAMS = [1.0, 0.3, 0.1, 0.03]


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_fit_path_equals_independent_fits(loss):
    if loss == "squared":
        X, y = regression_data(6, 10, 2)
    else:
        X, y = xor_data(3, 12)
    nets = wn.fit_path(X, y, LAMS, loss=loss)
    assert [n.lam for n in nets] == LAMS
    vals = [n.info["primal"] for n in nets]
    # the optimal value increases with lam
    order = np.argsort(LAMS)
    assert np.all(np.diff(np.asarray(vals)[order]) > 0)
    for lam, net in zip(LAMS, nets, strict=True):
        assert net.relative_gap <= 1e-6
        assert net.objective(X, y) == pytest.approx(net.info["primal"], rel=1e-9)
        assert net.info["primal"] == pytest.approx(wn.fit(X, y, lam=lam, loss=loss).info["primal"], rel=2e-6)
    # same values whatever the order of the path (the warm start changes nothing)
    rev = wn.fit_path(X, y, LAMS[::-1], loss=loss)
    assert [n.lam for n in rev] == LAMS[::-1]
    np.testing.assert_allclose([n.info["primal"] for n in rev][::-1], vals, rtol=2e-6)
    # shuffled input keeps its order
    shuffled = [0.1, 1.0, 0.03]
    assert [n.lam for n in wn.fit_path(X, y, shuffled, loss=loss)] == shuffled


def test_fit_path_single_lambda_equals_fit():
    X, y = regression_data(8, 9, 3)
    (net,) = wn.fit_path(X, y, [0.2], reg="l1", bias=False)
    ref = wn.fit(X, y, lam=0.2, reg="l1", bias=False)
    assert net.info["primal"] == pytest.approx(ref.info["primal"], rel=1e-7)
    np.testing.assert_allclose(net.decision_function(X), ref.decision_function(X),
                               atol=np.sqrt(2 * net.duality_gap) + np.sqrt(2 * ref.duality_gap) + 1e-9)


def test_fit_path_keeps_its_time_limit_like_fit():
    """Past ``time_limit`` every remaining lam gets one working-set iteration, and its certificate
    (with a ConvergenceWarning) says how far that is from optimal; without the limit all close."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    kw = dict(n_lams=5, max_columns=2000, random_state=0)
    with pytest.warns(ConvergenceWarning, match="stopped after 1 it"):
        cut = wn.fit_path(X, y, time_limit=1e-6, **kw)
    full = wn.fit_path(X, y, **kw)
    assert [n.lam for n in cut] == [n.lam for n in full]
    assert all(n.certificate.closed() for n in full)
    assert not all(n.certificate.closed() for n in cut)
    for a, b in zip(cut, full, strict=True):  # a one-iteration state is never below the optimum
        assert a.info["primal"] >= b.info["primal"] * (1 - 1e-9)
