"""Losses with their convex conjugates, so every solver reports a duality gap the same way.

For a loss ``L(pred; y)`` the Lasso ``P(z, t) = L(K z + 1 t; y) + lam * R(z)`` has the dual

    D(theta) = -L*(-theta; y)   s.t.  ||K_j^T theta|| <= lam for every column j,
                                      1^T theta = 0 when there is a free intercept t,

and at the optimum ``theta = -grad L(pred)`` (for squared loss: the residual ``y - pred``,
THEORY.md section 5).  ``R`` is ``||z||_1`` (scalar output) or ``sum_j ||Z_j||_2`` over rows of
``Z`` (vector output, Thm 14).  Each loss gives ``value``, ``gradient``, ``dual_value`` (the
function ``-L*(-theta)``, finite on the loss's dual domain) and its cvxpy expression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, logsumexp, softmax, xlogy

__all__ = ["Loss", "SquaredLoss", "LogisticLoss", "HingeLoss", "SoftmaxLoss", "LOSSES", "get_loss"]


@dataclass(frozen=True)
class Loss:
    """Base class. ``vector`` losses take ``y`` of shape ``(n, c)`` (one-hot for softmax)."""

    name: str = "loss"
    vector: bool = False
    smooth: bool = True

    def value(self, pred: np.ndarray, y: np.ndarray) -> float:
        raise NotImplementedError

    def gradient(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def dual_value(self, theta: np.ndarray, y: np.ndarray) -> float:
        """``-L*(-theta; y)``; ``theta`` must lie in the dual domain (it does after scaling by <= 1)."""
        raise NotImplementedError

    def cvxpy(self, pred, y: np.ndarray):
        """The loss as a cvxpy expression of the prediction expression ``pred``."""
        raise NotImplementedError

    def intercept_only(self, y: np.ndarray) -> np.ndarray | float:
        """The optimal intercept when ``z = 0``."""
        raise NotImplementedError


@dataclass(frozen=True)
class SquaredLoss(Loss):
    """``L = 0.5 ||pred - y||^2`` (a sum, not a mean); scalar or vector output."""

    name: str = "squared"

    def value(self, pred, y):
        return float(0.5 * np.sum((pred - y) ** 2))

    def gradient(self, pred, y):
        return pred - y

    def dual_value(self, theta, y):
        # L*(u) = 0.5||u||^2 + <u, y>, so -L*(-theta) = <theta, y> - 0.5||theta||^2
        return float(np.sum(theta * y) - 0.5 * np.sum(theta**2))

    def cvxpy(self, pred, y):
        import cvxpy as cp

        return 0.5 * cp.sum_squares(pred - y)

    def intercept_only(self, y):
        return y.mean(axis=0)


@dataclass(frozen=True)
class LogisticLoss(Loss):
    """``L = sum_i log(1 + exp(-y_i pred_i))`` with labels ``y_i`` in ``{-1, +1}``."""

    name: str = "logistic"

    def value(self, pred, y):
        return float(-np.sum(log_expit(y * pred)))

    def gradient(self, pred, y):
        return -y * expit(-y * pred)

    def dual_value(self, theta, y):
        # with s_i = theta_i y_i in [0, 1]: -L*(-theta) = sum of binary entropies H(s_i)
        s = np.clip(theta * y, 0.0, 1.0)
        return float(-np.sum(xlogy(s, s) + xlogy(1 - s, 1 - s)))

    def cvxpy(self, pred, y):
        import cvxpy as cp

        return cp.sum(cp.logistic(-cp.multiply(y, pred)))

    def intercept_only(self, y):
        p = np.clip(np.mean(y > 0), 1e-12, 1 - 1e-12)
        return float(np.log(p / (1 - p)))


@dataclass(frozen=True)
class HingeLoss(Loss):
    """``L = sum_i max(0, 1 - y_i pred_i)`` with labels in ``{-1, +1}`` (not smooth)."""

    name: str = "hinge"
    smooth: bool = False

    def value(self, pred, y):
        return float(np.sum(np.maximum(0.0, 1.0 - y * pred)))

    def gradient(self, pred, y):
        # a subgradient: -y on the margin violators, 0 elsewhere
        return -y * (y * pred < 1.0)

    def dual_value(self, theta, y):
        # with s_i = theta_i y_i in [0, 1]: -L*(-theta) = sum_i s_i
        return float(np.sum(np.clip(theta * y, 0.0, 1.0)))

    def cvxpy(self, pred, y):
        import cvxpy as cp

        return cp.sum(cp.pos(1 - cp.multiply(y, pred)))

    def intercept_only(self, y):
        return float(np.sign(np.sum(y)) if np.sum(y) != 0 else 0.0)


@dataclass(frozen=True)
class SoftmaxLoss(Loss):
    """Softmax cross-entropy ``L = sum_i logsumexp(pred_i) - <pred_i, Y_i>`` for one-hot ``Y`` (n, c)."""

    name: str = "softmax"
    vector: bool = True

    def value(self, pred, y):
        return float(np.sum(logsumexp(pred, axis=1)) - np.sum(pred * y))

    def gradient(self, pred, y):
        return softmax(pred, axis=1) - y

    def dual_value(self, theta, y):
        # q = Y - theta lies in the simplex row-wise; -L*(-theta) = entropy of q
        q = np.clip(y - theta, 0.0, 1.0)
        return float(-np.sum(xlogy(q, q)))

    def cvxpy(self, pred, y):
        import cvxpy as cp

        return cp.sum(cp.log_sum_exp(pred, axis=1)) - cp.sum(cp.multiply(pred, y))

    def intercept_only(self, y):
        p = np.clip(y.mean(axis=0), 1e-12, None)
        lp = np.log(p)
        return lp - lp.mean()


LOSSES: dict[str, Loss] = {
    "squared": SquaredLoss(),
    "logistic": LogisticLoss(),
    "hinge": HingeLoss(),
    "softmax": SoftmaxLoss(),
}


def get_loss(name: str) -> Loss:
    """The loss called ``name``; ``ValueError`` lists the known ones."""
    if not isinstance(name, str) or name not in LOSSES:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}; got {name!r}")
    return LOSSES[name]
