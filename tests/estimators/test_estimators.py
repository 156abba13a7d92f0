"""scikit-learn estimators WedgeRegressor / WedgeClassifier: values, API conventions, checks.

Most value tests here pass ``standardize=False`` and an absolute ``lam`` so that they can compare
with :func:`wedgenet.fit` on the raw data; the defaults (standardized, ``lam_ratio``) are tested in
tests/estimators/test_defaults.py.
"""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, softmax
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

import wedgenet
from wedgenet import WedgeClassifier, WedgeRegressor
from wedgenet.datasets import make_spiral, make_xor

# Instances for scikit-learn's estimator checks.  WedgeRegressor() and WedgeClassifier() are
# checked with their defaults (standardized, lam_ratio=0.05, the default time limit, which samples
# 20,000 candidate columns on the checks' 10-feature data sets and then runs column generation
# until its work rule stops it: reproducible for a fixed random_state, so check_regressors_int's
# two fits agree).  The binary-only hinge and the softmax variants sample 500 columns
# reproducibly (max_columns, random_state: user options).
CHECK_KW = dict(max_columns=500, random_state=0)
CHECK_INSTANCES = [
    WedgeRegressor(),
    WedgeClassifier(),  # loss="auto": logistic for 2 classes, softmax for more
    WedgeClassifier(loss="hinge", **CHECK_KW),  # binary-only tag, no predict_proba
    WedgeClassifier(loss="softmax", **CHECK_KW),
]


@parametrize_with_checks(CHECK_INSTANCES)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # e.g. "solution may be inaccurate"
        check(estimator)


def _abs_data(n=25, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    X = np.linspace(-1.0, 1.0, n)[:, None]
    y = np.abs(X[:, 0]) - 0.5 + noise * rng.standard_normal(n)
    return X, y


def _plane_data(n=30, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 2))
    Y = np.c_[np.maximum(X[:, 0] + X[:, 1], 0.0), np.abs(X[:, 0]) - X[:, 1]]
    return X, Y


def _spirals3(m=15):
    """Three interleaved spiral arms in the plane, labels 0, 1, 2."""
    t = np.linspace(0.3, 1.5 * np.pi, m)
    r = t / (1.5 * np.pi)
    X = np.vstack([np.c_[r * np.cos(t + 2 * np.pi * k / 3), r * np.sin(t + 2 * np.pi * k / 3)] for k in range(3)])
    return X, np.repeat(np.arange(3), m)


# ----------------------------------------------------------------------------- regressor values
def test_regressor_matches_fit_and_network():
    X, y = _abs_data()
    reg = WedgeRegressor(standardize=False, lam=1e-2).fit(X, y)
    net = wedgenet.fit(X, y, lam=1e-2)
    assert isinstance(reg.network_, wedgenet.WedgeNetwork)
    Xt = np.linspace(-1.5, 1.5, 41)[:, None]
    assert_allclose(reg.predict(Xt), reg.network_.predict(Xt), rtol=0, atol=0)
    assert_allclose(reg.predict(Xt), net.predict(Xt), rtol=1e-10, atol=1e-10)
    assert reg.n_features_in_ == 1
    assert reg.n_neurons_ == reg.network_.n_neurons >= 1
    assert reg.n_iter_ >= 1
    # certificate: global optimum of the (exact, p=1) problem, and the network objective equals
    # the Lasso primal
    assert 0 <= reg.duality_gap_ <= 1e-6 * reg.network_.info["primal"]
    assert reg.relative_gap_ <= 1e-6
    assert reg.network_.max_violation <= 1 + 1e-6
    assert_allclose(reg.network_.objective(X, y), reg.network_.info["primal"], rtol=1e-8)
    # lam is against the SUM loss 0.5 ||r||^2: small lam interpolates |x| on the training set
    assert reg.score(X, y) > 0.999


def test_regressor_lam_against_sum_loss():
    """The zero network is optimal exactly when lam >= max_j |K_j^T (y - mean y)| (docs/conventions.md#certificate)."""
    X, y = _abs_data()
    D = wedgenet.dictionary(X, bias=True)
    lam_max = float(np.max(np.abs(D.K.T @ (y - y.mean()))))
    big = WedgeRegressor(standardize=False, lam=1.01 * lam_max).fit(X, y)
    assert big.n_neurons_ == 0
    assert_allclose(big.predict(X), np.full(len(y), y.mean()), atol=1e-12)
    small = WedgeRegressor(standardize=False, lam=0.9 * lam_max).fit(X, y)
    assert small.n_neurons_ >= 1


