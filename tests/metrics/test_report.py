import re

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from skanime.metrics import MultilabelReport, multilabel_report, precision_at_k

NAMES = ["Action", "Comedy", "Drama"]

# 4 samples x 3 labels; every expected value below is worked out by hand.
Y_TRUE = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1]])
Y_PRED = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 1]])
Y_SCORE = np.array([[0.9, 0.1, 0.4], [0.2, 0.8, 0.1], [0.7, 0.3, 0.2], [0.1, 0.6, 0.5]])

# Per label (TP, FP, FN): Action (2, 0, 0), Comedy (1, 1, 1), Drama (1, 0, 1).
EXPECTED_PER_LABEL = {
    "Action": {"precision": 1.0, "recall": 1.0, "f1-score": 1.0, "support": 2},
    "Comedy": {"precision": 0.5, "recall": 0.5, "f1-score": 0.5, "support": 2},
    "Drama": {"precision": 1.0, "recall": 0.5, "f1-score": 2 / 3, "support": 2},
}

EXPECTED_SUMMARY = {
    # 3 wrong cells out of 12; only row 1 is exactly right
    "hamming_loss": 3 / 12,
    "subset_accuracy": 1 / 4,
    # pooled TP=4, FP=1, FN=2
    "precision_micro": 4 / 5,
    "recall_micro": 4 / 6,
    "f1_micro": 8 / 11,
    # plain means of the per-label values
    "precision_macro": 2.5 / 3,
    "recall_macro": 2 / 3,
    "f1_macro": (1 + 0.5 + 2 / 3) / 3,
    # equal supports, so weighted == macro
    "precision_weighted": 2.5 / 3,
    "recall_weighted": 2 / 3,
    "f1_weighted": (1 + 0.5 + 2 / 3) / 3,
    # rows: P = 1, 1, 1, 1/2; R = 1/2, 1, 1/2, 1; F1 = 2/3, 1, 2/3, 2/3
    "precision_samples": 3.5 / 4,
    "recall_samples": 3 / 4,
    "f1_samples": 3 / 4,
    # top-1 labels: Action, Comedy, Action, Comedy -> hits 1, 1, 1, 0
    "precision_at_1": 3 / 4,
    # all 3 labels: 2/3, 1/3, 2/3, 1/3
    "precision_at_3": 1 / 2,
    # only row 3 ranks a false label (Comedy 0.6) above its true one (Drama 0.5)
    "lrap": (1 + 1 + 1 + 1 / 2) / 4,
    # rank of the lowest true label: 2, 1, 2, 2
    "coverage_error": 7 / 4,
    # row 3 orders 1 of its 2 (true, false) pairs wrongly
    "ranking_loss": (0 + 0 + 0 + 1 / 2) / 4,
}


def test_report_matches_hand_computed_values():
    report = multilabel_report(Y_TRUE, Y_PRED, Y_SCORE, target_names=NAMES)
    assert isinstance(report, MultilabelReport)
    assert list(report.summary.index) == list(EXPECTED_SUMMARY)
    for name, value in EXPECTED_SUMMARY.items():
        assert report.summary[name] == pytest.approx(value), name
    assert list(report.per_label.index) == NAMES
    assert list(report.per_label.columns) == [
        "precision",
        "recall",
        "f1-score",
        "support",
    ]
    for name, row in EXPECTED_PER_LABEL.items():
        for column, value in row.items():
            assert report.per_label.loc[name, column] == pytest.approx(value)


def test_report_without_scores_has_no_ranking_metrics():
    summary = multilabel_report(Y_TRUE, Y_PRED).summary
    for name in ["precision_at_1", "precision_at_3", "lrap", "coverage_error"]:
        assert name not in summary
    assert summary["f1_micro"] == pytest.approx(8 / 11)


def test_precision_at_3_needs_three_labels():
    summary = multilabel_report(Y_TRUE[:, :2], Y_PRED[:, :2], Y_SCORE[:, :2]).summary
    assert "precision_at_3" not in summary
    # top-1 over Action/Comedy: Action, Comedy, Action, Comedy -> 1, 1, 1, 0
    assert summary["precision_at_1"] == pytest.approx(3 / 4)


def test_printed_report():
    text = str(multilabel_report(Y_TRUE, Y_PRED, Y_SCORE, target_names=NAMES))
    for name in NAMES:
        assert re.search(rf"^\s*{name}\s", text, flags=re.MULTILINE)
    for row in ["micro avg", "macro avg", "weighted avg", "samples avg"]:
        assert row in text
    for row in ["hamming loss", "subset accuracy", "precision@1", "precision@3"]:
        assert row in text
    assert "0.727" in text  # micro F1 with 3 digits
    lines = [line for line in text.splitlines() if line.strip()]
    # columns line up: every label row has the same width as the header
    assert len({len(line) for line in lines[:4]}) == 1
    assert repr(multilabel_report(Y_TRUE, Y_PRED)) == str(
        multilabel_report(Y_TRUE, Y_PRED)
    )


def test_digits():
    text = str(multilabel_report(Y_TRUE, Y_PRED, digits=2))
    assert "0.73" in text and "0.727" not in text


def test_default_target_names_are_column_indices():
    report = multilabel_report(Y_TRUE, Y_PRED)
    assert list(report.per_label.index) == ["0", "1", "2"]


def test_output_dict_structure():
    out = multilabel_report(
        Y_TRUE, Y_PRED, Y_SCORE, target_names=NAMES, output_dict=True
    )
    assert set(out) == {"summary", "per_label"}
    assert list(out["per_label"]) == NAMES
    assert set(out["summary"]) == set(EXPECTED_SUMMARY)
    assert all(type(value) is float for value in out["summary"].values())
    drama = out["per_label"]["Drama"]
    assert drama == pytest.approx(EXPECTED_PER_LABEL["Drama"])
    assert type(drama["support"]) is int
    assert (
        out == multilabel_report(Y_TRUE, Y_PRED, Y_SCORE, target_names=NAMES).to_dict()
    )


