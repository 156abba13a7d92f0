"""Thread count for numba's parallel kernels, chosen from the size of the job, and a chunked
thread runner for serial ``nogil`` kernels (:func:`run_chunked`)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

#: Below about this many floating-point operations per thread, a second numba thread costs more
#: than it saves.  Measured on 2 cores for the 100 x 10,506 dictionary (work ~4.2e6): quiet, 3.4 ms
#: on two threads against 5.4 ms on one; with one other busy process, medians 7.4 ms against
#: 5.3 ms; with three other busy agents, 80 ms against 6 ms.  4e6 favoured the loaded cases and
#: cost 60% on a quiet machine; 1e6 keeps two threads for jobs of that size and one thread for
#: the tiny ones (a few hundred candidates), where the threads' start-up dominates.
MIN_WORK_PER_THREAD = 1e6


class numba_threads_for:  # noqa: N801 (used like a function: ``with numba_threads_for(work):``)
    """Run the enclosed numba ``parallel=True`` kernels, and :func:`run_chunked`'s ranges, on
    ``~work / min_work_per_thread`` threads.

    Never more than numba's setting on entry, never fewer than one; the setting is restored on
    exit.  The object can be entered again (one per job, several kernel calls).
    """

    def __init__(self, work: float, min_work_per_thread: float = MIN_WORK_PER_THREAD) -> None:
        self.work = float(work)
        self.min_work_per_thread = float(min_work_per_thread)
        self._saved: list[int] = []

    def __enter__(self) -> int:
        import numba

        old = numba.get_num_threads()
        self._saved.append(old)
        use = int(max(1, min(old, self.work // self.min_work_per_thread)))
        numba.set_num_threads(use)
        return use

    def __exit__(self, *exc) -> None:
        import numba

        numba.set_num_threads(self._saved.pop())


#: a chunk below this many items is not worth a thread of its own
MIN_CHUNK = 256

_pool = None
_pool_lock = threading.Lock()


def _forget_pool_in_child() -> None:
    """After ``fork`` the child has the pool object but none of its threads (and the parent's idle
    count, so it would queue work that nobody runs): start afresh."""
    global _pool, _pool_lock
    _pool = None
    _pool_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_in_child)


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            import numba

            _pool = ThreadPoolExecutor(max_workers=max(1, numba.config.NUMBA_NUM_THREADS - 1),
                                       thread_name_prefix="wedgenet")
        return _pool


def run_chunked(kernel: Callable[..., None], n: int, *args: Any, min_chunk: int = MIN_CHUNK) -> None:
    """Call ``kernel(lo, hi, *args)`` on contiguous ranges covering ``[0, n)``, in parallel.

    ``kernel`` is a serial ``@njit(nogil=True)`` kernel that handles items ``lo <= t < hi`` and
    writes only their own slots of preallocated outputs in ``args``, so the result does not depend
    on how ``[0, n)`` is split.  The number of ranges is ``numba.get_num_threads()`` (the setting
    that :class:`numba_threads_for` adjusts), at most one per ``min_chunk`` items; the calling
    thread runs the first range and Python threads the others.

    This replaces ``parallel=True`` for kernels whose loop body calls large jitted functions:
    numba compiles a ``prange`` body as a separate function and optimises and emits every
    function it calls once more for it and once more for the caller, which made the first fit with
    an empty cache spend most of its time compiling.
    """
    import numba

    parts = int(min(numba.get_num_threads(), max(1, -(-n // max(1, min_chunk)))))
    if parts <= 1:
        kernel(0, n, *args)
        return
    bounds = [i * n // parts for i in range(parts + 1)]
    pool = _get_pool()
    futures = [pool.submit(kernel, bounds[i], bounds[i + 1], *args) for i in range(1, parts)]
    try:
        kernel(bounds[0], bounds[1], *args)
    finally:
        for f in futures:
            f.result()
