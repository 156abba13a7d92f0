"""Dictionary build time against the memory-bound floor ``np.maximum(X @ W.T + b, 0)``.

For each case the floor evaluates the same ``(n, p)`` matrix from the dictionary's own
precomputed generator neurons ``(W, b)`` (the ``p`` kept columns), so it measures only the
matrix-product and ReLU that any builder must pay.  The build includes everything else:
subset enumeration, cross products, both orientations, de-duplication and provenance.

Run:  python benchmarks/bench_dictionary.py [--repeat 15]
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np
from _common import best_of  # benchmarks/ is on sys.path when run as a script

import wedgenet as wn
from wedgenet.datasets import make_spiral

TARGET = 3.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    Xs, _ = make_spiral(160)
    cases = [
        ("spiral n=160, d=2, p=2, bias", Xs, "l2", True),
        ("n=100, d=3, p=1, no bias", rng.standard_normal((100, 3)), "l1", False),
        ("n=60, d=3, p=1, bias", rng.standard_normal((60, 3)), "l1", True),
    ]
    print(f"numba threads: {numba.get_num_threads()}; best of {args.repeat}; compile excluded")
    print(f"{'case':<32}{'columns':>9}{'cands':>9}{'build ms':>10}{'floor ms':>10}{'ratio':>8}  target <= {TARGET}x")
    for name, X, reg, bias in cases:
        t = time.perf_counter()
        wn.dictionary(X[:12], reg=reg, bias=bias)  # compile (cached on disk after the first run)
        compile_s = time.perf_counter() - t
        D = wn.dictionary(X, reg=reg, bias=bias)
        W = np.ascontiguousarray(D.weights)
        b = D.biases.copy()
        # interleaved, so that a transient load on the machine hits both sides alike
        t_build, t_floor = np.inf, np.inf
        for _ in range(args.repeat):
            t_build = min(t_build, best_of(lambda X=X, reg=reg, bias=bias: wn.dictionary(X, reg=reg, bias=bias), 1))
            t_floor = min(t_floor, best_of(lambda X=X, W=W, b=b: np.maximum(X @ W.T + b, 0.0), 1))
        ratio = t_build / t_floor
        verdict = "PASS" if ratio <= TARGET else "FAIL"
        print(f"{name:<32}{D.n_columns:>9}{D.n_candidates * 2:>9}{t_build * 1e3:>10.2f}{t_floor * 1e3:>10.2f}"
              f"{ratio:>7.2f}x  {verdict}  (warm-up {compile_s:.2f}s)")


if __name__ == "__main__":
    main()
