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
    #: ``0.5 ||pred - y||^2``: the Lasso has a closed-form active set (restricted solvers read this)
    quadratic: bool = False
    #: a Lipschitz constant of the per-sample gradient (``None`` when not smooth); safe screening reads it
    lipschitz: float | None = None
    #: the targets the loss takes after encoding: "real", "binary" (+-1 labels) or "classes" (one-hot)
    labels: str = "real"

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

    def curvature(self, pred: np.ndarray, y: np.ndarray) -> np.ndarray | None:
        """Per-sample second derivative ``d^2 L / d pred_i^2`` (scalar smooth losses), or ``None``
        when not given: the proximal Newton solver then uses the constant ``lipschitz``."""
        return None

    def intercept_only(self, y: np.ndarray) -> np.ndarray | float:
        """The optimal intercept when ``z = 0``."""
        raise NotImplementedError

    def refit_intercept(self, pred0: np.ndarray, y: np.ndarray, t):
        """The optimal intercept ``t`` for fixed ``pred0 = K z`` (smooth losses); else ``t`` unchanged.

        At that ``t`` the dual point ``-grad L`` sums to zero, as the intercept's dual
        constraint ``1^T theta = 0`` requires.
        """
        return t

    def project_dual(self, theta: np.ndarray, y: np.ndarray) -> np.ndarray:
        """A point of the loss's dual domain with ``1^T theta = 0`` (for a free intercept)."""
        return theta


@dataclass(frozen=True)
class SquaredLoss(Loss):
    """``L = 0.5 ||pred - y||^2`` (a sum, not a mean); scalar or vector output."""

    name: str = "squared"
    quadratic: bool = True
    lipschitz: float | None = 1.0

    def value(self, pred, y):
        return float(0.5 * np.sum((pred - y) ** 2))

    def gradient(self, pred, y):
        return pred - y

    def curvature(self, pred, y):
        return np.ones(pred.shape[0])

    def dual_value(self, theta, y):
        # L*(u) = 0.5||u||^2 + <u, y>, so -L*(-theta) = <theta, y> - 0.5||theta||^2
        return float(np.sum(theta * y) - 0.5 * np.sum(theta**2))

    def cvxpy(self, pred, y):
        import cvxpy as cp

        return 0.5 * cp.sum_squares(pred - y)

    def intercept_only(self, y):
        return y.mean(axis=0)

    def refit_intercept(self, pred0, y, t):
        return (y - pred0).mean(axis=0)

    def project_dual(self, theta, y):
        return theta - theta.mean(axis=0)


@dataclass(frozen=True)
class LogisticLoss(Loss):
    """``L = sum_i log(1 + exp(-y_i pred_i))`` with labels ``y_i`` in ``{-1, +1}``."""

    name: str = "logistic"
    lipschitz: float | None = 0.25
    labels: str = "binary"

    def value(self, pred, y):
        return float(-np.sum(log_expit(y * pred)))

    def gradient(self, pred, y):
        return -y * expit(-y * pred)

    def curvature(self, pred, y):
        s = expit(y * pred)
        return s * (1.0 - s)

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

    def refit_intercept(self, pred0, y, t):
        t = float(t)
        for _ in range(50):  # Newton on the 1-D strictly convex problem, with halving
            p = pred0 + t
            g = float(np.sum(self.gradient(p, y)))
            s = expit(y * p)
            h = float(np.sum(s * (1 - s)))
            if abs(g) <= 1e-15 * len(y) or h <= 0:
                break
            step = -g / h
            f0 = self.value(p, y)
            while step != 0 and self.value(pred0 + t + step, y) > f0:
                step *= 0.5
            t += step
        return t

    def project_dual(self, theta, y):
        return _balance_labels(theta, y)


@dataclass(frozen=True)
class HingeLoss(Loss):
    """``L = sum_i max(0, 1 - y_i pred_i)`` with labels in ``{-1, +1}`` (not smooth)."""

    name: str = "hinge"
    smooth: bool = False
    labels: str = "binary"

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

    def project_dual(self, theta, y):
        return _balance_labels(theta, y)


@dataclass(frozen=True)
class SoftmaxLoss(Loss):
    """Softmax cross-entropy ``L = sum_i logsumexp(pred_i) - <pred_i, Y_i>`` for one-hot ``Y`` (n, c)."""

    name: str = "softmax"
    vector: bool = True
    lipschitz: float | None = 0.5
    labels: str = "classes"

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

    def refit_intercept(self, pred0, y, t):
        from scipy.optimize import minimize

        def fg(tt):
            p = pred0 + tt
            return self.value(p, y), self.gradient(p, y).sum(axis=0)

        res = minimize(fg, np.asarray(t, dtype=np.float64), jac=True, method="BFGS",
                       options={"gtol": 1e-14, "maxiter": 500})
        return res.x if res.fun <= fg(np.asarray(t, dtype=np.float64))[0] else t


def _balance_labels(theta: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Rescale ``s = theta * y`` (in ``[0, 1]``) on the larger class so ``sum theta = 0``.

    Shrinking ``s`` keeps it in the dual domain ``[0, 1]`` of the logistic and hinge losses.
    """
    s = np.clip(theta * y, 0.0, 1.0)
    pos, neg = s[y > 0].sum(), s[y < 0].sum()
    if pos > neg:
        s[y > 0] *= neg / pos
    elif neg > pos:
        s[y < 0] *= pos / neg
    return y * s


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
