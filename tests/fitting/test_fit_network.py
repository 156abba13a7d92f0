"""WedgeNetwork: evaluation, provenance, to_torch, prune, and save/load (exact round trip, hostile files)."""

from __future__ import annotations

import base64
import json
import os
import pickle
import warnings

import numpy as np
import pytest
from _refs import regression_data, xor_data

import wedgenet as wn
from wedgenet.datasets import make_spiral

ARRAYS = ("W1", "b1", "W2", "b2", "outer_sign", "thresholds")


def _nets():
    X, y = regression_data(0, 8, 2)
    Xc, yc = xor_data(0, 12)
    Y2 = np.c_[y, np.cos(X[:, 1])]
    return {
        "depth2-l1-bias": (X, y, wn.fit(X, y, lam=0.05, reg="l1", bias=True)),
        "depth2-l2-nobias": (X, y, wn.fit(X, y, lam=0.05, reg="l2", bias=False)),
        "depth3-bias": (X[:6], y[:6], wn.fit(X[:6], y[:6], lam=0.1, depth=3, bias=True)),
        "depth3-nobias": (X[:6], y[:6], wn.fit(X[:6], y[:6], lam=0.1, depth=3, bias=False)),
        "vector": (X, Y2, wn.fit(X, Y2, lam=0.1)),
        "logistic": (Xc, yc, wn.fit(Xc, yc, lam=0.3, loss="logistic")),
        "softmax": (Xc, np.arange(12) % 3, wn.fit(Xc, np.arange(12) % 3, lam=0.3, loss="softmax")),
    }


@pytest.fixture(scope="module")
def nets():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _nets()


NAMES = ["depth2-l1-bias", "depth2-l2-nobias", "depth3-bias", "depth3-nobias", "vector", "logistic", "softmax"]


# ------------------------------------------------------------------------- evaluation
def _manual_output(net, X):
    out = np.zeros((X.shape[0],) + net.W2.shape[1:]) + net.b2
    for nu in net.neurons:
        h = np.maximum(X @ nu.weight + nu.bias, 0.0)
        if net.depth == 3:
            h = np.maximum(nu.outer_sign * (h - nu.threshold), 0.0)
        out += np.multiply.outer(h, nu.output_weight) if np.ndim(nu.output_weight) else h * nu.output_weight
    return out


@pytest.mark.parametrize("name", NAMES)
def test_decision_function_and_predict_match_the_formula(nets, name):
    X, y, net = nets[name]
    Xn = np.vstack([X, np.random.default_rng(1).standard_normal((20, X.shape[1]))])
    f = net.decision_function(Xn)
    np.testing.assert_allclose(f, _manual_output(net, Xn), rtol=1e-12, atol=1e-12)
    if net.loss in ("logistic", "hinge"):
        np.testing.assert_array_equal(net.predict(Xn), np.where(f >= 0, 1.0, -1.0))
    elif net.loss == "softmax":
        np.testing.assert_array_equal(net.predict(Xn), np.argmax(f, axis=1))
    else:
        np.testing.assert_array_equal(net.predict(Xn), f)
    with pytest.raises(ValueError, match="features"):
        net.decision_function(Xn[:, :1])


@pytest.mark.parametrize("name", ["depth2-l1-bias", "depth2-l2-nobias", "vector", "logistic"])
def test_network_is_the_lasso_solution_on_its_dictionary(nets, name):
    # f(X) = K[:, cols] z + t with z_j = a_j ||w_j||_p, and ||w_j||_p = |a_j| (balanced)
    X, y, net = nets[name]
    D = wn.dictionary(X, reg=net.reg, bias=net.bias)
    cols = [rec["column"] for rec in net.provenance]
    assert len(set(cols)) == len(cols) == net.n_neurons
    p = 1 if net.reg == "l1" else 2
    wnorm = np.linalg.norm(net.W1, ord=p, axis=1)
    z = net.W2 * (wnorm if net.W2.ndim == 1 else wnorm[:, None])
    np.testing.assert_allclose(net.decision_function(X), D.K[:, cols] @ z + net.b2, rtol=1e-10, atol=1e-12)
    an = np.abs(net.W2) if net.W2.ndim == 1 else np.linalg.norm(net.W2, axis=1)
    np.testing.assert_allclose(wnorm, an, rtol=1e-12)
    pen = np.abs(z).sum() if z.ndim == 1 else np.linalg.norm(z, axis=1).sum()
    assert net.penalty() == pytest.approx(pen, rel=1e-12)
    # each neuron is a positive multiple of its generator neuron
    for j, c in enumerate(cols):
        g = np.r_[D.weights[c], D.biases[c]]
        v = np.r_[net.W1[j], net.b1[j]]
        np.testing.assert_allclose(v / np.linalg.norm(v), g / np.linalg.norm(g), atol=1e-12)


