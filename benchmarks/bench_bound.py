"""A certified optimality bound at any dimension (issue 14): gap over time, objective against Adam.

For each case (data set, ``lam = ratio * lam_max``):

* ``wedgenet.beyond.fit_beyond`` (sampled dictionary of --max-columns columns, column generation
  with the local-search pricer and the pricing MILP, time limit --time): the network's objective,
  the certified relative gap ``(objective - lower bound) / objective`` reached by 60 s and by the
  end (300 s in the full run), the time split (restricted solves, local search, MILP), the
  columns added by each pricer.
* ``wedgenet.fit`` on the sampled dictionary alone (same --max-columns): its objective.
* PyTorch Adam on the same non-convex objective ``L(f(X), y) + (lam/2) sum (||w_j||_1^2 + a_j^2)``
  (``wedgenet.beyond.adam.adam_network``: float64, full batch, width 64, lr 1e-2 then 1e-3,
  --adam-steps steps, 5 seeds): the best objective of the 5 runs, measured on the final network
  of each run with numpy.
* ``lam_max`` is the smallest ``lam`` whose optimum is the empty network: the maximum dual
  violation at the intercept-only fit over EVERY neuron, by the pricing MILP (its incumbent; the
  line says whether the MILP proved it).

Data: scikit-learn diabetes (442 x 10, X and y standardised, squared loss), breast_cancer
(569 x 30, X standardised, labels +-1, logistic loss), ISLP Boston (506 x 12, X and medv
standardised, squared loss).  ``--relaxation`` also measures the MILP variants on the diabetes
fit at 0.2 lam_max: naive big-M (raw coordinates), mean-centred big-M (the default), with the
local-search incumbent as an objective cutoff, with the bias range cut into 4 slices, and the
ideal (disjunctive) per-ReLU formulation.

Run:  python benchmarks/bench_bound.py [--quick] [--relaxation] [--time 300]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import wedgenet as wn  # noqa: E402
from wedgenet.beyond import fit_beyond, lower_bound  # noqa: E402
from wedgenet.beyond.adam import adam_network  # noqa: E402
from wedgenet.beyond.bound import dual_point  # noqa: E402
from wedgenet.beyond.milp import price_milp  # noqa: E402
from wedgenet.beyond.vertices import Geometry  # noqa: E402
from wedgenet.solvers import get_loss  # noqa: E402


def standardise(A):
    A = np.asarray(A, dtype=np.float64)
    return (A - A.mean(axis=0)) / A.std(axis=0)


def datasets(quick: bool):
    from sklearn.datasets import load_breast_cancer, load_diabetes

    out = []
    Xd, yd = load_diabetes(return_X_y=True)
    out.append(("diabetes-10", standardise(Xd), standardise(yd), "squared"))
    try:
        from ISLP import load_data

        B = load_data("Boston")
        yb = B["medv"].to_numpy(dtype=float)
        Xb = B.drop(columns=["medv"]).to_numpy(dtype=float)
        out.append((f"boston-{Xb.shape[1]}", standardise(Xb), standardise(yb), "squared"))
    except Exception as exc:  # noqa: BLE001 - reported
        print(f"ISLP Boston unavailable: {exc!r}")
    Xc, yc = load_breast_cancer(return_X_y=True)
    out.append(("breast_cancer-30", standardise(Xc), np.where(yc > 0, 1.0, -1.0), "logistic"))
    return out


def lam_max(X, y, loss, time_limit):
    """The largest violation at the intercept-only fit over every neuron, by the pricing MILP."""
    lo = get_loss(loss)
    t0 = lo.intercept_only(y)
    theta, _ = dual_point(lo, np.zeros(len(y)) + t0, y, True)
    geo = Geometry(X, bias=True)
    pr = price_milp(geo, theta, 1.0, time_limit=time_limit)
    return pr.lower, pr.upper, pr.optimal


def adam(X, y, loss, lam, *, width=64, steps=3000, seeds=5):
    """Best objective of ``seeds`` Adam runs on the network objective (p=1, biases, intercept)."""
    import torch

    torch.set_num_threads(1)
    best, best_net, times = np.inf, None, []
    for seed in range(seeds):
        t0 = time.perf_counter()
        W, b, _, _, obj = adam_network(X, y, lam=lam, loss=loss, width=width, steps=steps, random_state=seed)
        times.append(time.perf_counter() - t0)
        if obj < best:
            best, best_net = obj, (W, b)
    return best, best_net, float(np.mean(times))


def gap_at(history: str, t: float):
    best = None
    for item in history.split(";"):
        if not item:
            continue
        s, lb, ub = (float(v) for v in item.split(":"))
        if s <= t:
            best = (ub - lb) / abs(ub)
    return best


def run_case(name, X, y, loss, ratio, args, lmax):
    lam = ratio * lmax
    print(f"\n=== {name} ({X.shape[0]} x {X.shape[1]}, {loss}), lam = {ratio} lam_max = {lam:.6g}", flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        ref = wn.fit(X, y, lam=lam, loss=loss, bias=True, max_columns=args.max_columns, random_state=0)
        t_ref = time.perf_counter() - t
    obj_ref = ref.objective(X, y)
    print(f"wedgenet.fit (sampled {args.max_columns} columns): objective {obj_ref:.8g}, {ref.n_neurons} neurons, "
          f"{t_ref:.1f}s", flush=True)
    adam_best, adam_net, adam_t = adam(X, y, loss, lam, steps=args.adam_steps)
    print(f"Adam best of 5 (width 64, {args.adam_steps} steps): objective {adam_best:.8g} ({adam_t:.1f}s per run)",
          flush=True)
    t = time.perf_counter()
    net = fit_beyond(X, y, lam=lam, loss=loss, max_columns=args.max_columns, time_limit=args.time, tol=args.tol,
                     random_state=0, verbose=args.verbose)
    t_b = time.perf_counter() - t
    i = net.info
    obj = net.objective(X, y)
    g60 = gap_at(i["bound_history"], 60.0)
    gend = i["bound_relative_gap"]
    print(f"fit_beyond: objective {obj:.8g}, {net.n_neurons} neurons, {t_b:.1f}s; certified lower bound "
          f"{i['bound_lower_bound']:.8g}; relative gap at 60 s: {'n/a' if g60 is None else f'{g60:.4g}'}, "
          f"at the end ({args.time:.0f} s): {gend:.4g}; max violation <= {i.get('bound_max_violation_upper', 'inf')}; "
          f"MILP solved to optimality: {i['bound_solved_to_optimality']}", flush=True)
    print(f"  time split: restricted {i['seconds_restricted']:.1f}s, local search {i['seconds_local_search']:.1f}s, "
          f"MILP {i['seconds_milp']:.1f}s; columns added: local search {i['n_columns_added_local_search']}, "
          f"MILP {i['n_columns_added_milp']}; bound history (s:lower:upper) {i['bound_history']}", flush=True)
    print(f"  objective ratios: fit_beyond / best Adam = {obj / adam_best:.4f}, wedgenet.fit / best Adam = "
          f"{obj_ref / adam_best:.4f}, fit_beyond / wedgenet.fit = {obj / obj_ref:.4f}", flush=True)
    return {"case": name, "ratio": ratio, "lam": lam, "objective": obj, "fit_objective": obj_ref,
            "adam_best": adam_best, "gap60": g60, "gap_end": gend, "lower": i["bound_lower_bound"],
            "seconds": t_b, "split": [i["seconds_restricted"], i["seconds_local_search"], i["seconds_milp"]],
            "neurons": net.n_neurons}, net


def relaxation(X, y, net, tl):
    print(f"\n=== MILP variants on the same dual point (diabetes-10, 0.2 lam_max), {tl:.0f}s each", flush=True)
    for label, kw in (("naive big-M (raw coordinates)", dict(center=False, local_search=False)),
                      ("big-M, mean-centred (default)", dict(local_search=False)),
                      ("+ incumbent cutoff (local search)", dict(cutoff=True)),
                      ("+ bias slicing (4 slices)", dict(b_slices=4, local_search=False)),
                      ("ideal per-ReLU hull (disjunctive)", dict(hull=True, local_search=False))):
        b = lower_bound(net, X, y, time_limit=tl, **kw)
        print(f"{label:<40} max violation <= {b.max_violation_upper:.6g}, found {b.max_violation_found:.6g}, "
              f"lower bound {b.lower_bound:.8g}, relative gap {b.relative_gap:.4g}, optimal "
              f"{b.solved_to_optimality}, {b.seconds:.1f}s", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="30 s per fit, diabetes only, 1000 Adam steps")
    ap.add_argument("--time", type=float, default=None, help="fit_beyond time limit (default 300; quick 30)")
    ap.add_argument("--max-columns", type=int, default=20000)
    ap.add_argument("--adam-steps", type=int, default=None)
    ap.add_argument("--tol", type=float, default=1e-2, help="target relative gap (default 1e-2)")
    ap.add_argument("--relaxation", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--json", default=None, help="write the rows to this file")
    ap.add_argument("--data", nargs="*", default=None, help="only these data sets (name prefixes)")
    args = ap.parse_args(argv)
    args.time = args.time or (30.0 if args.quick else 300.0)
    args.adam_steps = args.adam_steps or (1000 if args.quick else 3000)
    la = os.getloadavg()
    print(f"load average {la[0]:.2f}/{la[1]:.2f}/{la[2]:.2f} on {os.cpu_count()} CPUs (shared machine: noisy times)")
    rows = []
    data = datasets(args.quick)
    if args.quick:
        data = data[:1]
    if args.data:
        data = [t for t in data if any(t[0].startswith(p) for p in args.data)]
    for name, X, y, loss in data:
        lo, up, opt = lam_max(X, y, loss, 20.0 if args.quick else 60.0)
        print(f"\n{name}: lam_max = {lo:.6g} (pricing MILP {'proved it' if opt else f'stopped: lam_max <= {up:.6g}'})",
              flush=True)
        for ratio in ((0.2,) if args.quick else (0.05, 0.2)):
            row, net = run_case(name, X, y, loss, ratio, args, lo)
            rows.append(row)
            if args.json:
                with open(args.json, "w") as fh:
                    json.dump(rows, fh, indent=1)
            if args.relaxation and name.startswith("diabetes") and ratio == 0.2:
                relaxation(X, y, net, 15.0 if args.quick else 30.0)
    print("\n=== summary (gap = certified relative gap; obj/Adam < 1: wedgenet better)")
    print(f"{'case':<18}{'lam/lmax':>9}{'objective':>12}{'Adam best':>12}{'obj/Adam':>9}{'fit/Adam':>9}"
          f"{'gap@60s':>9}{'gap@end':>9}{'neurons':>8}")
    for r in rows:
        g60 = "n/a" if r["gap60"] is None else f"{r['gap60']:.3g}"
        print(f"{r['case']:<18}{r['ratio']:>9}{r['objective']:>12.6g}{r['adam_best']:>12.6g}"
              f"{r['objective'] / r['adam_best']:>9.4f}{r['fit_objective'] / r['adam_best']:>9.4f}{g60:>9}"
              f"{r['gap_end']:>9.3g}{r['neurons']:>8}")


if __name__ == "__main__":
    main()
