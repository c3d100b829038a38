"""Targets of skanime's classifiers: label sets or 1-D classes, as columns.

A label indicator matrix is trained on as it is, one sigmoid output per
label; 1-D binary or multiclass labels are one-hot encoded (one column for a
binary target). :class:`_TargetColumnsMixin` checks ``y``, encodes it, keeps
the encoding of a first fit for later ``partial_fit`` calls, turns the
sigmoid outputs back into the probabilities ``predict_proba`` returns and
output scores into predictions. :class:`_EncodedTargetsMixin` adds a score
by the kind of target (micro-averaged F1 for label sets).
"""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import DataConversionWarning
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from ._targets import micro_f1_score
from ._thresholds import apply_thresholds


class _TargetColumnsMixin:
    """Encoding of ``y`` into output columns, and back (a mixin).

    Sets ``classes_``, ``_target_kind`` (``"multilabel"``, ``"binary"`` or
    ``"multiclass"``) and ``_label_binarizer`` on the first fit, and reads
    ``n_outputs_``, ``_partial_fit_classes`` and (unless a ``dtype`` is
    given) ``_dtype`` of the estimator.
    """

    def _encode_targets(self, y, incremental=False, dtype=None):
        """Validate ``y`` and turn it into an indicator matrix.

        Of type ``dtype``, by default the estimator's ``_dtype``. A warning
        about a column-vector ``y`` points at the caller of ``fit`` (or
        ``partial_fit``), four calls up.
        """
        dtype = self._dtype if dtype is None else dtype
        if sp.issparse(y):
            y = y.toarray()
        y = np.asarray(y)
        y_type = type_of_target(y, input_name="y")
        if y.ndim == 2 and y.shape[1] == 1 and y_type in ("binary", "multiclass"):
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected. "
                "Please change the shape of y to (n_samples,), for example "
                "using ravel().",
                DataConversionWarning,
                stacklevel=5,  # the caller of fit or partial_fit
            )
            y = y.ravel()
        if y_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                f"Unknown label type: {y_type!r}. {type(self).__name__} expects y as a "
                "label indicator matrix of 0 and 1 (n_samples, n_labels) or 1-D class "
                "labels. Encode genre lists with "
                "sklearn.preprocessing.MultiLabelBinarizer."
            )
        multilabel = y_type == "multilabel-indicator"
        if multilabel and not np.isin(y, (0, 1)).all():
            raise ValueError(
                f"{type(self).__name__} expects a label indicator matrix of 0 and 1; "
                f"y holds the values {np.unique(y).tolist()}. Encode genre lists "
                "with sklearn.preprocessing.MultiLabelBinarizer."
            )
        if incremental:
            if multilabel != (self._target_kind == "multilabel"):
                raise ValueError(
                    "y changed kind between calls: the model was fitted on "
                    f"{self._target_kind} targets and got {y_type} targets now."
                )
            if multilabel:
                if y.shape[1] != self.n_outputs_:
                    raise ValueError(
                        f"y has {y.shape[1]} labels but the model was fitted with "
                        f"{self.n_outputs_} labels."
                    )
                return y.astype(dtype, copy=False)
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if unseen.size:
                raise ValueError(
                    f"y contains classes {unseen.tolist()} not seen in the first call; "
                    f"expected a subset of {self.classes_.tolist()}."
                )
            return self._label_binarizer.transform(y).astype(dtype, copy=False)
        if multilabel:
            self._target_kind = "multilabel"
            self._label_binarizer = None
            self.classes_ = np.arange(y.shape[1])
            return y.astype(dtype, copy=False)
        classes = getattr(self, "_partial_fit_classes", None)
        self._label_binarizer = LabelBinarizer()
        self._label_binarizer.fit(y if classes is None else classes)
        self.classes_ = self._label_binarizer.classes_
        self._target_kind = "binary" if len(self.classes_) <= 2 else "multiclass"
        return self._label_binarizer.transform(y).astype(dtype, copy=False)

    def _decode_proba(self, proba):
        """``predict_proba`` from the sigmoid outputs ``proba`` (changed in place).

        Label probabilities as they are; for a binary target both classes'
        columns (one column of ones when only one class was seen); for a
        multiclass target the outputs normalised to sum to one.
        """
        if self._target_kind == "multilabel":
            return proba
        if self._target_kind == "binary":
            if len(self.classes_) == 1:
                return np.ones((proba.shape[0], 1), dtype=proba.dtype)
            return np.hstack([1 - proba, proba])
        proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def _decode_predictions(self, scores, thresholds_for, min_labels=0):
        """``predict`` from ``scores``, one column per output or class.

        ``scores`` is ``predict_proba`` output, or any scores that rise with
        it (logits) on the scale of ``thresholds_for``; the last column is the
        positive class's for a binary target. Label sets by
        :func:`~skanime._thresholds.apply_thresholds` with
        ``thresholds_for(n_labels)`` and ``min_labels``; for a binary target the
        positive class where its score reaches ``thresholds_for(1)``; for a
        multiclass target the best-scored class.
        """
        if self._target_kind == "multilabel":
            thresholds = thresholds_for(scores.shape[1])
            return apply_thresholds(scores, thresholds, min_labels)
        if self._target_kind == "binary":
            if len(self.classes_) == 1:
                return np.repeat(self.classes_, scores.shape[0])
            threshold = thresholds_for(1)
            return self.classes_[(scores[:, -1] >= threshold).astype(int)]
        return self.classes_[scores.argmax(axis=1)]


class _EncodedTargetsMixin(_TargetColumnsMixin):
    """:class:`_TargetColumnsMixin` with a score by the kind of target.

    Goes left of :class:`~sklearn.base.ClassifierMixin`, whose accuracy
    ``score`` it falls back on for 1-D targets.
    """

    def score(self, X, y, sample_weight=None):
        """Micro-averaged F1 for label sets, accuracy otherwise.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.
        y : array-like of shape (n_samples, n_labels) or (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        if self._target_kind != "multilabel":
            return super().score(X, y, sample_weight=sample_weight)
        return micro_f1_score(y, self.predict(X), sample_weight)