@pytest.mark.parametrize("name", ["depth2-l1-bias", "depth2-l2-nobias", "vector"])
def test_neurons_know_their_defining_samples(nets, name):
    X, y, net = nets[name]
    D = wn.dictionary(X, reg=net.reg, bias=net.bias)
    neurons = net.neurons
    assert len(neurons) == net.n_neurons >= 1
    for j, nu in enumerate(neurons):
        assert isinstance(nu.expression, str) and nu.expression
        assert isinstance(nu.theorem, str) and nu.theorem == net.info["theorem"]
        assert all(isinstance(k, str) for k in nu.kinds) and nu.kinds
        assert all(isinstance(s, int) and 0 <= s < X.shape[0] for s in nu.samples)
        assert nu.orientation in (-1, 1)
        np.testing.assert_array_equal(nu.weight, net.W1[j])
        assert nu.bias == net.b1[j]
        rec = D.provenance[nu.column]
        assert nu.samples == rec.samples and nu.kinds == rec.kinds and nu.expression == rec.expression
        # the neuron's breakline passes through every defining sample, and contains every e_k generator
        scale = np.linalg.norm(nu.weight)
        for s in nu.samples:
            assert abs(X[s] @ nu.weight + nu.bias) <= 1e-10 * scale * (1 + np.linalg.norm(X[s]))
        for g in rec.generators:
            if g.kind == "basis":
                assert abs(nu.weight[g.indices[0]]) <= 1e-12 * scale
        assert f"x{nu.samples[0]}" in nu.expression
        assert repr(nu).startswith("Neuron(samples=")
    assert "neurons" in net.summary() and repr(net).startswith("WedgeNetwork(")


# ------------------------------------------------------------------------- to_torch
@pytest.mark.parametrize("name", NAMES)
def test_to_torch_gives_the_same_outputs(nets, name):
    torch = pytest.importorskip("torch")
    X, y, net = nets[name]
    Xn = np.vstack([X, np.random.default_rng(2).standard_normal((30, X.shape[1]))])
    model = net.to_torch()
    assert all(p.dtype == torch.float64 for p in model.parameters())
    with torch.no_grad():
        out = model(torch.from_numpy(Xn)).numpy()
    f = net.decision_function(Xn)
    assert out.shape == f.shape and out.dtype == np.float64
    np.testing.assert_allclose(out, f, rtol=1e-12, atol=1e-12)
    n_linear = sum(isinstance(m, torch.nn.Linear) for m in model)
    assert n_linear == net.depth


# ------------------------------------------------------------------------- prune (10)
def _check_prune(net, X, y):
    pruned = net.prune(X)
    n = X.shape[0]
    assert pruned.n_neurons <= n + 1 < net.n_neurons
    assert pruned.info["pruned_from"] == net.n_neurons
    np.testing.assert_allclose(pruned.decision_function(X), net.decision_function(X), rtol=0, atol=1e-8)
    assert pruned.objective(X, y) == pytest.approx(net.objective(X, y), rel=1e-8)
    assert pruned.objective(X, y) == pytest.approx(net.info["primal"], rel=1e-8)
    p = 1 if net.reg == "l1" else 2
    np.testing.assert_allclose(np.linalg.norm(pruned.W1, ord=p, axis=1), np.abs(pruned.W2), rtol=1e-10)
    # surviving neurons keep their provenance
    cols = {rec["column"] for rec in net.provenance}
    assert {rec["column"] for rec in pruned.provenance} <= cols
    # pruning again changes nothing
    again = pruned.prune(X)
    assert again.n_neurons == pruned.n_neurons
    return pruned


