"""Write the tutorial notebooks (outputs empty) with nbformat: ``python notebooks/build_notebooks.py``.

``python notebooks/build_notebooks.py --execute`` also runs them and stores the executed copies,
outputs and figures included, in ``docs/tutorials/`` (the pages of the site); each copy records a
fingerprint of its source cells, which ``tests/docs/test_tutorial_outputs.py`` compares with the
notebook here, so a changed notebook whose docs copy was not regenerated fails CI.

The notebooks are the source of truth once written; this script only makes them reproducible
(plain .ipynb, no jupytext).  Each is executed in CI by ``tests/notebooks/test_notebooks.py``
with a 60 s budget, so every experiment here is small.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

#: seconds each notebook should take to execute on a quiet machine (printed by --execute, not enforced)
BUDGET = 60

HERE = Path(__file__).resolve().parent
DOCS = HERE.parent / "docs" / "tutorials"


def md(s: str):
    return new_markdown_cell(s.strip("\n"))


def code(s: str):
    return new_code_cell(s.strip("\n"))


NOTEBOOKS: dict[str, list] = {}

# ------------------------------------------------------------------------------------------ 01
NOTEBOOKS["01_quickstart"] = [
    md("""
# Quick start: a certified network on the spiral

*Needs the `plot` extra and pandas (the tables are DataFrames): `pip install "wedgenet[plot]" pandas`.*

wedgenet trains a two-layer ReLU network `f(x) = sum_j a_j (w_j . x + b_j)_+ + t` by solving a
convex Lasso over a dictionary of *wedge-product neurons*: every candidate neuron is a signed
distance to the affine hull of a few training samples.  With `reg="l1"` the Lasso optimum is the
global optimum of the non-convex training problem

    0.5 ||f(X) - y||^2 + (lam/2) sum_j (||w_j||_1^2 + a_j^2)

and the fit comes with a certificate that proves it.
"""),
    code("""
%matplotlib inline
import wedgenet as wn
from wedgenet.datasets import make_spiral
from wedgenet.plot import plot_decision_regions

X, y = make_spiral(80)
net = wn.fit(X, y, lam=0.1, reg="l1", bias=True)
print(net.summary(max_rows=8))
"""),
    md("""
## Reading the certificate

* `duality_gap` is primal minus dual objective, with the dual point priced over **every** column
  of the dictionary (not only the ones the solver used).  A gap of ~0 proves global optimality.
* `max_violation = max_j |K_j . v| / lam` over all columns, for the dual point `v` (the residual):
  the optimality condition is `max_violation <= 1`.
* `exact` is `True` for `reg="l1"` (and for 1-D data): the convex optimum *is* the network
  optimum.  For `reg="l2"` the network is within `1/(1-eps)` of it.
"""),
    code("""
print("exact formulation:", net.exact)
print("duality gap:", net.duality_gap, " relative:", net.relative_gap)
print("max dual violation:", net.max_violation, "over", net.info["n_columns"], "columns")
# the network's own non-convex objective equals the Lasso objective at the solution
print("network objective:", net.objective(X, y), " Lasso primal:", net.info["primal"])
"""),
    md("""
## Inspecting neurons

Every neuron knows the training samples that define it.  `provenance_table()` lists them with the
neuron's formula, output weight, breakline and how many training samples activate it.
"""),
    code("""
table = net.provenance_table()
table[["neuron", "samples", "expression", "output_weight", "breakline", "n_active"]].head(8)
"""),
    code("""
influence = net.sample_influence()
influence.sort_values("total_abs_output_weight", ascending=False).head(5)
"""),
    md("""
`explain(x)` breaks one prediction into the contributions `a_j h_j(x)` of the active neurons;
with the intercept they add up to `f(x)`.
"""),
    code("""
e = net.explain(X[5])
print(e)
assert abs(e.intercept + e.total_contribution - net.decision_function(X[5:6])[0]) < 1e-9
"""),
    md("""
## Pictures

Decision regions and breaklines (solid for orientation `+1`, dashed for `-1`); the most
influential neuron's defining samples are circled and joined.
"""),
    code("""
j = int(table["abs_output_weight"].idxmax())
fig = plot_decision_regions(net, X, y, resolution=150, highlight_neuron=j)
fig
"""),
]

# ------------------------------------------------------------------------------------------ 02
NOTEBOOKS["02_theorems_tour"] = [
    md("""
# A tour of the theorems: optimal space partitions

