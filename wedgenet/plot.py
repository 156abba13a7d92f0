"""Figures: decision regions and breaklines, 1-D fits, dictionary partitions, regularisation paths.

* :func:`plot_decision_regions` -- a 2-D network: data, decision regions, breaklines (both
  orientations drawn distinctly), a neuron's defining samples highlighted and joined;
* :func:`plot_function_1d` -- a 1-D network: the piecewise-linear fit with its breakpoints, which
  sit at training samples (Thm 1);
* :func:`plot_partition` -- the space partition of a wedge dictionary on 2-D data: every candidate
  neuron's breakline (the paper's Figure 7);
* :func:`plot_path` -- a regularisation path from :func:`wedgenet.fit_path`: each neuron's Lasso
  coefficient and the number of neurons against ``lam``;
* :func:`plot_polishing` -- what :func:`wedgenet.polish` did: old and polished breaklines with
  the defining samples, the training objective before / refit only / after, the angles moved.

matplotlib is an optional extra (``pip install 'wedgenet[plot]'``).  It is imported inside the
functions, and only the object API is used (:class:`matplotlib.figure.Figure`, never pyplot's
global state), so plotting works headless (Agg) and from threads.
"""

from __future__ import annotations

import numpy as np

from ._linalg import group_norms, row_norms, unit_rows
from ._validation import as_float_array

__all__ = ["plot_decision_regions", "plot_function_1d", "plot_partition", "plot_path", "plot_polishing",
           "breakline_segment", "label_positions", "top_neurons"]


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


def _feature_labels(feature_names, d: int) -> list[str]:
    """Axis labels: the user's feature names, or ``x[0], x[1], ...``."""
    if feature_names is None:
        return [f"x[{k}]" for k in range(d)]
    names = [str(f) for f in feature_names] if not isinstance(feature_names, str) else [feature_names]
    if len(names) != d:
        raise ValueError(f"feature_names must hold {d} names; got {len(names)}")
    return names


def _check_fontsize(fontsize) -> float:
    if isinstance(fontsize, bool) or not isinstance(fontsize, (int, float, np.integer, np.floating)) \
            or not 4 <= float(fontsize) <= 72:
        raise ValueError(f"fontsize must be a number in [4, 72]; got {fontsize!r}")
    return float(fontsize)


_DIRECTIONS = np.array([[1, 1], [-1, 1], [1, -1], [-1, -1], [1, 0], [-1, 0], [0, 1], [0, -1]], dtype=np.float64)
_DIRECTIONS = unit_rows(_DIRECTIONS)


def label_positions(points: np.ndarray, data: np.ndarray, box: tuple[float, float, float, float],
                    radius: float = 0.045) -> np.ndarray:
    """Where to write a label for each of ``points`` so that it avoids ``data`` and the other labels.

    Coordinates are scaled to the unit square of ``box = (x0, x1, y0, y1)``; each label goes to the
    one of 8 directions at distance ``radius`` (a fraction of the window) whose position is farthest
    from every data point and every label placed before it, staying inside the window.  Returns
    ``(k, 2)`` positions in data coordinates.
    """
    P = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    lo = np.array([box[0], box[2]])
    span = np.array([box[1] - box[0], box[3] - box[2]])
    span = np.where(span > 0, span, 1.0)
    U = (P - lo) / span
    D = (np.asarray(data, dtype=np.float64).reshape(-1, 2) - lo) / span
    placed: list[np.ndarray] = []
    out = np.empty_like(P)
    for i, u in enumerate(U):
        cand = u + radius * _DIRECTIONS
        obstacles = np.vstack([D] + [q[None, :] for q in placed]) if placed else D
        dist = np.min(np.linalg.norm(cand[:, None, :] - obstacles[None, :, :], axis=2), axis=1) \
            if len(obstacles) else np.ones(len(cand))
        inside = np.all((cand > 0.02) & (cand < 0.98), axis=1)
        dist = np.where(inside, dist, -1.0)
        best = cand[int(np.argmax(dist))]
        placed.append(best)
        out[i] = lo + best * span
    return out


