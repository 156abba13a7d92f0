"""Tests for wedgenet.exact: complete activation patterns and the exact convex program (eq. 8)."""

from __future__ import annotations

import dataclasses
from math import comb

import cvxpy as cp
import numpy as np
import pytest
from scipy.optimize import linprog, minimize

from wedgenet.exact import (
    ExactResult,
    activation_patterns,
    max_pattern_count,
    network_objective,
    network_predict,
    solve_exact,
)


def _aug(X, bias):
    return np.hstack([X, np.ones((X.shape[0], 1))]) if bias else X


def _codes(P):
    """Encode bool rows as Python ints (fast set comparisons)."""
    w = 1 << np.arange(P.shape[1], dtype=object)
    return {int(v) for v in (P.astype(object) @ w)}


def _sampled(A, rng, n_dirs=200_000):
    U = rng.standard_normal((n_dirs, A.shape[1]))
    P = (U @ A.T) >= 0
    codes = (P.astype(np.int64) << np.arange(A.shape[0], dtype=np.int64)).sum(axis=1)
    codes = np.unique(codes)
    return {int(c) for c in codes if c != 0}


def _realizable(A, p):
    """Strict feasibility of the chamber: sign_i a_i . u >= 1 for the nonzero rows."""
    nz = np.linalg.norm(A, axis=1) > 0
    if not nz.any():
        return bool(p.all())
    s = np.where(p, 1.0, -1.0)[nz]
    res = linprog(
        np.zeros(A.shape[1]),
        A_ub=-(s[:, None] * A[nz]),
        b_ub=-np.ones(int(nz.sum())),
        bounds=[(None, None)] * A.shape[1],
        method="highs",
    )
    return res.status == 0


# ----------------------------------------------------------------------------- pattern counting


def test_max_pattern_count_values():
    assert max_pattern_count(1, 1) == 2
    assert max_pattern_count(5, 1) == 2
    assert max_pattern_count(5, 2) == 10  # 2n lines through the origin in the plane
    assert max_pattern_count(4, 4) == 16  # 2^n when r = n
    assert max_pattern_count(10, 3) == 2 * (1 + 9 + 36)
    assert max_pattern_count(3, 0) == 1
    with pytest.raises(ValueError, match="r"):
        max_pattern_count(2, 3)
    with pytest.raises(ValueError, match="n"):
        max_pattern_count(-1, 0)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("d", [1, 2, 3])
def test_patterns_complete_random(d, bias):
    rng = np.random.default_rng(100 * d + bias)
    for n in range(1, 9):
        X = rng.standard_normal((n, d))
        A = _aug(X, bias)
        P = activation_patterns(X, bias=bias)
        assert P.dtype == np.bool_ and P.shape[1] == n
        assert not (~P).all(axis=1).any(), "all-zero pattern must be dropped"
        mine = _codes(P)
        assert len(mine) == P.shape[0], "patterns must be distinct"
        assert _sampled(A, rng) <= mine, f"missed a sampled pattern (n={n}, d={d}, bias={bias})"
        # general position: the count is 2 sum_{k<r} C(n-1, k), r = rank(A) (A = [X, 1] with bias);
        # the all-zero chamber (antipode of the all-ones one) is not returned
        r = np.linalg.matrix_rank(A)
        n_chambers = P.shape[0] + int(P.all(axis=1).any())
        assert n_chambers == max_pattern_count(n, r) == 2 * sum(comb(n - 1, k) for k in range(r))


def test_affine_count_d1_is_2n():
    # with bias in d=1 the patterns are the 2n-1 nonzero threshold sets 1[x >= c] and 1[x <= c]
    X = np.array([[0.3], [-1.2], [2.0], [0.9], [-0.1]])
    P = activation_patterns(X, bias=True)
    assert P.shape[0] == 2 * 5 - 1
    order = np.argsort(X[:, 0])
    for p in P:
        s = p[order]
        assert np.all(np.diff(s.astype(int)) >= 0) or np.all(np.diff(s.astype(int)) <= 0)


def test_patterns_sound_and_deterministic():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((7, 2))
    P = activation_patterns(X, bias=True)
    A = _aug(X, True)
    assert all(_realizable(A, p) for p in P)
    P2 = activation_patterns(X.copy(), bias=True)
    np.testing.assert_array_equal(P, P2)
    assert [tuple(p) for p in P] == sorted(tuple(p) for p in P)


