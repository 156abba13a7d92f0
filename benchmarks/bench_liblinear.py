"""Issue 18: wedgenet's certified classification fits against liblinear on the same matrix, by size.

breast_cancer, 2 standardized features, ``reg="l1"``, ``bias=True`` (``benchmarks/_passes.py``
case ``cancer-*``); the dictionary is sampled to ``max_columns`` (``random_state=0``) or full
(``0``: 324k columns).  On each matrix, ``lam = 0.05 lam_max`` of the logistic loss, and:

* wedgenet's working-set solve (``tol = 1e-6``, certified) with the squared, logistic and hinge
  losses on the same dictionary (hinge and squared at the logistic ``lam``; solve time only, the
  dictionary is built once, numba warmed up);
* liblinear (scikit-learn ``LogisticRegression(solver="liblinear", l1_ratio=1)``, ``C = 1/lam``,
  intercept scaling 1e6) on the same matrix, tolerance tightened until within 1e-6 of wedgenet's
  objective, in a child process killed after ``--cap`` seconds (:func:`_passes.liblinear`).

    python benchmarks/bench_liblinear.py [--sizes 2000 20000 80000 0] [--cap 120]
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _passes  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000, 80000, 0])
    ap.add_argument("--cap", type=float, default=120.0)
    args = ap.parse_args()
    import wedgenet as wn
    from wedgenet.solvers import LassoProblem, get_backend, get_loss
    from wedgenet.solvers.base import certify

    X, y, *_ = _passes.case_data("cancer-logistic")
    for loss in ("squared", "logistic", "hinge"):
        _passes.warm_up(loss, "l1", True)
    print(f"load {os.getloadavg()}")
    print(f"{'columns':>9} {'squared s':>10} {'logistic s':>11} {'hinge s':>9} {'log/sq':>7} {'hinge/sq':>9} "
          f"{'liblinear s':>12} {'log/liblin':>11}  liblinear objective vs wedgenet's")
    for m in args.sizes:
        D = wn.dictionary(X, reg="l1", bias=True, max_columns=m or None, random_state=0)
        lg = get_loss("logistic")
        empty = np.zeros(0, dtype=np.int64)
        pl = LassoProblem(D, y, 1.0, lg, D.fit_intercept)
        cert, _, _ = certify(pl, empty, np.zeros(0), lg.intercept_only(y))
        lam = 0.05 * cert.max_violation
        secs, objs = {}, {}
        for loss in ("squared", "logistic", "hinge"):
            pr = LassoProblem(D, y, lam, get_loss(loss), D.fit_intercept)
            be = get_backend("auto", pr)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t = time.perf_counter()
                res = be.solve(pr, tol=1e-6, max_iter=200)
                secs[loss] = time.perf_counter() - t
            objs[loss] = res.objective
            if not res.converged:
                secs[loss] = math.nan
        ls, lo = _passes.liblinear(D, y, lam, "logistic", objs["logistic"], cap=args.cap)
        if ls is None:
            lib, ratio, note = "failed", "-", str(lo)
        elif not math.isfinite(ls):
            lib, ratio, note = f">{args.cap:g}", f"<{secs['logistic'] / args.cap:.3f}", "did not finish in the cap"
        else:
            lib, ratio = f"{ls:.3f}", f"{secs['logistic'] / ls:.3f}"
            note = f"{lo:.10g} vs {objs['logistic']:.10g} (rel {(lo - objs['logistic']) / objs['logistic']:+.1e})"
        print(f"{D.n_columns:>9,} {secs['squared']:>10.3f} {secs['logistic']:>11.3f} {secs['hinge']:>9.3f} "
              f"{secs['logistic'] / secs['squared']:>7.2f} {secs['hinge'] / secs['squared']:>9.2f} {lib:>12} "
              f"{ratio:>11}  {note}", flush=True)
        del D
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
