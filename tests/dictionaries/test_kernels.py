"""The one-pass depth-2 kernel against the reference column kernels (bitwise), and in-place compaction."""

from __future__ import annotations

import math

import numpy as np
import pytest

import wedgenet as wn
from wedgenet.algebra import binomial_table
from wedgenet.dictionaries._kernels import compact_columns, fill_columns, fill_hash_pairs


def _root(a: np.ndarray) -> np.ndarray:
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


@pytest.mark.parametrize("reg,bias", [("l1", False), ("l1", True), ("l2", False), ("l2", True)])
def test_one_pass_kernel_matches_reference_kernels(reg, bias):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((23, 3))
    X[7] = X[3]  # duplicate sample: columns with entries snapped to exactly 0 on the breakline
    W, b = wn.dictionary(X, reg=reg, bias=bias).candidate_neurons()
    W = np.ascontiguousarray(W[::2])  # one orientation per neuron; the kernel writes both
    b = np.ascontiguousarray(b[::2])
    N, n = W.shape[0], X.shape[0]
    r = np.random.default_rng(0).uniform(0.5, 1.0, (2, n))
    K = np.empty((n, 2 * N), order="F")
    h, g, nz, cmax = fill_hash_pairs(np.ascontiguousarray(X.T), W, b, r, K)
    K_ref = np.empty((n, 2 * N), order="F")
    fill_columns(X, W, b, False, np.arange(2 * N), K_ref)
    assert np.array_equal(K, K_ref)  # same arithmetic, same values (snapping included)
    assert np.sum(K == 0.0) > N  # breakline points are exact zeros in both
    np.testing.assert_allclose(h, r[0] @ K, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(g, r[1] @ K, rtol=1e-13, atol=1e-300)
    np.testing.assert_array_equal(cmax, K.max(axis=0))
    np.testing.assert_array_equal(nz, K.max(axis=0) > 0)


def test_compact_columns_moves_kept_columns_forward_in_place():
    K = np.asfortranarray(np.arange(24.0).reshape(3, 8))
    ref = K.copy()
    keep = np.array([0, 2, 3, 6, 7])
    compact_columns(K, keep)
    np.testing.assert_array_equal(K[:, :5], ref[:, keep])


def test_dictionary_with_merged_columns_releases_the_dropped_memory():
    X = np.random.default_rng(4).standard_normal((9, 3))
    X[5] = X[2]
    X[1] = 2.0 * X[0]
    D = wn.dictionary(X, reg="l1")
    assert D.n_duplicates + D.n_zero > 0
    assert D.K.flags.f_contiguous
    assert _root(D.K).nbytes == D.K.nbytes  # the buffer was shrunk to the kept columns
    np.testing.assert_allclose(D.K, np.maximum(X @ D.weights.T + D.biases, 0.0), rtol=0, atol=1e-12)


def test_binomial_table_is_exact_and_saturates():
    T = binomial_table(70, 60)
    big = np.iinfo(np.int64).max
    for a in range(71):
        for j in range(61):
            assert int(T[a, j]) == min(math.comb(a, j), big)
