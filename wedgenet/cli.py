"""The ``wedgenet`` console script.

``wedgenet demo``        fit a certified ReLU network to two interleaved spirals (embedded data)
                         and print its certificate and neurons; save a picture of the regions.
``wedgenet fit FILE.csv`` fit a network to a CSV table and save it as JSON.
``wedgenet ga-example``  the worked geometric-algebra example of the paper (section 3.4).

Errors in the input (missing file or column, non-numeric or missing cells, too few rows) are
reported as one line on stderr with exit status 2.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

__all__ = ["main", "read_table", "run_demo", "run_ga_example", "CLIError",
           "DEMO_N_SAMPLES", "DEMO_TURNS", "DEMO_LAM"]

#: The embedded demo problem: ``make_spiral(DEMO_N_SAMPLES, turns=DEMO_TURNS)`` fitted with
#: ``lam=DEMO_LAM``, ``reg="l1"``, ``bias=True`` (exact, Thm 16).  About 10^4 dictionary columns;
#: it fits every training label and takes a few seconds once numba's cache is warm.
DEMO_N_SAMPLES = 100
DEMO_TURNS = 1.5
DEMO_LAM = 0.1

#: The certificate is reported as passed when the relative duality gap and the dual violation
#: are within these tolerances (``fit`` targets a relative gap of 1e-6).
CERT_RTOL = 1e-5

_MISSING = {"", "nan", "na", "n/a", "null", "none", "?"}


class CLIError(ValueError):
    """A user-facing input error: printed as one line, exit status 2."""


def _fmt(v: np.ndarray) -> str:
    return "(" + ", ".join(f"{x:g}" for x in v) + ")"


# ---------------------------------------------------------------------------- ga-example
def run_ga_example(*, check_clifford: bool = True, out=None) -> dict:
    """Paper section 3.4: ``x1 = (1, 1)``, ``x2 = (0, 2)`` and the basis vectors ``e1, e2``.

    Each candidate neuron of Theorem 2 (p=1, no bias, d=2) is ``w = *x = cross([x])``,
    orthogonal to its generator; the column is ``(X w)_+ / ||w||_1``.  Returns the neurons.
    """
    from . import cross, hodge_star, wedge

    out = sys.stdout if out is None else out
    pool = {"x1": np.array([1.0, 1.0]), "x2": np.array([0.0, 2.0]),
            "e1": np.array([1.0, 0.0]), "e2": np.array([0.0, 1.0])}
    X = np.stack([pool["x1"], pool["x2"]])
    print("wedgenet GA example (paper section 3.4): neurons are Hodge duals of samples", file=out)
    print(f"samples X = {X.tolist()}, pool = X plus e1, e2 (docs/conventions.md#g3)\n", file=out)
    neurons = {}
    for name, v in pool.items():
        w = cross(v[None, :])
        assert np.allclose(w, hodge_star(wedge(v[None, :]), 2, 1))
        neurons[name] = w
        col = np.maximum(X @ w, 0) / np.abs(w).sum()
        print(f"  *{name} = cross({_fmt(v)}) = {_fmt(w)}   <w, {name}> = {w @ v:g}   "
              f"K column (Xw)_+/||w||_1 = {_fmt(col)}", file=out)
    if check_clifford:
        from . import from_clifford, to_clifford

        for name, v in pool.items():
            dual = from_clifford(to_clifford(v, 2, 1).dual(), 1)
            assert np.allclose(dual, neurons[name]), name
        print("\nclifford MultiVector.dual() agrees with every neuron above.", file=out)
    return neurons


# ---------------------------------------------------------------------------- shared output
def _certificate_verdict(net) -> str:
    gap_ok = net.relative_gap <= CERT_RTOL
    viol_ok = net.max_violation <= 1.0 + CERT_RTOL
    n_cols = int(net.info.get("n_columns", 0))
    sampled = bool(net.info.get("sampled", False))
    parts = [f"duality gap {net.duality_gap:.3g} (relative {net.relative_gap:.3g}, "
             f"{'<=' if gap_ok else '>'} {CERT_RTOL:g})",
             f"max dual violation {net.max_violation:.6f} over {n_cols:,} columns "
             f"({'<=' if viol_ok else '>'} 1 + {CERT_RTOL:g})"]
    if gap_ok and viol_ok and net.exact and not sampled:
        verdict = "globally optimal: the convex program is exact for this reg/bias and the gap closes"
    elif gap_ok and viol_ok and sampled:
        verdict = "optimal over a sampled dictionary only (not a global certificate)"
    elif gap_ok and viol_ok:
        verdict = f"optimal for the convex program; {net.info.get('approximation', 'approximate')}"
    else:
        verdict = "NOT certified: the solver stopped before the gap closed"
    return f"certificate check: {'; '.join(parts)}; exact formulation: {'yes' if net.exact else 'no'} -> {verdict}"


# ---------------------------------------------------------------------------- demo
def run_demo(*, n_samples: int = DEMO_N_SAMPLES, lam: float = DEMO_LAM, out_png: str | None = "wedgenet-demo.png",
             max_rows: int = 20, out=None) -> dict:
    """Fit the embedded two-spiral problem, print certificate and neurons, save a PNG.

    Returns a dict with the network (``net``), the data (``X``, ``y``), the training
    accuracy, the fit time in seconds and the PNG path written (``None`` if skipped).
    """
    import wedgenet as wn
    from wedgenet.datasets import make_spiral

    out = sys.stdout if out is None else out
    X, y = make_spiral(n_samples, turns=DEMO_TURNS)
    print(f"wedgenet demo: two interleaved spirals, make_spiral({n_samples}, turns={DEMO_TURNS:g}), "
          f"{X.shape[0]} points in the plane, labels +1/-1", file=out)
    print(f"fit: wedgenet.fit(X, y, lam={lam:g}, loss='squared', reg='l1', bias=True)  "
          "[p=1 with hidden biases, Thm 16: the wedge Lasso is exact, so its optimum is the "
          "global optimum of the non-convex ReLU network problem]", file=out)
    out.flush()
    t0 = time.perf_counter()
    net = wn.fit(X, y, lam=lam, loss="squared", reg="l1", bias=True)
    seconds = time.perf_counter() - t0
    print(f"fitted in {seconds:.1f} s (a first run also compiles numba kernels)\n", file=out)
    print(net.summary(max_rows=max_rows), file=out)
    print("", file=out)
    print(_certificate_verdict(net), file=out)
    pred = np.where(net.decision_function(X) >= 0, 1.0, -1.0)
    correct = int(np.sum(pred == y))
    acc = correct / y.size
    print(f"training accuracy: {100 * acc:.1f}% ({correct}/{y.size} points on the right side of f(x) = 0)",
          file=out)
    written = None
    if out_png is not None:
        written = _save_demo_png(net, X, y, out_png, out)
    return {"net": net, "X": X, "y": y, "accuracy": acc, "seconds": seconds, "png": written}


def _showcase_neuron(net) -> int | None:
    """The neuron to highlight: most defining samples, then largest ``|a|``."""
    if not net.n_neurons:
        return None
    size = np.array([len(r["samples"]) for r in net.provenance])
    a = np.abs(net.W2) if net.W2.ndim == 1 else np.linalg.norm(net.W2, axis=1)
    return int(np.lexsort((-a, -size))[0])


def _save_demo_png(net, X, y, out_png: str, out) -> str | None:
    try:
        from .plot import plot_decision_regions

        j = _showcase_neuron(net)
        fig = plot_decision_regions(net, X, y, highlight_neuron=j)
    except ImportError as exc:
        print(f"plot skipped: {exc}", file=out)
        return None
    path = Path(out_png)
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        raise CLIError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None
    msg = f"decision regions and breaklines written to {path}"
    if j is not None:
        rec = net.provenance[j]
        msg += f" (highlighted: neuron {j}, defined by samples {rec['samples']}: {rec['expression']})"
    print(msg, file=out)
    return str(path)


# ---------------------------------------------------------------------------- fit
def read_table(path, target: str, *, delimiter: str = ",") -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a CSV file with a header row: ``X`` from every column except ``target``, and ``y``.

    Blank lines are skipped.  Raises :class:`CLIError` (a ``ValueError``) naming the problem:
    missing file, missing or duplicated target column (listing the columns), ragged rows,
    empty/NaN cells, non-numeric or infinite values (with column and line), fewer than two
    data rows, or no feature columns.
    """
    p = Path(path)
    if not p.exists():
        raise CLIError(f"data file {str(p)!r} not found")
    if not p.is_file():
        raise CLIError(f"data file {str(p)!r} is not a regular file")
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            rows = [(lineno, row) for lineno, row in _numbered_rows(csv.reader(fh, delimiter=delimiter))]
    except UnicodeDecodeError:
        raise CLIError(f"data file {str(p)!r} is not UTF-8 text") from None
    except csv.Error as exc:
        raise CLIError(f"data file {str(p)!r} is not valid CSV: {exc}") from None
    except OSError as exc:
        raise CLIError(f"cannot read data file {str(p)!r}: {exc.strerror or exc}") from None
    if not rows:
        raise CLIError(f"data file {str(p)!r} is empty (a header row is required)")
    _, header = rows[0]
    header = [h.strip() for h in header]
    shown = ", ".join(repr(h) for h in header)
    hits = [i for i, h in enumerate(header) if h == target]
    if not hits:
        raise CLIError(f"target column {target!r} not found in {str(p)!r}; available columns: {shown}")
    if len(hits) > 1:
        raise CLIError(f"target column {target!r} appears {len(hits)} times in the header of {str(p)!r}")
    t = hits[0]
    if len(header) < 2:
        raise CLIError(f"data file {str(p)!r} has no feature columns besides the target {target!r}")
    data = rows[1:]
    if len(data) < 2:
        raise CLIError(f"data file {str(p)!r} has {len(data)} data row{'s' if len(data) != 1 else ''}; "
                       "at least 2 are needed")
    A = np.empty((len(data), len(header)), dtype=np.float64)
    for r, (lineno, row) in enumerate(data):
        if len(row) != len(header):
            raise CLIError(f"line {lineno} of {str(p)!r} has {len(row)} fields; the header has {len(header)}")
        for c, cell in enumerate(row):
            s = cell.strip()
            if s.lower() in _MISSING:
                what = "an empty cell" if not s else f"a missing value ({s!r})"
                raise CLIError(f"{what} in column {header[c]!r} at line {lineno} of {str(p)!r}; "
                               "fill or drop incomplete rows first")
            try:
                v = float(s)
            except ValueError:
                raise CLIError(f"non-numeric value {s!r} in column {header[c]!r} at line {lineno} "
                               f"of {str(p)!r}") from None
            if not math.isfinite(v):
                raise CLIError(f"non-finite value {s!r} in column {header[c]!r} at line {lineno} of {str(p)!r}")
            A[r, c] = v
    features = [h for i, h in enumerate(header) if i != t]
    X = np.delete(A, t, axis=1)
    y = A[:, t].copy()
    return X, y, features


