"""wedgenet.polish on torch and numpy models: refit, balancing, deep and conv layers, report, errors."""


import numpy as np
import pytest

import wedgenet
from wedgenet.polishing import adapters

torch = pytest.importorskip("torch")
nn = torch.nn


def _two_layer(rng, d=3, m=10, c=1, bias=True):
    W1 = rng.standard_normal((m, d))
    b1 = rng.standard_normal(m) if bias else None
    W2 = rng.standard_normal((c, m))
    b2 = rng.standard_normal(c)
    return [(W1, b1), (W2, b2)]


def _objective(weights, X, y, lam):
    (W1, b1), (W2, b2) = weights
    H = np.maximum(X @ W1.T + (0 if b1 is None else b1), 0)
    f = H @ W2.T + b2
    f = f[:, 0] if y.ndim == 1 else f
    return 0.5 * np.sum((f - y) ** 2) + lam / 2 * (np.sum(W1**2) + np.sum(W2**2))


def test_refit_is_the_convex_optimum_and_balanced():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    y = np.sin(X[:, 0]) + X[:, 1] ** 2
    model = _two_layer(rng, m=12)
    lam = 0.1
    out, rep = wedgenet.polish(model, X, y, lam=lam, keep="polished")
    (W1, b1), (W2, b2) = out
    # balanced: ||w_j|| = |a_j|
    np.testing.assert_allclose(np.linalg.norm(W1, axis=1), np.abs(W2[0]), rtol=1e-9, atol=1e-12)
    obj = _objective(out, X, y, lam)
    assert rep.after["objective"] == pytest.approx(obj, rel=1e-12)
    assert rep.before["objective"] == pytest.approx(_objective(model, X, y, lam), rel=1e-12)
    # the refit is the optimum of the convex problem: an independent cvxpy solve of the weighted Lasso
    import cvxpy as cp

    polished_layer = wedgenet.polish(model, X, y, lam=lam, refit=False, keep="polished")[1].weights[0]
    U, beta = polished_layer
    H = np.maximum(X @ U.T + beta, 0)
    K = H / np.linalg.norm(U, axis=1)
    z, t = cp.Variable(K.shape[1]), cp.Variable()
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(K @ z + t - y) + lam * cp.norm1(z)))
    prob.solve(solver=cp.CLARABEL)
    assert obj == pytest.approx(prob.value, rel=1e-6)
    # never worse than the polished layer with its old output weights, nor than the model before
    assert obj <= rep.before["objective"] + 1e-9
    assert rep.refit_unpolished["objective"] <= rep.before["objective"] + 1e-9


def test_refit_stationarity_by_autograd(spiral_net):
    """At the refit, the objective is stationary in the output weights and the hidden scales (torch autograd)."""
    model, X, y, lam = spiral_net
    pm, rep = wedgenet.polish(model, X, y, lam=lam)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    f = pm(Xt)
    obj = 0.5 * (f - yt).pow(2).sum() + lam / 2 * (pm[0].weight.pow(2).sum() + pm[2].weight.pow(2).sum())
    assert obj.item() == pytest.approx(rep.after["objective"], rel=1e-12)
    obj.backward()
    a = pm[2].weight.detach()[0]
    ga = pm[2].weight.grad[0]
    gt = pm[2].bias.grad[0]
    active = a != 0
    assert active.sum() > 0
    scale = max(1.0, abs(obj.item()))
    assert torch.abs(ga[active]).max() < 1e-4 * scale
    assert abs(gt) < 1e-4 * scale
    # derivative along w_j -> s w_j, b_j -> s b_j at s = 1
    gs = (pm[0].weight.grad * pm[0].weight.detach()).sum(1) + pm[0].bias.grad * pm[0].bias.detach()
    assert torch.abs(gs).max() < 1e-4 * scale


