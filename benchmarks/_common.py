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


def torch_relu_params(d: int, width: int, seed: int):
    """Parameters ``(W, b, a, t)`` of a float64 two-layer ReLU network ``relu(X W^T + b) a + t``, as the
    Adam peers of ``bench_real`` and ``bench_adam`` initialise them: torch's ``Linear`` default for
    the hidden layer (seeded by ``seed``), ``a ~ N(0, 1/width)``, ``t = 0``; all with gradients."""
    import torch

    torch.manual_seed(seed)
    first = torch.nn.Linear(d, width, dtype=torch.float64)
    W = first.weight.detach().clone().requires_grad_()
    b = first.bias.detach().clone().requires_grad_()
    a = (torch.randn(width, dtype=torch.float64) / math.sqrt(width)).requires_grad_()
    t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    return W, b, a, t