def _numbered_rows(reader):
    """Yield ``(line number, row)`` for non-blank rows (line of the row's first physical line)."""
    line = 1
    for row in reader:
        start = line
        line = reader.line_num + 1
        if not row or all(not cell.strip() for cell in row):
            continue
        yield start, row


def run_fit(args, out=None) -> int:
    import warnings

    import wedgenet as wn

    out = sys.stdout if out is None else out
    X, y, features = read_table(args.data, args.target, delimiter=args.delimiter)
    _check_writable(args.out, "model file")
    if not (args.lam > 0 and math.isfinite(args.lam)):
        raise CLIError(f"--lam must be a positive number; got {args.lam:g}")
    bias = not args.no_bias
    print(f"read {X.shape[0]} rows x {X.shape[1]} features from {args.data}; target {args.target!r}; "
          f"features: {', '.join(features)}", file=out)
    print(f"fit: wedgenet.fit(X, y, lam={args.lam:g}, loss={args.loss!r}, reg={args.reg!r}, bias={bias}, "
          f"depth={args.depth}" + (f", max_columns={args.max_columns}" if args.max_columns else "") + ")",
          file=out)
    out.flush()
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("default")
            net = wn.fit(X, y, lam=args.lam, loss=args.loss, reg=args.reg, bias=bias, depth=args.depth,
                         max_columns=args.max_columns, random_state=args.seed,
                         dictionary_mode=args.dictionary_mode)
    except MemoryError as exc:
        raise CLIError(f"{exc} (try --max-columns to sample the dictionary, or --dictionary-mode streamed)") from None
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    except Exception as exc:  # a convex solver failed (cvxpy SolverError, Clarabel status, LAPACK)
        if type(exc).__module__.split(".")[0] not in ("cvxpy", "wedgenet", "numpy", "scipy") \
                and not isinstance(exc, RuntimeError):
            raise
        raise CLIError(f"the solver failed ({type(exc).__name__}: {exc}); rescale the features and the "
                       "target to order 1, or raise --lam") from None
    seconds = time.perf_counter() - t0
    print(f"fitted in {seconds:.1f} s\n", file=out)
    print(net.summary(max_rows=args.max_rows), file=out)
    print("", file=out)
    print(_certificate_verdict(net), file=out)
    f = net.decision_function(X)
    if net.loss == "squared" and np.ndim(f) == 1:
        rss = float(np.sum((y - f) ** 2))
        tss = float(np.sum((y - y.mean()) ** 2))
        r2 = 1.0 - rss / tss if tss > 0 else float("nan")
        print(f"training fit: RMSE {math.sqrt(rss / y.size):.4g}, R^2 {r2:.4f}", file=out)
    elif net.loss in ("logistic", "hinge"):
        print(f"training accuracy: {100 * float(np.mean(net.predict(X) == y)):.1f}%", file=out)
    elif net.loss == "softmax":
        print(f"training accuracy: {100 * float(np.mean(net.predict(X) == y.astype(int))):.1f}%", file=out)
    net.info["features"] = json.dumps(features)
    net.info["target"] = args.target
    try:
        path = net.save(args.out)
    except OSError as exc:
        raise CLIError(f"cannot write model file {str(args.out)!r}: {exc.strerror or exc}") from None
    print(f"model written to {path} (load with wedgenet.load({str(path)!r}))", file=out)
    return 0


