"""Memory guard: refuse, before allocating, a dictionary larger than the memory budget."""

from __future__ import annotations

import os

__all__ = ["MemoryBudgetError", "available_memory", "default_memory_budget", "check_memory"]

#: fraction of the currently available memory a single dictionary may use by default
DEFAULT_FRACTION = 0.5


class MemoryBudgetError(MemoryError):
    """A request would allocate more than the memory budget; nothing was allocated."""


def available_memory() -> int:
    """Bytes of memory available now (``MemAvailable`` on Linux, else physical memory)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - exotic platforms
        return 8 * 1024**3


def default_memory_budget() -> int:
    """Default budget: ``DEFAULT_FRACTION`` of the memory available now."""
    return int(DEFAULT_FRACTION * available_memory())


def check_memory(what: str, n_bytes: int, budget: int, *, count: int, hint: str) -> None:
    """Raise :class:`MemoryBudgetError` if ``n_bytes`` exceeds ``budget``."""
    if n_bytes > budget:
        raise MemoryBudgetError(
            f"{what}: {count:,} candidate columns would need about {format_bytes(n_bytes)}, over the "
            f"memory budget of {format_bytes(budget)}. {hint}"
        )


def format_bytes(n: float) -> str:
    """``n`` bytes in the largest decimal unit that keeps the number at least 1 (``"1.2 GB"``)."""
    for unit, size in (("EB", 1e18), ("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} bytes"
