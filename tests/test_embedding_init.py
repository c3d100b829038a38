"""FocalMLPClassifier with a trained embedding layer, and a given validation set."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import average_precision_score, f1_score
from sklearn.utils._param_validation import InvalidParameterError

from skanime import FocalMLPClassifier


def _bags(n_samples=240, n_words=30, n_labels=3, seed=0):
    """Row-normalised bags of words whose labels depend on a few words."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(0.3, size=(n_samples, n_words)).astype(float)
    counts[counts.sum(axis=1) == 0, 0] = 1.0
    Y = np.column_stack(
        [counts[:, 3 * j : 3 * j + 3].sum(axis=1) > 0 for j in range(n_labels)]
    ).astype(np.int64)
    X = sp.csr_matrix(counts / counts.sum(axis=1, keepdims=True))
    return X, Y


def _vectors(n_words=30, n_dims=4, seed=1):
    return np.random.default_rng(seed).normal(size=(n_words, n_dims))


def _fit_quietly(estimator, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)


def _small(**params):
    defaults = dict(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    return FocalMLPClassifier(**{**defaults, **params})


def test_embedding_gradient_matches_finite_differences():
    X, Y = _bags(n_samples=10, n_words=6, n_labels=2, seed=3)
    assert np.all((Y.sum(axis=0) > 0) & (Y.sum(axis=0) < 10))
    clf = FocalMLPClassifier(
        hidden_layer_sizes=(5,),
        gamma=2.0,
        focal_alpha=0.3,
        alpha=0.1,
        max_iter=1,
        dtype="float64",
        embedding_init=_vectors(6, 3),
        random_state=0,
    )
    _fit_quietly(clf, X, Y)
    captured = []
    clf._adam_step = lambda grads: None
    clf._embedding_step = lambda X, grad: captured.append(np.asarray(X.T @ grad))
    clf._train_batch(X, Y)
    analytic = captured[0]

    eps = 1e-6
    numeric = np.empty_like(clf.embedding_)
    for idx in np.ndindex(clf.embedding_.shape):
        original = clf.embedding_[idx]
        clf.embedding_[idx] = original + eps
        loss_plus = clf._train_batch(X, Y)
        clf.embedding_[idx] = original - eps
        loss_minus = clf._train_batch(X, Y)
        clf.embedding_[idx] = original
        numeric[idx] = (loss_plus - loss_minus) / (2 * eps)
    assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_network_starts_on_standardised_weighted_means():
    # With a negligible embedding step, the embedding stays at its start:
    # X @ embedding_ is then the standardised X @ embedding_init.
    X, Y = _bags()
    E = _vectors()
    clf = _fit_quietly(
        _small(max_iter=1, embedding_init=E, embedding_learning_rate=1e-12), X, Y
    )
    inputs = np.asarray(X @ E)
    expected = (inputs - inputs.mean(axis=0)) / inputs.std(axis=0)
    assert_allclose(X @ clf.embedding_, expected, atol=1e-4)
    assert clf.coefs_[0].shape == (E.shape[1], 8)


def test_embedding_init_is_stored_untouched():
    X, Y = _bags()
    E = _vectors()
    E_copy = E.copy()
    clf = _fit_quietly(_small(embedding_init=E), X, Y)
    assert clf.get_params()["embedding_init"] is E
    assert_array_equal(E, E_copy)
    assert_array_equal(clone(clf).embedding_init, E)
    assert not np.allclose(clf.embedding_, (E - E.mean(axis=0)) / E.std(axis=0))


def test_only_rows_of_seen_features_are_trained():
    X, Y = _bags()
    X = X.tolil()
    X[:, 25:] = 0  # words 25 to 29 never occur in training
    X = X.tocsr()
    E = _vectors()
    clf = _fit_quietly(_small(embedding_init=E, embedding_learning_rate=0.05), X, Y)
    inputs = np.asarray(X @ E)
    start = (E - inputs.mean(axis=0)) / inputs.std(axis=0)
    assert_allclose(clf.embedding_[25:], start[25:], rtol=1e-6)
    assert not np.allclose(clf.embedding_[:25], start[:25], atol=1e-3)


def test_dense_input_gives_the_sparse_result():
    X, Y = _bags()
    E = _vectors()
    sparse = _fit_quietly(_small(embedding_init=E, dtype="float64"), X, Y)
    dense = _fit_quietly(_small(embedding_init=E, dtype="float64"), X.toarray(), Y)
    assert_allclose(sparse.embedding_, dense.embedding_, atol=1e-10)
    assert_allclose(
        sparse.predict_proba(X), dense.predict_proba(X.toarray()), atol=1e-10
    )


def test_embedding_learning_rate_defaults_to_learning_rate_init():
    X, Y = _bags()
    E = _vectors()
    default = _fit_quietly(_small(embedding_init=E, learning_rate_init=0.01), X, Y)
    same = _fit_quietly(
        _small(embedding_init=E, learning_rate_init=0.01, embedding_learning_rate=0.01),
        X,
        Y,
    )
    slower = _fit_quietly(
        _small(embedding_init=E, learning_rate_init=0.01, embedding_learning_rate=1e-4),
        X,
        Y,
    )
    assert_array_equal(default.embedding_, same.embedding_)
    inputs = np.asarray(X @ E)
    start = (E - inputs.mean(axis=0)) / inputs.std(axis=0)
    moved = np.abs(default.embedding_ - start).mean()
    assert np.abs(slower.embedding_ - start).mean() < moved / 10


def test_fine_tuning_learns_what_fixed_vectors_cannot():
    # The word vectors carry no information about the labels: only training
    # them lets the network tell the label-bearing words apart.
    X, Y = _bags(n_samples=400, seed=5)
    E = _vectors(n_dims=2, seed=7)
    params = dict(hidden_layer_sizes=(16,), max_iter=150, learning_rate_init=0.01)
    fixed = _fit_quietly(
        _small(**params, embedding_init=E, embedding_learning_rate=1e-12), X, Y
    )
    tuned = _fit_quietly(
        _small(**params, embedding_init=E, embedding_learning_rate=0.05), X, Y
    )
    f1_fixed = f1_score(Y, fixed.predict(X), average="micro")
    f1_tuned = f1_score(Y, tuned.predict(X), average="micro")
    assert f1_tuned > f1_fixed + 0.1
    assert f1_tuned > 0.8


def test_pickle_round_trip_and_partial_fit_keep_the_embedding():
    X, Y = _bags()
    clf = _fit_quietly(_small(embedding_init=_vectors()), X, Y)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    before = restored.embedding_.copy()
    restored.partial_fit(X, Y)
    assert restored.embedding_.shape == before.shape
    assert not np.array_equal(restored.embedding_, before)


def test_without_embedding_init_the_attribute_is_none():
    X, Y = _bags()
    clf = _fit_quietly(_small(), X, Y)
    assert clf.embedding_ is None
    assert clf.coefs_[0].shape == (X.shape[1], 8)


@pytest.mark.parametrize(
    "embedding, match",
    [
        (np.ones((29, 4)), r"one row per feature of X, shape \(30, n_dims\)"),
        (np.ones(30), r"one row per feature"),
        (np.full((30, 4), np.nan), "finite"),
    ],
)
def test_embedding_init_of_the_wrong_shape_or_values_is_rejected(embedding, match):
    X, Y = _bags()
    with pytest.raises(ValueError, match=match):
        _small(embedding_init=embedding).fit(X, Y)


@pytest.mark.parametrize("rate", [0.0, -1.0])
def test_embedding_learning_rate_must_be_positive(rate):
    X, Y = _bags()
    clf = _small(embedding_init=_vectors(), embedding_learning_rate=rate)
    with pytest.raises(InvalidParameterError, match="embedding_learning_rate"):
        clf.fit(X, Y)


# ------------------------------------------------------ given validation set
def test_given_validation_set_drives_early_stopping():
    X, Y = _bags(n_samples=300, seed=2)
    X_fit, Y_fit, X_val, Y_val = X[:200], Y[:200], X[200:], Y[200:]
    clf = _small(
        early_stopping=True,
        max_iter=200,
        learning_rate_init=0.01,
        n_iter_no_change=5,
        embedding_init=_vectors(),
    ).fit(X_fit, Y_fit, X_val=X_val, y_val=Y_val)
    assert len(clf.validation_scores_) == clf.n_iter_
    # The restored weights are those of the best validation epoch.
    ap = average_precision_score(Y_val, clf.predict_proba(X_val), average="micro")
    assert ap == pytest.approx(clf.best_validation_score_, abs=1e-6)
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_given_validation_set_is_not_trained_on():
    # All of X is used for training: the same seed without early stopping
    # sees the same minibatches, so the training losses match epoch by epoch
    # (the weights differ, as early stopping restores the best epoch).
    X, Y = _bags(n_samples=200, seed=4)
    with_val = _fit_quietly(
        _small(early_stopping=True, max_iter=3, n_iter_no_change=50),
        X,
        Y,
        X_val=X[:50],
        y_val=Y[:50],
    )
    without = _fit_quietly(_small(max_iter=3), X, Y)
    assert_allclose(with_val.loss_curve_, without.loss_curve_, rtol=1e-6)


@pytest.mark.parametrize(
    "params, fit_params, match",
    [
        ({"early_stopping": True}, {"X_val": "X"}, "passed together; got only X_val"),
        ({"early_stopping": True}, {"y_val": "Y"}, "passed together; got only y_val"),
        ({}, {"X_val": "X", "y_val": "Y"}, "set early_stopping=True"),
        (
            {"early_stopping": True},
            {"X_val": "X", "y_val": "Y_short"},
            "X_val has 240 samples but y_val has 239",
        ),
    ],
)
def test_given_validation_set_errors(params, fit_params, match):
    X, Y = _bags()
    values = {"X": X, "Y": Y, "Y_short": Y[:-1]}
    fit_params = {key: values[name] for key, name in fit_params.items()}
    with pytest.raises(ValueError, match=match):
        _small(**params).fit(X, Y, **fit_params)


def test_given_validation_set_must_have_the_training_features():
    X, Y = _bags()
    with pytest.raises(ValueError, match="features"):
        _small(early_stopping=True).fit(X, Y, X_val=X[:, :10], y_val=Y)
