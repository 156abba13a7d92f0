"""Defining properties of the generalized cross product (docs/conventions.md#geometric-algebra), by hypothesis."""

from __future__ import annotations

import numpy as np
from _algebra_helpers import ENTRY, PROPERTY, det_with_row, frames, make_rng, row_norm_product, sine
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import wedgenet as wn

# Draws whose rows are nearly dependent (sine < 1e-3, i.e. det Gram < 1e-6 prod ||v_i||^2) are
# skipped: they are covered by the degenerate-input tests.
MIN_SINE = 1e-3


def _nondegenerate(V: np.ndarray) -> None:
    assume(np.all(np.linalg.norm(V, axis=1) > 1e-3))
    assume(sine(V) > MIN_SINE)


@PROPERTY
@given(frames())
def test_cross_is_orthogonal_to_every_row(V):
    _nondegenerate(V)
    c = wn.cross(V)
    cos = (V @ c) / (np.linalg.norm(V, axis=1) * np.linalg.norm(c))
    assert np.all(np.abs(cos) <= 1e-12), cos


@PROPERTY
@given(frames(), st.data())
def test_swapping_two_rows_flips_the_sign(V, data):
    _nondegenerate(V)
    m = V.shape[0]
    assume(m >= 2)
    i = data.draw(st.integers(0, m - 1))
    j = data.draw(st.integers(0, m - 1).filter(lambda t: t != i))
    W = V.copy()
    W[[i, j]] = W[[j, i]]
    c = wn.cross(V)
    np.testing.assert_allclose(wn.cross(W), -c, rtol=0, atol=1e-13 * row_norm_product(V))


@PROPERTY
@given(frames())
def test_squared_norm_is_gram_determinant(V):
    _nondegenerate(V)
    c = wn.cross(V)
    gram = np.linalg.det(V @ V.T)
    np.testing.assert_allclose(c @ c, gram, rtol=1e-10, atol=1e-12 * row_norm_product(V) ** 2)


@PROPERTY
@given(frames(), st.data())
def test_inner_product_with_y_is_det_y_V(V, data):
    _nondegenerate(V)
    d = V.shape[1]
    y = data.draw(hnp.arrays(np.float64, (d,), elements=ENTRY, fill=st.nothing()))
    c = wn.cross(V)
    expected = det_with_row(y, V)
    scale = max(np.linalg.norm(y), 1.0) * row_norm_product(V)
    assert abs(c @ y - expected) <= 1e-12 * scale


@PROPERTY
@given(frames(3, 3))
def test_d3_is_numpy_cross(V):
    _nondegenerate(V)
    c = wn.cross(V)
    np.testing.assert_allclose(c, np.cross(V[0], V[1]), rtol=0, atol=4e-16 * row_norm_product(V))


@PROPERTY
@given(hnp.arrays(np.float64, (2, 3), elements=st.integers(-1000, 1000).map(float), fill=st.nothing()))
def test_d3_integer_entries_is_numpy_cross_exactly(V):
    # small-integer entries make every product exact, so the closed form must match bit for bit
    # (dependent integer rows give an exact 0 in both)
    np.testing.assert_array_equal(wn.cross(V), np.cross(V[0], V[1]))


@PROPERTY
@given(hnp.arrays(np.float64, (1, 2), elements=st.floats(allow_nan=False, allow_infinity=False)))
def test_d2_is_exact_rotation(V):
    a1, a2 = V[0]
    np.testing.assert_array_equal(wn.cross(V), [a2, -a1])


def test_paper_worked_example_exact():
    np.testing.assert_array_equal(wn.cross([[1.0, 1.0]]), [1.0, -1.0])
    np.testing.assert_array_equal(wn.cross([[0.0, 2.0]]), [2.0, 0.0])
    np.testing.assert_array_equal(wn.cross(np.array([[[1, 1]], [[0, 2]]])), [[1.0, -1.0], [2.0, 0.0]])


def test_d1_cross_of_no_vectors_is_one():
    c = wn.cross(np.empty((0, 1)))
    assert c.shape == (1,)
    np.testing.assert_array_equal(c, [1.0])
    # batched: a stack of empty row sets in R^1
    np.testing.assert_array_equal(wn.cross(np.empty((4, 0, 1))), np.ones((4, 1)))


def test_standard_basis_orientation():
    # cross(e_2, ..., e_d) = e_1 because det[e_1; e_2; ...; e_d] = 1 (conventions.md#geometric-algebra)
    for d in range(2, 11):
        eye = np.eye(d)
        np.testing.assert_allclose(wn.cross(eye[1:]), eye[0], atol=1e-15)
        # dropping e_i instead gives (-1)^i e_i
        for i in range(d):
            rows = np.delete(eye, i, axis=0)
            np.testing.assert_allclose(wn.cross(rows), (-1) ** i * eye[i], atol=1e-15)


