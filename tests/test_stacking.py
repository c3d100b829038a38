"""MultilabelStackingClassifier and MultilabelLogisticRegression."""

import pickle
import threading

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

from skanime import (
    FocalMLPClassifier,
    MultilabelKNeighborsClassifier,
    MultilabelLogisticRegression,
    MultilabelMultinomialNB,
    MultilabelStackingClassifier,
    RareFeatureSelector,
    TfidfWeightedW2VTransformer,
    _stacking,
    load_model,
    make_genre_pipeline,
    save_model,
)
from skanime._stacking import _awaiting_merge, _merge_fold_models, _ready_to_predict

WORDS = {
    0: ["robot", "pilot", "mecha", "colony", "battle"],
    1: ["space", "star", "planet", "ship", "galaxy"],
    2: ["love", "heart", "date", "kiss", "crush"],
    3: ["school", "class", "teacher", "student", "club"],
}


def _corpus(n=120, seed=0):
    """Synopses whose labels follow their words; labels 0/1 and 2/3 co-occur."""
    rng = np.random.RandomState(seed)
    docs, Y = [], np.zeros((n, 4), dtype=int)
    for i in range(n):
        labels = [0, 1] if i % 2 == 0 else [2, 3]
        if rng.rand() < 0.3:
            labels = labels[:1]
        Y[i, labels] = 1
        words = [w for j in labels for w in rng.choice(WORDS[j], 3)]
        words += list(rng.choice(["the", "a", "story", "of", "one"], 4))
        rng.shuffle(words)
        docs.append(" ".join(words))
    return np.array(docs, dtype=object), Y


def _linear():
    return make_pipeline(TfidfVectorizer(), MultilabelLogisticRegression(C=10.0))


def _network():
    return Pipeline(
        [
            (
                "embed",
                TfidfWeightedW2VTransformer(
                    vector_size=8, min_count=1, epochs=5, output="weights"
                ),
            ),
            (
                "clf",
                FocalMLPClassifier(
                    hidden_layer_sizes=(8,),
                    max_iter=30,
                    embedding_init="vectors",
                    embedding_learning_rate=1e-2,
                ),
            ),
        ]
    )


def _stacker(**params):
    return MultilabelStackingClassifier(
        [("linear", _linear())], **{"cv": 3, "random_state": 0, **params}
    )


# -- MultilabelLogisticRegression ------------------------------------------


@pytest.mark.parametrize("solver", ["liblinear", "lbfgs"])
def test_logistic_regression_equals_one_binary_model_per_label(solver):
    rng = np.random.RandomState(0)
    X = rng.randn(300, 6)
    Y = (X[:, :3] + 0.5 * rng.randn(300, 3) > 0).astype(int)
    model = MultilabelLogisticRegression(C=1.0, solver=solver, tol=1e-8, max_iter=500)
    model.fit(X, Y)
    for j in range(3):
        reference = LogisticRegression(
            C=1.0, solver="liblinear" if solver == "liblinear" else "lbfgs", tol=1e-10
        ).fit(X, Y[:, j])
        np.testing.assert_allclose(model.coef_[j], reference.coef_[0], atol=2e-3)
        np.testing.assert_allclose(
            model.predict_proba(X)[:, j], reference.predict_proba(X)[:, 1], atol=2e-3
        )


def test_logistic_regression_constant_label_gets_smoothed_rate():
    X = np.random.RandomState(0).randn(40, 3)
    Y = np.zeros((40, 2), dtype=int)
    Y[::2, 0] = 1
    model = MultilabelLogisticRegression().fit(X, Y)
    assert model.constant_labels_.tolist() == [1]
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], 0.5 / 41, rtol=1e-5)


def test_logistic_regression_rejects_non_indicator_targets():
    with pytest.raises(ValueError, match="label indicator matrix.*MultiLabelBinarizer"):
        MultilabelLogisticRegression().fit(np.ones((4, 2)), [0.5, 1.5, 2.5, 3.5])


def test_logistic_regression_sparse_row_product_matches_dense():
    docs, Y = _corpus()
    X = TfidfVectorizer().fit_transform(docs)
    model = MultilabelLogisticRegression(C=10.0).fit(X, Y)
    np.testing.assert_allclose(
        model.decision_function(X),
        X.toarray() @ model.coef_.T.astype(np.float64) + model.intercept_,
        rtol=1e-5,
        atol=1e-5,
    )


# -- MultilabelStackingClassifier -------------------------------------------


