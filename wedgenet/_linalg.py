"""Small linear-algebra concepts used across the package, each written once here.

* :func:`row_norms`: ``||A_i||_p`` of every row, without overflow or underflow;
* :func:`group_norms`: the magnitude of every coefficient group, ``|c_j|`` for a vector and
  ``||C_j||_2`` for the rows of a matrix (the group-Lasso penalty's terms, the pricing scores);
* :func:`unit_rows`: every row divided by its 2-norm, without overflow or underflow;
* :func:`relu_layer` and :func:`wedge_hidden`: the forward pass of a ReLU layer
  ``(X W^T + b)_+`` and of a wedge network's hidden layer (depth 2 or 3);
* :func:`row_space`: an orthonormal basis of the row space of a matrix and its rank;
* :func:`caratheodory_reduce`: fewer nonnegative weights with the same combination and sum (the
  neuron pruning of :meth:`wedgenet.WedgeNetwork.prune` and of the exact program).

Leaf module: numpy only, importable from every room (``solvers`` included).
"""

from __future__ import annotations

import numpy as np

__all__ = ["caratheodory_reduce", "group_norms", "relu_layer", "row_norms", "row_space", "unit_rows", "wedge_hidden"]


def row_norms(A: np.ndarray, p: float = 2) -> np.ndarray:
    """``||A_i||_p`` for every row ``i`` of a 2-D ``A`` (shape ``(n,)``), for ``p`` in ``{1, 2, inf}``
    or any order ``numpy.linalg.norm`` accepts.

    Each row is first scaled by the power of two ``2^-e_i`` that brings its largest |entry| into
    ``[0.5, 1)``: exact, so the result has the bits of ``numpy.linalg.norm(A, ord=p, axis=1)``
    whenever that neither overflows nor underflows, and is correct at every other scale of
    float64 too (``||[1e200, 1e200]|| = 1.41e200``, ``||[1e-200, 1e-200]|| = 1.41e-200``).
    Zero rows (and rows of no entries) give 0.
    """
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2:
        raise ValueError(f"A must be 2-D; got shape {A.shape}")
    if A.shape[1] == 0:
        return np.zeros(A.shape[0])
    amax = np.max(np.abs(A), axis=1)
    e = np.frexp(amax)[1]
    e = np.where(np.isfinite(amax), e, 0)
    return np.ldexp(np.linalg.norm(np.ldexp(A, -e[:, None]), ord=p, axis=1), e)


def group_norms(coef: np.ndarray) -> np.ndarray:
    """Group magnitudes of coefficients: ``|c_j|`` for a vector ``c``, ``||C_j||_2`` (scale-safe,
    :func:`row_norms`) for the rows of a matrix ``C``."""
    coef = np.asarray(coef, dtype=np.float64)
    return np.abs(coef) if coef.ndim == 1 else row_norms(coef)


def unit_rows(A: np.ndarray) -> np.ndarray:
    """Rows of a 2-D ``A`` divided by their 2-norms, without overflow or underflow (each row is
    first divided by its largest |entry|); zero rows stay zero."""
    A = np.asarray(A, dtype=np.float64)
    mx = np.max(np.abs(A), axis=1, keepdims=True) if A.shape[1] else np.ones((A.shape[0], 1))
    B = A / np.where(mx > 0, mx, 1.0)
    nb_ = np.linalg.norm(B, axis=1, keepdims=True)
    return B / np.where(nb_ > 0, nb_, 1.0)


def relu_layer(X: np.ndarray, W: np.ndarray, b: np.ndarray | float | None = None) -> np.ndarray:
    """One ReLU layer: ``(X W^T + b)_+`` for inputs ``X`` ``(n, d)``, weights ``W`` ``(m, d)`` and
    biases ``b`` ``(m,)`` (``None``: no bias); shape ``(n, m)``."""
    Z = X @ W.T
    if b is not None:
        Z = Z + b
    return np.maximum(Z, 0.0)


def wedge_hidden(X: np.ndarray, W: np.ndarray, b: np.ndarray | None, outer_sign: np.ndarray | None = None,
                 thresholds: np.ndarray | None = None) -> np.ndarray:
    """Hidden features of a wedge network (and the columns of its dictionary): ``H = (X W^T + b)_+``
    for depth 2; for depth 3 (``outer_sign`` and ``thresholds`` given) ``(s_j (H_j - t_j))_+``."""
    H = relu_layer(X, W, b)
    if outer_sign is not None:
        H = np.maximum(outer_sign * (H - thresholds), 0.0)
    return H


def row_space(A: np.ndarray, *, rtol: float | None = None, rank: int | None = None) -> tuple[np.ndarray, int]:
    """Orthonormal basis ``V`` ``(r, D)`` of the row space of ``A`` ``(n, D)``, and its rank ``r``.

    From the SVD ``A = U S V^T`` (of the ``D x D`` factor ``R`` of ``A = Q R`` when ``n >= D``, so
    no ``n x D`` factor is formed): ``r`` is the number of singular values above
    ``rtol * s_max``, with ``rtol = max(n, D) * eps`` by default (numpy's ``matrix_rank``
    rule), unless ``rank`` is given.  A zero matrix has rank 0.
    """
    n, D = A.shape
    if n >= D and n:
        _, s, Vt = np.linalg.svd(np.linalg.qr(A, mode="r"), full_matrices=False)
    else:
        _, s, Vt = np.linalg.svd(A, full_matrices=False)
    if rank is None:
        if s.size == 0 or s[0] == 0.0:
            rank = 0
        else:
            tol = (max(n, D) * np.finfo(np.float64).eps) if rtol is None else rtol
            rank = int(np.sum(s > tol * s[0]))
    return np.ascontiguousarray(Vt[:rank]), rank


def caratheodory_reduce(G: np.ndarray, c: np.ndarray, *, rank_rtol: float,
                        drop_rtol: float) -> tuple[np.ndarray, np.ndarray]:
    """Fewer nonnegative weights with the same combination ``G c`` and the same sum ``sum(c)``.

    While the columns of ``[G; 1]`` (``G`` ``(n, K)``) in use are linearly dependent (rank by
    singular values above ``rank_rtol * s_max``), move ``c`` along a null vector ``delta``
    (``G delta = 0``, ``sum(delta) = 0``) until a weight reaches zero; weights at or below
    ``drop_rtol * max(c)`` are dropped.  Carathéodory's theorem: at most ``rank [G; 1]``
    columns remain.  Returns the kept column indices and the new weights ``c`` (``(K,)``, a copy).
    """
    c = np.array(c, dtype=np.float64)
    keep = np.flatnonzero(c > 0)
    while keep.size > 1:
        M = np.vstack([G[:, keep], np.ones((1, keep.size))])
        _, sv, vt = np.linalg.svd(M, full_matrices=True)
        rank = int(np.sum(sv > rank_rtol * sv[0]))
        if rank >= keep.size:
            break
        delta = vt[-1]
        if not np.any(delta > 0):
            delta = -delta
        pos = delta > 1e-14 * np.abs(delta).max()
        step = np.min(c[keep][pos] / delta[pos])
        c[keep] = c[keep] - step * delta
        keep = keep[c[keep] > drop_rtol * c[keep].max()]
    return keep, c
