"""Tests of FocalMLPClassifier beyond scikit-learn's common checks."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.utils._param_validation import InvalidParameterError

from skanime import FocalMLPClassifier
from skanime._losses import sigmoid_focal_loss
from skanime._targets import ConstantLabelWarning
from skanime._thresholds import apply_thresholds


def _multilabel_data(n_samples=200, n_features=8, n_labels=4, seed=0):
    """Labels that are noisy linear functions of the features."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    W = rng.normal(size=(n_features, n_labels))
    noise = rng.normal(scale=0.5, size=(n_samples, n_labels))
    Y = (X @ W + noise > 0.5).astype(np.int64)
    assert np.all((Y.sum(axis=0) > 0) & (Y.sum(axis=0) < n_samples))
    return X, Y


def _fit_quietly(estimator, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)


def _small(**params):
    defaults = dict(hidden_layer_sizes=(16,), max_iter=20, random_state=0)
    return FocalMLPClassifier(**{**defaults, **params})


# ------------------------------------------------------------ gradient check
@pytest.mark.parametrize("activation", ["tanh", "relu", "logistic"])
@pytest.mark.parametrize("batch_norm", [False, True])
def test_backpropagation_matches_finite_differences(batch_norm, activation):
    # The loss of one minibatch (focal loss + L2 penalty), as a function of
    # every weight, against the gradients handed to the optimiser.
    X, Y = _multilabel_data(n_samples=12, n_features=5, n_labels=3, seed=1)
    clf = FocalMLPClassifier(
        hidden_layer_sizes=(6, 4),
        activation=activation,
        batch_norm=batch_norm,
        dropout=0.0,
        alpha=0.1,
        gamma=2.0,
        focal_alpha=0.3,
        max_iter=1,
        dtype="float64",
        random_state=0,
    )
    _fit_quietly(clf, X, Y)
    captured = []

    def record_gradients(grads):  # stands in for the optimiser step
        captured.append([g.copy() for g in grads])

    clf._adam_step = record_gradients
    clf._train_batch(X, Y)
    analytic = captured[0]
    params = clf._params_flat()
    assert len(analytic) == len(params) == 6 + (4 if batch_norm else 0)

    eps = 1e-6
    for param, grad in zip(params, analytic, strict=True):
        numeric = np.empty_like(param)
        for idx in np.ndindex(param.shape):
            original = param[idx]
            param[idx] = original + eps
            loss_plus = clf._train_batch(X, Y)
            param[idx] = original - eps
            loss_minus = clf._train_batch(X, Y)
            param[idx] = original
            numeric[idx] = (loss_plus - loss_minus) / (2 * eps)
        assert grad.shape == param.shape
        assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_training_loss_is_the_focal_loss_of_the_logits():
    X, Y = _multilabel_data(n_samples=50, seed=2)
    clf = _fit_quietly(
        _small(alpha=0.0, batch_size=50, dtype="float64", gamma=1.5), X, Y
    )
    clf._adam_step = lambda grads: None  # evaluate the loss, leave the weights

    batch_loss = clf._train_batch(X, Y)

    logits = clf.decision_function(X)
    assert batch_loss == pytest.approx(
        sigmoid_focal_loss(Y, logits, gamma=1.5), rel=1e-10
    )


# ------------------------------------------------------------ inputs
@pytest.mark.parametrize(
    "dtype, batch_norm, atol",
    [
        ("float64", False, 1e-10),
        ("float64", True, 1e-8),
        ("float32", False, 1e-5),
    ],
)
def test_sparse_input_gives_the_dense_result(dtype, batch_norm, atol):
    X, Y = _multilabel_data(n_samples=150, seed=3)
    X[np.abs(X) < 0.7] = 0.0  # about half the entries are zero
    params = dict(batch_norm=batch_norm, dtype=dtype, max_iter=15)

    dense = _fit_quietly(_small(**params), X, Y)
    sparse = _fit_quietly(_small(**params), sp.csr_matrix(X), Y)

    assert_allclose(
        sparse.predict_proba(sp.csc_matrix(X)), dense.predict_proba(X), atol=atol
    )
    assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-4)
    assert_array_equal(sparse.predict(sp.csr_matrix(X)), dense.predict(X))


