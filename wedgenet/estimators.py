"""scikit-learn estimators around :func:`wedgenet.fit`.

:class:`WedgeRegressor` and :class:`WedgeClassifier` follow the scikit-learn conventions:
``__init__`` only stores its parameters, ``fit(X, y)`` validates the data and returns ``self``,
and everything learned ends in ``_`` (the trained, certified network is ``network_``).  They
work with :func:`sklearn.base.clone`, :class:`~sklearn.pipeline.Pipeline` and
:class:`~sklearn.model_selection.GridSearchCV`, and pass
:func:`sklearn.utils.estimator_checks.check_estimator` with their default parameters.
:class:`WedgeRegressorCV` and :class:`WedgeClassifierCV` choose ``lam_ratio`` by K-fold
cross-validation on a warm-started path, like :class:`~sklearn.linear_model.LassoCV`.

Defaults that work on data of any scale and dimension: the features (and a regression target)
are standardized before the fit and the network is returned in the original units
(``standardize=True``); the strength is relative, ``lam = lam_ratio * lam_max`` with
``lam_max`` the smallest ``lam`` giving no neurons (``lam_ratio=0.05``); and a ``time_limit`` per
pass makes the fit sample the candidate neurons instead of pricing all of them when that would
take longer (the certificate's scope then says ``"sampled"``).

The objective is that of docs/conventions.md ("The objective"): a loss that is a **sum** over
samples plus ``(lam/2) * sum_j (||w_j||_p^2 + a_j^2)``, the network form of the wedge Lasso
penalty ``lam * ||z||_1``.  With ``standardize=True`` that objective, and ``lam``, are in the
standardized units.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from . import fitting as _fitting
from .settings import DEFAULT_LAM_RATIO
from .solvers.losses import LOSSES, get_loss

__all__ = ["WedgeRegressor", "WedgeClassifier", "WedgeRegressorCV", "WedgeClassifierCV", "cv_lam_ratio_scores",
           "encode_class_indices", "DEFAULT_LAM_RATIOS", "DEFAULT_TIME_LIMIT"]

_CLASSIFIER_LOSSES = ("auto", *(n for n, lo in LOSSES.items() if lo.task == "classification"))
_BINARY_LOSSES = tuple(n for n, lo in LOSSES.items() if lo.labels == "binary")

#: default ``time_limit`` (seconds) of the estimators: when pricing every candidate is estimated to
#: take longer, the candidates are sampled instead
DEFAULT_TIME_LIMIT = 30.0

#: the ``lam_ratio`` grid the CV estimators (and ``wedgenet fit --cv``) compare by default
DEFAULT_LAM_RATIOS = (0.5, 0.2, 0.1, 0.05, 0.02, 0.01)

_STRENGTH_PARAMS = """\
    lam : float or None, default=None
        Absolute regularisation strength, > 0; when given it replaces ``lam_ratio``.  It multiplies
        ``||z||_1`` (``sum_j ||Z_j||_2`` for vector output) in the wedge Lasso, whose loss is a *sum*
        over samples; the network penalty is ``(lam/2) * sum_j (||w_j||_p^2 + a_j^2)``
        (docs/conventions.md, "The objective").  With ``standardize=True`` it applies in the
        standardized units.
    lam_ratio : float in (0, 1], default=0.05
        Strength relative to ``lam_max`` (:func:`wedgenet.lam_max`, the smallest ``lam`` whose
        network is empty): ``lam = lam_ratio * lam_max``.  Used when ``lam`` is None.  Scale-free,
        so the default suits any data; tune it with ``GridSearchCV`` or the ``...CV`` estimators.
