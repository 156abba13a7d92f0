"""wedgenet.fit against the exact arrangement program: objective values, balancing, Thm 1, p=2 sandwich, depth 3.

The network objective is the NON-convex ``L(f(X), y) + (lam/2) sum_j (||w_j||_p^2 + a_j^2)``
(docs/conventions.md#objective); the convex one is the Lasso ``L(K z + 1 t, y) + lam ||z||_1``.
"""

from __future__ import annotations

import numpy as np
import pytest
from _refs import lasso_reference, network_objective_np, regression_data

import wedgenet as wn
from wedgenet.dictionaries import max_chamber_diameter
from wedgenet.exact import solve_exact


def _lam(X, y, frac):
    return frac * float(np.abs(X.T @ (y - y.mean())).max())


# ------------------------------------------------------------------------- 1. p=1 objective equality
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("d,n", [(2, 7), (3, 6)])
@pytest.mark.parametrize("frac", [0.03, 0.3])
def test_p1_network_objective_equals_lasso_and_exact_optimum(bias, d, n, frac):
    X, y = regression_data(d, n, d)
    lam = _lam(X, y, frac)
    net = wn.fit(X, y, lam=lam, reg="l1", bias=bias)
    obj = net.objective(X, y)
    # the non-convex objective of the returned network equals the convex Lasso value ...
    assert obj == pytest.approx(net.info["primal"], rel=1e-9)
    # ... recomputed independently from the weights ...
    b2 = float(net.b2)
    assert network_objective_np(X, y, net.W1, net.b1, net.W2, b2, lam, "l1") == pytest.approx(obj, rel=1e-12)
    # ... and is the global optimum of the network problem (p=1 is exact)
    exact = solve_exact(X, y, lam, reg="l1", bias=bias).value
    assert obj == pytest.approx(exact, rel=1e-6)
    assert net.exact
    # balancing (docs/conventions.md#objective, #g5): ||w_j||_1 == |a_j| for every neuron
    assert net.n_neurons >= 1
    np.testing.assert_allclose(np.abs(net.W1).sum(axis=1), np.abs(net.W2), rtol=1e-12)
    if not bias:  # no hidden biases and no intercept
        assert np.all(net.b1 == 0) and b2 == 0.0


@pytest.mark.parametrize("bias", [False, True])
def test_p2_network_objective_equals_lasso_and_is_balanced(bias):
    X, y = regression_data(5, 8, 2)
    lam = _lam(X, y, 0.05)
    net = wn.fit(X, y, lam=lam, reg="l2", bias=bias)
    assert net.objective(X, y) == pytest.approx(net.info["primal"], rel=1e-9)
    np.testing.assert_allclose(np.linalg.norm(net.W1, axis=1), np.abs(net.W2), rtol=1e-12)
    # the wedge l2 value is an upper bound on the true (exact program) optimum
    assert net.info["primal"] >= solve_exact(X, y, lam, reg="l2", bias=bias).value * (1 - 1e-7)


def test_objective_is_the_lam_over_2_convention():
    # erratum G1: the network penalty is (lam/2)(||w||^2 + a^2); at balance it equals lam ||z||_1
    X, y = regression_data(0, 7, 2)
    lam = 0.2
    net = wn.fit(X, y, lam=lam, reg="l1", bias=True)
    loss = 0.5 * np.sum((net.decision_function(X) - y) ** 2)
    half = 0.5 * lam * np.sum(np.abs(net.W1).sum(axis=1) ** 2 + net.W2**2)
    lasso_pen = lam * np.sum(np.abs(net.W2) * np.abs(net.W1).sum(axis=1))  # lam sum |z_j|
    assert net.objective(X, y) == pytest.approx(loss + half, rel=1e-12)
    assert half == pytest.approx(lasso_pen, rel=1e-12)
    assert net.info["primal"] == pytest.approx(loss + lasso_pen, rel=1e-9)
    assert half > 1e-3  # the paper's lam (no 1/2) would be off by `half`
    assert abs(net.info["primal"] - (loss + 2 * half)) > 1e-3


# ------------------------------------------------------------------------- 3. Thm 1, d = 1, intercept
X1 = np.linspace(-2, 2, 5)[:, None]
Y1 = np.array([1.0, -1.0, 1.0, 1.0, -1.0])  # the Pilanci-Ergen 1-D toy


