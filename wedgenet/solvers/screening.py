"""Pricing that remembers, and Gap Safe screening, for the working-set solver.

Both rest on one inequality (Cauchy-Schwarz): for any two dual points,

    ||K_j^T theta'|| <= ||K_j^T theta|| + ||K_j||_2 ||theta' - theta||_F.            (*)

**Pricing that remembers.**  A full pricing pass at ``theta_0`` keeps the ``M`` best-scoring
columns (the *survivors*: their indices, their dense columns and their exact norms) and
``rest = max`` score of every other column (at most the smallest kept score).  At a later dual
point ``theta`` the survivors are re-priced exactly (``K_S^T theta``, ``O(n M)``) and every other
column is bounded by (*) with the source's bound ``N >= max_j ||K_j||_2``:

    max_{j not kept} ||K_j^T theta|| <= rest + N ||theta - theta_0||_F.

The survivors come in two levels (:class:`PricingMemory`): a large level 1 and a small hot set
inside it that is priced at every outer iteration.  Level 1 is kept as indices and priced in
place wherever the source allows: an eighth of an explicit matrix's columns (numba row gathers
of ``K^T``), a sixteenth of a streamed dictionary's (its ``subset_pricer``: the streaming kernel
over those candidates only, so no column is computed or copied; the bound on level 1 then uses
``N``); other sources keep dense copies (``SURVIVOR_BYTES``, and at most
``SURVIVOR_MEMORY_FRACTION`` of the memory this process can still allocate).  The rest
of level 1 is bounded the same way from the point where it was last priced, and is re-priced
(``M1 / p`` of a pass) only when the hot set has no violator left but that bound exceeds
``lam``.  A large level 1 means few full passes (the restricted problems see many of the columns
the later dual points need); the hot set keeps the per-iteration cost small.

The certificate takes ``max(max_S ||K_S^T theta||, rest bound)`` as its maximum dual violation,
an upper bound on the true maximum, so the dual point is scaled at least as much as the exact
value would scale it and the gap stays a valid bound.  A new full pass runs only when the
survivors offer no violator and the rest bound exceeds ``lam``.

**Gap Safe screening** (Fercoq, Gramfort and Salmon 2015; Ndiaye, Fercoq, Gramfort and Salmon
2017).  If the loss has a ``gamma``-Lipschitz gradient (``Loss.lipschitz``), its conjugate is
``1/gamma``-strongly convex, so the dual ``D`` is ``1/gamma``-strongly concave and for the
feasible point ``theta_f = s theta`` with duality gap ``G``

    ||theta* - theta_f||_F <= r = sqrt(2 gamma G).

By (*), a column with ``||K_j^T theta_f|| + ||K_j|| r < lam`` has ``||K_j^T theta*|| < lam``,
so its optimal coefficient (row, for the group penalty) is zero: it is removed for good.  The
reduced problem has the same optimal value, so later certificates (over the remaining columns)
still bound the suboptimality for the full problem.  When ``s rest_bound + N r < lam`` every
non-survivor is screened at once and no full pass is needed again.  The rule holds for the
squared (``gamma = 1``), logistic (``1/4``), softmax (``1/2``) and any loss declaring
``lipschitz``, scalar or group penalty.  **Hinge:** its conjugate is linear on a box, the
dual is not strongly concave and the gap gives no radius, so no column is screened; the
remembered bound (*) still saves passes.

Every bound carries a rounding slack ``1e-9 N ||theta||_F`` (pricing kernels sum in a different
order than BLAS).
"""

from __future__ import annotations

import math

import numpy as np

from .._linalg import group_norms
from .base import dense_column_norms

__all__ = ["CachedColumns", "PricingMemory", "HOT_BYTES", "SURVIVOR_BYTES", "first_pass_size", "gap_safe_radius",
           "survivor_budget"]


def survivor_budget() -> float:
    """Default memory of the survivors: ``min(SURVIVOR_BYTES, SURVIVOR_MEMORY_FRACTION * available)``
    with ``available`` what this process can still allocate (free memory, cgroup, ``ulimit -v``)."""
    from .._resources import available_bytes

    return float(min(SURVIVOR_BYTES, SURVIVOR_MEMORY_FRACTION * available_bytes()))