def test_dataframe_input_records_feature_names():
    X, Y = _multilabel_data(n_samples=80, n_features=4, seed=4)
    columns = ["action", "romance", "mecha", "school"]
    frame = pd.DataFrame(X, columns=columns)

    clf = _fit_quietly(_small(), frame, Y)

    assert_array_equal(clf.feature_names_in_, columns)
    assert clf.n_features_in_ == 4
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        from_array = clf.predict_proba(X)
    assert_allclose(clf.predict_proba(frame), from_array)
    renamed = frame.rename(columns={"mecha": "space"})
    with pytest.raises(ValueError, match="feature names should match"):
        clf.predict_proba(renamed)


def test_numpy_input_has_no_feature_names():
    X, Y = _multilabel_data(n_samples=40, seed=4)

    clf = _fit_quietly(_small(max_iter=2), X, Y)

    assert not hasattr(clf, "feature_names_in_")
    assert clf.n_features_in_ == X.shape[1]


# ------------------------------------------------------------ persistence
@pytest.mark.parametrize("batch_norm", [False, True])
def test_pickle_round_trip_gives_identical_probabilities(batch_norm):
    X, Y = _multilabel_data(seed=5)
    clf = _fit_quietly(_small(batch_norm=batch_norm), X, Y)

    restored = pickle.loads(pickle.dumps(clf))

    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    assert_array_equal(restored.predict(X), clf.predict(X))
    assert restored.get_params() == clf.get_params()


def test_same_random_state_gives_identical_models():
    X, Y = _multilabel_data(seed=6)
    params = dict(dropout=0.2, batch_norm=True, early_stopping=True, max_iter=15)

    first = _fit_quietly(_small(**params), X, Y)
    second = _fit_quietly(_small(**params), X, Y)
    other_seed = _fit_quietly(_small(**params, random_state=1), X, Y)

    for a, b in zip(first.coefs_, second.coefs_, strict=True):
        assert_array_equal(a, b)
    assert first.loss_curve_ == second.loss_curve_
    assert first.validation_scores_ == second.validation_scores_
    assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert not np.array_equal(first.predict_proba(X), other_seed.predict_proba(X))


def test_clone_gives_an_unfitted_copy_with_the_same_params():
    X, Y = _multilabel_data(seed=6)
    clf = _fit_quietly(_small(gamma=1.0, threshold=0.3), X, Y)

    copy = clone(clf)

    assert copy.get_params() == clf.get_params()
    with pytest.raises(NotFittedError):
        copy.predict(X)


# ------------------------------------------------------------ incremental
def test_warm_start_continues_training_exactly():
    X, Y = _multilabel_data(seed=7)
    params = dict(tol=0.0, n_iter_no_change=50)

    ten_epochs = _fit_quietly(_small(max_iter=10, **params), X, Y)
    warm = _small(max_iter=5, warm_start=True, **params)
    _fit_quietly(warm, X, Y)
    _fit_quietly(warm, X, Y)

    assert warm.n_iter_ == 10
    assert warm.t_ == ten_epochs.t_ == 10  # one minibatch per epoch
    assert_allclose(warm.loss_curve_, ten_epochs.loss_curve_, rtol=1e-6)
    assert_allclose(warm.predict_proba(X), ten_epochs.predict_proba(X), atol=1e-6)


def test_without_warm_start_fit_starts_over():
    X, Y = _multilabel_data(seed=7)
    clf = _small(max_iter=5)

    _fit_quietly(clf, X, Y)
    first = clf.predict_proba(X)
    _fit_quietly(clf, X, Y)

    assert clf.n_iter_ == 5
    assert_array_equal(clf.predict_proba(X), first)


def test_partial_fit_runs_one_epoch_per_call_like_fit():
    X, Y = _multilabel_data(seed=8)
    fitted = _fit_quietly(_small(max_iter=6, tol=0.0, n_iter_no_change=50), X, Y)

    incremental = _small()
    for call in range(1, 7):
        incremental.partial_fit(X, Y)
        assert incremental.n_iter_ == call

    assert_allclose(incremental.loss_curve_, fitted.loss_curve_, rtol=1e-6)
    assert_allclose(incremental.predict_proba(X), fitted.predict_proba(X), atol=1e-6)


