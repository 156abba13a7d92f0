"""Certified fit time in full-pricing-pass equivalents (issue 18), for one source tree.

For each case: the dictionary ``wedgenet.fit`` would use (explicit when it fits the memory
budget, else streamed), the time of ONE full pricing pass over every candidate (``violators``
at a fresh dual point), the certified working-set solve (``tol = 1e-6``), the number of full
passes it made, its objective and relative gap.  ``fit / pass`` = solve time / pass time (and
with the explicit build added).  Run in a child process per source tree so that BEFORE (an
export of an older commit, ``--before DIR``) and AFTER are measured side by side on the same
machine state:

    python benchmarks/_passes.py CASE [CASE ...]      # prints one JSON line per case

Cases: diabetes442, diabetes331, spiral500, spiral1000, spiral2000, planted500 (d = 4,
bench_stream's problem), cancer-squared, cancer-logistic, cancer-hinge (breast_cancer, 2
features, the same dictionary), each at ``lam = frac * lam_max``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import numpy as np

LAM_FRAC = {"planted500": 0.02}


def _std(a: np.ndarray) -> np.ndarray:
    return (a - a.mean(axis=0)) / a.std(axis=0)


def case_data(name: str):
    """``(X, y, loss, reg, bias, lam_frac)`` of a case."""
    frac = LAM_FRAC.get(name, 0.05)
    if name.startswith("diabetes"):
        from sklearn.datasets import load_diabetes
        from sklearn.model_selection import train_test_split

        data = load_diabetes()
        cols = [data.feature_names.index(f) for f in ("bmi", "bp", "s5")]
        X, y = _std(data.data[:, cols]), _std(data.target)
        if name == "diabetes331":
            X, _, y, _ = train_test_split(X, y, test_size=0.25, random_state=0)
        return X, y, "squared", "l1", True, frac
    if name.startswith("spiral"):
        from wedgenet.datasets import make_spiral

        X, y = make_spiral(int(name[len("spiral"):]))
        return X, y, "squared", "l2", True, frac
    if name == "planted500":
        rng = np.random.default_rng(0)  # bench_stream.planted_problem(500)
        X = rng.standard_normal((500, 4))
        W = rng.standard_normal((5, 4))
        a = rng.choice([-1.0, 1.0], 5) * rng.uniform(0.5, 1.5, 5)
        y = np.maximum(X @ W.T, 0.0) @ a + 0.1 * rng.standard_normal(500)
        return X, y, "squared", "l1", False, frac
    if name.startswith("cancer-"):
        from sklearn.datasets import load_breast_cancer

        data = load_breast_cancer()
        X = _std(data.data[:, :2])
        y = np.where(data.target > 0, 1.0, -1.0)
        return X, y, name.split("-")[1], "l1", True, frac
    raise ValueError(f"unknown case {name!r}")


def warm_up(loss_name: str, reg: str, bias: bool) -> None:
    """A tiny certified fit with the same loss and family, explicit and streamed: every numba
    kernel and lazy import of the tree under test is loaded before anything is timed (the same
    for the BEFORE and AFTER trees)."""
    import warnings

    import wedgenet as wn
    from wedgenet.solvers import LassoProblem, get_backend, get_loss

    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    y = np.where(rng.standard_normal(40) > 0, 1.0, -1.0)
    loss = get_loss(loss_name)
    for D in (wn.dictionary(X, reg=reg, bias=bias), wn.streamed_dictionary(X, reg=reg, bias=bias)):
        pr = LassoProblem(D, y, 1.0, loss, D.fit_intercept)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            get_backend("auto", pr).solve(pr, tol=1e-6, max_iter=50)
    try:  # the in-place survivor pricing kernels, where the tree has them
        from wedgenet.solvers import _gather
    except ImportError:
        return
    KT = np.ones((3, 4))
    idx = np.arange(3)
    out = np.empty(3)
    _gather.gather_scores(KT, idx, np.ones(4), out)
    _gather.gather_group_scores(KT, idx, np.ones((4, 2)), out)
    _gather.gather_norms(KT, idx, out)


def build(X, reg, bias):
    import wedgenet as wn
    from wedgenet.dictionaries import MemoryBudgetError

    t = time.perf_counter()
    try:
        D = wn.dictionary(X, reg=reg, bias=bias)
        mode = "explicit"
    except MemoryBudgetError:
        D = wn.streamed_dictionary(X, reg=reg, bias=bias)
        mode = "streamed"
    return D, mode, time.perf_counter() - t


def measure(name: str) -> dict:
    import warnings

    from wedgenet.solvers import LassoProblem, get_backend, get_loss
    from wedgenet.solvers.base import certify

    X, y, loss_name, reg, bias, frac = case_data(name)
    loss = get_loss(loss_name)
    warm_up(loss_name, reg, bias)
    D, mode, t_build = build(X, reg, bias)
    empty = np.zeros(0, dtype=np.int64)
    p0 = LassoProblem(D, y, 1.0, loss, D.fit_intercept)
    icpt = loss.intercept_only(y) if D.fit_intercept else 0.0
    cert0, theta0, _ = certify(p0, empty, np.zeros(0), icpt)  # one pass; compiles the kernels
    lam = frac * cert0.max_violation  # lam_max = max_j |K_j^T theta(z=0)|
    if loss_name == "hinge":
        # the hinge dual point at z = 0 sits on the kink (theta = 0: no lam_max from it); use the
        # logistic loss's lam_max on the same dictionary (the same label scale)
        lg = get_loss("logistic")
        pl = LassoProblem(D, y, 1.0, lg, D.fit_intercept)
        certl, theta0, _ = certify(pl, empty, np.zeros(0), lg.intercept_only(y) if D.fit_intercept else 0.0)
        lam = frac * certl.max_violation
    th = theta0 * (1.0 + 1e-3)  # a fresh dual point: no cache hit
    t = time.perf_counter()
    D.violators(th, 64, lam)
    t_pass = time.perf_counter() - t
    calls = [0]
    real = D.violators

    def counting(*a, **kw):
        calls[0] += 1
        return real(*a, **kw)

    D.violators = counting
    n0 = getattr(D, "n_passes", None)
    problem = LassoProblem(D, y, lam, loss, D.fit_intercept)
    be = get_backend("auto", problem)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        res = be.solve(problem, tol=1e-6, max_iter=200)
        t_fit = time.perf_counter() - t
    passes = (D.n_passes - n0) if n0 is not None else calls[0]
    out = {"case": name, "mode": mode, "n": int(X.shape[0]), "p": int(D.n_columns), "lam": lam,
           "build_s": t_build, "pass_s": t_pass, "fit_s": t_fit, "passes": int(passes),
           "objective": res.objective, "rel_gap": res.certificate.relative_gap, "converged": bool(res.converged),
           "n_iter": int(res.n_iter), "support": int(res.support.size),
           # pricing work in full passes, survivor pricings included (trees that report it)
           "pass_equivalents": getattr(be, "pass_equivalents", None)}
    if name.startswith("cancer-") and mode == "explicit":
        out["liblinear_s"], out["liblinear_obj"] = liblinear(D, y, lam, loss_name, res.objective)
    return out


#: seconds the liblinear peer may take (all its tolerances together) before it is stopped
LIBLINEAR_CAP = 120.0


def liblinear(D, y, lam, loss_name, target, cap: float = LIBLINEAR_CAP):
    """scikit-learn's liblinear on the same matrix (l1 logistic; hinge: l1-regularised l2-loss SVM is
    a different loss, so hinge reports nothing).  Tolerance tightened until within 1e-6 of ``target``.

    Runs in a forked child process (liblinear cannot be interrupted from a thread, and it copies the
    matrix into its own sparse format) that is killed after ``cap`` seconds: then the time is
    reported as ``inf`` (did not finish within the cap) and the objective as ``None``; a failure
    gives ``(None, message)``."""
    if loss_name != "logistic":
        return None, None
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_liblinear_child, args=(D.K, y, lam, target, send), daemon=True)
    child.start()
    send.close()
    out = None
    died = False
    if recv.poll(cap):
        try:
            out = recv.recv()
        except EOFError:  # the child died without a word (e.g. killed when out of memory)
            died = True
    if child.is_alive():
        child.kill()  # our own child, by its handle
    child.join()
    if died:
        return None, f"the liblinear process died (exit code {child.exitcode}; out of memory?)"
    return out if out is not None else (math.inf, None)


def _liblinear_child(K, y, lam, target, send) -> None:
    try:
        send.send(_liblinear_fit(K, y, lam, target))
    except Exception as exc:  # e.g. MemoryError: liblinear copies K into its own sparse format
        send.send((None, f"{type(exc).__name__}: {exc}"))
    send.close()


def _liblinear_fit(K, y, lam, target):
    import warnings

    from sklearn.linear_model import LogisticRegression

    from wedgenet.solvers.losses import LogisticLoss

    K = np.asfortranarray(K)
    best = (None, None)
    for tol in (1e-4, 1e-6):
        m = LogisticRegression(C=1.0 / lam, solver="liblinear", l1_ratio=1.0, fit_intercept=True,
                               intercept_scaling=1e6, tol=tol, max_iter=1000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t = time.perf_counter()
            m.fit(K, y)
            dt = time.perf_counter() - t
        z = m.coef_[0]
        obj = LogisticLoss().value(K @ z + m.intercept_[0], y) + lam * np.abs(z).sum()
        best = (dt, obj)
        if obj <= target * (1 + 1e-6):
            break
    return best


def run_tree(tree: str, cases: list[str], timeout: float = 3600) -> list[dict]:
    """Run the cases in a child process with ``tree`` first on ``sys.path``; one dict per case."""
    env = dict(os.environ, PYTHONPATH=tree + os.pathsep + os.path.dirname(os.path.abspath(__file__)))
    out = []
    for c in cases:
        try:
            r = subprocess.run([sys.executable, os.path.abspath(__file__), c], env=env, capture_output=True,
                               text=True, timeout=timeout)
            line = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
            out.append(json.loads(line[-1]) if line else {"case": c, "error": r.stderr.strip().splitlines()[-1:]})
        except subprocess.TimeoutExpired:
            out.append({"case": c, "error": f"timeout {timeout:g} s"})
    return out


def table(before: list[dict] | None, after: list[dict]) -> None:
    """Side-by-side table: fit/pass and passes, before and after."""
    print(f"{'case':<16} {'mode':<9} {'p':>10} | {'BEFORE fit s':>12} {'fit/pass':>8} {'passes':>6} | "
          f"{'AFTER fit s':>11} {'fit/pass':>8} {'passes':>6} | {'speed-up':>8} {'d objective':>11} {'gap':>8}")
    bmap = {b["case"]: b for b in (before or [])}
    for a in after:
        if "error" in a:
            print(f"{a['case']:<16} AFTER failed: {a['error']}")
            continue
        b = bmap.get(a["case"], {})
        bf = (f"{b['fit_s']:>12.2f} {b['fit_s'] / b['pass_s']:>8.1f} {b['passes']:>6d}" if "fit_s" in b
              else f"{'-':>12} {'-':>8} {'-':>6}")
        sp = f"{b['fit_s'] / a['fit_s']:>7.1f}x" if "fit_s" in b else f"{'-':>8}"
        dobj = f"{(a['objective'] - b['objective']) / abs(b['objective']):>11.1e}" if "objective" in b else f"{'-':>11}"
        print(f"{a['case']:<16} {a['mode']:<9} {a['p']:>10,} | {bf} | {a['fit_s']:>11.2f} "
              f"{a['fit_s'] / a['pass_s']:>8.1f} {a['passes']:>6d} | {sp} {dobj} {a['rel_gap']:>8.1e}")
        if a.get("pass_equivalents") is not None:
            print(f"  {a['case']}: AFTER pricing work {a['pass_equivalents']:.2f} full-pass equivalents "
                  f"({a['passes']} full passes + survivor pricings)")
    for a in after:
        if a.get("mode") == "explicit" and "build_s" in a:
            print(f"  {a['case']}: explicit build {a['build_s']:.2f} s (= {a['build_s'] / a['pass_s']:.1f} passes); "
                  f"(build + fit) / pass = {(a['build_s'] + a['fit_s']) / a['pass_s']:.1f}")
        if a.get("liblinear_s") is not None and not math.isfinite(a["liblinear_s"]):
            print(f"  {a['case']}: liblinear on the same matrix did not finish in {LIBLINEAR_CAP:g} s (stopped); "
                  f"wedgenet {a['fit_s']:.3f} s")
        elif a.get("liblinear_s") is None and isinstance(a.get("liblinear_obj"), str):
            print(f"  {a['case']}: liblinear on the same matrix failed: {a['liblinear_obj']}")
        elif a.get("liblinear_s") is not None:
            print(f"  {a['case']}: liblinear on the same matrix {a['liblinear_s']:.3f} s "
                  f"(objective {a['liblinear_obj']:.10g} vs {a['objective']:.10g}); wedgenet / liblinear = "
                  f"{a['fit_s'] / a['liblinear_s']:.2f}")


if __name__ == "__main__":
    for c in sys.argv[1:]:
        print(json.dumps(measure(c)), flush=True)
