"""The estimators' defaults (standardized, lam_ratio, time limit), labels, feature names, the
``backend`` -> ``pricing`` rename and the cross-validated estimators."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.model_selection import KFold

import wedgenet
from wedgenet.datasets import make_xor
from wedgenet.estimators import (
    DEFAULT_LAM_RATIOS,
    WedgeClassifier,
    WedgeClassifierCV,
    WedgeRegressor,
    WedgeRegressorCV,
    cv_lam_ratio_scores,
)


def _ridge_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    y = np.maximum(X[:, 0] + 0.5 * X[:, 1], 0.0) - 0.3 * X[:, 1] + 0.05 * rng.standard_normal(n)
    return X, y


def test_defaults_are_relative_and_standardized():
    est = WedgeRegressor()
    p = est.get_params()
    assert p["lam"] is None and p["lam_ratio"] == 0.05 and p["standardize"] is True
    assert p["time_limit"] is not None and 0 < p["time_limit"] <= 60
    assert p["pricing"] == "local" and p["backend"] is None


def test_default_fit_is_the_library_fit():
    X, y = _ridge_data()
    reg = WedgeRegressor().fit(X, y)
    net = wedgenet.fit(X, y, lam_ratio=0.05, standardize=True, time_limit=reg.time_limit)
    assert_allclose(reg.predict(X), net.predict(X), rtol=1e-9, atol=1e-9)
    lm = wedgenet.lam_max(X, y, standardize=True)
    assert_allclose(reg.network_.lam, 0.05 * float(lm), rtol=1e-9)
    assert 1 <= reg.n_neurons_ < len(y)  # neither empty nor interpolating


@pytest.mark.parametrize("sx, sy", [(1e-6, 1.0), (1e4, 1e-3), (1.0, 1e5)])
def test_default_fit_is_invariant_to_the_units(sx, sy):
    """Standardized with a relative strength: rescaling X and y rescales the predictions only."""
    X, y = _ridge_data()
    base = WedgeRegressor().fit(X, y)
    scaled = WedgeRegressor().fit(X * sx, y * sy)
    assert scaled.n_neurons_ == base.n_neurons_
    assert_allclose(scaled.predict(X * sx), sy * base.predict(X), rtol=1e-6, atol=1e-9 * sy)


def test_lam_takes_precedence_over_lam_ratio():
    X, y = _ridge_data()
    a = WedgeRegressor(lam=0.5, standardize=False).fit(X, y)
    assert a.network_.lam == 0.5
    b = WedgeRegressor(lam_ratio=1.0).fit(X, y)  # lam = lam_max: the empty network
    assert b.n_neurons_ == 0
    assert_allclose(b.predict(X), np.full(len(y), y.mean()), atol=1e-9)


def test_string_and_01_labels_round_trip():
    X, y = make_xor(40, random_state=0)
    for labels in (np.where(y > 0, "yes", "no"), (y > 0).astype(int)):
        clf = WedgeClassifier().fit(X, labels)
        assert_array_equal(clf.classes_, np.unique(labels))
        pred = clf.predict(X)
        assert pred.dtype == np.asarray(labels).dtype
        assert_array_equal(pred, clf.network_.predict(X))  # the network predicts the same labels
        assert clf.score(X, labels) >= 0.9


@pytest.mark.parametrize("labels", [(1, 2), (5, 7, 9), ("b", "a", "c")])
def test_softmax_labels_that_are_not_class_indices(labels):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 2))
    idx = np.digitize(X[:, 0], np.quantile(X[:, 0], np.linspace(0, 1, len(labels) + 1)[1:-1]))
    y = np.asarray(labels)[idx]
    clf = WedgeClassifier(loss="softmax").fit(X, y)
    assert_array_equal(clf.classes_, np.unique(y))
    assert_array_equal(clf.predict(X), clf.network_.predict(X))
    assert clf.score(X, y) >= 0.8


def test_feature_names_flow_into_the_network(tmp_path):
    pd = pytest.importorskip("pandas")
    X, y = _ridge_data()
    df = pd.DataFrame(X, columns=["height", "weight"])
    reg = WedgeRegressor().fit(df, y)
    assert_array_equal(reg.feature_names_in_, ["height", "weight"])
    assert list(reg.network_.feature_names) == ["height", "weight"]
    back = wedgenet.load(reg.network_.save(tmp_path / "m.json"))
    assert list(back.feature_names) == ["height", "weight"]
    # the network matches a table's columns by name: reordered columns give the same predictions
    assert_allclose(back.predict(df[["weight", "height"]]), reg.predict(df), rtol=1e-12)
    with pytest.raises(ValueError, match="lacks the network's feature column"):
        back.predict(df[["weight"]].assign(age=1.0))
    # numpy input: no names
    assert WedgeRegressor().fit(X, y).network_.feature_names is None


def test_backend_is_a_deprecated_spelling_of_pricing():
    X, y = _ridge_data(n=20)
    with pytest.warns(DeprecationWarning, match="pricing"):
        old = WedgeRegressor(backend="local").fit(X, y)
    new = WedgeRegressor(pricing="local").fit(X, y)
    assert_allclose(old.predict(X), new.predict(X), rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        WedgeRegressor().fit(X, y)  # the default warns nothing


# ------------------------------------------------------------------------- cross-validation
def test_cv_scores_match_independent_fits():
    """The warm-started path of each fold gives the scores of independent fits at the same lam.

    The optimal objective values agree to the solver tolerance; held-out predictions may differ
    slightly where the Lasso optimum is not unique (near-interpolating small ratios)."""
    X, y = _ridge_data(n=36)
    ratios = [0.5, 0.1, 0.02]
    kw = dict(loss="squared", standardize=True)
    scores = cv_lam_ratio_scores(X, y, ratios, cv=3, random_state=0, fit_kwargs=kw)
    assert scores.shape == (3, 3)
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    for f, (tr, te) in enumerate(folds):
        lm = float(wedgenet.lam_max(X[tr], y[tr], standardize=True))
        path = wedgenet.fit_path(X[tr], y[tr], lams=[r * lm for r in ratios], standardize=True)
        for k, r in enumerate(ratios):
            net = wedgenet.fit(X[tr], y[tr], lam=r * lm, standardize=True)
            assert_allclose(path[k].objective(X[tr], y[tr]), net.objective(X[tr], y[tr]), rtol=1e-5)
            pred = net.predict(X[te])
            r2 = 1 - np.sum((y[te] - pred) ** 2) / np.sum((y[te] - y[te].mean()) ** 2)
            assert_allclose(scores[k, f], r2, atol=0.01)


def test_regressor_cv_picks_the_best_mean_score():
    X, y = _ridge_data(n=40)
    est = WedgeRegressorCV(cv=3, random_state=0).fit(X, y)
    assert_array_equal(est.lam_ratios_, DEFAULT_LAM_RATIOS)
    assert est.cv_scores_.shape == (len(DEFAULT_LAM_RATIOS), 3)
    assert_allclose(est.mean_cv_scores_, est.cv_scores_.mean(axis=1))
    assert est.lam_ratio_ == DEFAULT_LAM_RATIOS[int(np.argmax(est.mean_cv_scores_))]
    ref = wedgenet.fit(X, y, lam_ratio=est.lam_ratio_, standardize=True, time_limit=est.time_limit)
    assert_allclose(est.predict(X), ref.predict(X), rtol=1e-9, atol=1e-9)
    assert est.lam_ == est.network_.lam
    assert est.score(X, y) > 0.8
    assert "lam" not in est.get_params() and clone(est).get_params()["cv"] == 3


def test_classifier_cv_on_labels_as_given():
    X, y = make_xor(40, random_state=0)
    labels = np.where(y > 0, "same", "differ")
    est = WedgeClassifierCV(cv=3, lam_ratios=[0.5, 0.05], random_state=0).fit(X, labels)
    assert est.cv_scores_.shape == (2, 3)
    assert np.all((est.cv_scores_ >= 0) & (est.cv_scores_ <= 1))
    assert est.lam_ratio_ in (0.5, 0.05)
    assert_array_equal(est.classes_, ["differ", "same"])
    assert est.score(X, labels) >= 0.9


def test_cv_rejects_bad_settings():
    X, y = _ridge_data(n=20)
    with pytest.raises(ValueError, match="lam_ratios"):
        WedgeRegressorCV(lam_ratios=[0.1, 2.0]).fit(X, y)
    with pytest.raises(ValueError, match="cv"):
        WedgeRegressorCV(cv=1).fit(X, y)


def test_constant_target_gives_the_constant_network():
    X, _ = _ridge_data(n=12)
    reg = WedgeRegressor().fit(X, np.full(12, 3.5))
    assert reg.n_neurons_ == 0
    assert_allclose(reg.predict(X[:3]), 3.5)


def test_estimators_expose_the_certified_bound():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = np.sin(2 * X[:, 0]) + X[:, 1]
    est = wedgenet.WedgeRegressor().fit(X, y)
    b = est.bound(X, y, time_limit=10)
    assert b.lower_bound <= est.network_.certificate.primal * (1 + 1e-9)
    assert est.network_.certificate.lower_bound == pytest.approx(b.lower_bound)
