"""Issue 18: where ``dictionary_mode="auto"`` should stream — explicit vs streamed end to end.

Spiral ``make_spiral(n)``, ``reg="l2"``, ``bias=True``, ``lam_ratio=0.05``: ``wedgenet.fit`` with
``dictionary_mode="explicit"`` and ``"streamed"``, each in a fresh child process (numba kernels
warmed up first on a tiny fit, untimed), timed end to end (build, ``lam_max`` pass, certified
solve).  Reports the explicit matrix's size ``8 n p`` bytes, both times, and both certified
objectives; the break-even is the size where streamed becomes faster.

    python benchmarks/bench_auto.py [--n 200 300 450 600]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings


def child(n: int, mode: str) -> None:
    import wedgenet as wn
    from wedgenet.datasets import make_spiral

    Xs, ys = make_spiral(40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in ("explicit", "streamed"):
            wn.fit(Xs, ys, lam_ratio=0.05, reg="l2", bias=True, dictionary_mode=m)
        X, y = make_spiral(n)
        t = time.perf_counter()
        net = wn.fit(X, y, lam_ratio=0.05, reg="l2", bias=True, dictionary_mode=mode, time_limit=1e6)
        sec = time.perf_counter() - t
    S = wn.streamed_dictionary(X, reg="l2", bias=True)
    print(json.dumps({"n": n, "mode": mode, "seconds": sec, "objective": float(net.info["primal"]),
                      "gap": float(net.relative_gap), "explicit_bytes": 8.0 * n * S.n_columns,
                      "passes": net.info.get("n_passes")}))



def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[200, 300, 450, 600])
    ap.add_argument("--child", nargs=2, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(int(args.child[0]), args.child[1])
        return
    print(f"load {os.getloadavg()}")
    print(f"{'n':>5} {'explicit K':>11} {'explicit s':>11} {'streamed s':>11} {'stream/expl':>12} {'passes':>7}  "
          "objective rel diff")
    for n in args.n:
        out = {}
        for mode in ("explicit", "streamed"):
            r = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", str(n), mode],
                               capture_output=True, text=True, timeout=1800)
            lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
            out[mode] = json.loads(lines[-1]) if lines else {"error": (r.stderr.strip().splitlines() or ["?"])[-1]}
        e, s = out["explicit"], out["streamed"]
        if "error" in e or "error" in s:
            print(f"{n:>5} explicit: {e.get('error', 'ok')}; streamed: {s.get('error', 'ok')}")
            continue
        print(f"{n:>5} {e['explicit_bytes'] / 1e9:>9.2f}GB {e['seconds']:>11.2f} {s['seconds']:>11.2f} "
              f"{s['seconds'] / e['seconds']:>12.2f} {s['passes']!s:>7}  "
              f"{(s['objective'] - e['objective']) / e['objective']:+.1e}", flush=True)
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
