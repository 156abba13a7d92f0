"""Tests for wedgenet.inspect: provenance table, sample influence, explain (values, not smoke)."""

from __future__ import annotations

import numpy as np
import pytest

import wedgenet as wn
from wedgenet.datasets import make_spiral, make_xor
from wedgenet.inspect import format_breakline, provenance_table, sample_influence
from wedgenet.network import WedgeNetwork


@pytest.fixture(scope="module")
def spiral():
    X, y = make_spiral(40)
    return X, y, wn.fit(X, y, lam=0.1, reg="l1", bias=True)


@pytest.fixture(scope="module")
def depth3():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((8, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1]
    return X, y, wn.fit(X, y, lam=0.05, reg="l1", bias=False, depth=3)


def _hand_net(W1, b1, W2, b2=0.0, samples=None, n_active=None):
    W1 = np.asarray(W1, dtype=float)
    m = W1.shape[0]
    samples = samples or [[j] for j in range(m)]
    prov = []
    for j in range(m):
        rec = {"column": j, "samples": list(samples[j]), "kinds": ["sample"], "expression": f"n{j}",
               "theorem": "Thm 2", "orientation": 1 if j % 2 == 0 else -1}
        if n_active is not None:
            rec["n_active"] = n_active[j]
        prov.append(rec)
    return WedgeNetwork(W1=W1, b1=np.asarray(b1, dtype=float), W2=np.asarray(W2, dtype=float), b2=b2,
                        outer_sign=np.zeros(m), thresholds=np.zeros(m), depth=2, reg="l1", lam=0.1,
                        loss="squared", bias=True, provenance=prov, info={"n_train": 4})


# ------------------------------------------------------------------------------ provenance table
@pytest.mark.parametrize("as_frame", [False, True])
def test_provenance_table_matches_network(spiral, as_frame):
    if as_frame:
        pd = pytest.importorskip("pandas")
    X, y, net = spiral
    tab = net.provenance_table(as_frame=as_frame)
    rows = tab.to_dict("records") if as_frame else tab
    if as_frame:
        assert isinstance(tab, pd.DataFrame) and len(tab) == net.n_neurons
    assert len(rows) == net.n_neurons
    H = np.maximum(X @ net.W1.T + net.b1, 0.0)
    # a direct recount on the training data; samples on a breakline (h ~ 1e-17) are inactive
    recount = (H > 1e-10 * H.max(axis=0)).sum(axis=0)
    for j, (row, neuron) in enumerate(zip(rows, net.neurons, strict=True)):
        assert row["neuron"] == j
        assert list(row["samples"]) == list(neuron.samples) and list(row["kinds"]) == list(neuron.kinds)
        assert row["expression"] == neuron.expression and row["theorem"] == "Thm 16"
        assert row["output_weight"] == net.W2[j] and row["abs_output_weight"] == abs(net.W2[j])
        np.testing.assert_array_equal(row["weight"], net.W1[j])
        assert row["bias"] == net.b1[j]
        assert row["n_active"] == recount[j]
        # the breakline text round-trips to the hyperplane (within the printed precision)
        assert row["breakline"].endswith("= 0")
        assert row["orientation"] in (-1, 1)
    # counting on X gives the same numbers as the counts stored at fit time
    rows_x = net.provenance_table(X, as_frame=False)
    assert [r["n_active"] for r in rows_x] == list(recount)
    # and on other data, the count on that data
    Z = X[:7]
    expect = (H[:7] > 1e-10 * H[:7].max(axis=0)).sum(axis=0)
    assert [r["n_active"] for r in net.provenance_table(Z, as_frame=False)] == list(expect)


def test_stored_counts_survive_save_load_and_prune(spiral, tmp_path):
    X, y, net = spiral
    back = wn.load(net.save(tmp_path / "net.json"))
    assert [r["n_active"] for r in back.provenance_table(as_frame=False)] == \
        [r["n_active"] for r in net.provenance_table(as_frame=False)]
    pruned = net.prune(X)
    H = pruned.hidden(X)
    counts = (H > 1e-10 * H.max(axis=0)).sum(axis=0)
    assert [r["n_active"] for r in pruned.provenance_table(as_frame=False)] == list(counts)


def test_old_records_without_counts(tmp_path):
    net = _hand_net([[1.0, 0.0], [0.0, 1.0]], [0.0, -0.5], [1.0, -2.0])
    rows = provenance_table(net, as_frame=False)
    assert [r["n_active"] for r in rows] == [None, None]
    X = np.array([[1.0, 1.0], [-1.0, 1.0], [2.0, 0.0], [0.0, 0.0]])
    assert [r["n_active"] for r in provenance_table(net, X, as_frame=False)] == [2, 2]
    # a file without the count still loads (format unchanged otherwise)
    back = wn.load(net.save(tmp_path / "old.json"))
    assert back.provenance_table(as_frame=False)[0]["n_active"] is None


def test_depth3_counts_and_columns(depth3):
    X, y, net = depth3
    rows = net.provenance_table(as_frame=False)
    H = net.hidden(X)
    assert [r["n_active"] for r in rows] == list((H > 1e-10 * H.max(axis=0)).sum(axis=0))
    for j, r in enumerate(rows):
        assert r["threshold"] == net.thresholds[j] and r["outer_sign"] == net.outer_sign[j]


def test_vector_output_table():
    X, y = make_xor(12, noise=0.1, random_state=1)
    Y = np.c_[y, -0.5 * y]
    net = wn.fit(X, Y, lam=0.2, reg="l1", bias=True)
    rows = net.provenance_table(as_frame=False)
    for j, r in enumerate(rows):
        np.testing.assert_array_equal(r["output_weight"], net.W2[j])
        assert r["abs_output_weight"] == pytest.approx(np.linalg.norm(net.W2[j]))


def test_format_breakline():
    assert format_breakline([1.0, -0.5], 0.25) == "1 x0 - 0.5 x1 + 0.25 = 0"
    assert format_breakline([-2.0, 0.0], 0.0) == "-2 x0 = 0"
    assert format_breakline([0.0, 0.0], -1.0) == "-1 = 0"


# ------------------------------------------------------------------------------ sample influence
@pytest.mark.parametrize("as_frame", [False, True])
def test_sample_influence_totals(spiral, as_frame):
    if as_frame:
        pytest.importorskip("pandas")
    X, y, net = spiral
    tab = net.sample_influence(as_frame=as_frame)
    rows = tab.to_dict("records") if as_frame else tab
    assert len(rows) == X.shape[0] == net.info["n_train"]
    a = np.abs(net.W2)
    for i, r in enumerate(rows):
        expect = [j for j, rec in enumerate(net.provenance) if i in rec["samples"]]
        assert r["sample"] == i and list(r["neurons"]) == expect and r["n_neurons"] == len(expect)
        assert r["total_abs_output_weight"] == pytest.approx(a[expect].sum(), abs=1e-15)
    grand = sum(r["total_abs_output_weight"] for r in rows)
    assert grand == pytest.approx(sum(a[j] * len(set(rec["samples"])) for j, rec in enumerate(net.provenance)))


def test_sample_influence_hand_built():
    net = _hand_net([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0.0, 0.0, 0.0], [1.5, -2.0, 0.25],
                    samples=[[0, 2], [2], [1, 2, 2]])
    rows = sample_influence(net, as_frame=False)
    assert [r["neurons"] for r in rows] == [[0], [2], [0, 1, 2], []]  # n_train = 4 from info
    assert [r["total_abs_output_weight"] for r in rows] == [1.5, 0.25, 3.75, 0.0]
    assert len(sample_influence(net, 3, as_frame=False)) == 3
    with pytest.raises(ValueError, match="n_samples=2 is too small"):
        sample_influence(net, 2)
    with pytest.raises(ValueError, match="n_samples must be"):
        sample_influence(net, -1)
    with pytest.raises(ValueError, match="n_samples must be"):
        sample_influence(net, 2.5)


# ------------------------------------------------------------------------------ explain
def test_explain_contributions_sum_to_output(spiral):
    X, y, net = spiral
    rng = np.random.default_rng(0)
    for x in np.vstack([X[:5], rng.uniform(-1, 1, (5, 2))]):
        e = net.explain(x)
        f = float(net.decision_function(x[None])[0])
        assert e.output == pytest.approx(f, abs=1e-12)
        assert e.intercept + e.total_contribution == pytest.approx(f, abs=1e-10)
        assert e.prediction == net.predict(x[None])[0]
        h = np.maximum(x @ net.W1.T + net.b1, 0.0)
        assert sorted(r["neuron"] for r in e.rows) == list(np.flatnonzero(h > 0))
        for r in e.rows:
            j = r["neuron"]
            assert r["active"] and r["activation"] == pytest.approx(h[j])
            assert r["contribution"] == pytest.approx(net.W2[j] * h[j])
            # signed Euclidean distance to the breakline w.x + b = 0
            w, b = net.W1[j], net.b1[j]
            foot = x - r["signed_distance"] * w / np.linalg.norm(w)
            assert foot @ w + b == pytest.approx(0.0, abs=1e-10)
            assert r["signed_distance"] > 0
            assert r["samples"] == net.provenance[j]["samples"]
        mags = [abs(r["contribution"]) for r in e.rows]
        assert mags == sorted(mags, reverse=True)
    text = str(net.explain(X[0]))
    assert "intercept" in text and "expression" in text


def test_explain_all_neurons_and_table(spiral):
    pytest.importorskip("pandas")
    X, y, net = spiral
    e = net.explain(X[3][None, :], all_neurons=True)
    assert len(e.rows) == net.n_neurons
    inactive = [r for r in e.rows if not r["active"]]
    assert all(r["contribution"] == 0 and r["signed_distance"] <= 0 for r in inactive)
    df = e.table()
    assert len(df) == net.n_neurons and float(df["contribution"].sum()) == pytest.approx(e.total_contribution)
    assert isinstance(e.table(as_frame=False), list)


def test_explain_depth3_and_vector(depth3):
    X, y, net = depth3
    for x in X:
        e = net.explain(x)
        assert e.intercept + e.total_contribution == pytest.approx(float(net.decision_function(x[None])[0]),
                                                                    abs=1e-10)
    Xx, yx = make_xor(12, noise=0.1, random_state=1)
    netv = wn.fit(Xx, np.c_[yx, 2 * yx], lam=0.2)
    e = netv.explain(Xx[0])
    np.testing.assert_allclose(e.intercept + e.total_contribution, netv.decision_function(Xx[:1])[0], atol=1e-10)


def test_explain_classifiers():
    X, y = make_xor(12, noise=0.1, random_state=1)
    net = wn.fit(X, (y > 0).astype(int), lam=0.2, loss="softmax")
    e = net.explain(X[0])
    assert isinstance(e.prediction, int) and e.prediction == net.predict(X[:1])[0]
    np.testing.assert_allclose(e.intercept + e.total_contribution, net.decision_function(X[:1])[0], atol=1e-10)
    net = wn.fit(X, y, lam=0.2, loss="logistic")
    e = net.explain(X[1])
    assert e.prediction == np.sign(e.output) and e.intercept + e.total_contribution == pytest.approx(e.output)


def test_explain_no_active_neuron():
    net = _hand_net([[1.0, 0.0]], [-10.0], [3.0], b2=0.5)
    e = net.explain([0.0, 0.0])
    assert e.rows == [] and e.output == 0.5 and e.total_contribution == 0.0


# ------------------------------------------------------------------------------ validation
def test_validation(spiral):
    X, y, net = spiral
    with pytest.raises(ValueError, match="^x must be one input of shape"):
        net.explain([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="^x must be one input"):
        net.explain(X[:2])
    with pytest.raises(ValueError, match="^x contains NaN"):
        net.explain([np.nan, 0.0])
    with pytest.raises(ValueError, match="^all_neurons"):
        net.explain(X[0], all_neurons=1)
    with pytest.raises(ValueError, match="^X must have 2 features"):
        net.provenance_table(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="^X must be a 2-D array"):
        net.provenance_table(np.zeros(3))
    with pytest.raises(ValueError, match="^as_frame"):
        net.provenance_table(as_frame="yes")
    with pytest.raises(ValueError, match="^as_frame"):
        net.sample_influence(as_frame=1)


def test_without_pandas_gives_records(spiral, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("no pandas here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    X, y, net = spiral
    assert isinstance(net.provenance_table(), list)
    assert isinstance(net.sample_influence(), list)
    assert isinstance(net.explain(X[0]).table(), list)
    with pytest.raises(ImportError, match="pip install pandas"):
        net.provenance_table(as_frame=True)


def test_active_counts_ignores_rounding_on_the_breakline():
    from wedgenet.inspect import active_counts

    H = np.array([[1e-17, 0.0], [0.5, 0.0], [2.0, 0.0], [0.0, 0.0]])
    assert list(active_counts(H)) == [2, 0]
    assert list(active_counts(np.zeros((0, 3)))) == [0, 0, 0]
    with pytest.raises(ValueError, match="^H must be a 2-D"):
        active_counts(np.zeros(3))


def test_counts_are_not_vacuous(spiral):
    X, y, net = spiral
    n = np.array([r["n_active"] for r in net.provenance_table(as_frame=False)])
    assert np.all(n >= 1) and np.all(n < X.shape[0]) and len(set(n)) > 2
