"""The ``wedgenet`` console script.

``wedgenet demo``          fit a certified ReLU network to two interleaved spirals (embedded data)
                           and print its certificate and neurons (``--out-png`` saves a picture).
``wedgenet fit FILE.csv``  fit a network to a CSV table (task detected from the target) and save it.
``wedgenet predict M F``   predict a CSV table with a saved model, matching columns by name.
``wedgenet report M``      write a self-contained HTML report of a saved model (wedgenet.report).
``wedgenet ga-example``    the worked geometric-algebra example of the paper (section 3.4).

Every failure is reported as one line on stderr with exit status 2 (``WEDGENET_DEBUG=1`` shows the
traceback instead); Ctrl-C prints one line and exits with status 130.  Files are written atomically
(a temporary file in the same directory, then ``os.replace``); an existing file is never replaced
without ``--force`` and an output is never one of the inputs.

Subcommands are registered in :data:`COMMANDS` by :func:`register_command` (a name, a function that
adds the subcommand's arguments to its parser, and a function that runs it), so that a new
subcommand is one call.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import math
import os
import re
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._linalg import group_norms

__all__ = ["main", "read_table", "run_demo", "run_ga_example", "CLIError", "register_command", "COMMANDS",
           "detect_task", "atomic_write", "DEMO_N_SAMPLES", "DEMO_TURNS", "DEMO_LAM", "DEFAULT_TIME_LIMIT",
           "CV_LAM_RATIOS"]

#: the registered losses (``wedgenet.solvers.LOSSES``), listed here so that ``--help`` does not import
#: the solvers; tests/conformance checks the two agree
LOSS_NAMES = ("squared", "logistic", "hinge", "squared_hinge", "softmax")

#: The embedded demo problem: ``make_spiral(DEMO_N_SAMPLES, turns=DEMO_TURNS)`` fitted with
#: ``lam=DEMO_LAM``, ``reg="l1"``, ``bias=True`` (exact, Thm 16).  About 10^4 dictionary columns;
#: it fits every training label and takes a few seconds once numba's cache is warm.
DEMO_N_SAMPLES = 100
DEMO_TURNS = 1.5
DEMO_LAM = 0.1

#: ``wedgenet fit --time-limit`` default (seconds): when the pricing passes of a fit over every
#: candidate are estimated to take longer, the candidates are sampled instead (and the
#: certificate's scope says so).  It keeps a default fit of a 10-30 feature table of a few hundred
#: rows near a minute on 2 cores.
DEFAULT_TIME_LIMIT = 30.0

#: the ``lam_ratio`` values ``--cv K`` compares (a geometric grid below ``lam_max``); the same as
#: ``wedgenet.estimators.DEFAULT_LAM_RATIOS`` (written out so that the CLI starts without scikit-learn)
CV_LAM_RATIOS = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01)

#: integer targets with at most this many distinct values (and at most half as many as rows) are
#: classes
MAX_CLASSES_DETECTED = 20

_MISSING = {"", "nan", "na", "n/a", "null", "none", "?"}


class CLIError(ValueError):
    """A user-facing input error: printed as one line, exit status 2."""


# ---------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class Command:
    """A subcommand: ``configure(parser)`` adds its arguments, ``run(args) -> int`` runs it."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None


#: the subcommands, in the order ``wedgenet --help`` lists them
COMMANDS: dict[str, Command] = {}


def register_command(name: str, help: str, configure, run, description: str | None = None) -> None:
    """Add (or replace) the subcommand ``name``; ``run`` returns the exit status."""
    COMMANDS[name] = Command(name, help, configure, run, description)


# ---------------------------------------------------------------------------- files
def _same_file(a: Path, b: Path) -> bool:
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return a.resolve() == b.resolve()


def check_output(path, what: str, *, inputs=(), force: bool = False) -> Path:
    """Fail before any slow work when ``path`` cannot or must not be written.

    Refuses a directory, a missing parent directory, one of ``inputs`` (even with ``force``)
    and an existing file unless ``force``.
    """
    p = Path(path)
    for src in inputs:
        if _same_file(p, Path(src)):
            raise CLIError(f"{what} {str(p)!r} is an input of this command; choose another file name")
    if p.is_dir():
        raise CLIError(f"{what} {str(p)!r} is a directory")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise CLIError(f"cannot write {what} {str(p)!r}: directory {str(parent)!r} does not exist")
    if p.exists() and not force:
        raise CLIError(f"{what} {str(p)!r} already exists; pass --force to replace it")
    return p


def atomic_write(path, write: Callable[[Path], object], what: str = "file") -> Path:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then ``os.replace`` it onto ``path``.

    A reader never sees a half-written file and a failure (or Ctrl-C) leaves ``path`` untouched.
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{p.name}.", suffix=".tmp" + p.suffix)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.replace(tmp_path, p)
    except OSError as exc:
        raise CLIError(f"cannot write {what} {str(p)!r}: {exc.strerror or exc}") from None
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return p


# ---------------------------------------------------------------------------- ga-example
def _fmt(v: np.ndarray) -> str:
    return "(" + ", ".join(f"{x:g}" for x in v) + ")"


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


