"""``wedgenet.fit``, ``wedgenet.fit_path`` and ``wedgenet.lam_max``: data in, a certified ReLU network out.

The settings are validated once (:class:`wedgenet.settings.FitSettings`); the loss owns its
targets (:meth:`~wedgenet.solvers.losses.Loss.encode_targets`); the certificate owns its scope
and verdict (:class:`~wedgenet.solvers.certificate.Certificate`).
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._validation import as_float_array, check_nonneg_float, check_positive_int
from .dictionaries import MemoryBudgetError, dictionary
from .dictionaries.memory import default_memory_budget
from .dictionaries.streaming import prefer_streamed, streamed_dictionary
from .network import WedgeNetwork
from .settings import FitSettings
from .solvers import LassoProblem, get_backend, get_loss
from .solvers.certificate import Certificate, dual_certificate
from .standardize import Standardization

__all__ = ["fit", "fit_path", "lam_max", "LamMax", "encode_targets", "FitInterrupted", "SamplingWarning"]

#: inputs beyond this cannot be squared and summed in float64 (sqrt of the largest float is 1.3e154)
MAX_MAGNITUDE = 1e100
#: a conservative pricing throughput (dictionary columns x samples per second on 2 cores), used to
#: estimate a pass before it starts; the streamed pricer measured 3.8e9 (benchmarks/bench_stream.py)
PRICING_RATE = 1.5e9
#: full pricing passes a certified fit plans for when it estimates its time
EXPECTED_PASSES = 8
#: full pricing passes a fit plans for once the pass time is measured (the ``lam_max`` pass and the
#: remembered pricing's few full passes, benchmarks/bench_stream.py: 3-7 in all); the working set
#: stops before an iteration would pass ``time_limit`` when more are needed
MEASURED_PASSES = 3
#: columns drawn when the candidate set is too large to price in the time limit
AUTO_COLUMNS = 20_000
#: a pass estimated beyond this many seconds shows progress even without ``verbose``
PROGRESS_AFTER = 5.0


class SamplingWarning(UserWarning):
    """The candidate set is too large for the time (or rank) budget: a fit samples it instead."""


class FitInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`fit`; ``network`` is the last certified state (or ``None``).

    ``network.certificate`` certifies that state over the dictionary, like any fit;
    ``network.info["interrupted"]`` is True.
    """

    def __init__(self, message: str, network: WedgeNetwork | None = None) -> None:
        super().__init__(message)
        self.network = network


def encode_targets(loss: str, y, n: int) -> np.ndarray:
    """``y`` validated and encoded for ``loss`` (see :meth:`wedgenet.solvers.losses.Loss.encode_targets`)."""
    return get_loss(loss).encode_targets(y, n)[0]


# ---------------------------------------------------------------------------- candidates and budget
def _pricer(s: FitSettings):
    """The pricing back-end for streamed passes: ``None`` (local numba threads) or a Dask pricer."""
    if s.pricing == "local":
        return None
    from .dictionaries.dask_pricing import DaskPricer, require_distributed

    client = s.client
    if client is None:  # the default client: the one created last, as in dask itself
        try:
            client = require_distributed().default_client()
        except ValueError as exc:
            raise ValueError("pricing='dask' needs a Dask client: pass client=dask.distributed.Client(...) "
                             "or create one first (it becomes the default client)") from exc
    return DaskPricer(client)


class _Counted(Exception):
    pass


def candidate_count(Xa: np.ndarray, reg: str, bias: bool, depth: int) -> tuple[int, int]:
    """``(candidates, columns per candidate)`` of the family on ``Xa``, without building anything."""
    from .algebra import DEFAULT_RTOL
    from .dictionaries.setup import prepare

    def guard(n, d, dr, k_sub, n_pool, total, per):
        raise _Counted(int(total), int(per))

    try:
        prepare(Xa, reg, bias, depth, DEFAULT_RTOL, guard)
    except _Counted as c:
        return c.args[0], c.args[1]
    return 0, 2


@dataclass(frozen=True)
class _Plan:
    """How the candidates are covered: ``max_columns`` (None: all), and why."""

    max_columns: int | None
    auto_sampled: bool
    reason: str
    pass_seconds: float
    n_candidates: int
    per: int


