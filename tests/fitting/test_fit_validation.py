"""Bad input to fit / fit_path: a ValueError that names the offending argument, before any work."""

from __future__ import annotations

import numpy as np
import pytest

import wedgenet as wn

RNG = np.random.default_rng(0)
X = RNG.standard_normal((8, 2))
Y = RNG.standard_normal(8)
LAB = np.array([1.0, -1.0] * 4)


def _with(a, idx, v):
    a = np.array(a, dtype=float)
    a[idx] = v
    return a


BAD_FIT = [
    # (id, X, y, kwargs, regex naming the argument)
    ("X-nan", _with(X, (0, 0), np.nan), Y, {}, r"\bX\b.*NaN"),
    ("X-inf", _with(X, (3, 1), np.inf), Y, {}, r"\bX\b.*infinite"),
    ("X-neginf", _with(X, (3, 1), -np.inf), Y, {}, r"\bX\b"),
    ("y-nan", X, _with(Y, 2, np.nan), {}, r"\by\b.*NaN"),
    ("y-inf", X, _with(Y, 2, np.inf), {}, r"\by\b"),
    ("y-short", X, Y[:-1], {}, r"\by\b"),
    ("y-long", X, np.r_[Y, 0.0], {}, r"\by\b"),
    ("y-3d", X, Y[:, None, None], {}, r"\by\b"),
    ("y-2d-wrong-rows", X, np.zeros((7, 2)), {}, r"\by\b"),
    ("y-strings", X, np.array(["a"] * 8), {}, r"\by\b"),
    ("X-empty", np.zeros((0, 2)), np.zeros(0), {}, r"\bX\b.*empty"),
    ("X-no-features", np.zeros((8, 0)), Y, {}, r"\bX\b"),
    ("X-1d", X[:, 0], Y, {}, r"\bX\b.*2-D"),
    ("X-3d", X[:, :, None], Y, {}, r"\bX\b.*2-D"),
    ("X-strings", np.array([["a", "b"]] * 8), Y, {}, r"\bX\b"),
    ("X-ragged", [[1.0, 2.0], [3.0]] + [[0.0, 0.0]] * 6, Y, {}, r"\bX\b"),
    ("lam-zero", X, Y, {"lam": 0.0}, r"\blam\b.*> 0"),
    ("lam-negative", X, Y, {"lam": -1.0}, r"\blam\b"),
    ("lam-nan", X, Y, {"lam": float("nan")}, r"\blam\b.*finite"),
    ("lam-inf", X, Y, {"lam": float("inf")}, r"\blam\b.*finite"),
    ("lam-string", X, Y, {"lam": "0.1"}, r"\blam\b"),
    ("lam-bool", X, Y, {"lam": True}, r"\blam\b"),
    ("lam-array", X, Y, {"lam": np.array([0.1, 0.2])}, r"\blam\b"),
    ("loss-unknown", X, Y, {"loss": "mse"}, r"\bloss\b"),
    ("loss-none", X, Y, {"loss": None}, r"\bloss\b"),
    ("reg-unknown", X, Y, {"reg": "l3"}, r"\breg\b"),
    ("reg-upper", X, Y, {"reg": "L1"}, r"\breg\b"),
    ("solver-unknown", X, Y, {"solver": "adam"}, r"\bsolver\b"),
    ("solver-none", X, Y, {"solver": None}, r"\bsolver\b"),
    ("depth", X, Y, {"depth": 4}, r"\bdepth\b"),
    ("bias", X, Y, {"bias": "yes"}, r"\bbias\b"),
    ("tol", X, Y, {"tol": 0.0}, r"\btol\b"),
    ("max_iter", X, Y, {"max_iter": 0}, r"\bmax_iter\b"),
    ("max_iter-float", X, Y, {"max_iter": 10.5}, r"\bmax_iter\b"),
    ("logistic-three-labels", X, np.arange(8) % 3, {"loss": "logistic"}, r"\by\b.*exactly two distinct labels"),
    ("logistic-012", X, np.arange(8) % 3 - 1.0, {"loss": "logistic"}, r"\by\b.*exactly two distinct labels"),
    ("logistic-real", X, Y, {"loss": "logistic"}, r"\by\b"),
    ("logistic-2d", X, np.c_[LAB, LAB], {"loss": "logistic"}, r"\by\b"),
    ("hinge-real", X, Y, {"loss": "hinge"}, r"\by\b.*exactly two distinct labels"),
    ("softmax-one-class", X, np.zeros(8, dtype=int), {"loss": "softmax"}, r"\by\b.*two classes"),
    ("softmax-short", X, np.arange(7) % 3, {"loss": "softmax"}, r"\by\b"),
    ("softmax-nan", X, _with(np.arange(8) % 3, 0, np.nan), {"loss": "softmax"}, r"\by\b"),
    ("softmax-not-onehot", X, np.full((8, 3), 1 / 3), {"loss": "softmax"}, r"\by\b.*one-hot"),
    ("sklearn-logistic", X, LAB, {"loss": "logistic", "solver": "sklearn"}, r"\bsolver\b"),
    ("X-complex", X + 1j, Y, {}, r"\bX\b.*real"),
    ("X-huge", X * 1e160, Y, {}, r"\bX\b.*magnitude.*rescale"),
    ("y-huge", X, Y * 1e160, {}, r"\by\b.*magnitude.*rescale"),
    ("reg-array", X, Y, {"reg": np.array(["l1", "l2"])}, r"\breg\b"),
    ("solver-list", X, Y, {"solver": ["auto"]}, r"\bsolver\b"),
    ("depth-float", X, Y, {"depth": 2.0}, r"\bdepth\b"),
    ("memory_budget-streamed", X, Y, {"memory_budget": -5, "dictionary_mode": "streamed"}, r"\bmemory_budget\b"),
    ("certify_all-string", X, Y, {"certify_all": "no"}, r"\bcertify_all\b"),
    ("verbose-string", X, Y, {"verbose": "no"}, r"\bverbose\b"),
    ("logistic-one-label", X, np.ones(8), {"loss": "logistic"}, r"\by\b.*two distinct labels"),
    ("softmax-onehot-one-class", X, np.ones((8, 1)), {"loss": "softmax"}, r"\by\b.*two classes"),
    ("softmax-missing-class", X, np.arange(8) % 2 * 2, {"loss": "softmax"}, r"\by\b.*class\(es\).*\[1\]"),
]


