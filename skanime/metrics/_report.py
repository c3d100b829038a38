"""Multilabel evaluation report and precision@k."""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.metrics import (
    accuracy_score,
    coverage_error,
    hamming_loss,
    label_ranking_average_precision_score,
    label_ranking_loss,
    precision_recall_fscore_support,
)
from sklearn.utils._param_validation import (
    Interval,
    Options,
    StrOptions,
    validate_params,
)
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_array, check_consistent_length

from .._thresholds import positive_scores

_AVERAGES = ("micro", "macro", "weighted", "samples")
_METRICS = ("precision", "recall", "f1")
_PER_LABEL_COLUMNS = ["precision", "recall", "f1-score", "support"]
_SCALAR_LABELS = {
    "hamming_loss": "hamming loss",
    "subset_accuracy": "subset accuracy",
    "precision_at_1": "precision@1",
    "precision_at_3": "precision@3",
    "lrap": "label ranking avg precision",
    "coverage_error": "coverage error",
    "ranking_loss": "ranking loss",
}


def _check_indicator(y, name, caller):
    """Validate a label indicator matrix and return it as a dense array."""
    y = check_array(
        y, accept_sparse=("csr", "csc"), ensure_2d=False, dtype=None, input_name=name
    )
    y_type = type_of_target(y, input_name=name)
    if y_type != "multilabel-indicator":
        hint = (
            " Threshold scores first, e.g. with "
            "skanime.model_selection.apply_thresholds, and pass the scores as "
            "y_score."
            if y_type.startswith("continuous")
            else " Encode label lists with sklearn.preprocessing.MultiLabelBinarizer."
        )
        raise ValueError(
            f"{caller} expects {name} as a label indicator matrix of 0/1 values "
            f"with shape (n_samples, n_labels), n_labels >= 2; got a {y_type!r} "
            f"target with shape {y.shape}.{hint}"
        )
    if sparse.issparse(y):
        y = y.toarray()
    return np.asarray(y)


def _check_same_shape(y_true, other, other_name):
    if np.shape(y_true) != np.shape(other):
        raise ValueError(
            f"y_true and {other_name} must have the same shape (n_samples, "
            f"n_labels); got y_true with shape {np.shape(y_true)} and "
            f"{other_name} with shape {np.shape(other)}."
        )


def _check_scores(y_score, y_true):
    y_score = check_array(
        positive_scores(y_score),
        ensure_2d=False,
        dtype="numeric",
        input_name="y_score",
    )
    _check_same_shape(y_true, y_score, "y_score")
    return y_score