def test_stacker_learns_labels_and_keeps_one_model_per_fold():
    docs, Y = _corpus()
    model = MultilabelStackingClassifier(
        [("linear", _linear()), ("network", _network())], cv=3, random_state=0
    ).fit(docs, Y)
    assert len(model.estimators_[0]) == 1  # linear fold models merged
    assert len(model.estimators_[1]) == 3
    assert model.oof_proba_.shape == Y.shape
    assert model.transform(docs[:2]).shape == (2, 8)
    pred = model.predict(["robot pilot mecha battle", "love kiss school club"])
    assert pred[0, 0] == 1 and pred[1, 2] == 1
    assert model.score(docs, Y) > 0.8


def test_stacker_predictions_are_reproducible():
    docs, Y = _corpus()
    first = _stacker().fit(docs, Y).predict_proba(docs)
    second = _stacker().fit(docs, Y).predict_proba(docs)
    np.testing.assert_array_equal(first, second)


def test_merged_linear_fold_models_give_the_mean_logit():
    docs, Y = _corpus()
    X = TfidfVectorizer().fit_transform(docs)
    models = [MultilabelLogisticRegression(C=c).fit(X, Y) for c in (1.0, 3.0, 10.0)]
    expected = np.mean([m.decision_function(X) for m in models], axis=0)
    (merged,) = _merge_fold_models(
        [clone(m).fit(X, Y) for m in models], models[0], X, Y
    )
    np.testing.assert_allclose(
        merged.decision_function(X), expected, rtol=1e-4, atol=1e-5
    )


def test_float16_fold_models_await_their_merge_in_half_the_memory():
    docs, Y = _corpus()
    X = TfidfVectorizer().fit_transform(docs)
    member = MultilabelLogisticRegression(C=10.0, dtype="float16")
    halves = [np.arange(0, len(docs), 2), np.arange(1, len(docs), 2)]
    folds = [clone(member).fit(X[rows], Y[rows]) for rows in halves]
    (expected,) = _merge_fold_models(
        [pickle.loads(pickle.dumps(m)) for m in folds], member, X, Y
    )
    expected = _ready_to_predict(expected)
    waiting = [_awaiting_merge(m) for m in folds]
    assert all(m.coef_.dtype == np.float16 for m in waiting)
    mean = np.mean([m.coef_.astype(np.float64) for m in waiting], axis=0)
    (merged,) = _merge_fold_models(waiting, member, X, Y)
    # The merged model stays compact until the fit ends.
    assert merged.coef_.dtype == np.float16
    merged = _ready_to_predict(merged)
    assert merged.coef_.dtype == np.float32 and merged.coef_.flags.f_contiguous
    np.testing.assert_array_equal(merged.coef_, expected.coef_)
    # The mean of the fold models, rounded through float32 to float16.
    np.testing.assert_array_equal(
        merged.coef_, mean.astype(np.float32).astype(np.float16).astype(np.float32)
    )
    np.testing.assert_array_equal(merged.intercept_, expected.intercept_)
    # float32 members keep their fold models as they are; neighbours models
    # are dropped, the merge refits one on all rows.
    full = MultilabelLogisticRegression(C=10.0).fit(X, Y)
    assert _awaiting_merge(full).coef_.dtype == np.float32
    assert _awaiting_merge(MultilabelKNeighborsClassifier().fit(X, Y)) is None


def test_stacker_with_one_split_keeps_predicting_models():
    # One split: the neighbours' fold model is still replaced by one on all
    # rows, and the float16 linear model goes back to float32 coefficients.
    from sklearn.model_selection import ShuffleSplit

    docs, Y = _corpus()
    model = MultilabelStackingClassifier(
        [
            (
                "knn",
                make_pipeline(TfidfVectorizer(), MultilabelKNeighborsClassifier(0.2)),
            ),
            (
                "words",
                make_pipeline(
                    TfidfVectorizer(),
                    MultilabelLogisticRegression(C=10.0, dtype="float16"),
                ),
            ),
        ],
        cv=ShuffleSplit(1, test_size=0.3, random_state=0),
        random_state=0,
    ).fit(docs, Y)
    knn, words = (models[0] for models in model.estimators_)
    assert knn.n_neighbors_ == round(0.2 * len(docs))
    assert words.coef_.dtype == np.float32
    assert model.predict(docs[:5]).shape == (5, Y.shape[1])