"""

_COMMON_PARAMS = """\
    standardize : bool, default=True
        Fit on standardized features (and, for regression, a standardized target) and return the
        network in the original units: the same neurons and defining samples.  ``lam`` then
        applies in the standardized units.
    time_limit : float or None, default=30.0
        Seconds: when the pricing passes over every candidate neuron are estimated to take
        longer, the candidates are sampled instead and the certificate's scope says
        ``"sampled"``; column generation then grows the sample until a round adds no improving
        column (a work rule: fits with the same int ``random_state`` are identical), with the
        rest of ``time_limit`` as a safety net only (when it acts, the verdict says "stopped at
        time_limit; not reproducible").  None prices every candidate however long it takes.
    reg : {"l1", "l2"}, default="l1"
        The ``p`` of the weight penalty.  ``"l1"`` is exact: a gap closed over every candidate
        proves the global optimum; ``"l2"`` approximates the network problem within ``1/(1-eps)``.
    bias : bool, default=True
        Hidden biases and a free (unpenalised) output intercept; ``False`` gives neither for
        ``depth=2``.  ``depth=3`` always has the output intercept (Thm 12, 13).
    depth : {2, 3}, default=2
        Two-layer network, or the three-layer dictionary of Thm 12/13.
    solver : {"auto", "working_set", "cvxpy", "sklearn"}, default="auto"
        Convex solver (see :func:`wedgenet.fit`).
    max_columns : int or None, default=None
        Sample about this many candidate neurons instead of pricing all of them (default: chosen
        within ``time_limit``).  The certificate then covers the sampled candidates only.
    random_state : None, int, numpy Generator or RandomState, default=None
        Seeds the sampling of candidates and the CV folds; pass an int for reproducible fits.
    tol : float, default=1e-6
        Target relative duality gap; a ``ConvergenceWarning`` is raised when it is not reached.
    max_iter : int, default=100
        Maximum number of working-set iterations.
    memory_budget : float or None, default=None
        Bytes the explicit dictionary may use (default: from the memory available now).
    dictionary_mode : {"auto", "explicit", "streamed"}, default="auto"
        ``"auto"`` streams the dictionary when the explicit one would exceed ``memory_budget``.
    certify_all : bool, default=False
        With sampled candidates, certify the fit by one streamed pass over every candidate.
    pricing : {"local", "dask"}, default="local"
        Where the streamed pricing passes run: local numba threads, or the current default
        ``dask.distributed`` client (looked up at ``fit`` time, so the estimator stays clonable).
    backend : None
        Deprecated spelling of ``pricing``; a value other than None is used as ``pricing`` with a
        ``DeprecationWarning``."""

_COMMON_ATTRS = """\
    network_ : WedgeNetwork
        The trained network in the user's units, with the provenance of every neuron and its
        certificate (``network_.certificate.verdict()`` says what was proven).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of str
        Feature names seen during ``fit`` (only when ``X`` has string column names); they name
        the features in the neuron expressions of ``network_`` and in its plots.
    duality_gap_ : float
        Primal minus dual objective over the priced candidates (see ``network_.certificate``).
    relative_gap_ : float
        ``duality_gap_`` divided by the primal objective.
    n_neurons_ : int
        Number of hidden neurons of ``network_``.
    n_iter_ : int
        Working-set iterations run by the solver."""


def _fit_keywords(est) -> dict:
    """The :func:`wedgenet.fit` keywords of an estimator, apart from the strength and the loss."""
    pricing = est.pricing
    if est.backend is not None:
        warnings.warn("the estimators' backend= parameter is renamed pricing=; backend= will be removed",
                      DeprecationWarning, stacklevel=3)
        pricing = est.backend
    names = getattr(est, "feature_names_in_", None)
    return dict(reg=est.reg, bias=est.bias, depth=est.depth, solver=est.solver, max_columns=est.max_columns,
                random_state=est.random_state, tol=est.tol, max_iter=est.max_iter,
                memory_budget=est.memory_budget, dictionary_mode=est.dictionary_mode,
                certify_all=est.certify_all, pricing=pricing, standardize=est.standardize,
                time_limit=est.time_limit, feature_names=None if names is None else [str(n) for n in names])


def encode_class_indices(y, classes) -> np.ndarray:
    """The rank of each label in the sorted ``classes`` (the softmax targets ``0..c-1``)."""
    return np.searchsorted(classes, y).astype(np.int64)


class _WedgeBase(BaseEstimator):
    """Shared parameters and fitting for the wedgenet estimators."""

    def __init__(
        self,
        lam=None,
        *,
        lam_ratio=DEFAULT_LAM_RATIO,
        standardize=True,
        time_limit=DEFAULT_TIME_LIMIT,
        reg="l1",
        bias=True,
        depth=2,
        solver="auto",
        max_columns=None,
        random_state=None,
        tol=1e-6,
        max_iter=100,
        memory_budget=None,
        dictionary_mode="auto",
        certify_all=False,
        pricing="local",
        backend=None,
    ):
        self.lam = lam
        self.lam_ratio = lam_ratio
        self.standardize = standardize
        self.time_limit = time_limit
        self.reg = reg
        self.bias = bias
        self.depth = depth
        self.solver = solver
        self.max_columns = max_columns
        self.random_state = random_state
        self.tol = tol
        self.max_iter = max_iter
        self.memory_budget = memory_budget
        self.dictionary_mode = dictionary_mode
        self.certify_all = certify_all
        self.pricing = pricing
        self.backend = backend

    def _strength(self, y, loss) -> dict:
        if self.lam is not None:
            return {"lam": self.lam}
        if get_loss(loss).task == "regression" and y.size and np.all(y == y.flat[0]):
            # a constant target: lam_max is 0 and every lam gives the constant network, which
            # lam_ratio cannot scale; any absolute lam returns it (with its certificate)
            return {"lam": 1.0}
        return {"lam_ratio": self.lam_ratio}

    def _fit_network(self, X, y, loss):
        net = _fitting.fit(X, y, loss=loss, **self._strength(y, loss), **_fit_keywords(self))
        return self._set_network(net)

    def bound(self, X, y, *, time_limit: float = 60.0, verbose: bool = False):
        """A certified lower bound on the global optimum of the fitted network's problem
        (:meth:`wedgenet.WedgeNetwork.bound`); ``network_.certificate`` records it."""
        check_is_fitted(self)
        b = self.network_.bound(X, y, time_limit=time_limit, verbose=verbose)
        return b

    def _set_network(self, net):
        self.network_ = net
        self.duality_gap_ = net.duality_gap
        self.relative_gap_ = net.relative_gap
        self.n_neurons_ = net.n_neurons
        self.n_iter_ = int(net.info.get("n_iter", 0))
        return self

    def _raw_output(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self.network_.decision_function(X)


class WedgeRegressor(RegressorMixin, _WedgeBase):
    __doc__ = f"""Two-layer (or three-layer) ReLU regression network trained to a certified optimum.

    Minimises ``0.5 * ||y - f(X)||^2 + (lam/2) * sum_j (||w_j||_p^2 + a_j^2)`` over ReLU networks
    ``f(x) = sum_j a_j (w_j . x + b_j)_+ + t`` through the equivalent convex wedge Lasso
    (:func:`wedgenet.fit` with ``loss="squared"``).  A 2-D ``y`` of shape ``(n, k)`` fits ``k``
    outputs that share hidden neurons, with the group penalty ``lam * sum_j ||Z_j||_2`` (Thm 14).
    A single-column ``y`` of shape ``(n, 1)`` is solved as the scalar problem (the same network as
    for ``y[:, 0]``); ``predict`` then returns shape ``(m, 1)``.  ``predict`` is exactly
    ``network_.predict`` (reshaped in that case).

    Parameters
    ----------
{_STRENGTH_PARAMS}{_COMMON_PARAMS}

    Attributes
    ----------
{_COMMON_ATTRS}

    Examples
    --------
    >>> import numpy as np
    >>> from wedgenet import WedgeRegressor
    >>> X = np.linspace(-1, 1, 20)[:, None]
    >>> reg = WedgeRegressor(lam_ratio=1e-3).fit(X, np.abs(X[:, 0]))
    >>> bool(reg.score(X, np.abs(X[:, 0])) > 0.99)
    True
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, y):
        """Train the network on ``X`` (n, d) and targets ``y`` (n,) or (n, k); returns ``self``."""
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True, multi_output=True)
        y = np.asarray(y, dtype=np.float64)
        # A single-column 2-D y is the scalar problem (the group norm of one entry is |z|):
        # solve it as such, so that y and y[:, None] give the same network.
        self._column_target = y.ndim == 2 and y.shape[1] == 1
        return self._fit_network(X, y[:, 0] if self._column_target else y, "squared")

    def predict(self, X):
        """Network output ``f(X)``: shape (m,) for 1-D training targets, (m, k) for 2-D."""
        f = self._raw_output(X)
        return f[:, None] if self._column_target else f