def test_never_worse_than_refitting_the_unpolished_layer(spiral_net):
    """keep='union' and keep='best' never lose to the refit of the unpolished layer.

    Plain polishing (keep='polished', the paper's procedure) can: on this small spiral net it does.
    """
    model, X, y, lam = spiral_net
    _, rep = wedgenet.polish(model, X, y, lam=lam, keep="polished")
    pol, base = rep.after["objective"], rep.refit_unpolished["objective"]
    assert base <= rep.before["objective"]
    out, rep_u = wedgenet.polish(model, X, y, lam=lam, keep="union")
    assert rep_u.kept == "union"
    assert rep_u.after["objective"] <= min(pol, base) * (1 + 1e-7)
    lr = rep_u.layers[0]
    assert lr.active.sum() <= 24 and np.any(lr.active & lr.polished)
    # the returned model really has that objective, and its polished slots pass through their samples
    Xt, yt = torch.tensor(X), torch.tensor(y)
    f = out(Xt)
    obj = 0.5 * (f - yt).pow(2).sum() + lam / 2 * (out[0].weight.pow(2).sum() + out[2].weight.pow(2).sum())
    assert obj.item() == pytest.approx(rep_u.after["objective"], rel=1e-12)
    W, b = rep_u.weights[0]
    Xa = np.c_[X, np.ones(len(X))]
    for j in np.flatnonzero(lr.active & lr.polished):
        assert np.abs(Xa[lr.samples[j]] @ np.r_[W[j], b[j]]).max() < 1e-10 * np.linalg.norm(np.r_[W[j], b[j]])
    _, rep_b = wedgenet.polish(model, X, y, lam=lam, keep="best")
    assert rep_b.after["objective"] == pytest.approx(min(pol, base), rel=1e-9)


def test_torch_model_not_modified_unless_inplace(spiral_net):
    model, X, y, lam = spiral_net
    before = [p.detach().clone() for p in model.parameters()]
    pm, rep = wedgenet.polish(model, X, y, lam=lam)
    assert pm is not model
    for p0, p1 in zip(before, model.parameters(), strict=True):
        assert torch.equal(p0, p1)
    # the returned weights are the report's float64 weights
    np.testing.assert_array_equal(pm[0].weight.detach().numpy(), rep.weights[0][0])
    import copy

    m2 = copy.deepcopy(model)
    pm2, _ = wedgenet.polish(m2, X, y, lam=lam, inplace=True)
    assert pm2 is m2
    assert not torch.equal(m2[0].weight, model[0].weight)


def test_polished_neurons_pass_through_samples(spiral_net):
    model, X, y, lam = spiral_net
    # refit=False: the default keeps the trained weights where the snap alone (no refit) costs objective
    _, rep_d = wedgenet.polish(model, X, y, lam=lam, refit=False)
    assert rep_d.after["objective"] <= 1.005 * rep_d.before["objective"]
    assert set(rep_d.layers[0].unpolished) == set(rep_d.layers[0].reasons)  # every kept neuron has a reason
    assert rep_d.unpolished == [(0, j, rep_d.layers[0].reasons[j]) for j in rep_d.layers[0].unpolished]
    _, rep = wedgenet.polish(model, X, y, lam=lam, refit=False, keep="polished")
    W, b = rep.weights[0]
    Xa = np.c_[X, np.ones(len(X))]
    lr = rep.layers[0]
    assert lr.polished.all()
    for j in np.flatnonzero(lr.polished):
        s = lr.samples[j]
        wa = np.r_[W[j], b[j]]
        assert np.max(np.abs(Xa[s] @ wa) / np.linalg.norm(Xa[s], axis=1)) < 1e-10 * np.linalg.norm(wa)
    Wd, bd = rep_d.weights[0]
    for j in rep_d.layers[0].unpolished:  # kept with their trained weights (up to the rebalancing scale)
        wt = np.r_[model[0].weight.detach().numpy()[j], model[0].bias.detach().numpy()[j]]
        assert abs(np.r_[Wd[j], bd[j]] @ wt) == pytest.approx(np.linalg.norm(np.r_[Wd[j], bd[j]]) *
                                                              np.linalg.norm(wt))
    W0 = model[0].weight.detach().numpy()
    b0 = model[0].bias.detach().numpy()
    # signs agree with the trained neurons on the training samples
    assert np.all(np.einsum("ij,ij->j", Xa @ np.c_[W0, b0].T, Xa @ np.c_[W, b].T) > 0)
    # refit=False: rebalanced only, so the function is that of the polished layer with the old output weights
    assert rep.refit is None and rep.refit_unpolished is None


