"""Streamed (implicit) dictionaries: pricing, chunking, fits, memory guard, sampling, interruption.

The explicit dictionary de-duplicates equal columns and drops zero ones; the streamed one
cannot afford to (it never sees two columns at once), so its column indices differ.  Supports
are therefore compared as sets of *columns on the training data* (each normalised by its
maximum), never as index sets: duplicates in a working set cannot change the Lasso optimum.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import wedgenet as wn
from wedgenet.dictionaries import MemoryBudgetError
from wedgenet.dictionaries.streaming import LocalPricer, scan_range, streamed_dictionary
from wedgenet.fitting import FitInterrupted
from wedgenet.solvers.base import dense_violators

CONFIGS = [("l1", False, 2), ("l1", True, 2), ("l2", False, 2), ("l2", True, 2), ("l1", False, 3), ("l1", True, 3)]


def _data(seed: int, n: int, d: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    y = np.maximum(X @ w + 0.3, 0.0) - 0.7 * np.maximum(-X[:, 0] + 0.2, 0.0) + 0.05 * rng.standard_normal(n)
    return X, y


def _column_set(K: np.ndarray, decimals: int = 8, modulo_intercept: bool = False) -> set:
    """Nonzero columns of ``K``, each scaled to max 1, rounded: a support up to duplicates.

    Columns below 1e-12 of the largest are rounding noise (e.g. a depth-3 unit whose threshold
    ties with other samples' activations) and are left out.  ``modulo_intercept``: columns are
    first centred and given the sign of their first clear entry, so columns equal up to sign and
    a constant (duplicates when the intercept is free) coincide.
    """
    out = set()
    big = np.abs(K).max() if K.size else 0.0
    for j in range(K.shape[1]):
        c = K[:, j]
        m = np.abs(c).max()
        if m > 1e-12 * big:
            if modulo_intercept:
                c = c - c.mean()
                m = np.abs(c).max()
                c = c * np.sign(c[np.flatnonzero(np.abs(c) > 1e-6 * m)[0]])
            out.add(tuple(np.round(c / m, decimals)))
    return out


def _fit(X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return wn.fit(X, y, **kw)


# ------------------------------------------------------------------------------------ pricing
@pytest.mark.parametrize("reg,bias,depth", CONFIGS)
@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_scores_are_the_columns_and_cover_the_explicit_dictionary(reg, bias, depth, d):
    if depth == 3 and d > 3:
        pytest.skip("depth-3 pools grow as n^2 C(., d-1); covered for d <= 3")
    rng = np.random.default_rng(10 * d + depth)
    n = 6 if depth == 3 else 9
    X = rng.standard_normal((n, d))
    D = wn.dictionary(X, reg=reg, bias=bias, depth=depth)
    S = streamed_dictionary(X, reg=reg, bias=bias, depth=depth, chunk_size=5)
    assert S.n_columns == S.n_candidates_total * S.per
    K = S.columns(np.arange(S.n_columns))
    assert K.flags.f_contiguous and K.shape == (n, S.n_columns)
    # every explicit column is a streamed column (the streamed one keeps duplicates and zeros)
    assert _column_set(D.K) <= _column_set(K)
    assert _column_set(K) <= _column_set(D.K)
    for theta in (rng.standard_normal(n), rng.standard_normal((n, 3))):
        scores = S.price(theta)
        c = K.T @ theta
        ref = np.abs(c) if c.ndim == 1 else np.linalg.norm(c, axis=1)
        scale = max(1.0, ref.max())
        # depth-3 levels with threshold 0 after the first duplicate that first one and score 0
        assert np.all((np.abs(scores - ref) <= 1e-10 * scale) | ((scores == 0) & (depth == 3)))
        _, _, m = S.violators(theta, 0, math.inf)
        assert m == pytest.approx(D.price(theta).max(), rel=1e-12, abs=1e-12)
    # generator neurons of the streamed columns reproduce them
    j = np.flatnonzero(K.max(axis=0) > 0)[::3]
    Z = np.maximum(X @ S.weights[j].T + S.biases[j], 0.0)
    if depth == 3:
        Z = np.maximum(S.outer_sign[j] * (Z - S.thresholds[j]), 0.0)
    np.testing.assert_allclose(Z, K[:, j], rtol=0, atol=1e-12 * max(1.0, np.abs(X).max()))
    p = 1 if reg == "l1" else 2
    np.testing.assert_allclose(np.linalg.norm(S.weights[j], ord=p, axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("reg,bias,depth", [("l1", True, 2), ("l2", True, 2), ("l1", True, 3)])
@pytest.mark.parametrize("chunk", [1, 7, 13, 10_000])
def test_every_candidate_is_priced_exactly_once(reg, bias, depth, chunk):
    rng = np.random.default_rng(3)
    n, d = (8, 2) if depth == 3 else (11, 3)
    X = rng.standard_normal((n, d))
    theta = rng.standard_normal(n)
    S = streamed_dictionary(X, reg=reg, bias=bias, depth=depth, chunk_size=chunk)
    total = S.n_positions
    assert total % 7 and total % 13  # the chunkings do not divide the number of candidates
    res = scan_range(S.spec, theta[:, None], 0, total, S.n_columns, -math.inf, chunk)
    assert res.n_positions == total and res.complete
    np.testing.assert_array_equal(np.sort(res.idx), np.arange(S.n_columns))
    # and the chunked scores are those of one single kernel call
    full = S.spec.price(0, total, theta[:, None])
    np.testing.assert_array_equal(res.scores[np.argsort(res.idx)], full)
    # sub-ranges that do not align with chunks (as Dask tasks have) also cover each once
    cuts = [0, total // 3, total // 3 + 1, total - 2, total]
    seen = np.concatenate([scan_range(S.spec, theta[:, None], a, b, S.n_columns, -math.inf, chunk).idx
                           for a, b in zip(cuts[:-1], cuts[1:], strict=True)])
    np.testing.assert_array_equal(np.sort(seen), np.arange(S.n_columns))


def test_violators_protocol_matches_dense_pricing():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((12, 3))
    S = streamed_dictionary(X, reg="l1", bias=True, chunk_size=17)
    K = S.columns(np.arange(S.n_columns))
    theta = rng.standard_normal(12)
    full = S.price(theta)
    thr = float(np.quantile(full, 0.9))
    exclude = np.sort(rng.choice(np.flatnonzero(full > thr), 5, replace=False)).astype(np.int64)
    for k in (0, 1, 10, 10_000):
        idx, sc, m = S.violators(theta, k, thr, exclude)
        ridx, rsc, rm = dense_violators(K, theta, k, thr, exclude)
        assert m == pytest.approx(rm, rel=1e-12)
        np.testing.assert_array_equal(idx, ridx)
        np.testing.assert_allclose(sc, rsc, rtol=1e-12)
        assert not np.isin(idx, exclude).any() and np.all(sc > thr) and np.all(np.diff(sc) <= 0)
    assert S.n_passes == 1  # one pass answered every query on this theta (cache)
    idx, _, _ = S.violators(-theta, 3, thr)
    assert S.n_passes == 2 and idx.size == 3
    S.violators(theta, 10, -math.inf)  # a lower threshold than the cached pass needs a new pass
    assert S.n_passes == 3


# ------------------------------------------------------------------------------------ fits
@pytest.mark.parametrize("reg,bias,depth", CONFIGS)
def test_explicit_and_streamed_fits_agree(reg, bias, depth):
    n, d = (9, 2) if depth == 3 else (16, 3)
    X, y = _data(7, n, d)
    kw = dict(lam=0.05, reg=reg, bias=bias, depth=depth)
    ne = _fit(X, y, dictionary_mode="explicit", **kw)
    ns = _fit(X, y, dictionary_mode="streamed", **kw)
    assert ne.info["dictionary_mode"] == "explicit" and ns.info["dictionary_mode"] == "streamed"
    assert ns.info["primal"] == pytest.approx(ne.info["primal"], rel=1e-8)
    assert ns.objective(X, y) == pytest.approx(ne.objective(X, y), rel=1e-8)
    assert ns.relative_gap <= 1e-6 and ns.max_violation <= 1 + 1e-6
    # the fitted values are unique (strictly convex loss) ...
    np.testing.assert_allclose(ns.predict(X), ne.predict(X), atol=1e-6 * max(1.0, np.abs(y).max()))
    # ... and so is the depth-2 support, up to duplicate columns: the sets of active columns on the
    # data agree.  Depth 3 has a free intercept and K1(t0) - K2(t0) = u - t0 at every level t0,
    # so its columns are linearly dependent and optimal supports are not unique (docs/conventions.md#g8).
    # A neuron with every sample on one side of its hyperplane is affine on the data: with a free
    # intercept it equals its opposite orientation up to sign, and which one is chosen is a tie
    # broken by rounding (the streamed survivors are priced by the streaming kernel, not BLAS).
    free = bool(streamed_dictionary(X, reg=reg, bias=bias, depth=depth).fit_intercept)
    if depth == 2:
        assert _column_set(ne.hidden(X), 6, free) == _column_set(ns.hidden(X), 6, free)
        assert ne.n_neurons == ns.n_neurons
    # streamed provenance names global candidate columns that rebuild the neurons
    D = streamed_dictionary(X, reg=reg, bias=bias, depth=depth)
    cols = np.array([r["column"] for r in ns.provenance])
    np.testing.assert_allclose(D.transform(X, cols), D.columns(cols), atol=1e-12)
    assert [r["expression"] for r in ns.provenance] == [D.provenance[int(c)].expression for c in cols]


@pytest.mark.parametrize("loss,kw", [("vector", {}), ("logistic", {"loss": "logistic"})])
def test_other_losses_agree(loss, kw):
    X, y = _data(11, 14, 2)
    if loss == "vector":
        y = np.c_[y, np.cos(X[:, 1])]
    else:
        y = np.where(y > np.median(y), 1.0, -1.0)
    ne = _fit(X, y, lam=0.1, dictionary_mode="explicit", **kw)
    ns = _fit(X, y, lam=0.1, dictionary_mode="streamed", **kw)
    assert ns.info["primal"] == pytest.approx(ne.info["primal"], rel=1e-7)
    assert ns.relative_gap <= 1e-6


def test_fit_path_streamed_matches_explicit():
    X, y = _data(5, 15, 2)
    lams = [0.5, 0.1, 0.03]
    pe = wn.fit_path(X, y, lams, dictionary_mode="explicit")
    ps = wn.fit_path(X, y, lams, dictionary_mode="streamed")
    for a, b in zip(pe, ps, strict=True):
        assert b.info["primal"] == pytest.approx(a.info["primal"], rel=1e-8)


def test_memory_guard_chooses_streaming():
    X, y = _data(2, 20, 3)
    with pytest.raises(MemoryBudgetError):
        wn.fit(X, y, lam=0.05, memory_budget=1e4, dictionary_mode="explicit")
    net = _fit(X, y, lam=0.05, memory_budget=1e4)  # dictionary_mode="auto"
    assert net.info["dictionary_mode"] == "streamed"
    ref = _fit(X, y, lam=0.05)
    assert ref.info["dictionary_mode"] == "explicit"
    assert net.info["primal"] == pytest.approx(ref.info["primal"], rel=1e-8)
    assert net.info["n_train"] == 20


def test_sampling_is_reproducible_and_certified_over_everything():
    X, y = _data(8, 25, 3)
    kw = dict(lam=0.05, bias=True, max_columns=400, random_state=3, dictionary_mode="streamed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = wn.fit(X, y, **kw)
        b = wn.fit(X, y, **kw)
        c = wn.fit(X, y, certify_all=True, **kw)
    assert a.info["sampled"] and a.info["certificate_scope"] == "sampled candidates"
    assert a.info["primal"] == b.info["primal"] and [r["column"] for r in a.provenance] == [
        r["column"] for r in b.provenance]
    # the same draw as the explicit sampled dictionary
    De = wn.dictionary(X, bias=True, max_columns=400, random_state=3)
    Ds = streamed_dictionary(X, bias=True, max_columns=400, random_state=3)
    assert De.n_candidates == Ds.n_candidates and _column_set(De.K) <= _column_set(Ds.columns(np.arange(Ds.n_columns)))
    # certify_all: the same solution, certified against every candidate
    assert c.info["certificate_scope"] == "all candidates"
    assert c.info["primal"] == a.info["primal"]
    assert c.max_violation >= c.info["sample_max_violation"] - 1e-12
    assert c.duality_gap >= a.duality_gap - 1e-12
    full = wn.fit(X, y, lam=0.05, bias=True, dictionary_mode="streamed")
    assert c.info["dual"] <= full.info["primal"] + 1e-9 <= c.info["primal"] + 2e-9  # a valid bracket
    # sampled streamed provenance uses global columns of the full dictionary
    F = streamed_dictionary(X, bias=True)
    cols = [r["column"] for r in a.provenance]
    assert [F.provenance[j].expression for j in cols] == [r["expression"] for r in a.provenance]


def test_certify_all_with_explicit_sample():
    X, y = _data(9, 18, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net = wn.fit(X, y, lam=0.05, max_columns=60, random_state=0, certify_all=True)
    assert net.info["dictionary_mode"] == "explicit" and net.info["certificate_scope"] == "all candidates"
    S = streamed_dictionary(X, bias=True)
    assert net.max_violation * 0.05 == pytest.approx(S.price(_dual(net, X, y)).max(), rel=1e-9)


def _dual(net, X, y):
    r = y - net.decision_function(X)
    return r - r.mean()


# ------------------------------------------------------------------------------------ interruption
class _InterruptingPricer(LocalPricer):
    def __init__(self, after: int) -> None:
        self.after = after
        self.calls = 0

    def scan(self, *a, **kw):
        self.calls += 1
        if self.calls > self.after:
            raise KeyboardInterrupt
        return super().scan(*a, **kw)


@pytest.mark.parametrize("after", [0, 3])
def test_ctrl_c_reports_the_last_certified_state(after, monkeypatch):
    X, y = _data(6, 18, 3)
    pricer = _InterruptingPricer(after)
    import wedgenet.fitting as fitting

    real = fitting.streamed_dictionary
    monkeypatch.setattr(fitting, "streamed_dictionary", lambda *a, **kw: real(*a, **{**kw, "pricer": pricer}))
    # the working set remembers scores between passes (few full passes): interrupt the second
    # restricted solve too, after the first certified state
    from wedgenet.solvers.inner import SquaredActiveSet

    real_solve = SquaredActiveSet.solve
    solves = []

    def solve(self, *a, **kw):
        solves.append(1)
        if after and len(solves) > 1:
            raise KeyboardInterrupt
        return real_solve(self, *a, **kw)

    monkeypatch.setattr(SquaredActiveSet, "solve", solve)
    with pytest.raises(FitInterrupted) as info:
        wn.fit(X, y, lam=0.01, dictionary_mode="streamed")
    assert isinstance(info.value, KeyboardInterrupt)
    net = info.value.network
    if after == 0:
        assert net is None and "before the first certified state" in str(info.value)
    else:
        assert net.info["interrupted"] and 0 <= net.relative_gap < 1 and net.n_neurons > 0
        assert net.objective(X, y) == pytest.approx(net.info["primal"], rel=1e-9)


# ------------------------------------------------------------------------------------ validation
def test_argument_validation():
    X, y = _data(1, 8, 2)
    with pytest.raises(ValueError, match="dictionary_mode"):
        wn.fit(X, y, lam=0.1, dictionary_mode="lazy")
    with pytest.raises(ValueError, match="pricing"):
        wn.fit(X, y, lam=0.1, pricing="ray")
    with pytest.warns(DeprecationWarning, match="pricing"), pytest.raises(ValueError, match="pricing"):
        wn.fit(X, y, lam=0.1, backend="ray")  # the former name still validates
    with pytest.raises(ValueError, match="client"):
        wn.fit(X, y, lam=0.1, pricing="dask")
    with pytest.raises(ValueError, match="client"):
        wn.fit(X, y, lam=0.1, client=object())
    with pytest.raises(ValueError, match="streamed"):
        wn.fit(X, y, lam=0.1, pricing="dask", client=object(), dictionary_mode="explicit")
    with pytest.raises(ValueError, match="solver"):
        wn.fit(X, y, lam=0.1, dictionary_mode="streamed", solver="cvxpy")
    with pytest.raises(ValueError, match="chunk_size"):
        streamed_dictionary(X, chunk_size=0)
    S = streamed_dictionary(X)
    with pytest.raises(IndexError):
        S.columns([S.n_columns])
    with pytest.raises(TypeError):
        np.asarray(S.weights)
    with pytest.raises(ValueError, match="rows"):
        S.violators(np.ones(3), 1, 0.0)
    assert "not materialised" in repr(S)


@pytest.mark.parametrize("reg", ["l1", "l2"])
def test_rank_zero_data_gives_the_certified_zero_network(reg):
    X = np.zeros((6, 3))
    y = np.arange(6.0)
    S = streamed_dictionary(X, reg=reg, bias=False)
    # l2 builds in the (empty) row space: no candidate; l1 keeps the e_k pool: all-zero columns
    assert (S.n_columns == 0) == (reg == "l2")
    assert S.violators(y, 5, 0.0)[2] == 0.0 and S.violators(y, 5, 0.0)[0].size == 0
    net = _fit(X, y, lam=0.1, reg=reg, bias=False, dictionary_mode="streamed")
    ref = _fit(X, y, lam=0.1, reg=reg, bias=False, dictionary_mode="explicit")
    assert net.n_neurons == ref.n_neurons == 0 and net.info["primal"] == pytest.approx(ref.info["primal"])


def test_auto_streams_large_dictionaries_only_for_the_working_set(monkeypatch):
    """``dictionary_mode="auto"`` streams over ``STREAM_ABOVE_BYTES`` (0.1 GB) with the working set,
    and stays explicit for a solver that needs every column."""
    import wedgenet.fitting as fitting
    from wedgenet.dictionaries.streaming import STREAM_ABOVE_BYTES, prefer_streamed

    assert STREAM_ABOVE_BYTES == 1e8
    assert prefer_streamed(1000, 12_501) and not prefer_streamed(1000, 12_500)
    monkeypatch.setattr(fitting, "prefer_streamed", lambda n, cols: True)  # as if K were large
    X, y = _data(3, 12, 2)
    assert _fit(X, y, lam=0.05).info["dictionary_mode"] == "streamed"
    assert _fit(X, y, lam=0.05, solver="cvxpy").info["dictionary_mode"] == "explicit"
