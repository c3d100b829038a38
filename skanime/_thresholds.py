"""Decision thresholds: turning label scores into label sets, and choosing them.

This module is the one home of skanime's threshold logic, in plain numpy and
without input validation (the public estimators and
:func:`skanime.model_selection.apply_thresholds` validate their inputs, then
call these functions). It is used by :class:`~skanime.MultilabelStackingClassifier`,
:class:`~skanime.FocalMLPClassifier`,
:class:`~skanime.model_selection.MultiLabelThresholdTuner` and
:mod:`skanime.metrics`.

Rules shared by every caller:

- **Decision.** A label is predicted when its score is *at least* its
  threshold; ``min_labels`` then tops short rows up with their best-scored
  other labels (ties broken by label order).
- **Ties between candidate thresholds.** Every search keeps the *lowest*
  candidate among those whose score is within ``TIE_TOLERANCE`` of the best
  (:func:`best_index`). A lower threshold predicts more labels, which recall-
  hungry rare genres need, and the lowest of a plateau is the same answer
  ``np.argmax`` gives.
- **Few positives.** Under the per-label rules, a label with fewer than
  ``MIN_POSITIVES_PER_LABEL`` positive rows takes the shared threshold: its
  own F1 curve is too noisy to choose from.
- **Rules.** ``"shared"``: one threshold for all labels; ``"per_label"``: each
  label's best-F1 threshold; ``"shrunk"``: each label's best-F1 threshold
  moved half-way to the shared one, and never above it
  (:func:`shrink_thresholds`).
- **Positive column.** A label whose classifier saw one class only has a
  one-column ``predict_proba``; its positive score is the probability of the
  positive class: 1 when that only class is 1 and 0 when it is 0
  (:func:`positive_scores`).
"""

import numpy as np

# Candidate thresholds of the searches on out-of-fold probabilities.
THRESHOLD_GRID = np.round(np.arange(0.02, 0.805, 0.01), 2)
# Labels with fewer positives than this take the shared threshold under the
# per-label rules: their own F1 curve is too noisy to choose from.
MIN_POSITIVES_PER_LABEL = 5
# Scores closer than this to the best one are ties; a coordinate-ascent step
# must beat the current score by more than this.
TIE_TOLERANCE = 1e-12


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


def positive_scores(proba, classes=None):
    """Per-label positive-class scores as one ``(n_samples, n_labels)`` array.

    ``predict_proba`` of a multilabel scikit-learn classifier is either that
    array or a list of ``(n_samples, n_classes)`` arrays, one per label. The
    positive column of a label is the one of class 1 when ``classes`` tells
    it, else the last one. A label seen with one class only has a one-column
    array: its positive score is the probability of the positive class, 1
    when that only class is 1 and 0 when it is 0. Without ``classes`` the
    only class is taken to be 0, the usual case (a genre with no positive
    training row).

    Parameters
    ----------
    proba : ndarray or list of ndarray
        ``predict_proba`` output. Anything but a list or tuple of 2-D arrays
        is returned as is.
    classes : list of ndarray, default=None
        ``classes_`` of the estimator: the classes of each label.

    Returns
    -------
    scores : ndarray of shape (n_samples, n_labels)

    Examples
    --------
    >>> import numpy as np
    >>> from skanime._thresholds import positive_scores
    >>> proba = [np.array([[0.8, 0.2], [0.3, 0.7]]), np.array([[1.0], [1.0]])]
    >>> positive_scores(proba)
    array([[0.2, 0. ],
           [0.7, 0. ]])
    >>> positive_scores(proba, classes=[np.array([0, 1]), np.array([1])])
    array([[0.2, 1. ],
           [0.7, 1. ]])
    """
    if not (
        isinstance(proba, (list, tuple))
        and len(proba) > 0
        and all(np.ndim(p) == 2 for p in proba)
    ):
        return proba
    if not (isinstance(classes, (list, tuple)) and len(classes) == len(proba)):
        classes = [None] * len(proba)
    columns = []
    for label_proba, label_classes in zip(proba, classes, strict=True):
        label_proba = np.asarray(label_proba)
        is_one = (
            np.zeros(label_proba.shape[1], dtype=bool)
            if label_classes is None
            else np.asarray(label_classes) == 1
        )
        if label_proba.shape[1] == 1:
            columns.append(np.full(label_proba.shape[0], float(is_one[0])))
        elif is_one.any():
            columns.append(label_proba[:, int(np.flatnonzero(is_one)[0])])
        else:
            columns.append(label_proba[:, -1])
    return np.column_stack(columns)


