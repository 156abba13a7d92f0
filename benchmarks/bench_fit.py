"""End-to-end ``wedgenet.fit`` against convex and non-convex peers, side by side in one run.

Every convex peer solves the SAME problem as ``wedgenet.fit``, on the explicit full dictionary
``K = wedgenet.dictionary(X, reg=..., bias=...).K`` (docs/conventions.md#objective):

    F(z, t) = 0.5 * ||K z + t - y||^2 + lam * ||z||_1      (t free iff D.fit_intercept, else t = 0)

which has the optimal value of the ReLU network objective
``0.5 ||f(X) - y||^2 + (lam/2) sum_j (||w_j||_p^2 + a_j^2)`` (hidden biases free).

* wedgenet        ``wn.fit(X, y, lam=..., reg=..., bias=...)``, timed end to end INCLUDING the
                  dictionary build (best of --repeat within a time budget); the build alone is
                  shown on its own line.  Its objective is ``net.info['primal']`` (checked
                  against ``net.objective(X, y)``); its certified relative duality gap is shown.
* cvxpy+Clarabel  the full problem, tolerances tol_gap_abs = tol_gap_rel = tol_feas = tol.
* sklearn Lasso   ``alpha = lam / n`` (its loss is ``(1/2n)||r||^2``), ``fit_intercept``; cyclic
                  coordinate descent continued in chunks with ``warm_start`` (same iterates) so
                  that a run cut off by the budget still reports how far it got.
* skglm Lasso     same scaling; numba kernels compiled before timing.
* celer Lasso     same scaling.

Tolerance tuning: each peer starts at the tolerance shown in PEERS and tightens it 10x until
its objective is within 1e-6 (relative) of wedgenet's; the time reported is that of the run
that met it (the column ``tries`` counts the runs).  Each run is a child process (from a fork
server, so it inherits no solver threads), which loads K, imports the peer and runs it once on a
tiny problem before the timed solve; all the runs of one peer on one case share a budget of
--cap seconds (the running child is killed when it is used up).  A peer that never met 1e-6
is reported with the relative error of its best completed run (or the last iterate an
unfinished run reported), marked ``NO``.
``ratio`` = peer time / wedgenet time.  Targets (PASS/FAIL): wedgenet >= 20x faster than
cvxpy, and no slower than celer; a peer out of budget gives only a lower bound on the ratio
(PASS if that already meets the target, else INCONCLUSIVE).  The default budget (100 s;
15 s with --quick) keeps the full run near 15 minutes; pass --cap 300 for a more generous one.

Also on the spiral:
* pyscnn (Mishkin et al.) convex ReLU formulation (``ConvexReLU`` + augmented-Lagrangian ``AL``
  solver, sampled affine activation patterns, ``NeuronGL1`` = group-l2 penalty).  Its objective
  is ``(1/2n)||r||^2 + lam_s sum_i ||u_i||_2`` with ``u_i = (w_i, b_i)`` (the hidden bias is an
  augmented feature, so it IS penalised) and no output intercept; we pass ``lam_s = lam / n``.
  Its returned network is evaluated with wedgenet's non-convex objective.
* PyTorch Adam on the non-convex objective (float64, full batch, width 2x wedgenet's neurons,
  fixed step budget, several seeds): time to within 1e-3 of the certified value, best value.
  For reg='l1' (exact, Thm 16) Adam must never go below the certified optimum (checked
  against the dual bound); for reg='l2' the wedge value is only an upper bound of the optimum.

Run:  python benchmarks/bench_fit.py [--quick] [--cap SECONDS]

Issue 18 (certified fit time in full-pricing-pass equivalents, BEFORE vs AFTER side by side):

      python benchmarks/bench_fit.py --passes [--before DIR] [--cases CASE ...] [--json FILE]

runs diabetes bmi/bp/s5 (n = 442 and the 331 split), spiral n = 500/1000/2000, the planted d = 4
problem of bench_stream (lam = 0.02 lam_max) and breast_cancer (2 features; squared, logistic,
hinge on the same dictionary, hinge at the logistic lam; liblinear on the same matrix, capped at
120 s) at lam = 0.05 lam_max, each case in a child process per source tree (benchmarks/_passes.py);
``--before DIR`` is a directory holding an older ``wedgenet`` package, e.g.
``mkdir /tmp/before && git archive cdb3568 wedgenet | tar -x -C /tmp/before``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import multiprocessing.forkserver
import os
import resource
import tempfile
import time
import traceback
import warnings

import numba
import numpy as np
from _common import best_of  # benchmarks/ is on sys.path when run as a script

import wedgenet as wn
from wedgenet.datasets import make_spiral

REL_TOL = 1e-6  # peers must reach wedgenet's objective to this relative accuracy
TARGET_VS_CVXPY = 20.0  # wedgenet at least this many times faster than cvxpy
TARGET_VS_CELER = 1.0  # and no slower than celer
ADAM_HIT = 1e-3  # Adam: time to reach the certified value within this relative accuracy
ADAM_LR = 3e-3
CHILD_MEM_BYTES = 12 * 2**30  # address-space limit of a peer's child process
SETUP_LIMIT = 300.0  # seconds a child may spend loading and warming up before its timed run
SKLEARN_MAX_CHUNK = 500  # epochs between the progress reports of scikit-learn's coordinate descent

# name -> (first tolerance, smallest tolerance tried)
PEERS = {
    "cvxpy+Clarabel": (1e-8, 1e-12),
    "sklearn Lasso": (1e-6, 1e-12),
    "skglm Lasso": (1e-6, 1e-12),
    "celer Lasso": (1e-6, 1e-12),
}


# ---------------------------------------------------------------------------- problems
def lasso_objective(K, y, lam, coef, intercept) -> float:
    r = K @ coef + intercept - y
    return float(0.5 * r @ r + lam * np.abs(coef).sum())


def planted_relu(n: int = 100, d: int = 3, noise: float = 0.1, seed: int = 0):
    """Gaussian X; y = a 4-neuron ReLU network with hidden biases, plus Gaussian noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((4, d))
    b = 0.5 * rng.standard_normal(4)
    a = np.array([1.5, -1.0, 1.2, -0.8])
    y = np.maximum(X @ W.T + b, 0.0) @ a + noise * rng.standard_normal(n)
    return X, y