def test_member_features_are_released_once_the_member_is_merged(monkeypatch):
    # The members' features are the largest arrays of a fit: a merged
    # member's go while the other members still fit.
    import gc
    import weakref

    features, alive_at_merge = {}, []
    fit_fold, merge = _stacking._fit_fold, _stacking._merge_fold_models

    def recording_fit_fold(classifier, Z, *args):
        features.setdefault(id(classifier), weakref.ref(Z))
        return fit_fold(classifier, Z, *args)

    def recording_merge(models, classifier, Z, Y):
        gc.collect()
        alive_at_merge.append([ref() is not None for ref in features.values()])
        return merge(models, classifier, Z, Y)

    monkeypatch.setattr(_stacking, "_fit_fold", recording_fit_fold)
    monkeypatch.setattr(_stacking, "_merge_fold_models", recording_merge)
    docs, Y = _corpus()
    words_and_pairs = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2)), MultilabelLogisticRegression(C=10.0)
    )
    model = MultilabelStackingClassifier(
        [("words", _linear()), ("pairs", words_and_pairs)], cv=3, random_state=0
    ).fit(docs, Y)
    # At the second member's merge, the first member's features are gone.
    assert alive_at_merge == [[True], [False, True]]
    assert model.predict(docs[:3]).shape == (3, Y.shape[1])


def test_neighbours_fold_models_become_one_model_on_all_rows():
    docs, Y = _corpus()
    X = TfidfVectorizer().fit_transform(docs)
    knn = MultilabelKNeighborsClassifier(n_neighbors=0.1)
    halves = [np.arange(0, len(docs), 2), np.arange(1, len(docs), 2)]
    folds = [clone(knn).fit(X[rows], Y[rows]) for rows in halves]
    (merged,) = _merge_fold_models(folds, knn, X, Y)
    assert merged.n_neighbors_ == round(0.1 * len(docs))
    np.testing.assert_array_equal(
        merged.predict_proba(X), clone(knn).fit(X, Y).predict_proba(X)
    )


def test_stacker_with_a_neighbours_member_scores_each_row_once():
    docs, Y = _corpus()
    member = make_pipeline(TfidfVectorizer(), MultilabelKNeighborsClassifier(0.2))
    model = MultilabelStackingClassifier(
        [("knn", member), ("linear", _linear())], cv=3, random_state=0
    ).fit(docs, Y)
    (knn,) = model.estimators_[0]
    assert knn._samples_t.shape[1] == len(docs)
    assert model.predict_proba(docs).shape == Y.shape


def test_stacker_thresholds_come_from_out_of_fold_predictions():
    docs, Y = _corpus()
    model = _stacker(threshold="shared").fit(docs, Y)
    assert np.unique(model.thresholds_).size == 1
    given = _stacker(threshold=0.9).fit(docs, Y)
    np.testing.assert_array_equal(given.thresholds_, np.full(4, 0.9))
    per_label = _stacker(threshold="per_label").fit(docs, Y)
    assert per_label.thresholds_.shape == (4,)


def test_stacker_bad_threshold_array_is_refused():
    docs, Y = _corpus()
    with pytest.raises(
        ValueError, match="one\nvalue in \\[0, 1\\] per label|per label"
    ):
        _stacker(threshold=[0.2, 0.3]).fit(docs, Y)


def test_stacker_groups_keep_each_group_out_of_its_own_scores():
    """With groups, a sample's out-of-fold score never comes from its group.

    Each group holds copies of one synopsis with its labels; a member that
    memorises synopses scores its group's copies perfectly unless the folds
    keep the group together, so the out-of-fold scores differ.
    """
    docs, Y = _corpus(n=60)
    docs = np.repeat(docs, 3)
    Y = np.repeat(Y, 3, axis=0)
    groups = np.repeat(np.arange(60), 3)
    grouped = _stacker().fit(docs, Y, groups=groups)
    ungrouped = _stacker().fit(docs, Y)
    assert not np.allclose(grouped.oof_proba_, ungrouped.oof_proba_)

    seen = []

    class RecordingKFold(KFold):
        def split(self, X, y=None, groups=None):
            seen.append(groups)
            return super().split(X, y, groups)

    _stacker(cv=RecordingKFold(3)).fit(docs, Y, groups=groups)
    np.testing.assert_array_equal(seen[0], groups)


def test_stacker_groups_reach_it_through_a_pipeline():
    docs, Y = _corpus(n=60)
    groups = np.arange(60) // 2
    pipe = Pipeline([("stack", _stacker())])
    pipe.fit(docs, Y, stack__groups=groups)
    direct = _stacker().fit(docs, Y, groups=groups)
    np.testing.assert_array_equal(pipe.predict_proba(docs), direct.predict_proba(docs))


def test_stacker_params_are_nested_and_settable():
    model = MultilabelStackingClassifier(
        [("linear", _linear()), ("network", _network())]
    )
    params = model.get_params()
    assert params["network__clf__gamma"] == 2.0 or "network__clf__gamma" in params
    model.set_params(network__clf__gamma=0.5, threshold=0.4)
    assert model.named_estimators["network"][-1].gamma == 0.5
    assert clone(model).get_params()["threshold"] == 0.4


