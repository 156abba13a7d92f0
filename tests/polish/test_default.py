"""The default polish (keep="objective"): never worse than the trained network, sample-defined, honest."""

import numpy as np
import pytest

import wedgenet

torch = pytest.importorskip("torch")


def _objective_torch(pm, X, y, lam):
    Xt, yt = torch.tensor(X), torch.tensor(y)
    f = pm(Xt)
    obj = 0.5 * (f - yt).pow(2).sum() + lam / 2 * (pm[0].weight.pow(2).sum() + pm[2].weight.pow(2).sum())
    return float(obj.detach())


def test_default_within_budget_and_sample_defined(spiral_net):
    model, X, y, lam = spiral_net
    pm, rep = wedgenet.polish(model, X, y, lam=lam)
    assert rep.kept == "objective" and rep.within_budget is True
    assert rep.budget == pytest.approx(1.005 * rep.before["objective"])
    # the returned torch model really has the reported objective
    assert _objective_torch(pm, X, y, lam) == pytest.approx(rep.after["objective"], rel=1e-10)
    assert rep.after["objective"] <= 1.005 * rep.before["objective"]
    lr = rep.layers[0]
    assert rep.sample_defined == lr.sample_defined == lr.polished.mean()
    assert rep.sample_defined >= 0.9
    W, b = rep.weights[0]
    Xa = np.c_[X, np.ones(len(X))]
    for j in np.flatnonzero(lr.polished & lr.active):
        wa = np.r_[W[j], b[j]]
        assert np.abs(Xa[lr.samples[j]] @ wa).max() < 1e-10 * np.linalg.norm(wa) * np.abs(Xa).max()
    # the union Lasso over all candidates carries its certificate
    u = lr.union
    assert u is not None and u["relative_gap"] < 1e-5 and u["n_columns"] >= 4 * 24
    # the penalty column is in the objective's units: objective = loss + penalty
    for r in (rep.before, rep.after, rep.refit_unpolished):
        assert r["objective"] == pytest.approx(r["loss"] + r["penalty"], rel=1e-12)
        assert r["penalty"] == pytest.approx(0.5 * lam * r["norms"], rel=1e-12)


def test_paper_rule_stays_available_and_can_be_worse(spiral_net):
    model, X, y, lam = spiral_net
    _, paper = wedgenet.polish(model, X, y, lam=lam, keep="polished")
    _, default = wedgenet.polish(model, X, y, lam=lam)
    assert paper.sample_defined == 1.0 and set(paper.layers[0].rule) == {"nearest"}
    assert default.after["objective"] <= paper.after["objective"] + 1e-9
    assert "nearest" in paper.summary()


