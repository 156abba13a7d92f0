"""``wedgenet.fit`` and ``wedgenet.fit_path``: data in, a certified ReLU network out."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np

from ._validation import as_float_array, check_bool, check_choice, check_nonneg_float, check_positive_int
from .dictionaries import MemoryBudgetError, dictionary
from .dictionaries.streaming import StreamedDictionary, streamed_dictionary
from .network import WedgeNetwork
from .solvers import LassoProblem, get_backend, get_loss
from .solvers.base import Certificate

__all__ = ["fit", "fit_path", "encode_targets", "FitInterrupted"]

DICTIONARY_MODES = ("auto", "explicit", "streamed")
PRICING_BACKENDS = ("local", "dask")
#: inputs beyond this cannot be squared and summed in float64 (sqrt of the largest float is 1.3e154)
MAX_MAGNITUDE = 1e100


class FitInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`fit`; ``network`` is the last certified state (or ``None``).

    ``network.duality_gap`` and ``network.max_violation`` certify that state over the whole
    dictionary, like any fit; ``network.info["interrupted"]`` is True.
    """

    def __init__(self, message: str, network: WedgeNetwork | None = None) -> None:
        super().__init__(message)
        self.network = network


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
        if Y.shape[1] < 2:
            raise ValueError("y must contain at least two classes for loss='softmax'")
        return Y
    ya = as_float_array("y", y, min_ndim=1)
    if ya.ndim > 2 or ya.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) or ({n}, c) to match X; got {ya.shape}")
    if loss in ("logistic", "hinge"):
        if ya.ndim != 1 or not np.all(np.isin(ya, (-1.0, 1.0))):
            raise ValueError(f"y must hold labels -1/+1 for loss={loss!r} (use WedgeClassifier for other labels)")
    return ya


def _pricer(dictionary_mode: str, backend: str, client):
    """Validate the dictionary mode and pricing back-end; return ``(mode, pricer or None)``."""
    check_choice("dictionary_mode", dictionary_mode, DICTIONARY_MODES)
    check_choice("backend", backend, PRICING_BACKENDS)
    if backend == "local":
        if client is not None:
            raise ValueError("client= is used only with backend='dask'")
        return dictionary_mode, None
    if dictionary_mode == "explicit":
        raise ValueError("backend='dask' prices a streamed dictionary; use dictionary_mode='streamed' or 'auto'")
    from .dictionaries.dask_pricing import DaskPricer, require_distributed

    if client is None:  # the default client: the one created last, as in dask itself
        try:
            client = require_distributed().default_client()
        except ValueError as exc:
            raise ValueError("backend='dask' needs a Dask client: pass client=dask.distributed.Client(...) "
                             "or create one first (it becomes the default client)") from exc
    return "streamed", DaskPricer(client)


def _build_dictionary(Xa, reg, bias, depth, max_columns, random_state, memory_budget, mode, pricer, verbose):
    """The explicit dictionary, or the streamed one (``mode="streamed"``, or ``"auto"`` over budget)."""
    if mode != "streamed":
        try:
            return dictionary(Xa, reg=reg, bias=bias, depth=depth, max_columns=max_columns,
                              random_state=random_state, memory_budget=memory_budget)
        except MemoryBudgetError as exc:
            if mode == "explicit":
                raise
            if verbose:
                print(f"[fit] {exc} Streaming the dictionary instead (dictionary_mode='auto').")
    return streamed_dictionary(Xa, reg=reg, bias=bias, depth=depth, max_columns=max_columns,
                               random_state=random_state, pricer=pricer, verbose=verbose)


def _prepare(X, y, lam, loss, reg, bias, depth, max_columns, random_state, memory_budget,
             dictionary_mode="auto", backend="local", client=None, verbose=False):
    Xa = as_float_array("X", X, ndim=2)
    lam = check_nonneg_float("lam", lam, strictly_positive=True)
    verbose = check_bool("verbose", verbose)
    if memory_budget is not None:  # checked here too: a streamed dictionary never reads it
        check_nonneg_float("memory_budget", memory_budget, strictly_positive=True)
    loss_obj = get_loss(loss)
    yy = encode_targets(loss, y, Xa.shape[0])
    for name, arr in (("X", Xa), ("y", yy)):
        big = float(np.abs(arr).max()) if arr.size else 0.0
        if big > MAX_MAGNITUDE:
            raise ValueError(f"{name} has entries of magnitude {big:.3g}: squared they overflow float64 in the "
                             f"solvers; rescale {name} (for example to unit variance) and lam with it")
    if yy.ndim == 2 and loss_obj.name in ("logistic", "hinge"):
        raise ValueError(f"loss={loss!r} takes a 1-D y")
    mode, pricer = _pricer(dictionary_mode, backend, client)
    D = _build_dictionary(Xa, reg, bias, depth, max_columns, random_state, memory_budget, mode, pricer, verbose)
    _check_attainable(loss_obj.name, yy, D.fit_intercept)
    return Xa, yy, lam, loss_obj, D