class WedgeClassifier(ClassifierMixin, _WedgeBase):
    __doc__ = f"""ReLU classification network trained to a certified optimum.

    Labels may be of any type (strings, integers, ...); they are mapped through ``classes_``.

    * Binary problems with ``loss="logistic"`` or ``"hinge"``: ``classes_[0]`` is encoded as
      ``-1`` and ``classes_[1]`` as ``+1``, and one scalar network is trained; it predicts
      ``classes_[1]`` where ``decision_function > 0``.
    * ``loss="softmax"`` (two or more classes): one output per class with the group penalty
      ``lam * sum_j ||Z_j||_2`` (Thm 14) and the multinomial cross-entropy on class indices
      ``0..c-1``.  For two classes ``decision_function`` is ``f_1 - f_0``.
    * ``loss="auto"`` (default) picks ``"logistic"`` for two classes and ``"softmax"`` for
      more; ``loss_`` records the choice.  ``"logistic"`` and ``"hinge"`` are binary only and
      raise ``ValueError`` on more than two classes.

    ``predict_proba`` / ``predict_log_proba`` exist for the likelihood losses (``"auto"``,
    ``"logistic"``, ``"softmax"``) and not for ``"hinge"``, which gives no probabilities.

    Parameters
    ----------
{_STRENGTH_PARAMS}{_COMMON_PARAMS}
    loss : {{"auto", "logistic", "hinge", "softmax"}}, default="auto"
        Training loss (a sum over samples), see above.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels, sorted.
    loss_ : str
        The loss actually used (``"auto"`` resolved).
{_COMMON_ATTRS}

    Examples
    --------
    >>> from wedgenet import WedgeClassifier
    >>> from wedgenet.datasets import make_xor
    >>> X, y = make_xor(40, random_state=0)
    >>> clf = WedgeClassifier(lam_ratio=1e-2).fit(X, y)
    >>> float(clf.score(X, y))
    1.0
    """

    def __init__(
        self,
        lam=None,
        *,
        lam_ratio=DEFAULT_LAM_RATIO,
        loss="auto",
        standardize=True,
        time_limit=DEFAULT_TIME_LIMIT,
        reg="l1",
        bias=True,
        depth=2,
        solver="auto",
        max_columns=None,
        random_state=None,
        tol=1e-6,
        max_iter=100,
        memory_budget=None,
        dictionary_mode="auto",
        certify_all=False,
        pricing="local",
        backend=None,
    ):
        super().__init__(
            lam, lam_ratio=lam_ratio, standardize=standardize, time_limit=time_limit, reg=reg, bias=bias,
            depth=depth, solver=solver, max_columns=max_columns, random_state=random_state, tol=tol,
            max_iter=max_iter, memory_budget=memory_budget, dictionary_mode=dictionary_mode,
            certify_all=certify_all, pricing=pricing, backend=backend,
        )
        self.loss = loss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = self.loss not in _BINARY_LOSSES
        return tags

    def fit(self, X, y):
        """Train the network on ``X`` (n, d) and class labels ``y`` (n,); returns ``self``."""
        X, y, loss = self._validate_classification(X, y)
        return self._fit_network(X, y, loss)

    def _validate_classification(self, X, y):
        if not isinstance(self.loss, str) or self.loss not in _CLASSIFIER_LOSSES:
            raise ValueError(f"loss must be one of {_CLASSIFIER_LOSSES}; got {self.loss!r}")
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least two classes; got one class ({classes[0]!r})")
        loss = self.loss
        if loss == "auto":
            loss = "logistic" if classes.size == 2 else "softmax"
        if loss in _BINARY_LOSSES:
            y_type = type_of_target(y, input_name="y")
            if y_type != "binary":
                raise ValueError(
                    f"Only binary classification is supported. The type of the target is {y_type} "
                    f"({classes.size} classes) and loss={loss!r} is binary; use loss='softmax' or 'auto'.")
        self.classes_ = classes
        self.loss_ = loss
        # binary losses take the labels as the user has them (the network keeps them and predicts
        # them; classes_[1], the larger, is the positive class).  softmax reads non-negative
        # integers as class indices, so labels such as {1, 2} go in as their ranks and the
        # network gets the labels afterwards (_set_network)
        if loss not in _BINARY_LOSSES:
            y = encode_class_indices(y, classes)
        return X, y, loss

    def _set_network(self, net):
        if self.loss_ not in _BINARY_LOSSES:
            net.classes = tuple(self.classes_.tolist())
        return super()._set_network(net)

    def decision_function(self, X):
        """Scores: (m,) for two classes (positive means ``classes_[1]``), else (m, n_classes)."""
        f = self._raw_output(X)
        if f.ndim == 2 and self.classes_.size == 2:
            return f[:, 1] - f[:, 0]
        return f

    def predict(self, X):
        """Predicted class labels (taken from ``classes_``)."""
        f = self.decision_function(X)
        idx = (f >= 0).astype(np.intp) if f.ndim == 1 else np.argmax(f, axis=1)  # as network_.predict
        return self.classes_[idx]

    def _has_proba(self):
        if hasattr(self, "loss_"):  # fitted: the resolved loss
            return get_loss(self.loss_).probabilistic
        return self.loss == "auto" or (self.loss in LOSSES and get_loss(self.loss).probabilistic)

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities (m, n_classes): sigmoid of the score (logistic) or softmax."""
        f = self._raw_output(X)
        if f.ndim == 2:
            return softmax(f, axis=1)
        return np.column_stack([expit(-f), expit(f)])

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, computed stably."""
        f = self._raw_output(X)
        if f.ndim == 2:
            return log_softmax(f, axis=1)
        return np.column_stack([log_expit(-f), log_expit(f)])


