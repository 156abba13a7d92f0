"""Conformance tests driven by the loss registry: a new loss that forgets a piece fails here."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wedgenet as wn
from wedgenet.solvers.losses import LOSSES, get_loss

LOSS_NAMES = sorted(LOSSES)


def _data(loss, n=24, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    lo = get_loss(loss)
    if lo.labels == "real":
        y = np.sin(2 * X[:, 0]) + 0.3 * X[:, 1]
    elif lo.labels == "binary":
        y = np.where(X[:, 0] * X[:, 1] + 0.1 * rng.normal(size=n) > 0, "yes", "no")
    else:
        y = np.array(["a", "b", "c"])[(np.arctan2(X[:, 1], X[:, 0]) // 2.1).astype(int) % 3]
    return X, y


def _pred_and_y(lo, rng, n=7):
    if lo.labels == "real":
        return rng.normal(size=n), rng.normal(size=n)
    if lo.labels == "binary":
        return rng.normal(size=n), rng.choice([-1.0, 1.0], size=n)
    Y = np.eye(3)[rng.integers(0, 3, size=n)]
    return rng.normal(size=(n, 3)), Y


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_loss_declares_its_behaviour(name):
    lo = get_loss(name)
    assert lo.name == name
    assert lo.labels in ("real", "binary", "classes")
    assert lo.task in ("regression", "classification")
    assert lo.metric_name in ("mse", "accuracy")
    assert (lo.lipschitz is not None) == lo.smooth


@pytest.mark.parametrize("name", LOSS_NAMES)
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_fenchel_young(name, seed):
    """``-L*(-theta) <= L(p) + <theta, p>`` for any dual-feasible theta, with equality at ``theta = -grad L(p)``."""
    lo = get_loss(name)
    rng = np.random.default_rng(seed)
    p, y = _pred_and_y(lo, rng)
    theta = -lo.gradient(p, y)
    lhs = lo.dual_value(theta, y)
    rhs = lo.value(p, y) + float(np.sum(theta * p))
    if lo.smooth:
        assert lhs == pytest.approx(rhs, rel=1e-9, abs=1e-9)
    else:  # a subgradient: the inequality, with equality off the kinks
        assert lhs <= rhs + 1e-9
    # any other point of the dual domain satisfies the inequality
    other = lo.project_dual(theta * rng.uniform(0, 1, size=theta.shape), y)
    assert lo.dual_value(other, y) <= rhs - float(np.sum((theta - other) * p)) + 1e-9


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_fit_certifies_and_round_trips(name, tmp_path):
    X, y = _data(name)
    net = wn.fit(X, y, lam_ratio=0.2, loss=name, bias=True)
    cert = net.certificate
    assert cert.scope == "all_candidates" and cert.exact
    assert cert.relative_gap <= 1e-5 and cert.max_violation <= 1 + 1e-6
    assert "globally optimal" in cert.verdict()
    # the objective of the network equals the certified primal (the (lam/2) penalty, balanced)
    assert net.objective(X, y) == pytest.approx(cert.primal, rel=1e-7, abs=1e-9)
    pred = net.predict(X)
    lo = get_loss(name)
    if lo.task == "classification":
        assert set(np.unique(pred)) <= set(np.unique(y))
        assert net.classes is not None
    back = wn.load(net.save(tmp_path / "m.json"))
    assert np.array_equal(back.predict(X), pred)
    assert back.certificate == cert
    assert back.summary() == net.summary()


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_fit_matches_the_cvxpy_reference(name):
    X, y = _data(name, n=16, seed=1)
    a = wn.fit(X, y, lam_ratio=0.3, loss=name, bias=False)
    b = wn.fit(X, y, lam_ratio=0.3, loss=name, bias=False, solver="cvxpy")
    assert a.certificate.primal == pytest.approx(b.certificate.primal, rel=1e-5, abs=1e-7)


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_estimator_runs_every_loss(name):
    X, y = _data(name)
    lo = get_loss(name)
    if lo.task == "regression":
        est = wn.WedgeRegressor(lam=0.5).fit(X, y)
    else:
        est = wn.WedgeClassifier(lam=0.5, loss=name if lo.labels == "binary" or name == "softmax" else "auto")
        est.fit(X, y)
    assert np.isfinite(est.score(X, y))


def test_the_cli_lists_every_registered_loss():
    from wedgenet.cli import LOSS_NAMES

    assert set(LOSS_NAMES) == set(LOSSES)
