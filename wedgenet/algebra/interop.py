"""Conversion to and from ``clifford`` multivectors (clifford is imported lazily).

clifford compiles its algebra on first use (about 4 s), so it is imported only inside these
functions.  Layouts are ``clifford.Cl(d)`` (Euclidean signature), cached per ``d``.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from .._validation import as_float_array, check_positive_int
from .products import blade_indices

__all__ = ["to_clifford", "from_clifford"]


@cache
def _layout(d: int):
    try:
        import clifford  # lazy: compiles on first import
    except ImportError as exc:
        raise ImportError("clifford interop needs the 'ga' extra: pip install 'wedgenet[ga]'") from exc

    layout, _ = clifford.Cl(d)
    return layout


def _grade_slice(layout, grade: int) -> slice:
    grades = np.asarray(layout.gradeList)
    idx = np.flatnonzero(grades == grade)
    return slice(int(idx[0]), int(idx[-1]) + 1)


def to_clifford(coeffs, d: int, grade: int) -> Any:
    """The ``clifford.MultiVector`` of grade ``grade`` in ``Cl(d)`` with the given coefficients.

    ``coeffs`` has ``C(d, grade)`` entries in ``itertools.combinations(range(d), grade)`` order.
    """
    d = check_positive_int("d", d)
    grade = check_positive_int("grade", grade, minimum=0)
    if grade > d:
        raise ValueError(f"grade must be <= d={d}; got {grade}")
    arr = as_float_array("coeffs", coeffs, ndim=1)
    n = len(blade_indices(d, grade))
    if arr.shape[0] != n:
        raise ValueError(f"coeffs must have C({d}, {grade}) = {n} entries; got {arr.shape[0]}")
    layout = _layout(d)
    value = np.zeros(layout.gaDims)
    value[_grade_slice(layout, grade)] = arr
    return layout.MultiVector(value=value)


def from_clifford(mv, grade: int | None = None) -> np.ndarray:
    """Coefficients of one grade of a clifford ``MultiVector``.

    With ``grade=None`` the multivector must be homogeneous (a single nonzero grade, or zero,
    which is read as grade 0); otherwise a ``ValueError`` lists the grades present.
    """
    layout = getattr(mv, "layout", None)
    value = getattr(mv, "value", None)
    if layout is None or value is None:
        raise ValueError(f"mv must be a clifford MultiVector; got {type(mv).__name__}")
    d = int(layout.dims)
    value = np.asarray(value, dtype=np.float64)
    grades = np.asarray(layout.gradeList)
    if grade is None:
        present = sorted({int(g) for g in grades[value != 0]})
        if len(present) > 1:
            raise ValueError(f"mv has several grades {present}; pass grade=... to pick one")
        grade = present[0] if present else 0
    grade = check_positive_int("grade", grade, minimum=0)
    if grade > d:
        raise ValueError(f"grade must be <= d={d}; got {grade}")
    return value[_grade_slice(layout, grade)].copy()