def test_prune_spiral_l2_with_more_neurons_than_samples():
    X, y = make_spiral(40)
    # interior point: a dense point of the non-unique optimal set (docs/conventions.md#g8); the default
    # active-set solver returns a vertex with at most n + 1 neurons already
    net = wn.fit(X, y, lam=0.01, reg="l2", solver="cvxpy")
    assert net.n_neurons > 41
    _check_prune(net, X, y)


def test_interior_point_noise_is_dropped_and_prune_keeps_the_value():
    X, y = regression_data(0, 10, 2)
    # the interior point leaves every column at ~1e-10; those whose whole column moves the fit by
    # less than 1e-10 of y's scale are dropped (the certificate measures the effect)
    net = wn.fit(X, y, lam=0.1, reg="l1", solver="cvxpy")
    ref = wn.fit(X, y, lam=0.1)
    assert net.n_neurons <= 11 and net.relative_gap <= 1e-6
    assert net.objective(X, y) == pytest.approx(ref.info["primal"], rel=1e-6)
    pruned = net.prune(X)
    assert pruned.n_neurons <= net.n_neurons
    assert pruned.objective(X, y) == pytest.approx(ref.info["primal"], rel=1e-6)


def test_prune_rejects_depth3_and_vector_output(nets):
    for name in ("depth3-bias", "vector"):
        X, y, net = nets[name]
        with pytest.raises(ValueError, match="prune"):
            net.prune(X)


# ------------------------------------------------------------------------- save / load round trip
def _assert_identical(a, b):
    for k in ARRAYS:
        va, vb = getattr(a, k), getattr(b, k)
        assert np.asarray(vb).dtype == np.float64
        assert np.array_equal(np.asarray(va), np.asarray(vb)), k
        assert np.shape(va) == np.shape(vb)
    assert type(a.b2) is type(b.b2) or (np.ndim(a.b2) == 0 and isinstance(b.b2, float))
    for k in ("depth", "reg", "lam", "loss", "bias"):
        assert getattr(a, k) == getattr(b, k) and type(getattr(a, k)) is type(getattr(b, k)), k
    assert a.provenance == b.provenance
    assert a.info == b.info
    assert all(type(a.info[k]) is type(b.info[k]) for k in a.info)


@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip_is_exact(nets, name, tmp_path):
    X, y, net = nets[name]
    path = net.save(tmp_path / "net.json")
    back = wn.load(path)
    _assert_identical(net, back)
    Xn = np.random.default_rng(3).standard_normal((15, X.shape[1]))
    assert np.array_equal(back.decision_function(Xn), net.decision_function(Xn))
    assert back.objective(X, y) == net.objective(X, y)
    # saving the loaded network writes the same bytes
    assert back.save(tmp_path / "again.json").read_bytes() == path.read_bytes()


def test_save_load_pruned_network(tmp_path):
    X, y = make_spiral(30)
    net = wn.fit(X, y, lam=0.01, reg="l2").prune(X)
    _assert_identical(net, wn.load(net.save(tmp_path / "p.json")))


# ------------------------------------------------------------------------- hostile files
@pytest.fixture(scope="module")
def good_doc(nets, tmp_path_factory):
    path = nets["depth2-l1-bias"][2].save(tmp_path_factory.mktemp("doc") / "good.json")
    return json.loads(path.read_text())


def _enc(a):
    a = np.asarray(a, dtype="<f8")
    return {"dtype": "float64", "shape": list(a.shape), "data": base64.b64encode(a.tobytes()).decode()}


def _write(tmp_path, doc, **dump):
    p = tmp_path / "bad.json"
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc, **dump))
    return p


def _load_fails(path, match):
    with pytest.raises(ValueError, match=match):
        wn.load(path)


def _mutate(doc, fn):
    d = json.loads(json.dumps(doc))
    fn(d)
    return d


