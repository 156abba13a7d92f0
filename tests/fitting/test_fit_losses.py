"""Losses against independent references on the full dictionary K.

cvxpy + Clarabel written here (not wedgenet's loss classes), and scikit-learn where it solves the
same problem: ``LogisticRegression`` with an l1 penalty minimises ``C sum logloss + ||w||_1``,
i.e. ``C = 1/lam``; ``Lasso`` minimises ``(1/2n)||r||^2 + alpha ||w||_1``, i.e. ``alpha = lam/n``.
(``LinearSVC`` uses the squared hinge, a different loss, so hinge is checked against cvxpy only.)
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from _refs import lasso_objective, lasso_reference, loss_value, regression_data, xor_data
from sklearn.linear_model import Lasso, LogisticRegression

import wedgenet as wn


def _check_net_value(net, X, y, loss):
    """The network's own objective equals the reported convex value and the loss recomputed here."""
    f = net.decision_function(X)
    assert net.objective(X, y) == pytest.approx(net.info["primal"], rel=1e-9)
    p = 1 if net.reg == "l1" else 2
    wn_ = np.linalg.norm(net.W1, ord=p, axis=1)
    an = np.abs(net.W2) if net.W2.ndim == 1 else np.linalg.norm(net.W2, axis=1)
    manual = loss_value(loss, f, y) + 0.5 * net.lam * np.sum(wn_**2 + an**2)
    assert manual == pytest.approx(net.info["primal"], rel=1e-9)
    np.testing.assert_allclose(wn_, an, rtol=1e-10)  # balanced


# (reg="l2", lam=1.0) stops at a 1.3e-6 gap: see test_logistic_l2_converges_at_default_tol_known_limitation
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("reg", ["l1", "l2"])
@pytest.mark.parametrize("lam", [0.1, 1.0])
def test_logistic_matches_cvxpy_and_sklearn(reg, lam):
    X, y = xor_data(0, 16)
    net = wn.fit(X, y, lam=lam, loss="logistic", reg=reg, bias=True)
    _check_net_value(net, X, y, "logistic")
    K = wn.dictionary(X, reg=reg, bias=True).K
    ref = lasso_reference(K, y, lam, loss="logistic", intercept=True)
    assert net.info["primal"] == pytest.approx(ref, rel=1e-5)
    # liblinear penalises the intercept as a feature of value intercept_scaling: make it negligible
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = LogisticRegression(C=1.0 / lam, l1_ratio=1.0, solver="liblinear", intercept_scaling=1e4, tol=1e-12,
                               max_iter=100_000).fit(K, y)
    sk = lasso_objective(K, y, lam, m.coef_[0], float(m.intercept_[0]), "logistic")
    assert net.info["primal"] == pytest.approx(sk, rel=1e-4)
    # sklearn's point is feasible: ours is no worse than it by more than our certified duality gap
    assert net.info["primal"] <= sk * (1 + 1e-9) + net.duality_gap
    # predictions: labels are signs of the decision function
    np.testing.assert_array_equal(net.predict(X), np.where(net.decision_function(X) >= 0, 1.0, -1.0))


@pytest.mark.parametrize("reg", ["l1", "l2"])
@pytest.mark.parametrize("lam", [0.1, 1.0])
def test_hinge_matches_cvxpy(reg, lam):
    X, y = xor_data(1, 16)
    net = wn.fit(X, y, lam=lam, loss="hinge", reg=reg, bias=True)
    _check_net_value(net, X, y, "hinge")
    K = wn.dictionary(X, reg=reg, bias=True).K
    assert net.info["primal"] == pytest.approx(lasso_reference(K, y, lam, loss="hinge", intercept=True), rel=1e-6)


@pytest.mark.parametrize("reg,bias", [("l1", True), ("l1", False), ("l2", True)])
def test_squared_matches_sklearn_lasso_and_cvxpy(reg, bias):
    X, y = regression_data(4, 12, 2)
    n = X.shape[0]
    lam = 0.1
    net = wn.fit(X, y, lam=lam, reg=reg, bias=bias)
    _check_net_value(net, X, y, "squared")
    K = wn.dictionary(X, reg=reg, bias=bias).K
    m = Lasso(alpha=lam / n, fit_intercept=bias, tol=1e-14, max_iter=1_000_000).fit(K, y)
    sk = lasso_objective(K, y, lam, m.coef_, float(m.intercept_) if bias else 0.0)
    assert net.info["primal"] == pytest.approx(sk, rel=1e-6)
    assert net.info["primal"] == pytest.approx(lasso_reference(K, y, lam, intercept=bias), rel=1e-7)


# ------------------------------------------------------------------------- 6. vector output (Thm 14)
@pytest.mark.parametrize("bias", [False, True])
def test_vector_squared_matches_group_lasso(bias):
    X, _ = regression_data(2, 9, 2)
    Y = np.c_[np.sin(2 * X[:, 0]), np.cos(X[:, 1]) + X[:, 0]]
    lam = 0.3
    net = wn.fit(X, Y, lam=lam, bias=bias)
    assert net.W2.shape == (net.n_neurons, 2) and np.shape(net.b2) == (2,)
    assert net.decision_function(X).shape == (9, 2)
    _check_net_value(net, X, Y, "squared")
    K = wn.dictionary(X, reg="l1", bias=bias).K
    assert net.info["primal"] == pytest.approx(lasso_reference(K, Y, lam, intercept=bias), rel=1e-7)
    # group penalty, not the sum of two scalar Lassos (which is never smaller)
    sep = sum(wn.fit(X, Y[:, k], lam=lam, bias=bias).info["primal"] for k in range(2))
    assert net.info["primal"] <= sep * (1 + 1e-9)


def test_softmax_three_classes_matches_cvxpy():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((12, 2))
    y = np.argmax(np.c_[X[:, 0], X[:, 1], -X[:, 0] - X[:, 1]] + 0.3 * rng.standard_normal((12, 3)), axis=1)
    assert set(y) == {0, 1, 2}
    lam = 0.3
    net = wn.fit(X, y, lam=lam, loss="softmax", bias=True)
    assert net.W2.shape == (net.n_neurons, 3)
    _check_net_value(net, X, y, "softmax")
    K = wn.dictionary(X, reg="l1", bias=True).K
    assert net.info["primal"] == pytest.approx(lasso_reference(K, y, lam, loss="softmax"), rel=1e-5)
    np.testing.assert_array_equal(net.predict(X), np.argmax(net.decision_function(X), axis=1))
    # the one-hot encoding of the same labels gives the same fit
    Y = np.eye(3)[y]
    assert wn.fit(X, Y, lam=lam, loss="softmax", bias=True).info["primal"] == pytest.approx(net.info["primal"],
                                                                                           rel=1e-7)
