"""The explicit wedge-product dictionary ``K`` with its generator neurons and provenance.

Every column is a ReLU neuron applied to the data (docs/conventions.md, "Dictionaries"):

    K[:, j] = (X @ weights[j] + biases[j])_+                      (depth 2)
    K[:, j] = (outer_sign[j] * ((X @ weights[j] + biases[j])_+ - thresholds[j]))_+   (depth 3)

with ``weights[j] = +-c / ||c||_p`` for the generalized cross product ``c`` of the column's
generators.  Training is then the Lasso ``L(K z + 1 t, y) + lam ||z||_1`` (docs/conventions.md, "The objective").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from .._linalg import group_norms
from .._parallel import numba_threads_for
from .._validation import check_nonneg_float, check_positive_int
from ..algebra.products import DEFAULT_RTOL
from ._kernels import compact_columns, fill_columns, fill_hash_pairs, hash_level_columns, representatives
from .base import WedgeDictionary
from .memory import check_memory, default_memory_budget
from .provenance import Provenance, ProvenanceTable
from .setup import APPROXIMATE, SamplingPlan, Setup, _check_generator, plan_counts, prepare

if TYPE_CHECKING:  # pragma: no cover
    from .streaming import StreamedDictionary

__all__ = ["APPROXIMATE", "Dictionary", "dictionary"]

#: a column whose maximum is at most this fraction of its neuron's largest preactivation is rounding
#: noise (e.g. a depth-3 unit ``(u - t0)_+`` whose threshold ties with other samples) and is dropped
NOISE = 1e-12

#: columns agreeing entrywise within this fraction of their neurons' scale are merged
DUPLICATE_RTOL = 1e-10

@dataclass(eq=False, repr=False)
class Dictionary(WedgeDictionary):
    """A wedge-product dictionary: columns, generator neurons, provenance.

    The metadata (``reg``, ``bias``, ``depth``, ``theorem``, ``exact``, ``approximation``,
    ``fit_intercept``, ``rank``, ``sampled``, ``n_candidates``, ``n_candidates_total``,
    ``layout``) is read from ``setup`` and ``plan`` (see :class:`~.base.WedgeDictionary`).

    Attributes
    ----------
    K : ndarray (n, p), Fortran order
        Column ``j`` is neuron ``j`` applied to the training data.
    weights, biases : ndarray (p, d), (p,)
        Generator neuron of each column (first-layer neuron for depth 3).
    outer_sign, thresholds : ndarray (p,)
        Depth 3 second-layer unit ``(s (u - t))_+``; ``outer_sign`` is 0 for depth 2.
    normalisers : ndarray (p,)
        ``||c||_p`` of the unnormalised cross product ``c`` of the data rows (``||c||_1`` for
        p=1, the volume ``||c||_2`` for p=2; ``inf`` beyond the float64 range).
    provenance : ProvenanceTable
        Per column: generators (sample / difference / basis), anchor, level, orientation,
        theorem, expression.
    setup, plan : Setup, SamplingPlan
        What defines the candidates, and which of them were drawn: :meth:`full` streams every
        candidate from them without going back to the raw data.
    """

    K: np.ndarray
    weights: np.ndarray
    biases: np.ndarray
    outer_sign: np.ndarray
    thresholds: np.ndarray
    normalisers: np.ndarray
    provenance: ProvenanceTable
    setup: Setup
    plan: SamplingPlan
    n_duplicates: int
    n_zero: int
    alt_columns: np.ndarray
    alt_provenance: ProvenanceTable
    alt_weights: np.ndarray
    alt_biases: np.ndarray

    streamed: ClassVar[bool] = False

    def candidate_neurons(self) -> tuple[np.ndarray, np.ndarray]:
        """``(weights, biases)`` of every candidate with a nonzero column, merged duplicates included."""
        return (np.concatenate([self.weights, self.alt_weights]),
                np.concatenate([self.biases, self.alt_biases]))

    @property
    def n_columns(self) -> int:
        return int(self.K.shape[1])

    def full(self) -> StreamedDictionary:
        """The streamed dictionary over every candidate of the same data, from the kept setup
        (no rebuild from raw data): the column source of a certificate over all candidates."""
        from .streaming import StreamedDictionary

        if self.setup.huge:
            raise ValueError(f"{self.setup.total:.3e} candidate subsets exceed the int64 rank range, which "
                             "streaming walks: no certificate over every candidate is possible")
        return StreamedDictionary(self.setup, SamplingPlan(False, self.setup.total, None))

    def _unit(self, idx: np.ndarray):
        return self.weights[idx], self.biases[idx], self.outer_sign[idx], self.thresholds[idx]

    def alternatives(self, j: int) -> list[Provenance]:
        """Other candidates that produced exactly the same column as ``j`` (merged duplicates)."""
        j = check_positive_int("j", j, minimum=0)
        if j >= self.n_columns:
            raise ValueError(f"j must be < n_columns={self.n_columns}; got {j}")
        return [self.alt_provenance[int(i)] for i in np.flatnonzero(self.alt_columns == j)]

    def columns(self, idx) -> np.ndarray:
        """Columns ``K[:, idx]`` (Fortran order), the column-source protocol of the solvers."""
        return np.asfortranarray(self.K[:, idx])

    def price(self, theta: np.ndarray) -> np.ndarray:
        """``|K_j^T theta|`` for every column (row norms ``||K_j^T Theta||_2`` for a matrix ``theta``)."""
        return group_norms(self.K.T @ theta)

    def violators(self, theta: np.ndarray, k: int, threshold: float,
                  exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]:
        """Up to ``k`` columns scoring above ``threshold`` (not in ``exclude``) and the max score.

        The column-source protocol of the solvers (see ``wedgenet.solvers.base``).
        """
        from ..solvers.base import dense_violators

        return dense_violators(self.K, theta, k, threshold, exclude)

    def max_column_norm(self) -> float:
        """``max_j ||K_j||_2`` (exact, computed once): the bound that lets the solver remember
        scores between pricing passes (``wedgenet.solvers.screening``)."""
        if getattr(self, "_max_column_norm", None) is None:
            from ..solvers.base import dense_max_column_norm

            self._max_column_norm = dense_max_column_norm(self.K, self.column_norms())
        return self._max_column_norm

    def column_norms(self) -> np.ndarray:
        """Every column's norm ``||K_j||_2`` (exact, overflow-safe, computed once; read-only)."""
        if getattr(self, "_column_norms", None) is None:
            from ..solvers.base import dense_column_norms

            self._column_norms = dense_column_norms(self.K)
            self._column_norms.setflags(write=False)
        return self._column_norms

    def __repr__(self) -> str:
        n, p = self.K.shape
        return f"Dictionary(n={n}, p={p}, {self._kind()})"

    def summary(self, max_rows: int = 10) -> str:
        """A table of the first ``max_rows`` columns with their provenance."""
        lines = [repr(self), f"{'col':>5}  {'samples':<18} {'norm':>10}  expression"]
        for j in range(min(max_rows, self.n_columns)):
            rec = self.provenance[j]
            lines.append(f"{j:>5}  {str(list(rec.samples)):<18} {self.normalisers[j]:>10.4g}  {rec.expression}")
        if self.n_columns > max_rows:
            lines.append(f"  ... {self.n_columns - max_rows} more columns")
        return "\n".join(lines)


