"""Memory guard: refuse, before allocating, a dictionary larger than the memory budget.

The budget is a fraction of what this process can really still allocate
(:func:`wedgenet._resources.available_bytes`: free memory, the cgroup limit and ``ulimit -v``),
so under an address-space limit the automatic mode streams instead of dying in numpy.
"""

from __future__ import annotations

from .._resources import available_bytes
from .._resources import format_bytes as format_bytes

__all__ = ["MemoryBudgetError", "available_memory", "default_memory_budget", "check_memory"]

#: fraction of the currently available memory a single dictionary may use by default
DEFAULT_FRACTION = 0.5


class MemoryBudgetError(MemoryError):
    """A request would allocate more than the memory budget; nothing was allocated."""


def available_memory() -> int:
    """Bytes this process can still allocate: ``min(MemAvailable, cgroup limit - usage,
    RLIMIT_AS - virtual size)`` (see :mod:`wedgenet._resources`)."""
    return available_bytes()


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