*Needs the `plot` extra (README's quick start installs it): `pip install "wedgenet[plot]"`.*

Each theorem of Pilanci's *From Complexity to Clarity* names the candidate neurons of an optimal
network.  A neuron's breakline `w . x + b = 0` is built from a few training samples, so the
candidates partition the plane along lines determined by the data.  `plot_partition` draws
every candidate breakline of a dictionary (the paper's Figure 7):

| panel | theorem | setting | breaklines |
|---|---|---|---|
| 1 | Thm 2 (and 4) | p=1, no bias | through the origin, orthogonal to samples and `e_k` |
| 2 | Thm 3 | p=2, bias | affine hulls of pairs of samples |
| 3 | Thm 12 | depth 3, p=1, no bias | lines through the origin, plus parallels through the level samples |
| 4 | Thm 13 | depth 3, p=1, bias | Thm 16's lines, translated to other samples |
"""),
    code("""
%matplotlib inline
import numpy as np
from matplotlib.figure import Figure

import wedgenet as wn
from wedgenet.datasets import diamond
from wedgenet.plot import plot_partition

SETTINGS = [("l1", False, 2), ("l2", True, 2), ("l1", False, 3), ("l1", True, 3)]

def partitions(X):
    fig = Figure(figsize=(13, 3.6), layout="constrained")
    for ax, (reg, bias, depth) in zip(fig.subplots(1, 4), SETTINGS, strict=True):
        plot_partition(X, reg=reg, bias=bias, depth=depth, ax=ax)
    return fig

X = diamond()
partitions(X)
"""),
    md("""
The diamond `{(1,0), (0,1), (-1,0), (0,-1)}`.  The depth-3 panels (orange, dashed) add the
second-layer breaks: a first-layer neuron `c` combined with a level sample `x_j0` breaks again
where `x . c = x_j0 . c`, a translate of the first-layer line to another sample.

The same on random data:
"""),
    code("""
rng = np.random.default_rng(0)
Xr = rng.standard_normal((5, 2))
partitions(Xr)
"""),
    md("""
## The optimal network uses these lines

Fit the diamond with labels `+1, -1, +1, -1` at small `lam`: every breakline of the optimal
network is one of the candidate lines above, and each neuron names its samples.
"""),
    code("""
y = np.array([1.0, -1.0, 1.0, -1.0])
for reg, bias, depth in SETTINGS:
    net = wn.fit(X, y, lam=1e-3, reg=reg, bias=bias, depth=depth)
    print(f"{net.info['theorem']:>7} reg={reg} bias={bias} depth={depth}: {net.n_neurons} neurons, "
          f"objective {net.objective(X, y):.5f}, exact={net.exact}")
    for row in net.provenance_table(as_frame=False)[:4]:
        print("      ", row["samples"], row["expression"])
"""),
]

# ------------------------------------------------------------------------------------------ 03
NOTEBOOKS["03_l1_vs_l2"] = [
    md("""
# l1 against l2 regularisation (the paper's Figures 11 and 12)

*Needs the `plot` extra (README's quick start installs it): `pip install "wedgenet[plot]"`.*

With weight decay `p=2` the candidate neurons are signed distances to affine hulls of samples
(Thm 3), normalised by the volume `||c||_2`; with `p=1` they are normalised by `||c||_1` and the
dictionary is exact.  On XOR with four points and small `lam`, both give the **same decision
region**, and the optimal breaklines pass through training points (Figure 11).
"""),
    code("""
%matplotlib inline
import numpy as np
from matplotlib.figure import Figure

import wedgenet as wn
from wedgenet.datasets import make_spiral
from wedgenet.plot import plot_decision_regions

X = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
y = np.array([1.0, -1.0, 1.0, -1.0])
nets = {reg: wn.fit(X, y, lam=1e-3, reg=reg, bias=True) for reg in ("l1", "l2")}

fig = Figure(figsize=(11, 5), layout="constrained")
for ax, (reg, net) in zip(fig.subplots(1, 2), nets.items(), strict=True):
    plot_decision_regions(net, X, y, ax=ax, resolution=120)
    ax.set_title(f"{reg}: {net.n_neurons} neurons")
fig
"""),
    code("""
g = np.linspace(-1.5, 1.5, 201)
G = np.array(np.meshgrid(g, g)).reshape(2, -1).T
same = np.mean(np.sign(nets["l1"].decision_function(G)) == np.sign(nets["l2"].decision_function(G)))
print(f"same sign of f on {100 * same:.1f}% of the window")
for reg, net in nets.items():
    print(reg)
    for row in net.provenance_table(as_frame=False):
        w, b = row["weight"], row["bias"]
        # distance of each defining sample to the neuron's breakline (0: the line passes through it)
        d = [abs(X[i] @ w + b) / np.linalg.norm(w) for i in row["samples"]]
        print(f"   samples {row['samples']}, distances {np.round(d, 12)}: {row['expression']}")
"""),
    md("""
## The spiral across `lam` (Figure 12)

The paper reports that the two penalties give different decision boundaries for large `lam`
and very similar ones for small `lam`.  Here (a small spiral, so that this runs in seconds) we
fit both at three values of `lam` and measure on a grid how often the two predicted classes agree.
"""),
    code("""
Xs, ys = make_spiral(50)
lams = [1.0, 0.1, 0.01]
fig = Figure(figsize=(13, 8.4), layout="constrained")
axes = fig.subplots(2, 3)
agree = {}
for k, lam in enumerate(lams):
    pair = {}
    for r, reg in enumerate(("l1", "l2")):
        pair[reg] = wn.fit(Xs, ys, lam=lam, reg=reg, bias=True)
        plot_decision_regions(pair[reg], Xs, ys, ax=axes[r, k], resolution=80, show_breaklines=False)
        axes[r, k].set_title(f"{reg}, lam={lam:g}: {pair[reg].n_neurons} neurons")
    g = np.linspace(-1.1, 1.1, 121)
    G = np.array(np.meshgrid(g, g)).reshape(2, -1).T
    agree[lam] = np.mean(np.sign(pair["l1"].decision_function(G)) == np.sign(pair["l2"].decision_function(G)))
print({lam: f"{100 * a:.1f}% same class" for lam, a in agree.items()})
fig
"""),
]

# ------------------------------------------------------------------------------------------ 04
NOTEBOOKS["04_global_optimality"] = [
    md("""
# Global optimality: the convex optimum against SGD/Adam

*Needs the `plot` and `torch` extras: `pip install "wedgenet[plot,torch]"`.*

The convex program gives the *global* minimum of the non-convex training objective (docs/conventions.md#objective;
hidden biases and the intercept free)

    0.5 ||f(X) - y||^2 + (lam/2) sum_j (||w_j||_p^2 + a_j^2).

Gradient training of the same network from random starts can only reach that value or stay above
it.  Below, Adam (and, on the 1-D toy, SGD with batch size 1) runs from 10 random
initialisations (batched, float64) at several widths, and we compare the best objective each
run reaches with the certified optimum.
"""),
    code("""
%matplotlib inline
import time

import numpy as np
import torch
from matplotlib.figure import Figure

import wedgenet as wn
from wedgenet.exact import solve_exact
from wedgenet.plot import plot_function_1d

torch.set_num_threads(1)

def train_runs(Xs, ys, lam, *, width, reg="l2", bias=True, seeds=10, steps=1500, lr=0.02, seed=0, method="adam"):
    \"\"\"Best objective reached by each of ``seeds`` runs per data set (the minimum along the trajectory).

    ``Xs``: (B, n, d), ``ys``: (B, n) -- B data sets trained in one batch.  Returns (B, seeds).
    ``method="adam"``: full-batch Adam with a cosine schedule.  ``method="sgd"``: plain SGD with
    batch size 1 (one random sample per step, its loss scaled by n so the gradient is unbiased).
    \"\"\"
    g = torch.Generator().manual_seed(seed)
    dt = torch.float64
    Xt, yt = torch.from_numpy(Xs), torch.from_numpy(ys)
    B, n, d = Xs.shape
    W = (0.5 * torch.randn(B, seeds, width, d, generator=g, dtype=dt)).requires_grad_()
    b = (0.5 * torch.randn(B, seeds, width, generator=g, dtype=dt) * bias).requires_grad_()
    a = (0.5 * torch.randn(B, seeds, width, generator=g, dtype=dt)).requires_grad_()
    t = torch.zeros(B, seeds, dtype=dt).requires_grad_()
    params = [W, a] + ([b, t] if bias else [])
    opt = torch.optim.Adam(params, lr=lr) if method == "adam" else torch.optim.SGD(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=lr * 1e-3)
    best = torch.full((B, seeds), float("inf"), dtype=dt)
    pick = torch.randint(0, n, (steps,), generator=g)
    for step in range(steps):
        opt.zero_grad()
        pre = torch.einsum("bsmd,bnd->bsnm", W, Xt)
        if bias:
            pre = pre + b[:, :, None, :]
        f = torch.einsum("bsnm,bsm->bsn", torch.relu(pre), a) + (t[:, :, None] if bias else 0.0)
        wn_ = W.abs().sum(-1) if reg == "l1" else W.norm(dim=-1)
        pen = 0.5 * lam * (wn_**2 + a**2).sum(-1)
        obj = 0.5 * ((f - yt[:, None, :]) ** 2).sum(-1) + pen
        best = torch.minimum(best, obj.detach())
        if method == "sgd":
            i = pick[step]
            obj = 0.5 * n * (f[..., i] - yt[:, None, i]) ** 2 + pen
        obj.sum().backward()
        opt.step()
        sched.step()
    return best.numpy()
"""),
    md("""
## Pilanci and Ergen's 1-D toy

`x = -2, -1, 0, 1, 2`, `y = 1, -1, 1, 1, -1`.  In 1-D the wedge dictionary (Thm 1: hinges at the
samples) is exact for either penalty, so `wn.fit` returns the global optimum with its certificate.
"""),
    code("""
t0 = time.time()
x1 = np.linspace(-2.0, 2.0, 5)
y1 = np.array([1.0, -1.0, 1.0, 1.0, -1.0])
lam = 0.05
net1 = wn.fit(x1[:, None], y1, lam=lam, reg="l2", bias=True)
opt1 = net1.objective(x1[:, None], y1)
print(f"certified optimum {opt1:.6f} (duality gap {net1.duality_gap:.1e}, exact={net1.exact})")
rows = []
for method, lr in (("adam", 0.02), ("sgd", 0.01)):
    for width in (2, 8, 32):
        best = train_runs(x1[None, :, None], y1[None], lam, width=width, method=method, lr=lr, steps=1000)[0]
        rows.append((method, width, best))
        print(f"{method} width {width:>3}: best per seed min {best.min():.6f}, median {np.median(best):.6f}, "
              f"runs within 1e-4 of the optimum: {int(np.sum(best <= opt1 + 1e-4))}/10")
        assert best.min() >= opt1 * (1 - 1e-6)  # nothing beats the certificate
plot_function_1d(net1, x1, y1)
"""),
    code("""
fig = Figure(figsize=(6, 3.6), layout="constrained")
ax = fig.add_subplot()
for method, width, best in rows:
    shift = 0.93 if method == "adam" else 1.07
    ax.scatter(np.full(best.size, width * shift), best - opt1 + 1e-12, s=18,
               color="tab:orange" if method == "adam" else "tab:purple")
ax.scatter([], [], color="tab:orange", label="Adam")
ax.scatter([], [], color="tab:purple", label="SGD (batch 1)")
ax.legend()
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xlabel("width m")
ax.set_ylabel("best objective - optimum (+1e-12)")
ax.set_title("1-D toy: suboptimality of 10 runs per width")
fig
"""),
    md("""
## Watanabe's fixed-design experiments

Inputs `x_i = (1, t_i)` (the constant feature plays the bias, so the networks have **no** hidden
biases and no intercept: `bias=False`), weight decay `p = 2`, `lam = 1e-3`.  For `p = 2` the
wedge dictionary is only within `1/(1-eps)` of the optimum, so the certified optimum here is the
exact arrangement program of Pilanci and Ergen (`wedgenet.exact.solve_exact`); the wedge network's
value is an upper bound.

**The essay's Table 1 does not reproduce** (docs/conventions.md#errata): under no normalisation of the
loss and penalty we tried do its "convex formulation" values match an exact program, and some lie
below the true optimum.  We report our own values in wedgenet's convention (`0.5 ||r||^2`, a sum;
penalty `lam/2`).
"""),
    code("""
T = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
designs = {
    "simple, v=0.1": (np.c_[np.ones(5), T], np.array([1.0337, 1.0129, 1.0234, -0.9770, -1.1123])),
    "simple, v=5": (np.c_[np.ones(5), T], np.array([2.6835, 1.6440, 2.1723, 0.1517, -6.6143])),
    "complex, v=0.1": (np.array([[1.5, 1], [2.5, 2], [2, 2], [1, 1.5], [2, 2.5]]),
                       np.array([1.0337, 1.0129, -0.9766, -0.9770, -1.1123])),
}
lam_w = 1e-3
print(f"{'data':<16}{'exact optimum':>15}{'wedge (l2)':>12}{'Adam m=5':>12}{'Adam m=50':>12}")
for name, (Xw, yw) in designs.items():
    ex = solve_exact(Xw, yw, lam_w, reg="l2", bias=False).value
    wv = wn.fit(Xw, yw, lam=lam_w, reg="l2", bias=False).objective(Xw, yw)
    best = {m: train_runs(Xw[None], yw[None], lam_w, width=m, bias=False, steps=1200)[0].min() for m in (5, 50)}
    print(f"{name:<16}{ex:>15.6f}{wv:>12.6f}{best[5]:>12.6f}{best[50]:>12.6f}")
    assert wv >= ex * (1 - 1e-6) and min(best.values()) >= ex * (1 - 1e-6)
"""),
    md("""
## Watanabe's random design

`n = 5` points uniform in `[-5, 5)^2`, `y = 2 * 1(x_1 > x_2) - 1`, no biases, `lam = 1e-3`;
20 random data sets (the essay uses 50), each trained by Adam from 10 initialisations with
`m = 5` and `m = 50` hidden neurons, all data sets in one batch.
"""),
    code("""
rng = np.random.default_rng(1)
B = 20
Xb = rng.uniform(-5, 5, size=(B, 5, 2))
yb = 2.0 * (Xb[:, :, 0] > Xb[:, :, 1]) - 1.0
opt_b = np.array([solve_exact(Xb[k], yb[k], lam_w, reg="l2", bias=False).value for k in range(B)])
adam_b = {m: train_runs(Xb, yb, lam_w, width=m, bias=False, steps=1000) for m in (5, 50)}
fig = Figure(figsize=(7.5, 3.8), layout="constrained")
ax = fig.add_subplot()
ax.scatter(np.zeros(B), opt_b, color="tab:green", label="exact convex optimum")
for k, m in enumerate((5, 50), start=1):
    best = adam_b[m].min(axis=1)
    ax.scatter(np.full(B, k), best, color="tab:orange", label="Adam, best of 10" if k == 1 else None)
    gap = best - opt_b
    print(f"m={m}: Adam best - optimum: min {gap.min():.2e}, median {np.median(gap):.2e}, max {gap.max():.2e}")
    assert np.all(gap >= -1e-6 * opt_b)
ax.set_xticks([0, 1, 2], ["convex", "Adam m=5", "Adam m=50"])
ax.set_yscale("log")
ax.set_ylabel("objective")
ax.legend()
fig
"""),
    code("""
print(f"notebook ran in {time.time() - t0:.1f} s after the imports")
"""),
]

# ------------------------------------------------------------------------------------------ 05
NOTEBOOKS["05_polishing"] = [
    md("""
# Polishing networks trained by gradient descent

*Needs the `plot` and `torch` extras, pandas, and ISLP for the Boston data:
`pip install "wedgenet[plot,torch]" pandas && pip install --no-deps ISLP==0.6.0`.*

`wedgenet.polish(model, X, y, lam=...)` takes a ReLU network trained by Adam and snaps every
neuron of a hidden layer onto a cross product of `r - 1` training samples ([Polishing trained
networks](../../polishing/)): the polished neuron passes *through* those samples and names them,
like the neurons of `wedgenet.fit`.  The output layer is then refitted by a convex Lasso with a
duality-gap certificate, and the scales of the layers are rebalanced.

Every report also carries `refit_unpolished`: the *same* convex refit applied to the unpolished
network, which separates the gain of the refit from the effect of moving the neurons.  Three
variants are compared below:

* `paper rule` (`keep="polished"`): the `r - 1` samples nearest to each hyperplane (section 4.1);
  it ignores the objective and can make the network worse;
* `default` (`keep="objective"`): several candidate snaps per neuron, priced against the
  residual; the Lasso over all candidates fills the slots; the result is checked against the
  trained network's objective (at most 0.5% worse) and only the snaps that would break that are
  reverted, each named in the report;
* `union` (`keep="union"`): the refit Lasso over the paper rule's and the trained neurons, never
  worse than either refit, but it often keeps trained neurons.

The experiments are small versions of `benchmarks/experiments_polish.py` (one split or a few
seeds, fewer epochs), so single numbers below vary from run to run; the benchmark averages them.
Networks are trained in float64 by Adam with *coupled* weight decay `wd` on the weights only, i.e.
on the objective that polishing refits: `lam = n wd / 2` for MSE, `lam = n wd` for
binary cross-entropy.
"""),
    code("""
%matplotlib inline
import time

import numpy as np
import torch
from matplotlib.figure import Figure

import wedgenet as wn
from wedgenet.datasets import make_spiral
from wedgenet.plot import plot_polishing

t0 = time.time()
torch.set_num_threads(1)
nn = torch.nn


def train(model, X, y, *, loss, wd, lr, epochs, batch=None, seed=0):
    \"\"\"Adam with coupled weight decay on the weights (not the biases); mean loss per batch.\"\"\"
    Xt, yt = torch.tensor(X), torch.tensor(y)
    groups = [{"params": [p for n, p in model.named_parameters() if n.endswith("weight")], "weight_decay": wd},
              {"params": [p for n, p in model.named_parameters() if n.endswith("bias")], "weight_decay": 0.0}]
    opt = torch.optim.Adam(groups, lr=lr)
    g = torch.Generator().manual_seed(seed)
    n = len(X)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g) if batch else torch.arange(n)
        for s in range(0, n, batch or n):
            idx = perm[s:s + (batch or n)]
            opt.zero_grad()
            f = model(Xt[idx])
            if loss == "squared":
                L = torch.mean((f - yt[idx]) ** 2)
            else:
                L = nn.functional.binary_cross_entropy_with_logits(f, yt[idx])
            L.backward()
            opt.step()
    return model


def mlp(d, m, seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, m), nn.ReLU(), nn.Linear(m, 1), nn.Flatten(0)).double()


