"""The column layout of a dictionary family: columns per candidate and what each one is.

Every candidate neuron ``(w, b)`` gives ``per`` consecutive columns; column ``col`` belongs to
candidate ``t = col // per`` and ``within = col % per`` selects (docs/conventions.md,
"Dictionaries"):

* depth 2 (``per = 2``): the orientation, ``within = 0`` for ``+c`` and ``1`` for ``-c``;
* depth 3 (``per = 4 n``): ``within = 2 n so + 2 j0 + o`` with orientation ``so`` (``+``, ``-``),
  level sample ``j0`` in ``0..n-1`` (the second-layer threshold ``t0 = u[j0]``,
  ``u = (s (X w + b))_+``) and outer sign ``o`` (``K1 = (u - t0)_+``, ``K2 = (t0 - u)_+``),
  Theorems 12, 13.

This module is the one place that knows the layout.  Numba code calls :func:`layout_per`,
:func:`decode_column` and :func:`encode_column`; Python code calls :class:`Layout`, whose
:meth:`Layout.decode` runs the same jitted decoder.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np

__all__ = ["ColumnKeys", "Layout", "decode_column", "encode_column", "layout_per"]


@nb.njit(cache=True, inline="always")
def layout_per(n: int, depth3: bool) -> int:
    """Columns per candidate: 2 for depth 2, ``4 n`` for depth 3."""
    return 4 * n if depth3 else 2


@nb.njit(cache=True, inline="always")
def decode_column(col: np.int64, n: int, depth3: bool):
    """``(t, orientation, level, outer)`` of column ``col``: candidate, ``+1``/``-1``, level sample
    (``-1`` at depth 2) and outer sign (``0`` at depth 2, ``+1`` for ``K1``, ``-1`` for ``K2``)."""
    per = layout_per(n, depth3)
    t = col // per
    within = col - t * per
    if not depth3:
        return t, (1 if within == 0 else -1), -1, 0
    so = within // (2 * n)
    rest = within - so * 2 * n
    return t, (1 if so == 0 else -1), rest // 2, (1 if rest % 2 == 0 else -1)


@nb.njit(cache=True, inline="always")
def encode_column(t: np.int64, orientation: int, level: int, outer: int, n: int, depth3: bool) -> np.int64:
    """Inverse of :func:`decode_column` (``level`` and ``outer`` are ignored at depth 2)."""
    per = layout_per(n, depth3)
    so = 0 if orientation > 0 else 1
    if not depth3:
        return t * per + so
    return t * per + so * 2 * n + 2 * level + (0 if outer > 0 else 1)


@nb.njit(cache=True)
def _decode_many(cols: np.ndarray, n: int, depth3: bool):
    N = cols.shape[0]
    t = np.empty(N, dtype=np.int64)
    orient = np.empty(N, dtype=np.int8)
    level = np.empty(N, dtype=np.int64)
    outer = np.empty(N, dtype=np.int8)
    for q in range(N):
        t[q], orient[q], level[q], outer[q] = decode_column(cols[q], n, depth3)
    return t, orient, level, outer


@nb.njit(cache=True)
def _encode_many(t: np.ndarray, orient: np.ndarray, level: np.ndarray, outer: np.ndarray, n: int,
                 depth3: bool) -> np.ndarray:
    out = np.empty(t.shape[0], dtype=np.int64)
    for q in range(t.shape[0]):
        out[q] = encode_column(t[q], orient[q], level[q], outer[q], n, depth3)
    return out


@dataclass(frozen=True)
class ColumnKeys:
    """Decoded columns: ``candidate`` (position of the candidate), ``orientation`` (+1/-1),
    ``level`` (-1 at depth 2) and ``outer`` (0 at depth 2)."""

    candidate: np.ndarray
    orientation: np.ndarray
    level: np.ndarray
    outer: np.ndarray


@dataclass(frozen=True)
class Layout:
    """The layout of a family with ``depth`` on ``n`` training samples."""

    depth: int
    n: int

    @property
    def depth3(self) -> bool:
        return self.depth == 3

    @property
    def per(self) -> int:
        """Columns per candidate."""
        return int(layout_per(self.n, self.depth3))

    def decode(self, cols) -> ColumnKeys:
        """:class:`ColumnKeys` of the column indices ``cols`` (via :func:`decode_column`)."""
        c = np.ascontiguousarray(np.asarray(cols, dtype=np.int64).ravel())
        return ColumnKeys(*_decode_many(c, int(self.n), self.depth3))

    def encode(self, candidate, orientation, level=None, outer=None) -> np.ndarray:
        """Column indices of the given keys (inverse of :meth:`decode`)."""
        t = np.ascontiguousarray(np.asarray(candidate, dtype=np.int64).ravel())
        o = np.ascontiguousarray(np.broadcast_to(np.asarray(orientation, dtype=np.int64), t.shape))
        lv = np.full(t.shape, -1, np.int64) if level is None else np.broadcast_to(np.asarray(level, np.int64), t.shape)
        ou = np.zeros(t.shape, np.int64) if outer is None else np.broadcast_to(np.asarray(outer, np.int64), t.shape)
        return _encode_many(t, o, np.ascontiguousarray(lv), np.ascontiguousarray(ou), int(self.n), self.depth3)
