"""The Lasso over the wedge dictionaries against the exact arrangement program (independent oracle).

p=1 (Thm 2, 4, 16): equal to 1e-6 relative.  p=2 (Thm 3, 5, 15, 17): the wedge value lies
between the exact optimum and ``1/(1-eps)`` times it, ``eps`` the maximum chamber diameter.
"""

from __future__ import annotations

import numpy as np
import pytest
from _lasso import lasso_value

import wedgenet as wn
from wedgenet.dictionaries import max_chamber_diameter
from wedgenet.exact import solve_exact


def _data(seed: int, n: int, d: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sin(2 * X[:, 0]) + 0.5 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("d,n", [(2, 7), (3, 6)])
@pytest.mark.parametrize("seed", [0, 1])
def test_l1_lasso_equals_exact_program(bias, d, n, seed):
    X, y = _data(seed, n, d)
    lam = 0.1 * float(np.abs(X.T @ y).max())
    D = wn.dictionary(X, reg="l1", bias=bias)
    assert D.exact
    wedge = lasso_value(D.K, y, lam, intercept=D.fit_intercept)
    exact = solve_exact(X, y, lam, reg="l1", bias=bias).value
    assert wedge == pytest.approx(exact, rel=1e-6)


@pytest.mark.parametrize("bias", [False, True])
def test_l1_exact_on_rank_deficient_data_without_row_space_restriction(bias):
    # rank 2 in R^3: the l1 dictionary is built in R^3 with e_k (restricting l1 neurons to the
    # row space can raise their l1 norm, so the conventions' Lemma 23 reduction is used for p=2 only)
    rng = np.random.default_rng(3)
    X = rng.standard_normal((6, 2)) @ np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0]])
    y = rng.standard_normal(6)
    lam = 0.2
    D = wn.dictionary(X, reg="l1", bias=bias)
    wedge = lasso_value(D.K, y, lam, intercept=D.fit_intercept)
    exact = solve_exact(X, y, lam, reg="l1", bias=bias).value
    assert wedge == pytest.approx(exact, rel=1e-6)


def test_l1_exact_with_duplicate_and_collinear_samples():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [1.0, 1.0], [0.0, 1.0], [2.0, -1.0]])
    y = np.array([0.0, 1.0, -1.0, 0.5, 2.0, 1.0])
    for bias in (False, True):
        D = wn.dictionary(X, reg="l1", bias=bias)
        wedge = lasso_value(D.K, y, 0.3, intercept=D.fit_intercept)
        assert wedge == pytest.approx(solve_exact(X, y, 0.3, reg="l1", bias=bias).value, rel=1e-6)


@pytest.mark.parametrize("reg", ["l1", "l2"])
def test_one_dimensional_theorem_1_is_exact_for_any_p(reg):
    X = np.linspace(-2, 2, 5)[:, None]
    y = np.array([1.0, -1.0, 1.0, 1.0, -1.0])  # the Pilanci-Ergen 1-D toy
    D = wn.dictionary(X, reg=reg, bias=True)
    assert D.exact and D.theorem == "Thm 1" and D.fit_intercept
    for lam in (0.01, 0.3):
        wedge = lasso_value(D.K, y, lam, intercept=True)
        assert wedge == pytest.approx(solve_exact(X, y, lam, reg=reg, bias=True).value, rel=1e-6)


def test_one_orientation_is_not_enough():
    # docs/conventions.md#g3: dropping the '-' orientation makes the Lasso inexact on this instance
    X, y = _data(0, 7, 2)
    lam = 0.05
    D = wn.dictionary(X, reg="l1", bias=False)
    plus = np.array([r.orientation > 0 for r in D.provenance])
    exact = solve_exact(X, y, lam, reg="l1", bias=False).value
    assert lasso_value(D.K[:, plus], y, lam, intercept=False) > exact * (1 + 1e-3)


def test_l2_sandwich_without_bias():
    ang = np.arange(8) * (np.pi / 4) + 0.1 * np.arange(8)  # lines ~pi/8 apart: eps ~ 0.45
    X = np.c_[np.cos(ang), np.sin(ang)] * np.random.default_rng(3).uniform(0.5, 2.0, (8, 1))
    y = np.cos(3 * ang)
    eps = max_chamber_diameter(X)
    assert eps < 1
    for lam in (0.05, 0.5):
        D = wn.dictionary(X, reg="l2", bias=False)
        assert not D.exact
        wedge = lasso_value(D.K, y, lam, intercept=False)
        exact = solve_exact(X, y, lam, reg="l2", bias=False).value
        assert exact * (1 - 1e-7) <= wedge <= exact / (1 - eps) * (1 + 1e-7)


def test_l2_sandwich_with_bias():
    t = np.linspace(0, 2 * np.pi, 9)[:-1]
    X = np.c_[np.cos(t), np.sin(t)]
    y = np.sign(np.sin(2 * t) + 0.1)
    eps = max_chamber_diameter(X, bias=True)
    D = wn.dictionary(X, reg="l2", bias=True)
    for lam in (0.05, 0.5):
        wedge = lasso_value(D.K, y, lam, intercept=True)
        exact = solve_exact(X, y, lam, reg="l2", bias=True).value
        assert exact * (1 - 1e-7) <= wedge
        if eps < 1:
            assert wedge <= exact / (1 - eps) * (1 + 1e-7)
        else:  # the bound is vacuous here; the gap is still small in practice
            assert wedge <= 1.5 * exact