def test_stacker_not_fitted_and_bad_input():
    docs, Y = _corpus()
    with pytest.raises(NotFittedError):
        _stacker().predict(docs)
    with pytest.raises(ValueError, match="not a\nsingle string|single string"):
        _stacker().fit("one synopsis", Y[:1])
    with pytest.raises(ValueError, match="label indicator matrix"):
        _stacker().fit(docs, Y[:, 0])
    with pytest.raises(ValueError, match="at least one"):
        MultilabelStackingClassifier([]).fit(docs, Y)


def test_vectors_member_needs_an_embedding_transformer():
    docs, Y = _corpus()
    member = make_pipeline(
        TfidfVectorizer(), FocalMLPClassifier(max_iter=5, embedding_init="vectors")
    )
    with pytest.raises(ValueError, match="output='weights'"):
        MultilabelStackingClassifier([("net", member)]).fit(docs, Y)


def test_stacker_pickles():
    docs, Y = _corpus()
    model = _stacker().fit(docs, Y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.predict_proba(docs), model.predict_proba(docs))


def test_stacker_constant_label_gets_base_rate_and_one_warning():
    docs, Y = _corpus()
    Y = np.column_stack([Y, np.zeros(len(Y), dtype=int)])
    with pytest.warns(UserWarning, match=r"Labels \[4\]") as record:
        model = _stacker().fit(docs, Y)
    assert sum("Labels [4]" in str(w.message) for w in record) == 1
    np.testing.assert_allclose(model.predict_proba(docs[:3])[:, 4], 0.5 / (len(Y) + 1))