# ---------------------------------------------------------------------------- demo
def run_demo(*, n_samples: int = DEMO_N_SAMPLES, lam: float = DEMO_LAM, out_png: str | None = None,
             max_rows: int = 20, out=None) -> dict:
    """Fit the embedded two-spiral problem, print certificate and neurons, and save a picture of the
    decision regions to ``out_png`` when it is given (nothing is written otherwise).

    Returns a dict with the network (``net``), the data (``X``, ``y``), the training
    accuracy, the fit time in seconds and the picture path written (``None`` if none).
    """
    import wedgenet as wn
    from wedgenet.datasets import make_spiral

    out = sys.stdout if out is None else out
    X, y = make_spiral(n_samples, turns=DEMO_TURNS)
    print(f"wedgenet demo: two interleaved spirals, make_spiral({n_samples}, turns={DEMO_TURNS:g}), "
          f"{X.shape[0]} points in the plane, labels +1/-1", file=out)
    print(f"fit: wedgenet.fit(X, y, lam={lam:g}, loss='squared', reg='l1', bias=True)  "
          "[p=1 with hidden biases, Thm 16: the wedge Lasso is exact, so a gap closed over every "
          "candidate proves the global optimum of the non-convex ReLU network problem]", file=out)
    out.flush()
    t0 = time.perf_counter()
    net = wn.fit(X, y, lam=lam, loss="squared", reg="l1", bias=True)
    seconds = time.perf_counter() - t0
    print(f"fitted in {seconds:.1f} s (a first run also compiles numba kernels)\n", file=out)
    print(net.summary(max_rows=max_rows), file=out)
    print("", file=out)
    print(f"certificate: {_verdict(net)}", file=out)
    pred = np.where(net.decision_function(X) >= 0, 1.0, -1.0)
    correct = int(np.sum(pred == y))
    acc = correct / y.size
    print(f"training accuracy: {100 * acc:.1f}% ({correct}/{y.size} points on the right side of f(x) = 0)",
          file=out)
    written = None
    if out_png is not None:
        written = _save_demo_png(net, X, y, out_png, out)
    else:
        print("picture: not saved (pass --out-png regions.png to save the decision regions and breaklines)",
              file=out)
    return {"net": net, "X": X, "y": y, "accuracy": acc, "seconds": seconds, "png": written}


def _verdict(net) -> str:
    """The certificate's one-line verdict and its scope."""
    cert = net.certificate
    return f"{cert.verdict()} [scope: {cert.scope}]"


def _showcase_neuron(net) -> int | None:
    """The neuron to highlight: most defining samples, then largest ``|a|``."""
    if not net.n_neurons:
        return None
    size = np.array([len(r["samples"]) for r in net.provenance])
    a = group_norms(net.W2)
    return int(np.lexsort((-a, -size))[0])


def _picture_formats() -> set[str] | None:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    return set(Figure().canvas.get_supported_filetypes())


def _save_demo_png(net, X, y, out_png: str, out) -> str | None:
    try:
        from .plot import plot_decision_regions

        j = _showcase_neuron(net)
        fig = plot_decision_regions(net, X, y, highlight_neuron=j)
    except ImportError as exc:
        print(f"plot skipped: {exc}", file=out)
        return None
    path = Path(out_png)
    fmt = path.suffix.lstrip(".").lower() or "png"
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format=fmt), "picture")
    msg = f"decision regions and breaklines written to {path}"
    if j is not None:
        rec = net.provenance[j]
        msg += f" (highlighted: neuron {j}, defined by samples {rec['samples']}: {rec['expression']})"
    print(msg, file=out)
    return str(path)


def _configure_demo(p: argparse.ArgumentParser) -> None:
    pic = p.add_mutually_exclusive_group()
    pic.add_argument("--out-png", default=None, metavar="PATH",
                     help="save a picture of the decision regions there (.png, .svg, .pdf ...); "
                          "by default no file is written")
    pic.add_argument("--no-plot", action="store_true",
                     help="save no picture (the default; accepted for scripts written for older versions)")
    p.add_argument("--force", action="store_true", help="replace an existing picture")
    p.add_argument("--n", type=_positive_int, default=DEMO_N_SAMPLES, dest="n_samples",
                   help=f"number of spiral points (default {DEMO_N_SAMPLES})")
    p.add_argument("--lam", type=float, default=DEMO_LAM, help=f"regularisation (default {DEMO_LAM:g})")
    p.add_argument("--max-rows", type=_positive_int, default=20, help="neurons shown in the table (default 20)")


def _run_demo_command(args) -> int:
    if not (args.lam > 0 and math.isfinite(args.lam)):
        raise CLIError(f"--lam must be a positive number; got {args.lam:g}")
    if args.n_samples < 4:
        raise CLIError(f"--n must be at least 4; got {args.n_samples}")
    if args.n_samples > 2000:
        raise CLIError(f"--n must be at most 2000 (the exact spiral dictionary grows as n^2); got {args.n_samples}")
    if args.out_png is not None:
        check_output(args.out_png, "picture", force=args.force)
        formats = _picture_formats()
        if formats is None:
            raise CLIError("--out-png needs matplotlib, which is not installed: pip install 'wedgenet[plot]'")
        suffix = Path(args.out_png).suffix.lstrip(".").lower()
        if suffix not in formats:
            raise CLIError(f"--out-png {args.out_png!r}: unsupported picture format {suffix!r}; "
                           f"use one of .{', .'.join(sorted(formats))}")
    run_demo(n_samples=args.n_samples, lam=args.lam, out_png=args.out_png, max_rows=args.max_rows)
    return 0