def test_deep_all_layers_on_polished_activations():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((60, 4))
    y = np.tanh(X @ rng.standard_normal(4))
    model = [(rng.standard_normal((9, 4)), rng.standard_normal(9)),
             (rng.standard_normal((7, 9)), rng.standard_normal(7)),
             (rng.standard_normal((1, 7)), rng.standard_normal(1))]
    out, rep = wedgenet.polish(model, X, y, lam=0.05, layers="all")
    assert [lr.layer for lr in rep.layers] == [0, 1]
    (W1, b1), (W2, b2), (W3, b3) = out
    H1 = np.maximum(X @ W1.T + b1, 0)
    for lyr, (S, W, b) in enumerate([(X, W1, b1), (H1, W2, b2)]):
        Sa = np.c_[S, np.ones(len(S))]
        for j, s in enumerate(rep.layers[lyr].samples):
            wa = np.r_[W[j], b[j]]
            if not np.any(wa):
                continue  # dropped by the refit
            res = np.abs(Sa[s] @ wa) / (np.linalg.norm(Sa[s], axis=1) * np.linalg.norm(wa))
            assert res.max() < 1e-10
    # penalty is rebalanced across the three layers: every hidden neuron norm equals its outgoing norm
    np.testing.assert_allclose(np.linalg.norm(W1, axis=1), np.linalg.norm(W2, axis=0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(W2, axis=1), np.linalg.norm(W3, axis=0), rtol=1e-6, atol=1e-9)
    assert rep.after["objective"] <= rep.before["objective"]


def _unfold_loops(X, kh, kw, stride, pad):
    N, C, H, W = X.shape
    Xp = np.pad(X, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho = (H + 2 * pad - kh) // stride + 1
    wo = (W + 2 * pad - kw) // stride + 1
    rows = []
    for i in range(N):
        for r in range(ho):
            for c in range(wo):
                rows.append(Xp[i, :, r * stride:r * stride + kh, c * stride:c * stride + kw].ravel())
    return np.array(rows), (ho, wo)


def test_conv2d_equals_linear_on_unfolded_patches():
    rng = np.random.default_rng(8)
    torch.manual_seed(0)
    X = rng.standard_normal((6, 2, 7, 7))
    X[:, :, :2] = 0.0  # zero rows of pixels: many identical patches
    conv = nn.Conv2d(2, 5, 3, stride=2, padding=1).double()
    model = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(5 * 2 * 2, 8), nn.ReLU(),
                          nn.Linear(8, 1), nn.Flatten(0)).double()
    # the numpy forward reproduces torch
    net = adapters.parse_model(model)
    out, _ = adapters.forward(net, X, [(a.W, a.b) for a in net.layers])
    np.testing.assert_allclose(out, model(torch.tensor(X)).detach().numpy(), rtol=1e-12, atol=1e-12)
    pm, rep = wedgenet.polish(model, X, refit=False)
    P, grid = _unfold_loops(X, 3, 3, 2, 1)
    Wf = conv.weight.detach().numpy().reshape(5, -1)
    lin, lrep = wedgenet.polish((Wf, conv.bias.detach().numpy()), P, refit=False)
    np.testing.assert_array_equal(rep.layers[0].samples, lrep.layers[0].samples)
    # same neurons up to the positive per-neuron scale set by rebalancing against the head
    conv_aug = np.c_[pm[0].weight.detach().numpy().reshape(5, -1), pm[0].bias.detach().numpy()]
    lin_aug = np.c_[lin[0], lin[1]]
    unit = lambda A: A / np.linalg.norm(A, axis=1, keepdims=True)  # noqa: E731
    np.testing.assert_allclose(unit(conv_aug), unit(lin_aug), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rep.layers[0].angle, lrep.layers[0].angle, rtol=1e-12)
    np.testing.assert_array_equal(rep.layers[0].sign_changes, lrep.layers[0].sign_changes)
    assert rep.layers[0].grid == grid and rep.layers[0].n_samples == P.shape[0]
    img, r, c = rep.layers[0].locations(0)[0]
    np.testing.assert_array_equal(P[rep.layers[0].samples[0][0]], _unfold_loops(X[img:img + 1], 3, 3, 2, 1)[0][
        r * grid[1] + c])
    # with a Linear head after the conv, the dense head is refit
    y = rng.standard_normal(6)
    _, rep2 = wedgenet.polish(model, X, y, lam=0.1)
    assert rep2.after["objective"] <= rep2.before["objective"] + 1e-9


def test_losses_and_targets():
    rng = np.random.default_rng(9)
    X = rng.standard_normal((50, 3))
    y01 = (X[:, 0] * X[:, 1] > 0).astype(float)
    model = _two_layer(rng, m=8)
    _, rep = wedgenet.polish(model, X, y01, loss="logistic", lam=0.5)
    assert rep.metric_name == "accuracy" and 0 <= rep.after["metric"] <= 1
    assert rep.after["objective"] <= rep.before["objective"]
    ys = np.digitize(X[:, 0], [-0.5, 0.5])
    model3 = _two_layer(rng, m=8, c=3)
    _, rep3 = wedgenet.polish(model3, X, ys, loss="softmax", lam=0.5)
    assert rep3.after["objective"] <= rep3.before["objective"]
    # y=None imitates the model's own outputs (squared loss)
    out, rep4 = wedgenet.polish(model, X, lam=1e-3)
    assert rep4.before["loss"] == 0.0 and rep4.after["loss"] > 0.0


def test_bias_false_and_numpy_formats():
    rng = np.random.default_rng(10)
    X = rng.standard_normal((30, 4))
    y = X[:, 0]
    W1, b1 = rng.standard_normal((6, 4)), rng.standard_normal(6)
    out, rep = wedgenet.polish([(W1, b1), rng.standard_normal((1, 6))], X, y, lam=0.1, bias=False)
    assert isinstance(out, list) and isinstance(out[1], np.ndarray)
    assert np.all(out[0][1] == 0) and rep.layers[0].rank == 4 and rep.layers[0].samples.shape == (6, 3)
    with pytest.raises(ValueError, match="bias=True"):
        wedgenet.polish([rng.standard_normal((6, 4)), rng.standard_normal((1, 6))], X, y, lam=0.1, bias=True)


def test_report_summary(spiral_net):
    model, X, y, lam = spiral_net
    _, rep = wedgenet.polish(model, X, y, lam=lam)
    text = rep.summary(max_rows=3)
    assert isinstance(text, str) and text == str(rep).replace(str(rep), text)
    assert "refit unpolished" in text and "angle" in text and "more neurons" in text
    assert "training objective better" in text and "budget +0.50%: met" in text
    assert "sample-defined neurons: 24 of 24" in text
    assert len(rep.neurons) == 24 and rep.neurons[0].samples == tuple(rep.layers[0].samples[0])
    assert rep.summary().count("\n") > 24


@pytest.mark.parametrize("bad, match", [
    (lambda: nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)), "unsupported layer type"),
    (lambda: nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.Sigmoid()), "unsupported layer type"),
    (lambda: nn.Sequential(nn.Linear(2, 4), nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 1)), "exactly one ReLU"),
    (lambda: nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1), nn.ReLU()), "output layer"),
    (lambda: nn.Sequential(nn.Linear(2, 4)), "at least two weight layers"),
    (lambda: nn.Linear(2, 4), "nn.Sequential"),
])
def test_bad_models(bad, match):
    X = np.zeros((5, 2))
    with pytest.raises(ValueError, match=match):
        wedgenet.polish(bad(), X, np.zeros(5), lam=1.0)