@pytest.mark.parametrize("name,Xb,yb,kw,match", BAD_FIT, ids=[b[0] for b in BAD_FIT])
def test_fit_rejects_bad_input(name, Xb, yb, kw, match):
    kw = {"lam": 0.1} | kw
    with pytest.raises(ValueError, match=match):
        wn.fit(Xb, yb, **kw)


# fit_path has no lam= or solver= argument; its tol/max_iter are tested below
PATH_BAD = [b for b in BAD_FIT if not ({"lam", "solver", "tol", "max_iter", "certify_all"} & set(b[3]))]


@pytest.mark.parametrize("name,Xb,yb,kw,match", PATH_BAD, ids=[b[0] for b in PATH_BAD])
def test_fit_path_rejects_the_same_bad_input(name, Xb, yb, kw, match):
    with pytest.raises(ValueError, match=match):
        wn.fit_path(Xb, yb, [0.3, 0.1], **kw)


@pytest.mark.parametrize("lams,match", [
    ([0.1, 0.0], r"\blams\b.*> 0"),
    ([0.0], r"\blams\b"),
    ([0.3, -0.1], r"\blams\b"),
    ([0.1, float("nan")], r"\blams\b.*NaN"),
    ([0.1, float("inf")], r"\blams\b"),
    ([], r"\blams\b.*empty"),
    ([[0.1, 0.2]], r"\blams\b"),
    (0.1, r"\blams\b"),
    (["a"], r"\blams\b"),
    ([True], r"\blams\b"),
])
def test_fit_path_rejects_bad_lams(lams, match):
    with pytest.raises(ValueError, match=match):
        wn.fit_path(X, Y, lams)


def test_fit_path_rejects_bad_tol_and_max_iter():
    with pytest.raises(ValueError, match=r"\btol\b"):
        wn.fit_path(X, Y, [0.1], tol=-1.0)
    with pytest.raises(ValueError, match=r"\bmax_iter\b"):
        wn.fit_path(X, Y, [0.1], max_iter=0)


def test_valid_edge_inputs_are_accepted():
    # lists, integer arrays, (n, 1) targets, integer labels, and a one-hot softmax matrix
    net = wn.fit(X.tolist(), Y.tolist(), lam=1)
    assert np.isfinite(net.info["primal"])
    assert wn.fit(np.round(X * 3).astype(int), Y, lam=0.1).n_features == 2
    col = wn.fit(X, Y[:, None], lam=0.1)
    assert col.info["primal"] == pytest.approx(wn.fit(X, Y, lam=0.1).info["primal"], rel=1e-6)
    lab = np.arange(8) % 3
    a = wn.fit(X, lab, lam=0.3, loss="softmax")
    b = wn.fit(X, lab.astype(float), lam=0.3, loss="softmax")
    assert a.info["primal"] == pytest.approx(b.info["primal"], rel=1e-7)


def test_one_label_logistic_without_intercept_still_fits():
    net = wn.fit(X, np.ones(8), lam=0.1, loss="logistic", bias=False)  # the penalty keeps it finite
    assert net.relative_gap <= 1e-6 and np.all(net.predict(X) > 0)


def test_full_solves_prune_interior_point_noise():
    # constant y: the intercept alone is optimal (objective 0); cvxpy's interior point leaves
    # ~1e-12 coefficients that used to count as 171 neurons with a relative gap of 1
    for loss, y in (("squared", np.ones(8)), ("hinge", np.ones(8))):
        net = wn.fit(X, y, lam=0.1, loss=loss, solver="cvxpy")
        assert net.n_neurons == 0 and net.relative_gap == 0.0


def test_tiny_lam_relative_to_lam_max_never_crashes_and_advises_raising_lam():
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    rng = np.random.default_rng(0)
    Xs, ys = rng.standard_normal((10, 2)), rng.standard_normal(10)
    for kw in ({"y": ys * 1e8, "lam": 0.1}, {"y": ys, "lam": 1e-10, "max_iter": 1000}):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            net = wn.fit(Xs, kw.pop("y"), **kw)
        msgs = [str(w.message) for w in rec if issubclass(w.category, ConvergenceWarning)]
        assert np.all(np.isfinite(net.predict(Xs)))
        if net.relative_gap > 1e-6:  # stopped early: the advice is about lam, not max_iter
            assert msgs and "lam / lam_max" in msgs[-1] and "raise max_iter" not in msgs[-1]
        assert net.info["n_iter"] < 1000