def lam_max(D, y) -> float:
    """Smallest lam with the zero network optimal: max |K^T (y - mean y)| (no centring without intercept)."""
    yc = y - y.mean() if D.fit_intercept else y
    return float(np.abs(D.K.T @ yc).max())


# ---------------------------------------------------------------------------- peers (run in children)
def _solve_peer(name, K, y, lam, intercept, tol, progress=None):
    """Solve with one peer; ``progress(result)`` reports intermediate iterates where the peer allows it."""
    n = K.shape[0]
    if name == "cvxpy+Clarabel":
        import cvxpy as cp

        z = cp.Variable(K.shape[1])
        pred = K @ z
        t = cp.Variable() if intercept else None
        if intercept:
            pred = pred + t
        prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(pred - y) + lam * cp.norm1(z)))
        prob.solve(solver=cp.CLARABEL, tol_gap_abs=tol, tol_gap_rel=tol, tol_feas=tol, max_iter=1000)
        return np.asarray(z.value, dtype=float), (float(t.value) if intercept else 0.0), str(prob.status)
    if name == "sklearn Lasso":
        from sklearn.linear_model import Lasso

        # Plain cyclic coordinate descent, continued chunk by chunk with warm_start (the same iterates
        # as one long run, plus one centring of K per chunk) so the parent sees where it got to.
        m = Lasso(alpha=lam / n, fit_intercept=intercept, tol=tol, warm_start=True)
        chunk = 50
        while True:
            m.max_iter = chunk
            m.fit(K, y)
            if m.n_iter_ < chunk:
                break
            if progress is not None:
                progress((np.asarray(m.coef_, dtype=float), float(m.intercept_) if intercept else 0.0, "partial"))
            chunk = min(2 * chunk, SKLEARN_MAX_CHUNK)
    elif name == "skglm Lasso":
        from skglm import Lasso

        m = Lasso(alpha=lam / n, fit_intercept=intercept, tol=tol, max_iter=10**4).fit(K, y)
    elif name == "celer Lasso":
        from celer import Lasso

        m = Lasso(alpha=lam / n, fit_intercept=intercept, tol=tol, max_iter=10**4).fit(K, y)
    else:
        raise ValueError(name)
    return np.asarray(m.coef_, dtype=float), float(m.intercept_) if intercept else 0.0, "done"