def test_good_doc_loads(good_doc, tmp_path):
    assert wn.load(_write(tmp_path, good_doc)).n_neurons == len(good_doc["provenance"])


@pytest.mark.parametrize("text", ["", "not json {", "{'format': 1}", '{"format": "wedgenet.WedgeNetwork",', "\x00\x01"])
def test_non_json(tmp_path, text):
    _load_fails(_write(tmp_path, text), "not valid JSON")


def test_non_utf8_binary(tmp_path):
    p = tmp_path / "bin.json"
    p.write_bytes(bytes(range(128, 256)) * 4)
    _load_fails(p, "not valid JSON")


@pytest.mark.parametrize("const", ["NaN", "Infinity", "-Infinity"])
def test_json_non_finite_constants(good_doc, tmp_path, const):
    text = json.dumps(good_doc).replace(f'"lam": {good_doc["params"]["lam"]!r}', f'"lam": {const}')
    assert const in text
    _load_fails(_write(tmp_path, text), f"not valid JSON.*{const}")
    # also hidden in info
    d = _mutate(good_doc, lambda d: d["info"].__setitem__("primal", float(const.replace("Infinity", "inf"))))
    _load_fails(_write(tmp_path, d, allow_nan=True), "non-JSON constant")


@pytest.mark.parametrize("doc", [[], [1, 2], "a string", 3, None, True])
def test_top_level_not_an_object(tmp_path, doc):
    _load_fails(_write(tmp_path, json.dumps(doc)), "not a wedgenet network")


@pytest.mark.parametrize("fmt", ["wedgenet.Network", "", None, 1, "pickle"])
def test_wrong_format(good_doc, tmp_path, fmt):
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d.__setitem__("format", fmt))), "format")


@pytest.mark.parametrize("version", [0, 3, "1", None, 1.5, True, [1]])
def test_wrong_version(good_doc, tmp_path, version):
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d.__setitem__("version", version))), "version")


@pytest.mark.parametrize("key", ["format", "version", "params", "arrays", "provenance", "info"])
def test_missing_top_level_key(good_doc, tmp_path, key):
    msg = {"format": "format", "version": "version"}.get(key, "exactly the keys")
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d.pop(key))), msg)


@pytest.mark.parametrize("where,key", [("params", "lam"), ("params", "reg"), ("arrays", "W1"), ("arrays", "b2")])
def test_missing_nested_key(good_doc, tmp_path, where, key):
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d[where].pop(key))), where)


def test_missing_array_field_and_record_field(good_doc, tmp_path):
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d["arrays"]["W1"].pop("data"))), "W1")
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d["provenance"][0].pop("expression"))), "provenance")


@pytest.mark.parametrize("path", [(), ("params",), ("arrays",), ("arrays", "W1"), ("provenance", 0)])
def test_extra_keys(good_doc, tmp_path, path):
    def add(d):
        obj = d
        for p in path:
            obj = obj[p]
        obj["__reduce__"] = ["os.system", "touch pwned"]
    msg = {(): "exactly the keys", ("params",): "params", ("arrays",): "arrays", ("arrays", "W1"): "W1",
           ("provenance", 0): "provenance"}[path]
    _load_fails(_write(tmp_path, _mutate(good_doc, add)), msg)


@pytest.mark.parametrize("dtype", ["float32", "<f8", "object", "int64", None, 64])
def test_wrong_dtype(good_doc, tmp_path, dtype):
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d["arrays"]["W1"].__setitem__("dtype", dtype))),
                "dtype")


@pytest.mark.parametrize("data", ["!!!not base64!!!", "AAAA=AAA", "QUJD\n", "é", 12, None, ["AAAA"]])
def test_bad_base64(good_doc, tmp_path, data):
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d["arrays"]["b1"].__setitem__("data", data))), "b1")


@pytest.mark.parametrize("shape", [[3, 3, 3], [-1, 2], [2.0, 2], ["2", 2], [True, 2], 7, None, [10**12, 1]])
def test_invalid_shape(good_doc, tmp_path, shape):
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d["arrays"]["W1"].__setitem__("shape", shape))),
                "W1")


