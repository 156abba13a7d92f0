"""Thread count for numba's parallel kernels, chosen from the size of the job."""

from __future__ import annotations

#: Below about this many floating-point operations per thread, a second numba thread costs more
#: than it saves.  Measured on 2 cores for the 100 x 10,506 dictionary (work ~4.2e6): quiet, 3.4 ms
#: on two threads against 5.4 ms on one; with one other busy process, medians 7.4 ms against
#: 5.3 ms; with three other busy agents, 80 ms against 6 ms.  4e6 favoured the loaded cases and
#: cost 60% on a quiet machine; 1e6 keeps two threads for jobs of that size and one thread for
#: the tiny ones (a few hundred candidates), where the threads' start-up dominates.
MIN_WORK_PER_THREAD = 1e6


class numba_threads_for:  # noqa: N801 (used like a function: ``with numba_threads_for(work):``)
    """Run the enclosed numba ``parallel=True`` kernels on ``~work / min_work_per_thread`` threads.

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
