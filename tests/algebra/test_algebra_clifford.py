"""wedgenet's coordinate GA kernels agree with the clifford package (docs/conventions.md#geometric-algebra)."""

from __future__ import annotations

import itertools
from functools import reduce

import numpy as np
import pytest
from _algebra_helpers import make_rng, perm_sign

import wedgenet as wn

clifford = pytest.importorskip("clifford")

DIMS = range(2, 8)


def _blade(V: np.ndarray):
    """``v_1 ^ ... ^ v_k`` as a clifford MultiVector (clifford's outer product ``^``)."""
    d = V.shape[1]
    return reduce(lambda a, b: a ^ b, [wn.to_clifford(v, d, 1) for v in V])


@pytest.mark.parametrize("d", DIMS)
def test_wedge_matches_clifford_outer_product_all_grades(d):
    rng = make_rng(100 + d)
    for k in range(1, d + 1):
        for _ in range(3):
            V = rng.standard_normal((k, d))
            expected = wn.from_clifford(_blade(V), grade=k)
            got = wn.wedge(V)
            assert got.shape == (len(wn.algebra.blade_indices(d, k)),)
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
            # the blade is homogeneous, so from_clifford infers the grade
            np.testing.assert_allclose(wn.from_clifford(_blade(V)), expected, rtol=0, atol=0)


@pytest.mark.parametrize("d", DIMS)
def test_hodge_star_matches_clifford_dual(d):
    rng = make_rng(200 + d)
    for k in range(0, d + 1):
        B = rng.standard_normal(len(wn.algebra.blade_indices(d, k)))
        expected = wn.from_clifford(wn.to_clifford(B, d, k).dual(), grade=d - k)
        got = wn.hodge_star(B, d, k)
        # the Hodge star only permutes coefficients and flips signs: exact
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("d", DIMS)
def test_hodge_star_batched_matches_single(d):
    rng = make_rng(250 + d)
    k = d // 2
    B = rng.standard_normal((3, 2, len(wn.algebra.blade_indices(d, k))))
    got = wn.hodge_star(B, d, k)
    for i, j in itertools.product(range(3), range(2)):
        np.testing.assert_array_equal(got[i, j], wn.hodge_star(B[i, j], d, k))


@pytest.mark.parametrize("d", DIMS)
def test_cross_is_hodge_of_wedge_in_clifford(d):
    rng = make_rng(300 + d)
    for _ in range(5):
        V = rng.standard_normal((d - 1, d))
        expected = wn.from_clifford(_blade(V).dual(), grade=1)
        c = wn.cross(V)
        np.testing.assert_allclose(c, expected, rtol=1e-11, atol=1e-12 * np.linalg.norm(expected))
        # and the coordinate route hodge_star(wedge(V)) agrees too
        np.testing.assert_allclose(
            wn.hodge_star(wn.wedge(V), d, d - 1), expected, rtol=1e-11, atol=1e-12 * np.linalg.norm(expected)
        )


@pytest.mark.parametrize("d", DIMS)
def test_row_permutations_multiply_by_permutation_sign(d):
    rng = make_rng(400 + d)
    V = rng.standard_normal((d - 1, d))
    c = wn.cross(V)
    perms = list(itertools.permutations(range(d - 1)))
    for idx in rng.choice(len(perms), size=min(len(perms), 8), replace=False):
        p = list(perms[idx])
        s = perm_sign(p)
        np.testing.assert_allclose(wn.cross(V[p]), s * c, rtol=1e-12, atol=1e-13 * np.linalg.norm(c))
        # same sign rule for the clifford blade
        expected = wn.from_clifford(_blade(V[p]).dual(), grade=1)
        np.testing.assert_allclose(expected, s * c, rtol=1e-11, atol=1e-12 * np.linalg.norm(c))
    for k in range(2, d + 1):
        W = rng.standard_normal((k, d))
        w = wn.wedge(W)
        p = list(rng.permutation(k))
        np.testing.assert_allclose(wn.wedge(W[p]), perm_sign(p) * w, rtol=1e-12, atol=1e-13 * np.abs(w).max())


@pytest.mark.parametrize("d", DIMS)
def test_clifford_round_trip_every_grade(d):
    rng = make_rng(500 + d)
    for k in range(0, d + 1):
        B = rng.standard_normal(len(wn.algebra.blade_indices(d, k)))
        mv = wn.to_clifford(B, d, k)
        assert mv.layout.dims == d
        np.testing.assert_array_equal(wn.from_clifford(mv, grade=k), B)
        np.testing.assert_array_equal(wn.from_clifford(mv), B)
        # every other grade is empty
        for j in range(0, d + 1):
            if j != k:
                assert not np.any(wn.from_clifford(mv, grade=j))


def test_from_clifford_mixed_grade_needs_grade():
    d = 4
    mv = wn.to_clifford([1.0, 2.0, 3.0, 4.0], d, 1) + wn.to_clifford([5.0], d, 0)
    with pytest.raises(ValueError, match="grade"):
        wn.from_clifford(mv)
    np.testing.assert_array_equal(wn.from_clifford(mv, grade=1), [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(wn.from_clifford(mv, grade=0), [5.0])


def test_from_clifford_zero_multivector_reads_as_grade_zero():
    mv = wn.to_clifford([0.0, 0.0, 0.0], 3, 1)
    np.testing.assert_array_equal(wn.from_clifford(mv), [0.0])