DEGENERATE = {
    "rank2_in_R3": (lambda rng: rng.standard_normal((7, 2)) @ rng.standard_normal((2, 3)), False),
    "rank2_in_R3_bias": (lambda rng: rng.standard_normal((7, 2)) @ rng.standard_normal((2, 3)), True),
    "duplicates_bias": (lambda rng: np.repeat(rng.standard_normal((4, 3)), 2, axis=0), True),
    "grid3x3_bias": (lambda rng: np.array([[i, j] for i in range(3) for j in range(3)], float), True),
    "cube_bias": (
        lambda rng: np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)], float),
        True,
    ),
    "parallel_zero_rows": (
        lambda rng: np.vstack([np.eye(3), -np.eye(3), np.zeros((1, 3)), [[1, 1, 0]], [[2, 2, 0]]]),
        False,
    ),
    "d1_duplicates_bias": (lambda rng: np.array([[0.0], [1], [1], [2], [-1]]), True),
    "all_zero": (lambda rng: np.zeros((3, 2)), False),
}


@pytest.mark.parametrize("name", sorted(DEGENERATE))
def test_patterns_degenerate(name):
    rng = np.random.default_rng(7)
    make, bias = DEGENERATE[name]
    X = make(rng)
    A = _aug(X, bias)
    P = activation_patterns(X, bias=bias)
    mine = _codes(P)
    assert _sampled(A, rng) <= mine
    assert all(_realizable(A, p) for p in P)
    r = np.linalg.matrix_rank(A)
    assert P.shape[0] <= max(max_pattern_count(X.shape[0], r), 1)


def test_rank_deficient_count_matches_row_space():
    rng = np.random.default_rng(11)
    Z = rng.standard_normal((9, 2))
    X = Z @ rng.standard_normal((2, 3))  # rank 2 in R^3, general position in its plane
    P = activation_patterns(X)
    assert P.shape[0] + int(P.all(axis=1).any()) == max_pattern_count(9, 2) == 18
    np.testing.assert_array_equal(P, activation_patterns(Z))


def test_duplicate_rows_copy_columns():
    rng = np.random.default_rng(12)
    X0 = rng.standard_normal((5, 2))
    idx = np.array([0, 1, 1, 2, 3, 4, 4, 4])
    P0 = activation_patterns(X0, bias=True)
    P = activation_patterns(X0[idx], bias=True)
    assert _codes(P) == _codes(P0[:, idx])


def test_max_patterns_guard():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    with pytest.raises(ValueError, match=r"max_patterns.*68560"):
        activation_patterns(X, bias=True)
    with pytest.raises(ValueError, match="max_patterns"):
        solve_exact(X, rng.standard_normal(60), 1.0, bias=True, max_patterns=100)


# ----------------------------------------------------------------------------- the program


def _data(seed, n=8, d=2):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.standard_normal(n)


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("reg", ["l1", "l2"])
@pytest.mark.parametrize("d", [2, 3])
def test_reconstruction_matches_value(reg, bias, d):
    X, y = _data(20 + d, n=9, d=d)
    for lam in (0.02, 0.3):
        res = solve_exact(X, y, lam, reg=reg, bias=bias)
        assert res.solver_status == "optimal"
        assert res.n_patterns == res.patterns.shape[0] > 0
        assert res.W1.shape == (res.n_neurons, d) and res.b1.shape == res.W2.shape == (res.n_neurons,)
        obj = res.objective(X, y)
        assert obj == pytest.approx(res.value, rel=1e-6)
        assert network_objective(X, y, res.W1, res.b1, res.W2, res.b2, lam, reg) == obj
        if not bias:
            assert res.b2 == 0.0 and np.all(res.b1 == 0.0)
        # neurons are balanced: ||w_j||_p = |a_j|
        wn = np.abs(res.W1).sum(1) if reg == "l1" else np.linalg.norm(res.W1, axis=1)
        np.testing.assert_allclose(wn, np.abs(res.W2), rtol=1e-9)
        # the value is below 0.5||y||^2 (or 0.5||y - mean||^2), the zero network
        base = 0.5 * np.sum((y - (y.mean() if bias else 0.0)) ** 2)
        assert res.value < base


