"""Start-up times of a new user's first commands, against ``python -c "import numpy"``.

Every command is a fresh interpreter running this tree (``PYTHONPATH`` is set to the repository
root), timed from outside (wall seconds, start to exit).  Rounds interleave the yardstick and
every command, so machine noise hits them alike; the table gives the median over rounds and the
ratio to the yardstick's median.  "cold fit" runs the demo's fit with an empty numba cache
(``WEDGENET_CACHE_DIR`` pointed at a new directory each round); "warm fit" reuses one cache.
"cpu s" is the median user + system CPU time of the command's process tree: on a shared machine
it moves far less with load than wall time does (the cold fit is mostly single-threaded
compilation, so on a quiet machine its wall time is close to its cpu time).

    python benchmarks/bench_startup.py [--rounds 5] [--cold-rounds 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIT = (
    "import wedgenet as wn; from wedgenet.datasets import make_spiral; X, y = make_spiral(100, turns=1.5); "
    "net = wn.fit(X, y, lam=0.1, reg='l1', bias=True); assert net.relative_gap < 1e-4"
)

#: name -> (argv after the interpreter, target in seconds or None, needs an empty cache)
COMMANDS: dict[str, tuple[list[str], float | None, bool]] = {
    "import numpy (yardstick)": (["-c", "import numpy"], None, False),
    "import wedgenet": (["-c", "import wedgenet"], 1.0, False),
    "wedgenet --help": (["-m", "wedgenet", "--help"], 1.0, False),
    "wedgenet ga-example": (["-m", "wedgenet", "ga-example"], 3.0, False),
    "from wedgenet import fit": (["-c", "from wedgenet import fit"], None, False),
    "warm fit (demo problem)": (["-c", FIT], None, False),
    "cold fit (empty numba cache)": (["-c", FIT], 15.0, True),
}


def _cpu_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """``(wall, cpu)`` seconds of one run; cpu is the child's user + system time."""
    c = _cpu_children()
    t = time.perf_counter()
    res = subprocess.run([sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    dt = time.perf_counter() - t
    if res.returncode != 0:
        raise SystemExit(f"{argv} failed:\n{res.stderr[-2000:]}")
    return dt, _cpu_children() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cold-rounds", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
        env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        warm_env = dict(env, WEDGENET_CACHE_DIR=os.path.join(tmp, "warm"))
        for argv, _, _ in COMMANDS.values():  # warm-up: fills the warm cache and the OS file cache
            _time(argv, warm_env)
        times: dict[str, list[float]] = {name: [] for name in COMMANDS}
        cpus: dict[str, list[float]] = {name: [] for name in COMMANDS}
        for r in range(max(args.rounds, args.cold_rounds)):
            for name, (argv, _, cold) in COMMANDS.items():
                if cold:
                    if r >= args.cold_rounds:
                        continue
                    run_env = dict(env, WEDGENET_CACHE_DIR=os.path.join(tmp, f"cold{r}"))
                elif r >= args.rounds:
                    continue
                else:
                    run_env = warm_env
                wall, cpu = _time(argv, run_env)
                times[name].append(wall)
                cpus[name].append(cpu)
    base = statistics.median(times["import numpy (yardstick)"])
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cpus; medians over {args.rounds} rounds "
          f"({args.cold_rounds} for the cold fit)")
    print(f"{'command':32s} {'median s':>9s} {'min s':>7s} {'max s':>7s} {'x numpy':>8s} {'cpu s':>7s} {'target':>8s}")
    for name, (_, target, _) in COMMANDS.items():
        ts = times[name]
        med = statistics.median(ts)
        tgt = "" if target is None else f"< {target:g} s" + (" ok" if med < target else " MISSED")
        cpu = statistics.median(cpus[name])
        print(f"{name:32s} {med:9.2f} {min(ts):7.2f} {max(ts):7.2f} {med / base:8.1f} {cpu:7.2f} {tgt:>8s}")


if __name__ == "__main__":
    main()
