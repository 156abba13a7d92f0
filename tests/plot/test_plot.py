"""Tests for wedgenet.plot: decision regions, clipped breaklines, highlighted provenance."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from wedgenet.network import WedgeNetwork
from wedgenet.plot import breakline_segment, plot_decision_regions

mpl = pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402


def _net(W1, b1, W2, b2=0.0, orientations=None, samples=None, loss="squared"):
    W1 = np.asarray(W1, dtype=float)
    m = W1.shape[0]
    orientations = orientations or [1] * m
    samples = samples or [[j] for j in range(m)]
    prov = [{"column": j, "samples": list(samples[j]), "kinds": ["difference", "anchor"],
             "expression": f"neuron{j}", "theorem": "Thm 16", "orientation": int(orientations[j])}
            for j in range(m)]
    info = {"exact": True, "duality_gap": 0.0, "relative_gap": 0.0, "max_violation": 1.0}
    return WedgeNetwork(W1=W1, b1=np.asarray(b1, dtype=float), W2=np.asarray(W2, dtype=float), b2=b2,
                        outer_sign=np.zeros(m), thresholds=np.zeros(m), depth=2, reg="l1", lam=0.1, loss=loss,
                        bias=True, provenance=prov, info=info)


X4 = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
Y4 = np.array([-1.0, 1.0, 1.0, -1.0])


# ------------------------------------------------------------------------------ geometry
def test_breakline_segment_clips_to_box():
    box = (-1.0, 1.0, -2.0, 2.0)
    seg = breakline_segment([1.0, 0.0], -0.5, box)  # x = 0.5
    np.testing.assert_allclose(sorted(seg[:, 1]), [-2.0, 2.0])
    np.testing.assert_allclose(seg[:, 0], [0.5, 0.5])
    seg = breakline_segment([1.0, -1.0], 0.0, box)  # y = x: clipped by x in [-1, 1]
    np.testing.assert_allclose(sorted(seg[:, 0]), [-1.0, 1.0])
    np.testing.assert_allclose(seg[:, 0], seg[:, 1])
    seg = breakline_segment([2.0, 1.0], -1.0, box)  # 2x + y = 1, arbitrary scale
    assert np.allclose(seg @ np.array([2.0, 1.0]) - 1.0, 0.0)
    assert np.all(seg[:, 0] >= -1 - 1e-12) and np.all(seg[:, 0] <= 1 + 1e-12)
    assert np.all(seg[:, 1] >= -2 - 1e-12) and np.all(seg[:, 1] <= 2 + 1e-12)
    assert breakline_segment([1.0, 0.0], -5.0, box) is None  # x = 5 misses the box
    assert breakline_segment([0.0, 0.0], 1.0, box) is None  # no line


# ------------------------------------------------------------------------------ figures
def test_returns_figure_with_breaklines_by_orientation():
    # x = 0.2 (orientation +1), y = -0.3 (orientation -1), x = 9 (outside the window)
    net = _net([[1.0, 0.0], [0.0, -1.0], [1.0, 0.0]], [-0.2, -0.3, -9.0], [1.0, -0.5, 0.1],
               orientations=[1, -1, 1])
    fig = plot_decision_regions(net, X4, Y4, resolution=40)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    solid = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(solid) == 1 and len(dashed) == 1  # the off-window line is not drawn
    np.testing.assert_allclose(solid[0].get_xdata(), [0.2, 0.2])
    np.testing.assert_allclose(dashed[0].get_ydata(), [-0.3, -0.3])
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    assert np.isclose(x0, -1.2) and np.isclose(x1, 1.2) and np.isclose(y0, -1.2) and np.isclose(y1, 1.2)
    np.testing.assert_allclose(sorted(solid[0].get_ydata()), [y0, y1])  # clipped to the axes
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "breakline, orientation +1" in labels and "breakline, orientation -1" in labels
    assert "decision boundary f(x) = 0" in labels
    assert len(ax.collections) >= 2  # filled contour and the scatter


def test_without_breaklines_and_without_y():
    net = _net([[1.0, 0.0]], [-0.2], [1.0])
    fig = plot_decision_regions(net, X4, resolution=20, show_breaklines=False)
    assert len(fig.axes[0].lines) == 0


def test_into_given_axes():
    fig = Figure()
    ax = fig.add_subplot(1, 2, 2)
    net = _net([[1.0, 1.0]], [0.0], [1.0])
    assert plot_decision_regions(net, X4, Y4, ax=ax, resolution=20) is fig


def test_highlight_neuron_marks_its_samples():
    net = _net([[1.0, 0.0], [1.0, -1.0]], [0.0, 0.0], [1.0, -1.0], samples=[[0], [1, 3]])
    fig = plot_decision_regions(net, X4, Y4, resolution=20, highlight_neuron=1)
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == ["x1", "x3"]
    joined = [ln for ln in ax.lines if ln.get_linestyle() == ":"]
    assert len(joined) == 1
    np.testing.assert_allclose(np.c_[joined[0].get_xdata(), joined[0].get_ydata()], X4[[1, 3]])
    thick = [ln for ln in ax.lines if ln.get_linewidth() > 2]
    assert len(thick) == 1  # the highlighted breakline, drawn once
    assert any("neuron 1: neuron1" == t.get_text() for t in ax.get_legend().get_texts())


def test_vector_output_shows_argmax_classes():
    net = _net([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]], [0.0, 0.0, 0.0], np.eye(3), b2=np.zeros(3), loss="softmax")
    fig = plot_decision_regions(net, X4, np.array([0, 1, 2, 0]), resolution=20)
    assert isinstance(fig, Figure)


def test_png_has_content(tmp_path):
    from matplotlib.image import imread

    net = _net([[1.0, 0.5], [0.0, -1.0]], [-0.1, 0.3], [2.0, -1.0], orientations=[1, -1], samples=[[0, 2], [1]])
    fig = plot_decision_regions(net, X4, Y4, resolution=50, highlight_neuron=0)
    path = tmp_path / "regions.png"
    fig.savefig(path)
    assert path.stat().st_size > 0
    img = imread(str(path))
    assert float(np.ptp(img[..., :3])) > 0.1


def test_fitted_network(tmp_path):
    import wedgenet as wn
    from wedgenet.datasets import make_xor

    X, y = make_xor(12, noise=0.1, random_state=0)
    net = wn.fit(X, y, lam=0.1, reg="l1", bias=True)
    j = int(np.argmax([len(r["samples"]) for r in net.provenance]))
    fig = plot_decision_regions(net, X, y, resolution=60, highlight_neuron=j)
    ax = fig.axes[0]
    assert len(ax.texts) == len(net.provenance[j]["samples"])
    fig.savefig(tmp_path / "xor.png")


# ------------------------------------------------------------------------------ errors
def test_errors():
    net2 = _net([[1.0, 0.0]], [0.0], [1.0])
    with pytest.raises(ValueError, match="2-D inputs; X has 3 features"):
        plot_decision_regions(net2, np.zeros((4, 3)))
    net3 = WedgeNetwork(W1=np.ones((1, 3)), b1=np.zeros(1), W2=np.ones(1), b2=0.0, outer_sign=np.zeros(1),
                        thresholds=np.zeros(1), depth=2, reg="l1", lam=0.1, loss="squared", bias=True,
                        provenance=[{"samples": [0], "orientation": 1, "expression": ""}], info={})
    with pytest.raises(ValueError, match="network with 2 input features"):
        plot_decision_regions(net3, X4)
    with pytest.raises(ValueError, match="highlight_neuron"):
        plot_decision_regions(net2, X4, highlight_neuron=1)
    with pytest.raises(ValueError, match="y must have shape"):
        plot_decision_regions(net2, X4, y=np.ones(3))
    with pytest.raises(ValueError, match="resolution"):
        plot_decision_regions(net2, X4, resolution=1)


def test_missing_matplotlib_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    net = _net([[1.0, 0.0]], [0.0], [1.0])
    with pytest.raises(ImportError, match=r"pip install 'wedgenet\[plot\]'"):
        plot_decision_regions(net, X4)


def test_no_pyplot_state():
    """The object API is used: no figures are registered with pyplot."""
    net = _net([[1.0, 0.0]], [0.0], [1.0])
    plot_decision_regions(net, X4, resolution=10)
    if "matplotlib.pyplot" in sys.modules:
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []
