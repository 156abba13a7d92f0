"""fit_beyond: column generation with the heuristic pricer and the pricing MILP."""

import numpy as np
import pytest

import wedgenet as wn
from wedgenet.beyond import fit_beyond
from wedgenet.exact import solve_exact


def _data(seed, n, d):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=n)


@pytest.mark.parametrize("seed_network", ["adam", None])
@pytest.mark.parametrize("d,n", [(2, 14), (3, 12)])
def test_fit_beyond_reaches_the_exact_optimum_from_a_tiny_sample(d, n, seed_network):
    X, y = _data(40 + d, n, d)
    lam = 0.2
    opt = solve_exact(X, y, lam, reg="l1", bias=True).value
    net = fit_beyond(X, y, lam=lam, max_columns=10, time_limit=60, tol=1e-7, random_state=0,
                     seed_network=seed_network)
    i = net.info
    assert net.objective(X, y) == pytest.approx(opt, rel=1e-6)
    assert i["bound_lower_bound"] <= opt * (1 + 1e-9)
    assert i["bound_relative_gap"] <= 1e-6
    pricers = i["n_columns_added_local_search"] + i["n_columns_added_milp"]
    # without seeds the pricers alone reach the optimum; with them, the snapped seeds may already
    assert pricers > 0 if seed_network is None else pricers + i["n_columns_added_seed"] > 0
    # every neuron names samples on its breakline (its tight rows), as dictionary columns do
    for w, b, rec in zip(net.W1, net.b1, net.provenance, strict=True):
        for s in rec["samples"]:
            assert abs(w @ X[s] + b) <= 1e-8 * (np.abs(w).sum() * np.abs(X).max() + abs(b))


def test_fit_beyond_seed_network_and_save_load(tmp_path):
    X, y = _data(3, 16, 2)
    seed = wn.fit(X, y, lam=0.3, bias=True, max_columns=6, random_state=1)
    net = fit_beyond(X, y, lam=0.3, max_columns=6, time_limit=30, random_state=1, seed_network=seed)
    net2 = wn.load(net.save(tmp_path / "n.json"))
    assert net2.info["bound_relative_gap"] == net.info["bound_relative_gap"]
    np.testing.assert_allclose(net2.predict(X), net.predict(X))
    assert net.info["bound_lower_bound"] <= net.objective(X, y) * (1 + 1e-12)


def test_fit_beyond_logistic():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(16, 2))
    y = np.where(X[:, 0] ** 2 - X[:, 1] > 0, 1.0, -1.0)
    net = fit_beyond(X, y, lam=0.5, loss="logistic", max_columns=8, time_limit=30, tol=1e-6, random_state=0)
    ref = wn.fit(X, y, lam=0.5, loss="logistic", bias=True)  # every candidate
    assert net.objective(X, y) == pytest.approx(ref.objective(X, y), rel=1e-5)
    assert net.info["bound_lower_bound"] <= ref.objective(X, y) * (1 + 1e-9)


@pytest.mark.parametrize("kw", [dict(lam=0), dict(lam=-1), dict(lam=1, loss="softmax"), dict(lam=1, reg="l3"),
                                dict(lam=1, time_limit=0), dict(lam=1, max_columns=0), dict(lam=1, tol=-1),
                                dict(lam=1, seed_network="x"), dict(lam=1, seed_network=(np.ones((2, 5)), np.ones(2)))])
def test_fit_beyond_rejects_bad_arguments(kw):
    X, y = _data(1, 10, 2)
    with pytest.raises(ValueError):
        fit_beyond(X, y, **kw)


def test_fit_beyond_rejects_bad_data():
    X, y = _data(1, 10, 2)
    Xn = X.copy()
    Xn[1, 1] = np.inf
    for args in ((Xn, y), (X, y[:3]), (X[:0], y[:0]), (X, np.c_[y, y])):
        with pytest.raises(ValueError):
            fit_beyond(*args, lam=1.0)


def test_fit_beyond_adam_seed():
    X, y = _data(6, 14, 2)
    net = fit_beyond(X, y, lam=0.3, max_columns=4, time_limit=30, tol=1e-7, random_state=0, seed_network="adam")
    opt = solve_exact(X, y, 0.3, reg="l1", bias=True).value
    assert net.objective(X, y) == pytest.approx(opt, rel=1e-6)
    assert net.info["n_columns_added_seed"] > 0
    with pytest.raises(ValueError):
        fit_beyond(X, y, lam=0.3, seed_network="sgd")


