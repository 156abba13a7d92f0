"""Pricing that remembers, Gap Safe screening and the dedicated restricted solvers (issue 18).

References are independent: scikit-learn's coordinate descent, cvxpy + Clarabel, liblinear, and
the plain working set without memory (one full pass per iteration).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wedgenet as wn
from wedgenet.datasets import make_spiral
from wedgenet.solvers import (
    ExplicitColumns,
    HingeLP,
    LassoProblem,
    PricingMemory,
    ProxNewton,
    WorkingSet,
    gap_safe_radius,
    get_loss,
)
from wedgenet.solvers.inner import CvxpyClarabel, SklearnLiblinear
from wedgenet.solvers.losses import SquaredHingeLoss

SQ = get_loss("squared")


def _lam_max(D, y):
    return float(np.abs(D.columns(np.arange(D.n_columns)).T @ (y - y.mean())).max())


# ------------------------------------------------------------------ the bound (*) is a bound
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(1e-3, 10.0), st.integers(5, 200))
def test_remembered_bound_covers_every_forgotten_column(seed, step, budget_cols):
    rng = np.random.default_rng(seed)
    n, p = 12, 300
    K = rng.standard_normal((n, p)) * rng.uniform(0.1, 3.0, p)
    src = ExplicitColumns(K)
    mem = PricingMemory(src, n, lam=1.0, budget=8 * n * budget_cols)
    theta0 = rng.standard_normal(n)
    m = mem.full_pass(theta0)
    assert m == pytest.approx(np.abs(K.T @ theta0).max(), rel=1e-12)
    theta = theta0 + step * rng.standard_normal(n) / math.sqrt(n)
    S, bound = mem.price(theta)
    true = np.abs(K.T @ theta)
    np.testing.assert_allclose(S, true[mem.idx], rtol=1e-12, atol=1e-12)
    rest = np.setdiff1d(np.arange(p), mem.idx)
    if rest.size:
        assert bound >= true[rest].max()
    else:
        assert bound == -math.inf
    assert PricingMemory.max_score(S, bound) >= true.max() * (1 - 1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.floats(1e-3, 10.0), st.integers(20, 120),
       st.sampled_from(["explicit", "dense", "indexed"]), st.booleans())
def test_two_level_bounds_cover_every_column(seed, step, level1_cols, kind, group):
    """Hot columns are priced exactly; the bound covers level 1 outside the hot set and every
    column outside level 1, after a pass, after a level-1 re-pricing and after screening."""
    rng = np.random.default_rng(seed)
    n, p = 10, 400
    K = rng.standard_normal((n, p)) * rng.uniform(0.1, 3.0, p)

    class Streamed:  # the same matrix without ``K``: survivors are dense copies
        n_columns = p

        def columns(self, idx):
            return np.asfortranarray(K[:, idx])

        def violators(self, theta, k, threshold, exclude=None):
            return ExplicitColumns(K).violators(theta, k, threshold, exclude)

        def max_column_norm(self):
            return ExplicitColumns(K).max_column_norm()

    class Subset:
        def __init__(self, idx):
            self.idx = idx
            self.n_priced_columns = idx.size

        def price(self, theta):
            c = K[:, self.idx].T @ theta
            return np.abs(c) if c.ndim == 1 else np.linalg.norm(c, axis=1)

    class Indexed(Streamed):  # level 1 as indices, priced in place (as a streamed dictionary does)
        def subset_pricer(self, idx):
            return Subset(np.asarray(idx))

    src = {"explicit": ExplicitColumns, "dense": Streamed, "indexed": Indexed}[kind]
    src = src(K) if kind == "explicit" else src()
    # indexed level 1 costs 16 bytes a column
    budget = 16 * level1_cols if kind == "indexed" else 8 * n * level1_cols
    mem = PricingMemory(src, n, lam=1.0, budget=budget, hot_budget=8 * n * 10)
    assert mem.indexed == (kind == "indexed")
    mem.M2 = min(mem.M, 15)  # a small hot set inside level 1
    shape = (n, 3) if group else (n,)

    def score(th):
        c = K.T @ th
        return np.abs(c) if c.ndim == 1 else np.linalg.norm(c, axis=1)

    def check(th):
        S, bound = mem.price(th)
        true = score(th)
        np.testing.assert_allclose(S, true[mem.idx], rtol=1e-10, atol=1e-12)
        others = np.setdiff1d(np.arange(p), mem.idx)
        assert bound >= true[others].max() * (1 - 1e-12) or others.size == 0
        in1 = np.setdiff1d(mem.idx1, mem.idx)
        if in1.size:
            assert mem.b2 >= true[in1].max() * (1 - 1e-12)
        return S, bound

    theta0 = rng.standard_normal(shape)
    assert mem.full_pass(theta0) == pytest.approx(score(theta0).max(), rel=1e-12)
    assert mem.idx.size <= mem.M2 and np.all(np.isin(mem.idx, mem.idx1))
    theta = theta0 + step * rng.standard_normal(shape) / math.sqrt(n)
    check(theta)
    mem.reprice(theta)
    theta2 = theta + 0.1 * step * rng.standard_normal(shape) / math.sqrt(n)
    S, bound = check(theta2)
    np.testing.assert_allclose(mem.columns(mem.idx1[::3]), K[:, mem.idx1[::3]])
    mem.lam = float(np.quantile(score(theta2), 0.9))  # screening at a made-up lam and radius
    gone = mem.screen(theta2, 1.0, S, bound, 1e-3)
    assert np.all(score(theta2)[gone] + np.linalg.norm(K[:, gone], axis=0) * 1e-3 < mem.lam)
    assert not np.isin(gone, mem.idx1).any()
    check(theta2)


@pytest.mark.parametrize("sampled", [False, True])
@pytest.mark.parametrize("reg,depth", [("l1", 2), ("l2", 2), ("l1", 3)])
def test_subset_pricer_matches_a_full_pass(sampled, reg, depth):
    """The streamed dictionary prices chosen columns alone exactly as a full pass does."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((25, 3))
    D = wn.streamed_dictionary(X, reg=reg, bias=True, depth=depth, max_columns=300 if sampled else None,
                               random_state=0)
    idx = np.sort(rng.choice(D.n_columns, size=min(57, D.n_columns), replace=False))
    for theta in (rng.standard_normal(25), rng.standard_normal((25, 3))):
        sub = D.subset_pricer(idx)
        np.testing.assert_allclose(sub.price(theta), D.price(theta)[idx], rtol=1e-12, atol=1e-12)
        assert sub.n_priced_columns == np.unique(idx // D.per).size * D.per
    assert D.subset_pricer(np.zeros(0, dtype=np.int64)).price(rng.standard_normal(25)).size == 0


@pytest.mark.parametrize("m", [7, 5000])  # the serial and the threaded path
def test_gather_columns_copies_into_place(m):
    from wedgenet.solvers._gather import gather_columns

    rng = np.random.default_rng(5)
    src = np.asfortranarray(rng.standard_normal((600, m)))
    pos = rng.permutation(m)[: m // 2 + 1]
    dst = np.zeros((600, pos.size + 3), order="F")
    at = rng.permutation(pos.size + 3)[: pos.size]
    gather_columns(src, pos, dst, at)
    np.testing.assert_array_equal(dst[:, at], src[:, pos])
    rest = np.setdiff1d(np.arange(pos.size + 3), at)
    assert not dst[:, rest].any()


def test_explicit_survivors_are_priced_in_place():
    from wedgenet.solvers._gather import gather_group_scores, gather_norms, gather_scores

    rng = np.random.default_rng(3)
    K = np.asfortranarray(rng.standard_normal((37, 200)))
    K[:, 5] *= 1e-200  # the norms neither underflow ...
    K[:, 6] *= 1e200  # ... nor overflow
    idx = np.array([0, 5, 6, 17, 199])
    out = np.empty(idx.size)
    gather_norms(K.T, idx, out)
    mx = np.abs(K[:, idx]).max(axis=0)
    ref = mx * np.sqrt(np.sum((K[:, idx] / mx) ** 2, axis=0))
    np.testing.assert_allclose(out, ref, rtol=1e-13)
    th = rng.standard_normal(37)
    gather_scores(K.T, idx, th, out)
    np.testing.assert_allclose(out, np.abs(K[:, idx].T @ th), rtol=1e-12)
    Th = rng.standard_normal((37, 4))
    gather_group_scores(K.T, idx, Th, out)
    C = K[:, idx].T @ Th
    cm = np.abs(C).max(axis=1)
    np.testing.assert_allclose(out, cm * np.linalg.norm(C / cm[:, None], axis=1), rtol=1e-12)


@pytest.mark.parametrize("reg,bias,depth", [("l1", True, 2), ("l2", True, 2), ("l1", False, 2), ("l2", False, 2),
                                            ("l1", True, 3)])
@pytest.mark.parametrize("scale", [1e-30, 1.0, 1e30])
def test_streamed_norm_bound_is_an_upper_bound(reg, bias, depth, scale):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((9 if depth == 3 else 14, 2)) * scale
    D = wn.streamed_dictionary(X, reg=reg, bias=bias, depth=depth)
    K = D.columns(np.arange(D.n_columns))
    true = float(np.max(np.linalg.norm(K / scale, axis=0))) * scale
    N = D.max_column_norm()
    assert true <= N <= 10 * true
    E = wn.dictionary(X, reg=reg, bias=bias, depth=depth)
    assert E.max_column_norm() == pytest.approx(np.linalg.norm(E.K / scale, axis=0).max() * scale, rel=1e-11)


# ------------------------------------------------------------------ same optimum, fewer passes
@pytest.mark.parametrize("mode", ["explicit", "streamed"])
def test_memory_gives_the_same_certified_optimum_in_fewer_passes(mode):
    X, y = make_spiral(120)
    D = wn.dictionary(X, reg="l2", bias=True) if mode == "explicit" else wn.streamed_dictionary(X, reg="l2", bias=True)
    lam = 0.05 * _lam_max(D, y)
    pr = LassoProblem(D, y, lam, SQ, D.fit_intercept)
    # a small survivor budget, so the bound and the re-pricing logic are exercised
    a = WorkingSet(remember=True, survivor_bytes=8 * 120 * 300).solve(pr)
    b = WorkingSet(remember=False).solve(pr)
    # two levels: a hot set of 256 columns inside a larger level 1
    ws2 = WorkingSet(remember=True, survivor_bytes=8 * 120 * 2000, hot_bytes=8 * 120 * 256)
    c = ws2.solve(pr)
    assert a.converged and b.converged and c.converged
    assert a.objective == pytest.approx(b.objective, rel=1e-9)
    assert c.objective == pytest.approx(b.objective, rel=1e-9)
    assert c.n_full_passes < b.n_full_passes
    assert c.n_full_passes <= ws2.pass_equivalents < b.n_full_passes
    assert a.certificate.n_columns_priced == D.n_columns
    assert a.n_full_passes < b.n_full_passes
    # the certificate is a certificate: recompute it with one exact pass over every column
    K = D.columns(np.arange(D.n_columns))
    pred = K[:, a.support] @ a.coef + a.intercept
    r = y - pred
    assert np.abs(K.T @ (r - r.mean())).max() <= lam * (1 + 1e-5)


def test_gap_safe_screening_discards_only_zero_coefficients():
    from sklearn.linear_model import Lasso

    X, y = make_spiral(60)
    D = wn.dictionary(X, reg="l2", bias=True)
    K = D.K
    lam = 0.1 * _lam_max(D, y)
    ref = Lasso(alpha=lam / len(y), fit_intercept=True, tol=1e-14, max_iter=200_000).fit(K, y)
    # screen at a dual point from a rough solution and its true gap
    pr = LassoProblem(D, y, lam, SQ, True)
    mem = PricingMemory(D, len(y), lam)
    rough = Lasso(alpha=lam / len(y), fit_intercept=True, tol=1e-2, max_iter=20).fit(K, y)
    from wedgenet.solvers.base import certify

    sup = np.flatnonzero(rough.coef_)
    cert, theta, _ = certify(pr, sup, rough.coef_[sup], rough.intercept_)
    m = mem.full_pass(theta)
    S, bound = mem.price(theta)
    r = gap_safe_radius(SQ, cert.gap)
    gone = mem.screen(theta, min(1.0, lam / m), S, bound, r)
    assert gone.size > 0
    assert np.all(np.abs(ref.coef_[gone]) < 1e-8)
    assert gap_safe_radius(get_loss("hinge"), 1.0) is None  # no safe sphere for hinge


# ------------------------------------------------------------------ dedicated restricted solvers
def _logistic_ref(K, y, lam, intercept):
    return CvxpyClarabel().solve(K, y, lam, get_loss("logistic"), intercept, tol=1e-10)


@pytest.mark.parametrize("intercept", [True, False])
def test_prox_newton_matches_clarabel_and_liblinear_on_logistic(intercept):
    rng = np.random.default_rng(0)
    K = np.maximum(rng.standard_normal((40, 25)), 0)
    y = np.where(rng.standard_normal(40) + K[:, 0] > 0.5, 1.0, -1.0)
    L = get_loss("logistic")
    for lam in (0.05, 1.0):
        pn = ProxNewton().solve(K, y, lam, L, intercept)
        ref = _logistic_ref(K, y, lam, intercept)
        f = lambda s, lam=lam: L.value(K @ s.coef + s.intercept, y) + lam * np.abs(s.coef).sum()  # noqa: E731
        assert pn.status == "optimal"
        assert f(pn) <= f(ref) + 1e-8 * abs(f(ref))
        assert f(pn) == pytest.approx(f(ref), rel=1e-7)
        if intercept:
            ll = SklearnLiblinear().solve(K, y, lam, L, True)
            assert f(pn) <= f(ll) + 1e-7 * abs(f(ll))


@pytest.mark.parametrize("intercept", [True, False])
def test_hinge_lp_matches_clarabel_with_a_feasible_dual(intercept):
    rng = np.random.default_rng(2)
    K = np.maximum(rng.standard_normal((30, 20)), 0)
    y = np.where(rng.standard_normal(30) > 0, 1.0, -1.0)
    H = get_loss("hinge")
    lam = 0.3
    lp = HingeLP().solve(K, y, lam, H, intercept)
    ref = CvxpyClarabel().solve(K, y, lam, H, intercept)
    f = lambda s: H.value(K @ s.coef + s.intercept, y) + lam * np.abs(s.coef).sum()  # noqa: E731
    assert f(lp) == pytest.approx(f(ref), rel=1e-7, abs=1e-9)
    th = lp.theta
    assert np.abs(K.T @ th).max() <= lam * (1 + 1e-9)
    if intercept:
        assert abs(th.sum()) <= 1e-9 * len(y)
    assert H.dual_value(th, y) == pytest.approx(f(lp), rel=1e-8)  # zero gap at the LP optimum


# the registered squared hinge loss declares only Loss methods and flags (value, gradient, conjugate,
# curvature, lipschitz): the proximal Newton solver serves it, and no solver code names it
SquaredHinge = SquaredHingeLoss


def test_a_new_smooth_loss_needs_no_solver_code():
    X, y = make_spiral(40)
    D = wn.dictionary(X, reg="l2", bias=True)
    loss = SquaredHinge()
    pr = LassoProblem(D, y, 0.5, loss, D.fit_intercept)
    res = WorkingSet().solve(pr)
    assert res.converged and res.certificate.max_violation <= 1 + 1e-6
    import cvxpy as cp

    z, t = cp.Variable(D.n_columns), cp.Variable()
    obj = 0.5 * cp.sum_squares(cp.pos(1 - cp.multiply(y, D.K @ z + t))) + 0.5 * cp.norm1(z)
    ref = cp.Problem(cp.Minimize(obj)).solve(solver=cp.CLARABEL)
    assert res.objective == pytest.approx(ref, rel=1e-6)
    assert res.objective <= ref * (1 + 1e-9)


@pytest.mark.parametrize("loss", ["logistic", "hinge"])
def test_classification_fits_use_the_dedicated_solvers_and_agree_with_the_reference(loss):
    X, y = make_spiral(40)
    D = wn.dictionary(X, reg="l1", bias=True)
    L = get_loss(loss)
    pr = LassoProblem(D, y, 0.5, L, True)
    res = WorkingSet().solve(pr)
    ref = WorkingSet().solve(pr, inner=CvxpyClarabel())
    assert res.converged and ref.converged
    assert res.objective == pytest.approx(ref.objective, rel=2e-6)


@pytest.mark.parametrize("intercept", [True, False])
def test_group_prox_newton_matches_clarabel_on_softmax(intercept):
    from wedgenet.solvers import GroupProxNewton
    from wedgenet.solvers.inner import inner_solver_for

    rng = np.random.default_rng(4)
    K = np.maximum(rng.standard_normal((50, 20)), 0)
    K[:, 1] = K[:, 0] + 1e-3 * rng.standard_normal(50)  # coherent columns, as in wedge dictionaries
    Y = np.eye(3)[rng.integers(0, 3, 50)]
    L = get_loss("softmax")
    for lam in (0.3, 3.0):
        a = GroupProxNewton().solve(K, Y, lam, L, intercept)
        b = CvxpyClarabel().solve(K, Y, lam, L, intercept, tol=1e-10)
        f = lambda s, lam=lam: L.value(K @ s.coef + s.intercept, Y) + lam * np.linalg.norm(s.coef, axis=1).sum()  # noqa: E731
        assert f(a) == pytest.approx(f(b), rel=1e-8)
        assert f(a) <= f(b) + 1e-8 * abs(f(b))
    # the fallback after Clarabel for softmax (Clarabel stays the default)
    assert inner_solver_for(L, True).name == "cvxpy-clarabel"
    assert inner_solver_for(L, True, after=inner_solver_for(L, True)).name == "group-prox-newton"


def test_warm_started_hinge_lp_equals_fresh_solves():
    """The kept HiGHS model (columns added, columns leaving pinned at zero, then returning, and a
    switch of lam) gives the fresh scipy LP's optimum and a dual point as feasible."""
    rng = np.random.default_rng(5)
    K = np.maximum(rng.standard_normal((60, 40)), 0)
    y = np.where(K[:, 0] - K[:, 1] + 0.3 * rng.standard_normal(60) > 0, 1.0, -1.0)
    H = get_loss("hinge")
    warm = HingeLP()
    sets = [np.arange(8), np.arange(20), np.arange(5, 30), np.arange(40), np.arange(0, 40, 3)]
    for lam in (0.5, 2.0):
        for idx in sets:
            Ks = K[:, idx]
            a = warm.solve(Ks, y, lam, H, True)
            b = HingeLP()._solve_scipy(Ks, y, lam, True, 1e-10, 60.0)
            f = lambda s, Ks=Ks, lam=lam: H.value(Ks @ s.coef + s.intercept, y) + lam * np.abs(s.coef).sum()  # noqa: E731
            assert f(a) == pytest.approx(f(b), rel=1e-10, abs=1e-10)
            assert np.abs(Ks.T @ a.theta).max() <= lam * (1 + 1e-8)
            assert H.dual_value(a.theta, y) == pytest.approx(f(a), rel=1e-8)  # a zero restricted gap


@pytest.mark.parametrize("loss", ["squared", "logistic", "hinge"])
@pytest.mark.parametrize("mode", ["explicit", "streamed"])
def test_two_level_memory_certifies_the_previous_paths_objective(loss, mode):
    """Small level-1 and hot budgets (so re-pricings, bounds and full passes all happen): the
    certified objective equals the previous path's (one full pass per iteration) to 1e-8, and
    the returned dual point is feasible for EVERY column (recomputed here)."""
    X, y = make_spiral(70)
    D = wn.dictionary(X, reg="l1", bias=True) if mode == "explicit" else wn.streamed_dictionary(X, reg="l1", bias=True)
    L = get_loss(loss)
    lam = 0.1 * _lam_max(D, y) if loss == "squared" else 0.5
    pr = LassoProblem(D, y, lam, L, True)
    ws = WorkingSet(survivor_bytes=8 * 70 * 600, hot_bytes=8 * 70 * 256)
    a = ws.solve(pr, tol=1e-9)
    b = WorkingSet(remember=False).solve(pr, tol=1e-9)
    assert a.converged and b.converged
    assert a.objective == pytest.approx(b.objective, rel=1e-8)
    K = D.columns(np.arange(D.n_columns))
    lam_viol = np.abs(K.T @ a.theta).max() / lam  # the certificate scales theta by this when > 1
    assert a.certificate.max_violation >= lam_viol * (1 - 1e-9)
    assert ws.n_full_passes <= ws.pass_equivalents


def test_survivor_budget_follows_the_allocatable_memory(monkeypatch):
    import wedgenet._resources as res
    from wedgenet.solvers import screening

    monkeypatch.setattr(res, "available_bytes", lambda: 256_000)
    assert screening.survivor_budget() == pytest.approx(screening.SURVIVOR_MEMORY_FRACTION * 256_000)
    X, y = make_spiral(300)
    D = wn.streamed_dictionary(X, reg="l2", bias=True)
    assert D.n_columns / 16 > 2000
    mem = PricingMemory(D, 300, 1.0)  # 32 kB of the 256 kB "available": 2,000 indexed columns (16 bytes each)
    assert mem.indexed and mem.M == 2000
    monkeypatch.setattr(res, "available_bytes", lambda: 10**15)
    assert screening.survivor_budget() == screening.SURVIVOR_BYTES


def test_lam_max_pass_serves_the_first_working_set_pass():
    """A streamed fit with ``lam_ratio`` prices every column once for ``lam_max``; the working set's
    first pass at the same dual point comes from that pass (no extra pass), same optimum."""
    X, y = make_spiral(80)
    kw = dict(reg="l2", bias=True, dictionary_mode="streamed")
    a = wn.fit(X, y, lam_ratio=0.1, **kw)
    b = wn.fit(X, y, lam=a.lam, **kw)  # an absolute lam: no lam_max pass
    assert a.relative_gap <= 1e-6 and b.relative_gap <= 1e-6
    assert a.info["primal"] == pytest.approx(b.info["primal"], rel=1e-10)
    assert a.info["n_passes"] == b.info["n_passes"]
