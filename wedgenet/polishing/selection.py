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
* **Units.** Features are divided by their largest magnitude and
  rows are scaled to unit norm before any product (:func:`equilibrate`, :func:`unit_rows`): the
  hyperplanes chosen do not depend on the units of the features, from 1e-150 to 1e150.
* **Sign and norm.** The sign makes the new neuron agree with the old one on the training
  samples, ``sum_i (x_i . w_old + b_old)(x_i . w_new + b_new) > 0`` (a published implementation
  forgot the sign and flipped active half-spaces); the scale keeps the penalised norm
  ``||w||_p`` (bias excluded) of the old neuron, or sets it to 1 (``normalize=True``).  Below
  full rank the neuron takes, among those that agree with it on every sample, the one of least
  weight norm ``||w||_2`` in the units of the samples, the bias excluded (:func:`min_weight_norm`:
  the component outside the row space costs penalty and changes nothing on the samples).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._linalg import row_norms, unit_rows
from .._linalg import row_space as _row_space
from .._validation import as_float_array, check_bool, check_nonneg_float, check_positive_int
from ..algebra import cross_from_indices
from ._kernels import first_independent

__all__ = ["LayerPolish", "SampleSpace", "row_space", "polish_weights", "prepare_samples", "snap", "equilibrate",
           "vertex_selections", "min_weight_norm"]

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

    Returns ``(None, D)`` when ``A`` has full column rank ``D`` (no change of basis needed);
    otherwise :func:`wedgenet._linalg.row_space` (numpy's ``matrix_rank`` tolerance).
    """
    V, rank = _row_space(A, rank=rank)
    if rank == A.shape[1]:
        return None, rank
    return V, rank


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
    short = np.flatnonzero(cnt < k)
    if short.size:  # independence inside the old hyperplane failed: plain numerical independence
        full = np.argsort(dist[short], axis=1, kind="stable")
        sel2, cnt2 = first_independent(Z, np.ascontiguousarray(full), np.zeros((short.size, Z.shape[1])), k,
                                       INDEPENDENCE_RTOL, INDEPENDENCE_RTOL)
        sel[short], cnt[short] = sel2, cnt2
    if np.any(cnt < k):
        raise ValueError(f"polish: only {int(cnt.min())} of the {k} samples each neuron needs are independent "
                         f"(to 1e-9) for {int(np.sum(cnt < k))} neurons: the samples are nearly rank-deficient; "
                         f"pass rank={int(cnt.min()) + 1} or lower")
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


@dataclass
class SampleSpace:
    """The samples of one layer prepared once for every snap (all candidate rules share it).

    ``scale`` are the per-feature column scales (max |S_:i|, 1 for an all-zero column): the
    geometry is computed on ``S / scale`` with neurons ``w * scale`` (the same hyperplanes, see
    :func:`equilibrate`), so selection and crossing do not depend on the units of the features.
    """

    Xu: np.ndarray           # (nu, D) distinct augmented samples, equilibrated
    keep: np.ndarray         # (nu,) row of S of each distinct sample
    counts: np.ndarray       # (nu,) multiplicities
    V: np.ndarray | None     # (r, D) row-space basis, None at full rank
    Z: np.ndarray            # (nu, r) distinct samples in the row-space basis, rows of unit norm
    rank: int
    scale: np.ndarray        # (d,) feature scales
    biased: bool
    n: int
    d: int


def equilibrate(S: np.ndarray) -> np.ndarray:
    """Per-feature scales ``c_i = max_k |S_ki|`` (1 for a zero column).

    A neuron ``(w, b)`` on ``S`` is the same hyperplane as ``(w * c, b)`` on ``S / c``, and
    ``S / c`` is the same (to rounding) whatever the units of each feature, so the selection is
    invariant to per-feature and overall scales over the whole float64 range.
    """
    c = np.max(np.abs(S), axis=0) if S.shape[0] else np.ones(S.shape[1])
    return np.where((c > 0) & np.isfinite(c), c, 1.0)


def prepare_samples(S: np.ndarray, biased: bool, rank: int | None = None) -> SampleSpace:
    """Equilibrate, augment with the column of ones, merge duplicates and find the row space."""
    n, d = S.shape
    scale = equilibrate(S)
    Se = S / scale
    Xa = np.hstack([Se, np.ones((n, 1))]) if biased else Se
    D = Xa.shape[1]
    keep, counts = _unique_rows(Xa)
    Xu = np.ascontiguousarray(Xa[keep])
    nu = Xu.shape[0]
    if rank is not None and rank > min(nu, D):
        raise ValueError(f"rank={rank} exceeds the rank bound min(n_distinct_samples, dim) = {min(nu, D)}")
    V, r = row_space(Xu, rank)
    Z = unit_rows(Xu if V is None else Xu @ V.T)
    if rank is None:
        # The selection accepts a sample only when its residual against the chosen ones exceeds
        # INDEPENDENCE_RTOL of its norm; singular values between numpy's rank tolerance (~1e-15) and
        # that level (samples equal up to 1e-12, say) would count in the rank and yet never pass
        # it.  The rank is the number of samples that pass it in turn (at most the SVD's rank).
        for _ in range(2):
            _, cnt = first_independent(Z, np.arange(Z.shape[0], dtype=np.int64)[None, :],
                                       np.zeros((1, Z.shape[1])), r, INDEPENDENCE_RTOL, INDEPENDENCE_RTOL)
            if int(cnt[0]) >= r:
                break
            V, r = row_space(Xu, max(int(cnt[0]), 1))
            Z = unit_rows(Xu if V is None else Xu @ V.T)
    return SampleSpace(Xu=Xu, keep=keep, counts=counts, V=V, Z=np.ascontiguousarray(Z), rank=r,
                       scale=scale, biased=biased, n=n, d=d)


def _polish_weights(S: np.ndarray, W: np.ndarray, b: np.ndarray | None, *, rank: int | None,
                    normalize: bool, p: int, spread: float) -> LayerPolish:
    return snap(prepare_samples(S, b is not None, rank), W, b, normalize=normalize, p=p, spread=spread)


def snap(sp: SampleSpace, W: np.ndarray, b: np.ndarray | None, *, normalize: bool = False, p: int = 2,
         spread: float = 0.0, order: str = "distance", sel: np.ndarray | None = None) -> LayerPolish:
    """Snap the neurons ``(W, b)`` onto cross products of samples of ``sp`` (one candidate rule).

    ``order="distance"`` ranks samples by ``|x . w + b|`` (the paper's nearest samples);
    ``order="angle"`` by ``|x . w + b| / ||(x, 1)||`` in the equilibrated coordinates (nearest in
    angle, which prefers samples far from the origin).  ``spread`` as in :func:`wedgenet.polish`.
    ``sel`` ``(m, r-1)``: rows of ``sp.Xu`` chosen elsewhere (e.g. :func:`vertex_selections`);
    the selection step is then skipped.
    """
    m = W.shape[0]
    d = sp.d
    biased = sp.biased
    Xu, Z, V, r = sp.Xu, sp.Z, sp.V, sp.rank
    We = W * sp.scale                                   # the same hyperplanes on S / scale
    Wa = np.hstack([We, b[:, None]]) if biased else We
    Wa_u = unit_rows(Wa)                                # direction only: no overflow in the products
    k = r - 1
    # step 1: one matrix product for the whole layer
    P_old = Wa_u @ Xu.T                                 # (m, nu) pre-activations (unit neurons)
    rank_key = np.abs(P_old)
    if order == "angle":
        rank_key = rank_key / np.maximum(row_norms(Xu), 1e-300)[None, :]
    # steps 2-3: nearest independent samples, batched cross products of unit rows
    if k == 0:
        sel = np.zeros((m, 0), dtype=np.int64)
        C = np.ones((m, 1))
    elif sel is not None:
        C = unit_rows(cross_from_indices(Z, sel, rtol=0.0))
    else:
        # independence is measured inside the old hyperplane (samples projected onto w_old^perp)
        U = unit_rows(Wa_u if V is None else Wa_u @ V.T)
        sel = _select(Z, rank_key, np.ascontiguousarray(U), k, slack=max(16, k // 2),
                      rtol=max(spread, INDEPENDENCE_RTOL))
        C = unit_rows(cross_from_indices(Z, sel, rtol=0.0))
    Wn = unit_rows(C if V is None else C @ V)           # unit augmented neurons in equilibrated coordinates
    # sign: the new neuron agrees with the old one on the training samples (sum of products of the
    # pre-activations, a unit-free criterion); ties fall back to the equilibrated inner product
    dots = ((Wn @ Xu.T) * P_old) @ sp.counts
    dots = np.where(dots == 0, np.einsum("ij,ij->i", Wn, Wa_u), dots)
    degenerate = dots == 0
    Wn = Wn * np.where(dots < 0, -1.0, 1.0)[:, None]
    cosang = np.einsum("ij,ij->i", Wn, Wa_u)
    # back to the units of S: w = w_e / scale (then the requested norm, computed scale-safely)
    if V is not None:  # below full rank: the representative of least ||w||_2 in the units of S
        Wn = min_weight_norm(Wn, V, sp.scale)
    Wo = np.hstack([Wn[:, :d] / sp.scale, Wn[:, d:]])
    wpart = Wo[:, :d]
    bpart = Wo[:, d].copy() if biased else None
    new_norm = row_norms(wpart, p)
    old_norm = row_norms(W, p)
    target = np.ones(m) if normalize else np.where(old_norm > 0, old_norm, 1.0)
    f = target / np.where(new_norm > 0, new_norm, 1.0)
    Wout = wpart * f[:, None]
    bout = None if bpart is None else bpart * f
    # statistics: the angle between old and new (w, b) in the equilibrated (unit-free) coordinates
    Wa_old_s = unit_rows(np.hstack([W, b[:, None]]) if biased else W)
    We_new = Wout * sp.scale
    Wa_new_e = unit_rows(np.hstack([We_new, bout[:, None]]) if biased else We_new)
    cos_e = np.einsum("ij,ij->i", Wa_u, Wa_new_e)
    cos_e = np.where(np.isfinite(cos_e), cos_e, cosang)
    angle = np.degrees(np.arccos(np.clip(cos_e, -1.0, 1.0)))
    P_new = Wn @ Xu.T
    xn = row_norms(Xu)
    changed = (P_old > 1e-12 * xn[None, :]) != (P_new > 1e-12 * xn[None, :])
    rows = np.arange(m)[:, None]
    changed[rows, sel] = False
    sign_changes = changed.astype(np.int64) @ sp.counts
    # distance of a defining sample to the old hyperplane, in the units of S (|x . w + b| / ||w||)
    wn_old = row_norms(W)
    dist_scale = np.where(wn_old > 0, 1.0 / np.maximum(row_norms(Wa_old_s[:, :d]), 1e-300), 1.0)
    raw = np.abs(np.einsum("ijk,ik->ij", _rows_of(sp, sel), Wa_old_s)) if k else np.zeros((m, 0))
    max_distance = (raw.max(axis=1) * dist_scale) if k else np.zeros(m)
    samples = sp.keep[sel]
    return LayerPolish(W=np.ascontiguousarray(Wout), b=bout, samples=samples, angle=angle,
                       sign_changes=sign_changes, max_distance=max_distance, degenerate=degenerate, rank=r,
                       n_samples=sp.n, n_unique=Xu.shape[0], dim=Xu.shape[1])


def min_weight_norm(Wn: np.ndarray, V: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Among the neurons that agree with ``Wn`` on every sample, the one of least weight norm.

    ``Wn`` ``(m, D)`` augmented neurons and ``V`` ``(r, D)`` an orthonormal basis of the row space of
    the (augmented) samples, both in the equilibrated coordinates (features divided by ``scale``);
    ``D - d`` is 1 with a bias, 0 without.  Adding ``N t`` (``N`` a basis of the null space of the
    samples) changes nothing on the samples; ``t`` minimises the Euclidean norm of the weights in the
    units of ``S``, ``||(Wn + N t)[:d] / scale||_2``, the bias excluded (it is not penalised).  The
    weights ``1 / scale`` are divided by their largest value, so this is computed without overflow,
    and the minimiser is the same for ``S`` and ``c S`` (``c > 0``): the choice does not depend on the
    units of the data (with a bias, projecting ``(w, b)`` as a whole onto the row space would: ``b``
    does not scale with ``w``).  Without a bias this is the orthogonal projection of ``w`` onto the
    row space of ``S``.
    """
    d = scale.shape[0]
    D, r = Wn.shape[1], V.shape[0]
    if r >= D:
        return Wn
    # null-space basis: the complement of the row space (the trailing columns of a full QR of V^T)
    N = np.linalg.qr(V.T, mode="complete")[0][:, r:]
    omega = np.min(scale) / scale
    M = omega[:, None] * N[:d]                       # (d, D - r): full column rank (a null vector has w != 0)
    t = np.linalg.lstsq(M, -(Wn[:, :d] * omega).T, rcond=None)[0]   # (D - r, m)
    return Wn + (N @ t).T


def _rows_of(sp: SampleSpace, sel: np.ndarray) -> np.ndarray:
    """The defining samples ``(m, k, D)`` in the units of ``S`` (augmented with 1 when biased)."""
    X = sp.Xu[sel]
    X[..., :sp.d] *= sp.scale
    return X


def vertex_selections(sp: SampleSpace, W: np.ndarray, b: np.ndarray | None, *, top: int = 3,
                      max_subsets: int = 64, max_flops: float = 3e8) -> list[np.ndarray]:
    """The ``top`` vertices nearest in angle to each neuron among subsets of its nearest samples.

    A short local search on the vertex that the neuron lies nearest: the ``K`` samples nearest to
    its hyperplane (``K = r - 1 + e``, ``e`` the largest with ``C(K, e) <= max_subsets``) give
    ``C(K, r-1)`` subsets; each subset's cross product is a vertex of the arrangement of the
    samples (a candidate neuron), and the ``top`` vertices at the smallest angle to the old neuron
    (in the equilibrated coordinates) are returned, best first, as ``(m, r-1)`` index arrays into
    ``sp.Xu``.  Dependent subsets (cross product 0) are never chosen before independent ones.
    Returns ``[]`` when the cross products would cost more than ``max_flops`` (wide layers in
    high dimension: the other rules remain).
    """
    from itertools import combinations
    from math import comb

    m = W.shape[0]
    k = sp.rank - 1
    nu = sp.Xu.shape[0]
    if k <= 0 or m == 0 or nu <= k:
        return []
    e = 1
    while k + e + 1 <= nu and comb(k + e + 1, e + 1) <= max_subsets:
        e += 1
    K = min(nu, k + e)
    if comb(K, k) < 2 or m * comb(K, k) * (k + 1) ** 3 > max_flops:
        return []  # one subset only, or too costly (about m * C(K, k) * r^3 flops for the cross products)
    We = W * sp.scale
    Wa_u = unit_rows(np.hstack([We, b[:, None]]) if b is not None else We)
    U = Wa_u if sp.V is None else unit_rows(Wa_u @ sp.V.T)
    dist = np.abs(Wa_u @ sp.Xu.T)
    near = np.argpartition(dist, K - 1, axis=1)[:, :K] if K < nu else np.tile(np.arange(nu), (m, 1))
    subs = np.array(list(combinations(range(K), k)), dtype=np.int64)           # (T, k)
    T = subs.shape[0]
    idx = near[:, subs].reshape(m * T, k)                                       # (m*T, k)
    C = unit_rows(cross_from_indices(sp.Z, idx))                                # rtol default: 0 when dependent
    cos = np.abs(np.einsum("itj,ij->it", C.reshape(m, T, -1), U))               # sign is fixed later
    best = np.argsort(-cos, axis=1, kind="stable")[:, :min(top, T)]
    return [np.ascontiguousarray(near[np.arange(m)[:, None], subs[best[:, t]]]) for t in range(best.shape[1])]