def _write_labels(ax, points, labels, data, box, fontsize: float, color: str) -> None:
    pos = label_positions(points, data, box)
    for p, q, text in zip(np.asarray(points).reshape(-1, 2), pos, labels, strict=True):
        dx, dy = q - p
        ha = "left" if dx > 1e-12 else ("right" if dx < -1e-12 else "center")
        va = "bottom" if dy > 1e-12 else ("top" if dy < -1e-12 else "center")
        ax.annotate(text, p, xytext=q, textcoords="data", ha=ha, va=va, color=color, fontsize=fontsize,
                    fontweight="bold", zorder=7,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7},
                    arrowprops={"arrowstyle": "-", "color": color, "lw": 0.8, "shrinkA": 0, "shrinkB": 4})


def top_neurons(net, k: int | None) -> np.ndarray:
    """Indices of the ``k`` neurons with the largest ``|a_j|`` (row norm for vector output), largest first.

    ``k=None`` gives every neuron in that order.
    """
    a = group_norms(net.W2)
    order = np.argsort(-a, kind="stable")
    if k is None:
        return order
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"top_k must be a non-negative integer or None; got {k!r}")
    return order[: int(k)]


def plot_decision_regions(net, X, y=None, ax=None, resolution: int = 300, show_breaklines: bool = True,
                          highlight_neuron: int | None = None, *, feature_names=None, top_k: int | None = None,
                          fontsize: float = 10.0, expression_width: int = 60):
    """Decision regions of a 2-D :class:`~wedgenet.WedgeNetwork`, with its breaklines.

    Parameters
    ----------
    net : WedgeNetwork with two input features.
    X : (n, 2) array; sets the plotted window (with a 10% margin) and is drawn as points.
    y : optional (n,) targets or labels used to colour the points.
    ax : optional matplotlib Axes to draw into; otherwise a new ``Figure`` is made.
    resolution : grid points per axis for the filled contour.
    show_breaklines : draw each neuron's breakline ``w_j . x + b_j = 0`` clipped to the axes,
        solid for orientation ``+1`` and dashed for ``-1`` (docs/conventions.md#g3: both orientations
        of a hyperplane are separate neurons).  For depth 3 this is the first-layer line.
    highlight_neuron : optional neuron index ``j``: its breakline is drawn thick and its
        defining training samples (``net.provenance[j]["samples"]``) are marked, labelled (labels
        placed away from the data points) and joined.
    feature_names : optional two names for the axes (default ``x[0]``, ``x[1]``).
    top_k : draw only the breaklines of the ``k`` neurons with the largest ``|a_j|`` (default: all).
    fontsize : base font size of labels, title and legend (ticks slightly smaller).
    expression_width : the highlighted neuron's expression is shortened past this many characters
        in the legend (``Neuron.formula``); the full form is ``net.provenance[j]["expression"]``.

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

    from ._text import shorten_expression

    Xa = as_float_array("X", X, ndim=2)
    if Xa.shape[1] != 2:
        raise ValueError(f"plot_decision_regions needs 2-D inputs; X has {Xa.shape[1]} features")
    names = _feature_labels(feature_names if feature_names is not None else getattr(net, "feature_names", None), 2)
    fontsize = _check_fontsize(fontsize)
    shown = set(int(j) for j in top_neurons(net, top_k))
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
        ya = as_float_array("y", y)
        if ya.ndim != 1 or ya.shape[0] != Xa.shape[0]:
            raise ValueError(f"y must have shape ({Xa.shape[0]},); got {ya.shape}")

    if ax is None:
        fig = Figure(figsize=(7.0, 7.6), layout="constrained")
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

    boundary: list = []
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
            boundary = [Line2D([], [], color="k", lw=1.6, label="decision boundary f(x) = 0")]
        cbar = fig.colorbar(cs, ax=ax, shrink=0.8)
        cbar.set_label("f(x)", fontsize=fontsize)
        cbar.ax.tick_params(labelsize=0.85 * fontsize)
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

    handles = list(boundary)
    if show_breaklines and net.n_neurons:
        count = {1: 0, -1: 0}
        for j in range(net.n_neurons):
            if j not in shown:
                continue
            seg = breakline_segment(net.W1[j], float(net.b1[j]), box)
            if seg is None or j == highlight_neuron:
                continue
            orient = 1 if int(net.provenance[j].get("orientation", 1)) >= 0 else -1
            count[orient] += 1
            ax.plot(seg[:, 0], seg[:, 1], color="0.15", alpha=0.55, lw=0.7,
                    ls="-" if orient > 0 else "--", zorder=2)
        top = "" if top_k is None else f", the {len(shown)} largest |a|"
        handles += [Line2D([], [], color="0.15", lw=0.9, ls="-", label=f"breakline, orientation +1{top}"),
                    Line2D([], [], color="0.15", lw=0.9, ls="--", label=f"breakline, orientation -1{top}")]

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
            _write_labels(ax, P, [f"x{i}" for i in idx], Xa, box, 0.9 * fontsize, "tab:orange")
        expr = shorten_expression(str(rec.get("expression", "")), max(int(expression_width), 8))
        handles.append(Line2D([], [], color="tab:orange", lw=2.6, ls="-" if orient >= 0 else "--",
                              label=f"neuron {j}: {expr}"))
        if idx:
            handles.append(Line2D([], [], color="tab:orange", lw=1.4, ls=":", marker="o", mfc="none", ms=9,
                                  label=f"its defining samples ({len(idx)})"))

    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(names[0], fontsize=fontsize)
    ax.set_ylabel(names[1], fontsize=fontsize)
    ax.tick_params(labelsize=0.85 * fontsize)
    ax.set_title(f"wedgenet: {net.n_neurons} neurons, reg={net.reg}, lam={net.lam:g}", fontsize=1.1 * fontsize)
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=1,
                  fontsize=0.85 * fontsize, frameon=False)
    return fig


def _new_axes(ax, figsize):
    Figure = _figure_class()
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    try:
        return ax.get_figure(root=True), ax
    except TypeError:  # matplotlib < 3.10
        return ax.figure, ax


def _check_resolution(resolution):
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) or resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2; got {resolution!r}")
    return int(resolution)


def network_knots(net) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints of a 1-D network and the neuron of each: ``(x positions, neuron indices)``.

    Depth 2: ``w_j x + b_j = 0``.  Depth 3 adds ``w_j x + b_j = t_j`` for a positive threshold
    ``t_j`` of the second-layer unit ``(s (u - t))_+``.
    """
    if net.n_features != 1:
        raise ValueError(f"network_knots needs a network with 1 input feature; it has {net.n_features}")
    xs, js = [], []
    for j in range(net.n_neurons):
        w, b = float(net.W1[j, 0]), float(net.b1[j])
        if w == 0:
            continue
        xs.append(-b / w)
        js.append(j)
        if net.depth == 3 and net.thresholds[j] > 0:
            xs.append((float(net.thresholds[j]) - b) / w)
            js.append(j)
    return np.asarray(xs, dtype=np.float64), np.asarray(js, dtype=np.int64)


