"""Losses with their convex conjugates, so every solver reports a duality gap the same way.

For a loss ``L(pred; y)`` the Lasso ``P(z, t) = L(K z + 1 t; y) + lam * R(z)`` has the dual

    D(theta) = -L*(-theta; y)   s.t.  ||K_j^T theta|| <= lam for every column j,
                                      1^T theta = 0 when there is a free intercept t,

and at the optimum ``theta = -grad L(pred)`` (for squared loss: the residual ``y - pred``,
docs/conventions.md#certificate).  ``R`` is ``||z||_1`` (scalar output) or ``sum_j ||Z_j||_2`` over rows of
``Z`` (vector output, Thm 14).  Each loss gives ``value``, ``gradient``, ``dual_value`` (the
function ``-L*(-theta)``, finite on the loss's dual domain) and its cvxpy expression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, log_expit, logsumexp, softmax, xlogy

__all__ = ["Loss", "SquaredLoss", "LogisticLoss", "HingeLoss", "SquaredHingeLoss", "SoftmaxLoss", "LOSSES",
           "get_loss", "register_loss"]

#: a softmax target of integer labels ``0..c-1`` keeps never-seen classes (as zero columns) only up to
#: this many classes beyond the observed ones; larger label values are relabelled by their rank
MAX_EMPTY_CLASSES = 1000


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
    #: the loss is positive everywhere but tends to 0 along a margin, so a label (class) missing
    #: from ``y`` with a free intercept leaves it without a minimiser (logistic, softmax)
    needs_every_label: bool = False

    @property
    def task(self) -> str:
        """``"regression"`` for real targets, ``"classification"`` for labels."""
        return "regression" if self.labels == "real" else "classification"

    @property
    def metric_name(self) -> str:
        """The name of :meth:`metric`: ``"mse"`` (regression) or ``"accuracy"``."""
        return "mse" if self.task == "regression" else "accuracy"

    # ------------------------------------------------------------------ targets (one home)
    def encode_targets(self, y, n: int, classes=None) -> tuple[np.ndarray, tuple | None]:
        """Validate ``y`` for ``n`` samples; return ``(encoded, classes)``.

        ``"real"``: ``(n,)`` or ``(n, c)`` floats, ``classes = None``.  ``"binary"``: any two labels
        (numbers, strings, booleans); ``classes[0]`` is encoded ``-1`` and ``classes[1]`` ``+1``
        (labels already in ``{-1, +1}`` keep their sign, and may all be one label).
        ``"classes"``: any labels, one-hot encoded by their rank in ``classes``; non-negative
        integer labels ``0..c-1`` keep their values (a class that never occurs is a zero column),
        and an ``(n, c)`` one-hot matrix is accepted.  ``classes`` given (a fitted network's)
        fixes the encoding; labels outside it are rejected.
        """
        if self.labels == "real":
            ya = _as_float_targets(y, n)
            return ya, None
        ya = _as_label_array(y, n, allow_onehot=self.labels == "classes")
        if ya.ndim == 2:  # one-hot (softmax)
            Y = _check_onehot(ya)
            if classes is not None and len(classes) != Y.shape[1]:
                raise ValueError(f"y has {Y.shape[1]} one-hot columns but the network has {len(classes)} classes")
            return Y, tuple(range(Y.shape[1])) if classes is None else tuple(classes)
        if classes is None:
            classes = _classes_of(ya, binary=self.labels == "binary")
        idx = _label_index(ya, classes)
        if self.labels == "binary":
            return np.where(idx == 1, 1.0, -1.0), tuple(classes)
        Y = _one_hot(idx, len(classes))
        return Y, tuple(classes)

    def decode(self, f: np.ndarray, classes=None) -> np.ndarray:
        """Predictions from outputs ``f``: ``f`` (real), else the labels of ``classes``."""
        if self.labels == "real":
            return f
        idx = (f >= 0).astype(np.int64) if self.labels == "binary" else np.argmax(f, axis=1)
        if classes is None:
            return np.where(idx == 1, 1.0, -1.0) if self.labels == "binary" else idx
        return np.asarray(classes, dtype=object if any(isinstance(c, str) for c in classes) else None)[idx]

    @property
    def probabilistic(self) -> bool:
        """Whether :meth:`probabilities` gives class probabilities (logistic, softmax)."""
        return type(self).probabilities is not Loss.probabilities

    def probabilities(self, f: np.ndarray) -> np.ndarray | None:
        """Class probabilities ``(m, n_classes)`` from outputs ``f``, or ``None`` if the loss has none."""
        return None

    def metric(self, f: np.ndarray, y_encoded: np.ndarray) -> float:
        """Mean squared error (regression) or accuracy on encoded targets."""
        if self.task == "regression":
            return float(np.mean((f - y_encoded) ** 2))
        if self.labels == "binary":
            return float(np.mean(np.where(f >= 0, 1.0, -1.0) == y_encoded))
        return float(np.mean(np.argmax(f, axis=1) == np.argmax(y_encoded, axis=1)))

    def check_attainable(self, y_encoded: np.ndarray, intercept: bool) -> None:
        """Raise if the loss has no minimiser: with a free intercept, a label or class that never
        occurs makes a classification loss decrease forever along the intercept."""
        if not intercept or not self.needs_every_label:
            return
        if self.labels == "binary" and np.unique(y_encoded).size < 2:
            raise ValueError(f"y must contain two distinct labels for loss={self.name!r} with an intercept "
                             "(bias=True or depth=3): with one label the loss has no minimiser")
        if self.labels == "classes":
            missing = np.flatnonzero(y_encoded.sum(axis=0) == 0)
            if missing.size:
                raise ValueError(f"y has no sample of {missing.size} class(es) (for example {missing[:5].tolist()}) "
                                 f"for loss={self.name!r} with an intercept (bias=True or depth=3): the loss then "
                                 "has no minimiser; relabel the classes that occur 0..c-1")

    def zero_dual(self, y: np.ndarray, intercept: bool) -> np.ndarray:
        """A dual point of the empty network (``z = 0``, best intercept): ``-grad L`` there, projected.

        ``max_j ||K_j^T theta|| `` at this point is ``lam_max``: every ``lam`` at or above it has the
        empty network as optimum (for a non-smooth loss, any subgradient gives such a ``lam``).
        """
        pred = np.zeros(y.shape) + (self.intercept_only(y) if intercept else 0.0)
        theta = -self.gradient(pred, y)
        return self.project_dual(theta, y) if intercept else theta

    # ------------------------------------------------------------------ value, gradient, conjugate
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
    needs_every_label: bool = True

    def probabilities(self, f):
        p = expit(f)
        return np.column_stack([1.0 - p, p])

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

    def zero_dual(self, y, intercept):
        # the subgradient with s_i = 1 on and inside the margin (y_i t <= 1): a valid dual point at z = 0
        t = self.intercept_only(y) if intercept else 0.0
        theta = y * (y * t <= 1.0)
        return self.project_dual(theta, y) if intercept else theta

    def project_dual(self, theta, y):
        return _balance_labels(theta, y)


@dataclass(frozen=True)
class SquaredHingeLoss(Loss):
    """``L = 0.5 sum_i max(0, 1 - y_i pred_i)^2`` with labels ``y_i`` in ``{-1, +1}``.

    Smooth, with a 1-Lipschitz gradient ``-y_i max(0, 1 - y_i pred_i)``.  Conjugate: with
    ``a_i = y_i theta_i >= 0``, ``-L*(-theta) = sum_i (a_i - a_i^2 / 2)`` (the per-sample supremum
    ``sup_m  -a m - 0.5 max(0, 1 - m)^2`` is attained at ``m = 1 - a``).
    """

    name: str = "squared_hinge"
    lipschitz: float | None = 1.0
    labels: str = "binary"

    def value(self, pred, y):
        return float(0.5 * np.sum(np.maximum(0.0, 1.0 - y * pred) ** 2))

    def gradient(self, pred, y):
        return -y * np.maximum(0.0, 1.0 - y * pred)

    def curvature(self, pred, y):
        return (y * pred < 1.0).astype(np.float64)

    def dual_value(self, theta, y):
        a = np.maximum(theta * y, 0.0)
        return float(np.sum(a - 0.5 * a * a))

    def cvxpy(self, pred, y):
        import cvxpy as cp

        return 0.5 * cp.sum_squares(cp.pos(1 - cp.multiply(y, pred)))

    def intercept_only(self, y):
        return self.refit_intercept(np.zeros(len(y)), y, 0.0)

    def refit_intercept(self, pred0, y, t):
        return _monotone_root(lambda tt: float(np.sum(self.gradient(pred0 + tt, y))), float(t))

    def project_dual(self, theta, y):
        return _balance_labels(theta, y, upper=np.inf)


@dataclass(frozen=True)
class SoftmaxLoss(Loss):
    """Softmax cross-entropy ``L = sum_i logsumexp(pred_i) - <pred_i, Y_i>`` for one-hot ``Y`` (n, c)."""

    name: str = "softmax"
    vector: bool = True
    lipschitz: float | None = 0.5
    labels: str = "classes"
    needs_every_label: bool = True

    def probabilities(self, f):
        return softmax(f, axis=1)

    def curvature(self, pred, y):
        """The diagonal ``q (1 - q)`` of each sample's Hessian in its outputs, ``(n, c)``."""
        q = softmax(pred, axis=1)
        return q * (1.0 - q)

    def hessian_diag_lowrank(self, pred, y):
        """``(A, B)`` with each sample's Hessian in its outputs ``diag(A_i) - B_i B_i^T``: ``A = B = q``."""
        q = softmax(pred, axis=1)
        return q, q

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


def _balance_labels(theta: np.ndarray, y: np.ndarray, upper: float = 1.0) -> np.ndarray:
    """Rescale ``s = theta * y`` (in ``[0, upper]``) on the larger class so ``sum theta = 0``.

    Shrinking ``s`` keeps it in the dual domain ``[0, 1]`` of the logistic and hinge losses
    (``[0, inf)`` for the squared hinge).
    """
    s = np.clip(theta * y, 0.0, upper)
    pos, neg = s[y > 0].sum(), s[y < 0].sum()
    if pos > neg:
        s[y > 0] *= neg / pos
    elif neg > pos:
        s[y < 0] *= pos / neg
    return y * s


def _monotone_root(g, t0: float) -> float:
    """A root of the non-decreasing function ``g`` (the intercept's derivative of a convex loss),
    by bracketing from ``t0`` and bisection to float precision; ``t0`` if ``g`` has no sign change."""
    g0 = g(t0)
    if g0 == 0.0:
        return t0
    step = 1.0 if g0 < 0 else -1.0
    lo = hi = t0
    for _ in range(200):
        hi = t0 + step
        if (g(hi) > 0) != (g0 > 0) or g(hi) == 0.0:
            break
        step *= 2.0
    else:
        return t0
    lo, hi = (t0, hi) if step > 0 else (hi, t0)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if g(mid) > 0:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


# ---------------------------------------------------------------------------- target helpers
def _as_float_targets(y, n: int) -> np.ndarray:
    from .._validation import as_float_array

    ya = as_float_array("y", y, min_ndim=1)
    if ya.ndim > 2 or ya.shape[0] != n:
        raise ValueError(f"y must have shape ({n},) or ({n}, c) to match X; got {ya.shape}")
    return ya


def _as_label_array(y, n: int, *, allow_onehot: bool) -> np.ndarray:
    """``y`` as a 1-D label array (numbers, strings or booleans) of length ``n``, or a 2-D one-hot float array."""
    if type(y).__module__.startswith("torch") and hasattr(y, "detach"):
        y = y.detach().cpu().numpy()
    ya = np.asarray(y)
    if ya.ndim == 2 and allow_onehot:
        from .._validation import as_float_array

        Y = as_float_array("y", ya, ndim=2)
        if Y.shape[0] != n:
            raise ValueError(f"y has {Y.shape[0]} rows but X has {n}")
        return Y
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya[:, 0]
    if ya.ndim != 1:
        raise ValueError(f"y must be a 1-D array of labels; got shape {ya.shape}")
    if ya.shape[0] != n:
        raise ValueError(f"y has {ya.shape[0]} entries but X has {n} rows")
    if ya.size == 0:
        raise ValueError("y is empty")
    if ya.dtype.kind in "fc":
        if ya.dtype.kind == "c":
            raise ValueError("y must be real; got complex values")
        if not np.all(np.isfinite(ya)):
            raise ValueError("y contains NaN or infinite values")
    elif ya.dtype.kind == "O":
        if any(v is None or (isinstance(v, float) and not np.isfinite(v)) for v in ya):
            raise ValueError("y contains missing (None/NaN) labels")
        try:
            ya = ya.astype(str) if any(isinstance(v, str) for v in ya) else ya.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"y must hold numbers or strings as labels ({exc})") from None
    elif ya.dtype.kind not in "biuUS":
        raise ValueError(f"y must hold numbers or strings as labels; got dtype {ya.dtype}")
    return ya


