"""Streamed dictionaries: a certified optimum over ~4e7 candidate columns without materialising ``K``.

Three measurements on Gaussian data with a planted ReLU-network target (``p = 1``, no bias,
``d = 4``; docs/conventions.md#dictionaries and #certificate):

1. ``n = 500``: ``2 C(504, 3) = 4.2e7`` candidate columns (170 GB as a dense ``K``).
   ``wedgenet.fit`` with the default ``dictionary_mode="auto"`` finds the explicit dictionary
   over the memory budget and streams it.  Targets: certified relative duality gap <= 1e-6
   over *every* candidate, <= 10 min on 2 cores, peak memory (max RSS of the process) <= 2 GB.
2. Pricing throughput of one streamed pass at ``n = 500``, in candidate-sample products per
   second, against the floor of a dense ``X @ W`` with the same number of products
   (``W``: one column per candidate; computed chunk by chunk into a preallocated buffer).
3. ``n = 150`` (1.2e6 columns, explicit fits in memory): streamed fit time within 2x of the
   explicit fit (both including the dictionary build), same certified objective.

Run:  python benchmarks/bench_stream.py [--n-large 500] [--n-small 150]

Issue 18: ``python benchmarks/bench_stream.py --passes [--before DIR]`` reports, for the n = 500,
d = 4 planted problem (lam = 0.02 lam_max), the certified fit time in full streamed pricing passes
and the number of passes, before (``DIR`` holds an older ``wedgenet`` package) and after, side by
side (benchmarks/_passes.py).
"""

from __future__ import annotations

import argparse
import math
import resource
import time

import numba
import numpy as np

import wedgenet as wn
from wedgenet.dictionaries.streaming import streamed_dictionary

GAP_TARGET = 1e-6
TIME_TARGET = 600.0
MEM_TARGET = 2.0  # GB
RATIO_TARGET = 2.0


