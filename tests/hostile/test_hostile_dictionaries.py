"""Hostile input for dictionaries: the whole float64 scale range (issue 17).

A dictionary is a set of hyperplanes through (differences of) samples; scaling the data, or
any one feature, maps it to the scaled hyperplanes.  So the columns on the training data,
each divided by its maximum, must not depend on the scale of the data or of its features,
explicit and streamed, for every registered family.  Fits on uniformly scaled data (with
``lam`` scaled alike, which makes it the same problem) must predict the same values.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wedgenet as wn
from wedgenet.dictionaries import FAMILIES
from wedgenet.dictionaries.streaming import streamed_dictionary

KEYS = sorted(FAMILIES, key=repr)
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _normalised(K: np.ndarray) -> np.ndarray:
    m = np.abs(K).max(axis=0)
    return K / np.where(m > 0, m, 1.0)


def _significant(K: np.ndarray, per: int) -> tuple[np.ndarray, np.ndarray]:
    """Columns clearly above rounding noise of their neuron (``> 1e-8`` of the largest column of
    the candidate), and columns not clearly noise (``> 1e-11``): a streamed depth-3 dictionary keeps
    the noise columns of threshold ties, whose values are not scale invariant."""
    cm = np.abs(K).max(axis=0)
    ref = np.repeat(cm.reshape(-1, per).max(axis=1), per)
    return cm > 1e-8 * ref, cm > 1e-11 * ref


def _match(A: np.ndarray, B: np.ndarray, tol: float) -> float:
    """Largest distance from a column of ``A`` to its nearest column of ``B`` (columns scaled to
    max 1), searched among the columns of ``B`` whose projection on a fixed positive vector lies
    within ``n tol`` of the column's (so larger distances count as no match: ``inf``)."""
    A, B = _normalised(A), _normalised(B)
    if A.shape[1] == 0:
        return 0.0
    if B.shape[1] == 0:
        return np.inf
    r = np.random.default_rng(0).uniform(0.5, 1.0, A.shape[0])
    ha, hb = r @ A, r @ B
    order = np.argsort(hb)
    hb = hb[order]
    lo = np.searchsorted(hb, ha - A.shape[0] * tol, side="left")
    hi = np.searchsorted(hb, ha + A.shape[0] * tol, side="right")
    worst = 0.0
    for j in range(A.shape[1]):
        cand = order[lo[j]:hi[j]]
        best = np.abs(B[:, cand] - A[:, j:j + 1]).max(axis=0).min() if cand.size else np.inf
        worst = max(worst, float(best))
    return worst


def _data(key, d, seed):
    n = 5 if key[2] == 3 else 8
    return np.random.default_rng(seed).standard_normal((n, d))


scales = st.floats(min_value=-150.0, max_value=150.0)


@SETTINGS
@given(key=st.sampled_from(KEYS), d=st.integers(2, 4), seed=st.integers(0, 10_000), overall=scales,
       per_feature=st.lists(scales, min_size=4, max_size=4), uniform=st.booleans())