# ---------------------------------------------------------------------------- CSV input
def _read_rows(path, delimiter: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header (stripped) and ``(line number, row)`` of the non-blank data rows of a CSV file."""
    p = Path(path)
    if not p.exists():
        raise CLIError(f"data file {str(p)!r} not found")
    if not p.is_file():
        raise CLIError(f"data file {str(p)!r} is not a regular file")
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(_numbered_rows(csv.reader(fh, delimiter=delimiter)))
    except UnicodeDecodeError:
        raise CLIError(f"data file {str(p)!r} is not UTF-8 text") from None
    except csv.Error as exc:
        raise CLIError(f"data file {str(p)!r} is not valid CSV: {exc}") from None
    except OSError as exc:
        raise CLIError(f"cannot read data file {str(p)!r}: {exc.strerror or exc}") from None
    if not rows:
        raise CLIError(f"data file {str(p)!r} is empty (a header row is required)")
    header = [h.strip() for h in rows[0][1]]
    data = rows[1:]
    for lineno, row in data:
        if len(row) != len(header):
            raise CLIError(f"line {lineno} of {str(p)!r} has {len(row)} fields; the header has {len(header)}")
    return header, data


def _column_index(header: list[str], name: str, what: str, path) -> int:
    hits = [i for i, h in enumerate(header) if h == name]
    if not hits:
        shown = ", ".join(repr(h) for h in header)
        raise CLIError(f"{what} column {name!r} not found in {str(path)!r}; available columns: {shown}")
    if len(hits) > 1:
        raise CLIError(f"{what} column {name!r} appears {len(hits)} times in the header of {str(path)!r}")
    return hits[0]


def _cell(s: str, column: str, lineno: int, path, *, numeric: bool) -> float | str:
    s = s.strip()
    if s.lower() in _MISSING:
        what = "an empty cell" if not s else f"a missing value ({s!r})"
        raise CLIError(f"{what} in column {column!r} at line {lineno} of {str(path)!r}; "
                       "fill or drop incomplete rows first")
    try:
        v = float(s)
    except ValueError:
        if not numeric:
            return s
        raise CLIError(f"non-numeric value {s!r} in column {column!r} at line {lineno} of {str(path)!r}") from None
    if not math.isfinite(v):
        raise CLIError(f"non-finite value {s!r} in column {column!r} at line {lineno} of {str(path)!r}")
    return v


def _numeric_matrix(header, data, columns: list[int], path) -> np.ndarray:
    A = np.empty((len(data), len(columns)), dtype=np.float64)
    for r, (lineno, row) in enumerate(data):
        for k, c in enumerate(columns):
            A[r, k] = _cell(row[c], header[c], lineno, path, numeric=True)
    return A


def read_table(path, target: str, *, delimiter: str = ",", exclude=()) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Read a CSV file with a header row: ``X`` from every column except ``target`` and ``exclude``.

    ``y`` is float64 when every target cell is a number, else an array of the stripped strings
    (class labels).  Blank lines are skipped.  Raises :class:`CLIError` (a ``ValueError``) naming
    the problem: missing file, missing or duplicated target/excluded column (listing the columns),
    ragged rows, empty/NaN cells, non-numeric or infinite feature values (with column and line),
    fewer than two data rows, or no feature columns.
    """
    header, data = _read_rows(path, delimiter)
    t = _column_index(header, target, "target", path)
    skip = {t}
    for name in exclude:
        i = _column_index(header, name, "excluded", path)
        if i == t:
            raise CLIError(f"--exclude {name!r} is the target column")
        skip.add(i)
    feats = [i for i in range(len(header)) if i not in skip]
    if not feats:
        raise CLIError(f"data file {str(path)!r} has no feature columns besides the target {target!r}"
                       + (" and the excluded ones" if exclude else ""))
    if len(data) < 2:
        raise CLIError(f"data file {str(path)!r} has {len(data)} data row{'s' if len(data) != 1 else ''}; "
                       "at least 2 are needed")
    X = _numeric_matrix(header, data, feats, path)
    cells = [_cell(row[t], header[t], lineno, path, numeric=False) for lineno, row in data]
    if all(isinstance(c, float) for c in cells):
        y = np.asarray(cells, dtype=np.float64)
    else:
        y = np.asarray([c if isinstance(c, str) else row[t].strip() for c, (_, row) in zip(cells, data, strict=True)],
                       dtype=object)
    return X, y, [header[i] for i in feats]


def _numbered_rows(reader):
    """Yield ``(line number, row)`` for non-blank rows (line of the row's first physical line)."""
    line = 1
    for row in reader:
        start = line
        line = reader.line_num + 1
        if not row or all(not cell.strip() for cell in row):
            continue
        yield start, row


# ---------------------------------------------------------------------------- task detection
def detect_task(y: np.ndarray) -> tuple[str, str]:
    """``("classification" | "regression", why)`` from the target values.

    String targets are classes; integer-valued targets with at most :data:`MAX_CLASSES_DETECTED`
    distinct values (and at most half as many as rows) are classes; anything else is regression.
    """
    values = np.unique(y)
    k = values.size
    shown = ", ".join(str(v if not isinstance(v, float) else f"{v:g}") for v in values[:5]) + (
        ", ..." if k > 5 else "")
    if y.dtype == object:
        return "classification", f"text target with {k} distinct values ({shown})"
    integer = bool(np.all(y == np.round(y)))
    if integer and k <= MAX_CLASSES_DETECTED and k <= max(2, y.size // 2):
        return "classification", f"integer target with {k} distinct values ({shown})"
    if integer:
        return "regression", f"integer target with {k} distinct values, too many for classes"
    return "regression", f"numeric target with {k} distinct values"


def _resolve_loss(args, y) -> tuple[str, str, str]:
    """``(task, loss, why)`` from ``--task``, ``--loss`` and the target values."""
    from .solvers import get_loss

    if args.loss != "auto":
        task = get_loss(args.loss).task
        if args.task not in ("auto", task):
            raise CLIError(f"--loss {args.loss} is a {task} loss but --task is {args.task}")
        return task, args.loss, f"--loss {args.loss}"
    if args.task == "auto":
        task, why = detect_task(y)
        why += " (--task overrides)"
    else:
        task, why = args.task, f"--task {args.task}"
    if task == "regression":
        if y.dtype == object:
            raise CLIError(f"--task regression needs a numeric target; {args.target!r} holds text")
        return task, "squared", why
    k = np.unique(y).size
    if k < 2:
        raise CLIError(f"classification needs at least two classes; target {args.target!r} has one value")
    return task, ("logistic" if k == 2 else "softmax"), why + f"; {'logistic' if k == 2 else 'softmax'} loss"


# ---------------------------------------------------------------------------- scores
def _score(task: str, net, X, y) -> tuple[float, str]:
    """``(value, text)``: R^2 (regression) or accuracy (classification) of ``net`` on ``(X, y)``."""
    if task == "regression":
        f = net.predict(X)
        rss = float(np.sum((y - f) ** 2))
        tss = float(np.sum((y - y.mean()) ** 2))
        r2 = 1.0 - rss / tss if tss > 0 else float("nan")
        return r2, f"R^2 {r2:.4f}, RMSE {math.sqrt(rss / y.size):.4g}"
    pred = np.asarray(net.predict(X))
    acc = float(np.mean(pred.astype(str) == np.asarray(y).astype(str))) if y.dtype == object else \
        float(np.mean(pred == y))
    return acc, f"accuracy {100 * acc:.1f}%"


def _split(n: int, y, test_size: float, seed: int | None, classification: bool):
    from sklearn.model_selection import train_test_split

    idx = np.arange(n)
    strat = y if classification and np.unique(y).size > 1 and np.min(np.unique(y, return_counts=True)[1]) >= 2 else None
    try:
        return train_test_split(idx, test_size=test_size, random_state=0 if seed is None else seed, stratify=strat)
    except ValueError as exc:
        raise CLIError(f"--test-size {test_size:g}: {exc}") from None


# ---------------------------------------------------------------------------- fit
def _library_message(exc: BaseException) -> str:
    """A library error as the CLI user needs it: Python keywords spelt as CLI options."""
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # a keyword without a value gets the CLI option with one that works
    msg = re.sub(r"(?<![\w-])max_columns=(\.\.\.)?(?![\w.])", f"--max-columns {SUGGESTED_MAX_COLUMNS}", msg)
    msg = re.sub(r"(?<![\w-])time_limit=(\.\.\.)?(?![\w.])", "--time-limit SECONDS", msg)
    for kw, opt in (("max_columns", "--max-columns"), ("time_limit", "--time-limit"), ("lam_ratio", "--lam-ratio"),
                    ("max_iter", "--max-iter"), ("dictionary_mode", "--dictionary-mode")):
        msg = re.sub(rf"(?<![\w-]){kw}(?=\s*=)", opt, msg)
    return msg[:500]


#: the ``--max-columns`` value suggested by messages that have no better one
SUGGESTED_MAX_COLUMNS = 20_000


def _suggest_max_columns(net) -> int:
    """A sampled-candidate budget ten times the one used (at least 20,000)."""
    used = int(getattr(net.certificate, "n_columns_priced", 0) or net.info.get("n_columns", 0))
    return max(SUGGESTED_MAX_COLUMNS, 10 * used)


def _fit_kwargs(args, loss: str, features: list[str]) -> dict:
    kw = dict(loss=loss, reg=args.reg, bias=not args.no_bias, depth=args.depth, max_columns=args.max_columns,
              random_state=args.seed, tol=args.tol, max_iter=args.max_iter, dictionary_mode=args.dictionary_mode,
              standardize=not args.no_standardize, time_limit=args.time_limit, verbose=args.verbose,
              feature_names=features)
    if getattr(args, "bound_time", None) is not None:
        if not args.bound_time > 0:
            raise CLIError(f"--bound-time must be a positive number of seconds; got {args.bound_time:g}")
        kw["bound_time"] = args.bound_time
    return kw


def _cv_choose(args, task, X, y, kw, out) -> tuple[float, str]:
    from .estimators import cv_lam_ratio_scores

    ratios = np.asarray(CV_LAM_RATIOS)
    metric = "R^2" if task == "regression" else "accuracy"
    print(f"cross-validation: {args.cv}-fold over lam_ratio {', '.join(f'{r:g}' for r in ratios)} "
          f"(a warm-started path per fold; held-out {metric})", file=out)
    out.flush()
    with _warnings_as_notes(out):
        scores = cv_lam_ratio_scores(X, y, ratios, cv=args.cv, classification=task == "classification",
                                     random_state=args.seed, fit_kwargs=kw)
    mean = scores.mean(axis=1)
    best = int(np.nanargmax(mean))
    for r, s, row in zip(ratios, mean, scores, strict=True):
        mark = "  <- best" if r == ratios[best] else ""
        print(f"  lam_ratio {r:<5g} held-out {metric} {s:.4f} (folds {', '.join(f'{v:.3f}' for v in row)}){mark}",
              file=out)
    return float(ratios[best]), f"chosen by {args.cv}-fold cross-validation (mean held-out {metric} {mean[best]:.4f})"


@contextlib.contextmanager
def _warnings_as_notes(out):
    """Show each library warning once, as one ``note:`` line with the CLI's option names."""
    seen = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = _library_message(message if isinstance(message, Exception) else str(message))
        if text not in seen:
            seen.add(text)
            print(f"note: {text}", file=out)
            out.flush()

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        yield


def run_fit(args, out=None) -> int:
    import wedgenet as wn

    out = sys.stdout if out is None else out
    if len(args.delimiter) != 1:
        raise CLIError(f"--delimiter must be a single character; got {args.delimiter!r}")
    _check_fit_options(args)
    X, y, features = read_table(args.data, args.target, delimiter=args.delimiter, exclude=args.exclude)
    out_path = check_output(args.out, "model file", inputs=[args.data], force=args.force)
    task, loss, why = _resolve_loss(args, y)
    excluded = f" (excluded: {', '.join(args.exclude)})" if args.exclude else ""
    print(f"read {X.shape[0]} rows x {X.shape[1]} features from {args.data}; target {args.target!r}; "
          f"features: {', '.join(features)}{excluded}", file=out)
    if task == "regression" and y.dtype == object:
        raise CLIError(f"target {args.target!r} holds text; regression needs numbers")
    train, test = (np.arange(y.size), None) if args.test_size is None else \
        _split(y.size, y, args.test_size, args.seed, task == "classification")
    Xtr, ytr = X[train], y[train]
    from .estimators import encode_class_indices

    labels = None
    from .solvers.losses import get_loss

    if get_loss(loss).labels == "classes":  # integer labels are read as class indices: fit their ranks
        labels = np.unique(ytr)
        ytr = encode_class_indices(ytr, labels)
    kw = _fit_kwargs(args, loss, features)
    if args.lam is not None:
        strength, strength_why = dict(lam=args.lam), f"lam={args.lam:g} (--lam, absolute)"
    elif args.cv:
        ratio, how = _cv_choose(args, task, Xtr, ytr, kw, out)
        strength, strength_why = dict(lam_ratio=ratio), f"lam_ratio={ratio:g} ({how})"
    else:
        default = " (default)" if args.lam_ratio == LAM_RATIO_DEFAULT else ""
        strength, strength_why = dict(lam_ratio=args.lam_ratio), f"lam_ratio={args.lam_ratio:g}{default}"
    print(f"fitting {task} ({loss} loss), {strength_why}" + (", standardized" if not args.no_standardize else "")
          + f", time limit {args.time_limit:g} s ...", file=out)
    out.flush()
    t0 = time.perf_counter()
    try:
        with _warnings_as_notes(out):
            net = wn.fit(Xtr, ytr, **strength, **kw)
    except wn.FitInterrupted as exc:
        if labels is not None and exc.network is not None:
            exc.network.classes = tuple(labels.tolist())
        return _interrupted(exc, args, out_path, features, time.perf_counter() - t0)
    seconds = time.perf_counter() - t0
    if labels is not None:
        net.classes = tuple(labels.tolist())
    print(f"fitted in {seconds:.1f} s\n", file=out)
    print(net.summary(max_rows=args.max_rows), file=out)
    _save_model(net, args, features, out_path)
    _report(args, task, loss, why, strength_why, net, X, y, train, test, features, out_path, seconds, out)
    return 0


LAM_RATIO_DEFAULT = 0.05  # wedgenet.settings.DEFAULT_LAM_RATIO


def _check_fit_options(args) -> None:
    if args.lam is not None and not (args.lam > 0 and math.isfinite(args.lam)):
        raise CLIError(f"--lam must be a positive number; got {args.lam:g}")
    if not (0 < args.lam_ratio <= 1):
        raise CLIError(f"--lam-ratio must be in (0, 1]; got {args.lam_ratio:g}")
    if args.lam is not None and args.cv:
        raise CLIError("--cv chooses the strength; it cannot be combined with --lam")
    if args.test_size is not None and not (0 < args.test_size < 1):
        raise CLIError(f"--test-size must be a fraction in (0, 1); got {args.test_size:g}")
    if not (args.tol > 0 and math.isfinite(args.tol)):
        raise CLIError(f"--tol must be a positive number; got {args.tol:g}")
    if not (args.time_limit > 0 and math.isfinite(args.time_limit)):
        raise CLIError(f"--time-limit must be a positive number of seconds; got {args.time_limit:g}")
    if args.cv is not None and args.cv < 2:
        raise CLIError(f"--cv needs at least 2 folds; got {args.cv}")


def _save_model(net, args, features, out_path: Path) -> None:
    """Record the CSV's feature and target names in the model and write it atomically."""
    net.info["features"] = json.dumps(features)
    net.info["target"] = args.target
    if getattr(net, "feature_names", None) is None:
        try:
            net.feature_names = list(features)
        except AttributeError:  # pragma: no cover - a read-only attribute in some version
            pass
    try:
        atomic_write(out_path, net.save, "model file")
    except ValueError as exc:
        raise CLIError(f"cannot save the model to {str(out_path)!r}: {_library_message(exc)} "
                       "(a --lam this small overflows the weights; use --lam-ratio)") from None


def _interrupted(exc, args, out_path: Path, features, seconds: float) -> int:
    sys.stdout.flush()
    net = getattr(exc, "network", None)
    if net is None:
        print(f"wedgenet fit: interrupted after {seconds:.0f} s, before the first certified network; "
              "nothing saved", file=sys.stderr)
        return 130
    _save_model(net, args, features, out_path)
    print(f"wedgenet fit: interrupted after {seconds:.0f} s; best certified network so far "
          f"({net.n_neurons} neurons, relative gap {net.relative_gap:.3g}) saved to {out_path}", file=sys.stderr)
    return 130


def _report(args, task, loss, why, strength_why, net, X, y, train, test, features, out_path, seconds, out) -> None:
    cert = net.certificate
    lines = ["", "wedgenet fit report", f"  task         {task}, {loss} loss: {why}"]
    lam_txt = f"lam = {net.lam:.4g}" + (" in standardized units" if not args.no_standardize else "")
    lines.append(f"  strength     {strength_why}; {lam_txt}")
    std = "raw values (--no-standardize)"
    if not args.no_standardize:
        std = ("features" + (" and target" if task == "regression" else "") + " standardized; the network is "
               "in your units (--no-standardize fits the raw values)")
    lines.append(f"  scaling      {std}")
    lines.append(f"  network      reg={args.reg}, bias={not args.no_bias}, depth {args.depth}; "
                 f"{net.n_neurons} neurons (table above)")
    _, tr = _score(task, net, X[train], y[train])
    lines.append(f"  train        {tr} on {train.size} rows")
    if test is not None:
        _, te = _score(task, net, X[test], y[test])
        lines.append(f"  held-out     {te} on {test.size} rows (--test-size {args.test_size:g})")
    lines.append(f"  certificate  {cert.verdict()}")
    scope_note = {"all_candidates": "every candidate neuron was priced",
                  "sampled": "a sample of the candidates was priced"}.get(cert.scope, "the dictionary's columns")
    lines.append(f"  scope        {cert.scope}: {scope_note}")
    if cert.scope == "sampled":
        lines.append(f"               to price more candidates: --max-columns {_suggest_max_columns(net)} "
                     f"(or a larger --time-limit)")
    if net.n_neurons == 0:
        lines.append("  note         the network is empty (lam >= lam_max): lower --lam-ratio")
    lines.append(f"  time         {seconds:.1f} s fit (--time-limit {args.time_limit:g} s: beyond it the "
                 "candidates are sampled)")
    lines.append(f"  saved        {out_path} (load with wedgenet.load({str(out_path)!r}); "
                 f"predict with: wedgenet predict {out_path} DATA.csv)")
    print("\n".join(lines), file=out)


def _configure_fit(p: argparse.ArgumentParser) -> None:
    p.add_argument("data", help="CSV file with a header row")
    p.add_argument("--target", required=True, help="name of the target column")
    p.add_argument("--exclude", action="append", default=[], metavar="COL",
                   help="a column to ignore, e.g. an id (repeatable)")
    p.add_argument("--task", choices=("auto", "regression", "classification"), default="auto",
                   help="auto (default): text or integer targets with few values are classes, else regression")
    p.add_argument("--loss", choices=("auto", *LOSS_NAMES),
                   default="auto", help="auto (default): squared for regression, logistic for two classes, "
                   "softmax for more; labels may be any values")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--lam-ratio", type=float, default=LAM_RATIO_DEFAULT,
                   help="strength relative to lam_max, the smallest lam with no neurons (default 0.05)")
    g.add_argument("--lam", type=float, default=None, help="absolute strength (in standardized units unless "
                   "--no-standardize), instead of --lam-ratio")
    p.add_argument("--cv", type=_positive_int, default=None, metavar="K",
                   help=f"choose --lam-ratio among {', '.join(map(str, CV_LAM_RATIOS))} by K-fold cross-validation")
    p.add_argument("--test-size", type=float, default=None, metavar="FRACTION",
                   help="hold out this fraction of the rows and print the held-out score")
    p.add_argument("--no-standardize", action="store_true",
                   help="fit the raw values (default: standardize features, and the target for regression)")
    p.add_argument("--reg", choices=("l1", "l2"), default="l1",
                   help="weight norm: l1 (exact, default) or l2 (approximate)")
    p.add_argument("--no-bias", action="store_true", help="no hidden biases and no output intercept (Thm 2/4/15/17)")
    p.add_argument("--depth", type=int, choices=(2, 3), default=2, help="network depth (default 2)")
    p.add_argument("--max-columns", type=_positive_int, default=None,
                   help="sample at most this many candidate neurons (default: chosen within --time-limit)")
    p.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT, metavar="SECONDS",
                   help="when pricing every candidate is estimated to take longer, sample them "
                   f"(default {DEFAULT_TIME_LIMIT:g})")
    p.add_argument("--bound-time", type=float, default=None, metavar="SECONDS",
                   help="after the fit, spend up to SECONDS proving a lower bound on the global optimum "
                   "(a pricing MILP over every neuron; the certificate then says how far the network can be from it)")
    p.add_argument("--max-iter", type=_positive_int, default=100, help="working-set iterations (default 100)")
    p.add_argument("--tol", type=float, default=1e-6, help="target relative duality gap (default 1e-6)")
    p.add_argument("--dictionary-mode", choices=("auto", "explicit", "streamed"), default="auto",
                   help="auto (default) streams the dictionary when it would not fit in memory")
    p.add_argument("--seed", type=int, default=None, help="random seed (sampling, --test-size, --cv)")
    p.add_argument("--verbose", action="store_true", help="progress of the solver, with progress bars")
    p.add_argument("--delimiter", default=",", help="CSV field delimiter (default ',')")
    p.add_argument("--out", default="model.json", help="model file to write (default model.json)")
    p.add_argument("--force", action="store_true", help="replace an existing model file")
    p.add_argument("--max-rows", type=_positive_int, default=20, help="neurons shown in the table (default 20)")