def _check_attainable(loss: str, yy: np.ndarray, intercept: bool) -> None:
    """With a free intercept, a logistic label or softmax class that never occurs makes the loss
    decrease forever along the intercept: the problem has no minimiser."""
    if not intercept:
        return
    if loss == "logistic" and np.unique(yy).size < 2:
        raise ValueError("y must contain both -1 and +1 labels for loss='logistic' with an intercept "
                         "(bias=True or depth=3): with one label the loss has no minimiser")
    missing = np.flatnonzero(yy.sum(axis=0) == 0).tolist() if loss == "softmax" else []
    if missing:
        raise ValueError(f"y has no sample of class(es) {missing} for loss='softmax' with an intercept "
                         "(bias=True or depth=3): the loss then has no minimiser; relabel the classes 0..c-1 "
                         "that occur")


def _check_solver_for(D, solver: str) -> None:
    if isinstance(D, StreamedDictionary) and solver not in ("auto", "working_set"):
        raise ValueError(f"solver={solver!r} needs every column in memory; a streamed dictionary "
                         "(dictionary_mode='streamed', or 'auto' over the memory budget) takes solver='auto'")


def full_certificate(problem: LassoProblem, result, full_source) -> Certificate:
    """The certificate of ``result`` over ``full_source`` (every candidate), from one streamed pass.

    ``result.theta`` is the dual point of the solved (sampled) problem; its maximum score over
    the whole dictionary scales it into the full dual feasible set, so the gap bounds the
    suboptimality of ``result`` for the unsampled Lasso (docs/conventions.md#certificate).
    """
    _, _, m = full_source.violators(result.theta, 0, math.inf)
    lam = problem.lam
    scale = 1.0 if m <= lam else lam / m
    dual = problem.loss.dual_value(scale * result.theta, problem.y)
    primal = result.certificate.primal
    gap = max(primal - dual, 0.0)
    return Certificate(primal=float(primal), dual=float(dual), gap=float(gap),
                       relative_gap=float(gap / max(abs(primal), 1e-300)), max_violation=m / lam,
                       n_columns_priced=int(full_source.n_columns))


def _from_solution(D, res, lam: float, loss_name: str) -> WedgeNetwork:
    """``WedgeNetwork.from_solution``; a sampled streamed dictionary reports global columns.

    The provenance ``column`` of a neuron is then its column in the unsampled streamed
    dictionary (candidate rank and orientation), the same for every draw.
    """
    if not (isinstance(D, StreamedDictionary) and D.sampled):
        return WedgeNetwork.from_solution(D, res, lam=lam, loss=loss_name)
    res_g = dataclasses.replace(res, support=D.global_columns(res.support))
    net = WedgeNetwork.from_solution(D.full(), res_g, lam=lam, loss=loss_name)
    net.info.update(sampled=True, n_columns=int(D.n_columns), n_candidates=int(D.n_candidates))
    return net


