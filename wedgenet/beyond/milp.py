"""The exact pricing program: the maximum dual violation over every neuron, as a MILP (HiGHS).

For a dual point ``theta`` (``1^T theta = 0`` with a free intercept) the maximum violation over
*all* unit neurons of the network problem is (docs/conventions.md, "Certificates")

    V(theta) = max_{||w||_p <= 1, b} |sum_i theta_i (w . x_i + b)_+| / lam
             = max(V_+(theta), V_+(-theta)) / lam,   V_+(t) = max sum_i t_i (w . x_i + b)_+.

**The program for V_+(t).**  In scaled coordinates ``x' = (x - c) / R`` (mid-range ``c``, so
``|x'_ik| <= 1``; a neuron ``(w', b')`` there is the data neuron ``(w'/R, b' - w'.c/R)``, whose
l1 norm is ``||w'||_1 / R``), write ``u_i = w' . x'_i + b'`` and ``w' = w+ - w-`` with
``w+, w- >= 0``, ``sum (w+ + w-) <= 1``.  Over that ball ``|w' . x'_i| <= m_i = ||x'_i||_inf``.

* ``b'`` lies in ``[-B, B]``, ``B = max_i m_i``, without loss: for ``b' >= B`` every ``u_i >= 0``
  and the value ``t^T X' w' + b' 1^T t = t^T X' w'`` does not depend on ``b'`` (``1^T t = 0``);
  for ``b' <= -B`` every ``u_i <= 0`` and the value is 0.  So ``u_i`` lies in
  ``[-U_i, U_i]``, ``U_i = m_i + B``.
* ``h_i = (u_i)_+`` is needed only through ``t_i h_i``.  For ``t_i < 0`` the maximisation pushes
  ``h_i`` down, and the convex constraints ``h_i >= 0, h_i >= u_i`` give ``h_i = (u_i)_+``
  exactly.  For ``t_i > 0`` it pushes ``h_i`` up, and a binary ``s_i`` (the neuron is active on
  ``x_i``) with the big-M constraints ``h_i <= u_i + U_i (1 - s_i)``, ``h_i <= U_i s_i``,
  ``h_i >= 0`` caps ``h_i`` at ``(u_i)_+``.  Samples with ``t_i = 0`` drop out.

Then ``V_+(t) = R * max sum_i t_i h_i`` (the data neuron has l1 norm ``1/R`` per unit of
``||w'||_1``).  HiGHS's ``mip_dual_bound`` is an upper bound on the maximum even when the solve
stops at its time limit, so ``V <= (R / lam) * max(dual bound of each side)`` is always a valid
(certified, up to HiGHS's feasibility tolerances, ~1e-9 relative here) upper bound.

**p = 2.** The l2 ball lies in the polytope ``{||w||_inf <= 1, ||w||_1 <= sqrt(d)}``, so the
same program over that polytope (``w+_k + w-_k <= 1``, ``sum <= sqrt(d)``, with
``m_i = min(||x'_i||_1, sqrt(d) ||x'_i||_inf)``) bounds ``V_2``; it is never looser than
``V_2 <= sqrt(d) V_1`` (the l1 ball of radius ``sqrt(d)`` alone).

**Options measured against the naive model** (``benchmarks/bench_bound.py --relaxation``):
``cutoff`` adds ``sum t_i h_i >= v_inc`` for a known incumbent ``v_inc`` (scipy's ``milp`` has
no warm start; the cutoff plays its pruning role), ``tighten`` replaces each ``U_i`` and the
``b'`` range by the exact LP bounds ``max/min u_i`` over the ball *and* the cutoff
(optimisation-based bound tightening, 2n small LPs).  The naive model is ``center=False``
(``c = 0``: the big-M constants then follow from ``R = max_i ||x_i||_inf``) without them.

Each solve runs in a forked child process so that Ctrl-C stops it within a fraction of a second
(HiGHS cannot be interrupted through scipy); on platforms without ``fork`` it runs in-process.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_matrix, hstack, vstack
from scipy.sparse import eye as speye

from .vertices import Geometry

__all__ = ["PricingResult", "SideResult", "price_milp", "solve_side"]


@dataclass
class SideResult:
    """One side ``V_+(t)`` of the pricing program, in data units (before dividing by ``lam``)."""

    upper: float  # certified upper bound on V_+(t)
    value: float  # the incumbent's value (a lower estimate), -inf if none
    v: np.ndarray | None  # the incumbent as a scaled neuron (w', b')
    optimal: bool
    nodes: int
    seconds: float
    status: str


@dataclass
class PricingResult:
    """``V(theta)`` bounds over both sides, divided by ``lam``."""

    upper: float  # certified: max violation over every neuron <= upper
    lower: float  # the best incumbent's violation
    V: list  # incumbents (scaled neurons) with their violations: [(v, violation)]
    optimal: bool
    nodes: int
    seconds: float


def _solve_child(conn, args):
    try:
        res = milp(**args)
        conn.send({"x": res.x, "fun": res.fun, "status": int(res.status), "message": str(res.message),
                   "dual": getattr(res, "mip_dual_bound", None), "nodes": getattr(res, "mip_node_count", 0)})
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send({"error": repr(exc)})
    finally:
        conn.close()


def _run_milp(args: dict) -> dict:
    """``scipy.optimize.milp(**args)`` in a forked child (Ctrl-C terminates it at once)."""
    try:
        ctx = mp.get_context("fork")
    except ValueError:  # no fork (Windows): in-process, Ctrl-C waits for the time limit
        res = milp(**args)
        return {"x": res.x, "fun": res.fun, "status": int(res.status), "message": str(res.message),
                "dual": getattr(res, "mip_dual_bound", None), "nodes": getattr(res, "mip_node_count", 0)}
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_solve_child, args=(child, args), daemon=True)
    proc.start()
    child.close()
    try:
        while not parent.poll(0.2):
            if not proc.is_alive() and not parent.poll(0.05):
                raise RuntimeError(f"the MILP process died (exit code {proc.exitcode})")
        out = parent.recv()
    except BaseException:
        proc.terminate()
        proc.join(1.0)
        raise
    proc.join(5.0)
    if "error" in out:
        raise RuntimeError(f"scipy.optimize.milp failed: {out['error']}")
    return out


def _ball(geo: Geometry) -> tuple[float, float, np.ndarray]:
    """``(radius of sum(w+ + w-), per-coordinate cap, m_i)`` of the norm ball (or its outer polytope)."""
    Xs = geo.Xs
    inf = np.abs(Xs).max(axis=1) if Xs.size else np.zeros(geo.n)
    if geo.p == 1:
        return 1.0, 1.0, inf
    rd = math.sqrt(geo.d)
    return rd, 1.0, np.minimum(np.abs(Xs).sum(axis=1), rd * inf)


def solve_side(geo: Geometry, t: np.ndarray, *, time_limit: float, cutoff: float | None = None,
               center: bool = True, tighten: bool = False, rel_gap: float = 1e-7) -> SideResult:
    """``max sum_i t_i (w . x_i + b)_+`` over unit neurons (data units), by the MILP of the module docstring.

    ``t`` need not be normalised; ``cutoff`` (data units) is a value some neuron is known to
    reach (it must be valid: the program becomes infeasible otherwise, which is reported).
    ``center=False`` is the naive model (no mid-range shift).
    """
    t0 = time.perf_counter()
    n, d = geo.n, geo.d
    tscale = float(np.abs(t).max()) if t.size else 0.0
    if not tscale > 0:
        return SideResult(0.0, 0.0, None, True, 0, 0.0, "theta = 0")
    if not center and geo.bias:  # the naive model: raw coordinates scaled by max |x|, no shift
        Xs = (geo.Xs * geo.R + geo.center)
        Rn = float(np.abs(Xs).max()) or 1.0
        Xs = Xs / Rn
        shift = geo.center / Rn
    else:
        Xs, Rn, shift = geo.Xs, geo.R, None
    tt = t / tscale
    used = np.flatnonzero(tt != 0)
    pos = used[tt[used] > 0]
    neg = used[tt[used] < 0]
    radius, wcap, _ = _ball(geo)
    inf = np.abs(Xs).max(axis=1)
    m = inf if geo.p == 1 else np.minimum(np.abs(Xs).sum(axis=1), math.sqrt(d) * inf)
    B = float(m.max()) if geo.bias else 0.0
    U = m + B
    nb = 1 if geo.bias else 0
    nw = 2 * d + nb
    nh, ns = used.size, pos.size
    nvar = nw + nh + ns
    hpos = {int(i): k for k, i in enumerate(used)}
    # u = Xs w+ - Xs w- + b'
    Au = np.hstack([Xs, -Xs, np.ones((n, 1))]) if geo.bias else np.hstack([Xs, -Xs])
    # ball: sum(w+ + w-) <= radius (and w+_k + w-_k <= 1 for the p=2 polytope)
    ball = np.zeros((1, nvar))
    ball[0, : 2 * d] = 1.0
    rows = [csr_matrix(ball)]
    lbs = [np.array([-np.inf])]
    ubs = [np.array([radius])]
    if geo.p == 2:
        cap = np.hstack([np.eye(d), np.eye(d), np.zeros((d, nvar - 2 * d))])
        rows.append(csr_matrix(cap))
        lbs.append(np.full(d, -np.inf))
        ubs.append(np.full(d, wcap))
    U_pos_hi = U_pos_lo = U[pos]
    # h_i >= u_i for the negative side: -u_i + h_i >= 0
    if neg.size:
        H = csr_matrix((np.ones(neg.size), (np.arange(neg.size), [hpos[int(i)] for i in neg])),
                       shape=(neg.size, nh + ns))
        rows.append(hstack([csr_matrix(-Au[neg]), H]).tocsr())
        lbs.append(np.zeros(neg.size))
        ubs.append(np.full(neg.size, np.inf))
    if ns:
        hcols = [hpos[int(i)] for i in pos]
        Hp = csr_matrix((np.ones(ns), (np.arange(ns), hcols)), shape=(ns, nh))
        # h_i - u_i + U_i s_i <= U_i   (h <= u + U (1 - s))
        S1 = speye(ns, format="csr").multiply(U_pos_lo[:, None]).tocsr()
        rows.append(hstack([csr_matrix(-Au[pos]), Hp, S1]).tocsr())
        lbs.append(np.full(ns, -np.inf))
        ubs.append(U_pos_lo)
        # h_i - U_i s_i <= 0
        S2 = speye(ns, format="csr").multiply(-U_pos_hi[:, None]).tocsr()
        rows.append(hstack([csr_matrix((ns, nw)), Hp, S2]).tocsr())
        lbs.append(np.full(ns, -np.inf))
        ubs.append(np.zeros(ns))
    c = np.zeros(nvar)
    c[nw: nw + nh] = -tt[used]
    # objective value in scaled units: R * tscale * sum tt h   (data neuron of l1 norm 1 per unit)
    unit = Rn * tscale
    if cutoff is not None and np.isfinite(cutoff) and cutoff > 0:
        rows.append(csr_matrix(-c[None, :]))
        lbs.append(np.array([cutoff / unit * (1.0 - 1e-7)]))
        ubs.append(np.array([np.inf]))
    A = vstack(rows).tocsr()
    lb = np.zeros(nvar)
    ub = np.full(nvar, np.inf)
    ub[: 2 * d] = wcap if geo.p == 2 else radius
    if geo.bias:
        lb[2 * d], ub[2 * d] = -B, B
    hU = np.full(nh, 0.0)
    hU[[hpos[int(i)] for i in used]] = U[used]
    ub[nw: nw + nh] = hU
    ub[nw + nh:] = 1.0
    integrality = np.zeros(nvar)
    integrality[nw + nh:] = 1
    args = dict(c=c, constraints=LinearConstraint(A, np.concatenate(lbs), np.concatenate(ubs)),
                integrality=integrality, bounds=Bounds(lb, ub),
                options={"time_limit": max(float(time_limit), 0.05), "mip_rel_gap": rel_gap, "presolve": True})
    out = _run_milp(args)
    secs = time.perf_counter() - t0
    status = out["status"]
    x = out["x"]
    dual = out["dual"]
    if status == 2:  # infeasible: only possible with a cutoff above the true maximum
        return SideResult(cutoff if cutoff is not None else 0.0, -np.inf, None, True, int(out["nodes"] or 0),
                          secs, "infeasible at the cutoff")
    if dual is None or not np.isfinite(dual):
        upper_s = np.inf
    else:
        upper_s = -float(dual)
    value = -float(out["fun"]) * unit if x is not None and out["fun"] is not None else -np.inf
    v = None
    if x is not None:
        w = x[:d] - x[d: 2 * d]
        if geo.bias:
            bb = x[2 * d]
            if shift is not None:  # naive coordinates -> geo's scaled coordinates
                # w.x_naive + b = w.(x - 0)/Rn + b; x = R x_geo + center
                wg = w * geo.R / Rn
                bg = bb + w @ geo.center / Rn
                v = np.concatenate([wg, [bg]])
            else:
                v = np.concatenate([w, [bb]])
        else:
            v = w * (geo.R / Rn)
    # safety margin for HiGHS's tolerances on the O(1) scaled program
    upper = max(upper_s, value / unit if np.isfinite(value) else -np.inf) * unit * (1.0 + 1e-9) + 1e-12 * unit
    return SideResult(float(upper), float(value), v, status == 0, int(out["nodes"] or 0), secs, out["message"])


def price_milp(geo: Geometry, theta: np.ndarray, lam: float, *, time_limit: float,
               cutoffs: tuple[float | None, float | None] = (None, None), center: bool = True,
               verbose: bool = False) -> PricingResult:
    """Both sides ``V_+(theta)``, ``V_+(-theta)`` (half the time each, the unused time of the
    first passed on); returns the certified upper bound and the incumbents, divided by ``lam``.

    ``cutoffs`` are values (data units) known to be reached on each side (e.g. by local search)."""
    t0 = time.perf_counter()
    sides = []
    for k, sgn in enumerate((1.0, -1.0)):
        remaining = time_limit - (time.perf_counter() - t0)
        tl = remaining / (2 - k)
        r = solve_side(geo, sgn * theta, time_limit=max(tl, 0.05), cutoff=cutoffs[k], center=center)
        if verbose:
            print(f"[bound] pricing MILP, side {'+' if sgn > 0 else '-'}: violation <= {r.upper / lam:.6g}, "
                  f"incumbent {r.value / lam:.6g}, {r.nodes} nodes, {r.seconds:.1f}s ({r.status})")
        sides.append((sgn, r))
    upper = max(r.upper for _, r in sides) / lam
    inc = [(r.v, r.value / lam) for _, r in sides if r.v is not None]
    lower = max((val for _, val in inc), default=-np.inf)
    return PricingResult(upper=float(upper), lower=float(lower), V=inc, optimal=all(r.optimal for _, r in sides),
                         nodes=sum(r.nodes for _, r in sides), seconds=time.perf_counter() - t0)