# ---------------------------------------------------------------------------- cross-validation
def _held_out_score(net, X, y, classification: bool) -> float:
    """Accuracy (classification) or R^2 (regression) of ``net`` on ``(X, y)``; NaN when undefined."""
    pred = np.asarray(net.predict(X))
    if classification:
        return float(np.mean(pred == y))
    tss = float(np.sum((y - y.mean()) ** 2))
    return 1.0 - float(np.sum((y - pred) ** 2)) / tss if tss > 0 else float("nan")


def cv_lam_ratio_scores(X, y, lam_ratios, *, cv=5, classification: bool = False, random_state=None,
                        fit_kwargs: dict | None = None) -> np.ndarray:
    """Held-out scores of ``lam_ratio`` values by K-fold cross-validation: shape ``(n_ratios, n_folds)``.

    For each fold, ``lam_max`` of the training part (:func:`wedgenet.lam_max`, same settings) turns
    the ratios into strengths ``lam = lam_ratio * lam_max`` and :func:`wedgenet.fit_path` fits them
    in decreasing order, each solve warm-started from the previous one.  The score is the accuracy
    (``classification``) or R^2 of the fold's network on the held-out part.  Folds are stratified
    for classification and shuffled with ``random_state``; ``cv`` may also be a scikit-learn
    splitter.
    """
    from sklearn.model_selection import KFold, StratifiedKFold, check_cv

    import wedgenet as wn

    ratios = np.asarray(lam_ratios, dtype=np.float64)
    if ratios.ndim != 1 or ratios.size == 0 or not np.all((ratios > 0) & (ratios <= 1)):
        raise ValueError(f"lam_ratios must be a non-empty list of numbers in (0, 1]; got {lam_ratios!r}")
    if isinstance(cv, (int, np.integer)) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2 folds; got {cv}")
        seed = random_state if isinstance(random_state, (int, np.integer)) else 0
        splitter = (StratifiedKFold if classification else KFold)(int(cv), shuffle=True, random_state=seed)
        if classification and np.min(np.unique(y, return_counts=True)[1]) < cv:
            splitter = KFold(int(cv), shuffle=True, random_state=seed)
    else:
        splitter = check_cv(cv, y, classifier=classification)
    kw = dict(fit_kwargs or {})
    kw.pop("certify_all", None)
    kw.pop("solver", None)  # fit_path always uses the warm-started working set
    kw.pop("bound_time", None)  # a bound is for the chosen network, not every fold
    lm_kw = {k: kw[k] for k in ("loss", "reg", "bias", "depth", "max_columns", "random_state", "standardize",
                                "time_limit", "memory_budget")
             if k in kw}
    order = np.argsort(-ratios, kind="stable")
    folds = list(splitter.split(X, y))
    scores = np.full((ratios.size, len(folds)), np.nan)
    for f, (tr, te) in enumerate(folds):
        lm = float(wn.lam_max(X[tr], y[tr], **lm_kw))
        if not (lm > 0 and np.isfinite(lm)):  # the fold's target is constant: every ratio gives the same network
            lm = 1.0
        nets = wn.fit_path(X[tr], y[tr], lams=ratios[order] * lm, **kw)
        for k, net in zip(order, nets, strict=True):
            scores[k, f] = _held_out_score(net, X[te], y[te], classification)
    return scores


