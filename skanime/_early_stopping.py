"""Early stopping: how the validation data is held out and scored, and when to stop.

:func:`validation_split` and :func:`validation_score` are plain functions;
:class:`_EarlyStoppingMixin` is the part of a network estimator's training
loop that uses them (the validation data of a fit, the patience counter and
the best epoch's weights).
"""

import warnings

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.metrics import accuracy_score, average_precision_score
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import validate_data

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


class _EarlyStoppingMixin:
    """The early stopping of :class:`~skanime.FocalMLPClassifier` (a mixin).

    Reads the estimator's ``early_stopping``, ``validation_fraction``,
    ``n_iter_no_change``, ``tol`` and ``verbose`` parameters, and keeps
    ``validation_scores_``, ``best_validation_score_`` and the weights of the
    best epoch, which the network's ``_state_flat`` and ``_set_params_flat``
    read and restore.
    """

    def _check_validation_request(self, groups, X_val, y_val):
        """Reject ``fit`` arguments that early stopping cannot use together."""
        if (X_val is None) != (y_val is None):
            raise ValueError(
                "X_val and y_val must be passed together; got only "
                f"{'X_val' if y_val is None else 'y_val'}."
            )
        if X_val is not None and not self.early_stopping:
            raise ValueError(
                "X_val and y_val are only used for early stopping; set "
                "early_stopping=True or do not pass them."
            )
        if X_val is not None and groups is not None:
            raise ValueError(
                "groups decide how the validation data is held out of X, and "
                "X_val and y_val replace that split: pass either groups or "
                "X_val and y_val, not both."
            )

    def _reset_early_stopping(self):
        self._no_improvement_count = 0
        self._best_loss = np.inf
        self._best_params = None
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None

    def _validation_data(self, X, Y, validation, groups):
        """Return ``X, X_val, Y, Y_val``: the training and validation data.

        ``validation`` is the given ``(X_val, y_val)``, checked and encoded as
        the training data was; without it, ``validation_fraction`` of
        ``(X, Y)`` is held out (by whole groups when ``groups`` is given).
        """
        if self.validation_scores_ is None:  # warm start of a fit without it
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
        if validation is None:
            seed = int(self._rng.integers(np.iinfo(np.int32).max))
            return validation_split(
                X, Y, self.validation_fraction, self._target_kind, seed, groups
            )
        X_val = validate_data(
            self,
            validation[0],
            accept_sparse=["csr", "csc"],
            dtype=self._dtype,
            reset=False,
        )
        if sp.issparse(X_val):
            X_val = X_val.tocsr()
        Y_val = self._encode_targets(validation[1], incremental=True)
        if Y_val.shape[0] != X_val.shape[0]:
            raise ValueError(
                f"X_val has {X_val.shape[0]} samples but y_val has {Y_val.shape[0]}."
            )
        return X, X_val, Y, Y_val

    def _should_stop(self, X_val, Y_val):
        if X_val is not None:
            score = self._validation_score(X_val, Y_val)
            self.validation_scores_.append(score)
            if self.verbose:
                print(f"Validation score: {score:.6f}")
            if score > self.best_validation_score_ + self.tol:
                self._no_improvement_count = 0
            else:
                self._no_improvement_count += 1
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_params = [p.copy() for p in self._state_flat()]
        else:
            if self.loss_ > self._best_loss - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self._best_loss = min(self._best_loss, self.loss_)
        return self._no_improvement_count > self.n_iter_no_change

    def _validation_score(self, X_val, Y_val):
        proba = expit(self._forward(X_val, training=False))
        return validation_score(Y_val, proba, self._target_kind)

    def _restore_best_epoch(self):
        """Set the weights of the best validation epoch, if early stopping kept one."""
        if self.early_stopping and self._best_params is not None:
            self._set_params_flat(self._best_params)
        self._best_params = None