def _plan_candidates(Xa: np.ndarray, s: FitSettings) -> _Plan:
    """Estimate a pricing pass; sample candidates when the fit would exceed ``time_limit``.

    The estimate is ``columns * n / PRICING_RATE`` per pass and ``EXPECTED_PASSES`` passes; a
    candidate set beyond the int64 rank range can only be sampled.
    """
    total, per = candidate_count(Xa, s.reg, s.bias, s.depth)
    n = Xa.shape[0]
    cols = total * per
    pass_s = cols * n / PRICING_RATE
    if s.max_columns is not None:
        return _Plan(s.max_columns, False, "max_columns given", min(cols, s.max_columns) * n / PRICING_RATE, total, per)
    if total >= 2**63:
        why = f"{float(total):.3g} candidates exceed the int64 rank range: they can only be sampled"
    elif EXPECTED_PASSES * pass_s > s.time_limit:
        why = (f"{cols:.3g} candidate columns: a certified fit over every one is estimated at "
               f"{EXPECTED_PASSES * pass_s:.3g} s ({EXPECTED_PASSES} pricing passes of {pass_s:.3g} s), "
               f"beyond time_limit={s.time_limit:g} s")
    else:
        return _Plan(None, False, "every candidate", pass_s, total, per)
    return _sampled_plan(why, n, total, per, s, stacklevel=5)


def _sampled_plan(why: str, n: int, total: int, per: int, s: FitSettings, *, stacklevel: int) -> _Plan:
    """Sample ``AUTO_COLUMNS`` columns (fewer when the memory budget says so), with a :class:`SamplingWarning`."""
    budget = s.memory_budget or default_memory_budget()
    k = int(max(2 * per, min(AUTO_COLUMNS, budget / (4 * 8 * max(n, 1)))))
    warnings.warn(f"{why}; sampling {k:,} columns (set max_columns= to choose, or raise time_limit=). "
                  "The certificate then covers the sampled dictionary only.", SamplingWarning, stacklevel=stacklevel)
    return _Plan(k, True, why, k * n / PRICING_RATE, total, per)


def _remeasured(prep: _Prepared, s: FitSettings, pass_seconds: float, left: float, how: str,
                passes: int = MEASURED_PASSES) -> _Prepared:
    """Re-decide with a measured pricing pass time (``how`` it was measured).

    The plan estimated a pass at ``columns * n / PRICING_RATE``; a loaded machine can be many
    times slower.  When ``passes`` passes at the measured time exceed the ``left``
    seconds of ``time_limit``, the fit samples the candidates instead (and then runs column
    generation, as when the plan sampled), with a :class:`SamplingWarning`.  Only streamed
    dictionaries over every candidate are re-decided: an explicit one already paid its build.
    """
    plan = prep.plan
    if plan.max_columns is not None or not prep.D.streamed or not math.isfinite(s.time_limit):
        return prep
    if passes * pass_seconds <= left:
        return prep
    why = (f"a pricing pass over every candidate {how} {pass_seconds:.3g} s (estimated "
           f"{plan.pass_seconds:.3g} s): {passes} passes exceed the {max(left, 0.0):.3g} s left of "
           f"time_limit={s.time_limit:g} s")
    new = _sampled_plan(why, prep.X.shape[0], plan.n_candidates, plan.per, s, stacklevel=5)
    D = _build_dictionary(prep.X, s, new, _pricer(s))
    return dataclasses.replace(prep, D=D, plan=new)


def _calibrated(prep: _Prepared, s: FitSettings, t0: float) -> _Prepared:
    """Measure the local pricing throughput on the first chunk of a streamed dictionary over every
    candidate, before any full pass, and re-decide (:func:`_remeasured`)."""
    D = prep.D
    if prep.plan.max_columns is not None or not D.streamed or D.pricer.name != "local" or \
            not math.isfinite(s.time_limit):
        return prep
    sec = D.pass_seconds(s.loss.zero_dual(prep.y, D.fit_intercept))
    return _remeasured(prep, s, sec, s.time_limit - (time.perf_counter() - t0), "measured on its first chunk at")