def test_scaling_a_row_scales_the_product():
    rng = make_rng(7)
    for d in (4, 6, 9):
        V = rng.standard_normal((d - 1, d))
        c = wn.cross(V)
        W = V.copy()
        W[1] *= -3.5
        np.testing.assert_allclose(wn.cross(W), -3.5 * c, rtol=1e-12, atol=1e-13 * np.linalg.norm(c))


@PROPERTY
@given(frames(2, 8, extra_rows=0))
def test_signed_volume_is_det_and_first_row_dot_cross_of_rest(V):
    _nondegenerate(V)
    vol = wn.signed_volume(V)
    assert np.isclose(vol, np.linalg.det(V), rtol=1e-12, atol=0)
    scale = row_norm_product(V)
    assert abs(vol - V[0] @ wn.cross(V[1:])) <= 1e-12 * scale
    # and it is the single coefficient of v_1 ^ ... ^ v_d
    np.testing.assert_allclose(wn.wedge(V), [vol], rtol=1e-12, atol=1e-13 * scale)


def test_signed_volume_batched():
    rng = make_rng(11)
    V = rng.standard_normal((3, 5, 6, 6))
    vol = wn.signed_volume(V)
    assert vol.shape == (3, 5)
    np.testing.assert_allclose(vol, np.linalg.det(V), rtol=1e-13)
    first_dot_cross = np.einsum("abj,abj->ab", V[:, :, 0], wn.cross(V[:, :, 1:]))
    np.testing.assert_allclose(vol, first_dot_cross, rtol=1e-10)


def test_signed_volume_d1():
    np.testing.assert_array_equal(wn.signed_volume([[-2.5]]), -2.5)


def test_relative_accuracy_against_numpy_det():
    """``<c, y>`` matches ``det[y; V]`` to 1e-10 relative on well-conditioned Gaussian data."""
    rng = make_rng(12)
    for d in (3, 5, 8, 16, 32):
        V = rng.standard_normal((400, d - 1, d))
        Y = rng.standard_normal((400, d))
        M = np.concatenate([Y[:, None, :], V], axis=1)
        keep = np.linalg.cond(M) < 1e3  # well-conditioned draws only
        assert keep.sum() > 100
        C = wn.cross(V[keep])
        got = np.einsum("nj,nj->n", C, Y[keep])
        ref = np.linalg.det(M[keep])
        rel = np.abs(got - ref) / np.abs(ref)
        assert rel.max() <= 1e-10, (d, rel.max())


def _equilibrated_batch(V: np.ndarray, rtol: float) -> np.ndarray:
    """``_cross_equilibrated`` alone (no plain fast path) on every product: ``M * 2**E``."""
    from wedgenet.algebra._kernels import _cross_equilibrated

    out = np.empty((V.shape[0], V.shape[2]))
    for t in range(V.shape[0]):
        E = _cross_equilibrated(V[t].copy(), out[t], rtol)
        out[t] = np.ldexp(out[t], E)
    return out


def test_plain_closed_form_equals_the_equilibrated_kernel_bit_for_bit():
    """d = 3..5: the fast path without column equilibration accepts only when its result is the
    equilibrated kernel's, bit for bit: feature scales over 2^+-130, nearly dependent rows at
    every noise level, exact integer dependence, and rtol from 0 to 0.99."""
    from wedgenet.algebra._kernels import _cross_core, _cross_plain

    rng = make_rng(7)
    n = 200
    accepted = 0
    for d in (3, 4, 5):
        for rtol in (0.0, 1e-12, 1e-6, 0.5, 0.99):
            V = rng.standard_normal((n, d - 1, d))
            near = V.copy()
            near[:, -1] = np.einsum("nk,nkd->nd", rng.standard_normal((n, d - 2)), V[:, :-1]) \
                + np.exp2(-rng.integers(0, 60, size=(n, 1))) * rng.standard_normal((n, d))
            scales = np.exp2(rng.integers(-130, 130, size=(n, 1, d)).astype(float))
            ints = rng.integers(-2, 3, size=(n, d - 1, d)).astype(float)
            for W in (V, near, V * scales, near * scales, ints):
                ref = _equilibrated_batch(W, rtol)
                for t in range(n):
                    out = np.empty(d)
                    if _cross_plain(W[t].copy(), out, rtol):
                        accepted += 1
                        assert np.array_equal(out, ref[t]), (d, rtol, W[t])
                    got = np.empty(d)
                    E = _cross_core(W[t].copy(), got, rtol)
                    assert np.array_equal(np.ldexp(got, E), ref[t]), (d, rtol, W[t])
    assert accepted > 2500  # the fast path does serve ordinary data
