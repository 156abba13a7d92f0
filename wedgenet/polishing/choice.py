"""Objective-aware choice among candidate snaps of every neuron (docs/polishing.md, "Default").

A neuron can be snapped onto several sample subsets (candidate *rules*, :data:`RULES`): the
paper's nearest samples, nearest with the spread rule at two strengths, nearest in angle, and
the vertices nearest in angle to the neuron among subsets of its nearest samples (a short local
search around the vertex the neuron lies nearest).
Every candidate is a cross product of training samples (a vertex of the hyperplane arrangement
of the samples, Theorems 4/10/11 of the paper), so any choice keeps the neuron sample-defined;
the choice only decides *which* vertex.

**Pricing against the residual (last hidden layer).**  As the working set prices a dictionary
column ``K_j`` by ``|K_j^T theta|`` against the dual point ``theta = -grad L``, a candidate
replacing neuron ``j`` is priced by the decrease of a quadratic model of the training objective
when the old neuron's contribution is removed and the unit candidate column ``u`` (its ReLU
activations divided by ``||w||_p``) is added with the best output weights ``z``:

    g = u^T (G - h * H_j a_j^T)            (c,)  G = dL/df, h = diag curvature, H_j a_j^T = old part
    q = mean_o sum_i h_io u_i^2
    price(u) = max(||g||_2 - lam, 0)^2 / (2 q)      (objective units)

(for the squared loss ``h = 1`` and the model is exact per neuron; ``lam ||z||_2`` is the
balanced penalty of a unit neuron, docs/conventions.md "Refit").  The same formula with the old
neuron's own column gives its price, and ``price(old) - price(candidate)`` estimates what the
snap costs.

**Imitation (earlier layers, conv layers, no targets).**  A candidate for neuron ``j`` is priced
by how much of the old activations ``H_j`` it reproduces with the best scale,
``(u^T H_j)^2 / ||u||^2`` (the same model with ``G = -H_j``, ``h = 1``, ``lam = 0``).
"""

from __future__ import annotations

import numpy as np

from .._linalg import row_norms
from .selection import LayerPolish, SampleSpace, snap, vertex_selections

__all__ = ["RULES", "candidate_snaps", "unit_activations", "residual_prices", "imitation_prices"]

#: candidate rules: (name, spread, order); "nearest" is the paper's rule
RULES: tuple[tuple[str, float, str], ...] = (
    ("nearest", 0.0, "distance"),
    ("spread 0.1", 0.1, "distance"),
    ("spread 0.3", 0.3, "distance"),
    ("angle", 0.1, "angle"),
)


#: above this many ``m * n_distinct * dim`` a layer is "large": only :data:`LARGE_RULES` are tried
LARGE_LAYER = 5e7
LARGE_RULES = RULES[1:2]


def candidate_snaps(sp: SampleSpace, W: np.ndarray, b: np.ndarray | None, *, p: int, normalize: bool,
                    rules: tuple | None = None, vertices: int = 3) -> list[tuple[str, LayerPolish]]:
    """One :func:`~wedgenet.polishing.selection.snap` per rule, on the shared sample space, and the
    ``vertices`` vertices nearest in angle among subsets of the nearest samples
    (:func:`~wedgenet.polishing.selection.vertex_selections`, rules ``"vertex 1"``, ...).  Large
    layers (``m * n_distinct * dim > LARGE_LAYER``) try :data:`LARGE_RULES` only, to stay within
    a few seconds (benchmarks/bench_polish.py)."""
    if rules is None:
        large = W.shape[0] * sp.Xu.shape[0] * sp.Xu.shape[1] > LARGE_LAYER
        rules = LARGE_RULES if large else RULES
    out = [(name, snap(sp, W, b, normalize=normalize, p=p, spread=spread, order=order))
           for name, spread, order in rules]
    if vertices:
        for t, sel in enumerate(vertex_selections(sp, W, b, top=vertices)):
            out.append((f"vertex {t + 1}", snap(sp, W, b, normalize=normalize, p=p, sel=sel)))
    return out


def unit_activations(S: np.ndarray, W: np.ndarray, b: np.ndarray | None, p: int) -> np.ndarray:
    """``relu(S w_j + b_j) / ||w_j||_p`` for every neuron, ``(n, m)`` (0 for a zero neuron).

    Computed on the unit-scaled rows so that no product overflows whatever the units of ``S``.
    """

    nrm = row_norms(W, p)
    f = np.where(nrm > 0, 1.0 / np.where(nrm > 0, nrm, 1.0), 0.0)
    Z = S @ (W * f[:, None]).T
    if b is not None:
        Z += b * f
    return np.maximum(Z, 0.0)


def residual_prices(U: np.ndarray, H_old: np.ndarray, A: np.ndarray, G: np.ndarray, h: np.ndarray,
                    lam: float) -> np.ndarray:
    """``price(u_j)`` for column ``j`` of ``U`` replacing neuron ``j`` (see the module docstring).

    ``U`` ``(n, m)`` unit candidate columns, ``H_old`` ``(n, m)`` the old neurons' activations
    (with their scale), ``A`` ``(c, m)`` output weights, ``G`` ``(n, c)`` the loss gradient at the
    current outputs, ``h`` ``(n, c)`` its diagonal curvature.  Returns ``(m,)``, objective units.
    """
    g = U.T @ G - ((U * H_old).T @ h) * A.T               # (m, c): u^T (G - h * H_j a_j^T)
    q = ((U * U).T @ h).mean(axis=1)                      # (m,)
    gn = row_norms(g)
    dec = np.maximum(gn - lam, 0.0) ** 2
    return np.where(q > 0, dec / (2.0 * np.where(q > 0, q, 1.0)), 0.0)


def imitation_prices(U: np.ndarray, H_old: np.ndarray) -> np.ndarray:
    """``(u_j^T H_j)^2 / ||u_j||^2``: the part of the old activations a scaled candidate reproduces."""
    num = np.einsum("ij,ij->j", U, H_old) ** 2
    den = np.einsum("ij,ij->j", U, U)
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