def mask_f1(y_true, y_pred, average="micro"):
    """F1 of boolean indicator matrices, as ``f1_score(..., zero_division=0)``.

    The threshold searches score hundreds of candidate predictions; this
    vectorised form gives the same values as :func:`sklearn.metrics.f1_score`
    without its per-call input checks.

    Parameters
    ----------
    y_true, y_pred : ndarray of bool, shape (n_samples, n_labels)
        True and predicted label indicator matrices.
    average : {"micro", "macro", "samples", "weighted"}, default="micro"
        As in :func:`sklearn.metrics.f1_score`.

    Returns
    -------
    f1 : float
    """
    both = y_true & y_pred
    if average == "samples":
        tp = both.sum(axis=1)
        denominator = y_true.sum(axis=1) + y_pred.sum(axis=1)
    else:
        tp = both.sum(axis=0)
        denominator = y_true.sum(axis=0) + y_pred.sum(axis=0)
        if average == "micro":
            tp, denominator = tp.sum(), denominator.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        f1 = np.where(denominator > 0, 2 * tp / denominator, 0.0)
    if average == "weighted":
        support = y_true.sum(axis=0)
        total = support.sum()
        return float(f1 @ support / total) if total > 0 else 0.0
    return float(np.mean(f1))


def best_index(curve):
    """Index of the best score; among ties, the lowest candidate.

    Scores within ``TIE_TOLERANCE`` of the best are ties; NaN scores are
    ignored.

    Parameters
    ----------
    curve : array-like of shape (n_thresholds,)
        Score of each candidate threshold, in increasing candidate order.

    Returns
    -------
    index : int
    """
    curve = np.asarray(curve, dtype=float)
    if np.all(np.isnan(curve)):
        raise ValueError(
            "The scoring function returned NaN for every candidate threshold; "
            "check that it returns a float for indicator predictions."
        )
    with np.errstate(invalid="ignore"):
        return int(np.flatnonzero(curve >= np.nanmax(curve) - TIE_TOLERANCE)[0])


def shared_threshold_scores(Y, proba, grid, min_labels=0, score=mask_f1):
    """Score of each candidate used as the threshold of every label.

    Parameters
    ----------
    Y : ndarray of bool, shape (n_samples, n_labels)
        True label indicator matrix.
    proba : ndarray of shape (n_samples, n_labels)
        Out-of-fold probabilities.
    grid : ndarray of shape (n_thresholds,)
        Candidate thresholds.
    min_labels : int, default=0
        As in :func:`apply_thresholds`.
    score : callable, default=mask_f1
        ``score(Y, mask) -> float`` on boolean indicator matrices; the default
        is micro F1.

    Returns
    -------
    scores : ndarray of shape (n_thresholds,)
    """
    return np.array(
        [score(Y, threshold_mask(proba, t, min_labels)) for t in grid], dtype=float
    )


def best_shared_threshold(Y, proba, min_labels=0, grid=THRESHOLD_GRID):
    """The candidate threshold with the best micro-F1 on ``(Y, proba)``.

    Ties go to the lowest candidate (:func:`best_index`).

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_labels)
        True label indicator matrix.
    proba : ndarray of shape (n_samples, n_labels)
        Out-of-fold probabilities.
    min_labels : int, default=0
        As in :func:`apply_thresholds`.
    grid : ndarray, default=THRESHOLD_GRID
        Candidate thresholds, in increasing order.

    Returns
    -------
    threshold : float
    """
    Y = np.asarray(Y, dtype=bool)
    return float(grid[best_index(shared_threshold_scores(Y, proba, grid, min_labels))])