def _build_dictionary(Xa: np.ndarray, s: FitSettings, plan: _Plan, pricer):
    """The explicit dictionary, or the streamed one (``dictionary_mode="streamed"``, or ``"auto"``
    over the memory budget or, with the working-set solver, over ``STREAM_ABOVE_BYTES``)."""
    mode = "streamed" if pricer is not None else s.dictionary_mode
    if mode == "auto" and plan.n_candidates < 2**63:
        cols = plan.n_candidates * plan.per if plan.max_columns is None else min(plan.max_columns,
                                                                                 plan.n_candidates * plan.per)
        # a large explicit K costs more than the passes it saves (only the working set can stream)
        if prefer_streamed(Xa.shape[0], cols) and s.solver in ("auto", "working_set"):
            mode = "streamed"
    show = s.verbose or plan.pass_seconds > PROGRESS_AFTER
    if mode != "streamed" or (plan.max_columns is not None and plan.n_candidates >= 2**63):
        try:
            return dictionary(Xa, reg=s.reg, bias=s.bias, depth=s.depth, max_columns=plan.max_columns,
                              random_state=s.random_state, memory_budget=s.memory_budget)
        except (MemoryBudgetError, MemoryError) as exc:
            if mode == "explicit":
                raise
            if plan.n_candidates >= 2**63:
                raise MemoryBudgetError(f"{exc}; these candidates can only be sampled: lower max_columns") from exc
            if s.verbose:
                print(f"[fit] {exc} Streaming the dictionary instead (dictionary_mode='auto').")
    return streamed_dictionary(Xa, reg=s.reg, bias=s.bias, depth=s.depth, max_columns=plan.max_columns,
                               random_state=s.random_state, pricer=pricer, verbose=show)


def _check_magnitude(name: str, arr: np.ndarray) -> None:
    big = float(np.abs(arr).max()) if arr.size else 0.0
    if big > MAX_MAGNITUDE:
        raise ValueError(f"{name} has entries of magnitude {big:.3g}: squared they overflow float64 in the "
                         f"solvers; rescale {name} (for example standardize=True) and lam with it")


@dataclass
class _Prepared:
    """The data as the solver sees it: standardized ``X``, encoded targets, the dictionary."""

    X: np.ndarray
    y: np.ndarray
    classes: tuple | None
    D: object
    standardization: Standardization | None
    plan: _Plan
    #: the columns of X that are not identically zero (None: all); the others are dropped (exact)
    active: np.ndarray | None = None


def _prepare(X, y, s: FitSettings) -> _Prepared:
    Xa = as_float_array("X", X, ndim=2)
    if Xa.shape[0] == 0 or Xa.shape[1] == 0:
        raise ValueError(f"X must have at least one sample and one feature; got shape {Xa.shape}")
    if s.feature_names is not None and len(s.feature_names) != Xa.shape[1]:
        raise ValueError(f"feature_names has {len(s.feature_names)} names but X has {Xa.shape[1]} features")
    loss = s.loss
    yy, classes = loss.encode_targets(y, Xa.shape[0])
    if yy.ndim == 2 and loss.labels == "binary":
        raise ValueError(f"loss={loss.name!r} takes a 1-D y")
    st = None
    if s.standardize:
        st = Standardization.fit(Xa, yy if loss.task == "regression" else None)
        Xa, yy = st.transform_X(Xa), (st.transform_y(yy) if loss.task == "regression" else yy)
    _check_magnitude("X", Xa)
    _check_magnitude("y", yy)
    active = _nonzero_features(Xa)
    if active is not None:
        Xa = np.ascontiguousarray(Xa[:, active])
    plan = _plan_candidates(Xa, s)
    D = _build_dictionary(Xa, s, plan, _pricer(s))
    loss.check_attainable(yy, D.fit_intercept)
    return _Prepared(Xa, yy, classes, D, st, plan, active)


def _nonzero_features(Xa: np.ndarray) -> np.ndarray | None:
    """The mask of features that are not identically zero, or None when every one is (or none is).

    A zero feature (a constant one after ``standardize``) contributes nothing to any neuron's
    pre-activation, and weight on it only adds to the penalty, so an optimal network has none:
    dropping it is exact.  It matters for rank-deficient tables (digits: 10 blank pixels), whose
    sampled candidates would otherwise almost all be dependent and dropped.
    """
    keep = np.any(Xa != 0, axis=0)
    return None if keep.all() or not keep.any() else keep


def _expand_features(net: WedgeNetwork, active: np.ndarray) -> WedgeNetwork:
    """Zero weights for the dropped features; basis vectors ``e_k`` in expressions renumbered."""
    import re

    idx = np.flatnonzero(active)
    W = np.zeros((net.W1.shape[0], active.size))
    W[:, idx] = net.W1
    net.W1 = W
    number = {k + 1: int(j) + 1 for k, j in enumerate(idx)}  # expressions number e_k from 1
    for rec in net.provenance:
        rec["expression"] = re.sub(r"\be(\d+)\b", lambda m: f"e{number[int(m[1])]}", rec["expression"])
    net.info["dropped_zero_features"] = int(active.size - idx.size)
    return net


