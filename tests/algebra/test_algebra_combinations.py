"""k-subsets in the combinatorial number system (colex order)."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from _algebra_helpers import PROPERTY, make_rng
from hypothesis import given
from hypothesis import strategies as st

import wedgenet as wn


def _colex(n: int, k: int) -> list[tuple[int, ...]]:
    return sorted(itertools.combinations(range(n), k), key=lambda c: c[::-1])


@pytest.mark.parametrize("n, k", [(1, 1), (5, 1), (5, 2), (6, 3), (7, 7), (9, 4), (12, 5), (10, 0)])
def test_full_chunk_is_colex_order(n, k):
    total = wn.algebra.n_combinations(n, k)
    assert total == math.comb(n, k)
    got = wn.algebra.combinations_chunk(n, k, 0, total)
    assert got.shape == (total, k)
    assert got.dtype == np.int64
    assert [tuple(int(v) for v in row) for row in got] == _colex(n, k)


@pytest.mark.parametrize("n, k", [(5, 2), (9, 4), (12, 5), (20, 3)])
def test_rank_unrank_round_trip(n, k):
    total = math.comb(n, k)
    ranks = np.arange(total)
    combos = wn.algebra.unrank_combinations(ranks, n, k)
    np.testing.assert_array_equal(combos, wn.algebra.combinations_chunk(n, k, 0, total))
    np.testing.assert_array_equal(wn.algebra.rank_combinations(combos, n), ranks)
    # rank formula sum_i C(c_i, i + 1)
    for row, r in zip(combos[:: max(1, total // 50)], ranks[:: max(1, total // 50)], strict=True):
        assert sum(math.comb(int(c), i + 1) for i, c in enumerate(row)) == r


@PROPERTY
@given(st.integers(1, 40), st.data())
def test_rank_unrank_round_trip_random(n, data):
    k = data.draw(st.integers(1, n))
    total = math.comb(n, k)
    ranks = np.array(data.draw(st.lists(st.integers(0, total - 1), min_size=1, max_size=20)), dtype=np.int64)
    combos = wn.algebra.unrank_combinations(ranks, n, k)
    assert np.all(np.diff(combos, axis=1) > 0) and combos.min() >= 0 and combos.max() < n
    np.testing.assert_array_equal(wn.algebra.rank_combinations(combos, n), ranks)


@PROPERTY
@given(st.integers(1, 11), st.data())
def test_uneven_chunks_visit_every_subset_once(n, data):
    k = data.draw(st.integers(0, n))
    total = math.comb(n, k)
    cuts = sorted(data.draw(st.lists(st.integers(0, total), max_size=6)))
    bounds = [0, *cuts, total]
    parts = [wn.algebra.combinations_chunk(n, k, a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    for (a, b), p in zip(zip(bounds[:-1], bounds[1:], strict=True), parts, strict=True):
        assert p.shape == (b - a, k)
    full = np.concatenate(parts, axis=0)
    rows = [tuple(int(v) for v in r) for r in full]
    assert rows == _colex(n, k)
    assert len(set(rows)) == total


def test_rank_does_not_depend_on_n():
    combos = np.array([[0, 2, 5], [1, 3, 4]])
    r = wn.algebra.rank_combinations(combos, 6)
    for n in (7, 10, 30):
        np.testing.assert_array_equal(wn.algebra.rank_combinations(combos, n), r)


def test_large_n_near_int64_limit():
    # C(68, 60) fits in int64 although intermediate C(68, 34) does not
    n, k = 68, 60
    total = math.comb(n, k)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        last = wn.algebra.combinations_chunk(n, k, total - 1, total)
        first = wn.algebra.combinations_chunk(n, k, 0, 2)
        rng = make_rng(3000)
        S = np.sort(np.array([rng.choice(n, k, replace=False) for _ in range(50)]), axis=1)
        r = wn.algebra.rank_combinations(S, n)
        back = wn.algebra.unrank_combinations(r, n, k)
    np.testing.assert_array_equal(last[0], np.arange(n - k, n))
    np.testing.assert_array_equal(first[0], np.arange(k))
    np.testing.assert_array_equal(first[1], [*range(k - 1), k])
    np.testing.assert_array_equal(back, S)
    for row, rank in zip(S, r, strict=True):
        assert sum(math.comb(int(c), i + 1) for i, c in enumerate(row)) == rank


def test_overflow_raises():
    n, k = 200, 100
    assert wn.algebra.n_combinations(n, k) == math.comb(200, 100)  # exact Python int
    with pytest.raises(ValueError, match="int64"):
        wn.algebra.combinations_chunk(n, k, 0, 10)
    with pytest.raises(ValueError, match="int64"):
        wn.algebra.unrank_combinations(np.arange(3), n, k)
    with pytest.raises(ValueError, match="int64"):
        wn.algebra.rank_combinations(np.arange(100)[None, :], n)
