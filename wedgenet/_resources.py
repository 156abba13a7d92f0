"""How much memory this process may still allocate, and a guard to call before allocating.

``available_bytes()`` is the minimum of every limit that can stop an allocation:

* ``MemAvailable`` from ``/proc/meminfo`` (memory the kernel can hand out without swapping);
* the cgroup memory limit minus the cgroup's current usage (cgroup v2 ``memory.max`` /
  ``memory.current``, or v1 ``memory.limit_in_bytes`` / ``memory.usage_in_bytes``);
* the address-space limit ``RLIMIT_AS`` (``ulimit -v``) minus the process's current virtual size
  (``VmSize`` in ``/proc/self/status``): numpy's ``MemoryError`` under ``ulimit -v`` comes from this
  one, long before physical memory runs out.

On platforms without ``/proc`` only the limits that can be read are used (physical memory as a
last resort).  ``check_allocation(nbytes, what)`` raises :class:`AllocationError` (both a
``MemoryError`` and a ``ValueError``) with a one-line message, before anything is allocated.
"""

from __future__ import annotations

import os

__all__ = ["AllocationError", "available_bytes", "check_allocation", "format_bytes"]

_CGROUP_V2 = "/sys/fs/cgroup"
_CGROUP_V1 = "/sys/fs/cgroup/memory"


class AllocationError(MemoryError, ValueError):
    """A request would need more memory than this process may still allocate; nothing was allocated."""


def format_bytes(n: float) -> str:
    """``n`` bytes in the largest decimal unit that keeps the number at least 1 (``"1.2 GB"``)."""
    for unit, size in (("EB", 1e18), ("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} bytes"


def _read_int(path: str) -> int | None:
    """The integer in a one-line file, ``None`` if missing, unreadable or ``max``."""
    try:
        with open(path) as fh:
            text = fh.read().strip()
    except OSError:
        return None
    try:
        return int(text)
    except ValueError:  # "max" (no limit) or garbage
        return None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_headroom() -> int | None:
    """cgroup memory limit minus current usage (v2, else v1); ``None`` without a limit."""
    limit = _read_int(os.path.join(_CGROUP_V2, "memory.max"))
    if limit is not None:
        usage = _read_int(os.path.join(_CGROUP_V2, "memory.current")) or 0
        return max(limit - usage, 0)
    limit = _read_int(os.path.join(_CGROUP_V1, "memory.limit_in_bytes"))
    if limit is not None and limit < 2**60:  # v1 reports "no limit" as a huge number
        usage = _read_int(os.path.join(_CGROUP_V1, "memory.usage_in_bytes")) or 0
        return max(limit - usage, 0)
    return None


def _virtual_size() -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _address_space_headroom() -> int | None:
    """``RLIMIT_AS`` soft limit minus the current virtual size; ``None`` without a limit."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft < 0:
        return None
    vsize = _virtual_size()
    return max(soft - (vsize or 0), 0)


def _physical_available() -> int | None:
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return None


def available_bytes() -> int:
    """Bytes this process can still allocate now: the minimum of ``MemAvailable``, the cgroup
    limit minus usage, and ``RLIMIT_AS`` minus the current virtual size (module docstring)."""
    candidates = [_meminfo_available(), _cgroup_headroom(), _address_space_headroom()]
    known = [c for c in candidates if c is not None]
    if not known:
        phys = _physical_available()
        return phys if phys is not None else 8 * 1024**3
    return min(known)


def check_allocation(nbytes: float, what: str) -> None:
    """Raise :class:`AllocationError` if ``nbytes`` exceeds :func:`available_bytes`.

    ``what`` names the request in the one-line message (e.g. ``"wedge: 1.4e11 minors"``).
    """
    avail = available_bytes()
    if nbytes > avail:
        raise AllocationError(
            f"{what} would need about {format_bytes(nbytes)}, but only {format_bytes(avail)} can be "
            "allocated (free memory, cgroup and ulimit -v limits)"
        )