def _child(conn, fn, args, setup):
    try:
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEM_BYTES, CHILD_MEM_BYTES))
        warnings.simplefilter("ignore")
        if setup is not None:
            args = setup(*args)  # untimed: load data, import and warm up the solver
        conn.send(("start", 0.0, None))
        t = time.perf_counter()
        out = fn(*args, progress=lambda part: conn.send(("progress", time.perf_counter() - t, part)))
        conn.send(("ok", time.perf_counter() - t, out))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        conn.send(("error", 0.0, f"{type(exc).__name__}: {exc}".splitlines()[0][:120]
                   + ("" if not os.environ.get("BENCH_DEBUG") else "\n" + traceback.format_exc())))
    finally:
        conn.close()


def child_context():
    """Children come from a fork server started before this process ran any threaded solver.

    Forking the benchmark process itself is not safe: after ``wn.fit`` has run Clarabel with its
    worker threads, a forked child deadlocks in its first Clarabel solve.
    """
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["numpy", "scipy.sparse", "sklearn.linear_model", "cvxpy", "celer", "skglm"])
    return ctx


def run_capped(fn, args, cap: float, setup=None):
    """Run ``fn(*args)`` (``fn(*setup(*args))`` if ``setup``) in a child killed after ``cap`` seconds.

    Only ``fn`` is timed, inside the child.
    Returns ``(status, seconds, result)``: ``ok``; ``error`` (result = message); ``timeout``
    (result = the last intermediate ``(seconds, result)`` the child reported, or None).
    """
    ctx = child_context()
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(child, fn, args, setup), daemon=True)
    p.start()
    child.close()
    t = time.perf_counter()
    limit = SETUP_LIMIT  # the cap starts once the child has finished its untimed setup
    last = None
    while True:
        remaining = limit - (time.perf_counter() - t)
        msg = None
        if remaining > 0 and parent.poll(remaining):
            try:
                msg = parent.recv()
            except EOFError:
                msg = None
            if msg is None:  # the child exited without a final message
                p.join()
                return "error", time.perf_counter() - t, f"child died (exit code {p.exitcode})"
            if msg[0] == "progress":
                last = (msg[1], msg[2])
                continue
            if msg[0] == "start":
                t, limit = time.perf_counter(), cap
                continue
            p.join()
            return msg
        p.kill()
        p.join()
        return "timeout", time.perf_counter() - t, last


def tune_peer(name, K, kpath, y, lam, intercept, ref, cap):
    """Tighten the peer's tolerance until it meets ``ref`` to REL_TOL, within ``cap`` seconds in all."""
    tol, tol_min = PEERS[name]
    best = None
    tries = 0
    spent = 0.0
    while tol >= tol_min * 0.999:
        tries += 1
        status, secs, out = run_capped(_solve_peer, (name, kpath, y, lam, intercept, tol), cap - spent,
                                       setup=_peer_setup)
        spent += secs
        if status == "timeout":
            if out is not None:  # an intermediate iterate of the unfinished run
                coef, icpt, _ = out[1]
                F = lasso_objective(K, y, lam, coef, icpt)
                rel = (F - ref) / ref
                if best is None or rel < best["rel"]:
                    best = {"F": F, "rel": rel, "tol": tol, "time": out[0], "partial": True}
            return {"status": "cap", "tol": tol, "tries": tries, "time": secs, "best": best, "spent": spent}
        if status == "error":
            return {"status": "error", "tol": tol, "tries": tries, "time": secs, "best": best, "msg": out,
                    "spent": spent}
        coef, icpt, _ = out
        F = lasso_objective(K, y, lam, coef, icpt)
        rel = (F - ref) / ref
        if best is None or rel < best["rel"]:
            best = {"F": F, "rel": rel, "tol": tol, "time": secs}
        if rel <= REL_TOL:
            return {"status": "met", "tol": tol, "tries": tries, "time": secs, "F": F, "rel": rel, "best": best,
                    "spent": spent}
        if spent >= cap:
            return {"status": "cap", "tol": tol / 10.0, "tries": tries, "time": 0.0, "best": best, "spent": spent}
        tol /= 10.0
    return {"status": "tol_floor", "tol": tol * 10, "tries": tries, "time": best["time"], "best": best,
            "spent": spent}


