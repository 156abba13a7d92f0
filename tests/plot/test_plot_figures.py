"""Tests for the 1-D, partition and path figures of wedgenet.plot (rendered headless to PNG)."""

from __future__ import annotations

import numpy as np
import pytest

import wedgenet as wn
from wedgenet.datasets import diamond, make_xor
from wedgenet.plot import _distinct_lines, network_knots, plot_function_1d, plot_partition, plot_path

mpl = pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import imread  # noqa: E402

X1 = np.linspace(-2.0, 2.0, 5)
Y1 = np.array([1.0, -1.0, 1.0, 1.0, -1.0])  # Pilanci-Ergen's 1-D toy


def _png_has_content(fig, path):
    fig.savefig(path)
    assert path.stat().st_size > 0
    img = imread(str(path))
    assert img.shape[0] > 50 and img.shape[1] > 50
    assert float(np.ptp(img[..., :3])) > 0.1  # not a blank image


# ------------------------------------------------------------------------------ 1-D
def test_function_1d_breakpoints_at_samples(tmp_path):
    net = wn.fit(X1[:, None], Y1, lam=0.01, reg="l1", bias=True)
    knots, owners = network_knots(net)
    # Thm 1: every breakpoint is a training sample, and the neuron names that sample
    for xk, j in zip(knots, owners, strict=True):
        i = int(np.argmin(np.abs(X1 - xk)))
        assert abs(X1[i] - xk) < 1e-9 and i in net.provenance[int(j)]["samples"]
    fig = plot_function_1d(net, X1, Y1)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    curve = ax.lines[0]
    xs, fs = np.asarray(curve.get_xdata()), np.asarray(curve.get_ydata())
    np.testing.assert_allclose(fs, net.decision_function(xs[:, None]))
    assert set(np.round(knots, 12)) <= set(np.round(xs, 12))  # kinks drawn exactly
    vlines = [ln for ln in ax.lines if ln.get_linestyle() == ":"]
    assert len(vlines) == len(knots)
    assert len(ax.texts) == len(knots)
    _png_has_content(fig, tmp_path / "f1d.png")


def test_function_1d_depth3_and_errors(tmp_path):
    net = wn.fit(X1[:, None], Y1, lam=0.05, reg="l1", bias=True, depth=3)
    fig = plot_function_1d(net, X1[:, None], annotate=False)
    assert len(fig.axes[0].texts) == 0
    _png_has_content(fig, tmp_path / "f1d3.png")
    Xx, yx = make_xor(8, random_state=0)
    net2 = wn.fit(Xx, yx, lam=0.1)
    with pytest.raises(ValueError, match="1 input feature"):
        plot_function_1d(net2, Xx[:, 0])
    with pytest.raises(ValueError, match="^X must have shape"):
        plot_function_1d(net, np.zeros((5, 2)))
    with pytest.raises(ValueError, match="^y must have shape"):
        plot_function_1d(net, X1, Y1[:3])
    with pytest.raises(ValueError, match="^resolution"):
        plot_function_1d(net, X1, resolution=1)


# ------------------------------------------------------------------------------ partitions
@pytest.mark.parametrize(("reg", "bias", "depth", "n_first"), [
    ("l1", False, 2, 2),   # Thm 2/4 on the diamond: the two axes
    ("l2", True, 2, 6),    # Thm 3: the 6 lines through pairs of the 4 points
    ("l1", False, 3, 4),   # Thm 12
    ("l1", True, 3, 10),   # Thm 13
])
def test_partition_of_the_diamond(tmp_path, reg, bias, depth, n_first):
    fig = plot_partition(diamond(), reg=reg, bias=bias, depth=depth)
    ax = fig.axes[0]
    blue = [ln for ln in ax.lines if ln.get_linestyle() == "-"]
    assert len(blue) == n_first
    assert f"{n_first} breaklines" in ax.get_title()
    assert [t.get_text() for t in ax.texts] == ["x0", "x1", "x2", "x3"]
    if depth == 3:
        assert any(ln.get_linestyle() == "--" for ln in ax.lines)
    _png_has_content(fig, tmp_path / f"part_{reg}_{bias}_{depth}.png")


def test_partition_lines_pass_through_samples():
    fig = plot_partition(diamond(), reg="l2", bias=True)
    X = diamond()
    for ln in fig.axes[0].lines:
        P = np.c_[ln.get_xdata(), ln.get_ydata()]
        d = P[1] - P[0]
        normal = np.array([d[1], -d[0]]) / np.linalg.norm(d)
        on = np.abs((X - P[0]) @ normal) < 1e-9
        assert on.sum() == 2  # the affine hull of two samples (Thm 3)


