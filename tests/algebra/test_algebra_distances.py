"""Signed distances to spans and affine hulls (docs/conventions.md#geometric-algebra)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _algebra_helpers import make_rng

import wedgenet as wn


def _projection_distance_span(x: np.ndarray, U: np.ndarray) -> float:
    """``|x - P x|`` with ``P`` the orthogonal projector onto the row space of ``U``, signed by ``<c, x>``."""
    Q, _ = np.linalg.qr(U.T)  # (d, d-1) orthonormal basis of the span
    r = x - Q @ (Q.T @ x)
    return float(np.sign(wn.cross(U) @ x) * np.linalg.norm(r))


def _projection_distance_affine(x: np.ndarray, U: np.ndarray) -> float:
    base = U[-1]
    D = U[:-1] - base
    Q, _ = np.linalg.qr(D.T)
    r = (x - base) - Q @ (Q.T @ (x - base))
    return float(np.sign(wn.cross(D) @ (x - base)) * np.linalg.norm(r))


@pytest.mark.parametrize("d", [2, 3, 4, 6, 9])
def test_dist_to_span_equals_projection_distance(d):
    rng = make_rng(2000 + d)
    for _ in range(10):
        U = rng.standard_normal((d - 1, d))
        x = 3.0 * rng.standard_normal(d)
        got = wn.dist_to_span(x, U)
        assert np.ndim(got) == 0
        assert got == pytest.approx(_projection_distance_span(x, U), rel=1e-10, abs=1e-12)
        # formula of docs/conventions.md#geometric-algebra: <c, x> / ||c||
        c = wn.cross(U)
        assert got == pytest.approx(c @ x / np.linalg.norm(c), rel=1e-13, abs=1e-14)
        # points of the span are at distance 0
        coeffs = rng.standard_normal(d - 1)
        assert abs(wn.dist_to_span(coeffs @ U, U)) <= 1e-12 * max(1.0, np.linalg.norm(coeffs @ U))


@pytest.mark.parametrize("d", [2, 3, 4, 6, 9])
def test_dist_to_affine_equals_projection_distance_and_vanishes_on_points(d):
    rng = make_rng(2100 + d)
    for _ in range(10):
        U = rng.standard_normal((d, d))
        x = 3.0 * rng.standard_normal(d)
        got = wn.dist_to_affine(x, U)
        assert got == pytest.approx(_projection_distance_affine(x, U), rel=1e-10, abs=1e-12)
        c = wn.cross(U[:-1] - U[-1])
        assert got == pytest.approx(c @ (x - U[-1]) / np.linalg.norm(c), rel=1e-12, abs=1e-13)
        # zero at every defining point, and at affine combinations of them
        np.testing.assert_allclose(wn.dist_to_affine(U, U), np.zeros(d), atol=1e-12)
        w = rng.standard_normal(d)
        w /= w.sum()
        assert abs(wn.dist_to_affine(w @ U, U)) <= 1e-11 * max(1.0, np.abs(w).sum())


def test_translation_invariance_of_dist_to_affine():
    rng = make_rng(2200)
    U = rng.standard_normal((5, 5))
    x = rng.standard_normal((7, 5))
    t = rng.standard_normal(5)
    np.testing.assert_allclose(wn.dist_to_affine(x + t, U + t), wn.dist_to_affine(x, U), atol=1e-12)


def test_d1_distances():
    x = np.array([[2.0], [-3.5], [0.0]])
    np.testing.assert_array_equal(wn.dist_to_span(x, np.empty((0, 1))), x[:, 0])
    np.testing.assert_array_equal(wn.dist_to_span([7.25], np.empty((0, 1))), 7.25)
    np.testing.assert_array_equal(wn.dist_to_affine(x, [[0.5]]), x[:, 0] - 0.5)
    np.testing.assert_array_equal(wn.dist_to_affine([7.25], [[-1.0]]), 8.25)


def test_d2_worked_example():
    # Span(1, 1) with normal cross([[1, 1]]) = (1, -1): (1, 0) is at +1/sqrt(2)
    assert wn.dist_to_span([1.0, 0.0], [[1.0, 1.0]]) == pytest.approx(1 / np.sqrt(2), rel=1e-15)
    assert wn.dist_to_span([0.0, 1.0], [[1.0, 1.0]]) == pytest.approx(-1 / np.sqrt(2), rel=1e-15)
    # line through (0, 0) and (0, 2): c = cross(u1 - u2) = cross((0, -2)) = (-2, 0)
    assert wn.dist_to_affine([3.0, 5.0], [[0.0, 0.0], [0.0, 2.0]]) == pytest.approx(-3.0, rel=1e-15)


@pytest.mark.parametrize("fn, rows", [(wn.dist_to_span, -1), (wn.dist_to_affine, 0)])
def test_batched_shape_semantics(fn, rows):
    d = 4
    rng = make_rng(2300)
    x = rng.standard_normal((5, 3, d))
    U = rng.standard_normal((2, 6, d + rows, d))
    got = fn(x, U)
    assert got.shape == x.shape[:-1] + U.shape[:-2] == (5, 3, 2, 6)
    for i, j, a, b in itertools.product(range(5), range(3), range(2), range(6)):
        assert got[i, j, a, b] == pytest.approx(fn(x[i, j], U[a, b]), rel=1e-12, abs=1e-14)
    # single x, batched U ; batched x, single U
    assert fn(x[0, 0], U).shape == (2, 6)
    assert fn(x, U[0, 0]).shape == (5, 3)
    np.testing.assert_allclose(fn(x, U[1, 2]), got[:, :, 1, 2], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_dependent_U_raises(d):
    rng = make_rng(2400 + d)
    U = rng.standard_normal((d - 1, d))
    U[0] = 0.0
    with pytest.raises(ValueError, match="U"):
        wn.dist_to_span(np.ones(d), U)
    A = rng.standard_normal((d, d))
    A[0] = A[-1]  # repeated point: affinely dependent
    with pytest.raises(ValueError, match="U"):
        wn.dist_to_affine(np.ones(d), A)
    if d >= 3:
        A = rng.standard_normal((d, d))
        A[1] = 0.5 * (A[0] + A[2])  # collinear points
        with pytest.raises(ValueError, match="U"):
            wn.dist_to_affine(np.ones(d), A)
    # one bad entry in a batch is enough
    Ub = rng.standard_normal((3, d - 1, d))
    Ub[1, 0] = 0.0
    with pytest.raises(ValueError, match="U"):
        wn.dist_to_span(np.ones(d), Ub)
