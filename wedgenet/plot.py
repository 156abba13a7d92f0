"""Pictures of 2-D networks: decision regions, breaklines and the samples that define a neuron.

matplotlib is an optional extra (``pip install 'wedgenet[plot]'``).  It is imported inside the
functions, and only the object API is used (:class:`matplotlib.figure.Figure`, never pyplot's
global state), so plotting works headless (Agg) and from threads.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_float_array

__all__ = ["plot_decision_regions", "breakline_segment"]


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError("plotting needs matplotlib: pip install 'wedgenet[plot]'") from exc
    return Figure


def breakline_segment(w, b: float, box: tuple[float, float, float, float]) -> np.ndarray | None:
    """The part of the line ``w . x + b = 0`` inside ``box = (x0, x1, y0, y1)``.

    Returns a ``(2, 2)`` array of end points, or ``None`` when the line misses the box or
    ``w`` is (numerically) zero.
    """
    w = np.asarray(w, dtype=np.float64)
    nw = float(w @ w)
    if not np.isfinite(nw) or nw <= 1e-300:
        return None
    x0, x1, y0, y1 = box
    p = -float(b) * w / nw  # the point of the line nearest the origin
    u = np.array([-w[1], w[0]])  # direction along the line
    lo, hi = -np.inf, np.inf
    for k, (a, c) in enumerate(((x0, x1), (y0, y1))):
        if abs(u[k]) < 1e-15 * np.sqrt(nw):
            if not a <= p[k] <= c:
                return None
            continue
        s1, s2 = (a - p[k]) / u[k], (c - p[k]) / u[k]
        lo, hi = max(lo, min(s1, s2)), min(hi, max(s1, s2))
    if not lo < hi:
        return None
    return np.stack([p + lo * u, p + hi * u])


def plot_decision_regions(net, X, y=None, ax=None, resolution: int = 300, show_breaklines: bool = True,
                          highlight_neuron: int | None = None):
    """Decision regions of a 2-D :class:`~wedgenet.WedgeNetwork`, with its breaklines.

    Parameters
    ----------
    net : WedgeNetwork with two input features.
    X : (n, 2) array; sets the plotted window (with a 10% margin) and is drawn as points.
    y : optional (n,) targets or labels used to colour the points.
    ax : optional matplotlib Axes to draw into; otherwise a new ``Figure`` is made.
    resolution : grid points per axis for the filled contour.
    show_breaklines : draw each neuron's breakline ``w_j . x + b_j = 0`` clipped to the axes,
        solid for orientation ``+1`` and dashed for ``-1`` (THEORY.md G3: both orientations
        of a hyperplane are separate neurons).  For depth 3 this is the first-layer line.
    highlight_neuron : optional neuron index ``j``: its breakline is drawn thick and its
        defining training samples (``net.provenance[j]["samples"]``) are marked, labelled and
        joined.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the axes (save with ``fig.savefig(path)``).

    Scalar outputs are shown as a filled contour of ``net.decision_function`` with the level
    ``f = 0`` drawn black (the class boundary for labels ``+-1``); vector outputs
    (``softmax`` or multi-output squared loss) show the arg-max class.
    """
    Figure = _figure_class()
    from matplotlib.lines import Line2D

    Xa = as_float_array("X", X, ndim=2)
    if Xa.shape[1] != 2:
        raise ValueError(f"plot_decision_regions needs 2-D inputs; X has {Xa.shape[1]} features")
    if net.n_features != 2:
        raise ValueError(f"plot_decision_regions needs a network with 2 input features; it has {net.n_features}")
    if Xa.shape[0] < 1:
        raise ValueError("X must have at least one row")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2; got {resolution!r}")
    if highlight_neuron is not None:
        if isinstance(highlight_neuron, bool) or not isinstance(highlight_neuron, (int, np.integer)) \
                or not 0 <= highlight_neuron < net.n_neurons:
            raise ValueError(f"highlight_neuron must be an index in [0, {net.n_neurons}); got {highlight_neuron!r}")
    ya = None
    if y is not None:
        ya = np.asarray(y)
        if ya.ndim != 1 or ya.shape[0] != Xa.shape[0]:
            raise ValueError(f"y must have shape ({Xa.shape[0]},); got {ya.shape}")

    if ax is None:
        fig = Figure(figsize=(6.4, 6.0), layout="constrained")
        ax = fig.add_subplot()
    else:
        try:
            fig = ax.get_figure(root=True)
        except TypeError:  # matplotlib < 3.10
            fig = ax.figure

    lo, hi = Xa.min(axis=0), Xa.max(axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    lo, hi = lo - 0.1 * span, hi + 0.1 * span
    box = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
    gx = np.linspace(lo[0], hi[0], int(resolution))
    gy = np.linspace(lo[1], hi[1], int(resolution))
    GX, GY = np.meshgrid(gx, gy)
    F = net.decision_function(np.c_[GX.ravel(), GY.ravel()])

    if F.ndim == 1:
        F = F.reshape(GX.shape)
        # colour scale from the outputs on the data (the far corners of the window extrapolate)
        fX = net.decision_function(Xa)
        scale = [float(np.max(np.abs(fX)))]
        if ya is not None and np.issubdtype(ya.dtype, np.number):
            scale.append(float(np.max(np.abs(ya.astype(np.float64)))))
        vmax = 1.25 * max(scale) or float(np.max(np.abs(F))) or 1.0
        levels = np.linspace(-vmax, vmax, 21)
        cs = ax.contourf(GX, GY, np.clip(F, -vmax, vmax), levels=levels, cmap="RdBu", alpha=0.75)
        if F.min() < 0 < F.max():
            ax.contour(GX, GY, F, levels=[0.0], colors="k", linewidths=1.6)
        fig.colorbar(cs, ax=ax, shrink=0.8, label="f(x)")
        if ya is not None:
            yv = ya.astype(np.float64)
            ym = float(np.max(np.abs(yv))) or 1.0
            ax.scatter(Xa[:, 0], Xa[:, 1], c=yv, cmap="RdBu", vmin=-ym, vmax=ym, edgecolors="k",
                       linewidths=0.6, s=28, zorder=3)
        else:
            ax.scatter(Xa[:, 0], Xa[:, 1], c="0.2", s=14, zorder=3)
    else:
        C = np.argmax(F, axis=1).reshape(GX.shape)
        k = F.shape[1]
        ax.contourf(GX, GY, C, levels=np.arange(k + 1) - 0.5, cmap="tab10", vmin=-0.5, vmax=9.5, alpha=0.45)
        if ya is not None:
            ax.scatter(Xa[:, 0], Xa[:, 1], c=ya.astype(np.float64), cmap="tab10", vmin=-0.5, vmax=9.5,
                       edgecolors="k", linewidths=0.6, s=28, zorder=3)
        else:
            ax.scatter(Xa[:, 0], Xa[:, 1], c="0.2", s=14, zorder=3)

    handles = []
    if show_breaklines and net.n_neurons:
        for j in range(net.n_neurons):
            seg = breakline_segment(net.W1[j], float(net.b1[j]), box)
            if seg is None or j == highlight_neuron:
                continue
            orient = int(net.provenance[j].get("orientation", 1))
            ax.plot(seg[:, 0], seg[:, 1], color="0.15", alpha=0.55, lw=0.7,
                    ls="-" if orient >= 0 else "--", zorder=2)
        handles += [Line2D([], [], color="0.15", lw=0.9, ls="-", label="breakline, orientation +1"),
                    Line2D([], [], color="0.15", lw=0.9, ls="--", label="breakline, orientation -1")]

    if highlight_neuron is not None:
        j = int(highlight_neuron)
        rec = net.provenance[j]
        orient = int(rec.get("orientation", 1))
        seg = breakline_segment(net.W1[j], float(net.b1[j]), box)
        if seg is not None:
            ax.plot(seg[:, 0], seg[:, 1], color="tab:orange", lw=2.6, ls="-" if orient >= 0 else "--", zorder=4)
        idx = [int(i) for i in rec.get("samples", []) if 0 <= int(i) < Xa.shape[0]]
        if idx:
            P = Xa[idx]
            if len(idx) > 1:
                ax.plot(P[:, 0], P[:, 1], color="tab:orange", lw=1.4, ls=":", zorder=5)
            ax.scatter(P[:, 0], P[:, 1], s=140, facecolors="none", edgecolors="tab:orange", linewidths=2.2,
                       zorder=6)
            for i, p in zip(idx, P, strict=True):
                ax.annotate(f"x{i}", p, xytext=(6, 6), textcoords="offset points", color="tab:orange",
                            fontsize=9, fontweight="bold", zorder=7)
        handles.append(Line2D([], [], color="tab:orange", lw=2.6, marker="o", mfc="none",
                              label=f"neuron {j}: {rec.get('expression', '')}"))

    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_title(f"wedgenet: {net.n_neurons} neurons, reg={net.reg}, lam={net.lam:g}")
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=7,
                  frameon=False)
    return fig