#: memory for the survivors' dense columns (``8 n M`` bytes), at most; the default budget is
#: also at most ``SURVIVOR_MEMORY_FRACTION`` of what the process can still allocate
SURVIVOR_BYTES = 128e6
#: fraction of :func:`wedgenet._resources.available_bytes` the survivors may use by default
SURVIVOR_MEMORY_FRACTION = 1 / 8
#: memory for the hot survivors, priced at every outer iteration
HOT_BYTES = 16e6
#: with an explicit matrix, level 1 holds at least this fraction of the columns
SURVIVOR_FRACTION = 1 / 8
#: a streamed source without a subset pricer keeps at most ``p / STREAMED_SURVIVOR_DIVISOR`` dense
#: level-1 columns (computing a column costs tens of times its pricing in a pass)
STREAMED_SURVIVOR_DIVISOR = 250
#: a streamed source WITH a subset pricer keeps this fraction of its columns in level 1, as
#: indices (16 bytes a column with the pricer's buffers), priced by the streaming kernel in place
INDEXED_SURVIVOR_FRACTION = 1 / 16
#: with indexed level 1 the hot set is the only dense copy: it gets this many times ``hot_budget``
INDEXED_HOT_FACTOR = 4
#: memory cap of the survivors copied from an explicit matrix
MATRIX_SURVIVOR_BYTES = 512e6
#: rounding slack of every bound, relative to ``N ||theta||``
ROUNDING = 1e-9


def gap_safe_radius(loss, gap: float) -> float | None:
    """``sqrt(2 gamma gap)``: the Gap Safe sphere radius around the scaled dual point, or ``None``
    when the loss has no Lipschitz gradient (hinge): then no safe sphere follows from the gap."""
    gamma = getattr(loss, "lipschitz", None)
    if not gamma or not getattr(loss, "smooth", True) or not math.isfinite(gap):
        return None
    return math.sqrt(2.0 * float(gamma) * max(gap, 0.0))


def first_pass_size(source, n_samples: int) -> int:
    """Columns the working set's first full pass keeps over ``source`` (default budgets): the
    ``lam_max`` pass at the same dual point keeps as many, so the source's cache serves that pass."""
    return PricingMemory(source, n_samples, 1.0).M


