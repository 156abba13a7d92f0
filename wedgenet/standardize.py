"""Standardization that keeps provenance.

A fit with ``standardize=True`` solves the problem for ``Xs = (X - mu) / sigma`` (and, for
regression, ``ys = (y - m) / s``) and returns the network in the user's units:

    w_o = w_s / sigma,   b_o = b_s - w_o . mu,   a_o = s a_s,   t_o = s t_s + m,

so ``w_o . x + b_o = w_s . xs + b_s`` for every input: each neuron's hyperplane (breakline) is
the same set of points, it passes through the same training samples, and its provenance (the
training row indices that define it) is unchanged.  The neuron is the cross product of its
defining samples *in standardized coordinates* (docs/conventions.md, "Standardization").

The ``(lam/2)`` penalty and the certificate refer to the standardized problem: ``net.lam`` is
the strength in standardized units and :meth:`WedgeNetwork.objective` evaluates the objective
there (mapping the weights back with the inverse of the formulas above).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Standardization"]


def _scale(a: np.ndarray) -> np.ndarray:
    """Column standard deviations, with 1 for constant columns (they stay constant: zero)."""
    sd = a.std(axis=0)
    return np.where(sd > 0, sd, 1.0)


@dataclass(frozen=True)
class Standardization:
    """Per-feature ``mu, sigma`` and, for regression, per-output ``m, s``."""

    x_mean: np.ndarray
    x_scale: np.ndarray
    y_mean: np.ndarray | None = None
    y_scale: np.ndarray | None = None

    @classmethod
    def fit(cls, X: np.ndarray, y: np.ndarray | None = None) -> Standardization:
        # a mean and deviation of data near the float64 range are taken on pre-scaled columns
        cx = np.max(np.abs(X), axis=0)
        cx = np.where(cx > 0, cx, 1.0)
        Xc = X / cx
        xm, xs = Xc.mean(axis=0) * cx, _scale(Xc) * cx
        if y is None:
            return cls(xm, xs)
        cy = np.max(np.abs(y), axis=0)
        cy = np.where(cy > 0, cy, 1.0)
        yc = y / cy
        return cls(xm, xs, np.asarray(yc.mean(axis=0) * cy), np.asarray(_scale(yc) * cy))

    def transform_X(self, X: np.ndarray) -> np.ndarray:
        return (X - self.x_mean) / self.x_scale

    def transform_y(self, y: np.ndarray) -> np.ndarray:
        return y if self.y_mean is None else (y - self.y_mean) / self.y_scale

    # ------------------------------------------------------------------ networks
    def to_original_units(self, net):
        """``net`` (fitted on standardized data) with weights in the user's units (module docstring)."""
        W1 = net.W1 / self.x_scale
        net.b1 = net.b1 - W1 @ self.x_mean
        net.W1 = W1
        if self.y_mean is not None:
            net.W2 = net.W2 * self.y_scale
            b2 = np.asarray(net.b2) * self.y_scale + self.y_mean
            net.b2 = float(b2) if np.ndim(b2) == 0 else b2
        net.standardization = self
        net.info["standardized"] = True
        return net

    def standardized_weights(self, net) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | float]:
        """``(W1_s, b1_s, W2_s, b2_s)``: the weights in standardized units (the inverse map)."""
        W1s = net.W1 * self.x_scale
        b1s = net.b1 + net.W1 @ self.x_mean
        if self.y_mean is None:
            return W1s, b1s, net.W2, net.b2
        W2s = net.W2 / self.y_scale
        b2s = (np.asarray(net.b2) - self.y_mean) / self.y_scale
        return W1s, b1s, W2s, (float(b2s) if np.ndim(b2s) == 0 else b2s)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        def enc(a):
            return None if a is None else np.asarray(a, dtype=np.float64).tolist()

        return {"x_mean": enc(self.x_mean), "x_scale": enc(self.x_scale), "y_mean": enc(self.y_mean),
                "y_scale": enc(self.y_scale)}

    @classmethod
    def from_dict(cls, d: dict, n_features: int) -> Standardization:
        """Validate a model file's record (``ValueError`` naming the field)."""
        if not isinstance(d, dict) or set(d) != {"x_mean", "x_scale", "y_mean", "y_scale"}:
            raise ValueError("model file: standardization must have keys x_mean, x_scale, y_mean, y_scale")

        def dec(name, v, shape=None, optional=False, positive=False):
            if v is None and optional:
                return None
            try:
                a = np.asarray(v, dtype=np.float64)
            except (TypeError, ValueError):
                raise ValueError(f"model file: standardization.{name} must be numbers") from None
            if a.ndim > 1 or (shape is not None and a.shape != shape) or not np.all(np.isfinite(a)) \
                    or (positive and not np.all(a > 0)):
                raise ValueError(f"model file: standardization.{name} is invalid")
            return a

        xm = dec("x_mean", d["x_mean"], (n_features,))
        xs = dec("x_scale", d["x_scale"], (n_features,), positive=True)
        ym = dec("y_mean", d["y_mean"], optional=True)
        ys = dec("y_scale", d["y_scale"], optional=True, positive=True)
        if (ym is None) != (ys is None) or (ym is not None and ym.shape != ys.shape):
            raise ValueError("model file: standardization.y_mean and y_scale must both be given, same shape")
        return cls(xm, xs, ym, ys)
