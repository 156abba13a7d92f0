"""Polishing experiments of the paper's section 4.1: spiral (Fig 8), Boston (Fig 10), digits CNN (Fig 9a).

Every network is trained in float64 by Adam with *coupled* weight decay on the weights only
(biases free), i.e. on exactly the objective wedgenet polishes and refits:

    L(f(X), y) + (lam/2) * sum of squared weights      (L a sum; squared loss 0.5 ||r||^2)

With a mean loss over the batch and weight decay ``wd``, ``lam = n * wd / 2`` (MSE) or ``n * wd``
(binary cross-entropy).  Each trained net is then polished (``wedgenet.polish``) three ways:

* ``polished``   the paper's procedure: polish the hidden layer, refit the output layer (convex);
* ``spread``     the same with ``spread=0.15``: samples nearly dependent inside the old hyperplane are
                 skipped (see ``wedgenet.polish``);
* ``union``      (with ``spread=0.15``) the refit Lasso over the polished and the old neurons (never
                 worse than either refit);
* ``refit only`` the same convex refit of the *unpolished* network: separates the refit's gain
                 from the polishing's.

1. spiral   make_spiral(100), width 100, full-batch Adam; training objective over 10 init seeds,
            with the optimum of the convex p=2 Lasso from ``wedgenet.fit(reg="l2")`` (an achievable
            network; the global optimum is within ``1/(1-eps)`` of it, docs/conventions.md#dictionaries).
2. boston   ISLP Boston (12 features, target medv), standardised, random 80/20 train/validation
            split per trial; widths 16, 64, 256; Adam lr 1e-2, batch 16, 100 epochs; train and
            validation MSE (original units), mean and std over the trials.
3. digits   scikit-learn digits, classes 3 vs 8, 8x8 images, random 70/30 split per trial; CNN
            Conv2d(1, 8, 3, pad 1) - ReLU - MaxPool(2) - Flatten - Linear(128, 32) - ReLU - Linear(32, 1),
            logistic loss; the first conv layer is polished (its samples are the unfolded 3x3 patches)
            and the dense head's output layer is refit; also ``layers="all"`` (conv and dense hidden).

Run:  python benchmarks/experiments_polish.py [--quick] [--only spiral,boston,digits]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import wedgenet
from wedgenet.datasets import make_spiral


def _torch():
    import torch

    torch.set_num_threads(1)
    return torch


def train(model, X, y, *, loss: str, wd: float, lr: float, epochs: int, batch: int | None, seed: int):
    """Adam with coupled L2 weight decay on the weights (not the biases); mean loss per batch."""
    torch = _torch()
    Xt, yt = torch.tensor(X), torch.tensor(y)
    params_w = [p for n, p in model.named_parameters() if n.endswith("weight")]
    params_b = [p for n, p in model.named_parameters() if n.endswith("bias")]
    opt = torch.optim.Adam([{"params": params_w, "weight_decay": wd}, {"params": params_b, "weight_decay": 0.0}],
                           lr=lr)
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
                L = torch.nn.functional.binary_cross_entropy_with_logits(f, yt[idx])
            L.backward()
            opt.step()
    return model


def predict(model, X):
    torch = _torch()
    with torch.no_grad():
        return model(torch.tensor(X)).numpy()


def mlp(d: int, m: int, seed: int):
    torch = _torch()
    torch.manual_seed(seed)
    nn = torch.nn
    return nn.Sequential(nn.Linear(d, m), nn.ReLU(), nn.Linear(m, 1), nn.Flatten(0)).double()


def ms(a) -> str:
    a = np.asarray(a, dtype=float)
    return f"{a.mean():.4g} +- {a.std(ddof=1) if a.size > 1 else 0.0:.2g}"


SPREAD = 0.15
VARIANTS = (("polished", {"keep": "polished"}), ("spread", {"keep": "polished", "spread": SPREAD}),
            ("union", {"keep": "union", "spread": SPREAD}))


# ------------------------------------------------------------------------------------------ spiral
def spiral(args) -> None:
    X, y = make_spiral(100, random_state=0)
    n = len(X)
    lam = 1e-2
    seeds = range(3 if args.quick else 10)
    iters = 1000 if args.quick else 5000
    m = 100
    t = time.perf_counter()
    net = wedgenet.fit(X, y, lam=lam, reg="l2")
    opt_val = net.objective(X, y)
    print(f"\n== spiral (n={n}, width {m}, lam={lam}, full-batch Adam lr 1e-2, {iters} steps) ==")
    print(f"convex p=2 Lasso (wedgenet.fit): objective {opt_val:.6g}, {net.n_neurons} neurons, relative gap "
          f"{net.relative_gap:.1e} ({time.perf_counter() - t:.1f} s)")
    rows = []
    print(f"{'seed':>4} {'Adam':>10} {'refit only':>11} {'polished':>10} {'spread':>10} {'union':>10} "
          f"{'med angle':>9} {'signs':>6} {'active':>7}")
    for s in seeds:
        model = train(mlp(2, m, s), X, y, loss="squared", wd=2 * lam / n, lr=1e-2, epochs=iters, batch=None, seed=s)
        r = {}
        for name, kw in VARIANTS:
            _, rep = wedgenet.polish(model, X, y, lam=lam, **kw)
            r[name] = rep
        rp = r["polished"]
        row = (rp.before["objective"], rp.refit_unpolished["objective"], rp.after["objective"],
               r["spread"].after["objective"], r["union"].after["objective"])
        rows.append(row)
        lr0 = rp.layers[0]
        print(f"{s:>4} {row[0]:>10.5g} {row[1]:>11.5g} {row[2]:>10.5g} {row[3]:>10.5g} {row[4]:>10.5g} "
              f"{np.median(lr0.angle):>9.3g} {int(lr0.sign_changes.sum()):>6} {int(lr0.active.sum()):>3}/{m}")
    R = np.array(rows)
    print(f"mean +- std over {len(R)} seeds: Adam {ms(R[:, 0])}, refit only {ms(R[:, 1])}, polished {ms(R[:, 2])}, "
          f"spread {ms(R[:, 3])}, union {ms(R[:, 4])}; convex optimum {opt_val:.5g}")
    for j, name in ((2, "polished"), (3, "spread"), (4, "union")):
        print(f"{name} < Adam in {np.sum(R[:, j] < R[:, 0])}/{len(R)} seeds; < refit only in "
              f"{np.sum(R[:, j] < R[:, 1] - 1e-9)}/{len(R)}")


# ------------------------------------------------------------------------------------------ boston
def boston(args) -> None:
    try:
        from ISLP import load_data
    except ImportError:
        print("\n== boston: skipped (pip install --no-deps ISLP; its loader needs only pandas) ==")
        return
    df = load_data("Boston")
    y_all = df["medv"].to_numpy(dtype=float)
    X_all = df.drop(columns=["medv"]).to_numpy(dtype=float)
    trials = 3 if args.quick else 10
    epochs = 30 if args.quick else 100
    widths = (16, 64, 256)
    wd = 1e-3
    print(f"\n== boston (ISLP, n={len(X_all)}, {X_all.shape[1]} features; 80/20 split; Adam lr 1e-2, batch 16, "
          f"{epochs} epochs, weight decay {wd} -> lam = n wd / 2; {trials} trials; MSE in medv units^2) ==")
    print(f"{'width':>5} {'method':<11} {'train MSE':>18} {'val MSE':>18}")
    for m in widths:
        res: dict[str, list] = {k: [] for k in ("Adam", "refit only", "polished", "spread", "union")}
        for t in range(trials):
            rng = np.random.default_rng(1000 + t)
            perm = rng.permutation(len(X_all))
            ntr = int(0.8 * len(X_all))
            tr, va = perm[:ntr], perm[ntr:]
            mu, sd = X_all[tr].mean(0), X_all[tr].std(0)
            Xtr, Xva = (X_all[tr] - mu) / sd, (X_all[va] - mu) / sd
            ym, ys = y_all[tr].mean(), y_all[tr].std()
            ytr = (y_all[tr] - ym) / ys
            lam = len(tr) * wd / 2
            model = train(mlp(Xtr.shape[1], m, t), Xtr, ytr, loss="squared", wd=wd, lr=1e-2, epochs=epochs,
                          batch=16, seed=t)

            def mse(mod, Xe, idx, ys=ys, ym=ym):
                return float(np.mean((predict(mod, Xe) * ys + ym - y_all[idx]) ** 2))

            res["Adam"].append((mse(model, Xtr, tr), mse(model, Xva, va)))
            for name, kw in VARIANTS:
                pm, rep = wedgenet.polish(model, Xtr, ytr, lam=lam, **kw)
                res[name].append((mse(pm, Xtr, tr), mse(pm, Xva, va)))
            pm_r, _ = wedgenet.polish(model, Xtr, ytr, lam=lam, layers=[])  # the refit alone
            res["refit only"].append((mse(pm_r, Xtr, tr), mse(pm_r, Xva, va)))
        for name, v in res.items():
            v = np.array(v)
            print(f"{m:>5} {name:<11} {ms(v[:, 0]):>18} {ms(v[:, 1]):>18}")


# ------------------------------------------------------------------------------------------ digits
def digits(args) -> None:
    torch = _torch()
    from sklearn.datasets import load_digits

    nn = torch.nn
    D = load_digits()
    keep = np.isin(D.target, (3, 8))
    X_all = (D.images[keep] / 16.0)[:, None, :, :]
    y_all = (D.target[keep] == 8).astype(float)
    trials = 2 if args.quick else 5
    epochs = 20 if args.quick else 60
    wd = 1e-3
    print(f"\n== digits 3 vs 8 (n={len(X_all)} 8x8 images; 70/30 split; CNN conv(8@3x3)-pool-dense(32)-out; "
          f"Adam lr 1e-2, batch 32, {epochs} epochs, weight decay {wd} -> lam = n wd; {trials} trials) ==")
    res: dict[str, list] = {k: [] for k in ("Adam", "refit only", "polish conv", "conv spread", "polish all")}
    info = []
    for t in range(trials):
        rng = np.random.default_rng(2000 + t)
        perm = rng.permutation(len(X_all))
        ntr = int(0.7 * len(X_all))
        tr, va = perm[:ntr], perm[ntr:]
        torch.manual_seed(t)
        model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(8 * 4 * 4, 32), nn.ReLU(), nn.Linear(32, 1), nn.Flatten(0)).double()
        model = train(model, X_all[tr], y_all[tr], loss="logistic", wd=wd, lr=1e-2, epochs=epochs, batch=32, seed=t)
        lam = len(tr) * wd

        def acc(mod, idx):
            return float(np.mean((predict(mod, X_all[idx]) >= 0) == (y_all[idx] == 1)))

        res["Adam"].append((acc(model, tr), acc(model, va)))
        pm, rep = wedgenet.polish(model, X_all[tr], y_all[tr], loss="logistic", lam=lam, layers="first")
        res["polish conv"].append((acc(pm, tr), acc(pm, va)))
        info.append((rep.before["objective"], rep.refit_unpolished["objective"], rep.after["objective"],
                     rep.layers[0].rank, rep.layers[0].n_unique, rep.layers[0].n_samples,
                     float(np.median(rep.layers[0].angle)), int(rep.layers[0].sign_changes.sum())))
        pms, reps = wedgenet.polish(model, X_all[tr], y_all[tr], loss="logistic", lam=lam, spread=SPREAD)
        res["conv spread"].append((acc(pms, tr), acc(pms, va)))
        info[-1] = info[-1] + (reps.after["objective"],)
        pm2, rep2 = wedgenet.polish(model, X_all[tr], y_all[tr], loss="logistic", lam=lam, layers="all")
        res["polish all"].append((acc(pm2, tr), acc(pm2, va)))
        pmr, _ = wedgenet.polish(model, X_all[tr], y_all[tr], loss="logistic", lam=lam, layers=[])
        res["refit only"].append((acc(pmr, tr), acc(pmr, va)))
    print(f"{'method':<12} {'train acc':>18} {'val acc':>18}   (polish all: conv and dense hidden layer)")
    for name, v in res.items():
        v = np.array(v)
        print(f"{name:<12} {ms(v[:, 0]):>18} {ms(v[:, 1]):>18}")
    I = np.array(info)
    print(f"training objective (logistic, sum): Adam {ms(I[:, 0])}, refit only {ms(I[:, 1])}, polish conv "
          f"{ms(I[:, 2])}, conv spread {ms(I[:, 8])}; conv samples: rank {int(I[0, 3])}, "
          f"{int(I[0, 4])} distinct of {int(I[0, 5])} patches, "
          f"median angle {ms(I[:, 6])} deg, patch activation sign changes {ms(I[:, 7])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer seeds, trials and epochs")
    ap.add_argument("--only", default="spiral,boston,digits")
    args = ap.parse_args()
    t0 = time.perf_counter()
    for name in args.only.split(","):
        {"spiral": spiral, "boston": boston, "digits": digits}[name.strip()](args)
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
