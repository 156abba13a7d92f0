"""Provenance of dictionary columns: which training samples define each neuron, and how.

Every column of a :class:`~wedgenet.dictionaries.Dictionary` records the pool entries of its
subset, its anchor sample (biased families), its level sample ``j0`` (depth 3), its
orientation and the theorem it comes from.  Records are built lazily from compact arrays, so a
dictionary with millions of columns does not hold millions of Python objects.

Generator kinds:

* ``sample``      — a training sample ``x_i``;
* ``difference``  — ``x_i - x_j``;
* ``basis``       — a standard basis vector ``e_k`` (the p=1 augmentation, docs/conventions.md "Dictionaries");
* ``anchor``      — the sample ``x_a`` the neuron's breakline passes through (``b = -w.x_a``);
* ``level``       — depth 3: the sample ``x_j0`` whose first-layer activation is the
  second-layer threshold.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from .families import MODE_AFFINE, MODE_ANCHORED, POOL_BASIS, POOL_DIFFERENCE, Family, Pool

__all__ = ["Generator", "Provenance", "ProvenanceTable"]


@dataclass(frozen=True)
class Generator:
    """One generator of a neuron: ``kind`` and the sample (or basis) indices it uses."""

    kind: str
    indices: tuple[int, ...]

    def __str__(self) -> str:
        if self.kind == "sample":
            return f"x{self.indices[0]}"
        if self.kind == "basis":
            return f"e{self.indices[0] + 1}"
        if self.kind == "difference":
            return f"x{self.indices[0]} - x{self.indices[1]}"
        return f"x{self.indices[0]}"


@dataclass(frozen=True)
class Provenance:
    """Where one dictionary column comes from."""

    column: int
    theorem: str
    orientation: int
    generators: tuple[Generator, ...]
    anchor: int | None
    level: int | None
    outer: int
    expression: str

    @property
    def samples(self) -> tuple[int, ...]:
        """Sorted training-row indices that define the column (generators, anchor, level)."""
        s: set[int] = set()
        for g in self.generators:
            if g.kind != "basis":
                s.update(g.indices)
        if self.anchor is not None:
            s.add(self.anchor)
        if self.level is not None:
            s.add(self.level)
        return tuple(sorted(s))

    @property
    def kinds(self) -> tuple[str, ...]:
        """Generator kinds, in generator order (plus ``anchor``/``level`` when present)."""
        k = tuple(g.kind for g in self.generators)
        if self.anchor is not None:
            k += ("anchor",)
        if self.level is not None:
            k += ("level",)
        return k


def lazy_getitem(seq: Sequence, j, record):
    """``seq[j]`` for a lazily built sequence: ``record(j)`` for an int (negative counts from
    the end), a list for a slice, ``IndexError`` out of range."""
    if isinstance(j, slice):
        return [record(i) for i in range(*j.indices(len(seq)))]
    j = int(j)
    if j < 0:
        j += len(seq)
    if not 0 <= j < len(seq):
        raise IndexError(f"column {j} out of range for {len(seq)} columns")
    return record(j)


class ProvenanceTable(Sequence):
    """Lazy sequence of :class:`Provenance` records, one per column.

    The compact arrays are public: ``subsets`` (pool indices, one row per column),
    ``anchors`` / ``levels`` (-1 where absent), ``orientations`` (+1/-1), ``outer`` (0 for
    depth 2, +1 for ``K1``, -1 for ``K2``), and the pool description ``pool_kind``,
    ``pool_i``, ``pool_j``.
    """

    def __init__(self, family: Family, pool: Pool, d: int, subsets: np.ndarray, anchors: np.ndarray,
                 levels: np.ndarray, orientations: np.ndarray, outer: np.ndarray, theorem: str) -> None:
        self.family = family
        self.pool_kind = pool.kind
        self.pool_i = pool.i
        self.pool_j = pool.j
        self.d = d
        self.subsets = subsets
        self.anchors = anchors
        self.levels = levels
        self.orientations = orientations
        self.outer = outer
        self.theorem = theorem

    def __len__(self) -> int:
        return int(self.subsets.shape[0])

    def __getitem__(self, j):  # type: ignore[override]
        return lazy_getitem(self, j, self._record)

    def __iter__(self) -> Iterator[Provenance]:
        for j in range(len(self)):
            yield self._record(j)

    def _generator(self, q: int, anchor: int | None) -> Generator:
        kind = int(self.pool_kind[q])
        i = int(self.pool_i[q])
        if kind == POOL_BASIS:
            return Generator("basis", (i,))
        if kind == POOL_DIFFERENCE:
            return Generator("difference", (i, int(self.pool_j[q])))
        if anchor is not None and self.family.mode == MODE_ANCHORED:
            return Generator("difference", (i, anchor))
        return Generator("sample", (i,))

    def _record(self, j: int) -> Provenance:
        fam = self.family
        sub = [int(q) for q in self.subsets[j]]
        a = int(self.anchors[j])
        anchor = a if a >= 0 else None
        lv = int(self.levels[j])
        level = lv if lv >= 0 else None
        if fam.mode == MODE_AFFINE:
            gens = tuple(Generator("sample", (int(self.pool_i[q]),)) for q in sub)
            anchor = None  # the last point of the affine subset plays the anchor's role
        else:
            gens = tuple(self._generator(q, anchor) for q in sub)
        expr = self._expression(gens, anchor, level, int(self.orientations[j]), int(self.outer[j]))
        return Provenance(j, self.theorem, int(self.orientations[j]), gens, anchor, level,
                          int(self.outer[j]), expr)

    def _expression(self, gens, anchor, level, orient: int, outer: int) -> str:
        fam = self.family
        part = "+" if orient > 0 else "-"

        if fam.pnorm == 2:
            names = ", ".join(str(g) for g in gens)
            hull = "Aff" if fam.mode == MODE_AFFINE else "Span"
            return f"dist{part}(x, {hull}({names}))"
        xs = "x" if anchor is None else f"x - x{anchor}"
        parts = [str(g) for g in gens]
        wrapped = [f"({p})" if " - " in p else p for p in parts]
        norm = " ^ ".join(wrapped) if wrapped else "1"
        if fam.depth == 3:
            lvl = f"x{level}" if anchor is None else f"x{level} - x{anchor}"
            args = ", ".join(parts)
            v_x = f"Vol{part}(P({xs}{', ' + args if args else ''}))"
            v_l = f"Vol{part}(P({lvl}{', ' + args if args else ''}))"
            body = f"({v_x} - {v_l})+" if outer > 0 else f"({v_l} - {v_x})+"
            return f"{body} / ||{norm}||_1" if parts else body
        args = ", ".join(parts)
        vol = f"Vol{part}(P({xs}{', ' + args if args else ''}))"
        return f"{vol} / ||{norm}||_1" if parts else vol
