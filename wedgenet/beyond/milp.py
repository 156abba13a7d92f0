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

from .._linalg import row_norms
from .vertices import Geometry

__all__ = ["PricingResult", "SideResult", "price_milp", "solve_side", "n_binaries"]


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
    #: whether HiGHS stopped at its time limit (then the result depends on the machine's speed)
    timed_out: bool = False


@dataclass
class PricingResult:
    """``V(theta)`` bounds over both sides, divided by ``lam``."""

    upper: float  # certified: max violation over every neuron <= upper
    lower: float  # the best incumbent's violation
    V: list  # incumbents (scaled neurons) with their violations: [(v, violation)]
    optimal: bool
    nodes: int
    seconds: float
    #: whether a side stopped at its time limit (a node limit alone gives a reproducible result)
    timed_out: bool = False


def _activation_radii(Xs: np.ndarray, p: int) -> np.ndarray:
    """``m_i``, the largest ``|w . x_i|`` over unit neurons (``||w||_p = 1``; for p = 2 the cheaper of
    ``sqrt(d) ||x_i||_inf`` and ``||x_i||_1``, both upper bounds): a sample's pre-activation lies in
    ``[b_lo - m_i, b_hi + m_i]``."""
    inf = np.abs(Xs).max(axis=1)
    return inf if p == 1 else np.minimum(row_norms(Xs, 1), math.sqrt(Xs.shape[1]) * inf)


def n_binaries(geo: Geometry, theta: np.ndarray) -> int:
    """The binaries of the larger side of the pricing program at ``theta`` (centered model, one slice).

    A sample gets a binary on the side ``t = +-theta`` when ``t_i > 0`` and its pre-activation
    interval ``[L_i, U_i] = [-B - m_i, B + m_i]`` contains 0 (``_side_model``); with ``B = max m_i``
    that is every sample with ``m_i > 0`` (with biases).  The root node's cost grows steeply with
    it (benchmarks: about 1 s at 75 binaries, tens of seconds at 220, d = 10).
    """
    m = _activation_radii(geo.Xs, geo.p)
    B = float(m.max()) if geo.bias else 0.0
    live = (B + m > 0) & (-B - m < 0)
    return int(max(np.count_nonzero(live & (theta > 0)), np.count_nonzero(live & (theta < 0))))


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


def _hull_rows(Xs, idx, hpos, p, bias, blo, bhi, radius, d, nw, nh, ns, nvar):
    """Balas's disjunctive (ideal) formulation of ``h_i = (u_i)_+`` over the polytope, per binary sample.

    Split ``v = v1 + v0`` with ``v1`` in ``s P`` and ``a . v1 >= 0`` (active piece), ``v0`` in
    ``(1 - s) P`` and ``a . v0 <= 0``, and ``h_i = a . v1``; ``P`` is the ball times ``[blo, bhi]``.
    Its LP relaxation is the convex hull of the graph of the ReLU over ``P`` (not only over the
    interval of ``u_i``).  Extra variables per sample: ``w1+, w1-, w0+, w0- (4d), b1``.
    """
    per = 4 * d + (1 if bias else 0)
    ntot = nvar + ns * per
    R, C, V, lo, hi = [], [], [], [], []
    r = 0

    def row(cols, vals, lo_, hi_):
        nonlocal r
        R.extend([r] * len(cols))
        C.extend(cols)
        V.extend(vals)
        lo.append(lo_)
        hi.append(hi_)
        r += 1

    for k, i in enumerate(idx):
        a = Xs[i]
        base = nvar + k * per
        w1p, w1m, w0p, w0m = (base + j * d + np.arange(d) for j in range(4))
        b1 = base + 4 * d
        s_k = nw + nh + k
        for j in range(d):  # w+ - w- = w1 + w0
            row([j, d + j, w1p[j], w1m[j], w0p[j], w0m[j]], [1, -1, -1, 1, -1, 1], 0.0, 0.0)
        row(list(w1p) + list(w1m) + [s_k], [1.0] * (2 * d) + [-radius], -np.inf, 0.0)  # ||w1|| <= r s
        row(list(w0p) + list(w0m) + [s_k], [1.0] * (2 * d) + [radius], -np.inf, radius)  # ||w0|| <= r (1-s)
        if p == 2:
            for j in range(d):
                row([w1p[j], w1m[j], s_k], [1, 1, -1], -np.inf, 0.0)
                row([w0p[j], w0m[j], s_k], [1, 1, 1], -np.inf, 1.0)
        act = list(w1p) + list(w1m)
        act_v = list(a) + list(-a)
        ina = list(w0p) + list(w0m)
        ina_v = list(a) + list(-a)
        if bias:
            row([b1, s_k], [1.0, -blo], 0.0, np.inf)  # b1 >= blo s
            row([b1, s_k], [1.0, -bhi], -np.inf, 0.0)  # b1 <= bhi s
            row([2 * d, b1, s_k], [1.0, -1.0, blo], blo, np.inf)  # b - b1 >= blo (1 - s)
            row([2 * d, b1, s_k], [1.0, -1.0, bhi], -np.inf, bhi)  # b - b1 <= bhi (1 - s)
            act, act_v = act + [b1], act_v + [1.0]
            ina, ina_v = ina + [2 * d, b1], ina_v + [1.0, -1.0]
        row(act, act_v, 0.0, np.inf)  # a . v1 >= 0
        row(ina, ina_v, -np.inf, 0.0)  # a . v0 <= 0
        row(act + [nw + hpos[i]], [-x for x in act_v] + [1.0], 0.0, 0.0)  # h = a . v1
    M = csr_matrix((V, (R, C)), shape=(r, ntot))
    return M, np.array(lo), np.array(hi)


