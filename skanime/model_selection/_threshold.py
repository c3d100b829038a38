"""Decision-threshold tuning for multilabel classifiers."""

import logging
from numbers import Integral, Real

import numpy as np
from sklearn import get_config
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.model_selection import check_cv
from sklearn.utils import Bunch, get_tags
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.metaestimators import available_if
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    indexable,
)

from .._targets import dense_target
from .._thresholds import (
    apply_thresholds as _apply_thresholds,
)
from ._split import MultilabelStratifiedGroupKFold, MultilabelStratifiedKFold
from ._threshold_search import (
    F1_AVERAGES,
    _fit_predict_fold,
    _positive_proba,
    candidate_thresholds,
    mask_score_function,
    search_thresholds,
)

logger = logging.getLogger(__name__)


@validate_params(
    {
        "proba": ["array-like"],
        "thresholds": [Real, "array-like"],
        "min_labels": [Interval(Integral, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def apply_thresholds(proba, thresholds, min_labels=0):
    """Turn per-label scores into label predictions.

    A label is predicted when its score is at least its threshold. Rows with
    fewer than ``min_labels`` predicted labels are then completed with their
    highest-scored remaining labels (ties broken by label order), so every
    row gets at least ``min(min_labels, n_labels)`` labels.

    Parameters
    ----------
    proba : array-like of shape (n_samples, n_labels)
        Per-label scores, such as ``predict_proba`` output.

    thresholds : float or array-like of shape (n_labels,)
        One threshold for all labels, or one per label.

    min_labels : int, default=0
        Minimum number of labels per row, taken by top score. Values above
        ``n_labels`` predict every label.

    Returns
    -------
    y_pred : ndarray of shape (n_samples, n_labels)
        Label indicator matrix of 0 and 1 (int).

    See Also
    --------
    MultiLabelThresholdTuner : Learn the thresholds by cross-validation.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime.model_selection import apply_thresholds
    >>> proba = np.array([[0.9, 0.4, 0.2], [0.1, 0.3, 0.2]])
    >>> apply_thresholds(proba, 0.5)
    array([[1, 0, 0],
           [0, 0, 0]])
    >>> apply_thresholds(proba, [0.5, 0.35, 0.5], min_labels=1)
    array([[1, 1, 0],
           [0, 1, 0]])
    """
    proba = check_array(proba, input_name="proba")
    n_labels = proba.shape[1]
    thresholds = np.asarray(thresholds, dtype=float)
    if thresholds.ndim != 0 and thresholds.shape != (n_labels,):
        raise ValueError(
            f"thresholds must be a float or an array of shape (n_labels,) = "
            f"({n_labels},); got shape {thresholds.shape}."
        )
    return _apply_thresholds(proba, thresholds, min_labels)


def _estimator_has(attr):
    """Check ``attr`` on the fitted estimator if any, else on the unfitted one."""

    def check(self):
        getattr(getattr(self, "estimator_", self.estimator), attr)
        return True

    return check


class MultiLabelThresholdTuner(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Multilabel classifier with decision thresholds tuned by cross-validation.

    A multilabel analogue of
    :class:`~sklearn.model_selection.TunedThresholdClassifierCV`, which only
    handles binary targets. Clones of ``estimator`` are fitted with internal
    cross-validation on ``(X, y)``; their out-of-fold ``predict_proba`` is
    pooled, and the thresholds maximising ``scoring`` on it are kept. Finally
    ``estimator`` is refitted on all of ``(X, y)``. Thresholds are only ever
    learnt from ``(X, y)``, and every score they are chosen on comes from a
    model that did not see the scored rows.

    Parameters
    ----------
    estimator : estimator instance
        Classifier fitted on a label indicator matrix whose ``predict_proba``
        gives one probability per label: an ``(n_samples, n_labels)`` array
        (``MLPClassifier``, ``OneVsRestClassifier``) or a list of
        ``(n_samples, 2)`` arrays (``KNeighborsClassifier``,
        ``RandomForestClassifier``). A :class:`~sklearn.pipeline.Pipeline`
        ending in such a classifier works too.

    scoring : {"f1_micro", "f1_macro", "f1_samples", "f1_weighted"} or \
            callable, default="f1_micro"
        Objective maximised on the out-of-fold predictions. A callable must
        have the signature ``scoring(y_true, y_pred) -> float`` on indicator
        matrices (a metric, not a scorer object); greater is better.

    per_label : bool or "shrunk", default=False
        If False, learn one threshold shared by all labels, the candidate
        with the best ``scoring``. Otherwise learn one threshold per label:

        - True, with ``"f1_micro"``, ``"f1_macro"`` or ``"f1_weighted"``:
          each label's threshold maximises that label's own F1. This
          maximises macro and weighted F1 exactly (before ``min_labels``,
          and but for the labels with few positives, below) and is the usual
          heuristic for micro F1;
        - True, with ``"f1_samples"`` or a callable: thresholds are improved
          one label at a time (one coordinate-ascent pass in column order),
          starting from the best shared threshold, keeping a change only when
          it raises the score;
        - ``"shrunk"``, whatever the scoring: each label's own best-F1
          threshold moved half-way to the best shared threshold, and never
          above it, i.e. ``min((own + shared) / 2, shared)``. A label's own F1
          curve is noisy; shrinking keeps a rare label's low threshold
          partly and never makes a label stricter than the shared rule. This
          is the rule of :class:`~skanime.MultilabelStackingClassifier`'s
          default ``threshold="shrunk"``.

        Under True with an F1 scoring and under ``"shrunk"``, a label with
        fewer than 5 positive out-of-fold rows takes the best shared
        threshold: its own F1 curve is too noisy to choose from.

    thresholds : int or array-like of shape (n_thresholds,), default=100
        Candidate thresholds. An int ``n`` gives ``n`` evenly spaced values
        strictly inside (0, 1), ``np.linspace(0, 1, n + 2)[1:-1]``. An array
        gives the candidates themselves.

    cv : int, cross-validation generator, iterable or None, default=3
        Internal cross-validation. An int ``k`` (or None, for 3) gives
        ``MultilabelStratifiedKFold(k, shuffle=True,
        random_state=random_state)``, or
        ``MultilabelStratifiedGroupKFold(k, shuffle=True,
        random_state=random_state)`` when ``groups`` are passed to ``fit``, so
        that no group is on both sides of an internal split. A splitter or an
        iterable of
        ``(train, test)`` index arrays is used as is; its test rows need not
        cover every sample, and a row tested several times counts several
        times.

    min_labels : int, default=0
        Minimum number of labels predicted per sample: rows with fewer labels
        above threshold are completed with their top-scored labels. It is
        taken into account when scoring shared thresholds and in the
        coordinate-ascent search, but not in the per-label F1 search.

    refit : bool, default=True
        Whether to refit ``estimator`` on all of ``(X, y)`` once thresholds
        are chosen. ``refit=False`` requires ``cv`` with a single split and
        keeps the estimator fitted on its training rows.

    n_jobs : int, default=None
        Number of jobs fitting the cross-validation folds in parallel.
        ``None`` means 1 unless in a :obj:`joblib.parallel_backend` context.
        ``-1`` means using all processors.

    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of the default ``MultilabelStratifiedKFold`` (or
        ``MultilabelStratifiedGroupKFold``). Ignored when ``cv`` is a splitter
        or an iterable.

    Attributes
    ----------
    estimator_ : estimator instance
        The estimator used by ``predict``: refitted on all data, or fitted on
        the single training split when ``refit=False``.

    thresholds_ : ndarray of shape (n_labels,)
        Learnt threshold of each label (all equal when ``per_label=False``;
        never above the shared one when ``per_label="shrunk"``).

    best_score_ : float
        Score of ``thresholds_`` (with ``min_labels``) on the pooled
        out-of-fold predictions. It is optimistic, since the thresholds were
        chosen on those same predictions; use an outer cross-validation for
        an unbiased estimate.

    cv_results_ : dict of ndarray
        ``"thresholds"``: the candidates, shape (n_thresholds,);
        ``"scores"``: the out-of-fold score of each candidate used as the
        shared threshold, shape (n_thresholds,), e.g. to plot threshold versus
        micro F1. With ``per_label=True`` or ``"shrunk"``, also
        ``"label_scores"`` of shape (n_thresholds, n_labels): each label's F1
        curve (per-label F1 search and ``"shrunk"``) or the score reached by
        moving only that label's threshold (coordinate ascent).

    classes_ : ndarray of shape (n_labels,)
        Label (column) indices, ``np.arange(n_labels)``.

    n_features_in_ : int
        Number of features seen during fit, when ``estimator_`` defines it.

    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``estimator_`` defines it.

    See Also
    --------
    apply_thresholds : The prediction rule.
    MultilabelStratifiedKFold : The default internal cross-validation.
    sklearn.model_selection.TunedThresholdClassifierCV : The binary version.
    sklearn.frozen.FrozenEstimator : Wrap an already fitted estimator to tune
        thresholds only.

    Notes
    -----
    The named scorings give the same values as
    ``sklearn.metrics.f1_score(..., average=..., zero_division=0)``. Among
    candidates with the best score (within ``1e-12``), the lowest one is
    kept, in every search; this is the rule of
    :class:`~skanime.MultilabelStackingClassifier` too. The
    coordinate-ascent search calls ``scoring`` ``n_labels * n_thresholds``
    times; pass fewer ``thresholds`` for a slow callable.

    ``fit(X, y, **params)`` passes ``params`` to ``estimator.fit`` (sliced to
    the training rows), except ``groups``, which goes to the splitter (with
    an integer ``cv``, a :class:`MultilabelStratifiedGroupKFold`). When
    metadata routing is enabled (``sklearn.set_config(
    enable_metadata_routing=True)``), parameters are routed as requested
    instead; the default splitter and :class:`MultilabelStratifiedGroupKFold`
    request ``groups``, so ``fit(X, y, groups=groups)`` and a
    :class:`~sklearn.model_selection.GridSearchCV` or
    :func:`~sklearn.model_selection.cross_validate` given ``groups`` reach the
    internal splits.

    References
    ----------
    .. [1] Fan, R.-E., and Lin, C.-J. (2007). "A study on threshold selection
       for multi-label classification". Technical report, National Taiwan
       University.
    .. [2] Lipton, Z. C., Elkan, C., and Naryanaswamy, B. (2014). "Optimal
       thresholding of classifiers to maximize F1 measure". Machine Learning
       and Knowledge Discovery in Databases (ECML PKDD 2014), LNCS 8725,
       pp. 225-239.
    .. [3] Sechidis, K., Tsoumakas, G., and Vlahavas, I. (2011). "On the
       stratification of multi-label data". ECML PKDD 2011, LNCS 6913,
       pp. 145-158.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from skanime.model_selection import MultiLabelThresholdTuner
    >>> rng = np.random.RandomState(0)
    >>> X = rng.normal(size=(200, 3))
    >>> # three rare labels (about 20% positives), each driven by one feature
    >>> y = (rng.uniform(size=(200, 3)) < 1 / (1 + np.exp(2 - 2 * X))).astype(int)
    >>> clf = OneVsRestClassifier(LogisticRegression(solver="liblinear"))
    >>> tuner = MultiLabelThresholdTuner(clf, thresholds=9, random_state=0)
    >>> tuner.fit(X, y).thresholds_
    array([0.3, 0.3, 0.3])
    >>> tuner.cv_results_["thresholds"]
    array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    >>> print(f"out-of-fold micro F1: {tuner.best_score_:.2f}")
    out-of-fold micro F1: 0.60
    >>> tuner.predict(X[:2])
    array([[1, 0, 1],
           [1, 1, 0]])
    >>> tuner.set_params(per_label=True).fit(X, y).thresholds_
    array([0.5, 0.3, 0.3])
    >>> # shrunk: never above the shared 0.3
    >>> tuner.set_params(per_label="shrunk").fit(X, y).thresholds_
    array([0.3, 0.3, 0.3])
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "scoring": [StrOptions(set(F1_AVERAGES)), callable],
        "per_label": ["boolean", StrOptions({"shrunk"})],
        "thresholds": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "cv": ["cv_object"],
        "min_labels": [Interval(Integral, 0, None, closed="left")],
        "refit": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator,
        *,
        scoring="f1_micro",
        per_label=False,
        thresholds=100,
        cv=3,
        min_labels=0,
        refit=True,
        n_jobs=None,
        random_state=None,
    ):
        self.estimator = estimator
        self.scoring = scoring
        self.per_label = per_label
        self.thresholds = thresholds
        self.cv = cv
        self.min_labels = min_labels
        self.refit = refit
        self.n_jobs = n_jobs
        self.random_state = random_state

    def _check_y(self, y):
        y, y_type = dense_target(y)
        if y_type != "multilabel-indicator":
            raise ValueError(
                f"{type(self).__name__} expects y as a label indicator matrix of "
                "shape (n_samples, n_labels) with n_labels >= 2; got a "
                f"{y_type!r} target with shape {y.shape}. Encode genre lists "
                "with sklearn.preprocessing.MultiLabelBinarizer; for a binary "
                "target use sklearn.model_selection.TunedThresholdClassifierCV."
            )
        return y.astype(int)

    def _check_cv(self, groups=None):
        if self.cv is None or isinstance(self.cv, Integral):
            return self._default_splitter(grouped=groups is not None)
        return check_cv(self.cv)

    def _default_splitter(self, grouped):
        """The splitter of an int (or None) ``cv``: by groups when given."""
        splitter = (
            MultilabelStratifiedGroupKFold if grouped else MultilabelStratifiedKFold
        )
        return splitter(
            3 if self.cv is None else self.cv,
            shuffle=True,
            random_state=self.random_state,
        )

    def _route_params(self, params):
        if get_config().get("enable_metadata_routing", False):
            return process_routing(self, "fit", **params)
        params = dict(params)
        groups = params.pop("groups", None)
        return Bunch(
            estimator=Bunch(fit=params),
            splitter=Bunch(split={"groups": groups}),
        )

    @_fit_context(
        # MultiLabelThresholdTuner.estimator is not validated yet.
        prefer_skip_nested_validation=False
    )
    def fit(self, X, y, **params):
        """Fit the estimator and tune its decision thresholds.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data, in any form ``estimator`` accepts (e.g. a list of
            texts for a text pipeline).

        y : {array-like, sparse matrix} of shape (n_samples, n_labels)
            Label indicator matrix.

        **params : dict
            Parameters for ``estimator.fit``, plus ``groups`` for a group
            splitter. See Notes.

        Returns
        -------
        self : object
            Fitted tuner.
        """
        X, y = indexable(X, y)
        y = self._check_y(y)
        n_labels = y.shape[1]
        score_func = mask_score_function(self.scoring)
        grid = candidate_thresholds(self.thresholds)
        routed = self._route_params(params)

        split_params = dict(routed.splitter.split)
        cv = self._check_cv(groups=split_params.get("groups"))
        splits = list(cv.split(X, y, **split_params))
        if not self.refit and len(splits) != 1:
            raise ValueError(
                f"refit=False needs a cv with a single split; got {len(splits)} "
                "splits. Set refit=True, or use e.g. "
                "MultilabelStratifiedShuffleSplit(n_splits=1)."
            )

        folds = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_predict_fold)(
                clone(self.estimator),
                X,
                y,
                train,
                test,
                routed.estimator.fit,
                n_labels,
                not self.refit,
            )
            for train, test in splits
        )
        test_rows = np.concatenate(
            [np.asarray(test, dtype=int) for _, test, _ in folds]
        )
        if test_rows.size == 0:
            raise ValueError(
                "The cross-validation test folds are empty, so no threshold can "
                "be scored. Use a cv whose test folds hold samples."
            )
        y_oof = y[test_rows].astype(bool)
        proba_oof = np.vstack([proba for _, _, proba in folds])

        self.thresholds_, self.best_score_, self.cv_results_ = search_thresholds(
            y_oof,
            proba_oof,
            grid,
            score_func,
            scoring=self.scoring,
            per_label=self.per_label,
            min_labels=self.min_labels,
        )
        logger.info(
            "%s: thresholds chosen with out-of-fold %s = %.4f (min %.3f, max %.3f)",
            type(self).__name__,
            self.scoring if isinstance(self.scoring, str) else "score",
            self.best_score_,
            self.thresholds_.min(),
            self.thresholds_.max(),
        )

        if self.refit:
            self.estimator_ = clone(self.estimator).fit(X, y, **routed.estimator.fit)
        else:
            self.estimator_ = folds[0][0]
        self.classes_ = np.arange(n_labels)
        if hasattr(self.estimator_, "n_features_in_"):
            self.n_features_in_ = self.estimator_.n_features_in_
        if hasattr(self.estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.estimator_.feature_names_in_
        return self

    def predict_proba(self, X):
        """Per-label probabilities from the fitted estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, in any form ``estimator`` accepts.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
            Probability of each label. Per-label lists returned by some
            estimators are stacked into one array.
        """
        check_is_fitted(self, "thresholds_")
        return _positive_proba(self.estimator_, X, self.classes_.size)

    def predict(self, X):
        """Predict labels with the learnt thresholds.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, in any form ``estimator`` accepts.

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_labels)
            Label indicator matrix: probabilities at or above
            ``thresholds_``, completed up to ``min_labels`` labels per row.
        """
        return _apply_thresholds(
            self.predict_proba(X), self.thresholds_, self.min_labels
        )

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """Decision function of the fitted estimator.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, in any form ``estimator`` accepts.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_labels)
            ``estimator_.decision_function(X)``. The thresholds apply to
            probabilities, not to these scores.
        """
        check_is_fitted(self, "thresholds_")
        return self.estimator_.decision_function(X)

    def get_metadata_routing(self):
        """Get metadata routing of this object.

        Returns
        -------
        routing : MetadataRouter
            Routes ``fit`` parameters to ``estimator.fit`` and to the
            splitter's ``split``.
        """
        splitter = self.cv
        if self.cv is None or isinstance(self.cv, Integral):
            # The default splitter takes groups when they are given.
            splitter = self._default_splitter(grouped=True)
        router = MetadataRouter(owner=self)
        router.add(
            estimator=self.estimator,
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
        router.add(
            splitter=splitter,
            method_mapping=MethodMapping().add(caller="fit", callee="split"),
        )
        return router

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.classifier_tags.multi_label = True
        inner = get_tags(self.estimator)
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.string = inner.input_tags.string
        tags.input_tags.two_d_array = inner.input_tags.two_d_array
        return tags