def per_label_f1_curves(Y, proba, grid):
    """F1 of each label at each candidate threshold.

    A label with no positive example scores 1 where it is never predicted
    (and 0 elsewhere), so its best threshold predicts it nowhere.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_labels)
        True label indicator matrix.
    proba : ndarray of shape (n_samples, n_labels)
        Out-of-fold probabilities.
    grid : ndarray of shape (n_thresholds,)
        Candidate thresholds.

    Returns
    -------
    curves : ndarray of shape (n_thresholds, n_labels)
    """
    Y = np.asarray(Y, dtype=bool)
    grid = np.asarray(grid, dtype=float)
    n_samples, n_labels = Y.shape
    curves = np.empty((grid.size, n_labels))
    for j in range(n_labels):
        scores_pos = np.sort(proba[Y[:, j], j])
        scores_all = np.sort(proba[:, j])
        tp = scores_pos.size - np.searchsorted(scores_pos, grid, side="left")
        predicted = n_samples - np.searchsorted(scores_all, grid, side="left")
        denominator = predicted + scores_pos.size
        with np.errstate(divide="ignore", invalid="ignore"):
            curves[:, j] = np.where(denominator > 0, 2 * tp / denominator, 1.0)
    return curves


def best_per_label_thresholds(Y, proba, fallback, grid=THRESHOLD_GRID, curves=None):
    """The candidate threshold with the best F1 of each label.

    Ties go to the lowest candidate (:func:`best_index`); labels with fewer
    than ``MIN_POSITIVES_PER_LABEL`` positives take ``fallback``.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_labels)
        True label indicator matrix.
    proba : ndarray of shape (n_samples, n_labels)
        Out-of-fold probabilities.
    fallback : float
        Threshold of the labels with too few positives.
    grid : ndarray, default=THRESHOLD_GRID
        Candidate thresholds, in increasing order.
    curves : ndarray of shape (n_thresholds, n_labels), default=None
        :func:`per_label_f1_curves` of ``(Y, proba, grid)`` if already
        computed.

    Returns
    -------
    thresholds : ndarray of shape (n_labels,)
    """
    if curves is None:
        curves = per_label_f1_curves(Y, proba, grid)
    best = grid[[best_index(curves[:, j]) for j in range(curves.shape[1])]]
    positives = np.count_nonzero(np.asarray(Y), axis=0)
    return np.where(positives >= MIN_POSITIVES_PER_LABEL, best, fallback)


def shrink_thresholds(per_label, shared):
    """Per-label thresholds moved half-way to the shared one, never above it.

    A label's own F1 curve is noisy, and for calibrated probabilities the
    F1-optimal threshold of a hard, rare label is low: the shrunk threshold
    keeps a low one but halves its distance to the shared threshold, and
    lowers a high one only to the shared threshold.

    Parameters
    ----------
    per_label : ndarray of shape (n_labels,)
        Each label's own best threshold.
    shared : float
        The best shared threshold.

    Returns
    -------
    thresholds : ndarray of shape (n_labels,)
    """
    return np.minimum((np.asarray(per_label, dtype=float) + shared) / 2.0, shared)


def check_thresholds(thresholds, n_labels):
    """Thresholds given as values: one float, or one value per label, in [0, 1].

    Parameters
    ----------
    thresholds : float or array-like of shape (n_labels,)
        The given thresholds.
    n_labels : int
        Number of labels.

    Returns
    -------
    thresholds : ndarray of shape (n_labels,)

    Raises
    ------
    ValueError
        If an array does not have one value per label, or a value is not in
        [0, 1] (NaN included). The message says which, for the caller to
        prefix with the parameter's name.
    """
    values = np.asarray(thresholds, dtype=float)
    if values.ndim and values.shape != (n_labels,):
        raise ValueError(
            "threshold as an array must have one value per label, shape "
            f"({n_labels},); got shape {values.shape}."
        )
    if not np.all((values >= 0) & (values <= 1)):
        raise ValueError(
            f"threshold values must lie in [0, 1]. Got {values.tolist()!r:.80} instead."
        )
    return np.broadcast_to(values, (n_labels,)).copy()