def test_partition_errors_and_distinct_lines():
    with pytest.raises(ValueError, match="2-D inputs"):
        plot_partition(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="max_lines"):
        plot_partition(diamond(), reg="l2", bias=True, max_lines=3)
    L = _distinct_lines(np.array([[1.0, 0.0], [-2.0, 0.0], [0.0, 1.0], [0.0, 0.0]]), np.array([1.0, -2.0, 0.0, 5.0]))
    assert len(L) == 2  # x0 + 1 = 0 twice (scale and sign), x1 = 0; the zero weight is dropped


# ------------------------------------------------------------------------------ paths
def test_path_matches_networks(tmp_path):
    X, y = make_xor(12, noise=0.2, random_state=0)
    lams = [1.0, 0.3, 0.1, 0.03]
    nets = wn.fit_path(X, y, lams)
    fig = plot_path(nets)
    ax_c, ax_n = fig.axes
    counts = ax_n.lines[0]
    np.testing.assert_allclose(counts.get_xdata(), sorted(lams))
    np.testing.assert_array_equal(counts.get_ydata(), [n.n_neurons for n in sorted(nets, key=lambda n: n.lam)])
    # one coefficient line per dictionary column ever used; at each lam the nonzero values are z_j
    cols = {r["column"] for n in nets for r in n.provenance}
    paths = [ln for ln in ax_c.lines if len(ln.get_xdata()) == len(lams)]
    assert len(paths) == len(cols)
    small = min(nets, key=lambda n: n.lam)
    at_small = sorted(float(ln.get_ydata()[0]) for ln in paths if ln.get_ydata()[0] != 0)
    z = small.W2 * np.abs(small.W1).sum(axis=1)
    np.testing.assert_allclose(at_small, sorted(z))
    # the Lasso penalty: sum |z| equals the network penalty at each lam (balanced neurons)
    assert np.sum(np.abs(z)) == pytest.approx(small.penalty())
    assert ax_c.get_xscale() == "log"
    _png_has_content(fig, tmp_path / "path.png")


def test_path_into_axes_and_errors():
    X, y = make_xor(8, random_state=0)
    nets = wn.fit_path(X, y, [0.5, 0.1])
    fig = Figure()
    axs = fig.subplots(1, 2)
    assert plot_path(nets, ax=axs) is fig
    with pytest.raises(ValueError, match="at least one"):
        plot_path([])
    with pytest.raises(ValueError, match="WedgeNetwork"):
        plot_path([1, 2])
    with pytest.raises(ValueError, match="pair of Axes"):
        plot_path(nets, ax=axs[0])


# ------------------------------------------------------------------------------ polishing
def _polished_report(keep="polished", hidden=12, seed=0):
    X, y = make_xor(40, noise=0.3, random_state=seed)
    rng = np.random.default_rng(seed)
    W1 = rng.normal(size=(hidden, 2))
    b1 = 0.3 * rng.normal(size=hidden)
    a = rng.normal(size=(1, hidden)) / np.sqrt(hidden)
    _, rep = wn.polish([(W1, b1), (a, np.zeros(1))], X, y, lam=0.05, keep=keep)
    return X, y, rep


