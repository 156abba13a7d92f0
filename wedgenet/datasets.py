"""Synthetic data sets made in wedgenet (nothing is downloaded at run time)."""

from __future__ import annotations

import numpy as np

from ._validation import check_nonneg_float, check_positive_int

__all__ = ["make_spiral", "make_xor", "diamond"]


def _rng(random_state) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is not None and (isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer))):
        raise ValueError(f"random_state must be None, an int or a numpy Generator; got {random_state!r}")
    return np.random.default_rng(random_state)


def make_spiral(n_samples: int = 160, *, turns: float = 1.5, noise: float = 0.0,
                random_state=None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals in the plane, labels ``+1`` / ``-1``.

    Class ``+1`` lies on ``r (cos t, sin t)`` with ``r = t / (2 pi turns)``, ``t`` evenly spaced
    in ``(0, 2 pi turns]``; class ``-1`` is its point reflection.  ``noise`` is the standard
    deviation of Gaussian jitter added to each coordinate.  Returns ``X (n, 2)``, ``y (n,)``.
    """
    n_samples = check_positive_int("n_samples", n_samples, minimum=2)
    turns = check_nonneg_float("turns", turns, strictly_positive=True)
    noise = check_nonneg_float("noise", noise)
    rng = _rng(random_state)
    n1 = n_samples // 2
    n2 = n_samples - n1
    def arm(m: int) -> np.ndarray:
        t = np.linspace(0.0, 2 * np.pi * turns, m + 1)[1:]
        r = t / (2 * np.pi * turns)
        return np.c_[r * np.cos(t), r * np.sin(t)]
    X = np.vstack([arm(n1), -arm(n2)])
    y = np.r_[np.ones(n1), -np.ones(n2)]
    if noise:
        X = X + noise * rng.standard_normal(X.shape)
    return X, y


def make_xor(n_samples: int = 40, *, noise: float = 0.1, random_state=None) -> tuple[np.ndarray, np.ndarray]:
    """XOR: points around the four corners ``(+-1, +-1)``, label ``sign(x1 * x2)``."""
    n_samples = check_positive_int("n_samples", n_samples, minimum=4)
    noise = check_nonneg_float("noise", noise)
    rng = _rng(random_state)
    corners = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    C = corners[np.arange(n_samples) % 4]
    X = C + noise * rng.standard_normal(C.shape)
    y = np.sign(C[:, 0] * C[:, 1])
    return X, y


def diamond() -> np.ndarray:
    """The 4-point diamond ``{(1,0), (0,1), (-1,0), (0,-1)}`` of the paper's Figure 7."""
    return np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
