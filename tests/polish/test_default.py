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