def test_summary_says_when_the_paper_rule_made_it_worse():
    """A case where the paper's rule raises the objective: the summary says 'worse' and the budget is not
    claimed; the default on the same model is within the budget."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * X[:, 2]
    model = [(rng.standard_normal((10, 3)), rng.standard_normal(10)), (rng.standard_normal((1, 10)), np.zeros(1))]
    _, paper = wedgenet.polish(model, X, y, lam=0.05, keep="polished", layers=[0])
    _, dflt = wedgenet.polish(model, X, y, lam=0.05)
    assert dflt.within_budget
    text = paper.summary()
    if paper.after["objective"] > paper.before["objective"]:
        assert "training objective worse" in text
    assert "budget" not in text.split("training objective")[1].splitlines()[0]
    assert "met" in dflt.summary()


def test_validation_metric_before_and_after(spiral_net):
    model, X, y, lam = spiral_net
    from wedgenet.datasets import make_spiral

    Xv, yv = make_spiral(40, noise=0.05, random_state=3)
    pm, rep = wedgenet.polish(model, X, y, lam=lam, X_val=Xv, y_val=yv)
    with torch.no_grad():
        f0 = model(torch.tensor(Xv)).numpy()
        f1 = pm(torch.tensor(Xv)).numpy()
    assert rep.validation["before"] == pytest.approx(np.mean((f0 - yv) ** 2), rel=1e-10)
    assert rep.validation["after"] == pytest.approx(np.mean((f1 - yv) ** 2), rel=1e-6)
    assert "validation mse" in rep.summary()


def test_resnap_rounds_never_raise_the_objective(spiral_net):
    model, X, y, lam = spiral_net
    _, r1 = wedgenet.polish(model, X, y, lam=lam)
    _, r3 = wedgenet.polish(model, X, y, lam=lam, rounds=3)
    assert r3.after["objective"] <= r1.after["objective"] * (1 + 1e-9)
    assert r3.layers[0].rounds_kept >= 0


def test_deep_default_layer_by_layer_within_budget():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((60, 4))
    y = np.tanh(X @ rng.standard_normal(4))
    model = [(rng.standard_normal((9, 4)), rng.standard_normal(9)),
             (rng.standard_normal((7, 9)), rng.standard_normal(7)),
             (rng.standard_normal((1, 7)), rng.standard_normal(1))]
    out, rep = wedgenet.polish(model, X, y, lam=0.05, layers="all")
    assert [lr.layer for lr in rep.layers] == [0, 1]
    assert rep.after["objective"] <= 1.005 * rep.before["objective"]
    (W1, b1), (W2, b2), _ = out
    H1 = np.maximum(X @ W1.T + b1, 0)
    for lyr, (S, W, b) in enumerate([(X, W1, b1), (H1, W2, b2)]):
        lr = rep.layers[lyr]
        Sa = np.c_[S, np.ones(len(S))]
        for j in np.flatnonzero(lr.polished):
            wa = np.r_[W[j], b[j]]
            if not np.any(wa):
                continue
            assert np.max(np.abs(Sa[lr.samples[j]] @ wa)) < 1e-9 * np.linalg.norm(wa) * np.abs(Sa).max()
        assert set(lr.unpolished) == set(lr.reasons)


@pytest.mark.parametrize("kw, match", [({"tolerance": -0.1}, "tolerance"), ({"rounds": 0}, "rounds"),
                                       ({"X_val": np.zeros((3, 2))}, "X_val"), ({"keep": "always"}, "keep")])
def test_bad_default_arguments(spiral_net, kw, match):
    model, X, y, lam = spiral_net
    with pytest.raises(ValueError, match=match):
        wedgenet.polish(model, X, y, lam=lam, **kw)


@pytest.fixture(scope="module")
def diabetes_net():
    """scikit-learn diabetes, MLP 10-32-1, 300 full-batch Adam steps (experiments_polish.py, trial 1): the
    candidate rules alone cannot give a fully sample-defined network within the budget."""
    from sklearn.datasets import load_diabetes

    nn = torch.nn
    X_all, y_all = load_diabetes(return_X_y=True)
    tr = np.random.default_rng(1001).permutation(len(X_all))[: int(0.8 * len(X_all))]
    X = (X_all[tr] - X_all[tr].mean(0)) / X_all[tr].std(0)
    y = (y_all[tr] - y_all[tr].mean()) / y_all[tr].std()
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 1), nn.Flatten(0)).double()
    wd = 1e-3
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
    opt = torch.optim.Adam([{"params": weights, "weight_decay": wd}, {"params": biases, "weight_decay": 0.0}], lr=1e-2)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    for _ in range(300):
        opt.zero_grad()
        torch.mean((model(Xt) - yt) ** 2).backward()
        opt.step()
    return model, X, y, len(tr) * wd / 2


@pytest.mark.slow
def test_default_climbs_to_a_fully_sample_defined_network(diabetes_net, monkeypatch):
    from wedgenet.polishing import objective

    model, X, y, lam = diabetes_net
    pm, rep = wedgenet.polish(model, X, y, lam=lam)
    lr = rep.layers[0]
    assert rep.within_budget and rep.after["objective"] <= rep.budget
    assert rep.after["objective"] < rep.before["objective"]           # better than Adam here
    assert _objective_torch(pm, X, y, lam) == pytest.approx(rep.after["objective"], rel=1e-10)
    # every neuron of the returned network is sample-defined, the active ones too (all 32 slots are polished)
    assert rep.sample_defined == 1.0 and rep.active_sample_defined == 1.0 and lr.active.sum() >= 16
    assert any(r.startswith("vertex climb") for r, a in zip(lr.rule, lr.active, strict=True) if a)
    # counted honestly: each active neuron of the returned model is the cross product of its 10 named samples
    W, b = pm[0].weight.detach().numpy(), pm[0].bias.detach().numpy()
    Xa = np.c_[X, np.ones(len(X))]
    for j in np.flatnonzero(lr.active):
        rows = Xa[lr.samples[j]]
        wa = np.r_[W[j], b[j]]
        assert len(set(lr.samples[j].tolist())) == 10 and np.linalg.matrix_rank(rows) == 10
        assert np.abs(rows @ wa).max() < 1e-9 * np.linalg.norm(wa) * np.abs(Xa).max()
    # the union Lasso was pruned to the slots and certified over its final columns
    u = lr.union
    assert u["n_active"] <= 32 and u["n_columns_refit"] < u["n_columns"] and u["relative_gap"] < 1e-5
    assert rep.after["objective"] <= u["objective"] * (1 + 1e-6)
    # without the climb, the candidate rules alone miss the budget: some active neurons stay trained
    monkeypatch.setattr(objective, "CLIMB_ROUNDS", 0)
    _, rep0 = wedgenet.polish(model, X, y, lam=lam)
    assert rep0.within_budget and rep0.active_sample_defined < 1.0


def test_pruned_union_lasso_is_the_lasso_over_its_final_columns():
    """_prune_lasso: at most m columns used, and the certified optimum of the Lasso over the columns it kept."""
    import cvxpy as cp

    from wedgenet.polishing import objective
    from wedgenet.polishing.refit import refit_output
    from wedgenet.solvers import get_loss

    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    H = np.maximum(X @ rng.standard_normal((2, 120)) + rng.standard_normal(120), 0.0)
    lam = 0.02

    def union_refit(Hc, norms):
        rr = refit_output(Hc, norms, y, lam=lam, loss=get_loss("squared"), intercept=True, tol=1e-10, max_iter=500)
        return rr.zeta, {"objective": rr.objective, "relative_gap": rr.result.certificate.relative_gap}

    ctx = objective.ObjectiveContext(net=None, X=X, p=2, bias=None, rank=None, normalize=False, lam=lam, budget=None,
                                     finish=None, grad_curv=None, union_refit=union_refit)
    full = union_refit(H, np.ones(H.shape[1]))[0]
    m = 8
    assert np.count_nonzero(full) > m                 # the plain union Lasso needs more columns than slots
    zeta, rec = objective._prune_lasso(ctx, H, m)
    on = np.flatnonzero(zeta)
    assert 0 < on.size <= m and rec["n_columns"] == 120 and rec["n_columns_refit"] >= on.size
    z, t = cp.Variable(on.size), cp.Variable()
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(H[:, on] @ z + t - y) + lam * cp.norm1(z)))
    prob.solve(solver=cp.CLARABEL)
    assert rec["objective"] == pytest.approx(prob.value, rel=1e-6)


def test_climbed_candidates_are_priced_with_the_logistic_residual():
    """The climb prices vertices with the loss's own gradient (logistic here): every vertex it returns
    violates the dual constraint, |theta^T u| > lam with theta = -dL/df of the logistic loss at the current
    fit, and passes through its named samples."""
    from wedgenet.polishing import objective
    from wedgenet.polishing.choice import candidate_snaps, unit_activations
    from wedgenet.polishing.refit import refit_output
    from wedgenet.polishing.selection import prepare_samples
    from wedgenet.solvers import get_loss

    rng = np.random.default_rng(2)
    X = rng.standard_normal((80, 3))
    y = np.where(X[:, 0] * X[:, 1] + 0.3 * X[:, 2] > 0, 1.0, -1.0)
    W, b = rng.standard_normal((6, 3)), rng.standard_normal(6)
    loss, lam = get_loss("logistic"), 0.5
    sp = prepare_samples(X, True)
    cands = candidate_snaps(sp, W, b, p=2, normalize=False)
    Hall = np.hstack([unit_activations(X, c.W, c.b, 2) for _, c in cands])
    rr = refit_output(Hall, np.ones(Hall.shape[1]), y, lam=lam, loss=loss, intercept=True)

    def grad_curv(f):
        return loss.gradient(f[:, 0], y)[:, None], np.full(f.shape, 0.25)

    ctx = objective.ObjectiveContext(net=None, X=X, p=2, bias=None, rank=None, normalize=False, lam=lam, budget=None,
                                     finish=None, grad_curv=grad_curv, union_refit=None)
    f = Hall @ rr.zeta + rr.intercept
    theta = -loss.gradient(f, y)
    H_old = np.maximum(X @ W.T + b, 0.0)
    G, h = grad_curv(f[:, None])
    grow = objective._climber(ctx, X, sp, W, b, H_old, np.ones((1, 6)), G, h, 1.0, 6)
    blocks = grow(Hall, rr.zeta, {"intercept": float(rr.intercept)}, cands)
    assert blocks
    Xa = np.c_[X, np.ones(len(X))]
    n_new = 0
    assert {name for name, *_ in blocks} <= {"vertex climb", "tuned snap"}
    for name, lp, U, _ in blocks:
        if name != "vertex climb":
            continue
        new = np.any(lp.samples != cands[0][1].samples, axis=1)
        for j in np.flatnonzero(new):
            n_new += 1
            u = np.maximum(X @ lp.W[j] + lp.b[j], 0.0) / np.linalg.norm(lp.W[j])
            np.testing.assert_allclose(U[:, j], u, rtol=1e-12, atol=1e-14)
            assert abs(theta @ u) > lam
            wa = np.r_[lp.W[j], lp.b[j]]
            assert np.abs(Xa[lp.samples[j]] @ wa).max() < 1e-9 * np.linalg.norm(wa) * np.abs(Xa).max()
    assert n_new >= 1
