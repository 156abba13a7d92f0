"""The explicit wedge-product dictionary ``K`` with its generator neurons and provenance.

Every column is a ReLU neuron applied to the data (THEORY.md section 4):

    K[:, j] = (X @ weights[j] + biases[j])_+                      (depth 2)
    K[:, j] = (outer_sign[j] * ((X @ weights[j] + biases[j])_+ - thresholds[j]))_+   (depth 3)

with ``weights[j] = +-c / ||c||_p`` for the generalized cross product ``c`` of the column's
generators.  Training is then the Lasso ``L(K z + 1 t, y) + lam ||z||_1`` (THEORY.md 3).
"""

from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass, field

import numpy as np

from .._parallel import numba_threads_for
from .._validation import as_float_array, check_bool, check_choice, check_nonneg_float, check_positive_int
from ..algebra.combinations import binomial_table
from ..algebra.products import DEFAULT_RTOL
from ._kernels import (
    MODE_ANCHORED,
    MODE_BIAS_ONLY,
    compact_columns,
    fill_columns,
    fill_hash_pairs,
    hash_level_columns,
    neurons_of_subsets,
    representatives,
    unrank_candidates,
)
from .families import Family, Pool, build_pool, get_family
from .memory import check_memory, default_memory_budget
from .provenance import Provenance, ProvenanceTable

__all__ = ["Dictionary", "dictionary"]

APPROXIMATE = "within 1/(1-eps) of the optimum, eps = max chamber diameter D(X) (paper eq. 16)"


