"""The solver layer's exception."""

from __future__ import annotations

__all__ = ["SolverError"]


class SolverError(RuntimeError):
    """A restricted or full solve failed (solver breakdown, time limit, interrupted fallback).

    A ``RuntimeError`` subclass, so existing ``except RuntimeError`` handlers still catch it;
    the CLI catches it by type.
    """