def test_bad_inputs(spiral_net):
    model, X, y, lam = spiral_net
    with pytest.raises(ValueError, match="X"):
        wedgenet.polish(model, X[:, :1], y, lam=lam)
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        wedgenet.polish(model, Xn, y, lam=lam)
    with pytest.raises(ValueError, match="y"):
        wedgenet.polish(model, X, y[:-1], lam=lam)
    with pytest.raises(ValueError, match="lam is required"):
        wedgenet.polish(model, X, y)
    with pytest.raises(ValueError, match="layers"):
        wedgenet.polish(model, X, y, lam=lam, layers=[1])
    with pytest.raises(ValueError, match="layers"):
        wedgenet.polish(model, X, y, lam=lam, layers="last")
    with pytest.raises(ValueError, match="loss"):
        wedgenet.polish(model, X, y, lam=lam, loss="mae")
    with pytest.raises(ValueError, match="2 output|outputs"):
        wedgenet.polish(model, X, np.c_[y, y], lam=lam)
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 2))
    with pytest.raises(ValueError, match="refit=False"):
        wedgenet.polish(W, X)
    Wn = W.copy()
    Wn[0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        wedgenet.polish([Wn, np.ones((1, 3))], X, y, lam=1.0)
    with pytest.raises(ValueError, match="columns"):
        wedgenet.polish([W, np.ones((1, 4))], X, y, lam=1.0)
    with pytest.raises(ValueError, match="Conv2d"):
        wedgenet.polish(nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Conv2d(1, 1, 2), nn.ReLU(), nn.Flatten(),
                                      nn.Linear(1, 1)), np.zeros((3, 4)), refit=False)
    conv = nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 9, 1))
    with pytest.raises(ValueError, match="channels"):
        wedgenet.polish(conv, np.zeros((3, 2, 4, 4)), refit=False)
    with pytest.raises(ValueError, match="Linear hidden layer"):
        wedgenet.polish(conv, np.zeros((3, 1, 4, 4)), np.zeros(3), lam=1.0)


