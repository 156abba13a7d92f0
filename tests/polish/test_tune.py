"""Tuned snaps (wedgenet.polishing.tune) and the objective shared by polishing and the convex fit."""

import numpy as np
import pytest

import wedgenet
from wedgenet.polishing import objective, tune
from wedgenet.polishing.choice import candidate_snaps, unit_activations
from wedgenet.polishing.refit import refit_output
from wedgenet.polishing.selection import prepare_samples
from wedgenet.solvers import get_loss


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_polish_objective_is_the_fit_objective(loss):
    """The objective polish reports is WedgeNetwork.objective (the (lam/2) sum of squares, same lam, L a sum),
    and at a balanced Lasso solution it is the Lasso objective: refitting the fitted network's own
    neurons gives it back, and an unbalanced copy (w * 3, a / 3: the same function) costs more before the
    refit and the same after it."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1] if loss == "squared" else np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    lam = 0.2
    net = wedgenet.fit(X, y, lam=lam, reg="l2", loss=loss)
    a = np.ravel(net.W2)
    model = [(net.W1, net.b1), (a[None, :], np.atleast_1d(np.asarray(net.b2, dtype=np.float64)))]
    _, rep = wedgenet.polish(model, X, y, loss=loss, lam=lam, layers=[], tol=1e-10, max_iter=500)
    assert rep.before["objective"] == pytest.approx(net.objective(X, y), rel=1e-10)
    assert rep.after["objective"] == pytest.approx(net.objective(X, y), rel=1e-6)
    unbalanced = [(3.0 * net.W1, 3.0 * net.b1), (a[None, :] / 3.0, model[1][1])]
    _, rep3 = wedgenet.polish(unbalanced, X, y, loss=loss, lam=lam, layers=[], tol=1e-10, max_iter=500)
    assert rep3.before["objective"] > rep.before["objective"] * (1 + 1e-3)
    assert rep3.after["objective"] == pytest.approx(rep.after["objective"], rel=1e-6)


def _pool(seed=2):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((80, 3))
    y = np.where(X[:, 0] * X[:, 1] + 0.3 * X[:, 2] > 0, 1.0, -1.0)
    W, b = rng.standard_normal((6, 3)), rng.standard_normal(6)
    loss, lam = get_loss("logistic"), 0.5
    sp = prepare_samples(X, True)
    cands = candidate_snaps(sp, W, b, p=2, normalize=False)
    Hall = np.hstack([unit_activations(X, c.W, c.b, 2) for _, c in cands])
    rr = refit_output(Hall, np.ones(Hall.shape[1]), y, lam=lam, loss=loss, intercept=True, tol=1e-10, max_iter=500)
    return X, y, W, b, loss, lam, sp, cands, Hall, rr


def test_adam_steps_lower_the_objective_and_keep_frozen_rows():
    X, y, W, b, loss, lam, *_ = _pool()
    A, t = np.full((1, 6), 0.3), np.zeros(1)

    def obj(W_, b_, A_, t_):
        f = np.maximum(X @ W_.T + b_, 0.0) @ A_[0] + t_[0]
        return loss.value(f, y) + 0.5 * lam * (np.sum(W_ * W_) + np.sum(A_ * A_))

    free = np.array([True, True, False, True, False, True])
    W2, b2, A2, t2 = tune._adam(X, W, b, A, t, free, lambda f: loss.gradient(f[:, 0], y)[:, None], lam, 2, 200, 1e-2)
    assert obj(W2, b2, A2, t2) < 0.95 * obj(W, b, A, t)
    np.testing.assert_array_equal(W2[~free], W[~free])
    np.testing.assert_array_equal(b2[~free], b[~free])
    assert np.all(np.abs(W2[free] - W[free]).sum(axis=1) > 0)


def test_tuned_snaps_are_cross_products_of_their_samples():
    """Every tuned snap passes through its d = 3 named samples (independent), it belongs to a trained
    neuron whose column the Lasso uses, and the climber's grow offers them as priced blocks."""
    X, y, W, b, loss, lam, sp, cands, Hall, rr = _pool()

    def grad(f):
        return loss.gradient(f[:, 0], y)[:, None]

    found = tune.tuned_snaps(X, sp, Hall, rr.zeta, rr.intercept, cands, 6, lam=lam, p=2, normalize=False, grad=grad)
    used = {int(c) % 6 for c in np.flatnonzero(rr.zeta)}
    assert found and set(found) <= used
    Xa = np.c_[X, np.ones(len(X))]
    for rows in found.values():
        for name, r in rows:
            assert name.startswith("tuned ")
            wa = np.r_[r["W"], r["b"]]
            assert np.linalg.matrix_rank(Xa[r["samples"]]) == 3
            assert np.abs(Xa[r["samples"]] @ wa).max() < 1e-9 * np.linalg.norm(wa) * np.abs(Xa).max()

    def grad_curv(f):
        return loss.gradient(f[:, 0], y)[:, None], np.full(f.shape, 0.25)

    ctx = objective.ObjectiveContext(net=None, X=X, p=2, bias=None, rank=None, normalize=False, lam=lam, budget=None,
                                     finish=None, grad_curv=grad_curv, union_refit=None)
    f = Hall @ rr.zeta + rr.intercept
    G, h = grad_curv(f[:, None])
    grow = objective._climber(ctx, X, sp, W, b, np.maximum(X @ W.T + b, 0.0), np.ones((1, 6)), G, h, 1.0, 6)
    blocks = [blk for blk in grow(Hall, rr.zeta, {"intercept": float(rr.intercept)}, cands) if blk[0] == "tuned snap"]
    assert blocks
    for _, lp, U, pr in blocks:
        np.testing.assert_allclose(U, unit_activations(X, lp.W, lp.b, 2), rtol=1e-12, atol=1e-14)
        assert pr.shape == (6,) and np.all(pr >= 0)