def test_shape_and_data_length_mismatch(good_doc, tmp_path):
    def grow(d):
        d["arrays"]["W1"]["shape"][0] += 1
    _load_fails(_write(tmp_path, _mutate(good_doc, grow)), "bytes")
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d["arrays"].__setitem__("b2", _enc(np.zeros(0))
                                                                                     | {"shape": []}))), "bytes")


def test_inconsistent_shapes(good_doc, tmp_path):
    m = len(good_doc["provenance"])
    for key, arr in [("b1", np.zeros(m + 1)), ("W2", np.zeros((m, 2))), ("outer_sign", np.zeros(m - 1)),
                     ("thresholds", np.zeros((m, 1))), ("b2", np.zeros(2)), ("W1", np.zeros(m))]:
        _load_fails(_write(tmp_path, _mutate(good_doc, lambda d, k=key, a=arr: d["arrays"].__setitem__(k, _enc(a)))),
                    "shapes are inconsistent")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_arrays(good_doc, tmp_path, bad):
    def poison(d):
        a = np.frombuffer(base64.b64decode(d["arrays"]["W1"]["data"]), dtype="<f8").copy()
        a[0] = bad
        d["arrays"]["W1"]["data"] = base64.b64encode(a.tobytes()).decode()
    _load_fails(_write(tmp_path, _mutate(good_doc, poison)), "NaN or infinite")


@pytest.mark.parametrize("key,value", [("depth", "2"), ("depth", 4), ("depth", True), ("depth", 2.0),
                                       ("reg", "l3"), ("reg", 1), ("lam", -1.0), ("lam", 0), ("lam", "0.1"),
                                       ("lam", True), ("loss", "mse"), ("loss", None), ("bias", 1), ("bias", "yes")])
def test_params_with_wrong_types_or_values(good_doc, tmp_path, key, value):
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d["params"].__setitem__(key, value))), "params")


@pytest.mark.parametrize("field,value", [("column", "3"), ("column", 1.0), ("column", True), ("samples", [-1]),
                                         ("samples", ["0"]), ("samples", [True]), ("samples", "0,1"),
                                         ("samples", [0.5]), ("kinds", [1]), ("kinds", "sample"),
                                         ("expression", None), ("theorem", 16), ("orientation", 1.5),
                                         ("orientation", "1")])
def test_provenance_with_wrong_types(good_doc, tmp_path, field, value):
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d["provenance"][0].__setitem__(field, value))),
                "provenance")


@pytest.mark.parametrize("prov", ["records", None, {}, "LEN+1", "LEN-1", [1]])
def test_provenance_container_errors(good_doc, tmp_path, prov):
    def setp(d):
        if prov == "LEN+1":
            d["provenance"].append(dict(d["provenance"][0]))
        elif prov == "LEN-1":
            d["provenance"].pop()
        else:
            d["provenance"] = prov
    _load_fails(_write(tmp_path, _mutate(good_doc, setp)), "provenance")


@pytest.mark.parametrize("info", [[], "x", {"a": [1, 2]}, {"a": {"b": 1}}, {"a": None}])
def test_info_with_wrong_types(good_doc, tmp_path, info):
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d.__setitem__("info", info))), "info")


class _Evil:
    def __init__(self, sentinel):
        self.sentinel = sentinel

    def __reduce__(self):
        return (os.mkdir, (self.sentinel,))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_pickle_renamed_to_json_is_never_unpickled(tmp_path, protocol):
    sentinel = str(tmp_path / "pwned")
    payload = pickle.dumps(_Evil(sentinel), protocol=protocol)
    pickle.loads(payload)  # the payload is live: unpickling it has the side effect ...
    assert os.path.isdir(sentinel)
    os.rmdir(sentinel)
    p = tmp_path / "model.json"
    p.write_bytes(payload)
    _load_fails(p, "not valid JSON")
    assert not os.path.exists(sentinel)  # ... which loading never triggers


def test_pickled_network_renamed_to_json(nets, tmp_path):
    p = tmp_path / "net.json"
    p.write_bytes(pickle.dumps(nets["depth2-l1-bias"][2]))
    _load_fails(p, "not valid JSON")