# ---------------------------------------------------------------------------- predict
def _model_features(net, path) -> list[str]:
    names = getattr(net, "feature_names", None)
    if not names and "features" in net.info:
        try:
            names = json.loads(net.info["features"])
        except (TypeError, ValueError):
            names = None
    if not names or len(names) != net.n_features:
        raise CLIError(f"model {str(path)!r} does not record its feature names; it was not saved by "
                       "wedgenet fit with named columns")
    return [str(n) for n in names]


def run_predict(args, out=None) -> int:
    import wedgenet as wn

    out = sys.stdout if out is None else out
    if len(args.delimiter) != 1:
        raise CLIError(f"--delimiter must be a single character; got {args.delimiter!r}")
    mp = Path(args.model)
    if not mp.is_file():
        raise CLIError(f"model file {str(mp)!r} not found")
    out_path = None
    if args.out is not None:
        out_path = check_output(args.out, "prediction file", inputs=[args.model, args.data], force=args.force)
    net = wn.load(mp)
    names = _model_features(net, mp)
    header, data = _read_rows(args.data, args.delimiter)
    if not data:
        raise CLIError(f"data file {str(args.data)!r} has no data rows")
    missing = [n for n in names if n not in header]
    if missing:
        raise CLIError(f"data file {str(args.data)!r} lacks the model's feature column(s) "
                       f"{', '.join(map(repr, missing))}; columns are matched by name")
    cols = [_column_index(header, n, "feature", args.data) for n in names]
    X = _numeric_matrix(header, data, cols, args.data)
    pred = np.asarray(net.predict(X))
    name = args.column or f"predicted_{net.info.get('target', 'y')}"

    def write(fh):
        w = csv.writer(fh, lineterminator="\n")
        w.writerow([name])
        for v in pred:
            w.writerow([repr(float(v)) if isinstance(v, (float, np.floating)) else str(v)])

    if out_path is None:
        write(out)
    else:
        def to_file(tmp: Path) -> None:
            with tmp.open("w", newline="") as fh:
                write(fh)
        atomic_write(out_path, to_file, "prediction file")
        print(f"{pred.shape[0]} predictions written to {out_path} (columns matched by name: {', '.join(names)})",
              file=out)
    return 0