def plot_function_1d(net, X, y=None, ax=None, resolution: int = 400, annotate: bool = True, *,
                     feature_name: str = "x", fontsize: float = 10.0):
    """The fitted piecewise-linear function of a 1-D network, with its breakpoints.

    Parameters
    ----------
    net : WedgeNetwork with one input feature.
    X : (n,) or (n, 1) training inputs (set the window, with a 10% margin).
    y : optional (n,) targets, drawn as points.
    ax : optional Axes to draw into.  resolution : grid points (the breakpoints are added exactly,
        so the kinks are drawn sharp).
    annotate : label each breakpoint inside the window with the training samples that define
        its neuron (``x3`` ...); for Thm 1 networks the breakpoints sit exactly on those samples.
    feature_name : the x-axis label.  fontsize : base font size.

    Returns
    -------
    matplotlib.figure.Figure
        Breakpoints are vertical dotted lines (solid marker on the curve); data are black points.
    """
    Xa = as_float_array("X", X, min_ndim=1)
    if Xa.ndim == 2 and Xa.shape[1] == 1:
        Xa = Xa[:, 0]
    if Xa.ndim != 1:
        raise ValueError(f"X must have shape (n,) or (n, 1); got {np.shape(X)}")
    if net.n_features != 1:
        raise ValueError(f"plot_function_1d needs a network with 1 input feature; it has {net.n_features}")
    resolution = _check_resolution(resolution)
    ya = None
    if y is not None:
        ya = as_float_array("y", y, ndim=1)
        if ya.shape[0] != Xa.shape[0]:
            raise ValueError(f"y must have shape ({Xa.shape[0]},); got {ya.shape}")
    fig, ax = _new_axes(ax, (7.0, 4.2))
    lo, hi = float(Xa.min()), float(Xa.max())
    span = hi - lo if hi > lo else 1.0
    lo, hi = lo - 0.1 * span, hi + 0.1 * span
    knots, owners = network_knots(net)
    inside = (knots >= lo) & (knots <= hi)
    grid = np.unique(np.r_[np.linspace(lo, hi, resolution), knots[inside]])
    F = net.decision_function(grid[:, None])
    F = F if F.ndim == 1 else F[:, 0]
    ax.plot(grid, F, color="tab:blue", lw=1.8, label="f(x)", zorder=3)
    fk = net.decision_function(knots[inside][:, None]) if inside.any() else np.zeros(0)
    fk = fk if fk.ndim == 1 else fk[:, 0]
    for k, (xk, j) in enumerate(zip(knots[inside], owners[inside], strict=True)):
        ax.axvline(xk, color="0.55", ls=":", lw=0.9, zorder=1)
        if annotate:
            smp = [int(i) for i in net.provenance[int(j)]["samples"]]
            names = ",".join(f"x{i}" for i in smp[:3]) + (f",…+{len(smp) - 3}" if len(smp) > 3 else "")
            ax.annotate(names, (xk, fk[k]), xytext=(3, -12), textcoords="offset points", fontsize=0.8 * fontsize,
                        color="0.3")
    if inside.any():
        ax.plot(knots[inside], fk, "o", ms=5, color="tab:blue", mfc="white", label="breakpoints", zorder=4)
    if ya is not None:
        ax.scatter(Xa, ya, color="k", s=22, zorder=5, label="data")
    ax.set_xlim(lo, hi)
    ax.set_xlabel(str(feature_name), fontsize=fontsize)
    ax.set_ylabel("f(x)", fontsize=fontsize)
    ax.tick_params(labelsize=0.85 * fontsize)
    ax.set_title(f"wedgenet: {net.n_neurons} neurons, reg={net.reg}, lam={net.lam:g}", fontsize=1.1 * fontsize)
    ax.legend(fontsize=0.85 * fontsize, loc="best")
    return fig


