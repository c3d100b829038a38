"""Tests of the sigmoid focal loss and its gradient."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose
from sklearn.metrics import log_loss

from skanime._losses import focal_loss_and_gradient, sigmoid_focal_loss

GAMMAS = [0.0, 0.5, 1.0, 2.0, 5.0]
FOCAL_ALPHAS = [None, 0.25, np.array([0.1, 0.4, 0.75, 0.95])]
FOCAL_ALPHA_IDS = ["none", "scalar", "per_label"]


def _problem(seed=0, n_samples=7, n_labels=4, scale=3.0):
    rng = np.random.default_rng(seed)
    y = (rng.random((n_samples, n_labels)) < 0.4).astype(np.float64)
    logits = rng.normal(scale=scale, size=(n_samples, n_labels))
    return y, logits


def _single_entry_loss(y, z, gamma):
    return sigmoid_focal_loss(np.array([[y]]), np.array([[z]]), gamma=gamma)


def test_gamma_zero_is_binary_cross_entropy():
    y, logits = _problem()
    p = 1.0 / (1.0 + np.exp(-logits))
    expected = np.sum(-(y * np.log(p) + (1 - y) * np.log(1 - p))) / y.shape[0]
    # The same quantity label by label through scikit-learn's log_loss.
    per_label = sum(
        log_loss(y[:, j], p[:, j], labels=[0, 1]) for j in range(y.shape[1])
    )

    loss = sigmoid_focal_loss(y, logits, gamma=0.0, focal_alpha=None)

    assert_allclose(loss, expected, rtol=1e-12)
    assert_allclose(loss, per_label, rtol=1e-10)


def test_gamma_zero_gradient_is_probability_minus_target():
    y, logits = _problem(seed=1)
    p = 1.0 / (1.0 + np.exp(-logits))

    _, grad = focal_loss_and_gradient(y, logits, gamma=0.0)

    assert_allclose(grad, (p - y) / y.shape[0], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0, 5.0])
@pytest.mark.parametrize("y", [0.0, 1.0])
def test_focal_term_is_cross_entropy_times_modulating_factor(gamma, y):
    # FL(p_t) / CE(p_t) = (1 - p_t) ** gamma (Lin et al. 2017, eq. 4).
    p_t = np.array([0.05, 0.3, 0.5, 0.7, 0.9, 0.99])
    p = p_t if y == 1.0 else 1.0 - p_t
    z = np.log(p / (1.0 - p))

    ratios = np.array(
        [_single_entry_loss(y, zi, gamma) / _single_entry_loss(y, zi, 0.0) for zi in z]
    )

    assert_allclose(ratios, (1.0 - p_t) ** gamma, rtol=1e-9)
    # The better classified the entry, the stronger the down-weighting.
    assert np.all(np.diff(ratios) < 0)


def test_well_classified_example_is_down_weighted_as_in_the_paper():
    # With gamma=2, p_t=0.9 has a 100x lower loss than with cross-entropy,
    # while a badly classified entry (p_t=0.1) keeps 81% of it.
    z_easy = np.log(0.9 / 0.1)
    ratio_easy = _single_entry_loss(1.0, z_easy, 2.0) / _single_entry_loss(
        1.0, z_easy, 0.0
    )
    ratio_hard = _single_entry_loss(1.0, -z_easy, 2.0) / _single_entry_loss(
        1.0, -z_easy, 0.0
    )

    assert ratio_easy == pytest.approx(0.01, rel=1e-9)
    assert ratio_hard == pytest.approx(0.81, rel=1e-9)


@pytest.mark.parametrize("focal_alpha", FOCAL_ALPHAS, ids=FOCAL_ALPHA_IDS)
@pytest.mark.parametrize("gamma", GAMMAS)
def test_gradient_matches_central_finite_differences(gamma, focal_alpha):
    y, logits = _problem(seed=2)
    eps = 1e-6

    _, grad = focal_loss_and_gradient(y, logits, gamma=gamma, focal_alpha=focal_alpha)

    numeric = np.empty_like(logits)
    for idx in np.ndindex(logits.shape):
        shifted = logits.copy()
        shifted[idx] += eps
        loss_plus = sigmoid_focal_loss(y, shifted, gamma=gamma, focal_alpha=focal_alpha)
        shifted[idx] -= 2 * eps
        loss_minus = sigmoid_focal_loss(
            y, shifted, gamma=gamma, focal_alpha=focal_alpha
        )
        numeric[idx] = (loss_plus - loss_minus) / (2 * eps)
    assert grad.dtype == np.float64
    assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("focal_alpha", [None, 0.0, 1.0])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 10.0])
@pytest.mark.parametrize("magnitude", [100.0, 1e4])
def test_extreme_logits_give_finite_exact_values(magnitude, gamma, focal_alpha, dtype):
    # Columns: right and confident, wrong and confident, for both targets.
    y = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 1.0, 0.0, 0.0]])
    logits = np.array([[1.0, -1.0, -1.0, 1.0], [1.0, -1.0, -1.0, 1.0]]) * magnitude
    logits = logits.astype(dtype)
    a_pos = 1.0 if focal_alpha is None else focal_alpha
    a_neg = 1.0 if focal_alpha is None else 1.0 - focal_alpha
    n_samples = y.shape[0]

    loss, grad = focal_loss_and_gradient(
        y, logits, gamma=gamma, focal_alpha=focal_alpha
    )

    # A confidently wrong entry costs |z| (its modulating factor is 1) and
    # has slope -1 towards its target; a confidently right one costs 0.
    expected_loss = (a_pos + a_neg) * magnitude
    expected_grad = np.array([[0.0, -a_pos, 0.0, a_neg]] * 2) / n_samples
    assert np.isfinite(loss)
    assert np.all(np.isfinite(grad))
    assert grad.dtype == dtype
    assert loss == pytest.approx(expected_loss, rel=1e-6)
    assert_allclose(grad, expected_grad, atol=1e-7)


def test_loss_decreases_with_gamma():
    y, logits = _problem(seed=3)
    gammas = [0.0, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0]

    losses = [sigmoid_focal_loss(y, logits, gamma=g) for g in gammas]

    assert np.all(np.diff(losses) < 0)


def test_focal_alpha_weighs_positives_and_negatives():
    y, logits = _problem(seed=4)
    positives = np.where(y == 1, 1.0, 0.0)
    negatives = 1.0 - positives
    entries = np.vectorize(lambda yi, zi: _single_entry_loss(yi, zi, 2.0))(y, logits)

    weighted = sigmoid_focal_loss(y, logits, gamma=2.0, focal_alpha=0.25)
    per_label = sigmoid_focal_loss(
        y, logits, gamma=2.0, focal_alpha=np.array([0.25, 0.5, 0.75, 1.0])
    )

    expected = np.sum(0.25 * positives * entries + 0.75 * negatives * entries)
    assert weighted == pytest.approx(expected / y.shape[0], rel=1e-12)
    label_alpha = np.array([0.25, 0.5, 0.75, 1.0])
    expected = np.sum(
        label_alpha * positives * entries + (1 - label_alpha) * negatives * entries
    )
    assert per_label == pytest.approx(expected / y.shape[0], rel=1e-12)


def test_sigmoid_focal_loss_is_the_loss_of_focal_loss_and_gradient():
    y, logits = _problem(seed=5)

    loss, _ = focal_loss_and_gradient(y, logits, gamma=1.5, focal_alpha=0.3)

    assert sigmoid_focal_loss(y, logits, gamma=1.5, focal_alpha=0.3) == loss


def test_integer_logits_and_lists_give_the_float_result():
    y = np.array([[1.0, 0.0, 1.0]])
    expected = sigmoid_focal_loss(
        y, np.array([[2.0, -1.0, 0.0]]), gamma=1.0, focal_alpha=0.25
    )

    from_ints = sigmoid_focal_loss(
        y, np.array([[2, -1, 0]]), gamma=1.0, focal_alpha=0.25
    )
    from_list = sigmoid_focal_loss(
        [[1, 0, 1]], [[2.0, -1.0, 0.0]], gamma=1.0, focal_alpha=0.25
    )

    assert from_ints == pytest.approx(expected, rel=1e-12)
    assert from_list == pytest.approx(expected, rel=1e-12)


def test_float32_logits_keep_float32_gradient_close_to_float64():
    y, logits = _problem(seed=6)

    loss32, grad32 = focal_loss_and_gradient(y, logits.astype(np.float32), gamma=2.0)
    loss64, grad64 = focal_loss_and_gradient(y, logits, gamma=2.0)

    assert grad32.dtype == np.float32
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    assert_allclose(grad32, grad64, rtol=1e-4, atol=1e-7)


@settings(max_examples=50, deadline=None)
@given(
    logits=arrays(
        np.float64,
        (3, 2),
        elements=st.floats(-60, 60, allow_nan=False, allow_infinity=False),
    ),
    y=arrays(np.int8, (3, 2), elements=st.integers(0, 1)),
    gamma=st.floats(0.0, 10.0),
)
def test_focal_loss_lies_between_zero_and_cross_entropy(logits, y, gamma):
    loss, grad = focal_loss_and_gradient(y, logits, gamma=gamma)
    bce = sigmoid_focal_loss(y, logits, gamma=0.0)

    assert 0.0 <= loss <= bce + 1e-12
    # The gradient always points away from the target: it is >= 0 where
    # y = 0 and <= 0 where y = 1.
    assert np.all(np.where(y == 1, grad <= 0, grad >= 0))