def test_partial_fit_learns_a_label_missing_from_the_first_batch():
    X, Y = _multilabel_data(n_samples=300, seed=9)
    first = np.flatnonzero(Y[:, 3] == 0)[:60]
    clf = _small(learning_rate_init=0.01)

    with pytest.warns(UserWarning, match=r"Labels \[3\]"):
        clf.partial_fit(X[first], Y[first])
    assert_array_equal(clf.constant_labels_, [3])
    for _ in range(30):
        clf.partial_fit(X, Y)

    assert clf.constant_labels_.size == 0
    assert roc_auc_score(Y[:, 3], clf.predict_proba(X)[:, 3]) > 0.9


def test_partial_fit_with_classes_learns_a_class_missing_from_the_first_batch():
    rng = np.random.default_rng(10)
    X = rng.normal(size=(300, 2))
    y = np.array(["comedy", "drama", "horror"])[
        np.argmax(X @ [[2, -1, 0], [0, 1, -2]], 1)
    ]
    clf = _small(learning_rate_init=0.01)

    clf.partial_fit(X[y != "horror"], y[y != "horror"], classes=np.unique(y))
    for _ in range(30):
        clf.partial_fit(X, y)

    assert_array_equal(clf.classes_, ["comedy", "drama", "horror"])
    assert clf.predict_proba(X).shape == (300, 3)
    assert clf.score(X, y) > 0.85
    assert np.mean(clf.predict(X[y == "horror"]) == "horror") > 0.7


def test_partial_fit_errors():
    X, Y = _multilabel_data(seed=11)
    y = np.where(Y[:, 0] == 1, "a", "b")

    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        _small().partial_fit(X, y)
    clf = _small().partial_fit(X, y, classes=["a", "b"])
    with pytest.raises(ValueError, match=r"classes \['c'\] not seen in the first call"):
        clf.partial_fit(X[:3], ["a", "b", "c"])
    with pytest.raises(ValueError, match="X has 3 features"):
        clf.partial_fit(X[:, :3], y)
    multilabel = _small().partial_fit(X, Y)
    with pytest.raises(ValueError, match="y has 3 labels but the model was fitted"):
        multilabel.partial_fit(X, Y[:, :3])
    with pytest.raises(ValueError, match="y changed kind between calls"):
        multilabel.partial_fit(X, y)


# ------------------------------------------------------------ early stopping
class _RecordingMLP(FocalMLPClassifier):
    """Keeps the validation part of the data that early stopping held out."""

    def _validation_score(self, X_val, Y_val):
        self.held_out_ = (X_val, Y_val)
        return super()._validation_score(X_val, Y_val)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_early_stopping_restores_the_best_epoch(batch_norm):
    # A wide network with a high learning rate overfits 300 noisy samples,
    # so the validation score peaks well before training stops.
    X, Y = _multilabel_data(n_samples=300, n_features=20, n_labels=5, seed=12)
    X = X + np.random.default_rng(0).normal(scale=2.0, size=X.shape)
    clf = _RecordingMLP(
        hidden_layer_sizes=(64,),
        batch_norm=batch_norm,
        early_stopping=True,
        n_iter_no_change=5,
        learning_rate_init=0.01,
        max_iter=200,
        random_state=0,
    ).fit(X, Y)

    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_ < 200
    assert clf.best_validation_score_ == max(scores)
    assert scores[-1] < clf.best_validation_score_
    X_val, Y_val = clf.held_out_
    assert X_val.shape[0] == 30
    assert clf._validation_score(X_val, Y_val) == pytest.approx(
        clf.best_validation_score_, abs=1e-12
    )


def test_warm_start_can_switch_on_early_stopping():
    X, Y = _multilabel_data(n_samples=300, seed=12)
    clf = _fit_quietly(_small(max_iter=3, warm_start=True), X, Y)
    assert clf.validation_scores_ is None

    clf.set_params(early_stopping=True, max_iter=4)
    _fit_quietly(clf, X, Y)

    assert clf.n_iter_ == 7
    assert len(clf.validation_scores_) == 4
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_validation_attributes_are_none_without_early_stopping():
    X, Y = _multilabel_data(seed=12)

    clf = _fit_quietly(_small(max_iter=3), X, Y)

    assert clf.validation_scores_ is None
    assert clf.best_validation_score_ is None


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_early_stopping_scores_accuracy_for_class_targets(kind):
    X, Y = _multilabel_data(n_samples=300, seed=13)
    y = Y[:, 0] if kind == "binary" else Y[:, 0] + Y[:, 1] * 2
    clf = _RecordingMLP(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        learning_rate_init=0.01,
        max_iter=50,
        random_state=0,
    )

    _fit_quietly(clf, X, y)

    X_val, Y_val = clf.held_out_
    proba = clf.predict_proba(X_val)
    # The held-out part is the one-hot (or 0/1) encoding of the classes.
    y_val = Y_val[:, 0] if kind == "binary" else Y_val.argmax(axis=1)
    accuracy = np.mean(proba.argmax(axis=1) == y_val)
    assert clf.best_validation_score_ == pytest.approx(accuracy)
    assert 0.75 < clf.best_validation_score_ <= 1.0


