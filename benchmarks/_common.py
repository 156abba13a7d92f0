"""Helpers shared by the benchmark scripts (run them as ``python benchmarks/<name>.py``)."""

from __future__ import annotations

import math
import time


def best_of(fn, repeat: int, budget: float = math.inf) -> float:
    """Minimum wall time of ``fn()`` over ``repeat`` calls.

    Stops early, after at least one call, once the calls so far have taken ``budget`` seconds.
    """
    times = []
    spent = 0.0
    for _ in range(max(1, repeat)):
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        times.append(dt)
        spent += dt
        if spent >= budget:
            break
    return min(times)