def test_float32_model_keeps_dtype(spiral_net):
    import copy

    model, X, y, lam = spiral_net
    m32 = copy.deepcopy(model).float()
    pm, rep = wedgenet.polish(m32, X, y, lam=lam)
    assert pm[0].weight.dtype == torch.float32
    np.testing.assert_allclose(pm[0].weight.detach().numpy(), rep.weights[0][0], rtol=1e-6, atol=1e-7)
    f = pm(torch.tensor(X, dtype=torch.float32)).detach().numpy()
    assert 0.5 * np.sum((f - y) ** 2) == pytest.approx(rep.after["loss"], rel=1e-4)


def test_empty_layers_is_the_refit_baseline(spiral_net):
    model, X, y, lam = spiral_net
    _, r0 = wedgenet.polish(model, X, y, lam=lam, layers=[])
    _, r1 = wedgenet.polish(model, X, y, lam=lam)
    assert r0.layers == [] and r0.kept == "unpolished"
    assert r0.after["objective"] == pytest.approx(r1.refit_unpolished["objective"], rel=1e-9)
    assert r0.after["objective"] <= r0.before["objective"]


def test_more_bad_inputs_name_the_argument(spiral_net):
    model, X, y, lam = spiral_net
    bad = nn.Sequential(nn.Linear(2, 5), nn.ReLU(), nn.Linear(5, 1)).double()
    with torch.no_grad():
        bad[0].weight[0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"model\[0\] weight contains NaN"):
        wedgenet.polish(bad, X, y, lam=lam)
    with pytest.raises(ValueError, match="two distinct labels"):
        wedgenet.polish(model, X, -np.ones(X.shape[0]), lam=lam, loss="logistic")
    with pytest.raises(ValueError, match="verbose"):
        wedgenet.polish(model, X, y, lam=lam, verbose="x")
    conv = nn.Sequential(nn.Conv2d(1, 2, 2), nn.ReLU(), nn.Flatten(), nn.Linear(18, 4), nn.ReLU(), nn.Linear(4, 1))
    with pytest.raises(ValueError, match="too small for the first Conv2d"):
        wedgenet.polish(conv, np.zeros((4, 1, 1, 1)), np.zeros(4), lam=1.0)


def test_polish_weights_validates_its_inputs():
    from wedgenet.polishing import polish_weights

    rng = np.random.default_rng(0)
    S, W, b = rng.standard_normal((10, 2)), rng.standard_normal((3, 2)), np.zeros(3)
    res = polish_weights(S.tolist(), W, b)  # lists are fine
    np.testing.assert_allclose(np.abs(np.sum(res.W * S[res.samples[:, 0]], axis=1) + res.b), 0, atol=1e-12)
    cases = [((S * np.nan, W, b), {}, "S contains NaN"), ((S, W[:, :1], b), {}, "W must have 2 columns"),
             ((S, W, b[:2]), {}, "b must have 3"), ((S, W, b), {"rank": 0}, "rank"),
             ((S, W, b), {"rank": 1.5}, "rank"), ((S, W, b), {"spread": 5}, "spread"),
             ((S, W, b), {"p": 3}, "p must be 1 or 2"), ((np.zeros((0, 2)), W, b), {}, "S is empty")]
    for args, kw, match in cases:
        with pytest.raises(ValueError, match=match):
            polish_weights(*args, **kw)


def test_two_row_nested_list_is_a_weight_matrix_not_a_pair():
    X = np.random.default_rng(0).standard_normal((20, 2))
    out, rep = wedgenet.polish([[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0]]], X, X[:, 0], lam=0.1)
    assert [np.shape(o) for o in out] == [(2, 2), (1, 2)]
    out2, _ = wedgenet.polish([(np.eye(2), np.zeros(2)), (np.ones((1, 2)), np.zeros(1))], X, X[:, 0], lam=0.1)
    assert all(isinstance(o, tuple) for o in out2)
