"""Streamed (implicit) wedge dictionaries: every candidate priced, ``K`` never materialised.

A dictionary has ``2 * C(pool, d-1)`` candidate columns (times ``n`` anchors, or ``4 n``
levels for depth 3): about ``4e7`` for ``n = 500, d = 4``, 160 GB as a dense matrix.  The
Lasso optimum uses at most ``n + 1`` of them (Carathéodory), so the solver needs only

* the columns of a small working set, computed on demand (``columns(idx)``), and
* the top violators ``|K_j^T theta| > threshold`` and the maximum score over *all* columns
  (``violators(theta, k, threshold)``), computed by one streamed pass over the candidate
  ranks in chunks (docs/conventions.md, "Certificates": that maximum certifies the whole dictionary).

:class:`StreamedDictionary` is that column source.  Its column indices are global: column
``j`` is candidate ``j // per`` (rank in the combinatorial number system, or, for a sampled
dictionary, position in the sorted array of sampled ranks) and ``j % per`` selects the
orientation (depth 2: ``[+, -]``) or ``[orientation, level j0, outer]`` (depth 3, ``per = 4 n``)
-- the layout of the explicit builder before de-duplication.  The neuron of a candidate is
computed by the same numba kernel as in :func:`wedgenet.dictionary`
(:func:`~wedgenet.dictionaries._kernels.neuron_of_subset`).

Differences from the explicit :class:`~wedgenet.dictionaries.Dictionary`: columns are not
de-duplicated and degenerate (all-zero) columns are not dropped, so ``n_columns`` counts every
candidate column.  Duplicates cannot change the Lasso optimum (two equal columns act as one
with the coefficients summed), but two fits may pick different indices for the same neuron:
compare supports by neurons, not indices.  Depth-3 levels with threshold 0 beyond the first
are exact duplicates; they score 0 so they never enter the working set.

Pricing runs on local numba threads by default; pass ``pricer=`` a
:class:`wedgenet.dictionaries.dask_pricing.DaskPricer` to send chunks to a Dask cluster.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .._linalg import row_norms
from .._validation import check_positive_int
from ..algebra.products import DEFAULT_RTOL
from ._kernels import column_params, fill_columns
from ._pricing import price_block
from .base import WedgeDictionary
from .provenance import Provenance, ProvenanceTable, lazy_getitem
from .setup import SamplingPlan, Setup, _check_generator, prepare

__all__ = ["PricingSpec", "ScanResult", "LocalPricer", "StreamedDictionary", "SubsetPricer", "streamed_dictionary",
           "scan_range", "STREAM_ABOVE_BYTES", "prefer_streamed"]

#: ``dictionary_mode="auto"`` streams when the explicit ``K`` would exceed this many bytes.  Measured
#: end to end (benchmarks/bench_auto.py: spiral, reg="l2", bias=True, lam_ratio=0.05, each fit in
#: a fresh process, 2 shared cores at load 1-5): with streamed survivors priced in place a
#: certified streamed fit makes 5 full passes and no build, and was faster than the explicit one
#: from 0.01 GB up (streamed / explicit time: 0.003 GB 1.28, 0.01 GB 0.85, 0.03 GB 0.44, 0.06 GB
#: 0.59, 0.22 GB 0.36, 0.73 GB 0.37, 1.73 GB 0.37).  The rule streams above 0.1 GB, where the
#: explicit fit takes seconds; below it both take well under a second and the explicit
#: dictionary keeps every feature (``solver="cvxpy"``/``"sklearn"``, ``D.K``).
STREAM_ABOVE_BYTES = 1e8

#: score entries per chunk (the chunk's output buffer is 8 bytes each)
CHUNK_COLUMNS = 1 << 20

@dataclass(frozen=True, eq=False)
class PricingSpec:
    """Everything the pricing kernel needs, as plain arrays (picklable; sent once to workers).

    ``n_positions`` candidates: ranks ``0 .. total-1``, or the sorted sampled ranks ``ids``.
    """

    ids: np.ndarray
    offsets: np.ndarray
    m: int
    P: np.ndarray
    is_sample: np.ndarray
    anchors: np.ndarray
    mode: int
    pnorm: int
    T: np.ndarray
    rtol: float
    fexp: np.ndarray
    row_exp: np.ndarray
    ZT: np.ndarray
    ZT4: np.ndarray
    depth3: bool
    per: int
    n_positions: int

    @property
    def n_columns(self) -> int:
        return self.n_positions * self.per

    def price(self, start: int, count: int, theta: np.ndarray, out: np.ndarray | None = None,
              parallel: bool = True) -> np.ndarray:
        """Scores of the columns of positions ``start .. start+count-1`` (``count * per`` entries)."""
        if out is None:
            out = np.empty(count * self.per)
        price_block(np.int64(start), np.int64(count), self.ids, self.offsets, self.m, self.P, self.is_sample,
                    self.anchors, self.mode, self.pnorm, self.T, self.rtol, self.fexp, self.row_exp, self.ZT, self.ZT4,
                    theta, self.depth3, out, parallel=parallel)
        return out


@dataclass
class ScanResult:
    """Top violators of one pass (or part of a pass), the maximum score, and what was visited."""

    idx: np.ndarray
    scores: np.ndarray
    max_score: float
    n_positions: int
    complete: bool  # every column above the threshold is in ``idx`` (not truncated to ``k``)


class _TopK:
    """Running top-``k`` of the scores above ``threshold`` (ties broken by lower index)."""

    def __init__(self, k: int, threshold: float) -> None:
        self.k = int(k)
        self.threshold = float(threshold)
        self.cut = float(threshold)
        self.idx = np.zeros(0, dtype=np.int64)
        self.sc = np.zeros(0)
        self.max = 0.0
        self.n_positions = 0
        self.complete = True

    def _push(self, cols: np.ndarray, sc: np.ndarray) -> None:
        if cols.size == 0:
            return
        self.idx = np.concatenate([self.idx, cols])
        self.sc = np.concatenate([self.sc, sc])
        if self.idx.size > self.k:
            self.complete = False
            keep = _top(self.idx, self.sc, self.k)
            self.idx, self.sc = self.idx[keep], self.sc[keep]
            self.cut = max(self.threshold, float(self.sc.min())) if self.k else math.inf

    def add_scores(self, base_col: int, scores: np.ndarray) -> None:
        if scores.size:
            self.max = max(self.max, float(scores.max()))
        hits = np.flatnonzero(scores > self.cut)
        self._push(hits.astype(np.int64) + np.int64(base_col), scores[hits])

    def add_result(self, res: ScanResult) -> None:
        self.max = max(self.max, res.max_score)
        self.n_positions += res.n_positions
        self.complete &= res.complete
        m = res.scores > self.cut
        self._push(res.idx[m], res.scores[m])

    def result(self) -> ScanResult:
        order = np.lexsort((self.idx, -self.sc))
        return ScanResult(self.idx[order], self.sc[order], self.max, self.n_positions, self.complete)


def _top(idx: np.ndarray, sc: np.ndarray, k: int) -> np.ndarray:
    """Positions of the ``k`` best entries (decreasing score, then increasing index), unordered.

    A partition finds the ``k``-th score; only the entries tied with it are sorted (by index),
    so pruning a large running top-``k`` costs ``O(size)``, not a full sort."""
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    if k >= sc.size:
        return np.arange(sc.size)
    kth = -np.partition(-sc, k - 1)[k - 1]
    above = np.flatnonzero(sc > kth)
    tied = np.flatnonzero(sc == kth)
    tied = tied[np.argsort(idx[tied], kind="stable")[: k - above.size]]
    return np.concatenate([above, tied])


def scan_range(spec: PricingSpec, theta: np.ndarray, start: int, stop: int, k: int, threshold: float,
               chunk: int, progress: Callable[[int], None] | None = None, parallel: bool = True) -> ScanResult:
    """Price positions ``[start, stop)`` in chunks of ``chunk`` candidates; keep the top ``k``.

    Each position is priced exactly once (chunks ``[s, min(s + chunk, stop))``).  Returns the
    (at most ``k``) columns scoring above ``threshold`` with the best scores, the maximum score
    over every column of the range, and the number of positions visited.  This is the unit
    of work of both the local pass and a Dask task.
    """
    top = _TopK(k, threshold)
    buf = np.empty(min(chunk, max(stop - start, 0)) * spec.per)
    s = start
    while s < stop:
        e = min(s + chunk, stop)
        out = buf[: (e - s) * spec.per]
        spec.price(s, e - s, theta, out, parallel=parallel)
        top.add_scores(s * spec.per, out)
        top.n_positions += e - s
        if progress is not None:
            progress(e - s)
        s = e
    return top.result()


class SubsetPricer:
    """Scores ``|K_j^T theta|`` of a fixed set of columns of a streamed dictionary, without ``K``.

    The pricing kernel runs in its sampled mode over the columns' candidates (their ranks,
    ``spec.ids``); ``pick`` selects the asked columns from the candidates' ``per`` columns.
    A call costs ``n_positions`` candidate pricings (the same kernel as a full pass)."""

    def __init__(self, spec: PricingSpec, pick: np.ndarray) -> None:
        self.spec = spec
        self.pick = pick

    @property
    def n_positions(self) -> int:
        return self.spec.n_positions

    @property
    def n_priced_columns(self) -> int:
        """Columns the kernel scores per call (every column of each candidate)."""
        return self.spec.n_columns

    def price(self, theta) -> np.ndarray:
        if self.pick.size == 0:
            return np.zeros(0)
        th, _ = _as_theta(theta)
        buf = np.empty(self.spec.n_columns)
        self.spec.price(0, self.spec.n_positions, th, buf)
        return buf[self.pick]


class LocalPricer:
    """Streams the chunks through the numba kernel on local threads (the default)."""

    name = "local"

    def scan(self, spec: PricingSpec, theta: np.ndarray, k: int, threshold: float, chunk: int,
             verbose: bool = False) -> ScanResult:
        with progress_bar(spec.n_positions, verbose) as bar:
            return scan_range(spec, theta, 0, spec.n_positions, k, threshold, chunk,
                              progress=bar.update if bar is not None else None)


class progress_bar:
    """A tqdm bar over candidates (shown only when ``verbose`` and the pass takes over a second)."""

    def __init__(self, total: int, verbose: bool) -> None:
        self.total = total
        self.verbose = verbose
        self.bar = None

    def __enter__(self):
        if not self.verbose:
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is a dependency; degrade silently
            return None
        self.bar = tqdm(total=self.total, unit="cand", unit_scale=True, desc="pricing", delay=1.0, leave=False)
        return self.bar

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.close()


def _pad4(ZT: np.ndarray) -> np.ndarray:
    """``ZT`` with zero rows appended up to a multiple of 4 (at least 4)."""
    dr, n = ZT.shape
    out = np.zeros((max(4, -(-dr // 4) * 4), n))
    out[:dr] = ZT
    return out


def _as_theta(theta) -> tuple[np.ndarray, bool]:
    th = np.asarray(theta, dtype=np.float64)
    if th.ndim == 1:
        return np.ascontiguousarray(th[:, None]), False
    return np.ascontiguousarray(th), True


class _ColumnView:
    """``D.weights[idx]`` etc. of a streamed dictionary: computed for the requested columns only."""

    def __init__(self, D: StreamedDictionary, name: str) -> None:
        self._D = D
        self._name = name

    def __len__(self) -> int:
        return self._D.n_columns

    def __getitem__(self, idx):
        arr = np.asarray(idx)
        if arr.dtype == bool:
            raise TypeError("streamed dictionaries take integer column indices, not masks")
        info = self._D.column_info(np.atleast_1d(arr).astype(np.int64).ravel())
        out = info[self._name]
        if arr.ndim == 0:
            return out[0]
        return out.reshape(arr.shape + out.shape[1:])

    def __array__(self, *args, **kw):
        raise TypeError(f"a streamed dictionary does not materialise all {self._D.n_columns:,} {self._name}; "
                        "index it with the columns you need")

    def __repr__(self) -> str:
        return f"<{self._name} of {self._D.n_columns:,} streamed columns (index to compute)>"


class _StreamedProvenance(Sequence):
    """Provenance records of streamed columns, built on demand (``column`` is the global index)."""

    def __init__(self, D: StreamedDictionary) -> None:
        self._D = D

    def __len__(self) -> int:
        return self._D.n_columns

    def __getitem__(self, j):  # type: ignore[override]
        return lazy_getitem(self, j, lambda i: self.table([i])[0])

    def table(self, idx) -> list[Provenance]:
        idx = np.asarray(idx, dtype=np.int64)
        info = self._D.column_info(idx)
        D = self._D
        t = ProvenanceTable(D.setup.family, D.setup.pool, D.setup.d, info["subsets"], info["anchors"],
                            info["levels"], info["orientations"], info["outer"], D.theorem)
        return [dataclasses.replace(t[q], column=int(j)) for q, j in enumerate(idx)]


class StreamedDictionary(WedgeDictionary):
    """An implicit wedge dictionary: the column-source protocol without materialising ``K``.

    Build with :func:`streamed_dictionary` (or :meth:`~wedgenet.dictionaries.Dictionary.full`).
    Solver protocol: ``n_columns``, ``columns(idx)``, ``violators(theta, k, threshold, exclude)``
    (one streamed pass; repeated queries with the same ``theta`` are served from the pass's
    cache) and ``price(theta)`` (every score, ``O(n_columns)`` memory: small problems only).
    Network protocol: ``weights[idx]``, ``biases[idx]``, ``outer_sign[idx]``, ``thresholds[idx]``,
    ``normalisers[idx]`` and ``provenance[j]`` computed for the requested columns, plus the
    metadata of :class:`~.base.WedgeDictionary` read from ``setup`` and ``plan``.

    Attributes
    ----------
    pricer : LocalPricer or DaskPricer
        Where the passes run.
    chunk_size : int
        Candidates per chunk (per kernel call).
    verbose : bool
        Progress bars on passes that take more than a second.
    n_passes : int
        Full passes run so far (cache hits excluded).
    """

    streamed: ClassVar[bool] = True

    def __init__(self, setup: Setup, plan: SamplingPlan, *, chunk_size: int | None = None, pricer=None,
                 verbose: bool = False) -> None:
        S = setup
        if plan.sampled and plan.ids is None:
            raise ValueError("a streamed dictionary needs candidate ranks (the pool exceeds the int64 rank range)")
        self.setup = S
        self.plan = plan
        self.ids = np.zeros(0, dtype=np.int64) if plan.ids is None else np.ascontiguousarray(plan.ids, dtype=np.int64)
        self.per = S.per
        n_pos = int(plan.n_pick)
        self.spec = PricingSpec(
            ids=self.ids, offsets=S.offsets64, m=int(S.m), P=S.pool.vectors, is_sample=(S.pool.kind == 0),
            anchors=S.anchors if S.anchors is not None else np.zeros((1, max(S.dr, 1))), mode=int(S.family.mode),
            pnorm=int(S.family.pnorm), T=S.T if S.T is not None else np.ones((1, 1), dtype=np.int64),
            rtol=float(S.rtol), fexp=S.fexp, row_exp=S.row_exp, ZT=np.ascontiguousarray(S.Z.T), ZT4=_pad4(S.Z.T),
            depth3=S.family.depth == 3, per=self.per, n_positions=n_pos)
        self.chunk_size = int(chunk_size) if chunk_size else max(1, CHUNK_COLUMNS // self.per)
        self.pricer = pricer if pricer is not None else LocalPricer()
        self.verbose = bool(verbose)
        self.n_passes = 0
        self._cache: tuple | None = None
        self.weights = _ColumnView(self, "weights")
        self.biases = _ColumnView(self, "biases")
        self.outer_sign = _ColumnView(self, "outer_sign")
        self.thresholds = _ColumnView(self, "thresholds")
        self.normalisers = _ColumnView(self, "normalisers")
        self.provenance = _StreamedProvenance(self)

    @property
    def n_columns(self) -> int:
        return self.spec.n_columns

    # ------------------------------------------------------------------ shape and metadata
    def __repr__(self) -> str:
        return (f"StreamedDictionary(n={self.n_samples}, p={self.n_columns:,} (not materialised), {self._kind()}, "
                f"pricer={self.pricer.name!r})")

    def full(self) -> StreamedDictionary:
        """The unsampled dictionary over the same data (every candidate), sharing the setup."""
        if not self.sampled:
            return self
        return StreamedDictionary(self.setup, SamplingPlan(False, self.setup.total, None), chunk_size=self.chunk_size,
                                  pricer=self.pricer, verbose=self.verbose)

    def global_columns(self, idx) -> np.ndarray:
        """Column indices of :meth:`full` for columns ``idx`` of this (possibly sampled) dictionary."""
        idx = np.asarray(idx, dtype=np.int64)
        if not self.sampled:
            return idx
        return self.ids[idx // self.per] * self.per + idx % self.per

    # ------------------------------------------------------------------ per-column data
    def _check_idx(self, idx) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64).ravel()
        if idx.size and (idx.min() < 0 or idx.max() >= self.n_columns):
            raise IndexError(f"column indices must lie in [0, {self.n_columns})")
        return idx

    def _neurons(self, idx: np.ndarray, data: bool = True):
        pos = idx // self.per
        within = idx - pos * self.per
        upos, inv = np.unique(pos, return_inverse=True)
        g = self.ids[upos] if self.sampled else upos
        if g.size == 0:  # no column asked (or none exists: rank-0 data)
            S = self.setup
            W_r, b_r, norms = np.zeros((0, S.dr)), np.zeros(0), np.zeros(0)
            subsets, anchors = np.zeros((0, S.k_sub), dtype=np.int64), np.zeros(0, dtype=np.int64)
        else:
            subsets, anchors = self.setup.unrank(g)
            W_r, b_r, norms = self.setup.neurons(subsets, anchors)
        W, b = self.setup.to_data_coordinates(W_r, b_r) if data else (W_r, b_r)
        local = inv.astype(np.int64).ravel() * self.per + within
        return W, b, norms, subsets, anchors, inv.ravel(), local, within

    def column_info(self, idx) -> dict[str, np.ndarray]:
        """Generator neuron, depth-3 unit, normaliser and provenance arrays of columns ``idx``."""
        idx = self._check_idx(idx)
        S = self.setup
        W_r, b_r, norms, subsets, anchors, inv, local, within = self._neurons(idx, data=False)
        W, b = S.to_data_coordinates(W_r, b_r)
        _, sgn, thr, outer = column_params(*S.kernel_coordinates(W_r, b_r), S.family.depth == 3, local)
        level = self.layout.decode(within).level  # ``within`` is the column of candidate 0
        return {
            "weights": W[inv] * sgn[:, None],
            "biases": b[inv] * sgn,
            "outer_sign": outer,
            "thresholds": thr,
            "normalisers": norms[inv],
            "subsets": subsets[inv],
            "anchors": anchors[inv] if S.family.anchored else np.full(idx.size, -1, np.int64),
            "levels": level,
            "orientations": sgn.astype(np.int8),
            "outer": outer.astype(np.int8),
            "candidates": (self.ids[idx // self.per] if self.sampled else idx // self.per),
        }

    def columns(self, idx) -> np.ndarray:
        """Columns ``K[:, idx]`` as an ``(n, len(idx))`` Fortran array (the explicit builder's values)."""
        idx = self._check_idx(idx)
        S = self.setup
        K = np.empty((S.n, idx.size), order="F")
        if idx.size == 0:
            return K
        W_r, b_r, _, _, _, _, local, _ = self._neurons(idx, data=False)
        fill_columns(*S.kernel_coordinates(W_r, b_r), S.family.depth == 3, local, K)
        return K

    def _unit(self, idx: np.ndarray):
        if idx.size == 0:
            return np.zeros((0, self.n_features)), np.zeros(0), np.zeros(0), np.zeros(0)
        info = self.column_info(idx)
        return info["weights"], info["biases"], info["outer_sign"], info["thresholds"]

    # ------------------------------------------------------------------ pricing
    def violators(self, theta, k: int, threshold: float, exclude: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, float]:
        """Up to ``k`` columns with score above ``threshold``, not in ``exclude``, best first.

        Score ``|K_j^T theta|`` (``||K_j^T Theta||_2`` for 2-D ``theta``).  Returns
        ``(idx, scores, max_score)`` with ``max_score`` over *every* column (excluded
        included): one streamed pass over all candidates, cached for further queries with
        the same ``theta``.
        """
        th, _ = _as_theta(theta)
        if th.shape[0] != self.n_samples:
            raise ValueError(f"theta must have {self.n_samples} rows; got {th.shape}")
        if not np.all(np.isfinite(th)):
            raise ValueError("theta must be finite (a NaN or inf dual point cannot be priced)")
        k = max(int(k), 0)
        threshold = float(threshold)
        ex = np.zeros(0, dtype=np.int64) if exclude is None else np.asarray(exclude, dtype=np.int64)
        if ex.size > 1 and np.any(ex[1:] < ex[:-1]):
            ex = np.sort(ex)
        res = self._cached(th, k + ex.size, threshold)
        if res is None:
            want = k + ex.size + max(256, min(k, 4096))  # spare violators for the next query on this theta
            res = self.scan(th, want, threshold)
            self._cache = (th.copy(), threshold, res)
        keep = res.scores > threshold
        idx, sc = res.idx[keep], res.scores[keep]
        if ex.size and idx.size:
            pos = np.minimum(np.searchsorted(ex, idx), ex.size - 1)
            m = ex[pos] != idx
            idx, sc = idx[m], sc[m]
        return idx[:k], sc[:k], float(res.max_score)

    def _cached(self, th: np.ndarray, need: int, threshold: float) -> ScanResult | None:
        if self._cache is None:
            return None
        th0, thr0, res = self._cache
        if th0.shape != th.shape or not np.array_equal(th0, th) or threshold < thr0:
            return None
        if res.complete or int(np.sum(res.scores > threshold)) >= need:
            return res
        return None

    def scan(self, theta, k: int, threshold: float = -math.inf) -> ScanResult:
        """One full streamed pass: top ``k`` columns above ``threshold`` and the max score."""
        th, _ = _as_theta(theta)
        self.n_passes += 1
        if self.n_positions == 0:
            return ScanResult(np.zeros(0, np.int64), np.zeros(0), 0.0, 0, True)
        return self.pricer.scan(self.spec, th, int(k), float(threshold), self.chunk_size, verbose=self.verbose)

    def pass_seconds(self, theta) -> float:
        """Seconds of one full local pricing pass at the throughput measured now.

        Prices the first chunk of candidates twice (the faster time counts, so a first call's
        dispatch overhead does not) and extrapolates ``time * n_positions / chunk`` (every chunk
        prices the same number of candidates with the same kernel).  Scores are discarded.
        """
        import time

        th, _ = _as_theta(theta)
        m = min(self.chunk_size, self.n_positions)
        if m == 0:
            return 0.0
        best = math.inf
        for _ in range(2):
            t = time.perf_counter()
            scan_range(self.spec, th, 0, m, 0, math.inf, self.chunk_size)
            best = min(best, time.perf_counter() - t)
        return best * self.n_positions / m

    @property
    def n_positions(self) -> int:
        return self.spec.n_positions

    def subset_pricer(self, idx) -> SubsetPricer:
        """A pricer of the columns ``idx`` alone (:class:`SubsetPricer`): each call prices only
        their candidates, ``n_positions / self.n_positions`` of a full pass."""
        idx = self._check_idx(idx)
        pos = idx // self.per
        upos, inv = np.unique(pos, return_inverse=True)
        ranks = self.ids[upos] if self.sampled else upos
        spec = dataclasses.replace(self.spec, ids=np.ascontiguousarray(ranks, dtype=np.int64),
                                   n_positions=int(ranks.size))
        return SubsetPricer(spec, inv.ravel().astype(np.int64) * self.per + (idx - pos * self.per))

    def price(self, theta) -> np.ndarray:
        """Every column's score (``O(n_columns)`` memory; for small problems and tests)."""
        th, _ = _as_theta(theta)
        out = np.empty(self.n_columns)
        c = self.chunk_size
        for s in range(0, self.n_positions, c):
            e = min(s + c, self.n_positions)
            self.spec.price(s, e - s, th, out[s * self.per: e * self.per])
        return out

    def max_column_norm(self) -> float:
        """An upper bound ``N >= max_j ||K_j||_2`` over every column, from the data alone.

        A column is ``(w . x_i + b)_+ / ||w||_p`` (depth 2; depth 3 applies ``(s (. - t))_+`` to it,
        which never increases an entry's magnitude beyond ``max_i |w . x_i + b| / ||w||_p``) and
        every neuron's hyperplane passes through a point ``q`` that is ``0`` (families without a
        bias) or a training sample (the anchor, or a point of the affine pool).  With
        ``||w||_2 <= ||w||_p`` (``p <= 2``), ``|w . x_i + b| / ||w||_p <= ||x_i - q||``; so
        ``||K_j||^2 <= sum_i max_q ||x_i - q||^2`` (depth 2; the two orientations split the
        entries) and ``n max_{i,q} ||x_i - q||^2`` (depth 3).  Computed once, in data coordinates
        (scaled by the largest entry, so it neither overflows nor underflows).
        """
        if getattr(self, "_max_column_norm", None) is None:
            from .families import MODE_PLAIN

            X = np.asarray(self.setup.X, dtype=np.float64)
            scale = float(np.abs(X).max()) if X.size else 0.0
            if scale == 0.0:
                self._max_column_norm = 0.0
                return 0.0
            Xs = X / scale
            if int(self.setup.family.mode) == MODE_PLAIN:  # b = 0: q = 0
                far = row_norms(Xs)
            else:  # q is a training sample: max_q ||x_i - q|| <= ||x_i - c|| + max_q ||q - c||
                c = Xs.mean(axis=0)
                r = row_norms(Xs - c)
                far = r + r.max()
            n = X.shape[0]
            bound = math.sqrt(n) * float(far.max()) if self.depth == 3 else math.sqrt(float(np.sum(far**2)))
            self._max_column_norm = scale * bound * (1.0 + 1e-12)
        return self._max_column_norm


def prefer_streamed(n_samples: int, n_columns: int, threshold: float = STREAM_ABOVE_BYTES) -> bool:
    """Whether ``dictionary_mode="auto"`` should stream: the explicit ``(n_samples, n_columns)``
    float64 matrix would exceed ``threshold`` bytes (:data:`STREAM_ABOVE_BYTES`, measured
    break-even), whatever the memory budget allows.  ``n_columns`` is the candidate-column count
    before de-duplication (``StreamedDictionary.n_columns``), an upper bound of the explicit one."""
    return 8.0 * float(n_samples) * float(n_columns) > float(threshold)


def streamed_dictionary(
    X,
    *,
    reg: str = "l1",
    bias: bool = False,
    depth: int = 2,
    max_columns: int | None = None,
    random_state=None,
    rtol: float = DEFAULT_RTOL,
    chunk_size: int | None = None,
    pricer=None,
    verbose: bool = False,
) -> StreamedDictionary:
    """The wedge dictionary of :func:`wedgenet.dictionary` in implicit, streamed form.

    Memory is ``O(n d)`` for the data plus one chunk of scores, whatever the number of
    candidates; every pass prices all of them (see the module docstring).  ``max_columns``
    samples about ``max_columns / per`` candidate subsets uniformly (the same draw as
    :func:`wedgenet.dictionary` with the same ``random_state``); :meth:`StreamedDictionary.full`
    gives the whole dictionary back for a certificate.  ``chunk_size`` is the number of
    candidates per kernel call (default: ``2^20`` columns' worth); ``pricer`` is where passes
    run (default local numba threads; see :class:`wedgenet.dictionaries.dask_pricing.DaskPricer`).
    """
    S = prepare(X, reg, bias, depth, rtol)
    if max_columns is not None:
        max_columns = check_positive_int("max_columns", max_columns)
    if S.huge:
        raise ValueError(f"{S.total:.3e} candidate subsets exceed the int64 rank range, which streaming walks; "
                         "use wedgenet.dictionary(X, ..., max_columns=...) (or wedgenet.fit with max_columns and "
                         "dictionary_mode='explicit') to sample candidates by subsets")
    if chunk_size is not None:
        chunk_size = check_positive_int("chunk_size", chunk_size)
    rng = _check_generator(random_state)
    return StreamedDictionary(S, S.draw(max_columns, rng), chunk_size=chunk_size, pricer=pricer, verbose=verbose)