VARIANTS = {"paper rule": {"keep": "polished"}, "default": {}, "union": {"keep": "union"}}
"""),
    md("""
## 1. The spiral: training objective

100 points of the two-arm spiral, width 100, `lam = 0.01`, full-batch Adam (1000 steps) from 2
random initialisations.  The reference is the optimum of the convex `p = 2` Lasso of
`wedgenet.fit(reg="l2")`, an achievable network.
"""),
    code("""
X, y = make_spiral(100, random_state=0)
n, lam = len(X), 1e-2
opt = wn.fit(X, y, lam=lam, reg="l2").objective(X, y)
print(f"convex p=2 Lasso (wedgenet.fit): objective {opt:.4f}")
print(f"{'seed':>4} {'Adam':>8} {'refit only':>11}" + "".join(f"{k:>13}" for k in VARIANTS))
reports = {}
for seed in range(2):
    model = train(mlp(2, 100, seed), X, y, loss="squared", wd=2 * lam / n, lr=1e-2, epochs=1000, seed=seed)
    reps = {k: wn.polish(model, X, y, lam=lam, **kw)[1] for k, kw in VARIANTS.items()}
    r = reps["default"]
    print(f"{seed:>4} {r.before['objective']:>8.4f} {r.refit_unpolished['objective']:>11.4f}"
          + "".join(f"{reps[k].after['objective']:>13.4f}" for k in VARIANTS))
    reports[seed] = reps