def plot_partition(X, *, reg: str = "l1", bias: bool = False, depth: int = 2, ax=None, annotate: bool = True,
                   max_lines: int = 5000):
    """The space partition of a wedge dictionary on 2-D data (the paper's Figure 7).

    Every candidate neuron of :func:`wedgenet.dictionary` ``(X, reg, bias, depth)`` is drawn by its
    breakline ``w . x + b = 0`` (blue; both orientations share a line, so each line is drawn once);
    for depth 3 (Thm 12, 13) the second-layer breaks ``w . x + b = t`` at the level samples'
    activations are drawn too (orange, dashed).  Training samples are red points labelled ``x0, x1,
    ...``.  ``max_lines`` guards against unreadable pictures (``ValueError`` above it).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from .dictionaries import dictionary

    Xa = as_float_array("X", X, ndim=2)
    if Xa.shape[1] != 2:
        raise ValueError(f"plot_partition needs 2-D inputs; X has {Xa.shape[1]} features")
    if isinstance(max_lines, bool) or not isinstance(max_lines, (int, np.integer)) or max_lines < 1:
        raise ValueError(f"max_lines must be a positive integer; got {max_lines!r}")
    D = dictionary(Xa, reg=reg, bias=bias, depth=depth)
    W, B = D.candidate_neurons()
    first = _distinct_lines(W, B)
    second = np.zeros((0, 3))
    if D.depth == 3:
        T = np.concatenate([D.thresholds, np.zeros(len(B) - len(D.thresholds))])
        pos = T > 1e-12
        second = _distinct_lines(W[pos], B[pos] - T[pos])
    if len(first) + len(second) > max_lines:
        raise ValueError(f"the partition has {len(first) + len(second)} lines, more than max_lines={max_lines}")
    fig, ax = _new_axes(ax, (5.2, 5.2))
    lo, hi = Xa.min(axis=0), Xa.max(axis=0)
    span = float(max(np.max(hi - lo), 1e-9))
    lo, hi = lo - 0.35 * span, hi + 0.35 * span
    box = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
    for lines, color, ls in ((first, "tab:blue", "-"), (second, "tab:orange", "--")):
        for w0, w1, b in lines:
            seg = breakline_segment((w0, w1), b, box)
            if seg is not None:
                ax.plot(seg[:, 0], seg[:, 1], color=color, ls=ls, lw=1.0, alpha=0.8, zorder=2)
    ax.scatter(Xa[:, 0], Xa[:, 1], color="tab:red", s=30, zorder=4)
    if annotate and Xa.shape[0] <= 30:
        _write_labels(ax, Xa, [f"x{i}" for i in range(Xa.shape[0])], Xa, box, 8.0, "tab:red")
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_aspect("equal", adjustable="box")
    n2 = f" + {len(second)} second-layer" if D.depth == 3 else ""
    ax.set_title(f"{D.theorem}: reg={D.reg}, bias={D.bias}, depth={D.depth}\n{len(first)} breaklines{n2}",
                 fontsize=9)
    return fig


def _distinct_lines(W: np.ndarray, B: np.ndarray, decimals: int = 9) -> np.ndarray:
    """Distinct lines ``w . x + b = 0`` (rows ``(w0, w1, b)``), up to scale and sign."""
    if len(W) == 0:
        return np.zeros((0, 3))
    L = np.c_[W, B]
    nrm = row_norms(W)
    keep = nrm > 1e-12
    L = L[keep] / nrm[keep, None]
    # fix the sign: first clearly nonzero weight coordinate positive
    lead = np.where(np.abs(L[:, 0]) > 1e-9, L[:, 0], L[:, 1])
    L = L * np.where(lead < 0, -1.0, 1.0)[:, None]
    _, idx = np.unique(np.round(L, decimals), axis=0, return_index=True)
    return L[np.sort(idx)]


def plot_path(nets, ax=None):
    """A regularisation path: each neuron's Lasso coefficient, and the number of neurons, against ``lam``.

    Parameters
    ----------
    nets : networks from :func:`wedgenet.fit_path` (one per ``lam``, any order).  A neuron is
        followed across ``lam`` by its dictionary column; its coefficient is the Lasso's
        ``z_j = a_j ||w_j||_p`` (``||a_j||_2 ||w_j||_p`` for vector output), 0 where it is absent.
    ax : optional pair of Axes ``(coefficients, counts)``; otherwise a new two-panel Figure.

    Returns
    -------
    matplotlib.figure.Figure
        Left: coefficient paths (log ``lam`` axis).  Right: number of neurons against ``lam``.
    """
    nets = list(nets)
    if not nets:
        raise ValueError("nets must hold at least one network")
    from .network import WedgeNetwork

    if not all(isinstance(n, WedgeNetwork) for n in nets):
        raise ValueError("nets must be WedgeNetwork objects (from wedgenet.fit_path)")
    Figure = _figure_class()
    if ax is None:
        fig = Figure(figsize=(10.0, 4.0), layout="constrained")
        ax_c, ax_n = fig.subplots(1, 2)
    else:
        try:
            ax_c, ax_n = ax
        except (TypeError, ValueError):
            raise ValueError("ax must be a pair of Axes (coefficients, counts)") from None
        try:
            fig = ax_c.get_figure(root=True)
        except TypeError:  # matplotlib < 3.10
            fig = ax_c.figure
    order = np.argsort([n.lam for n in nets])
    nets = [nets[i] for i in order]
    lams = np.array([n.lam for n in nets])
    cols = sorted({int(r["column"]) for n in nets for r in n.provenance})
    where = {c: k for k, c in enumerate(cols)}
    Z = np.zeros((len(nets), len(cols)))
    for i, n in enumerate(nets):
        p = 1 if n.reg == "l1" else 2
        wn = row_norms(n.W1, p) if n.n_neurons else np.zeros(0)
        a = n.W2 if n.W2.ndim == 1 else row_norms(n.W2)
        for j, r in enumerate(n.provenance):
            Z[i, where[int(r["column"])]] += a[j] * wn[j]
    for k in range(len(cols)):
        ax_c.plot(lams, Z[:, k], lw=1.0, marker="." if len(lams) < 30 else None)
    ax_c.axhline(0.0, color="0.5", lw=0.6)
    ax_n.plot(lams, [n.n_neurons for n in nets], marker="o", color="tab:blue")
    for a_ in (ax_c, ax_n):
        if lams.min() > 0 and lams.max() > lams.min():
            a_.set_xscale("log")
        a_.set_xlabel("lam")
    ax_c.set_ylabel("Lasso coefficient z_j = a_j ||w_j||")
    ax_c.set_title(f"coefficient paths ({len(cols)} neurons ever active)")
    ax_n.set_ylabel("number of neurons")
    ax_n.set_title("network size")
    return fig


# ------------------------------------------------------------------------------ polishing
def _foot(P: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    """Orthogonal projections of the points ``P`` onto the line ``w . x + b = 0``."""
    return P - np.outer((P @ w + b) / float(w @ w), w)


def plot_polishing(report, X=None, y=None, *, layer: int | None = None, neurons=None, ax=None, feature_names=None):
    """Before/after figure of :func:`wedgenet.polish`: breaklines, objectives and angles.

    Parameters
    ----------
    report : the :class:`~wedgenet.polishing.PolishReport` returned by :func:`wedgenet.polish`.
    X : optional ``(n, 2)`` training inputs of the polished layer (the first layer, 2 input
        features).  With it a breakline panel is drawn: per polished neuron the old breakline
        ``w . x + b = 0`` dashed and the polished one solid, in the same colour; its defining
        samples are circled and joined to their foot on the old breakline (the distance they pulled
        the line over).  Neurons the refit set to zero are drawn grey.  Without ``X`` (or for other
        inputs) only the two summary panels are drawn.
    y : optional ``(n,)`` targets colouring the points.
    layer : index into ``report.layers`` for the breakline panel (default: the first).
    neurons : optional neuron indices to draw (default: every neuron holding a polished neuron,
        ``report.layers[layer].polished``).
    ax : optional Axes: ``(breaklines, objectives, angles)`` with ``X``, ``(objectives, angles)``
        without; otherwise a new Figure.
    feature_names : optional two names for the breakline panel's axes (default ``x[0]``, ``x[1]``).

    Returns
    -------
    matplotlib.figure.Figure
        Breaklines (with ``X``); the training objective before polishing, of the same convex refit
        of the unpolished network ("refit only") and after polishing (bars, with the metric written
        on them); a histogram of the angle (degrees) each polished neuron moved, per layer.
    """
    Figure = _figure_class()
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    from .polishing import PolishReport

    names = _feature_labels(feature_names, 2)
    if not isinstance(report, PolishReport):
        raise ValueError(f"report must be the PolishReport returned by wedgenet.polish; got {type(report).__name__}")
    if not report.layers and (X is not None or layer is not None):
        raise ValueError("report holds no polished layer (polish(..., layers=[]) is the baseline): the breakline "
                         "panel needs one; call plot_polishing(report) without X and layer")
    if layer is None:
        layer = 0
    if report.layers and (isinstance(layer, bool) or not isinstance(layer, (int, np.integer))
                          or not 0 <= layer < len(report.layers)):
        raise ValueError(f"layer must be an index into report.layers (0..{len(report.layers) - 1}); got {layer!r}")
    Xa = None
    if X is not None:
        Xa = as_float_array("X", X, ndim=2)
        lr = report.layers[layer]
        if Xa.shape[1] != 2:
            raise ValueError(f"the breakline panel needs 2-D inputs; X has {Xa.shape[1]} features")
        if lr.layer != 0 or lr.kind != "linear":
            raise ValueError(f"the breakline panel needs the first (Linear) layer; report.layers[{layer}] is "
                             f"weight layer {lr.layer} ({lr.kind})")
        if lr.old_weights is None or lr.new_weights is None:
            raise ValueError("the report holds no old/new weights for this layer")
        if lr.n_samples != Xa.shape[0]:
            raise ValueError(f"X has {Xa.shape[0]} rows but the layer was polished on {lr.n_samples} samples")
    ya = None
    if y is not None and Xa is not None:
        ya = as_float_array("y", y)
        if ya.ndim != 1 or ya.shape[0] != Xa.shape[0]:
            raise ValueError(f"y must have shape ({Xa.shape[0]},); got {ya.shape}")

    n_panels = 3 if Xa is not None else 2
    if ax is None:
        fig = Figure(figsize=(15.0, 5.0) if Xa is not None else (10.0, 4.0), layout="constrained")
        if Xa is not None:
            axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.6, 1.0, 1.0]})
        else:
            axes = fig.subplots(1, 2)
    else:
        try:
            axes = list(ax)
        except TypeError:
            axes = []
        if len(axes) != n_panels:
            what = "(breaklines, objectives, angles)" if Xa is not None else "(objectives, angles)"
            raise ValueError(f"ax must be a sequence of {n_panels} Axes {what}") from None
        try:
            fig = axes[0].get_figure(root=True)
        except TypeError:  # matplotlib < 3.10
            fig = axes[0].figure
    ax_o, ax_a = axes[-2], axes[-1]

    # ---- breaklines, old dashed and polished solid
    if Xa is not None:
        ax_l = axes[0]
        lr = report.layers[layer]
        W0, b0 = lr.old_weights
        W1, b1 = lr.new_weights
        m = W0.shape[0]
        b0 = np.zeros(m) if b0 is None else b0
        b1 = np.zeros(m) if b1 is None else b1
        if neurons is None:
            idx = [j for j in range(m) if lr.polished[j]]
        else:
            raw = np.atleast_1d(np.asarray(neurons))
            if raw.ndim != 1 or not (np.issubdtype(raw.dtype, np.integer) or raw.size == 0):
                raise ValueError(f"neurons must be integer indices in [0, {m}); got {neurons!r}")
            idx = [int(j) for j in raw]
            if any(not 0 <= j < m for j in idx):
                raise ValueError(f"neurons must be indices in [0, {m}); got {neurons!r}")
        lo, hi = Xa.min(axis=0), Xa.max(axis=0)
        span = np.where(hi - lo > 0, hi - lo, 1.0)
        lo, hi = lo - 0.1 * span, hi + 0.1 * span
        box = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        if ya is not None:
            yv = ya.astype(np.float64)
            ym = float(np.max(np.abs(yv))) or 1.0
            ax_l.scatter(Xa[:, 0], Xa[:, 1], c=yv, cmap="RdBu", vmin=-ym, vmax=ym, edgecolors="0.3",
                         linewidths=0.4, s=18, zorder=3)
        else:
            ax_l.scatter(Xa[:, 0], Xa[:, 1], c="0.3", s=12, zorder=3)
        colors = [f"C{k % 10}" for k in range(len(idx))]
        links, link_colors, hits, missed = [], [], [], 0
        for j, col in zip(idx, colors, strict=True):
            col = col if lr.active[j] else "0.6"
            s_old = breakline_segment(W0[j], float(b0[j]), box)
            s_new = breakline_segment(W1[j], float(b1[j]), box)
            if s_old is not None:
                ax_l.plot(s_old[:, 0], s_old[:, 1], color=col, lw=1.0, ls="--", alpha=0.8, zorder=2)
            else:
                missed += 1
            if s_new is not None:
                ax_l.plot(s_new[:, 0], s_new[:, 1], color=col, lw=1.4, ls="-", zorder=2)
            S = [int(i) for i in lr.samples[j] if 0 <= int(i) < Xa.shape[0]]
            if S and float(W0[j] @ W0[j]) > 0:
                P = Xa[S]
                F = _foot(P, W0[j], float(b0[j]))
                links += [np.stack([p, f]) for p, f in zip(P, F, strict=True)]
                link_colors += [col] * len(S)
                hits += S
        if links:
            ax_l.add_collection(LineCollection(links, colors=link_colors, linewidths=1.0, linestyles=":",
                                               zorder=4))
            H = Xa[hits]
            ax_l.scatter(H[:, 0], H[:, 1], s=70, facecolors="none", edgecolors=link_colors, linewidths=1.5,
                         zorder=5)
        ax_l.set_xlim(box[0], box[1])
        ax_l.set_ylim(box[2], box[3])
        ax_l.set_aspect("equal", adjustable="box")
        ax_l.set_xlabel(names[0])
        ax_l.set_ylabel(names[1])
        n_act = int(sum(bool(lr.active[j]) for j in idx))
        title = f"{len(idx)} polished neurons ({n_act} active after refit)"
        if missed:
            title += f"; {missed} old breakline{'s' if missed > 1 else ''} outside the window"
        ax_l.set_title(title, fontsize=10)
        handles = [Line2D([], [], color="0.2", lw=1.0, ls="--", label="before (trained)"),
                   Line2D([], [], color="0.2", lw=1.4, ls="-", label="polished"),
                   Line2D([], [], color="0.2", lw=1.0, ls=":", marker="o", mfc="none",
                          label="defining samples, joined to the old breakline"),
                   Line2D([], [], color="0.6", lw=1.4, label="set to zero by the refit")]
        ax_l.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=7,
                    frameon=False)

    # ---- objectives: before / refit only / after
    rows = [("before", report.before), ("refit only", report.refit_unpolished),
            (f"after ({report.kept})" if report.kept != "polished" else "polished", report.after)]
    rows = [(name, r) for name, r in rows if r is not None]
    if rows:
        use_obj = all(r.get("objective") is not None for _, r in rows)
        key = "objective" if use_obj else "loss"
        vals = [float(r[key]) for _, r in rows]
        bars = ax_o.bar(range(len(rows)), vals, color=["0.55", "tab:blue", "tab:orange"][:len(rows)])
        ax_o.set_xticks(range(len(rows)), [name for name, _ in rows])
        for bar, (_, r) in zip(bars, rows, strict=True):
            ax_o.annotate(f"{bar.get_height():.4g}\n{report.metric_name} {r['metric']:.3g}",
                          (bar.get_x() + bar.get_width() / 2, bar.get_height()), xytext=(0, 2),
                          textcoords="offset points", ha="center", va="bottom", fontsize=8)
        ax_o.set_ylim(0, 1.25 * max(max(vals), 1e-300))
        lam = f", lam={report.lam:g}" if report.lam is not None else ""
        ax_o.set_ylabel(f"training {key}")
        ax_o.set_title(f"training {key} ({report.loss} loss{lam})", fontsize=10)
    else:
        ax_o.text(0.5, 0.5, "no objectives\n(no output layer)", ha="center", va="center",
                  transform=ax_o.transAxes)
        ax_o.set_axis_off()

    # ---- angle moved per polished neuron
    data = [(lr.layer, lr.angle[lr.polished]) for lr in report.layers]
    data = [(k, a) for k, a in data if a.size]
    if data:
        hi_a = max(float(np.max(a)) for _, a in data)
        bins = np.linspace(0.0, max(hi_a, 1e-9) * 1.0001, 21)
        ax_a.hist([a for _, a in data], bins=bins, label=[f"layer {k}" for k, _ in data], stacked=True)
        med = float(np.median(np.concatenate([a for _, a in data])))
        ax_a.axvline(med, color="k", lw=1.0, ls="--", label=f"median {med:.3g} deg")
        ax_a.legend(fontsize=8)
    else:
        ax_a.text(0.5, 0.5, "no polished neurons", ha="center", va="center", transform=ax_a.transAxes)
    ax_a.set_xlabel("angle between old and polished neuron (deg)")
    ax_a.set_ylabel("neurons")
    ax_a.set_title("how far each neuron moved", fontsize=10)
    return fig