def test_sampled_patterns_give_upper_bound():
    X, y = _data(5, n=8, d=2)
    full = solve_exact(X, y, 0.05, reg="l2", bias=True)
    sub = solve_exact(X, y, 0.05, reg="l2", bias=True, patterns=full.patterns[::3])
    assert sub.value >= full.value * (1 - 1e-8)
    assert sub.objective(X, y) == pytest.approx(sub.value, rel=1e-6)
    # 0/1 ints are accepted as patterns
    same = solve_exact(X, y, 0.05, reg="l2", bias=True, patterns=full.patterns.astype(int))
    assert same.value == pytest.approx(full.value, rel=1e-7)


def test_l2_rotation_and_rank_reduction_invariance():
    # for p=2 the problem is invariant under rotations of the inputs, and a rank-2 design embedded
    # in R^3 has the same optimum as its 2-D coordinates
    rng = np.random.default_rng(8)
    Z = rng.standard_normal((8, 2))
    y = rng.standard_normal(8)
    Q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    X = Z @ Q[:2]  # rank 2, orthonormal embedding
    X = np.vstack([X, X[:2]])  # duplicate rows too
    y2 = np.concatenate([y, y[:2]])
    Z2 = np.vstack([Z, Z[:2]])
    for bias in (False, True):
        a = solve_exact(Z2, y2, 0.1, reg="l2", bias=bias)
        b = solve_exact(X, y2, 0.1, reg="l2", bias=bias)
        assert b.value == pytest.approx(a.value, rel=1e-7)
        assert b.objective(X, y2) == pytest.approx(b.value, rel=1e-6)


def test_rank_deficient_l1_works():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((8, 2)) @ rng.standard_normal((2, 3))
    X = np.vstack([X, X[:3]])
    y = rng.standard_normal(11)
    for bias in (False, True):
        res = solve_exact(X, y, 0.1, reg="l1", bias=bias)
        assert res.objective(X, y) == pytest.approx(res.value, rel=1e-6)


def _lasso_1d(x, y, lam):
    """Independent 1-D check (conventions.md, Thm 1): Lasso over (x - x_j)_+, (x_j - x)_+ and intercept."""
    K = np.hstack([np.maximum(x[:, None] - x[None, :], 0), np.maximum(x[None, :] - x[:, None], 0)])
    z, t = cp.Variable(K.shape[1]), cp.Variable()
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(K @ z + t - y) + lam * cp.norm1(z)))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    return prob.value


def _local_search(x, y, lam, width, rng):
    m = width

    def fg(th):
        w, b, a, t = th[:m], th[m : 2 * m], th[2 * m : 3 * m], th[3 * m]
        z = np.outer(x, w) + b
        act = np.maximum(z, 0)
        r = act @ a + t - y
        f = 0.5 * r @ r + 0.5 * lam * (w @ w + a @ a)
        g_act = np.outer(r, a) * (z > 0)
        g = np.concatenate([g_act.T @ x + lam * w, g_act.sum(0), act.T @ r + lam * a, [r.sum()]])
        return f, g

    th0 = np.concatenate([rng.standard_normal(3 * m), [0.0]])
    out = minimize(fg, th0, jac=True, method="L-BFGS-B", options={"maxiter": 5000, "gtol": 1e-10})
    w, b, a, t = out.x[:m], out.x[m : 2 * m], out.x[2 * m : 3 * m], out.x[3 * m]
    return network_objective(x[:, None], y, w[:, None], b, a, t, lam, "l2")


def test_1d_against_lasso_and_local_search():
    rng = np.random.default_rng(4)
    x = np.sort(rng.uniform(-2, 2, 10))
    y = np.maximum(x, 0) - 0.5 * np.maximum(-x - 0.5, 0) + 0.05 * rng.standard_normal(10)
    lam = 0.1
    for reg in ("l1", "l2"):  # identical in d=1
        res = solve_exact(x[:, None], y, lam, reg=reg, bias=True)
        assert res.value == pytest.approx(_lasso_1d(x, y, lam), rel=1e-7)
        assert res.objective(x[:, None], y) == pytest.approx(res.value, rel=1e-6)
    local = [_local_search(x, y, lam, 10, rng) for _ in range(20)]
    assert min(local) >= res.value * (1 - 1e-6), "local search beat the global optimum"
    assert min(local) <= res.value * 1.03, "easy instance: local search should get close"