def _grouped_data(n_groups=60, size=5, seed=21):
    """Groups of near-copies of one sample; column 0 numbers the samples."""
    X, Y = _multilabel_data(n_samples=n_groups, seed=seed)
    rng = np.random.default_rng(seed)
    X = np.repeat(X, size, axis=0) + rng.normal(scale=0.01, size=(n_groups * size, 8))
    X[:, 0] = np.arange(n_groups * size)
    groups = np.repeat(np.arange(n_groups) * 7 % 101, size)  # any group ids
    return X, np.repeat(Y, size, axis=0), groups


@pytest.mark.parametrize("kind", ["multilabel", "binary"])
def test_early_stopping_holds_out_whole_groups(kind):
    X, Y, groups = _grouped_data()
    y = Y if kind == "multilabel" else Y[:, 0]
    clf = _RecordingMLP(
        hidden_layer_sizes=(8,), early_stopping=True, max_iter=3, random_state=0
    )

    _fit_quietly(clf, X, y, groups=groups)

    held_out = clf.held_out_[0][:, 0].astype(int)
    trained = np.setdiff1d(np.arange(len(X)), held_out)
    assert set(groups[held_out]).isdisjoint(groups[trained])
    # One fold in round(1 / validation_fraction) = 10: about 6 of 60 groups.
    assert 3 <= len(set(groups[held_out])) <= 9
    assert len(held_out) == 5 * len(set(groups[held_out]))
    # Without groups the same data gets a split that cuts groups.
    _fit_quietly(clf, X, y)
    held_out = clf.held_out_[0][:, 0].astype(int)
    trained = np.setdiff1d(np.arange(len(X)), held_out)
    assert not set(groups[held_out]).isdisjoint(groups[trained])


def test_groups_reach_the_network_through_metadata_routing():
    from sklearn import config_context
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, Y, groups = _grouped_data()
    with config_context(enable_metadata_routing=True):
        clf = _RecordingMLP(
            hidden_layer_sizes=(8,), early_stopping=True, max_iter=2, random_state=0
        ).set_fit_request(groups=True)
        pipeline = make_pipeline(StandardScaler().set_fit_request(), clf)
        _fit_quietly(pipeline, X, Y, groups=groups)
    scaler = pipeline[0]
    held_out = np.rint(
        clf.held_out_[0][:, 0] * scaler.scale_[0] + scaler.mean_[0]
    ).astype(int)
    trained = np.setdiff1d(np.arange(len(X)), held_out)
    assert set(groups[held_out]).isdisjoint(groups[trained])


@pytest.mark.parametrize(
    "groups, fit_params, message",
    [
        (np.arange(10), {}, r"one group per training sample, shape \(300,\)"),
        (np.arange(300) % 4, {}, "needs at least 10 groups; got 4"),
        (np.arange(300), {"X_val": "X", "y_val": "Y"}, "either groups or X_val"),
    ],
)
def test_bad_groups_are_rejected(groups, fit_params, message):
    X, Y, _ = _grouped_data()
    fit_params = {k: {"X": X, "Y": Y}[v] for k, v in fit_params.items()}
    clf = _small(early_stopping=True, max_iter=2)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, Y, groups=groups, **fit_params)


def test_groups_are_not_needed_without_early_stopping():
    X, Y, groups = _grouped_data()
    with_groups = _fit_quietly(_small(max_iter=3), X, Y, groups=groups[:10])
    without = _fit_quietly(_small(max_iter=3), X, Y)
    assert_array_equal(with_groups.coefs_[0], without.coefs_[0])


