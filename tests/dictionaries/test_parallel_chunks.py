"""wedgenet._parallel.run_chunked: the thread runner of the dictionary kernels."""

from __future__ import annotations

import os
import threading

import numba
import numpy as np
import pytest

from wedgenet._parallel import run_chunked
from wedgenet.datasets import make_spiral
from wedgenet.dictionaries import dictionary


def _record(calls):
    lock = threading.Lock()

    def kernel(lo, hi, out):
        with lock:
            calls.append((lo, hi))
        out[lo:hi] += 1

    return kernel


@pytest.mark.parametrize("n, min_chunk", [(0, 10), (1, 10), (9, 10), (1000, 10), (1001, 256), (7, 1)])
def test_ranges_cover_every_item_once(n, min_chunk):
    calls: list[tuple[int, int]] = []
    out = np.zeros(n, dtype=np.int64)
    run_chunked(_record(calls), n, out, min_chunk=min_chunk)
    assert np.all(out == 1)
    calls.sort()
    assert calls[0][0] == 0 and calls[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(calls, calls[1:], strict=False))  # contiguous, no overlap
    parts = min(numba.get_num_threads(), max(1, -(-n // min_chunk)))
    assert len(calls) == parts


def test_one_range_on_one_thread():
    calls: list[tuple[int, int]] = []
    old = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        run_chunked(_record(calls), 5000, np.zeros(5000), min_chunk=1)
    finally:
        numba.set_num_threads(old)
    assert calls == [(0, 5000)]


def test_worker_exception_propagates():
    if numba.get_num_threads() < 2:
        pytest.skip("needs two numba threads")

    def kernel(lo, hi):
        if lo > 0:
            raise RuntimeError(f"range {lo}-{hi} failed")

    with pytest.raises(RuntimeError, match="failed"):
        run_chunked(kernel, 100, min_chunk=1)


def test_dictionary_is_the_same_on_one_and_two_threads():
    """The ranges write disjoint slots, so the dictionary does not depend on the thread count."""
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two numba threads")
    X, _ = make_spiral(160, turns=1.5)  # 25k candidates: enough work for two threads
    old = numba.get_num_threads()
    got = []
    try:
        for threads in (1, 2):
            numba.set_num_threads(threads)
            got.append(dictionary(X, reg="l1", bias=True))
    finally:
        numba.set_num_threads(old)
    a, b = got
    for name in ("K", "weights", "biases", "normalisers"):
        x, y = np.asarray(getattr(a, name)), np.asarray(getattr(b, name))
        assert x.shape == y.shape and x.tobytes() == y.tobytes(), name


def _child_sum(q):
    out = np.zeros(4000, dtype=np.int64)
    run_chunked(_record([]), 4000, out, min_chunk=1)
    q.put(int(out.sum()))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_runs_in_a_forked_child():
    """A child forked after the pool has threads gets a new pool instead of waiting forever."""
    import multiprocessing as mp

    run_chunked(_record([]), 4000, np.zeros(4000, dtype=np.int64), min_chunk=1)  # the parent's pool exists
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child_sum, args=(q,))
    p.start()
    p.join(120)
    alive = p.is_alive()
    if alive:
        p.kill()
    assert not alive, "run_chunked hung in a forked child"
    assert p.exitcode == 0 and q.get(timeout=10) == 4000