def _peer_setup(name, kpath, y, lam, intercept, tol):
    """In the child, untimed: load K, import the peer and run it once on a tiny problem (compiles skglm)."""
    K = np.load(kpath)
    rng = np.random.default_rng(1)
    A = np.asfortranarray(rng.random((20, 30)))
    b = rng.standard_normal(20)
    for icpt in (True, False):
        _solve_peer(name, A, b, 0.1, icpt, 1e-6)
    return name, np.asfortranarray(K), y, lam, intercept, tol


# ---------------------------------------------------------------------------- pyscnn (child)
def _scnn_setup(*args):
    """Untimed: import pyscnn (and with it torch)."""
    import scnn.optimize  # noqa: F401

    return args


def _run_scnn(X, y, lam, n_gates, seed, tol, progress=None):
    import logging

    from scnn.metrics import Metrics
    from scnn.models import ConvexReLU
    from scnn.optimize import optimize_model
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import AL

    notes: list[str] = []

    class _Keep(logging.Handler):
        def emit(self, record):
            notes.append(record.getMessage().split(".")[0].strip())

    log = logging.getLogger("scnn")
    log.addHandler(_Keep(level=logging.WARNING))
    log.propagate = False  # keep its warnings off the table; they are reported in the notes column
    n, d = X.shape
    G = np.random.default_rng(seed).standard_normal((d + 1, n_gates))  # affine gates: hyperplanes anywhere
    model = ConvexReLU(G[:d], c=1, bias=True, G_bias=G[d])
    solver = AL(model, tol=tol, constraint_tol=tol)
    nc, _ = optimize_model(model, solver, Metrics(), X, y, regularizer=NeuronGL1(lam / n), unitize_data=False,
                           dtype="float64", seed=seed)
    W1, b1, W2 = (np.asarray(p, dtype=float) for p in nc.parameters)
    return W1, b1, W2[0], sorted(set(notes))


def scnn_values(X, y, lam, W1, b1, a):
    """pyscnn's own objective (times n) and wedgenet's non-convex objective of its network."""
    f = np.maximum(X @ W1.T + b1, 0.0) @ a
    r = f - y
    own = 0.5 * r @ r + lam * np.sum(np.abs(a) * np.sqrt(np.sum(W1**2, axis=1) + b1**2))
    as_returned = 0.5 * r @ r + 0.5 * lam * np.sum(np.sum(W1**2, axis=1) + a**2)  # t = 0
    t = np.mean(y - f)  # best output intercept, then balanced neurons: (lam/2)(|w|^2+a^2) -> lam |w||a|
    r2 = f + t - y
    post = 0.5 * r2 @ r2 + lam * np.sum(np.abs(a) * np.linalg.norm(W1, axis=1))
    return float(own), float(as_returned), float(post)


# ---------------------------------------------------------------------------- Adam
def adam_runs(X, y, lam, p, intercept, width, steps, seeds, F_star, lower_bound):
    import torch

    torch.set_num_threads(1)
    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y)
    target = F_star * (1 + ADAM_HIT)
    rows = []
    for seed in range(seeds):
        torch.manual_seed(seed)
        first = torch.nn.Linear(X.shape[1], width, dtype=torch.float64)  # PyTorch's default init
        W = first.weight.detach().clone().requires_grad_()
        b = first.bias.detach().clone().requires_grad_()
        a = (torch.randn(width, dtype=torch.float64) / np.sqrt(width)).requires_grad_()
        t = torch.zeros((), dtype=torch.float64, requires_grad=intercept)
        params = [W, b, a] + ([t] if intercept else [])
        opt = torch.optim.Adam(params, lr=ADAM_LR)
        best = np.inf
        hit = None
        t0 = time.perf_counter()
        for k in range(steps):
            opt.zero_grad()
            f = torch.relu(Xt @ W.T + b) @ a + t
            wn_ = W.abs().sum(dim=1) ** 2 if p == 1 else (W * W).sum(dim=1)
            F = 0.5 * ((f - yt) ** 2).sum() + 0.5 * lam * (wn_.sum() + (a * a).sum())
            F.backward()
            v = float(F.detach())  # objective of the current network (before this step)
            best = min(best, v)
            if hit is None and v <= target:
                hit = (k, time.perf_counter() - t0)
            opt.step()
        rows.append({"seed": seed, "best": best, "hit": hit, "time": time.perf_counter() - t0,
                     "below": best < lower_bound})
    return rows