def test_polishing_breaklines_and_panels(tmp_path):
    from wedgenet.plot import breakline_segment, plot_polishing

    X, y, rep = _polished_report()
    lr = rep.layers[0]
    W0, b0 = lr.old_weights
    W1, b1 = lr.new_weights
    assert W0.shape == W1.shape == (12, 2) and b0.shape == b1.shape == (12,)
    # the polished neuron passes through its defining samples; the old one is the trained neuron
    for j in range(lr.n_neurons):
        np.testing.assert_allclose(X[lr.samples[j]] @ W1[j] + b1[j], 0.0, atol=1e-9)
    fig = plot_polishing(rep, X, y)
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    ax_l, ax_o, ax_a = fig.axes
    lo, hi = X.min(0) - 0.1 * np.ptp(X, 0), X.max(0) + 0.1 * np.ptp(X, 0)
    box = (lo[0], hi[0], lo[1], hi[1])
    n_polished = int(lr.polished.sum())
    assert n_polished == lr.n_neurons
    old_in = sum(breakline_segment(W0[j], b0[j], box) is not None for j in range(lr.n_neurons))
    dashed = [ln for ln in ax_l.lines if ln.get_linestyle() == "--"]
    solid = [ln for ln in ax_l.lines if ln.get_linestyle() == "-"]
    assert len(solid) == n_polished  # every polished line passes through samples: always in the window
    assert len(dashed) == old_in
    if old_in == n_polished:
        assert len(ax_l.lines) == 2 * n_polished
    # the solid lines are the polished neurons' breaklines, through their defining samples
    for ln in solid:
        P = np.c_[ln.get_xdata(), ln.get_ydata()]
        d = P[1] - P[0]
        normal = np.array([d[1], -d[0]]) / np.linalg.norm(d)
        assert int(np.sum(np.abs((X - P[0]) @ normal) < 1e-9)) >= 2
    # one connector per defining sample
    assert sum(len(c.get_segments()) for c in ax_l.collections if hasattr(c, "get_segments")) == lr.samples.size
    # objective bars: before, refit only, polished
    heights = [p.get_height() for p in ax_o.patches]
    np.testing.assert_allclose(heights, [rep.before["objective"], rep.refit_unpolished["objective"],
                                         rep.after["objective"]])
    assert [t.get_text() for t in ax_o.get_xticklabels()] == ["before", "refit only", "polished"]
    # the histogram counts every polished neuron
    assert sum(p.get_height() for p in ax_a.patches) == n_polished
    _png_has_content(fig, tmp_path / "polish.png")


def test_polishing_subset_summary_only_and_errors(tmp_path):
    from wedgenet.plot import plot_polishing

    X, y, rep = _polished_report()
    fig = plot_polishing(rep, X, neurons=[0, 3])
    assert len([ln for ln in fig.axes[0].lines if ln.get_linestyle() == "-"]) == 2
    fig2 = plot_polishing(rep)  # no X: objectives and angles only
    assert len(fig2.axes) == 2
    _png_has_content(fig2, tmp_path / "polish_summary.png")
    f3 = Figure()
    axs = f3.subplots(1, 3)
    assert plot_polishing(rep, X, y, ax=axs) is f3
    with pytest.raises(ValueError, match="sequence of 3 Axes"):
        plot_polishing(rep, X, ax=axs[:2])
    with pytest.raises(ValueError, match="PolishReport"):
        plot_polishing(None)
    with pytest.raises(ValueError, match="2-D inputs"):
        plot_polishing(rep, np.zeros((40, 3)))
    with pytest.raises(ValueError, match="polished on 40 samples"):
        plot_polishing(rep, X[:10])
    with pytest.raises(ValueError, match="neurons must be"):
        plot_polishing(rep, X, neurons=[99])
    with pytest.raises(ValueError, match="layer must be"):
        plot_polishing(rep, X, layer=1)
    # keep="union": only the slots holding a polished neuron are drawn
    _, _, rep_u = _polished_report(keep="union")
    fig4 = plot_polishing(rep_u, X)
    n_pol = int(rep_u.layers[0].polished.sum())
    assert len([ln for ln in fig4.axes[0].lines if ln.get_linestyle() == "-"]) == n_pol
    assert f"{n_pol} polished neurons" in fig4.axes[0].get_title()


def test_polishing_baseline_report_and_bad_y(tmp_path):
    from wedgenet.plot import plot_decision_regions, plot_polishing

    X, y = make_xor(40, noise=0.3, random_state=1)
    rng = np.random.default_rng(1)
    model = [(rng.normal(size=(6, 2)), 0.3 * rng.normal(size=6)), (rng.normal(size=(1, 6)), np.zeros(1))]
    _, base = wn.polish(model, X, y, lam=0.05, layers=[])  # the documented baseline: no layer polished
    fig = plot_polishing(base)
    assert len(fig.axes) == 2
    _png_has_content(fig, tmp_path / "baseline.png")
    with pytest.raises(ValueError, match="no polished layer"):
        plot_polishing(base, X)
    _, _, rep = _polished_report()
    for bad in (np.r_[y[:-1], np.nan], np.array(["a"] * 40)):
        with pytest.raises(ValueError, match=r"\by\b"):
            plot_polishing(rep, X, bad)
    with pytest.raises(ValueError, match="neurons must be integer"):
        plot_polishing(rep, X, neurons=[0.5])
    net = wn.fit(X, y, lam=0.1)
    with pytest.raises(ValueError, match=r"\by\b"):
        plot_decision_regions(net, X, np.r_[y[:-1], np.inf])