def test_regressor_multioutput_group_penalty():
    X, Y = _plane_data()
    reg = WedgeRegressor(standardize=False, lam=0.05).fit(X, Y)
    pred = reg.predict(X)
    assert pred.shape == Y.shape
    assert reg.network_.W2.shape == (reg.n_neurons_, 2)  # neurons shared by both outputs
    net = wedgenet.fit(X, Y, lam=0.05)
    assert_allclose(pred, net.predict(X), rtol=1e-10, atol=1e-10)
    assert reg.relative_gap_ <= 1e-6
    assert reg.score(X, Y) > 0.99


def test_regressor_column_vector_target_is_the_scalar_problem():
    X, y = _abs_data()
    r1 = WedgeRegressor(standardize=False, lam=1e-2).fit(X, y)
    r2 = WedgeRegressor(standardize=False, lam=1e-2).fit(X, y[:, None])
    assert r2.predict(X).shape == (len(y), 1)
    assert_array_equal(r2.predict(X)[:, 0], r1.predict(X))


def test_regressor_random_state_reproducible_sampling():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((40, 3))
    y = np.maximum(X @ np.array([1.0, -2.0, 0.5]), 0.0)
    a = WedgeRegressor(standardize=False, lam=0.1, max_columns=300, random_state=3).fit(X, y)
    b = WedgeRegressor(standardize=False, lam=0.1, max_columns=300, random_state=3).fit(X, y)
    c = WedgeRegressor(standardize=False, lam=0.1, max_columns=300, random_state=4).fit(X, y)
    assert a.network_.info["sampled"]
    assert_array_equal(a.predict(X), b.predict(X))
    assert_array_equal(a.network_.W1, b.network_.W1)
    assert not np.array_equal(a.network_.W1, c.network_.W1)


# ---------------------------------------------------------------------------- classifier values
@pytest.mark.parametrize("loss", ["auto", "logistic", "hinge", "softmax"])
def test_classifier_xor(loss):
    X, y = make_xor(40, random_state=0)
    Xt, yt = make_xor(200, random_state=1)
    clf = WedgeClassifier(standardize=False, lam=1e-2, loss=loss).fit(X, y)
    assert_array_equal(clf.classes_, [-1.0, 1.0])
    assert clf.loss_ == ("logistic" if loss == "auto" else loss)
    assert clf.score(X, y) == 1.0
    assert clf.score(Xt, yt) >= 0.97
    assert clf.relative_gap_ <= 1e-6
    # predictions are the network's, mapped through classes_
    f = clf.decision_function(Xt)
    assert f.shape == (200,)
    assert_array_equal(clf.predict(Xt), clf.classes_[(f > 0).astype(int)])
    if clf.loss_ != "softmax":
        assert_allclose(f, clf.network_.decision_function(Xt), rtol=0, atol=0)
    else:
        F = clf.network_.decision_function(Xt)
        assert_allclose(f, F[:, 1] - F[:, 0], rtol=0, atol=0)


def test_classifier_spiral():
    X, y = make_spiral(80)
    clf = WedgeClassifier(standardize=False, lam=1e-2).fit(X, y)
    assert clf.score(X, y) == 1.0
    assert clf.relative_gap_ <= 1e-5
    # the labels are the sign of the network output
    assert_array_equal(clf.predict(X), clf.network_.predict(X))


def test_classifier_string_labels_round_trip():
    X, y = make_xor(40, random_state=0)
    names = np.where(y > 0, "same", "differ")  # "differ" < "same": -1 -> "differ", +1 -> "same"
    num = WedgeClassifier(standardize=False, lam=1e-2).fit(X, y)
    txt = WedgeClassifier(standardize=False, lam=1e-2).fit(X, names.tolist())
    assert_array_equal(txt.classes_, ["differ", "same"])
    assert_array_equal(txt.predict(X), names)
    assert txt.predict(X).dtype.kind == "U"
    # the same network as with numeric labels
    assert_allclose(txt.decision_function(X), num.decision_function(X), rtol=1e-12, atol=1e-12)
    # labels given in reverse order give the same classes_ and predictions
    rev = WedgeClassifier(standardize=False, lam=1e-2).fit(X[::-1], names[::-1])
    assert_array_equal(rev.classes_, ["differ", "same"])
    assert_array_equal(rev.predict(X), names)


