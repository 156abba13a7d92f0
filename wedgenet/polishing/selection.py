"""Nearest samples and cross products: the polishing step for one layer (paper section 4.1).

For a layer with weights ``W (m, d)`` and biases ``b (m,)`` (or none) applied to samples
``S (n, d)``, every neuron ``w_j`` is replaced by the cross product of the ``r-1`` samples
nearest to its hyperplane, where ``r`` is the rank of the (augmented) samples.

* **Augmentation.** With a bias, samples become ``(x_i, 1)`` and neurons ``(w_j, b_j)``; the new
  neuron then passes *through* its ``r-1`` samples (``x_i . w + b = 0``).
* **Selection (one matrix product).** ``|S_aug W_aug^T|`` for the whole layer at once, then the
  ``r-1`` smallest entries per neuron by ``argpartition``.  The distance reported is the
  Euclidean distance ``|x . w + b| / ||w||`` to the old hyperplane; the ranking only depends on
  ``|x . w + b|``.  Exactly duplicated samples are merged first (zero-padded convolution patches
  are mostly duplicates), and a sample that is linearly dependent on the nearer ones already
  chosen is skipped for the next one (numba kernel :func:`first_independent`), so the ``r-1``
  samples always span an ``(r-1)``-dimensional subspace and the cross product is nonzero.
* **Rank deficiency (Lemma 23).** When ``r < D`` (``D = d`` or ``d+1`` with a bias), for example
  ``d > n``, ReLU activations that live in a subspace, or convolution patches, the cross product
  of ``r-1`` vectors in ``R^D`` is not defined.  We take an orthonormal basis ``V (r, D)`` of the
  row space of the augmented samples (SVD; rank tolerance ``max(n, D) * eps * s_max`` as in
  ``numpy.linalg.matrix_rank``), express the samples in it (``Z = S_aug V^T``, ``(n, r)``), cross
  ``r-1`` rows of ``Z`` in ``R^r``, and map back: ``w_aug = V^T cross(Z_sel)``.  The new neuron
  lies in the row space (the optimal weights have no component outside it) and is orthogonal
  to its samples in ``R^D``.  When ``r = D`` the samples are crossed directly.
* **Spread** (option, ``spread > 0``): independence is measured *inside the old hyperplane*
  (samples projected onto ``w_old^perp``), and a sample is skipped when its residual against the
  span of the chosen ones is below ``spread`` times its norm (all samples are scanned before the
  test is relaxed back to numerical independence).  Near samples that are nearly dependent inside
  the old hyperplane (Boston's clusters with equal feature values, neighbours along a spiral arm)
  otherwise define a hyperplane far from the old one, although each is close to it.
* **Cross products** are batched over the neurons (:func:`wedgenet.cross_from_indices`, tolerance
  0: independence was already checked by the selection).
* **Sign and norm.** The sign makes ``<w_new, w_old> > 0`` in the augmented space (a published
  implementation forgot this and flipped active half-spaces); the scale keeps the penalised
  norm ``||w||_p`` (bias excluded) of the old neuron, or sets it to 1 (``normalize=True``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import as_float_array, check_bool, check_nonneg_float, check_positive_int
from ..algebra import cross_from_indices
from ._kernels import first_independent

__all__ = ["LayerPolish", "row_space", "polish_weights"]

#: a candidate is independent of the chosen samples when its residual exceeds this fraction of its norm
INDEPENDENCE_RTOL = 1e-9


@dataclass
class LayerPolish:
    """Result of polishing one layer (all arrays over the ``m`` neurons)."""

    W: np.ndarray            # (m, d) new weights
    b: np.ndarray | None     # (m,) new biases, None for a layer polished without bias
    samples: np.ndarray      # (m, r-1) defining sample indices (rows of S)
    angle: np.ndarray        # (m,) degrees between old and new (augmented) neurons
    sign_changes: np.ndarray  # (m,) samples whose ReLU activity changed (defining samples excluded)
    max_distance: np.ndarray  # (m,) largest distance of a defining sample to the old hyperplane
    degenerate: np.ndarray   # (m,) old neuron orthogonal to the row space: sign could not be matched
    rank: int
    n_samples: int
    n_unique: int
    dim: int                 # augmented dimension D


def row_space(A: np.ndarray, rank: int | None = None) -> tuple[np.ndarray | None, int]:
    """Orthonormal basis ``V (r, D)`` of the row space of ``A`` and the rank ``r``.

    Returns ``(None, D)`` when ``A`` has full column rank ``D`` (no change of basis needed).
    """
    n, D = A.shape
    if n >= D:
        R = np.linalg.qr(A, mode="r")
        _, s, Vt = np.linalg.svd(R, full_matrices=False)
    else:
        _, s, Vt = np.linalg.svd(A, full_matrices=False)
    if rank is None:
        tol = s[0] * max(n, D) * np.finfo(np.float64).eps if s.size else 0.0
        rank = int(np.sum(s > tol))
    if rank == D:
        return None, D
    return np.ascontiguousarray(Vt[:rank]), rank


def _unique_rows(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the first occurrence of every distinct row (sorted) and their multiplicities."""
    _, first, counts = np.unique(A, axis=0, return_index=True, return_counts=True)
    o = np.argsort(first)
    return first[o], counts[o]


