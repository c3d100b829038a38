"""Turning label scores into label sets."""

import numpy as np


def apply_thresholds(scores, thresholds, min_labels=0):
    """Binarise label scores, keeping at least ``min_labels`` labels per row.

    Parameters
    ----------
    scores : ndarray of shape (n_samples, n_labels)
        Probabilities (or any scores on the scale of ``thresholds``).
    thresholds : float or ndarray of shape (n_labels,)
        A label is predicted when its score is at least its threshold.
    min_labels : int, default=0
        Rows with fewer predicted labels keep them and are topped up to
        ``min_labels`` labels with their best-scored other labels (ties broken
        by label order).

    Returns
    -------
    y_pred : ndarray of shape (n_samples, n_labels), dtype=int64
        Label indicator matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime._thresholds import apply_thresholds
    >>> scores = np.array([[0.9, 0.2, 0.6], [0.1, 0.3, 0.2]])
    >>> apply_thresholds(scores, 0.5)
    array([[1, 0, 1],
           [0, 0, 0]])
    >>> apply_thresholds(scores, 0.5, min_labels=1)
    array([[1, 0, 1],
           [0, 1, 0]])
    """
    y_pred = threshold_mask(np.asarray(scores), np.asarray(thresholds), min_labels)
    return y_pred.astype(np.int64)


def threshold_mask(scores, thresholds, min_labels=0):
    """Boolean form of :func:`apply_thresholds`, without input checks."""
    y_pred = scores >= thresholds
    k = min(int(min_labels), scores.shape[1])
    if k > 0:
        short = np.flatnonzero(y_pred.sum(axis=1) < k)
        if short.size:
            # Labels already predicted rank first, then the best-scored others;
            # the sort is stable, so the lower label index wins ties.
            ranked = np.where(y_pred[short], np.inf, scores[short])
            top = np.argsort(-ranked, axis=1, kind="stable")[:, :k]
            y_pred[short[:, None], top] = True
    return y_pred


# Candidate thresholds of the searches on out-of-fold probabilities.
THRESHOLD_GRID = np.round(np.arange(0.02, 0.805, 0.01), 2)
# Labels with fewer positives than this take the shared threshold under the
# per-label rule: their own F1 curve is too noisy to choose from.
MIN_POSITIVES_PER_LABEL = 5


def positive_scores(proba):
    """Per-label positive-class scores as one ``(n_samples, n_labels)`` array.

    ``predict_proba`` of a multilabel scikit-learn classifier is either that
    array or a list of ``(n_samples, n_classes)`` arrays, one per label. A
    label seen with one class only has a one-column array: its positive
    score is 1 if that class was 1 and 0 otherwise.

    Parameters
    ----------
    proba : ndarray or list of ndarray
        ``predict_proba`` output.

    Returns
    -------
    scores : ndarray of shape (n_samples, n_labels)
    """
    if isinstance(proba, list):
        return np.column_stack([p[:, -1] if p.shape[1] > 1 else p[:, 0] for p in proba])
    return np.asarray(proba)


def _micro_f1(Y, mask):
    tp = np.count_nonzero(Y & mask)
    total = np.count_nonzero(Y) + np.count_nonzero(mask)
    return 2.0 * tp / total if total else 0.0


def best_shared_threshold(Y, proba, min_labels=0, grid=THRESHOLD_GRID):
    """The candidate threshold with the best micro-F1 on ``(Y, proba)``.

    Ties go to the lowest candidate.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_labels)
        True label indicator matrix.
    proba : ndarray of shape (n_samples, n_labels)
        Out-of-fold probabilities.
    min_labels : int, default=0
        As in :func:`apply_thresholds`.
    grid : ndarray, default=THRESHOLD_GRID
        Candidate thresholds.

    Returns
    -------
    threshold : float
    """
    Y = np.asarray(Y, dtype=bool)
    scores = [_micro_f1(Y, threshold_mask(proba, t, min_labels)) for t in grid]
    return float(grid[int(np.argmax(scores))])


def best_per_label_thresholds(Y, proba, fallback, grid=THRESHOLD_GRID):
    """The candidate threshold with the best F1 of each label.

    Ties go to the lowest candidate; labels with fewer than
    ``MIN_POSITIVES_PER_LABEL`` positives take ``fallback``.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_labels)
        True label indicator matrix.
    proba : ndarray of shape (n_samples, n_labels)
        Out-of-fold probabilities.
    fallback : float
        Threshold of the labels with too few positives.
    grid : ndarray, default=THRESHOLD_GRID
        Candidate thresholds.

    Returns
    -------
    thresholds : ndarray of shape (n_labels,)
    """
    Y = np.asarray(Y, dtype=bool)
    positives = Y.sum(axis=0)
    curves = np.empty((len(grid), Y.shape[1]))
    for i, t in enumerate(grid):
        mask = proba >= t
        tp = np.count_nonzero(mask & Y, axis=0)
        total = positives + np.count_nonzero(mask, axis=0)
        curves[i] = np.divide(
            2.0 * tp, total, out=np.zeros(Y.shape[1]), where=total > 0
        )
    best = grid[np.argmax(curves, axis=0)]
    return np.where(positives >= MIN_POSITIVES_PER_LABEL, best, fallback)


def fit_thresholds(Y, proba, rule, min_labels=0):
    """Decision thresholds of each label by a named rule or as given.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_labels)
        True label indicator matrix of the rows of ``proba``.
    proba : ndarray of shape (n_samples, n_labels)
        Out-of-fold probabilities.
    rule : {"shared", "per_label", "shrunk"}, float or array-like of shape \
            (n_labels,)
        ``"shared"``: :func:`best_shared_threshold`; ``"per_label"``:
        :func:`best_per_label_thresholds` with the shared one as fallback;
        ``"shrunk"``: each label's best threshold moved half-way to the shared
        one, and never above it (a label's own F1 curve is noisy, and for
        calibrated probabilities the F1-optimal threshold of a hard, rare
        label is low); a float or array in [0, 1] is used as given.
    min_labels : int, default=0
        As in :func:`apply_thresholds`.

    Returns
    -------
    thresholds : ndarray of shape (n_labels,)
    """
    n_labels = np.shape(Y)[1]
    if isinstance(rule, str):
        shared = best_shared_threshold(Y, proba, min_labels)
        if rule == "shared":
            return np.full(n_labels, shared)
        per_label = best_per_label_thresholds(Y, proba, shared)
        if rule == "shrunk":
            return np.minimum((per_label + shared) / 2.0, shared)
        return per_label
    thresholds = np.asarray(rule, dtype=float)
    if thresholds.ndim == 0:
        thresholds = np.full(n_labels, float(thresholds))
    if thresholds.shape != (n_labels,) or not np.all(
        (thresholds >= 0) & (thresholds <= 1)
    ):
        raise ValueError(
            "threshold must be 'shared', 'per_label', 'shrunk', a float in [0, 1] "
            "or one "
            f"value in [0, 1] per label, shape ({n_labels},); got {rule!r}."
        )
    return thresholds