# ---------------------------------------------------------------------------- printing
ROW = "{:<16}{:>7}{:>6}{:>10}{:>10}  {:<22}{:>10}{:>9}  {}"


def fmt_time(s: float) -> str:
    return f"{s:.3f}" if s < 100 else f"{s:.1f}"


def machine_line() -> str:
    la = os.getloadavg()
    return (f"load average (1/5/15 min): {la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f} on {os.cpu_count()} CPUs; "
            "the machine may be shared, so wall times include interference from other jobs")


def run_case(tag, title, short, X, y, reg, bias, lam, args, summary):
    print(f"\n=== {tag}: {title}, reg={reg!r}, bias={bias}")
    D = wn.dictionary(X, reg=reg, bias=bias)
    lmax = lam_max(D, y)
    K = np.asfortranarray(D.K)
    kpath = os.path.join(args.tmpdir, f"K{tag.strip('()')}.npy")
    np.save(kpath, K)  # the peers' children load it (untimed)
    n, p = K.shape
    intercept = bool(D.fit_intercept)
    t_dict = best_of(lambda: wn.dictionary(X, reg=reg, bias=bias), args.repeat, budget=5.0)
    holder = {}

    def fit():
        holder["net"] = wn.fit(X, y, lam=lam, reg=reg, bias=bias)

    fit_times = []

    def timed_fit():
        t = time.perf_counter()
        fit()
        fit_times.append(time.perf_counter() - t)

    t_fit = best_of(timed_fit, args.repeat, budget=args.fit_budget)
    net = holder["net"]
    ref = float(net.info["primal"])
    obj_xy = net.objective(X, y)
    print(f"lam = {lam:g} (lam / lam_max = {lam / lmax:.4f}, lam_max = max|K^T(y - mean y)| = {lmax:.6g}"
          f"{'' if intercept else ', y not centred: no intercept'}); dictionary: {p:,} columns, "
          f"n = {n}, intercept {'free' if intercept else 'none'}; {D.theorem}, "
          f"{'exact' if D.exact else D.approximation}")
    print(f"wedgenet: {net.n_neurons} neurons, certified relative gap {net.relative_gap:.2e}, "
          f"n_iter {net.info['n_iter']}; fit times " + ", ".join(f"{v:.3f}" for v in fit_times)
          + f" s (the best is used); info['primal'] = {ref:.12g}, objective(X, y) = {obj_xy:.12g} "
          f"(rel diff {abs(obj_xy - ref) / ref:.1e} {'OK' if abs(obj_xy - ref) <= 1e-9 * ref else 'MISMATCH'})")
    print(ROW.format("solver", "tol", "tries", "time s", "ratio", "objective", "rel err", "met 1e-6", ""))
    print("-" * 96)
    print(ROW.format("wedgenet.fit", "1e-06", "", fmt_time(t_fit), "1.00", f"{ref:.14g}", "reference",
                     "", f"certified relative gap {net.relative_gap:.1e}"))
    print(ROW.format("  dict build", "", "", fmt_time(t_dict), f"{t_dict / t_fit:.3f}", "(part of wedgenet.fit)",
                     "", "", ""))
    results = {}
    for name in PEERS:
        r = tune_peer(name, K, kpath, y, lam, intercept, ref, args.cap)
        results[name] = r
        if r["status"] == "met":
            print(ROW.format(name, f"{r['tol']:.0e}", r["tries"], fmt_time(r["time"]), f"{r['time'] / t_fit:.2f}",
                             f"{r['F']:.14g}", f"{r['rel']:.2e}", "yes", ""))
            continue
        b = r["best"]
        if r["status"] == "cap":
            why = f"tuning budget {args.cap:g} s used up ({r['spent']:.0f} s) at tol {r['tol']:.0e}"
            tstr, rstr = f">{r['time']:.1f}" if r["time"] else "-", (
                f">={r['time'] / t_fit:.2f}" if r["time"] else "-")
        elif r["status"] == "tol_floor":
            why = f"still short at the smallest tol {r['tol']:.0e}"
            tstr, rstr = "-", "-"
        else:
            why = f"error at tol {r['tol']:.0e}: {r.get('msg', '')}"
            tstr, rstr = "-", "-"
        if b is None:
            print(ROW.format(name, f"{r['tol']:.0e}", r["tries"], tstr, rstr, "-", "-", "NO",
                             f"{why}; no completed run"))
        else:
            where = (f"last iterate reported, {b['time']:.1f} s into the unfinished run at tol {b['tol']:.0e}"
                     if b.get("partial") else f"best completed run: tol {b['tol']:.0e} in {b['time']:.2f} s")
            print(ROW.format(name, f"{r['tol']:.0e}", r["tries"], tstr, rstr, f"{b['F']:.14g}", f"{b['rel']:.2e}",
                             "NO", f"{why}; {where}"))
    # targets
    verdicts = []
    for name, need, label in (("cvxpy+Clarabel", TARGET_VS_CVXPY, f">= {TARGET_VS_CVXPY:g}x faster than cvxpy"),
                              ("celer Lasso", TARGET_VS_CELER, "no slower than celer")):
        r = results[name]
        if r["status"] == "met":
            ratio = r["time"] / t_fit
            ok = ratio >= need
            txt = f"{ratio:.2f}x"
            verdict = "PASS" if ok else "FAIL"
        elif r["status"] == "cap":
            ratio = args.cap / t_fit  # a lower bound: the peer did not meet 1e-6 within its budget
            txt = f"> {ratio:.2f}x (peer did not meet 1e-6 in {args.cap:g} s)"
            verdict = "PASS" if ratio >= need else "INCONCLUSIVE (raise --cap)"
        elif r["status"] == "tol_floor":
            txt, verdict = "peer never met 1e-6 at any tolerance (no ratio)", "PASS"
        else:
            txt, verdict = "peer failed (no ratio)", "INCONCLUSIVE"
        verdicts.append(f"{label}: {txt} {verdict}")
        summary.append((f"{tag} {short}", label, txt, verdict))
    print("targets: " + "; ".join(verdicts))
    return net, D, t_fit


