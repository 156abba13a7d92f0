"""Dictionaries of Theorems 1-5, 12-17: invariants, provenance, counts, guards (values, not smoke)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import wedgenet as wn
from wedgenet.datasets import diamond
from wedgenet.dictionaries import MemoryBudgetError, max_chamber_diameter

CONFIGS = [("l1", False, 2), ("l1", True, 2), ("l2", False, 2), ("l2", True, 2), ("l1", False, 3), ("l1", True, 3)]


def _reproduce(D, X):
    Z = np.maximum(X @ D.weights.T + D.biases, 0.0)
    if D.depth == 3:
        Z = np.maximum(D.outer_sign * (Z - D.thresholds), 0.0)
    return Z


def _scale(D, X):
    """Per-column rounding scale: sum_k |x_k w_k| + |b| (+ threshold for depth 3)."""
    return (np.abs(X) @ np.abs(D.weights).T + np.abs(D.biases)).max(axis=0) + np.abs(D.thresholds)


@pytest.mark.parametrize("reg,bias,depth", CONFIGS)
@pytest.mark.parametrize("d", [1, 2, 3, 4, 5])
def test_invariant_columns_are_their_neurons(reg, bias, depth, d):
    if depth == 3 and d > 3:
        pytest.skip("depth-3 pools grow as n^2 C(., d-1); covered for d <= 3")
    rng = np.random.default_rng(d)
    n = 6 if depth == 3 else 8
    X = rng.standard_normal((n, d))
    D = wn.dictionary(X, reg=reg, bias=bias, depth=depth)
    assert D.K.shape == (n, D.n_columns) and D.n_columns > 0
    assert D.K.flags.f_contiguous and D.K.dtype == np.float64
    err = np.abs(D.K - _reproduce(D, X)).max(axis=0)
    assert np.all(err <= 1e-12 * _scale(D, X))
    # transform on the training data reproduces K
    np.testing.assert_allclose(D.transform(X), D.K, rtol=0, atol=1e-12 * _scale(D, X).max())
    # unit-normalised generators: ||w||_p == 1
    p = 1 if reg == "l1" else 2
    np.testing.assert_allclose(np.linalg.norm(D.weights, ord=p, axis=1), 1.0, rtol=1e-12)
    # no zero columns, no duplicate columns
    assert np.all(D.K.max(axis=0) > 0)
    rounded = np.round(D.K / max(D.K.max(), 1e-300), 9)
    assert np.unique(rounded, axis=1).shape[1] == D.n_columns
    assert D.fit_intercept == (bias or depth == 3)
    assert D.exact == (reg == "l1" or d == 1)


def _generator_vectors(X, rec):
    out = []
    for g in rec.generators:
        if g.kind == "sample":
            out.append(X[g.indices[0]])
        elif g.kind == "difference":
            out.append(X[g.indices[0]] - X[g.indices[1]])
        else:
            e = np.zeros(X.shape[1])
            e[g.indices[0]] = 1.0
            out.append(e)
    return out


@pytest.mark.parametrize("reg,bias,depth", CONFIGS)
@pytest.mark.parametrize("d", [2, 3])
def test_neurons_orthogonal_to_generators_and_through_anchors(reg, bias, depth, d):
    rng = np.random.default_rng(10 + d)
    X = rng.standard_normal((6, d))
    D = wn.dictionary(X, reg=reg, bias=bias, depth=depth)
    for j, rec in enumerate(D.provenance):
        w, b = D.weights[j], D.biases[j]
        assert rec.orientation in (1, -1) and rec.theorem == D.theorem
        vecs = _generator_vectors(X, rec)
        if reg == "l2" and bias:  # affine hull: passes through every defining point
            assert len(vecs) == d
            for v in vecs:
                assert abs(v @ w + b) <= 1e-12 * (1 + np.abs(v) @ np.abs(w))
        else:
            assert len(vecs) == d - 1
            for v in vecs:
                assert abs(v @ w) <= 1e-12 * (np.abs(v) @ np.abs(w))
            if rec.anchor is not None:
                xa = X[rec.anchor]
                assert abs(xa @ w + b) <= 1e-12 * (1 + np.abs(xa) @ np.abs(w))
            elif not bias:
                assert b == 0.0
        assert set(rec.samples) <= set(range(6))


def _breaklines(W, b):
    L = np.c_[W, b]
    L = L / np.linalg.norm(L, axis=1, keepdims=True)
    first = np.argmax(np.abs(L) > 1e-9, axis=1)
    L = L * np.sign(L[np.arange(len(L)), first])[:, None]
    return np.unique(np.round(L, 9), axis=0).shape[0]


@pytest.mark.parametrize(
    "reg,bias,depth,expected",
    [
        # Thm 2: lines through 0 along the pool X u {e1, e2}: the two axes.
        ("l1", False, 2, 2),
        # Thm 16: lines through each x_a along x_l - x_a (the 6 lines through pairs) or e_k
        # (axis-parallel lines through each point: y=+-1, x=+-1 are new) -> 6 + 4.
        ("l1", True, 2, 10),
        # Thm 15: lines through 0 and a sample: the two axes.
        ("l2", False, 2, 2),
        # Thm 3: lines through each pair of samples: C(4, 2) = 6 (4 edges + 2 diagonals).
        ("l2", True, 2, 6),
        # Thm 12: lines through 0 orthogonal to x_i, x_i - x_j, e_k: axes and both diagonals.
        ("l1", False, 3, 4),
        # Thm 13: those 4 directions translated through every sample: 3 horizontal, 3 vertical,
        # 2 of each diagonal direction = 10 (the paper's Figure 7(d) text says 12; the 12
        # neurons it draws include lines that coincide).
        ("l1", True, 3, 10),
    ],
)
def test_diamond_breakline_counts(reg, bias, depth, expected):
    D = wn.dictionary(diamond(), reg=reg, bias=bias, depth=depth)
    assert _breaklines(*D.candidate_neurons()) == expected


def test_both_orientations_present():
    X = np.random.default_rng(3).standard_normal((7, 3))
    for reg, bias in [("l1", False), ("l2", False), ("l1", True), ("l2", True)]:
        D = wn.dictionary(X, reg=reg, bias=bias)
        W, b = D.candidate_neurons()
        keys = {tuple(np.round(np.r_[w, c], 9)) for w, c in zip(W, b, strict=True)}
        for w, c in zip(W, b, strict=True):
            neg_col = np.maximum(-(X @ w + c), 0)
            if neg_col.max() > 1e-9:  # the opposite orientation has a nonzero column
                assert tuple(np.round(np.r_[-w, -c], 9)) in keys


def test_paper_worked_example_pool_and_columns():
    # section 3.4: x1 = (1, 1), x2 = (0, 2); p=1 pool adds e1, e2; neurons are their duals
    X = np.array([[1.0, 1.0], [0.0, 2.0]])
    D = wn.dictionary(X, reg="l1", bias=False)
    W, _ = D.candidate_neurons()
    got = {tuple(np.round(w, 12)) for w in W}
    # cross((1,1)) = (1,-1) -> /2; cross((0,2)) = (2,0) -> /2; cross(e1) = (0,-1); cross(e2) = (1,0)
    for w in [(0.5, -0.5), (1.0, 0.0), (0.0, -1.0)]:
        assert w in got or tuple(-np.array(w)) in got
    # columns: (X w)_+ with w = (1, 0) is (1, 0)
    assert any(np.allclose(D.K[:, j], [1.0, 0.0]) for j in range(D.n_columns))


def test_describe_forms():
    D = wn.dictionary(diamond(), reg="l2", bias=True)
    assert D.describe(0) == "dist+(x, Aff(x0, x1))"
    X = np.random.default_rng(0).standard_normal((5, 3))
    D = wn.dictionary(X, reg="l1", bias=False)
    exprs = [D.describe(j) for j in range(D.n_columns)]
    assert any(e.startswith("Vol+(P(x, x") and "e" in e and e.endswith("||_1") for e in exprs)
    assert all(e.startswith(("Vol+(", "Vol-(")) for e in exprs)
    rec = next(r for r in D.provenance if r.kinds == ("sample", "basis"))
    i, k = rec.generators[0].indices[0], rec.generators[1].indices[0] + 1
    assert rec.expression == f"Vol{'+' if rec.orientation > 0 else '-'}(P(x, x{i}, e{k})) / ||x{i} ^ e{k}||_1"
    D = wn.dictionary(X, reg="l2", bias=False)
    assert D.describe(0).startswith("dist+(x, Span(x")
    D = wn.dictionary(X, reg="l1", bias=True)
    rec = D.provenance[0]
    assert rec.anchor is not None and "anchor" in rec.kinds and f"x - x{rec.anchor}" in rec.expression
    D = wn.dictionary(X[:, :2], reg="l1", bias=False, depth=3)
    rec = next(r for r in D.provenance if r.outer == -1)
    assert rec.level is not None and "level" in rec.kinds and rec.expression.startswith("(Vol")


def test_alternatives_give_the_same_column():
    X = np.random.default_rng(4).standard_normal((6, 3))
    X[1] = 2.0 * X[0]  # Span(x0, x_l) == Span(x1, x_l): the same neuron from two subsets
    X[5] = X[2]  # a duplicate sample
    D = wn.dictionary(X, reg="l1", bias=False)
    assert D.n_duplicates > 0
    found = 0
    for j in range(D.n_columns):
        for alt in D.alternatives(j):
            found += 1
            assert set(D.provenance[j].samples) | set(alt.samples)
    assert found == D.n_duplicates
    np.testing.assert_allclose(np.maximum(X @ D.alt_weights.T + D.alt_biases, 0), D.K[:, D.alt_columns], atol=1e-12)


def test_rank_deficient_p2_builds_in_row_space():
    rng = np.random.default_rng(5)
    A = rng.standard_normal((2, 4))
    X = rng.standard_normal((9, 2)) @ A  # rank 2 in R^4: every 3-subset is dependent in R^4
    D = wn.dictionary(X, reg="l2", bias=False)
    assert D.rank == 2 and D.n_columns > 0
    # weights lie in the row space, and each is orthogonal to its defining sample
    P = np.linalg.pinv(A) @ A
    np.testing.assert_allclose(D.weights @ P, D.weights, atol=1e-12)
    np.testing.assert_allclose(D.K, np.maximum(X @ D.weights.T, 0), atol=1e-12)
    for j, rec in enumerate(D.provenance):
        assert len(rec.generators) == 1  # r - 1 = 1 sample spans the line in the 2-D row space
        assert abs(X[rec.generators[0].indices[0]] @ D.weights[j]) < 1e-12
    # affine version: points on an affine plane in R^3
    Y = rng.standard_normal((8, 2)) @ A[:, :3] + np.array([1.0, -2.0, 0.5])
    Db = wn.dictionary(Y, reg="l2", bias=True)
    assert Db.rank == 2 and Db.n_columns > 0
    np.testing.assert_allclose(Db.K, np.maximum(Y @ Db.weights.T + Db.biases, 0), atol=1e-12)
    for j, rec in enumerate(Db.provenance):
        for g in rec.generators:
            assert abs(Y[g.indices[0]] @ Db.weights[j] + Db.biases[j]) < 1e-11


@pytest.mark.parametrize("reg,bias,depth", CONFIGS)
def test_duplicates_and_collinear_data_work(reg, bias, depth):
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [1.0, 1.0], [3.0, 3.0]])  # collinear, duplicate
    D = wn.dictionary(X, reg=reg, bias=bias, depth=depth)
    np.testing.assert_allclose(D.K, _reproduce(D, X), atol=1e-12)
    assert D.n_columns > 0
    if reg == "l2":
        assert D.rank == 1  # built on the line and mapped back


def test_all_identical_points_give_an_empty_dictionary_for_l2_bias():
    X = np.ones((5, 3))
    D = wn.dictionary(X, reg="l2", bias=True)
    assert D.n_columns == 0 and D.K.shape == (5, 0) and D.rank == 0


def test_sampling_is_uniform_reproducible_and_keeps_provenance():
    X = np.random.default_rng(6).standard_normal((30, 3))
    full = wn.dictionary(X, reg="l1", bias=False)
    a = wn.dictionary(X, reg="l1", bias=False, max_columns=400, random_state=1)
    b = wn.dictionary(X, reg="l1", bias=False, max_columns=400, random_state=1)
    c = wn.dictionary(X, reg="l1", bias=False, max_columns=400, random_state=2)
    assert a.sampled and a.n_columns <= 400 and a.n_candidates == 200
    assert a.n_candidates_total == full.n_candidates_total
    np.testing.assert_array_equal(a.K, b.K)
    assert not np.array_equal(a.weights, c.weights)
    for j, rec in enumerate(a.provenance):
        for v in _generator_vectors(X, rec):
            assert abs(v @ a.weights[j]) <= 1e-12 * (np.abs(v) @ np.abs(a.weights[j]))
    # uniformity: subsets containing basis vectors appear in proportion to their share
    shares = []
    for seed in range(20):
        s = wn.dictionary(X, reg="l1", max_columns=300, random_state=seed)
        shares.append(np.mean([any(g.kind == "basis" for g in r.generators) for r in s.provenance]))
    n_pool = 33
    expected = 1 - (30 * 29 / 2) / (n_pool * (n_pool - 1) / 2)  # P(subset has an e_k)
    assert abs(np.mean(shares) - expected) < 0.05


def test_memory_guard_fails_before_allocating_and_says_what_to_do():
    X = np.random.default_rng(7).standard_normal((500, 4))
    with pytest.raises(MemoryBudgetError, match=r"candidate columns.*max_columns") as exc:
        wn.dictionary(X, reg="l1", bias=False)  # ~4.2e7 candidates: 160+ GB
    assert "41," in str(exc.value) or "42," in str(exc.value)
    with pytest.raises(MemoryBudgetError):
        wn.dictionary(X[:20], reg="l1", memory_budget=1000)
    D = wn.dictionary(X, reg="l1", max_columns=2000, random_state=0)  # sampling fits
    assert D.n_columns <= 2000


def test_memory_guard_refuses_before_building_the_quadratic_depth3_pool():
    import tracemalloc

    X = np.random.default_rng(8).standard_normal((3000, 3))  # 4.5e6 differences: ~200 MB of pool
    tracemalloc.start()
    try:
        with pytest.raises(MemoryBudgetError, match="1 MB"):
            wn.dictionary(X, depth=3, memory_budget=1e6)
        with pytest.raises(MemoryBudgetError):  # the pool alone is over budget, even sampled
            wn.dictionary(X, depth=3, memory_budget=5e7, max_columns=100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5e6


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"X": [[np.nan, 1.0]]}, "X"),
        ({"X": [[np.inf, 1.0]]}, "X"),
        ({"X": np.zeros((0, 2))}, "X"),
        ({"X": np.zeros((3, 0))}, "X"),
        ({"X": [1.0, 2.0]}, "X"),
        ({"X": np.ones((2, 2, 2))}, "X"),
        ({"reg": "l3"}, "reg"),
        ({"depth": 4}, "depth"),
        ({"depth": 2.0}, "depth"),
        ({"reg": np.array(["l1", "l2"])}, "reg"),
        ({"X": np.ones((3, 2)) + 1j}, "X must be real"),
        ({"depth": 3, "reg": "l2"}, "depth=3"),
        ({"bias": "yes"}, "bias"),
        ({"max_columns": 0}, "max_columns"),
        ({"max_columns": 2.5}, "max_columns"),
        ({"random_state": "seed"}, "random_state"),
        ({"memory_budget": -1}, "memory_budget"),
    ],
)
def test_bad_input(kwargs, match):
    args = {"X": np.random.default_rng(0).standard_normal((5, 2))}
    args.update(kwargs)
    X = args.pop("X")
    with pytest.raises(ValueError, match=match):
        wn.dictionary(X, **args)


def test_transform_checks_features():
    D = wn.dictionary(diamond(), reg="l1")
    with pytest.raises(ValueError, match="X"):
        D.transform(np.ones((3, 3)))
    with pytest.raises(ValueError, match="j"):
        D.alternatives(10_000)


def test_chamber_diameter():
    # lines perpendicular to x-axis and y-axis: four quarter-plane chambers, diameter sqrt(2)
    assert max_chamber_diameter(np.eye(2)) == pytest.approx(np.sqrt(2))
    ang = np.linspace(0, np.pi, 9)[:-1]
    X = np.c_[np.cos(ang), np.sin(ang)]
    assert max_chamber_diameter(X) == pytest.approx(2 * np.sin(np.pi / 16))
    assert max_chamber_diameter(np.array([[1.0], [-2.0]])) == 0.0
    with pytest.raises(ValueError, match="d <= 2"):
        max_chamber_diameter(np.ones((4, 3)))


def test_repr_and_summary_show_provenance():
    D = wn.dictionary(diamond(), reg="l2", bias=True)
    assert "Thm 3" in repr(D) and "approximate" in repr(D)
    s = D.summary(max_rows=3)
    assert "dist+(x, Aff(x0, x1))" in s and "more columns" in s


def test_depth3_columns_have_level_thresholds():
    X = np.random.default_rng(8).standard_normal((5, 2))
    D = wn.dictionary(X, reg="l1", depth=3)
    for j, rec in enumerate(D.provenance):
        u = np.maximum(X @ D.weights[j] + D.biases[j], 0)
        assert D.thresholds[j] == pytest.approx(u[rec.level], abs=1e-12)
        assert D.outer_sign[j] == rec.outer


def test_combinatorics_match_theory_table_sizes():
    # docs/conventions.md#dictionary-sizes: 2 * C(pool, d-1) candidates; times n anchors in the biased p=1 case
    X = np.random.default_rng(9).standard_normal((100, 3))
    D = wn.dictionary(X, reg="l1", max_columns=10, random_state=0)
    assert D.n_candidates_total == len(list(itertools.combinations(range(103), 2)))
    Xb = X[:60]
    Db = wn.dictionary(Xb, reg="l1", bias=True, max_columns=10, random_state=0)
    # canonical anchors (lowest sample on the hyperplane): sum_a C(n - 1 - a + d, d - 1) = C(n + d, d) - 1
    assert Db.n_candidates_total == math.comb(63, 3) - 1
