"""The solver layer's objects: a Lasso problem over a column source, results, certificates.

A *column source* is anything with

* ``n_columns: int``;
* ``columns(idx) -> (n, len(idx))``: the columns ``K[:, idx]`` as a dense array;
* ``violators(theta, k, threshold, exclude=None) -> (idx, scores, max_score)``: one pricing
  pass over every column with the score ``|K_j^T theta|`` (``||K_j^T Theta||_2`` for a 2-D
  ``theta``).  ``idx`` (int64) holds up to ``k`` columns whose score exceeds ``threshold``
  and that are not in ``exclude`` (a sorted int64 array, or ``None``), by decreasing score
  (ties by increasing index); ``scores`` their scores; ``max_score`` the maximum score over
  ALL columns, the excluded ones included (0 for an empty source).  ``k = 0`` asks for the
  maximum only.

Optional, for pricing that remembers and safe screening (:mod:`wedgenet.solvers.screening`):

* ``max_column_norm() -> float``: an upper bound ``N >= max_j ||K_j||_2`` over ALL columns
  (exact for an explicit matrix; for a streamed dictionary a bound from the data, see
  :meth:`wedgenet.dictionaries.StreamedDictionary.max_column_norm`).  With it the working set
  keeps the top columns of the last full pass (the *survivors*) and bounds every other column
  by ``|K_j^T theta| <= |K_j^T theta_0| + N ||theta - theta_0||`` (Cauchy-Schwarz), so only a
  bound that can exceed ``lam`` triggers a new full pass.  A source without it gets one full
  pass per outer iteration.

Solvers see only that protocol (the certificate takes its maximum dual violation from the
same pass that hands the working set its new columns), so a source never has to hold a
``(p,)`` array: a streamed dictionary can keep a running maximum and a bounded heap of the
``k`` best.  They do not know which theorem built the columns.  :func:`dense_violators`
implements ``violators`` for an explicit matrix.

The problem is the Lasso of docs/conventions.md#objective,

    P(z, t) = L(K z + 1 t; y) + lam * R(z),   R = ||z||_1 or sum_j ||Z_j||_2 (vector output),

which has the same optimal value as the ReLU network objective with the ``(lam/2)`` penalty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from .._linalg import group_norms
from .certificate import Certificate, dual_certificate
from .losses import Loss

__all__ = [
    "ColumnSource",
    "ExplicitColumns",
    "LassoProblem",
    "Certificate",
    "SolverResult",
    "certify",
    "certify_and_price",
    "check_theta",
    "dense_column_norms",
    "dense_max_column_norm",
    "dense_violators",
    "penalty",
]


@runtime_checkable
class ColumnSource(Protocol):
    n_columns: int

    def columns(self, idx: np.ndarray) -> np.ndarray: ...

    def violators(self, theta: np.ndarray, k: int, threshold: float,
                  exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]: ...


class ExplicitColumns:
    """A dense matrix ``K`` as a column source."""

    def __init__(self, K: np.ndarray) -> None:
        self.K = np.asfortranarray(K, dtype=np.float64)
        self.n_columns = int(self.K.shape[1])

    def columns(self, idx: np.ndarray) -> np.ndarray:
        return np.asfortranarray(self.K[:, idx])

    def violators(self, theta: np.ndarray, k: int, threshold: float,
                  exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]:
        """See the module docstring: up to ``k`` columns scoring above ``threshold``, and the max score."""
        return dense_violators(self.K, theta, k, threshold, exclude)

    def price(self, theta: np.ndarray) -> np.ndarray:
        """Every column's score (a ``(p,)`` array; kept for callers outside the solvers)."""
        return price_matrix(self.K, theta)

    def max_column_norm(self) -> float:
        """``max_j ||K_j||_2`` (exact; computed once)."""
        if getattr(self, "_max_norm", None) is None:
            self._max_norm = dense_max_column_norm(self.K, self.column_norms())
        return self._max_norm

    def column_norms(self) -> np.ndarray:
        """Every column's norm ``||K_j||_2`` (exact, overflow-safe; computed once, read-only)."""
        if getattr(self, "_norms", None) is None:
            self._norms = dense_column_norms(self.K)
            self._norms.setflags(write=False)
        return self._norms