def test_dictionary_is_invariant_to_data_and_feature_scale(key, d, seed, overall, per_feature, uniform):
    if key[2] == 3:
        d = min(d, 2)
    reg, bias, depth = key
    X = _data(key, d, seed)
    s = 10.0 ** overall * (1.0 if uniform else 10.0 ** np.asarray(per_feature[:d]))
    Xs = X * s
    D0 = wn.dictionary(X, reg=reg, bias=bias, depth=depth)
    D1 = wn.dictionary(Xs, reg=reg, bias=bias, depth=depth)
    assert D1.n_columns == D0.n_columns > 0
    assert np.all(np.isfinite(D1.K)) and np.all(np.isfinite(D1.weights)) and np.all(np.isfinite(D1.biases))
    # the same hyperplanes: columns scaled to max 1 agree as sets
    assert _match(D0.K, D1.K, 1e-6) <= 1e-6 and _match(D1.K, D0.K, 1e-6) <= 1e-6
    # unit-norm neurons in data coordinates, reproducing the columns on the scaled data
    p = 1 if reg == "l1" else 2
    np.testing.assert_allclose(np.linalg.norm(D1.weights, ord=p, axis=1), 1.0, rtol=1e-9)
    np.testing.assert_allclose(D1.transform(Xs), D1.K, rtol=0, atol=1e-9 * np.abs(D1.K).max())
    # streamed: the same candidates in the same order, so the columns agree one by one
    S0 = streamed_dictionary(X, reg=reg, bias=bias, depth=depth)
    S1 = streamed_dictionary(Xs, reg=reg, bias=bias, depth=depth)
    assert S1.n_columns == S0.n_columns
    idx = np.arange(S0.n_columns)
    K0, K1 = S0.columns(idx), S1.columns(idx)
    m0, m1 = _significant(K0, S0.per), _significant(K1, S1.per)
    assert np.all(m0[0] <= m1[1]) and np.all(m1[0] <= m0[1])
    both = m0[0] & m1[0]
    np.testing.assert_allclose(_normalised(K1[:, both]), _normalised(K0[:, both]), atol=1e-6)
    # pricing on the scaled data scores the scaled columns
    theta = np.random.default_rng(seed + 1).standard_normal(X.shape[0])
    # (depth 3 scores repeated zero-threshold levels 0: they duplicate the first one)
    scores, direct = S1.price(theta), np.abs(K1.T @ theta)
    if depth == 2:
        np.testing.assert_allclose(scores, direct, rtol=1e-8, atol=1e-12 * np.abs(K1).max())
    np.testing.assert_allclose(scores.max(), direct.max(), rtol=1e-8)


@pytest.mark.parametrize("scale", [1e9, 1e-9, 1e17, 1e-17])
def test_issue_17_reproducer_l2_dictionary_keeps_its_columns(scale):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(21, 20))
    assert wn.dictionary(X, reg="l2").n_columns == 312
    D = wn.dictionary(X * scale, reg="l2")
    assert D.n_columns == 312
    assert np.all(np.isfinite(D.weights)) and np.all(D.normalisers > 0)


@pytest.mark.parametrize("scale", [1e40, 1e-40])
def test_issue_17_reproducer_d6(scale):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(9, 6))
    for reg, bias in [("l2", False), ("l2", True), ("l1", False), ("l1", True)]:
        D0 = wn.dictionary(X, reg=reg, bias=bias)
        D1 = wn.dictionary(X * scale, reg=reg, bias=bias)
        assert D1.n_columns == D0.n_columns
        assert _match(D0.K, D1.K, 1e-6) <= 1e-6


def test_normalisers_scale_as_volumes():
    """``||c||_p`` of the cross product of ``d-1`` data rows scales as ``s^(d-1)`` (inf beyond float64)."""
    X = np.random.default_rng(2).standard_normal((7, 3))
    D0 = wn.dictionary(X, reg="l2")
    D1 = wn.dictionary(X * 2.0**200, reg="l2")
    np.testing.assert_allclose(D1.normalisers, D0.normalisers * 2.0**400, rtol=1e-12)
    D2 = wn.dictionary(X * 2.0**600, reg="l2")
    assert np.all(np.isinf(D2.normalisers)) and D2.n_columns == D0.n_columns


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from([k for k in KEYS if k[2] == 2]), seed=st.integers(0, 1000),
       exponent=st.floats(min_value=-60.0, max_value=60.0))
def test_fit_predictions_are_invariant_to_data_scale(key, seed, exponent):
    reg, bias, _ = key
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((12, 2))
    y = np.maximum(X[:, 0] - X[:, 1], 0.0) + 0.1 * rng.standard_normal(12)
    s = 10.0 ** exponent
    lam = 0.05
    f0 = wn.fit(X, y, lam=lam, reg=reg, bias=bias)
    f1 = wn.fit(X * s, y, lam=lam * s, reg=reg, bias=bias)
    assert f1.info["converged"] and f0.info["converged"]
    np.testing.assert_allclose(f1.predict(X * s), f0.predict(X), atol=1e-5 * (1 + np.abs(y).max()))


@pytest.mark.parametrize("scale", [1e9, 1e-9, 1e17])
def test_issue_17_fit_no_false_certificate(scale):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(21, 20))
    y = X[:, 0] - X[:, 1]
    net0 = wn.fit(X, y, lam=0.1, reg="l2", bias=False)
    net = wn.fit(X * scale, y, lam=0.1 * scale, reg="l2", bias=False)
    assert net.n_neurons > 0
    np.testing.assert_allclose(net.predict(X * scale), net0.predict(X), atol=1e-4)
