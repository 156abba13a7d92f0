"""Batched generalized cross products: wedgenet vs clifford vs numpy cofactor determinants.

For each d in {3, 5, 8, 16, 32}, N products ``c = cross(v_1, ..., v_{d-1})`` of Gaussian data
(default N = 100,000), all measured side by side in one run (best of 3, compile excluded):

* wedgenet   ``wn.cross(V)`` on the ``(N, d-1, d)`` stack (parallel numba kernel, O(d^3) QR).
* clifford   a Python loop over clifford MultiVectors: ``(v_1 ^ ... ^ v_{d-1}).dual()``, grade-1
             coefficients read back (d <= 8 only: the algebra has 2^d coefficients).  It is
             slow, so it is timed on a subset (default 2,000 products) and scaled per product
             to N.  Inputs are converted to MultiVectors before timing (in clifford's favour).
* cofactor   ``numpy.linalg.det`` on all cofactor minors at once:
             ``c_i = (-1)^i det(V with column i removed)``, one ``(B, d, d-1, d-1)`` array per
             chunk of B products, chunked so the minors stay under --mem-gb (default 1 GB,
             which keeps the process under ~2 GB); building the minors is included.

Accuracy: max relative error of ``<c, y>`` against ``numpy.linalg.det([y; V])`` over all N
products, for wedgenet and the cofactor route.

Run:  python benchmarks/bench_cross.py [--n 100000] [--quick]
"""

from __future__ import annotations

import argparse
import os
import time

import numba
import numpy as np

import wedgenet as wn
from wedgenet.algebra._kernels import cross_batch

