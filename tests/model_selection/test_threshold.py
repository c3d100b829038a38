import pickle
from functools import partial

import numpy as np
import pytest
import sklearn
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from joblib import parallel_config
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, RidgeClassifier
from sklearn.metrics import f1_score, get_scorer, precision_score
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold, cross_validate
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.utils import get_tags

from skanime import _thresholds
from skanime.model_selection import (
    MultilabelStratifiedKFold,
    MultilabelStratifiedShuffleSplit,
    MultiLabelThresholdTuner,
    apply_thresholds,
)
from skanime.model_selection._threshold_search import _positive_proba


def make_problem(n_samples=500, n_labels=5, seed=0):
    """Imbalanced multilabel data whose label probabilities rarely exceed 0.5."""
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 8))
    W = rng.normal(size=(8, n_labels))
    bias = np.linspace(-1.5, -3.5, n_labels)
    proba = 1 / (1 + np.exp(-(0.6 * X @ W + bias)))
    y = (rng.rand(n_samples, n_labels) < proba).astype(int)
    return X, y


def logreg():
    return OneVsRestClassifier(LogisticRegression(solver="liblinear"))


# --- a classifier that records which rows it is fitted on and predicts on ----
SPY_LOG = []


class SpyKNN(KNeighborsClassifier):
    """KNN on ``X[:, 1:]`` that logs the row ids held in ``X[:, 0]``."""

    def fit(self, X, y):
        self.fit_rows_ = frozenset(X[:, 0].astype(int).tolist())
        SPY_LOG.append(("fit", self.fit_rows_))
        return super().fit(X[:, 1:], y)

    def predict_proba(self, X):
        rows = frozenset(X[:, 0].astype(int).tolist())
        SPY_LOG.append(("predict", self.fit_rows_, rows))
        return super().predict_proba(X[:, 1:])


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Predicts each label's training prevalence; records fit arguments."""

    def fit(self, X, y, sample_weight=None):
        SPY_LOG.append(("fit", len(X), sample_weight))
        y = np.asarray(y)
        self.prevalence_ = np.average(y, axis=0, weights=sample_weight)
        self.classes_ = np.arange(y.shape[1])
        return self

    def predict_proba(self, X):
        return np.tile(self.prevalence_, (len(X), 1))


@pytest.fixture
def spy_log():
    SPY_LOG.clear()
    yield SPY_LOG
    SPY_LOG.clear()


def with_row_ids(X):
    return np.column_stack([np.arange(len(X)), X])


# --- apply_thresholds ---------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    arrays(np.float64, (12, 5), elements=st.floats(0, 1)),
    arrays(np.float64, (5,), elements=st.floats(0, 1)),
    st.integers(0, 6),
)
def test_apply_thresholds_is_the_validated_form_of_the_one_rule(
    proba, thresholds, min_labels
):
    # The rule itself is tested in tests/test_thresholds.py.
    out = apply_thresholds(proba.tolist(), thresholds.tolist(), min_labels=min_labels)
    assert out.dtype.kind == "i"
    np.testing.assert_array_equal(
        out, _thresholds.apply_thresholds(proba, thresholds, min_labels)
    )


def test_apply_thresholds_errors():
    with pytest.raises(ValueError, match=r"shape \(n_labels,\) = \(3,\); got shape"):
        apply_thresholds(np.zeros((2, 3)), [0.5, 0.5])
    with pytest.raises(ValueError, match="'min_labels' parameter"):
        apply_thresholds(np.zeros((2, 3)), 0.5, min_labels=-1)


# --- the positive column of predict_proba -----------------------------------


def test_positive_proba_handles_per_label_lists():
    X = np.arange(8, dtype=float).reshape(-1, 1)
    y = np.array([[0, 1, 1], [1, 1, 0], [0, 1, 1], [1, 1, 0]] * 2)
    y[:, 2] = 0  # never positive
    forest = RandomForestClassifier(n_estimators=5, random_state=0).fit(X, y)
    assert isinstance(forest.predict_proba(X), list)
    proba = _positive_proba(forest, X, 3)
    assert proba.shape == (8, 3)
    np.testing.assert_array_equal(proba[:, 1], 1.0)  # always positive
    np.testing.assert_array_equal(proba[:, 2], 0.0)  # never positive
    np.testing.assert_allclose(proba[:, 0], forest.predict_proba(X)[0][:, 1])