print("sample-defined neurons (last seed):", {k: f"{v.sample_defined:.0%}" for k, v in reps.items()})
"""),
    md("""
The report of one polish: per neuron, the defining samples, the angle it moved, how many training
samples changed ReLU side, whether the refit kept it and which rule chose it; then the objectives
(the penalty column is in the objective's units) and whether the budget was met.
"""),
    code("""
report = reports[0]["default"]
print(report.summary(max_rows=6))
"""),
    md("""
## Before and after

`plot_polishing` draws, per polished neuron, the trained breakline dashed and the polished one
solid (same colour); the defining samples are circled and joined to their foot on the old
breakline.  Only the neurons the refit kept are drawn here (`neurons=`); the bars are the training
objective before, after the refit alone and after polishing, and the histogram is the angle each
neuron moved.  Dead neurons of the trained network (weights decayed to ~0) have no meaningful
hyperplane: they polish onto arbitrary samples and move by up to 90 degrees, and the refit drops
them.
"""),
    code("""
active = np.flatnonzero(report.layers[0].active & report.layers[0].polished)
fig = plot_polishing(report, X, y, neurons=active)
fig
"""),
    md("""
## 2. Boston housing: train and validation error

ISLP's `Boston` (12 features, target `medv`), standardised, one random 80/20 split, width 64,
Adam with batch 16 for 30 epochs.  MSE in the original units (thousands of dollars, squared).
`refit only` is `polish(..., layers=[])`: the convex refit without moving any neuron.
"""),
    code("""
from ISLP import load_data

df = load_data("Boston")
yb = df["medv"].to_numpy(dtype=float)
Xb = df.drop(columns=["medv"]).to_numpy(dtype=float)
perm = np.random.default_rng(1000).permutation(len(Xb))
ntr = int(0.8 * len(Xb))
tr, va = perm[:ntr], perm[ntr:]
mu, sd = Xb[tr].mean(0), Xb[tr].std(0)
Xtr, Xva = (Xb[tr] - mu) / sd, (Xb[va] - mu) / sd
ym, ys = yb[tr].mean(), yb[tr].std()
ytr = (yb[tr] - ym) / ys
wd = 1e-3
lam_b = len(tr) * wd / 2
print(Xtr.shape, Xva.shape, f"lam = {lam_b:g}")

model_b = train(mlp(Xtr.shape[1], 64, 0), Xtr, ytr, loss="squared", wd=wd, lr=1e-2, epochs=30, batch=16)


def mse(model, Xe, idx):
    with torch.no_grad():
        f = model(torch.tensor(Xe)).numpy()
    return float(np.mean((f * ys + ym - yb[idx]) ** 2))


models = {"Adam": model_b}
reports_b = {}
for name, kw in {"refit only": {"layers": []}, **VARIANTS}.items():
    models[name], reports_b[name] = wn.polish(model_b, Xtr, ytr, lam=lam_b, **kw)
print(f"{'':<12} {'train MSE':>10} {'val MSE':>10}")
for name, mod in models.items():
    print(f"{name:<12} {mse(mod, Xtr, tr):>10.3f} {mse(mod, Xva, va):>10.3f}")
"""),
    md("""
Without a 2-D input there is no breakline panel; the summary panels show the objectives and the
angles.  Boston has clusters of samples that share feature values (`zn`, `chas`, `rad`): the
nearest samples of a hyperplane are then nearly dependent inside it, and the paper's rule can
turn the neuron far away.  Compare the angles of the paper's rule and of the default:
"""),
    code("""
fig = Figure(figsize=(10, 6.5), layout="constrained")
axs = fig.subplots(2, 2)
for row, name in zip(axs, ("paper rule", "default"), strict=True):
    plot_polishing(reports_b[name], ax=row)
    row[0].set_title(f"{name}: training objective", fontsize=10)
    row[1].set_title(f"{name}: angle moved", fontsize=10)
fig
"""),
    md("""
## 3. Digits 3 against 8: polishing a convolution

A small CNN, `Conv2d(1, 8, 3, padding=1) - ReLU - MaxPool(2) - Linear(128, 32) - ReLU -
Linear(32, 1)`, logistic loss, on the 8x8 scikit-learn digits 3 and 8 (70/30 split, 20 epochs).
The convolution's samples are the unfolded 3x3 input patches (with the bias, dimension 10), so
each polished filter is the cross product of 9 training patches.  `layers="all"` polishes the
convolution, then the dense hidden layer on the polished activations (Theorems 10/11); the
default refits the dense layer by least squares after the convolution, and the output layer by
the Lasso at the end.
"""),
    code("""
from sklearn.datasets import load_digits

D = load_digits()
keep = np.isin(D.target, (3, 8))
Xd = (D.images[keep] / 16.0)[:, None, :, :]
yd = (D.target[keep] == 8).astype(float)
perm = np.random.default_rng(2000).permutation(len(Xd))
ntr = int(0.7 * len(Xd))
trd, vad = perm[:ntr], perm[ntr:]
torch.manual_seed(0)
cnn = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                    nn.Linear(8 * 4 * 4, 32), nn.ReLU(), nn.Linear(32, 1), nn.Flatten(0)).double()
cnn = train(cnn, Xd[trd], yd[trd], loss="logistic", wd=wd, lr=1e-2, epochs=20, batch=32)
lam_d = len(trd) * wd