def test_stacker_scores_large_inputs_in_chunks(monkeypatch):
    from skanime import _stacking

    docs, Y = _corpus()
    model = _stacker().fit(docs, Y)
    whole = model.predict_proba(docs)
    monkeypatch.setattr(_stacking, "_PREDICT_ROWS", 7)
    # Out-of-fold scores are computed in blocks too, to the same values.
    np.testing.assert_array_equal(_stacker().fit(docs, Y).oof_proba_, model.oof_proba_)
    chunks, final_chunks = [], []
    score = model._member_scores_of
    model._member_scores_of = lambda X: chunks.append(len(X)) or score(X)
    logreg = model.final_estimator_[-1]
    final_logits = logreg._trusted_decision_function
    logreg._trusted_decision_function = lambda Z: (
        final_chunks.append(len(Z)) or final_logits(Z)
    )
    np.testing.assert_allclose(model.predict_proba(docs), whole, atol=1e-6)
    blocks = [7] * (len(docs) // 7) + [len(docs) % 7] * (len(docs) % 7 > 0)
    assert chunks == blocks
    # The second stage takes the blocks too: no array of all first-stage
    # scores is built.
    assert final_chunks == blocks
    np.testing.assert_allclose(model.predict_proba(list(docs)), whole, atol=1e-6)
    assert model.transform(docs).shape == (len(docs), Y.shape[1])


@pytest.mark.parametrize("own_second_stage", [True, False])
def test_stacker_probabilities_are_its_second_stage_on_its_scores(own_second_stage):
    # The stacker's own second stage runs without its input checks, with the
    # same arithmetic; a given one through its predict_proba.
    docs, Y = _corpus()
    model = _stacker()
    if not own_second_stage:
        model.set_params(final_estimator=model._final_estimator())
    model.fit(docs, Y)
    expected = model.final_estimator_.predict_proba(model.transform(docs))
    np.testing.assert_array_equal(model.predict_proba(docs), expected)
    np.testing.assert_array_equal(model.predict_proba(docs[:1]), expected[:1])


def test_stacker_label_constant_in_a_fold_does_not_move_the_others():
    # Label 4 has one positive: the fold that holds it out trains on no
    # positive and scores it at a constant, the other folds by a model. Its
    # columns would tell the second stage which fold a row came from; they
    # enter it as 0, and the other labels come out as without label 4.
    docs, Y = _corpus()
    rare = np.zeros((len(Y), 1), dtype=int)
    rare[0] = 1
    folds = KFold(3, shuffle=True, random_state=0)
    second_stage = make_pipeline(
        StandardScaler(),
        MultilabelLogisticRegression(
            C=0.03, own_label_C=10.0, solver="lbfgs", tol=1e-10, max_iter=5000
        ),
    )
    stack = MultilabelStackingClassifier(
        [("linear", _linear()), ("other", _linear())],
        second_stage,
        cv=folds,
        random_state=0,
    )
    with_rare = clone(stack).fit(docs, np.hstack([Y, rare]))
    without = clone(stack).fit(docs, Y)

    assert with_rare.fold_constant_labels_.tolist() == [4]
    assert without.fold_constant_labels_.tolist() == []
    np.testing.assert_array_equal(with_rare.transform(docs[:5])[:, [4, 9]], 0.0)
    np.testing.assert_allclose(
        with_rare.oof_proba_[:, :4], without.oof_proba_, atol=1e-3
    )
    np.testing.assert_allclose(
        with_rare.predict_proba(docs)[:, :4], without.predict_proba(docs), atol=1e-3
    )


# -- the default model --------------------------------------------------------


def test_default_model_is_a_pipeline_of_skanime_estimators():
    pipeline = make_genre_pipeline(random_state=0)
    assert isinstance(pipeline, Pipeline)
    stack = pipeline.named_steps["stack"]
    assert isinstance(stack, MultilabelStackingClassifier)
    network = stack.named_estimators["network"]
    assert isinstance(network.named_steps["embed"], TfidfWeightedW2VTransformer)
    assert isinstance(network.named_steps["clf"], FocalMLPClassifier)
    with pytest.raises(ValueError, match="Invalid parameter"):
        pipeline.set_params(clf__threshold=0.3)


def _small_default(**params):
    return make_genre_pipeline(
        random_state=0,
        stack__network__embed__min_count=1,
        stack__network__embed__vector_size=8,
        stack__network__clf__hidden_layer_sizes=(8,),
        stack__network__clf__max_iter=20,
        **{
            f"stack__{member}__tfidf__{name}": value
            for member in ("linear", "bayes", "neighbors")
            for name, value in (("min_df", 1), ("stop_words", None))
        },
        **params,
    )


def test_grid_search_over_gamma_and_threshold_changes_predictions():
    docs, Y = _corpus(n=90)
    grid = {
        "stack__network__clf__gamma": [0.0, 3.0],
        "stack__threshold": ["shrunk", 0.999],
    }
    search = GridSearchCV(
        _small_default(), grid, scoring="f1_micro", cv=KFold(2), refit=False
    ).fit(docs, Y)
    assert len(search.cv_results_["params"]) == 4
    predictions = {}
    for gamma in grid["stack__network__clf__gamma"]:
        for threshold in grid["stack__threshold"]:
            model = _small_default(
                stack__network__clf__gamma=gamma, stack__threshold=threshold
            ).fit(docs, Y)
            predictions[gamma, threshold] = model.predict_proba(docs)
            predictions[gamma, threshold, "labels"] = model.predict(docs)
    assert not np.allclose(predictions[0.0, "shrunk"], predictions[3.0, "shrunk"])
    assert not np.array_equal(
        predictions[0.0, "shrunk", "labels"], predictions[0.0, 0.999, "labels"]
    )


# -- out-of-fold scores, thresholds and min_labels ----------------------------


def _memorizer():
    """A member scoring the labels of a synopsis seen in fit (+-5), 0 others."""
    from sklearn.base import BaseEstimator, ClassifierMixin

    class Memorizer(ClassifierMixin, BaseEstimator):
        def fit(self, X, y):
            y = np.asarray(y)
            self.memory_ = {x: row for x, row in zip(X, y, strict=True)}
            self.n_labels_ = y.shape[1]
            return self

        def decision_function(self, X):
            return np.array(
                [
                    5.0 * (2.0 * self.memory_[x] - 1.0)
                    if x in self.memory_
                    else np.zeros(self.n_labels_)
                    for x in X
                ]
            )

    return Memorizer()


def _unique_corpus(n=90):
    docs, Y = _corpus(n=n)
    return np.array([f"{d} doc{i}" for i, d in enumerate(docs)], dtype=object), Y


def test_stacker_out_of_fold_scores_never_come_from_a_model_that_saw_them():
    # A member that only recalls its training synopses gives every training
    # synopsis the score of an unseen one (0), out of fold: the second stage
    # then learns no weight, only the base rates, the same for every synopsis
    # of a fold. In sample, the two fold models trained on a synopsis recall
    # it.
    docs, Y = _unique_corpus()
    folds = KFold(3)
    model = MultilabelStackingClassifier(
        [("memory", _memorizer())], cv=folds, random_state=0
    ).fit(docs, Y)

    np.testing.assert_allclose(model.final_estimator_[-1].coef_, 0.0)
    for _, test in folds.split(docs):
        np.testing.assert_allclose(np.ptp(model.oof_proba_[test], axis=0), 0.0)
    assert len(model.estimators_[0]) == 3
    in_sample = model.transform(docs)
    np.testing.assert_allclose(in_sample, 5.0 * (2 * Y - 1) * 2 / 3)


def test_stacker_thresholds_are_the_best_on_its_out_of_fold_predictions():
    from skanime._thresholds import best_per_label_thresholds, best_shared_threshold

    docs, Y = _corpus()
    shared = _stacker(threshold="shared").fit(docs, Y)
    best = best_shared_threshold(Y, shared.oof_proba_, min_labels=1)
    np.testing.assert_array_equal(shared.thresholds_, np.full(4, best))
    # Out-of-fold probabilities are not the in-sample ones.
    assert not np.allclose(shared.oof_proba_, shared.predict_proba(docs))

    per_label = _stacker(threshold="per_label").fit(docs, Y)
    fallback = best_shared_threshold(Y, per_label.oof_proba_, min_labels=1)
    np.testing.assert_array_equal(
        per_label.thresholds_,
        best_per_label_thresholds(Y, per_label.oof_proba_, fallback),
    )


@pytest.mark.parametrize("min_labels", [0, 1, 2])
def test_stacker_min_labels_gives_each_sample_its_best_labels(min_labels):
    docs, Y = _corpus()
    model = _stacker(threshold=1.0, min_labels=min_labels).fit(docs, Y)
    proba = model.predict_proba(docs)
    assert proba.max() < 1.0  # no label reaches the threshold

    predicted = model.predict(docs)

    np.testing.assert_array_equal(predicted.sum(axis=1), min_labels)
    best = np.argsort(-proba, axis=1, kind="stable")[:, :min_labels]
    assert np.all(np.take_along_axis(predicted, best, axis=1) == 1)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_default_model_fits_transformers_once_and_classifiers_per_fold():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    docs, Y = _corpus(n=90)
    pipeline = _small_default().fit(docs, Y)
    stack = pipeline.named_steps["stack"]

    network_transformer, linear_transformer, bayes_transformer, knn_transformer = (
        stack.transformers_
    )
    vocabulary = network_transformer.named_steps["embed"].vocabulary_
    # Transformers fitted on all training synopses; one TF-IDF for the others.
    words = {w for d in docs for w in d.split()} - ENGLISH_STOP_WORDS
    assert set(vocabulary) == words
    tfidf = linear_transformer.named_steps["tfidf"]
    assert set(tfidf.vocabulary_) >= set(vocabulary)
    assert bayes_transformer.named_steps["tfidf"] is tfidf
    assert knn_transformer is bayes_transformer
    rare = bayes_transformer.named_steps["rare"]
    # The terms of at most 400 synopses: all of them, in 90.
    assert rare.max_df == 400 and rare.get_support().all()
    networks, linear, bayes, neighbors = stack.estimators_
    assert len(networks) == stack.cv == 3
    assert len(linear) == len(bayes) == len(neighbors) == 1
    for network in networks:
        # Fine-tuned from the word vectors, which are not kept as a parameter.
        assert network.embedding_init == "vectors"
        assert network.embedding_.shape[0] == len(vocabulary)
    assert not np.allclose(networks[0].embedding_, networks[1].embedding_)
    # Shrunk per-genre thresholds: never above the shared one.
    assert stack.threshold == "shrunk"
    from skanime._thresholds import fit_thresholds

    shared = fit_thresholds(Y, stack.oof_proba_, "shared", min_labels=1)
    np.testing.assert_array_equal(
        stack.thresholds_, fit_thresholds(Y, stack.oof_proba_, "shrunk", min_labels=1)
    )
    assert np.all(stack.thresholds_ <= shared)
    assert pipeline.predict(docs).sum(axis=1).min() >= 1


def test_members_with_equal_deterministic_transformers_share_one(monkeypatch):
    docs, Y = _corpus()
    members = [
        ("linear", _linear()),
        ("knn", make_pipeline(TfidfVectorizer(), MultilabelKNeighborsClassifier(0.1))),
        ("pairs", make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), _linear()[-1])),
    ]
    fits = []
    original_fit = TfidfVectorizer.fit_transform

    def counted(self, *args, **kwargs):
        fits.append(self.ngram_range)
        return original_fit(self, *args, **kwargs)

    monkeypatch.setattr(TfidfVectorizer, "fit_transform", counted)
    shared = MultilabelStackingClassifier(members, cv=3, random_state=0).fit(docs, Y)
    assert fits == [(1, 1), (1, 2)]
    first, second, third = shared.transformers_
    assert first is second and third is not first
    pickled = pickle.loads(pickle.dumps(shared))
    assert pickled.transformers_[0] is pickled.transformers_[1]

    monkeypatch.setattr(
        _stacking, "_same_deterministic_step", lambda first, second: False
    )
    separate = MultilabelStackingClassifier(members, cv=3, random_state=0).fit(docs, Y)
    assert separate.transformers_[0] is not separate.transformers_[1]
    np.testing.assert_array_equal(
        shared.predict_proba(docs), separate.predict_proba(docs)
    )


