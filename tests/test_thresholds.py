"""Tests of turning label scores into label sets."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_array_equal
from sklearn.metrics import f1_score

from skanime._thresholds import (
    MIN_POSITIVES_PER_LABEL,
    THRESHOLD_GRID,
    apply_thresholds,
    best_index,
    best_per_label_thresholds,
    best_shared_threshold,
    check_thresholds,
    coordinate_ascent,
    coordinate_ascent_samples_f1,
    fit_thresholds,
    mask_f1,
    per_label_f1_curves,
    positive_scores,
    shared_threshold_scores,
    shrink_thresholds,
    threshold_mask,
)


def test_scalar_threshold_is_inclusive():
    scores = np.array([[0.5, 0.49, 0.51], [0.0, 1.0, 0.5]])

    y_pred = apply_thresholds(scores, 0.5)

    assert_array_equal(y_pred, [[1, 0, 1], [0, 1, 1]])
    assert y_pred.dtype == np.int64


def test_per_label_thresholds():
    scores = np.array([[0.4, 0.4, 0.4], [0.2, 0.9, 0.6]])
    thresholds = np.array([0.3, 0.4, 0.7])

    y_pred = apply_thresholds(scores, thresholds)

    assert_array_equal(y_pred, [[1, 1, 0], [0, 1, 0]])


def test_min_labels_fills_short_rows_with_best_scores():
    scores = np.array(
        [
            [0.9, 0.8, 0.7, 0.1],  # three labels pass: unchanged
            [0.1, 0.3, 0.2, 0.05],  # none pass: the two best
            [0.6, 0.1, 0.45, 0.2],  # one passes: topped up with the next best
        ]
    )

    y_pred = apply_thresholds(scores, 0.5, min_labels=2)

    assert_array_equal(y_pred, [[1, 1, 1, 0], [0, 1, 1, 0], [1, 0, 1, 0]])


def test_min_labels_keeps_labels_passing_their_own_threshold():
    # Label 0 passes its low threshold although label 2 scores higher; the
    # row is topped up to two labels, not replaced by the two best scores.
    scores = np.array([[0.3, 0.5, 0.4]])
    thresholds = np.array([0.2, 0.6, 0.6])

    y_pred = apply_thresholds(scores, thresholds, min_labels=2)

    assert_array_equal(y_pred, [[1, 1, 0]])


def test_ties_are_broken_by_label_order():
    scores = np.array([[0.2, 0.2, 0.2, 0.2], [0.1, 0.3, 0.3, 0.2]])

    assert_array_equal(
        apply_thresholds(scores, 0.5, min_labels=1), [[1, 0, 0, 0], [0, 1, 0, 0]]
    )
    assert_array_equal(
        apply_thresholds(scores, 0.5, min_labels=3), [[1, 1, 1, 0], [0, 1, 1, 1]]
    )


@pytest.mark.parametrize("min_labels", [3, 4, 10])
def test_min_labels_above_n_labels_predicts_every_label(min_labels):
    scores = np.array([[0.1, 0.2, 0.3], [0.9, 0.0, 0.0]])

    y_pred = apply_thresholds(scores, 0.5, min_labels=min_labels)

    assert_array_equal(y_pred, np.ones((2, 3), dtype=np.int64))


def test_min_labels_zero_is_plain_thresholding():
    rng = np.random.default_rng(0)
    scores = rng.random((20, 5))
    thresholds = rng.random(5)

    y_pred = apply_thresholds(scores, thresholds, min_labels=0)

    assert_array_equal(y_pred, (scores >= thresholds).astype(np.int64))


def test_input_scores_are_not_modified():
    scores = np.array([[0.1, 0.7], [0.3, 0.2]])
    original = scores.copy()

    apply_thresholds(scores, 0.5, min_labels=2)

    assert_array_equal(scores, original)


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    n_samples=st.integers(1, 6),
    n_labels=st.integers(1, 6),
    min_labels=st.integers(0, 8),
)
def test_min_labels_properties(data, n_samples, n_labels, min_labels):
    # Scores on a coarse grid, so that ties happen often.
    grid = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])
    scores = data.draw(arrays(np.float64, (n_samples, n_labels), elements=grid))
    thresholds = data.draw(arrays(np.float64, (n_labels,), elements=grid))

    y_pred = apply_thresholds(scores, thresholds, min_labels=min_labels)

    passing = scores >= thresholds
    k = min(min_labels, n_labels)
    counts = y_pred.sum(axis=1)
    # Every label passing its threshold is kept.
    assert np.all(y_pred[passing] == 1)
    # Rows with enough passing labels are plain thresholding; the others get
    # exactly k labels.
    enough = passing.sum(axis=1) >= k
    assert_array_equal(y_pred[enough], passing[enough].astype(np.int64))
    assert np.all(counts[~enough] == k)
    # An added label scores at least as high as any label left out.
    for row in np.flatnonzero(~enough):
        added = (y_pred[row] == 1) & ~passing[row]
        left_out = y_pred[row] == 0
        if added.any() and left_out.any():
            assert scores[row, added].min() >= scores[row, left_out].max()


# -- choosing thresholds on out-of-fold probabilities ------------------------
def _scored_labels(n_samples=200, n_labels=4, seed=0):
    """Labels with imbalanced rates and noisy probabilities that rank them."""
    rng = np.random.default_rng(seed)
    rates = np.array([0.5, 0.3, 0.1, 0.04])[:n_labels]
    Y = (rng.random((n_samples, n_labels)) < rates).astype(int)
    proba = np.clip(0.35 * Y + 0.6 * rng.random(Y.shape) * rates * 2, 0, 1)
    return Y, proba


@pytest.mark.parametrize("min_labels", [0, 1, 2])
def test_best_shared_threshold_is_the_grid_maximum_of_micro_f1(min_labels):
    Y, proba = _scored_labels()
    scores = [
        f1_score(
            Y,
            apply_thresholds(proba, t, min_labels),
            average="micro",
            zero_division=0,
        )
        for t in THRESHOLD_GRID
    ]

    best = best_shared_threshold(Y, proba, min_labels)

    assert best in THRESHOLD_GRID
    # The first (lowest) of the best candidates.
    assert best == THRESHOLD_GRID[int(np.argmax(scores))]


def test_best_shared_threshold_takes_the_lowest_of_tied_candidates():
    Y = np.array([[1, 0], [0, 1]])
    proba = np.array([[0.9, 0.1], [0.1, 0.9]])
    grid = np.array([0.2, 0.5, 0.8, 0.95])
    # 0.2, 0.5 and 0.8 all separate the labels perfectly.
    assert best_shared_threshold(Y, proba, grid=grid) == 0.2


def test_best_per_label_thresholds_maximise_each_labels_f1():
    Y, proba = _scored_labels(n_samples=400)
    fallback = 0.37

    thresholds = best_per_label_thresholds(Y, proba, fallback)

    for j in range(Y.shape[1]):
        if Y[:, j].sum() < MIN_POSITIVES_PER_LABEL:
            assert thresholds[j] == fallback
            continue
        curve = [
            f1_score(Y[:, j], proba[:, j] >= t, zero_division=0) for t in THRESHOLD_GRID
        ]
        assert thresholds[j] == THRESHOLD_GRID[int(np.argmax(curve))]


def test_labels_with_few_positives_take_the_fallback():
    Y, proba = _scored_labels()
    Y[:, 3] = 0
    Y[: MIN_POSITIVES_PER_LABEL - 1, 3] = 1
    Y[:MIN_POSITIVES_PER_LABEL, 2] = 1
    Y[MIN_POSITIVES_PER_LABEL:, 2] = 0

    thresholds = best_per_label_thresholds(Y, proba, fallback=0.999)

    assert thresholds[3] == 0.999  # one positive too few
    assert thresholds[2] in THRESHOLD_GRID  # just enough: its own threshold


def test_fit_thresholds_rules():
    Y, proba = _scored_labels()
    shared = best_shared_threshold(Y, proba, min_labels=1)

    assert_array_equal(
        fit_thresholds(Y, proba, "shared", min_labels=1), np.full(4, shared)
    )
    assert_array_equal(
        fit_thresholds(Y, proba, "per_label", min_labels=1),
        best_per_label_thresholds(Y, proba, shared),
    )
    assert_array_equal(fit_thresholds(Y, proba, 0.4), np.full(4, 0.4))
    given_thresholds = [0.1, 0.2, 0.3, 0.4]
    assert_array_equal(fit_thresholds(Y, proba, given_thresholds), given_thresholds)


@pytest.mark.parametrize(
    "rule, reason",
    [
        (1.5, r"must lie in \[0, 1\]\. Got 1\.5"),
        (-0.1, r"must lie in \[0, 1\]"),
        ([0.1, 0.2, 0.3, np.nan], r"must lie in \[0, 1\]"),
        ([0.2, 0.3], r"shape \(4,\); got shape \(2,\)"),
        ([[0.5] * 4], r"shape \(4,\); got shape \(1, 4\)"),
    ],
)
def test_fit_thresholds_refuses_bad_values_and_says_why(rule, reason):
    Y, proba = _scored_labels()
    with pytest.raises(
        ValueError, match=r"one value in \[0, 1\] per label: .*" + reason
    ):
        fit_thresholds(Y, proba, rule)


def test_check_thresholds_broadcasts_one_value():
    thresholds = check_thresholds(0.3, 4)
    assert_array_equal(thresholds, np.full(4, 0.3))
    thresholds[0] = 0.9  # a writable copy
    assert_array_equal(check_thresholds([0.1, 0.2], 2), [0.1, 0.2])


def test_positive_scores_of_a_list_of_per_label_probabilities():
    proba = [np.array([[0.8, 0.2], [0.3, 0.7]]), np.array([[0.4, 0.6], [1.0, 0.0]])]
    assert_array_equal(positive_scores(proba), [[0.2, 0.6], [0.7, 0.0]])
    array = np.array([[0.1, 0.9]])
    assert positive_scores(array) is array


def test_positive_scores_of_a_label_seen_with_one_class_only():
    # The probability of the positive class: 1 when the only class seen is 1,
    # 0 when it is 0, and 0 when the classes are not known.
    proba = [np.ones((2, 1)), np.ones((2, 1)), np.array([[0.8, 0.2], [0.3, 0.7]])]
    classes = [np.array([1]), np.array([0]), np.array([0, 1])]

    assert_array_equal(
        positive_scores(proba, classes), [[1.0, 0.0, 0.2], [1.0, 0.0, 0.7]]
    )
    assert_array_equal(positive_scores(proba), [[0.0, 0.0, 0.2], [0.0, 0.0, 0.7]])


def test_positive_scores_reads_the_column_of_class_one():
    proba = [np.array([[0.9, 0.1], [0.2, 0.8]])]
    # Classes in an unusual order: the positive column is the first one.
    assert_array_equal(positive_scores(proba, [np.array([1, 0])]), [[0.9], [0.2]])
    # Classes not encoded as 0/1: the last column.
    assert_array_equal(positive_scores(proba, [np.array(["a", "b"])]), [[0.1], [0.8]])


# -- the search primitives ---------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    arrays(np.bool_, (9, 4), elements=st.booleans()),
    arrays(np.bool_, (9, 4), elements=st.booleans()),
    st.sampled_from(["micro", "macro", "samples", "weighted"]),
)
def test_mask_f1_matches_sklearn(y_true, y_pred, average):
    expected = f1_score(
        y_true.astype(int), y_pred.astype(int), average=average, zero_division=0
    )
    assert mask_f1(y_true, y_pred, average) == pytest.approx(expected)


def test_best_index_takes_the_lowest_of_tied_candidates():
    assert best_index([0.1, 0.5, 0.3, 0.5, 0.5]) == 1
    # Scores within the tolerance of the best are ties.
    assert best_index([0.2, 0.5 - 1e-14, 0.5, 0.1]) == 1
    assert best_index([0.2, 0.5 - 1e-6, 0.5, 0.1]) == 2
    # NaN scores are ignored, unless all are NaN.
    assert best_index([np.nan, 0.3, np.nan, 0.4]) == 3
    with pytest.raises(ValueError, match="returned NaN for every candidate"):
        best_index([np.nan, np.nan])


def test_shared_threshold_scores_use_the_given_score_and_min_labels():
    Y, proba = _scored_labels()
    Y = Y.astype(bool)
    grid = np.array([0.1, 0.3, 0.5])

    def macro(y_true, y_pred):
        return mask_f1(y_true, y_pred, "macro")

    scores = shared_threshold_scores(Y, proba, grid, min_labels=1, score=macro)

    expected = [
        f1_score(Y, apply_thresholds(proba, t, 1), average="macro", zero_division=0)
        for t in grid
    ]
    np.testing.assert_allclose(scores, expected)


def test_per_label_f1_curves_match_sklearn():
    Y, proba = _scored_labels()
    grid = np.linspace(0.05, 0.95, 7)

    curves = per_label_f1_curves(Y, proba, grid)

    for i, threshold in enumerate(grid):
        expected = f1_score(
            Y, (proba >= threshold).astype(int), average=None, zero_division=0
        )
        np.testing.assert_allclose(curves[i], expected)


def test_per_label_f1_curve_of_a_label_without_positives():
    # Perfect where the label is never predicted, so that is where its best
    # threshold lies.
    grid = np.array([0.1, 0.3, 0.5])
    curves = per_label_f1_curves(
        np.zeros((3, 1), dtype=int), np.full((3, 1), 0.2), grid
    )
    assert_array_equal(curves[:, 0], [0.0, 1.0, 1.0])
    assert best_index(curves[:, 0]) == 1


def test_best_per_label_thresholds_accept_precomputed_curves():
    Y, proba = _scored_labels()
    curves = per_label_f1_curves(Y, proba, THRESHOLD_GRID)
    assert_array_equal(
        best_per_label_thresholds(Y, proba, 0.3, curves=curves),
        best_per_label_thresholds(Y, proba, 0.3),
    )


def test_shrink_thresholds_halves_the_distance_and_never_exceeds_shared():
    shrunk = shrink_thresholds(np.array([0.1, 0.3, 0.6]), 0.3)
    np.testing.assert_allclose(shrunk, [0.2, 0.3, 0.3])


def test_fit_thresholds_shrunk_rule():
    Y, proba = _scored_labels(n_samples=400)
    shared = best_shared_threshold(Y, proba, min_labels=1)
    per_label = best_per_label_thresholds(Y, proba, shared)

    shrunk = fit_thresholds(Y, proba, "shrunk", min_labels=1)

    assert_array_equal(shrunk, shrink_thresholds(per_label, shared))
    assert np.all(shrunk <= shared)


def test_fit_thresholds_on_another_grid():
    Y, proba = _scored_labels()
    grid = np.array([0.15, 0.25, 0.45])
    for rule in ("shared", "per_label"):
        assert set(fit_thresholds(Y, proba, rule, grid=grid)) <= set(grid)


def _samples_f1(y_true, proba, thresholds):
    return mask_f1(y_true, threshold_mask(proba, thresholds), "samples")


def test_coordinate_ascent_only_keeps_improving_moves():
    Y, proba = _scored_labels()
    Y = Y.astype(bool)
    grid = np.linspace(0.05, 0.95, 10)
    start = np.full(Y.shape[1], 0.95)
    start_score = _samples_f1(Y, proba, start)

    thresholds, label_scores = coordinate_ascent(
        Y, proba, grid, start, start_score, _samples_f1
    )

    assert label_scores.shape == (10, Y.shape[1])
    assert _samples_f1(Y, proba, thresholds) > start_score
    # Each label's scores were computed with the labels before it moved.
    trial = start.copy()
    for j in range(Y.shape[1]):
        for i, t in enumerate(grid):
            trial[j] = t
            assert label_scores[i, j] == pytest.approx(_samples_f1(Y, proba, trial))
        trial[j] = thresholds[j]
    # A start that cannot be beaten is kept.
    unbeatable, _ = coordinate_ascent(Y, proba, grid, start, 2.0, _samples_f1)
    assert_array_equal(unbeatable, start)


def test_samples_f1_ascent_matches_the_generic_ascent():
    Y, proba = _scored_labels(n_samples=300)
    Y = Y.astype(bool)
    grid = np.linspace(0.05, 0.95, 15)
    start = np.full(Y.shape[1], 0.5)
    start_score = _samples_f1(Y, proba, start)

    fast = coordinate_ascent_samples_f1(Y, proba, grid, start, start_score)
    slow = coordinate_ascent(Y, proba, grid, start, start_score, _samples_f1)

    assert_array_equal(fast[0], slow[0])
    np.testing.assert_allclose(fast[1], slow[1])
    assert np.unique(fast[0]).size > 1
