"""Column generation beyond enumeration: a sampled dictionary, two pricers, one loop.

The loop (``fit_beyond``) stops on *work*, not on the clock, so a fit is reproducible for a fixed
``random_state`` (``time_limit`` is only a safety net, and ``net.info`` says when it acted):

1. Build a sampled wedge dictionary (``wedgenet.dictionary(..., max_columns=...)``) and put it
   in a growable :class:`~wedgenet.beyond.columns.ColumnSet`.
2. Solve the restricted Lasso ``L(K z + 1 t, y) + lam ||z||_1`` over the set with the project's
   working-set back-end (warm-started); its dual point is ``theta = -grad L`` projected onto
   ``1^T theta = 0`` (docs/conventions.md, "Certificates").
   The neurons of ``seed_network`` (default: ``ADAM_RUNS`` Adam runs of ``ADAM_STEPS`` steps on
   the same objective), each snapped to its vertex (the nearest one, and for ``p = 1`` also the
   vertex of its cell with the largest dual violation, ``SNAP_CELL``), join the set after the
   first restricted solve; then up to ``POLISH_ROUNDS`` rounds of ``POLISH_STEPS`` Adam steps from the restricted
   network, snapped again, while a round lowers the objective by more than ``LOCAL_GAIN_RTOL``.
3. A *round*: the heuristic pricer (:mod:`~wedgenet.beyond.local_search`) climbs from the
   ``max_starts`` best-scoring columns to adjacent vertices of the arrangement while
   ``|K_j^T theta| / lam`` increases; every local maximum above 1 joins the set, and the climb
   repeats while it lowers the objective by more than ``LOCAL_GAIN_RTOL``, at most
   ``max_local_searches`` times over the whole run, fewer when climbing is costly (``LOCAL_WORK``).
   Then the exact pricer (:mod:`~wedgenet.beyond.milp`): the MILP bounds
   the maximum violation over every neuron within a *node limit* (``milp_nodes`` branch-and-bound
   nodes per side, deterministic work).  Its certified upper bound gives the lower bound of
   :mod:`~wedgenet.beyond.bound` (the best over rounds: every round's ``theta`` is a dual
   point); its violating incumbents, snapped to their vertex and climbed, join the set.  The
   MILP runs only while its program has at most ``milp_max_binaries`` binaries (its root node
   alone takes tens of seconds beyond a few hundred); otherwise the rounds are local search only
   and no bound is claimed.
4. Stop when the relative gap ``(objective - best lower bound) / objective <= tol``, or when a
   round adds no *improving* column (one that lowers the objective by more than
   ``LOCAL_GAIN_RTOL``): such a round first multiplies the node limit by ``MILP_NODE_GROWTH``
   (at most ``milp_escalations`` times, only while the MILP runs), then ends the loop
   (``"no improving column"``); or when the work budget is spent (``"work budget"``: ``max_rounds``
   rounds, or the local searches spent while no MILP runs).  ``net.info["stopped_by"]`` names
   the rule.
5. ``time_limit`` is a safety net only: every stage stops at it (Adam steps, snapping, climbs,
   the MILP's HiGHS time limit, the restricted solve's iterations).  When it acts, the result
   depends on the machine's speed: ``net.info["stopped_by"] == "time_limit"`` and
   ``net.info["reproducible"]`` is False (the verdict says so).
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
from threadpoolctl import threadpool_limits

from .._validation import as_float_array, check_bool, check_nonneg_float, check_positive_int
from ..dictionaries import dictionary
from ..dictionaries.families import get_family
from ..network import WedgeNetwork
from ..solvers import LassoProblem, WorkingSet, get_loss
from .bound import BOUND_LOSSES, Bound, scaled_dual, scope_text
from .columns import ColumnSet
from .local_search import best_vertices
from .milp import n_binaries, price_milp
from .vertices import Geometry

__all__ = ["fit_beyond", "ColumnGeneration"]

#: an improving column lowers the restricted objective by more than this (relative): the local search
#: repeats, polishing goes on and a round counts as improving only above it
LOCAL_GAIN_RTOL = 1e-4
#: the ``seed_network="adam"`` runs: width, steps per run and the number of runs (different inits)
ADAM_WIDTH = 64
ADAM_STEPS = 2000
ADAM_RUNS = 2
#: of each seed run, the neurons snapped: those carrying at least ``SNAP_RTOL`` of the largest
#: ``|a_j| ||w_j||_p`` (the penalty drives the others to zero), at most ``SNAP_MAX``, strongest first
#: (snapping costs tens of milliseconds per neuron at d = 30)
SNAP_RTOL = 1e-3
SNAP_MAX = 32
#: the first ``SNAP_CELL`` seed neurons of a snapping (the strongest of the best Adam run) also add the
#: vertex of their cell (activation and weight-sign pattern) with the largest dual violation (p = 1: a
#: linear program, :meth:`~wedgenet.beyond.vertices.Geometry.cell_vertex`, ~50 ms at D = 65, loaded)
SNAP_CELL = 16
#: Adam from the restricted network, snapped again: rounds, steps and step size
POLISH_ROUNDS = 8
POLISH_STEPS = 500
POLISH_LR = 1e-3
#: local searches over the whole run at most (each climbs from the ``max_starts`` best columns)
MAX_LOCAL_SEARCHES = 4
#: the local searches' work budget, in units of ``(D - 1) (n + d) n`` (one swap position scanned for
#: every row and sample, what a climb step costs): ``max(1, min(max_local_searches, LOCAL_WORK /
#: ((D - 1) (n + d) n)))`` searches, so 4 at d = 10 up to n = 330, 1 at d = 30, n = 426
LOCAL_WORK = 5e6
#: the pricing MILP's first node limit per side, its growth after a round without an improving
#: column and how many times it may grow (then the loop stops)
MILP_NODES = 50
MILP_NODE_GROWTH = 4
MILP_ESCALATIONS = 1
#: the MILP prices only programs with at most this many binaries (its root node is measured at about
#: 1 s with 75 binaries and 30-60 s with 220, d = 10, 2 cores)
MILP_MAX_BINARIES = 40
#: rounds (local search + MILP) at most
MAX_ROUNDS = 50
#: the stopping rules, as ``net.info["stopped_by"]`` names them
STOP_RULES = ("gap", "no improving column", "work budget", "time_limit")


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


def _adam_seeds(run, lam, loss, reg, bias, random_state) -> tuple[np.ndarray, np.ndarray]:
    """The first-layer neurons of ``ADAM_RUNS`` Adam runs of ``ADAM_STEPS`` steps (inits
    ``random_state + k``); the run's deadline only as a safety net."""
    from .adam import adam_network

    ts = time.perf_counter()
    rs = random_state if isinstance(random_state, int) and not isinstance(random_state, bool) else 0
    Ws, bs, objs = [], [], []
    for k in range(ADAM_RUNS):
        if run.out_of_time("Adam seeding"):
            break
        W, b, a, _, obj = adam_network(run.X, run.y, lam=lam, loss=loss, reg=reg, bias=bias, width=ADAM_WIDTH,
                                       steps=ADAM_STEPS, random_state=rs + k, deadline=run.deadline)
        keep = _strongest(W, a, 1 if reg == "l1" else 2)
        Ws.append(W[keep])
        bs.append(b[keep])
        objs.append(obj)
    run.out_of_time("Adam seeding")
    run.times["seed"] += time.perf_counter() - ts
    if not objs:
        return np.zeros((0, run.X.shape[1])), np.zeros(0)
    run.log(f"{len(objs)} Adam seed runs (width {ADAM_WIDTH}): best objective {min(objs):.10g} in "
            f"{time.perf_counter() - ts:.1f}s")
    first = int(np.argmin(objs))  # the best run first: its neurons are the ones snapped to their cells
    order = [first] + [k for k in range(len(objs)) if k != first]
    return np.vstack([Ws[k] for k in order]), np.concatenate([bs[k] for k in order])