def _configure_predict(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a model file written by wedgenet fit")
    p.add_argument("data", help="CSV file with a header row holding the model's feature columns (any order)")
    p.add_argument("--out", default=None, help="CSV file to write (default: print to stdout)")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--column", default=None, help="name of the prediction column (default predicted_<target>)")
    p.add_argument("--delimiter", default=",", help="CSV field delimiter (default ',')")


# ---------------------------------------------------------------------------- entry point
def _positive_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {s!r}")
    return v


def _configure_ga(p: argparse.ArgumentParser) -> None:
    p.add_argument("--check-clifford", action="store_true",
                   help="also cross-check every neuron against clifford (compiles clifford: slow)")
    p.add_argument("--no-clifford", action="store_true", help=argparse.SUPPRESS)  # the default since 0.1


def _run_ga(args) -> int:
    run_ga_example(check_clifford=args.check_clifford and not args.no_clifford)
    return 0


def _configure_report(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="model file written by 'wedgenet fit' or WedgeNetwork.save")
    p.add_argument("--out", default="report.html", help="HTML file to write (default report.html)")
    p.add_argument("--force", action="store_true", help="replace an existing report file")
    p.add_argument("--data", default=None, help="the training CSV, to show the defining samples as rows")
    p.add_argument("--target", default=None, help="target column of --data (default: the one stored in the model)")
    p.add_argument("--image-shape", default=None, help="show samples as HxW grey images, e.g. 8x8")
    p.add_argument("--delimiter", default=",", help="CSV field delimiter (default ',')")


def _run_report(args) -> int:
    from .report import run_report_command

    if len(args.delimiter) != 1:
        raise CLIError(f"--delimiter must be a single character; got {args.delimiter!r}")
    return run_report_command(args)  # it checks --out against the inputs and --force (check_output)


register_command("demo", "fit the embedded two-spiral example; print certificate and neurons", _configure_demo,
                 _run_demo_command,
                 "Fit two interleaved spirals (wedgenet.datasets.make_spiral) with reg='l1', bias=True (exact, "
                 "Thm 16); print the certificate, the neuron table with provenance and the training accuracy; "
                 "with --out-png PATH, save a picture of the decision regions and breaklines (needs matplotlib); "
                 "without it, no file is written.")
register_command("fit", "fit a network to a CSV file and save it as JSON", _configure_fit, run_fit,
                 "Fit a ReLU network to a CSV file with a header row. The --target column is y; every other "
                 "column (except --exclude) is a feature. The task is detected from the target (text or few "
                 "integer values: classification). Features (and a regression target) are standardized and the "
                 "strength is relative to lam_max (--lam-ratio). The model is written with WedgeNetwork.save "
                 "and can be read back with wedgenet.load.")
register_command("predict", "predict a CSV file with a saved model (columns matched by name)", _configure_predict,
                 run_predict)
register_command("report", "write a self-contained HTML report of a saved model", _configure_report, _run_report,
                 "One HTML file: certificate and scope, a figure, a sortable neuron table and each neuron's "
                 "defining samples (as rows of --data, or images with --image-shape).")
register_command("ga-example", "the paper's worked geometric-algebra example (section 3.4)", _configure_ga, _run_ga)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wedgenet", description="ReLU neural networks from geometry: "
                                     "certified convex training with neurons that name their samples.")
    from . import __version__

    parser.add_argument("--version", action="version", version=f"wedgenet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for cmd in COMMANDS.values():
        p = sub.add_parser(cmd.name, help=cmd.help, description=cmd.description or cmd.help)
        cmd.configure(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the console script; returns the exit status (0 ok, 2 any failure, 130 Ctrl-C)."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return int(COMMANDS[args.command].run(args) or 0)
    except BrokenPipeError:  # e.g. ``wedgenet predict ... | head``: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return _plain_interrupt(args)
    except Exception as exc:
        if _caused_by_interrupt(exc):  # Ctrl-C inside a compiled kernel surfaces as a SystemError
            return _plain_interrupt(args)
        if os.environ.get("WEDGENET_DEBUG"):
            raise
        sys.stdout.flush()
        print(f"wedgenet {args.command}: error: {_failure(exc)}", file=sys.stderr)
        return 2


def _plain_interrupt(args) -> int:
    sys.stdout.flush()
    print(f"wedgenet {args.command}: interrupted; nothing saved", file=sys.stderr)
    return 130


def _caused_by_interrupt(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, KeyboardInterrupt):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def _failure(exc: Exception) -> str:
    """One line for any failure: input errors as they are, library errors with CLI advice."""
    if isinstance(exc, CLIError):
        return str(exc)
    msg = _library_message(exc)
    if isinstance(exc, MemoryError):
        return f"out of memory ({msg}); try --max-columns 20000 to sample the candidates, or --dictionary-mode streamed"
    if isinstance(exc, (ValueError, TypeError)):
        return msg
    if isinstance(exc, OSError):
        return f"{exc.strerror or msg}" + (f": {exc.filename!r}" if getattr(exc, "filename", None) else "")
    if _is_solver_failure(exc):
        return (f"the solver failed ({type(exc).__name__}: {msg}); try a larger --lam-ratio, or "
                "--max-columns 20000 to sample fewer candidates")
    return (f"internal error ({type(exc).__name__}: {msg}); please report it "
            "(WEDGENET_DEBUG=1 shows the traceback)")


def _is_solver_failure(exc: Exception) -> bool:
    """A convex solver or linear algebra failure (wedgenet.SolverError, cvxpy, LAPACK, a RuntimeError)."""
    import wedgenet

    solver_error = getattr(wedgenet, "SolverError", None)
    if solver_error is not None and isinstance(exc, solver_error):
        return True
    return isinstance(exc, (RuntimeError, ArithmeticError, np.linalg.LinAlgError)) or \
        type(exc).__module__.split(".")[0] in ("cvxpy", "scipy", "clarabel")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
