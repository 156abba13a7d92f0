"""The certified lower bound against the exact oracle (wedgenet.exact) on small problems."""

import warnings

import numpy as np
import pytest

import wedgenet as wn
from wedgenet.beyond import Bound, lower_bound
from wedgenet.beyond.bound import scaled_dual
from wedgenet.exact import solve_exact
from wedgenet.solvers import get_loss


def _data(seed, n, d):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=n)


def _fit(X, y, lam, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return wn.fit(X, y, lam=lam, **kw)


@pytest.mark.parametrize("d,n", [(2, 12), (3, 10), (4, 8)])
@pytest.mark.parametrize("bias", [True, False])
def test_bound_below_exact_optimum_and_tight_at_optimum(d, n, bias):
    X, y = _data(20 + d, n, d)
    lam = 0.2
    opt = solve_exact(X, y, lam, reg="l1", bias=bias).value
    net = _fit(X, y, lam, bias=bias)  # every candidate: certified optimal
    b = lower_bound(net, X, y, time_limit=30)
    assert isinstance(b, Bound)
    assert b.lower_bound <= opt * (1 + 1e-9) + 1e-12
    assert b.solved_to_optimality
    assert b.upper == pytest.approx(net.objective(X, y))
    assert b.lower_bound == pytest.approx(b.upper, rel=1e-6)  # at a certified optimum the bound closes
    assert b.relative_gap <= 1e-6
    # a poor network (a few sampled columns): still a valid bound, now with a visible gap
    poor = _fit(X, y, lam, bias=bias, max_columns=4, random_state=0)
    bp = lower_bound(poor, X, y, time_limit=30)
    assert bp.lower_bound <= opt * (1 + 1e-9) + 1e-12
    assert bp.upper >= opt * (1 - 1e-9)


def test_bound_l2_below_exact_l2_optimum():
    X, y = _data(3, 10, 2)
    lam = 0.3
    opt = solve_exact(X, y, lam, reg="l2", bias=True).value
    net = _fit(X, y, lam, reg="l2", bias=True)
    b = lower_bound(net, X, y, time_limit=30)
    assert b.lower_bound <= opt * (1 + 1e-9)
    assert "p=2" in b.scope and "polytope" in b.scope
    assert b.relative_gap < 0.5  # a useful bound, if not a tight one


def test_bound_logistic_closes_at_certified_optimum():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(14, 2))
    y = np.where(X[:, 0] * X[:, 1] + 0.3 * rng.normal(size=14) > 0, 1.0, -1.0)
    net = _fit(X, y, 0.5, loss="logistic", bias=True)
    b = lower_bound(net, X, y, time_limit=30)
    assert b.lower_bound <= b.upper * (1 + 1e-12)
    assert b.relative_gap <= 1e-5


def test_scaled_dual_is_the_best_feasible_scaling():
    rng = np.random.default_rng(0)
    y = rng.normal(size=20)
    theta = y - y.mean()
    lo = get_loss("squared")
    for V in (0.5, 1.0, 3.0):
        lb = scaled_dual(lo, theta, y, V)
        grid = [lo.dual_value(s * theta, y) for s in np.linspace(0, 1 / V, 2001)]
        assert lb >= max(grid) - 1e-12
        assert lb <= max(grid) + 1e-6 * abs(max(grid))


def test_bound_info_survives_save_load(tmp_path):
    X, y = _data(2, 10, 2)
    net = _fit(X, y, 0.3, bias=True)
    b = lower_bound(net, X, y, time_limit=10)
    net.info.update(b.as_info())
    net2 = wn.load(net.save(tmp_path / "m.json"))
    assert net2.info["bound_lower_bound"] == b.lower_bound
    assert net2.info["bound_scope"] == b.scope


@pytest.mark.parametrize("bad", [dict(time_limit=0), dict(time_limit=float("nan")), dict(verbose="yes")])
def test_bound_rejects_bad_arguments(bad):
    X, y = _data(2, 10, 2)
    net = _fit(X, y, 0.3, bias=True)
    with pytest.raises(ValueError):
        lower_bound(net, X, y, **bad)


def test_bound_rejects_bad_data():
    X, y = _data(2, 10, 2)
    net = _fit(X, y, 0.3, bias=True)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    for args in ((Xn, y), (X[:, :1], y), (X, y[:5]), (X[:0], y[:0])):
        with pytest.raises(ValueError):
            lower_bound(net, *args)