def _check_onehot(Y: np.ndarray) -> np.ndarray:
    if not np.all((Y == 0) | (Y == 1)) or not np.all(Y.sum(axis=1) == 1):
        raise ValueError("y must be (n,) labels or an (n, c) one-hot matrix")
    if Y.shape[1] < 2:
        raise ValueError("y must contain at least two classes")
    return Y


def _plain(v):
    """A label as a plain Python value (JSON-able)."""
    v = v.item() if hasattr(v, "item") else v
    if isinstance(v, float) and v == int(v) and abs(v) < 2**53:
        return int(v)
    return v


def _classes_of(ya: np.ndarray, *, binary: bool) -> tuple:
    """The sorted distinct labels (see :meth:`Loss.encode_targets` for the integer and +-1 rules)."""
    u = np.unique(ya)
    if binary:
        if ya.dtype.kind in "biuf" and np.all(np.isin(u, (-1, 1))):
            return (-1, 1)
        if u.size != 2:
            raise ValueError(f"y must hold exactly two distinct labels for a binary loss; got {u.size}"
                             + (f" (first: {[_plain(v) for v in u[:5]]})" if u.size else ""))
        return tuple(_plain(v) for v in u)
    if u.size < 2 and not (ya.dtype.kind in "iu" or (ya.dtype.kind == "f" and np.all(u == np.round(u)))):
        raise ValueError("y must contain at least two classes")
    if ya.dtype.kind in "biuf" and np.all(u == np.round(u)) and u.min() >= 0 \
            and u.max() + 1 - u.size <= MAX_EMPTY_CLASSES and ya.dtype.kind != "b":
        c = int(u.max()) + 1
        if c < 2:
            raise ValueError("y must contain at least two classes")
        return tuple(range(c))
    if u.size < 2:
        raise ValueError("y must contain at least two classes")
    return tuple(_plain(v) for v in u)


