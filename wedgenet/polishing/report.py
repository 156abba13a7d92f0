"""What polishing did: per neuron, per layer, and for the whole model."""

from __future__ import annotations

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
    rule: str = "nearest"
    reason: str = ""


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
    rule: list | None = field(default=None, repr=False)      # candidate rule per neuron ("trained": kept unpolished)
    reasons: dict = field(default_factory=dict, repr=False)  # neuron -> why it was kept unpolished
    price_loss: np.ndarray | None = field(default=None, repr=False)  # estimated cost of the chosen snap
    union: dict | None = field(default=None, repr=False)     # certificate of the union Lasso over all candidates
    rounds_kept: int = 0                                     # re-snap rounds that lowered the objective

    def __post_init__(self) -> None:
        if self.polished is None:
            self.polished = np.ones(self.angle.shape[0], dtype=bool)
        if self.rule is None:
            self.rule = ["nearest"] * self.angle.shape[0]

    @property
    def unpolished(self) -> list[int]:
        """Neurons kept with their trained weights (``reasons`` says why)."""
        return [int(j) for j in np.flatnonzero(~self.polished)]

    @property
    def sample_defined(self) -> float:
        """Fraction of the layer's neurons that are cross products of training samples."""
        return float(np.mean(self.polished)) if self.n_neurons else 1.0

    @property
    def n_neurons(self) -> int:
        return int(self.angle.shape[0])

    def locations(self, j: int) -> tuple[tuple[int, int, int], ...] | None:
        """``(image, row, col)`` of the defining patches of neuron ``j`` (Conv2d layers)."""
        if self.grid is None or not self.polished[j]:
            return None
        L = self.grid[0] * self.grid[1]
        return tuple((int(s // L), int((s % L) // self.grid[1]), int(s % self.grid[1])) for s in self.samples[j])

    @property
    def neurons(self) -> list[NeuronReport]:
        return [NeuronReport(layer=self.layer, neuron=j,
                             samples=tuple(int(s) for s in self.samples[j]) if self.polished[j] else (),
                             angle=float(self.angle[j]), sign_changes=int(self.sign_changes[j]),
                             max_distance=float(self.max_distance[j]), active=bool(self.active[j]),
                             polished=bool(self.polished[j]), locations=self.locations(j),
                             rule=str(self.rule[j]), reason=self.reasons.get(j, ""))
                for j in range(self.n_neurons)]


@dataclass
class PolishReport:
    """Returned by :func:`wedgenet.polish`.

    ``before`` / ``after`` / ``refit_unpolished`` hold ``objective`` (``loss + penalty``), ``loss``,
    ``penalty`` (``(lam/2) * norms``, in the objective's units), ``norms`` (the sum of squared
    neuron norms and output weights) and ``metric`` (MSE for ``squared``, accuracy otherwise) on
    the training set; ``validation`` the metric on ``X_val, y_val`` before and after.  ``kept`` is
    ``"objective"`` (the default), ``"polished"``, ``"union"``, ``"unpolished"`` (nothing polished,
    or ``keep="best"`` chose the refit of the trained network) or ``"trained"`` (the default could
    not meet its budget: the trained network, unchanged).  ``budget`` is the objective the default
    may not exceed, ``within_budget`` whether it held, ``unpolished`` the ``(layer, neuron,
    reason)`` of every neuron kept with its trained weights, ``notes`` what could not be checked.
    ``refit_unpolished`` is the same convex refit applied to the *unpolished* network: the
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
    validation: dict | None = None        # validation metric {"before", "after"} (with X_val, y_val)
    budget: float | None = None           # objective the default may not exceed: (1 + tolerance) * before
    tolerance: float | None = None
    notes: list = field(default_factory=list)
    rule: str = "objective"

    @property
    def unpolished(self) -> list[tuple[int, int, str]]:
        """``(layer, neuron, reason)`` of every neuron kept with its trained weights."""
        return [(lr.layer, j, lr.reasons.get(j, "")) for lr in self.layers for j in lr.unpolished]

    @property
    def sample_defined(self) -> float:
        """Fraction of the polished layers' neurons that are cross products of training samples."""
        tot = sum(lr.n_neurons for lr in self.layers)
        return float(sum(int(lr.polished.sum()) for lr in self.layers) / tot) if tot else 1.0

    @property
    def active_sample_defined(self) -> float:
        """Fraction of the neurons left active (nonzero) that are sample-defined."""
        act = sum(int(lr.active.sum()) for lr in self.layers)
        return float(sum(int((lr.active & lr.polished).sum()) for lr in self.layers) / act) if act else 1.0

    @property
    def within_budget(self) -> bool | None:
        """Training objective after <= the budget (``None`` when the objective is unknown)."""
        if self.budget is None or self.after is None or self.after.get("objective") is None:
            return None
        return bool(self.after["objective"] <= self.budget)

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
            if lr.union is not None:
                u = lr.union
                pruned = (f" (pruned to {u['n_columns_refit']}, certified over those)"
                          if u.get("n_columns_refit", u['n_columns']) < u['n_columns'] else "")
                climbed = f", {u['n_climb_blocks']} block(s) of climbed vertices" if u.get("n_climb_blocks") else ""
                weight = f", trained columns weighted {u['trained_weight']:g}" if "trained_weight" in u else ""
                out.append(f"  union Lasso over {u['n_columns']} candidate columns{pruned}{climbed}{weight}: objective "
                           f"{u['objective']:.8g}, relative gap {u['relative_gap']:.2g} ({u['solver']}), "
                           f"{u['n_active']} columns used")
            out.append(f"  {'#':>4} {'angle':>8} {'signs':>6} {'max dist':>10} {'active':>6} {'kept':>8} "
                       f"{'rule':>10}  samples")
            for j in range(min(lr.n_neurons, max_rows)):
                s = lr.samples[j]
                ss = ", ".join(str(int(v)) for v in s[:8]) + (", ..." if s.size > 8 else "")
                if not lr.polished[j]:
                    ss = "trained weights kept"
                out.append(f"  {j:>4} {lr.angle[j]:>8.3f} {int(lr.sign_changes[j]):>6} "
                           f"{lr.max_distance[j]:>10.3g} {'yes' if lr.active[j] else 'no':>6} "
                           f"{'polished' if lr.polished[j] else 'trained':>8} {lr.rule[j]:>10}  [{ss}]")
            if lr.n_neurons > max_rows:
                out.append(f"  ... {lr.n_neurons - max_rows} more neurons")
            for j in lr.unpolished:
                out.append(f"  neuron {j}: {lr.reasons.get(j, 'kept unpolished')}")
        if self.before is not None:
            out.append(f"model ({self.loss} loss, lam={self.lam if self.lam is not None else float('nan'):g}; "
                       f"objective = loss + penalty): "
                       f"{'objective':>14} {'loss':>14} {'penalty':>12} {'train ' + self.metric_name:>14}")
            rows = [("before", self.before), ("refit unpolished", self.refit_unpolished), ("after", self.after)]
            for name, r in rows:
                if r is None:
                    continue
                obj = r.get("objective")
                obj_s = f"{obj:>14.8g}" if obj is not None else f"{'-':>14}"
                pen = r.get("penalty")
                pen_s = f"{pen:>12.6g}" if pen is not None else f"{'-':>12}"
                out.append(f"  {name:<16} {obj_s} {r['loss']:>14.8g} {pen_s} {r['metric']:>14.4g}")
            if self.validation is not None:
                v = self.validation
                out.append(f"  validation {self.metric_name}: before {v['before']:.4g}, after {v['after']:.4g}")
            if self.before.get("objective") is not None and self.after is not None:
                ch = self.after["objective"] / self.before["objective"] - 1.0 if self.before["objective"] else 0.0
                verdict = "better" if ch < 0 else ("worse" if ch > 0 else "unchanged")
                line = f"  training objective {verdict}: {ch:+.3%} against the trained network"
                if self.budget is not None:
                    line += (f" (budget +{self.tolerance:.2%}: "
                             f"{'met' if self.within_budget else 'MISSED'})")
                out.append(line)
            tot = sum(lr.n_neurons for lr in self.layers)
            if tot:
                act = sum(int(lr.active.sum()) for lr in self.layers)
                act_sd = sum(int((lr.active & lr.polished).sum()) for lr in self.layers)
                out.append(f"  sample-defined neurons: {sum(int(lr.polished.sum()) for lr in self.layers)} of {tot} "
                           f"({self.sample_defined:.1%}), {act_sd} of the {act} active ones; "
                           f"kept unpolished: {len(self.unpolished)}")
            if self.refit is not None:
                c = self.refit
                out.append(f"  refit: {c['solver']}, relative duality gap {c['relative_gap']:.2g}, "
                           f"{c['n_active']} of {c['n_neurons']} neurons active")
            if self.kept != "polished":
                out.append(f"  kept: {self.kept}")
        out.extend(f"  note: {t}" for t in self.notes)
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()

    def summary(self, max_rows: int = 20) -> str:
        """The per-neuron table (first ``max_rows`` per layer), the objectives and what was kept, as text
        (like ``WedgeNetwork.summary()``; ``print(report.summary())`` shows it)."""
        return self.table(max_rows)
