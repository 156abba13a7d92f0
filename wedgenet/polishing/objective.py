"""The default polish (``keep="objective"``): choose, refit, check, and revert only what hurts.

Layer by layer, in order (Theorems 10/11: layer ``l`` is polished on the activations of the
already polished layers before it, conv layers on their unfolded patches):

1. **Candidates.**  Every neuron is snapped by each rule of :data:`~.choice.RULES`.
2. **Choice.**  The last hidden layer, with targets and ``lam``: a candidate is priced against
   the current residual (:func:`~.choice.residual_prices`), then the output layer is refitted by
   the Lasso over the *union* of all candidates of all neurons (``m * len(RULES)`` columns, a
   wedgenet back-end with its duality-gap certificate), pruned to at most ``m`` used columns
   (:func:`_prune_lasso`: the weakest are dropped and the Lasso re-solved, so the network is the
   certified Lasso solution over its final columns); its columns fill the slots, an unused slot
   takes its best-priced candidate.  While that network misses the budget, columns are generated
   by vertex climbing against the loss's residual (:func:`_climber`, reusing
   :func:`wedgenet.beyond.local_search.climb` on the arrangement of the samples) and by tuning
   the Lasso's network with a few Adam steps and snapping it again
   (:func:`~.tune.tuned_snaps`).  Earlier and
   conv layers: the candidate that best reproduces the old neuron's activations
   (:func:`~.choice.imitation_prices`); the next Linear layer is then refitted by least squares
   (shrunk towards its old weights) to reproduce its old pre-activations on the new inputs.
3. **Refit and check.**  The output layer is refitted (Lasso with certificate) and the network
   rebalanced; its training objective is compared with the budget ``(1 + tolerance) * before``.
4. **Keep trained neurons only where needed.**  Over budget, two families of options: the union
   Lasso over the candidates *and* the trained neurons, the trained columns weighted ``omega``
   in the penalty (:data:`TRAINED_WEIGHTS`, then bisection on ``omega``: a larger weight makes
   the Lasso prefer sample-defined columns); and, by bisection over their number, the neurons
   whose snap costs most (old price minus chosen price) get their trained weights back, the
   reverted ones tried again one at a time, cheapest first (at most :data:`GREEDY_MAX` refits).
   Among the options that meet the budget, the one with the largest share of sample-defined
   neurons among the *active* ones (then the most sample-defined overall) is kept
   (:func:`_share`); the report names each unpolished neuron and why.  If even the fully
   unpolished refit misses the budget, the layer keeps its trained weights.
5. **Re-snap** (``rounds > 1``, last hidden layer): prices are recomputed against the refitted
   network's residual, neurons switch to a better-priced candidate (their current vertex
   competes), the output is refitted, and the round is kept only if the objective went down.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._linalg import relu_layer, row_norms, unit_rows
from . import adapters
from .choice import candidate_snaps, imitation_prices, residual_prices, unit_activations
from .selection import LayerPolish, prepare_samples
from .tune import TUNE_MAX_WORK, tune_work, tuned_snaps

__all__ = ["ObjectiveContext", "LayerOutcome", "polish_layer_by_objective"]

#: at most this many single-neuron refits when snaps are restored one at a time after the bisection
GREEDY_MAX = 64
#: weights of the trained neurons' columns tried, in order, when the sample-defined network misses the budget
TRAINED_WEIGHTS = (1.0, 1.5, 2.0, 3.0, 5.0)
#: bisection steps on that weight between the last one that meets the budget and the first that misses
WEIGHT_BISECTIONS = 4
#: rounds of column generation over sample-defined neurons (vertex climbing, tuned snaps) on the last
#: hidden layer; a round runs only while the network misses the budget and the last round lowered it
CLIMB_ROUNDS = 6
#: climbs per round: from the columns with the largest contributions ``||zeta_c|| * ||K_c||``
CLIMB_STARTS = 16
#: adjacent-vertex steps per climb (:func:`wedgenet.beyond.local_search.climb`)
CLIMB_STEPS = 10
#: climbing is skipped when ``m * n^2 * CLIMB_STEPS`` exceeds this (about 6 flops each: a few seconds)
CLIMB_MAX_WORK = 1.5e9
#: with climbing, every round also tunes the union Lasso's network and snaps it again (0: off;
#: :mod:`wedgenet.polishing.tune`)
TUNE_ROUNDS = 1


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
        grow = _climber(ctx, S, sp, W, use_b, H_old, A, G, h, kappa, m)
        choice, origin, union, cands, Us, prices = _union_slots(ctx, [U * kappa for U in Us], prices, choice,
                                                                cands=cands, grow=grow)
        Us = [U / kappa for U in Us]
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
        alt = _revert_bisect(ctx, build, price_loss, m)
        best = None if alt is None else (_share(alt[2], ~alt[0]), "revert", alt)

        def option(omega):
            # the trained neurons' columns carry the weight omega in the Lasso (column / omega): the larger
            # omega, the more the Lasso prefers sample-defined columns; the network is then refitted
            # unweighted over the slots and must meet the budget
            ch2, or2, union2 = _union_slots(ctx, [U * kappa for U in Us] + [U_old * kappa / omega], prices2,
                                            np.argmax(prices, axis=0))[:3]
            if union2 is not None:
                union2["trained_weight"] = float(omega)
            res2 = _assemble(cands2, ch2, or2)
            new2, ev2 = _finish(ctx, build(none, res2))
            kept = ch2 == len(cands)
            return ev2["objective"] <= ctx.budget, (ch2, or2, union2, res2, new2, ev2, kept, omega)

        def consider(opt):
            nonlocal best
            sc = _share(opt[5], ~opt[6])
            if best is None or sc > best[0]:
                best = (sc, "union", opt)

        lo = None
        for omega in TRAINED_WEIGHTS:
            ok, opt = option(omega)
            if not ok:  # larger weights trade more objective: refine between the last fit and this miss
                if lo is not None:
                    hi = omega
                    for _ in range(WEIGHT_BISECTIONS):
                        mid = 0.5 * (lo + hi)
                        ok, opt = option(mid)
                        if ok:
                            consider(opt)
                            lo = mid
                        else:
                            hi = mid
                break
            consider(opt)
            lo = omega
        if best is not None and best[1] == "revert":
            return _reverted(ctx, outcome, alt, price_loss)
        if best is not None:
            ch2, or2, union2, res2, new2, ev2, kept, omega = best[2]
            outcome.res, outcome.union = res2, union2
            outcome.polished = ~kept
            outcome.price_loss = p_old[or2] - prices2[ch2, or2]
            outcome.rule = [("trained" if c == len(cands) else cands2[c][0]) + ("" if o == j else f" of {o}")
                            for j, (c, o) in enumerate(zip(ch2, or2, strict=True))]
            for j in np.flatnonzero(kept):
                outcome.reasons[int(j)] = (f"kept: with every neuron snapped the refit is above the budget; the "
                                           f"Lasso over all candidates and the trained neurons (certified; trained "
                                           f"columns weighted {omega:g}) uses trained neuron {int(or2[j])} here")
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


def _share(ev: dict, polished: np.ndarray) -> tuple[float, int]:
    """How sample-defined a refitted option is: (share of its active neurons that are polished, polished count).

    The active neurons are those the refit left nonzero (``ev["_slots"][0]``); options are compared
    on this pair (an inactive polished neuron is no real gain)."""
    slots = ev.get("_slots")
    act = np.ones(polished.shape[0], dtype=bool) if slots is None else np.asarray(slots[0], dtype=bool)
    na = int(act.sum())
    return (float((act & polished).sum() / na) if na else 1.0, int(polished.sum()))


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


def _prune_lasso(ctx: ObjectiveContext, Hall: np.ndarray, m: int, cols: np.ndarray | None = None,
                 ) -> tuple[np.ndarray, dict]:
    """The union Lasso over the columns ``cols`` of ``Hall`` (default: all), pruned to at most ``m`` used.

    While the solution uses more than ``m`` columns, the weakest third of the excess (smallest
    contribution ``||zeta_c|| * ||K_c||``) is dropped and the Lasso re-solved over the rest, so
    the columns that remain are a certified Lasso solution over a set of at most ``m`` used
    columns (the slots), instead of the top ``m`` of a solution that needed more.  Returns the
    coefficients over every column of ``Hall`` (0 off the final set) and the certificate of the
    last solve (``n_columns``: the pool; ``n_columns_refit``: the final set; ``n_solves``).
    """
    pool = Hall.shape[1]
    cols = np.arange(pool) if cols is None else np.asarray(cols, dtype=np.int64)
    nrm = row_norms(Hall.T)
    solves = 0
    while True:
        zeta, rec = ctx.union_refit(Hall[:, cols], np.ones(cols.size))
        solves += 1
        contrib = np.abs(zeta).reshape(cols.size, -1).sum(axis=1) * nrm[cols]
        nz = int(np.count_nonzero(contrib))
        if nz <= m:
            break
        order = np.argsort(-contrib, kind="stable")
        cols = cols[order[:max(m, nz - max(1, (nz - m) // 3))]]
    full = np.zeros((pool,) + zeta.shape[1:])
    full[cols] = zeta
    rec = dict(rec, n_columns=int(pool), n_columns_refit=int(cols.size), n_solves=solves)
    return full, rec


def _union_slots(ctx: ObjectiveContext, Us: list, prices: np.ndarray, choice: np.ndarray, *,
                 cands: list | None = None, grow: Callable | None = None):
    """The Lasso over every candidate of every neuron (``m * n_rules`` unit columns) fills the slots.

    The last hidden layer's slots are interchangeable (only the output layer reads them), so the
    columns the Lasso uses go to the slots: a column snapped from trained neuron ``i`` takes slot
    ``i`` when it is free, else any free slot.  The Lasso is pruned to at most ``m`` used columns
    (:func:`_prune_lasso`), so the network *is* the pruned Lasso's solution (same objective,
    certified over the final columns).  ``grow`` (column generation, see :func:`_climber`) adds
    blocks of candidates priced against the residual of the current solution; the pruned Lasso is
    re-solved over the used columns and the new ones, and the round with the lowest objective is
    kept.  Slots left empty take their own best-priced candidate.

    Returns ``(choice, origin, certificate, cands, Us, prices)`` (the last three with the grown blocks).
    """
    m = choice.shape[0]
    Hall = np.hstack(Us)                                   # unit columns, rule-major: column c * m + i
    start0 = Hall.shape[1]
    try:
        zeta, union = _prune_lasso(ctx, Hall, m)
        if grow is not None:
            best = (union["objective"], zeta, union, Hall.shape[1])
            for _ in range(CLIMB_ROUNDS):
                if ctx.budget is not None and best[0] <= ctx.budget:
                    break  # the sample-defined network already meets the budget
                blocks = grow(Hall, zeta, union, cands)
                if not blocks:
                    break
                used = np.flatnonzero(np.abs(zeta).reshape(Hall.shape[1], -1).sum(axis=1) > 0)
                start = Hall.shape[1]
                for name, lp, U, pr in blocks:
                    cands = cands + [(name, lp)]
                    Us = Us + [U]
                    prices = np.vstack([prices, pr[None, :]])
                Hall = np.hstack(Us)
                zeta, union = _prune_lasso(ctx, Hall, m, np.r_[used, np.arange(start, Hall.shape[1])])
                if not union["objective"] < best[0]:
                    break  # the round did not lower the objective: the climb has stalled
                best = (union["objective"], zeta, union, Hall.shape[1])
            # the best round (its columns are a prefix of the pool)
            _, zb, union, width = best
            zeta = np.zeros((Hall.shape[1],) + zb.shape[1:])
            zeta[:width] = zb
            union["n_columns"] = int(Hall.shape[1])
            union["n_climb_blocks"] = int(Hall.shape[1] - start0) // m
    except RuntimeError:  # the back-end failed on the union: fall back to the prices alone
        return choice, np.arange(m), None, cands, Us, prices
    R = len(Us)
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
    # an empty slot takes its own best-priced candidate among the first blocks (the rules)
    slot_choice[empty] = choice[empty]
    slot_origin[empty] = np.flatnonzero(empty)
    return slot_choice, slot_origin, union, cands, Us, prices


def _climber(ctx: ObjectiveContext, S: np.ndarray, sp, W: np.ndarray, b: np.ndarray | None, H_old: np.ndarray,
             A: np.ndarray, G: np.ndarray, h: np.ndarray, kappa: float, m: int) -> Callable | None:
    """Column generation over sample-defined neurons for the union Lasso (last hidden layer).

    From the :data:`CLIMB_STARTS` columns the current (pruned) union Lasso uses most, a hill
    climb over adjacent vertices of the arrangement of the *samples*
    (:func:`wedgenet.beyond.local_search.climb`: swap one defining sample for another,
    closed-form pricing of all swaps) maximises the column's dual violation
    ``|theta^T u| / ||w||_p`` against the residual of the current fit, ``theta = -dL/df``
    (the logistic gradient for ``loss="logistic"``: the loss's own gradient).  Every vertex found
    whose violation exceeds ``lam`` (it would enter the Lasso) becomes a candidate of the trained
    neuron the climb started from.  The rows of the arrangement are the samples only (no
    coordinate faces), so every candidate is a cross product of ``D - 1`` samples.

    In the same round (:data:`TUNE_ROUNDS`) the Lasso's network is tuned by a few Adam steps and
    snapped again (:func:`wedgenet.polishing.tune.tuned_snaps`): the snaps of each tuned neuron
    become candidates of the trained neuron its column came from (blocks ``"tuned snap"``; not
    above :data:`~wedgenet.polishing.tune.TUNE_MAX_WORK`).

    ``None`` (no climbing, no tuning) below full rank (the arrangement's vertices are not
    isolated; tuning there added time without a gain in the digits benchmark),
    with several outputs (the climb prices one residual), without ``lam``, or when the work
    ``m * n^2 * CLIMB_STEPS`` exceeds :data:`CLIMB_MAX_WORK`.
    """
    from ..beyond.local_search import climb
    from ..beyond.vertices import Geometry

    n, d = S.shape
    if (sp.V is not None or G.shape[1] != 1 or ctx.lam is None or CLIMB_ROUNDS < 1
            or m * float(n) ** 2 * CLIMB_STEPS > CLIMB_MAX_WORK or n < 2):
        return None
    biased = b is not None
    geo = Geometry(S, bias=biased, reg="l1" if ctx.p == 1 else "l2")
    geo.rows = np.ascontiguousarray(geo.rows[:n])          # samples only: vertices are cross products of samples
    Xe = S / sp.scale
    Xa = np.hstack([Xe, np.ones((n, 1))]) if biased else Xe
    xn = row_norms(Xa)
    Wa_old = unit_rows(np.hstack([W * sp.scale, b[:, None]]) if biased else W * sp.scale)
    old_norm = row_norms(W, ctx.p)
    target = np.ones(m) if ctx.normalize else np.where(old_norm > 0, old_norm, 1.0)
    wn_old = row_norms(W, 2)

    def grow(Hall: np.ndarray, zeta: np.ndarray, union: dict, cands: list) -> list:
        return climbed(Hall, zeta, union, cands) + resnapped(Hall, zeta, union, cands)

    def resnapped(Hall: np.ndarray, zeta: np.ndarray, union: dict, cands: list) -> list:
        if not TUNE_ROUNDS or tune_work(m, n, d) > TUNE_MAX_WORK:
            return []
        found = tuned_snaps(S, sp, Hall, zeta, union.get("intercept"), cands, m, lam=float(ctx.lam), p=ctx.p,
                            normalize=ctx.normalize, grad=lambda f: ctx.grad_curv(f)[0])

        def fill(i: int, item, cols: dict) -> None:
            r = item[1]
            cols["W"][i] = r["W"]
            if cols["b"] is not None:
                cols["b"][i] = r["b"]
            cols["samples"][i], cols["sign_changes"][i] = r["samples"], r["sign_changes"]
            cols["max_distance"][i] = r["max_distance"]
            set_angle(cols, i)

        return blocks("tuned snap", found, cands, fill)

    def climbed(Hall: np.ndarray, zeta: np.ndarray, union: dict, cands: list) -> list:
        t = union.get("intercept", 0.0)
        f = Hall @ zeta.reshape(Hall.shape[1], -1) + np.asarray(t, dtype=np.float64).reshape(1, -1)
        theta = -ctx.grad_curv(f)[0][:, 0]
        contrib = np.abs(zeta).reshape(Hall.shape[1], -1).sum(axis=1) * row_norms(Hall.T)
        used = np.flatnonzero(contrib > 0)
        used = used[np.argsort(-contrib[used], kind="stable")][:CLIMB_STARTS]
        found: dict[int, list] = {}
        seen = set()
        for c in used:
            blk, i = divmod(int(c), m)
            lp = cands[blk][1]
            rows0 = np.asarray(lp.samples[i], dtype=np.int64)
            if rows0.size != geo.D - 1:
                continue
            ref = geo.from_data(lp.W[i:i + 1], np.zeros(1) if lp.b is None else lp.b[i:i + 1])[0]
            v0 = geo.vertex(rows0, sign_ref=ref)
            if v0 is None:
                continue
            rows, v, score, steps = climb(geo, rows0, v0, theta, max_steps=CLIMB_STEPS)
            key = (tuple(sorted(int(r) for r in rows)), float(np.sign(v[np.argmax(np.abs(v))])))
            if steps == 0 or key in seen or not score > ctx.lam * (1.0 + 1e-7):
                continue
            seen.add(key)
            found.setdefault(i, []).append((np.sort(rows), v))

        def fill(i: int, item, cols: dict) -> None:
            rows, v = item
            Wd, bd = geo.to_data(v[None])
            cols["W"][i] = Wd[0] * target[i]
            if cols["b"] is not None:
                cols["b"][i] = bd[0] * target[i]
            cols["samples"][i] = rows
            wa = set_angle(cols, i)
            po, pn = Xa @ Wa_old[i], Xa @ wa
            ch = (po > 1e-12 * xn) != (pn > 1e-12 * xn)
            ch[rows] = False
            cols["sign_changes"][i] = int(ch.sum())
            dist = np.abs(S[rows] @ W[i] + (b[i] if biased else 0.0))
            cols["max_distance"][i] = float(dist.max() / wn_old[i]) if wn_old[i] > 0 else 0.0

        return blocks("vertex climb", found, cands, fill)

    def set_angle(cols: dict, i: int) -> np.ndarray:
        """Store the angle (degrees) between neuron ``i`` of ``cols`` and the trained one; returns its unit row."""
        w = cols["W"][i] * sp.scale
        wa = unit_rows(np.r_[w, cols["b"][i]][None] if biased else w[None])[0]
        cols["angle"][i] = np.degrees(np.arccos(np.clip(float(wa @ Wa_old[i]), -1.0, 1.0)))
        return wa

    def blocks(name: str, found: dict, cands: list, fill: Callable) -> list:
        """Candidate blocks: block ``k`` replaces neuron ``i`` by ``fill(i, found[i][k], cols)`` (the first
        candidate block elsewhere), priced against the residual."""
        out = []
        filler = cands[0][1]
        for k in range(max((len(v) for v in found.values()), default=0)):
            cols = {"W": filler.W.copy(), "b": None if filler.b is None else filler.b.copy(),
                    "samples": filler.samples.copy(), "angle": filler.angle.copy(),
                    "sign_changes": filler.sign_changes.copy(), "max_distance": filler.max_distance.copy()}
            for i, lst in found.items():
                if k < len(lst):
                    fill(i, lst[k], cols)
            lp = LayerPolish(**cols, degenerate=filler.degenerate.copy(), rank=filler.rank,
                             n_samples=filler.n_samples, n_unique=filler.n_unique, dim=filler.dim)
            U = unit_activations(S, cols["W"], cols["b"], ctx.p)
            out.append((name, lp, U, residual_prices(U / kappa, H_old, A, G, h, ctx.lam / kappa)))
        return out

    return grow


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

