"""Conformance of every registered dictionary family (driven by ``FAMILIES``).

Each entry of the registry is built explicit and streamed, sampled and full, on small data,
and checked piece by piece: its theorem names, the column layout (decode/encode, and the
kernels' decode agreeing with it), provenance (every generator lies on the neuron's
hyperplane; orientation, level and outer sign match the layout), ``transform``, and explicit
columns == streamed columns.  A new family entry that forgets a piece fails here.
"""

from __future__ import annotations

import numpy as np
import pytest

from wedgenet.dictionaries import FAMILIES, Dictionary, StreamedDictionary, WedgeDictionary, dictionary
from wedgenet.dictionaries.layout import Layout
from wedgenet.dictionaries.streaming import streamed_dictionary

FAMILY_KEYS = sorted(FAMILIES, key=repr)
IDS = [f"{r}-{'bias' if b else 'nobias'}-depth{k}" for r, b, k in FAMILY_KEYS]


def _data(family, d: int, seed: int = 0) -> np.ndarray:
    n = 5 if family.depth == 3 else 7
    return np.random.default_rng(seed).standard_normal((n, d))


def _dims(family) -> list[int]:
    return [1, 2] if family.depth == 3 else [1, 2, 3]


def _normalised(K: np.ndarray) -> np.ndarray:
    m = np.abs(K).max(axis=0)
    return K / np.where(m > 0, m, 1.0)


def _same_column_sets(A: np.ndarray, B: np.ndarray, tol: float = 1e-8) -> bool:
    """Every nonzero column of ``A`` (scaled to max 1) is a column of ``B`` and vice versa."""
    A = _normalised(A)[:, np.abs(A).max(axis=0) > 0]
    B = _normalised(B)[:, np.abs(B).max(axis=0) > 0]
    if A.shape[1] == 0 or B.shape[1] == 0:
        return A.shape[1] == B.shape[1]
    dist = np.abs(A[:, :, None] - B[:, None, :]).max(axis=0)
    return bool(dist.min(axis=1).max() <= tol and dist.min(axis=0).max() <= tol)


@pytest.mark.parametrize("key", FAMILY_KEYS, ids=IDS)
def test_table_entry_is_complete(key):
    fam = FAMILIES[key]
    assert fam.key == key == (fam.reg, fam.bias, fam.depth)
    for d in (1, 2, 3, 7):
        name = fam.theorem(d)
        assert isinstance(name, str) and name.startswith("Thm ") and "THEORY" not in name
    assert fam.pnorm in (1, 2)
    assert fam.layout(9).per == (36 if fam.depth == 3 else 2)
    assert fam.pool_size(6, 3) > 0


