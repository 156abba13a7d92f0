"""Hostile input for polish (issue 17): the same function on rescaled data polishes the same way.

A model ``(W, b), (a, c)`` on ``X`` computes the same function as ``(W / s, b), (a, c)`` on ``X * s``
(overall scale) or ``(W / c, b), (a, c)`` on ``X * c`` (one scale per feature).  Polishing picks the
same samples and the same hyperplanes, whatever the scale in 1e-150..1e150; with the refit, the
model ``(W / g, b g), (a / g, c)`` (``g = sqrt(s)``) on ``X * s`` with ``lam * s`` is the same problem
(same function, same objective), so the objective and the predictions agree too.  Before the fix,
``X * 1e9`` with d = 20 gave zero rows.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wedgenet

N, D, M = 45, 20, 5


def _problem(seed: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D))
    W = rng.standard_normal((M, D))
    b = rng.standard_normal(M)
    a = rng.standard_normal((1, M))
    y = X[:, 0] - X[:, 1]
    return X, W, b, a, y


def _unit_aug(W, b, c):
    """Rows ``(w * c, b)`` normalised: the hyperplane in the unscaled units."""
    A = np.c_[W * c, b]
    mx = np.abs(A).max(axis=1, keepdims=True)
    A = A / mx
    return A / np.linalg.norm(A, axis=1, keepdims=True)


exponents = st.floats(min_value=-150, max_value=150, allow_nan=False)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(e=exponents, seed=st.integers(0, 3), keep=st.sampled_from(["objective", "polished"]))
def test_overall_scale_same_hyperplanes_without_refit(e, seed, keep):
    X, W, b, a, _ = _problem(seed)
    s = 10.0**e
    _, r0 = wedgenet.polish((W, b), X, refit=False, keep=keep)
    _, r1 = wedgenet.polish((W / s, b), X * s, refit=False, keep=keep)
    (W0, b0), (W1, b1) = r0.weights[0], r1.weights[0]
    assert np.all(np.abs(W1).max(axis=1) > 0), "a polished neuron came back as a zero row"
    np.testing.assert_array_equal(np.sort(r0.layers[0].samples, axis=1), np.sort(r1.layers[0].samples, axis=1))
    np.testing.assert_allclose(_unit_aug(W1, b1, s), _unit_aug(W0, b0, 1.0), atol=1e-9)
    np.testing.assert_allclose(r1.layers[0].angle, r0.layers[0].angle, atol=1e-6)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(es=st.lists(exponents, min_size=D, max_size=D), seed=st.integers(0, 3))
def test_per_feature_scales_same_hyperplanes(es, seed):
    X, W, b, a, _ = _problem(seed)
    c = 10.0 ** np.array(es)
    _, r0 = wedgenet.polish((W, b), X, refit=False, keep="polished")
    _, r1 = wedgenet.polish((W / c, b), X * c, refit=False, keep="polished")
    np.testing.assert_array_equal(np.sort(r0.layers[0].samples, axis=1), np.sort(r1.layers[0].samples, axis=1))
    (W0, b0), (W1, b1) = r0.weights[0], r1.weights[0]
    # the polished hyperplanes pass through their samples in the scaled units
    for j, smp in enumerate(r1.layers[0].samples):
        z = (X[smp] * c) @ W1[j] + b1[j]
        scale = np.abs((X[smp] * c) * W1[j]).sum(axis=1) + abs(b1[j])
        assert np.all(np.abs(z) <= 1e-9 * scale)
    np.testing.assert_allclose(_unit_aug(W1, b1, c), _unit_aug(W0, b0, 1.0), atol=1e-8)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(e=exponents, seed=st.integers(0, 2))
def test_overall_scale_same_refit_objective_and_predictions(e, seed):
    X, W, b, a, y = _problem(seed)
    s = 10.0**e
    lam = 0.5
    out0, r0 = wedgenet.polish([(W, b), (a, np.zeros(1))], X, y, lam=lam)
    g = np.sqrt(s)  # rescaled neurons: the same function and, with lam * s, the same objective
    out1, r1 = wedgenet.polish([(W / g, b * g), (a / g, np.zeros(1))], X * s, y, lam=lam * s)
    assert r1.before["objective"] == pytest.approx(r0.before["objective"], rel=1e-9)
    assert r1.after["objective"] == pytest.approx(r0.after["objective"], rel=1e-5)
    assert r1.sample_defined == r0.sample_defined
    f0 = np.maximum(X @ out0[0][0].T + out0[0][1], 0) @ out0[1][0].T + out0[1][1]
    f1 = np.maximum((X * s) @ out1[0][0].T + out1[0][1], 0) @ out1[1][0].T + out1[1][1]
    np.testing.assert_allclose(f1, f0, rtol=1e-4, atol=1e-4 * np.abs(f0).max())


def test_issue_reproducer_x_times_1e9_d20():
    """The case of issue 17: d = 20, X * 1e9, a model computing the same function."""
    X, W, b, a, y = _problem(0)
    for s in (1e9, 1e-9, 1e17):
        _, rep = wedgenet.polish([(W / s, b), (a, np.zeros(1))], X * s, y, lam=0.5 * s)
        W1 = rep.weights[0][0]
        active = rep.layers[0].active
        assert active.any() and np.all(np.abs(W1[active]).max(axis=1) > 0)
        assert rep.after["objective"] <= 1.005 * rep.before["objective"]


@pytest.mark.parametrize("s", [2.0**-180, 2.0**-62, 2.0**16, 2.0**148, 1e-120, 1e9])
def test_rank_deficient_with_bias_same_hyperplanes_at_any_scale(s):
    """Fewer samples than dimensions, with a bias (fuzz polish:142/460/817): the polished neuron is
    fixed on the samples only, and the free part is the one of least ``||w||``, the bias excluded.
    Projecting ``(w, b)`` as a whole (the old rule) weighed ``b`` against ``w``, which depends on the
    units of ``X``: scaling ``X`` by 2^16 turned the polished hyperplane around."""
    rng = np.random.default_rng(7)
    X = rng.standard_normal((3, 6)) * 10.0 ** rng.uniform(-3, 3, size=6)
    W, b = rng.standard_normal((4, 6)), rng.standard_normal(4)
    _, r0 = wedgenet.polish((W, b), X, refit=False, keep="polished")
    _, r1 = wedgenet.polish((W / s, b), X * s, refit=False, keep="polished")
    assert r0.layers[0].rank == 3
    (W0, b0), (W1, b1) = r0.weights[0], r1.weights[0]
    np.testing.assert_allclose(_unit_aug(W1, b1, s), _unit_aug(W0, b0, 1.0), atol=1e-9)
    # least ||w||: w is orthogonal to every direction v with X v constant (the null space of the
    # centred samples), i.e. w lies in the row space of X - mean(X)
    Xc = X - X.mean(axis=0)
    _, sv, Vt = np.linalg.svd(Xc)
    null = Vt[np.sum(sv > 1e-12 * sv[0]):]
    assert np.abs(W0 @ null.T).max() <= 1e-10 * np.abs(W0).max()
    # and it passes through its defining samples
    for j, smp in enumerate(r0.layers[0].samples):
        z = X[smp] @ W0[j] + b0[j]
        assert np.all(np.abs(z) <= 1e-9 * (np.abs(X[smp] * W0[j]).sum(axis=1) + abs(b0[j])))


def _nearly_equal_rows(seed=0, d=3, eps=1e-12):
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=d)
    return np.array([x0, x0 + eps * rng.normal(size=d), x0 + eps * rng.normal(size=d)]), rng


@pytest.mark.parametrize("keep", ["polished", "objective"])
@pytest.mark.parametrize("bias", [False, True])
def test_samples_equal_up_to_1e_12_polish_at_their_numerical_rank(keep, bias):
    """Samples that differ by 1e-12 have full rank to numpy's tolerance (~1e-15) but no two pass
    the selection's 1e-9 independence test: polish raised RuntimeError("could not find 2
    independent samples").  The rank is now the number of samples that pass the test (1 here)."""
    X, rng = _nearly_equal_rows()
    W, b = rng.normal(size=(2, 3)), rng.normal(size=2)
    out, rep = wedgenet.polish([(W, b), (rng.normal(size=(1, 2)), np.zeros(1))], X, rng.normal(size=3), lam=0.01,
                               keep=keep, bias=bias)
    assert rep.layers[0].rank == 1
    assert np.all(np.isfinite(out[0][0])) and np.all(np.isfinite(out[0][1]))
    assert rep.after["objective"] <= rep.before["objective"] * (1 + 1e-9)


def test_explicit_rank_above_the_numerical_rank_is_a_short_value_error():
    X, rng = _nearly_equal_rows()
    W = rng.normal(size=(2, 3))
    with pytest.raises(ValueError, match=r"pass rank=2 or lower") as ei:
        wedgenet.polish(W, X, refit=False, keep="polished", rank=3, bias=False)
    assert len(str(ei.value)) < 300
    _, rep = wedgenet.polish(W, X, refit=False, keep="polished", rank=2, bias=False)  # the advice works
    assert rep.layers[0].rank == 2
