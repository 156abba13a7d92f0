"""Dependent rows give an exact 0; batched calls equal loops of single calls."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _algebra_helpers import det_with_row, make_rng, row_norm_product

import wedgenet as wn

DIMS = range(2, 11)


def _dependent_variants(d: int, rng: np.random.Generator):
    """``(d-1, d)`` row stacks that are linearly dependent in various ways."""
    m = d - 1
    base = rng.standard_normal((m, d))
    zero_row = base.copy()
    zero_row[m // 2] = 0.0
    yield "zero row", zero_row
    yield "all zero", np.zeros((m, d))
    if m >= 2:
        dup = base.copy()
        dup[-1] = dup[0]
        yield "duplicate", dup
        scaled = base.copy()
        scaled[1] = 0.1 * scaled[0]  # 0.1 is not representable: rounding in every entry
        yield "0.1 * v", scaled
        neg = base.copy()
        neg[0] = -3.7 * neg[-1]
        yield "-3.7 * v", neg
    if m >= 3:
        comb = base.copy()
        comb[2] = 0.1 * comb[0] + 0.3 * comb[1]
        yield "0.1 v1 + 0.3 v2", comb
        tiny_big = base.copy()
        tiny_big[0] *= 1e-8
        tiny_big[1] = 1e6 * tiny_big[0]
        yield "mixed scales", tiny_big


@pytest.mark.parametrize("d", DIMS)
def test_dependent_rows_give_exact_zero(d):
    rng = make_rng(1000 + d)
    for name, V in _dependent_variants(d, rng):
        c = wn.cross(V)
        assert c.shape == (d,)
        assert np.all(c == 0.0), (name, c)
        # a dependent stack also has zero wedge and zero volume with any extra row
        y = rng.standard_normal(d)
        assert abs(det_with_row(y, V)) <= 1e-12 * np.linalg.norm(y) * max(row_norm_product(V), 1.0)


def test_d2_single_row_is_dependent_only_if_zero():
    assert np.all(wn.cross([[0.0, 0.0]]) == 0.0)
    assert np.all(wn.cross([[-0.0, 0.0]]) == 0.0)
    np.testing.assert_array_equal(wn.cross([[1e-300, 0.0]]), [0.0, -1e-300])
    np.testing.assert_array_equal(wn.cross([[5e-324, 0.0]]), [0.0, -5e-324])


@pytest.mark.parametrize("d", DIMS)
def test_batch_with_some_dependent_entries(d):
    rng = make_rng(1100 + d)
    V = rng.standard_normal((12, d - 1, d))
    dep = [1, 4, 5, 11]
    for t in dep:
        V[t, 0] = 0.0 if d == 2 else 0.1 * V[t, -1]
    C = wn.cross(V)
    for t in range(12):
        single = wn.cross(V[t])
        np.testing.assert_array_equal(C[t], single)
        if t in dep:
            assert np.all(C[t] == 0.0)
        else:
            assert np.linalg.norm(C[t]) > 1e-6 * row_norm_product(V[t])


@pytest.mark.parametrize("d", [2, 3, 4, 7])
def test_batched_shapes_equal_loop_of_single_calls(d):
    rng = make_rng(1200 + d)
    V = rng.standard_normal((3, 4, d - 1, d))
    C = wn.cross(V)
    assert C.shape == (3, 4, d)
    for a, b in itertools.product(range(3), range(4)):
        np.testing.assert_array_equal(C[a, b], wn.cross(V[a, b]))
    # non-contiguous input gives the same values
    Vt = np.swapaxes(V, 0, 1)
    np.testing.assert_array_equal(wn.cross(Vt), np.swapaxes(C, 0, 1))
    # wedge batches the same way
    W = wn.wedge(V)
    assert W.shape == (3, 4, len(wn.algebra.blade_indices(d, d - 1)))
    for a, b in itertools.product(range(3), range(4)):
        np.testing.assert_array_equal(W[a, b], wn.wedge(V[a, b]))


@pytest.mark.parametrize("d", [1, 2, 3, 5, 9])
def test_cross_from_indices_equals_cross_of_gathered_rows(d):
    rng = make_rng(1300 + d)
    n = 12
    X = rng.standard_normal((n, d))
    idx = np.array([rng.choice(n, d - 1, replace=False) for _ in range(50)]).reshape(50, d - 1)
    np.testing.assert_array_equal(wn.cross_from_indices(X, idx), wn.cross(X[idx]))
    # affine: the last index is the base point
    idx_a = np.array([rng.choice(n, d, replace=False) for _ in range(50)])
    expected = wn.cross(X[idx_a[:, :-1]] - X[idx_a[:, -1:]])
    np.testing.assert_array_equal(wn.cross_from_indices(X, idx_a, affine=True), expected)
    # repeated indices are dependent subsets: exact zero
    if d >= 3:
        rep = idx.copy()
        rep[:, 0] = rep[:, 1]
        assert np.all(wn.cross_from_indices(X, rep) == 0.0)
    if d >= 2:
        rep_a = idx_a.copy()
        rep_a[:, 0] = rep_a[:, -1]  # a point equal to the base point: zero difference row
        assert np.all(wn.cross_from_indices(X, rep_a, affine=True) == 0.0)


def test_cross_from_indices_with_all_combinations():
    rng = make_rng(1400)
    X = rng.standard_normal((7, 4))
    idx = wn.algebra.combinations_chunk(7, 3, 0, wn.algebra.n_combinations(7, 3))
    got = wn.cross_from_indices(X, idx)
    colex = sorted(itertools.combinations(range(7), 3), key=lambda c: c[::-1])
    for t, comb in enumerate(colex):
        np.testing.assert_array_equal(got[t], wn.cross(X[list(comb)]))


def test_rtol_controls_the_zero_threshold():
    # the third row is row 1 + row 2 + delta e_2: near-dependent after any per-feature scaling
    # (the test is taken after power-of-two feature equilibration, so a row that differs from
    # the span only in a feature of its own would count as independent)
    V = np.array([[1.0, 0.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [1.0, 1.0, 2.0 + 1e-9, 0.0]])
    delta = V[2, 2] - 2.0
    c = wn.cross(V)
    assert np.linalg.norm(c) == pytest.approx(delta, rel=1e-6)
    assert np.all(wn.cross(V, rtol=1e-6) == 0.0)
    assert np.all(wn.cross(V, rtol=0.0) == c)


# --- range safety (regression tests for the power-of-two row scaling in _kernels._cross_one) ---


def test_large_entries_are_not_treated_as_dependent():
    # ||c||^2 overflows here, but c itself is representable
    np.testing.assert_array_equal(wn.cross([[1e200, 1e200]]), [1e200, -1e200])
    np.testing.assert_array_equal(wn.cross([[3e300, -1e-300]]), [-1e-300, -3e300])
    np.testing.assert_array_equal(wn.cross([[1e200, 0.0, 0.0], [0.0, 1e100, 0.0]]), [0.0, 0.0, 1e300])
    V = np.array([[1e160, 1e150, 0.0, 0.0], [0.0, 1e-10, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
    c = wn.cross(V)
    assert np.all(np.isfinite(c))
    np.testing.assert_allclose(c, [0.0, 0.0, 0.0, -1e150], rtol=1e-14, atol=0)


def test_scale_invariance_of_the_dependence_test():
    rng = make_rng(1500)
    for d in (8, 32, 38):
        V = rng.standard_normal((d - 1, d))
        dep = V.copy()
        dep[0] = 0.1 * dep[-1]
        c1 = wn.cross(V)
        for s in (2.0**-20, 1e-5, 1e5, 2.0**20):
            # dependent rows stay exactly 0 at every scale (||c||^2 used to overflow at 1e5, d=32)
            assert np.all(wn.cross(s * dep) == 0.0), (d, s)
            # independent rows are never zeroed (prod ||v_i|| used to underflow at 1e-5, d=38)
            cs = wn.cross(s * V)
            np.testing.assert_allclose(cs, s ** (d - 1) * c1, rtol=1e-12, atol=0)


@pytest.mark.parametrize("d", [6, 20, 65, 120])
def test_independent_gaussian_rows_in_high_dimension_are_not_zeroed(d):
    # the Hadamard ratio ||c|| / prod ||v_i|| of Gaussian rows is ~3e-14 at d = 65: a 1e-12
    # threshold on it used to zero these products; the per-row sine test does not
    rng = np.random.default_rng(d)
    V = rng.standard_normal((d - 1, d))
    c = wn.cross(V)
    y = rng.standard_normal(d)
    det = np.linalg.det(np.vstack([y, V]))
    assert np.linalg.norm(c) > 0
    np.testing.assert_allclose(c @ y, det, rtol=1e-8)


@pytest.mark.parametrize("d", [4, 5, 6, 20, 65])
def test_one_row_in_the_span_of_the_others_gives_exact_zero(d):
    rng = np.random.default_rng(100 + d)
    V = rng.standard_normal((d - 1, d))
    V[-1] = V[0] - 0.5 * V[1]
    assert np.all(wn.cross(V) == 0.0)
    # a tiny but real perturbation (sine 1e-6 >> rtol) keeps the product
    B = V[:-1]
    u = rng.standard_normal(d)
    u -= B.T @ np.linalg.lstsq(B.T, u, rcond=None)[0]  # the part of u orthogonal to the others
    V[-1] += 1e-6 * np.linalg.norm(V[-1]) * u / np.linalg.norm(u)
    c = wn.cross(V)
    assert np.linalg.norm(c) > 0
    y = rng.standard_normal(d)
    np.testing.assert_allclose(c @ y, np.linalg.det(np.vstack([y, V])), rtol=1e-5)