def test_positive_proba_rejects_wrong_shapes():
    X, y = make_problem(n_samples=60)
    clf = logreg().fit(X, y)
    with pytest.raises(ValueError, match=r"returned shape \(60, 5\); expected"):
        _positive_proba(clf, X, 4)


# --- the tuner ----------------------------------------------------------------


def test_tuned_thresholds_beat_half_on_imbalanced_data():
    X, y = make_problem(n_samples=800)
    X_train, y_train, X_test, y_test = X[:500], y[:500], X[500:], y[500:]
    tuner = MultiLabelThresholdTuner(logreg(), random_state=0).fit(X_train, y_train)
    assert np.all(tuner.thresholds_ < 0.5)
    tuned = f1_score(y_test, tuner.predict(X_test), average="micro")
    at_half = f1_score(
        y_test, (tuner.predict_proba(X_test) >= 0.5).astype(int), average="micro"
    )
    assert tuned > at_half + 0.02


def test_global_threshold_attributes_and_curve():
    X, y = make_problem(n_samples=300)
    tuner = MultiLabelThresholdTuner(logreg(), thresholds=19, random_state=0).fit(X, y)
    grid = tuner.cv_results_["thresholds"]
    scores = tuner.cv_results_["scores"]
    np.testing.assert_allclose(grid, np.linspace(0.05, 0.95, 19))
    assert scores.shape == (19,)
    assert tuner.thresholds_.shape == (5,)
    assert np.unique(tuner.thresholds_).size == 1
    assert tuner.thresholds_[0] in grid
    assert tuner.best_score_ == pytest.approx(scores.max())
    assert tuner.best_score_ == pytest.approx(scores[grid == tuner.thresholds_[0]][0])
    np.testing.assert_array_equal(tuner.classes_, np.arange(5))
    assert tuner.n_features_in_ == 8
    assert "label_scores" not in tuner.cv_results_


def test_best_score_is_the_out_of_fold_score():
    X, y = make_problem(n_samples=300)
    cv = MultilabelStratifiedKFold(3, shuffle=True, random_state=0)
    tuner = MultiLabelThresholdTuner(logreg(), cv=cv).fit(X, y)
    proba = np.zeros(y.shape)
    for train, test in cv.split(X, y):
        proba[test] = logreg().fit(X[train], y[train]).predict_proba(X[test])
    expected = f1_score(y, (proba >= tuner.thresholds_).astype(int), average="micro")
    assert tuner.best_score_ == pytest.approx(expected)


def test_threshold_candidates_from_array():
    X, y = make_problem(n_samples=200)
    tuner = MultiLabelThresholdTuner(
        logreg(), thresholds=[0.6, 0.2, 0.3, 0.2], random_state=0
    ).fit(X, y)
    np.testing.assert_array_equal(tuner.cv_results_["thresholds"], [0.2, 0.3, 0.6])
    assert tuner.thresholds_[0] in (0.2, 0.3, 0.6)


@pytest.mark.parametrize("scoring", ["f1_micro", "f1_macro", "f1_weighted"])
def test_per_label_thresholds_from_per_label_f1(scoring):
    X, y = make_problem(n_samples=400)
    tuner = MultiLabelThresholdTuner(
        logreg(), per_label=True, scoring=scoring, random_state=0
    ).fit(X, y)
    assert tuner.thresholds_.shape == (5,)
    assert np.unique(tuner.thresholds_).size > 1
    label_scores = tuner.cv_results_["label_scores"]
    assert label_scores.shape == (100, 5)
    grid = tuner.cv_results_["thresholds"]
    for j in range(5):
        chosen = label_scores[grid == tuner.thresholds_[j], j][0]
        assert chosen == pytest.approx(label_scores[:, j].max())
    if scoring != "f1_micro":
        # exact for separable objectives: never worse than one shared threshold
        assert tuner.best_score_ >= tuner.cv_results_["scores"].max() - 1e-12


@pytest.mark.parametrize(
    "scoring",
    ["f1_samples", partial(precision_score, average="micro", zero_division=0)],
)
def test_per_label_coordinate_ascent(scoring):
    X, y = make_problem(n_samples=300)
    tuner = MultiLabelThresholdTuner(
        logreg(), per_label=True, scoring=scoring, thresholds=20, random_state=0
    ).fit(X, y)
    assert tuner.thresholds_.shape == (5,)
    assert tuner.cv_results_["label_scores"].shape == (20, 5)
    assert tuner.best_score_ >= tuner.cv_results_["scores"].max() - 1e-12