def dense_max_column_norm(K: np.ndarray, norms: np.ndarray | None = None) -> float:
    """``max_j ||K_j||_2`` of a dense ``(n, p)`` matrix, overflow-safe (see :func:`dense_column_norms`),
    padded by a relative ``1e-12`` so that it bounds the exact value; ``norms`` are the column norms
    when the caller already has them."""
    if K.size == 0:
        return 0.0
    return float((dense_column_norms(K) if norms is None else norms).max()) * (1.0 + 1e-12)


def dense_column_norms(K: np.ndarray) -> np.ndarray:
    """Every column's norm ``||K_j||_2`` of a dense ``(n, p)`` matrix, overflow-safe.

    Sums of squares accumulate over contiguous row blocks (C order) or column blocks (F order),
    so no temporary of the size of ``K`` is made; columns whose squares overflow or underflow
    are recomputed scaled by their maximum."""
    n, p = K.shape
    if K.size == 0:
        return np.zeros(p)
    blocks = [(slice(s, s + 64), slice(None)) for s in range(0, n, 64)] if K.flags.c_contiguous else \
        [(slice(None), slice(s, s + 4096)) for s in range(0, p, 4096)]
    ss = np.zeros(p)
    for r, c in blocks:  # one pass, unscaled: exact unless a square overflows or underflows
        B = K[r, c]
        ss[c] += np.einsum("ij,ij->j", B, B)
    norms = np.sqrt(ss)
    # a column is suspect when its sum of squares overflowed or may have lost entries to underflow
    bad = np.flatnonzero(~np.isfinite(ss) | ((ss < 1e-250) & (ss >= 0)))
    if bad.size:
        Kb = K[:, bad]
        mx = np.abs(Kb).max(axis=0)
        safe = np.where(mx > 0, mx, 1.0)
        norms[bad] = mx * np.sqrt(np.einsum("ij,ij->j", Kb / safe, Kb / safe))
    return norms


def check_theta(theta: np.ndarray, n: int) -> np.ndarray:
    """``theta`` as float64 with ``n`` rows and finite entries, else ``ValueError``."""
    th = np.asarray(theta, dtype=np.float64)
    if th.ndim not in (1, 2) or th.shape[0] != n:
        raise ValueError(f"theta must have {n} rows; got shape {th.shape}")
    if not np.all(np.isfinite(th)):
        raise ValueError("theta must be finite (a NaN or inf dual point cannot be priced)")
    return th