def fit_thresholds(Y, proba, rule, min_labels=0, grid=THRESHOLD_GRID):
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
        ``"shrunk"``: those per-label thresholds passed through
        :func:`shrink_thresholds`; a float or array in [0, 1] is used as
        given (:func:`check_thresholds`).
    min_labels : int, default=0
        As in :func:`apply_thresholds`; used to choose the shared threshold.
    grid : ndarray, default=THRESHOLD_GRID
        Candidate thresholds, in increasing order.

    Returns
    -------
    thresholds : ndarray of shape (n_labels,)
    """
    n_labels = np.shape(Y)[1]
    if isinstance(rule, str):
        shared = best_shared_threshold(Y, proba, min_labels, grid)
        if rule == "shared":
            return np.full(n_labels, shared)
        per_label = best_per_label_thresholds(Y, proba, shared, grid)
        if rule == "shrunk":
            return shrink_thresholds(per_label, shared)
        return per_label
    try:
        return check_thresholds(rule, n_labels)
    except ValueError as error:
        raise ValueError(
            "threshold must be 'shared', 'per_label', 'shrunk', a float in [0, 1] "
            f"or one value in [0, 1] per label: {error}"
        ) from None


def coordinate_ascent(Y, proba, grid, thresholds, score, evaluate):
    """One coordinate-ascent pass over the labels, in column order.

    Each label's threshold in turn takes the best candidate (:func:`best_index`)
    while the others stay fixed; the move is kept only when it raises the
    score by more than ``TIE_TOLERANCE``.

    Parameters
    ----------
    Y : ndarray of bool, shape (n_samples, n_labels)
        True label indicator matrix.
    proba : ndarray of shape (n_samples, n_labels)
        Out-of-fold probabilities.
    grid : ndarray of shape (n_thresholds,)
        Candidate thresholds.
    thresholds : ndarray of shape (n_labels,)
        Starting thresholds, e.g. the best shared one for every label.
    score : float
        Score of the starting thresholds.
    evaluate : callable
        ``evaluate(Y, proba, thresholds) -> float`` scores a full threshold
        vector.

    Returns
    -------
    thresholds : ndarray of shape (n_labels,)
        The improved thresholds.
    label_scores : ndarray of shape (n_thresholds, n_labels)
        For each label, the score reached by each of its candidates.
    """
    thresholds = np.array(thresholds, dtype=float)
    n_labels = proba.shape[1]
    label_scores = np.empty((grid.size, n_labels))
    for j in range(n_labels):
        trial = thresholds.copy()
        for i, threshold in enumerate(grid):
            trial[j] = threshold
            label_scores[i, j] = evaluate(Y, proba, trial)
        i = best_index(label_scores[:, j])
        if label_scores[i, j] > score + TIE_TOLERANCE:
            thresholds[j] = grid[i]
            score = label_scores[i, j]
    return thresholds, label_scores


def coordinate_ascent_samples_f1(Y, proba, grid, thresholds, score):
    """:func:`coordinate_ascent` for samples-averaged F1 without ``min_labels``.

    Only one column changes at a time, so each sample's true-positive and
    predicted counts are updated for all candidates of that column at once.
    Parameters and returns are those of :func:`coordinate_ascent`.
    """
    thresholds = np.array(thresholds, dtype=float)
    n_labels = proba.shape[1]
    mask = proba >= thresholds
    n_true = Y.sum(axis=1)
    n_hit = (Y & mask).sum(axis=1)
    n_pred = mask.sum(axis=1)
    label_scores = np.empty((grid.size, n_labels))
    for j in range(n_labels):
        truth = Y[:, j]
        hit_rest = n_hit - (truth & mask[:, j])
        pred_rest = n_pred - mask[:, j]
        candidates = proba[:, j][:, None] >= grid  # (n_samples, n_thresholds)
        hits = hit_rest[:, None] + (candidates & truth[:, None])
        denominator = pred_rest[:, None] + candidates + n_true[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            f1 = np.where(denominator > 0, 2 * hits / denominator, 0.0)
        label_scores[:, j] = f1.mean(axis=0)
        i = best_index(label_scores[:, j])
        if label_scores[i, j] > score + TIE_TOLERANCE:
            thresholds[j] = grid[i]
            score = label_scores[i, j]
            mask[:, j] = candidates[:, i]
            n_hit = hit_rest + (truth & mask[:, j])
            n_pred = pred_rest + mask[:, j]
    return thresholds, label_scores