@dataclass(frozen=True)
class LamMax:
    """The smallest ``lam`` whose network has no neurons, and over which candidates it was computed.

    ``float(obj)`` is the value; ``scope`` is ``"all_candidates"`` or ``"sampled"`` (then it is
    the maximum over the sampled dictionary, a lower bound on the true ``lam_max``).
    """

    value: float
    scope: str
    n_columns: int

    def __float__(self) -> float:
        return self.value

    def __str__(self) -> str:
        where = "every candidate" if self.scope == "all_candidates" else f"a sample of {self.n_columns:,} columns"
        return f"lam_max = {self.value:.6g} (over {where})"


def _lam_max_of(D, loss, yy: np.ndarray) -> LamMax:
    """``max_j ||K_j^T theta_0||`` over the dictionary ``D``: the smallest ``lam`` with zero neurons."""
    theta0 = loss.zero_dual(yy, D.fit_intercept)
    k, threshold = 0, math.inf
    if getattr(D, "streamed", False):
        # the working set's first full pass prices every column at this same dual point (z = 0, best
        # intercept) and keeps its level-1 survivors: keep them in this pass, so that one is served
        # from the dictionary's cache (one streamed pass fewer per fit; a cache miss only costs it)
        from .solvers.screening import first_pass_size

        k, threshold = first_pass_size(D, yy.shape[0]), -1.0
    return LamMax(float(D.violators(theta0, k, threshold)[2]), "sampled" if D.sampled else "all_candidates",
                  int(D.n_columns))


def _resolve_lam(prep: _Prepared, s: FitSettings) -> tuple[float, LamMax | None]:
    """The absolute ``lam``: given, or ``lam_ratio * lam_max``; warn when the network is empty.

    ``lam_max`` costs one pricing pass: it is computed for ``lam_ratio`` and for explicit
    dictionaries (then nearly free); a streamed fit with an absolute ``lam`` skips it.
    """
    if s.lam_ratio is None and prep.D.streamed:
        return float(s.lam), None
    lm = _lam_max_of(prep.D, s.loss, prep.y)
    lmv = lm.value
    if s.lam_ratio is not None and lmv <= 0:
        raise ValueError("lam_max is 0: the intercept alone fits the targets, so lam_ratio has no scale; "
                         "there is nothing for neurons to learn")
    lam = s.lam if s.lam_ratio is None else s.lam_ratio * lmv
    if lam >= lmv:
        warnings.warn(f"lam = {lam:.6g} >= lam_max = {lmv:.6g}: the network is empty (no neurons); use "
                      "lam_ratio < 1 or a smaller lam", UserWarning, stacklevel=4)
    return float(lam), lm


def lam_max(X, y, *, loss: str = "squared", reg: str = "l1", bias: bool = True, depth: int = 2,
            max_columns: int | None = None, random_state=None, standardize: bool = False,
            time_limit: float | None = None, memory_budget: float | None = None) -> LamMax:
    """The smallest ``lam`` for which the optimal network has no neurons.

    With ``theta_0 = -grad L`` at the best constant prediction (projected onto ``1^T theta = 0``
    with a free intercept), ``lam_max = max_j ||K_j^T theta_0||`` over the dictionary (Lasso
    optimality at ``z = 0``, docs/conventions.md "Certificates"): every candidate when they can be
    priced in ``time_limit`` (streamed when needed), else over a sample, and the result says which.
    """
    s = FitSettings.build(loss=loss, reg=reg, bias=bias, depth=depth, max_columns=max_columns,
                          random_state=random_state, standardize=standardize, memory_budget=memory_budget,
                          **({} if time_limit is None else {"time_limit": time_limit}))
    prep = _prepare(X, y, s)
    return _lam_max_of(prep.D, s.loss, prep.y)


# ---------------------------------------------------------------------------- solving
def _check_solver_for(D, solver: str) -> None:
    if D.streamed and solver not in ("auto", "working_set"):
        raise ValueError(f"solver={solver!r} needs every column in memory; a streamed dictionary "
                         "(dictionary_mode='streamed', or 'auto' over the memory budget) takes solver='auto'")


def full_certificate(problem: LassoProblem, result, full_source) -> Certificate:
    """The certificate of ``result`` over ``full_source`` (every candidate), from one streamed pass.

    ``result.theta`` is the dual point of the solved (sampled) problem; its maximum score over
    the whole dictionary scales it into the full dual feasible set, so the gap bounds the
    suboptimality of ``result`` for the unsampled Lasso (docs/conventions.md, "Certificates").
    """
    _, _, m = full_source.violators(result.theta, 0, math.inf)
    return dual_certificate(problem.loss, problem.y, problem.lam, result.certificate.primal, result.theta, m,
                            full_source.n_columns)