@validate_params(
    {
        "y_true": ["array-like", "sparse matrix"],
        "y_score": ["array-like"],
        "k": [Interval(Integral, 1, None, closed="left")],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def precision_at_k(y_true, y_score, *, k=1, sample_weight=None):
    """Precision at k for multilabel ranking.

    For each sample, the ``k`` labels with the highest scores are taken as
    predictions; precision@k is the fraction of them that are true labels,
    averaged over samples. A sample without any true label scores 0.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_samples, n_labels)
        True labels as a label indicator matrix.

    y_score : array-like of shape (n_samples, n_labels) or list of arrays
        Target scores: probability estimates, confidence values or
        non-thresholded decision values. A list of ``n_labels`` arrays of
        shape ``(n_samples, 2)``, as returned by ``predict_proba`` of
        ``RandomForestClassifier`` on multilabel targets, is also accepted;
        its last column is the positive-class probability. A one-column
        array (a label the estimator saw with one class only) is read as a
        label that is never positive and scores 0.

    k : int, default=1
        Number of top-scored labels to consider. Must not exceed ``n_labels``.

    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    score : float
        Precision at k, between 0 and 1.

    See Also
    --------
    sklearn.metrics.label_ranking_average_precision_score : Ranking precision
        averaged over all true labels.
    sklearn.metrics.top_k_accuracy_score : The multiclass analogue.

    Notes
    -----
    Ties in ``y_score`` are broken arbitrarily.

    References
    ----------
    .. [1] Manning, C. D., Raghavan, P., and Schuetze, H. (2008).
       "Introduction to Information Retrieval", section 8.4. Cambridge
       University Press.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime.metrics import precision_at_k
    >>> y_true = np.array([[1, 0, 1], [0, 1, 0]])
    >>> y_score = np.array([[0.9, 0.8, 0.1], [0.2, 0.6, 0.7]])
    >>> precision_at_k(y_true, y_score, k=1)
    0.5
    >>> precision_at_k(y_true, y_score, k=2)
    0.5
    """
    caller = "precision_at_k"
    y_true = _check_indicator(y_true, "y_true", caller)
    y_score = _check_scores(y_score, y_true)
    n_labels = y_true.shape[1]
    if k > n_labels:
        raise ValueError(
            f"k={k} exceeds the number of labels ({n_labels}). Use k <= {n_labels}."
        )
    if sample_weight is not None:
        check_consistent_length(y_true, sample_weight)
    top_k = np.argpartition(-y_score, k - 1, axis=1)[:, :k]
    hits = np.take_along_axis(y_true, top_k, axis=1).sum(axis=1)
    return float(np.average(hits / k, weights=sample_weight))


class MultilabelReport:
    """Multilabel evaluation report returned by :func:`multilabel_report`.

    Printing it shows an aligned text table, like
    :func:`sklearn.metrics.classification_report`.

    Parameters
    ----------
    summary : pandas.Series
        Data-set level metrics, indexed by metric name.

    per_label : pandas.DataFrame
        One row per label with columns ``precision``, ``recall``,
        ``f1-score`` and ``support``.

    digits : int, default=3
        Number of digits shown when printing.

    Attributes
    ----------
    summary : pandas.Series
        Data-set level metrics, indexed by metric name.

    per_label : pandas.DataFrame
        Per-label table indexed by label name.

    digits : int
        Number of digits shown when printing.

    See Also
    --------
    multilabel_report : Build the report.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime.metrics import multilabel_report
    >>> y_true = np.array([[1, 0], [0, 1], [1, 1]])
    >>> y_pred = np.array([[1, 0], [0, 0], [1, 1]])
    >>> report = multilabel_report(y_true, y_pred, target_names=["Action", "Drama"])
    >>> report.per_label.loc["Drama", "recall"]
    np.float64(0.5)
    >>> report.summary["subset_accuracy"]
    np.float64(0.666...)
    """

    def __init__(self, summary, per_label, digits=3):
        self.summary = summary
        self.per_label = per_label
        self.digits = digits

    def to_frame(self):
        """Return a copy of the per-label table.

        Returns
        -------
        per_label : pandas.DataFrame
            One row per label with columns ``precision``, ``recall``,
            ``f1-score`` and ``support``.
        """
        return self.per_label.copy()

    def to_dict(self):
        """Return the report as nested dictionaries of Python numbers.

        Returns
        -------
        report : dict
            ``{"summary": {metric: value}, "per_label": {name: {column:
            value}}}``, as returned by ``multilabel_report(...,
            output_dict=True)``.
        """
        summary = {name: float(value) for name, value in self.summary.items()}
        per_label = {}
        for name, row in self.per_label.iterrows():
            per_label[name] = {
                "precision": float(row["precision"]),
                "recall": float(row["recall"]),
                "f1-score": float(row["f1-score"]),
                "support": int(row["support"]),
            }
        return {"summary": summary, "per_label": per_label}

    def __str__(self):
        digits = self.digits
        avg_rows = [avg for avg in _AVERAGES if f"f1_{avg}" in self.summary]
        scalar_rows = [name for name in _SCALAR_LABELS if name in self.summary]
        row_names = (
            [str(name) for name in self.per_label.index]
            + [f"{avg} avg" for avg in avg_rows]
            + [_SCALAR_LABELS[name] for name in scalar_rows]
        )
        width = max(len(name) for name in row_names + ["precision"])
        col = max(9, digits + 3)
        head_fmt = "{:>{width}s} " + f" {{:>{col}}}" * len(_PER_LABEL_COLUMNS)
        row_fmt = "{:>{width}s} " + f" {{:>{col}.{digits}f}}" * 3 + f" {{:>{col}}}"
        scalar_fmt = "{:>{width}s} " + f" {{:>{col}.{digits}f}}"

        lines = [head_fmt.format("", *_PER_LABEL_COLUMNS, width=width), ""]
        for name, row in self.per_label.iterrows():
            values = [row["precision"], row["recall"], row["f1-score"]]
            lines.append(
                row_fmt.format(str(name), *values, int(row["support"]), width=width)
            )
        lines.append("")
        total_support = int(self.per_label["support"].sum())
        for avg in avg_rows:
            values = [self.summary[f"{metric}_{avg}"] for metric in _METRICS]
            lines.append(
                row_fmt.format(f"{avg} avg", *values, total_support, width=width)
            )
        lines.append("")
        for name in scalar_rows:
            lines.append(
                scalar_fmt.format(_SCALAR_LABELS[name], self.summary[name], width=width)
            )
        return "\n".join(lines) + "\n"

    def __repr__(self):
        return str(self)


@validate_params(
    {
        "y_true": ["array-like", "sparse matrix"],
        "y_pred": ["array-like", "sparse matrix"],
        "y_score": ["array-like", None],
        "target_names": ["array-like", None],
        "output_dict": ["boolean"],
        "digits": [Interval(Integral, 0, None, closed="left")],
        "zero_division": [
            Options(Real, {0.0, 1.0}),
            "nan",
            StrOptions({"warn"}),
        ],
    },
    prefer_skip_nested_validation=True,
)
def multilabel_report(
    y_true,
    y_pred,
    y_score=None,
    *,
    target_names=None,
    output_dict=False,
    digits=3,
    zero_division=0,
):
    """Build a text or dict report of the main multilabel metrics.

    Every metric comes from :mod:`sklearn.metrics`, except precision@k
    (:func:`precision_at_k`):

    - ``hamming_loss`` (:func:`~sklearn.metrics.hamming_loss`) and
      ``subset_accuracy`` (:func:`~sklearn.metrics.accuracy_score`);
    - ``precision_<avg>``, ``recall_<avg>`` and ``f1_<avg>`` for ``<avg>`` in
      micro, macro, weighted and samples
      (:func:`~sklearn.metrics.precision_recall_fscore_support`);
    - when ``y_score`` is given: ``precision_at_1``, ``precision_at_3`` (only
      with at least 3 labels), ``lrap``
      (:func:`~sklearn.metrics.label_ranking_average_precision_score`),
      ``coverage_error`` (:func:`~sklearn.metrics.coverage_error`) and
      ``ranking_loss`` (:func:`~sklearn.metrics.label_ranking_loss`);
    - per label: precision, recall, F1 and support.

    Parameters
    ----------
    y_true : {array-like, sparse matrix} of shape (n_samples, n_labels)
        True labels as a label indicator matrix.

    y_pred : {array-like, sparse matrix} of shape (n_samples, n_labels)
        Predicted labels as a label indicator matrix.

    y_score : array-like of shape (n_samples, n_labels), default=None
        Target scores, such as ``predict_proba`` output, for the ranking
        metrics. A list of per-label ``(n_samples, 2)`` probability arrays is
        also accepted. If None, ranking metrics are left out.

    target_names : array-like of shape (n_labels,), default=None
        Display names of the labels, such as genre names. Defaults to the
        column indices as strings.

    output_dict : bool, default=False
        If True, return nested dictionaries instead of a
        :class:`MultilabelReport`.

    digits : int, default=3
        Number of digits shown when printing the report. Ignored when
        ``output_dict=True``.

    zero_division : {"warn", 0.0, 1.0, np.nan}, default=0
        Value of precision, recall or F1 when their denominator is zero, as in
        :func:`~sklearn.metrics.precision_recall_fscore_support`. ``"warn"``
        acts as 0 and warns.

    Returns
    -------
    report : MultilabelReport or dict
        A :class:`MultilabelReport` whose ``summary`` (pandas.Series) and
        ``per_label`` (pandas.DataFrame) hold the metrics, or, with
        ``output_dict=True``, ``{"summary": {metric: value}, "per_label":
        {name: {"precision": ..., "recall": ..., "f1-score": ...,
        "support": ...}}}``.

    See Also
    --------
    sklearn.metrics.classification_report : The single-label report.
    precision_at_k : Precision of the top-k scored labels.

    References
    ----------
    .. [1] Tsoumakas, G., Katakis, I., and Vlahavas, I. (2010). "Mining
       multi-label data". Data Mining and Knowledge Discovery Handbook,
       pp. 667-685. Springer.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime.metrics import multilabel_report
    >>> y_true = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
    >>> y_pred = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 1]])
    >>> y_score = np.array([[0.9, 0.1, 0.4], [0.2, 0.8, 0.1],
    ...                     [0.7, 0.3, 0.2], [0.1, 0.6, 0.5]])
    >>> print(multilabel_report(y_true, y_pred, y_score,
    ...                         target_names=["Action", "Comedy", "Drama"]))
                                 precision    recall  f1-score   support
    <BLANKLINE>
                         Action      1.000     1.000     1.000         2
                         Comedy      0.500     0.500     0.500         2
                          Drama      1.000     0.500     0.667         2
    <BLANKLINE>
                      micro avg      0.800     0.667     0.727         6
                      macro avg      0.833     0.667     0.722         6
                   weighted avg      0.833     0.667     0.722         6
                    samples avg      0.875     0.750     0.750         6
    <BLANKLINE>
                   hamming loss      0.250
                subset accuracy      0.250
                    precision@1      0.750
                    precision@3      0.500
    label ranking avg precision      0.875
                 coverage error      1.750
                   ranking loss      0.125
    <BLANKLINE>
    """
    caller = "multilabel_report"
    y_true = _check_indicator(y_true, "y_true", caller)
    _check_same_shape(y_true, y_pred, "y_pred")
    y_pred = _check_indicator(y_pred, "y_pred", caller)
    n_labels = y_true.shape[1]

    if target_names is None:
        names = [str(i) for i in range(n_labels)]
    else:
        names = [str(name) for name in target_names]
        if len(names) != n_labels:
            raise ValueError(
                f"target_names has {len(names)} names but y_true has {n_labels} "
                "labels (columns). Pass one name per column."
            )
        if len(set(names)) != n_labels:
            raise ValueError("target_names must be unique; got duplicate names.")

    summary = {
        "hamming_loss": hamming_loss(y_true, y_pred),
        "subset_accuracy": accuracy_score(y_true, y_pred),
    }
    for average in _AVERAGES:
        precision, recall, f1, _ = precision_recall_fscore_support(
            y_true, y_pred, average=average, zero_division=zero_division
        )
        summary[f"precision_{average}"] = precision
        summary[f"recall_{average}"] = recall
        summary[f"f1_{average}"] = f1

    if y_score is not None:
        y_score = _check_scores(y_score, y_true)
        summary["precision_at_1"] = precision_at_k(y_true, y_score, k=1)
        if n_labels >= 3:
            summary["precision_at_3"] = precision_at_k(y_true, y_score, k=3)
        summary["lrap"] = label_ranking_average_precision_score(y_true, y_score)
        summary["coverage_error"] = coverage_error(y_true, y_score)
        summary["ranking_loss"] = label_ranking_loss(y_true, y_score)

    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, average=None, zero_division=zero_division
    )
    per_label = pd.DataFrame(
        {
            "precision": precision,
            "recall": recall,
            "f1-score": f1,
            "support": support.astype(int),
        },
        index=pd.Index(names, name="label"),
    )
    report = MultilabelReport(
        pd.Series({name: float(value) for name, value in summary.items()}),
        per_label,
        digits=digits,
    )
    if output_dict:
        return report.to_dict()
    return report
