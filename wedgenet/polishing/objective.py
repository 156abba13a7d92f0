"""The default polish (``keep="objective"``): choose, refit, check, and revert only what hurts.

Layer by layer, in order (Theorems 10/11: layer ``l`` is polished on the activations of the
already polished layers before it, conv layers on their unfolded patches):

1. **Candidates.**  Every neuron is snapped by each rule of :data:`~.choice.RULES`.
2. **Choice.**  The last hidden layer, with targets and ``lam``: a candidate is priced against
   the current residual (:func:`~.choice.residual_prices`), then the output layer is refitted by
   the Lasso over the *union* of all candidates of all neurons (``m * len(RULES)`` columns, a
   wedgenet back-end with its duality-gap certificate); in each slot the candidate with the
   largest Lasso coefficient wins, the best-priced one where the Lasso uses none.  Earlier and
   conv layers: the candidate that best reproduces the old neuron's activations
   (:func:`~.choice.imitation_prices`); the next Linear layer is then refitted by least squares
   (shrunk towards its old weights) to reproduce its old pre-activations on the new inputs.
3. **Refit and check.**  The output layer is refitted (Lasso with certificate) and the network
   rebalanced; its training objective is compared with the budget ``(1 + tolerance) * before``.
4. **Revert only what hurts.**  Over budget, first the union Lasso over the candidates *and* the
   trained neurons (the trained ones it uses stay); then, by bisection over their number, the
   neurons whose snap costs most (old price minus chosen price) get their trained weights back,
   and the reverted ones are tried again one at a time, cheapest first (at most
   :data:`GREEDY_MAX` refits).  Whichever meets the budget with more sample-defined neurons is
   kept; the report names each unpolished neuron and why.  If even the fully unpolished refit
   misses the budget, the layer keeps its trained weights.
5. **Re-snap** (``rounds > 1``, last hidden layer): prices are recomputed against the refitted
   network's residual, neurons switch to a better-priced candidate (their current vertex
   competes), the output is refitted, and the round is kept only if the objective went down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._linalg import relu_layer, row_norms
from . import adapters
from .choice import candidate_snaps, imitation_prices, residual_prices, unit_activations
from .selection import LayerPolish, prepare_samples

__all__ = ["ObjectiveContext", "LayerOutcome", "polish_layer_by_objective"]

#: at most this many single-neuron refits when snaps are restored one at a time after the bisection
GREEDY_MAX = 64


@dataclass
class ObjectiveContext:
    """What the default polish needs from the caller (loss-specific parts stay in ``api.py``)."""

    net: adapters.Net
    X: np.ndarray
    p: int
    bias: bool | None
    rank: int | None
    normalize: bool
    lam: float | None
    budget: float | None                                     # objective the result may not exceed
    finish: Callable[[list], tuple[list, dict | None, tuple | None, dict]]  # refit+rebalance+evaluate
    grad_curv: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None  # f -> (G, h) at outputs f
    union_refit: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, dict]] | None  # (H, norms) -> (zeta, rec)
    evaluate: Callable[[list], dict] | None = None           # evaluation without refit
    rounds: int = 1


@dataclass
class LayerOutcome:
    """Per layer: what was chosen and why (arrays over the layer's neurons)."""

    res: LayerPolish                      # the chosen snap per neuron (rows of unpolished ones are unused)
    rule: list[str]
    polished: np.ndarray                  # bool: the slot holds a sample-defined neuron
    price_loss: np.ndarray                # old price - chosen price (objective units, or imitation units)
    reasons: dict[int, str] = field(default_factory=dict)
    union: dict | None = None             # certificate of the union Lasso (last hidden layer)
    grid: tuple[int, int] | None = None
    rounds_kept: int = 0


def _assemble(cands: list[tuple[str, LayerPolish]], choice: np.ndarray, origin: np.ndarray | None = None,
              ) -> LayerPolish:
    """One LayerPolish whose slot ``j`` holds candidate ``choice[j]`` of trained neuron ``origin[j]``."""
    first = cands[0][1]
    pick = [c[1] for c in cands]
    rows = np.arange(choice.shape[0]) if origin is None else origin

    def take(attr):
        arr = np.stack([getattr(c, attr) for c in pick])     # (n_rules, m, ...)
        return arr[choice, rows]

    b = None if first.b is None else take("b")
    return LayerPolish(W=take("W"), b=b, samples=take("samples"), angle=take("angle"),
                       sign_changes=take("sign_changes"), max_distance=take("max_distance"),
                       degenerate=take("degenerate"), rank=first.rank, n_samples=first.n_samples,
                       n_unique=first.n_unique, dim=first.dim)


def _with_rows(weights: list, k: int, W: np.ndarray, b: np.ndarray | None, keep_b: np.ndarray | None) -> list:
    new = list(weights)
    new[k] = (W, b if b is not None else (None if keep_b is None else np.zeros_like(keep_b)))
    return new


def _refit_next(ctx: ObjectiveContext, weights: list, old_weights: list, k: int) -> list:
    """Least squares for layer ``k+1`` (Linear, not the output): reproduce its old pre-activations.

    ``min ||Phi W^T + 1 b^T - Z_old||_F^2 + mu ||W - W_old||_F^2`` with ``Phi`` the new inputs,
    ``mu = 1e-6 * ||Phi||_F^2 / F`` (a small shrink towards the trained weights keeps the problem
    well posed when ``n < F``).
    """
    net = ctx.net
    nxt = k + 1
    if nxt >= len(net.layers) - 1 or net.layers[nxt].kind != "linear":
        return weights
    _, inp_old = adapters.forward(net, ctx.X, old_weights, stop=nxt)
    _, inp_new = adapters.forward(net, ctx.X, weights, stop=nxt)
    Po, Pn = inp_old[nxt], inp_new[nxt]
    Wn, bn = weights[nxt]
    Zo = Po @ Wn.T + (0.0 if bn is None else bn)
    n, F = Pn.shape
    Phi = np.hstack([Pn, np.ones((n, 1))]) if bn is not None else Pn
    mu = 1e-6 * float(np.sum(Phi * Phi)) / max(Phi.shape[1], 1) + 1e-300
    prior = np.hstack([Wn, bn[:, None]]) if bn is not None else Wn
    lhs = Phi.T @ Phi + mu * np.eye(Phi.shape[1])
    rhs = Phi.T @ Zo + mu * prior.T
    try:
        sol = np.linalg.solve(lhs, rhs).T
    except np.linalg.LinAlgError:
        return weights
    new = list(weights)
    new[nxt] = (np.ascontiguousarray(sol[:, :F]), None if bn is None else sol[:, F].copy())
    return new


def polish_layer_by_objective(ctx: ObjectiveContext, weights: list, k: int) -> tuple[list, LayerOutcome, dict]:
    """Polish hidden layer ``k`` of ``weights`` (see the module docstring).

    Returns the new weights of the whole network (refitted and rebalanced when the context
    refits), the layer's outcome and the evaluation of the returned network.
    """
    from threadpoolctl import threadpool_limits

    # BLAS on one thread: its idle threads spin and starve the parallel numba kernels (see polish_weights)
    with threadpool_limits(limits=1, user_api="blas"):
        return _polish_layer(ctx, weights, k)


def _polish_layer(ctx: ObjectiveContext, weights: list, k: int) -> tuple[list, LayerOutcome, dict]:
    net = ctx.net
    last = len(net.layers) - 2
    _, inputs = adapters.forward(net, ctx.X, weights, stop=k)
    S = np.ascontiguousarray(adapters.layer_samples(net, k, inputs[k]).reshape(-1, net.layers[k].W.shape[1]))
    W, b = weights[k]
    use_b = b if ctx.bias is not False else None
    sp = prepare_samples(S, use_b is not None, ctx.rank)
    cands = candidate_snaps(sp, W, use_b, p=ctx.p, normalize=ctx.normalize)
    grid = adapters.unfold(inputs[k][:1], net.layers[k].conv)[1] if net.layers[k].kind == "conv2d" else None
    H_old = relu_layer(S, W, use_b)
    U_old = unit_activations(S, W, use_b, ctx.p)
    Us = [unit_activations(S, c.W, c.b, ctx.p) for _, c in cands]
    # units: one common factor brings the unit columns to order 1 (prices are invariant to it when lam
    # is divided by it too), so nothing under- or overflows whatever the scale of the data
    kappa = max([float(np.max(np.abs(U))) for U in Us + [U_old] if U.size] + [0.0])
    kappa = kappa if 0 < kappa < np.inf else 1.0
    Us = [U / kappa for U in Us]
    U_old = U_old / kappa
    priced = k == last and ctx.grad_curv is not None and ctx.lam is not None
    union = None
    if priced:
        out, _ = adapters.forward(net, ctx.X, weights)
        f = out.reshape(out.shape[0], -1)
        G, h = ctx.grad_curv(f)
        A = weights[-1][0]
        prices = np.stack([residual_prices(U, H_old, A, G, h, ctx.lam / kappa) for U in Us])
        p_old = residual_prices(U_old, H_old, A, G, h, ctx.lam / kappa)
    else:
        prices = np.stack([imitation_prices(U, H_old) for U in Us])
        p_old = imitation_prices(U_old, H_old)
    m = W.shape[0]
    choice = np.argmax(prices, axis=0)
    origin = np.arange(m)
    if priced and ctx.union_refit is not None:
        choice, origin, union = _union_slots(ctx, [U * kappa for U in Us], prices, choice)
    chosen_price = prices[choice, origin]
    price_loss = p_old - chosen_price
    res = _assemble(cands, choice, origin)
    rule = [cands[c][0] if o == j else f"{cands[c][0]} of {o}" for j, (c, o) in enumerate(zip(choice, origin,
                                                                                            strict=True))]
    outcome = LayerOutcome(res=res, rule=rule, polished=np.ones(m, dtype=bool), price_loss=price_loss,
                           union=union, grid=grid)

    def build(revert: np.ndarray, rs: LayerPolish = res) -> list:
        Wn = np.where(revert[:, None], W, rs.W)
        if rs.b is not None:
            bn = np.where(revert, use_b, rs.b)
        else:  # polished without bias: polished neurons get bias 0, reverted ones their trained bias
            bn = None if b is None else np.where(revert, b, 0.0)
        new = _with_rows(weights, k, Wn, bn, b)
        if k != last:
            new = _refit_next(ctx, new, weights, k)
        return new

    none = np.zeros(W.shape[0], dtype=bool)
    new, ev = _finish(ctx, build(none))
    if ctx.budget is None or ev.get("objective") is None or ev["objective"] <= ctx.budget:
        if priced and ctx.rounds > 1:
            new, ev = _resnap(ctx, new, ev, k, cands, [U * kappa for U in Us], outcome)
        return new, outcome, ev
    if priced and ctx.union_refit is not None and (use_b is not None or b is None):
        # over budget: the union Lasso over every candidate *and* the trained neurons; the trained
        # neurons it uses are the ones kept (certified refit over all those columns)
        trained = LayerPolish(W=W.copy(), b=None if use_b is None else use_b.copy(),
                              samples=np.full_like(res.samples, -1), angle=np.zeros(m),
                              sign_changes=np.zeros(m, dtype=np.int64), max_distance=np.zeros(m),
                              degenerate=np.zeros(m, dtype=bool), rank=res.rank, n_samples=res.n_samples,
                              n_unique=res.n_unique, dim=res.dim)
        cands2 = cands + [("trained", trained)]
        prices2 = np.vstack([prices, p_old[None, :]])
        ch2, or2, union2 = _union_slots(ctx, [U * kappa for U in Us] + [U_old * kappa], prices2,
                                        np.argmax(prices, axis=0))
        res2 = _assemble(cands2, ch2, or2)
        new2, ev2 = _finish(ctx, build(none, res2))
        kept = ch2 == len(cands)
        alt = _revert_bisect(ctx, build, price_loss, m)
        if alt is not None and (ev2["objective"] > ctx.budget or alt[0].sum() < kept.sum()):
            return _reverted(ctx, outcome, alt, price_loss)
        if ev2["objective"] <= ctx.budget:
            outcome.res, outcome.union = res2, union2
            outcome.polished = ~kept
            outcome.price_loss = p_old[or2] - prices2[ch2, or2]
            outcome.rule = [("trained" if c == len(cands) else cands2[c][0]) + ("" if o == j else f" of {o}")
                            for j, (c, o) in enumerate(zip(ch2, or2, strict=True))]
            for j in np.flatnonzero(kept):
                outcome.reasons[int(j)] = (f"kept: with every neuron snapped the refit is above the budget; the "
                                           f"Lasso over all candidates and the trained neurons (certified) uses "
                                           f"trained neuron {int(or2[j])} here")
            outcome.res.samples[kept] = -1
            return new2, outcome, ev2
    alt = _revert_bisect(ctx, build, price_loss, m)
    if alt is not None:
        return _reverted(ctx, outcome, alt, price_loss)
    # even the unpolished refit misses the budget: keep the trained layer as it was
    outcome.polished[:] = False
    for j in range(m):
        outcome.reasons[j] = ("kept: even with every neuron of this layer unpolished the refit is above the "
                              "budget (the refit did not reach the trained objective)")
    outcome.rule = ["trained"] * m
    new, ev = _finish(ctx, list(weights))
    if ev["objective"] > ctx.budget:
        ev = dict(ctx.evaluate(list(weights)), _refit=None, _slots=None)
        new = list(weights)
    return new, outcome, ev


def _revert_bisect(ctx: ObjectiveContext, build, price_loss: np.ndarray, m: int):
    """The fewest costliest snaps to revert (bisection over their count) so that the objective meets the
    budget; ``(revert_mask, weights, evaluation)`` or ``None`` when reverting all of them does not."""
    order = np.argsort(-price_loss, kind="stable")

    def attempt(cnt):
        rev = np.zeros(m, dtype=bool)
        rev[order[:cnt]] = True
        new, ev = _finish(ctx, build(rev))
        return rev, new, ev

    best = attempt(m)
    if best[2]["objective"] > ctx.budget:
        return None
    lo, hi = 0, m  # cnt = lo is over budget (the caller tried it), cnt = hi meets it
    while hi - lo > 1:
        mid = (lo + hi) // 2
        trial = attempt(mid)
        if trial[2]["objective"] <= ctx.budget:
            hi, best = mid, trial
        else:
            lo = mid
    # then, one at a time from the cheapest, snap the reverted neurons whose snap still fits the budget
    rev = best[0].copy()
    for j in order[::-1][:GREEDY_MAX]:
        if not rev[j]:
            continue
        rev[j] = False
        new, ev = _finish(ctx, build(rev))
        if ev["objective"] <= ctx.budget:
            best = (rev.copy(), new, ev)
        else:
            rev[j] = True
    return best


def _reverted(ctx: ObjectiveContext, outcome: LayerOutcome, alt, price_loss: np.ndarray):
    rev, new, ev = alt
    for j in np.flatnonzero(rev):
        outcome.polished[j] = False
        outcome.rule[j] = "trained"
        outcome.reasons[int(j)] = (f"kept: with every neuron snapped the objective is above the budget; "
                                   f"reverting the {int(rev.sum())} snaps with the largest estimated cost restored "
                                   f"it (this one's {price_loss[j]:.3g})")
    return new, outcome, ev


def _union_slots(ctx: ObjectiveContext, Us: list, prices: np.ndarray, choice: np.ndarray,
                 ) -> tuple[np.ndarray, np.ndarray, dict]:
    """The Lasso over every candidate of every neuron (``m * n_rules`` unit columns) fills the slots.

    The last hidden layer's slots are interchangeable (only the output layer reads them), so the
    columns the Lasso uses go to the slots: a column snapped from trained neuron ``i`` takes slot
    ``i`` when it is free, else any free slot.  When the Lasso uses at most ``m`` columns the
    network then *is* the union Lasso's solution (same objective, certified).  With more than
    ``m`` columns the ``m`` largest contributions ``||zeta_c|| * ||K_c||`` are kept.  Slots left
    empty take their own best-priced candidate.
    """
    m = choice.shape[0]
    R = len(Us)
    Hall = np.hstack(Us)                                   # unit columns, rule-major: column c * m + i
    try:
        zeta, union = ctx.union_refit(Hall, np.ones(Hall.shape[1]))
    except RuntimeError:  # the back-end failed on the union: fall back to the prices alone
        return choice, np.arange(m), None
    contrib = np.abs(zeta).reshape(R * m, -1).sum(axis=1) * row_norms(Hall.T)
    used = np.flatnonzero(contrib > 0)
    used = used[np.argsort(-contrib[used], kind="stable")][:m]
    union["n_slots_filled"] = int(used.size)
    union["truncated"] = bool(np.count_nonzero(contrib) > m)
    rule_of, src = used // m, used % m
    slot_choice = np.full(m, -1)
    slot_origin = np.full(m, -1)
    rest = []
    for c, i in zip(rule_of, src, strict=True):
        if slot_choice[i] < 0:
            slot_choice[i], slot_origin[i] = c, i
        else:
            rest.append((c, i))
    free = [j for j in range(m) if slot_choice[j] < 0 and not np.any(src == j)]
    free += [j for j in range(m) if slot_choice[j] < 0 and j not in free]
    for (c, i), j in zip(rest, free, strict=False):
        slot_choice[j], slot_origin[j] = c, i
    empty = slot_choice < 0
    slot_choice[empty] = choice[empty]
    slot_origin[empty] = np.flatnonzero(empty)
    return slot_choice, slot_origin, union


def _finish(ctx: ObjectiveContext, weights: list) -> tuple[list, dict]:
    try:
        new, rec, slots, ev = ctx.finish(weights)
    except RuntimeError as exc:  # a refit back-end failed: this option is not available
        return weights, {"objective": np.inf, "_refit": None, "_slots": None, "_error": str(exc)}
    ev = dict(ev)
    ev["_refit"] = rec
    ev["_slots"] = slots
    return new, ev


def _resnap(ctx: ObjectiveContext, weights: list, ev: dict, k: int, cands: list, Us: list,
            outcome: LayerOutcome) -> tuple[list, dict]:
    """``rounds - 1`` rounds of re-pricing against the refitted residual (last hidden layer)."""
    net = ctx.net
    for _ in range(ctx.rounds - 1):
        _, inputs = adapters.forward(net, ctx.X, weights, stop=k)
        S = inputs[k]
        W, b = weights[k]
        use_b = b if ctx.bias is not False else None
        out, _ = adapters.forward(net, ctx.X, weights)
        G, h = ctx.grad_curv(out.reshape(out.shape[0], -1))
        A = weights[-1][0]
        H_cur = relu_layer(S, W, use_b)
        p_cur = residual_prices(unit_activations(S, W, use_b, ctx.p), H_cur, A, G, h, ctx.lam)
        prices = np.stack([residual_prices(U, H_cur, A, G, h, ctx.lam) for U in Us])
        best = np.argmax(prices, axis=0)
        rows = np.arange(W.shape[0])
        better = outcome.polished & (prices[best, rows] > p_cur * (1 + 1e-9) + 1e-15)
        if not better.any():
            break
        Wn, bn = W.copy(), None if b is None else b.copy()
        for j in np.flatnonzero(better):
            c = cands[best[j]][1]
            scale = row_norms(W[j:j + 1], ctx.p)[0] / max(row_norms(c.W[j:j + 1], ctx.p)[0], 1e-300)
            Wn[j] = c.W[j] * scale
            if bn is not None and c.b is not None:
                bn[j] = c.b[j] * scale
        new, ev2 = _finish(ctx, _with_rows(weights, k, Wn, bn, b))
        if ev2["objective"] >= ev["objective"]:
            break
        for j in np.flatnonzero(better):
            outcome.rule[j] = cands[best[j]][0]
            for attr in ("samples", "angle", "sign_changes", "max_distance"):
                getattr(outcome.res, attr)[j] = getattr(cands[best[j]][1], attr)[j]
        weights, ev = new, ev2
        outcome.rounds_kept += 1
    return weights, ev