@pytest.mark.parametrize("depth", [2, 3])
@pytest.mark.parametrize("n", [1, 4])
def test_layout_decode_encode_round_trip(depth, n):
    L = Layout(depth, n)
    cols = np.arange(5 * L.per)
    key = L.decode(cols)
    np.testing.assert_array_equal(key.candidate, cols // L.per)
    np.testing.assert_array_equal(L.encode(key.candidate, key.orientation, key.level, key.outer), cols)
    assert set(np.unique(key.orientation)) == {-1, 1}
    if depth == 2:
        assert np.all(key.level == -1) and np.all(key.outer == 0)
        np.testing.assert_array_equal(key.orientation, np.where(cols % 2 == 0, 1, -1))
    else:
        assert set(np.unique(key.level)) == set(range(n)) and set(np.unique(key.outer)) == {-1, 1}
        # every (orientation, level, outer) occurs once per candidate
        trip = set(zip(key.orientation[: L.per], key.level[: L.per], key.outer[: L.per], strict=True))
        assert len(trip) == L.per


def _check_provenance(D, X, cols) -> None:
    """Every generator lies on the column's hyperplane; orientation/level/outer follow the layout."""
    W, b = np.asarray(D.weights[cols]), np.asarray(D.biases[cols])
    thr, outer = np.asarray(D.thresholds[cols]), np.asarray(D.outer_sign[cols])
    for q, j in enumerate(cols):
        rec = D.provenance[int(j)]
        assert rec.theorem == D.theorem and rec.expression
        w, bb = W[q], b[q]
        scale = 1.0 + np.abs(X).max() * np.abs(w).sum() + abs(bb)
        for g in rec.generators:
            if g.kind == "basis":
                assert abs(w[g.indices[0]]) <= 1e-9 * scale
            elif g.kind == "difference":
                assert abs(w @ (X[g.indices[0]] - X[g.indices[1]])) <= 1e-9 * scale
            elif D.bias:  # a sample of a biased (affine) family lies on the hyperplane
                assert abs(w @ X[g.indices[0]] + bb) <= 1e-9 * scale
            else:  # a sample of an unbiased family spans a direction of the hyperplane
                assert abs(w @ X[g.indices[0]]) <= 1e-9 * scale
        if rec.anchor is not None:
            assert abs(w @ X[rec.anchor] + bb) <= 1e-9 * scale
        if D.depth == 3:
            assert rec.level is not None and rec.outer == outer[q] and rec.outer in (-1, 1)
            np.testing.assert_allclose(thr[q], max(w @ X[rec.level] + bb, 0.0), atol=1e-9 * scale)
        else:
            assert rec.level is None and rec.outer == 0 and outer[q] == 0


@pytest.mark.parametrize("key", FAMILY_KEYS, ids=IDS)
def test_family_builds_explicit_and_streamed_consistently(key):
    fam = FAMILIES[key]
    reg, bias, depth = key
    for d in _dims(fam):
        X = _data(fam, d, seed=d)
        D = dictionary(X, reg=reg, bias=bias, depth=depth)
        S = streamed_dictionary(X, reg=reg, bias=bias, depth=depth)
        for obj in (D, S):
            assert isinstance(obj, WedgeDictionary)
            assert (obj.reg, obj.bias, obj.depth) == key and obj.theorem == fam.theorem(d)
            assert obj.fit_intercept == fam.fit_intercept() and obj.exact == fam.is_exact(obj.setup.dr)
            assert obj.layout == fam.layout(X.shape[0]) and not obj.sampled
        assert not D.streamed and S.streamed
        assert D.n_columns > 0 and S.n_columns == S.n_candidates_total * S.layout.per
        # transform: one signature, reproduces the training columns
        np.testing.assert_allclose(D.transform(X), D.K, atol=1e-12 * max(1.0, np.abs(D.K).max()))
        idx = np.arange(0, D.n_columns, 3)
        np.testing.assert_array_equal(D.transform(X, idx), D.transform(X)[:, idx])
        KS = S.columns(np.arange(S.n_columns))
        np.testing.assert_allclose(S.transform(X, np.arange(S.n_columns)), KS, atol=1e-12 * max(1.0, np.abs(KS).max()))
        # explicit == streamed, as sets of columns (the explicit one merges duplicates)
        assert _same_column_sets(D.K, KS)
        # the kernels' decode (orientation, outer sign, level) is the layout's
        cols = np.arange(S.n_columns)
        key_s = S.layout.decode(cols)
        info = S.column_info(cols)
        np.testing.assert_array_equal(info["orientations"], key_s.orientation)
        np.testing.assert_array_equal(info["outer"], key_s.outer)
        np.testing.assert_array_equal(info["levels"], key_s.level)
        np.testing.assert_array_equal(info["candidates"], key_s.candidate)
        _check_provenance(D, X, np.arange(D.n_columns))
        rng = np.random.default_rng(1)
        _check_provenance(S, X, rng.choice(S.n_columns, size=min(S.n_columns, 40), replace=False))


@pytest.mark.parametrize("key", FAMILY_KEYS, ids=IDS)
def test_family_sampled_explicit_and_streamed_draw_the_same_candidates(key):
    fam = FAMILIES[key]
    reg, bias, depth = key
    X = _data(fam, 2, seed=3)
    per = fam.layout(X.shape[0]).per
    cap = 6 * per
    D = dictionary(X, reg=reg, bias=bias, depth=depth, max_columns=cap, random_state=7)
    S = streamed_dictionary(X, reg=reg, bias=bias, depth=depth, max_columns=cap, random_state=7)
    assert D.sampled and S.sampled and D.n_candidates == S.n_candidates == 6
    assert _same_column_sets(D.K, S.columns(np.arange(S.n_columns)))
    # full() on both: the streamed dictionary over every candidate, from the kept setup
    for obj in (D, S):
        F = obj.full()
        assert isinstance(F, StreamedDictionary) and F.streamed and not F.sampled
        assert F.setup is obj.setup and F.n_candidates == obj.n_candidates_total
    # the sampled columns are columns of the full dictionary
    F = S.full()
    np.testing.assert_allclose(F.columns(S.global_columns(np.arange(S.n_columns))), S.columns(np.arange(S.n_columns)))
    assert _same_column_sets(D.full().columns(np.arange(F.n_columns)), F.columns(np.arange(F.n_columns)))


def test_full_of_an_explicit_dictionary_does_not_rebuild(monkeypatch):
    X = np.random.default_rng(0).standard_normal((8, 3))
    D = dictionary(X, max_columns=40, random_state=0)
    import wedgenet.dictionaries.setup as setup_mod

    def refuse(*a, **k):
        raise AssertionError("full() must not prepare the data again")

    monkeypatch.setattr(setup_mod, "prepare", refuse)
    F = D.full()
    assert isinstance(F, StreamedDictionary) and F.n_candidates == D.n_candidates_total


def test_transform_checks_its_arguments():
    X = np.random.default_rng(0).standard_normal((6, 2))
    for D in (dictionary(X), streamed_dictionary(X)):
        with pytest.raises(ValueError, match="features"):
            D.transform(X[:, :1])
        with pytest.raises(ValueError, match="idx"):
            D.transform(X, [D.n_columns])
        with pytest.raises(ValueError, match="idx"):
            D.transform(X, np.ones(D.n_columns, dtype=bool))
        assert D.transform(X, []).shape == (6, 0)
    assert isinstance(dictionary(X), Dictionary)