def _side_model(Xs: np.ndarray, tt: np.ndarray, p: int, bias: bool, blo: float, bhi: float,
                cutoff_scaled: float | None, rel_gap: float, time_limit: float,
                hull: bool = False, node_limit: int | None = None) -> tuple[dict, int]:
    """The MILP of ``max sum_i tt_i (w' . x'_i + b')_+`` for ``b'`` in ``[blo, bhi]`` (scipy ``milp`` args).

    Per sample, ``u_i`` lies in ``[L_i, U_i] = [blo - m_i, bhi + m_i]``: a sample with ``U_i <= 0``
    is never active (``h_i = 0``, dropped), one with ``L_i >= 0`` always active (``h_i = u_i``, no
    binary); the others get ``h_i <= u_i - L_i (1 - s_i)``, ``h_i <= U_i s_i`` (``t_i > 0``) or
    ``h_i >= u_i`` (``t_i < 0``), ``h_i >= 0``.  Returns the arguments and ``2 d + 1`` (the
    offset of the ``h`` variables).  ``node_limit`` caps the branch-and-bound nodes (HiGHS's
    ``mip_max_nodes``: a deterministic amount of work, unlike ``time_limit``).
    """
    n, d = Xs.shape
    m = _activation_radii(Xs, p)
    L = blo - m
    U = bhi + m
    radius = 1.0 if p == 1 else math.sqrt(d)
    nb = 1 if bias else 0
    nw = 2 * d + nb
    used = np.flatnonzero((tt != 0) & (U > 0))
    always = used[L[used] >= 0]
    binary_pos = used[(L[used] < 0) & (tt[used] > 0)]
    neg_lin = used[(L[used] < 0) & (tt[used] < 0)]
    nh, ns = used.size, binary_pos.size
    nvar = nw + nh + ns
    hpos = np.full(n, -1, dtype=np.int64)
    hpos[used] = np.arange(nh)
    Au = np.hstack([Xs, -Xs, np.ones((n, 1))]) if bias else np.hstack([Xs, -Xs])
    rows, lbs, ubs = [], [], []

    def add(block, lo, hi):
        rows.append(block)
        lbs.append(lo)
        ubs.append(hi)

    ball = np.zeros((1, nvar))
    ball[0, : 2 * d] = 1.0
    add(csr_matrix(ball), np.array([-np.inf]), np.array([radius]))
    if p == 2:
        add(csr_matrix(np.hstack([np.eye(d), np.eye(d), np.zeros((d, nvar - 2 * d))])), np.full(d, -np.inf),
            np.ones(d))

    def hsel(idx):
        return csr_matrix((np.ones(idx.size), (np.arange(idx.size), hpos[idx])), shape=(idx.size, nh))

    if always.size:  # h_i = u_i
        add(hstack([csr_matrix(-Au[always]), hsel(always), csr_matrix((always.size, ns))]).tocsr(),
            np.zeros(always.size), np.zeros(always.size))
    if neg_lin.size:  # h_i >= u_i
        add(hstack([csr_matrix(-Au[neg_lin]), hsel(neg_lin), csr_matrix((neg_lin.size, ns))]).tocsr(),
            np.zeros(neg_lin.size), np.full(neg_lin.size, np.inf))
    if ns:
        Lb, Ub = L[binary_pos], U[binary_pos]
        # h_i - u_i - L_i s_i <= -L_i   (h <= u - L (1 - s))
        add(hstack([csr_matrix(-Au[binary_pos]), hsel(binary_pos), csr_matrix(np.diag(-Lb))]).tocsr(),
            np.full(ns, -np.inf), -Lb)
        # h_i - U_i s_i <= 0
        add(hstack([csr_matrix((ns, nw)), hsel(binary_pos), csr_matrix(np.diag(-Ub))]).tocsr(),
            np.full(ns, -np.inf), np.zeros(ns))
    n_extra = 0
    if hull and ns:
        per = 4 * d + nb
        n_extra = ns * per
        rows[:] = [hstack([blk, csr_matrix((blk.shape[0], n_extra))]).tocsr() for blk in rows]
        hb, hlo, hhi = _hull_rows(Xs, binary_pos, hpos, p, bias, blo, bhi, radius, d, nw, nh, ns, nvar)
        add(hb, hlo, hhi)
    ntot = nvar + n_extra
    c = np.zeros(ntot)
    c[nw: nw + nh] = -tt[used]
    if cutoff_scaled is not None:
        add(csr_matrix(-c[None, :]), np.array([cutoff_scaled]), np.array([np.inf]))
    lb = np.zeros(ntot)
    ub = np.full(ntot, np.inf)
    ub[: 2 * d] = 1.0 if p == 2 else radius
    if bias:
        lb[2 * d], ub[2 * d] = blo, bhi
    ub[nw: nw + nh] = np.maximum(U[used], 0.0)
    ub[nw + nh: nvar] = 1.0
    if n_extra:
        ub[nvar:] = 1.0 if p == 2 else radius
        if bias:
            b1 = nvar + np.arange(ns) * (4 * d + 1) + 4 * d
            lb[b1], ub[b1] = min(blo, 0.0), max(bhi, 0.0)
    integrality = np.zeros(ntot)
    integrality[nw + nh: nvar] = 1
    args = dict(c=c, constraints=LinearConstraint(vstack(rows).tocsr(), np.concatenate(lbs), np.concatenate(ubs)),
                integrality=integrality, bounds=Bounds(lb, ub),
                options={"time_limit": max(float(time_limit), 0.05), "mip_rel_gap": rel_gap, "presolve": True})
    if node_limit is not None:
        args["options"]["node_limit"] = int(node_limit)
    return args, nw