def oof_proba(X, y, cv):
    """Pooled out-of-fold probabilities of ``logreg()`` and their true labels."""
    tests = [test for _, test in cv.split(X, y)]
    proba = [
        logreg().fit(X[train], y[train]).predict_proba(X[test])
        for train, test in cv.split(X, y)
    ]
    return y[np.concatenate(tests)], np.vstack(proba)


@pytest.mark.parametrize("min_labels", [0, 1])
def test_shrunk_thresholds_are_the_default_models_rule(min_labels):
    X, y = make_problem(n_samples=400)
    cv = MultilabelStratifiedKFold(3, shuffle=True, random_state=0)
    grid = _thresholds.THRESHOLD_GRID
    tuner = MultiLabelThresholdTuner(
        logreg(), per_label="shrunk", thresholds=grid, cv=cv, min_labels=min_labels
    ).fit(X, y)
    y_oof, proba = oof_proba(X, y, cv)

    expected = _thresholds.fit_thresholds(
        y_oof, proba, "shrunk", min_labels=min_labels, grid=grid
    )
    np.testing.assert_array_equal(tuner.thresholds_, expected)
    shared = grid[np.argmax(tuner.cv_results_["scores"])]
    assert np.all(tuner.thresholds_ <= shared)
    assert np.unique(tuner.thresholds_).size > 1
    np.testing.assert_allclose(
        tuner.cv_results_["label_scores"],
        _thresholds.per_label_f1_curves(y_oof, proba, grid),
    )
    expected_score = f1_score(
        y_oof,
        apply_thresholds(proba, expected, min_labels=min_labels),
        average="micro",
    )
    assert tuner.best_score_ == pytest.approx(expected_score)


def test_shrunk_uses_each_labels_f1_curve_whatever_the_scoring():
    X, y = make_problem(n_samples=300)
    params = {"per_label": "shrunk", "thresholds": 20, "random_state": 0}
    samples = MultiLabelThresholdTuner(logreg(), scoring="f1_samples", **params)
    samples.fit(X, y)
    grid = samples.cv_results_["thresholds"]
    shared = grid[np.argmax(samples.cv_results_["scores"])]
    own = grid[np.argmax(samples.cv_results_["label_scores"], axis=0)]
    np.testing.assert_allclose(
        samples.thresholds_, _thresholds.shrink_thresholds(own, shared)
    )


def test_per_label_labels_with_few_positives_take_the_shared_threshold():
    X, y = make_problem(n_samples=300)
    y[:, 4] = 0
    y[: _thresholds.MIN_POSITIVES_PER_LABEL - 1, 4] = 1
    tuner = MultiLabelThresholdTuner(
        logreg(), per_label=True, thresholds=20, random_state=0
    ).fit(X, y)
    grid = tuner.cv_results_["thresholds"]
    shared = grid[np.argmax(tuner.cv_results_["scores"])]
    own = grid[np.argmax(tuner.cv_results_["label_scores"], axis=0)]
    assert own[4] != shared
    assert tuner.thresholds_[4] == shared
    np.testing.assert_array_equal(tuner.thresholds_[:4], own[:4])


class ScoresAreFeatures(ClassifierMixin, BaseEstimator):
    """Returns its input as the probability of each label."""

    def fit(self, X, y):
        self.classes_ = np.arange(np.shape(y)[1])
        return self

    def predict_proba(self, X):
        return np.asarray(X, dtype=float)


@pytest.mark.parametrize("per_label", [False, True, "shrunk"])
def test_ties_between_candidates_go_to_the_lowest(per_label):
    rng = np.random.RandomState(0)
    y = (rng.rand(60, 3) < 0.4).astype(int)
    X = np.where(y == 1, 0.9, 0.1)
    # 0.2, 0.3 and 0.55 all separate the labels perfectly.
    tuner = MultiLabelThresholdTuner(
        ScoresAreFeatures(), per_label=per_label, thresholds=[0.2, 0.3, 0.55, 0.95]
    ).fit(X, y)
    np.testing.assert_array_equal(tuner.thresholds_, 0.2)
    assert tuner.best_score_ == 1.0


