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
        Rows with fewer predicted labels get their ``min_labels`` best-scored
        labels instead (ties broken by label order).

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
    scores = np.asarray(scores)
    y_pred = (scores >= np.asarray(thresholds)).astype(np.int64)
    n_labels = scores.shape[1]
    k = min(int(min_labels), n_labels)
    if k == 0:
        return y_pred
    short = np.flatnonzero(y_pred.sum(axis=1) < k)
    if short.size:
        # A stable sort on the negated scores keeps the lower label index on ties.
        top = np.argsort(-scores[short], axis=1, kind="stable")[:, :k]
        y_pred[short[:, None], top] = 1
    return y_pred
