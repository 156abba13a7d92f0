"""Vertex climbing (wedgenet.beyond.local_search): dense pricing (before) vs half-plane pricing (after).

Before: every swap ``r -> q`` of a climb step priced by the ``P x n`` block
``Z = alpha_r s0^T - beta S_r^T`` and ``(Z)_+ theta`` per position: ``O(n P D)`` per step.
After: the samples sorted by angle in the plane ``(s0_i, S_ir)``, prefix sums of ``theta_i p_i``,
two binary searches per swap, the best swap re-priced directly: ``O((n + P) D log n)``.

1. The breast_cancer case of ``experiments_polish.py`` (d=30, logistic, MLP 30-32-1, 300 full-batch
   Adam steps, trial 0..T-1): default polish timed with each pricing, order after, before, after
   (the first run also loads the numba cache); shares and objectives must agree.
2. Micro-benchmark: every ``climb`` call of that polish replayed with each pricing; same end
   vertex, score and step count.

Run:  python benchmarks/bench_climb.py [--trials 1]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

import wedgenet  # noqa: E402
from wedgenet._linalg import row_norms  # noqa: E402
from wedgenet.beyond import local_search  # noqa: E402

FAST = local_search.neighbour_scores


def dense_neighbour_scores(geo, rows, v, theta, positions=None):
    """The pricing before the half-plane sums (kept here only as the benchmark's baseline)."""
    D = geo.D
    M = np.vstack([geo.rows[rows], v[None, :]])
    try:
        G = np.linalg.inv(M)
    except np.linalg.LinAlgError:
        return -np.inf, -1, -1, 0
    s0 = geo.A @ v
    S = geo.A @ G[:, : D - 1]
    P = geo.rows.shape[0]
    alpha = geo.rows @ G[:, : D - 1]
    beta = geo.rows @ v
    chunk = max(1, 2_000_000 // max(geo.n, 1))
    best = (-np.inf, -1, -1, 0)
    in_set = np.zeros(P, dtype=bool)
    in_set[rows] = True
    for r in (range(D - 1) if positions is None else positions):
        r = int(r)
        Wn = alpha[:, r, None] * v[None, : geo.d] - beta[:, None] * G[None, : geo.d, r]
        nrm = row_norms(Wn, geo.p)
        scale_ok = nrm > 1e-10 * max(float(np.abs(alpha[:, r]).max()), float(np.abs(beta).max()), 1e-300)
        valid = scale_ok & ~in_set
        for a in range(0, P, chunk):
            sl = slice(a, min(P, a + chunk))
            Z = alpha[sl, r, None] * s0[None, :] - beta[sl, None] * S[None, :, r]
            sp = np.maximum(Z, 0.0) @ theta
            sm = np.maximum(-Z, 0.0) @ theta
            with np.errstate(divide="ignore", invalid="ignore"):
                val_p = np.abs(sp) / nrm[sl]
                val_m = np.abs(sm) / nrm[sl]
            ok = valid[sl]
            val_p = np.where(ok, val_p, -np.inf)
            val_m = np.where(ok, val_m, -np.inf)
            ip, im = int(np.argmax(val_p)), int(np.argmax(val_m))
            if val_p[ip] * geo.R > best[0]:
                best = (float(val_p[ip] * geo.R), r, a + ip, 1)
            if val_m[im] * geo.R > best[0]:
                best = (float(val_m[im] * geo.R), r, a + im, -1)
    return best


def load() -> str:
    return os.popen("uptime").read().strip().split("load average:")[-1].strip()


def polish_case(model, Xtr, ytr, lam, pricing, record: list | None):
    local_search.neighbour_scores = pricing
    orig = local_search.climb

    def recording(geo, rows, v, theta, **kw):
        out = orig(geo, rows, v, theta, **kw)
        if record is not None:
            record.append((geo, np.array(rows), v.copy(), theta.copy(), kw, out))
        return out

    local_search.climb = recording
    try:
        t = time.perf_counter()
        _, rep = wedgenet.polish(model, Xtr, ytr, loss="logistic", lam=lam, layers="first")
        dt = time.perf_counter() - t
    finally:
        local_search.climb = orig
        local_search.neighbour_scores = FAST
    return dt, rep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=1)
    args = ap.parse_args()
    from experiments_polish import _standardised_runs
    from sklearn.datasets import load_breast_cancer

    X_all, y_all = load_breast_cancer(return_X_y=True)
    print(f"load at start: {load()}")
    runs = _standardised_runs(X_all, y_all.astype(float), loss="logistic", widths_seed=32, trials=args.trials,
                              frac=0.8, epochs=300, batch=None, wd=1e-3)
    calls: list = []
    for t, (model, Xtr, ytr, _, _, lam, _) in enumerate(runs):
        print(f"\n== breast_cancer trial {t}: n={len(Xtr)}, d={Xtr.shape[1]}, default polish ==")
        res = {}
        for name, pricing in (("after", FAST), ("before", dense_neighbour_scores), ("after", FAST)):
            rec = calls if name == "after" and name not in res else None
            dt, rep = polish_case(model, Xtr, ytr, lam, pricing, rec)
            res.setdefault(name, []).append(dt)
            print(f"  {name:<6} polish {dt:6.2f} s  sample-defined {rep.sample_defined:.4f}  of active "
                  f"{rep.active_sample_defined:.4f}  objective {rep.after['objective']:.12g}  (load {load()})")
        print(f"  speed-up of the polish: {res['before'][0] / min(res['after']):.2f}x")
    print(f"\n== micro-benchmark: {len(calls)} climb calls of the polish(es) replayed ==")
    for name, pricing in (("before", dense_neighbour_scores), ("after", FAST), ("before", dense_neighbour_scores),
                          ("after", FAST)):
        local_search.neighbour_scores = pricing
        t0 = time.perf_counter()
        outs = [local_search.climb(g, r, v, th, **kw) for g, r, v, th, kw, _ in calls]
        dt = time.perf_counter() - t0
        local_search.neighbour_scores = FAST
        same = all(np.array_equal(o[0], c[-1][0]) and o[3] == c[-1][3]
                   and abs(o[2] - c[-1][2]) <= 1e-12 * abs(c[-1][2]) for o, c in zip(outs, calls, strict=True))
        steps = sum(o[3] for o in outs)
        print(f"  {name:<6} {dt:7.3f} s for {steps} steps ({1e3 * dt / max(steps, 1):.2f} ms/step); "
              f"same end vertices, scores and steps as the recorded run: {same}  (load {load()})")


if __name__ == "__main__":
    main()
