"""fit_beyond: column generation with the heuristic pricer and the pricing MILP."""

import numpy as np
import pytest

import wedgenet as wn
from wedgenet.beyond import fit_beyond
from wedgenet.exact import solve_exact


def _data(seed, n, d):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=n)


@pytest.mark.parametrize("d,n", [(2, 14), (3, 12)])
def test_fit_beyond_reaches_the_exact_optimum_from_a_tiny_sample(d, n):
    X, y = _data(40 + d, n, d)
    lam = 0.2
    opt = solve_exact(X, y, lam, reg="l1", bias=True).value
    net = fit_beyond(X, y, lam=lam, max_columns=10, time_limit=60, tol=1e-7, random_state=0)
    i = net.info
    assert net.objective(X, y) == pytest.approx(opt, rel=1e-6)
    assert i["bound_lower_bound"] <= opt * (1 + 1e-9)
    assert i["bound_relative_gap"] <= 1e-6
    assert i["n_columns_added_local_search"] + i["n_columns_added_milp"] > 0
    # every neuron names samples on its breakline (its tight rows), as dictionary columns do
    for w, b, rec in zip(net.W1, net.b1, net.provenance, strict=True):
        for s in rec["samples"]:
            assert abs(w @ X[s] + b) <= 1e-8 * (np.abs(w).sum() * np.abs(X).max() + abs(b))


def test_fit_beyond_seed_network_and_save_load(tmp_path):
    X, y = _data(3, 16, 2)
    seed = wn.fit(X, y, lam=0.3, bias=True, max_columns=6, random_state=1)
    net = fit_beyond(X, y, lam=0.3, max_columns=6, time_limit=30, random_state=1, seed_network=seed)
    net2 = wn.load(net.save(tmp_path / "n.json"))
    assert net2.info["bound_relative_gap"] == net.info["bound_relative_gap"]
    np.testing.assert_allclose(net2.predict(X), net.predict(X))
    assert net.info["bound_lower_bound"] <= net.objective(X, y) * (1 + 1e-12)


def test_fit_beyond_logistic():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(16, 2))
    y = np.where(X[:, 0] ** 2 - X[:, 1] > 0, 1.0, -1.0)
    net = fit_beyond(X, y, lam=0.5, loss="logistic", max_columns=8, time_limit=30, tol=1e-6, random_state=0)
    ref = wn.fit(X, y, lam=0.5, loss="logistic", bias=True)  # every candidate
    assert net.objective(X, y) == pytest.approx(ref.objective(X, y), rel=1e-5)
    assert net.info["bound_lower_bound"] <= ref.objective(X, y) * (1 + 1e-9)


@pytest.mark.parametrize("kw", [dict(lam=0), dict(lam=-1), dict(lam=1, loss="softmax"), dict(lam=1, reg="l3"),
                                dict(lam=1, time_limit=0), dict(lam=1, max_columns=0), dict(lam=1, tol=-1),
                                dict(lam=1, seed_network="x"), dict(lam=1, seed_network=(np.ones((2, 5)), np.ones(2)))])
def test_fit_beyond_rejects_bad_arguments(kw):
    X, y = _data(1, 10, 2)
    with pytest.raises(ValueError):
        fit_beyond(X, y, **kw)


def test_fit_beyond_rejects_bad_data():
    X, y = _data(1, 10, 2)
    Xn = X.copy()
    Xn[1, 1] = np.inf
    for args in ((Xn, y), (X, y[:3]), (X[:0], y[:0]), (X, np.c_[y, y])):
        with pytest.raises(ValueError):
            fit_beyond(*args, lam=1.0)


@pytest.mark.slow
def test_fit_beyond_adam_seed():
    pytest.importorskip("torch")
    X, y = _data(6, 14, 2)
    net = fit_beyond(X, y, lam=0.3, max_columns=4, time_limit=30, tol=1e-7, random_state=0, seed_network="adam")
    opt = solve_exact(X, y, 0.3, reg="l1", bias=True).value
    assert net.objective(X, y) == pytest.approx(opt, rel=1e-6)
    with pytest.raises(ValueError):
        fit_beyond(X, y, lam=0.3, seed_network="sgd")


def test_fit_beyond_l2_brackets_the_exact_l2_optimum():
    X, y = _data(12, 10, 2)
    lam = 0.3
    opt = solve_exact(X, y, lam, reg="l2", bias=True).value
    net = fit_beyond(X, y, lam=lam, reg="l2", max_columns=10, time_limit=20, random_state=0)
    assert net.info["bound_lower_bound"] <= opt * (1 + 1e-9)
    assert net.objective(X, y) >= opt * (1 - 1e-9)