DIMS = (3, 5, 8, 16, 32)
CLIFFORD_MAX_D = 8
TARGET_VS_CLIFFORD = 100.0  # at d = 5
TARGET_VS_COFACTOR = 3.0  # at d >= 8
TARGET_REL_ERR = 1e-10


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def cofactor_cross(V: np.ndarray, mem_bytes: float) -> tuple[np.ndarray, int]:
    """``c_i = (-1)^i det(V[:, :, cols != i])`` with numpy.linalg.det, chunked over the batch."""
    N, m, d = V.shape
    cols = np.array([[j for j in range(d) if j != i] for i in range(d)], dtype=np.intp)  # (d, d-1)
    signs = np.where(np.arange(d) % 2 == 0, 1.0, -1.0)
    per_product = d * m * m * 8
    chunk = int(max(1, min(N, mem_bytes // per_product)))
    out = np.empty((N, d))
    for s in range(0, N, chunk):
        blk = V[s : s + chunk]
        minors = blk[:, :, cols].transpose(0, 2, 1, 3)  # (B, d, d-1, d-1)
        out[s : s + chunk] = np.linalg.det(minors) * signs
    return out, chunk


def clifford_cross(vectors: list[list]) -> np.ndarray:
    """Python loop: ``(v_1 ^ ... ^ v_{d-1}).dual()`` per product, grade-1 coefficients out."""
    first = vectors[0][0]
    d = first.layout.dims
    sl = slice(1, 1 + d)  # grade-1 block of clifford's value array (grade-ordered layout)
    out = np.empty((len(vectors), d))
    for t, vs in enumerate(vectors):
        B = vs[0]
        for v in vs[1:]:
            B = B ^ v
        out[t] = B.dual().value[sl]
    return out


def rel_err(C: np.ndarray, Y: np.ndarray, ref: np.ndarray) -> float:
    got = np.einsum("nj,nj->n", C, Y)
    return float(np.max(np.abs(got - ref) / np.abs(ref)))


def fmt_time(seconds: float) -> str:
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    return f"{seconds * 1e3:.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="products per dimension (default 100000)")
    ap.add_argument("--clifford-n", type=int, default=2000, help="clifford subset size (default 2000)")
    ap.add_argument("--repeat", type=int, default=3, help="best of REPEAT timings (default 3)")
    ap.add_argument("--mem-gb", type=float, default=1.0, help="cap on one chunk of cofactor minors (GB)")
    ap.add_argument("--quick", action="store_true", help="N=10000, clifford subset 300")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.quick:
        args.n = min(args.n, 10_000)
        args.clifford_n = min(args.clifford_n, 300)
    N = args.n
    rng = np.random.default_rng(args.seed)

    # --- warm-up: numba compile (or on-disk cache load), excluded from the timings ---------
    t = time.perf_counter()
    wn.cross(rng.standard_normal((4, 4, 5)))
    warm_s = time.perf_counter() - t
    hits = sum(cross_batch.stats.cache_hits.values())
    how = "loaded from numba's on-disk cache" if hits else "JIT compile"
    t = time.perf_counter()
    import clifford  # noqa: F401  (clifford JIT-compiles on import)

    layouts = {d: wn.to_clifford(np.zeros(d), d, 1).layout for d in DIMS if d <= CLIFFORD_MAX_D}
    clifford_setup_s = time.perf_counter() - t

    print(f"wedgenet cross benchmark: N = {N:,} products per d, Gaussian data, best of {args.repeat}")
    print(
        f"numba threads: {numba.get_num_threads()} (NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}, "
        f"layer={numba.threading_layer()}, cpus={os.cpu_count()}), parallel=True over the batch"
    )
    print(f"numba warm-up (excluded): {warm_s:.2f} s ({how}); clifford import + layouts: {clifford_setup_s:.1f} s")
    print(
        f"clifford (d <= {CLIFFORD_MAX_D}) is timed on a subset of {min(args.clifford_n, N):,} products and "
        f"scaled per product to N; cofactor minors are chunked to <= {args.mem_gb:g} GB per chunk"
    )
    print()
    header = (
        f"{'d':>3} {'wedgenet':>10} {'ns/prod':>8} {'clifford(N)':>12} {'us/prod':>8} {'cofactor':>10} "
        f"{'chunk':>7} {'x clifford':>11} {'x cofactor':>11} {'relerr wn':>10} {'relerr cof':>10}"
    )
    print(header)
    print("-" * len(header))

    results = {}
    for d in DIMS:
        V = rng.standard_normal((N, d - 1, d))
        Y = rng.standard_normal((N, d))
        wn.cross(V[:8])  # same compiled kernel for every d; touch it anyway

        t_wn = best_of(lambda V=V: wn.cross(V), args.repeat)
        C_wn = wn.cross(V)

        t_cof = best_of(lambda V=V: cofactor_cross(V, args.mem_gb * 1e9), args.repeat)
        C_cof, chunk = cofactor_cross(V, args.mem_gb * 1e9)

        ref = np.linalg.det(np.concatenate([Y[:, None, :], V], axis=1))
        err_wn = rel_err(C_wn, Y, ref)
        err_cof = rel_err(C_cof, Y, ref)

        t_cl = None
        if d <= CLIFFORD_MAX_D:
            n_cl = min(args.clifford_n, N)
            layout = layouts[d]
            vectors = [
                [layout.MultiVector(value=np.concatenate([[0.0], row, np.zeros(layout.gaDims - 1 - d)]))
                 for row in V[t]]
                for t in range(n_cl)
            ]
            clifford_cross(vectors[:20])  # warm clifford's JIT for this layout
            t_sub = best_of(lambda vectors=vectors: clifford_cross(vectors), args.repeat)
            C_cl = clifford_cross(vectors)
            np.testing.assert_allclose(C_cl, C_wn[:n_cl], rtol=1e-8, atol=1e-10 * np.abs(C_wn[:n_cl]).max())
            t_cl = t_sub / n_cl * N  # scaled per product to N
        np.testing.assert_allclose(C_cof, C_wn, rtol=1e-6, atol=1e-9 * np.abs(C_wn).max())

        results[d] = dict(t_wn=t_wn, t_cl=t_cl, t_cof=t_cof, err_wn=err_wn, err_cof=err_cof)
        x_cl = f"{t_cl / t_wn:>10.0f}x" if t_cl is not None else f"{'-':>11}"
        cl_cols = f"{fmt_time(t_cl):>12} {t_cl / N * 1e6:>8.1f}" if t_cl is not None else f"{'-':>12} {'-':>8}"
        print(
            f"{d:>3} {fmt_time(t_wn):>10} {t_wn / N * 1e9:>8.0f} {cl_cols} {fmt_time(t_cof):>10} "
            f"{chunk:>7} {x_cl} {t_cof / t_wn:>10.1f}x {err_wn:>10.1e} {err_cof:>10.1e}",
            flush=True,
        )

    print()
    print("clifford(N) = clifford time per product on the subset x N (extrapolated, not measured on all N)")
    print("relerr = max over N of |<c, y> - det[y; V]| / |det[y; V]| (det by numpy.linalg.det)")
    print()
    verdicts = []
    if 5 in results and results[5]["t_cl"] is not None:
        r = results[5]["t_cl"] / results[5]["t_wn"]
        verdicts.append((f"d=5: >= {TARGET_VS_CLIFFORD:.0f}x faster than clifford", r >= TARGET_VS_CLIFFORD,
                         f"{r:.0f}x"))
    for d in DIMS:
        if d >= 8:
            r = results[d]["t_cof"] / results[d]["t_wn"]
            verdicts.append((f"d={d}: >= {TARGET_VS_COFACTOR:.0f}x faster than numpy cofactor",
                             r >= TARGET_VS_COFACTOR, f"{r:.1f}x"))
    for d in DIMS:
        e = results[d]["err_wn"]
        verdicts.append((f"d={d}: wedgenet rel err <= {TARGET_REL_ERR:.0e}", e <= TARGET_REL_ERR, f"{e:.1e}"))
    for name, ok, value in verdicts:
        print(f"{'PASS' if ok else 'FAIL'}  {name:<48} ({value})")


if __name__ == "__main__":
    main()
