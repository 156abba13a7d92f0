"""Polishing one layer: wedgenet's batched polish vs the per-neuron loop of the paper (section 4.1).

A layer of m = 512 neurons (with biases) on n = 5000 samples in d = 64 dimensions (Gaussian data,
Gaussian weights, biases of scale 0.1), polished without refit (steps 1-3 and the statistics):

* default    ``wedgenet.polish((W, b), X, refit=False)`` (``keep="objective"``; without targets it
             picks, per neuron, the candidate that best reproduces the trained activations; a layer
             this large tries the spread-0.1 rule only, see ``wedgenet.polishing.choice``).
* wedgenet   ``wedgenet.polish((W, b), X, refit=False, keep="polished")`` (the paper's rule): one
             matrix product ``|X_aug W_aug^T|`` for the layer, ``argpartition``, a numba kernel that
             picks the r-1 nearest independent samples, batched cross products (parallel numba),
             sign/norm, and the report's statistics (angles, activation sign changes).
* loop       the procedure as the paper writes it, one neuron at a time in Python/numpy:
             ``|X_aug w|``, ``argpartition`` for the r-1 smallest, the null vector of those samples
             by ``numpy.linalg.svd`` (minimal right singular vector), sign and norm.  No statistics
             (in its favour).  Timed with the default BLAS threads and with BLAS on one thread
             (many small LAPACK calls suffer from thread oversubscription on a loaded machine);
             the ratio is taken against the faster of the two.

Both are timed best of --repeat (numba compile excluded), and the neurons are compared (same
defining samples; angle between the two results).  --refit also times the convex refit of a
512-neuron output layer (squared loss) as a separate line; the 2 s budget is for polishing.

Run:  python benchmarks/bench_polish.py [--n 5000] [--d 64] [--m 512] [--repeat 3] [--refit]
"""

from __future__ import annotations

import argparse
import os
import time

import numba
import numpy as np
from _common import best_of

import wedgenet


def loop_polish(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The per-neuron loop (paper section 4.1), full-rank data assumed."""
    n, d = X.shape
    Xa = np.hstack([X, np.ones((n, 1))])
    r = np.linalg.matrix_rank(Xa)
    out = np.empty((W.shape[0], d + 1))
    idx_all = np.empty((W.shape[0], r - 1), dtype=np.int64)
    for j in range(W.shape[0]):
        w = np.r_[W[j], b[j]]
        s = np.abs(Xa @ w)
        idx = np.argpartition(s, r - 1)[: r - 1]
        v = np.linalg.svd(Xa[idx])[2][-1]
        if v @ w < 0:
            v = -v
        out[j] = v * (np.linalg.norm(W[j]) / np.linalg.norm(v[:d]))
        idx_all[j] = idx
    return out, idx_all


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--m", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--refit", action="store_true", help="also time the convex refit of the output layer")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.n, args.d))
    W = rng.standard_normal((args.m, args.d)) / np.sqrt(args.d)
    b = 0.1 * rng.standard_normal(args.m)
    print(f"polish a layer of m={args.m} neurons on n={args.n} samples, d={args.d} (+bias); "
          f"{os.cpu_count()} cpus, numba threads {numba.get_num_threads()}")
    wedgenet.polish((W[:4], b[:4]), X[:200], refit=False)  # compile the kernels
    res = {}

    def run_wn():
        res["wn"] = wedgenet.polish((W, b), X, refit=False, keep="polished")

    t_wn = best_of(run_wn, args.repeat)
    wedgenet.polish((W[:4], b[:4]), X[:200], refit=False)  # compile the default's kernels
    t_def = best_of(lambda: res.__setitem__("default", wedgenet.polish((W, b), X, refit=False)), args.repeat)
    from threadpoolctl import threadpool_limits

    t_loop = best_of(lambda: res.__setitem__("loop", loop_polish(X, W, b)), args.repeat)
    with threadpool_limits(limits=1, user_api="blas"):
        t_loop1 = best_of(lambda: loop_polish(X, W, b), args.repeat)
    (W_wn, b_wn), rep = res["wn"]
    Wa_loop, idx_loop = res["loop"]
    Wa_wn = np.c_[W_wn, b_wn]
    same = np.mean([set(a) == set(c) for a, c in zip(rep.layers[0].samples, idx_loop, strict=True)])
    cos = np.einsum("ij,ij->i", Wa_wn, Wa_loop) / (np.linalg.norm(Wa_wn, axis=1) * np.linalg.norm(Wa_loop, axis=1))
    ang = np.degrees(np.arccos(np.clip(cos, -1, 1))).max()
    Xa = np.c_[X, np.ones(args.n)]
    orth = max(np.abs(Xa[s] @ w).max() / (np.linalg.norm(Xa[s], axis=1).max() * np.linalg.norm(w))
               for s, w in zip(rep.layers[0].samples, Wa_wn, strict=True))
    print(f"{'method':<10} {'seconds':>9} {'per neuron':>12}   (best of {args.repeat})")
    print(f"{'wedgenet':<10} {t_wn:>9.3f} {1e3 * t_wn / args.m:>10.3f}ms")
    print(f"{'loop':<10} {t_loop:>9.3f} {1e3 * t_loop / args.m:>10.3f}ms")
    print(f"{'loop 1-thr':<10} {t_loop1:>9.3f} {1e3 * t_loop1 / args.m:>10.3f}ms  (BLAS on one thread)")
    rep_d = res["default"][1]
    print(f"{'default':<10} {t_def:>9.3f} {1e3 * t_def / args.m:>10.3f}ms  (keep='objective', no targets: "
          f"rules {sorted(set(rep_d.layers[0].rule))}, median angle {np.median(rep_d.layers[0].angle):.2f} deg)")
    print(f"ratio best loop / wedgenet: {min(t_loop, t_loop1) / t_wn:.1f}x; paper rule under 2 s: {t_wn < 2.0}; "
          f"default under 2 s: {t_def < 2.0} (default / paper rule {t_def / t_wn:.2f}x)")
    print(f"same defining samples for {same:.1%} of neurons; max angle between the two results {ang:.2e} deg; "
          f"max relative |x.w+b| on the defining samples {orth:.1e}")
    print(f"median angle moved {np.median(rep.layers[0].angle):.2f} deg, rank {rep.layers[0].rank}")
    if args.refit:
        W2 = rng.standard_normal((1, args.m)) / np.sqrt(args.m)
        y = np.maximum(X @ W.T + b, 0) @ W2[0] + 0.1 * rng.standard_normal(args.n)
        t = time.perf_counter()
        _, rep2 = wedgenet.polish([(W, b), (W2, np.zeros(1))], X, y, lam=1.0)
        dt = time.perf_counter() - t
        print(f"polish + convex refit + unpolished-refit baseline (squared loss, lam=1): {dt:.2f} s "
              f"(polish {rep2.seconds['polish']:.2f} s, refits {rep2.seconds['refit']:.2f} s); "
              f"objective {rep2.before['objective']:.6g} -> {rep2.after['objective']:.6g} "
              f"(unpolished refit {rep2.refit_unpolished['objective']:.6g})")


if __name__ == "__main__":
    main()