def price_matrix(K: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """``|K^T theta|`` for a vector ``theta``; row norms ``||K^T Theta||_2`` for a matrix."""
    return group_norms(K.T @ theta)


def dense_violators(K: np.ndarray, theta: np.ndarray, k: int, threshold: float,
                    exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """The column-source ``violators`` of an explicit ``(n, p)`` matrix, vectorised."""
    scores = price_matrix(K, check_theta(theta, K.shape[0]))
    m = float(scores.max()) if scores.size else 0.0
    k = int(k)
    if k <= 0 or not m > threshold:
        return np.zeros(0, dtype=np.int64), np.zeros(0), m
    if exclude is not None and len(exclude):
        scores[np.asarray(exclude, dtype=np.int64)] = -np.inf
    cand = np.flatnonzero(scores > threshold)
    if cand.size > k:  # the k best; at the k-th score, the smallest indices
        sc = scores[cand]
        kth = -np.partition(-sc, k - 1)[k - 1]
        above = cand[sc > kth]
        cand = np.sort(np.concatenate([above, cand[sc == kth][: k - above.size]]))
    order = np.argsort(-scores[cand], kind="stable")  # ties: increasing index (cand is sorted)
    idx = cand[order].astype(np.int64, copy=False)
    return idx, scores[idx], m


def penalty(coef: np.ndarray) -> float:
    """``||z||_1`` for a vector, ``sum_j ||Z_j||_2`` over rows for a matrix."""
    if coef.size == 0:
        return 0.0
    return float(group_norms(coef).sum())


@dataclass(eq=False)
class LassoProblem:
    """``min_z,t L(K z + 1 t; y) + lam R(z)`` over a column source."""

    columns: ColumnSource
    y: np.ndarray
    lam: float
    loss: Loss
    intercept: bool

    @property
    def group(self) -> bool:
        return self.y.ndim == 2

    @property
    def n_samples(self) -> int:
        return int(self.y.shape[0])


@dataclass(eq=False)
class SolverResult:
    """A solution in support form: ``coef[k]`` multiplies column ``support[k]``."""

    support: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray | float
    certificate: Certificate
    converged: bool
    n_iter: int
    solver: str
    theta: np.ndarray = field(repr=False)
    history: list = field(default_factory=list, repr=False)
    #: full pricing passes over every column that the solve made
    n_full_passes: int = 0

    @property
    def objective(self) -> float:
        return self.certificate.primal


def predictions(problem: LassoProblem, support: np.ndarray, coef: np.ndarray, intercept) -> np.ndarray:
    """``K_S coef + 1 t``."""
    n = problem.n_samples
    shape = (n,) if problem.y.ndim == 1 else (n, problem.y.shape[1])
    pred = np.zeros(shape) + intercept
    if support.size:
        pred = pred + problem.columns.columns(support) @ coef
    return pred


def certify(problem: LassoProblem, support: np.ndarray, coef: np.ndarray, intercept,
            theta: np.ndarray | None = None) -> tuple[Certificate, np.ndarray, np.ndarray | float]:
    """Primal value, dual point, dual value and gap of a solution, pricing *every* column.

    With a free intercept, the intercept is first re-fitted for the fixed ``z`` (smooth
    losses; it can only lower the primal), and the dual point is projected onto
    ``1^T theta = 0`` inside the loss's dual domain, so the dual value is a valid lower bound.
    ``theta`` defaults to ``-grad L(pred)`` (a solver may supply its own, e.g. hinge duals).
    Returns the certificate, the dual point and the (possibly re-fitted) intercept.
    """
    cert, theta, intercept, _, _ = certify_and_price(problem, support, coef, intercept, theta)
    return cert, theta, intercept


def certify_and_price(problem: LassoProblem, support: np.ndarray, coef: np.ndarray, intercept,
                      theta: np.ndarray | None = None, *, k: int = 0, threshold: float | None = None,
                      exclude: np.ndarray | None = None):
    """:func:`certify`, plus the source's ``k`` worst violators from the same pricing pass.

    The violators score above ``threshold`` (default ``lam``) at the returned dual point and
    are not in ``exclude``.  Returns ``(certificate, theta, intercept, idx, scores)``.
    """
    primal, theta, intercept = dual_point(problem, support, coef, intercept, theta)
    lam = problem.lam
    idx, scores, m = problem.columns.violators(theta, k, lam if threshold is None else threshold, exclude)
    cert = dual_certificate(problem.loss, problem.y, lam, primal, theta, m, problem.columns.n_columns)
    return cert, theta, intercept, idx, scores


def dual_point(problem: LassoProblem, support: np.ndarray, coef: np.ndarray, intercept,
               theta: np.ndarray | None = None) -> tuple[float, np.ndarray, np.ndarray | float]:
    """``(primal, theta, intercept)``: the primal value (after re-fitting a free intercept) and the
    dual point ``-grad L(pred)`` (or the given ``theta``) projected onto ``1^T theta = 0``."""
    loss = problem.loss
    pred0 = predictions(problem, support, coef, 0.0)
    if problem.intercept:
        intercept = loss.refit_intercept(pred0, problem.y, intercept)
    pred = pred0 + intercept
    primal = loss.value(pred, problem.y) + problem.lam * penalty(coef)
    if theta is None:
        theta = -loss.gradient(pred, problem.y)
    if problem.intercept:
        theta = loss.project_dual(theta, problem.y)
    return primal, theta, intercept