@functools.lru_cache(maxsize=8)
def _hash_weights(n: int) -> np.ndarray:
    """Fixed weights in ``[0.5, 1)`` of the two column fingerprints ``h = r[0]^T K``, ``g = r[1]^T K``."""
    r = np.random.default_rng(20251123).uniform(0.5, 1.0, (2, n))
    r.flags.writeable = False
    return r


def _signed_rows(W: np.ndarray, rows: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """``W[rows] * signs[:, None]`` (the oriented generator neurons)."""
    out = np.take(W, rows, axis=0)
    out *= signs[:, None]
    return out


def dictionary(
    X,
    *,
    reg: str = "l1",
    bias: bool = False,
    depth: int = 2,
    max_columns: int | None = None,
    random_state=None,
    memory_budget: float | None = None,
    rtol: float = DEFAULT_RTOL,
) -> Dictionary:
    """Build the wedge-product dictionary of Theorems 1-5 and 12-17 for data ``X``.

    Parameters
    ----------
    X : array_like (n, d)
        Training samples (rows).
    reg : {"l1", "l2"}
        The ``p`` of the weight penalty ``(lam/2) sum(||w_j||_p^2 + a_j^2)``.  ``"l1"`` is exact
        (Thm 2, 4, 16, 12, 13); ``"l2"`` is within ``1/(1-eps)`` (Thm 3, 5, 15, 17), exact for
        ``d = 1`` (Thm 1).
    bias : bool
        Hidden biases and a free output intercept (``False``: neither, as in Thm 2, 4, 15, 17).
        Depth 3 always has the free output intercept (Thm 12, 13); ``bias`` then switches only
        the first-layer biases.
    depth : {2, 3}
        Depth 3 is the three-layer dictionary of Thm 12 (no first-layer bias) / Thm 13.
    max_columns : int, optional
        Draw a uniform random subset of candidate subsets (both orientations of each, so about
        ``max_columns`` columns before de-duplication), reproducibly via ``random_state``.
    random_state : None, int or numpy Generator
    memory_budget : float, optional
        Bytes the dictionary may use; default half the memory available now.  A larger
        request raises :class:`~wedgenet.dictionaries.MemoryBudgetError` before allocating.
    rtol : float
        A subset is dependent, and dropped, when one of its rows lies within ``rtol`` (relative
        to its norm) of the span of the rows before it (the per-row test of
        :func:`wedgenet.cross`).

    Returns
    -------
    Dictionary
        Columns are de-duplicated (equal columns merged, alternatives kept in
        ``Dictionary.alternatives``) and all-zero columns dropped.
    """
    if max_columns is not None:
        max_columns = check_positive_int("max_columns", max_columns)
    rng = _check_generator(random_state)
    budget = default_memory_budget() if memory_budget is None else check_nonneg_float(
        "memory_budget", memory_budget, strictly_positive=True)

    def guard(n: int, d: int, dr: int, k_sub: int, n_pool: int, total: int, per: int) -> None:
        """Refuse over budget, before the pool is built."""
        _, n_pick = plan_counts(total, per, max_columns)
        bytes_needed = (n_pick * per * (8 * n + 8 * (d + 6)) + n_pick * (8 * (dr + k_sub + 4))
                        + n_pool * (8 * dr + 41))  # the pool: vectors, kinds, indices, construction
        check_memory(f"dictionary(reg={reg!r}, bias={bias}, depth={depth}) on n={n}, d={d}",
                     bytes_needed, int(budget), count=n_pick * per,
                     hint="Pass max_columns=... to sample candidate subsets, raise memory_budget=..., "
                          "or use wedgenet.streamed_dictionary (wedgenet.fit(..., dictionary_mode='streamed')), "
                          "which prices candidates in chunks.")

    S = prepare(X, reg, bias, depth, rtol, guard=guard)
    n, d, family, dr = S.n, S.d, S.family, S.dr
    k_sub, total, layout = S.k_sub, S.total, S.layout
    per = layout.per
    plan = S.draw(max_columns, rng)
    sampled, n_pick = plan.sampled, plan.n_pick

    if S.huge and not sampled:
        raise ValueError(f"{total:.3e} candidate subsets exceed the int64 index range and cannot be enumerated; "
                         "pass max_columns=... to sample them")
    # small jobs run on one numba thread (see wedgenet._parallel)
    threads = numba_threads_for(float(n_pick) * per * n * max(d, 4))
    if total > 0:
        with threads:
            if S.huge:  # beyond int64 ranks: sample subsets directly
                subsets, cand_anchor = S.sample_subsets(n_pick, rng)
            else:
                subsets, cand_anchor = S.unrank(plan.ids if sampled else np.arange(n_pick))
            W_r, b_r, norms = S.neurons(subsets, cand_anchor)
    else:  # rank 0 (all samples equal, or X = 0 without bias): no hyperplane exists
        W_r, b_r, norms = np.zeros((0, dr)), np.zeros(0), np.zeros(0)
        subsets = np.zeros((0, k_sub), dtype=np.int64)
        cand_anchor = np.zeros(0, dtype=np.int64)
    valid = norms > 0
    if not valid.all():
        W_r, b_r, norms, subsets, cand_anchor = W_r[valid], b_r[valid], norms[valid], subsets[valid], cand_anchor[valid]
    if not family.anchored:
        cand_anchor = np.full(norms.size, -1, np.int64)
    W, b = S.to_data_coordinates(W_r, b_r)
    Xc, Wk, bk = S.kernel_coordinates(W_r, b_r)

    N = W.shape[0]
    p_all = N * per
    r = _hash_weights(n)
    depth3 = family.depth == 3
    # depth 2 writes every candidate column while hashing (one pass), into a flat buffer viewed
    # as a Fortran-ordered (n, p_all) matrix, and compacts it in place; depth 3 only hashes here
    # (most of its candidate columns are merged or zero) and fills the kept columns afterwards
    if depth3:
        with threads:
            h, g, nz, cmax, thr = hash_level_columns(Xc, Wk, bk, r)
    else:
        buf = np.empty(n * p_all)
        K_all = buf.reshape(p_all, n).T
        with threads:
            h, g, nz, cmax = fill_hash_pairs(np.ascontiguousarray(Xc.T), Wk, bk, r, K_all)
        thr = np.zeros(p_all)

    # merge equal columns (keeping the lowest index of each group) and drop zero columns
    # each neuron's scale, max_i |x_i.w + b|: the largest column maximum among its columns
    ref = np.repeat(cmax.reshape(N, per).max(axis=1), per) if p_all else cmax
    nz &= cmax > NOISE * ref  # a column at rounding level of its neuron (a depth-3 tie) is zero
    order = np.argsort(h)  # any order of ties: each group keeps its lowest column index
    with threads:
        rep = representatives(Xc, Wk, bk, depth3, h, g, order, nz, ref, DUPLICATE_RTOL)
    idx = np.arange(p_all)
    keep = np.flatnonzero(rep == idx)
    alts = np.flatnonzero((rep >= 0) & (rep != idx))
    new_index = np.full(p_all, -1, dtype=np.int64)
    new_index[keep] = np.arange(keep.size)
    if depth3:
        K_out = np.empty((n, keep.size), order="F")
        with threads:
            fill_columns(Xc, Wk, bk, depth3, keep, K_out)
    else:
        if keep.size < p_all:
            compact_columns(K_all, keep)
            del K_all
            buf.resize(n * keep.size, refcheck=False)  # shrink in place: no view of buf remains
        K_out = buf.reshape(keep.size, n).T

    def table(cols: np.ndarray) -> tuple[ProvenanceTable, np.ndarray, np.ndarray]:
        key = layout.decode(cols)
        t = key.candidate
        return (ProvenanceTable(family, S.pool, d, np.take(subsets, t, axis=0), np.take(cand_anchor, t), key.level,
                                key.orientation, key.outer, S.theorem), t, key.orientation)

    prov, t_keep, o_keep = table(keep)
    alt_prov, t_alt, o_alt = table(alts)
    return Dictionary(
        K=K_out,
        weights=_signed_rows(W, t_keep, o_keep),
        biases=np.take(b, t_keep) * o_keep,
        outer_sign=prov.outer.astype(np.float64),
        thresholds=thr[keep],
        normalisers=norms[t_keep],
        provenance=prov,
        setup=S,
        plan=plan,
        n_duplicates=int(alts.size),
        n_zero=int(np.sum(rep == -2)),
        alt_columns=new_index[rep[alts]],
        alt_provenance=alt_prov,
        alt_weights=_signed_rows(W, t_alt, o_alt),
        alt_biases=np.take(b, t_alt) * o_alt,
    )