# ------------------------------------------------------------ labels
def test_constant_label_warns_once_and_gets_a_constant_probability():
    X, Y = _multilabel_data(n_samples=100, seed=14)
    Y[:, 1] = 0  # no positive
    Y[:, 2] = 1  # no negative

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        clf = _small(max_iter=30).fit(X, Y)

    user_warnings = [w for w in record if w.category is ConstantLabelWarning]
    assert len(user_warnings) == 1
    assert user_warnings[0].message.labels == [1, 2]
    assert "Labels [1, 2]" in str(user_warnings[0].message)
    assert user_warnings[0].filename == __file__  # points at the caller's line
    assert_array_equal(clf.constant_labels_, [1, 2])
    proba = clf.predict_proba(X)
    assert_allclose(proba[:, 1], 0.5 / 101, rtol=1e-5)
    assert_allclose(proba[:, 2], 100.5 / 101, rtol=1e-5)
    assert np.ptp(proba[:, 1]) == 0 and np.ptp(proba[:, 2]) == 0
    assert np.ptp(proba[:, 0]) > 0.2
    assert np.all(clf.predict(X)[:, 1] == 0) and np.all(clf.predict(X)[:, 2] == 1)


def test_predict_applies_threshold_and_min_labels():
    X, Y = _multilabel_data(seed=15)
    thresholds = np.array([0.3, 0.5, 0.7, 0.9])
    clf = _fit_quietly(_small(threshold=thresholds, min_labels=2), X, Y)

    proba = clf.predict_proba(X)

    assert_array_equal(clf.predict(X), apply_thresholds(proba, thresholds, 2))
    assert clf.predict(X).sum(axis=1).min() >= 2
    assert clf.score(X, Y) == pytest.approx(
        f1_score(Y, clf.predict(X), average="micro")
    )


def test_focal_alpha_balanced_uses_one_minus_the_base_rate():
    X, Y = _multilabel_data(seed=16)

    clf = _fit_quietly(_small(focal_alpha="balanced", max_iter=2), X, Y)

    assert_allclose(clf._focal_alpha_values, 1 - Y.mean(axis=0), rtol=1e-6)


def test_rare_label_is_learned_better_with_focal_term():
    # One common label and one with ~2% positives; within the same budget
    # gamma=2 finds far more of the rare positives at threshold 0.5 than the
    # plain cross-entropy, which mostly predicts the majority value.
    gains = []
    for seed in range(3):
        rng = np.random.default_rng(seed)
        X = rng.normal(size=(3000, 10))
        common = X[:, 0] + 0.5 * rng.normal(size=3000) > 0
        rare = X[:, 1] + X[:, 2] + 0.5 * rng.normal(size=3000) > 3.0
        Y = np.column_stack([common, rare]).astype(int)
        train, test = slice(0, 1500), slice(1500, None)
        f1 = {}
        for gamma in (0.0, 2.0):
            clf = _fit_quietly(
                _small(hidden_layer_sizes=(32,), gamma=gamma, max_iter=50),
                X[train],
                Y[train],
            )
            f1[gamma] = f1_score(Y[test, 1], clf.predict(X[test])[:, 1])
        gains.append(f1[2.0] - f1[0.0])
    assert min(gains) > 0.15
    assert np.mean(gains) > 0.2


@pytest.mark.parametrize("kind", ["binary", "multiclass"])
def test_one_dimensional_string_targets_behave_like_a_classifier(kind):
    rng = np.random.default_rng(17)
    X = rng.normal(size=(300, 4))
    if kind == "binary":
        y = np.where(X[:, 0] + X[:, 1] > 0, "mecha", "idol")
        classes = ["idol", "mecha"]
    else:
        y = np.array(["comedy", "drama", "horror"])[np.argmax(X[:, :3], axis=1)]
        classes = ["comedy", "drama", "horror"]

    clf = _fit_quietly(_small(max_iter=100, learning_rate_init=0.01), X, y)

    proba = clf.predict_proba(X)
    assert_array_equal(clf.classes_, classes)
    assert proba.shape == (300, len(classes))
    assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert_array_equal(clf.predict(X), np.asarray(classes)[proba.argmax(axis=1)])
    assert clf.predict(X).dtype.kind == "U"
    assert clf.score(X, y) > 0.9
    assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-5)
    expected_shape = (300,) if kind == "binary" else (300, 3)
    assert clf.decision_function(X).shape == expected_shape


