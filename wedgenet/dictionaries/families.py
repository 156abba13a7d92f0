"""The registry of dictionary families: ``(reg, bias, depth)`` -> how candidates are generated.

Each family fixes (docs/conventions.md, "Dictionaries"):

* the generator *pool* (samples, basis vectors ``e_k``, differences ``x_i - x_j``),
* the subset size and how a subset's rows become the ``d-1`` vectors of a cross product,
* the bias of the neuron, the norm that normalises it, and the theorem it comes from.

| family | pool | rows of the cross product | bias | norm | theorem |
|---|---|---|---|---|---|
| ``l1`` | ``X`` + ``e_k`` | ``S`` (``|S| = d-1``) | 0 | l1 | Thm 2, 4 |
| ``l1`` + bias | ``X`` + ``e_k`` | ``x_l - x_a`` or ``e_k``, anchor ``a`` | ``-w.x_a`` | l1 | Thm 16 (general d) |
| ``l2`` | ``X`` (row space) | ``S`` | 0 | l2 | Thm 15, 17, 5 |
| ``l2`` + bias | ``X`` (affine span) | ``u_i - u_d`` (``|S| = d``) | ``-w.u_d`` | l2 | Thm 3, 5 |
| depth 3 | ``X`` + diffs + ``e_k`` | ``S`` | 0 | l1 | Thm 12 |
| depth 3 + bias | diffs + ``e_k`` | ``S`` | ``-w.x_l`` | l1 | Thm 13 |

``d = 1`` is Theorem 1 in every biased family (``w = +-1``, ``b = -+x_j``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .layout import Layout

#: how the rows of a candidate's subset are formed from the pool (the kernels import these)
MODE_PLAIN = 0  # rows are pool vectors; b = 0
MODE_ANCHORED = 1  # sample entries minus the anchor sample; b = -w . x_anchor
MODE_AFFINE = 2  # subset of m+1 pool points: rows p_i - p_last; b = -w . p_last
MODE_BIAS_ONLY = 3  # rows are pool vectors; b = -w . x_anchor (Thm 13)

#: pool entry kinds
POOL_SAMPLE = 0
POOL_BASIS = 1
POOL_DIFFERENCE = 2


@dataclass(frozen=True)
class Family:
    """How one ``(reg, bias, depth)`` setting generates its candidate neurons.

    ``mode`` is one of the ``MODE_*`` constants above (how a subset's rows are formed),
    ``pnorm`` the norm that normalises the cross product, ``reduce_rank`` builds in the
    (affine) row space and maps back (p=2, Lemma 23), the ``pool_*`` flags choose the generator
    pool, ``anchored`` gives one candidate set per anchor sample.  The theorem a dictionary
    cites is ``theorem_d1`` for ``d = 1`` (when set), ``theorem_d2`` for ``d = 2`` and
    ``theorem_general`` otherwise.
    """

    reg: str
    bias: bool
    depth: int
    mode: int
    pnorm: int
    reduce_rank: bool
    pool_samples: bool
    pool_differences: bool
    pool_basis: bool
    anchored: bool
    theorem_d2: str
    theorem_general: str
    theorem_d1: str | None = None

    @property
    def key(self) -> tuple[str, bool, int]:
        return (self.reg, self.bias, self.depth)

    def theorem(self, d: int) -> str:
        """The theorem behind the family's dictionary for data in ``R^d``."""
        if d == 1 and self.theorem_d1 is not None:
            return self.theorem_d1
        return self.theorem_d2 if d == 2 else self.theorem_general

    def is_exact(self, dr: int) -> bool:
        """Whether the Lasso over the dictionary is the network problem itself (p=1, or ``dr = 1``)."""
        return self.pnorm == 1 or dr == 1

    def layout(self, n: int) -> Layout:
        """The column layout for ``n`` training samples (see :mod:`.layout`)."""
        return Layout(self.depth, int(n))

    def subset_size(self, dr: int) -> int:
        """Number of pool entries per candidate for vectors in ``R^dr``."""
        return dr if self.mode == MODE_AFFINE else dr - 1

    def n_vectors(self, dr: int) -> int:
        """Number of vectors in each candidate's cross product (always ``dr - 1``)."""
        return dr - 1

    def pool_size(self, n: int, dr: int) -> int:
        """Entries of :func:`build_pool` for ``n`` samples in ``R^dr``, without building it."""
        if self.mode == MODE_ANCHORED:
            return dr + n
        return (n if self.pool_samples else 0) + (n * (n - 1) // 2 if self.pool_differences else 0) \
            + (dr if self.pool_basis else 0)

    def anchor_offsets(self, n: int, n_pool: int, k: int) -> np.ndarray:
        """``offsets[a]``: id of the first candidate of anchor ``a``; ``offsets[-1]`` is the total.

        Anchored p=1: anchor ``a`` uses the pool prefix ``e_1..e_d, x_{n-1}..x_{a+1}`` of length
        ``n_pool - 1 - a`` (see :func:`build_pool`), so the total is ``C(n + d, d) - 1``.
        Thm 13 uses the whole pool for every anchor; unanchored families have one block.
        """
        if self.mode == MODE_ANCHORED:
            counts = [math.comb(n_pool - 1 - a, k) for a in range(n)]
        elif self.anchored:
            counts = [math.comb(n_pool, k)] * n
        else:
            counts = [math.comb(n_pool, k)]
        return np.concatenate([[0], np.cumsum(np.array(counts, dtype=object))]).astype(object)

    def fit_intercept(self) -> bool:
        """A free, unpenalised output intercept: every biased and every depth-3 family."""
        return bool(self.bias or self.depth == 3)


#: the registry; general-d Thm 16 is derived (docs/conventions.md, "Dictionaries")
FAMILIES: dict[tuple[str, bool, int], Family] = {f.key: f for f in (
    Family(reg="l1", bias=False, depth=2, mode=MODE_PLAIN, pnorm=1, reduce_rank=False, pool_samples=True,
           pool_differences=False, pool_basis=True, anchored=False,
           theorem_d2="Thm 2", theorem_general="Thm 4"),
    Family(reg="l1", bias=True, depth=2, mode=MODE_ANCHORED, pnorm=1, reduce_rank=False, pool_samples=True,
           pool_differences=False, pool_basis=True, anchored=True,
           theorem_d1="Thm 1", theorem_d2="Thm 16", theorem_general="Thm 16 (general d)"),
    Family(reg="l2", bias=False, depth=2, mode=MODE_PLAIN, pnorm=2, reduce_rank=True, pool_samples=True,
           pool_differences=False, pool_basis=False, anchored=False,
           theorem_d2="Thm 15", theorem_general="Thm 17"),
    Family(reg="l2", bias=True, depth=2, mode=MODE_AFFINE, pnorm=2, reduce_rank=True, pool_samples=True,
           pool_differences=False, pool_basis=False, anchored=False,
           theorem_d1="Thm 1", theorem_d2="Thm 3", theorem_general="Thm 5"),
    Family(reg="l1", bias=False, depth=3, mode=MODE_PLAIN, pnorm=1, reduce_rank=False, pool_samples=True,
           pool_differences=True, pool_basis=True, anchored=False,
           theorem_d2="Thm 12", theorem_general="Thm 12"),
    Family(reg="l1", bias=True, depth=3, mode=MODE_BIAS_ONLY, pnorm=1, reduce_rank=False, pool_samples=False,
           pool_differences=True, pool_basis=True, anchored=True,
           theorem_d2="Thm 13", theorem_general="Thm 13"),
)}


#: the settings the registry offers (validation reads these, not a hand-written list)
REGS: tuple[str, ...] = tuple(sorted({f.reg for f in FAMILIES.values()}))
DEPTHS: tuple[int, ...] = tuple(sorted({f.depth for f in FAMILIES.values()}))


def get_family(reg: str, bias: bool, depth: int) -> Family:
    """Look up the family for a setting, or raise ``ValueError`` saying what exists."""
    try:
        return FAMILIES[(reg, bool(bias), depth)]
    except KeyError:
        have = ", ".join(f"(reg={r!r}, bias={b}, depth={k})" for r, b, k in FAMILIES)
        raise ValueError(f"no dictionary for reg={reg!r}, bias={bias!r}, depth={depth!r}; registered: {have}") from None


@dataclass(frozen=True)
class Pool:
    """Generator pool: vectors (in the working coordinates) and what each entry is."""

    vectors: np.ndarray  # (P, dr)
    kind: np.ndarray  # (P,) int8: POOL_SAMPLE / POOL_BASIS / POOL_DIFFERENCE
    i: np.ndarray  # (P,) sample index, basis index, or minuend of a difference
    j: np.ndarray  # (P,) subtrahend of a difference, else -1


def build_pool(family: Family, Z: np.ndarray) -> Pool:
    """Pool of the family for working coordinates ``Z`` (rows are samples).

    In the anchored p=1 family the pool is ordered ``e_1..e_d, x_{n-1}, ..., x_0`` so that the
    pool of anchor ``a`` is a prefix: it holds only the samples with index above ``a``.  A
    hyperplane through several samples is then generated once, from its lowest-index sample
    (any other anchor on it spans the same flat with the same number of directions).
    """
    n, dr = Z.shape
    vecs, kinds, ii, jj = [], [], [], []
    if family.mode == MODE_ANCHORED:
        order = np.arange(n)[::-1]
        return Pool(
            np.ascontiguousarray(np.concatenate([np.eye(dr), Z[order]], axis=0), dtype=np.float64),
            np.concatenate([np.full(dr, POOL_BASIS, np.int8), np.full(n, POOL_SAMPLE, np.int8)]),
            np.concatenate([np.arange(dr), order]).astype(np.int64),
            np.full(dr + n, -1, dtype=np.int64),
        )
    if family.pool_samples:
        vecs.append(Z)
        kinds.append(np.full(n, POOL_SAMPLE, np.int8))
        ii.append(np.arange(n))
        jj.append(np.full(n, -1))
    if family.pool_differences:
        a, b = np.triu_indices(n, k=1)
        vecs.append(Z[a] - Z[b])
        kinds.append(np.full(a.size, POOL_DIFFERENCE, np.int8))
        ii.append(a)
        jj.append(b)
    if family.pool_basis:
        vecs.append(np.eye(dr))
        kinds.append(np.full(dr, POOL_BASIS, np.int8))
        ii.append(np.arange(dr))
        jj.append(np.full(dr, -1))
    return Pool(
        np.ascontiguousarray(np.concatenate(vecs, axis=0), dtype=np.float64),
        np.concatenate(kinds),
        np.concatenate(ii).astype(np.int64),
        np.concatenate(jj).astype(np.int64),
    )