def acc(model, idx):
    with torch.no_grad():
        f = model(torch.tensor(Xd[idx])).numpy()
    return float(np.mean((f >= 0) == (yd[idx] == 1)))


cnns = {"Adam": cnn}
reports_d = {}
for name, kw in {"refit only": {"layers": []}, "paper rule, all": {"keep": "polished", "layers": "all"},
                 "default, all": {"layers": "all"}}.items():
    cnns[name], reports_d[name] = wn.polish(cnn, Xd[trd], yd[trd], loss="logistic", lam=lam_d, **kw)
print(f"{'':<18} {'train acc':>9} {'val acc':>8} {'objective':>10}")
for name, mod in cnns.items():
    r = reports_d.get(name)
    obj = (reports_d["default, all"].before if r is None else r.after)["objective"]
    print(f"{name:<18} {acc(mod, trd):>9.3f} {acc(mod, vad):>8.3f} {obj:>10.4f}")
print(reports_d["default, all"].summary(max_rows=3))
"""),
    md("""
The trained and the polished filters (a filter kept unpolished shows its trained weights twice),
and, for the first sample-defined filter, the 9 training patches that
define its polished version (`report.layers[0].locations(j)` gives image, row and column of each
patch; the patch is centred there, with zero padding).  The polished filter is orthogonal to its
9 patches (with the bias: it passes through them).  A filter whose nearest patches are mostly
blank background is built from them all the same and can turn a long way from the trained one.
"""),
    code("""