def test_large_lam_gives_zero_network():
    X, y = _data(6, n=8, d=2)
    for reg in ("l1", "l2"):
        res = solve_exact(X, y, 1e4, reg=reg, bias=True)
        assert res.value == pytest.approx(0.5 * np.sum((y - y.mean()) ** 2), rel=1e-7)
        assert res.n_neurons == 0 and res.b2 == pytest.approx(y.mean(), rel=1e-6)
        res = solve_exact(X, y, 1e4, reg=reg, bias=False)
        assert res.value == pytest.approx(0.5 * np.sum(y**2), rel=1e-7)
        assert res.n_neurons == 0 and res.b2 == 0.0
        np.testing.assert_allclose(res.predict(X), 0.0)


def test_network_objective_by_hand():
    X = np.array([[1.0, -2.0], [0.5, 0.5], [-1.0, 3.0]])
    y = np.array([1.0, 0.0, 2.0])
    W1 = np.array([[1.0, 1.0], [-2.0, 0.5]])
    b1 = np.array([0.5, -1.0])
    W2 = np.array([2.0, -1.0])
    f = network_predict(X, W1, b1, W2, 0.25)
    # neuron 1: (-0.5)_+, 1.5, 2.5 -> 0, 1.5, 2.5 ; neuron 2: (-4)_+, (-1.75)_+, (2.5)_+ -> 0, 0, 2.5
    np.testing.assert_allclose(f, [0.25, 0.25 + 3.0, 0.25 + 5.0 - 2.5])
    r = f - y
    pen_l1 = (2.0**2 + 2.5**2) + (2.0**2 + 1.0**2)
    pen_l2 = (2.0 + 2.0**2) + (4.25 + 1.0**2)
    assert network_objective(X, y, W1, b1, W2, 0.25, 0.3, "l1") == pytest.approx(0.5 * r @ r + 0.15 * pen_l1)
    assert network_objective(X, y, W1, b1, W2, 0.25, 0.3, "l2") == pytest.approx(0.5 * r @ r + 0.15 * pen_l2)


def test_result_is_frozen_and_predicts():
    X, y = _data(2, n=6, d=2)
    res = solve_exact(X, y, 0.1, reg="l2", bias=True)
    assert isinstance(res, ExactResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.value = 0.0
    f = res.predict(X)
    assert f.shape == (6,)
    pen = np.sum(np.linalg.norm(res.W1, axis=1) ** 2 + res.W2**2)
    assert 0.5 * np.sum((f - y) ** 2) + 0.05 * pen == pytest.approx(res.value, rel=1e-6)


# ----------------------------------------------------------------------------- validation


def test_bad_inputs():
    X, y = _data(1, n=5, d=2)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    cases = [
        (lambda: solve_exact(Xn, y, 0.1), "X"),
        (lambda: solve_exact(X.copy() * np.inf, y, 0.1), "X"),
        (lambda: solve_exact(X, y[:4], 0.1), "y"),
        (lambda: solve_exact(X, y[:, None], 0.1), "y"),
        (lambda: solve_exact(X, y, 0.0), "lam"),
        (lambda: solve_exact(X, y, -1.0), "lam"),
        (lambda: solve_exact(X, y, float("nan")), "lam"),
        (lambda: solve_exact(X, y, 0.1, reg="l3"), "reg"),
        (lambda: solve_exact(X, y, 0.1, bias="yes"), "bias"),
        (lambda: solve_exact(X[0], y, 0.1), "X"),
        (lambda: solve_exact(np.zeros((0, 2)), np.zeros(0), 0.1), "X"),
        (lambda: solve_exact(X, y, 0.1, patterns=np.ones((3, 4), bool)), "patterns"),
        (lambda: solve_exact(X, y, 0.1, patterns=np.full((3, 5), 2)), "patterns"),
        (lambda: solve_exact(X, y, 0.1, max_patterns=0), "max_patterns"),
        (lambda: activation_patterns(Xn), "X"),
        (lambda: activation_patterns(X, max_patterns=1.5), "max_patterns"),
        (lambda: activation_patterns(np.zeros((3, 0))), "X"),
        (lambda: network_objective(X, y, np.ones((2, 3)), np.ones(2), np.ones(2), 0.0, 0.1), "W1"),
        (lambda: network_objective(X, y, np.ones((2, 2)), np.ones(3), np.ones(2), 0.0, 0.1), "b1"),
        (lambda: network_objective(X, y, np.ones((2, 2)), np.ones(2), np.ones(1), 0.0, 0.1), "W2"),
        (lambda: network_objective(X, y, np.ones((2, 2)), np.ones(2), np.ones(2), np.nan, 0.1), "b2"),
        (lambda: network_objective(X, y, np.ones((2, 2)), np.ones(2), np.ones(2), 0.0, 0.1, "l0"), "reg"),
    ]
    for fn, name in cases:
        with pytest.raises(ValueError, match=name):
            fn()


def _cross2(P):
    return np.stack([P[:, 1], -P[:, 0]], axis=1)


def _l1_dictionary_2d(X, bias):
    """docs/conventions.md#dictionaries (p=1): cross products of the pool, both orientations, ||w||_1 = 1."""
    if not bias:  # Thm 2: pool X plus e_1, e_2
        anchors = [np.zeros(2)]
    else:  # Thm 16: anchor x_j, pool {x_l - x_j} plus e_k, b = -w.x_j
        anchors = list(X)
    cols = []
    for xj in anchors:
        W = _cross2(np.vstack([X - xj, np.eye(2)]))
        nrm = np.abs(W).sum(1)
        W = W[nrm > 1e-12] / nrm[nrm > 1e-12, None]
        W = np.vstack([W, -W])
        cols.append(np.maximum((X - xj) @ W.T, 0.0))
    return np.hstack(cols)


@pytest.mark.parametrize("bias", [False, True])
def test_l1_matches_independent_wedge_lasso_2d(bias):
    # docs/conventions.md: for p=1 the Lasso over the cross-product dictionary is exact; it shares no code
    # with the arrangement program, so agreement checks patterns, cone constraints and the l1 norm
    rng = np.random.default_rng(13 + bias)
    X, y = rng.standard_normal((9, 2)), rng.standard_normal(9)
    K = _l1_dictionary_2d(X, bias)
    for lam in (0.05, 0.5):
        z = cp.Variable(K.shape[1])
        t = cp.Variable() if bias else 0.0
        prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(K @ z + t - y) + lam * cp.norm1(z)))
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
        assert solve_exact(X, y, lam, reg="l1", bias=bias).value == pytest.approx(prob.value, rel=1e-7)


