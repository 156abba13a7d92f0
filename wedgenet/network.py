"""Networks whose neurons know the training samples that define them.

A :class:`WedgeNetwork` is the two-layer ReLU network (depth 2)

    f(x) = sum_j a_j (w_j . x + b_j)_+ + t

or, for depth 3 (Thm 12, 13), ``f(x) = sum_j a_j (s_j ((w_j . x + b_j)_+ - t_j))_+ + t``.  It is
built from a solution of the wedge Lasso: each nonzero ``z_j`` gives one neuron, the column's
generator ``(w_j, b_j)`` with ``a_j = z_j``, then balanced (docs/conventions.md#objective):
``gamma = sqrt(|a_j| / ||w_j||_p)``, ``w <- gamma w``, ``b <- gamma b``, ``a <- a / gamma``, so
``||w_j||_p = |a_j|`` and the non-convex objective

    L(f(X), y) + (lam/2) * sum_j (||w_j||_p^2 + ||a_j||_2^2)

equals the Lasso objective ``L + lam ||z||_1``.  Files are JSON with base64-encoded float64
arrays: loading never executes code.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._linalg import caratheodory_reduce, group_norms, row_norms, wedge_hidden
from ._validation import as_float_array, check_nonneg_float, check_positive_int
from .solvers.certificate import SCOPES, Certificate
from .solvers.losses import LOSSES, get_loss
from .standardize import Standardization

__all__ = ["Neuron", "WedgeNetwork", "load"]

FORMAT = "wedgenet.WedgeNetwork"
#: version 2 adds the certificate, class labels, feature names and standardization; 1 still loads
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


@dataclass(frozen=True)
class Neuron:
    """One hidden neuron and its provenance."""

    weight: np.ndarray
    bias: float
    output_weight: float | np.ndarray
    samples: tuple[int, ...]
    kinds: tuple[str, ...]
    expression: str
    theorem: str
    orientation: int
    column: int
    outer_sign: float = 0.0
    threshold: float = 0.0

    def breakline(self, feature_names=None, digits: int = 4) -> str:
        """The neuron's hyperplane ``w . x + b = 0`` written with the feature names (``x0, x1, ...``
        without them), in the units the network predicts in."""
        w = np.asarray(self.weight, dtype=np.float64)
        names = list(feature_names) if feature_names is not None else [f"x{k}" for k in range(w.size)]
        if len(names) != w.size:
            raise ValueError(f"feature_names must hold {w.size} names; got {len(names)}")
        terms = [f"{'-' if c < 0 else '+'} {abs(c):.{digits}g}*{n}" for c, n in zip(w, names, strict=True) if c != 0]
        terms.append(f"{'-' if self.bias < 0 else '+'} {abs(self.bias):.{digits}g}")
        text = " ".join(terms)
        return (text[2:] if text.startswith("+ ") else "-" + text[2:]) + " = 0"

    def formula(self, full: bool = False, width: int = 72) -> str:
        """The expression, shortened past ``width`` characters unless ``full`` (``wedgenet._text``)."""
        from ._text import shorten_expression

        return self.expression if full else shorten_expression(self.expression, width)

    def __repr__(self) -> str:
        from ._text import shorten_samples

        a = self.output_weight
        a_s = f"{a:+.4g}" if np.ndim(a) == 0 else np.array2string(np.asarray(a), precision=3)
        return f"Neuron(samples={shorten_samples(self.samples)}, a={a_s}, {self.formula()})"


@dataclass(eq=False)
class WedgeNetwork:
    """A certified ReLU network from the wedge Lasso (see module docstring)."""

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: float | np.ndarray
    outer_sign: np.ndarray
    thresholds: np.ndarray
    depth: int
    reg: str
    lam: float
    loss: str
    bias: bool
    provenance: list[dict] = field(repr=False)
    info: dict = field(default_factory=dict, repr=False)
    #: what the fit proved (gap, violation, scope, verdict); ``None`` for a hand-made network
    certificate: Certificate | None = field(default=None, repr=False)
    #: the user's labels (classification): ``predict`` returns them
    classes: tuple | None = field(default=None, repr=False)
    #: names of the input features, for display
    feature_names: tuple[str, ...] | None = field(default=None, repr=False)
    #: the standardization the network was fitted under (its weights are in the user's units)
    standardization: Standardization | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_solution(cls, dictionary, result, *, lam: float, loss: str) -> WedgeNetwork:
        """Neurons from the nonzero coefficients of a solver result, balanced."""
        D = dictionary
        S = np.asarray(result.support, dtype=np.int64)
        Z = np.asarray(result.coef, dtype=np.float64)
        W = D.weights[S].copy()
        b = D.biases[S].copy()
        if D.depth == 2:
            p = 1 if D.reg == "l1" else 2
            wn = row_norms(W, p)
            zn = group_norms(Z)
            gamma = np.sqrt(zn / wn)
            W = W * gamma[:, None]
            b = b * gamma
            Z = Z / (gamma if Z.ndim == 1 else gamma[:, None])
        # training samples on which each neuron is positive (its column's support; see wedgenet.inspect)
        from .inspect import active_counts

        n_active = active_counts(D.columns(S)) if S.size else np.zeros(0, dtype=np.int64)
        prov = []
        for k, j in enumerate(S):
            rec = D.provenance[int(j)]
            prov.append({"column": int(j), "samples": list(rec.samples), "kinds": list(rec.kinds),
                         "expression": rec.expression, "theorem": rec.theorem, "orientation": rec.orientation,
                         "n_active": int(n_active[k])})
        info = {
            "theorem": D.theorem, "exact": bool(D.exact), "approximation": D.approximation,
            "solver": result.solver, "converged": bool(result.converged), "n_iter": int(result.n_iter),
            "n_columns": int(D.n_columns), "n_candidates": int(D.n_candidates),
            "n_candidates_total": int(D.n_candidates_total), "sampled": bool(D.sampled),
            "n_train": int(D.shape[0]),
        }
        net = cls(W1=np.ascontiguousarray(W), b1=b, W2=Z, b2=result.intercept,
                  outer_sign=D.outer_sign[S].copy(), thresholds=D.thresholds[S].copy(), depth=D.depth,
                  reg=D.reg, lam=float(lam), loss=loss, bias=bool(D.bias), provenance=prov, info=info)
        net.set_certificate(result.certificate.with_scope(result.certificate.scope, exact=bool(D.exact)))
        return net

    def set_certificate(self, cert: Certificate) -> None:
        """Attach ``cert``; its numbers are mirrored in ``info`` (the fit's record) for reading."""
        self.certificate = cert
        self.info.update(primal=cert.primal, dual=cert.dual, duality_gap=cert.gap, relative_gap=cert.relative_gap,
                         max_violation=cert.max_violation)

    # ------------------------------------------------------------------ properties
    @property
    def n_neurons(self) -> int:
        return int(self.W1.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.W1.shape[1]) if self.W1.ndim == 2 else 0

    @property
    def duality_gap(self) -> float:
        """Primal minus dual over the columns priced (``certificate.scope`` says which; conventions.md#certificate)."""
        return math.nan if self.certificate is None else float(self.certificate.gap)

    @property
    def relative_gap(self) -> float:
        return math.nan if self.certificate is None else float(self.certificate.relative_gap)

    @property
    def max_violation(self) -> float:
        """``max_j |K_j^T theta| / lam`` over the columns priced; <= 1 at the optimum."""
        return math.nan if self.certificate is None else float(self.certificate.max_violation)

    @property
    def exact(self) -> bool:
        """Whether the convex optimum is the global optimum of the network problem (p=1, d=1)."""
        return bool(self.info.get("exact", False))

    @property
    def neurons(self) -> list[Neuron]:
        out = []
        for j, rec in enumerate(self.provenance):
            a = self.W2[j] if self.W2.ndim == 1 else self.W2[j].copy()
            out.append(Neuron(weight=self.W1[j].copy(), bias=float(self.b1[j]), output_weight=a,
                              samples=tuple(rec["samples"]), kinds=tuple(rec["kinds"]),
                              expression=rec["expression"], theorem=rec["theorem"],
                              orientation=int(rec["orientation"]), column=int(rec["column"]),
                              outer_sign=float(self.outer_sign[j]), threshold=float(self.thresholds[j])))
        return out

    # ------------------------------------------------------------------ evaluation
    def hidden(self, X) -> np.ndarray:
        """Activations of the last hidden layer on ``X`` (shape ``(m, n_neurons)``).

        A table with column names (a pandas DataFrame) is matched to ``feature_names`` by name
        when the network has them: reordered columns are put in order, missing ones refused."""
        names = getattr(X, "columns", None)
        if names is not None and self.feature_names is not None and list(map(str, names)) != list(self.feature_names):
            missing = [f for f in self.feature_names if f not in set(map(str, names))]
            if missing:
                raise ValueError(f"X lacks the network's feature column(s) {missing}; columns are matched by name")
            X = X[list(self.feature_names)]
        Xa = as_float_array("X", X, ndim=2)
        if Xa.shape[1] != self.n_features:
            raise ValueError(f"X must have {self.n_features} features; got {Xa.shape[1]}")
        return wedge_hidden(Xa, self.W1, self.b1, *((self.outer_sign, self.thresholds) if self.depth == 3 else ()))

    def decision_function(self, X) -> np.ndarray:
        """Network output ``f(X)``: ``(m,)`` for scalar output, ``(m, c)`` for vector output."""
        return self.hidden(X) @ self.W2 + self.b2

    def predict(self, X) -> np.ndarray:
        """``f(X)`` for regression; for classification the labels (``classes``; without them the
        sign for binary losses and the class index for softmax)."""
        return get_loss(self.loss).decode(self.decision_function(X), self.classes)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(m, n_classes)`` (logistic, softmax); ``ValueError`` for other losses."""
        P = get_loss(self.loss).probabilities(self.decision_function(X))
        if P is None:
            raise ValueError(f"loss={self.loss!r} gives no probabilities")
        return P

    def penalty(self) -> float:
        """``(1/2) sum_j (||w_j||_p^2 + ||a_j||_2^2)`` (depth 2); ``sum_j ||w_j||_p ||a_j||`` (depth 3).

        In standardized units when the network was fitted with ``standardize=True``.
        """
        W1, _, W2, _ = self._fitted_weights()
        p = 1 if self.reg == "l1" else 2
        wn = row_norms(W1, p) if self.n_neurons else np.zeros(0)
        an = group_norms(W2)
        if self.depth == 3:
            return float(np.sum(wn * an))
        return float(0.5 * np.sum(wn**2 + an**2))

    def _fitted_weights(self):
        """``(W1, b1, W2, b2)`` in the units the fit solved in (standardized, if it was)."""
        if self.standardization is None:
            return self.W1, self.b1, self.W2, self.b2
        return self.standardization.standardized_weights(self)

    def objective(self, X, y) -> float:
        """The non-convex training objective ``L(f(X), y) + (lam/2) sum_j (||w_j||_p^2 + a_j^2)``.

        ``L`` is the network's loss (``squared`` is ``0.5 ||r||^2``, a sum).  For depth 3 the
        penalty is the Lasso form ``lam sum_j ||w_j||_1 |a_j|`` of Thm 12/13 (unit first-layer
        neurons, second-layer units ``(s (u - t))_+``).  At a solution this equals the convex
        objective (docs/conventions.md#objective).  A network fitted with ``standardize=True`` is evaluated
        in the standardized units its ``lam`` and certificate refer to (``X``, ``y`` are in the
        user's units).
        """
        loss = get_loss(self.loss)
        f = self.decision_function(X)
        yy = _encode_targets(loss, y, f, self.classes)
        st = self.standardization
        if st is not None and st.y_mean is not None:
            f, yy = st.transform_y(f), st.transform_y(yy)
        return float(loss.value(f, yy) + self.lam * self.penalty())

    # ------------------------------------------------------------------ a bound on the global optimum
    def fitted_view(self, X, y) -> tuple[WedgeNetwork, np.ndarray, np.ndarray]:
        """``(net, X, y)`` in the units the fit solved in: standardized weights, data and targets
        (encoded for the loss), so that bounds and objectives refer to the certified problem."""
        loss = get_loss(self.loss)
        Xa = as_float_array("X", X, ndim=2)
        f = self.decision_function(Xa)
        yy = _encode_targets(loss, y, f, self.classes)
        st = self.standardization
        if st is None:
            return dataclasses.replace(self, classes=None), Xa, yy
        W1s, b1s, W2s, b2s = st.standardized_weights(self)
        net = dataclasses.replace(self, W1=W1s, b1=b1s, W2=W2s, b2=b2s, standardization=None, classes=None,
                                  info=dict(self.info))
        return net, st.transform_X(Xa), st.transform_y(yy) if loss.task == "regression" else yy

    def bound(self, X, y, *, time_limit: float = 60.0, verbose: bool = False):
        """A certified lower bound on the global optimum of this network's training problem.

        Weak duality with the maximum dual violation over *every* neuron bounded by a pricing
        MILP (:func:`wedgenet.beyond.lower_bound`, docs/bound.md): ``lower_bound <= OPT <=
        objective``, valid for networks of any width.  The certificate records it
        (``certificate.lower_bound``, ``verdict()`` says "proven within X% of the global optimum").
        Two-layer networks with scalar output and squared, logistic or hinge loss.
        """
        from .beyond import lower_bound

        net, Xf, yf = self.fitted_view(X, y)
        b = lower_bound(net, Xf, yf, time_limit=time_limit, verbose=verbose)
        self.attach_bound(b)
        return b

    def attach_bound(self, b) -> None:
        """Record a :class:`wedgenet.beyond.Bound` in the certificate (the best lower bound is kept)."""
        cert = self.certificate
        if cert is None:
            cert = Certificate(primal=b.upper, dual=-math.inf, gap=math.inf, relative_gap=math.inf,
                               max_violation=math.inf, n_columns_priced=0)
        lb = b.lower_bound if cert.lower_bound is None else max(cert.lower_bound, b.lower_bound)
        method = "pricing MILP, solved" if b.solved_to_optimality else "pricing MILP, HiGHS dual bound at time limit"
        self.certificate = dataclasses.replace(cert, lower_bound=float(lb), bound_method=method)
        self.info.update(b.as_info())

    # ------------------------------------------------------------------ pruning
    def prune(self, X, *, rtol: float = 1e-10) -> WedgeNetwork:
        """An equivalent network with at most ``n`` neurons when ``self`` is optimal, and at most
        ``n + 1`` for any network (Zeger-Pilanci; docs/conventions.md#g8).

        While the activation columns ``h_j`` (scaled by ``|a_j|``) together with the row of
        ones are linearly dependent, move along a null vector: the outputs and the penalty
        ``sum_j |a_j| ||w_j||`` stay fixed while one neuron's weight reaches zero.  At an
        optimum every null vector of the outputs alone already keeps the penalty (otherwise the
        penalty could decrease), so the rank, and the count, is at most ``n``.  Depth-2
        networks with scalar output only.
        """
        rtol = check_nonneg_float("rtol", rtol)
        if rtol >= 1e-3:
            raise ValueError(f"rtol must be a small relative tolerance (< 1e-3); got {rtol!r}: a larger one "
                             "drops neurons that change the outputs")
        if self.depth != 2 or self.W2.ndim != 1:
            raise ValueError("prune supports depth-2 networks with scalar output")
        st = self.standardization
        if st is not None:  # prune in the units the penalty is measured in, then map back
            W1s, b1s, W2s, b2s = st.standardized_weights(self)
            fitted = dataclasses.replace(self, W1=W1s, b1=b1s, W2=W2s, b2=b2s, standardization=None,
                                         info=dict(self.info))
            return st.to_original_units(fitted.prune(st.transform_X(as_float_array("X", X, ndim=2)), rtol=rtol))
        H = self.hidden(X)
        p = 1 if self.reg == "l1" else 2
        wnorm = row_norms(self.W1, p)
        # output a_j h_j = sign(a_j) c_j (h_j / ||w_j||) with Lasso magnitude c_j = |a_j| ||w_j||
        unit = H * np.sign(self.W2) / np.where(wnorm > 0, wnorm, 1.0)
        c = np.abs(self.W2) * wnorm
        keep, c = caratheodory_reduce(unit, c, rank_rtol=rtol, drop_rtol=rtol)
        # rebuild balanced neurons with the new magnitudes c_j
        Wu = self.W1[keep] / wnorm[keep, None]
        bu = self.b1[keep] / wnorm[keep]
        g = np.sqrt(c[keep])
        net = WedgeNetwork(W1=Wu * g[:, None], b1=bu * g, W2=np.sign(self.W2[keep]) * g, b2=self.b2,
                           outer_sign=self.outer_sign[keep], thresholds=self.thresholds[keep], depth=2,
                           reg=self.reg, lam=self.lam, loss=self.loss, bias=self.bias,
                           provenance=[self.provenance[i] for i in keep], info=dict(self.info),
                           certificate=self.certificate, classes=self.classes, feature_names=self.feature_names,
                           standardization=self.standardization)
        net.info["pruned_from"] = self.n_neurons
        return net

    # ------------------------------------------------------------------ inspection (wedgenet.inspect)
    def provenance_table(self, X=None, *, as_frame: bool | None = None):
        """One row per neuron: samples, kinds, expression, ``a``, breakline, training activation count.

        See :func:`wedgenet.inspect.provenance_table`.
        """
        from .inspect import provenance_table

        return provenance_table(self, X, as_frame=as_frame)

    def sample_influence(self, n_samples: int | None = None, *, as_frame: bool | None = None):
        """Per training sample: the neurons it defines and their total ``|a|``.

        See :func:`wedgenet.inspect.sample_influence`.
        """
        from .inspect import sample_influence

        return sample_influence(self, n_samples, as_frame=as_frame)

    def explain(self, x, *, all_neurons: bool = False):
        """Active neurons at ``x``, their signed distances, samples and contributions.

        See :func:`wedgenet.inspect.explain`.
        """
        from .inspect import explain

        return explain(self, x, all_neurons=all_neurons)

    # ------------------------------------------------------------------ display
    def summary(self, max_rows: int = 20) -> str:
        """A table of neurons with their provenance, and the certificate."""
        max_rows = check_positive_int("max_rows", max_rows, minimum=0)
        i = self.info
        verdict = self.certificate.verdict() if self.certificate is not None else "no certificate"
        from ._text import shorten_expression, shorten_samples

        head = [
            f"WedgeNetwork: {self.n_neurons} neurons, depth {self.depth}, reg={self.reg}, loss={self.loss}, "
            f"lam={self.lam:g}, bias={self.bias} ({i.get('theorem', '?')})",
            f"certificate: duality gap {self.duality_gap:.3g} (relative {self.relative_gap:.3g}), "
            f"max dual violation {self.max_violation:.6f} over "
            f"{self.certificate.n_columns_priced if self.certificate else 0:,} columns; " + verdict,
            f"{'#':>3}  {'a':>10}  {'samples':<16} expression",
        ]
        for j, rec in enumerate(self.provenance[:max_rows]):
            a = self.W2[j]
            a_s = f"{a:+10.4g}" if np.ndim(a) == 0 else f"{np.linalg.norm(a):10.4g}"
            head.append(f"{j:>3}  {a_s}  {shorten_samples(rec['samples']):<16} {shorten_expression(rec['expression'])}")
        if self.n_neurons > max_rows:
            head.append(f"  ... {self.n_neurons - max_rows} more neurons")
        return "\n".join(head)

    def breaklines(self) -> list[str]:
        """Each neuron's hyperplane ``w . x + b = 0`` with the feature names (:meth:`Neuron.breakline`)."""
        return [nr.breakline(self.feature_names) for nr in self.neurons]

    def __repr__(self) -> str:
        return (f"WedgeNetwork(n_neurons={self.n_neurons}, depth={self.depth}, reg={self.reg!r}, "
                f"loss={self.loss!r}, lam={self.lam:g}, duality_gap={self.info.get('duality_gap', float('nan')):.3g})")

    # ------------------------------------------------------------------ torch
    def to_torch(self):
        """An ``nn.Sequential`` with the same predictions (``decision_function``); needs the torch extra."""
        try:
            import torch
            from torch import nn
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("to_torch needs PyTorch: pip install 'wedgenet[torch]'") from exc
        m, d = self.W1.shape
        c = 1 if self.W2.ndim == 1 else self.W2.shape[1]
        dt = torch.float64
        first = nn.Linear(d, m, dtype=dt)
        with torch.no_grad():
            first.weight.copy_(torch.from_numpy(self.W1))
            first.bias.copy_(torch.from_numpy(self.b1))
        layers: list = [first, nn.ReLU()]
        if self.depth == 3:
            mid = nn.Linear(m, m, dtype=dt)
            with torch.no_grad():
                mid.weight.copy_(torch.diag(torch.from_numpy(self.outer_sign)))
                mid.bias.copy_(torch.from_numpy(-self.outer_sign * self.thresholds))
            layers += [mid, nn.ReLU()]
        last = nn.Linear(m, c, dtype=dt)
        with torch.no_grad():
            last.weight.copy_(torch.from_numpy(np.asarray(self.W2, dtype=np.float64).reshape(m, c).T.copy()))
            last.bias.copy_(torch.from_numpy(np.atleast_1d(np.asarray(self.b2, dtype=np.float64)).copy()))
        layers.append(last)
        if c == 1:
            layers.append(nn.Flatten(0))
        return nn.Sequential(*layers)

    # ------------------------------------------------------------------ persistence
    def save(self, path) -> Path:
        """Write the network as JSON (arrays as base64 float64); the round trip is exact."""
        if not isinstance(path, (str, os.PathLike)):
            raise ValueError(f"path must be a file name (str or os.PathLike); got {type(path).__name__}")
        path = Path(path)
        _check_finite_for_save(self)
        doc = {
            "format": FORMAT, "version": FORMAT_VERSION,
            "params": {"depth": self.depth, "reg": self.reg, "lam": self.lam, "loss": self.loss, "bias": self.bias},
            "arrays": {k: _encode(np.asarray(getattr(self, k), dtype=np.float64))
                       for k in ("W1", "b1", "W2", "b2", "outer_sign", "thresholds")},
            "provenance": self.provenance,
            "info": self.info,
            "certificate": None if self.certificate is None else _encode_floats(self.certificate.to_dict()),
            "classes": None if self.classes is None else list(self.classes),
            "feature_names": None if self.feature_names is None else list(self.feature_names),
            "standardization": None if self.standardization is None else self.standardization.to_dict(),
        }
        path.write_text(json.dumps(doc, indent=1, allow_nan=False))
        return path


def _encode_floats(d: dict) -> dict:
    """Non-finite floats as the strings "inf", "-inf", "nan" (JSON has no such numbers)."""
    return {k: (repr(v) if isinstance(v, float) and not math.isfinite(v) else v) for k, v in d.items()}


def _check_finite_for_save(net) -> None:
    """JSON has no inf/NaN: name the first non-finite parameter, info entry or array (a tiny
    ``lam`` such as 5e-324 makes ratios like ``lam_max / lam`` infinite)."""
    values = [("lam", net.lam)] + [(f"info[{k!r}]", v) for k, v in net.info.items()]
    for name, v in values:
        if isinstance(v, (float, np.floating)) and not math.isfinite(v):
            raise ValueError(f"save: {name} is {v}, which a model file cannot store (JSON has no inf/NaN); "
                             "refit with a larger lam or drop the entry")
    for k in ("W1", "b1", "W2", "b2", "outer_sign", "thresholds"):
        if not np.all(np.isfinite(np.asarray(getattr(net, k), dtype=np.float64))):
            raise ValueError(f"save: array {k} contains NaN or infinite values, which a model file cannot store")


def _encode(a: np.ndarray) -> dict:
    return {"dtype": "float64", "shape": list(a.shape),
            "data": base64.b64encode(np.ascontiguousarray(a, dtype="<f8").tobytes()).decode("ascii")}


def _decode(name: str, obj: Any) -> np.ndarray:
    if not isinstance(obj, dict) or set(obj) != {"dtype", "shape", "data"}:
        raise ValueError(f"model file: array {name!r} must be an object with dtype, shape, data")
    if obj["dtype"] != "float64":
        raise ValueError(f"model file: array {name!r} has unsupported dtype {_brief(obj['dtype'])}")
    shape = obj["shape"]
    if not isinstance(shape, list) or len(shape) > 2 or not all(
            isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= 10**9 for s in shape):
        raise ValueError(f"model file: array {name!r} has an invalid shape {_brief(shape)}")
    if not isinstance(obj["data"], str):
        raise ValueError(f"model file: array {name!r} data must be a base64 string")
    try:
        raw = base64.b64decode(obj["data"].encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise ValueError(f"model file: array {name!r} is not valid base64 ({exc})") from None
    if len(raw) != 8 * math.prod(shape):
        raise ValueError(f"model file: array {name!r} has {len(raw)} bytes, expected {8 * math.prod(shape)}")
    arr = np.frombuffer(raw, dtype="<f8").reshape(shape).astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"model file: array {name!r} contains NaN or infinite values")
    return arr


def _encode_targets(loss, y, f: np.ndarray, classes=None) -> np.ndarray:
    """Targets in the loss's encoding (one-hot for softmax labels), checked against the outputs
    ``f``: ``y`` must have one row per sample and the network's output columns."""
    n = f.shape[0]
    if classes is None and loss.labels == "classes" and np.ndim(y) == 1:
        classes = tuple(range(f.shape[1]))
    ya, _ = loss.encode_targets(y, n, classes)
    if f.ndim == 1 and ya.shape == (n, 1):
        ya = ya[:, 0]
    if ya.shape != f.shape:
        raise ValueError(f"y must have shape {f.shape} to match the network's outputs on X; got {ya.shape}")
    return ya


_PARAM_TYPES = {"depth": int, "reg": str, "lam": float, "loss": str, "bias": bool}
_DOC_KEYS = {"format", "version", "params", "arrays", "provenance", "info"}
_DOC_KEYS_V2 = _DOC_KEYS | {"certificate", "classes", "feature_names", "standardization"}


def load(path) -> WedgeNetwork:
    """Read a network written by :meth:`WedgeNetwork.save`.

    The file is parsed as JSON and validated field by field; a malformed or hostile file raises
    ``ValueError`` naming what is wrong, and nothing in it is executed.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a file name (str or os.PathLike); got {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"model file {str(path)!r} is a directory")
    if not path.is_file():
        raise ValueError(f"model file {str(path)!r} does not exist")
    if path.stat().st_size > 2**31:
        raise ValueError(f"model file {str(path)!r} is larger than 2 GiB")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, NaN, int too long
        raise ValueError(f"model file {str(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"model file {str(path)!r} is not a wedgenet network (format must be {FORMAT!r})")
    version = doc.get("version")
    if type(version) is not int or version not in READABLE_VERSIONS:  # bool and float 1.0 are not version 1
        raise ValueError(f"model file: unsupported version {_brief(version)} (readable: {READABLE_VERSIONS})")
    keys = _DOC_KEYS if version == 1 else _DOC_KEYS_V2
    if set(doc) != keys:
        raise ValueError(f"model file: the document must have exactly the keys {sorted(keys)}; "
                         f"got {sorted(doc)}")
    params = doc.get("params")
    if not isinstance(params, dict) or set(params) != set(_PARAM_TYPES):
        raise ValueError(f"model file: params must have exactly the keys {sorted(_PARAM_TYPES)}")
    for k, typ in _PARAM_TYPES.items():
        if not _json_is(params[k], typ):
            raise ValueError(f"model file: params.{k} must be {typ.__name__}; got {_brief(params[k])}")
    if params["depth"] not in (2, 3) or params["reg"] not in ("l1", "l2") or params["loss"] not in LOSSES \
            or not (params["lam"] > 0 and math.isfinite(params["lam"])):
        raise ValueError(f"model file: invalid params {_brief(params)}")
    arrays = doc.get("arrays")
    names = ("W1", "b1", "W2", "b2", "outer_sign", "thresholds")
    if not isinstance(arrays, dict) or set(arrays) != set(names):
        raise ValueError(f"model file: arrays must have exactly the keys {list(names)}")
    A = {k: _decode(k, arrays[k]) for k in names}
    m = A["W1"].shape[0] if A["W1"].ndim == 2 else -1
    if m < 0 or A["b1"].shape != (m,) or A["W2"].shape[:1] != (m,) or A["outer_sign"].shape != (m,) \
            or A["thresholds"].shape != (m,) or A["b2"].shape != A["W2"].shape[1:]:
        raise ValueError("model file: array shapes are inconsistent "
                         + ", ".join(f"{k}{tuple(v.shape)}" for k, v in A.items()))
    prov = doc.get("provenance")
    if not isinstance(prov, list) or len(prov) != m:
        raise ValueError(f"model file: provenance must be a list of {m} records")
    for rec in prov:
        _check_record(rec)
    info = doc.get("info", {})
    if not isinstance(info, dict) or not all(isinstance(k, str) and isinstance(v, (str, int, float, bool))
                                             for k, v in info.items()):
        raise ValueError("model file: info must map names to plain numbers, strings or booleans")
    _check_info(info, prov)
    W2, loss = A["W2"], params["loss"]
    lo = get_loss(loss)
    if (lo.labels == "classes" and W2.ndim != 2) or (lo.labels == "binary" and W2.ndim != 1):
        raise ValueError(f"model file: loss={loss!r} needs {'an (m, c)' if lo.labels == 'classes' else 'a 1-D'} "
                         f"output weight array W2; got shape {W2.shape}")
    depth3 = params["depth"] == 3
    if (depth3 and not np.all(np.abs(A["outer_sign"]) == 1)) or (not depth3 and np.any(A["outer_sign"] != 0)):
        raise ValueError("model file: outer_sign must be +-1 for depth 3 and 0 for depth 2")
    b2 = float(A["b2"]) if A["b2"].ndim == 0 else A["b2"]
    d = A["W1"].shape[1]
    if version == 1:
        cert, classes, names, st = _certificate_v1(info), None, None, None
    else:
        cert = None if doc["certificate"] is None else _load_certificate(doc["certificate"])
        classes = _load_labels(doc["classes"], lo, W2)
        names = _load_names(doc["feature_names"], d)
        st = None if doc["standardization"] is None else Standardization.from_dict(doc["standardization"], d)
    return WedgeNetwork(W1=A["W1"], b1=A["b1"], W2=A["W2"], b2=b2, outer_sign=A["outer_sign"],
                        thresholds=A["thresholds"], depth=params["depth"], reg=params["reg"],
                        lam=float(params["lam"]), loss=params["loss"], bias=params["bias"], provenance=prov, info=info,
                        certificate=cert, classes=classes, feature_names=names, standardization=st)


def _certificate_v1(info: dict) -> Certificate | None:
    """The certificate of a version-1 file, from its flattened ``info`` entries.

    Version 1 had no scope: a file saying ``sampled`` (and not certified over every candidate)
    gets the ``"sampled"`` scope, so an old sampled fit is no longer called globally optimal.
    """
    need = ("primal", "dual", "duality_gap", "relative_gap", "max_violation")
    if not all(k in info for k in need):
        return None
    everything = not info.get("sampled", False) or info.get("certificate_scope") == "all candidates"
    return Certificate(primal=float(info["primal"]), dual=float(info["dual"]), gap=float(info["duality_gap"]),
                       relative_gap=float(info["relative_gap"]), max_violation=float(info["max_violation"]),
                       n_columns_priced=int(info.get("n_columns", 0)),
                       scope="all_candidates" if everything else "sampled", exact=bool(info.get("exact", False)),
                       n_candidates_total=info.get("n_candidates_total"))


_CERT_TYPES = {"primal": float, "dual": float, "gap": float, "relative_gap": float, "max_violation": float,
               "n_columns_priced": int, "scope": str, "exact": bool, "n_candidates_total": int,
               "lower_bound": float, "bound_method": str, "clock_stopped": bool}


def _load_certificate(d: Any) -> Certificate:
    if not isinstance(d, dict) or not set(d) <= set(_CERT_TYPES) or not {"primal", "dual", "gap"} <= set(d):
        raise ValueError(f"model file: certificate must be an object with keys among {sorted(_CERT_TYPES)}")
    out = {}
    for k, v in d.items():
        typ = _CERT_TYPES[k]
        if v is None and k in ("n_candidates_total", "lower_bound", "bound_method"):
            out[k] = None
            continue
        if typ is float and isinstance(v, str) and v in ("inf", "-inf", "nan"):
            v = float(v)
        if not _json_is(v, typ):
            raise ValueError(f"model file: certificate.{k} must be {typ.__name__}; got {_brief(v)}")
        out[k] = float(v) if typ is float else v
    if out.get("scope", "dictionary") not in SCOPES:
        raise ValueError(f"model file: certificate.scope must be one of {SCOPES}")
    if "bound_method" in out and out["bound_method"] is not None:
        out["bound_method"] = _printable(out["bound_method"])
    return Certificate.from_dict(out)


def _brief(v: Any, limit: int = 80) -> str:
    """``repr(v)`` for an error message: printable, and cut to ``limit`` characters (a model file can
    hold a 20,000-character string where a number belongs; messages stay one short line)."""
    r = _printable(repr(v), limit + 1)
    return r if len(r) <= limit else f"{r[:limit]}... ({type(v).__name__})"


def _printable(text: str, limit: int = 500) -> str:
    """``text`` without control characters (no terminal escapes from a file), at most ``limit`` long."""
    return "".join(ch if ch.isprintable() else "?" for ch in text[:limit])


def _load_labels(v: Any, lo, W2: np.ndarray) -> tuple | None:
    if v is None:
        return None
    if not isinstance(v, list) or not all(_json_is(c, str) or _json_is(c, float) or isinstance(c, bool) for c in v):
        raise ValueError("model file: classes must be a list of strings or numbers")
    n_out = 2 if lo.labels == "binary" else (W2.shape[1] if W2.ndim == 2 else -1)  # "real": no classes
    if lo.labels == "real" or len(v) != n_out or len(set(map(str, v))) != len(v):
        raise ValueError("model file: classes do not match the loss and the output weights")
    return tuple(_printable(c) if isinstance(c, str) else c for c in v)


def _load_names(v: Any, d: int) -> tuple | None:
    if v is None:
        return None
    if not isinstance(v, list) or len(v) != d or not all(isinstance(c, str) for c in v):
        raise ValueError(f"model file: feature_names must be a list of {d} strings")
    return tuple(_printable(c, 200) for c in v)


#: the largest training-set size a model file may claim, and the bound on its sample indices
#: (``sample_influence`` makes one row per sample and checks that memory before building them)
MAX_TRAIN_ROWS = 10**8

#: types of the info entries that methods read (others are free-form)
_INFO_TYPES = {"duality_gap": float, "relative_gap": float, "max_violation": float, "primal": float, "dual": float,
               "exact": bool, "converged": bool, "sampled": bool, "n_columns": int, "n_iter": int, "n_train": int,
               "n_candidates": int, "n_candidates_total": int, "theorem": str, "approximation": str, "solver": str}


def _json_is(v: Any, typ: type) -> bool:
    """A parsed JSON value of type ``typ``: booleans are not numbers, integers are floats."""
    if typ is bool:
        return isinstance(v, bool)
    if isinstance(v, bool):
        return False
    return isinstance(v, typ) or (typ is float and isinstance(v, int))


def _check_info(info: dict, prov: list) -> None:
    for k, typ in _INFO_TYPES.items():
        if k not in info:
            continue
        v = info[k]
        if not _json_is(v, typ):
            raise ValueError(f"model file: info.{k} must be {typ.__name__}; got {_brief(v)}")
        if typ is int and v < 0:
            raise ValueError(f"model file: info.{k} must be >= 0; got {v}")
    for k, v in info.items():
        _check_text(k, "info key")
        if isinstance(v, str):
            _check_text(v, f"info.{k}")
    largest = max((max(rec["samples"]) for rec in prov if rec["samples"]), default=-1)
    if largest >= MAX_TRAIN_ROWS:
        raise ValueError(f"model file: provenance sample index {largest} must be below {MAX_TRAIN_ROWS:,}")
    if "n_train" in info:
        if not largest < info["n_train"] <= MAX_TRAIN_ROWS:
            raise ValueError(f"model file: info.n_train={info['n_train']} must exceed every sample index "
                             f"({largest}) and be at most {MAX_TRAIN_ROWS:,}")


def _reject_constant(name: str):
    raise ValueError(f"model file contains the non-JSON constant {name}")


def _check_record(rec: Any) -> None:
    keys = {"column": int, "samples": list, "kinds": list, "expression": str, "theorem": str, "orientation": int}
    optional = {"n_active": int}  # training activation count (wedgenet.inspect); absent in older files
    if not isinstance(rec, dict) or not set(keys) <= set(rec) <= set(keys) | set(optional):
        raise ValueError(f"model file: each provenance record must have exactly the keys {sorted(keys)} "
                         f"(and optionally {sorted(optional)})")
    for k, typ in {**keys, **optional}.items():
        if k in rec and (not isinstance(rec[k], typ) or isinstance(rec[k], bool)):
            raise ValueError(f"model file: provenance field {k!r} must be {typ.__name__}")
    if rec.get("n_active", 0) < 0:
        raise ValueError("model file: provenance field 'n_active' must be >= 0")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in rec["samples"]):
        raise ValueError("model file: provenance samples must be non-negative integers")
    if not all(isinstance(s, str) for s in rec["kinds"]):
        raise ValueError("model file: provenance kinds must be strings")
    for k in ("expression", "theorem"):
        _check_text(rec[k], f"provenance field {k!r}")
    for s in rec["kinds"]:
        _check_text(s, "provenance kinds")


#: longest string a model file may hold in one field (expressions of deep networks stay far below)
MAX_TEXT = 10_000


def _check_text(s: str, where: str) -> None:
    """Refuse control and format characters (ANSI escape codes, newlines, bidi overrides) and
    overlong text: loaded strings are printed by ``summary()`` and the inspection tables."""
    if len(s) > MAX_TEXT:
        raise ValueError(f"model file: {where} is longer than {MAX_TEXT:,} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in s):
        raise ValueError(f"model file: {where} contains control characters (e.g. terminal escape codes)")