def scnn_section(X, y, lams, nets, args):
    print(f"\n=== (c) pyscnn convex ReLU on the spiral (reg='l2', bias=True): {args.scnn_gates} sampled affine gates "
          f"(up to {2 * args.scnn_gates} neurons), AL solver tol {args.scnn_tol:g}, NeuronGL1(lam / n), "
          f"unitize_data=False, float64, cap {args.scnn_cap:g} s")
    print("  pyscnn minimises (1/2n)||r||^2 + (lam/n) sum_i ||(w_i, b_i)||_2 over its sampled patterns: the hidden bias"
          " is penalised and there is no output intercept, so its optimum is >= wedgenet's problem's optimum.")
    print("  own = n x its objective; as returned = wedgenet's objective 0.5||r||^2 + (lam/2) sum(||w||^2 + a^2) of its"
          " network (biases free, t = 0); +t,bal = same after adding the best output intercept and balancing.")
    print("  rel = (value - wedgenet's certified value) / wedgenet's; ratio = pyscnn time / wedgenet.fit time.")
    hdr = (f"{'lam':>6}{'time s':>10}{'ratio':>8}{'neurons':>9}{'own':>14}{'as returned':>14}{'rel':>10}"
           f"{'+t,bal':>14}{'rel':>10}{'wedgenet':>14}  notes")
    print(hdr)
    print("-" * (len(hdr) + 20))
    for lam in lams:
        net, t_fit = nets[lam]
        ref = float(net.info["primal"])
        status, secs, out = run_capped(_run_scnn, (X, y, lam, args.scnn_gates, 0, args.scnn_tol), args.scnn_cap,
                                       setup=_scnn_setup)
        if status != "ok":
            what = f"cap {args.scnn_cap:g} s hit" if status == "timeout" else str(out)
            print(f"{lam:>6g}{'>' + format(args.scnn_cap, 'g') if status == 'timeout' else '-':>10}  ({what})")
            continue
        W1, b1, a, notes = out
        own, ret, post = scnn_values(X, y, lam, W1, b1, a)
        print(f"{lam:>6g}{fmt_time(secs):>10}{secs / t_fit:>8.2f}{int(np.count_nonzero(a)):>9}{own:>14.8g}"
              f"{ret:>14.8g}{(ret - ref) / ref:>10.2e}{post:>14.8g}{(post - ref) / ref:>10.2e}{ref:>14.8g}  "
              f"{'; '.join(notes) if notes else 'pyscnn: converged'}")