def _select(Z: np.ndarray, dist: np.ndarray, U: np.ndarray, k: int, slack: int, rtol: float) -> np.ndarray:
    """Per neuron (rows of ``dist``), the first ``k`` independent rows of ``Z`` in distance order.

    The ``k + slack`` nearest candidates are scanned first; neurons that do not find ``k`` samples
    there scan every sample, first with ``rtol``, then relaxing it to ``INDEPENDENCE_RTOL``.
    """
    m, nu = dist.shape
    K = min(nu, k + slack)
    if K < nu:
        part = np.argpartition(dist, K - 1, axis=1)[:, :K]
        order = np.take_along_axis(part, np.argsort(np.take_along_axis(dist, part, axis=1), axis=1,
                                                    kind="stable"), axis=1)
        sel, cnt = first_independent(Z, np.ascontiguousarray(order), U, k, rtol, rtol)
    else:
        sel = np.full((m, k), -1, dtype=np.int64)
        cnt = np.zeros(m, dtype=np.int64)
    short = np.flatnonzero(cnt < k)
    if short.size:  # scan all samples for these neurons
        full = np.argsort(dist[short], axis=1, kind="stable")
        sel2, cnt2 = first_independent(Z, np.ascontiguousarray(full), np.ascontiguousarray(U[short]), k, rtol,
                                       INDEPENDENCE_RTOL)
        sel[short], cnt[short] = sel2, cnt2
    if np.any(cnt < k):
        raise RuntimeError(f"could not find {k} independent samples for {int(np.sum(cnt < k))} neurons "
                           "(the rank tolerance and the independence test disagree); pass rank= explicitly")
    return sel


def polish_weights(S: np.ndarray, W: np.ndarray, b: np.ndarray | None, *, rank: int | None = None,
                   normalize: bool = False, p: int = 2, spread: float = 0.0) -> LayerPolish:
    """Polish the neurons ``(W, b)`` on samples ``S`` (see the module docstring).

    ``S`` ``(n, d)`` samples, ``W`` ``(m, d)`` weights, ``b`` ``(m,)`` biases or ``None`` for
    hyperplanes through the origin; ``rank`` (default: numerical rank) the dimension of the
    samples' span, ``p`` in {1, 2} the norm kept when ``normalize`` is False, ``spread`` in
    ``[0, 1)`` (see :func:`wedgenet.polish`).  Bad input raises ``ValueError`` naming it.
    BLAS runs single-threaded here: its idle threads spin and starve the parallel numba kernels
    that follow each matrix product (several times slower on a loaded 2-core machine).
    """
    S, W, b, rank, normalize, p, spread = _check_polish_inputs(S, W, b, rank, normalize, p, spread)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        return _polish_weights(S, W, b, rank=rank, normalize=normalize, p=p, spread=spread)


def _check_polish_inputs(S, W, b, rank, normalize, p, spread):
    S = as_float_array("S", S, ndim=2)
    if S.shape[1] == 0:
        raise ValueError(f"S must have at least one feature; got shape {S.shape}")
    W = as_float_array("W", W, ndim=2, allow_empty=True)
    if W.shape[1] != S.shape[1]:
        raise ValueError(f"W must have {S.shape[1]} columns (the features of S); got shape {W.shape}")
    if b is not None:
        b = as_float_array("b", b, ndim=1, allow_empty=True)
        if b.shape[0] != W.shape[0]:
            raise ValueError(f"b must have {W.shape[0]} entries (the rows of W); got {b.shape[0]}")
    if rank is not None:
        rank = check_positive_int("rank", rank)
    normalize = check_bool("normalize", normalize)
    if isinstance(p, bool) or p not in (1, 2):
        raise ValueError(f"p must be 1 or 2; got {p!r}")
    spread = check_nonneg_float("spread", spread)
    if spread >= 1:
        raise ValueError(f"spread must be in [0, 1); got {spread!r}")
    return np.ascontiguousarray(S), np.ascontiguousarray(W), b, rank, normalize, int(p), spread


