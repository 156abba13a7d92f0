"""wedgenet with default settings on real tabular data, against named peers, side by side in one run.

    python benchmarks/bench_real.py                 # every data set, 3 seeds (about 30-40 minutes)
    python benchmarks/bench_real.py --seeds 1       # one split per data set
    python benchmarks/bench_real.py --datasets diabetes3 cancer2 --seeds 1 --no-cli

Data sets (all ship in packages): scikit-learn diabetes (all 10 features, and bmi/bp/s5),
breast_cancer (all 30 features, and mean radius/mean texture), digits 3-vs-8 (64 pixels), ISLP
Boston (12 features, target medv).  Each is split 75/25 with ``train_test_split(random_state=seed)``
(stratified for classification) for seeds 0, 1, 2.

Methods on each split (held-out R^2 for regression, accuracy for classification; fit seconds):

* ``wedgenet est``  ``WedgeRegressor()`` / ``WedgeClassifier()`` with default parameters
                    (standardized, ``lam_ratio=0.05``, the default time limit).
* ``wedgenet CLI``  ``python -m wedgenet fit train.csv --target y`` in a subprocess on a CSV written to a
                    temporary directory (its time includes interpreter start-up), scored by
                    ``python -m wedgenet predict`` on the test CSV.
* ``MLP``           scikit-learn ``MLPRegressor`` / ``MLPClassifier`` (default architecture, ``max_iter=2000``)
                    after a ``StandardScaler``.
* ``linear CV``     ``RidgeCV`` / ``LogisticRegressionCV`` after a ``StandardScaler``.
* ``HGB``           ``HistGradientBoostingRegressor`` / ``...Classifier`` (defaults).
* ``pyscnn``        the convex ReLU model of Mishkin et al. (``scnn``: ``ConvexReLU``, ``AL`` solver,
                    ``NeuronGL1(lam / n)`` at wedgenet's strength, 2 * n affine gates), on the standardized
                    data; for classification it fits the +-1 labels with the squared loss (its only loss)
                    and predicts the sign.  Skipped when ``scnn`` does not import.  It runs in a spawned
                    child process killed after ``--pyscnn-cap`` seconds (default 120; its solve
                    alone is timed): with 2n gates it can run for many minutes.
* ``Adam x5``       a torch two-layer ReLU network trained by Adam on wedgenet's objective and strength
                    in the standardized units wedgenet fitted (docs/conventions.md, "The objective"):
                    ``L(f(Xs), ys) + (lam/2) * sum_j (||w_j||_1^2 + a_j^2)`` with free hidden biases and
                    output intercept, ``L`` the squared loss ``0.5 ||r||^2`` or the logistic loss (sums),
                    ``lam = net.lam``; width ``max(2 * neurons, 10)``, 5 random inits, full batch,
                    ``--adam-steps`` steps (learning rate 1e-2, then 1e-3 for the last quarter).
                    ``obj gap`` = (best Adam objective - wedgenet's) / wedgenet's: negative means Adam
                    found a better point of the same objective.

Targets (issue 13), evaluated per data set and printed as PASS/FAIL:

* time: the default estimator and the default CLI each finish every split in <= 60 s;
* score: wedgenet's mean held-out score >= the MLP's, and >= (best peer mean - best peer spread),
  the spread being the standard deviation over seeds (the range for one seed is 0);
* objective: the best of 5 Adam runs is never more than 1% below wedgenet's objective, and at
  d <= 4 never below it at all (up to 1e-6 relative).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _common import torch_relu_params  # noqa: E402  (benchmarks/ is on sys.path when run as a script)

import wedgenet as wn  # noqa: E402
from wedgenet.estimators import WedgeClassifier, WedgeRegressor  # noqa: E402

TIME_TARGET = 60.0
ADAM_TOL_ANY_D = 0.01
ADAM_TOL_LOW_D = 1e-6


# ---------------------------------------------------------------------------- data
@dataclass
class Data:
    name: str
    X: np.ndarray
    y: np.ndarray
    task: str  # "regression" | "classification"
    features: list[str]


def load(name: str) -> Data:
    from sklearn import datasets as ds

    if name.startswith("diabetes"):
        d = ds.load_diabetes()
        cols = list(d.feature_names) if name == "diabetes10" else ["bmi", "bp", "s5"]
        idx = [list(d.feature_names).index(c) for c in cols]
        return Data(name, d.data[:, idx], d.target.astype(float), "regression", cols)
    if name.startswith("cancer"):
        d = ds.load_breast_cancer()
        cols = list(d.feature_names) if name == "cancer30" else ["mean radius", "mean texture"]
        idx = [list(d.feature_names).index(c) for c in cols]
        return Data(name, d.data[:, idx], d.target.astype(float), "classification", cols)
    if name == "digits38":
        d = ds.load_digits()
        keep = np.isin(d.target, (3, 8))
        return Data(name, d.data[keep].astype(float), d.target[keep].astype(float), "classification",
                    [f"px{i}" for i in range(64)])
    if name == "boston12":
        from ISLP import load_data

        df = load_data("Boston")
        cols = [c for c in df.columns if c != "medv"]
        return Data(name, df[cols].to_numpy(float), df["medv"].to_numpy(float), "regression", cols)
    raise ValueError(f"unknown data set {name!r}")


DATASETS = ("diabetes3", "diabetes10", "cancer2", "cancer30", "digits38", "boston12")


# ---------------------------------------------------------------------------- results
@dataclass
class Run:
    score: float
    seconds: float
    extra: dict = field(default_factory=dict)


def _score(task, y_true, y_pred) -> float:
    if task == "classification":
        return float(np.mean(np.asarray(y_pred, dtype=float) == y_true))
    y_pred = np.asarray(y_pred, dtype=float)
    return float(1 - np.sum((y_true - y_pred) ** 2) / np.sum((y_true - y_true.mean()) ** 2))


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


# ---------------------------------------------------------------------------- methods
def run_estimator(d: Data, Xtr, ytr, Xte, yte) -> Run:
    est = WedgeRegressor() if d.task == "regression" else WedgeClassifier()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, sec = _timed(lambda: est.fit(Xtr, ytr))
    net = est.network_
    cert = net.certificate
    return Run(_score(d.task, yte, est.predict(Xte)), sec,
               {"net": net, "neurons": net.n_neurons, "scope": cert.scope, "rel_gap": cert.relative_gap,
                "verdict": cert.verdict()})


def _write_csv(path: Path, X, y, names) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*names, "y"] if y is not None else names)
        for i, row in enumerate(X):
            cells = [repr(float(v)) for v in row]
            if y is not None:
                cells.append(str(int(y[i])) if float(y[i]).is_integer() else repr(float(y[i])))
            w.writerow(cells)


def run_cli(d: Data, Xtr, ytr, Xte, yte, timeout: float) -> Run:
    names = [n.replace(",", " ") for n in d.features]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    with tempfile.TemporaryDirectory(prefix="bench_real_") as tmp:
        tmp = Path(tmp)
        _write_csv(tmp / "train.csv", Xtr, ytr, names)
        _write_csv(tmp / "test.csv", Xte, None, names)
        cmd = [sys.executable, "-m", "wedgenet", "fit", str(tmp / "train.csv"), "--target", "y",
               "--out", str(tmp / "m.json")]
        t = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp)
        except subprocess.TimeoutExpired:
            return Run(math.nan, time.perf_counter() - t, {"error": f"killed after {timeout:g} s"})
        sec = time.perf_counter() - t
        if proc.returncode != 0:
            return Run(math.nan, sec, {"error": (proc.stderr.strip().splitlines() or ["?"])[-1][:120]})
        task_line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("  task ")), "")
        pred = subprocess.run([sys.executable, "-m", "wedgenet", "predict", str(tmp / "m.json"),
                               str(tmp / "test.csv")], capture_output=True, text=True, env=env, cwd=tmp, timeout=120)
        if pred.returncode != 0:
            return Run(math.nan, sec, {"error": "predict: " + pred.stderr.strip()[-120:]})
        values = [float(v) for v in pred.stdout.split()[1:]]
        return Run(_score(d.task, yte, values), sec, {"task_line": task_line.strip()})


def run_sklearn(kind: str, d: Data, Xtr, ytr, Xte, yte, seed: int) -> Run:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.linear_model import LogisticRegressionCV, RidgeCV
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    reg = d.task == "regression"
    if kind == "MLP":
        model = make_pipeline(StandardScaler(), (MLPRegressor if reg else MLPClassifier)(max_iter=2000,
                                                                                          random_state=seed))
    elif kind == "linear CV":
        model = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)) if reg
                              else LogisticRegressionCV(max_iter=5000))
    else:
        model = (HistGradientBoostingRegressor if reg else HistGradientBoostingClassifier)(random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, sec = _timed(lambda: model.fit(Xtr, ytr))
    return Run(_score(d.task, yte, model.predict(Xte)), sec)


def _standardized(net, d: Data, Xtr, ytr):
    """wedgenet's training problem in its standardized units: ``Xs``, encoded ``ys``, the loss name."""
    st = net.standardization
    Xs = st.transform_X(Xtr)
    if d.task == "regression":
        return Xs, st.transform_y(ytr), "squared"
    classes = np.asarray(net.classes)
    return Xs, np.where(ytr == classes[1], 1.0, -1.0), net.loss


