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