def _check_writable(path, what: str) -> None:
    """Fail before the (slow) fit when ``path`` cannot be written."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise CLIError(f"{what} {str(p)!r} is a directory")
    if not parent.is_dir():
        raise CLIError(f"cannot write {what} {str(p)!r}: directory {str(parent)!r} does not exist")


# ---------------------------------------------------------------------------- entry point
def _positive_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {s!r}")
    return v


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wedgenet", description="ReLU neural networks from geometry: "
                                     "certified convex training with neurons that name their samples.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"wedgenet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="fit the embedded two-spiral example; print certificate and neurons",
                          description="Fit two interleaved spirals (wedgenet.datasets.make_spiral) with "
                          "reg='l1', bias=True (exact, Thm 16); print the certificate, the neuron table "
                          "with provenance and the training accuracy; save a PNG of the decision regions "
                          "and breaklines when matplotlib is installed.")
    demo.add_argument("--out-png", default="wedgenet-demo.png",
                      help="where to save the picture (default: wedgenet-demo.png)")
    demo.add_argument("--no-plot", action="store_true", help="do not save a picture")
    demo.add_argument("--n", type=_positive_int, default=DEMO_N_SAMPLES, dest="n_samples",
                      help=f"number of spiral points (default {DEMO_N_SAMPLES})")
    demo.add_argument("--lam", type=float, default=DEMO_LAM, help=f"regularisation (default {DEMO_LAM:g})")
    demo.add_argument("--max-rows", type=_positive_int, default=20, help="neurons shown in the table (default 20)")

    fit = sub.add_parser("fit", help="fit a network to a CSV file and save it as JSON",
                         description="Fit a ReLU network to a CSV file with a header row. The --target "
                         "column is y; every other column is a feature. The model is written with "
                         "WedgeNetwork.save and can be read back with wedgenet.load.")
    fit.add_argument("data", help="CSV file with a header row")
    fit.add_argument("--target", required=True, help="name of the target column")
    fit.add_argument("--lam", type=float, default=0.1, help="regularisation strength (default 0.1)")
    fit.add_argument("--reg", choices=("l1", "l2"), default="l1",
                     help="weight norm: l1 (exact, default) or l2 (approximate)")
    fit.add_argument("--loss", choices=("squared", "logistic", "hinge", "softmax"), default="squared",
                     help="loss (default squared; logistic/hinge need labels -1/+1; softmax class indices)")
    fit.add_argument("--no-bias", action="store_true",
                     help="no hidden biases and no output intercept (Thm 2/4/15/17)")
    fit.add_argument("--depth", type=int, choices=(2, 3), default=2, help="network depth (default 2)")
    fit.add_argument("--max-columns", type=_positive_int, default=None,
                     help="sample at most this many dictionary columns (large data; no global certificate)")
    fit.add_argument("--dictionary-mode", choices=("auto", "explicit", "streamed"), default="auto",
                     help="auto (default) streams the dictionary when it would not fit in memory")
    fit.add_argument("--seed", type=int, default=None, help="random seed for --max-columns sampling")
    fit.add_argument("--delimiter", default=",", help="CSV field delimiter (default ',')")
    fit.add_argument("--out", default="model.json", help="model file to write (default model.json)")
    fit.add_argument("--max-rows", type=_positive_int, default=20, help="neurons shown in the table (default 20)")

    rep = sub.add_parser("report", help="write a self-contained HTML report of a saved model",
                         description="One HTML file: certificate and scope, a figure, a sortable neuron table "
                         "and each neuron's defining samples (as rows of --data, or images with --image-shape).")
    rep.add_argument("model", help="model file written by 'wedgenet fit' or WedgeNetwork.save")
    rep.add_argument("--out", default="report.html", help="HTML file to write (default report.html)")
    rep.add_argument("--data", default=None, help="the training CSV, to show the defining samples as rows")
    rep.add_argument("--target", default=None, help="target column of --data (default: the one stored in the model)")
    rep.add_argument("--image-shape", default=None, help="show samples as HxW grey images, e.g. 8x8")
    rep.add_argument("--delimiter", default=",", help="CSV field delimiter (default ',')")

    ga = sub.add_parser("ga-example", help="the paper's worked geometric-algebra example (section 3.4)")
    ga.add_argument("--check-clifford", action="store_true",
                    help="also cross-check every neuron against clifford (compiles clifford: slow)")
    ga.add_argument("--no-clifford", action="store_true", help=argparse.SUPPRESS)  # the default since 0.1
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the console script; returns the exit status (0 ok, 2 input error)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "demo":
            if not (args.lam > 0 and math.isfinite(args.lam)):
                raise CLIError(f"--lam must be a positive number; got {args.lam:g}")
            if args.n_samples < 4:
                raise CLIError(f"--n must be at least 4; got {args.n_samples}")
            if not args.no_plot:
                _check_writable(args.out_png, "picture")
            run_demo(n_samples=args.n_samples, lam=args.lam, out_png=None if args.no_plot else args.out_png,
                     max_rows=args.max_rows)
        elif args.command == "fit":
            if len(args.delimiter) != 1:
                raise CLIError(f"--delimiter must be a single character; got {args.delimiter!r}")
            return run_fit(args)
        elif args.command == "report":
            from .report import run_report_command

            return run_report_command(args)
        elif args.command == "ga-example":
            run_ga_example(check_clifford=args.check_clifford and not args.no_clifford)
    except CLIError as exc:
        sys.stdout.flush()
        print(f"wedgenet {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