def wedge_objective(net, d: Data, Xtr, ytr) -> float:
    """wedgenet's objective in the standardized units, from its weights there (independent of ``info``)."""
    Xs, ys, loss = _standardized(net, d, Xtr, ytr)
    W1, b1, a, t = net.standardization.standardized_weights(net)
    f = np.maximum(Xs @ W1.T + b1, 0.0) @ a + t
    return _objective_np(f, ys, loss, net.lam, W1, a)


def _objective_np(f, ys, loss, lam, W1, a) -> float:
    if loss == "squared":
        data = 0.5 * float(np.sum((f - ys) ** 2))
    else:
        data = float(np.sum(np.logaddexp(0.0, -ys * f)))
    pen = 0.5 * lam * float(np.sum(np.sum(np.abs(W1), axis=1) ** 2 + a**2))
    return data + pen


def run_adam(net, d: Data, Xtr, ytr, steps: int, inits: int = 5) -> Run:
    import torch

    Xs, ys, loss = _standardized(net, d, Xtr, ytr)
    if loss not in ("squared", "logistic"):
        return Run(math.nan, 0.0, {"error": f"loss {loss} not implemented"})
    torch.set_num_threads(1)  # measured: 2 threads on 2 loaded cores were 20x slower per step (141 vs 7 ms)
    X_t, y_t = torch.from_numpy(Xs), torch.from_numpy(ys)
    lam = float(net.lam)
    width = max(2 * net.n_neurons, 10)
    best = math.inf
    t0 = time.perf_counter()
    for seed in range(inits):
        W, b, a, t = torch_relu_params(Xs.shape[1], width, seed)
        opt = torch.optim.Adam([W, b, a, t], lr=1e-2)
        for step in range(steps):
            if step == (3 * steps) // 4:
                for g in opt.param_groups:
                    g["lr"] = 1e-3
            opt.zero_grad()
            f = torch.relu(X_t @ W.T + b) @ a + t
            data = 0.5 * torch.sum((f - y_t) ** 2) if loss == "squared" else \
                torch.sum(torch.nn.functional.softplus(-y_t * f))
            obj = data + 0.5 * lam * torch.sum(torch.sum(torch.abs(W), dim=1) ** 2 + a**2)
            obj.backward()
            opt.step()
        with torch.no_grad():
            f = (torch.relu(X_t @ W.T + b) @ a + t).numpy()
        best = min(best, _objective_np(f, ys, loss, lam, W.detach().numpy(), a.detach().numpy()))
    return Run(math.nan, time.perf_counter() - t0, {"objective": best, "width": width})