def _from_solution(D, res, lam: float, loss_name: str) -> WedgeNetwork:
    """``WedgeNetwork.from_solution``; a sampled streamed dictionary reports global columns.

    The provenance ``column`` of a neuron is then its column in the unsampled streamed
    dictionary (candidate rank and orientation), the same for every draw.
    """
    if not (D.streamed and D.sampled):
        return WedgeNetwork.from_solution(D, res, lam=lam, loss=loss_name)
    res_g = dataclasses.replace(res, support=D.global_columns(res.support))
    net = WedgeNetwork.from_solution(D.full(), res_g, lam=lam, loss=loss_name)
    net.info.update(sampled=True, n_columns=int(D.n_columns), n_candidates=int(D.n_candidates))
    return net


def _scoped(cert: Certificate, D, *, all_candidates: bool) -> Certificate:
    """The solver's certificate with what its columns cover (the certificate owns the verdict)."""
    return cert.with_scope("all_candidates" if all_candidates else "sampled", exact=bool(D.exact),
                           n_candidates_total=int(D.n_candidates_total) * (2 if D.depth == 2 else 1)
                           if D.n_candidates_total < 2**62 else None)


def _network(prep: _Prepared, problem, res, s: FitSettings, lam: float, certify_all: bool,
             lm: LamMax | None) -> WedgeNetwork:
    """The network of a solver result, its certificate scoped; with ``certify_all`` and a sampled
    dictionary, certified over every candidate."""
    D = prep.D
    sample_cert = res.certificate
    full_cert = None
    if certify_all and D.sampled:
        full = D.full()  # every candidate, streamed from D's kept setup (no rebuild from the data)
        full_cert = full_certificate(problem, res, full)
        res.certificate = full_cert
        res.converged = bool(full_cert.relative_gap <= s.tol and full_cert.max_violation <= 1.0 + 1e-6)
    net = _from_solution(D, res, lam, s.loss.name)
    cert = _scoped(res.certificate, D, all_candidates=full_cert is not None or not D.sampled)
    net.set_certificate(cert)
    net.info["dictionary_mode"] = "streamed" if D.streamed else "explicit"
    if D.streamed:
        net.info["pricing_backend"] = D.pricer.name
        net.info["n_passes"] = int(D.n_passes)
    if full_cert is not None:
        net.info["certificate_scope"] = "all candidates"
        net.info["sample_relative_gap"] = sample_cert.relative_gap
        net.info["sample_max_violation"] = sample_cert.max_violation
    elif D.sampled:
        net.info["certificate_scope"] = "sampled candidates"
    return _finish(net, prep, s, lam, lm)


def _finish(net: WedgeNetwork, prep: _Prepared, s: FitSettings, lam: float, lm: LamMax | None) -> WedgeNetwork:
    """What every fitted network carries: the sampling reason, lam_max, labels, names, units."""
    if prep.plan.auto_sampled:
        net.info["sampling_reason"] = prep.plan.reason
    if lm is not None:
        net.info["lam_max"] = lm.value
        net.info["lam_ratio"] = lam / lm.value if lm.value > 0 else math.inf
    net.classes = prep.classes
    net.feature_names = s.feature_names
    if prep.active is not None:
        net = _expand_features(net, prep.active)
    if prep.standardization is not None:
        net = prep.standardization.to_original_units(net)
    return net


def _use_column_generation(prep: _Prepared, s: FitSettings) -> bool:
    """Column generation (:func:`wedgenet.beyond.fit_beyond`) beyond a sampled dictionary: on when
    asked, and by default when the fit sampled the candidates itself; two-layer, scalar output,
    and a loss the pricing program covers."""
    from .beyond.bound import BOUND_LOSSES

    want = prep.plan.auto_sampled if s.column_generation is None else s.column_generation
    if not want:
        return False
    ok = s.depth == 2 and s.loss.name in BOUND_LOSSES and prep.y.ndim == 1 and s.pricing == "local"
    if not ok and s.column_generation:
        raise ValueError("column_generation needs depth=2, scalar output, pricing='local' and a loss among "
                         f"{BOUND_LOSSES}")
    return ok