@pytest.mark.parametrize("reg", ["l1", "l2"])
@pytest.mark.parametrize("lam", [0.01, 0.3])
def test_thm1_one_dimensional_fit_is_exact_with_intercept(reg, lam):
    net = wn.fit(X1, Y1, lam=lam, reg=reg, bias=True)
    assert net.exact and net.info["theorem"] == "Thm 1"
    exact = solve_exact(X1, Y1, lam, reg=reg, bias=True).value
    assert net.objective(X1, Y1) == pytest.approx(exact, rel=1e-6)
    assert net.info["primal"] == pytest.approx(exact, rel=1e-6)
    # breakpoints -b/w of every neuron lie at training samples
    assert net.n_neurons >= 1
    brk = -net.b1 / net.W1[:, 0]
    assert np.all(np.min(np.abs(brk[:, None] - X1[:, 0][None, :]), axis=1) <= 1e-9)
    for nu in net.neurons:
        assert len(nu.samples) == 1 and -nu.bias / nu.weight[0] == pytest.approx(X1[nu.samples[0], 0], abs=1e-9)
    # the network has a free, unpenalised intercept (erratum G4): shifting y shifts only t
    assert net.bias and isinstance(net.b2, float)
    shifted = wn.fit(X1, Y1 + 5.0, lam=lam, reg=reg, bias=True)
    assert shifted.objective(X1, Y1 + 5.0) == pytest.approx(net.objective(X1, Y1), rel=1e-7)
    # predictions are unique at the optimum (0.5||p - p*||^2 <= duality gap)
    atol = np.sqrt(2 * shifted.duality_gap) + np.sqrt(2 * net.duality_gap) + 1e-9
    np.testing.assert_allclose(shifted.decision_function(X1), net.decision_function(X1) + 5.0, atol=atol)
    # without the intercept the same dictionary is strictly worse on the shifted targets
    K = wn.dictionary(X1, reg=reg, bias=True).K
    assert lasso_reference(K, Y1 + 5.0, lam, intercept=False) > exact * (1 + 1e-3)


# ------------------------------------------------------------------------- 4. p=2 sandwich
def _lines_data():
    ang = np.arange(8) * (np.pi / 4) + 0.1 * np.arange(8)
    X = np.c_[np.cos(ang), np.sin(ang)] * np.random.default_rng(3).uniform(0.5, 2.0, (8, 1))
    return X, np.cos(3 * ang)


def _octagon_data():
    t = np.linspace(0, 2 * np.pi, 9)[:-1]
    return np.c_[np.cos(t), np.sin(t)], np.sign(np.sin(2 * t) + 0.1)


@pytest.mark.parametrize("bias,data", [(False, _lines_data), (True, _octagon_data)])
@pytest.mark.parametrize("lam", [0.05, 0.5])
def test_p2_sandwich(bias, data, lam):
    X, y = data()
    eps = max_chamber_diameter(X, bias=bias)
    assert 0 < eps < 1
    net = wn.fit(X, y, lam=lam, reg="l2", bias=bias)
    assert not net.exact
    exact = solve_exact(X, y, lam, reg="l2", bias=bias).value
    value = net.objective(X, y)
    assert value == pytest.approx(net.info["primal"], rel=1e-9)
    assert exact * (1 - 1e-7) <= value <= exact / (1 - eps) * (1 + 1e-7)


# ------------------------------------------------------------------------- 12. depth 3
@pytest.mark.parametrize("bias", [False, True])
def test_depth3_fit_objective_equals_primal_and_reference(bias):
    torch = pytest.importorskip("torch")
    X, y = regression_data(11, 6, 2)
    lam = 0.2
    net = wn.fit(X, y, lam=lam, depth=3, bias=bias)
    assert net.depth == 3 and net.n_neurons >= 1
    assert net.objective(X, y) == pytest.approx(net.info["primal"], rel=1e-9)
    D = wn.dictionary(X, reg="l1", bias=bias, depth=3)
    assert net.info["primal"] == pytest.approx(lasso_reference(D.K, y, lam, intercept=D.fit_intercept), rel=1e-6)
    # depth-3 units are (s ((w.x + b)_+ - thr))_+ : the manual formula
    H = np.maximum(net.outer_sign * (np.maximum(X @ net.W1.T + net.b1, 0.0) - net.thresholds), 0.0)
    np.testing.assert_allclose(net.decision_function(X), H @ net.W2 + net.b2, rtol=1e-13, atol=1e-13)
    assert set(np.unique(net.outer_sign)) <= {-1.0, 1.0}
    Xn = np.random.default_rng(0).standard_normal((25, 2))
    with torch.no_grad():
        out = net.to_torch()(torch.from_numpy(Xn)).numpy()
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, net.decision_function(Xn), rtol=1e-12, atol=1e-12)
