"""Tune, then snap again: new sample-defined candidates from a fine-tuned network.

Column generation for the union Lasso of the default polish (:mod:`wedgenet.polishing.objective`,
last hidden layer): the Lasso's solution over the candidates is an all-sample-defined network;
a few Adam steps on the training objective move its neurons off the vertices towards better
neurons, and the vertices nearest to the tuned neurons (every candidate rule,
:func:`~wedgenet.polishing.choice.candidate_snaps`) are new candidates, priced by the next Lasso.
This is what :func:`wedgenet.beyond.fit_beyond` does with its restricted network
(``polish_seeds``), on the polished layer's inputs ``S`` (earlier layers fixed).

The Adam steps (:func:`_adam`, step :data:`TUNE_LR`, full batch) minimise

    L(relu(S W^T + 1 b^T) A^T + 1 t^T; y) + (lam/2) (sum_j ||w_j||_p^2 + ||A||_F^2)

with ``G = dL/df`` ``(n, c)``, ``Z = S W^T + 1 b^T`` and ``B = (G A) * [Z > 0]``:
``dA = G^T relu(Z) + lam A``, ``dt = 1^T G``, ``dW = B^T S + lam grad(||w||_p^2 / 2)`` (``w`` for
``p = 2``, ``||w||_1 sign(w)`` for ``p = 1``), ``db = 1^T B``.  The work is bounded: a fixed
number of steps per round (:data:`TUNE_STEPS`), skipped above :data:`TUNE_MAX_WORK`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .._linalg import row_norms
from .choice import candidate_snaps
from .selection import LayerPolish, SampleSpace

__all__ = ["TUNE_STEPS", "TUNE_LR", "TUNE_MAX_WORK", "tune_work", "tuned_snaps"]

#: Adam steps per round of tuning
TUNE_STEPS = 100
#: Adam's step size (the objective's units are those of the loss; the data are the layer's inputs)
TUNE_LR = 1e-3
#: tuning is skipped when ``TUNE_STEPS * n * d * m`` (about the flops of one round) exceeds this
TUNE_MAX_WORK = 5e10
_B1, _B2, _EPS = 0.9, 0.999, 1e-8


def _adam(S: np.ndarray, W: np.ndarray, b: np.ndarray | None, A: np.ndarray, t: np.ndarray | None,
          free: np.ndarray, grad: Callable[[np.ndarray], np.ndarray], lam: float, p: int, steps: int,
          lr: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray | None]:
    """``steps`` Adam steps on the free rows of ``(W, b)``, ``A`` and ``t`` (see the module docstring)."""
    params = [W.copy(), None if b is None else b.copy(), A.copy(), None if t is None else t.copy()]
    mom = [None if q is None else np.zeros_like(q) for q in params]
    vel = [None if q is None else np.zeros_like(q) for q in params]
    fm = free.astype(np.float64)
    for it in range(1, steps + 1):
        W_, b_, A_, t_ = params
        Z = S @ W_.T
        if b_ is not None:
            Z += b_
        H = np.maximum(Z, 0.0)
        f = H @ A_.T
        if t_ is not None:
            f += t_
        G = grad(f)                                           # (n, c)
        B = (G @ A_) * (Z > 0)                                # (n, m)
        pen = W_ if p == 2 else np.abs(W_).sum(axis=1, keepdims=True) * np.sign(W_)
        grads = [(B.T @ S + lam * pen) * fm[:, None], None if b_ is None else B.sum(axis=0) * fm,
                 G.T @ H + lam * A_, None if t_ is None else G.sum(axis=0)]
        c1, c2 = 1.0 - _B1**it, 1.0 - _B2**it
        for i, g in enumerate(grads):
            if g is None:
                continue
            mom[i] = _B1 * mom[i] + (1 - _B1) * g
            vel[i] = _B2 * vel[i] + (1 - _B2) * g * g
            params[i] = params[i] - lr * (mom[i] / c1) / (np.sqrt(vel[i] / c2) + _EPS)
    return params[0], params[1], params[2], params[3]


def _row(c: LayerPolish, i: int) -> dict:
    """Row ``i`` of a candidate snap (its weights and statistics)."""
    return {"W": c.W[i].copy(), "b": None if c.b is None else float(c.b[i]), "samples": c.samples[i].copy(),
            "angle": float(c.angle[i]), "sign_changes": int(c.sign_changes[i]),
            "max_distance": float(c.max_distance[i]), "degenerate": bool(c.degenerate[i]), "rank": c.rank,
            "n_samples": c.n_samples, "n_unique": c.n_unique, "dim": c.dim}


def tune_work(m: int, n: int, d: int) -> float:
    """``TUNE_STEPS * n * d * m``: the work of one round, compared with :data:`TUNE_MAX_WORK`."""
    return float(TUNE_STEPS) * n * d * m


def tuned_snaps(S: np.ndarray, sp: SampleSpace, Hall: np.ndarray, zeta: np.ndarray, intercept, cands: list,
                m: int, *, lam: float, p: int, normalize: bool, grad: Callable[[np.ndarray], np.ndarray],
                steps: int | None = None, lr: float | None = None) -> dict[int, list[tuple[str, dict]]]:
    """Tune the sample-defined network of the union Lasso, then snap its neurons again.

    The columns the Lasso uses (column ``c = block * m + i``: candidate ``cands[block]`` of trained
    neuron ``i``) are a network: unit neuron ``u_c`` balanced with its coefficient ``zeta_c``
    (``w = sqrt(||zeta_c||) u_c``, ``a = zeta_c / sqrt(||zeta_c||)``).  Every parameter is tuned by
    ``steps`` Adam steps on the training objective (:func:`_adam`), and every tuned neuron is
    snapped by each candidate rule (:func:`~wedgenet.polishing.choice.candidate_snaps`): the tuned
    network left the vertices, and the vertices nearest to it are new candidates of trained
    neuron ``i`` (as :func:`wedgenet.beyond.fit_beyond` snaps Adam runs from its restricted
    network).  Returns ``{i: [(rule, row), ...]}`` (rows as :func:`_row`).
    """
    R = Hall.shape[1]
    Z = zeta.reshape(R, -1)
    mag = row_norms(Z)
    Wu, bu, origin, keep = [], [], [], []
    for c in np.flatnonzero(mag > 0):
        blk, i = divmod(int(c), m)
        lp = cands[blk][1]
        nrm = float(row_norms(lp.W[i:i + 1], p)[0])
        if not nrm > 0:
            continue
        g = np.sqrt(mag[c])
        Wu.append(lp.W[i] / nrm * g)
        bu.append(0.0 if lp.b is None else float(lp.b[i]) / nrm * g)
        origin.append(i)
        keep.append(c)
    if not Wu:
        return {}
    W = np.array(Wu)
    b = None if cands[0][1].b is None else np.array(bu)
    g = np.sqrt(mag[keep])
    A = (Z[keep] / g[:, None]).T                                   # (c, q)
    t = None if intercept is None else np.atleast_1d(np.asarray(intercept, dtype=np.float64)).copy()
    Wt, bt, _, _ = _adam(S, W, b, A, t, np.ones(W.shape[0], dtype=bool), grad, lam, p,
                         TUNE_STEPS if steps is None else steps, TUNE_LR if lr is None else lr)
    out: dict[int, list[tuple[str, dict]]] = {}
    for name, c in candidate_snaps(sp, Wt, bt, p=p, normalize=normalize):
        for q, i in enumerate(origin):
            out.setdefault(i, []).append((f"tuned {name}", _row(c, q)))
    return out