def planted_problem(n: int, d: int = 4, hidden: int = 5, seed: int = 0):
    """Gaussian ``X`` and ``y = sum_k a_k (w_k . x)_+ + noise`` (no biases: the ``bias=False`` model)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    W = rng.standard_normal((hidden, d))
    a = rng.choice([-1.0, 1.0], hidden) * rng.uniform(0.5, 1.5, hidden)
    y = np.maximum(X @ W.T, 0.0) @ a + 0.1 * rng.standard_normal(n)
    return X, y, W, a


def planted_objective(X, y, W, a, lam: float) -> float:
    """The planted network's training objective ``0.5||r||^2 + (lam/2) sum(||w||_1^2 + a^2)``, balanced."""
    wn1 = np.abs(W).sum(axis=1)
    g = np.sqrt(np.abs(a) / wn1)
    Wb, ab = W * g[:, None], a / g
    r = np.maximum(X @ Wb.T, 0.0) @ ab - y
    return float(0.5 * r @ r + 0.5 * lam * np.sum(np.abs(Wb).sum(axis=1) ** 2 + ab**2))


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-large", type=int, default=500)
    ap.add_argument("--n-small", type=int, default=150)
    ap.add_argument("--lam-frac", type=float, default=0.02, help="lam as a fraction of lam_max = max|K^T y|")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--passes", action="store_true", help="issue 18: fit time in full-pass equivalents, before/after")
    ap.add_argument("--before", default=None, help="with --passes: a directory holding the BEFORE wedgenet package")
    args = ap.parse_args()
    if args.passes:
        import os

        import _passes  # benchmarks/ is on sys.path when run as a script

        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        _passes.table(_passes.run_tree(args.before, ["planted500"]) if args.before else None,
                      _passes.run_tree(here, ["planted500"]))
        return
    print(f"numba threads: {numba.get_num_threads()}; p=1, no bias, d=4; planted 5-neuron ReLU target + noise")

    # warm-up: compile (or load from the numba cache) every kernel on a tiny problem
    t = time.perf_counter()
    Xw, yw, _, _ = planted_problem(12)
    wn.fit(Xw, yw, lam=0.1, bias=False, dictionary_mode="streamed")
    wn.fit(Xw, yw, lam=0.1, bias=False, dictionary_mode="explicit")
    print(f"warm-up (compile / cache load) {time.perf_counter() - t:.1f}s")

    # ---------------------------------------------------------------- one streamed pass (lam_max)
    n = args.n_large
    X, y, W, a = planted_problem(n)
    S = streamed_dictionary(X, reg="l1", bias=False)
    t = time.perf_counter()
    res = S.scan(y, 0)  # one full pass: max |K^T y| over every column
    t_pass = time.perf_counter() - t
    lam_max = res.max_score
    products = S.n_candidates * n
    thr = products / t_pass
    # ---------------------------------------------------------------- 1. the large certified fit (first: its peak RSS)
    lam = args.lam_frac * lam_max
    print(f"\n1. n={n}: {S.n_columns:,} candidate columns ({S.n_columns * n * 8 / 1e9:.0f} GB dense); "
          f"lam = {args.lam_frac} * lam_max = {lam:.4g}")
    t = time.perf_counter()
    net = wn.fit(X, y, lam=lam, reg="l1", bias=False, verbose=args.verbose)  # dictionary_mode="auto"
    t_fit = time.perf_counter() - t
    mem = peak_rss_gb()
    gap = net.relative_gap
    obj = net.objective(X, y)
    planted = planted_objective(X, y, W, a, lam)
    print(f"   mode {net.info['dictionary_mode']!r} (auto), {net.info['n_passes']} streamed passes, "
          f"{net.info['n_iter']} working-set iterations, {net.n_neurons} neurons")
    print(f"   objective {obj:.10g} (planted network {planted:.6g}); certified relative gap {gap:.3g} "
          f"over {net.info['n_columns']:,} columns, max dual violation {net.max_violation:.8f}")
    print(f"   gap <= {GAP_TARGET:g}: {verdict(gap <= GAP_TARGET and net.max_violation <= 1 + 1e-6)};  "
          f"time {t_fit:.1f}s <= {TIME_TARGET:.0f}s: {verdict(t_fit <= TIME_TARGET)};  "
          f"peak RSS {mem:.2f} GB <= {MEM_TARGET} GB: {verdict(mem <= MEM_TARGET)}")

    # ---------------------------------------------------------------- 2. pricing throughput
    rng = np.random.default_rng(1)
    cols = 1 << 17
    Wc = rng.standard_normal((X.shape[1], cols))
    buf = np.empty((n, cols))
    np.matmul(X, Wc, out=buf)
    reps = 5
    t = time.perf_counter()
    for _ in range(reps):
        np.matmul(X, Wc, out=buf)
    t_floor_chunk = (time.perf_counter() - t) / reps
    floor = n * cols / t_floor_chunk
    print(f"\n2. pricing throughput (one streamed pass, n={n})")
    print(f"   {S.n_candidates:,} candidates x {n} samples = {products:.3e} products in {t_pass:.2f}s "
          f"-> {thr:.3e} products/s")
    print(f"   dense X @ W floor (same products, chunks of {cols:,} columns): {floor:.3e} products/s "
          f"-> {products / floor:.2f}s;  streamed / floor throughput = {thr / floor:.2f}x")

    # ---------------------------------------------------------------- 3. explicit vs streamed, n small
    ns = args.n_small
    Xs, ys, _, _ = planted_problem(ns)
    lam_s = args.lam_frac * streamed_dictionary(Xs, reg="l1", bias=False).scan(ys, 0).max_score
    times = {}
    nets = {}
    for mode in ("explicit", "streamed"):
        t = time.perf_counter()
        nets[mode] = wn.fit(Xs, ys, lam=lam_s, reg="l1", bias=False, dictionary_mode=mode)
        times[mode] = time.perf_counter() - t
    ne, nst = nets["explicit"], nets["streamed"]
    ratio = times["streamed"] / times["explicit"]
    rel = abs(ne.info["primal"] - nst.info["primal"]) / ne.info["primal"]
    print(f"\n3. n={ns}: {ne.info['n_columns']:,} explicit columns (de-duplicated) / "
          f"{nst.info['n_columns']:,} streamed")
    print(f"   explicit fit {times['explicit']:.2f}s, streamed fit {times['streamed']:.2f}s "
          f"-> streamed / explicit = {ratio:.2f}x <= {RATIO_TARGET}x: {verdict(ratio <= RATIO_TARGET)}")
    print(f"   objectives agree to {rel:.1e} (relative); gaps {ne.relative_gap:.2g} / {nst.relative_gap:.2g}; "
          f"neurons {ne.n_neurons} / {nst.n_neurons}")
    print(f"\npeak RSS of the whole run {peak_rss_gb():.2f} GB")
    if not math.isfinite(gap):  # pragma: no cover
        raise SystemExit(1)


if __name__ == "__main__":
    main()