def _column_generation(prep: _Prepared, s: FitSettings, lam: float, lm: LamMax | None, seconds: float):
    """Grow the sampled dictionary by the heuristic and exact pricers until their stopping rule
    (``seconds`` is the safety net); the network keeps the sampled scope and gains a certified lower
    bound on the global optimum when a pricing MILP ran, and the certificate records a stop by the
    clock (``clock_stopped``: not reproducible)."""
    from .beyond import fit_beyond

    net = fit_beyond(prep.X, prep.y, lam=lam, loss=s.loss.name, reg=s.reg, bias=s.bias,
                     max_columns=prep.plan.max_columns or AUTO_COLUMNS, time_limit=seconds, tol=max(s.tol, 1e-4),
                     random_state=s.random_state, verbose=s.verbose,
                     base=None if prep.D.streamed else prep.D)  # the sample the fit drew (no second draw)
    cert = net.certificate.with_scope("sampled", exact=bool(prep.D.exact),
                                      clock_stopped=not net.info.get("reproducible", True))
    lb = net.info.get("bound_lower_bound")
    if lb is not None:
        cert = dataclasses.replace(cert, lower_bound=float(lb), bound_method="column generation + pricing MILP")
    net.set_certificate(cert)
    # the restricted solves run at a stricter tolerance than the fit's; "converged" is the fit's own
    # rule, as for every other fit (the verdict's "optimal over a sampled dictionary" uses it too)
    net.info["converged"] = cert.closed(s.tol)
    net.info["certificate_scope"] = "sampled candidates + column generation"
    return _finish(net, prep, s, lam, lm)


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
            net.set_certificate(_scoped(state.certificate, D, all_candidates=not D.sampled))
            net.info["interrupted"] = True
            msg = (f"fit interrupted; best certified state so far: {net.n_neurons} neurons, relative gap "
                   f"{state.certificate.relative_gap:.3g}, max dual violation {state.certificate.max_violation:.6g}")
        else:
            msg = "fit interrupted before the first certified state"
        raise FitInterrupted(msg, net) from exc


