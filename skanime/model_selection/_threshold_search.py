"""How :class:`MultiLabelThresholdTuner` picks thresholds from probabilities.

The out-of-fold probabilities of one cross-validation fold, the candidate
grid, the score of a prediction mask, and the search for one shared threshold
or one threshold per label on the pooled out-of-fold probabilities. The
search routines themselves live in :mod:`skanime._thresholds`.
"""

from functools import partial
from numbers import Integral

import numpy as np
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _check_method_params, _num_samples

from .._thresholds import (
    best_index,
    best_per_label_thresholds,
    coordinate_ascent,
    coordinate_ascent_samples_f1,
    mask_f1,
    per_label_f1_curves,
    positive_scores,
    shared_threshold_scores,
    shrink_thresholds,
    threshold_mask,
)

F1_AVERAGES = {
    "f1_micro": "micro",
    "f1_macro": "macro",
    "f1_samples": "samples",
    "f1_weighted": "weighted",
}
# Scorings for which per-label thresholds maximise each label's own F1.
_PER_LABEL_F1_SCORINGS = ("f1_micro", "f1_macro", "f1_weighted")


def _positive_proba(estimator, X, n_labels):
    """Per-label positive-class probabilities as an (n_samples, n_labels) array."""
    proba = positive_scores(
        estimator.predict_proba(X), getattr(estimator, "classes_", None)
    )
    proba = np.asarray(proba)
    n_samples = _num_samples(X)
    if proba.shape != (n_samples, n_labels):
        raise ValueError(
            f"{type(estimator).__name__}.predict_proba returned shape "
            f"{proba.shape}; expected (n_samples, n_labels) = "
            f"({n_samples}, {n_labels}). MultiLabelThresholdTuner needs an "
            "estimator fitted on a label indicator matrix that returns one "
            "probability per label, such as MLPClassifier, "
            "KNeighborsClassifier or OneVsRestClassifier."
        )
    return proba.astype(float, copy=False)


def _fit_predict_fold(
    estimator, X, y, train, test, fit_params, n_labels, return_estimator
):
    """Fit a clone on the train rows and score the test rows."""
    fit_params_train = _check_method_params(X, params=fit_params, indices=train)
    estimator.fit(_safe_indexing(X, train), y[train], **fit_params_train)
    proba = _positive_proba(estimator, _safe_indexing(X, test), n_labels)
    return (estimator if return_estimator else None), test, proba


def candidate_thresholds(thresholds):
    """The sorted candidate grid: ``thresholds`` values, or that many in (0, 1)."""
    if isinstance(thresholds, Integral):
        return np.linspace(0.0, 1.0, thresholds + 2)[1:-1]
    grid = np.asarray(thresholds, dtype=float)
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)):
        raise ValueError(
            "thresholds must be an int or a non-empty 1-D array of finite "
            f"candidate values; got an array of shape {grid.shape}."
        )
    return np.unique(grid)


def mask_score_function(scoring):
    """Return ``score(y_true, mask)`` on boolean indicator matrices.

    ``scoring`` is a key of :data:`F1_AVERAGES` or a metric
    ``scoring(y_true, y_pred) -> float`` on 0/1 indicator matrices.
    """
    if isinstance(scoring, str):
        return partial(mask_f1, average=F1_AVERAGES[scoring])
    if hasattr(scoring, "_score_func"):
        raise ValueError(
            "scoring must be a metric scoring(y_true, y_pred) -> float, not a "
            "scorer object scorer(estimator, X, y). Pass the metric itself, "
            "e.g. functools.partial(sklearn.metrics.fbeta_score, beta=2, "
            "average='micro')."
        )

    def score(y_true, mask):
        return scoring(y_true.astype(int), mask.astype(int))

    return score


def _score_mask(score_func, y_true, proba, thresholds, min_labels):
    return score_func(y_true, threshold_mask(proba, thresholds, min_labels))


def search_thresholds(y, proba, grid, score_func, *, scoring, per_label, min_labels):
    """Thresholds maximising ``score_func`` of ``proba`` against ``y``.

    Parameters
    ----------
    y : ndarray of shape (n_samples, n_labels), dtype=bool
        True labels.
    proba : ndarray of shape (n_samples, n_labels)
        Probability of each label.
    grid : ndarray of shape (n_candidates,)
        Candidate thresholds, sorted.
    score_func : callable
        ``score(y_true, mask)``, from :func:`mask_score_function`.
    scoring : str or callable
        What ``score_func`` was built from: per-label F1 scorings are searched
        label by label, the others by coordinate ascent.
    per_label : bool or "shrunk"
        One shared threshold (False), one per label (True), or one per label
        shrunk towards the shared one ("shrunk").
    min_labels : int
        Minimum number of labels per row of a prediction.

    Returns
    -------
    thresholds : ndarray of shape (n_labels,)
    best_score : float
        ``score_func`` of the prediction with ``thresholds``.
    cv_results : dict
        ``"thresholds"`` (the grid), ``"scores"`` (the score of each shared
        threshold) and, with ``per_label``, ``"label_scores"``.
    """
    n_labels = y.shape[1]
    shared_scores = shared_threshold_scores(y, proba, grid, min_labels, score_func)
    best = best_index(shared_scores)
    shared = grid[best]
    cv_results = {"thresholds": grid.copy(), "scores": shared_scores}

    shrunk = isinstance(per_label, str)  # "shrunk"
    if not per_label:
        return np.full(n_labels, shared), float(shared_scores[best]), cv_results
    if shrunk or (isinstance(scoring, str) and scoring in _PER_LABEL_F1_SCORINGS):
        label_scores = per_label_f1_curves(y, proba, grid)
        thresholds = best_per_label_thresholds(
            y, proba, shared, grid, curves=label_scores
        )
        if shrunk:
            thresholds = shrink_thresholds(thresholds, shared)
    elif scoring == "f1_samples" and min_labels == 0:
        thresholds, label_scores = coordinate_ascent_samples_f1(
            y, proba, grid, np.full(n_labels, shared), shared_scores[best]
        )
    else:
        thresholds, label_scores = coordinate_ascent(
            y,
            proba,
            grid,
            np.full(n_labels, shared),
            shared_scores[best],
            partial(_score_mask, score_func, min_labels=min_labels),
        )
    cv_results["label_scores"] = label_scores
    thresholds = np.asarray(thresholds, dtype=float)
    best_score = float(score_func(y, threshold_mask(proba, thresholds, min_labels)))
    return thresholds, best_score, cv_results