def _strongest(W: np.ndarray, a: np.ndarray, p: int) -> np.ndarray:
    """Indices of the neurons with ``|a_j| ||w_j||_p >= SNAP_RTOL * max``, at most ``SNAP_MAX``, strongest first."""
    from .._linalg import row_norms

    s = np.abs(a) * row_norms(W, p)
    order = np.argsort(-s, kind="stable")
    top = float(s[order[0]]) if s.size else 0.0
    return order[: SNAP_MAX][s[order[: SNAP_MAX]] >= SNAP_RTOL * top] if top > 0 else order[:0]


class ColumnGeneration:
    """The state of one run: the column set, the restricted solution, the best bound, the time split
    and the stages the safety-net clock cut short (``clock_stops``)."""

    def __init__(self, X, y, lam, loss_obj, reg, bias, base, *, tol, verbose, theorem, deadline=math.inf):
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
        self.deadline = deadline
        self.clock_stops: list[str] = []
        self.stopped_by = ""
        self.n_rounds = 0
        self.milp_skipped = ""
        self._seen: set[tuple] = set()

    def out_of_time(self, stage: str) -> bool:
        """Whether the safety-net deadline has passed; records ``stage`` as cut short by it."""
        if time.perf_counter() < self.deadline:
            return False
        if stage not in self.clock_stops:
            self.clock_stops.append(stage)
        return True

    def log(self, msg: str) -> None:
        if self.verbose:
            print(f"[beyond {time.perf_counter() - self.t0:7.1f}s] {msg}", flush=True)

    def solve(self) -> None:
        t = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            self.res = self.backend.solve(self.problem, tol=min(1e-9, self.tol * 1e-3), max_iter=200,
                                          warm_start=self.res,
                                          deadline=self.deadline if math.isfinite(self.deadline) else None)
        self.times["restricted"] += time.perf_counter() - t
        # the working set also stops *before* the deadline when its next iteration, as measured, would
        # end after it: its warning says so ("would pass the time limit")
        if any("time limit" in str(w.message) for w in caught) and "restricted solve" not in self.clock_stops:
            self.clock_stops.append("restricted solve")
        self.out_of_time("restricted solve")

    @property
    def upper(self) -> float:
        return float(self.res.certificate.primal)

    @property
    def gap(self) -> float:
        return max(self.upper - self.best_lb, 0.0) / max(abs(self.upper), 1e-300)

    def improved(self, before: float) -> bool:
        """The restricted objective fell below ``before`` by more than ``LOCAL_GAIN_RTOL`` (relative):
        the one test of an improving column, a useful polish round and a useful local search."""
        return (before - self.upper) > LOCAL_GAIN_RTOL * max(abs(before), 1e-300)

    def add_vertex(self, rows, v, source: str) -> bool:
        # a vertex tried before (same row set, same orientation: the same neuron) is not built again
        # (its provenance record costs an exact cross product, ~10 ms at D = 65)
        seen = (tuple(sorted(int(r) for r in rows)), bool(v[int(np.argmax(np.abs(v)))] > 0))
        if seen in self._seen:
            return False
        self._seen.add(seen)
        W, b = self.geo.to_data(v[None])
        theorem = self.theorem
        if self.reg == "l2" and np.any(np.asarray(rows) >= self.geo.n):  # a face w_k = 0: not a Thm 3/5 subset
            theorem = "vertex of the l1 arrangement (not a p=2 dictionary candidate)"
        rec = self.geo.record(rows, v, theorem)
        if self.cs.add(W[0], float(b[0]), rec) is None:
            return False
        self.n_added[source] += 1
        return True

    def add_seeds(self, W: np.ndarray, b: np.ndarray) -> int:
        """Snap the neurons ``(W, b)`` (data units) to their vertices and add them; returns the number added.

        Each is snapped to its ``D - 1`` tightest independent rows (the samples nearest its
        breakline and the basis rows of its near-zero weights, as polishing snaps), so it is a
        sample-defined neuron with provenance, whether or not it violates the dual constraint.
        For the first ``SNAP_CELL`` neurons (``p = 1``, after a restricted solve) the vertex of its cell with the
        largest violation ``|K_j^T theta|`` joins too (:meth:`Geometry.cell_vertex`, one LP of
        ``n + d`` rows: about 50 ms at D = 65 on a loaded machine): its violation is at least the
        neuron's own, while the nearest vertex can lose much of it (digits 3-vs-8: objective
        17.76 with it, 18.28 without, same lam).  The safety-net deadline stops the snapping.
        """
        added = 0
        theta = self.res.theta if self.res is not None else None
        for j, v0 in enumerate(self.geo.from_data(W, b)):
            if self.out_of_time("snapping seeds"):
                break
            vc = self.geo.cell_vertex(v0, theta) if theta is not None and j < SNAP_CELL else None
            for snapped in (self.geo.snap(v0), None if vc is None else self.geo.snap(vc)):
                if snapped is not None and self.add_vertex(*snapped, "seed"):
                    added += 1
        return added

    def polish_seeds(self) -> bool:
        """``POLISH_STEPS`` Adam steps from the restricted network (its neurons as they are), snapped
        again and added; True when the objective decreased by more than ``LOCAL_GAIN_RTOL``."""
        from .adam import adam_network

        t = time.perf_counter()
        if self.out_of_time("polishing") or self.res.support.size == 0:
            return False
        net = WedgeNetwork.from_solution(self.cs, self.res, lam=self.lam, loss=self.loss.name)
        W, b, a, _, obj = adam_network(self.X, self.y, lam=self.lam, loss=self.loss.name, reg=self.reg, bias=self.bias,
                                       steps=POLISH_STEPS, lr=POLISH_LR, deadline=self.deadline,
                                       init=(net.W1, net.b1, net.W2.ravel(), float(np.ravel(net.b2)[0])))
        self.out_of_time("polishing")
        before = self.upper
        keep = _strongest(W, a, 1 if self.reg == "l1" else 2)
        added = self.add_seeds(W[keep], b[keep])
        self.times["seed"] += time.perf_counter() - t
        if added:
            self.solve()
        self.log(f"Adam from the restricted network: objective {obj:.10g}; {added} snapped neurons added; "
                 f"objective {self.upper:.10g}, {self.res.support.size} neurons")
        return self.improved(before)

    def heuristic(self, max_starts: int) -> int:
        """Local search from the best columns; returns the number of columns added."""
        t = time.perf_counter()
        theta = self.res.theta
        sc = self.cs.scores(theta)
        top = np.argsort(-sc)[:max_starts]
        V0 = self.geo.from_data(self.cs.weights[top], self.cs.biases[top])
        found = best_vertices(self.geo, V0, theta, max_starts=V0.shape[0], deadline=self.deadline)
        self.out_of_time("local search")
        added = 0
        for rows, v, score in found:
            if score > self.lam * (1.0 + 1e-7) and self.add_vertex(rows, v, "local_search"):
                added += 1
        self.times["local_search"] += time.perf_counter() - t
        self._found = found
        return added

    def exact(self, node_limit: int) -> int:
        """One MILP pricing round (``node_limit`` nodes per side; the safety-net deadline as HiGHS's
        time limit): update the bound, add violating incumbents; returns the number added."""
        theta = self.res.theta
        self.log(f"pricing MILP over every neuron: up to {node_limit} nodes per side")
        # no objective cutoff: measured to slow HiGHS down (docs/bound.md)
        remaining = self.deadline - time.perf_counter()
        pr = price_milp(self.geo, theta, self.lam, time_limit=min(remaining, 1e7), verbose=self.verbose,
                        node_limit=node_limit)
        self.times["milp"] += pr.seconds
        if pr.timed_out and "pricing MILP" not in self.clock_stops:
            self.clock_stops.append("pricing MILP")
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
            snapped = self.geo.snap(v)
            if snapped is None:
                continue
            from .local_search import climb

            rows, vv, _, _ = climb(self.geo, *snapped, theta, deadline=self.deadline)
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
        if self.history:  # a pricing MILP ran: a certified bound (none is claimed otherwise)
            net.info.update(self.bound().as_info())
        net.info.update({
            "certificate_scope": "bounded" if np.isfinite(self.v_upper) else "sampled candidates",
            "n_columns_added_seed": int(self.n_added["seed"]),
            "n_columns_added_local_search": int(self.n_added["local_search"]),
            "n_columns_added_milp": int(self.n_added["milp"]),
            "seconds_seed": float(self.times["seed"]),
            "seconds_restricted": float(self.times["restricted"]),
            "seconds_local_search": float(self.times["local_search"]),
            "seconds_milp": float(self.times["milp"]),
            "n_rounds": int(self.n_rounds),
            "stopped_by": self.stopped_by,
            "reproducible": not self.clock_stops,
        })
        if self.clock_stops:
            net.info["clock_stopped"] = ", ".join(self.clock_stops)
        if self.milp_skipped:
            net.info["milp_skipped"] = self.milp_skipped
        return net