def test_members_share_their_equal_leading_steps(monkeypatch, tmp_path):
    docs, Y = _corpus()
    members = [
        ("linear", _linear()),
        (
            "rare",
            make_pipeline(
                TfidfVectorizer(),
                RareFeatureSelector(max_df=0.3),
                MultilabelKNeighborsClassifier(0.1),
            ),
        ),
        (
            "rare_nb",
            make_pipeline(
                TfidfVectorizer(),
                RareFeatureSelector(max_df=0.3),
                MultilabelMultinomialNB(),
            ),
        ),
    ]
    transforms = []
    original_transform = TfidfVectorizer.transform

    def counted(self, *args, **kwargs):
        transforms.append(self)
        return original_transform(self, *args, **kwargs)

    shared = MultilabelStackingClassifier(members, cv=3, random_state=0).fit(docs, Y)
    linear, rare, rare_nb = shared.transformers_
    assert rare.steps[0][1] is linear.steps[0][1]
    assert rare_nb is rare
    monkeypatch.setattr(TfidfVectorizer, "transform", counted)
    proba = shared.predict_proba(docs)
    assert len(transforms) == 1

    monkeypatch.setattr(
        _stacking, "_same_deterministic_step", lambda first, second: False
    )
    separate = MultilabelStackingClassifier(members, cv=3, random_state=0).fit(docs, Y)
    assert separate.transformers_[1].steps[0][1] is not linear.steps[0][1]
    np.testing.assert_array_equal(proba, separate.predict_proba(docs))

    save_model(shared, tmp_path / "stack.skops")
    loaded = load_model(tmp_path / "stack.skops")
    assert loaded.transformers_[1].steps[0][1] is loaded.transformers_[0].steps[0][1]
    np.testing.assert_array_equal(loaded.predict_proba(docs), proba)