def _pyscnn_solve(Xs, ys, lam_n, seed, out) -> None:
    """In a spawned child: pyscnn's ``ConvexReLU`` + ``AL`` at ``NeuronGL1(lam_n)`` with 2n affine gates;
    sends ``("ok", seconds, (W1, b1, W2))`` or ``("error", seconds, text)`` through ``out`` (a pipe end)."""
    t = time.perf_counter()
    try:
        import logging

        from scnn.metrics import Metrics
        from scnn.models import ConvexReLU
        from scnn.optimize import optimize_model
        from scnn.regularizers import NeuronGL1
        from scnn.solvers import AL

        logging.getLogger("scnn").setLevel(logging.ERROR)
        n, dim = Xs.shape
        G = np.random.default_rng(seed).standard_normal((dim + 1, 2 * n))
        t = time.perf_counter()  # the solve, not the imports
        model = ConvexReLU(G[:dim], c=1, bias=True, G_bias=G[dim])
        solver = AL(model, tol=1e-6, constraint_tol=1e-6)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nc, _ = optimize_model(model, solver, Metrics(), Xs, ys[:, None], regularizer=NeuronGL1(lam_n),
                                   unitize_data=False, dtype="float64", seed=seed)
        out.send(("ok", time.perf_counter() - t, tuple(np.asarray(p, dtype=float) for p in nc.parameters)))
    except ImportError as exc:
        out.send(("error", 0.0, f"not installed ({exc.name})"))
    except Exception as exc:  # a peer failing is a result, not a crash of the benchmark
        out.send(("error", time.perf_counter() - t, f"{type(exc).__name__}: {str(exc)[:80]}"))


