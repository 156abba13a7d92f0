"""Column generation beyond enumeration: a sampled dictionary, two pricers, one loop.

The loop (``fit_beyond``):

1. Build a sampled wedge dictionary (``wedgenet.dictionary(..., max_columns=...)``) and put it
   in a growable :class:`~wedgenet.beyond.columns.ColumnSet`.
2. Solve the restricted Lasso ``L(K z + 1 t, y) + lam ||z||_1`` over the set with the project's
   working-set back-end (warm-started); its dual point is ``theta = -grad L`` projected onto
   ``1^T theta = 0`` (docs/conventions.md, "Certificates").
   The neurons of ``seed_network`` (default: a short Adam run on the same objective), each
   snapped to its vertex, join the set after the first restricted solve.
3. *Heuristic pricing* (:mod:`~wedgenet.beyond.local_search`): from the best-scoring columns,
   climb to adjacent vertices of the arrangement while ``|K_j^T theta| / lam`` increases; every
   local maximum above 1 joins the set; back to 2 while a round lowers the objective by more
   than ``LOCAL_GAIN_RTOL`` (before the first bound, ``max(0.3 time_limit, first slice)`` is kept
   for the MILP; each climb stops at its deadline).
4. Then *exact pricing* (:mod:`~wedgenet.beyond.milp`): the MILP
   bounds the maximum violation over every neuron within a time slice.  Its certified upper
   bound gives the lower bound of :mod:`~wedgenet.beyond.bound` (kept as the best over rounds:
   every round's ``theta`` is a dual point); its incumbents, snapped to their vertex (the
   ``D - 1`` tightest rows: the samples on the breakline and the zero coordinates) and climbed,
   join the set.  If none violates, the next slice is twice as long.
5. Stop when the relative gap ``(objective - best lower bound) / objective <= tol``, or at
   ``time_limit``.
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from .._validation import as_float_array, check_bool, check_nonneg_float, check_positive_int
from ..dictionaries import dictionary
from ..dictionaries.families import get_family
from ..network import WedgeNetwork
from ..solvers import LassoProblem, WorkingSet, get_loss
from .bound import BOUND_LOSSES, Bound, scaled_dual, scope_text
from .columns import ColumnSet
from .local_search import best_vertices
from .milp import price_milp
from .vertices import Geometry

__all__ = ["fit_beyond", "ColumnGeneration"]

#: the local search alone continues while a round lowers the objective by more than this (relative);
#: otherwise (or once only the time kept for the first bound is left) the pricing MILP runs
LOCAL_GAIN_RTOL = 1e-4
#: the ``seed_network="adam"`` run: width, planned steps, and the share of ``time_limit`` it may take
ADAM_WIDTH = 64
ADAM_STEPS = 2000
#: at most this many Adam runs (different initialisations), as many as fit in the time share
ADAM_RUNS = 4
#: Adam from the restricted network, snapped again: rounds, steps and step size
POLISH_ROUNDS = 8
POLISH_STEPS = 500
POLISH_LR = 1e-3
ADAM_TIME_SHARE = 0.2


def _seed_neurons(seed_network) -> tuple[np.ndarray, np.ndarray] | None:
    if seed_network is None:
        return None
    if isinstance(seed_network, tuple) and len(seed_network) == 2:
        W, b = seed_network
    elif hasattr(seed_network, "W1") and hasattr(seed_network, "b1"):
        W, b = seed_network.W1, seed_network.b1
    else:
        raise ValueError("seed_network must be a network with W1, b1 (e.g. a WedgeNetwork) or a tuple (W1, b1)")
    W = as_float_array("seed_network weights", W, ndim=2)
    b = as_float_array("seed_network biases", b, ndim=1)
    if b.shape[0] != W.shape[0]:
        raise ValueError("seed_network: W1 and b1 have different numbers of neurons")
    return W, b


def _adam_seeds(run, lam, loss, reg, bias, random_state, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """The first-layer neurons of up to ``ADAM_RUNS`` Adam runs (different inits) within ``seconds``."""
    from .adam import adam_network

    ts = time.perf_counter()
    end = ts + seconds
    rs = random_state if isinstance(random_state, int) and not isinstance(random_state, bool) else 0
    Ws, bs, objs = [], [], []
    for k in range(ADAM_RUNS):
        t = time.perf_counter()
        if k and end - t < (t - ts) / k:  # another run would not finish in time
            break
        W, b, _, _, obj = adam_network(run.X, run.y, lam=lam, loss=loss, reg=reg, bias=bias, width=ADAM_WIDTH,
                                       steps=ADAM_STEPS, random_state=rs + k, deadline=end)
        Ws.append(W)
        bs.append(b)
        objs.append(obj)
    run.times["seed"] += time.perf_counter() - ts
    run.log(f"{len(objs)} Adam seed runs (width {ADAM_WIDTH}): best objective {min(objs):.10g} in "
            f"{time.perf_counter() - ts:.1f}s")
    return np.vstack(Ws), np.concatenate(bs)


class ColumnGeneration:
    """The state of one run: the column set, the restricted solution, the best bound and the time split."""

    def __init__(self, X, y, lam, loss_obj, reg, bias, base, *, tol, verbose, theorem):
        self.X, self.y, self.lam, self.loss, self.reg, self.bias = X, y, lam, loss_obj, reg, bias
        self.cs = ColumnSet(X, base, reg=reg, bias=bias)
        self.geo = Geometry(X, bias=bias, reg=reg)
        self.problem = LassoProblem(self.cs, y, lam, loss_obj, self.cs.fit_intercept)
        self.backend = WorkingSet()
        self.tol, self.verbose, self.theorem = tol, verbose, theorem
        self.res = None
        self.best_lb = 0.0  # every loss here is >= 0, so the optimum is >= 0
        self.v_upper = np.inf
        self.v_found = 0.0
        self.optimal = False
        self.times = {"seed": 0.0, "restricted": 0.0, "local_search": 0.0, "milp": 0.0}
        self.history: list[tuple[float, float, float]] = []
        self.n_added = {"seed": 0, "local_search": 0, "milp": 0}
        self.t0 = time.perf_counter()

    def log(self, msg: str) -> None:
        if self.verbose:
            print(f"[beyond {time.perf_counter() - self.t0:7.1f}s] {msg}", flush=True)

    def solve(self) -> None:
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.res = self.backend.solve(self.problem, tol=min(1e-9, self.tol * 1e-3), max_iter=200,
                                          warm_start=self.res)
        self.times["restricted"] += time.perf_counter() - t

    @property
    def upper(self) -> float:
        return float(self.res.certificate.primal)

    @property
    def gap(self) -> float:
        return max(self.upper - self.best_lb, 0.0) / max(abs(self.upper), 1e-300)

    def add_vertex(self, rows, v, source: str) -> bool:
        W, b = self.geo.to_data(v[None])
        theorem = self.theorem
        if self.reg == "l2" and np.any(np.asarray(rows) >= self.geo.n):  # a face w_k = 0: not a Thm 3/5 subset
            theorem = "vertex of the l1 arrangement (not a p=2 dictionary candidate)"
        rec = self.geo.record(rows, v, theorem)
        if self.cs.add(W[0], float(b[0]), rec) is None:
            return False
        self.n_added[source] += 1
        return True

    def add_seeds(self, W: np.ndarray, b: np.ndarray, deadline: float | None = None) -> int:
        """Snap the neurons ``(W, b)`` (data units) to their vertices and add them; returns the number added.

        Each is snapped to its ``D - 1`` tightest independent rows (the samples nearest its
        breakline and the basis rows of its near-zero weights, as polishing snaps), so it is a
        sample-defined neuron with provenance, whether or not it violates the dual constraint.
        Snapping stops at ``deadline`` (a ``time.perf_counter()`` value; at D = 55, a few tenths of a
        second per neuron on a loaded machine).
        """
        added = 0
        for v0 in self.geo.from_data(W, b):
            if deadline is not None and time.perf_counter() > deadline:
                break
            rows = self.geo.tight_rows(v0)
            v = self.geo.vertex(rows, sign_ref=v0) if rows is not None else None
            if v is not None and self.add_vertex(rows, v, "seed"):
                added += 1
        return added

    def polish_seeds(self, deadline: float) -> bool:
        """Adam from the restricted network (its neurons as they are), snapped again and added; True
        when the objective decreased."""
        from .adam import adam_network

        t = time.perf_counter()
        if t >= deadline or self.res.support.size == 0:
            return False
        net = WedgeNetwork.from_solution(self.cs, self.res, lam=self.lam, loss=self.loss.name)
        W, b, _, _, obj = adam_network(self.X, self.y, lam=self.lam, loss=self.loss.name, reg=self.reg, bias=self.bias,
                                       steps=POLISH_STEPS, lr=POLISH_LR, deadline=deadline,
                                       init=(net.W1, net.b1, net.W2.ravel(), float(np.ravel(net.b2)[0])))
        before = self.upper
        added = self.add_seeds(W, b, deadline)
        self.times["seed"] += time.perf_counter() - t
        if added:
            self.solve()
        self.log(f"Adam from the restricted network: objective {obj:.10g}; {added} snapped neurons added; "
                 f"objective {self.upper:.10g}, {self.res.support.size} neurons")
        return self.upper < before * (1 - LOCAL_GAIN_RTOL)

    def heuristic(self, max_starts: int, deadline: float) -> int:
        """Local search from the best columns; returns the number of columns added."""
        t = time.perf_counter()
        theta = self.res.theta
        sc = self.cs.scores(theta)
        top = np.argsort(-sc)[:max_starts]
        V0 = self.geo.from_data(self.cs.weights[top], self.cs.biases[top])
        found = best_vertices(self.geo, V0, theta, max_starts=V0.shape[0], deadline=deadline)
        added = 0
        for rows, v, score in found:
            if score > self.lam * (1.0 + 1e-7) and self.add_vertex(rows, v, "local_search"):
                added += 1
        self.times["local_search"] += time.perf_counter() - t
        self._found = found
        return added

    def exact(self, time_limit: float) -> int:
        """One MILP pricing round: update the bound, add violating incumbents; returns the number added."""
        theta = self.res.theta
        self.log(f"pricing MILP over every neuron: up to {time_limit:.0f}s")
        # no objective cutoff: measured to slow HiGHS down (docs/bound.md)
        pr = price_milp(self.geo, theta, self.lam, time_limit=time_limit, verbose=self.verbose)
        self.times["milp"] += pr.seconds
        lb = scaled_dual(self.loss, theta, self.y, pr.upper)
        if lb > self.best_lb or not self.history:
            self.best_lb, self.v_upper, self.optimal = max(lb, self.best_lb), pr.upper, pr.optimal
            self.v_found = max(pr.lower, max((s for _, _, s in getattr(self, "_found", [])), default=0.0) / self.lam)
        self.history.append((time.perf_counter() - self.t0, self.best_lb, self.upper))
        self.log(f"objective {self.upper:.10g}, lower bound {self.best_lb:.10g} (gap {self.gap:.3g}); "
                 f"violation <= {pr.upper:.6g}, incumbent {pr.lower:.6g}")
        added = 0
        for v, viol in pr.V:
            if viol <= 1.0 + 1e-7:
                continue
            rows = self.geo.tight_rows(v)
            vv = self.geo.vertex(rows, sign_ref=v) if rows is not None else None
            if vv is None:
                continue
            from .local_search import climb

            rows, vv, _, _ = climb(self.geo, rows, vv, theta)
            if self.add_vertex(rows, vv, "milp"):
                added += 1
        return added

    def bound(self) -> Bound:
        return Bound(lower_bound=float(min(self.best_lb, self.upper) if self.best_lb <= self.upper * (1 + 1e-12)
                                       else self.best_lb),
                     upper=self.upper, relative_gap=float(self.gap), method="column generation + pricing MILP "
                     "(scipy.optimize.milp / HiGHS)", seconds=time.perf_counter() - self.t0,
                     solved_to_optimality=bool(self.optimal),
                     scope=scope_text(self.reg, self.loss.name, self.bias, self.optimal),
                     max_violation_upper=float(self.v_upper), max_violation_found=float(self.v_found))

    def network(self) -> WedgeNetwork:
        net = WedgeNetwork.from_solution(self.cs, self.res, lam=self.lam, loss=self.loss.name)
        b = self.bound()
        net.info.update(b.as_info())
        net.info.update({
            "certificate_scope": "bounded" if np.isfinite(self.v_upper) else "sampled candidates",
            "n_columns_added_seed": int(self.n_added["seed"]),
            "n_columns_added_local_search": int(self.n_added["local_search"]),
            "n_columns_added_milp": int(self.n_added["milp"]),
            "seconds_seed": float(self.times["seed"]),
            "seconds_restricted": float(self.times["restricted"]),
            "seconds_local_search": float(self.times["local_search"]),
            "seconds_milp": float(self.times["milp"]),
        })
        return net


def fit_beyond(X, y, *, lam: float, loss: str = "squared", reg: str = "l1", bias: bool = True,
               max_columns: int = 20000, time_limit: float = 300.0, tol: float = 1e-4, random_state=None,
               verbose: bool = False, seed_network="adam", milp_slice: float | None = None,
               max_starts: int = 16) -> WedgeNetwork:
    """Train a two-layer ReLU network by column generation over every neuron, with a certified bound.

    See the module docstring for the loop.  ``tol`` is the target relative gap between the
    network's objective and the certified lower bound on the global optimum; ``time_limit``
    (seconds) ends the run otherwise.  ``milp_slice`` is the first pricing MILP's time limit
    (default ``min(60, max(5, time_limit / 5))``, doubled after each round that adds nothing).
    ``seed_network`` (default ``"adam"``: a short numpy Adam run on the same objective,
    :func:`wedgenet.beyond.adam.adam_network`, width ``ADAM_WIDTH``, at most ``ADAM_TIME_SHARE``
    of ``time_limit``; or a network with ``W1, b1``; or a tuple ``(W1, b1)``; ``None``: no seed):
    its neurons, each snapped to its vertex (the samples nearest its breakline), join the sampled
    set before the first local search, so the result is never worse than the seed's snapped
    neurons refitted and every neuron stays sample-defined.

    Returns a :class:`~wedgenet.WedgeNetwork` whose neurons carry their defining samples (the
    tight rows of their vertex); ``net.info`` holds the bound as flat ``bound_*`` entries
    (``bound_lower_bound``, ``bound_upper``, ``bound_relative_gap``, ``bound_method``,
    ``bound_seconds``, ``bound_solved_to_optimality``, ``bound_scope``, ...), the time split
    (``seconds_restricted``, ``seconds_local_search``, ``seconds_milp``) and the column counts.
    Ctrl-C raises :class:`wedgenet.FitInterrupted` with the network of the last restricted solve.
    """
    from ..fitting import FitInterrupted, encode_targets

    Xa = as_float_array("X", X, ndim=2)
    n, d = Xa.shape
    if n == 0 or d == 0:
        raise ValueError(f"X must have at least one sample and one feature; got shape {Xa.shape}")
    lam = check_nonneg_float("lam", lam, strictly_positive=True)
    if not isinstance(loss, str) or loss not in BOUND_LOSSES:
        raise ValueError(f"loss must be one of {BOUND_LOSSES} for fit_beyond; got {loss!r}")
    if reg not in ("l1", "l2"):
        raise ValueError(f"reg must be 'l1' or 'l2'; got {reg!r}")
    bias = check_bool("bias", bias)
    max_columns = check_positive_int("max_columns", max_columns)
    time_limit = check_nonneg_float("time_limit", time_limit, strictly_positive=True)
    tol = check_nonneg_float("tol", tol, strictly_positive=True)
    verbose = check_bool("verbose", verbose)
    max_starts = check_positive_int("max_starts", max_starts)
    slice0 = min(60.0, max(5.0, time_limit / 5)) if milp_slice is None else check_nonneg_float(
        "milp_slice", milp_slice, strictly_positive=True)
    yy = encode_targets(loss, y, n)
    if yy.ndim != 1:
        raise ValueError("y must be 1-D (scalar output) for fit_beyond")
    if loss != "squared" and bias and np.unique(yy).size < 2:
        raise ValueError(f"y must contain both labels for loss={loss!r} with an intercept")
    adam = isinstance(seed_network, str)
    if adam and seed_network != "adam":
        raise ValueError(f"seed_network must be a network, a tuple (W1, b1), 'adam' or None; got {seed_network!r}")
    seeds = None if adam else _seed_neurons(seed_network)
    if seeds is not None and seeds[0].shape[1] != d:
        raise ValueError(f"seed_network has {seeds[0].shape[1]} inputs; X has {d} features")
    loss_obj = get_loss(loss)
    t0 = time.perf_counter()
    deadline = t0 + time_limit
    D = dictionary(Xa, reg=reg, bias=bias, max_columns=max_columns, random_state=random_state)
    theorem = get_family(reg, bias, 2).theorem(d)
    run = ColumnGeneration(Xa, yy, lam, loss_obj, reg, bias, D, tol=tol, verbose=verbose, theorem=theorem)
    run.t0 = t0
    run.log(f"sampled dictionary: {D.n_columns:,} columns; time limit {time_limit:.0f}s")
    milp_time = slice0
    try:
        run.solve()
        run.log(f"restricted solve: objective {run.upper:.10g}, {run.res.support.size} neurons")
        if adam:
            seeds = _adam_seeds(run, lam, loss, reg, bias, random_state, ADAM_TIME_SHARE * time_limit)
        if seeds is not None:
            ts = time.perf_counter()
            added = run.add_seeds(*seeds, deadline=ts + ADAM_TIME_SHARE * time_limit)
            run.times["seed"] += time.perf_counter() - ts
            if added:
                run.solve()
            run.log(f"{added} snapped seed neurons added; objective {run.upper:.10g}, "
                    f"{run.res.support.size} neurons")
            if adam:
                polish_end = time.perf_counter() + ADAM_TIME_SHARE * time_limit
                for _ in range(POLISH_ROUNDS):
                    if not run.polish_seeds(polish_end):
                        break
        reserve = max(0.3 * time_limit, slice0)  # kept for the pricing MILP until the first bound
        while time.perf_counter() < deadline:
            ls_deadline = deadline - (0.0 if run.history else reserve)
            if time.perf_counter() < ls_deadline:
                before = run.upper
                added = run.heuristic(max_starts, ls_deadline)
                if added:
                    run.solve()
                    run.log(f"local search added {added} columns; objective {run.upper:.10g}, "
                            f"{run.res.support.size} neurons")
                    gain = (before - run.upper) / max(abs(before), 1e-300)
                    if gain > LOCAL_GAIN_RTOL and time.perf_counter() < ls_deadline:
                        continue
            remaining = deadline - time.perf_counter()
            if remaining < 1.0:
                break
            added = run.exact(min(milp_time, remaining))
            if run.gap <= tol:
                break
            if added:
                run.solve()
                run.log(f"MILP added {added} columns; objective {run.upper:.10g}")
            else:
                milp_time *= 2
    except KeyboardInterrupt as exc:
        net = run.network() if run.res is not None else None
        if net is not None:
            net.info["interrupted"] = True
        raise FitInterrupted("fit_beyond interrupted; the network of the last restricted solve is attached", net) \
            from exc
    if not run.history:  # no MILP round ran (time limit): the bound is the trivial 0
        run.history.append((time.perf_counter() - t0, run.best_lb, run.upper))
    net = run.network()
    net.info["bound_history"] = ";".join(f"{t:.1f}:{lb:.10g}:{ub:.10g}" for t, lb, ub in run.history)
    return net
