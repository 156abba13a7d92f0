"""``wedgenet.polish``: snap the neurons of a trained network onto cross products of samples."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .._linalg import relu_layer, row_norms
from .._validation import check_choice, check_nonneg_float, check_positive_int
from ..solvers import get_loss
from . import adapters
from .objective import ObjectiveContext, polish_layer_by_objective
from .refit import apply_refit, rebalance, refit_output
from .report import LayerReport, PolishReport
from .selection import polish_weights

__all__ = ["polish"]


def _parse_layers(layers: Any, n_hidden: int) -> list[int]:
    if isinstance(layers, str):
        check_choice("layers", layers, ("first", "all"))
        return [0] if layers == "first" else list(range(n_hidden))
    try:
        idx = [int(i) for i in layers]
        ok = all(not isinstance(i, bool) and int(i) == i for i in layers)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"layers must be 'first', 'all' or a list of hidden-layer indices; got {layers!r}")
    bad = [i for i in idx if not 0 <= i < n_hidden]
    if bad:
        raise ValueError(f"layers: indices {bad} are not hidden layers; valid indices are 0..{n_hidden - 1} "
                         "(hidden weight layers in order; the output layer cannot be polished)")
    return sorted(set(idx))


def _targets(loss, y: Any, n: int, n_out: int) -> np.ndarray:
    """``y`` in ``loss``'s encoding (the loss owns it: any two labels for a binary loss, class
    indices or one-hot for softmax), with one column per model output."""
    classes = tuple(range(n_out)) if loss.labels == "classes" and np.ndim(y) == 1 else None
    yy, _ = loss.encode_targets(y, n, classes)
    c = 1 if yy.ndim == 1 else yy.shape[1]
    if loss.labels == "classes" and c < n_out:
        yy = np.hstack([yy, np.zeros((n, n_out - c))])
        c = n_out
    if c != n_out:
        raise ValueError(f"y has {c} output column(s) for loss={loss.name!r} but the model has {n_out} outputs")
    return yy


def _curvature(loss, f: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """Diagonal of the loss's second derivative in the outputs ``f`` ``(n, c)``, for the pricing model:
    :meth:`Loss.curvature`, else the constant ``lipschitz`` bound, else ``1/4`` (a non-smooth loss:
    the logistic curvature at the margin)."""
    f2 = f.reshape(f.shape[0], -1)
    h = loss.curvature(f2 if loss.vector else f2[:, 0], yy if loss.vector else yy.reshape(-1))
    if h is None:
        return np.full_like(f2, loss.lipschitz if loss.lipschitz else 0.25)
    return np.asarray(h, dtype=np.float64).reshape(f2.shape)


def _penalty(weights: list, p: int) -> float:
    """``sum over hidden layers of sum_j ||w_j||_p^2`` plus ``||A||_F^2`` of the output layer."""
    tot = 0.0
    for W, _ in weights[:-1]:
        tot += float(np.sum(row_norms(W, p) ** 2))
    return tot + float(np.sum(row_norms(weights[-1][0]) ** 2))


def _evaluate(net, X, weights, yy, loss, lam, p) -> dict:
    out, _ = adapters.forward(net, X, weights)
    f = out.reshape(out.shape[0], -1)
    if yy.ndim == 1:
        f = f[:, 0]
    L = loss.value(f, yy)
    pen = _penalty(weights, p)
    return {"objective": None if lam is None else float(L + 0.5 * lam * pen), "loss": float(L),
            "penalty": None if lam is None else float(0.5 * lam * pen), "norms": pen,
            "metric": loss.metric(f, yy)}


def _validation(net, X_val, y_val, weights, loss, n_out: int) -> float:
    """The metric (MSE or accuracy) of the network ``weights`` on the validation set."""
    out, _ = adapters.forward(net, X_val, weights)
    f = out.reshape(out.shape[0], -1)
    yv = _targets(loss, y_val, X_val.shape[0], n_out)
    if yv.ndim == 1:
        f = f[:, 0]
    return loss.metric(f, yv)


def _do_refit(net, X, weights, yy, loss, lam, p, solver, tol, max_iter, verbose, union=None):
    """Refit the output layer (balanced Lasso); returns new weights, the refit record and the slot map.

    ``union=(W_old, b_old)``: the Lasso runs over the polished *and* the old neurons of the last
    hidden layer (``2m`` columns); the nonzero ones are placed into the ``m`` slots (a polished
    neuron keeps its slot, an old one takes its own slot or a free one).  ``slots[j]`` is
    ``("polished", j)`` / ``("old", i)`` / ``None``; ``None`` is returned when more than ``m``
    columns are nonzero.
    """
    H = adapters.hidden_features(net, X, weights)
    H = H.reshape(H.shape[0], -1)
    Wl, bl = weights[-2]
    m = Wl.shape[0]
    if union is not None:
        Wo, bo = union
        _, inputs = adapters.forward(net, X, weights, stop=len(net.layers) - 2)
        Ho = relu_layer(inputs[-2], Wo, bo)
        H = np.hstack([H, Ho])
        Wl = np.vstack([Wl, Wo])
        bl = None if bl is None else np.concatenate([bl, bo if bo is not None else np.zeros(m)])
    norms = row_norms(Wl, p)
    intercept = net.layers[-1].b is not None
    rr = refit_output(H, norms, yy, lam=lam, loss=loss, intercept=intercept, solver=solver, tol=tol,
                      max_iter=max_iter, verbose=verbose)
    zeta = rr.zeta
    slots = [("polished", j) for j in range(m)]
    if union is not None:
        on = np.abs(zeta).reshape(2 * m, -1).sum(axis=1) > 0
        slots = [("polished", j) if on[j] else None for j in range(m)]
        free = [j for j in range(m) if not on[j] and not on[m + j]]
        for i in range(m):
            if not on[m + i]:
                continue
            if slots[i] is None:
                slots[i] = ("old", i)
            elif free:
                k = free.pop(0)
                slots[k] = ("old", i)
            else:
                return None, None, None
        rows = [j if s is None else (s[1] if s[0] == "polished" else m + s[1]) for j, s in enumerate(slots)]
        Wl, norms, zeta = Wl[rows], norms[rows], zeta[rows]
        bl = None if bl is None else bl[rows]
        for j, s in enumerate(slots):
            if s is None:  # unused slot: zero neuron
                zeta[j] = 0.0
    W2, b2, A = apply_refit(Wl, bl, zeta, norms, p)
    t = np.atleast_1d(np.asarray(rr.intercept, dtype=np.float64)).copy() if intercept else None
    new = list(weights)
    new[-2] = (W2, b2)
    new[-1] = (A, t)
    cert = rr.result.certificate
    rec = {"solver": rr.result.solver, "objective": rr.objective, "duality_gap": cert.gap,
           "relative_gap": cert.relative_gap, "converged": bool(rr.result.converged),
           "n_active": int(np.count_nonzero(np.abs(zeta).reshape(m, -1).sum(axis=1))),
           "n_neurons": int(m), "n_columns": int(len(norms) if union is None else 2 * m)}
    active = np.abs(zeta).reshape(m, -1).sum(axis=1) > 0
    polished = np.array([s is not None and s[0] == "polished" for s in slots]) if union is not None else \
        np.ones(m, dtype=bool)
    return new, rec, (active, polished)


def polish(model: Any, X: Any, y: Any = None, *, layers: Any = "first", refit: bool = True,
           loss: str = "squared", lam: float | None = None, bias: bool | None = None, reg: str = "l2",
           normalize: bool = False, rank: int | None = None, spread: float = 0.0, solver: str = "auto",
           tol: float = 1e-6,
           max_iter: int = 100, keep: str = "objective", tolerance: float = 0.005, rounds: int = 1,
           X_val: Any = None, y_val: Any = None, inplace: bool = False,
           verbose: bool = False) -> tuple[Any, PolishReport]:
    """Polish a trained ReLU network: every neuron becomes a cross product of training samples.

    The paper's procedure (``keep="polished"``), for each neuron ``w`` of a polished layer (paper
    section 4.1); the default ``keep="objective"`` chooses among several such snaps (below):

    1. ``|x_i . w + b| / ||w||`` for every sample, as one matrix product for the whole layer;
    2. the ``r-1`` nearest samples, ``r`` the rank of the samples (with the column of ones when the
       layer has a bias), skipping samples dependent on nearer ones;
    3. ``w`` is replaced by their cross product (in the row space when ``r`` is below the
       dimension), with the sign that agrees with the old ``w`` and the old norm ``||w||_p``
       (or norm 1 with ``normalize=True``);
    4. ``refit=True``: the output layer is refitted by the convex problem with the training loss
       and the ``(lam/2)`` penalty, which, with the last hidden layer fixed up to scale, is the
       Lasso ``L(K z + 1 t; y) + lam ||z||_1`` over the unit neurons (column weights
       ``||w_j||_p``; see :mod:`wedgenet.polishing.refit`), solved by a wedgenet back-end;
    5. the scales of consecutive layers are rebalanced (``||w_j||_p = ||a_j||_2``).

    ``layers="all"`` polishes the hidden layers one after another, each on the activations of the
    already polished layers before it (Thm 10/11).  The training objective is

        L(f(X), y) + (lam/2) * ( sum over hidden layers, neurons ||w_j||_p^2 + ||A_out||_F^2 )

    with ``L`` a sum (``squared``: ``0.5 ||r||^2``); biases are not penalised.  For a torch model
    trained with a mean loss and weight decay ``wd`` on the weights, ``lam = n * wd / 2`` for MSE
    (``mean r^2``) and ``lam = n * wd`` for (binary) cross-entropy.

    Parameters
    ----------
    model : torch ``nn.Sequential`` of ``Linear``/``ReLU`` (a first ``Conv2d``, with pooling after it,
        is allowed; see :mod:`wedgenet.polishing.adapters`), or numpy weights: a list of layers, each an
        ``(m, d)`` array or a ``(W, b)`` pair, read as ``Linear-ReLU-...-Linear``.  A single array or
        ``(W, b)`` pair is one hidden layer on its own (no output layer: ``refit=False``, no ``y``).
        Not modified unless ``inplace=True`` (torch only).
    X : training inputs ``(n, d)``, or images ``(N, C, H, W)`` for a Conv2d first layer (whose samples
        are then the ``N * H_out * W_out`` unfolded patches).
    y : targets in the loss's encoding (``logistic``/``hinge`` also take 0/1 labels).  ``None`` uses
        the unpolished model's own outputs as ``squared``-loss targets (polish to imitate the model).
    layers : ``"first"``, ``"all"`` or a list of hidden-layer indices (0 = first weight layer).  An
        empty list polishes nothing: the convex refit and rebalancing alone (the baseline).
    refit : refit the output layer by the convex Lasso (needs ``lam``).
    loss : ``"squared"``, ``"logistic"``, ``"hinge"`` or ``"softmax"``.
    lam : regularisation ``> 0`` of the ``(lam/2)`` penalty.
    bias : ``None`` uses each layer's bias when it has one; ``False`` polishes hyperplanes through the
        origin (biases of polished layers set to 0); ``True`` requires biases.
    reg : ``"l2"`` (weight decay, ``p = 2``) or ``"l1"`` (``p = 1``) neuron norm in the penalty.
    normalize : give polished neurons norm 1 instead of their old norm (before refit/rebalancing).
    rank : override the numerical rank of the (augmented) samples.
    spread : ``keep="polished"``/``"union"``/``"best"`` only (the default tries its own rule set); in
        ``[0, 1)``.  ``0`` (the paper's rule): the ``r-1`` nearest samples, skipping only
        samples (numerically) dependent on nearer ones.  ``spread > 0`` skips, in distance order,
        every sample whose component inside the old hyperplane is within a factor ``spread`` of the
        span of the samples already chosen (the residual is ``< spread`` times its norm).  Nearest
        samples that are nearly dependent *within the old hyperplane* (clusters sharing feature
        values, points along a curve) define a hyperplane far from the old one; ``spread = 0.1``
        to ``0.2`` keeps the polished neuron close (see benchmarks/experiments_polish.py).
    solver, tol, max_iter, verbose : the refit's wedgenet back-end (see :func:`wedgenet.fit`).
    keep : what to return (``report.kept`` says which one was):

        * ``"objective"`` (default): objective-aware polishing that never hurts.  Every neuron is
          snapped by several rules (nearest samples, spread 0.1 / 0.3, nearest in angle, and the
          vertices nearest in angle among subsets of its nearest samples); on the last hidden
          layer the candidates are priced against the residual and the output layer is refitted
          by the Lasso over the union of all candidates (certified, pruned to at most ``m`` used
          columns), whose columns fill the slots; while that misses the budget, more candidates
          come from vertex climbing against the loss's residual (adjacent-vertex swaps) and from
          snapping the Lasso's network again after a few Adam steps (up to 6 rounds); earlier
          and conv layers take the candidate that best reproduces the trained activations, and
          the next Linear layer is refitted by least squares.  The training objective of the
          result is checked against ``(1 + tolerance)`` times the trained network's; over budget,
          trained neurons are kept only where needed (a union Lasso with the trained neurons'
          columns weighted, or the costliest snaps reverted: whichever leaves the largest share of
          sample-defined neurons among the active ones), each named in the report with the reason
          (``report.unpolished``).  See
          :mod:`wedgenet.polishing.objective`.
        * ``"polished"`` (the paper's procedure; ``spread=0`` is the paper's rule): the polished
          layers, output layer refit.  No guarantee: the refit can be worse than the trained network.
        * ``"union"``: when only the last hidden layer is polished (e.g. a two-layer network), the
          refit Lasso runs over the polished *and* the old neurons (``2m`` columns) and the nonzero
          ones fill the ``m`` slots, so the objective is never worse than either refit;
          ``report.layers[-1].polished`` marks the slots holding a polished neuron.  Falls back to
          ``"best"`` when more than ``m`` columns are nonzero or another layer is polished.
        * ``"best"``: the polished or the unpolished network (each with the refit), whichever has
          the lower training objective.

    tolerance : the budget of ``keep="objective"``: the returned training objective is at most
        ``(1 + tolerance)`` times the trained network's (needs ``lam`` and targets).
    rounds : ``keep="objective"``: ``rounds - 1`` extra rounds of snap -> refit -> re-snap on the last
        hidden layer (candidates re-priced against the refitted residual; a round is kept only when
        it lowers the objective).
    X_val, y_val : optional validation set; the report gives its metric before and after.

    Returns
    -------
    (polished_model, PolishReport)
        The model in its input form (a copy unless ``inplace``; torch weights are cast to the
        model's dtype, so float32 models are orthogonal only to ~1e-7: the exact float64 weights are
        in ``report.weights``) and the report (``report.summary()`` prints it).
    """
    t_start = time.perf_counter()
    loss_obj = get_loss(loss)
    check_choice("reg", reg, ("l1", "l2"))
    p = 1 if reg == "l1" else 2
    check_choice("keep", keep, ("objective", "polished", "best", "union"))
    tolerance = check_nonneg_float("tolerance", tolerance)
    rounds = check_positive_int("rounds", rounds)
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val go together: pass both or neither")
    for name, v in (("refit", refit), ("normalize", normalize), ("inplace", inplace), ("verbose", verbose)):
        if not isinstance(v, bool):
            raise ValueError(f"{name} must be True or False; got {v!r}")
    if bias is not None and not isinstance(bias, bool):
        raise ValueError(f"bias must be None, True or False; got {bias!r}")
    if lam is not None:
        lam = check_nonneg_float("lam", lam, strictly_positive=True)
    tol = check_nonneg_float("tol", tol, strictly_positive=True)
    max_iter = check_positive_int("max_iter", max_iter)
    if rank is not None:
        rank = check_positive_int("rank", rank)
    spread = check_nonneg_float("spread", spread)
    if spread >= 1:
        raise ValueError(f"spread must be in [0, 1); got {spread!r}")
    net = adapters.parse_model(model, inplace=inplace)
    Xa = adapters.prepare_input(net, X)
    idx = _parse_layers(layers, net.n_hidden)
    if net.layer_only:
        if refit:
            raise ValueError("model is a single layer without an output layer: pass refit=False")
        if y is not None:
            raise ValueError("y is not used for a single layer without an output layer (pass y=None)")
    elif refit and lam is None:
        raise ValueError("lam is required with refit=True (the regularisation of the convex refit)")
    if refit and net.layers[-2].kind != "linear":
        raise ValueError("refit=True needs a Linear hidden layer before the output layer (the convex refit "
                         "balances its neurons against the output weights); pass refit=False")
    if bias is True:
        nob = [k for k in idx if net.layers[k].b is None]
        if nob:
            raise ValueError(f"bias=True but hidden layer(s) {nob} have no bias")
    if keep in ("best", "union") and not refit:
        raise ValueError(f"keep={keep!r} compares refits: it needs refit=True")

    orig = [(a.W, a.b) for a in net.layers]
    n_obs = Xa.shape[0]
    yy = None
    if not net.layer_only:
        out0, _ = adapters.forward(net, Xa, orig)
        n_out = out0.reshape(n_obs, -1).shape[1]
        if y is None:
            if loss_obj.task != "regression":
                raise ValueError(f"y=None (imitate the model's own outputs) needs a regression loss; got {loss!r}")
            yy = out0.reshape(n_obs, -1)
            yy = yy[:, 0].copy() if n_out == 1 else yy
        else:
            yy = _targets(loss_obj, y, n_obs, n_out)
            if refit:  # the refit has a free output bias exactly when the output layer has one
                loss_obj.check_attainable(yy, net.layers[-1].b is not None)
    before = None if yy is None else _evaluate(net, Xa, orig, yy, loss_obj, lam, p)

    Xv = None
    if X_val is not None:
        if yy is None:
            raise ValueError("X_val/y_val need a model with an output layer")
        Xv = adapters.prepare_input(net, X_val)
    if keep == "objective":
        return _polish_by_objective(net, Xa, orig, idx, yy, loss_obj, lam, p, bias, rank, normalize, refit,
                                    solver, tol, max_iter, verbose, tolerance, rounds, before, Xv, y_val,
                                    t_start)

    # ---- steps 1-3, layer by layer on the activations of the polished layers before
    weights = list(orig)
    reports: list[LayerReport] = []
    t0 = time.perf_counter()
    for k in idx:
        tk = time.perf_counter()
        _, inputs = adapters.forward(net, Xa, weights, stop=k)
        S = np.ascontiguousarray(adapters.layer_samples(net, k, inputs[k]).reshape(-1, net.layers[k].W.shape[1]))
        W, b = weights[k]
        use_b = b if bias is not False else None
        res = polish_weights(S, W, use_b, rank=rank, normalize=normalize, p=p, spread=spread)
        weights[k] = (res.W, res.b if res.b is not None else (None if b is None else np.zeros_like(b)))
        grid = None
        if net.layers[k].kind == "conv2d":
            _, grid = adapters.unfold(inputs[k][:1], net.layers[k].conv)
        reports.append(LayerReport(layer=k, kind=net.layers[k].kind, n_samples=res.n_samples, n_unique=res.n_unique,
                                   dim=res.dim, rank=res.rank, bias=use_b is not None, samples=res.samples,
                                   angle=res.angle, sign_changes=res.sign_changes, max_distance=res.max_distance,
                                   active=np.ones(W.shape[0], dtype=bool), seconds=time.perf_counter() - tk,
                                   grid=grid,
                                   old_weights=(np.array(W, dtype=np.float64), None if b is None else
                                                np.array(b, dtype=np.float64)),
                                   new_weights=tuple(None if a is None else np.array(a, dtype=np.float64)
                                                     for a in weights[k])))
    t_polish = time.perf_counter() - t0

    # ---- step 4: convex refit of the output layer; step 5: rebalance
    refit_rec = baseline = None
    t1 = time.perf_counter()
    kept = "polished"
    last = len(net.layers) - 2
    if refit:
        polished_w = weights
        slots = None
        if keep == "union" and idx == [last]:
            weights, refit_rec, slots = _do_refit(net, Xa, polished_w, yy, loss_obj, lam, p, solver, tol, max_iter,
                                                  verbose, union=orig[last])
            kept = "union"
        if slots is None:  # not a union refit, or more nonzero neurons than slots
            weights, refit_rec, slots = _do_refit(net, Xa, polished_w, yy, loss_obj, lam, p, solver, tol,
                                                  max_iter, verbose)
            kept = "polished"
        for lr in reports:
            if lr.layer == last:
                lr.active = slots[0]
                lr.polished = slots[1]
    if not net.layer_only:
        weights = rebalance(weights, p)
    after = None if yy is None else _evaluate(net, Xa, weights, yy, loss_obj, lam, p)
    if refit and not idx:  # nothing polished: the refit is its own baseline
        baseline, kept = dict(after), "unpolished"
    elif refit:
        base_w, _, base_slots = _do_refit(net, Xa, orig, yy, loss_obj, lam, p, solver, tol, max_iter, verbose)
        base_w = rebalance(base_w, p)
        baseline = _evaluate(net, Xa, base_w, yy, loss_obj, lam, p)
        if keep != "polished" and kept != "union" and baseline["objective"] < after["objective"]:
            weights, kept = base_w, "unpolished"
            for lr in reports:
                lr.polished = np.zeros(lr.n_neurons, dtype=bool)
                lr.active = base_slots[0] if lr.layer == last else np.ones(lr.n_neurons, dtype=bool)
    t_refit = time.perf_counter() - t1
    out_model = adapters.export(net, weights)
    val = _val_pair(net, Xv, y_val, orig, weights, loss_obj, yy)
    report = PolishReport(layers=reports, loss=None if yy is None else loss_obj.name, lam=lam,
                          metric_name=None if yy is None else loss_obj.metric_name,
                          before=before, after=after if kept != "unpolished" else baseline,
                          refit_unpolished=baseline, refit=refit_rec, kept=kept,
                          weights=[(W.copy(), None if b is None else b.copy()) for W, b in weights],
                          seconds={"polish": t_polish, "refit": t_refit, "total": time.perf_counter() - t_start},
                          validation=val, rule=f"{keep} (spread {spread:g})")
    return out_model, report


def _val_pair(net, Xv, y_val, orig, weights, loss, yy) -> dict | None:
    """Validation metric before and after (``None`` without a validation set)."""
    if Xv is None:
        return None
    n_out = 1 if yy.ndim == 1 else yy.shape[1]
    return {"before": _validation(net, Xv, y_val, orig, loss, n_out),
            "after": _validation(net, Xv, y_val, weights, loss, n_out)}


def _polish_by_objective(net, Xa, orig, idx, yy, loss_obj, lam, p, bias, rank, normalize, refit, solver, tol,
                         max_iter, verbose, tolerance, rounds, before, Xv, y_val, t_start):
    """The default (``keep="objective"``): see :mod:`wedgenet.polishing.objective`."""
    have_obj = before is not None and before.get("objective") is not None
    budget = (1.0 + tolerance) * before["objective"] if have_obj else None
    intercept = net.layers[-1].b is not None

    def finish(weights):
        rec = slots = None
        if refit:
            weights, rec, slots = _do_refit(net, Xa, weights, yy, loss_obj, lam, p, solver, tol, max_iter, verbose)
        if not net.layer_only:
            weights = rebalance(weights, p)
        ev = {} if yy is None else _evaluate(net, Xa, weights, yy, loss_obj, lam, p)
        return weights, rec, slots, ev

    def grad_curv(f):
        ff = f[:, 0] if yy.ndim == 1 else f
        G = loss_obj.gradient(ff, yy).reshape(f.shape[0], -1)
        return G, _curvature(loss_obj, f, yy)

    def union_refit(H, norms):
        rr = refit_output(H, norms, yy, lam=lam, loss=loss_obj, intercept=intercept, solver=solver, tol=tol,
                          max_iter=max_iter, verbose=verbose)
        c = rr.result.certificate
        return rr.zeta, {"solver": rr.result.solver, "objective": rr.objective, "duality_gap": c.gap,
                         "relative_gap": c.relative_gap, "converged": bool(rr.result.converged),
                         "n_columns": int(H.shape[1]),
                         "intercept": np.asarray(rr.intercept, dtype=np.float64).tolist(),
                         "n_active": int(np.count_nonzero(np.abs(rr.zeta).reshape(H.shape[1], -1).sum(axis=1)))}

    ctx = ObjectiveContext(net=net, X=Xa, p=p, bias=bias, rank=rank, normalize=normalize, lam=lam,
                           budget=budget, finish=finish,
                           grad_curv=grad_curv if (refit and yy is not None) else None,
                           union_refit=union_refit if (refit and yy is not None) else None, rounds=rounds,
                           evaluate=lambda w: {} if yy is None else _evaluate(net, Xa, w, yy, loss_obj, lam, p))
    weights = list(orig)
    reports: list[LayerReport] = []
    last = len(net.layers) - 2
    ev = None
    t0 = time.perf_counter()
    for k in idx:
        tk = time.perf_counter()
        W_old, b_old = weights[k]
        weights, oc, ev = polish_layer_by_objective(ctx, weights, k)
        res = oc.res
        pol = oc.polished
        # neurons kept unpolished did not move: no samples, angle 0, their trained weights
        samples = np.where(pol[:, None], res.samples, -1)
        angle = np.where(pol, res.angle, 0.0)
        sign_changes = np.where(pol, res.sign_changes, 0)
        max_distance = np.where(pol, res.max_distance, 0.0)
        W_new = np.where(pol[:, None], res.W, W_old)
        b_ref = res.b if res.b is not None else (None if b_old is None else np.zeros_like(b_old))
        b_new = None if b_ref is None else np.where(pol, b_ref, b_old if b_old is not None else 0.0)
        slots = ev.get("_slots")
        active = slots[0] if (slots is not None and k == last) else np.ones(W_old.shape[0], dtype=bool)
        reports.append(LayerReport(
            layer=k, kind=net.layers[k].kind, n_samples=res.n_samples, n_unique=res.n_unique, dim=res.dim,
            rank=res.rank, bias=(b_old is not None and bias is not False), samples=samples, angle=angle,
            sign_changes=sign_changes, max_distance=max_distance, active=np.asarray(active, dtype=bool),
            seconds=time.perf_counter() - tk, grid=oc.grid, polished=oc.polished.copy(),
            old_weights=(np.array(W_old, dtype=np.float64), None if b_old is None else np.array(b_old, np.float64)),
            new_weights=(W_new, b_new), rule=list(oc.rule),
            reasons=dict(oc.reasons), price_loss=oc.price_loss, union=oc.union, rounds_kept=oc.rounds_kept))
    t_polish = time.perf_counter() - t0
    if ev is None:  # nothing polished: the refit alone
        weights, rec0, _, ev = finish(weights)
        ev = dict(ev, _refit=rec0)
    refit_rec = ev.pop("_refit", None)
    ev.pop("_slots", None)
    after = ev if yy is not None else None
    kept = "objective"
    notes: list[str] = []
    if budget is not None and after is not None and after["objective"] > budget:
        # cannot happen when every layer met its check; kept as a last guard
        weights, kept = list(orig), "trained"
        after = dict(before)
        for lr in reports:
            lr.polished[:] = False
            lr.rule = ["trained"] * lr.n_neurons
            lr.reasons = {j: "kept: the polished network missed the budget" for j in range(lr.n_neurons)}
        notes.append("the polished network missed the budget: the trained network is returned unchanged")
    baseline = None
    t1 = time.perf_counter()
    if refit and idx:
        base_w, _, _, baseline = finish(list(orig))
        baseline = {k: v for k, v in baseline.items() if not k.startswith("_")}
    elif refit:
        baseline = dict(after)
        kept = "unpolished"
    if budget is None and yy is not None:
        notes.append("no objective check: lam is not given, so the training objective is unknown")
    out_model = adapters.export(net, weights)
    val = _val_pair(net, Xv, y_val, orig, weights, loss_obj, yy) if yy is not None else None
    return out_model, PolishReport(
        layers=reports, loss=None if yy is None else loss_obj.name, lam=lam,
        metric_name=None if yy is None else loss_obj.metric_name,
        before=before, after=after, refit_unpolished=baseline, refit=refit_rec, kept=kept,
        weights=[(W.copy(), None if b is None else b.copy()) for W, b in weights],
        seconds={"polish": t_polish, "refit": time.perf_counter() - t1, "total": time.perf_counter() - t_start},
        validation=val, budget=budget, tolerance=tolerance, notes=notes, rule="objective")