def test_classifier_multiclass_spirals_softmax():
    X, y = _spirals3()
    labels = np.array(["a", "b", "c"])[y]
    clf = WedgeClassifier(standardize=False, lam=1e-2).fit(X, labels)
    assert clf.loss_ == "softmax"
    assert_array_equal(clf.classes_, ["a", "b", "c"])
    assert clf.score(X, labels) == 1.0
    assert clf.network_.W2.shape == (clf.n_neurons_, 3)
    F = clf.decision_function(X)
    assert F.shape == (len(y), 3)
    assert_allclose(F, clf.network_.decision_function(X), rtol=0, atol=0)
    P = clf.predict_proba(X)
    assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    assert_allclose(P, softmax(F, axis=1), rtol=1e-12)
    assert_allclose(clf.predict_log_proba(X), np.log(P), rtol=1e-10, atol=1e-12)
    assert_array_equal(clf.classes_[P.argmax(axis=1)], clf.predict(X))


def test_classifier_iris_subset_softmax():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    train = np.r_[0:50:3, 50:100:3, 100:150:3]
    clf = WedgeClassifier(standardize=False, lam=3e-2, max_columns=2000, random_state=0).fit(X[train], names[train])
    assert clf.loss_ == "softmax"
    assert clf.n_features_in_ == 4
    assert clf.score(X[train], names[train]) == 1.0
    assert clf.score(X, names) >= 0.95
    assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, rtol=1e-12)


def test_classifier_predict_proba_logistic():
    X, y = make_xor(40, random_state=0)
    clf = WedgeClassifier(standardize=False, lam=1e-1, loss="logistic").fit(X, y)
    P = clf.predict_proba(X)
    f = clf.decision_function(X)
    assert P.shape == (40, 2)
    assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    assert_allclose(P[:, 1], expit(f), rtol=1e-12)
    assert_allclose(clf.predict_log_proba(X), np.log(P), rtol=1e-10)
    assert_array_equal(clf.classes_[P.argmax(axis=1)], clf.predict(X))


def test_hinge_has_no_predict_proba():
    X, y = make_xor(40, random_state=0)
    clf = WedgeClassifier(standardize=False, lam=1e-2, loss="hinge")
    assert not hasattr(clf, "predict_proba")
    assert not hasattr(clf, "predict_log_proba")
    clf.fit(X, y)
    assert not hasattr(clf, "predict_proba")
    assert hasattr(WedgeClassifier(loss="logistic"), "predict_proba")
    assert hasattr(WedgeClassifier(), "predict_proba")


def test_binary_losses_reject_multiclass():
    X, y = _spirals3(5)
    for loss in ("logistic", "hinge"):
        with pytest.raises(ValueError, match="Only binary classification is supported.*softmax"):
            WedgeClassifier(loss=loss).fit(X, y)


# ----------------------------------------------------------------------- sklearn integration
def test_clone_gives_unfitted_copy():
    X, y = _abs_data()
    reg = WedgeRegressor(standardize=False, lam=0.3, max_columns=200, random_state=5).fit(X, y)
    c = clone(reg)
    assert c.get_params() == reg.get_params()
    assert not hasattr(c, "network_")
    with pytest.raises(NotFittedError):
        check_is_fitted(c)
    with pytest.raises(NotFittedError):
        c.predict(X)
    clf = clone(WedgeClassifier(standardize=False, lam=0.2, loss="hinge"))
    assert clf.get_params()["loss"] == "hinge" and clf.get_params()["lam"] == 0.2


def test_pipeline_with_standard_scaler():
    X, y = _abs_data(noise=0.05)
    X = 10.0 * X + 3.0
    pipe = make_pipeline(StandardScaler(), WedgeRegressor(standardize=False, lam=0.05)).fit(X, y)
    Xs = StandardScaler().fit_transform(X)
    reg = WedgeRegressor(standardize=False, lam=0.05).fit(Xs, y)
    assert_allclose(pipe.predict(X), reg.predict(Xs), rtol=1e-10, atol=1e-10)
    Xc, yc = make_xor(40, random_state=0)
    cpipe = make_pipeline(StandardScaler(), WedgeClassifier(standardize=False, lam=0.1)).fit(100 * Xc, yc)
    assert cpipe.score(100 * Xc, yc) == 1.0


def test_grid_search_over_lam():
    X, y = _abs_data(n=40, noise=0.05, seed=2)
    grid = [1e-2, 1.0, 1e3]  # 1e3 is above lam_max: the zero (constant) network
    cv = KFold(4, shuffle=True, random_state=0)
    pipe = make_pipeline(StandardScaler(), WedgeRegressor(standardize=False))
    gs = GridSearchCV(pipe, {"wedgeregressor__lam": grid}, cv=cv)
    gs.fit(X, y)
    best = gs.best_params_["wedgeregressor__lam"]
    assert best in (1e-2, 1.0)
    scores = gs.cv_results_["mean_test_score"]
    assert scores[grid.index(1e3)] < 0.1 < gs.best_score_
    assert gs.best_estimator_[-1].lam == best
    assert gs.best_estimator_[-1].network_.lam == best
    Xc, yc = make_xor(40, random_state=0)
    gc = GridSearchCV(WedgeClassifier(standardize=False), {"lam": [0.1, 1e3]},
                      cv=KFold(4, shuffle=True, random_state=0))
    gc.fit(Xc, yc)
    assert gc.best_params_["lam"] == 0.1
    assert gc.best_score_ >= 0.95
    assert gc.cv_results_["mean_test_score"][1] < 0.6  # lam=1e3: the constant network