def test_samples_f1_shortcut_matches_generic_search():
    X, y = make_problem(n_samples=300)
    generic = partial(f1_score, average="samples", zero_division=0)
    params = {"per_label": True, "thresholds": 15, "random_state": 0}
    fast = MultiLabelThresholdTuner(logreg(), scoring="f1_samples", **params)
    slow = MultiLabelThresholdTuner(logreg(), scoring=generic, **params)
    fast.fit(X, y)
    slow.fit(X, y)
    np.testing.assert_array_equal(fast.thresholds_, slow.thresholds_)
    np.testing.assert_allclose(
        fast.cv_results_["label_scores"], slow.cv_results_["label_scores"]
    )
    assert fast.best_score_ == pytest.approx(slow.best_score_)
    assert np.unique(fast.thresholds_).size > 1


def test_callable_scoring_is_used():
    X, y = make_problem(n_samples=300)

    def precision_micro(y_true, y_pred):
        return precision_score(y_true, y_pred, average="micro", zero_division=0)

    by_precision = MultiLabelThresholdTuner(
        logreg(), scoring=precision_micro, thresholds=20, random_state=0
    ).fit(X, y)
    by_f1 = MultiLabelThresholdTuner(logreg(), thresholds=20, random_state=0).fit(X, y)
    # precision favours stricter thresholds than F1
    assert by_precision.thresholds_[0] > by_f1.thresholds_[0]


def test_min_labels_gives_every_row_labels():
    X, y = make_problem(n_samples=300)
    tuner = MultiLabelThresholdTuner(
        logreg(), thresholds=[0.99], min_labels=2, random_state=0
    ).fit(X, y)
    pred = tuner.predict(X)
    np.testing.assert_array_equal(pred.sum(axis=1), 2)
    top2 = np.argsort(-tuner.predict_proba(X), axis=1)[:, :2]
    np.testing.assert_array_equal(np.take_along_axis(pred, top2, axis=1), 1)
    plain = MultiLabelThresholdTuner(logreg(), thresholds=[0.99], random_state=0)
    assert plain.fit(X, y).predict(X).sum(axis=1).min() == 0


def test_thresholds_never_learnt_on_rows_their_fold_model_saw(spy_log):
    X, y = make_problem(n_samples=120)
    X = with_row_ids(X)
    MultiLabelThresholdTuner(SpyKNN(), cv=4, random_state=0).fit(X, y)
    fits = [entry for entry in spy_log if entry[0] == "fit"]
    predicts = [entry for entry in spy_log if entry[0] == "predict"]
    assert len(fits) == 5  # 4 folds + the final refit
    assert len(predicts) == 4
    for _, fit_rows, predicted_rows in predicts:
        assert fit_rows.isdisjoint(predicted_rows)
    scored = set().union(*(rows for _, _, rows in predicts))
    assert scored == set(range(120))
    assert fits[-1][1] == set(range(120))


def test_nested_cross_validation_keeps_outer_test_rows_out(spy_log):
    X, y = make_problem(n_samples=150)
    X = with_row_ids(X)
    inner_folds = 3
    tuner = MultiLabelThresholdTuner(SpyKNN(), cv=inner_folds, random_state=0)
    outer = MultilabelStratifiedKFold(3, shuffle=True, random_state=1)
    result = cross_validate(
        tuner, X, y, cv=outer, scoring="f1_micro", return_indices=True
    )
    fits = [entry[1] for entry in spy_log if entry[0] == "fit"]
    assert len(fits) == 3 * (inner_folds + 1)
    for k, (train, test) in enumerate(
        zip(result["indices"]["train"], result["indices"]["test"], strict=True)
    ):
        outer_fits = fits[k * (inner_folds + 1) : (k + 1) * (inner_folds + 1)]
        for rows in outer_fits:
            assert rows.isdisjoint(test.tolist())
            assert rows <= set(train.tolist())
        assert outer_fits[-1] == set(train.tolist())


def test_refit_false_keeps_the_single_split_model(spy_log):
    X, y = make_problem(n_samples=100)
    X = with_row_ids(X)
    cv = MultilabelStratifiedShuffleSplit(1, test_size=0.3, random_state=0)
    tuner = MultiLabelThresholdTuner(SpyKNN(), cv=cv, refit=False).fit(X, y)
    fits = [entry[1] for entry in spy_log if entry[0] == "fit"]
    assert len(fits) == 1
    assert tuner.estimator_.fit_rows_ == fits[0]
    assert len(fits[0]) == 70


