"""Hostile-input fuzzer for wedgenet's public entry points (issue 17); not part of the test suite.

Run:  python benchmarks/fuzz.py [--cases 5000] [--seed 0] [--timeout 20] [--mem-gb 3]
      python benchmarks/fuzz.py --replay fit:1234      (re-run one case, show the traceback)

Each case is ``(target, seed)``: the seed fixes the random hostile input, so every reported case
is reproduced by ``--replay target:seed``.  Targets, cycled in turn:

* ``cross``       ``wn.cross`` / ``wn.cross_from_indices`` on random shapes (empty, wrong, d = 1..10),
                  NaN/inf, scales from 1e-300 to 1e300 overall and per feature, wrong types, bad rtol;
* ``dictionary``  ``wn.dictionary`` on small hostile ``X`` (degenerate, duplicated, scaled) and params;
* ``fit``         ``wn.fit`` on small hostile ``(X, y)`` with hostile ``lam``/loss/reg/bias;
* ``polish``      ``wn.polish`` of random ReLU weights on hostile data;
* ``load``        ``wn.load`` of a valid model file after random corruption (bytes, fields, types,
                  sizes, escape codes), then ``summary``, ``predict`` and ``sample_influence``.

Cases run in a worker subprocess whose address space is limited (``RLIMIT_AS``, --mem-gb); a
case that does not answer within --timeout seconds is a hang (the worker is killed and
restarted), a worker that dies is a crash.  Outcomes:

* ``ok``     the call returned and every invariant held;
* ``clean``  ``ValueError`` / ``TypeError`` (subclasses included);
* ``solver``  ``wedgenet.SolverError``: a solver could not finish and said so in a short message
             with advice (issue 17 allows it for solver failures; counted apart so it stays visible);
* ``flagged`` the call returned a result that it flags as not certified, with a
             ``ConvergenceWarning`` (fit: ``converged`` is False, after every fit check below held;
             polish: the refit's duality gap is open, and the polish invariance below is not
             checked: two uncertified approximations of the same problem may differ).  Non-finite
             output is still ``wrong``.  (In the fuzz this is the interpolation regime, lam far
             below lam_max (1e-15 and less), where float64 cannot certify the solve.)
* ``other``  any other exception (a crash in the sense of issue 17), e.g. ``MemoryError``,
             ``ZeroDivisionError``, numba errors;
* ``hang``   no answer within the time limit;
* ``died``   the worker process died (signal, abort);
* ``wrong``  the call returned but an invariant failed (silent wrong answer):
             cross: result not finite, or ``cross(V * 2^k, unit=True) != cross(V, unit=True)``;
             dictionary / fit: ``n_columns`` differs between ``X`` and ``X * 2^k``; fit: non-finite
             predictions, or a certificate claiming convergence with a dual violation > 1;
             polish: non-finite output, more zero polished neurons on the same problem in other
             units (``X * s``, ``W1 / sqrt(s)``, ``b1 * sqrt(s)``, ``W2 / sqrt(s)``, ``lam * s``,
             ``s = 2^k``, k even) than on the original, or polished hyperplanes that differ
             between the two (unit-normalised);
             load: control characters reaching ``summary()``, non-finite predictions.

At the end it prints the counts per target and one ``--replay`` line per non-clean case.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter, defaultdict

import numpy as np

TARGETS = ("cross", "dictionary", "fit", "polish", "load")


class Wrong(Exception):
    """An invariant failed: the call returned a silently wrong answer."""


class Flagged(Exception):
    """The call returned a result flagged as not certified: invariants beyond finiteness are not checked."""


def _certified(report) -> bool:
    """Whether every convex refit of a polish report is certified (converged to its tolerance)."""
    recs = [report.refit] + [lr.union for lr in report.layers]
    return all(r is None or bool(r.get("converged")) for r in recs)


# ------------------------------------------------------------------------------ hostile inputs
def _scale(rng: np.random.Generator, X: np.ndarray) -> np.ndarray:
    r = rng.random()
    if r < 0.3:
        return X * 10.0 ** rng.uniform(-300, 300)
    if r < 0.5:
        return X * 10.0 ** rng.uniform(-150, 150, size=X.shape[-1])
    return X


def hostile_matrix(rng: np.random.Generator, shape: tuple[int, ...]):
    """A random array of ``shape``, often degenerate, scaled, with NaN/inf, or of a wrong type."""
    r = rng.random()
    if r < 0.03:
        opts = ["abc", None, {"a": 1}, [[1, 2], [3]], object()]  # rng.choice on this list raises ValueError
        return opts[int(rng.integers(len(opts)))]
    if r < 0.06:
        return rng.normal(size=shape) + 1j
    X = rng.normal(size=shape)
    if X.size and X.ndim >= 2 and rng.random() < 0.2:  # duplicated or collinear rows
        X[..., -1, :] = X[..., 0, :] * rng.choice([1.0, 2.0, -1.0, 0.0])
    if X.size and rng.random() < 0.05:
        X.flat[rng.integers(X.size)] = rng.choice([np.nan, np.inf, -np.inf])
    if rng.random() < 0.05:
        X = np.round(X)  # many ties and zeros
    X = _scale(rng, X)
    if rng.random() < 0.05:
        return X.tolist()
    return X


def _pow2_in_range(rng: np.random.Generator, X: np.ndarray) -> int | None:
    """An exponent k such that ``X * 2^k`` keeps every nonzero entry in the normal range."""
    a = np.abs(X[np.isfinite(X) & (X != 0)])
    if a.size == 0:
        return None
    lo = int(np.floor(np.log2(a.min()))) if a.min() > 0 else 0
    hi = int(np.ceil(np.log2(a.max())))
    kmin, kmax = -1000 - lo, 1000 - hi
    if kmin > kmax:
        return None
    k = int(rng.integers(max(kmin, -200), min(kmax, 200) + 1)) if max(kmin, -200) <= min(kmax, 200) else None
    return k if k else None


def _valid_float(X) -> bool:
    return isinstance(X, np.ndarray) and X.dtype == np.float64 and X.size > 0 and bool(np.all(np.isfinite(X)))


# ------------------------------------------------------------------------------ cases
def case_cross(rng: np.random.Generator, wn) -> str:
    d = int(rng.integers(1, 11))
    batch = tuple(int(b) for b in rng.integers(0, 4, size=rng.integers(0, 3)))
    rows = d - 1 if rng.random() > 0.05 else int(rng.integers(0, d + 2))
    V = hostile_matrix(rng, batch + (rows, d))
    rtol = rng.choice([1e-12, 0.0, 1e-6, -1.0, np.nan, 2.0]) if rng.random() < 0.2 else 1e-12
    if rng.random() < 0.3 and isinstance(V, np.ndarray) and V.ndim >= 2:
        X = V.reshape(-1, d) if V.size else np.zeros((0, d))
        n = X.shape[0]
        affine = bool(rng.random() < 0.5)
        k = d if affine else d - 1
        idx = rng.integers(-1 if rng.random() < 0.05 else 0, max(n, 1), size=(int(rng.integers(0, 5)), k))
        out = wn.cross_from_indices(X, idx, affine=affine, rtol=rtol, unit=True)
        if not np.all(np.isfinite(out)):
            raise Wrong("cross_from_indices returned non-finite values")
        return "ok"
    unit = bool(rng.random() < 0.5)
    out = wn.cross(V, rtol=rtol, unit=unit)
    if not np.all(np.isfinite(out)):
        raise Wrong("cross returned non-finite values")
    if _valid_float(V):
        k = _pow2_in_range(rng, V)
        if k is not None:
            a = wn.cross(V, rtol=rtol, unit=True)
            b = wn.cross(V * 2.0**k, rtol=rtol, unit=True)
            if not np.array_equal(a, b):
                raise Wrong(f"cross(V * 2^{k}, unit=True) differs from cross(V, unit=True) "
                            f"(max diff {np.max(np.abs(a - b)):.3g})")
    return "ok"


def case_dictionary(rng: np.random.Generator, wn) -> str:
    n, d = int(rng.integers(0, 10)), int(rng.integers(1, 4))
    X = hostile_matrix(rng, (n, d))
    reg = str(rng.choice(["l1", "l2", "l2", "linf"]))
    bias = bool(rng.random() < 0.5)
    depth = int(rng.choice([2, 2, 2, 3, 4]))
    kw = {"reg": reg, "bias": bias, "depth": depth}
    if rng.random() < 0.2:
        kw["max_columns"] = int(rng.choice([0, 1, 5, 50]))
        kw["random_state"] = 0
    D = wn.dictionary(X, **kw)
    if _valid_float(X) and "max_columns" not in kw:
        k = _pow2_in_range(rng, X)
        if k is not None:
            D2 = wn.dictionary(X * 2.0**k, **kw)
            if D2.n_columns != D.n_columns:
                raise Wrong(f"dictionary(X * 2^{k}).n_columns = {D2.n_columns} != {D.n_columns} for X")
    return "ok"


def _fit_inputs(rng: np.random.Generator):
    n, d = int(rng.integers(0, 9)), int(rng.integers(1, 4))
    X = hostile_matrix(rng, (n, d))
    loss = str(rng.choice(["squared", "squared", "logistic", "hinge", "softmax", "bogus"]))
    if loss in ("logistic", "hinge"):
        y = rng.choice([-1.0, 1.0], size=n) if rng.random() < 0.8 else rng.normal(size=n)
    elif loss == "softmax":
        y = rng.integers(0, 3, size=n).astype(float)
    else:
        y = rng.normal(size=n)
    if rng.random() < 0.05 and n:
        y[0] = np.nan
    if rng.random() < 0.05:
        y = y[:-1]
    lam = rng.choice([10.0 ** rng.uniform(-4, 1)] * 6 + [0.0, -1.0, np.nan, np.inf, 5e-324, 1e300])
    return X, y, float(lam), loss


def case_fit(rng: np.random.Generator, wn) -> str:
    X, y, lam, loss = _fit_inputs(rng)
    kw = {"lam": lam, "loss": loss, "reg": str(rng.choice(["l1", "l2"])), "bias": bool(rng.random() < 0.5)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = wn.fit(X, y, **kw)
        f = net.predict(np.asarray(X, dtype=float))
        if not np.all(np.isfinite(f)):
            raise Wrong("fit: non-finite predictions on the training data")
        if net.info.get("converged") and net.info.get("max_violation", 0.0) > 1.0 + 1e-4:
            raise Wrong(f"fit: converged=True with max dual violation {net.info['max_violation']:.6g} > 1")
        if _valid_float(X) and rng.random() < 0.3:
            k = _pow2_in_range(rng, X)
            if k is not None:
                net2 = wn.fit(X * 2.0**k, y, **kw)
                c1, c2 = net.info.get("n_columns"), net2.info.get("n_columns")
                if c1 != c2:
                    raise Wrong(f"fit(X * 2^{k}) searched {c2} columns, fit(X) {c1}")
        if not net.info.get("converged"):  # every check above held; the answer says it is not certified
            raise Flagged(f"fit not certified (relative gap {net.info.get('relative_gap', float('nan')):.2g})")
    return "ok"


def _first_layer(out) -> tuple[np.ndarray, np.ndarray]:
    layer = out[0] if isinstance(out, (list, tuple)) else out
    if isinstance(layer, (list, tuple)) and len(layer) == 2:
        W, b = np.asarray(layer[0], dtype=float), layer[1]
        return W, np.zeros(W.shape[0]) if b is None else np.asarray(b, dtype=float)
    W = np.asarray(layer, dtype=float)
    return W, np.zeros(W.shape[0])


def _unit_planes(W: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    P = np.column_stack([W, b])
    if not np.all(np.isfinite(P)):
        return None
    amax = np.max(np.abs(P), axis=1, keepdims=True)
    P = np.divide(P, amax, out=np.zeros_like(P), where=amax > 0)
    nrm = np.linalg.norm(P, axis=1, keepdims=True)
    return np.divide(P, nrm, out=np.zeros_like(P), where=nrm > 0)


def case_polish(rng: np.random.Generator, wn) -> str:
    n, d, m = int(rng.integers(0, 10)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
    X = hostile_matrix(rng, (n, d))
    W1, b1 = rng.normal(size=(m, d)), rng.normal(size=m)
    W2, b2 = rng.normal(size=(1, m)), rng.normal(size=1)
    y = rng.normal(size=n) if rng.random() < 0.9 else None
    kw = {"reg": str(rng.choice(["l1", "l2"])), "lam": 0.01}
    if rng.random() < 0.2:
        kw["lam"] = float(rng.choice([1e-3, 0.1, 0.0, -1.0, np.nan]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out, rep = wn.polish([(W1, b1), (W2, b2)], X, y, **kw)
        Wp, bp = _first_layer(out)
        if not (np.all(np.isfinite(Wp)) and np.all(np.isfinite(bp))):
            raise Wrong("polish returned non-finite weights")
        if not _certified(rep):
            raise Flagged("refit not certified")
        if _valid_float(X):
            k = _pow2_in_range(rng, X)
            if k is not None and abs(k) <= 400:
                # the same problem in other units: X * s with s = 2^k, k even, and the trained weights
                # (W1 / sqrt(s), b1 * sqrt(s), W2 / sqrt(s)) compute the same function and, with
                # lam * s, give the same training objective for every choice of weights (the map
                # (W1, b1, W2) -> (W1 / sqrt(s), b1 sqrt(s), W2 / sqrt(s)) preserves
                # L + (lam/2) (||W1||^2 + ||W2||^2)); with lam fixed the problems differ (the first
                # layer's weights cost s^-2 times more) and so may their polished answers.
                k -= k % 2
                s, h = 2.0**k, 2.0**(k // 2)
                out2, rep2 = wn.polish([(W1 / h, b1 * h), (W2 / h, b2)], X * s, y, **dict(kw, lam=kw["lam"] * s))
                Wq, bq = _first_layer(out2)
                if not (np.all(np.isfinite(Wq)) and np.all(np.isfinite(bq))):
                    raise Wrong(f"polish in units 2^{k} returned non-finite weights")
                if not _certified(rep2):
                    raise Flagged(f"refit in units 2^{k} not certified")
                zero_p = int(np.sum(~np.any(Wp != 0, axis=1)))
                zero_q = int(np.sum(~np.any(Wq != 0, axis=1)))
                if zero_q > zero_p:
                    raise Wrong(f"polish in units 2^{k}: {zero_q} zero neurons, unscaled {zero_p}")
                if Wp.shape == Wq.shape:
                    # the polished hyperplanes {x: w.x + b = 0}, in unscaled coordinates: (w_q s, b_q)
                    u = _unit_planes(Wp, bp)
                    v = _unit_planes(Wq * s, bq)
                    if u is not None and v is not None and np.max(np.abs(u - v)) > 1e-6:
                        raise Wrong(f"polish in units 2^{k}: polished hyperplanes differ "
                                    f"(max diff {np.max(np.abs(u - v)):.3g})")
    return "ok"


_MODEL_CACHE: dict[str, str] = {}


def _model_text(wn) -> str:
    if "text" not in _MODEL_CACHE:
        rng = np.random.default_rng(0)
        X = rng.normal(size=(8, 2))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = wn.fit(X, X[:, 0] - X[:, 1], lam=0.05)
        with tempfile.TemporaryDirectory() as tmp:
            _MODEL_CACHE["text"] = net.save(os.path.join(tmp, "m.json")).read_text()
    return _MODEL_CACHE["text"]


_HOSTILE_VALUES = [None, True, -1, 0, 10**8, 10**30, -(10**30), 1e308, -0.0, "x", "\x1b[31mred\x1b[0m", "a\nb",
                   [], [1, 2], {}, {"a": [1]}, "A" * 20000, [[[[]]]], 2**63, 1.5]


def _mutate(rng: np.random.Generator, doc):
    """Replace a random node of the JSON tree by a hostile value, or delete it."""
    path = []
    node = doc
    while isinstance(node, (dict, list)) and node and (not path or rng.random() < 0.85):
        if isinstance(node, dict):
            keys = [k for k in node if not (not path and k in ("format", "version"))] or list(node)
            key = keys[int(rng.integers(len(keys)))]
        else:
            key = int(rng.integers(len(node)))
        path.append((node, key))
        node = node[key]
    if not path:
        return _HOSTILE_VALUES[int(rng.integers(len(_HOSTILE_VALUES)))]
    parent, key = path[-1]
    if rng.random() < 0.15 and isinstance(parent, dict):
        del parent[key]
    else:
        parent[key] = _HOSTILE_VALUES[int(rng.integers(len(_HOSTILE_VALUES)))]
    return doc


def case_load(rng: np.random.Generator, wn) -> str:
    text = _model_text(wn)
    r = rng.random()
    if r < 0.25:  # byte-level corruption
        raw = bytearray(text.encode())
        for _ in range(int(rng.integers(1, 20))):
            raw[int(rng.integers(len(raw)))] = int(rng.integers(256))
        data = bytes(raw)
    elif r < 0.35:
        data = text.encode()[: int(rng.integers(len(text)))]
    else:
        doc = json.loads(text)
        for _ in range(int(rng.integers(1, 4))):
            doc = _mutate(rng, doc)
        data = json.dumps(doc).encode()
    with tempfile.TemporaryDirectory() as tmp:
        p = os.path.join(tmp, "m.json")
        with open(p, "wb") as fh:
            fh.write(data)
        net = wn.load(p)
    s = net.summary()
    if any(ord(ch) < 32 and ch != "\n" or ord(ch) == 127 for ch in s):
        raise Wrong("control characters reached summary()")
    f = net.predict(rng.normal(size=(3, net.W1.shape[1])))
    if not np.all(np.isfinite(f)):
        raise Wrong("loaded network predicts non-finite values")
    net.sample_influence()
    return "ok"


CASES = {"cross": case_cross, "dictionary": case_dictionary, "fit": case_fit, "polish": case_polish,
         "load": case_load}


def run_case(target: str, seed: int, wn) -> tuple[str, str]:
    rng = np.random.default_rng([TARGETS.index(target), seed])
    try:
        return CASES[target](rng, wn), ""
    except Wrong as exc:
        return "wrong", str(exc)[:300]
    except Flagged as exc:
        return "flagged", str(exc)[:300]
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        return "clean", (f"LONG MESSAGE ({len(msg)} chars) " if len(msg) > 2000 else "") + type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - classifying every other failure is the point
        if isinstance(exc, wn.SolverError):
            msg = str(exc)
            return "solver", (f"LONG MESSAGE ({len(msg)} chars) " if len(msg) > 400 else "") + msg[:200]
        return "other", f"{type(exc).__name__}: {str(exc)[:200]}"


# ------------------------------------------------------------------------------ worker / driver
def worker_main(mem_bytes: int) -> None:
    if mem_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (mem_bytes, mem_bytes))
    import wedgenet as wn

    for line in sys.stdin:
        target, seed = line.split()
        outcome, detail = run_case(target, int(seed), wn)
        sys.stdout.write(json.dumps([outcome, detail]) + "\n")
        sys.stdout.flush()


class Worker:
    def __init__(self, mem_bytes: int):
        self.mem_bytes = mem_bytes
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", str(self.mem_bytes)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def run(self, target: str, seed: int, timeout: float) -> tuple[str, str]:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(f"{target} {seed}\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.stop()
            return "died", "worker pipe broken"
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.stop()
            return "hang", f"no answer within {timeout:g} s"
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            self.proc = None
            return "died", f"worker exited with code {code}"
        return tuple(json.loads(line))  # type: ignore[return-value]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds per case (the first case of a "
                    "fresh worker gets 60 s more for imports and numba's cache)")
    ap.add_argument("--mem-gb", type=float, default=3.0, help="address-space limit of the worker")
    ap.add_argument("--targets", default=",".join(TARGETS))
    ap.add_argument("--replay", help="target:seed — run one case in this process and show the traceback")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        worker_main(args.worker)
        return
    if args.replay:
        import wedgenet as wn

        target, seed = args.replay.split(":")
        rng = np.random.default_rng([TARGETS.index(target), int(seed)])
        try:
            print(CASES[target](rng, wn))
        except Exception:  # noqa: BLE001
            traceback.print_exc()
        return
    targets = [t for t in args.targets.split(",") if t]
    worker = Worker(int(args.mem_gb * 1e9))
    counts: dict[str, Counter] = defaultdict(Counter)
    bad: list[str] = []
    t0 = time.time()
    try:
        for i in range(args.cases):
            target = targets[i % len(targets)]
            seed = args.seed + i // len(targets)
            fresh = worker.proc is None
            outcome, detail = worker.run(target, seed, args.timeout + (60.0 if fresh else 0.0))
            counts[target][outcome] += 1
            if outcome not in ("ok", "clean", "flagged") or detail.startswith("LONG"):
                bad.append(f"{outcome:<6} --replay {target}:{seed}  {detail}")
            if (i + 1) % 250 == 0:
                print(f"[{i + 1}/{args.cases}] {time.time() - t0:.0f} s, non-clean so far: {len(bad)}", flush=True)
    finally:
        worker.stop()
    outcomes = ("ok", "flagged", "clean", "solver", "other", "hang", "died", "wrong")
    print(f"\n{sum(sum(c.values()) for c in counts.values())} cases in {time.time() - t0:.0f} s "
          f"(timeout {args.timeout:g} s per case, worker RLIMIT_AS {args.mem_gb:g} GB)")
    print(f"{'target':<11}" + "".join(f"{o:>8}" for o in outcomes))
    for t in targets:
        print(f"{t:<11}" + "".join(f"{counts[t][o]:>8}" for o in outcomes))
    print(f"{'total':<11}" + "".join(f"{sum(c[o] for c in counts.values()):>8}" for o in outcomes))
    if bad:
        print("\nnon-clean cases (reproduce with python benchmarks/fuzz.py --replay target:seed):")
        print("\n".join(bad))


if __name__ == "__main__":
    main()
