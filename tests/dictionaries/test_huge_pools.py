"""Sampling candidates whose count exceeds the int64 rank range (drawn by subsets, not ranks)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import wedgenet as wn

N, D = 300, 15  # C(300, 14) ~ 1e24 candidates: far beyond int64 ranks


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(7).standard_normal((N, D))


@pytest.mark.parametrize("reg,bias", [("l1", False), ("l1", True), ("l2", False), ("l2", True)])
def test_sampled_huge_dictionary_invariant_and_reproducible(X, reg, bias):
    D1 = wn.dictionary(X, reg=reg, bias=bias, max_columns=400, random_state=3)
    assert D1.n_candidates_total > np.iinfo(np.int64).max
    assert D1.sampled and 0 < D1.K.shape[1] <= 400
    ref = np.maximum(X @ D1.weights.T + D1.biases, 0.0)
    np.testing.assert_allclose(D1.K, ref, rtol=0, atol=1e-12 * np.abs(D1.K).max())
    # every column's hyperplane passes through its defining samples
    for j in range(0, D1.K.shape[1], 7):
        rows = list(D1.provenance[j].samples)
        assert rows
        z = X[rows] @ D1.weights[j] + D1.biases[j]
        scale = np.abs(X[rows]) @ np.abs(D1.weights[j]) + abs(D1.biases[j])
        assert np.all(np.abs(z) <= 1e-10 * scale)
    D2 = wn.dictionary(X, reg=reg, bias=bias, max_columns=400, random_state=3)
    np.testing.assert_array_equal(D1.K, D2.K)
    D3 = wn.dictionary(X, reg=reg, bias=bias, max_columns=400, random_state=4)
    assert not np.array_equal(D1.K, D3.K)


def test_sampled_subsets_are_distinct_sorted_and_in_range(X):
    from wedgenet.dictionaries.setup import prepare

    S = prepare(X, "l1", True, 2, wn.algebra.DEFAULT_RTOL)
    assert S.huge
    subs, anch = S.sample_subsets(500, np.random.default_rng(0))
    assert subs.shape == (500, S.k_sub) and anch.shape == (500,)
    assert np.all(np.diff(subs, axis=1) > 0)
    assert len({(int(a), *map(int, s)) for a, s in zip(anch, subs, strict=True)}) == 500
    # anchored p=1: anchor a may use only the pool prefix of length n_pool - 1 - a
    assert np.all(subs[:, -1] < S.n_pool - 1 - anch)


def test_anchor_frequencies_follow_candidate_counts(X):
    from wedgenet.dictionaries.setup import prepare

    S = prepare(X, "l1", True, 2, wn.algebra.DEFAULT_RTOL)
    _, anch = S.sample_subsets(20000, np.random.default_rng(1))
    counts = np.diff(S.offsets).astype(object)
    p = np.array([float(c) / float(S.total) for c in counts])
    # anchors 0..4 carry almost all the mass (the pool prefix shrinks with the anchor)
    head = p[:5] / p[:5].sum()
    freq = np.bincount(anch, minlength=p.size)[:5] / 20000
    np.testing.assert_allclose(freq, p[:5], atol=0.02)
    assert head[0] > head[1] > head[2]
    assert math.isclose(p.sum(), 1.0, rel_tol=1e-12)


def test_fit_with_max_columns_on_a_huge_pool_is_certified_on_its_sample(X):
    y = X[:, 0] - np.maximum(X[:, 1], 0.0)
    net = wn.fit(X, y, lam=5.0, reg="l2", bias=True, max_columns=300, random_state=0)
    assert net.relative_gap <= 1e-6 and net.n_neurons > 0


def test_huge_pool_without_sampling_fails_with_advice(X):
    with pytest.raises(ValueError, match="max_columns"):
        wn.streamed_dictionary(X, reg="l1", bias=False)
    with pytest.raises((ValueError, wn.MemoryBudgetError), match="max_columns"):
        wn.dictionary(X, reg="l1", bias=False)


@pytest.mark.parametrize("reg,bias", [("l1", False), ("l1", True)])
def test_wide_data_samples_subsets_nearly_as_large_as_the_pool(reg, bias):
    # d > n with p=1: k = d - 1 of a pool of about n + d vectors; drawing with replacement and
    # rejecting repeats would almost never succeed (l2 builds in the 30-dim row space: enumerable)
    rng = np.random.default_rng(0)
    Xw = rng.standard_normal((30, 60))
    D = wn.dictionary(Xw, reg=reg, bias=bias, max_columns=100, random_state=0)
    assert D.sampled and D.n_candidates == 50 and D.n_columns >= 90
    np.testing.assert_allclose(D.K, np.maximum(Xw @ D.weights.T + D.biases, 0.0), rtol=0, atol=1e-12 * D.K.max())
    net = wn.fit(Xw, rng.standard_normal(30), lam=0.1, reg=reg, bias=bias, max_columns=100, random_state=0)
    assert net.n_neurons > 0 and net.relative_gap <= 1e-6


def test_floyd_draws_are_uniform_over_k_subsets():
    from wedgenet.dictionaries.setup import _distinct_sorted

    m = 60_000
    S = _distinct_sorted(np.random.default_rng(1), np.array([5, 6] * (m // 2)), 3)
    assert np.all(np.diff(S, axis=1) > 0) and S.min() >= 0
    for L, rows in ((5, S[0::2]), (6, S[1::2])):
        assert rows.max() < L
        _, counts = np.unique(rows, axis=0, return_counts=True)
        expected = rows.shape[0] / math.comb(L, 3)
        assert counts.size == math.comb(L, 3)
        chi2 = float(np.sum((counts - expected) ** 2 / expected))
        assert chi2 < 3 * math.comb(L, 3)  # dof C(L,3)-1; far below any biased sampler's value