def solve_side(geo: Geometry, t: np.ndarray, *, time_limit: float, cutoff: float | None = None,
               center: bool = True, b_slices: int = 1, hull: bool = False, rel_gap: float = 1e-7,
               node_limit: int | None = None) -> SideResult:
    """``max sum_i t_i (w . x_i + b)_+`` over unit neurons (data units), by the MILP of the module docstring.

    ``t`` need not be normalised.  ``cutoff`` (data units) is a value some neuron is known to
    reach on this side.  ``center=False`` is the naive model (raw coordinates, no shift).
    ``b_slices > 1`` branches on the bias first: ``[-B, B]`` is cut into equal slices, each a
    MILP with narrower intervals ``[L_i, U_i]`` (samples always or never active drop their
    binaries); ``V_+`` is the largest slice maximum, and the time is shared out slice by slice.
    ``node_limit`` (per slice) bounds the work deterministically; ``time_limit`` then only guards
    against a slow machine (``timed_out`` says when it stopped the solve).
    """
    t0 = time.perf_counter()
    d = geo.d
    tscale = float(np.abs(t).max()) if t.size else 0.0
    if not tscale > 0:
        return SideResult(0.0, 0.0, None, True, 0, 0.0, "theta = 0")
    if not center and geo.bias:  # the naive model: raw coordinates scaled by max |x|, no shift
        Xr = geo.Xs * geo.R + geo.center
        Rn = float(np.abs(Xr).max()) or 1.0
        Xs = Xr / Rn
    else:
        Xs, Rn = geo.Xs, geo.R
    tt = t / tscale
    m = _activation_radii(Xs, geo.p)
    B = float(m.max()) if geo.bias else 0.0
    unit = Rn * tscale  # objective in scaled units -> data units (unit-norm data neuron)
    k = max(1, int(b_slices)) if geo.bias else 1
    edges = np.linspace(-B, B, k + 1)
    upper_s, value, v, nodes, optimal, status, timed_out = -np.inf, -np.inf, None, 0, True, "", False
    cut_s = None if cutoff is None or not np.isfinite(cutoff) or cutoff <= 0 else cutoff / unit * (1.0 - 1e-7)
    for j in range(k):
        tl = (time_limit - (time.perf_counter() - t0)) / (k - j)
        args, nw = _side_model(Xs, tt, geo.p, geo.bias, edges[j], edges[j + 1], None if k > 1 else cut_s,
                               rel_gap, tl, hull, node_limit)
        out = _run_milp(args)
        nodes += int(out["nodes"] or 0)
        status = out["message"]
        timed_out |= "time limit" in status.lower()
        if out["status"] == 2:  # infeasible: only with a cutoff above this side's maximum
            upper_s = max(upper_s, cut_s if cut_s is not None else 0.0)
            continue
        optimal &= out["status"] == 0
        dual = out["dual"]
        # without a dual bound from HiGHS (stopped before its first LP), h_i <= U_i bounds the slice
        trivial = float(np.sum(np.clip(tt, 0.0, None) * np.maximum(edges[j + 1] + m, 0.0)))
        ub_j = min(-float(dual), trivial) if dual is not None and np.isfinite(dual) else trivial
        x = out["x"]
        if x is not None and out["fun"] is not None:
            val = -float(out["fun"])
            ub_j = max(ub_j, val)
            if val > value:
                value = val
                w = x[:d] - x[d: 2 * d]
                if geo.bias:  # naive coordinates -> geo's scaled coordinates
                    bb = x[2 * d]
                    v = np.concatenate([w, [bb]]) if center else np.concatenate(
                        [w * geo.R / Rn, [bb + w @ geo.center / Rn]])
                else:
                    v = w * (geo.R / Rn)
        upper_s = max(upper_s, ub_j)
    # safety margin for HiGHS's tolerances on the O(1) scaled program
    upper = upper_s * unit * (1.0 + 1e-9) + 1e-12 * unit
    return SideResult(float(upper), float(value * unit) if np.isfinite(value) else -np.inf, v, bool(optimal), nodes,
                      time.perf_counter() - t0, status, timed_out)