@dataclass(eq=False)
class Dictionary:
    """A wedge-product dictionary: columns, generator neurons, provenance.

    Attributes
    ----------
    K : ndarray (n, p), Fortran order
        Column ``j`` is neuron ``j`` applied to the training data.
    weights, biases : ndarray (p, d), (p,)
        Generator neuron of each column (first-layer neuron for depth 3).
    outer_sign, thresholds : ndarray (p,)
        Depth 3 second-layer unit ``(s (u - t))_+``; ``outer_sign`` is 0 for depth 2.
    normalisers : ndarray (p,)
        ``||c||_p`` of the unnormalised cross product ``c`` (``||c||_1`` for p=1, the
        volume ``||c||_2`` for p=2).
    provenance : ProvenanceTable
        Per column: generators (sample / difference / basis), anchor, level, orientation,
        theorem, expression.
    exact : bool
        True when the Lasso over ``K`` is exactly the network training problem (p=1, or
        ``d = 1``); otherwise it is within ``1/(1-eps)`` (see ``approximation``).
    fit_intercept : bool
        Whether the formulation has a free, unpenalised output intercept (THEORY.md G4).
    """

    K: np.ndarray
    weights: np.ndarray
    biases: np.ndarray
    outer_sign: np.ndarray
    thresholds: np.ndarray
    normalisers: np.ndarray
    provenance: ProvenanceTable
    reg: str
    bias: bool
    depth: int
    theorem: str
    exact: bool
    approximation: str
    fit_intercept: bool
    rank: int
    n_candidates: int
    n_candidates_total: int
    sampled: bool
    n_duplicates: int
    n_zero: int
    alt_columns: np.ndarray = field(repr=False)
    alt_provenance: ProvenanceTable = field(repr=False)
    alt_weights: np.ndarray = field(repr=False)
    alt_biases: np.ndarray = field(repr=False)

    def candidate_neurons(self) -> tuple[np.ndarray, np.ndarray]:
        """``(weights, biases)`` of every candidate with a nonzero column, merged duplicates included."""
        return (np.concatenate([self.weights, self.alt_weights]),
                np.concatenate([self.biases, self.alt_biases]))

    @property
    def n_columns(self) -> int:
        return int(self.K.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        return self.K.shape  # type: ignore[return-value]

    def describe(self, j: int) -> str:
        """Readable symbolic form of column ``j``, e.g. ``dist+(x, Aff(x3, x17))``."""
        return self.provenance[j].expression

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
        c = self.K.T @ theta
        return np.abs(c) if c.ndim == 1 else np.linalg.norm(c, axis=1)

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

            self._max_column_norm = dense_max_column_norm(self.K)
        return self._max_column_norm

    def transform(self, X) -> np.ndarray:
        """The columns evaluated on new data ``X`` (shape ``(m, d)`` -> ``(m, p)``)."""
        Xa = as_float_array("X", X, ndim=2)
        if Xa.shape[1] != self.weights.shape[1]:
            raise ValueError(f"X must have {self.weights.shape[1]} features; got {Xa.shape[1]}")
        Z = np.maximum(Xa @ self.weights.T + self.biases, 0.0)
        if self.depth == 3:
            Z = np.maximum(self.outer_sign * (Z - self.thresholds), 0.0)
        return Z

    def __repr__(self) -> str:
        n, p = self.K.shape
        kind = "exact" if self.exact else "approximate (1/(1-eps))"
        extra = f", sampled {self.n_candidates:,} of {self.n_candidates_total:,} candidates" if self.sampled else ""
        return (f"Dictionary(n={n}, p={p}, reg={self.reg!r}, bias={self.bias}, depth={self.depth}, "
                f"{self.theorem}, {kind}, intercept={self.fit_intercept}{extra})")

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


def _check_generator(random_state) -> np.random.Generator:
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(random_state, bool):
            raise ValueError(f"random_state must be None, an int or a numpy Generator; got {random_state!r}")
        if isinstance(random_state, numbers.Integral) and random_state < 0:
            raise ValueError(f"random_state must be a non-negative int; got {random_state}")
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise ValueError(f"random_state must be None, an int or a numpy Generator; got {type(random_state).__name__}")


def _working_coordinates(family: Family, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, int]:
    """Coordinates to build in: ``Z = (X - center) @ basis.T`` with ``basis`` (r, d).

    p=2 families build in the row space (or, with bias, the affine span) of ``X``
    (Lemma 23); ``basis`` is ``None`` when that is all of ``R^d``.  p=1 families build in
    ``R^d`` directly: the ``e_k`` augmentation keeps them exact for rank-deficient data,
    whereas restricting an l1-normalised neuron to the row space can raise its l1 norm.
    Returns ``(Z, basis, center, rank)``.
    """
    n, d = X.shape
    center = np.zeros(d)
    M = X
    if family.key[1] and family.reduce_rank:
        center = X.mean(axis=0)
        M = X - center
    s = np.linalg.svd(M, compute_uv=False) if min(n, d) else np.zeros(0)
    tol = (s.max() if s.size else 0.0) * max(n, d) * np.finfo(float).eps
    r = int(np.sum(s > tol))  # np.linalg.matrix_rank(M)
    if not family.reduce_rank or r == d:
        return X, None, center, r
    _, _, Vt = np.linalg.svd(M, full_matrices=False)
    basis = Vt[:r]
    return np.ascontiguousarray(M @ basis.T), basis, center, r


def _distinct_sorted(rng: np.random.Generator, L: np.ndarray, k: int) -> np.ndarray:
    """Per row ``i``, ``k`` distinct integers of ``range(L[i])`` drawn uniformly, sorted.

    Floyd's algorithm, vectorised over rows: for ``j = L-k, ..., L-1`` draw ``t`` uniform in
    ``0..j`` and take ``t``, or ``j`` if ``t`` was already taken; every k-subset is equally
    likely, with no rejection however close ``k`` is to ``L``.  Needs ``L >= k``.
    """
    m = L.shape[0]
    out = np.empty((m, k), dtype=np.int64)
    for s in range(k):
        j = L - k + s
        t = np.minimum(np.floor(rng.random(m) * (j + 1)).astype(np.int64), j)
        taken = (out[:, :s] == t[:, None]).any(axis=1) if s else np.zeros(m, bool)
        out[:, s] = np.where(taken, j, t)
    out.sort(axis=1)
    return out


@dataclass(eq=False)
class Setup:
    """Everything that defines a family's candidates for data ``X``, shared by the explicit and
    the streamed dictionary: working coordinates ``Z = (X - center) @ basis.T`` (``Z = X`` when
    ``basis`` is None), the generator pool, subset sizes, per-anchor rank offsets, the binomial
    table of the colex ranking, and the column layout ``per`` (columns per candidate)."""

    X: np.ndarray
    n: int
    d: int
    family: Family
    Z: np.ndarray
    basis: np.ndarray | None
    center: np.ndarray
    rank: int
    dr: int
    theorem: str
    exact: bool
    pool: Pool
    m: int
    k_sub: int
    n_pool: int
    offsets: np.ndarray  # object dtype (exact ints)
    total: int
    per: int
    rtol: float
    T: np.ndarray = field(repr=False, default=None)
    anchors: np.ndarray = field(repr=False, default=None)

    @property
    def offsets64(self) -> np.ndarray:
        return self.offsets.astype(np.int64)

    def unrank(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pool-index subsets and anchors of the candidate ranks ``ids``."""
        return unrank_candidates(np.ascontiguousarray(ids, dtype=np.int64), self.offsets64, self.k_sub, self.T)

    @property
    def huge(self) -> bool:
        """More candidates than int64 ranks: they can only be sampled, by subsets."""
        return self.total > np.iinfo(np.int64).max

    def sample_subsets(self, n_pick: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n_pick`` distinct candidates drawn uniformly (up to float64 rounding of the anchor
        weights), as sorted pool-index subsets and anchors, without ranks (for :attr:`huge`)."""
        counts = np.diff(self.offsets).astype(object)
        prob = np.array([float(c) / float(self.total) for c in counts])
        prob /= prob.sum()
        k = self.k_sub
        if self.family.mode == MODE_ANCHORED:  # anchor a uses the pool prefix of length n_pool - 1 - a
            lengths = self.n_pool - 1 - np.arange(counts.size)
        else:
            lengths = np.full(counts.size, self.n_pool)
        subs = np.empty((0, k), dtype=np.int64)
        anch = np.empty(0, dtype=np.int64)
        for _ in range(100):  # repeated candidates are rare: C(pool, k) > 2^63
            need = n_pick - subs.shape[0]
            if need <= 0:
                break
            a = rng.choice(counts.size, size=need + need // 8 + 1, p=prob).astype(np.int64)
            subs = np.vstack([subs, _distinct_sorted(rng, lengths[a], k)])
            anch = np.concatenate([anch, a])
            key = np.column_stack([anch, subs])
            _, first = np.unique(key, axis=0, return_index=True)
            first = np.sort(first)[:n_pick]
            subs, anch = subs[first], anch[first]
        return np.ascontiguousarray(subs), anch

    def neurons(self, subsets: np.ndarray, cand_anchor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(W, b, norms)`` of the candidates given by pool-index subsets and anchors, in the
        working coordinates."""
        return neurons_of_subsets(subsets, cand_anchor, self.m, self.pool.vectors, (self.pool.kind == 0),
                                  self.anchors, self.family.mode, self.family.pnorm, self.rtol)

    def to_data_coordinates(self, W_r: np.ndarray, b_r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Neurons in working coordinates -> neurons acting on ``X`` (Lemma 23 map-back)."""
        if self.basis is not None:
            W = W_r @ self.basis
            return np.ascontiguousarray(W), b_r - W @ self.center
        return np.ascontiguousarray(W_r), b_r


def prepare(X, reg: str, bias: bool, depth: int, rtol: float, guard=None) -> Setup:
    """Validate the dictionary arguments and set up the family's candidates for ``X``.

    ``guard(n, d, dr, k_sub, n_pool, total, per)``, if given, runs once the candidate count is
    known and before the pool (``O(n^2)`` differences for depth 3) is built: it may refuse.
    """
    Xa = as_float_array("X", X, ndim=2)
    n, d = Xa.shape
    if n == 0 or d == 0:
        raise ValueError(f"X must have at least one sample and one feature; got shape {Xa.shape}")
    check_choice("reg", reg, ("l1", "l2"))
    bias = check_bool("bias", bias)
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth not in (2, 3):
        raise ValueError(f"depth must be 2 or 3; got {depth!r}")
    rtol = check_nonneg_float("rtol", rtol)
    family = get_family(reg, bool(bias), int(depth))
    Xa = np.ascontiguousarray(Xa)
    Z, basis, center, rank = _working_coordinates(family, Xa)
    dr = Z.shape[1]
    exact = family.pnorm == 1 or dr == 1
    m = family.n_vectors(dr) if dr > 0 else 0
    k_sub = family.subset_size(dr) if dr > 0 else 0
    n_pool = family.pool_size(n, dr) if dr > 0 else 0
    offsets = family.anchor_offsets(n, n_pool, k_sub) if dr > 0 else np.array([0, 0], dtype=object)
    total = int(offsets[-1])
    per = 2 if family.depth == 2 else 4 * n
    if guard is not None:
        guard(n, d, dr, k_sub, n_pool, total, per)
    pool = build_pool(family, Z) if dr > 0 else Pool(np.zeros((0, 0)), np.zeros(0, np.int8),
                                                       np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert pool.vectors.shape[0] == n_pool
    S = Setup(Xa, n, d, family, np.ascontiguousarray(Z), basis, center, rank, dr, family.theorem(d), bool(exact),
              pool, m, k_sub, n_pool, offsets, total, per, rtol)
    if total > 0:
        S.T = binomial_table(n_pool, k_sub) if not S.huge else None
        S.anchors = np.ascontiguousarray(Xa if family.mode in (MODE_ANCHORED, MODE_BIAS_ONLY) else np.zeros((1, dr)))
    return S


def _plan(total: int, per: int, max_columns: int | None) -> tuple[bool, int]:
    """``(sampled, n_pick)``: sample ``max_columns // per`` candidates when all of them would give
    more than ``max_columns`` columns, else take all ``total``."""
    sampled = total > 0 and max_columns is not None and total * per > max_columns
    return sampled, (max(1, max_columns // per) if sampled else total)


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
        _, n_pick = _plan(total, per, max_columns)
        bytes_needed = (n_pick * per * (8 * n + 8 * (d + 6)) + n_pick * (8 * (dr + k_sub + 4))
                        + n_pool * (8 * dr + 41))  # the pool: vectors, kinds, indices, construction
        check_memory(f"dictionary(reg={reg!r}, bias={bias}, depth={depth}) on n={n}, d={d}",
                     bytes_needed, int(budget), count=n_pick * per,
                     hint="Pass max_columns=... to sample candidate subsets, raise memory_budget=..., "
                          "or use wedgenet.streamed_dictionary (wedgenet.fit(..., dictionary_mode='streamed')), "
                          "which prices candidates in chunks.")

    S = prepare(X, reg, bias, depth, rtol, guard=guard)
    Xa, n, d, family, rank, dr = S.X, S.n, S.d, S.family, S.rank, S.dr
    theorem, exact, pool, k_sub, total, per = S.theorem, S.exact, S.pool, S.k_sub, S.total, S.per
    sampled, n_pick = _plan(total, per, max_columns)

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
                ids = np.sort(rng.choice(total, size=n_pick, replace=False)) if sampled else np.arange(n_pick)
                subsets, cand_anchor = S.unrank(ids)
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

    N = W.shape[0]
    p_all = N * per
    r = _hash_weights(n)
    Xc = np.ascontiguousarray(Xa)
    depth3 = family.depth == 3
    # depth 2 writes every candidate column while hashing (one pass), into a flat buffer viewed
    # as a Fortran-ordered (n, p_all) matrix, and compacts it in place; depth 3 only hashes here
    # (most of its candidate columns are merged or zero) and fills the kept columns afterwards
    if depth3:
        with threads:
            h, g, nz, cmax, thr = hash_level_columns(Xc, W, b, r)
    else:
        buf = np.empty(n * p_all)
        K_all = buf.reshape(p_all, n).T
        with threads:
            h, g, nz, cmax = fill_hash_pairs(np.ascontiguousarray(Xc.T), W, b, r, K_all)
        thr = np.zeros(p_all)

    # merge equal columns (keeping the lowest index of each group) and drop zero columns
    scale = float(cmax.max()) if p_all else 1.0
    order = np.argsort(h)  # any order of ties: each group keeps its lowest column index
    with threads:
        rep = representatives(Xc, W, b, depth3, h, g, order, nz, 1e-10 * max(scale, 1e-300))
    idx = np.arange(p_all)
    keep = np.flatnonzero(rep == idx)
    alts = np.flatnonzero((rep >= 0) & (rep != idx))
    new_index = np.full(p_all, -1, dtype=np.int64)
    new_index[keep] = np.arange(keep.size)
    if depth3:
        K_out = np.empty((n, keep.size), order="F")
        with threads:
            fill_columns(Xc, W, b, depth3, keep, K_out)
    else:
        if keep.size < p_all:
            compact_columns(K_all, keep)
            del K_all
            buf.resize(n * keep.size, refcheck=False)  # shrink in place: no view of buf remains
        K_out = buf.reshape(keep.size, n).T

    def meta(cols: np.ndarray):
        t = cols // per
        within = cols % per
        if family.depth == 2:
            orient = np.where(within == 0, 1, -1).astype(np.int8)
            level = np.full(cols.size, -1, np.int64)
            outer = np.zeros(cols.size, np.int8)
        else:
            so = within // (2 * n)
            orient = np.where(so == 0, 1, -1).astype(np.int8)
            level = ((within % (2 * n)) // 2).astype(np.int64)
            outer = np.where(within % 2 == 0, 1, -1).astype(np.int8)
        return t, orient, level, outer

    t_keep, o_keep, l_keep, out_keep = meta(keep)
    table = ProvenanceTable(family, pool, d, np.take(subsets, t_keep, axis=0), np.take(cand_anchor, t_keep),
                            l_keep, o_keep, out_keep, theorem)
    t_alt, o_alt, l_alt, out_alt = meta(alts)
    alt_table = ProvenanceTable(family, pool, d, np.take(subsets, t_alt, axis=0), np.take(cand_anchor, t_alt),
                                l_alt, o_alt, out_alt, theorem)
    return Dictionary(
        K=K_out,
        weights=_signed_rows(W, t_keep, o_keep),
        biases=np.take(b, t_keep) * o_keep,
        outer_sign=out_keep.astype(np.float64),
        thresholds=thr[keep],
        normalisers=norms[t_keep],
        provenance=table,
        reg=reg,
        bias=bool(bias),
        depth=int(depth),
        theorem=theorem,
        exact=bool(exact),
        approximation="exact" if exact else APPROXIMATE,
        fit_intercept=family.fit_intercept(),
        rank=int(rank),
        n_candidates=int(n_pick),
        n_candidates_total=int(total),
        sampled=sampled,
        n_duplicates=int(alts.size),
        n_zero=int(np.sum(rep == -2)),
        alt_columns=new_index[rep[alts]],
        alt_provenance=alt_table,
        alt_weights=_signed_rows(W, t_alt, o_alt),
        alt_biases=np.take(b, t_alt) * o_alt,
    )
