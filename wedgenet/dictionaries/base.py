"""The dictionary protocol shared by the explicit and the streamed wedge dictionaries.

A dictionary is built from one :class:`~.setup.Setup` (the family, working coordinates, pool,
candidate ranking and column layout) and a :class:`~.setup.SamplingPlan`; every piece of
metadata is read from those two, never stored twice.  Fitting asks :attr:`streamed`
(whether ``K`` is materialised) and :meth:`full` (every candidate, for a certificate) instead
of testing the class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from .._linalg import wedge_hidden
from .._validation import as_float_array
from .layout import Layout
from .setup import APPROXIMATE, SamplingPlan, Setup

if TYPE_CHECKING:  # pragma: no cover
    from .streaming import StreamedDictionary

__all__ = ["WedgeDictionary"]

#: largest ``m * len(idx)`` matrix :meth:`WedgeDictionary.transform` returns without ``idx`` given
MAX_TRANSFORM_ENTRIES = 1 << 27


class WedgeDictionary:
    """Base class (the protocol) of :class:`~wedgenet.dictionaries.Dictionary` and
    :class:`~wedgenet.dictionaries.StreamedDictionary`.

    Subclasses set ``setup`` and ``plan`` and implement ``n_columns``, ``columns(idx)``,
    ``violators(theta, k, threshold, exclude)``, ``price(theta)``, ``_unit(idx)`` (the
    weights, biases, outer signs and thresholds of columns ``idx``) and ``full()``.
    """

    #: whether ``K`` is computed on demand (never materialised)
    streamed: ClassVar[bool] = False
    setup: Setup
    plan: SamplingPlan

    # ------------------------------------------------------------------ metadata (from the setup)
    @property
    def reg(self) -> str:
        return self.setup.family.reg

    @property
    def bias(self) -> bool:
        return bool(self.setup.family.bias)

    @property
    def depth(self) -> int:
        return int(self.setup.family.depth)

    @property
    def theorem(self) -> str:
        return self.setup.theorem

    @property
    def exact(self) -> bool:
        """True when the Lasso over the dictionary is exactly the network problem (p=1, or ``d = 1``)."""
        return self.setup.exact

    @property
    def approximation(self) -> str:
        return "exact" if self.exact else APPROXIMATE

    @property
    def fit_intercept(self) -> bool:
        """Whether the formulation has a free, unpenalised output intercept (docs/conventions.md)."""
        return self.setup.family.fit_intercept()

    @property
    def rank(self) -> int:
        return int(self.setup.rank)

    @property
    def layout(self) -> Layout:
        return self.setup.layout

    @property
    def n_samples(self) -> int:
        return self.setup.n

    @property
    def n_features(self) -> int:
        return self.setup.d

    @property
    def sampled(self) -> bool:
        return bool(self.plan.sampled)

    @property
    def n_candidates(self) -> int:
        """Candidates the dictionary holds (drawn ones when sampled)."""
        return int(self.plan.n_pick)

    @property
    def n_candidates_total(self) -> int:
        return int(self.setup.total)

    @property
    def n_columns(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_samples, self.n_columns)

    def describe(self, j: int) -> str:
        """Readable symbolic form of column ``j``, e.g. ``dist+(x, Aff(x3, x17))``."""
        return self.provenance[j].expression  # type: ignore[attr-defined]

    def _kind(self) -> str:
        kind = "exact" if self.exact else "approximate (1/(1-eps))"
        extra = f", sampled {self.n_candidates:,} of {self.n_candidates_total:,} candidates" if self.sampled else ""
        return (f"reg={self.reg!r}, bias={self.bias}, depth={self.depth}, {self.theorem}, {kind}, "
                f"intercept={self.fit_intercept}{extra}")

    # ------------------------------------------------------------------ protocol
    def full(self) -> StreamedDictionary:  # pragma: no cover - overridden
        """The streamed dictionary over every candidate of the same data, sharing the setup."""
        raise NotImplementedError

    def _unit(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def transform(self, X, idx=None) -> np.ndarray:
        """Columns ``idx`` (default: all) evaluated on new data ``X``: ``(m, d) -> (m, len(idx))``.

        ``(X w_j + b_j)_+`` at depth 2 and ``(s_j ((X w_j + b_j)_+ - t_j))_+`` at depth 3
        (Theorems 12, 13), with the generator neurons of the columns.
        """
        Xa = as_float_array("X", X, ndim=2)
        if Xa.shape[1] != self.n_features:
            raise ValueError(f"X must have {self.n_features} features; got {Xa.shape[1]}")
        if idx is None:
            if Xa.shape[0] * self.n_columns > MAX_TRANSFORM_ENTRIES and self.streamed:
                raise ValueError(f"transform of all {self.n_columns:,} streamed columns on {Xa.shape[0]} rows is too "
                                 "large; pass idx=... (the columns you need)")
            cols = np.arange(self.n_columns, dtype=np.int64)
        else:
            cols = np.asarray(idx)
            if cols.dtype == bool or cols.ndim > 1 or (cols.size and not np.issubdtype(cols.dtype, np.integer)):
                raise ValueError("idx must be a 1-D array of integer column indices")
            cols = cols.astype(np.int64).ravel()
            if cols.size and (cols.min() < 0 or cols.max() >= self.n_columns):
                raise ValueError(f"idx must lie in [0, {self.n_columns}); got {cols.min()}..{cols.max()}")
        W, b, outer, thr = self._unit(cols)
        return wedge_hidden(Xa, W, b, *((outer, thr) if self.depth == 3 else ()))
