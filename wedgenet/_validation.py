"""Boundary validation shared by every public entry point.

Public functions validate once, here; internal kernels assume valid input.
Every error is a ``ValueError`` that names the offending argument.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = [
    "as_float_array",
    "as_index_array",
    "check_positive_int",
    "check_choice",
    "check_nonneg_float",
    "check_bool",
]


def as_float_array(
    name: str,
    value: Any,
    *,
    min_ndim: int | None = None,
    ndim: int | None = None,
    allow_empty: bool = False,
) -> np.ndarray:
    """Return ``value`` as a finite float64 array, or raise ``ValueError`` naming ``name``.

    Torch tensors are accepted (detached and moved to the CPU first)."""
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        value = value.detach().cpu()
        if value.dtype.is_complex:
            raise ValueError(f"{name} must be real; got complex values")
        value = value.double().numpy()
    try:
        complex_ = np.iscomplexobj(value)
    except (TypeError, ValueError):  # ragged: reported below
        complex_ = False
    if complex_:
        raise ValueError(f"{name} must be real; got complex values")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array; got {type(value).__name__} ({exc})") from None
    if ndim is not None and arr.ndim != ndim:
        hint = f" (for a single row use {name}.reshape(1, -1))" if ndim == 2 and arr.ndim == 1 else ""
        raise ValueError(f"{name} must be a {ndim}-D array; got shape {arr.shape}{hint}")
    if min_ndim is not None and arr.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimensions; got shape {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape})")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def as_index_array(name: str, value: Any, *, ndim: int = 2) -> np.ndarray:
    """Return ``value`` as an int64 array of the given dimension, or raise ``ValueError``."""
    arr = np.asarray(value)
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.integer) or arr.size == 0):
        raise ValueError(f"{name} must be an integer array; got dtype {arr.dtype}")
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D integer array; got shape {arr.shape}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def check_positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` >= ``minimum`` or raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return int(value)


def check_nonneg_float(name: str, value: Any, *, strictly_positive: bool = False) -> float:
    """Return ``value`` as a finite float >= 0 (or > 0) or raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number; got {value!r}")
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite; got {value!r}")
    if strictly_positive and v <= 0:
        raise ValueError(f"{name} must be > 0; got {value!r}")
    if v < 0:
        raise ValueError(f"{name} must be >= 0; got {value!r}")
    return v


def check_choice(name: str, value: Any, choices: tuple) -> Any:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError`` listing them.

    Only hashable scalars of the choices' own types match (an array, a list, ``True`` for 1 or
    ``2.0`` for 2 do not)."""
    ok = False
    for c in choices:
        if type(value) is type(c) or (isinstance(value, str) and isinstance(c, str)):
            try:
                ok = bool(value == c)
            except (TypeError, ValueError):  # pragma: no cover - exotic __eq__
                ok = False
            if ok:
                break
    if not ok:
        raise ValueError(f"{name} must be one of {choices}; got {value!r}")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` as a ``bool`` (Python or numpy boolean) or raise ``ValueError``."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)