def _network(D, problem, res, lam, loss_name, Xa, reg, bias, depth, certify_all, tol) -> WedgeNetwork:
    """The network of a solver result; with ``certify_all`` and a sampled ``D``, certified over everything."""
    sample_cert = res.certificate
    full_cert = None
    if certify_all and D.sampled:
        full = D.full() if isinstance(D, StreamedDictionary) else streamed_dictionary(
            Xa, reg=reg, bias=bias, depth=depth, verbose=getattr(D, "verbose", False))
        full_cert = full_certificate(problem, res, full)
        res.certificate = full_cert
        res.converged = bool(full_cert.relative_gap <= tol and full_cert.max_violation <= 1.0 + 1e-6)
    net = _from_solution(D, res, lam, loss_name)
    net.info["dictionary_mode"] = "streamed" if isinstance(D, StreamedDictionary) else "explicit"
    if isinstance(D, StreamedDictionary):
        net.info["pricing_backend"] = D.pricer.name
        net.info["n_passes"] = int(D.n_passes)
    if full_cert is not None:
        net.info["certificate_scope"] = "all candidates"
        net.info["sample_relative_gap"] = sample_cert.relative_gap
        net.info["sample_max_violation"] = sample_cert.max_violation
    elif D.sampled:
        net.info["certificate_scope"] = "sampled candidates"
    return net


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
    dictionary_mode: str = "auto",
    backend: str = "local",
    client=None,
    certify_all: bool = False,
) -> WedgeNetwork:
    """Train a ReLU network by the convex wedge Lasso, with a certificate of optimality.

    Solves the Lasso ``L(K z + 1 t, y) + lam * ||z||_1`` over the wedge dictionary ``K`` of
    :func:`wedgenet.dictionary` (group penalty ``lam * sum_j ||Z_j||_2`` for vector output,
    Thm 14), which has the same optimal value as the network problem

        L(f(X), y) + (lam/2) * sum_j (||w_j||_p^2 + a_j^2)

    (docs/conventions.md#objective: the penalty carries ``lam/2``; hidden biases and the output
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
    verbose : progress of the working set, and progress bars on long streamed passes.
    dictionary_mode : "auto", "explicit" or "streamed"
        ``"explicit"`` materialises ``K`` (:func:`wedgenet.dictionary`; raises
        :class:`~wedgenet.dictionaries.MemoryBudgetError` over ``memory_budget``).
        ``"streamed"`` never does (:func:`wedgenet.streamed_dictionary`): the working set's
        columns are computed on demand and each iteration prices every candidate in one
        streamed pass, so memory is ``O(n * working set + chunk)`` and the certificate still
        covers every candidate.  ``"auto"`` (default) is explicit when it fits the memory budget
        and streamed otherwise.  Streamed columns are not de-duplicated, so the support may
        name a different (equal) column than an explicit fit; the network is the same.
    backend : "local" or "dask"
        Where streamed passes run: local numba threads (default) or the Dask cluster of
        ``client`` (the ``dask`` extra; implies a streamed dictionary).
    client : dask.distributed.Client, optional
        For ``backend="dask"``; default the current default client
        (``dask.distributed.default_client()``, the one created last).
    certify_all : bool
        With ``max_columns`` (sampled candidates), certify the result over *every* candidate
        with one extra streamed pass: ``net.duality_gap`` / ``net.max_violation`` then bound the
        suboptimality for the whole dictionary (``net.info["certificate_scope"]``), and the
        sample's own certificate is kept in ``net.info["sample_relative_gap"]``.

    Returns
    -------
    WedgeNetwork
        Neurons with provenance; ``net.duality_gap`` and ``net.max_violation`` certify it over
        the whole dictionary (over the sampled candidates when ``max_columns`` samples and
        ``certify_all`` is False).

    Raises
    ------
    FitInterrupted
        On Ctrl-C during the solve (a ``KeyboardInterrupt``): its ``network`` attribute is
        the best certified state so far, if any.
    """
    tol = check_nonneg_float("tol", tol, strictly_positive=True)
    max_iter = check_positive_int("max_iter", max_iter)
    certify_all = check_bool("certify_all", certify_all)
    Xa, yy, lam, loss_obj, D = _prepare(X, y, lam, loss, reg, bias, depth, max_columns, random_state, memory_budget,
                                        dictionary_mode, backend, client, verbose)
    _check_solver_for(D, solver)
    problem = LassoProblem(D, yy, lam, loss_obj, D.fit_intercept)
    solver_be = get_backend(solver, problem)
    res = _solve(solver_be, problem, D, tol=tol, max_iter=max_iter, verbose=verbose, lam=lam, loss=loss_obj.name)
    return _network(D, problem, res, lam, loss_obj.name, Xa, reg, bias, depth, certify_all, tol)


def _solve(solver_be, problem, D, *, lam, loss, **kw):
    """``solver_be.solve``; Ctrl-C raises :class:`FitInterrupted` with the best certified state."""
    try:
        return solver_be.solve(problem, **kw)
    except KeyboardInterrupt as exc:
        if isinstance(exc, FitInterrupted):
            raise
        state = getattr(solver_be, "best", None)  # the working set's best certified state so far
        net = None
        if state is not None:
            net = _from_solution(D, state, lam, loss)
            net.info["interrupted"] = True
            msg = (f"fit interrupted; best certified state so far: {net.n_neurons} neurons, relative gap "
                   f"{state.certificate.relative_gap:.3g}, max dual violation {state.certificate.max_violation:.6g}")
        else:
            msg = "fit interrupted before the first certified state"
        raise FitInterrupted(msg, net) from exc


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
    dictionary_mode: str = "auto",
    backend: str = "local",
    client=None,
) -> list[WedgeNetwork]:
    """Networks along a regularisation path, one per ``lam``, in the given order.

    The dictionary is built once; each solve starts from the previous working set (warm
    start), so a decreasing sequence of ``lams`` is cheapest.  ``dictionary_mode``,
    ``backend`` and ``client`` are as in :func:`fit`.
    """
    if np.asarray(lams).dtype == np.bool_:
        raise ValueError(f"lams must be positive numbers; got booleans {lams!r}")
    lam_arr = as_float_array("lams", lams, ndim=1)
    if np.any(lam_arr <= 0):
        raise ValueError("lams must all be > 0")
    tol = check_nonneg_float("tol", tol, strictly_positive=True)
    max_iter = check_positive_int("max_iter", max_iter)
    Xa, yy, _, loss_obj, D = _prepare(X, y, float(lam_arr[0]), loss, reg, bias, depth, max_columns,
                                      random_state, memory_budget, dictionary_mode, backend, client, verbose)
    solver_be = get_backend("working_set", LassoProblem(D, yy, float(lam_arr[0]), loss_obj, D.fit_intercept))
    nets = []
    warm = None
    for lam in lam_arr:
        problem = LassoProblem(D, yy, float(lam), loss_obj, D.fit_intercept)
        res = _solve(solver_be, problem, D, lam=float(lam), loss=loss_obj.name, tol=tol, max_iter=max_iter,
                     verbose=verbose, warm_start=warm)
        warm = res
        nets.append(_network(D, problem, res, float(lam), loss_obj.name, Xa, reg, bias, depth, False, tol))
    return nets
