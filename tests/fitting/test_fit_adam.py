"""Global optimality: no Adam run on the non-convex network gets below the certified optimum.

Same objective ``0.5||f(X)-y||^2 + (lam/2) sum_j (||w_j||_p^2 + a_j^2)`` (hidden biases and
intercept free), wider networks than the convex solution, 20 random initialisations, and the
minimum over every point of every trajectory.  For ``l1`` the wedge value is the optimum; for
``l2`` the true optimum is the exact arrangement program (the wedge value is an upper bound).
"""

from __future__ import annotations

import numpy as np
import pytest
from _refs import adam_best_objectives

import wedgenet as wn
from wedgenet.exact import solve_exact

pytest.importorskip("torch")


def _tiny(seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((6, 2)), rng.standard_normal(6)


@pytest.mark.parametrize("data_seed", [0, 2])
@pytest.mark.parametrize("reg", ["l1", "l2"])
def test_adam_never_beats_the_certified_optimum(reg, data_seed):
    X, y = _tiny(data_seed)
    lam = 0.1
    net = wn.fit(X, y, lam=lam, reg=reg, bias=True)
    exact = solve_exact(X, y, lam, reg=reg, bias=True)
    wedge = net.objective(X, y)
    if reg == "l1":
        assert wedge == pytest.approx(exact.value, rel=1e-6)
        optimum = wedge
    else:
        assert wedge >= exact.value * (1 - 1e-7)  # the wedge l2 value only bounds the optimum above
        optimum = exact.value
    # the exact program's own network attains its value (so `optimum` is achievable)
    assert exact.objective(X, y) == pytest.approx(exact.value, rel=1e-6)
    width = max(16, net.n_neurons, exact.n_neurons)
    best = adam_best_objectives(X, y, lam, reg, width=width, n_init=20, steps=3000, seed=1)
    assert np.all(np.isfinite(best))
    assert best.min() >= optimum * (1 - 1e-6), (best.min(), optimum)
    # not vacuous: Adam does reach the optimum's neighbourhood
    assert best.min() <= optimum * (1 + 1e-2), (best.min(), optimum)


def test_wedge_l2_value_bounds_exact_l2_from_above():
    for seed in range(3):
        X, y = _tiny(seed)
        for lam in (0.03, 0.3):
            wedge = wn.fit(X, y, lam=lam, reg="l2", bias=True).info["primal"]
            assert wedge >= solve_exact(X, y, lam, reg="l2", bias=True).value * (1 - 1e-7)