def _polish_weights(S: np.ndarray, W: np.ndarray, b: np.ndarray | None, *, rank: int | None,
                    normalize: bool, p: int, spread: float) -> LayerPolish:
    n, d = S.shape
    m = W.shape[0]
    biased = b is not None
    Xa = np.hstack([S, np.ones((n, 1))]) if biased else S
    Wa = np.hstack([W, b[:, None]]) if biased else W
    D = Xa.shape[1]
    keep, counts = _unique_rows(Xa)
    Xu = np.ascontiguousarray(Xa[keep])
    nu = Xu.shape[0]
    if rank is not None and rank > min(nu, D):
        raise ValueError(f"rank={rank} exceeds the rank bound min(n_distinct_samples, dim) = {min(nu, D)}")
    V, r = row_space(Xu, rank)
    Z = Xu if V is None else np.ascontiguousarray(Xu @ V.T)
    k = r - 1
    # step 1: one matrix product for the whole layer
    P_old = Wa @ Xu.T                                   # (m, nu) pre-activations on distinct samples
    wn = np.linalg.norm(W, axis=1)
    scale = np.where(wn > 0, wn, np.maximum(np.linalg.norm(Wa, axis=1), 1e-300))
    dist = np.abs(P_old) / scale[:, None]
    # steps 2-3: nearest independent samples, batched cross products
    if k == 0:
        sel = np.zeros((m, 0), dtype=np.int64)
        C = np.ones((m, 1))
    else:
        # independence is measured inside the old hyperplane (samples projected onto w_old^perp)
        U = Wa if V is None else Wa @ V.T
        U = U / np.maximum(np.linalg.norm(U, axis=1, keepdims=True), 1e-300)
        sel = _select(Z, dist, np.ascontiguousarray(U), k, slack=max(16, k // 2),
                      rtol=max(spread, INDEPENDENCE_RTOL))
        C = cross_from_indices(Z, sel, rtol=0.0)
    Wn = C if V is None else C @ V
    dots = np.einsum("ij,ij->i", Wn, Wa)
    degenerate = dots == 0
    sgn = np.where(dots < 0, -1.0, 1.0)
    wpart = Wn[:, :d]
    new_norm = np.linalg.norm(wpart, ord=p, axis=1)
    old_norm = np.linalg.norm(W, ord=p, axis=1)
    target = np.ones(m) if normalize else np.where(old_norm > 0, old_norm, 1.0)
    Wn = Wn * (sgn * target / np.where(new_norm > 0, new_norm, 1.0))[:, None]
    # statistics
    cosang = np.einsum("ij,ij->i", Wn, Wa) / np.maximum(np.linalg.norm(Wn, axis=1) * np.linalg.norm(Wa, axis=1),
                                                         1e-300)
    angle = np.degrees(np.arccos(np.clip(cosang, -1.0, 1.0)))
    P_new = Wn @ Xu.T
    xn = np.linalg.norm(Xu, axis=1)
    thr_old = 1e-12 * xn[None, :] * np.linalg.norm(Wa, axis=1)[:, None]
    thr_new = 1e-12 * xn[None, :] * np.linalg.norm(Wn, axis=1)[:, None]
    changed = (P_old > thr_old) != (P_new > thr_new)
    rows = np.arange(m)[:, None]
    changed[rows, sel] = False
    sign_changes = changed.astype(np.int64) @ counts
    max_distance = np.take_along_axis(dist, sel, axis=1).max(axis=1) if k else np.zeros(m)
    samples = keep[sel]
    return LayerPolish(W=np.ascontiguousarray(Wn[:, :d]), b=Wn[:, d].copy() if biased else None,
                       samples=samples, angle=angle, sign_changes=sign_changes, max_distance=max_distance,
                       degenerate=degenerate, rank=r, n_samples=n, n_unique=nu, dim=D)