_CV_PARAMS = """\
    lam_ratios : sequence of float in (0, 1] or None, default=None
        The ``lam_ratio`` values to compare (default ``DEFAULT_LAM_RATIOS``: 0.5, 0.2, 0.1, 0.05,
        0.02, 0.01).  ``lam = lam_ratio * lam_max`` (see :func:`wedgenet.lam_max`).
    cv : int or cross-validation splitter, default=5
        Number of folds (shuffled with ``random_state``; stratified for classification) or a
        scikit-learn splitter.
"""

_CV_ATTRS = """\
    lam_ratio_ : float
        The chosen ratio: the best mean held-out score (the largest ratio among ties).
    lam_ : float
        The absolute strength of ``network_`` (``lam_ratio_ * lam_max`` of all the data).
    lam_ratios_ : ndarray of shape (n_ratios,)
        The ratios compared.
    cv_scores_ : ndarray of shape (n_ratios, n_folds)
        Held-out score (R^2 or accuracy) of each ratio on each fold.
    mean_cv_scores_ : ndarray of shape (n_ratios,)
        Their mean over the folds.
"""


class _CVMixin:
    """Choose ``lam_ratio`` by cross-validation, then refit on all the data."""

    def _init_cv(self, lam_ratios, cv):
        self.lam_ratios = lam_ratios
        self.cv = cv

    def _cv_fit(self, X, y, loss, classification):
        ratios = np.asarray(DEFAULT_LAM_RATIOS if self.lam_ratios is None else self.lam_ratios, dtype=np.float64)
        kw = _fit_keywords(self)
        scores = cv_lam_ratio_scores(X, y, ratios, cv=self.cv, classification=classification,
                                     random_state=self.random_state, fit_kwargs=dict(kw, loss=loss))
        mean = np.nanmean(scores, axis=1) if np.any(np.isfinite(scores)) else np.zeros(ratios.size)
        mean = np.where(np.isfinite(mean), mean, -np.inf)
        best_score = np.max(mean)
        best = int(np.flatnonzero(mean == best_score)[np.argmax(ratios[mean == best_score])])
        self.lam_ratios_ = ratios
        self.cv_scores_ = scores
        self.mean_cv_scores_ = np.where(np.isfinite(mean), mean, np.nan)
        self.lam_ratio_ = float(ratios[best])
        net = _fitting.fit(X, y, loss=loss, lam_ratio=self.lam_ratio_, **kw)
        self.lam_ = float(net.lam)
        return self._set_network(net)