def run_pyscnn(net, d: Data, Xtr, ytr, Xte, yte, seed: int, cap: float) -> Run:
    """pyscnn in a spawned child process (its own torch, no fork of this process's threads), killed
    after ``cap`` seconds: its 2n-gate augmented-Lagrangian solve can run for many minutes."""
    import multiprocessing as mp

    st = net.standardization
    Xs, Xts = st.transform_X(Xtr), st.transform_X(Xte)
    if d.task == "regression":
        ys = st.transform_y(ytr)
    else:
        ys = np.where(ytr == np.asarray(net.classes)[1], 1.0, -1.0)
    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)  # a pipe, not a Queue: killing the child leaks no semaphore
    child = ctx.Process(target=_pyscnn_solve, args=(Xs, ys, net.lam / Xs.shape[0], seed, send), daemon=True)
    t = time.perf_counter()
    child.start()
    send.close()
    if recv.poll(cap + 60.0):  # + the child's start-up and imports
        try:
            status, sec, payload = recv.recv()
        except EOFError:  # the child died without an answer
            status, sec, payload = "error", time.perf_counter() - t, f"died (exit code {child.exitcode})"
    else:
        status, sec, payload = "error", time.perf_counter() - t, f"over the {cap:.0f} s cap"
    child.join(timeout=1.0)
    if child.is_alive():
        child.kill()
    if status == "ok" and sec > cap:
        status, payload = "error", f"over the {cap:.0f} s cap ({sec:.0f} s)"
    if status != "ok":
        return Run(math.nan, sec, {"error": payload})
    W1, b1, W2 = payload
    f = np.maximum(Xts @ W1.T + b1, 0.0) @ W2[0]
    if d.task == "regression":
        return Run(_score(d.task, yte, np.ravel(f * st.y_scale + st.y_mean)), sec)
    pred = np.where(f > 0, np.asarray(net.classes)[1], np.asarray(net.classes)[0])
    return Run(_score(d.task, yte, pred), sec)


PEERS = ("wedgenet est", "wedgenet CLI", "MLP", "linear CV", "HGB", "pyscnn")


def bench_dataset(name: str, seeds: int, args) -> dict:
    from sklearn.model_selection import train_test_split

    d = load(name)
    runs: dict[str, list[Run]] = {k: [] for k in (*PEERS, "Adam x5")}
    for seed in range(seeds):
        strat = d.y if d.task == "classification" else None
        Xtr, Xte, ytr, yte = train_test_split(d.X, d.y, test_size=0.25, random_state=seed, stratify=strat)
        def done(kind: str, r: Run, seed: int = seed) -> None:
            runs[kind].append(r)
            if args.progress:
                print(f"    {name} seed {seed} {kind}: {r.seconds:.1f} s, score {r.score:.4f}", flush=True)

        est = run_estimator(d, Xtr, ytr, Xte, yte)
        done("wedgenet est", est)
        net = est.extra["net"]
        est.extra["objective"] = wedge_objective(net, d, Xtr, ytr)
        if not args.no_cli:
            done("wedgenet CLI", run_cli(d, Xtr, ytr, Xte, yte, args.cli_timeout))
        for kind in ("MLP", "linear CV", "HGB"):
            done(kind, run_sklearn(kind, d, Xtr, ytr, Xte, yte, seed))
        if not args.no_pyscnn:
            done("pyscnn", run_pyscnn(net, d, Xtr, ytr, Xte, yte, seed, args.pyscnn_cap))
        if not args.no_adam:
            done("Adam x5", run_adam(net, d, Xtr, ytr, args.adam_steps))
        print(f"  [{name} seed {seed}] wedgenet: {est.extra['neurons']} neurons, {est.seconds:.1f} s, "
              f"score {est.score:.4f}; {est.extra['verdict']}", flush=True)
    return {"data": d, "runs": runs}


def _mean_sd(vals):
    v = np.array([x for x in vals if np.isfinite(x)])
    if v.size == 0:
        return math.nan, math.nan
    return float(v.mean()), float(v.std())