def test_passthrough_steps_of_a_member_are_skipped():
    docs, Y = _corpus()
    with_passthrough = make_pipeline(TfidfVectorizer(), "passthrough", _linear()[-1])
    model = MultilabelStackingClassifier(
        [("a", with_passthrough), ("b", _linear())], cv=3, random_state=0
    ).fit(docs, Y)
    assert model.transformers_[0] is model.transformers_[1]
    assert [name for name, _ in model.transformers_[0].steps] == ["tfidfvectorizer"]


def test_transformers_with_a_random_state_are_not_shared():
    docs, Y = _corpus()
    model = MultilabelStackingClassifier(
        [("a", _network()), ("b", _network())], cv=3, random_state=0
    ).fit(docs, Y)
    assert model.transformers_[0] is not model.transformers_[1]


def test_a_shared_transformer_stays_shared_in_a_model_file(tmp_path):
    docs, Y = _corpus()
    members = [
        ("linear", _linear()),
        ("knn", make_pipeline(TfidfVectorizer(), MultilabelKNeighborsClassifier(0.1))),
    ]
    model = MultilabelStackingClassifier(members, cv=3, random_state=0).fit(docs, Y)
    save_model(model, tmp_path / "stack.skops")
    loaded = load_model(tmp_path / "stack.skops")
    assert loaded.transformers_[0] is loaded.transformers_[1]
    np.testing.assert_array_equal(loaded.predict_proba(docs), model.predict_proba(docs))


def test_fold_fits_in_threads_give_the_model_of_one_thread():
    docs, Y = _corpus()
    members = [
        ("linear", _linear()),
        ("network", _network()),
        ("knn", make_pipeline(TfidfVectorizer(), MultilabelKNeighborsClassifier(0.1))),
    ]
    one = MultilabelStackingClassifier(members, cv=3, random_state=0).fit(docs, Y)
    two = MultilabelStackingClassifier(members, cv=3, n_jobs=2, random_state=0)
    two.fit(docs, Y)
    np.testing.assert_array_equal(two.oof_proba_, one.oof_proba_)
    np.testing.assert_array_equal(two.predict_proba(docs), one.predict_proba(docs))
    assert [len(models) for models in two.estimators_] == [1, 3, 1]


