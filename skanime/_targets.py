"""Checks of label indicator targets, and what constant labels get."""

import warnings

import numpy as np
from scipy import sparse
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_consistent_length


def dense_target(y):
    """Return ``(Y, y_type)``: ``y`` checked as an array, made dense, and its type.

    ``y_type`` is :func:`~sklearn.utils.multiclass.type_of_target` of ``y``;
    callers that need a label indicator matrix raise their own error, naming
    what they accept instead, when it is not ``"multilabel-indicator"``.
    """
    y = check_array(
        y, accept_sparse=("csr", "csc"), ensure_2d=False, dtype=None, input_name="y"
    )
    y_type = type_of_target(y, input_name="y")
    if sparse.issparse(y):
        y = y.toarray()
    return np.asarray(y), y_type


def check_label_indicator(y, n_samples, estimator):
    """Return ``y`` as an int8 label indicator matrix, or raise a clear error.

    Parameters
    ----------
    y : array-like or sparse matrix of shape (n_samples, n_labels)
        Target to check.
    n_samples : int
        Number of rows ``y`` must have.
    estimator : estimator instance
        Named in the error messages.

    Returns
    -------
    Y : ndarray of shape (n_samples, n_labels), dtype=int8
    """
    name = type(estimator).__name__
    Y = y.toarray() if sparse.issparse(y) else np.asarray(y)
    y_type = type_of_target(Y, input_name="y")
    if y_type != "multilabel-indicator":
        raise ValueError(
            f"{name} expects y as a label indicator matrix of 0 and 1, shape "
            f"(n_samples, n_labels) with n_labels >= 2; got a {y_type!r} target "
            f"of shape {Y.shape}. Encode label lists with "
            "sklearn.preprocessing.MultiLabelBinarizer, or pass genre lists to "
            "skanime.GenreClassifier, which encodes them."
        )
    if not np.isin(Y, (0, 1)).all():
        raise ValueError(
            f"{name} expects a label indicator matrix of 0 and 1; y holds the "
            f"values {np.unique(Y).tolist()}."
        )
    check_consistent_length(np.empty(n_samples), Y)
    return Y.astype(np.int8)


def constant_label_rates(Y):
    """Smoothed base rate of each label, and which labels are constant.

    A label without positive (or without negative) rows cannot be learnt;
    every skanime estimator gives it the fixed probability
    ``(positives + 0.5) / (n_samples + 1)``.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_labels)
        Label indicator matrix.

    Returns
    -------
    rates : ndarray of shape (n_labels,)
        Smoothed base rates, strictly between 0 and 1.
    constant : ndarray of shape (n_labels,), dtype=bool
        True for labels whose column is constant.
    """
    positives = np.asarray(Y).sum(axis=0)
    n_samples = len(Y)
    rates = (positives + 0.5) / (n_samples + 1.0)
    constant = (positives == 0) | (positives == n_samples)
    return rates, constant


class ConstantLabelWarning(UserWarning):
    """Some labels have no positive (or no negative) training sample.

    Nothing can be learnt about them: every skanime estimator fixes their
    probability at the smoothed base rate (:func:`constant_label_rates`).
    Meta-estimators filter this warning by its category, never by its text.

    Attributes
    ----------
    labels : list
        The constant labels: column indices, or genre names when
        :class:`GenreClassifier` raises it.
    """

    def __init__(self, message, labels):
        super().__init__(message)
        self.labels = list(labels)


def warn_constant_labels(labels, stacklevel=3):
    """Warn once, with a :class:`ConstantLabelWarning`, about ``labels``."""
    labels = list(labels)
    warnings.warn(
        ConstantLabelWarning(
            f"Labels {labels} have no positive or no negative training sample; "
            "their probability is fixed at the smoothed base rate.",
            labels,
        ),
        stacklevel=stacklevel + 1,
    )


def micro_f1_score(y_true, y_pred, sample_weight=None):
    """Micro-averaged F1 of label indicator matrices: skanime's ``score``."""
    from sklearn.metrics import f1_score

    y_true = y_true.toarray() if sparse.issparse(y_true) else y_true
    score = f1_score(
        y_true, y_pred, average="micro", sample_weight=sample_weight, zero_division=0
    )
    return float(score)