def fit(
    X,
    y,
    *,
    lam: float | None = None,
    lam_ratio: float | None = None,
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
    time_limit: float | None = None,
    standardize: bool = False,
    verbose: bool = False,
    dictionary_mode: str = "auto",
    pricing: str = "local",
    client=None,
    certify_all: bool = False,
    feature_names: Sequence[str] | None = None,
    bound_time: float | None = None,
    column_generation: bool | None = None,
    backend: str | None = None,
) -> WedgeNetwork:
    """Train a ReLU network by the convex wedge Lasso, with a certificate of optimality.

    Solves the Lasso ``L(K z + 1 t, y) + lam * ||z||_1`` over the wedge dictionary ``K`` of
    :func:`wedgenet.dictionary` (group penalty ``lam * sum_j ||Z_j||_2`` for vector output,
    Thm 14), which has the same optimal value as the network problem

        L(f(X), y) + (lam/2) * sum_j (||w_j||_p^2 + a_j^2)

    (docs/conventions.md: the penalty carries ``lam/2``; hidden biases and the output intercept
    ``t`` are free).  For ``reg="l1"`` over every candidate the result is the global optimum; for
    ``reg="l2"`` the dictionary approximates the network problem within ``1/(1-eps)``.
    ``net.certificate.verdict()`` says exactly which was proven.

    Parameters
    ----------
    X : (n, d) array.  y : targets: reals (``squared``), any two labels (``logistic``, ``hinge``,
        ``squared_hinge``), any labels (``softmax``); ``net.classes`` keeps them.
    lam : float > 0, optional
        The absolute strength.  Give ``lam`` or ``lam_ratio``, not both.
    lam_ratio : float in (0, 1], optional
        The strength relative to :func:`lam_max` (``lam = lam_ratio * lam_max``); default 0.05
        when ``lam`` is not given.  ``lam_max`` is computed over the dictionary the fit has when
        it resolves ``lam``: every candidate, or the sample when the plan (or the measured first
        chunk) sampled them.  When the pass that computes it shows that pricing every candidate
        would exceed ``time_limit``, the fit then samples the candidates for the solve (a
        :class:`SamplingWarning`): ``lam_max`` is then over every candidate while the solve is
        over a sample (``net.info["lam_max"]`` is the value used).  ``lam >= lam_max`` warns: the
        network is then empty.
    loss : a registered loss name (``wedgenet.solvers.LOSSES``): "squared" (``0.5 ||r||^2``),
        "logistic", "hinge", "squared_hinge", "softmax".
    reg, bias, depth, max_columns, random_state, memory_budget : see :func:`wedgenet.dictionary`.
    solver : "auto" (working set), "working_set", "cvxpy" (Clarabel on the full problem) or
        "sklearn" (coordinate descent on the full problem, squared loss).
    tol : target relative duality gap ``(primal - dual) / primal`` (default 1e-6); a
        ``ConvergenceWarning`` is raised when it is not reached.
    time_limit : seconds (default 120)
        A fit whose pricing passes over every candidate are estimated beyond it samples
        ``AUTO_COLUMNS`` candidate columns instead, with a :class:`SamplingWarning`; the
        certificate's scope then says "sampled".  ``None`` or ``inf``: no limit.
    standardize : bool
        Fit on standardized ``X`` (and ``y`` for squared loss) and return the network in the
        original units: the same neurons and defining samples, breaklines mapped exactly.
        ``lam`` then applies in standardized units (docs/choosing_settings.md).
    verbose : progress of the working set, and progress bars on streamed passes (shown anyway for
        a pass estimated beyond a few seconds).
    dictionary_mode : "auto", "explicit" or "streamed" (see :func:`wedgenet.streamed_dictionary`):
        ``"auto"`` is explicit when it fits the memory budget and ``8 n p`` bytes stay under
        ``STREAM_ABOVE_BYTES`` (0.1 GB, measured) or the solver needs every column; streamed otherwise.
    pricing : "local" or "dask"
        Where streamed passes run: local numba threads (default) or the Dask cluster of
        ``client`` (the ``dask`` extra; implies a streamed dictionary).  ``backend`` is its
        former name (deprecated).
    client : dask.distributed.Client, optional (default: the current default client).
    certify_all : bool
        With a sampled dictionary, certify the result over *every* candidate with one extra
        streamed pass (the certificate's scope becomes "all_candidates").
    feature_names : names of the columns of ``X``, kept on the network for display.
    bound_time : seconds, optional
        After the fit, compute a certified lower bound on the global optimum of the network
        problem (:meth:`WedgeNetwork.bound`, a pricing MILP over every neuron): the verdict then
        says "proven within X% of the global optimum".
    column_generation : bool, optional
        Grow a sampled dictionary by column generation (Adam seeds, adjacent-vertex local search
        and the pricing MILP, :func:`wedgenet.beyond.fit_beyond`) until a round adds no improving
        column (a work rule, so the result is reproducible for a fixed ``random_state``), with a
        certified lower bound when the pricing MILP ran.  The rest of ``time_limit`` is only its
        safety net; when it acts, ``net.info["stopped_by"]`` is ``"time_limit"`` and the verdict
        says "not reproducible".  Default: on when the fit sampled the candidates itself
        (two-layer, scalar output, squared/logistic/hinge loss).

    Returns
    -------
    WedgeNetwork
        Neurons with provenance; ``net.certificate`` (gap, violation, scope, ``verdict()``).

    Raises
    ------
    FitInterrupted
        On Ctrl-C during the solve (a ``KeyboardInterrupt``): its ``network`` attribute is
        the best certified state so far, if any.
    """
    s = FitSettings.build(lam=lam, lam_ratio=lam_ratio, loss=loss, reg=reg, bias=bias, depth=depth, solver=solver,
                          max_columns=max_columns, random_state=random_state, tol=tol, max_iter=max_iter,
                          memory_budget=memory_budget, standardize=standardize, verbose=verbose,
                          dictionary_mode=dictionary_mode, pricing=pricing, client=client, certify_all=certify_all,
                          feature_names=feature_names, bound_time=bound_time, column_generation=column_generation,
                          backend=backend,
                          **({} if time_limit is None else {"time_limit": time_limit}))
    return fit_settings(X, y, s)


