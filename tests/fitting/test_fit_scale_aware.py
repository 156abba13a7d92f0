"""lam_max, lam_ratio, the default path, standardization with provenance, labels, sampling verdicts."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import wedgenet as wn
from wedgenet.fitting import SamplingWarning


def _reg_data(n=30, d=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return X, np.sin(2 * X[:, 0]) + X[:, -1] ** 2


@pytest.mark.parametrize("loss", ["squared", "logistic", "squared_hinge", "softmax"])
def test_lam_max_is_the_threshold_of_the_empty_network(loss):
    X, y = _reg_data()
    if loss in ("logistic", "squared_hinge"):
        y = (y > np.median(y)).astype(int)
    elif loss == "softmax":
        y = np.digitize(y, np.quantile(y, [0.33, 0.66]))
    lm = wn.lam_max(X, y, loss=loss)
    assert lm.scope == "all_candidates" and lm.value > 0 and float(lm) == lm.value
    with pytest.warns(UserWarning, match="empty"):
        at = wn.fit(X, y, lam=lm.value * 1.0001, loss=loss)
    assert at.n_neurons == 0
    below = wn.fit(X, y, lam=lm.value * 0.9, loss=loss)
    assert below.n_neurons >= 1
    # lam_ratio is lam / lam_max
    r = wn.fit(X, y, lam_ratio=0.9, loss=loss)
    assert r.lam == pytest.approx(0.9 * lm.value, rel=1e-12)
    assert r.certificate.primal == pytest.approx(below.certificate.primal, rel=1e-9)


def test_lam_and_lam_ratio_are_exclusive_and_validated():
    X, y = _reg_data(10)
    with pytest.raises(ValueError, match="not both"):
        wn.fit(X, y, lam=1.0, lam_ratio=0.1)
    for bad in (0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="lam_ratio"):
            wn.fit(X, y, lam_ratio=bad)
    with pytest.raises(ValueError, match="lam"):
        wn.fit(X, y, lam=5e-324)
    net = wn.fit(X, y)  # default: lam_ratio 0.05
    assert net.info["lam_ratio"] == pytest.approx(0.05)


def test_fit_path_default_grid_is_geometric_from_lam_max():
    X, y = _reg_data(20)
    nets = wn.fit_path(X, y, n_lams=4, lam_min_ratio=0.05)
    lm = wn.lam_max(X, y).value
    np.testing.assert_allclose([n.lam for n in nets], lm * np.geomspace(1, 0.05, 4), rtol=1e-12)
    assert nets[0].n_neurons == 0 and nets[-1].n_neurons > 0
    assert all(n.certificate.closed() for n in nets)
    # the same keywords as fit
    one = wn.fit(X, y, lam=nets[2].lam)
    assert one.certificate.primal == pytest.approx(nets[2].certificate.primal, rel=1e-8)


def test_standardize_keeps_neurons_samples_and_predictions():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(25, 2)) * [1e3, 1e-2] + [5e3, -1.0]
    y = 300 + 50 * np.tanh(X[:, 0] / 1e3) + 20 * X[:, 1] / 1e-2
    net = wn.fit(X, y, lam_ratio=0.2, standardize=True)
    st_ = net.standardization
    Xs = (X - st_.x_mean) / st_.x_scale
    ys = (y - st_.y_mean) / st_.y_scale
    ref = wn.fit(Xs, ys, lam=net.lam)
    assert [r["samples"] for r in ref.provenance] == [r["samples"] for r in net.provenance]
    np.testing.assert_allclose(net.predict(X), ref.predict(Xs) * st_.y_scale + st_.y_mean, rtol=1e-9, atol=1e-9)
    # the objective is evaluated in the standardized units the certificate refers to
    assert net.objective(X, y) == pytest.approx(ref.objective(Xs, ys), rel=1e-9)
    assert net.objective(X, y) == pytest.approx(net.certificate.primal, rel=1e-7)
    # breaklines pass through the defining samples in the user's units
    for j, rec in enumerate(net.provenance):
        pts = X[rec["samples"]]
        assert np.allclose(pts @ net.W1[j] + net.b1[j], 0, atol=1e-8 * np.abs(net.W1[j]) @ np.abs(pts).max(0))


@settings(max_examples=6, deadline=None)
@given(scale=st.floats(-12, 12), shift=st.floats(-3, 3))
def test_standardized_fit_is_invariant_to_the_units(scale, shift):
    X, y = _reg_data(16)
    a = wn.fit(X, y, lam_ratio=0.3, standardize=True)
    s = 10.0**scale
    b = wn.fit(X * s + shift * s, y * s, lam_ratio=0.3, standardize=True)
    assert [r["samples"] for r in a.provenance] == [r["samples"] for r in b.provenance]
    np.testing.assert_allclose(b.predict(X * s + shift * s), a.predict(X) * s, rtol=1e-6, atol=1e-6 * s)


def test_labels_as_users_have_them(tmp_path):
    X, y = _reg_data(30)
    lab = np.where(y > np.median(y), "high", "low")
    for loss in ("logistic", "hinge", "squared_hinge"):
        net = wn.fit(X, lab, lam_ratio=0.1, loss=loss)
        assert net.classes == ("high", "low")
        assert set(net.predict(X)) <= {"high", "low"}
        assert np.mean(net.predict(X) == lab) > 0.8
    for labels in ((y > 0).astype(int), (y > 0), np.where(y > 0, 3.5, -2.0)):
        net = wn.fit(X, labels, lam_ratio=0.1, loss="logistic")
        assert np.array_equal(np.unique(net.predict(X)), np.unique(labels))
    three = np.array(["a", "b", "c"])[np.digitize(y, np.quantile(y, [0.33, 0.66]))]
    net = wn.fit(X, three, lam_ratio=0.1, loss="softmax")
    back = wn.load(net.save(tmp_path / "m.json"))
    assert np.array_equal(back.predict(X), net.predict(X))
    np.testing.assert_allclose(back.predict_proba(X).sum(axis=1), 1.0)


def test_huge_class_labels_are_relabelled_not_allocated():
    X, _ = _reg_data(12)
    y = [0] * 6 + [1] * 5 + [3_000_000]
    net = wn.fit(X, y, lam_ratio=0.5, loss="softmax", bias=False)
    assert net.W2.shape[1] == 3 and net.classes == (0, 1, 3_000_000)
    with pytest.raises(ValueError) as e:
        wn.fit(X, [0] * 6 + [2] * 6, lam_ratio=0.5, loss="softmax", bias=True)
    assert len(str(e.value)) < 400


def _sampled_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4))
    y = X[:, 0] * X[:, 1] - X[:, 2]
    return X, y, wn.fit(X, y, lam_ratio=0.05, max_columns=300, random_state=0)


def test_a_sampled_fit_is_never_called_globally_optimal(tmp_path):
    X, y, net = _sampled_fit()
    assert net.certificate.scope == "sampled" and net.certificate.closed()
    for text in (net.summary(), wn.load(net.save(tmp_path / "s.json")).summary()):
        assert "globally optimal" not in text and "sampled dictionary only" in text
    # an old (format 1) file of a sampled fit, which stored no scope, loads as sampled
    doc = json.loads((tmp_path / "s.json").read_text())
    doc["version"] = 1
    for k in ("certificate", "classes", "feature_names", "standardization"):
        doc.pop(k)
    (tmp_path / "old.json").write_text(json.dumps(doc))
    old = wn.load(tmp_path / "old.json")
    assert old.certificate.scope == "sampled" and "globally optimal" not in old.summary()
    # certifying over every candidate changes the scope, and the verdict says what the gap is
    full = wn.fit(X, y, lam_ratio=0.05, max_columns=300, random_state=0, certify_all=True)
    assert full.certificate.scope == "all_candidates"
    assert ("globally optimal" in full.summary()) == full.certificate.closed()


def test_too_many_candidates_are_sampled_with_a_warning():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 12))
    y = X[:, 0] - X[:, 1] ** 2
    with pytest.warns(SamplingWarning, match="sampling"):
        net = wn.fit(X, y, lam_ratio=0.1, time_limit=5)
    assert net.certificate.scope == "sampled"
    assert "sampling_reason" in net.info
    with warnings.catch_warnings():
        warnings.simplefilter("error", SamplingWarning)
        small = wn.fit(X[:, :2], y, lam_ratio=0.1)  # every candidate fits the default time limit
    assert small.certificate.scope == "all_candidates"


def test_a_bound_is_recorded_in_the_certificate_and_never_exceeds_the_objective(tmp_path):
    X, y, net = _sampled_fit()
    b = net.bound(X, y, time_limit=20)
    assert b.lower_bound <= net.objective(X, y) * (1 + 1e-9)
    cert = net.certificate
    assert cert.lower_bound == pytest.approx(b.lower_bound)
    assert "proven within" in cert.verdict() and "no bound" not in cert.verdict()
    back = wn.load(net.save(tmp_path / "b.json"))
    assert back.certificate.lower_bound == pytest.approx(b.lower_bound)


def test_column_generation_improves_on_the_sample_and_keeps_provenance():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(40, 3))
    y = np.maximum(X @ [1.0, -2.0, 0.5] + 0.3, 0) - np.maximum(X @ [0.5, 1.0, 1.0] - 0.2, 0)
    lam = 0.05 * wn.lam_max(X, y).value
    sampled = wn.fit(X, y, lam=lam, max_columns=60, random_state=0)
    grown = wn.fit(X, y, lam=lam, max_columns=60, random_state=0, column_generation=True, time_limit=20)
    exact = wn.fit(X, y, lam=lam)  # every candidate: the global optimum
    assert grown.objective(X, y) <= sampled.objective(X, y) + 1e-9
    assert exact.objective(X, y) <= grown.objective(X, y) * (1 + 1e-9)
    lb = grown.certificate.lower_bound
    assert lb is not None and lb <= exact.objective(X, y) * (1 + 1e-7)
    assert grown.certificate.scope == "sampled"
    for j, rec in enumerate(grown.provenance):  # every neuron passes through its defining samples
        pts = X[rec["samples"]]
        assert np.allclose(pts @ grown.W1[j] + grown.b1[j], 0, atol=1e-7 * (1 + np.abs(grown.W1[j]).sum()))


def test_feature_names_flow_into_breaklines_and_plots(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2)) * [1.0, 100.0]
    y = X[:, 0] - X[:, 1] / 100
    net = wn.fit(X, y, standardize=True, feature_names=["bmi", "bp"])
    lines = net.breaklines()
    assert len(lines) == net.n_neurons and all(line.endswith("= 0") for line in lines)
    assert any("bmi" in line for line in lines)
    from wedgenet.plot import plot_decision_regions

    fig = plot_decision_regions(net, X, y)
    assert fig.axes[0].get_xlabel() == "bmi" and fig.axes[0].get_ylabel() == "bp"
    back = wn.load(net.save(tmp_path / "n.json"))
    assert back.feature_names == ("bmi", "bp") and back.breaklines() == lines


def test_zero_features_are_dropped_exactly_and_restored_in_the_network():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 3))
    Xz = np.column_stack([np.zeros(30), X[:, 0], np.full(30, 7.0), X[:, 1:]])  # a zero and a constant feature
    y = np.maximum(X[:, 0] - X[:, 1], 0) + X[:, 2]
    a = wn.fit(X, y, lam_ratio=0.1, standardize=True)
    b = wn.fit(Xz, y, lam_ratio=0.1, standardize=True)
    assert b.W1.shape == (b.n_neurons, 5) and np.all(b.W1[:, [0, 2]] == 0)
    assert b.certificate.primal == pytest.approx(a.certificate.primal, rel=1e-9)
    np.testing.assert_allclose(b.predict(Xz), a.predict(X), rtol=1e-9, atol=1e-9)
    assert b.info["dropped_zero_features"] == 2
    # basis vectors are renumbered to the user's feature positions (1-based): e2 of X is e4 of Xz
    ren = {"e1": "e2", "e2": "e4", "e3": "e5"}
    import re

    for ra, rb in zip(a.provenance, b.provenance, strict=True):
        assert re.sub(r"\be(\d)\b", lambda m: ren[m[0]], ra["expression"]) == rb["expression"]


def test_working_set_stops_at_its_deadline_with_a_valid_certificate():
    """A deadline already passed: one outer iteration, then the last certified state (a valid bracket
    of the optimum), with a warning that names the time limit."""
    import time

    from sklearn.exceptions import ConvergenceWarning

    from wedgenet.solvers import LassoProblem, WorkingSet, get_loss

    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    D = wn.dictionary(X, bias=True)
    problem = LassoProblem(D, y, 0.01, get_loss("squared"), D.fit_intercept)
    full = WorkingSet(initial=2, grow=2).solve(problem, tol=1e-9)
    assert full.converged and full.n_iter > 1
    with pytest.warns(ConvergenceWarning, match="time limit"):
        cut = WorkingSet(initial=2, grow=2).solve(problem, tol=1e-9, deadline=time.perf_counter())
    assert cut.n_iter == 1 and not cut.converged
    opt = full.certificate.primal
    assert cut.certificate.primal >= opt * (1 - 1e-9)
    assert cut.certificate.dual <= opt * (1 + 1e-9)


@pytest.mark.parametrize("measured,sampled", [(1e6, True), (0.0, False)])
def test_the_pass_time_measured_on_the_first_chunk_decides_sampling(monkeypatch, measured, sampled):
    """The plan's constant-rate estimate says every candidate fits; the measured pass time decides."""
    from wedgenet.dictionaries.streaming import StreamedDictionary

    monkeypatch.setattr(StreamedDictionary, "pass_seconds", lambda self, theta: measured)
    monkeypatch.setattr(wn.fitting, "AUTO_COLUMNS", 100)  # fewer than the candidates, so a sample is one
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 2))
    y = X[:, 0] - X[:, 1] ** 2
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        net = wn.fit(X, y, lam_ratio=0.1, dictionary_mode="streamed", time_limit=100, column_generation=False,
                     random_state=0)
    msgs = [str(w.message) for w in rec if issubclass(w.category, SamplingWarning)]
    if sampled:
        assert len(msgs) == 1 and "measured on its first chunk at 1e+06 s" in msgs[0]
        assert net.certificate.scope == "sampled"
        assert "measured" in net.info["sampling_reason"]
    else:
        assert msgs == [] and net.certificate.scope == "all_candidates"


def test_pass_seconds_extrapolates_the_first_chunk():
    from wedgenet.dictionaries.streaming import streamed_dictionary

    rng = np.random.default_rng(6)
    X = rng.normal(size=(30, 2))
    D = streamed_dictionary(X, bias=True, chunk_size=50)
    theta = rng.normal(size=30)
    sec = D.pass_seconds(theta)
    assert np.isfinite(sec) and sec > 0
    assert D.n_passes == 0  # a measurement, not a pass