def test_binary_threshold_moves_the_decision():
    rng = np.random.default_rng(18)
    X = rng.normal(size=(200, 3))
    y = np.where(X[:, 0] > 0, "yes", "no")
    clf = _fit_quietly(_small(), X, y)

    proba = clf.predict_proba(X)[:, 1]

    clf.set_params(threshold=0.0)
    assert np.all(clf.predict(X) == "yes")
    clf.set_params(threshold=0.8)
    assert_array_equal(clf.predict(X) == "yes", proba >= 0.8)
    clf.set_params(threshold=[0.8])
    assert_array_equal(clf.predict(X) == "yes", proba >= 0.8)
    clf.set_params(threshold=np.full(200, 0.5))
    with pytest.raises(ValueError, match=r"shape \(1,\); got shape \(200,\)"):
        clf.predict(X)


# ------------------------------------------------------------ errors
def test_y_with_wrong_number_of_rows_is_rejected():
    X, Y = _multilabel_data(seed=19)

    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _small().fit(X, Y[:-5])


@pytest.mark.parametrize("values", [(0, 2), (-1, 1), (1, 2)])
def test_non_binary_indicator_values_are_rejected(values):
    X, Y = _multilabel_data(seed=19)
    bad = np.where(Y == 1, values[1], values[0])

    with pytest.raises(ValueError, match=r"indicator matrix of 0 and 1; y holds"):
        _small().fit(X, bad)


@pytest.mark.parametrize(
    "y, kind",
    [
        (np.linspace(0, 1, 200), "continuous"),
        (np.random.default_rng(0).integers(0, 3, (200, 2)), "multiclass-multioutput"),
        (np.random.default_rng(0).random((200, 3)), "continuous-multioutput"),
    ],
)
def test_unsupported_target_types_are_rejected(y, kind):
    X, _ = _multilabel_data(seed=19)

    with pytest.raises(ValueError, match=f"Unknown label type: '{kind}'.*MultiLabel"):
        _small().fit(X, y)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_non_finite_features_are_rejected(value, container):
    X, Y = _multilabel_data(n_samples=30, seed=20)
    X_bad = X.copy()
    X_bad[3, 2] = value
    clf = _fit_quietly(_small(max_iter=2), X, Y)

    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        _small().fit(container(X_bad), Y)
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        clf.predict_proba(container(X_bad))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"gamma": -0.5}, r"'gamma' parameter .* must be a float in the range \[0"),
        ({"threshold": 1.5}, r"'threshold' parameter .* range \[0.0, 1.0\]"),
        ({"threshold": -0.1}, r"'threshold' parameter .* range \[0.0, 1.0\]"),
        ({"hidden_layer_sizes": ()}, "non-empty sequence of positive ints"),
        ({"hidden_layer_sizes": (8, 0)}, "non-empty sequence of positive ints"),
        ({"dropout": 1.0}, r"'dropout' parameter .* range \[0.0, 1.0\)"),
        ({"dtype": "float16"}, r"'dtype' parameter .* among \{.*'float32'"),
        ({"dtype": int}, "must be 'float32', 'float64', numpy.float32"),
        ({"activation": "softmax"}, r"'activation' parameter .*'relu'"),
        ({"focal_alpha": 1.5}, r"'focal_alpha' parameter .*'balanced'"),
        ({"max_iter": 0}, r"'max_iter' parameter .* range \[1, inf\)"),
    ],
)
def test_invalid_parameters_raise_at_fit(params, match):
    X, Y = _multilabel_data(n_samples=30, seed=21)
    clf = _small(**params)

    with pytest.raises(InvalidParameterError, match=match):
        clf.fit(X, Y)


def test_array_parameters_must_match_the_number_of_labels():
    X, Y = _multilabel_data(n_samples=30, seed=21)

    with pytest.raises(ValueError, match=r"one value per label, shape \(4,\); got"):
        _small(threshold=[0.5, 0.5]).fit(X, Y)
    with pytest.raises(ValueError, match=r"focal_alpha as an array .* shape \(4,\)"):
        _small(focal_alpha=[0.5, 0.5]).fit(X, Y)
    clf = _fit_quietly(_small(max_iter=2), X, Y)
    clf.set_params(threshold=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match=r"one value per label, shape \(4,\)"):
        clf.predict(X)
    clf.set_params(threshold=[0.5, 0.5, 0.5, 1.5])
    with pytest.raises(ValueError, match=r"threshold values must lie in \[0, 1\]"):
        clf.predict(X)


@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "predict_log_proba", "decision_function"]
)
def test_methods_before_fit_raise_not_fitted(method):
    X, _ = _multilabel_data(n_samples=10, seed=22)

    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(_small(), method)(X)