def adam_section(cases, args):
    print(f"\n=== (d) PyTorch Adam on the non-convex objective (float64, full batch, lr {ADAM_LR:g}, {args.adam_steps} "
          f"steps, {args.adam_seeds} seeds, width 2x wedgenet's neurons, PyTorch default init, torch threads 1)")
    print(f"  hit = time to reach the certified value within {ADAM_HIT:g} (relative); best = lowest objective seen"
          " (the value of the network at some step).")
    summary = []
    for label, X, y, lam, reg, net, t_fit in cases:
        p = 1 if reg == "l1" else 2
        intercept = bool(wn.dictionary(X, reg=reg, bias=net.bias).fit_intercept)
        F_star = float(net.info["primal"])
        lower = float(net.info["dual"])
        width = 2 * net.n_neurons
        rows = adam_runs(X, y, lam, p, intercept, width, args.adam_steps,
                         args.adam_seeds, F_star, lower)
        print(f"{label}: wedgenet {F_star:.10g} ({net.n_neurons} neurons, {t_fit:.2f} s, dual bound {lower:.10g}, "
              f"{'exact: global optimum' if net.exact else 'wedge value: an UPPER bound of the optimum'})")
        for r in rows:
            hit = f"{r['hit'][1]:.2f} s (step {r['hit'][0]})" if r["hit"] else "not reached"
            print(f"   seed {r['seed']}: width {width}, {r['time']:.2f} s, best {r['best']:.10g} "
                  f"(rel {(r['best'] - F_star) / F_star:+.2e}), hit: {hit}")
        below = [r for r in rows if r["best"] < F_star]
        if net.exact:
            ok = not any(r["below"] for r in rows)
            txt = (f"min over seeds and steps {min(r['best'] for r in rows):.10g} "
                   f">= certified lower bound {lower:.10g}: {'PASS' if ok else 'FAIL'}")
            print(f"   Adam never below the certified optimum (exact p=1 case): {txt}")
            summary.append((label.replace(" bias=True", ""), "Adam never below certified optimum",
                            f"min rel {(min(r['best'] for r in rows) - F_star) / F_star:+.2e}",
                            "PASS" if ok else "FAIL"))
        else:
            print(f"   {len(below)} of {len(rows)} seeds went below the wedge value (allowed for reg='l2': "
                  "it is only within 1/(1-eps) of the optimum)")
    return summary


# ---------------------------------------------------------------------------- main
PASS_CASES = ["diabetes331", "diabetes442", "spiral500", "spiral1000", "spiral2000", "planted500",
              "cancer-squared", "cancer-logistic", "cancer-hinge"]


