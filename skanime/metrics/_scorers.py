"""Ranking scorers for model selection on multilabel targets."""

import copy

from sklearn.metrics import get_scorer as _sklearn_get_scorer
from sklearn.metrics import label_ranking_average_precision_score, make_scorer
from sklearn.utils._param_validation import validate_params

from .._thresholds import positive_scores
from ._report import precision_at_k

# Probabilities are preferred; decision values rank labels just as well.
_RESPONSE_METHOD = ("predict_proba", "decision_function")


def _label_ranking_average_precision(y_true, y_score, *, sample_weight=None):
    """LRAP that also accepts a list of per-label ``predict_proba`` arrays."""
    return label_ranking_average_precision_score(
        y_true, positive_scores(y_score), sample_weight=sample_weight
    )


precision_at_1_scorer = make_scorer(
    precision_at_k, response_method=_RESPONSE_METHOD, k=1
)
precision_at_3_scorer = make_scorer(
    precision_at_k, response_method=_RESPONSE_METHOD, k=3
)
lrap_scorer = make_scorer(
    _label_ranking_average_precision, response_method=_RESPONSE_METHOD
)

_SCORERS = {
    "precision_at_1": precision_at_1_scorer,
    "precision_at_3": precision_at_3_scorer,
    "lrap": lrap_scorer,
}


@validate_params(
    {"scoring": [str, callable, None]},
    prefer_skip_nested_validation=True,
)
def get_scorer(scoring):
    """Get a scorer from its name, knowing skanime's ranking scorers.

    ``"precision_at_1"``, ``"precision_at_3"`` and ``"lrap"`` (label ranking
    average precision) score the output of ``predict_proba`` (or of
    ``decision_function`` when ``predict_proba`` is missing), so they rank
    genres without any decision threshold. Other names are looked up with
    :func:`sklearn.metrics.get_scorer` (``"f1_micro"``, ``"f1_samples"``,
    ...).

    Parameters
    ----------
    scoring : str, callable or None
        Scorer name. A callable is returned as is, None gives None.

    Returns
    -------
    scorer : callable
        A scorer ``scorer(estimator, X, y)``, usable as ``scoring`` in
        :class:`~sklearn.model_selection.GridSearchCV` or
        :func:`~sklearn.model_selection.cross_validate`. Named scorers are
        returned as fresh copies.

    See Also
    --------
    precision_at_k : The metric behind the precision@k scorers.
    sklearn.metrics.get_scorer : The scikit-learn registry used as fallback.

    Notes
    -----
    The ranking scorers take the ``(n_samples, n_labels)`` probability matrix
    of estimators such as ``MLPClassifier`` or
    ``OneVsRestClassifier(LogisticRegression())`` as is, and stack the
    positive-class column of the per-label list returned by
    ``RandomForestClassifier`` or ``KNeighborsClassifier``. scikit-learn
    infers the response shape from ``estimator.classes_``. With only two
    labels, ``classes_ == [0, 1]`` looks binary to it and the scores are cut
    to one column, so these scorers need at least three labels
    (``"precision_at_3"`` needs at least three anyway).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.multiclass import OneVsRestClassifier
    >>> from skanime.metrics import get_scorer
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]] * 3)
    >>> y = np.array([[0, 0, 1], [1, 0, 1], [0, 1, 0], [1, 1, 0]] * 3)
    >>> clf = OneVsRestClassifier(LogisticRegression()).fit(X, y)
    >>> get_scorer("lrap")(clf, X, y)
    1.0
    >>> get_scorer("f1_micro")(clf, X, y)
    1.0
    """
    if isinstance(scoring, str) and scoring in _SCORERS:
        return copy.deepcopy(_SCORERS[scoring])
    try:
        return _sklearn_get_scorer(scoring)
    except ValueError as exc:
        raise ValueError(
            f"{scoring!r} is not a valid scoring value. Use one of "
            f"{sorted(_SCORERS)} or a name from "
            "sklearn.metrics.get_scorer_names()."
        ) from exc
