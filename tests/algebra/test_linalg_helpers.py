"""wedgenet._linalg: the one home of row norms, unit rows, the ReLU forward pass, the row space and
Carathéodory reduction."""

from __future__ import annotations

import numpy as np
import pytest

from wedgenet._linalg import (
    caratheodory_reduce,
    group_norms,
    relu_layer,
    row_norms,
    row_space,
    unit_rows,
    wedge_hidden,
)


@pytest.mark.parametrize("p", [1, 2, np.inf])
def test_row_norms_has_numpys_bits_at_ordinary_scales(p):
    A = np.random.default_rng(0).standard_normal((200, 7)) * np.exp2(np.arange(-20, 20, 0.2))[:, None]
    assert np.array_equal(row_norms(A, p), np.linalg.norm(A, ord=p, axis=1))


@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e-160, 1e160, 1e200, 1e300])
def test_row_norms_neither_overflow_nor_underflow(scale):
    A = np.array([[3.0, 4.0], [1.0, 1.0], [0.0, 0.0], [-5.0, 12.0]]) * scale
    np.testing.assert_allclose(row_norms(A), np.array([5.0, np.sqrt(2.0), 0.0, 13.0]) * scale, rtol=1e-15)
    np.testing.assert_allclose(row_norms(A, 1), np.array([7.0, 2.0, 0.0, 17.0]) * scale, rtol=1e-15)


def test_row_norms_subnormal_rows_and_shapes():
    tiny = np.array([[5e-324, 5e-324], [1e-310, 0.0]])
    np.testing.assert_allclose(row_norms(tiny), [np.sqrt(2.0) * 5e-324, 1e-310], rtol=0.5)
    assert row_norms(tiny)[0] > 0
    assert row_norms(np.zeros((3, 0))).shape == (3,)
    assert row_norms(np.zeros((0, 4))).shape == (0,)
    with pytest.raises(ValueError, match="2-D"):
        row_norms(np.ones(3))


def test_group_norms_vector_and_matrix():
    assert np.array_equal(group_norms(np.array([-2.0, 0.0, 3.0])), [2.0, 0.0, 3.0])
    np.testing.assert_allclose(group_norms(np.array([[3e200, 4e200], [0.0, 0.0]])), [5e200, 0.0], rtol=1e-15)


@pytest.mark.parametrize("scale", [1e-300, 1.0, 1e300])
def test_unit_rows_at_any_scale(scale):
    A = np.array([[3.0, -4.0], [0.0, 0.0], [1.0, 1.0]]) * scale
    np.testing.assert_allclose(unit_rows(A), [[0.6, -0.8], [0.0, 0.0], [2**-0.5, 2**-0.5]], rtol=1e-15)


def test_relu_layer_and_wedge_hidden():
    rng = np.random.default_rng(1)
    X, W, b = rng.standard_normal((9, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    H = np.array([[max(float(x @ w + c), 0.0) for w, c in zip(W, b, strict=True)] for x in X])
    np.testing.assert_allclose(relu_layer(X, W, b), H, rtol=1e-14, atol=1e-14)
    assert np.array_equal(relu_layer(X, W), np.maximum(X @ W.T, 0.0))
    np.testing.assert_allclose(wedge_hidden(X, W, b), H, rtol=1e-14, atol=1e-14)
    s, t = np.array([1.0, -1.0, 1.0, -1.0]), np.array([0.1, 0.2, 0.0, 0.5])
    np.testing.assert_allclose(wedge_hidden(X, W, b, s, t), np.maximum(s * (H - t), 0.0), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("shape,r", [((30, 5), 3), ((4, 9), 2), ((6, 6), 6)])
def test_row_space_basis_and_rank(shape, r):
    rng = np.random.default_rng(2)
    n, D = shape
    A = rng.standard_normal((n, r)) @ rng.standard_normal((r, D)) * 1e150
    V, rank = row_space(A)
    assert rank == r and V.shape == (r, D)
    np.testing.assert_allclose(V @ V.T, np.eye(r), atol=1e-13)
    np.testing.assert_allclose(A @ V.T @ V, A, rtol=0, atol=1e-12 * np.abs(A).max())
    assert row_space(np.zeros((3, 4)))[1] == 0
    assert row_space(A, rank=1)[0].shape == (1, D)


def test_caratheodory_reduce_keeps_combination_and_sum():
    rng = np.random.default_rng(3)
    n, K = 4, 12
    G = rng.standard_normal((n, K))
    c = rng.uniform(0.5, 2.0, K)
    c0 = c.copy()
    keep, c2 = caratheodory_reduce(G, c, rank_rtol=1e-12, drop_rtol=1e-14)
    assert keep.size <= n + 1
    assert np.all(c2[keep] > 0)
    np.testing.assert_allclose(G[:, keep] @ c2[keep], G @ c, rtol=1e-12)
    np.testing.assert_allclose(c2[keep].sum(), c.sum(), rtol=1e-12)
    assert np.array_equal(c, c0)  # the input is not modified (a copy is returned)
