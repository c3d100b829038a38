"""The validation data of early stopping: how it is held out and scored."""

import warnings

import numpy as np
from sklearn.metrics import accuracy_score, average_precision_score
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing

from .model_selection import MultilabelStratifiedGroupKFold


def validation_split(X, Y, validation_fraction, target_kind, seed, groups=None):
    """Hold out about ``validation_fraction`` of ``(X, Y)`` for early stopping.

    Without ``groups``, a random split of the samples, stratified for class
    targets whose classes all have two samples or more (label sets are not
    stratified). With ``groups``, whole groups are held out: the validation
    set is one fold of a
    :class:`~skanime.model_selection.MultilabelStratifiedGroupKFold` with
    ``round(1 / validation_fraction)`` folds, so no group has samples on both
    sides and the label proportions of both sides stay close.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training features.
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets (label indicator matrix or one-hot classes).
    validation_fraction : float
        Share of the samples to hold out, in (0, 1).
    target_kind : {"multilabel", "binary", "multiclass"}
        What ``Y`` encodes.
    seed : int
        Seeds the split.
    groups : array-like of shape (n_samples,) or None, default=None
        Group of each sample.

    Returns
    -------
    X_train, X_val, Y_train, Y_val
        The two sides of the split.
    """
    if groups is None:
        stratify = None
        if target_kind != "multilabel":
            counts = (
                Y.sum(axis=0) if Y.shape[1] > 1 else np.bincount(Y[:, 0].astype(int))
            )
            if counts.min() >= 2:
                stratify = Y
        return train_test_split(
            X, Y, test_size=validation_fraction, random_state=seed, stratify=stratify
        )
    groups = np.asarray(groups)
    if groups.ndim != 1 or groups.shape[0] != Y.shape[0]:
        raise ValueError(
            "groups must hold one group per training sample, shape "
            f"({Y.shape[0]},); got shape {groups.shape}."
        )
    n_splits = max(2, int(round(1 / validation_fraction)))
    n_groups = np.unique(groups).size
    if n_groups < n_splits:
        raise ValueError(
            f"Early stopping holds out whole groups, one group in {n_splits} for "
            f"validation_fraction={validation_fraction}, so it needs at least "
            f"{n_splits} groups; got {n_groups}. Pass finer groups, raise "
            "validation_fraction, or pass X_val and y_val."
        )
    # Both columns of a binary target, so that the splitter sees label sets.
    labels = np.hstack([Y, 1 - Y]) if Y.shape[1] == 1 else Y
    splitter = MultilabelStratifiedGroupKFold(
        n_splits=n_splits, shuffle=True, random_state=seed
    )
    # The first fold with samples, in case the groups cannot fill them all
    # (the splitter warns about empty folds, which are skipped here).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        folds = list(splitter.split(np.zeros(len(Y)), labels, groups))
    train, test = next((tr, te) for tr, te in folds if te.size)
    return (
        _safe_indexing(X, train),
        _safe_indexing(X, test),
        Y[train],
        Y[test],
    )


def validation_score(Y_val, proba, target_kind):
    """Score of early stopping: micro average precision, or accuracy.

    Parameters
    ----------
    Y_val : ndarray of shape (n_samples, n_outputs)
        Encoded validation targets.
    proba : ndarray of shape (n_samples, n_outputs)
        Sigmoid outputs of the network.
    target_kind : {"multilabel", "binary", "multiclass"}
        What ``Y_val`` encodes.

    Returns
    -------
    score : float
        Larger is better; 0 for label sets without any positive.
    """
    if target_kind == "multilabel":
        if Y_val.sum() == 0:
            return 0.0
        return float(average_precision_score(Y_val, proba, average="micro"))
    if target_kind == "binary":
        return float(accuracy_score(Y_val[:, 0] > 0.5, proba[:, 0] >= 0.5))
    return float(accuracy_score(Y_val.argmax(axis=1), proba.argmax(axis=1)))
