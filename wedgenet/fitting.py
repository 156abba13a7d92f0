"""``wedgenet.fit`` and ``wedgenet.fit_path``: data in, a certified ReLU network out."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._validation import as_float_array, check_nonneg_float, check_positive_int
from .dictionaries import dictionary
from .network import WedgeNetwork
from .solvers import LassoProblem, get_backend, get_loss

__all__ = ["fit", "fit_path", "encode_targets"]


def encode_targets(loss: str, y, n: int) -> np.ndarray:
    """Validate ``y`` for ``loss`` and return it in the loss's encoding.

    ``squared``: ``(n,)`` or ``(n, c)`` floats.  ``logistic``/``hinge``: ``(n,)`` labels in
    ``{-1, +1}``.  ``softmax``: ``(n,)`` integer labels ``0..c-1`` (one-hot encoded here) or an
    ``(n, c)`` one-hot matrix.
    """
    if loss == "softmax":
        ya = np.asarray(y)
        if ya.ndim == 1:
            if ya.size and not np.issubdtype(ya.dtype, np.integer):
                yf = as_float_array("y", ya, ndim=1)
                if not np.all(yf == np.round(yf)):
                    raise ValueError("y must hold integer class labels 0..c-1 for loss='softmax'")
                ya = yf.astype(np.int64)
            if ya.shape[0] != n:
                raise ValueError(f"y has {ya.shape[0]} entries but X has {n} rows")
            if ya.min() < 0:
                raise ValueError("y must hold integer class labels 0..c-1 for loss='softmax'")
            c = int(ya.max()) + 1
            if c < 2:
                raise ValueError("y must contain at least two classes for loss='softmax'")
            Y = np.zeros((n, c))
            Y[np.arange(n), ya] = 1.0
            return Y
        Y = as_float_array("y", ya, ndim=2)
        if Y.shape[0] != n or not np.all((Y == 0) | (Y == 1)) or not np.all(Y.sum(axis=1) == 1):
            raise ValueError("y must be (n,) integer labels or an (n, c) one-hot matrix for loss='softmax'")
        return Y
    ya = as_float_array("y", y, min_ndim=1)
    if ya.ndim > 2 or ya.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) or ({n}, c) to match X; got {ya.shape}")
    if loss in ("logistic", "hinge"):
        if ya.ndim != 1 or not np.all(np.isin(ya, (-1.0, 1.0))):
            raise ValueError(f"y must hold labels -1/+1 for loss={loss!r} (use WedgeClassifier for other labels)")
    return ya


def _prepare(X, y, lam, loss, reg, bias, depth, max_columns, random_state, memory_budget):
    Xa = as_float_array("X", X, ndim=2)
    lam = check_nonneg_float("lam", lam, strictly_positive=True)
    loss_obj = get_loss(loss)
    yy = encode_targets(loss, y, Xa.shape[0])
    if yy.ndim == 2 and loss_obj.name in ("logistic", "hinge"):
        raise ValueError(f"loss={loss!r} takes a 1-D y")
    D = dictionary(Xa, reg=reg, bias=bias, depth=depth, max_columns=max_columns, random_state=random_state,
                   memory_budget=memory_budget)
    return Xa, yy, lam, loss_obj, D


def fit(
    X,
    y,
    *,
    lam: float,
    loss: str = "squared",
    reg: str = "l1",
    bias: bool = True,
    depth: int = 2,
    solver: str = "auto",
    max_columns: int | None = None,
    random_state=None,
    tol: float = 1e-6,
    max_iter: int = 100,
    memory_budget: float | None = None,
    verbose: bool = False,
) -> WedgeNetwork:
    """Train a ReLU network by the convex wedge Lasso, with a certificate of optimality.

    Solves the Lasso ``L(K z + 1 t, y) + lam * ||z||_1`` over the wedge dictionary ``K`` of
    :func:`wedgenet.dictionary` (group penalty ``lam * sum_j ||Z_j||_2`` for vector output,
    Thm 14), which has the same optimal value as the network problem

        L(f(X), y) + (lam/2) * sum_j (||w_j||_p^2 + a_j^2)

    (THEORY.md section 3: the penalty carries ``lam/2``; hidden biases and the output
    intercept ``t`` are free).  For ``reg="l1"`` the result is the global optimum; for
    ``reg="l2"`` it is within ``1/(1-eps)`` of it.

    Parameters
    ----------
    X : (n, d) array.  y : targets (see :func:`encode_targets`).
    lam : float > 0.
    loss : "squared" (``0.5 ||r||^2``), "logistic" or "hinge" (labels +-1), "softmax" (classes).
        Vector ``y`` with ``squared``, and ``softmax``, use the group penalty of Thm 14.
    reg, bias, depth, max_columns, random_state, memory_budget : see :func:`wedgenet.dictionary`.
    solver : "auto" (working set), "working_set", "cvxpy" (Clarabel on the full problem) or
        "sklearn" (coordinate descent on the full problem, squared loss).
    tol : target relative duality gap ``(primal - dual) / primal`` over the whole dictionary
        (default 1e-6); a ``ConvergenceWarning`` is raised when it is not reached.

    Returns
    -------
    WedgeNetwork
        Neurons with provenance; ``net.duality_gap`` and ``net.max_violation`` certify it over
        the whole dictionary.
    """
    tol = check_nonneg_float("tol", tol, strictly_positive=True)
    max_iter = check_positive_int("max_iter", max_iter)
    Xa, yy, lam, loss_obj, D = _prepare(X, y, lam, loss, reg, bias, depth, max_columns, random_state, memory_budget)
    problem = LassoProblem(D, yy, lam, loss_obj, D.fit_intercept)
    backend = get_backend(solver, problem)
    res = backend.solve(problem, tol=tol, max_iter=max_iter, verbose=verbose)
    return WedgeNetwork.from_solution(D, res, lam=lam, loss=loss_obj.name)


def fit_path(
    X,
    y,
    lams: Sequence[float],
    *,
    loss: str = "squared",
    reg: str = "l1",
    bias: bool = True,
    depth: int = 2,
    max_columns: int | None = None,
    random_state=None,
    tol: float = 1e-6,
    max_iter: int = 100,
    memory_budget: float | None = None,
    verbose: bool = False,
) -> list[WedgeNetwork]:
    """Networks along a regularisation path, one per ``lam``, in the given order.

    The dictionary is built once; each solve starts from the previous working set (warm
    start), so a decreasing sequence of ``lams`` is cheapest.
    """
    lam_arr = as_float_array("lams", lams, ndim=1)
    if np.any(lam_arr <= 0):
        raise ValueError("lams must all be > 0")
    tol = check_nonneg_float("tol", tol, strictly_positive=True)
    max_iter = check_positive_int("max_iter", max_iter)
    Xa, yy, _, loss_obj, D = _prepare(X, y, float(lam_arr[0]), loss, reg, bias, depth, max_columns,
                                      random_state, memory_budget)
    backend = get_backend("working_set", LassoProblem(D, yy, float(lam_arr[0]), loss_obj, D.fit_intercept))
    nets = []
    warm = None
    for lam in lam_arr:
        problem = LassoProblem(D, yy, float(lam), loss_obj, D.fit_intercept)
        res = backend.solve(problem, tol=tol, max_iter=max_iter, verbose=verbose, warm_start=warm)
        warm = res
        nets.append(WedgeNetwork.from_solution(D, res, lam=float(lam), loss=loss_obj.name))
    return nets
