"""A growable column source: a sampled dictionary plus neurons found by pricing, with provenance.

It offers the attributes :meth:`wedgenet.WedgeNetwork.from_solution` reads (``weights``,
``biases``, ``provenance``, ``columns(S)``, ``outer_sign``, ``thresholds``, ``theorem``,
``exact``, ...) and the solvers' column-source protocol (``n_columns``, ``columns``,
``violators``; see ``wedgenet.solvers.base``), using only the public attributes of the base
dictionary (``K``/``columns``, ``weights``, ``biases``, ``provenance``, ``theorem``, ...).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..dictionaries.provenance import lazy_getitem
from ..solvers.base import dense_violators
from .vertices import VertexRecord

__all__ = ["ColumnSet"]


class _Provenance(Sequence):
    """Base dictionary records, then the records of the added neurons."""

    def __init__(self, owner: ColumnSet) -> None:
        self.owner = owner

    def __len__(self) -> int:
        return self.owner.n_columns

    def __getitem__(self, j):  # type: ignore[override]
        return lazy_getitem(self, j, self._record)

    def _record(self, j: int):
        o = self.owner
        return o.base.provenance[j] if j < o.n_base else o.records[j - o.n_base]


class ColumnSet:
    """``K = [K_base, K_new]`` with generator neurons and provenance; ``add`` appends a neuron."""

    def __init__(self, X: np.ndarray, base, *, reg: str, bias: bool) -> None:
        self.X = X
        self.base = base
        self.n_base = int(base.n_columns) if base is not None else 0
        self.reg, self.bias, self.depth = reg, bool(bias), 2
        n, d = X.shape
        self._K_base = base.columns(np.arange(self.n_base)) if self.n_base else np.zeros((n, 0))
        self._W = [np.asarray(base.weights, dtype=np.float64)] if self.n_base else [np.zeros((0, d))]
        self._b = [np.asarray(base.biases, dtype=np.float64)] if self.n_base else [np.zeros(0)]
        self._K_new = np.zeros((n, 16), order="F")
        self.n_new = 0
        self.records: list[VertexRecord] = []
        self._keys: set = set()
        self._r = np.random.default_rng(7).uniform(0.5, 1.0, n)
        self._fp_base = self._r @ self._K_base if self.n_base else np.zeros(0)
        self._fp_new: list[float] = []
        self.provenance = _Provenance(self)
        self.theorem = getattr(base, "theorem", "column generation")
        self.exact = bool(getattr(base, "exact", reg == "l1"))
        self.approximation = getattr(base, "approximation", "exact")
        self.n_candidates_total = int(getattr(base, "n_candidates_total", 0))
        self._n_cand_base = int(getattr(base, "n_candidates", 0))
        self.fit_intercept = bool(bias)

    # ------------------------------------------------------------------ the attributes from_solution reads
    @property
    def n_columns(self) -> int:
        return self.n_base + self.n_new

    @property
    def shape(self) -> tuple[int, int]:
        return (self.X.shape[0], self.n_columns)

    @property
    def weights(self) -> np.ndarray:
        return np.concatenate(self._W) if len(self._W) > 1 else self._W[0]

    @property
    def biases(self) -> np.ndarray:
        return np.concatenate(self._b) if len(self._b) > 1 else self._b[0]

    @property
    def outer_sign(self) -> np.ndarray:
        return np.zeros(self.n_columns)

    @property
    def thresholds(self) -> np.ndarray:
        return np.zeros(self.n_columns)

    @property
    def n_candidates(self) -> int:
        return self._n_cand_base + self.n_new

    @property
    def sampled(self) -> bool:
        return True

    # ------------------------------------------------------------------ column source
    def columns(self, idx) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64).reshape(-1)
        out = np.empty((self.X.shape[0], idx.size), order="F")
        old = idx < self.n_base
        out[:, old] = self._K_base[:, idx[old]]
        out[:, ~old] = self._K_new[:, idx[~old] - self.n_base]
        return out

    def violators(self, theta, k, threshold, exclude=None):
        K = self._K_base if not self.n_new else np.hstack([self._K_base, self._K_new[:, : self.n_new]])
        return dense_violators(K, theta, k, threshold, exclude)

    def scores(self, theta: np.ndarray) -> np.ndarray:
        """``|K_j^T theta|`` of every column."""
        s = self._K_base.T @ theta
        if self.n_new:
            s = np.concatenate([s, self._K_new[:, : self.n_new].T @ theta])
        return np.abs(s)

    # ------------------------------------------------------------------ growth
    def add(self, w: np.ndarray, b: float, record: VertexRecord) -> int | None:
        """Append the unit-norm neuron ``(w, b)``; ``None`` if it (or an equal column) is present."""
        key = (record.rows, record.orientation)
        if key in self._keys:
            return None
        col = np.maximum(self.X @ w + b, 0.0)
        if not np.any(col > 0):
            return None
        fp = float(self._r @ col)
        tol = 1e-10 * max(abs(fp), 1e-300)
        near = np.flatnonzero(np.abs(self._fp_base - fp) <= tol)
        if any(np.allclose(self._K_base[:, j], col, rtol=1e-10, atol=1e-12 * np.abs(col).max()) for j in near):
            return None
        for j, f in enumerate(self._fp_new):
            if abs(f - fp) <= tol and np.allclose(self._K_new[:, j], col, rtol=1e-10):
                return None
        if self.n_new == self._K_new.shape[1]:
            grown = np.zeros((self.X.shape[0], 2 * self._K_new.shape[1]), order="F")
            grown[:, : self.n_new] = self._K_new
            self._K_new = grown
        self._K_new[:, self.n_new] = col
        self._W.append(np.asarray(w, dtype=np.float64)[None, :])
        self._b.append(np.array([float(b)]))
        if len(self._W) > 64:  # keep concatenation cheap
            self._W = [np.concatenate(self._W)]
            self._b = [np.concatenate(self._b)]
        self.records.append(record)
        self._keys.add(key)
        self._fp_new.append(fp)
        self.n_new += 1
        return self.n_columns - 1
