"""Figures for papers: legend entries, feature names, top-k neurons, label placement, short expressions."""

from __future__ import annotations

import numpy as np
import pytest

from wedgenet._text import shorten_expression, shorten_samples
from wedgenet.network import Neuron, WedgeNetwork
from wedgenet.plot import label_positions, plot_decision_regions, top_neurons

pytest.importorskip("matplotlib")

LONG = ("Vol+(P(x - x3, " + ", ".join(f"x{i} - x3" for i in range(5, 32)) + ")) / ||"
        + " ^ ".join(f"(x{i} - x3)" for i in range(5, 32)) + "||_1")


def _net(W1, b1, W2, samples=None, expressions=None):
    W1 = np.asarray(W1, dtype=float)
    m = W1.shape[0]
    samples = samples or [[j] for j in range(m)]
    expressions = expressions or [f"neuron{j}" for j in range(m)]
    prov = [{"column": j, "samples": list(samples[j]), "kinds": ["difference"] * len(samples[j]),
             "expression": expressions[j], "theorem": "Thm 16", "orientation": 1} for j in range(m)]
    info = {"exact": True, "duality_gap": 0.0, "relative_gap": 0.0, "max_violation": 1.0}
    return WedgeNetwork(W1=W1, b1=np.asarray(b1, dtype=float), W2=np.asarray(W2, dtype=float), b2=0.0,
                        outer_sign=np.zeros(m), thresholds=np.zeros(m), depth=2, reg="l1", lam=0.1, loss="squared",
                        bias=True, provenance=prov, info=info)


X4 = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
Y4 = np.array([-1.0, 1.0, 1.0, -1.0])


def test_shorten_expression_keeps_ends_and_counts():
    assert len(LONG) > 300
    short = shorten_expression(LONG, 72)
    assert len(short) <= 72
    assert short.startswith("Vol+(P(x - x3, x5 - x3, ") and "x31 - x3" in short
    assert "…+25…" in short  # x5..x31 is 27 generators (plus x3 of the anchor): 25 left out
    assert shorten_expression("dist+(x, Aff(x1, x2))", 72) == "dist+(x, Aff(x1, x2))"
    cut = shorten_expression("y" * 100, 20)
    assert len(cut) == 20 and cut.endswith("…")
    with pytest.raises(ValueError, match="width"):
        shorten_expression(LONG, 3)
    assert shorten_samples(range(27)) == "[0, 1, 2, …+23…, 26]"
    assert shorten_samples([4, 9]) == "[4, 9]"


def test_neuron_formula_full_and_short():
    nrn = Neuron(weight=np.ones(2), bias=0.0, output_weight=1.0, samples=tuple(range(27)), kinds=("x",) * 27,
                 expression=LONG, theorem="Thm 16", orientation=1, column=0)
    assert nrn.formula(full=True) == LONG
    assert nrn.formula() == shorten_expression(LONG) and len(nrn.formula()) <= 72
    assert len(nrn.formula(width=40)) <= 40
    assert len(repr(nrn)) < 150


def test_legend_feature_names_and_highlight():
    net = _net([[1.0, 0.0], [0.0, 1.0]], [-0.2, 0.1], [1.0, -0.5], samples=[[0, 2], [1]],
               expressions=[LONG, "n1"])
    fig = plot_decision_regions(net, X4, Y4, resolution=30, highlight_neuron=0,
                                feature_names=["age", "income"], fontsize=12)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "age" and ax.get_ylabel() == "income"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "decision boundary f(x) = 0" in labels
    neuron = [lb for lb in labels if lb.startswith("neuron 0: ")]
    assert len(neuron) == 1 and len(neuron[0]) <= len("neuron 0: ") + 60 and "…" in neuron[0]
    assert "its defining samples (2)" in labels
    assert ax.get_legend().get_texts()[0].get_fontsize() == pytest.approx(0.85 * 12)
    with pytest.raises(ValueError, match="feature_names"):
        plot_decision_regions(net, X4, Y4, resolution=10, feature_names=["a"])
    with pytest.raises(ValueError, match="fontsize"):
        plot_decision_regions(net, X4, Y4, resolution=10, fontsize=0)


def test_top_k_draws_the_largest_output_weights():
    # three vertical lines x = 0.1, 0.3, 0.5 with |a| = 0.2, 3, 1
    net = _net([[1.0, 0.0]] * 3, [-0.1, -0.3, -0.5], [0.2, -3.0, 1.0])
    np.testing.assert_array_equal(top_neurons(net, 2), [1, 2])
    np.testing.assert_array_equal(top_neurons(net, None), [1, 2, 0])
    fig = plot_decision_regions(net, X4, Y4, resolution=20, top_k=2)
    xs = sorted(round(float(ln.get_xdata()[0]), 6) for ln in fig.axes[0].lines if ln.get_linestyle() == "-")
    assert xs == [0.3, 0.5]
    with pytest.raises(ValueError, match="top_k"):
        top_neurons(net, -1)


def test_labels_avoid_data_points():
    rng = np.random.default_rng(0)
    data = rng.uniform(-1, 1, size=(200, 2))
    pts = data[:5]
    box = (-1.1, 1.1, -1.1, 1.1)
    pos = label_positions(pts, data, box)
    naive = pts + 0.045 * 2.2 * np.array([1.0, 1.0]) / np.sqrt(2)  # always up-right

    def clearance(P):
        return np.min(np.linalg.norm(P[:, None, :] - data[None, :, :], axis=2), axis=1)

    assert np.all(clearance(pos) >= clearance(naive) - 1e-12)
    assert np.all((pos[:, 0] > box[0]) & (pos[:, 0] < box[1]) & (pos[:, 1] > box[2]) & (pos[:, 1] < box[3]))
    # a point in a corner gets its label inside the window
    corner = label_positions(np.array([[1.09, 1.09]]), data, box)
    assert corner[0, 0] < 1.1 and corner[0, 1] < 1.1
