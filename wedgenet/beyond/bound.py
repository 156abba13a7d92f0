"""A certified lower bound on the optimal value of the network problem, at any dimension.

**The problem.**  For a loss ``L``, ``lam > 0`` and ``p`` in ``{1, 2}``, the two-layer problem of
docs/conventions.md ("The objective") is

    OPT = inf over networks of any width of  L(f(X), y) + (lam/2) sum_j (||w_j||_p^2 + a_j^2),
    f(x) = sum_j a_j (w_j . x + b_j)_+ + t          (b_j, t free; absent when bias=False).

**Weak duality.**  By ``(||w||^2 + a^2)/2 >= |a| ||w||`` and the positive homogeneity of the ReLU,
``OPT = inf L(sum_j c_j h_j + t 1) + lam sum_j |c_j|`` over unit neurons ``h_j = (X w_j + b_j)_+``,
``||w_j||_p = 1`` (balancing attains equality).  For any ``theta`` in the loss's dual domain with
``1^T theta = 0`` (free intercept), Fenchel's inequality ``L(q) >= -L*(-theta) - <theta, q>`` gives

    L(q) + lam sum |c_j| >= -L*(-theta) + sum_j (lam |c_j| - c_j <theta, h_j>) >= -L*(-theta)

whenever ``|<theta, h>| <= lam`` for *every* unit neuron, i.e. ``V(theta) <= 1`` with

    V(theta) = max_{||w||_p <= 1, b} |sum_i theta_i (w . x_i + b)_+| / lam.

``V`` scales linearly in ``theta``, so for any certified upper bound ``V_ub >= V(theta)`` every
``s theta`` with ``0 <= s <= 1 / V_ub`` (and ``s theta`` in the dual domain) is feasible, and

    OPT >= LB = max_{0 <= s <= s_max} D(s theta),   D(theta) = -L*(-theta; y)

(``wedgenet.solvers.losses``' ``dual_value``; concave in ``s``, maximised by a bounded scalar
search; every evaluated ``s`` is feasible, so the best evaluation is a valid bound).  ``theta``
is the residual-based dual point of a network: ``-grad L(f(X))`` (squared loss: ``y - f(X)``),
projected by the loss onto ``1^T theta = 0`` with a free intercept.  The bound holds for networks
of any width, whatever dictionary produced the network.

**V_ub** comes from the pricing MILP of :mod:`wedgenet.beyond.milp` (the HiGHS dual bound, valid
when stopped by its time limit; exact when solved).  For ``p = 1`` this is ``V`` itself; for
``p = 2`` it is the maximum over the polytope ``{||w||_inf <= 1, ||w||_1 <= sqrt(d)}``, which
contains the l2 ball (at least as tight as ``V_2 <= sqrt(d) V_1``).  A network is certified
optimal when ``V_ub <= 1`` and the gap closes.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from .._validation import as_float_array, check_bool, check_nonneg_float
from ..solvers.losses import get_loss
from .local_search import best_vertices
from .milp import price_milp
from .vertices import Geometry

__all__ = ["Bound", "lower_bound", "scaled_dual", "scope_text", "dual_point", "BOUND_LOSSES"]

BOUND_LOSSES = ("squared", "logistic", "hinge")


@dataclass(frozen=True)
class Bound:
    """A certified lower bound on the network problem's optimal value (see the module docstring).

    ``lower_bound <= OPT <= upper`` (``upper`` is the network's objective); ``relative_gap`` is
    ``(upper - lower_bound) / |upper|``; ``max_violation_upper`` the certified ``V_ub`` at the
    dual point used; ``solved_to_optimality`` whether the pricing MILP (both sides) was solved
    exactly (else it stopped at its time limit and its dual bound was used).
    """

    lower_bound: float
    upper: float
    relative_gap: float
    method: str
    seconds: float
    solved_to_optimality: bool
    scope: str
    max_violation_upper: float
    max_violation_found: float

    def as_info(self) -> dict:
        """Flat ``bound_*`` entries of plain JSON types (``WedgeNetwork.info`` holds only scalars)."""
        out = {}
        for k, v in asdict(self).items():
            if isinstance(v, float) and not math.isfinite(v):
                continue  # the model file format forbids NaN/inf; an absent key means unknown
            out[f"bound_{k}"] = v
        return out

    def __str__(self) -> str:
        return (f"lower bound {self.lower_bound:.10g} <= optimum <= {self.upper:.10g} (relative gap "
                f"{self.relative_gap:.3g}; max violation <= {self.max_violation_upper:.6g}; {self.method}, "
                f"{self.seconds:.1f}s)")


def scope_text(reg: str, loss: str, bias: bool, optimal: bool) -> str:
    """One line saying exactly what the bound covers."""
    how = "solved to optimality" if optimal else "stopped at its time limit (HiGHS dual bound)"
    if reg == "l1":
        over = "V_1 exactly bounded by the pricing MILP over the l1 ball"
    else:
        over = ("V_2 bounded by the MILP over the polytope {||w||_inf <= 1, ||w||_1 <= sqrt(d)} containing "
                "the l2 ball (tighter than V_2 <= sqrt(d) V_1; an outer approximation, so the bound is looser than "
                "the exact p=2 dual)")
    return (f"lower bound on the global optimum of the two-layer ReLU problem (p={1 if reg == 'l1' else 2}, "
            f"loss={loss}, {'biases and intercept' if bias else 'no biases, no intercept'}) over networks of any "
            f"width, by weak duality; {over}, {how}")


def dual_point(loss_obj, pred: np.ndarray, y: np.ndarray, intercept: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(theta, pred)``: ``-grad L`` at ``pred`` after re-fitting the intercept, projected onto ``1^T theta = 0``."""
    if intercept:
        shift = loss_obj.refit_intercept(pred, y, 0.0)
        pred = pred + shift
    theta = -loss_obj.gradient(pred, y)
    if intercept:
        theta = loss_obj.project_dual(theta, y)
    return theta, pred


def scaled_dual(loss_obj, theta: np.ndarray, y: np.ndarray, v_upper: float) -> float:
    """``max D(s theta)`` over ``0 <= s <= s_max`` (a valid lower bound when ``v_upper >= V(theta)``)."""
    if not np.isfinite(v_upper):
        return max(0.0, float(loss_obj.dual_value(np.zeros_like(theta), y)))
    s_max = 1.0 / max(v_upper, 1e-300)
    if loss_obj.name in ("logistic", "hinge"):  # dual domain: theta_i y_i in [0, 1]
        m = float(np.max(theta * y)) if theta.size else 0.0
        if m > 0:
            s_max = min(s_max, 1.0 / m)
    vals = [float(loss_obj.dual_value(s * theta, y)) for s in (0.0, s_max)]
    if s_max > 0:
        r = minimize_scalar(lambda s: -loss_obj.dual_value(s * theta, y), bounds=(0.0, s_max), method="bounded",
                            options={"xatol": 1e-12 * s_max})
        if 0.0 <= r.x <= s_max:
            vals.append(float(loss_obj.dual_value(r.x * theta, y)))
        if loss_obj.name == "squared":  # the closed-form maximiser of s <theta,y> - s^2 ||theta||^2 / 2
            tt = float(theta @ theta)
            if tt > 0:
                s = min(max(float(theta @ y) / tt, 0.0), s_max)
                vals.append(float(loss_obj.dual_value(s * theta, y)))
    return max(vals)


def lower_bound(net, X, y, *, time_limit: float = 60.0, verbose: bool = False, local_search: bool = True,
                center: bool = True, cutoff: bool = False, b_slices: int = 1, hull: bool = False) -> Bound:
    """A certified lower bound on the optimal value of ``net``'s problem, and the gap to ``net``.

    The problem is the network's own: its loss, ``lam``, ``reg`` and ``bias`` (two layers, scalar
    output).  ``time_limit`` (seconds) caps the pricing MILP (both signs); stopped early it still
    gives a valid, looser bound.  ``local_search`` first climbs from the network's neurons to a
    good incumbent, used as the MILP's objective cutoff (``cutoff``); ``center=False`` is the
    naive big-M model (for measurement).  Ctrl-C stops the MILP within a fraction of a second.
    """
    t0 = time.perf_counter()
    time_limit = check_nonneg_float("time_limit", time_limit, strictly_positive=True)
    verbose = check_bool("verbose", verbose)
    if getattr(net, "depth", None) != 2 or np.ndim(net.W2) != 1:
        raise ValueError("net must be a two-layer WedgeNetwork with scalar output (depth=2)")
    if net.loss not in BOUND_LOSSES:
        raise ValueError(f"net.loss must be one of {BOUND_LOSSES} for a bound; got {net.loss!r}")
    Xa = as_float_array("X", X, ndim=2)
    if Xa.shape[0] == 0:
        raise ValueError("X must have at least one sample")
    if Xa.shape[1] != net.n_features:
        raise ValueError(f"X must have {net.n_features} features to match net; got {Xa.shape[1]}")
    from ..fitting import encode_targets

    yy = encode_targets(net.loss, y, Xa.shape[0])
    if yy.ndim != 1:
        raise ValueError("y must be 1-D for a bound (scalar output)")
    loss_obj = get_loss(net.loss)
    upper = float(net.objective(Xa, yy))
    geo = Geometry(Xa, bias=net.bias, reg=net.reg)
    pred0 = net.hidden(Xa) @ net.W2
    theta, _ = dual_point(loss_obj, pred0 + (0.0 if net.bias else float(net.b2)), yy, net.bias)
    cut = (None, None)
    found = 0.0
    if local_search and net.n_neurons:
        V0 = geo.from_data(net.W1, net.b1)
        best = best_vertices(geo, V0, theta, max_starts=16, deadline=t0 + 0.2 * time_limit)
        plus = [geo.scores(v[None], theta)[0] for _, v, _ in best]
        cp = max([s for s in plus if s > 0], default=None)
        cm = max([-s for s in plus if s < 0], default=None)
        cut = (cp, cm) if cutoff else (None, None)
        found = max([abs(s) for s in plus], default=0.0) / net.lam
    remaining = max(time_limit - (time.perf_counter() - t0), 0.1)
    if verbose:
        print(f"[bound] pricing MILP over every neuron (n={Xa.shape[0]}, d={Xa.shape[1]}): up to {remaining:.0f}s")
    pr = price_milp(geo, theta, net.lam, time_limit=remaining, cutoffs=cut, center=center, b_slices=b_slices,
                    hull=hull, verbose=verbose)
    lb = scaled_dual(loss_obj, theta, yy, pr.upper)
    if upper < lb <= upper + 1e-12 * max(abs(upper), 1.0):  # rounding only; a larger excess stays visible
        lb = upper
    gap = (upper - lb) / max(abs(upper), 1e-300)
    method = "pricing MILP (scipy.optimize.milp / HiGHS)" + ("" if center else ", naive big-M")
    return Bound(lower_bound=float(lb), upper=upper, relative_gap=float(max(gap, 0.0)), method=method,
                 seconds=time.perf_counter() - t0, solved_to_optimality=bool(pr.optimal),
                 scope=scope_text(net.reg, net.loss, net.bias, pr.optimal),
                 max_violation_upper=float(pr.upper), max_violation_found=float(max(found, pr.lower)))