def passes_main(cases: list[str], before: str | None, json_out: str | None = None) -> None:
    """Issue 18's table: per case, certified fit time / one full pricing pass, and the passes."""
    import _passes

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    print(machine_line())
    for c in cases:  # AFTER then BEFORE per case, so each pair sees the same machine load
        after = _passes.run_tree(here, [c])
        prior = _passes.run_tree(before, [c]) if before else None
        _passes.table(prior, after)
        if json_out:
            import json

            with open(json_out, "a") as f:
                f.write(json.dumps({"after": after, "before": prior}) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller cases, budgets and caps (about 2 minutes)")
    ap.add_argument("--cap", type=float, default=None,
                    help="time budget per peer and case, seconds (default 100, quick 15)")
    ap.add_argument("--repeat", type=int, default=3, help="wedgenet timings: best of this many (within a budget)")
    ap.add_argument("--passes", action="store_true", help="issue 18: fit time in full-pass equivalents, before/after")
    ap.add_argument("--before", default=None, help="with --passes: a directory holding the BEFORE wedgenet package")
    ap.add_argument("--cases", nargs="+", default=None, choices=PASS_CASES,
                    help="with --passes: these cases only (default: all)")
    ap.add_argument("--json", default=None, help="with --passes: append the raw results to this file")
    args = ap.parse_args()
    if args.passes:
        passes_main(args.cases or PASS_CASES, args.before, args.json)
        return
    quick = args.quick
    args.cap = args.cap if args.cap is not None else (15.0 if quick else 100.0)
    args.fit_budget = 10.0 if quick else 20.0
    args.scnn_gates = 50 if quick else 500
    args.scnn_tol = 1e-6
    args.scnn_cap = 15.0 if quick else 120.0
    args.adam_steps = 2000 if quick else 10000
    args.adam_seeds = 2 if quick else 3
    t_start = time.perf_counter()
    child_context()
    mp.forkserver.ensure_running()  # a fresh interpreter: peers never inherit this process's threads
    tmp = tempfile.TemporaryDirectory(prefix="bench_fit_")
    args.tmpdir = tmp.name

    print("bench_fit: wedgenet.fit vs peers on 0.5||K z + t - y||^2 + lam ||z||_1 over the full wedge dictionary")
    print(f"mode: {'quick' if quick else 'full'}; numba threads: {numba.get_num_threads()}; "
          f"peer budget {args.cap:g} s per case; wedgenet best of {args.repeat} (budget {args.fit_budget:g} s); "
          "peers: one timed run per tolerance")
    print(machine_line())

    # compile numba kernels, import and warm every peer before any timing
    Xs, ys = make_spiral(160)
    for reg, bias in (("l2", True), ("l1", True), ("l1", False)):
        wn.fit(Xs[::8], ys[::8], lam=0.5, reg=reg, bias=bias)

    summary: list = []
    nets_l2 = {}
    spiral_lams = (0.5,) if quick else (0.1, 0.5)
    for i, lam in enumerate(spiral_lams):
        net, D, t_fit = run_case(f"(a{i + 1})", "spiral n=160 (make_spiral(160))", f"spiral l2 lam={lam:g}",
                                 Xs, ys, "l2", True, lam, args, summary)
        nets_l2[lam] = (net, t_fit)

    Xp, yp = planted_relu()
    planted_cases = ((False,) if quick else (False, True))
    for i, bias in enumerate(planted_cases):
        D = wn.dictionary(Xp, reg="l1", bias=bias)
        lam = round(0.05 * lam_max(D, yp), 4)
        del D
        run_case(f"(b{i + 1})", "n=100, d=3 Gaussian X, planted 4-neuron ReLU target + N(0, 0.1^2) noise, "
                 "lam = 0.05 lam_max", f"planted l1 bias={bias}", Xp, yp, "l1", bias, lam, args, summary)

    scnn_section(Xs, ys, spiral_lams, nets_l2, args)

    lam_adam = spiral_lams[0]
    t = time.perf_counter()
    net_l1 = wn.fit(Xs, ys, lam=lam_adam, reg="l1", bias=True)
    t_l1 = time.perf_counter() - t
    adam_cases = [
        (f"spiral reg='l2' bias=True lam={lam_adam:g}", Xs, ys, lam_adam, "l2", *nets_l2[lam_adam]),
        (f"spiral reg='l1' bias=True lam={lam_adam:g}", Xs, ys, lam_adam, "l1", net_l1, t_l1),
    ]
    summary += adam_section(adam_cases, args)

    print("\n=== summary")
    for tag, label, txt, verdict in summary:
        print(f"{tag:<42} {label:<38} {txt:<44} {verdict}")
    print(machine_line())
    print(f"total wall time {time.perf_counter() - t_start:.1f} s")
    tmp.cleanup()


if __name__ == "__main__":
    main()