def test_refit_false_needs_a_single_split():
    X, y = make_problem(n_samples=100)
    with pytest.raises(ValueError, match="refit=False needs a cv with a single split"):
        MultiLabelThresholdTuner(logreg(), refit=False).fit(X, y)


def test_fit_params_are_sliced_to_training_rows(spy_log):
    X, y = make_problem(n_samples=90)
    weights = np.linspace(1, 2, 90)
    MultiLabelThresholdTuner(RecordingClassifier(), cv=3, random_state=0).fit(
        X, y, sample_weight=weights
    )
    fits = [entry for entry in spy_log if entry[0] == "fit"]
    for _, n_rows, sample_weight in fits:
        assert len(sample_weight) == n_rows
    assert fits[-1][1] == 90


def test_groups_reach_the_splitter(spy_log):
    X, y = make_problem(n_samples=90)
    X = with_row_ids(X)
    groups = np.arange(90) // 10
    MultiLabelThresholdTuner(SpyKNN(), cv=GroupKFold(3)).fit(X, y, groups=groups)
    for _, fit_rows, predicted_rows in (e for e in spy_log if e[0] == "predict"):
        fit_groups = set(groups[list(fit_rows)])
        assert fit_groups.isdisjoint(groups[list(predicted_rows)])


def test_metadata_routing(spy_log):
    X, y = make_problem(n_samples=60)
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = RecordingClassifier().set_fit_request(sample_weight=True)
        MultiLabelThresholdTuner(estimator, cv=3, random_state=0).fit(
            X, y, sample_weight=np.ones(60)
        )
    assert all(entry[2] is not None for entry in spy_log)


@pytest.mark.parametrize(
    "estimator",
    [
        KNeighborsClassifier(),
        RandomForestClassifier(n_estimators=10, random_state=0),
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0),
        logreg(),
    ],
    ids=["knn", "forest", "mlp", "ovr"],
)
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_works_with_common_multilabel_estimators(estimator):
    X, y = make_problem(n_samples=150)
    tuner = MultiLabelThresholdTuner(estimator, thresholds=20, random_state=0).fit(X, y)
    assert tuner.predict_proba(X).shape == (150, 5)
    assert tuner.predict(X).shape == (150, 5)
    assert set(np.unique(tuner.predict(X))) <= {0, 1}


def test_text_pipeline_with_raw_strings():
    words = np.array(["mecha", "romance", "school", "space", "magic", "sports"])
    rng = np.random.RandomState(0)
    docs, y = [], []
    for _ in range(60):
        picked = rng.choice(6, size=3, replace=False)
        docs.append(" ".join(words[picked]))
        y.append([int(0 in picked or 3 in picked), int(1 in picked), int(5 in picked)])
    pipe = make_pipeline(TfidfVectorizer(), logreg())
    tuner = MultiLabelThresholdTuner(pipe, thresholds=10, random_state=0)
    tuner.fit(docs, np.array(y))
    assert tuner.predict(["space mecha school"]).shape == (1, 3)
    assert not hasattr(tuner, "n_features_in_")


def test_n_jobs_gives_same_result():
    X, y = make_problem(n_samples=200)
    serial = MultiLabelThresholdTuner(logreg(), random_state=0).fit(X, y)
    with parallel_config(backend="threading"):
        parallel = MultiLabelThresholdTuner(logreg(), n_jobs=2, random_state=0)
        parallel.fit(X, y)
    np.testing.assert_array_equal(serial.thresholds_, parallel.thresholds_)
    np.testing.assert_allclose(
        serial.cv_results_["scores"], parallel.cv_results_["scores"]
    )


def test_random_state_reproducible():
    X, y = make_problem(n_samples=200)
    a = MultiLabelThresholdTuner(KNeighborsClassifier(), random_state=3).fit(X, y)
    b = MultiLabelThresholdTuner(KNeighborsClassifier(), random_state=3).fit(X, y)
    np.testing.assert_array_equal(a.cv_results_["scores"], b.cv_results_["scores"])


def test_decision_function_passthrough():
    X, y = make_problem(n_samples=100)
    tuner = MultiLabelThresholdTuner(logreg(), random_state=0).fit(X, y)
    np.testing.assert_allclose(
        tuner.decision_function(X), tuner.estimator_.decision_function(X)
    )
    assert not hasattr(
        MultiLabelThresholdTuner(KNeighborsClassifier()), "decision_function"
    )


