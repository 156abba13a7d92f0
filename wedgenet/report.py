"""A self-contained HTML report of a fitted network: ``wedgenet report model.json --out report.html``.

One file, no external resources (figures are inline PNG or SVG, the table sorts with a few lines of
inline JavaScript), so it can be mailed or archived.  It holds:

* the certificate and its scope, as the network states them (the header of
  :meth:`WedgeNetwork.summary`: duality gap, dual violation over how many columns, and the verdict:
  globally optimal, optimal over a sampled dictionary only, within ``1/(1-eps)``, or not certified);
* a figure: the decision regions and breaklines for ``d = 2`` (:func:`wedgenet.plot.plot_decision_regions`),
  the fitted function for ``d = 1``, otherwise per-neuron profiles (the distribution of each of the
  largest neurons' pre-activation ``w_j . x + b_j`` over the data, its ReLU kink at 0);
* a sortable table of the neurons (click a column header);
* for every neuron, its defining training samples shown as the user's data: table rows with the
  feature names, or small images when ``image_shape`` is given (e.g. ``(8, 8)`` for digits).

Without the training data (``X=None``) the samples are listed by index and the figure is the
output weights ``|a_j|``.  matplotlib (the ``plot`` extra) is needed for the PNG figures; without it
the report says so and keeps everything else.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._linalg import group_norms
from ._text import shorten_expression, shorten_samples
from ._validation import as_float_array

__all__ = ["render_report", "write_report", "certificate_text"]

_MAX_SAMPLE_ROWS = 64  # defining samples shown per neuron (a neuron has at most d of them; d can be large)


def certificate_text(net) -> list[str]:
    """The certificate and scope lines exactly as :meth:`WedgeNetwork.summary` states them."""
    lines = net.summary(max_rows=1).splitlines()
    head = []
    for line in lines:
        if line.lstrip().startswith("#"):
            break
        head.append(line)
    return head


def _fig_to_png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(net, X, y, feature_names, top_k: int) -> tuple[str, str]:
    """(caption, base64 PNG) of the report's figure; raises ImportError without matplotlib."""
    from . import plot as wplot

    if X is not None and X.shape[1] == 2:
        j = int(wplot.top_neurons(net, 1)[0]) if net.n_neurons else None
        fig = wplot.plot_decision_regions(net, X, y, resolution=200, highlight_neuron=j,
                                          feature_names=feature_names, top_k=top_k)
        cap = (f"Decision regions, the decision boundary and the breaklines of the {min(top_k, net.n_neurons)} "
               f"neurons with the largest |a|; neuron {j} (largest |a|) highlighted with its defining samples.")
        return cap, _fig_to_png(fig)
    if X is not None and X.shape[1] == 1:
        fig = wplot.plot_function_1d(net, X[:, 0], y if y is not None and np.ndim(y) == 1 else None,
                                     feature_name=feature_names[0])
        return "The fitted function; every breakpoint is a neuron's kink at its defining sample.", _fig_to_png(fig)
    Figure = wplot._figure_class()
    order = wplot.top_neurons(net, min(top_k, 12))
    if X is None:
        fig = Figure(figsize=(8.0, 3.2), layout="constrained")
        ax = fig.add_subplot()
        a = group_norms(net.W2)
        ax.bar(np.arange(net.n_neurons), a, color="tab:blue")
        ax.set_xlabel("neuron")
        ax.set_ylabel("|a_j|")
        return "Output weight |a_j| of every neuron (no training data given).", _fig_to_png(fig)
    k = max(len(order), 1)
    cols = min(4, k)
    rows = math.ceil(k / cols)
    fig = Figure(figsize=(3.0 * cols, 2.3 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax, j in zip(axes, order, strict=False):
        z = X @ net.W1[j] + net.b1[j]
        ax.hist(z[z <= 0], bins=20, color="0.7", label="inactive")
        ax.hist(z[z > 0], bins=20, color="tab:orange", label="active")
        ax.axvline(0.0, color="k", lw=1.0)
        a = net.W2[j] if net.W2.ndim == 1 else np.linalg.norm(net.W2[j])
        ax.set_title(f"neuron {j}: a = {float(a):+.3g}", fontsize=9)
        ax.set_xlabel("w.x + b", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes[len(order):]:
        ax.set_axis_off()
    if len(order):
        axes[0].legend(fontsize=7)
    cap = (f"Per-neuron profiles of the {len(order)} neurons with the largest |a|: the distribution of the "
           "pre-activation w_j.x + b_j over the training data; samples right of 0 activate the neuron.")
    return cap, _fig_to_png(fig)


def _svg_image(values: np.ndarray, shape: tuple[int, int], lo: float, hi: float, px: int = 6) -> str:
    h, w = shape
    v = (np.asarray(values, dtype=np.float64).reshape(h, w) - lo) / (hi - lo if hi > lo else 1.0)
    g = np.clip(255 - np.round(255 * v), 0, 255).astype(int)  # dark = large, like ink on paper
    rects = "".join(f'<rect x="{c * px}" y="{r * px}" width="{px}" height="{px}" fill="rgb({g[r, c]},{g[r, c]},'
                    f'{g[r, c]})"/>' for r in range(h) for c in range(w))
    return f'<svg class="img" width="{w * px}" height="{h * px}" viewBox="0 0 {w * px} {h * px}">{rects}</svg>'


def _fmt(v: float) -> str:
    return f"{v:.6g}"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
pre.cert{background:#f6f8fa;padding:.8em;white-space:pre-wrap;border-left:4px solid #2a7;font-size:.9em}
pre.cert.bad{border-left-color:#c33}
table{border-collapse:collapse;font-size:.88em}th,td{border:1px solid #ddd;padding:3px 7px;text-align:right}
td.l,th.l{text-align:left}th{background:#f0f0f0;cursor:pointer;user-select:none;position:sticky;top:0}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
details{margin:.3em 0}summary{cursor:pointer}svg.img{margin:2px;border:1px solid #ccc}
figure img{max-width:100%}figcaption{font-size:.9em;color:#555}
"""

_JS = """
document.querySelectorAll('table.sortable').forEach(function(table){
  table.querySelectorAll('th').forEach(function(th, col){
    th.addEventListener('click', function(){
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var dir = th.classList.contains('asc') ? -1 : 1;
      table.querySelectorAll('th').forEach(function(h){h.classList.remove('asc','desc');});
      th.classList.add(dir > 0 ? 'asc' : 'desc');
      rows.sort(function(a, b){
        var x = a.cells[col].dataset.v !== undefined ? a.cells[col].dataset.v : a.cells[col].textContent;
        var y = b.cells[col].dataset.v !== undefined ? b.cells[col].dataset.v : b.cells[col].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        if (!isNaN(nx) && !isNaN(ny)) return dir * (nx - ny);
        return dir * x.localeCompare(y);
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
});
"""


def render_report(net, X=None, y=None, *, feature_names: Sequence[str] | None = None,
                  image_shape: tuple[int, int] | None = None, title: str | None = None, top_k: int = 12,
                  max_neurons: int = 1000) -> str:
    """The HTML report of ``net`` as a string (see the module docstring).

    Parameters
    ----------
    net : a fitted :class:`~wedgenet.WedgeNetwork`.
    X : optional ``(n, d)`` training data the network was fitted on (row ``i`` is sample ``i`` of the
        provenance); without it the samples are listed by index.
    y : optional ``(n,)`` targets, shown beside the samples and colouring the ``d = 2`` figure.
    feature_names : ``d`` column names (default ``x[0]..``; a model written by ``wedgenet fit``
        stores its CSV header, used when this is None).
    image_shape : ``(h, w)`` with ``h * w = d``: show samples as grey images (e.g. digits).
    title : page title (default "wedgenet report").
    top_k : neurons drawn in the figure (largest ``|a|``).
    max_neurons : neurons listed (largest ``|a|`` first); the rest are counted.
    """
    from .network import WedgeNetwork

    if not isinstance(net, WedgeNetwork):
        raise ValueError(f"net must be a WedgeNetwork; got {type(net).__name__}")
    d = int(net.n_features)
    Xa = None
    if X is not None:
        Xa = as_float_array("X", X, ndim=2)
        if Xa.shape[1] != d:
            raise ValueError(f"X has {Xa.shape[1]} columns but the network has {d} input features")
        if Xa.shape[0] == 0:
            raise ValueError("X is empty")
        used = [int(i) for rec in net.provenance for i in rec.get("samples", [])]
        if used and max(used) >= Xa.shape[0]:
            raise ValueError(f"X has {Xa.shape[0]} rows but the neurons name sample {max(used)}: "
                             "pass the training data the network was fitted on")
    ya = None
    if y is not None:
        if Xa is None:
            raise ValueError("y needs X")
        ya = np.asarray(y)
        if ya.shape[:1] != (Xa.shape[0],):
            raise ValueError(f"y must have {Xa.shape[0]} rows; got shape {ya.shape}")
    if feature_names is None and isinstance(net.info.get("features"), str):
        try:
            stored = json.loads(net.info["features"])
            if isinstance(stored, list) and len(stored) == d:
                feature_names = [str(s) for s in stored]
        except ValueError:
            pass
    names = [f"x[{k}]" for k in range(d)] if feature_names is None else [str(f) for f in feature_names]
    if len(names) != d:
        raise ValueError(f"feature_names must hold {d} names; got {len(names)}")
    if image_shape is not None:
        if len(image_shape) != 2 or any(int(s) < 1 for s in image_shape) or int(image_shape[0]) * int(
                image_shape[1]) != d:
            raise ValueError(f"image_shape must be (h, w) with h * w = {d}; got {image_shape!r}")
        image_shape = (int(image_shape[0]), int(image_shape[1]))
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ValueError(f"top_k must be a positive integer; got {top_k!r}")
    if isinstance(max_neurons, bool) or not isinstance(max_neurons, (int, np.integer)) or max_neurons < 1:
        raise ValueError(f"max_neurons must be a positive integer; got {max_neurons!r}")
    esc = html.escape
    title = title or "wedgenet report"
    cert = certificate_text(net)
    certified = not any("NOT certified" in line for line in cert)

    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{esc(title)}</title>"
             f"<style>{_CSS}</style></head><body>", f"<h1>{esc(title)}</h1>"]
    target = net.info.get("target")
    parts.append(f"<p>{net.n_neurons} neurons, depth {net.depth}, reg={esc(net.reg)}, loss={esc(net.loss)}, "
                 f"lam={net.lam:g}, bias={net.bias}; {d} input feature{'s' if d != 1 else ''}"
                 + (f"; target <code>{esc(str(target))}</code>" if target else "") + ".</p>")
    parts.append("<h2 id='certificate'>Certificate and scope</h2>")
    parts.append(f"<pre class='cert{'' if certified else ' bad'}'>{esc(chr(10).join(cert))}</pre>")
    parts.append("<p>Conventions and the meaning of each verdict: the project's documentation, "
                 "<code>docs/conventions.md#certificate</code>.</p>")

    parts.append("<h2 id='figure'>Figure</h2>")
    try:
        cap, png = _figure(net, Xa, None if ya is None else ya.astype(np.float64) if ya.ndim == 1 else None,
                           names, int(top_k))
        parts.append(f"<figure><img alt='{esc(cap)}' src='data:image/png;base64,{png}'>"
                     f"<figcaption>{esc(cap)}</figcaption></figure>")
    except ImportError:
        parts.append("<p>No figure: matplotlib is not installed (<code>pip install 'wedgenet[plot]'</code>).</p>")

    from .plot import top_neurons

    order = [int(j) for j in top_neurons(net, None)][: int(max_neurons)]
    a_abs = group_norms(net.W2)
    parts.append("<h2 id='neurons'>Neurons</h2><p>Click a column header to sort. The expression is shortened; "
                 "hover it for the full form.</p>")
    head = ["neuron", "a", "|a|", "samples", "expression", "theorem", "orientation", "active samples"]
    parts.append("<table class='sortable' id='neuron-table'><thead><tr>"
                 + "".join(f"<th class='{'l' if h in ('samples', 'expression', 'theorem') else ''}'>{h}</th>"
                           for h in head) + "</tr></thead><tbody>")
    for j in order:
        rec = net.provenance[j]
        a = net.W2[j]
        a_s = _fmt(float(a)) if np.ndim(a) == 0 else esc(np.array2string(np.asarray(a), precision=3))
        a_v = float(a) if np.ndim(a) == 0 else float(a_abs[j])
        expr = str(rec.get("expression", ""))
        smp = [int(i) for i in rec.get("samples", [])]
        n_act = rec.get("n_active")
        parts.append(
            f"<tr><td data-v='{j}'>{j}</td><td data-v='{a_v!r}'>{a_s}</td><td data-v='{float(a_abs[j])!r}'>"
            f"{_fmt(float(a_abs[j]))}</td><td class='l'>{esc(shorten_samples(smp))}</td>"
            f"<td class='l' title='{esc(expr)}'>{esc(shorten_expression(expr))}</td>"
            f"<td class='l'>{esc(str(rec.get('theorem', '')))}</td><td>{int(rec.get('orientation', 1)):+d}</td>"
            f"<td data-v='{-1 if n_act is None else int(n_act)}'>{'' if n_act is None else int(n_act)}</td></tr>")
    parts.append("</tbody></table>")
    if net.n_neurons > len(order):
        parts.append(f"<p>{net.n_neurons - len(order)} more neurons with smaller |a| are not listed.</p>")

    parts.append("<h2 id='samples'>Defining samples</h2>")
    if Xa is None:
        parts.append("<p>The training data was not given, so samples are listed by index only "
                     "(<code>wedgenet report model.json --data train.csv --target y</code> shows them as rows).</p>")
    else:
        lo, hi = float(np.min(Xa)), float(np.max(Xa))
        for j in order:
            rec = net.provenance[j]
            smp = [int(i) for i in rec.get("samples", [])]
            kinds = [str(k) for k in rec.get("kinds", [])]
            parts.append(f"<details id='neuron-{j}'><summary>neuron {j}: {len(smp)} sample"
                         f"{'s' if len(smp) != 1 else ''} {esc(shorten_samples(smp))}</summary>")
            if not smp:
                parts.append("<p>Defined by basis vectors only.</p></details>")
                continue
            shown = smp[:_MAX_SAMPLE_ROWS]
            if image_shape is not None:
                parts.append("<div>" + "".join(
                    f"<span title='sample {i}'>{_svg_image(Xa[i], image_shape, lo, hi)}</span>" for i in shown)
                    + "</div>")
            else:
                cols = ["sample"] + names + ([str(target or "y")] if ya is not None and ya.ndim == 1 else [])
                rows = []
                for i in shown:
                    cells = [f"<td>{i}</td>"] + [f"<td>{_fmt(float(v))}</td>" for v in Xa[i]]
                    if ya is not None and ya.ndim == 1:
                        cells.append(f"<td>{esc(str(ya[i]))}</td>")
                    rows.append("<tr>" + "".join(cells) + "</tr>")
                parts.append("<table><thead><tr>" + "".join(f"<th>{esc(c)}</th>" for c in cols)
                             + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
            if kinds:
                counts = Counter(kinds)
                parts.append("<p>roles: " + esc(", ".join(f"{c} x {k}" if c > 1 else k for k, c in counts.items()))
                             + "</p>")
            if len(smp) > len(shown):
                parts.append(f"<p>{len(smp) - len(shown)} more samples not shown.</p>")
            parts.append("</details>")
    parts.append(f"<script>{_JS}</script></body></html>")
    return "\n".join(parts)


def write_report(net, out, X=None, y=None, **kwargs) -> Path:
    """Write :func:`render_report` to ``out`` (UTF-8) and return the path; ``net`` may be a model file."""
    from .network import WedgeNetwork, load

    if not isinstance(net, WedgeNetwork):
        if not isinstance(net, (str, Path)):
            raise ValueError(f"net must be a WedgeNetwork or a model file path; got {type(net).__name__}")
        net = load(net)
    text = render_report(net, X, y, **kwargs)
    path = Path(out)
    path.write_text(text, encoding="utf-8")
    return path


def run_report_command(args, out=None) -> int:
    """``wedgenet report MODEL --out FILE [--data CSV --target COL] [--image-shape HxW]`` (used by the CLI)."""
    import sys

    from .cli import CLIError, atomic_write, check_output, read_table
    from .network import load

    out = sys.stdout if out is None else out
    try:
        net = load(args.model)
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot read the model: {exc}") from None
    X = y = names = None
    if args.data is not None:
        target = args.target or net.info.get("target")
        if not target:
            raise CLIError("--data needs --target (the model file does not name its target column)")
        X, y, names = read_table(args.data, str(target), delimiter=args.delimiter)
    elif args.target is not None:
        raise CLIError("--target needs --data")
    shape = None
    if args.image_shape is not None:
        try:
            h, w = (int(s) for s in args.image_shape.lower().split("x"))
            shape = (h, w)
        except ValueError:
            raise CLIError(f"--image-shape must look like 8x8; got {args.image_shape!r}") from None
    # the CLI's rule for outputs: never one of the inputs, never an existing file without --force,
    # checked before the figure is drawn; the file appears complete or not at all
    path = check_output(args.out, "report file", inputs=[args.model] + ([args.data] if args.data else []),
                        force=bool(getattr(args, "force", False)))
    try:
        text = render_report(net, X, y, feature_names=names, image_shape=shape)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"), "report file")
    print(f"report written to {path}", file=out)
    return 0