def test_to_frame_returns_a_copy():
    report = multilabel_report(Y_TRUE, Y_PRED, target_names=NAMES)
    frame = report.to_frame()
    assert isinstance(frame, pd.DataFrame)
    frame.loc["Action", "precision"] = -1.0
    assert report.per_label.loc["Action", "precision"] == 1.0


def test_sparse_and_list_inputs_give_same_report():
    dense = multilabel_report(Y_TRUE, Y_PRED, Y_SCORE, output_dict=True)
    from_sparse = multilabel_report(
        sparse.csr_matrix(Y_TRUE), sparse.csr_matrix(Y_PRED), Y_SCORE, output_dict=True
    )
    from_lists = multilabel_report(
        Y_TRUE.tolist(), Y_PRED.tolist(), Y_SCORE.tolist(), output_dict=True
    )
    assert from_sparse == dense
    assert from_lists == dense


def test_per_label_probability_lists_are_stacked():
    as_list = [np.column_stack([1 - Y_SCORE[:, j], Y_SCORE[:, j]]) for j in range(3)]
    from_list = multilabel_report(Y_TRUE, Y_PRED, as_list, output_dict=True)
    assert from_list == multilabel_report(Y_TRUE, Y_PRED, Y_SCORE, output_dict=True)


def test_zero_division():
    y_pred = Y_PRED.copy()
    y_pred[:, 2] = 0  # Drama never predicted: precision is 0/0
    as_zero = multilabel_report(Y_TRUE, y_pred, target_names=NAMES)
    as_one = multilabel_report(Y_TRUE, y_pred, target_names=NAMES, zero_division=1.0)
    assert as_zero.per_label.loc["Drama", "precision"] == 0.0
    assert as_one.per_label.loc["Drama", "precision"] == 1.0


def test_shape_mismatch_names_both_shapes():
    msg = (
        "y_true and y_pred must have the same shape (n_samples, n_labels); got "
        "y_true with shape (4, 3) and y_pred with shape (4, 2)."
    )
    with pytest.raises(ValueError, match=re.escape(msg)):
        multilabel_report(Y_TRUE, Y_PRED[:, :2])
    with pytest.raises(ValueError, match=r"y_true with shape \(4, 3\) and y_score "):
        multilabel_report(Y_TRUE, Y_PRED, Y_SCORE[:3])
    with pytest.raises(
        ValueError, match=r"shape \(4, 3\) and y_pred with shape \(4,\)"
    ):
        multilabel_report(Y_TRUE, Y_PRED[:, 0])


def test_probabilities_as_predictions_are_rejected():
    with pytest.raises(ValueError, match="apply_thresholds"):
        multilabel_report(Y_TRUE, Y_SCORE)


def test_one_dimensional_targets_are_rejected():
    with pytest.raises(ValueError, match="label indicator matrix.*got a 'binary'"):
        multilabel_report(Y_TRUE[:, 0], Y_PRED[:, 0])


def test_target_names_errors():
    with pytest.raises(ValueError, match="target_names has 2 names but y_true has 3"):
        multilabel_report(Y_TRUE, Y_PRED, target_names=["a", "b"])
    with pytest.raises(ValueError, match="must be unique"):
        multilabel_report(Y_TRUE, Y_PRED, target_names=["a", "b", "a"])


def test_parameter_validation():
    with pytest.raises(ValueError, match="'digits' parameter"):
        multilabel_report(Y_TRUE, Y_PRED, digits=-1)
    with pytest.raises(ValueError, match="'zero_division' parameter"):
        multilabel_report(Y_TRUE, Y_PRED, zero_division=2)


# --- precision@k --------------------------------------------------------------


def test_precision_at_k_hand_example():
    y_true = np.array([[1, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]])
    y_score = np.array(
        [[0.9, 0.8, 0.1, 0.3], [0.2, 0.6, 0.7, 0.1], [0.5, 0.1, 0.2, 0.3]]
    )
    # top-1: label 0 (hit), label 2 (miss), label 0 (no true labels: miss)
    assert precision_at_k(y_true, y_score, k=1) == pytest.approx((1 + 0 + 0) / 3)
    # top-2: {0, 1} -> 1/2, {2, 1} -> 1/2, {0, 3} -> 0
    assert precision_at_k(y_true, y_score, k=2) == pytest.approx((0.5 + 0.5 + 0) / 3)
    # top-3: {0, 1, 3} -> 1/3, {2, 1, 0} -> 1/3, -> 0
    assert precision_at_k(y_true, y_score, k=3) == pytest.approx((1 / 3 + 1 / 3) / 3)
    # all labels: true label count / 4
    assert precision_at_k(y_true, y_score, k=4) == pytest.approx((2 / 4 + 1 / 4) / 3)
    # weights pick rows
    assert precision_at_k(y_true, y_score, k=1, sample_weight=[1, 0, 0]) == 1.0


def test_precision_at_k_errors():
    with pytest.raises(ValueError, match=r"k=4 exceeds the number of labels \(3\)"):
        precision_at_k(Y_TRUE, Y_SCORE, k=4)
    with pytest.raises(ValueError, match="'k' parameter"):
        precision_at_k(Y_TRUE, Y_SCORE, k=0)
    with pytest.raises(ValueError, match=r"y_true with shape \(4, 3\) and y_score"):
        precision_at_k(Y_TRUE, Y_SCORE[:, :2])