def test_members_sharing_no_step_are_scored_in_threads_of_their_own(monkeypatch):
    docs, Y = _corpus()
    members = [
        ("linear", _linear()),
        ("network", _network()),
        ("knn", make_pipeline(TfidfVectorizer(), MultilabelKNeighborsClassifier(0.1))),
    ]
    one = MultilabelStackingClassifier(members, cv=3, random_state=0).fit(docs, Y)
    two = clone(one).set_params(n_jobs=2).fit(docs, Y)
    assert two._members_sharing_no_step() == [[0, 2], [1]]
    threads = {}
    for member, transformer in zip(
        ("linear", "network"), two.transformers_[:2], strict=True
    ):
        step = transformer.steps[0][1]
        transform = step.transform

        def recorded(X, member=member, transform=transform):
            threads[member] = threading.get_ident()
            return transform(X)

        monkeypatch.setattr(step, "transform", recorded)
    monkeypatch.setattr(_stacking, "_CONCURRENT_ROWS", len(docs) + 1)
    serial = two.predict_proba(docs)
    assert set(threads.values()) == {threading.get_ident()}
    monkeypatch.setattr(_stacking, "_CONCURRENT_ROWS", len(docs))
    np.testing.assert_array_equal(two.predict_proba(docs), serial)
    assert threading.get_ident() not in threads.values()
    np.testing.assert_array_equal(two.transform(docs), one.transform(docs))
    np.testing.assert_array_equal(serial, one.predict_proba(docs))


class _BlasThreadsAtFit(MultilabelLogisticRegression):
    """Logistic regression that records the BLAS threads its fits ran with."""

    seen = []

    def fit(self, X, y):
        type(self).seen.append(
            max(
                info["num_threads"]
                for info in threadpool_info()
                if info["user_api"] == "blas"
            )
        )
        return super().fit(X, y)


@pytest.mark.parametrize("n_jobs, expected", [(2, 1), (None, 2)])
def test_blas_runs_on_one_thread_while_fits_run_in_threads(n_jobs, expected):
    if not any(info["user_api"] == "blas" for info in threadpool_info()):
        pytest.skip("threadpoolctl finds no BLAS library to limit")
    docs, Y = _corpus()
    member = make_pipeline(TfidfVectorizer(), _BlasThreadsAtFit(C=10.0))
    final = _BlasThreadsAtFit(C=1.0, solver="lbfgs")
    model = MultilabelStackingClassifier(
        [("linear", member)], final_estimator=final, cv=3, n_jobs=n_jobs
    )
    _BlasThreadsAtFit.seen = []
    with threadpool_limits(limits=2, user_api="blas"):
        model.fit(docs, Y)
        after = [
            info["num_threads"]
            for info in threadpool_info()
            if info["user_api"] == "blas"
        ]
    # Three fold fits, the second stage on all rows and on the three folds.
    assert _BlasThreadsAtFit.seen == [expected] * 7
    assert set(after) == {2}


def test_second_stage_fits_one_at_a_time_on_large_scores(monkeypatch):
    if not any(info["user_api"] == "blas" for info in threadpool_info()):
        pytest.skip("threadpoolctl finds no BLAS library to limit")
    monkeypatch.setattr(_stacking, "_PARALLEL_STAGE_MAX_BYTES", 0)
    docs, Y = _corpus()
    member = make_pipeline(TfidfVectorizer(), _BlasThreadsAtFit(C=10.0))
    final = _BlasThreadsAtFit(C=1.0, solver="lbfgs")
    model = MultilabelStackingClassifier(
        [("linear", member)], final_estimator=final, cv=3, n_jobs=2
    )
    _BlasThreadsAtFit.seen = []
    with threadpool_limits(limits=2, user_api="blas"):
        model.fit(docs, Y)
    # The fold fits in two threads, then the second stage's four fits alone,
    # with the BLAS threads the caller allowed.
    assert _BlasThreadsAtFit.seen == [1] * 3 + [2] * 4


def test_merged_float16_fold_models_stay_float16(tmp_path):
    docs, Y = _corpus()
    member = make_pipeline(
        TfidfVectorizer(), MultilabelLogisticRegression(C=10.0, dtype="float16")
    )
    model = MultilabelStackingClassifier([("linear", member)], cv=3, random_state=0)
    model.fit(docs, Y)
    (merged,) = model.estimators_[0]
    np.testing.assert_array_equal(
        merged.coef_, merged.coef_.astype(np.float16).astype(np.float32)
    )
    save_model(model, tmp_path / "stack.skops")
    loaded = load_model(tmp_path / "stack.skops")
    np.testing.assert_array_equal(loaded.predict_proba(docs), model.predict_proba(docs))
