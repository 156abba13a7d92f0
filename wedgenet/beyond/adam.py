"""A short PyTorch Adam run on the network objective, to seed the heuristic pricer (needs torch).

Minimises ``L(f(X), y) + (lam/2) sum_j (||w_j||_p^2 + a_j^2)`` (docs/conventions.md, "The
objective") over a width-``width`` two-layer network, float64, full batch, Adam with step
``lr`` dropped tenfold for the last 30% of the steps.  The first-layer neurons ``(W1, b1)`` are
then snapped to vertices of the arrangement by :func:`wedgenet.beyond.local_search.best_vertices`
(their tightest rows: the samples nearest their breaklines, as polishing does).
"""

from __future__ import annotations

import numpy as np

from .._linalg import relu_layer, row_norms
from ..solvers.losses import get_loss

__all__ = ["adam_network"]


def adam_network(X: np.ndarray, y: np.ndarray, *, lam: float, loss: str = "squared", reg: str = "l1",
                 bias: bool = True, width: int = 64, steps: int = 2000, lr: float = 1e-2,
                 random_state: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, float]:
    """``(W1, b1, a, t, objective)`` of one Adam run; the objective is recomputed in numpy."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("seed_network='adam' needs PyTorch: pip install 'wedgenet[torch]'") from exc
    if loss not in ("squared", "logistic"):
        raise ValueError(f"the Adam seed supports loss 'squared' or 'logistic'; got {loss!r}")
    X = np.ascontiguousarray(X, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(int(random_state))
    d = X.shape[1]
    bound = 1.0 / np.sqrt(d)
    W = ((torch.rand(width, d, dtype=torch.float64, generator=gen) * 2 - 1) * bound).requires_grad_()
    b = ((torch.rand(width, dtype=torch.float64, generator=gen) * 2 - 1) * bound
         if bias else torch.zeros(width, dtype=torch.float64)).requires_grad_(bias)
    a = (torch.randn(width, dtype=torch.float64, generator=gen) / np.sqrt(width)).requires_grad_()
    t = torch.zeros((), dtype=torch.float64, requires_grad=bias)
    params = [W, a] + ([b, t] if bias else [])
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, milestones=[int(0.7 * steps)], gamma=0.1)
    for _ in range(steps):
        opt.zero_grad()
        f = torch.relu(Xt @ W.T + b) @ a + t
        L = 0.5 * ((f - yt) ** 2).sum() if loss == "squared" else torch.nn.functional.softplus(-yt * f).sum()
        wn = W.abs().sum(dim=1) ** 2 if reg == "l1" else (W * W).sum(dim=1)
        F = L + 0.5 * lam * (wn.sum() + (a * a).sum())
        F.backward()
        opt.step()
        sched.step()
    Wn, bn, an = (v.detach().numpy().copy() for v in (W, b, a))
    tn = float(t.detach())
    f = relu_layer(X, Wn, bn) @ an + tn
    p = 1 if reg == "l1" else 2
    obj = get_loss(loss).value(f, y) + 0.5 * lam * float(np.sum(row_norms(Wn, p) ** 2) + an @ an)
    return Wn, bn, an, tn, float(obj)
