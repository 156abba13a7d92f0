"""The column-norm bound that lets the working set skip re-pricing must hold for every family and scale."""

from __future__ import annotations

import numpy as np
import pytest

import wedgenet as wn
from wedgenet.dictionaries import FAMILIES


@pytest.mark.parametrize("key", sorted(FAMILIES, key=str))
@pytest.mark.parametrize("scale", [1e-120, 1.0, 1e90])
def test_streamed_bound_covers_every_explicit_column(key, scale):
    reg, bias, depth = key
    rng = np.random.default_rng(1)
    n, d = (9, 2) if depth == 3 else (14, 3)
    X = rng.normal(size=(n, d)) * [1.0, 1e3, 1e-3][:d] * scale
    D = wn.dictionary(X, reg=reg, bias=bias, depth=depth)
    S = wn.streamed_dictionary(X, reg=reg, bias=bias, depth=depth)
    actual = float(np.sqrt((D.K**2).sum(axis=0)).max()) if D.n_columns else 0.0
    assert actual <= S.max_column_norm()
    assert np.isfinite(S.max_column_norm()) and S.max_column_norm() <= 2 * np.sqrt(n) * np.abs(X).max() * np.sqrt(d)
    assert D.max_column_norm() == pytest.approx(actual, rel=1e-9)
