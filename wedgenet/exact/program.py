"""The exact convex program for two-layer ReLU networks (Pilanci & Ergen 2020, eq. 8).

Non-convex training problem (docs/conventions.md#objective; the penalty carries the factor ``lam/2``)::

    min  0.5 * ||f(X) - y||^2 + (lam/2) * sum_j (||w_j||_p^2 + a_j^2),
    f(x) = sum_j a_j (w_j . x + b_j)_+ + t,

with hidden biases ``b_j`` and the output intercept ``t`` unpenalised (both absent when
``bias=False``).  Its optimal value equals that of the convex program::

    min_{v_i, w_i, t}  0.5 * || sum_i D_i Xa (v_i - w_i) + t 1 - y ||^2
                       + lam * sum_i ( ||v_i[:d]||_p + ||w_i[:d]||_p )
    s.t.  (2 D_i - I) Xa v_i >= 0,  (2 D_i - I) Xa w_i >= 0,

over all activation patterns ``D_i = diag(1[Xa u >= 0])``, where ``Xa = X`` (``bias=False``, no
``t``) or ``Xa = [X, 1]`` (``bias=True``; the last coordinate is the hidden bias and is not
penalised).  Note ``lam * ||.||_p`` here against ``(lam/2)(||w||^2 + a^2)`` in the network
(erratum G1).  The program is Pilanci & Ergen (2020), "Neural Networks are Convex Regularizers",
eq. (8), extended to the ``l1`` weight norm and unpenalised biases.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from wedgenet._linalg import caratheodory_reduce, relu_layer, row_norms
from wedgenet._validation import as_float_array, check_choice, check_nonneg_float, check_positive_int
from wedgenet.solvers.inner import clarabel_settings

from .patterns import activation_patterns, augment

__all__ = ["ExactResult", "solve_exact", "network_objective", "network_predict"]

_REGS = ("l1", "l2")
_CLARABEL_SETTINGS = clarabel_settings(1e-10, 500, ktratio=1e-8)
# Pruning/merging of neurons may raise the network objective by at most this fraction.
_PRUNE_RTOL = 1e-9


def _check_bias(bias) -> bool:
    if not isinstance(bias, (bool, np.bool_)):
        raise ValueError(f"bias must be a bool; got {bias!r}")
    return bool(bias)


def _pnorm_rows(M: np.ndarray, reg: str) -> np.ndarray:
    """``||M_i||_p`` of every row, ``p`` named by ``reg`` ("l1" or "l2")."""
    return row_norms(M, 1 if reg == "l1" else 2)


def _validate_network(X, W1, b1, W2, b2):
    X = as_float_array("X", X, ndim=2)
    d = X.shape[1]
    W1 = as_float_array("W1", W1, ndim=2, allow_empty=True)
    m = W1.shape[0]
    if W1.shape[1] != d and not (m == 0 and W1.size == 0 and W1.shape[1] in (0, d)):
        raise ValueError(f"W1 must have shape (m, {d}) to match X; got {W1.shape}")
    W1 = W1.reshape(m, d)
    b1 = as_float_array("b1", b1, ndim=1, allow_empty=True)
    W2 = as_float_array("W2", W2, ndim=1, allow_empty=True)
    if b1.shape != (m,):
        raise ValueError(f"b1 must have shape ({m},) to match W1; got {b1.shape}")
    if W2.shape != (m,):
        raise ValueError(f"W2 must have shape ({m},) to match W1; got {W2.shape}")
    b2 = _check_float("b2", b2)
    return X, W1, b1, W2, b2


def _check_float(name: str, value) -> float:
    """Return ``value`` as a finite float (any sign) or raise ``ValueError`` naming ``name``."""
    arr = as_float_array(name, value)
    if arr.size != 1:
        raise ValueError(f"{name} must be a scalar; got shape {arr.shape}")
    return float(arr.reshape(()))


def network_predict(X, W1, b1, W2, b2) -> np.ndarray:
    """Network output ``f(X) = (X W1^T + b1)_+ W2 + b2`` (shape ``(n,)``)."""
    X, W1, b1, W2, b2 = _validate_network(X, W1, b1, W2, b2)
    return relu_layer(X, W1, b1) @ W2 + b2


def network_objective(X, y, W1, b1, W2, b2, lam, reg="l1") -> float:
    """Non-convex objective ``0.5 ||f(X) - y||^2 + (lam/2) sum_j (||W1[j]||_p^2 + W2[j]^2)``.

    ``f(x) = sum_j W2[j] (W1[j] . x + b1[j])_+ + b2``; hidden biases ``b1`` and the intercept
    ``b2`` are not penalised (docs/conventions.md#objective).  ``reg`` selects ``p``: "l1" or "l2".
    """
    X, W1, b1, W2, b2 = _validate_network(X, W1, b1, W2, b2)
    y = as_float_array("y", y, ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"y must have length {X.shape[0]} to match X; got {y.shape[0]}")
    lam = check_nonneg_float("lam", lam)
    reg = check_choice("reg", reg, _REGS)
    f = relu_layer(X, W1, b1) @ W2 + b2
    pen = float(np.sum(_pnorm_rows(W1, reg) ** 2) + np.sum(W2**2))
    return float(0.5 * np.sum((f - y) ** 2) + 0.5 * lam * pen)


@dataclass(frozen=True, eq=False)
class ExactResult:
    """Solution of the exact convex program and the two-layer ReLU network built from it.

    Attributes
    ----------
    value : optimal value of the convex program (Pilanci & Ergen 2020, eq. 8), evaluated at the
        returned primal point.  With all activation patterns this is the global minimum of the
        non-convex objective ``0.5||f(X)-y||^2 + (lam/2) sum_j (||w_j||_p^2 + a_j^2)``.
    W1, b1, W2, b2 : the network ``f(x) = sum_j W2[j] (W1[j].x + b1[j])_+ + b2``; its objective
        equals ``value`` up to solver precision.  ``b1 = 0`` and ``b2 = 0.0`` when ``bias=False``.
    patterns : (P, n) bool, the activation patterns used; ``n_patterns = P``.
    reg, bias, lam : the problem parameters.  solver_status : the cvxpy status string.
    """

    value: float
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: float
    patterns: np.ndarray = field(repr=False)
    n_patterns: int
    reg: str
    bias: bool
    lam: float
    solver_status: str

    @property
    def n_neurons(self) -> int:
        return int(self.W1.shape[0])

    def predict(self, X) -> np.ndarray:
        """Network output on ``X`` (shape ``(n,)``)."""
        return network_predict(X, self.W1, self.b1, self.W2, self.b2)

    def objective(self, X, y) -> float:
        """Non-convex objective of the reconstructed network on ``(X, y)`` (see network_objective)."""
        return network_objective(X, y, self.W1, self.b1, self.W2, self.b2, self.lam, self.reg)


def _check_patterns(patterns, n: int) -> np.ndarray:
    P = np.asarray(patterns)
    if P.ndim != 2 or P.shape[1] != n:
        raise ValueError(f"patterns must have shape (P, {n}) to match X; got {P.shape}")
    if P.shape[0] == 0:
        raise ValueError(f"patterns is empty (shape {P.shape})")
    if P.dtype != np.bool_:
        Pf = as_float_array("patterns", P, ndim=2)
        if not np.all((Pf == 0) | (Pf == 1)):
            raise ValueError("patterns must contain only 0/1 (or boolean) entries")
        P = Pf.astype(bool)
    return P


def solve_exact(
    X,
    y,
    lam,
    *,
    reg: str = "l1",
    bias: bool = False,
    max_patterns: int = 20000,
    patterns=None,
) -> ExactResult:
    """Globally optimal two-layer ReLU network by the exact convex program (Pilanci & Ergen 2020, eq. 8).

    Solves, with cvxpy and Clarabel (tolerances 1e-10)::

        min  0.5 || sum_i D_i Xa (v_i - w_i) + t 1 - y ||^2 + lam sum_i (||v_i[:d]||_p + ||w_i[:d]||_p)
        s.t. (2 D_i - I) Xa v_i >= 0,  (2 D_i - I) Xa w_i >= 0,

    over all activation patterns ``D_i`` of ``Xa = X`` (``bias=False``: no hidden biases, no
    intercept ``t``) or ``Xa = [X, 1]`` (``bias=True``: unpenalised hidden biases and a free
    intercept ``t``).  Its value equals the minimum of the non-convex objective
    ``0.5||f(X) - y||^2 + (lam/2) sum_j (||w_j||_p^2 + a_j^2)`` (docs/conventions.md#objective: the network
    penalty carries ``lam/2``, the convex one ``lam``).

    The network is rebuilt as in Pilanci & Ergen, Theorem 1: each nonzero ``v_i`` gives the neuron
    ``(v_i / sqrt(||v_i[:d]||_p), +sqrt(||v_i[:d]||_p))`` (its last coordinate is the hidden bias
    when ``bias=True``), each nonzero ``w_i`` the same with ``-sqrt(...)``.  Neurons whose weight
    part vanishes are constant and are folded into ``t``.  Solver-noise neurons are pruned,
    positively colinear neurons (one neuron split over adjacent patterns) are merged, and
    Caratheodory pruning (docs/conventions.md#g8) leaves at most ``n + 1`` neurons; each step is kept only if
    the network objective rises by at most ``1e-9`` relative.

    Parameters
    ----------
    X : (n, d) finite array.  y : (n,) finite array.  lam : penalty, > 0.
    reg : "l1" or "l2", the weight norm ``p``.
    bias : hidden biases and output intercept (see above).
    max_patterns : guard for :func:`activation_patterns` (ignored when ``patterns`` is given).
    patterns : optional (P, n) 0/1 array of patterns to use instead of the complete set (e.g.
        sampled ones, Pilanci & Ergen Remark 3.3).  The value is then that of the restricted
        program: an upper bound on the global optimum, and a network achieving it.

    Returns
    -------
    ExactResult
    """
    import cvxpy as cp

    X = as_float_array("X", X, ndim=2)
    n, d = X.shape
    if d == 0:
        raise ValueError(f"X must have at least one column; got shape {X.shape}")
    y = as_float_array("y", y, ndim=1)
    if y.shape[0] != n:
        raise ValueError(f"y must have length {n} to match X; got {y.shape[0]}")
    lam = check_nonneg_float("lam", lam, strictly_positive=True)
    reg = check_choice("reg", reg, _REGS)
    bias = _check_bias(bias)
    max_patterns = check_positive_int("max_patterns", max_patterns)
    if patterns is None:
        pats = activation_patterns(X, bias=bias, max_patterns=max_patterns)
    else:
        pats = _check_patterns(patterns, n)

    Xa = augment(X, bias)
    D = Xa.shape[1]
    P = pats.shape[0]
    mask = np.vstack([pats, pats]).astype(np.float64)  # (2P, n): rows for v_i then w_i
    sgn = np.concatenate([np.ones(P), -np.ones(P)])  # +v_i, -w_i
    cone = 2.0 * mask - 1.0

    # solve in units where X and y are O(1): with X = kappa Xs, y = sigma ys, the program for
    # (Xs, ys, lam / (kappa sigma)) has the solution w = sigma ws / kappa, b = sigma bs, t = sigma ts
    # and sigma^2 times the value (the hidden biases and t are not penalised)
    kappa = float(np.abs(X).max()) or 1.0
    sigma = float(np.abs(y).max()) or 1.0
    Xs = augment(X / kappa, bias)
    U = cp.Variable((2 * P, D))
    XU = Xs @ U.T  # (n, 2P)
    pred = cp.sum(cp.multiply((mask * sgn[:, None]).T, XU), axis=1)
    t = cp.Variable() if bias else None
    resid = cp.Variable(n)  # auxiliary residual: keeps the quadratic term diagonal for Clarabel
    Uw = U[:, :d]
    pen = cp.sum(cp.abs(Uw)) if reg == "l1" else cp.sum(cp.norm(Uw, 2, axis=1))
    ys = y / sigma
    prob = cp.Problem(
        cp.Minimize(0.5 * cp.sum_squares(resid) + (lam / (kappa * sigma)) * pen),
        [resid == (pred + t - ys if bias else pred - ys), cp.multiply(cone.T, XU) >= 0],
    )
    prob.solve(solver=cp.CLARABEL, **_CLARABEL_SETTINGS)
    if prob.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or U.value is None:
        raise RuntimeError(f"Clarabel failed on the exact program: status {prob.status!r}")

    Uv = np.asarray(U.value) * sigma
    Uv[:, :d] /= kappa
    tv = float(t.value) * sigma if bias else 0.0
    XUv = Xa @ Uv.T  # (n, 2P)
    contrib = (mask * sgn[:, None]).T * XUv  # column k = signed D_k Xa u_k
    f_cvx = contrib.sum(axis=1) + tv
    nw = _pnorm_rows(Uv[:, :d], reg)
    value = float(0.5 * np.sum((f_cvx - y) ** 2) + lam * nw.sum())

    W1, b1, W2, b2 = _reconstruct(Xa, y, Uv, sgn, lam, d, reg, bias, tv)
    return ExactResult(
        value=value,
        W1=W1,
        b1=b1,
        W2=W2,
        b2=b2,
        patterns=pats,
        n_patterns=int(P),
        reg=reg,
        bias=bias,
        lam=lam,
        solver_status=str(prob.status),
    )


def _network_value(Xa, y, Uk, sk, t, lam, d, reg):
    """Objective of the balanced network built from convex vectors ``Uk`` with signs ``sk``.

    Neuron ``k`` is ``(u_k / sqrt(nw_k), sk sqrt(nw_k))``: its output is ``sk (Xa u_k)_+`` and its
    penalty ``(lam/2)(nw_k + nw_k) = lam nw_k``.
    """
    f = relu_layer(Xa, Uk) @ sk + t
    return float(0.5 * np.sum((f - y) ** 2) + lam * np.sum(_pnorm_rows(Uk[:, :d], reg)))


def _reconstruct(Xa, y, Uv, sgn, lam, d, reg, bias, t):
    """Neurons from the convex solution (Pilanci & Ergen, Theorem 1), simplified safely.

    1. Candidates whose weight part is exactly zero are constants ``sgn max(b, 0)``: folded into
       ``t`` (dropped when ``bias=False``).
    2. Negligible candidates (smallest ``||u[:d]||_p`` first) are folded/dropped: the longest such
       prefix whose removal raises the network objective by at most ``_PRUNE_RTOL`` (relative) is
       found by bisection on the exact objective.
    3. Positively colinear candidates of the same sign (interior-point solvers split one neuron
       over all patterns adjacent to its hyperplane) are merged by adding their vectors, which is
       exact for colinear vectors (Remark 3.1); the merge is kept only if the objective does not
       rise by more than ``_PRUNE_RTOL``.
    4. Caratheodory pruning (erratum G8, docs/conventions.md#g8): while the neuron outputs and the all-ones row
       are linearly dependent, move the scales along a null direction (output and penalty
       unchanged) until one neuron vanishes.  At most ``n + 1`` neurons remain.
    """
    const = np.maximum(Uv[:, d], 0.0) if bias else np.zeros(Uv.shape[0])
    nw = _pnorm_rows(Uv[:, :d], reg)
    zero = nw <= 0.0
    t = t + float(np.sum(sgn[zero] * const[zero]))
    Uv, sgn, const, nw = Uv[~zero], sgn[~zero], const[~zero], nw[~zero]

    full = _network_value(Xa, y, Uv, sgn, t, lam, d, reg)
    tol = _PRUNE_RTOL * max(abs(full), np.finfo(float).tiny)
    order = np.argsort(nw, kind="stable")

    def after_drop(m):
        idx, rest = order[:m], order[m:]
        tm = t + float(np.sum(sgn[idx] * const[idx]))
        return _network_value(Xa, y, Uv[rest], sgn[rest], tm, lam, d, reg), tm, rest

    lo, hi = 0, Uv.shape[0]  # invariant: dropping lo is acceptable
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if after_drop(mid)[0] <= full + tol:
            lo = mid
        else:
            hi = mid - 1
    _, t, rest = after_drop(lo)
    Uv, sgn = Uv[rest], sgn[rest]

    merged_U, merged_s = _merge_colinear(Uv, sgn)
    if merged_U.shape[0] < Uv.shape[0]:
        if _network_value(Xa, y, merged_U, merged_s, t, lam, d, reg) <= full + tol:
            Uv, sgn = merged_U, merged_s

    pruned_U, pruned_s = _caratheodory_prune(Xa, Uv, sgn, d, reg)
    if pruned_U.shape[0] < Uv.shape[0]:
        if _network_value(Xa, y, pruned_U, pruned_s, t, lam, d, reg) <= full + tol:
            Uv, sgn = pruned_U, pruned_s

    s = np.sqrt(_pnorm_rows(Uv[:, :d], reg))
    Wk = Uv / s[:, None]
    W1 = np.ascontiguousarray(Wk[:, :d])
    b1 = np.ascontiguousarray(Wk[:, d]) if bias else np.zeros(Uv.shape[0])
    W2 = sgn * s
    return W1, b1, W2, float(t)


def _caratheodory_prune(Xa, Uv, sgn, d, reg):
    """Remove neurons without changing the network function or its penalty (see _reconstruct)."""
    c = _pnorm_rows(Uv[:, :d], reg)  # scales: neuron k outputs c_k * g_k and costs lam * c_k
    G = sgn[None, :] * relu_layer(Xa, Uv) / c[None, :]
    dirs = Uv / c[:, None]
    keep, c = caratheodory_reduce(G, c, rank_rtol=1e-12, drop_rtol=1e-14)
    return dirs[keep] * c[keep, None], sgn[keep]


def _merge_colinear(Uv, sgn, tol=1e-7):
    """Add up same-sign candidates whose directions agree to ``tol`` (greedy, largest first)."""
    K = Uv.shape[0]
    if K <= 1:
        return Uv, sgn
    norms = row_norms(Uv)
    G = Uv / norms[:, None]
    label = np.full(K, -1)
    n_groups = 0
    for i in np.argsort(-norms, kind="stable"):
        if label[i] >= 0:
            continue
        free = (label < 0) & (sgn == sgn[i])
        close = free & (row_norms(G - G[i]) <= tol)
        label[close] = n_groups
        n_groups += 1
    out = np.zeros((n_groups, Uv.shape[1]))
    np.add.at(out, label, Uv)
    out_s = np.zeros(n_groups)
    out_s[label] = sgn
    return out, out_s
