"""The exact active-set restricted solver (squared loss) and the column sources' ``violators``.

References are independent: cvxpy + Clarabel (``_refs.lasso_reference``) for optimal values and
scikit-learn's coordinate descent at a tight tolerance for coefficients of unique solutions.
"""

from __future__ import annotations

import numpy as np
import pytest
from _refs import lasso_objective, lasso_reference

import wedgenet as wn
from wedgenet.datasets import make_spiral
from wedgenet.solvers import ExplicitColumns, LassoProblem, WorkingSet, get_loss
from wedgenet.solvers.base import certify_and_price, dense_violators
from wedgenet.solvers.inner import SquaredActiveSet, inner_solver_for, lasso_active_set

SQ = get_loss("squared")


def _relu_columns(seed: int, n: int, m: int, spread: float = 0.05) -> np.ndarray:
    """Very coherent ReLU columns: hyperplanes that differ by a few percent."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    W = rng.standard_normal(2) + spread * rng.standard_normal((m, 2))
    b = spread * rng.standard_normal(m)
    return np.maximum(X @ W.T + b, 0.0)


def _lam_max(K, y, intercept):
    yc = y - y.mean() if intercept else y
    Kc = K - K.mean(axis=0) if intercept else K
    return float(np.abs(Kc.T @ yc).max())


def _solve(K, y, lam, intercept, init=None):
    sol = SquaredActiveSet().solve(K, y, lam, SQ, intercept, init=init)
    assert sol.status == "optimal"
    return sol.coef, sol.intercept


def _check_kkt(K, y, lam, coef, icpt, intercept, rtol=1e-9):
    r = y - K @ coef - icpt
    if intercept:
        assert abs(r.sum()) <= 1e-9 * max(1.0, np.abs(y).sum())
    c = K.T @ r
    assert np.abs(c).max() <= lam * (1 + rtol)
    nz = coef != 0
    np.testing.assert_allclose(c[nz], lam * np.sign(coef[nz]), rtol=0, atol=rtol * lam)


@pytest.mark.parametrize("intercept", [False, True])
@pytest.mark.parametrize("frac", [0.02, 0.2, 0.7])
def test_matches_sklearn_coefficients_on_a_unique_problem(intercept, frac):
    from sklearn.linear_model import Lasso

    rng = np.random.default_rng(3)
    n, m = 60, 25
    K = rng.standard_normal((n, m))
    y = K[:, :4] @ np.array([2.0, -1.0, 0.5, 1.5]) + 0.3 * rng.standard_normal(n) + 0.7
    lam = frac * _lam_max(K, y, intercept)
    coef, icpt = _solve(K, y, lam, intercept)
    ref = Lasso(alpha=lam / n, fit_intercept=intercept, tol=1e-14, max_iter=1_000_000).fit(K, y)
    np.testing.assert_allclose(coef, ref.coef_, rtol=0, atol=1e-8)
    assert icpt == pytest.approx(float(ref.intercept_) if intercept else 0.0, abs=1e-8)
    ours = lasso_objective(K, y, lam, coef, icpt)
    assert ours <= lasso_reference(K, y, lam, intercept=intercept) * (1 + 1e-8)
    _check_kkt(K, y, lam, coef, icpt, intercept)


@pytest.mark.parametrize("intercept", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coherent_columns_agree_with_cvxpy(intercept, seed):
    K = _relu_columns(seed, 30, 120)
    y = np.random.default_rng(10 + seed).standard_normal(30)
    for frac in (0.005, 0.05, 0.5):
        lam = frac * _lam_max(K, y, intercept)
        coef, icpt = _solve(K, y, lam, intercept)
        ours = lasso_objective(K, y, lam, coef, icpt)
        ref = lasso_reference(K, y, lam, intercept=intercept)
        assert ours == pytest.approx(ref, rel=1e-8)
        assert ours <= ref * (1 + 1e-9)  # exact: never worse than the interior-point reference
        _check_kkt(K, y, lam, coef, icpt, intercept)
        assert np.count_nonzero(coef) <= 30 + intercept  # a vertex: independent active columns


def test_duplicate_columns():
    K0 = _relu_columns(4, 20, 15, spread=0.5)
    K = np.hstack([K0, K0[:, ::-1], K0[:, :5]])  # every column two or three times
    y = np.random.default_rng(5).standard_normal(20)
    lam = 0.05 * _lam_max(K, y, True)
    coef, icpt = _solve(K, y, lam, True)
    ref0 = lasso_reference(K0, y, lam, intercept=True)
    assert lasso_objective(K, y, lam, coef, icpt) == pytest.approx(ref0, rel=1e-8)
    _check_kkt(K, y, lam, coef, icpt, True)
    # a warm start that spreads weight over duplicates (a singular active set) is handled
    init = np.zeros(K.shape[1])
    init[[0, 29, 30]] = 0.3  # column 0 three times
    coef2, icpt2 = _solve(K, y, lam, True, init=init)
    assert lasso_objective(K, y, lam, coef2, icpt2) == pytest.approx(ref0, rel=1e-8)


def test_linear_combination_is_exchanged_in():
    rng = np.random.default_rng(6)
    a, b = np.abs(rng.standard_normal((2, 12)))
    K = np.column_stack([a, b, 0.6 * (a + b)])  # the third column is cheaper than the first two together
    y = 2.0 * (a + b)
    lam = 0.5
    # start on the face {a, b}: the third column violates but is in their span
    x, status = lasso_active_set(K, y, lam, init=np.array([1.0, 1.0, 0.0]))
    assert status == "optimal"
    ref = lasso_reference(K, y, lam, intercept=False)
    assert lasso_objective(K, y, lam, x, 0.0) == pytest.approx(ref, rel=1e-9)
    assert x[2] > 0 and np.count_nonzero(x) <= 2
    _check_kkt(K, y, lam, x, 0.0, False)


@pytest.mark.parametrize("intercept", [False, True])
def test_zero_solution(intercept):
    K = _relu_columns(7, 25, 40, spread=0.3)
    y = np.random.default_rng(8).standard_normal(25)
    lam = 1.0001 * _lam_max(K, y, intercept)
    coef, icpt = _solve(K, y, lam, intercept)
    assert not np.any(coef)
    assert icpt == pytest.approx(y.mean() if intercept else 0.0, abs=1e-14)
    coef, icpt = _solve(K, y, lam, intercept, init=np.full(40, 0.1))  # from a nonzero warm start
    assert not np.any(coef)


def test_intercept_value_matches_cvxpy():
    import cvxpy as cp

    K = _relu_columns(9, 40, 60, spread=0.2)
    y = 3.0 + np.random.default_rng(1).standard_normal(40)
    lam = 0.03 * _lam_max(K, y, True)
    coef, icpt = _solve(K, y, lam, True)
    z, t = cp.Variable(60), cp.Variable()
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(K @ z + t - y) + lam * cp.norm1(z)))
    prob.solve(solver=cp.CLARABEL, tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    assert lasso_objective(K, y, lam, coef, icpt) == pytest.approx(prob.value, rel=1e-8)
    assert icpt == pytest.approx(float(y.mean() - K.mean(axis=0) @ coef), abs=1e-12)
    # the solution is unique here (a vertex, generic data): the intercepts agree
    assert icpt == pytest.approx(float(t.value), abs=1e-5)


def test_warm_start_equals_cold_start():
    K = _relu_columns(11, 30, 80)
    y = np.random.default_rng(2).standard_normal(30)
    lam = 0.02 * _lam_max(K, y, True)
    cold, icold = _solve(K, y, lam, True)
    _, _ = _solve(K, y, 3 * lam, True)
    warm_init, _ = _solve(K[:, :40], y, lam, True)
    warm, iwarm = _solve(K, y, lam, True, init=np.concatenate([warm_init, np.zeros(40)]))
    assert lasso_objective(K, y, lam, warm, iwarm) == pytest.approx(lasso_objective(K, y, lam, cold, icold),
                                                                   rel=1e-12)


def test_is_the_default_for_scalar_squared_loss_only():
    assert inner_solver_for(SQ, False).name == "active-set"
    assert inner_solver_for(SQ, True).name != "active-set"
    for loss in ("logistic", "hinge", "softmax"):
        assert inner_solver_for(get_loss(loss), loss == "softmax").name != "active-set"


def test_working_set_certifies_spiral_l2():
    X, y = make_spiral(60)
    net = wn.fit(X, y, lam=0.1, reg="l2")
    assert net.relative_gap <= 1e-9 and net.max_violation <= 1 + 1e-9
    D = wn.dictionary(X, reg="l2", bias=True)
    ref = lasso_reference(D.K, y, 0.1, intercept=D.fit_intercept)
    assert net.info["primal"] == pytest.approx(ref, rel=1e-7)
    assert net.info["primal"] <= ref * (1 + 1e-9)
    assert net.n_neurons <= X.shape[0] + 1


# ------------------------------------------------------------------------- violators
def _scores(K, theta):
    c = K.T @ theta
    return np.abs(c) if c.ndim == 1 else np.linalg.norm(c, axis=1)


@pytest.fixture
def source():
    rng = np.random.default_rng(0)
    K = rng.standard_normal((7, 50))
    return ExplicitColumns(K), rng.standard_normal(7)


def test_violators_k_and_threshold(source):
    src, theta = source
    s = _scores(src.K, theta)
    thr = float(np.median(s))
    idx, sc, m = src.violators(theta, 10, thr)
    assert m == pytest.approx(s.max(), rel=1e-15)
    assert idx.dtype == np.int64 and idx.size == 10
    np.testing.assert_array_equal(idx, np.argsort(-s, kind="stable")[:10])
    np.testing.assert_allclose(sc, s[idx], rtol=1e-15)
    assert np.all(np.diff(sc) <= 0)
    # fewer than k above the threshold: all of them
    idx, sc, _ = src.violators(theta, 1000, thr)
    np.testing.assert_array_equal(np.sort(idx), np.flatnonzero(s > thr))
    # k = 0: the maximum only; a threshold above the maximum: no column
    idx, sc, m0 = src.violators(theta, 0, thr)
    assert idx.size == 0 and sc.size == 0 and m0 == m
    idx, _, m1 = src.violators(theta, 5, 2 * s.max())
    assert idx.size == 0 and m1 == m


def test_violators_exclude_keeps_the_global_maximum(source):
    src, theta = source
    s = _scores(src.K, theta)
    top = np.argsort(-s, kind="stable")
    exclude = np.sort(top[:3]).astype(np.int64)
    idx, sc, m = src.violators(theta, 4, 0.0, exclude)
    assert m == pytest.approx(s.max(), rel=1e-15)  # the excluded columns still count
    np.testing.assert_array_equal(idx, top[3:7])
    assert not np.isin(idx, exclude).any()


def test_violators_ties_by_index():
    K = np.ones((3, 6))
    K[:, 4] = 2.0
    idx, sc, m = dense_violators(K, np.ones(3), 3, 0.0)
    np.testing.assert_array_equal(idx, [4, 0, 1])
    np.testing.assert_allclose(sc, [6.0, 3.0, 3.0])
    assert m == 6.0


def test_violators_matrix_theta(source):
    src, _ = source
    Theta = np.random.default_rng(1).standard_normal((7, 3))
    s = _scores(src.K, Theta)
    idx, sc, m = src.violators(Theta, 5, 0.0)
    np.testing.assert_array_equal(idx, np.argsort(-s, kind="stable")[:5])
    np.testing.assert_allclose(sc, np.linalg.norm(src.K[:, idx].T @ Theta, axis=1), rtol=1e-14)
    assert m == pytest.approx(s.max(), rel=1e-15)


def test_violators_empty_source():
    idx, sc, m = ExplicitColumns(np.zeros((4, 0))).violators(np.ones(4), 3, 0.0)
    assert idx.size == 0 and sc.size == 0 and m == 0.0


def test_dictionary_violators_match_explicit_columns():
    X, _ = make_spiral(20)
    D = wn.dictionary(X, reg="l2", bias=True)
    theta = np.random.default_rng(2).standard_normal(20)
    a = D.violators(theta, 7, 0.1, np.arange(0, D.n_columns, 5, dtype=np.int64))
    b = ExplicitColumns(D.K).violators(theta, 7, 0.1, np.arange(0, D.n_columns, 5, dtype=np.int64))
    for u, v in zip(a[:2], b[:2], strict=True):
        np.testing.assert_array_equal(u, v)
    assert a[2] == b[2]


class _CountingSource:
    """A column source with only the protocol methods (no ``price``), counting pricing passes."""

    def __init__(self, K):
        self.K = K
        self.n_columns = K.shape[1]
        self.passes = 0

    def columns(self, idx):
        return np.asfortranarray(self.K[:, idx])

    def violators(self, theta, k, threshold, exclude=None):
        self.passes += 1
        return dense_violators(self.K, theta, k, threshold, exclude)


def test_working_set_prices_once_per_iteration_through_violators_only():
    X, y = make_spiral(40)
    D = wn.dictionary(X, reg="l2", bias=True)
    src = _CountingSource(D.K)
    res = WorkingSet().solve(LassoProblem(src, y, 0.1, SQ, D.fit_intercept))
    assert res.converged
    assert src.passes == res.n_iter + 1  # the zero start, then one pass per outer iteration
    cert, *_ = certify_and_price(LassoProblem(ExplicitColumns(D.K), y, 0.1, SQ, D.fit_intercept),
                                 res.support, res.coef, res.intercept)
    assert cert.max_violation == pytest.approx(res.certificate.max_violation, rel=1e-12)
    assert cert.n_columns_priced == D.n_columns


def test_blas_thread_cap_does_not_change_the_result():
    X, y = make_spiral(30)
    D = wn.dictionary(X, reg="l2", bias=True)
    problem = LassoProblem(D, y, 0.05, SQ, D.fit_intercept)
    a = WorkingSet(blas_threads=1).solve(problem)
    b = WorkingSet(blas_threads=None).solve(problem)
    assert a.converged and b.converged
    assert a.objective == pytest.approx(b.objective, rel=1e-12)


def test_backends_are_per_fit_and_best_belongs_to_its_instance():
    import copy
    import pickle
    import threading

    from wedgenet.solvers import get_backend

    X, y = make_spiral(30)
    D = wn.dictionary(X, reg="l2", bias=True)
    small = LassoProblem(D, y, 0.5, SQ, D.fit_intercept)
    large = LassoProblem(D, y, 0.01, SQ, D.fit_intercept)
    a, b = get_backend("auto", small), get_backend("auto", large)
    assert a is not b and a.best is None and b.best is None  # a fresh instance per fit
    res_a = a.solve(small)
    seen = {}

    def other():
        seen["res"] = b.solve(large)

    th = threading.Thread(target=other)
    th.start()
    th.join()
    # each fit's instance holds the state of its own solve
    assert a.best.objective == pytest.approx(res_a.objective, rel=1e-9)
    assert b.best.objective == pytest.approx(seen["res"].objective, rel=1e-9)
    assert abs(res_a.objective - seen["res"].objective) > 1e-3 * res_a.objective
    for clone in (copy.deepcopy(a), pickle.loads(pickle.dumps(a))):
        assert clone.initial == a.initial
        assert clone.solve(small).objective == pytest.approx(res_a.objective, rel=1e-9)
    assert copy.deepcopy(a).best is None