def test_wrong_number_of_features_after_fit():
    X, Y = _multilabel_data(n_samples=30, seed=23)
    clf = _fit_quietly(_small(max_iter=2), X, Y)

    with pytest.raises(ValueError, match="X has 5 features, but FocalMLPClassifier"):
        clf.predict(X[:, :5])


# ------------------------------------------------------------ convergence
def test_convergence_warning_at_max_iter():
    X, Y = _multilabel_data(seed=24)

    with pytest.warns(ConvergenceWarning, match="reached max_iter=3"):
        clf = _small(max_iter=3).fit(X, Y)

    assert clf.n_iter_ == 3
    assert len(clf.loss_curve_) == 3
    assert clf.loss_ == clf.loss_curve_[-1]


def test_stopping_on_tol_stops_early_without_warning():
    X, Y = _multilabel_data(seed=24)

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf = _small(max_iter=100, tol=10.0, n_iter_no_change=3).fit(X, Y)

    # No epoch improves the loss by 10, so training stops after 1 + 3 + 1.
    assert clf.n_iter_ == 5


def test_training_decreases_the_loss_and_learns():
    X, Y = _multilabel_data(n_samples=400, seed=25)

    clf = _fit_quietly(_small(max_iter=60, learning_rate_init=0.01), X, Y)

    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]
    assert clf.score(X, Y) > 0.8


# ------------------------------------------------------------ optimizer state
def _embedding_model(**params):
    rng = np.random.default_rng(0)
    X = sp.random(80, 30, density=0.2, random_state=0, format="csr")
    Y = (rng.random((80, 3)) < 0.4).astype(int)
    clf = _small(embedding_init=rng.normal(size=(30, 4)), max_iter=3, **params)
    return _fit_quietly(clf, X, Y), X, Y


def test_the_optimizers_count_the_updates_of_the_network():
    clf, X, Y = _embedding_model(batch_size=20)
    assert clf.t_ == 3 * 4
    assert clf._optimizer.t == clf._embedding_optimizer.t == clf.t_


def test_pickle_and_copy_keep_the_optimizer_state_for_warm_start():
    clf, X, Y = _embedding_model()
    again = pickle.loads(pickle.dumps(clf))
    for name in ("_optimizer", "_embedding_optimizer"):
        original, restored = getattr(clf, name), getattr(again, name)
        assert type(restored) is type(original)
        assert restored.t == original.t
        ms = original.ms if isinstance(original.ms, list) else [original.ms]
        restored_ms = restored.ms if isinstance(restored.ms, list) else [restored.ms]
        for a, b in zip(ms, restored_ms, strict=True):
            assert_array_equal(a, b)
    # The same next updates as the original: the moments were carried over.
    clf.partial_fit(X, Y)
    again.partial_fit(X, Y)
    assert_array_equal(clf.embedding_, again.embedding_)
    assert_array_equal(clf.coefs_[0], again.coefs_[0])


def test_model_files_hold_no_optimizer_type(tmp_path):
    import skops.io as sio

    from skanime import load_model, save_model

    clf, X, Y = _embedding_model()
    path = tmp_path / "net.skops"
    save_model(clf, path)
    assert not any("_optimizers" in name for name in sio.get_untrusted_types(file=path))
    loaded = load_model(path)
    assert_allclose(loaded.predict_proba(X), clf.predict_proba(X))
    assert loaded._embedding_optimizer.t == clf.t_


def test_discarded_optimizer_state_restarts_from_zero_moments():
    clf, X, Y = _embedding_model()
    t = clf.t_
    size = len(pickle.dumps(clf))
    moments = clf._embedding_optimizer.ms.nbytes * 2
    moments += sum(m.nbytes * 2 for m in clf._optimizer.ms)
    assert clf.discard_optimizer_state() is clf
    assert clf._optimizer is None and clf._embedding_optimizer is None
    before = clf.predict_proba(X)
    assert len(pickle.dumps(clf)) < size - 0.9 * moments
    clf.partial_fit(X, Y)
    assert clf._optimizer.t == clf._embedding_optimizer.t == clf.t_ > t
    assert not np.allclose(clf.predict_proba(X), before)


def test_discard_optimizer_state_needs_a_fitted_model():
    with pytest.raises(NotFittedError):
        FocalMLPClassifier().discard_optimizer_state()