def report(res: dict) -> list[str]:
    d: Data = res["data"]
    runs = res["runs"]
    metric = "R^2" if d.task == "regression" else "accuracy"
    n = d.X.shape[0]
    lines = [f"\n{d.name}: {n} rows x {d.X.shape[1]} features, {d.task} (held-out {metric}, 75/25 split, "
             f"{len(runs['wedgenet est'])} seed(s))",
             f"  {'method':<14} {'score mean':>10} {'sd':>7} {'fit s (max)':>12}  notes"]
    for k in PEERS:
        rs = runs[k]
        if not rs:
            continue
        m, s = _mean_sd([r.score for r in rs])
        tmax = max(r.seconds for r in rs)
        notes = "; ".join(sorted({r.extra["error"] for r in rs if "error" in r.extra}))
        if k == "wedgenet est":
            notes = (f"neurons {', '.join(str(r.extra['neurons']) for r in rs)}; scope "
                     f"{', '.join(sorted({r.extra['scope'] for r in rs}))}; rel gap max "
                     f"{max(r.extra['rel_gap'] for r in rs):.2g}")
        lines.append(f"  {k:<14} {m:>10.4f} {s:>7.4f} {tmax:>12.1f}  {notes}")
    verdicts = []
    # time
    for k in ("wedgenet est", "wedgenet CLI"):
        if runs[k]:
            tmax = max(r.seconds for r in runs[k])
            ok = tmax <= TIME_TARGET and all(np.isfinite(r.score) for r in runs[k])
            verdicts.append(f"time {k} {tmax:.1f} s <= {TIME_TARGET:g}: {'PASS' if ok else 'FAIL'}")
    # score
    w_mean, _ = _mean_sd([r.score for r in runs["wedgenet est"]])
    mlp_mean, _ = _mean_sd([r.score for r in runs["MLP"]])
    peers = {k: _mean_sd([r.score for r in runs[k]]) for k in ("MLP", "linear CV", "HGB", "pyscnn") if runs[k]}
    peers = {k: v for k, v in peers.items() if np.isfinite(v[0])}
    best = max(peers, key=lambda k: peers[k][0])
    bm, bs = peers[best]
    verdicts.append(f"score vs MLP {w_mean:.4f} vs {mlp_mean:.4f} (diff {w_mean - mlp_mean:+.4f}): "
                    f"{'PASS' if w_mean >= mlp_mean else 'FAIL'}")
    verdicts.append(f"score vs best peer {best} {bm:.4f} - sd {bs:.4f}: "
                    f"{'PASS' if w_mean >= bm - bs else 'FAIL'} (ratio {w_mean / bm:.3f})")
    # objective
    if runs["Adam x5"]:
        gaps = [(a.extra["objective"] - w.extra["objective"]) / abs(w.extra["objective"])
                for a, w in zip(runs["Adam x5"], runs["wedgenet est"], strict=True)]
        tol = ADAM_TOL_LOW_D if d.X.shape[1] <= 4 else ADAM_TOL_ANY_D
        worst = min(gaps)
        objs = ", ".join(f"{w.extra['objective']:.5g}/{a.extra['objective']:.5g}"
                         for a, w in zip(runs["Adam x5"], runs["wedgenet est"], strict=True))
        lines.append(f"  objective (standardized units) wedgenet/best Adam per seed: {objs}; Adam width "
                     f"{', '.join(str(a.extra['width']) for a in runs['Adam x5'])}, "
                     f"{max(a.seconds for a in runs['Adam x5']):.1f} s for 5 runs")
        verdicts.append(f"objective: best-of-5 Adam vs wedgenet, worst relative gap {worst:+.4%} "
                        f"(Adam better when negative; allowed -{tol:.4%}): {'PASS' if worst >= -tol else 'FAIL'}")
    lines += [f"  -> {v}" for v in verdicts]
    return lines


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--adam-steps", type=int, default=4000)
    p.add_argument("--cli-timeout", type=float, default=300.0)
    p.add_argument("--no-cli", action="store_true")
    p.add_argument("--no-adam", action="store_true")
    p.add_argument("--no-pyscnn", action="store_true")
    p.add_argument("--pyscnn-cap", type=float, default=120.0,
                   help="seconds a pyscnn solve may take (in a child process, killed after it)")
    p.add_argument("--progress", action="store_true", help="print each method's time as it finishes")
    args = p.parse_args(argv)
    print(f"bench_real: wedgenet {wn.__version__} from {Path(wn.__file__).parent}; {os.cpu_count()} CPUs; "
          f"seeds {args.seeds}; data sets {', '.join(args.datasets)}", flush=True)
    # warm the numba cache so the first data set's time is not compilation
    from sklearn.datasets import make_regression

    Xw, yw = make_regression(30, 2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        WedgeRegressor().fit(Xw, yw)
    all_lines = []
    for name in args.datasets:
        res = bench_dataset(name, args.seeds, args)
        lines = report(res)
        print("\n".join(lines), flush=True)
        all_lines += lines
    print("\n=== summary ===")
    print("\n".join(ln for ln in all_lines if ln.startswith("  -> ") or not ln.startswith("  ")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
