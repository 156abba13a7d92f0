"""What polishing did: per neuron, per layer, and for the whole model."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import numpy as np

__all__ = ["NeuronReport", "LayerReport", "PolishReport"]


@dataclass(frozen=True)
class NeuronReport:
    """One polished neuron.

    ``samples`` are the indices of its ``r-1`` defining training samples (rows of ``X``; for a
    Conv2d layer, flat patch indices, with ``locations`` ``(image, row, col)`` of each patch).
    ``angle`` (degrees) is between the old and new neuron ``(w, b)``; ``sign_changes`` counts the
    training samples (patches) whose ReLU activity changed, not counting the defining samples,
    which lie on the new hyperplane.  ``max_distance`` is the largest distance of a defining
    sample to the old hyperplane.  ``active`` is False when the refit set the neuron to zero.
    """

    layer: int
    neuron: int
    samples: tuple[int, ...]
    angle: float
    sign_changes: int
    max_distance: float
    active: bool = True
    polished: bool = True
    locations: tuple[tuple[int, int, int], ...] | None = None


@dataclass
class LayerReport:
    """One polished layer; arrays run over its neurons.

    ``old_weights`` / ``new_weights`` are the layer's float64 ``(W, b)`` before and right after
    polishing, before the refit and the rebalancing (which only rescale neurons or zero them);
    ``b`` is ``None`` for a layer without bias.  :func:`wedgenet.plot.plot_polishing` draws them.
    """

    layer: int
    kind: str
    n_samples: int
    n_unique: int
    dim: int
    rank: int
    bias: bool
    samples: np.ndarray = field(repr=False)
    angle: np.ndarray = field(repr=False)
    sign_changes: np.ndarray = field(repr=False)
    max_distance: np.ndarray = field(repr=False)
    active: np.ndarray = field(repr=False)
    seconds: float = 0.0
    grid: tuple[int, int] | None = None    # Conv2d output grid (H_out, W_out)
    polished: np.ndarray | None = field(default=None, repr=False)  # slot holds a polished neuron (keep="union")
    old_weights: tuple | None = field(default=None, repr=False)  # float64 (W, b) of the layer before polishing
    new_weights: tuple | None = field(default=None, repr=False)  # ... right after polishing (before refit)

    def __post_init__(self) -> None:
        if self.polished is None:
            self.polished = np.ones(self.angle.shape[0], dtype=bool)

    @property
    def n_neurons(self) -> int:
        return int(self.angle.shape[0])

    def locations(self, j: int) -> tuple[tuple[int, int, int], ...] | None:
        """``(image, row, col)`` of the defining patches of neuron ``j`` (Conv2d layers)."""
        if self.grid is None:
            return None
        L = self.grid[0] * self.grid[1]
        return tuple((int(s // L), int((s % L) // self.grid[1]), int(s % self.grid[1])) for s in self.samples[j])

    @property
    def neurons(self) -> list[NeuronReport]:
        return [NeuronReport(layer=self.layer, neuron=j, samples=tuple(int(s) for s in self.samples[j]),
                             angle=float(self.angle[j]), sign_changes=int(self.sign_changes[j]),
                             max_distance=float(self.max_distance[j]), active=bool(self.active[j]),
                             polished=bool(self.polished[j]), locations=self.locations(j))
                for j in range(self.n_neurons)]


@dataclass
class PolishReport:
    """Returned by :func:`wedgenet.polish`.

    ``before`` / ``after`` / ``refit_unpolished`` hold ``objective`` (``L + (lam/2) * penalty``),
    ``loss``, ``penalty`` and ``metric`` (MSE for ``squared``, accuracy otherwise) on the training
    set.  ``refit_unpolished`` is the same convex refit applied to the *unpolished* network: the
    baseline that separates the effect of polishing from the effect of the refit.  ``refit``
    holds the certificate of the convex refit.  ``weights`` are the final float64 ``(W, b)`` of
    every weight layer (exact, before casting into the model's dtype).
    """

    layers: list[LayerReport]
    loss: str | None
    lam: float | None
    metric_name: str | None
    before: dict | None
    after: dict | None
    refit_unpolished: dict | None
    refit: dict | None
    kept: str
    weights: list = field(repr=False)
    seconds: dict = field(default_factory=dict)

    @property
    def neurons(self) -> list[NeuronReport]:
        return [nr for lr in self.layers for nr in lr.neurons]

    def table(self, max_rows: int = 20) -> str:
        out = []
        for lr in self.layers:
            nb = "with bias" if lr.bias else "no bias"
            out.append(f"layer {lr.layer} ({lr.kind}, {nb}): {lr.n_neurons} neurons, {lr.n_samples} samples "
                       f"({lr.n_unique} distinct), dim {lr.dim}, rank {lr.rank}; "
                       f"median angle {np.median(lr.angle):.3g} deg, "
                       f"sign changes {int(lr.sign_changes.sum())} "
                       f"({lr.sign_changes.sum() / max(lr.n_samples * lr.n_neurons, 1):.3%}), "
                       f"{int(lr.active.sum())} active after refit, "
                       f"{int((lr.active & lr.polished).sum())} of them polished; "
                       f"{lr.seconds:.3f} s")
            out.append(f"  {'#':>4} {'angle':>8} {'signs':>6} {'max dist':>10} {'active':>6} {'slot':>8}  samples")
            for j in range(min(lr.n_neurons, max_rows)):
                s = lr.samples[j]
                ss = ", ".join(str(int(v)) for v in s[:8]) + (", ..." if s.size > 8 else "")
                out.append(f"  {j:>4} {lr.angle[j]:>8.3f} {int(lr.sign_changes[j]):>6} "
                           f"{lr.max_distance[j]:>10.3g} {'yes' if lr.active[j] else 'no':>6} "
                           f"{'polished' if lr.polished[j] else 'old':>8}  [{ss}]")
            if lr.n_neurons > max_rows:
                out.append(f"  ... {lr.n_neurons - max_rows} more neurons")
        if self.before is not None:
            out.append(f"model ({self.loss} loss, lam={self.lam if self.lam is not None else float('nan'):g}): "
                       f"{'objective':>14} {'loss':>14} {'penalty':>12} {self.metric_name:>10}")
            rows = [("before", self.before), ("refit unpolished", self.refit_unpolished), ("after", self.after)]
            for name, r in rows:
                if r is None:
                    continue
                obj = r.get("objective")
                obj_s = f"{obj:>14.8g}" if obj is not None else f"{'-':>14}"
                out.append(f"  {name:<16} {obj_s} {r['loss']:>14.8g} {r['penalty']:>12.6g} {r['metric']:>10.4g}")
            if self.refit is not None:
                c = self.refit
                out.append(f"  refit: {c['solver']}, relative duality gap {c['relative_gap']:.2g}, "
                           f"{c['n_active']} of {c['n_neurons']} neurons active")
            if self.kept != "polished":
                out.append(f"  kept: {self.kept}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()

    def summary(self, max_rows: int = 20, file=None) -> None:
        """Print the per-neuron table (first ``max_rows`` per layer) and the model objectives."""
        print(self.table(max_rows), file=file or sys.stdout)
