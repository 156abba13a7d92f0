"""Pricing that remembers, and Gap Safe screening, for the working-set solver.

Both rest on one inequality (Cauchy-Schwarz): for any two dual points,

    ||K_j^T theta'|| <= ||K_j^T theta|| + ||K_j||_2 ||theta' - theta||_F.            (*)

**Pricing that remembers.**  A full pricing pass at ``theta_0`` keeps the ``M`` best-scoring
columns (the *survivors*: their indices, their dense columns and their exact norms) and
``rest = max`` score of every other column (at most the smallest kept score).  At a later dual
point ``theta`` the survivors are re-priced exactly (``K_S^T theta``, ``O(n M)``) and every other
column is bounded by (*) with the source's bound ``N >= max_j ||K_j||_2``:

    max_{j not kept} ||K_j^T theta|| <= rest + N ||theta - theta_0||_F.

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

__all__ = ["CachedColumns", "PricingMemory", "SURVIVOR_BYTES", "gap_safe_radius"]

#: memory for the survivors' dense columns (``8 n M`` bytes)
SURVIVOR_BYTES = 16e6
#: rounding slack of every bound, relative to ``N ||theta||``
ROUNDING = 1e-9


def gap_safe_radius(loss, gap: float) -> float | None:
    """``sqrt(2 gamma gap)``: the Gap Safe sphere radius around the scaled dual point, or ``None``
    when the loss has no Lipschitz gradient (hinge): then no safe sphere follows from the gap."""
    gamma = getattr(loss, "lipschitz", None)
    if not gamma or not getattr(loss, "smooth", True) or not math.isfinite(gap):
        return None
    return math.sqrt(2.0 * float(gamma) * max(gap, 0.0))


def _col_norms(K: np.ndarray) -> np.ndarray:
    if K.size == 0:
        return np.zeros(K.shape[1])
    big = float(np.abs(K).max())
    if 1e-140 < big < 1e140:  # squares neither overflow nor underflow
        return np.sqrt(np.einsum("ij,ij->j", K, K))
    mx = np.abs(K).max(axis=0)
    safe = np.where(mx > 0, mx, 1.0)
    return mx * np.sqrt(np.einsum("ij,ij->j", K / safe, K / safe))


class PricingMemory:
    """Survivors of the last full pass, the bound on the other columns, and what was screened.

    ``source`` must provide ``max_column_norm()`` besides the column-source protocol.
    ``budget`` bytes cap the survivors' dense columns (at least 256 columns are kept).
    """

    def __init__(self, source, n_samples: int, lam: float, budget: float = SURVIVOR_BYTES) -> None:
        self.source = source
        self.lam = float(lam)
        self.N = float(source.max_column_norm())
        p = int(source.n_columns)
        self.M = int(min(p, max(256, budget // (8 * max(n_samples, 1)))))
        self.n_full_passes = 0
        self.n_screened = 0
        self.rest_screened = False
        self.idx = np.zeros(0, dtype=np.int64)
        self.K = np.zeros((n_samples, 0))
        self.norms = np.zeros(0)
        self.rest = -math.inf
        self.theta0: np.ndarray | None = None

    # ------------------------------------------------------------------ passes
    def full_pass(self, theta: np.ndarray) -> float:
        """One pass over every column at ``theta``: keep the ``M`` best, remember the rest's maximum.
        Returns the exact maximum score over all columns."""
        idx, sc, m = self.source.violators(theta, self.M, -1.0)
        self.n_full_passes += 1
        p = int(self.source.n_columns)
        # every column scores >= 0 > -1, so fewer than M returned means none was left out
        self.rest = float(sc.min()) if (idx.size == self.M and idx.size < p) else -math.inf
        order = np.argsort(idx)
        self.idx = idx[order].astype(np.int64, copy=False)
        self.K = self.source.columns(self.idx)
        self.norms = _col_norms(self.K)
        self.theta0 = np.array(theta, dtype=np.float64, copy=True)
        self.rest_screened = False
        return float(m)

    def price(self, theta: np.ndarray) -> tuple[np.ndarray, float]:
        """Exact scores of the survivors at ``theta`` and the bound over every other column
        (``-inf`` when there is none or it was screened)."""
        S = group_norms(self.K.T @ theta) if self.idx.size else np.zeros(0)
        if self.rest_screened or self.rest == -math.inf:
            return S, -math.inf
        d = float(np.linalg.norm(theta - self.theta0))
        return S, self.rest + self.N * d + self.slack(theta)

    def slack(self, theta: np.ndarray) -> float:
        return ROUNDING * self.N * float(np.linalg.norm(theta))

    @staticmethod
    def max_score(S: np.ndarray, bound: float) -> float:
        return max(float(S.max()) if S.size else 0.0, bound)

    def top(self, S: np.ndarray, k: int, threshold: float, exclude: np.ndarray | None) -> np.ndarray:
        """Up to ``k`` survivors scoring above ``threshold``, not in ``exclude`` (sorted), best first."""
        m = S > threshold
        if exclude is not None and exclude.size:
            m &= ~np.isin(self.idx, exclude, assume_unique=False)
        cand = np.flatnonzero(m)
        if cand.size > k:
            cand = cand[np.argsort(-S[cand], kind="stable")[:k]]
        else:
            cand = cand[np.argsort(-S[cand], kind="stable")]
        return self.idx[cand]

    def columns(self, idx: np.ndarray) -> np.ndarray:
        """``K[:, idx]``, from the survivors' dense columns where possible (no recomputation of
        streamed neurons), else from the source."""
        idx = np.asarray(idx, dtype=np.int64)
        if idx.size == 0 or self.idx.size == 0:
            return self.source.columns(idx)
        pos = np.minimum(np.searchsorted(self.idx, idx), self.idx.size - 1)
        hit = self.idx[pos] == idx
        if hit.all():
            return np.asfortranarray(self.K[:, pos])
        out = np.empty((self.K.shape[0], idx.size), order="F")
        out[:, hit] = self.K[:, pos[hit]]
        out[:, ~hit] = self.source.columns(idx[~hit])
        return out

    # ------------------------------------------------------------------ screening
    def screen(self, theta: np.ndarray, scale: float, S: np.ndarray, bound: float, radius: float) -> np.ndarray:
        """Gap Safe screening at the feasible point ``scale * theta`` with sphere ``radius``.

        Drops, for good, every survivor with ``scale S_j + ||K_j|| radius < lam`` and, when
        ``scale bound + N radius < lam``, every non-survivor.  Returns the dropped survivors.
        """
        eps = self.slack(theta) + ROUNDING * self.N * radius
        if not self.rest_screened and self.rest != -math.inf and scale * bound + self.N * radius + eps < self.lam:
            self.rest_screened = True
        if not self.idx.size:
            return np.zeros(0, dtype=np.int64)
        gone = scale * S + self.norms * radius + eps < self.lam
        if not gone.any():
            return np.zeros(0, dtype=np.int64)
        dropped = self.idx[gone]
        keep = ~gone
        self.idx, self.K, self.norms = self.idx[keep], np.asfortranarray(self.K[:, keep]), self.norms[keep]
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
