"""Pricing passes of a streamed dictionary on a Dask cluster (the ``dask`` extra).

A pass over ``N`` candidates is cut into contiguous rank ranges; each range is one task,
:func:`wedgenet.dictionaries.streaming.scan_range`, which streams its chunks through the
numba kernel (single-threaded inside the task: the cluster's worker threads are the
parallelism) and returns only its top ``k`` violators, its maximum score and the number of
candidates it visited.  The driver merges those small results, so the traffic per pass is
``O(tasks * k)`` numbers, whatever the number of candidates.  The pricing spec (data, pool,
binomial table: ``O(n d + pool)`` numbers) is scattered to the workers once per dictionary.

    from dask.distributed import Client, LocalCluster
    client = Client(LocalCluster(n_workers=4, threads_per_worker=1))
    net = wedgenet.fit(X, y, lam=0.1, dictionary_mode="streamed", backend="dask", client=client)
"""

from __future__ import annotations

import math

import numpy as np

from .streaming import PricingSpec, ScanResult, _TopK, progress_bar, scan_range

__all__ = ["DaskPricer", "require_distributed"]


def require_distributed():
    """Import ``dask.distributed`` or raise an ImportError naming the extra to install."""
    try:
        import dask.distributed as dd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("backend='dask' needs dask.distributed: pip install 'wedgenet[dask]'") from exc
    return dd


def _task(spec: PricingSpec, theta: np.ndarray, start: int, stop: int, k: int, threshold: float,
          chunk: int) -> ScanResult:
    return scan_range(spec, theta, start, stop, k, threshold, chunk, parallel=False)


class DaskPricer:
    """Send the chunks of every pricing pass to a ``dask.distributed.Client``.

    Parameters
    ----------
    client : dask.distributed.Client
    tasks_per_thread : int
        Tasks per worker thread and pass (load balancing; default 4).
    """

    name = "dask"

    def __init__(self, client, tasks_per_thread: int = 4) -> None:
        dd = require_distributed()
        if not isinstance(client, dd.Client):
            raise ValueError(f"client must be a dask.distributed.Client; got {type(client).__name__}")
        self.client = client
        self.tasks_per_thread = max(1, int(tasks_per_thread))
        self._scattered: dict[int, tuple[PricingSpec, object]] = {}

    def _spec_future(self, spec: PricingSpec):
        key = id(spec)
        hit = self._scattered.get(key)
        if hit is None or hit[0] is not spec:
            fut = self.client.scatter(spec, broadcast=True, hash=False)
            self._scattered[key] = (spec, fut)
            return fut
        return hit[1]

    def _n_threads(self) -> int:
        info = self.client.nthreads()
        return max(1, int(sum(info.values()))) if info else 1

    def ranges(self, n_positions: int, chunk: int) -> list[tuple[int, int]]:
        """Contiguous ``[start, stop)`` ranges covering ``0 .. n_positions - 1`` exactly once."""
        n_tasks = max(1, min(self._n_threads() * self.tasks_per_thread, math.ceil(n_positions / max(chunk, 1))))
        edges = np.linspace(0, n_positions, n_tasks + 1).round().astype(np.int64)
        return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]

    def scan(self, spec: PricingSpec, theta: np.ndarray, k: int, threshold: float, chunk: int,
             verbose: bool = False) -> ScanResult:
        dd = require_distributed()
        spec_f = self._spec_future(spec)
        futures = [self.client.submit(_task, spec_f, theta, a, b, k, threshold, chunk, pure=False)
                   for a, b in self.ranges(spec.n_positions, chunk)]
        top = _TopK(k, threshold)
        try:
            with progress_bar(spec.n_positions, verbose) as bar:
                for fut in dd.as_completed(futures):
                    res = fut.result()
                    top.add_result(res)
                    if bar is not None:
                        bar.update(res.n_positions)
        except BaseException:
            self.client.cancel(futures)
            raise
        if top.n_positions != spec.n_positions:  # pragma: no cover - a lost or duplicated range
            raise RuntimeError(f"dask pass visited {top.n_positions} of {spec.n_positions} candidates")
        return top.result()