def fit_settings(X, y, s: FitSettings) -> WedgeNetwork:
    """:func:`fit` with validated settings (the estimators and the CLI call this)."""
    t0 = time.perf_counter()
    prep = _prepare(X, y, s)
    _check_solver_for(prep.D, s.solver)
    prep = _calibrated(prep, s, t0)
    t_pass = time.perf_counter()
    was_streamed_full = prep.D.streamed and prep.plan.max_columns is None
    lam, lm = _resolve_lam(prep, s)
    if lm is not None and was_streamed_full:  # lam_max took one full pricing pass: re-decide with its time
        now = time.perf_counter()
        prep = _remeasured(prep, s, now - t_pass, s.time_limit - (now - t0), "took", MEASURED_PASSES - 1)
    if _use_column_generation(prep, s):
        left = s.time_limit - (time.perf_counter() - t0)  # the safety net only: the loop stops on work
        net = _column_generation(prep, s, lam, lm, max(left, 0.05) if math.isfinite(left) else 1e9)
    else:
        problem = LassoProblem(prep.D, prep.y, lam, s.loss, prep.D.fit_intercept)
        solver_be = get_backend(s.solver, problem)
        deadline = t0 + s.time_limit if math.isfinite(s.time_limit) else None
        res = _solve(solver_be, problem, prep.D, tol=s.tol, max_iter=s.max_iter, verbose=s.verbose, lam=lam,
                     loss=s.loss.name, deadline=deadline)
        net = _network(prep, problem, res, s, lam, s.certify_all, lm)
    if s.bound_time is not None:
        net.bound(X, y, time_limit=s.bound_time, verbose=s.verbose)
    net.info["fit_seconds"] = time.perf_counter() - t0
    return net


def fit_path(
    X,
    y,
    lams: Sequence[float] | None = None,
    *,
    n_lams: int = 10,
    lam_min_ratio: float = 0.01,
    **kw,
) -> list[WedgeNetwork]:
    """Networks along a regularisation path, one per ``lam``, in the given order.

    ``lams`` default: ``n_lams`` values from ``lam_max`` down to ``lam_min_ratio * lam_max`` on a
    geometric grid (like scikit-learn's ``lasso_path``).  The other keywords are those of
    :func:`fit` (``lam`` and ``lam_ratio`` excepted).  The dictionary is built once; each solve
    starts from the previous working set (warm start), so a decreasing sequence is cheapest.

    ``time_limit`` (seconds, default 120) means what it means for :func:`fit`, for the whole path:
    candidates estimated beyond it are sampled (a :class:`SamplingWarning`), and no working-set
    iteration starts that would end after it; once it has passed, each remaining ``lam`` gets one
    iteration, and its certificate (with a ``ConvergenceWarning``) says how far that is from
    optimal.  ``None`` or ``inf``: no limit.
    """
    if "lam" in kw or "lam_ratio" in kw:
        raise ValueError("fit_path takes lams= (absolute values) or the default grid (n_lams, lam_min_ratio), "
                         "not lam/lam_ratio")
    t0 = time.perf_counter()
    s = FitSettings.build(**kw)
    if s.certify_all:
        raise ValueError("certify_all is not supported by fit_path; certify the chosen network with fit()")
    prep = _prepare(X, y, s)
    _check_solver_for(prep.D, s.solver)
    lm = _lam_max_of(prep.D, s.loss, prep.y)
    lmv = lm.value
    if lams is None:
        n_lams = check_positive_int("n_lams", n_lams)
        lam_min_ratio = check_nonneg_float("lam_min_ratio", lam_min_ratio, strictly_positive=True)
        if lam_min_ratio >= 1:
            raise ValueError(f"lam_min_ratio must be < 1; got {lam_min_ratio!r}")
        if lmv <= 0:
            raise ValueError("lam_max is 0: the intercept alone fits the targets; there is no path")
        lam_arr = lmv * np.geomspace(1.0, lam_min_ratio, n_lams)
    else:
        if np.asarray(lams).dtype == np.bool_:
            raise ValueError(f"lams must be positive numbers; got booleans {lams!r}")
        lam_arr = as_float_array("lams", lams, ndim=1)
        if np.any(lam_arr <= 0):
            raise ValueError("lams must all be > 0")
    solver_name = "working_set" if s.solver == "auto" else s.solver
    solver_be = get_backend(solver_name, LassoProblem(prep.D, prep.y, float(lam_arr[0]), s.loss,
                                                      prep.D.fit_intercept))
    nets = []
    warm = None
    deadline = t0 + s.time_limit if math.isfinite(s.time_limit) else None
    for lam in lam_arr:
        problem = LassoProblem(prep.D, prep.y, float(lam), s.loss, prep.D.fit_intercept)
        extra = {"warm_start": warm} if solver_name == "working_set" else {}
        res = _solve(solver_be, problem, prep.D, lam=float(lam), loss=s.loss.name, tol=s.tol, max_iter=s.max_iter,
                     verbose=s.verbose, deadline=deadline, **extra)
        warm = res
        nets.append(_network(prep, problem, res, s, float(lam), False, lm))
    return nets