def test_hinge_zero_network_certificate():
    # the dual point is projected onto 1^T theta = 0 inside the hinge dual domain, and
    # interior-point noise coefficients are dropped, so the zero network is certified
    X, y = make_xor(40, random_state=0)
    X, y = X[:30], y[:30]  # 16 positives, 14 negatives
    assert np.sum(y > 0) == 16
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = WedgeClassifier(standardize=False, lam=1e3, loss="hinge").fit(X, y)
    assert clf.n_neurons_ == 0
    # optimal constant network t = +1: the loss is 2 * (number of negatives)
    assert_allclose(clf.network_.info["primal"], 2.0 * np.sum(y < 0))
    assert clf.relative_gap_ <= 1e-6


def test_pickle_round_trip():
    X, y = _spirals3(6)
    clf = WedgeClassifier(standardize=False, lam=0.1).fit(X, y)
    back = pickle.loads(pickle.dumps(clf))
    assert_array_equal(back.predict_proba(X), clf.predict_proba(X))


# ------------------------------------------------------------------------------ bad input
@pytest.mark.parametrize("Est", [WedgeRegressor, WedgeClassifier])
def test_bad_input_raises_value_error(Est):
    X, y = make_xor(20, random_state=0)
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        Est().fit(Xn, y)
    Xi = X.copy()
    Xi[0, 0] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        Est().fit(Xi, y)
    with pytest.raises(ValueError, match="0 sample"):
        Est().fit(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError, match="0 feature"):
        Est().fit(np.zeros((5, 0)), np.r_[1, -1, 1, -1, 1])
    with pytest.raises(ValueError, match="Expected 2D array"):
        Est().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Est().fit(X, y[:-1])
    yn = y.astype(float)
    yn[2] = np.nan
    with pytest.raises(ValueError, match="Input y contains NaN"):
        Est().fit(X, yn)
    with pytest.raises(ValueError, match="lam must be > 0"):
        Est(lam=0.0).fit(X, y)
    with pytest.raises(ValueError, match="lam must be a real number"):
        Est(lam="big").fit(X, y)
    with pytest.raises(ValueError, match="reg must be one of"):
        Est(reg="l3").fit(X, y)
    with pytest.raises(ValueError, match="depth must be 2 or 3"):
        Est(depth=4).fit(X, y)
    with pytest.raises(ValueError, match="max_columns must be"):
        Est(max_columns=0).fit(X, y)
    with pytest.raises(ValueError, match="solver must be"):
        Est(solver="magic").fit(X, y)
    est = Est(lam=0.1, standardize=False).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but .* is expecting 2 features"):
        est.predict(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.predict(Xn)


def test_classifier_bad_targets():
    X, y = make_xor(20, random_state=0)
    with pytest.raises(ValueError, match="Unknown label type"):
        WedgeClassifier().fit(X, X[:, 0])
    with pytest.raises(ValueError, match="at least two classes"):
        WedgeClassifier().fit(X, np.ones(20))
    with pytest.raises(ValueError, match="loss must be one of"):
        WedgeClassifier(loss="squared").fit(X, y)


def test_streamed_dictionary_mode_matches_explicit():

    X, y = make_spiral(40, random_state=0)
    exp = WedgeRegressor(standardize=False, lam=0.2, dictionary_mode="explicit").fit(X, y)
    stm = WedgeRegressor(standardize=False, lam=0.2, dictionary_mode="streamed").fit(X, y)
    obj_e = exp.network_.objective(X, y)
    obj_s = stm.network_.objective(X, y)
    assert abs(obj_s - obj_e) <= 1e-8 * obj_e
    np.testing.assert_allclose(stm.predict(X), exp.predict(X), atol=1e-6)
    assert clone(stm).get_params()["dictionary_mode"] == "streamed"


def test_bad_dictionary_mode_is_rejected():
    X, y = np.random.default_rng(0).standard_normal((10, 2)), np.arange(10.0)
    with pytest.raises(ValueError, match="dictionary_mode"):
        WedgeRegressor(dictionary_mode="lazy").fit(X, y)