class WedgeRegressorCV(_CVMixin, WedgeRegressor):
    __doc__ = f"""WedgeRegressor with ``lam_ratio`` chosen by K-fold cross-validation (like ``LassoCV``).

    Each fold fits the ratios on a warm-started path (:func:`cv_lam_ratio_scores`); the ratio with
    the best mean held-out R^2 is refitted on all the data.

    Parameters
    ----------
{_CV_PARAMS}{_COMMON_PARAMS}

    Attributes
    ----------
{_CV_ATTRS}{_COMMON_ATTRS}
    """

    def __init__(self, *, lam_ratios=None, cv=5, standardize=True, time_limit=DEFAULT_TIME_LIMIT, reg="l1",
                 bias=True, depth=2, solver="auto", max_columns=None, random_state=None, tol=1e-6, max_iter=100,
                 memory_budget=None, dictionary_mode="auto", certify_all=False, pricing="local", backend=None):
        super().__init__(None, standardize=standardize, time_limit=time_limit, reg=reg, bias=bias, depth=depth,
                         solver=solver, max_columns=max_columns, random_state=random_state, tol=tol,
                         max_iter=max_iter, memory_budget=memory_budget, dictionary_mode=dictionary_mode,
                         certify_all=certify_all, pricing=pricing, backend=backend)
        del self.lam, self.lam_ratio
        self._init_cv(lam_ratios, cv)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = False
        return tags

    def fit(self, X, y):
        """Choose ``lam_ratio`` by cross-validation on ``X`` (n, d), ``y`` (n,), refit; returns ``self``."""
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        self._column_target = False
        return self._cv_fit(X, np.asarray(y, dtype=np.float64), "squared", False)


