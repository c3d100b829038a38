"""MultilabelMultinomialNB, own-label penalties and the shrunk threshold rule."""

import pickle

import numpy as np
import pytest
from scipy import sparse
from sklearn.base import clone
from sklearn.naive_bayes import MultinomialNB

from skanime import (
    MultilabelLogisticRegression,
    MultilabelMultinomialNB,
    load_model,
    save_model,
)
from skanime._thresholds import fit_thresholds


def _counts(seed=0):
    rng = np.random.RandomState(seed)
    X = sparse.random(300, 40, density=0.15, random_state=rng, format="csr") * 3
    Y = (rng.rand(300, 4) < 0.3).astype(int)
    return X, Y


@pytest.mark.parametrize("alpha", [0.1, 1.0])
@pytest.mark.parametrize("dense", [False, True])
def test_naive_bayes_equals_one_multinomial_nb_per_label(alpha, dense):
    X, Y = _counts()
    X = X.toarray() if dense else X
    model = MultilabelMultinomialNB(alpha=alpha, dtype="float64").fit(X, Y)
    for j in range(Y.shape[1]):
        reference = MultinomialNB(alpha=alpha).fit(X, Y[:, j])
        np.testing.assert_allclose(
            model.predict_proba(X)[:, j], reference.predict_proba(X)[:, 1], atol=1e-10
        )


def test_naive_bayes_constant_label_and_negative_input():
    X, Y = _counts()
    Y[:, 2] = 1
    model = MultilabelMultinomialNB().fit(X, Y)
    assert model.constant_labels_.tolist() == [2]
    np.testing.assert_allclose(model.predict_proba(X)[:, 2], 300.5 / 301, rtol=1e-5)
    with pytest.raises(ValueError, match="non-negative"):
        MultilabelMultinomialNB().fit(-X.toarray(), Y)


def test_own_label_penalty_shrinks_only_the_other_labels_coefficients():
    rng = np.random.RandomState(0)
    scores = rng.randn(400, 2, 3)  # two models' scores of three labels
    Y = (scores.mean(axis=1) + 0.3 * rng.randn(400, 3) > 0).astype(int)
    X = scores.reshape(400, 6)
    weak = MultilabelLogisticRegression(C=0.01, solver="lbfgs", tol=1e-8, max_iter=500)
    own = MultilabelLogisticRegression(
        C=0.01, own_label_C=100.0, solver="lbfgs", tol=1e-8, max_iter=500
    )
    weak.fit(X, Y)
    own.fit(X, Y)
    own_columns = np.array([[0, 3], [1, 4], [2, 5]])
    for j, columns in enumerate(own_columns):
        assert np.all(
            np.abs(own.coef_[j, columns]) > 2 * np.abs(weak.coef_[j, columns])
        )
        others = np.setdiff1d(np.arange(6), columns)
        assert np.all(np.abs(own.coef_[j, others]) < 0.5)


def test_own_label_penalty_needs_lbfgs_and_stacked_layout():
    X, Y = np.random.RandomState(0).randn(50, 6), np.eye(50, 4, dtype=int)[:, :4]
    Y = (np.random.RandomState(1).rand(50, 4) < 0.5).astype(int)
    with pytest.raises(ValueError, match="solver='lbfgs'"):
        MultilabelLogisticRegression(own_label_C=1.0).fit(X, Y)
    with pytest.raises(ValueError, match="multiple of n_labels=4"):
        MultilabelLogisticRegression(own_label_C=1.0, solver="lbfgs").fit(X, Y)


def test_shrunk_thresholds_lie_between_per_label_and_shared_and_never_above():
    rng = np.random.RandomState(0)
    Y = (rng.rand(500, 5) < [0.5, 0.3, 0.1, 0.05, 0.02]).astype(int)
    proba = np.clip(0.6 * Y + 0.5 * rng.rand(500, 5) - 0.1, 0, 1)
    # The rarest label is scored low: its best threshold is below the shared one.
    proba[:, 4] = 0.15 * Y[:, 4] + 0.12 * rng.rand(500)
    shared = fit_thresholds(Y, proba, "shared", min_labels=1)[0]
    per_label = fit_thresholds(Y, proba, "per_label", min_labels=1)
    shrunk = fit_thresholds(Y, proba, "shrunk", min_labels=1)
    np.testing.assert_allclose(shrunk, np.minimum((per_label + shared) / 2, shared))
    assert np.all(shrunk <= shared)
    assert per_label[4] < shared
    assert per_label[4] < shrunk[4] < shared


@pytest.mark.parametrize(
    "model",
    [
        MultilabelLogisticRegression(C=10.0, dtype="float16"),
        MultilabelMultinomialNB(alpha=0.1, dtype="float16"),
    ],
    ids=["logreg", "nb"],
)
def test_float16_coefficients_are_stored_in_half_and_load_unchanged(model, tmp_path):
    rng = np.random.RandomState(0)
    X = sparse.random(200, 300, density=0.05, random_state=rng, format="csr")
    Y = (rng.rand(200, 5) < 0.3).astype(int)
    half = clone(model).fit(X, Y)
    full = clone(model).set_params(dtype="float32").fit(X, Y)
    assert half.coef_.dtype == np.float32 and half.coef_.flags.f_contiguous
    np.testing.assert_array_equal(
        half.coef_, half.coef_.astype(np.float16).astype(np.float32)
    )
    # The float32 coefficients rounded to half precision, exactly.
    np.testing.assert_array_equal(
        half.coef_, full.coef_.astype(np.float16).astype(np.float32)
    )
    np.testing.assert_allclose(
        half.decision_function(X), full.decision_function(X), atol=1e-2
    )
    save_model(half, tmp_path / "half.skops")
    save_model(full, tmp_path / "full.skops")
    loaded = load_model(tmp_path / "half.skops")
    assert loaded.coef_.dtype == np.float32 and loaded.coef_.flags.f_contiguous
    np.testing.assert_array_equal(
        loaded.decision_function(X), half.decision_function(X)
    )
    assert pickle.loads(pickle.dumps(half)).coef_.dtype == np.float32
    half_bytes = (tmp_path / "half.skops").stat().st_size
    assert half_bytes < 0.75 * (tmp_path / "full.skops").stat().st_size