def _label_index(ya: np.ndarray, classes) -> np.ndarray:
    """Position of each label in ``classes`` (``ValueError`` for a label not in it)."""
    if any(isinstance(c, str) for c in classes):
        keys = np.asarray([str(c) for c in classes])
        vals = ya.astype(str)
    else:
        if ya.dtype.kind not in "biuf":
            raise ValueError(f"y holds labels {ya[:3].tolist()} that are not among the classes {list(classes)[:10]}")
        keys = np.asarray(classes, dtype=np.float64)
        vals = ya.astype(np.float64)
    order = np.argsort(keys, kind="stable")
    pos = np.searchsorted(keys[order], vals)
    pos = np.clip(pos, 0, len(keys) - 1)
    idx = order[pos]
    bad = keys[idx] != vals
    if np.any(bad):
        raise ValueError(f"y holds label(s) {np.unique(vals[bad])[:5].tolist()} that are not among the classes "
                         f"{list(classes)[:10]}")
    return idx


def _one_hot(idx: np.ndarray, c: int) -> np.ndarray:
    Y = np.zeros((idx.size, c))
    Y[np.arange(idx.size), idx] = 1.0
    return Y


LOSSES: dict[str, Loss] = {}


def register_loss(loss: Loss) -> Loss:
    """Add ``loss`` to the registry under ``loss.name`` (``fit``, estimators, the CLI and the
    conformance tests read the registry)."""
    LOSSES[loss.name] = loss
    return loss


for _loss in (SquaredLoss(), LogisticLoss(), HingeLoss(), SquaredHingeLoss(), SoftmaxLoss()):
    register_loss(_loss)


def get_loss(name) -> Loss:
    """The loss called ``name`` (or ``name`` itself if it is a :class:`Loss`); ``ValueError`` lists the known ones."""
    if isinstance(name, Loss):
        return name
    if not isinstance(name, str) or name not in LOSSES:
        raise ValueError(f"loss must be one of {tuple(LOSSES)}; got {name!r}")
    return LOSSES[name]