class WedgeClassifierCV(_CVMixin, WedgeClassifier):
    __doc__ = f"""WedgeClassifier with ``lam_ratio`` chosen by K-fold cross-validation (held-out accuracy).

    Parameters
    ----------
{_CV_PARAMS}{_COMMON_PARAMS}
    loss : {{"auto", "logistic", "hinge", "squared_hinge", "softmax"}}, default="auto"

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    loss_ : str
{_CV_ATTRS}{_COMMON_ATTRS}
    """

    def __init__(self, *, lam_ratios=None, cv=5, loss="auto", standardize=True, time_limit=DEFAULT_TIME_LIMIT,
                 reg="l1", bias=True, depth=2, solver="auto", max_columns=None, random_state=None, tol=1e-6,
                 max_iter=100, memory_budget=None, dictionary_mode="auto", certify_all=False, pricing="local",
                 backend=None):
        super().__init__(None, loss=loss, standardize=standardize, time_limit=time_limit, reg=reg, bias=bias,
                         depth=depth, solver=solver, max_columns=max_columns, random_state=random_state, tol=tol,
                         max_iter=max_iter, memory_budget=memory_budget, dictionary_mode=dictionary_mode,
                         certify_all=certify_all, pricing=pricing, backend=backend)
        del self.lam, self.lam_ratio
        self._init_cv(lam_ratios, cv)

    def fit(self, X, y):
        """Choose ``lam_ratio`` by cross-validation on ``X`` (n, d), labels ``y`` (n,), refit; returns ``self``."""
        X, y, loss = self._validate_classification(X, y)
        return self._cv_fit(X, y, loss, True)
