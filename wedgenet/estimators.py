"""scikit-learn estimators around :func:`wedgenet.fit`.

:class:`WedgeRegressor` and :class:`WedgeClassifier` follow the scikit-learn conventions:
``__init__`` only stores its parameters, ``fit(X, y)`` validates the data and returns ``self``,
and everything learned ends in ``_`` (the trained, certified network is ``network_``).  They
work with :func:`sklearn.base.clone`, :class:`~sklearn.pipeline.Pipeline` and
:class:`~sklearn.model_selection.GridSearchCV`, and pass
:func:`sklearn.utils.estimator_checks.check_estimator`.

The regularisation strength ``lam`` follows docs/conventions.md#objective: it multiplies the penalty
``lam * ||z||_1`` of the wedge Lasso (``lam * sum_j ||Z_j||_2`` for vector output) against a
loss that is a **sum** over the samples (``0.5 * ||r||^2`` for the squared loss), which is the
network problem ``L(f(X), y) + (lam/2) * sum_j (||w_j||_p^2 + a_j^2)``.  Because the loss is a
sum, the same ``lam`` regularises relatively less as the number of samples grows.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from .fitting import fit as _wedge_fit

__all__ = ["WedgeRegressor", "WedgeClassifier"]

_CLASSIFIER_LOSSES = ("auto", "logistic", "hinge", "softmax")
_BINARY_LOSSES = ("logistic", "hinge")

_COMMON_PARAMS = """\
    lam : float, default=0.1
        Regularisation strength, > 0.  It multiplies ``||z||_1`` (``sum_j ||Z_j||_2`` for vector
        output) in the wedge Lasso, whose loss is a *sum* over samples (the squared loss is
        ``0.5 * ||y - f(X)||^2``, not a mean); equivalently the network penalty is
        ``(lam/2) * sum_j (||w_j||_p^2 + a_j^2)`` (docs/conventions.md#objective).  The default 0.1 is a
        mild regulariser for data scaled to unit variance; because the loss is a sum it weakens
        relative to the data term as ``n_samples`` grows.  Tune it with ``GridSearchCV``.
    reg : {"l1", "l2"}, default="l1"
        The ``p`` of the weight penalty.  ``"l1"`` gives the global optimum of the network
        problem; ``"l2"`` is within ``1/(1-eps)`` of it (see :func:`wedgenet.dictionary`).
    bias : bool, default=True
        Hidden biases and a free (unpenalised) output intercept; ``False`` gives neither for
        ``depth=2``.  ``depth=3`` always has the output intercept (Thm 12, 13); there ``bias``
        switches only the first-layer biases.
    depth : {2, 3}, default=2
        Two-layer network, or the three-layer dictionary of Thm 12/13.
    solver : {"auto", "working_set", "cvxpy", "sklearn"}, default="auto"
        Convex solver (see :func:`wedgenet.fit`).
    max_columns : int or None, default=None
        Sample about this many dictionary columns instead of enumerating all of them.  The
        full dictionary grows combinatorially with the number of features (for ``reg="l1"``,
        ``2 C(n + d, d - 1)`` columns, or ``2 (C(n + d, d) - 1)`` with ``bias=True``), so set
        this for more than a few features; the certificate then covers the sampled dictionary
        only.
    random_state : None, int, numpy Generator or RandomState, default=None
        Seeds the column sampling of ``max_columns`` (the only randomness); pass an int for
        reproducible fits.
    tol : float, default=1e-6
        Target relative duality gap; a ``ConvergenceWarning`` is raised when it is not reached.
    max_iter : int, default=100
        Maximum number of working-set iterations.
    memory_budget : float or None, default=None
        Bytes the explicit dictionary may use (default: half the memory available now).
    dictionary_mode : {"auto", "explicit", "streamed"}, default="auto"
        ``"auto"`` streams the dictionary (prices candidates in chunks, never stores ``K``) when
        the explicit one would exceed ``memory_budget``; ``"explicit"`` raises
        :class:`wedgenet.MemoryBudgetError` instead (see :func:`wedgenet.fit`).
    certify_all : bool, default=False
        With ``max_columns``, certify the sampled fit by one streamed pass over every candidate.
    backend : {"local", "dask"}, default="local"
        Where the streamed pricing passes run: local numba threads, or the current default
        ``dask.distributed`` client (the one created last; ``"dask"`` implies a streamed
        dictionary, see :func:`wedgenet.fit`).  The client is looked up at ``fit`` time, so
        the estimator stays clonable and picklable."""

_COMMON_ATTRS = """\
    network_ : WedgeNetwork
        The trained network, with the provenance of every neuron and its optimality certificate.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of str
        Feature names seen during ``fit`` (only when ``X`` has string column names).
    duality_gap_ : float
        Primal minus dual objective over the whole dictionary (the sampled one when
        ``max_columns`` is set): the optimality certificate, 0 at the optimum.
    relative_gap_ : float
        ``duality_gap_`` divided by the primal objective.
    n_neurons_ : int
        Number of hidden neurons of ``network_``.
    n_iter_ : int
        Working-set iterations run by the solver (0 when the zero network is certified optimal
        before any iteration)."""


class _WedgeBase(BaseEstimator):
    """Shared parameters and fitting for the wedgenet estimators."""

    def __init__(
        self,
        lam=0.1,
        *,
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
        backend="local",
    ):
        self.lam = lam
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
        self.backend = backend

    def _fit_network(self, X, y, loss):
        net = _wedge_fit(
            X, y, lam=self.lam, loss=loss, reg=self.reg, bias=self.bias, depth=self.depth,
            solver=self.solver, max_columns=self.max_columns, random_state=self.random_state,
            tol=self.tol, max_iter=self.max_iter, memory_budget=self.memory_budget,
            dictionary_mode=self.dictionary_mode, certify_all=self.certify_all, backend=self.backend,
        )
        self.network_ = net
        self.duality_gap_ = net.duality_gap
        self.relative_gap_ = net.relative_gap
        self.n_neurons_ = net.n_neurons
        self.n_iter_ = int(net.info["n_iter"])
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
{_COMMON_PARAMS}

    Attributes
    ----------
{_COMMON_ATTRS}

    Examples
    --------
    >>> import numpy as np
    >>> from wedgenet import WedgeRegressor
    >>> X = np.linspace(-1, 1, 20)[:, None]
    >>> reg = WedgeRegressor(lam=1e-3).fit(X, np.abs(X[:, 0]))
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
{_COMMON_PARAMS}
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
    >>> clf = WedgeClassifier(lam=1e-2).fit(X, y)
    >>> float(clf.score(X, y))
    1.0
    """

    def __init__(
        self,
        lam=0.1,
        *,
        loss="auto",
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
        backend="local",
    ):
        super().__init__(
            lam, reg=reg, bias=bias, depth=depth, solver=solver, max_columns=max_columns,
            random_state=random_state, tol=tol, max_iter=max_iter, memory_budget=memory_budget,
            dictionary_mode=dictionary_mode, certify_all=certify_all, backend=backend,
        )
        self.loss = loss

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = self.loss not in _BINARY_LOSSES
        return tags

    def fit(self, X, y):
        """Train the network on ``X`` (n, d) and class labels ``y`` (n,); returns ``self``."""
        if not isinstance(self.loss, str) or self.loss not in _CLASSIFIER_LOSSES:
            raise ValueError(f"loss must be one of {_CLASSIFIER_LOSSES}; got {self.loss!r}")
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        classes, y_idx = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                f"WedgeClassifier needs samples of at least two classes; got one class ({classes[0]!r})")
        loss = self.loss
        if loss == "auto":
            loss = "logistic" if classes.size == 2 else "softmax"
        if loss in _BINARY_LOSSES:
            y_type = type_of_target(y, input_name="y")
            if y_type != "binary":
                raise ValueError(
                    f"Only binary classification is supported. The type of the target is {y_type} "
                    f"({classes.size} classes) and loss={loss!r} is binary; use loss='softmax' or 'auto'.")
            targets = np.where(y_idx == 1, 1.0, -1.0)
        else:
            targets = y_idx.astype(np.int64)
        self.classes_ = classes
        self.loss_ = loss
        return self._fit_network(X, targets, loss)

    def decision_function(self, X):
        """Scores: (m,) for two classes (positive means ``classes_[1]``), else (m, n_classes)."""
        f = self._raw_output(X)
        if f.ndim == 2 and self.classes_.size == 2:
            return f[:, 1] - f[:, 0]
        return f

    def predict(self, X):
        """Predicted class labels (taken from ``classes_``)."""
        f = self.decision_function(X)
        idx = (f > 0).astype(np.intp) if f.ndim == 1 else np.argmax(f, axis=1)
        return self.classes_[idx]

    def _has_proba(self):
        if hasattr(self, "loss_"):  # fitted: the resolved loss
            return self.loss_ != "hinge"
        return self.loss != "hinge"

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