lr0 = reports_d["default, all"].layers[0]
j0 = int(np.flatnonzero(lr0.polished)[0])  # the first filter that is sample-defined
W_old, W_new = lr0.old_weights[0], lr0.new_weights[0]
fig = Figure(figsize=(10, 4.2), layout="constrained")
axs = fig.subplots(3, 9)
for j in range(8):
    for ax, Wk, name in ((axs[0, j], W_old, "trained"), (axs[1, j], W_new, "polished")):
        v = np.abs(Wk[j]).max()
        ax.imshow(Wk[j].reshape(3, 3), cmap="RdBu", vmin=-v, vmax=v)
        ax.set_title(f"trained {j}" if name == "trained" else f"polished, {lr0.angle[j]:.1f} deg", fontsize=7)
padded = np.pad(Xd[trd][:, 0], ((0, 0), (1, 1), (1, 1)))  # the conv's zero padding
patches = np.array([padded[img, r:r + 3, c:c + 3].ravel() for img, r, c in lr0.locations(j0)])
b_new = lr0.new_weights[1]
print(f"polished filter {j0} on its 9 patches, max |w . patch + b|:",
      np.abs(patches @ W_new[j0] + b_new[j0]).max())
for ax, (img, r, c), patch in zip(axs[2], lr0.locations(j0), patches, strict=True):
    ax.imshow(patch.reshape(3, 3), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"img {img} ({r},{c})", fontsize=7)
for ax in axs.ravel():
    ax.set_xticks([])
    ax.set_yticks([])
axs[0, 8].set_axis_off()
axs[1, 8].set_axis_off()
fig
"""),
    md("""
**Reading the results.**  The paper's rule ignores the objective and often loses to Adam (most
visibly on Boston, and on the CNN once the dense layer is polished too).  The default keeps the
training objective within 0.5% of Adam's (usually below it) with every or nearly every neuron
sample-defined, and says which neurons it kept and why; `union` is never worse than either
refit but keeps many trained neurons.  A lower training objective is not a lower validation
error: on Boston the refitted networks fit the training set more closely.  See
[Polishing trained networks](../../polishing/) for the averaged results.
"""),
    code("""
print(f"notebook ran in {time.time() - t0:.1f} s after the imports")
"""),
]

# ------------------------------------------------------------------------------------------ 06
NOTEBOOKS["06_nyse"] = [
    md("""
# Autoregression on the NYSE data (Zeger and Pilanci)

*Needs the `plot` and `torch` extras, pandas, and ISLP for the NYSE data:
`pip install "wedgenet[plot,torch]" pandas && pip install --no-deps ISLP==0.6.0`.*

Predict the log trading volume of the New York Stock Exchange from the past 5 days of three
series (Dow Jones return, log volume, log volatility): 15 inputs.  The data come with the
`ISLP` package, with a `train` column that splits them into a training period (4276 samples
after the lags) and a validation period (1770).  We compare the validation MSE along `lam` of a
convex network and of Adam over 5 seeds, with the same objective
`0.5 ||f(X) - y||^2 + (lam/2) sum_j (||w_j||_2^2 + a_j^2)`.

