"""Thread count for numba's parallel kernels, chosen from the size of the job."""

from __future__ import annotations

#: Below about this many floating-point operations per thread, a second numba thread costs more
#: than it saves: measured on 2 cores, a 100 x 10,506 dictionary built in 0.0057 s on one thread
#: and 0.08 s on two while another process kept a core busy (the threads wait on each other).
MIN_WORK_PER_THREAD = 4e6


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