def fit_beyond(X, y, *, lam: float, loss: str = "squared", reg: str = "l1", bias: bool = True,
               max_columns: int = 20000, time_limit: float = 300.0, tol: float = 1e-4, random_state=None,
               verbose: bool = False, seed_network="adam", max_starts: int = 16, milp_nodes: int = MILP_NODES,
               milp_escalations: int = MILP_ESCALATIONS, milp_max_binaries: int = MILP_MAX_BINARIES,
               max_rounds: int = MAX_ROUNDS, max_local_searches: int = MAX_LOCAL_SEARCHES,
               base=None) -> WedgeNetwork:
    """Train a two-layer ReLU network by column generation over every neuron, with a certified bound.

    See the module docstring for the loop and its stopping rule.  ``tol`` is the target relative
    gap between the network's objective and the certified lower bound on the global optimum.  The
    run stops on work: ``milp_nodes`` (the pricing MILP's first node limit per side),
    ``milp_escalations`` (how many times a round without an improving column may multiply it by
    ``MILP_NODE_GROWTH`` before the loop stops), ``milp_max_binaries`` (larger pricing programs
    are not solved: local search only, no bound), ``max_rounds`` and ``max_local_searches``; so for a fixed
    ``random_state`` two runs give the same network.  ``time_limit`` (seconds) is a safety net:
    every stage stops at it, and then ``net.info["stopped_by"]`` is ``"time_limit"`` and
    ``net.info["reproducible"]`` False.
    ``seed_network`` (default ``"adam"``: ``ADAM_RUNS`` numpy Adam runs of ``ADAM_STEPS`` steps on
    the same objective, :func:`wedgenet.beyond.adam.adam_network`, width ``ADAM_WIDTH``; or a
    network with ``W1, b1``; or a tuple ``(W1, b1)``; ``None``: no seed): its neurons, each
    snapped to its vertex (the samples nearest its breakline), join the sampled set before the
    first local search, so the result is never worse than the seed's snapped neurons refitted
    and every neuron stays sample-defined.  ``base`` is the sampled dictionary of ``X`` when the
    caller has built it already (an explicit dictionary with ``columns``, ``weights``, ``biases``
    and ``provenance``; :func:`wedgenet.fit` passes its own); default: built here from
    ``max_columns`` and ``random_state``.

    Returns a :class:`~wedgenet.WedgeNetwork` whose neurons carry their defining samples (the
    tight rows of their vertex); ``net.info`` holds the bound as flat ``bound_*`` entries
    (``bound_lower_bound``, ``bound_upper``, ``bound_relative_gap``, ``bound_method``,
    ``bound_seconds``, ``bound_solved_to_optimality``, ``bound_scope``, ...; absent when no
    pricing MILP ran), ``stopped_by`` (one of ``STOP_RULES``), ``reproducible``, ``n_rounds``,
    the time split (``seconds_restricted``, ``seconds_local_search``, ``seconds_milp``) and the
    column counts.  Ctrl-C raises :class:`wedgenet.FitInterrupted` with the network of the last
    restricted solve.
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
    milp_nodes = check_positive_int("milp_nodes", milp_nodes)
    milp_escalations = check_positive_int("milp_escalations", milp_escalations, minimum=0)
    milp_max_binaries = check_positive_int("milp_max_binaries", milp_max_binaries, minimum=0)
    max_rounds = check_positive_int("max_rounds", max_rounds)
    max_local_searches = check_positive_int("max_local_searches", max_local_searches, minimum=0)
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
    if base is not None and (getattr(base, "streamed", False) or base.shape[0] != n):
        raise ValueError("base must be an explicit dictionary of X (n rows)")
    D = base if base is not None else dictionary(Xa, reg=reg, bias=bias, max_columns=max_columns,
                                                 random_state=random_state)
    theorem = get_family(reg, bias, 2).theorem(d)
    run = ColumnGeneration(Xa, yy, lam, loss_obj, reg, bias, D, tol=tol, verbose=verbose, theorem=theorem,
                           deadline=t0 + time_limit)
    run.t0 = t0
    run.log(f"sampled dictionary: {D.n_columns:,} columns; safety-net time limit {time_limit:g}s")
    try:
        # every product of the loop is small ((n + d) x D, D x D factorisations): BLAS threads cost
        # far more than they save there (an SVD at D = 65 measured at 2 ms on one thread, 35-140 ms
        # on two threads of a loaded 2-core machine)
        with threadpool_limits(limits=1, user_api="blas"):
            _run_loop(run, adam, seeds, lam, loss, reg, bias, random_state, max_starts, milp_nodes,
                      milp_escalations, milp_max_binaries, max_rounds, max_local_searches)
    except KeyboardInterrupt as exc:
        net = run.network() if run.res is not None else None
        if net is not None:
            net.info["interrupted"] = True
        raise FitInterrupted("fit_beyond interrupted; the network of the last restricted solve is attached", net) \
            from exc
    if run.clock_stops:  # the safety net acted somewhere: whatever rule ended the loop, the clock shaped it
        run.stopped_by = "time_limit"
    run.log(f"stopped by {run.stopped_by} after {run.n_rounds} rounds"
            + (f" (clock stopped: {', '.join(run.clock_stops)})" if run.clock_stops else ""))
    net = run.network()
    if run.history:
        net.info["bound_history"] = ";".join(f"{t:.1f}:{lb:.10g}:{ub:.10g}" for t, lb, ub in run.history)
    return net


def _run_loop(run: ColumnGeneration, adam: bool, seeds, lam, loss, reg, bias, random_state, max_starts: int,
              milp_nodes: int, milp_escalations: int, milp_max_binaries: int, max_rounds: int,
              max_local_searches: int) -> None:
    """Seeding, then rounds of local search and pricing MILP until a stopping rule (module docstring)."""
    run.solve()
    run.log(f"restricted solve: objective {run.upper:.10g}, {run.res.support.size} neurons")
    if adam:
        seeds = _adam_seeds(run, lam, loss, reg, bias, random_state)
    if seeds is not None and seeds[0].shape[0]:
        ts = time.perf_counter()
        added = run.add_seeds(*seeds)
        run.times["seed"] += time.perf_counter() - ts
        if added:
            run.solve()
        run.log(f"{added} snapped seed neurons added; objective {run.upper:.10g}, {run.res.support.size} neurons")
        if adam:
            for _ in range(POLISH_ROUNDS):
                if not run.polish_seeds():
                    break
    node_limit, escalations = milp_nodes, 0
    last_milp = None  # (objective, node limit) of the last MILP: at the same point it would repeat itself
    run.stopped_by = "work budget"
    n, d = run.X.shape
    max_local_searches = min(max_local_searches, max(1, int(LOCAL_WORK / (d * (n + d) * n))))
    n_local = 0
    for _ in range(max_rounds):
        if run.out_of_time("rounds"):
            break
        run.n_rounds += 1
        before = run.upper
        searched = False
        while n_local < max_local_searches:
            n_local += 1
            searched = True
            b0 = run.upper
            added = run.heuristic(max_starts)
            if not added:
                break
            run.solve()
            run.log(f"local search added {added} columns; objective {run.upper:.10g}, "
                    f"{run.res.support.size} neurons")
            if not run.improved(b0) or run.clock_stops:
                break
        if run.clock_stops:
            break
        k = n_binaries(run.geo, run.res.theta)
        milp = k <= milp_max_binaries
        if milp and last_milp != (run.upper, node_limit):
            last_milp = (run.upper, node_limit)
            added = run.exact(node_limit)
            if run.gap <= run.tol:
                run.stopped_by = "gap"
                break
            if added:
                run.solve()
                run.log(f"MILP added {added} columns; objective {run.upper:.10g}")
            if run.clock_stops:
                break
        elif not milp and not run.milp_skipped:
            run.milp_skipped = (f"the pricing program has {k} binaries > milp_max_binaries={milp_max_binaries}: "
                                "local search only, no bound (net.bound(X, y, time_limit=...) computes one)")
            run.log(run.milp_skipped)
        if run.improved(before):
            continue
        if milp and escalations < milp_escalations:
            escalations += 1
            node_limit *= MILP_NODE_GROWTH
            continue
        # the local search did not look this round (its budget is spent) and no MILP priced: the
        # budget, not the absence of an improving column, ends the run
        run.stopped_by = "no improving column" if milp or searched else "work budget"
        break