def price_milp(geo: Geometry, theta: np.ndarray, lam: float, *, time_limit: float,
               cutoffs: tuple[float | None, float | None] = (None, None), center: bool = True,
               b_slices: int = 1, hull: bool = False, verbose: bool = False,
               node_limit: int | None = None) -> PricingResult:
    """Both sides ``V_+(theta)``, ``V_+(-theta)`` (half the time each, the unused time of the
    first passed on); returns the certified upper bound and the incumbents, divided by ``lam``.
    ``node_limit`` caps each side's branch-and-bound nodes (deterministic work).

    ``cutoffs`` are values (data units) known to be reached on each side (e.g. by local search)."""
    t0 = time.perf_counter()
    sides = []
    for k, sgn in enumerate((1.0, -1.0)):
        remaining = time_limit - (time.perf_counter() - t0)
        tl = remaining / (2 - k)
        r = solve_side(geo, sgn * theta, time_limit=max(tl, 0.05), cutoff=cutoffs[k], center=center,
                       b_slices=b_slices, hull=hull, node_limit=node_limit)
        if verbose:
            print(f"[bound] pricing MILP, side {'+' if sgn > 0 else '-'}: violation <= {r.upper / lam:.6g}, "
                  f"incumbent {r.value / lam:.6g}, {r.nodes} nodes, {r.seconds:.1f}s ({r.status})")
        sides.append((sgn, r))
    upper = max(r.upper for _, r in sides) / lam
    inc = [(r.v, r.value / lam) for _, r in sides if r.v is not None]
    lower = max((val for _, val in inc), default=-np.inf)
    return PricingResult(upper=float(upper), lower=float(lower), V=inc, optimal=all(r.optimal for _, r in sides),
                         nodes=sum(r.nodes for _, r in sides), seconds=time.perf_counter() - t0,
                         timed_out=any(r.timed_out for _, r in sides))