@pytest.mark.parametrize("depth", [10_000, 200_000])
def test_huge_nested_json(good_doc, tmp_path, depth):
    _load_fails(_write(tmp_path, "[" * depth + "]" * depth), "JSON|network")
    # nested inside an otherwise valid document
    text = json.dumps(good_doc)
    nested = text.replace('"info": {', '"info": {"deep": ' + "[" * depth + "]" * depth + ", ", 1)
    assert nested != text
    _load_fails(_write(tmp_path, nested), "JSON|info")


def test_moderately_nested_values_are_rejected_by_schema(good_doc, tmp_path):
    deep = json.loads("[" * 50 + "1" + "]" * 50)
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d["info"].__setitem__("x", deep))), "info")
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d["provenance"][0].__setitem__("samples", [deep]))),
                "provenance")


def test_huge_integer_literal(good_doc, tmp_path):
    text = json.dumps(good_doc).replace('"version": 2', '"version": 2' + "0" * 20_000)
    _load_fails(_write(tmp_path, text), "not valid JSON.*digits")


def test_missing_file_and_directory(tmp_path):
    _load_fails(tmp_path / "nope.json", "does not exist")
    _load_fails(tmp_path, "is a directory")


@pytest.mark.parametrize("key,value,match", [
    ("duality_gap", "x", "info.duality_gap"),
    ("n_columns", "x", "info.n_columns"),
    ("exact", 1, "info.exact"),
    ("n_train", 10**12, "n_train"),
    ("n_train", 0, "n_train"),
    ("n_iter", -3, "info.n_iter"),
])
def test_tampered_info_is_rejected(good_doc, tmp_path, key, value, match):
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d["info"].__setitem__(key, value))), match)


def test_info_free_form_and_missing_certificate_load(good_doc, tmp_path):
    net = wn.load(_write(tmp_path, _mutate(good_doc, lambda d: d.update(info={"note": "mine"}, certificate=None))))
    assert np.isnan(net.duality_gap) and not net.exact
    assert "WedgeNetwork" in net.summary()  # no KeyError for a certificate-free network


def test_params_inconsistent_with_arrays_are_rejected(good_doc, tmp_path):
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d["params"].__setitem__("loss", "softmax"))), "W2")
    _load_fails(_write(tmp_path, _mutate(good_doc, lambda d: d["params"].__setitem__("depth", 3))), "outer_sign")


@pytest.mark.parametrize("bad", [None, 3, ["a.json"]])
def test_save_and_load_take_file_names(nets, bad, tmp_path):
    with pytest.raises(ValueError, match="path"):
        wn.load(bad)
    with pytest.raises(ValueError, match="path"):
        nets["depth2-l1-bias"][2].save(bad)
    _load_fails(tmp_path, "directory")


def test_objective_checks_y_against_the_outputs(nets):
    X, y, net = nets["depth2-l1-bias"]
    with pytest.raises(ValueError, match="y must have shape"):
        net.objective(X, np.c_[y, y])
    with pytest.raises(ValueError, match="y must have shape"):
        net.objective(X, y[:-1])
    assert net.objective(X, y[:, None]) == pytest.approx(net.objective(X, y))


def test_summary_prune_and_torch_inputs(nets):
    torch = pytest.importorskip("torch")
    X, y, net = nets["depth2-l1-bias"]
    with pytest.raises(ValueError, match="max_rows"):
        net.summary(max_rows=-1)
    for bad in (10.0, -1.0, float("nan"), "a"):
        with pytest.raises(ValueError, match="rtol"):
            net.prune(X, rtol=bad)
    t = torch.tensor(X, requires_grad=True)
    np.testing.assert_allclose(net.predict(t), net.predict(X), rtol=0, atol=0)


def test_softmax_objective_checks_labels(nets):
    X, y, net = nets["softmax"]
    c = net.W2.shape[1]
    for bad in (np.r_[y[:-1], -1], np.r_[y[:-1], c], np.r_[y[:-1], 0.5]):
        with pytest.raises(ValueError, match="classes"):
            net.objective(X, bad)
    with pytest.raises(ValueError, match="rows"):
        net.objective(X, y[:-1])
