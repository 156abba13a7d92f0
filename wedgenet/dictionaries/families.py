"""The registry of dictionary families: ``(reg, bias, depth)`` -> how candidates are generated.

Each family fixes (docs/conventions.md#dictionaries):

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

from ._kernels import MODE_AFFINE, MODE_ANCHORED, MODE_BIAS_ONLY, MODE_PLAIN

#: pool entry kinds
POOL_SAMPLE = 0
POOL_BASIS = 1
POOL_DIFFERENCE = 2


@dataclass(frozen=True)
class Family:
    """How one ``(reg, bias, depth)`` setting generates its candidate neurons."""

    key: tuple[str, bool, int]
    mode: int
    pnorm: int
    reduce_rank: bool  # build in the (affine) row space and map back (p=2, Lemma 23)
    pool_samples: bool
    pool_differences: bool
    pool_basis: bool
    anchored: bool  # one candidate set per anchor sample
    depth: int

    def theorem(self, d: int) -> str:
        reg, bias, depth = self.key
        if depth == 3:
            return "Thm 13" if bias else "Thm 12"
        if d == 1 and bias:
            return "Thm 1"
        if reg == "l1":
            if bias:
                return "Thm 16" if d == 2 else "Thm 16 (general d, docs/conventions.md#dictionaries)"
            return "Thm 2" if d == 2 else "Thm 4"
        if bias:
            return "Thm 3" if d == 2 else "Thm 5"
        return "Thm 15" if d == 2 else "Thm 17"

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
        _, bias, depth = self.key
        return bool(bias or depth == 3)


FAMILIES: dict[tuple[str, bool, int], Family] = {
    ("l1", False, 2): Family(("l1", False, 2), MODE_PLAIN, 1, False, True, False, True, False, 2),
    ("l1", True, 2): Family(("l1", True, 2), MODE_ANCHORED, 1, False, True, False, True, True, 2),
    ("l2", False, 2): Family(("l2", False, 2), MODE_PLAIN, 2, True, True, False, False, False, 2),
    ("l2", True, 2): Family(("l2", True, 2), MODE_AFFINE, 2, True, True, False, False, False, 2),
    ("l1", False, 3): Family(("l1", False, 3), MODE_PLAIN, 1, False, True, True, True, False, 3),
    ("l1", True, 3): Family(("l1", True, 3), MODE_BIAS_ONLY, 1, False, False, True, True, True, 3),
}


def get_family(reg: str, bias: bool, depth: int) -> Family:
    """Look up the family for a setting, or raise ``ValueError`` saying what exists."""
    try:
        return FAMILIES[(reg, bool(bias), depth)]
    except KeyError:
        raise ValueError(
            f"no dictionary for reg={reg!r}, bias={bias!r}, depth={depth!r}; depth=3 exists for "
            "reg='l1' only (Theorems 12, 13)"
        ) from None


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