def test_clone_and_params():
    tuner = MultiLabelThresholdTuner(
        logreg(), scoring="f1_macro", per_label=True, cv=4, min_labels=1
    )
    params = tuner.get_params()
    assert params["estimator__estimator__C"] == 1.0
    assert params["min_labels"] == 1
    cloned = clone(tuner)
    assert cloned.get_params()["per_label"] is True
    assert cloned.estimator is not tuner.estimator
    cloned.set_params(estimator__estimator__C=0.1, thresholds=10)
    assert cloned.estimator.estimator.C == 0.1
    assert tuner.estimator.estimator.C == 1.0


def test_grid_search_over_inner_estimator():
    X, y = make_problem(n_samples=200)
    search = GridSearchCV(
        MultiLabelThresholdTuner(KNeighborsClassifier(), thresholds=20, random_state=0),
        {"estimator__n_neighbors": [3, 9], "per_label": [False, True]},
        cv=MultilabelStratifiedKFold(3, shuffle=True, random_state=0),
        scoring="f1_micro",
    ).fit(X, y)
    assert search.best_params_["estimator__n_neighbors"] in (3, 9)
    assert search.best_estimator_.thresholds_.shape == (5,)
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert get_scorer("f1_micro")(search, X, y) > 0


def test_pickle_round_trip():
    X, y = make_problem(n_samples=150)
    tuner = MultiLabelThresholdTuner(logreg(), per_label=True, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(tuner))
    np.testing.assert_array_equal(restored.thresholds_, tuner.thresholds_)
    np.testing.assert_array_equal(restored.predict(X), tuner.predict(X))


def test_not_fitted():
    with pytest.raises(sklearn.exceptions.NotFittedError):
        MultiLabelThresholdTuner(logreg()).predict(np.zeros((2, 8)))


@pytest.mark.parametrize(
    "estimator",
    [KNeighborsClassifier(), logreg(), make_pipeline(TfidfVectorizer(), logreg())],
)
def test_tags_follow_the_estimator(estimator):
    tags = MultiLabelThresholdTuner(estimator).__sklearn_tags__()
    assert tags.classifier_tags.multi_label is True
    assert tags.classifier_tags.multi_class is False
    inner = get_tags(estimator).input_tags
    assert tags.input_tags.sparse == inner.sparse
    assert tags.input_tags.string == inner.string


@pytest.mark.parametrize(
    "y, kind",
    [
        (np.array([0, 1] * 10), "binary"),
        (np.array([0, 1, 2] * 6 + [0, 1]), "multiclass"),
        (np.linspace(0, 1, 20).reshape(-1, 2).repeat(2, axis=0), "continuous"),
    ],
)
def test_rejects_non_multilabel_targets(y, kind):
    X = np.random.RandomState(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match=f"label indicator matrix.*got a '{kind}"):
        MultiLabelThresholdTuner(logreg()).fit(X, y)


@pytest.mark.parametrize(
    "params, msg",
    [
        ({"estimator": RidgeClassifier()}, "'estimator' parameter"),
        ({"scoring": "accuracy"}, "'scoring' parameter"),
        ({"thresholds": 0}, "'thresholds' parameter"),
        ({"cv": 1}, "'cv' parameter"),
        ({"min_labels": -1}, "'min_labels' parameter"),
        ({"per_label": "half"}, "'per_label' parameter"),
        ({"thresholds": [[0.1, 0.2]]}, "non-empty 1-D array"),
        ({"thresholds": []}, "non-empty 1-D array"),
        ({"scoring": get_scorer("f1_micro")}, "not a scorer object"),
    ],
)
def test_parameter_errors(params, msg):
    X, y = make_problem(n_samples=60)
    params = {"estimator": logreg(), **params}
    with pytest.raises(ValueError, match=msg):
        MultiLabelThresholdTuner(**params).fit(X, y)


def test_cv_iterable_and_splitter():
    X, y = make_problem(n_samples=90)
    folds = list(KFold(3).split(X))
    from_list = MultiLabelThresholdTuner(logreg(), cv=folds).fit(X, y)
    from_splitter = MultiLabelThresholdTuner(logreg(), cv=KFold(3)).fit(X, y)
    np.testing.assert_array_equal(from_list.thresholds_, from_splitter.thresholds_)