@pytest.mark.parametrize("loss,reg", [("squared", "l1"), ("logistic", "l1"), ("squared", "l2")])
def test_adam_network_objective_is_its_weights_objective_and_near_the_optimum(loss, reg):
    from wedgenet.beyond.adam import adam_network

    X, y = _data(8, 14, 2)
    if loss == "logistic":
        y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    W, b, a, t, obj = adam_network(X, y, lam=0.3, loss=loss, reg=reg, width=16, steps=3000, random_state=0)
    f = np.maximum(X @ W.T + b, 0.0) @ a + t
    p = 1 if reg == "l1" else 2
    ref = wn.solvers.get_loss(loss).value(f, y) + 0.15 * (np.sum(np.linalg.norm(W, ord=p, axis=1) ** 2) + a @ a)
    assert obj == pytest.approx(ref, rel=1e-12)
    if reg == "l1":  # the l1 optimum is exact; Adam can only be above it, and gets close on 14 points
        opt = wn.fit(X, y, lam=0.3, loss=loss, bias=True, tol=1e-9).objective(X, y)  # every candidate
        assert opt * (1 - 1e-9) <= obj <= opt * 1.05


def test_fit_beyond_seed_neurons_are_snapped_to_samples():
    """A seed far from any vertex still enters as a sample-defined neuron (its tightest rows)."""
    X, y = _data(9, 30, 3)
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(5, 3)), rng.normal(size=5)
    net = fit_beyond(X, y, lam=0.05, max_columns=4, time_limit=3, random_state=0, seed_network=(W, b),
                     max_starts=1)
    # each seed: its nearest vertex, and (p = 1) the most violating vertex of its cell when that differs
    assert 5 <= net.info["n_columns_added_seed"] <= 10
    for w, c, rec in zip(net.W1, net.b1, net.provenance, strict=True):
        assert len(rec["samples"]) >= 1
        for s in rec["samples"]:
            assert abs(w @ X[s] + c) <= 1e-8 * (np.abs(w).sum() * np.abs(X).max() + abs(c))