def take_columns(K: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``K[:, pos]`` as a Fortran array; for a Fortran ``K`` by a row gather of ``K^T`` (contiguous
    rows: memory speed, where ``K[:, pos]`` makes a strided C copy and then transposes it)."""
    if K.flags.f_contiguous:
        return np.take(K.T, pos, axis=0).T
    return np.asfortranarray(K[:, pos])


class PricingMemory:
    """Survivors of the last full pass in two levels, the bounds on the other columns, and what
    was screened.

    * **Level 1** (``idx1``, ``K1``, ``norms1``): the ``M1`` best columns of the last full pass at
      ``theta1``, their dense columns (copied once per pass; from an explicit matrix by a row
      gather of ``K^T``) and exact norms; ``rest1`` the best score of every other column, bounded
      at ``theta`` by ``rest1 + N ||theta - theta1||`` (``N``: the source's norm bound).
    * **Hot** (``idx``, ``K``, ``norms``): the ``M2 <= M1`` best level-1 columns at ``theta2``
      (the last point where level 1 was priced, by the pass or by :meth:`reprice`), priced
      exactly at every :meth:`price`; the other level-1 columns are bounded by
      ``rest2 + N1 ||theta - theta2||`` (``N1``: their largest norm).

    Re-pricing the hot set costs ``M2 / p`` of a full pass and level 1 ``M1 / p``;
    ``priced_columns`` counts both, so ``n_full_passes + priced_columns / p`` is the pricing
    work in full-pass equivalents.  ``source`` must provide ``max_column_norm()`` besides the
    column-source protocol.  ``budget`` bytes (default :func:`survivor_budget`) cap level 1 (at
    least 256 columns; with an explicit matrix at least ``SURVIVOR_FRACTION`` of the columns, up to
    ``MATRIX_SURVIVOR_BYTES``; with a subset pricer ``INDEXED_SURVIVOR_FRACTION`` of the columns
    at 16 bytes each) and ``hot_budget`` the hot set (``INDEXED_HOT_FACTOR`` times more with a
    subset pricer: the hot set is then the only dense copy).
    """

    def __init__(self, source, n_samples: int, lam: float, budget: float | None = None,
                 hot_budget: float = HOT_BYTES) -> None:
        self.source = source
        if budget is None:
            budget = survivor_budget()
        self.lam = float(lam)
        self.N = float(source.max_column_norm())
        p = int(source.n_columns)
        self.p = p
        per = 8 * max(n_samples, 1)
        self.M = int(min(p, max(256, budget // per)))
        K = getattr(source, "K", None)
        # an explicit (n, p) Fortran matrix: K^T is C-ordered and its rows gather at memory speed
        self.KT = K.T if (isinstance(K, np.ndarray) and K.dtype == np.float64 and K.ndim == 2
                          and K.flags.f_contiguous and K.shape == (n_samples, p)) else None
        #: a streamed source that prices chosen columns in place: level 1 is indices, no dense copy
        self.indexed = self.KT is None and callable(getattr(source, "subset_pricer", None))
        self.sub = None  # the level-1 subset pricer (indexed mode)
        if self.KT is not None:
            cap = max(self.M, int(MATRIX_SURVIVOR_BYTES // per))
            self.M = int(min(p, max(self.M, min(cap, math.ceil(SURVIVOR_FRACTION * p)))))
        elif self.indexed:  # 16 bytes a level-1 column (index, position, score)
            self.M = int(min(p, max(256, min(math.ceil(INDEXED_SURVIVOR_FRACTION * p), budget // 16))))
        else:  # streamed: a level-1 column costs a neuron (~60 pricings, measured): at most p / 250
            self.M = int(min(self.M, max(256, hot_budget // per, p // STREAMED_SURVIVOR_DIVISOR)))
        hot = hot_budget * (INDEXED_HOT_FACTOR if self.indexed else 1)
        self.M2 = int(min(self.M, max(256, hot // per)))
        self.n_full_passes = 0
        self.n_reprices = 0
        self.priced_columns = 0
        self.n_screened = 0
        self.rest_screened = False
        z = np.zeros(0, dtype=np.int64)
        self.idx1, self.K1, self.norms1 = z, np.zeros((n_samples, 0)), np.zeros(0)
        self.idx, self.K, self.norms = z, np.zeros((n_samples, 0)), np.zeros(0)
        self.rest = -math.inf  # rest1
        self.rest2 = -math.inf
        self.N1 = 0.0
        self.theta0: np.ndarray | None = None  # theta1
        self.theta2: np.ndarray | None = None
        self.b1 = self.b2 = -math.inf  # the two bounds at the last price()
        # columns computed outside level 1 (streamed sources), kept for the working set
        self.idx_x, self.K_x = z, np.zeros((n_samples, 0))
        self.max_extra = int(max(256, hot_budget // per))

    # ------------------------------------------------------------------ passes
    def full_pass(self, theta: np.ndarray, threshold: float = -1.0) -> float:
        """One pass over every column at ``theta``: keep the ``M1`` best scoring above ``threshold``,
        remember the rest's maximum.  Returns the exact maximum score over all columns.

        A positive ``threshold`` spares the pass from ranking columns that cannot matter: when
        fewer than ``M1`` columns exceed it, every other column scores at most ``threshold``,
        which is then the remembered bound (``-1``: every column competes, as no score is below 0)."""
        idx, sc, m = self.source.violators(theta, self.M, threshold)
        self.n_full_passes += 1
        p = self.p
        if idx.size == self.M and idx.size < p:
            self.rest = float(sc.min())  # the M-th best: every other column scores at most this
        elif idx.size < p and threshold >= 0.0:
            self.rest = float(threshold)  # every column not returned scores at most the threshold
        else:  # every column is a survivor
            self.rest = -math.inf
        order = np.argsort(idx)
        idx1 = idx[order].astype(np.int64, copy=False)
        sc1 = np.asarray(sc, dtype=np.float64)[order]
        if self.indexed:  # streamed, priced in place by the subset pricer: no dense copy, no norms
            # (the bound on level 1 outside the hot set uses N)
            self.idx1 = idx1
            self.sub = self.source.subset_pricer(idx1)
            self.norms1 = None
        elif self.KT is None:  # dense copies of the survivors (streamed columns cost a neuron each):
            # those already held (previous level 1, kept columns) are copied, not recomputed
            self.K1 = self.columns(idx1, keep=False)
            self.idx1 = idx1
            self.norms1 = dense_column_norms(self.K1)
        else:  # an explicit matrix: level 1 is indices into it, priced in place
            self.idx1 = idx1
            norms = getattr(self.source, "column_norms", None)
            if callable(norms):  # exact norms of every column, computed once by the source
                self.norms1 = np.asarray(norms())[self.idx1]
            else:
                from ._gather import gather_norms

                self.norms1 = np.empty(self.idx1.size)
                gather_norms(self.KT, self.idx1, self.norms1)
        self.theta0 = np.array(theta, dtype=np.float64, copy=True)
        self.rest_screened = False
        self._select_hot(theta, sc1)
        return float(m)

    def reprice(self, theta: np.ndarray) -> None:
        """Price every level-1 column exactly at ``theta`` (``M1 / p`` of a pass) and choose the hot set."""
        self.n_reprices += 1
        self.priced_columns += int(self.sub.n_priced_columns if self.indexed else self.idx1.size)
        self._select_hot(theta, self._level1_scores(theta))

    def _level1_scores(self, theta: np.ndarray) -> np.ndarray:
        if not self.idx1.size:
            return np.zeros(0)
        if self.indexed:
            return self.sub.price(theta)
        if self.KT is None:
            return group_norms(self.K1.T @ theta)
        from ._gather import gather_group_scores, gather_scores

        out = np.empty(self.idx1.size)
        th = np.ascontiguousarray(theta, dtype=np.float64)
        (gather_scores if th.ndim == 1 else gather_group_scores)(self.KT, self.idx1, th, out)
        return out

    def _select_hot(self, theta: np.ndarray, sc1: np.ndarray) -> None:
        if self.idx1.size <= self.M2:
            pos = np.arange(self.idx1.size)
            self.rest2 = -math.inf
        else:
            pos = np.sort(np.argpartition(-sc1, self.M2 - 1)[: self.M2])
            out = np.ones(self.idx1.size, dtype=bool)
            out[pos] = False
            self.rest2 = float(sc1[out].max())
            self.N1 = self.N if self.norms1 is None else float(self.norms1[out].max())
        self.pos = pos
        idx = self.idx1[pos]
        if self.KT is not None:
            self.K = take_columns(self.KT.T, idx)
        elif self.indexed:  # the old hot set and the kept columns first, the others computed
            self.K = self.columns(idx, keep=False)
        else:
            self.K = self.K1 if pos.size == self.idx1.size else take_columns(self.K1, pos)
        self.idx = idx
        self.norms = dense_column_norms(self.K) if self.norms1 is None else self.norms1[pos]
        self.theta2 = np.array(theta, dtype=np.float64, copy=True)

    def price(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """Exact scores of the hot columns at ``theta`` and the bound over every other column
        (``-inf`` when there is none or it was screened); ``b1`` / ``b2`` keep its two parts
        (columns outside level 1 / level-1 columns outside the hot set)."""
        self.priced_columns += int(self.idx.size)
        S = group_norms(self.K.T @ theta) if self.idx.size else np.zeros(0)
        sl = self.slack(theta)
        self.b1 = -math.inf if (self.rest_screened or self.rest == -math.inf) else (
            self.rest + self.N * float(np.linalg.norm(theta - self.theta0)) + sl)
        self.b2 = -math.inf if self.rest2 == -math.inf else (
            self.rest2 + self.N1 * float(np.linalg.norm(theta - self.theta2)) + sl)
        return S, max(self.b1, self.b2)

    def slack(self, theta: np.ndarray) -> float:
        return ROUNDING * self.N * float(np.linalg.norm(theta))

    @staticmethod
    def max_score(S: np.ndarray, bound: float) -> float:
        return max(float(S.max()) if S.size else 0.0, bound)

    def top(self, S: np.ndarray, k: int, threshold: float, exclude: np.ndarray | None) -> np.ndarray:
        """Up to ``k`` hot columns scoring above ``threshold``, not in ``exclude`` (sorted), best first."""
        m = S > threshold
        if exclude is not None and exclude.size:
            m &= ~np.isin(self.idx, exclude, assume_unique=False)
        cand = np.flatnonzero(m)
        if cand.size > k:
            cand = cand[np.argsort(-S[cand], kind="stable")[:k]]
        else:
            cand = cand[np.argsort(-S[cand], kind="stable")]
        return self.idx[cand]

    def columns(self, idx: np.ndarray, keep: bool = True) -> np.ndarray:
        """``K[:, idx]``, from the level-1 dense columns or the kept ones where possible (no
        recomputation of streamed neurons), else from the source (then kept, with ``keep``)."""
        idx = np.asarray(idx, dtype=np.int64)
        if self.KT is not None:
            return take_columns(self.KT.T, idx)
        if idx.size == 0:
            return self.source.columns(idx)
        hits = []
        todo = np.ones(idx.size, dtype=bool)
        held = (self.idx, self.K) if self.indexed else (self.idx1, self.K1)
        for store_idx, store_K in (held, (self.idx_x, self.K_x)):
            if not store_idx.size or not todo.any():
                continue
            pos = np.minimum(np.searchsorted(store_idx, idx), store_idx.size - 1)
            hit = todo & (store_idx[pos] == idx)
            if hit.any():
                hits.append((store_K, pos[hit], np.flatnonzero(hit)))
                todo &= ~hit
        if not hits:  # every column is new: the source's array is the answer (no copy)
            out = self.source.columns(idx)
            if keep:
                self._keep_extra(idx, out)
            return out
        from ._gather import gather_columns

        out = np.empty((self.K1.shape[0], idx.size), order="F")
        for store_K, src, dst in hits:  # copied in place, in parallel (no temporary)
            gather_columns(store_K, src, out, dst)
        if todo.any():  # computed once, then kept (the working set asks for them every iteration)
            new_at = np.flatnonzero(todo)
            new_K = self.source.columns(idx[new_at])
            gather_columns(new_K, np.arange(new_at.size), out, new_at)
            if keep:
                self._keep_extra(idx[new_at], new_K)
        return out

    def _keep_extra(self, idx: np.ndarray, K: np.ndarray) -> None:
        """Keep computed columns outside level 1 (up to ``hot_budget``-like memory: the newest win)."""
        idx_x = np.concatenate([self.idx_x, idx])
        K_x = np.concatenate([self.K_x, K], axis=1)
        if idx_x.size > self.max_extra:
            idx_x, K_x = idx_x[-self.max_extra:], K_x[:, -self.max_extra:]
        idx_x, first = np.unique(idx_x, return_index=True)
        self.idx_x, self.K_x = idx_x, np.asfortranarray(K_x[:, first])

    # ------------------------------------------------------------------ screening
    def screen(self, theta: np.ndarray, scale: float, S: np.ndarray, bound: float, radius: float) -> np.ndarray:
        """Gap Safe screening at the feasible point ``scale * theta`` with sphere ``radius``
        (``S``, ``bound``: the last :meth:`price`, at this ``theta``).

        Drops, for good, every hot column with ``scale S_j + ||K_j|| radius < lam``; every
        level-1 column outside the hot set when ``scale b2 + N1 radius < lam``; every column
        outside level 1 when ``scale b1 + N radius < lam``.  Returns the dropped hot columns.
        """
        eps = self.slack(theta) + ROUNDING * self.N * radius
        if not self.rest_screened and self.b1 != -math.inf and scale * self.b1 + self.N * radius + eps < self.lam:
            self.rest_screened = True
        if self.b2 != -math.inf and scale * self.b2 + self.N1 * radius + eps < self.lam:
            # level 1 shrinks to the hot set (the dropped columns' indices are not listed)
            self.n_screened += int(self.idx1.size - self.idx.size)
            self.idx1, self.norms1 = self.idx, self.norms
            if self.indexed:
                self.sub = self.source.subset_pricer(self.idx1)
            elif self.KT is None:
                self.K1 = self.K
            self.pos = np.arange(self.idx.size)
            self.rest2 = self.b2 = -math.inf
        if not self.idx.size:
            return np.zeros(0, dtype=np.int64)
        gone = scale * S + self.norms * radius + eps < self.lam
        if not gone.any():
            return np.zeros(0, dtype=np.int64)
        dropped = self.idx[gone]
        keep = ~gone
        keep1 = np.ones(self.idx1.size, dtype=bool)
        keep1[self.pos[gone]] = False
        shared = self.K is self.K1
        self.idx1 = self.idx1[keep1]
        if self.norms1 is not None:
            self.norms1 = self.norms1[keep1]
        if self.indexed:
            self.sub = self.source.subset_pricer(self.idx1)
        elif self.KT is None:
            self.K1 = take_columns(self.K1, np.flatnonzero(keep1))
        self.idx, self.norms = self.idx[keep], self.norms[keep]
        self.K = self.K1 if shared else take_columns(self.K, np.flatnonzero(keep))
        self.pos = np.searchsorted(self.idx1, self.idx)
        self.n_screened += int(dropped.size)
        return dropped


class CachedColumns:
    """A column source whose ``columns`` are served from a :class:`PricingMemory` when possible;
    everything else is the wrapped source's."""

    def __init__(self, source, memory: PricingMemory) -> None:
        self.source = source
        self.memory = memory
        self.n_columns = source.n_columns

    def columns(self, idx: np.ndarray) -> np.ndarray:
        return self.memory.columns(idx)

    def violators(self, theta, k, threshold, exclude=None):
        return self.source.violators(theta, k, threshold, exclude)

    def max_column_norm(self) -> float:
        return self.memory.N