@pytest.mark.parametrize("reg", ["l1", "l2"])
def test_at_most_n_plus_one_neurons(reg):
    # interior-point solutions spread neurons over many patterns; merging and Caratheodory
    # pruning (docs/conventions.md#g8) leave at most n + 1 without changing the objective
    rng = np.random.default_rng(21)
    X = rng.standard_normal((12, 2))
    y = np.sin(X.sum(1)) + 0.1 * rng.standard_normal(12)
    for lam in (1e-3, 1e-2):
        res = solve_exact(X, y, lam, reg=reg, bias=True)
        assert res.n_neurons <= 12 + 1
        assert res.objective(X, y) == pytest.approx(res.value, rel=1e-6)


@pytest.mark.parametrize("bias", [False, True])
def test_patterns_are_invariant_to_scale_shift_and_linear_maps(bias):
    # 1[x.w + b >= 0] over all (w, b) is unchanged by an invertible linear map of the data, and
    # (with a free bias) by a translation; the enumeration must not depend on the data's units
    X = np.random.default_rng(0).standard_normal((8, 2))
    ref = activation_patterns(X, bias=bias)
    M = np.array([[3.0, 1.0], [0.5, 2.0]])
    shift = 3e8 if bias else 0.0
    for Y in (X * 1e8 + shift, X * 1e-8, X * 1e15, X @ M):
        np.testing.assert_array_equal(activation_patterns(Y, bias=bias), ref)


@pytest.mark.parametrize("bias", [False, True])
def test_exact_program_is_solved_in_scaled_units(bias):
    # X -> sx X, y -> sy y, lam -> sx sy lam multiplies the optimum by sy^2
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((8, 2)), rng.standard_normal(8)
    ref = solve_exact(X, y, 0.1, bias=bias)
    for sx, sy in ((1.0, 1e8), (1e8, 1.0), (1e-6, 1e4)):
        res = solve_exact(X * sx, y * sy, 0.1 * sx * sy, bias=bias)
        assert res.value / sy**2 == pytest.approx(ref.value, rel=1e-7)
        assert res.objective(X * sx, y * sy) / sy**2 == pytest.approx(ref.value, rel=1e-7)
