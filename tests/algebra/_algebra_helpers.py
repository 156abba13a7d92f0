"""Shared helpers for the algebra test suite (imported by the test modules, not collected)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

# numba compiles on first call, so no per-example deadline; modest example counts keep the
# whole algebra suite well under a minute.
settings.register_profile(
    "wedgenet-algebra",
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
PROPERTY = settings.get_profile("wedgenet-algebra")

ENTRY = st.floats(-10.0, 10.0, allow_nan=False, allow_infinity=False, allow_subnormal=False)


@st.composite
def frames(draw, dmin: int = 2, dmax: int = 8, extra_rows: int = -1):
    """A ``(d + extra_rows, d)`` float matrix with bounded entries, ``d`` in ``[dmin, dmax]``."""
    d = draw(st.integers(dmin, dmax))
    return draw(hnp.arrays(np.float64, (d + extra_rows, d), elements=ENTRY, fill=st.nothing()))


def row_norm_product(V: np.ndarray) -> float:
    """Hadamard bound ``prod_i ||v_i||`` (``>= ||cross(V)||``); 1 for an empty stack."""
    return float(np.prod(np.linalg.norm(V, axis=-1)))


def sine(V: np.ndarray) -> float:
    """``sqrt(det(V V^T)) / prod ||v_i||`` in ``[0, 1]``: 0 for dependent rows, 1 for orthogonal."""
    p = row_norm_product(V)
    if p == 0.0:
        return 0.0
    g = np.linalg.det(V @ V.T)
    return float(np.sqrt(max(g, 0.0)) / p)


def perm_sign(perm) -> int:
    """Sign of a permutation (parity of its inversions)."""
    perm = list(perm)
    inv = sum(1 for i in range(len(perm)) for j in range(i + 1, len(perm)) if perm[i] > perm[j])
    return -1 if inv % 2 else 1


def det_with_row(y: np.ndarray, V: np.ndarray) -> np.ndarray:
    """``det[y; V]`` batched over leading axes."""
    return np.linalg.det(np.concatenate([y[..., None, :], V], axis=-2))


def make_rng(seed: int = 20240601) -> np.random.Generator:
    return np.random.default_rng(seed)