**A sampled dictionary.**  The full wedge dictionary of Thm 3 (affine hulls of 15 of 4276
samples) has about `4e42` candidates: far too many to enumerate or even to rank in int64.
`wn.fit(..., max_columns=2000)` samples candidate subsets uniformly (by subsets, not ranks) and
solves the Lasso over those columns: the certificate holds *over the sampled neurons*, not over
the whole dictionary.
"""),
    code("""
%matplotlib inline
import time

import numpy as np
import torch
from ISLP import load_data
from matplotlib.figure import Figure

import wedgenet as wn

t0 = time.time()
torch.set_num_threads(1)
df = load_data("NYSE")
series = df[["DJ_return", "log_volume", "log_volatility"]].to_numpy()
L = 5
X = np.hstack([series[L - k - 1:len(series) - k - 1] for k in range(L)])  # lags 1..5 of each series
y = series[L:, 1]
train = df["train"].to_numpy()[L:]
mu, sd = X[train].mean(0), X[train].std(0)
X = (X - mu) / sd
Xtr, ytr, Xva, yva = X[train], y[train], X[~train], y[~train]
n, d = Xtr.shape
print(Xtr.shape, Xva.shape)
"""),
    code("""
lams = np.geomspace(300, 3, 5)
# the same 2000 sampled columns for every lam (same random_state); warm starts along the path
nets = wn.fit_path(Xtr, ytr, lams, reg="l2", bias=True, max_columns=2000, random_state=0)
convex = []
for lam, net in zip(lams, nets, strict=True):
    convex.append(np.mean((net.predict(Xva) - yva) ** 2))
    print(f"lam {lam:8.2f}: {net.n_neurons:3d} neurons, validation MSE {convex[-1]:.5f}, "
          f"relative gap {net.relative_gap:.1e} over the sampled columns")
A = np.c_[Xtr, np.ones(n)]
coef = np.linalg.lstsq(A, ytr, rcond=None)[0]
linear = np.mean((np.c_[Xva, np.ones(len(Xva))] @ coef - yva) ** 2)
print(f"linear autoregression: validation MSE {linear:.5f}")
"""),
    md("""
Adam on the same objective: 5 seeds in one batch, 200 full-batch steps, width 24, float32 (to keep
the notebook quick).
"""),
    code("""
def adam_val_mse(lam, width=24, seeds=5, steps=200, lr=0.03):
    g = torch.Generator().manual_seed(0)
    Xt, yt, Xv = (torch.from_numpy(a.astype(np.float32)) for a in (Xtr, ytr, Xva))
    W = (torch.randn(seeds, width, d, generator=g) / d**0.5).requires_grad_()
    b = (0.1 * torch.randn(seeds, width, generator=g)).requires_grad_()
    a = (torch.randn(seeds, width, generator=g) / width**0.5).requires_grad_()
    t = torch.full((seeds,), float(ytr.mean())).requires_grad_()
    opt = torch.optim.Adam([W, b, a, t], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        f = torch.einsum("snm,sm->sn", torch.relu(torch.einsum("smd,nd->snm", W, Xt) + b[:, None]), a) + t[:, None]
        obj = 0.5 * ((f - yt) ** 2).sum(-1) + 0.5 * lam * ((W**2).sum((-1, -2)) + (a**2).sum(-1))
        obj.sum().backward()
        opt.step()
    with torch.no_grad():
        f = torch.einsum("snm,sm->sn", torch.relu(torch.einsum("smd,nd->snm", W, Xv) + b[:, None]), a) + t[:, None]
        return ((f - torch.from_numpy(yva.astype(np.float32))) ** 2).mean(-1).numpy()

adam = np.array([adam_val_mse(lam) for lam in lams])
for lam, row in zip(lams, adam, strict=True):
    print(f"lam {lam:8.2f}: Adam validation MSE {row.mean():.5f} +- {row.std():.5f}")
"""),
    code("""
fig = Figure(figsize=(7, 4), layout="constrained")
ax = fig.add_subplot()
ax.plot(lams, convex, "o--", color="tab:green", label="convex (sampled wedge dictionary)")
m, s = adam.mean(1), adam.std(1)
ax.plot(lams, m, "o-", color="tab:orange", label="Adam, mean of 5 seeds")
ax.fill_between(lams, m - s, m + s, color="tab:orange", alpha=0.3)
ax.axhline(linear, color="0.4", ls=":", label="linear autoregression")
ax.set_xscale("log")
ax.set_xlabel("lam")
ax.set_ylabel("validation MSE")
ax.legend()
print(f"ran in {time.time() - t0:.1f} s")
fig
"""),
    md("""
**Reading the result.**  The convex curve is the certified Lasso optimum over the *sampled*
neurons only: an upper bound on the best network, with no certificate over the full dictionary.  Where
Adam reaches a lower validation error (large `lam`, where the convex solution keeps few or no
neurons), the 2000 sampled hyperplanes simply miss the ones that matter; at small `lam` the
sampled convex network and Adam are on par with a linear autoregression, which is hard to beat
on this series.  Unlike Adam, the convex fit has no seed-to-seed spread.
"""),
]


# ------------------------------------------------------------------------------------------ 07
NOTEBOOKS["07_gallery"] = [
    md("""
# Gallery: every plot function on real data

*Needs the `plot` and `torch` extras (the last figure polishes a PyTorch network):
`pip install "wedgenet[plot,torch]"`.*

One call per figure of `wedgenet.plot`, on scikit-learn's bundled data sets (no download): the
iris flowers (versicolor against virginica, petal length and width, standardised) and the diabetes
data (body mass index against disease progression).  Each figure is what the function returns: a
`matplotlib.figure.Figure`, drawn without pyplot, to save with `fig.savefig(...)`.
"""),
    code("""
%matplotlib inline
import numpy as np
import torch
from sklearn.datasets import load_diabetes, load_iris

import wedgenet as wn
from wedgenet import plot as wplot

iris = load_iris()
keep = iris.target > 0
names = [f"{iris.feature_names[k]} (standardised)" for k in (2, 3)]
X_raw = iris.data[keep][:, [2, 3]]
X = (X_raw - X_raw.mean(axis=0)) / X_raw.std(axis=0)
y = np.where(iris.target[keep] == 2, 1.0, -1.0)  # virginica +1, versicolor -1
print(X.shape, "samples;", len(np.unique(X, axis=0)), "distinct")
"""),
    md("""
## `plot_decision_regions`

A certified `reg="l1"` network (globally optimal).  The black line is the decision boundary
`f(x) = 0`; thin lines are the breaklines `w_j . x + b_j = 0` of the ten neurons with the largest
`|a_j|` (`top_k=10`), solid or dashed by orientation; the neuron with the largest `|a_j|` is drawn
in orange with its defining samples circled, labelled away from the data and joined.
"""),
    code("""
net = wn.fit(X, y, lam=0.5, reg="l1", bias=True)
print(net.summary(max_rows=4))
j = int(wplot.top_neurons(net, 1)[0])
wplot.plot_decision_regions(net, X, y, feature_names=names, highlight_neuron=j, top_k=10)
"""),
    md("""
## `plot_function_1d`

A 1-D network (Theorem 1): the fit is piecewise linear and every breakpoint sits on a training
sample, named on the plot.
"""),
    code("""
dia = load_diabetes()
bmi = (dia.data[:, 2] - dia.data[:, 2].mean()) / dia.data[:, 2].std()
prog = (dia.target - dia.target.mean()) / dia.target.std()
net1 = wn.fit(bmi[:, None], prog, lam=4.0, reg="l1", bias=True)
print(net1.n_neurons, "neurons; relative gap", f"{net1.relative_gap:.1e}")
wplot.plot_function_1d(net1, bmi, prog, feature_name="body mass index (standardised)")
"""),
    md("""
## `plot_partition`

Every candidate breakline of a dictionary: here Theorem 3 (`reg="l2"`, `bias=True`), the lines
through pairs of nine iris samples (the paper's Figure 7 draws the same kind of picture).
"""),
    code("""
sub = np.unique(X, axis=0)[::7][:9]
wplot.plot_partition(sub, reg="l2", bias=True)
"""),
    md("""
## `plot_path`

A regularisation path from `wedgenet.fit_path`: each neuron's Lasso coefficient and the network
size against `lam`.
"""),
    code("""
nets = wn.fit_path(X, y, np.geomspace(8.0, 0.3, 8), reg="l1", bias=True)
wplot.plot_path(nets)
"""),
    md("""
## `plot_polishing`

A 16-neuron network trained by Adam, then polished by `wedgenet.polish`: each neuron moved onto
the cross product of the samples nearest its breakline (old breaklines dashed, polished solid,
samples joined to the old line); the bars compare the training objective before, after the convex
refit alone and after polishing; the histogram shows how far each neuron turned.
"""),
    code("""
torch.manual_seed(0)
torch.set_num_threads(1)
model = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1),
                            torch.nn.Flatten(0)).double()