@pytest.mark.slow
def test_default_fit_at_d30_is_within_1pct_of_adam():
    """breast_cancer (30 features): the default sampled fit (column generation seeded by a snapped
    Adam run) is not beaten by more than 1% by the best of 3 longer Adam runs on its objective."""
    import warnings

    from sklearn.datasets import load_breast_cancer

    from wedgenet.beyond.adam import adam_network

    X, y = load_breast_cancer(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = wn.fit(X, y, loss="logistic", lam_ratio=0.1, standardize=True, time_limit=30, random_state=0)
    sn, Xs, ys = net.fitted_view(X, y)
    f = np.maximum(Xs @ sn.W1.T + sn.b1, 0.0) @ sn.W2.ravel() + float(np.ravel(sn.b2)[0])
    ours = float(np.sum(np.logaddexp(0.0, -ys * f)) + 0.5 * net.lam * np.sum(np.abs(sn.W1).sum(axis=1) ** 2
                                                                              + sn.W2.ravel() ** 2))
    assert all(len(rec["samples"]) >= 1 for rec in net.provenance)
    assert net.certificate.scope == "sampled"
    adam = min(adam_network(Xs, ys, lam=net.lam, loss="logistic", width=max(2 * net.n_neurons, 10), steps=3000,
                            random_state=s)[4] for s in range(3))
    assert adam >= ours * (1 - 0.01)


def test_fit_beyond_l2_brackets_the_exact_l2_optimum():
    X, y = _data(12, 10, 2)
    lam = 0.3
    opt = solve_exact(X, y, lam, reg="l2", bias=True).value
    net = fit_beyond(X, y, lam=lam, reg="l2", max_columns=10, time_limit=20, random_state=0)
    assert net.info["bound_lower_bound"] <= opt * (1 + 1e-9)
    assert net.objective(X, y) >= opt * (1 - 1e-9)


@pytest.mark.parametrize("kw", [dict(milp_nodes=0), dict(milp_escalations=-1), dict(milp_max_binaries=-1),
                                dict(max_rounds=0), dict(milp_nodes=1.5), dict(max_local_searches=-1)])
def test_fit_beyond_rejects_bad_work_limits(kw):
    X, y = _data(1, 10, 2)
    with pytest.raises(ValueError, match=next(iter(kw))):
        fit_beyond(X, y, lam=1.0, **kw)


def test_fit_beyond_stops_by_rule_and_says_when_the_clock_stopped_it():
    X, y = _data(5, 20, 3)
    net = fit_beyond(X, y, lam=0.1, max_columns=20, time_limit=120, random_state=0)
    assert net.info["stopped_by"] in ("gap", "no improving column", "work budget")
    assert net.info["reproducible"] is True and "clock_stopped" not in net.info
    assert 1 <= net.info["n_rounds"] <= 50
    # the safety net: a time limit far too short stops the run, and the network says so
    cut = fit_beyond(X, y, lam=0.1, max_columns=20, time_limit=1e-3, random_state=0)
    assert cut.info["stopped_by"] == "time_limit" and cut.info["reproducible"] is False
    assert cut.info["clock_stopped"]
    assert cut.objective(X, y) >= net.objective(X, y) * (1 - 1e-9)


def test_fit_beyond_without_the_milp_claims_no_bound():
    """A pricing program over milp_max_binaries is not solved: local search only, and no bound."""
    X, y = _data(5, 20, 3)
    net = fit_beyond(X, y, lam=0.1, max_columns=20, time_limit=120, random_state=0, milp_max_binaries=0)
    assert net.info["n_columns_added_milp"] == 0 and net.info["seconds_milp"] == 0.0
    assert "bound_lower_bound" not in net.info and "milp_skipped" in net.info
    assert net.info["stopped_by"] == "no improving column"


def test_a_clock_stopped_certificate_says_it_is_not_reproducible(tmp_path):
    from wedgenet.solvers.certificate import Certificate

    c = Certificate(primal=1.0, dual=1.0, gap=0.0, relative_gap=0.0, max_violation=1.0, n_columns_priced=10,
                    scope="sampled")
    assert "not reproducible" not in c.verdict()
    assert c.with_scope("sampled", clock_stopped=True).verdict().endswith("stopped at time_limit; not reproducible")
    X, y = _data(3, 16, 2)
    net = wn.fit(X, y, lam=0.3, max_columns=6, random_state=1)
    net.set_certificate(net.certificate.with_scope("sampled", clock_stopped=True))
    back = wn.load(net.save(tmp_path / "n.json"))
    assert back.certificate.clock_stopped and "not reproducible" in back.summary()


@pytest.fixture(scope="module")
def default_d10_fits():
    """Two default fits (column generation, same random_state) of a 50 x 10 regression table."""
    import warnings

    from wedgenet import WedgeRegressor

    rng = np.random.default_rng(13)
    X = rng.normal(size=(50, 10))
    y = X[:, 0] * X[:, 1] + np.abs(X[:, 2]) - X[:, 3] + 0.1 * rng.normal(size=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the SamplingWarning of a default d = 10 fit
        # the safety net far away: what is tested is the stopping rule, not the machine's speed
        fits = [WedgeRegressor(random_state=0, time_limit=300).fit(X, y) for _ in range(2)]
    return X, fits


@pytest.mark.slow
def test_two_default_d10_fits_give_identical_predictions(default_d10_fits):
    X, (a, b) = default_d10_fits
    Xt = np.random.default_rng(1).normal(size=(30, 10))
    np.testing.assert_array_equal(a.predict(Xt), b.predict(Xt))
    np.testing.assert_array_equal(a.predict(X), b.predict(X))
    assert a.network_.n_neurons == b.network_.n_neurons > 0


@pytest.mark.slow
def test_a_default_d10_fit_at_n50_stops_by_its_rule_not_the_clock(default_d10_fits):
    _, (a, _) = default_d10_fits
    i = a.network_.info
    assert i["certificate_scope"] == "sampled candidates + column generation"
    assert i["stopped_by"] in ("gap", "no improving column", "work budget")
    assert i["reproducible"] is True and "clock_stopped" not in i
    assert not a.network_.certificate.clock_stopped
    assert "not reproducible" not in a.network_.summary()


@pytest.mark.slow
def test_a_default_d10_fit_says_converged_exactly_when_its_certificate_is_closed(default_d10_fits):
    """``info["converged"]`` is the fit's own rule (``tol`` of the fit, 1e-6 by default) on the
    certificate over the grown column set, not the stricter tolerance of the restricted solves."""
    _, (a, _) = default_d10_fits
    net = a.network_
    assert net.info["converged"] is net.certificate.closed(1e-6)
    assert net.info["converged"] is (not net.certificate.verdict().startswith("NOT certified"))
