"""Reading a trained network: which samples define which neurons, and why a prediction is what it is.

Three views of a :class:`~wedgenet.WedgeNetwork` (each also a method of the network):

* :func:`provenance_table` -- one row per neuron: its defining training samples, generator kinds
  and symbolic expression, its output weight, its breakline ``w . x + b = 0``, and how many
  training samples activate it;
* :func:`sample_influence` -- one row per training sample: the neurons it helps define and the
  total ``|a|`` of those neurons;
* :func:`explain` -- for one input ``x``: the active neurons, the signed distance of ``x`` to each
  neuron's breakline, the neuron's defining samples and its contribution ``a_j h_j(x)`` to the
  output, which add up (with the intercept) to ``net.decision_function(x)``.

Tables are :class:`pandas.DataFrame` objects when pandas is installed and ``as_frame`` is not
``False``; otherwise lists of plain ``dict`` records (one per row, the same keys).

**Training activation counts.**  A network does not keep its training data.  Instead, at fit time
(:meth:`WedgeNetwork.from_solution`) each neuron's record stores ``n_active``: the number of training
samples on which its last hidden unit is positive (see :func:`active_counts`: samples on the
breakline, such as the neuron's own defining samples, are not counted even when rounding puts them
a hair above it), counted from its dictionary column (balancing
rescales by a positive factor, so the count is that of the trained neuron; pruning keeps it).  It is
saved with the network.  Pass ``X`` to :func:`provenance_table` to count on other data instead (for
example a network loaded from a file written before the count existed, where it is otherwise
``None``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._linalg import group_norms, row_norms
from ._resources import check_allocation
from ._validation import as_float_array

__all__ = ["provenance_table", "sample_influence", "explain", "Explanation"]


# ------------------------------------------------------------------------------ helpers
def _check_as_frame(as_frame) -> bool:
    """``True`` for a DataFrame, ``False`` for records; ``None`` means DataFrame when pandas is present."""
    if as_frame is not None and not isinstance(as_frame, bool):
        raise ValueError(f"as_frame must be None, True or False; got {as_frame!r}")
    if as_frame is False:
        return False
    try:
        import pandas  # noqa: F401
    except ImportError as exc:
        if as_frame:
            raise ImportError("as_frame=True needs pandas: pip install pandas") from exc
        return False
    return True


def _table(rows: list[dict], columns: list[str], frame: bool):
    if not frame:
        return rows
    import pandas as pd

    return pd.DataFrame.from_records(rows, columns=columns)


def _output_magnitude(W2: np.ndarray) -> np.ndarray:
    """``|a_j|`` (scalar output) or ``||a_j||_2`` (vector output), per neuron."""
    return group_norms(W2)


def _output_value(a):
    return float(a) if np.ndim(a) == 0 else np.asarray(a, dtype=np.float64).copy()


def format_breakline(w, b: float, precision: int = 4) -> str:
    """The breakline ``w . x + b = 0`` as text, e.g. ``+0.7071 x0 - 0.7071 x1 + 0.1 = 0``."""
    w = np.asarray(w, dtype=np.float64).ravel()
    terms = [f"{'-' if v < 0 else '+'} {abs(v):.{precision}g} x{k}" for k, v in enumerate(w) if v != 0]
    if b != 0 or not terms:
        terms.append(f"{'-' if b < 0 else '+'} {abs(b):.{precision}g}")
    s = " ".join(terms)
    s = s[2:] if s.startswith("+ ") else "-" + s[2:]
    return f"{s} = 0"


ACTIVE_RTOL = 1e-10


def active_counts(H) -> np.ndarray:
    """Per column of the activations ``H`` (samples x neurons), how many entries are *active*.

    An entry is active when it exceeds ``ACTIVE_RTOL`` times the column's largest entry.  A neuron's
    defining samples lie on its breakline, where the activation is zero in exact arithmetic but
    rounding may leave ``1e-17``; the relative threshold counts them as inactive, identically for
    a dictionary column and for the balanced neuron (a positive multiple of it).
    """
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2:
        raise ValueError(f"H must be a 2-D array; got shape {H.shape}")
    if H.shape[0] == 0 or H.shape[1] == 0:
        return np.zeros(H.shape[1], dtype=np.int64)
    top = H.max(axis=0)
    return np.count_nonzero((H > ACTIVE_RTOL * top) & (H > 0), axis=0).astype(np.int64)


def training_activation_counts(net, X) -> np.ndarray:
    """How many rows of ``X`` activate each neuron (see :func:`active_counts`)."""
    return active_counts(net.hidden(X))


# ------------------------------------------------------------------------------ provenance table
PROVENANCE_COLUMNS = ["neuron", "samples", "kinds", "expression", "theorem", "orientation", "column",
                      "output_weight", "abs_output_weight", "weight", "bias", "breakline", "n_active"]


def provenance_table(net, X=None, *, as_frame: bool | None = None):
    """One row per neuron: provenance, output weight, breakline and training activation count.

    Parameters
    ----------
    net : WedgeNetwork
    X : optional (m, d) array.  When given, ``n_active`` counts the rows of ``X`` that activate
        each neuron; otherwise it is the training count stored at fit time (``None`` if the
        network has none, e.g. one built by hand).
    as_frame : ``None`` (default) for a pandas DataFrame when pandas is installed, else a list of
        dicts; ``True`` to require pandas; ``False`` for the list of dicts.

    Columns
    -------
    neuron : index ``j`` in the network.  samples : training-row indices that define the neuron.
    kinds : generator kinds (``sample``, ``difference``, ``basis``, ``anchor``, ``level``).
    expression : the neuron as a formula in its samples, e.g. ``dist+(x, Aff(x3, x17))``.
    theorem, orientation (+1/-1), column (the dictionary column it came from).
    output_weight : ``a_j`` (a float; an array for vector output).  abs_output_weight : ``|a_j|``
    (``||a_j||_2`` for vector output).  weight, bias : the (balanced) first-layer ``w_j``, ``b_j``.
    breakline : ``w_j . x + b_j = 0`` as text (for depth 3, the first-layer hyperplane; the
    second-layer unit ``(s (u - t))_+`` adds columns ``outer_sign`` and ``threshold``).
    n_active : number of training samples (or rows of ``X``) on which the neuron is positive.
    """
    frame = _check_as_frame(as_frame)
    counts = None
    if X is not None:
        Xa = as_float_array("X", X, ndim=2)
        if Xa.shape[1] != net.n_features:
            raise ValueError(f"X must have {net.n_features} features (the network's inputs); got {Xa.shape[1]}")
        counts = training_activation_counts(net, Xa)
    mags = _output_magnitude(net.W2)
    rows = []
    for j, rec in enumerate(net.provenance):
        n_active = int(counts[j]) if counts is not None else rec.get("n_active")
        row = {
            "neuron": j, "samples": list(rec["samples"]), "kinds": list(rec["kinds"]),
            "expression": rec["expression"], "theorem": rec["theorem"], "orientation": int(rec["orientation"]),
            "column": int(rec["column"]), "output_weight": _output_value(net.W2[j]),
            "abs_output_weight": float(mags[j]), "weight": np.asarray(net.W1[j], dtype=np.float64).copy(),
            "bias": float(net.b1[j]), "breakline": format_breakline(net.W1[j], float(net.b1[j])),
            "n_active": None if n_active is None else int(n_active),
        }
        if net.depth == 3:
            row["outer_sign"] = float(net.outer_sign[j])
            row["threshold"] = float(net.thresholds[j])
        rows.append(row)
    cols = PROVENANCE_COLUMNS + (["outer_sign", "threshold"] if net.depth == 3 else [])
    return _table(rows, cols, frame)


# ------------------------------------------------------------------------------ sample influence
INFLUENCE_COLUMNS = ["sample", "neurons", "n_neurons", "total_abs_output_weight"]

#: Python objects per row of the influence table (a dict, a list, boxed numbers; a DataFrame
#: copy), a conservative estimate for the size check made before any row is built
_BYTES_PER_INFLUENCE_ROW = 1000


def sample_influence(net, n_samples: int | None = None, *, as_frame: bool | None = None):
    """Per training sample: the neurons it helps define, and their total ``|a|``.

    A sample defines neuron ``j`` when it appears in ``net.provenance[j]["samples"]`` (as a
    generator, a difference, the anchor or the level sample); each neuron counts once per sample.

    Parameters
    ----------
    net : WedgeNetwork
    n_samples : number of training samples (rows ``0..n_samples-1``).  Default: the training size
        recorded at fit time (``net.info["n_train"]``), else one more than the largest sample index.
    as_frame : as in :func:`provenance_table`.

    Returns
    -------
    DataFrame or list of dict
        One row per sample ``i`` in ``0..n_samples-1`` (samples that define nothing have an empty
        ``neurons`` list and total 0) with the columns ``sample``, ``neurons`` (sorted neuron
        indices), ``n_neurons`` and ``total_abs_output_weight`` (the sum of ``|a_j|`` over those
        neurons; ``||a_j||_2`` for vector output).  The totals over all samples add up to
        ``sum_j |a_j| * len(samples_j)``.

    Raises
    ------
    ValueError
        (:class:`wedgenet._resources.AllocationError`, also a ``MemoryError``) when the table
        would not fit in the memory this process can still allocate; nothing is built then.
    """
    frame = _check_as_frame(as_frame)
    largest = max((max(rec["samples"]) for rec in net.provenance if rec["samples"]), default=-1)
    if n_samples is None:
        n_train = net.info.get("n_train") if isinstance(net.info, dict) else None
        n_samples = int(n_train) if isinstance(n_train, (int, np.integer)) and not isinstance(n_train, bool) \
            else largest + 1
    elif isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 0:
        raise ValueError(f"n_samples must be a non-negative integer; got {n_samples!r}")
    n_samples = int(n_samples)
    if largest >= n_samples:
        raise ValueError(f"n_samples={n_samples} is too small: a neuron is defined by sample {largest}")
    check_allocation(n_samples * _BYTES_PER_INFLUENCE_ROW, f"sample_influence: {n_samples:,} rows")
    mags = _output_magnitude(net.W2)
    neurons: list[list[int]] = [[] for _ in range(n_samples)]
    for j, rec in enumerate(net.provenance):
        for i in sorted(set(int(s) for s in rec["samples"])):
            neurons[i].append(j)
    rows = [{"sample": i, "neurons": nj, "n_neurons": len(nj),
             "total_abs_output_weight": float(sum(mags[j] for j in nj))} for i, nj in enumerate(neurons)]
    return _table(rows, INFLUENCE_COLUMNS, frame)


# ------------------------------------------------------------------------------ explain
EXPLAIN_COLUMNS = ["neuron", "active", "pre_activation", "signed_distance", "activation", "output_weight",
                   "contribution", "samples", "expression"]


@dataclass
class Explanation:
    """Why ``net`` gives ``output`` at ``x``: ``output = intercept + sum of the rows' contributions``.

    Attributes
    ----------
    x : (d,) the input.  output : ``net.decision_function(x)`` (float, or (c,) for vector output).
    prediction : ``net.predict(x)`` (the sign / class for classifiers).
    intercept : the output bias ``t``.
    rows : per neuron (only the active ones unless ``all_neurons=True``), records with
        ``neuron``, ``active``, ``pre_activation`` ``w_j . x + b_j``, ``signed_distance``
        ``(w_j . x + b_j) / ||w_j||_2`` (the Euclidean signed distance of ``x`` to the neuron's
        breakline; positive on its active side), ``activation`` ``h_j(x)``, ``output_weight``
        ``a_j``, ``contribution`` ``a_j h_j(x)``, ``samples`` and ``expression``.
        Sorted by decreasing ``|contribution|``.
    """

    x: np.ndarray
    output: Any
    prediction: Any
    intercept: Any
    rows: list[dict] = field(default_factory=list)

    @property
    def total_contribution(self):
        """Sum of the listed contributions (all of the active neurons)."""
        if not self.rows:
            return 0.0 if np.ndim(self.output) == 0 else np.zeros_like(self.output)
        s = np.sum([np.asarray(r["contribution"], dtype=np.float64) for r in self.rows], axis=0)
        return float(s) if np.ndim(s) == 0 else s

    def table(self, as_frame: bool | None = None):
        """The rows as a DataFrame (pandas installed) or the list of records."""
        return _table(self.rows, EXPLAIN_COLUMNS, _check_as_frame(as_frame))

    def __str__(self) -> str:
        def fmt(v):
            return f"{v:+.4g}" if np.ndim(v) == 0 else np.array2string(np.asarray(v), precision=4)

        n_act = sum(1 for r in self.rows if r["active"])
        lines = [f"f(x) = {fmt(self.output)} = intercept {fmt(self.intercept)} + contributions of {n_act} "
                 f"active neurons (prediction {fmt(self.prediction)})",
                 f"{'neuron':>6}  {'contribution':>12}  {'distance':>9}  {'samples':<14} expression"]
        for r in self.rows:
            c = r["contribution"]
            c_s = f"{c:+12.4g}" if np.ndim(c) == 0 else f"{np.linalg.norm(c):12.4g}"
            lines.append(f"{r['neuron']:>6}  {c_s}  {r['signed_distance']:+9.3g}  {str(r['samples']):<14} "
                         f"{r['expression']}")
        return "\n".join(lines)


def explain(net, x, *, all_neurons: bool = False) -> Explanation:
    """Explain the network's output at one input ``x`` (shape ``(d,)`` or ``(1, d)``).

    The active neurons (``h_j(x) > 0``) are listed with the signed distance of ``x`` to their
    breakline, their defining samples and their contribution ``a_j h_j(x)``;
    ``explanation.intercept + explanation.total_contribution == net.decision_function(x)``.
    With ``all_neurons=True`` the inactive neurons are listed too (contribution 0).
    """
    if not isinstance(all_neurons, bool):
        raise ValueError(f"all_neurons must be True or False; got {all_neurons!r}")
    xa = as_float_array("x", x)
    if xa.ndim == 2 and xa.shape[0] == 1:
        xa = xa[0]
    if xa.ndim != 1 or xa.shape[0] != net.n_features:
        raise ValueError(f"x must be one input of shape ({net.n_features},) or (1, {net.n_features}); "
                         f"got shape {np.shape(x)}")
    X1 = xa[None, :]
    pre = X1 @ net.W1.T + net.b1 if net.n_neurons else np.zeros((1, 0))
    h = net.hidden(X1)[0]
    pre = pre[0]
    wn2 = row_norms(net.W1) if net.n_neurons else np.zeros(0)
    rows = []
    for j, rec in enumerate(net.provenance):
        active = bool(h[j] > 0)
        if not (active or all_neurons):
            continue
        a = net.W2[j]
        contrib = a * h[j]
        rows.append({
            "neuron": j, "active": active, "pre_activation": float(pre[j]),
            "signed_distance": float(pre[j] / wn2[j]) if wn2[j] > 0 else 0.0,
            "activation": float(h[j]), "output_weight": _output_value(a),
            "contribution": _output_value(contrib), "samples": list(rec["samples"]),
            "expression": rec["expression"],
        })
    rows.sort(key=lambda r: (-float(np.linalg.norm(np.atleast_1d(r["contribution"]))), r["neuron"]))
    out = net.decision_function(X1)[0]
    pred = net.predict(X1)[0]
    pred = pred.item() if np.ndim(pred) == 0 else np.asarray(pred).copy()  # a class index stays an int
    return Explanation(x=xa.copy(), output=_output_value(out), prediction=pred,
                       intercept=_output_value(net.b2), rows=rows)