opt = torch.optim.Adam(model.parameters(), lr=1e-2)
Xt, yt = torch.tensor(X), torch.tensor(y)
for _ in range(500):
    opt.zero_grad()
    loss = torch.mean((model(Xt) - yt) ** 2)
    loss.backward()
    opt.step()
polished, report = wn.polish(model, X, y, lam=0.05)
wplot.plot_polishing(report, X, y, feature_names=names)
"""),
]


def source_hash(nb) -> str:
    """Fingerprint of a notebook's cells (type and source): the executed copy in docs/ records it."""
    cells = [[c.cell_type, c.source] for c in nb.cells]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode()).hexdigest()


def execute(name: str, timeout: int = 600) -> None:
    """Run ``notebooks/<name>.ipynb`` in a temporary directory; write it, outputs kept, to docs/tutorials."""
    import nbclient

    nb = nbformat.read(HERE / f"{name}.ipynb", as_version=4)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": tmp}}).execute()
    seconds = time.perf_counter() - t0
    print(f"{name}: executed in {seconds:.1f} s" + (f" (over the {BUDGET} s budget)" if seconds > BUDGET else ""))
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    if errors:
        raise SystemExit(f"{name}: a cell failed: {errors[0].get('ename')}: {errors[0].get('evalue')}")
    nb.metadata["wedgenet"] = {"source_sha256": source_hash(nb)}
    dst = DOCS / f"{name}.ipynb"
    if dst.is_symlink() or dst.exists():
        dst.unlink()
    nbformat.write(nb, dst)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Write the tutorial notebooks; --execute also renders the docs copies.")
    ap.add_argument("--execute", action="store_true",
                    help="run every notebook and store the executed copy in docs/tutorials/ (the site shows it)")
    ap.add_argument("names", nargs="*", help="only these notebooks (default: all)")
    args = ap.parse_args(argv)
    names = args.names or list(NOTEBOOKS)
    unknown = sorted(set(names) - set(NOTEBOOKS))
    if unknown:
        raise SystemExit(f"unknown notebooks: {unknown}")
    for name in names:
        nb = new_notebook(cells=NOTEBOOKS[name])
        for i, cell in enumerate(nb.cells):  # stable ids: regenerating gives no spurious diffs
            cell.id = f"{name[:2]}-{i:02d}"
        nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.validate(nb)
        nbformat.write(nb, HERE / f"{name}.ipynb")
    if args.execute:
        for name in names:
            print(f"executing {name} ...", flush=True)
            execute(name)


if __name__ == "__main__":
    main()
