"""What defines a family's candidates for data ``X``, shared by explicit and streamed dictionaries.

:func:`prepare` validates the arguments once and returns a :class:`Setup`: the working
coordinates, the generator pool, the candidate count and ranking, and the column
:class:`~.layout.Layout`.  :meth:`Setup.draw` is the one sampling plan.

Scale safety (docs/conventions.md, "Dictionaries"): the working coordinates are the data with
every feature divided by a power of two ``2^e_k`` (exact) that brings its largest magnitude into
``[0.5, 1)``.  Cross products are then formed from ``O(1)`` rows, and the kernel normalises the
weight in data coordinates, ``w_k ~ c_k 2^(-e_k)``, by its largest binary exponent before taking
the norm, so neither the neuron nor its norm over/underflows at any data scale.  A hyperplane
through scaled samples is the scaled hyperplane, so the dictionary, as a set of hyperplanes, does
not depend on the scale of the data or of any feature.  Rank-reduced p=2 families (Lemma 23,
rank below ``d``) use one common power of two for all features, since their orthonormal row-space
basis must be taken in coordinates where the l2 norm is the data's.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .._validation import as_float_array, check_bool, check_choice, check_nonneg_float
from ..algebra.combinations import binomial_table
from ._kernels import neurons_of_subsets, unrank_candidates
from .families import (
    DEPTHS,
    MODE_ANCHORED,
    MODE_BIAS_ONLY,
    POOL_BASIS,
    REGS,
    Family,
    Pool,
    build_pool,
    get_family,
)
from .layout import Layout

__all__ = ["Setup", "prepare", "SamplingPlan"]

APPROXIMATE = "within 1/(1-eps) of the optimum, eps = max chamber diameter D(X) (paper eq. 16)"


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




def _feature_exponents(X: np.ndarray) -> np.ndarray:
    """``e_k`` with ``max_i |X[i, k]| 2^-e_k`` in ``[0.5, 1)`` (0 for an all-zero feature)."""
    amax = np.max(np.abs(X), axis=0) if X.shape[0] else np.zeros(X.shape[1])
    _, e = np.frexp(amax)
    return e.astype(np.int64)


def _working_coordinates(family: Family, X: np.ndarray):
    """Coordinates to build in: ``Z = (X 2^-fexp - center) @ basis.T`` with ``basis`` (r, d).

    p=2 families build in the row space (or, with bias, the affine span) of ``X``
    (Lemma 23); ``basis`` is ``None`` when that is all of ``R^d``.  p=1 families build in
    ``R^d`` directly: the ``e_k`` augmentation keeps them exact for rank-deficient data,
    whereas restricting an l1-normalised neuron to the row space can raise its l1 norm.
    Returns ``(Z, basis, center, rank, feature_exp, fexp)``: ``feature_exp`` (d,) scales the
    data features, ``fexp`` (dr,) the working coordinates (see the module docstring).
    """
    n, d = X.shape
    fe = _feature_exponents(X)
    Xs = np.ldexp(X, -fe)
    center = np.zeros(d)
    M = Xs
    if family.bias and family.reduce_rank:
        center = Xs.mean(axis=0)
        M = Xs - center
    s = np.linalg.svd(M, compute_uv=False) if min(n, d) else np.zeros(0)
    tol = (s.max() if s.size else 0.0) * max(n, d) * np.finfo(float).eps
    r = int(np.sum(s > tol))  # np.linalg.matrix_rank(M)
    if not family.reduce_rank or r == d:
        return Xs, None, center, r, fe, fe.copy()
    e = np.full(d, int(fe.max()), dtype=np.int64)  # one common scale keeps the basis orthonormal in R^d
    Xs = np.ldexp(X, -e)
    center = Xs.mean(axis=0) if family.bias else np.zeros(d)
    M = Xs - center
    _, _, Vt = np.linalg.svd(M, full_matrices=False)
    basis = Vt[:r]
    return np.ascontiguousarray(M @ basis.T), basis, center, r, e, e[:r].copy()


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




@dataclass(frozen=True)
class SamplingPlan:
    """Which candidates a dictionary holds: every one (``sampled`` False), the sorted sampled ranks
    ``ids``, or (``ids`` None and ``sampled``, beyond the int64 rank range) ``n_pick`` candidates
    drawn by subsets."""

    sampled: bool
    n_pick: int
    ids: np.ndarray | None


@dataclass(eq=False)
class Setup:
    """Everything that defines a family's candidates for data ``X``, shared by the explicit and
    the streamed dictionary: working coordinates ``Z`` (see :func:`_working_coordinates`), the
    generator pool, subset sizes, per-anchor rank offsets, the binomial table of the colex
    ranking, the column :attr:`layout`, and the binary exponents that make the neurons
    scale-safe (``fexp`` per working coordinate, ``row_exp`` per pool entry: ``fexp[k]`` for the
    basis vector ``e_k``, else 0)."""

    X: np.ndarray
    family: Family
    Z: np.ndarray
    basis: np.ndarray | None
    center: np.ndarray
    rank: int
    pool: Pool
    offsets: np.ndarray  # object dtype (exact ints)
    rtol: float
    feature_exp: np.ndarray
    fexp: np.ndarray
    row_exp: np.ndarray
    T: np.ndarray = field(repr=False, default=None)
    anchors: np.ndarray = field(repr=False, default=None)

    @property
    def n(self) -> int:
        return int(self.X.shape[0])

    @property
    def d(self) -> int:
        return int(self.X.shape[1])

    @property
    def dr(self) -> int:
        """Dimension of the working coordinates (the rank for reduced p=2 families, else ``d``)."""
        return int(self.Z.shape[1])

    @property
    def m(self) -> int:
        """Vectors per cross product."""
        return self.family.n_vectors(self.dr) if self.dr > 0 else 0

    @property
    def k_sub(self) -> int:
        """Pool entries per candidate."""
        return self.family.subset_size(self.dr) if self.dr > 0 else 0

    @property
    def n_pool(self) -> int:
        return int(self.pool.vectors.shape[0])

    @property
    def total(self) -> int:
        """Number of candidates (exact Python int)."""
        return int(self.offsets[-1])

    @property
    def theorem(self) -> str:
        return self.family.theorem(self.d)

    @property
    def exact(self) -> bool:
        return bool(self.family.is_exact(self.dr))

    @property
    def layout(self) -> Layout:
        return self.family.layout(self.n)

    @property
    def per(self) -> int:
        """Columns per candidate (``layout.per``)."""
        return self.layout.per

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

    def plan(self, max_columns: int | None) -> tuple[bool, int]:
        """``(sampled, n_pick)``: sample ``max_columns // per`` candidates when all of them would
        give more than ``max_columns`` columns, else take all ``total``."""
        return plan_counts(self.total, self.per, max_columns)

    def draw(self, max_columns: int | None, rng: np.random.Generator) -> SamplingPlan:
        """The sampling plan: uniform sorted ranks without replacement (the same draw for the
        explicit and the streamed dictionary with the same generator state)."""
        sampled, n_pick = self.plan(max_columns)
        if not sampled:
            return SamplingPlan(False, n_pick, None)
        if self.huge:
            return SamplingPlan(True, n_pick, None)
        return SamplingPlan(True, n_pick, np.sort(rng.choice(self.total, size=n_pick, replace=False)).astype(np.int64))

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
        working coordinates (``norms``: ``||c||_p`` of the cross product of the data rows)."""
        return neurons_of_subsets(subsets, cand_anchor, self.m, self.pool.vectors, (self.pool.kind == 0),
                                  self.anchors, self.family.mode, self.family.pnorm, self.rtol, self.fexp,
                                  self.row_exp)

    def to_data_coordinates(self, W_r: np.ndarray, b_r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Neurons in working coordinates -> neurons acting on ``X``: ``W = (W_r basis) 2^-e``,
        ``b = b_r - (W_r basis) . center`` (the Lemma 23 map-back and the exact feature scaling)."""
        V = W_r @ self.basis if self.basis is not None else W_r
        b = b_r - V @ self.center if self.basis is not None else b_r
        return np.ascontiguousarray(np.ldexp(V, -self.feature_exp)), b

    def kernel_coordinates(self, W_r: np.ndarray, b_r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(Xk, Wk, bk)`` in which columns are evaluated: ``(Z, W_r, b_r)`` when the working
        coordinates are the data with features scaled by powers of two (the preactivations
        ``Z W_r + b_r`` then equal ``X W + b`` exactly, and duplicate tests compare weights of
        comparable size), else the data coordinates ``(X, W, b)``."""
        if self.basis is None:
            return self.Z, np.ascontiguousarray(W_r), b_r
        W, b = self.to_data_coordinates(W_r, b_r)
        return self.X, W, b

    @property
    def n_bytes(self) -> int:
        """Bytes held by the setup's arrays (data, working coordinates, pool, tables)."""
        arrs = (self.X, self.Z, self.pool.vectors, self.pool.kind, self.pool.i, self.pool.j, self.T, self.anchors)
        return int(sum(a.nbytes for a in arrs if a is not None))


def plan_counts(total: int, per: int, max_columns: int | None) -> tuple[bool, int]:
    """``(sampled, n_pick)`` for ``total`` candidates of ``per`` columns and a column cap."""
    sampled = total > 0 and max_columns is not None and total * per > max_columns
    return sampled, (max(1, max_columns // per) if sampled else total)


def prepare(X, reg: str, bias: bool, depth: int, rtol: float, guard=None) -> Setup:
    """Validate the dictionary arguments and set up the family's candidates for ``X``.

    ``guard(n, d, dr, k_sub, n_pool, total, per)``, if given, runs once the candidate count is
    known and before the pool (``O(n^2)`` differences for depth 3) is built: it may refuse.
    """
    Xa = as_float_array("X", X, ndim=2)
    n, d = Xa.shape
    if n == 0 or d == 0:
        raise ValueError(f"X must have at least one sample and one feature; got shape {Xa.shape}")
    check_choice("reg", reg, REGS)
    bias = check_bool("bias", bias)
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral) or depth not in DEPTHS:
        raise ValueError(f"depth must be {' or '.join(map(str, DEPTHS))}; got {depth!r}")
    rtol = check_nonneg_float("rtol", rtol)
    family = get_family(reg, bool(bias), int(depth))
    Xa = np.ascontiguousarray(Xa)
    Z, basis, center, rank, feature_exp, fexp = _working_coordinates(family, Xa)
    dr = Z.shape[1]
    k_sub = family.subset_size(dr) if dr > 0 else 0
    n_pool = family.pool_size(n, dr) if dr > 0 else 0
    offsets = family.anchor_offsets(n, n_pool, k_sub) if dr > 0 else np.array([0, 0], dtype=object)
    total = int(offsets[-1])
    if guard is not None:
        guard(n, d, dr, k_sub, n_pool, total, family.layout(n).per)
    pool = build_pool(family, Z) if dr > 0 else Pool(np.zeros((0, 0)), np.zeros(0, np.int8),
                                                       np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert pool.vectors.shape[0] == n_pool
    row_exp = np.where(pool.kind == POOL_BASIS, fexp[np.minimum(pool.i, max(dr - 1, 0))] if dr else 0, 0)
    S = Setup(Xa, family, np.ascontiguousarray(Z), basis, center, rank, pool, offsets, rtol,
              np.ascontiguousarray(feature_exp, dtype=np.int64), np.ascontiguousarray(fexp, dtype=np.int64),
              np.ascontiguousarray(row_exp, dtype=np.int64))
    if total > 0:
        S.T = binomial_table(n_pool, k_sub) if not S.huge else None
        S.anchors = np.ascontiguousarray(Z if family.mode in (MODE_ANCHORED, MODE_BIAS_ONLY) else np.zeros((1, dr)))
    return S
