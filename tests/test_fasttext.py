"""EmbeddingBagClassifier: fine-tuned TF-IDF-weighted embeddings, cross-validated."""

import pickle
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skanime import (
    FocalMLPClassifier,
    SynopsisCleaner,
    TfidfWeightedW2VTransformer,
    make_genre_pipeline,
)
from skanime._fasttext import (
    EmbeddingBagClassifier,
    per_label_thresholds,
    shared_threshold,
)

TOPICS = {
    "mecha": ["robot", "pilot", "space", "colony", "battle"],
    "romance": ["love", "school", "letter", "confession", "festival"],
    "comedy": ["joke", "prank", "festival", "school", "silly"],
}
VECTORS = {
    word: np.random.default_rng(i).normal(size=4)
    for i, word in enumerate(sorted({w for ws in TOPICS.values() for w in ws}))
}


def _corpus(n_documents=60, seed=0):
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    documents, Y = [], np.zeros((n_documents, len(names)), dtype=np.int64)
    for i in range(n_documents):
        labels = rng.choice(len(names), size=rng.integers(1, 3), replace=False)
        Y[i, labels] = 1
        words = [w for j in labels for w in rng.choice(TOPICS[names[j]], size=3)]
        words += rng.choice(["the", "a", "story", "of"], size=3).tolist()
        rng.shuffle(words)
        documents.append(" ".join(words))
    return np.array(documents, dtype=object), Y


def _model(**params):
    defaults = dict(
        embed=TfidfWeightedW2VTransformer(vectors=VECTORS),
        clf=FocalMLPClassifier(
            (8,),
            early_stopping=True,
            max_iter=30,
            learning_rate_init=0.01,
            embedding_learning_rate=0.05,
        ),
        n_estimators=3,
        random_state=0,
    )
    return EmbeddingBagClassifier(**{**defaults, **params})


def _fit(model, X, Y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, Y)


def test_fit_predict_shapes_and_attributes():
    X, Y = _corpus()
    model = _fit(_model(), X, Y)
    assert len(model.estimators_) == 3
    assert all(isinstance(net, FocalMLPClassifier) for net in model.estimators_)
    assert model.embed_ is not model.embed
    assert model.clean_ is None and model.linear_estimator_ is None
    assert model.oof_proba_.shape == Y.shape
    assert model.thresholds_.shape == (3,)
    assert_array_equal(model.classes_, [0, 1, 2])
    assert model.n_outputs_ == 3
    proba = model.predict_proba(X[:5])
    assert proba.shape == (5, 3)
    assert np.all((proba >= 0) & (proba <= 1))
    pred = model.predict(X[:5])
    assert pred.shape == (5, 3) and pred.sum(axis=1).min() >= 1
    assert model.score(X, Y) > 0.8


def test_networks_fine_tune_the_transformer_vectors():
    X, Y = _corpus()
    model = _fit(_model(), X, Y)
    vectors = model.embed_.vectors_
    for net in model.estimators_:
        assert net.embedding_init is vectors  # one shared array, not copies
        assert net.embedding_.shape == vectors.shape
        assert net._embedding_optimizer is None  # the optimiser state is dropped


def test_each_training_document_is_scored_by_one_network_that_did_not_see_it():
    X, Y = _corpus()
    model = _fit(_model(n_estimators=3), X, Y)
    weights = model.embed_.transform_weights(X)
    per_network = np.stack([net.predict_proba(weights) for net in model.estimators_])
    matches = np.isclose(per_network, model.oof_proba_[None], atol=1e-6).all(axis=2)
    assert np.all(matches.sum(axis=0) >= 1)
    # Each network scored about a third of the documents.
    owners = matches.argmax(axis=0)
    assert np.all(np.bincount(owners, minlength=3) >= 15)


def test_shared_threshold_is_chosen_on_out_of_fold_probabilities():
    X, Y = _corpus()
    model = _fit(_model(threshold="shared", min_labels=1), X, Y)
    expected = shared_threshold(Y, model.oof_proba_, min_labels=1)
    assert_array_equal(model.thresholds_, np.full(3, expected))


def test_per_label_thresholds_are_chosen_on_out_of_fold_probabilities():
    X, Y = _corpus()
    model = _fit(_model(), X, Y)
    shared = shared_threshold(Y, model.oof_proba_, min_labels=1)
    expected = per_label_thresholds(Y, model.oof_proba_, shared)
    assert_array_equal(model.thresholds_, expected)


@pytest.mark.parametrize("threshold", [0.4, [0.2, 0.5, 0.7]])
def test_given_thresholds_are_used_as_is(threshold):
    X, Y = _corpus()
    model = _fit(_model(threshold=threshold, min_labels=0), X, Y)
    assert_allclose(model.thresholds_, np.broadcast_to(threshold, (3,)))
    proba = model.predict_proba(X)
    assert_array_equal(model.predict(X), (proba >= model.thresholds_).astype(int))


def test_per_label_thresholds_maximise_each_label_f1():
    Y = np.array([[1, 0], [1, 0], [0, 0], [0, 1], [0, 0], [1, 0]] * 2)
    proba = np.array(
        [[0.9, 0.1], [0.35, 0.2], [0.3, 0.1], [0.1, 0.6], [0.1, 0.1], [0.6, 0.1]] * 2
    )
    thresholds = per_label_thresholds(Y, proba, fallback=0.5)
    # Label 0: any threshold in (0.30, 0.35] separates it perfectly; label 1
    # has two positives, fewer than five, so it takes the fallback.
    assert 0.30 < thresholds[0] <= 0.35
    assert thresholds[1] == 0.5


def test_linear_member_is_mixed_in_with_its_weight():
    X, Y = _corpus()
    linear = make_pipeline(
        TfidfVectorizer(), OneVsRestClassifier(LogisticRegression(C=10.0))
    )
    model = _fit(_model(linear=linear, linear_weight=0.25), X, Y)
    weights = model.embed_.transform_weights(X)
    networks = np.mean([net.predict_proba(weights) for net in model.estimators_], 0)
    linear_proba = model.linear_estimator_.predict_proba(X)
    assert_allclose(model.predict_proba(X), 0.75 * networks + 0.25 * linear_proba)


def test_clean_is_applied_before_the_embedding():
    X, Y = _corpus()
    shouting = np.array([doc.upper() + " [Written by MAL Rewrite]" for doc in X])
    model = _fit(_model(clean=SynopsisCleaner(stop_words=None)), shouting, Y)
    assert isinstance(model.clean_, SynopsisCleaner)
    assert "written" not in model.embed_.vocabulary_
    reference = _fit(_model(), X, Y)
    assert_allclose(model.predict_proba(shouting), reference.predict_proba(X))


def test_same_random_state_gives_the_same_model():
    X, Y = _corpus()
    first = _fit(_model(), X, Y).predict_proba(X)
    second = _fit(_model(), X, Y).predict_proba(X)
    assert_array_equal(first, second)
    other = _fit(_model(random_state=1), X, Y).predict_proba(X)
    assert not np.allclose(first, other)


def test_parallel_fit_gives_the_sequential_result():
    X, Y = _corpus()
    sequential = _fit(_model(), X, Y).predict_proba(X)
    parallel = _fit(_model(n_jobs=2), X, Y).predict_proba(X)
    assert_allclose(parallel, sequential, atol=1e-6)


def test_pickle_round_trip():
    X, Y = _corpus()
    model = _fit(_model(), X, Y)
    restored = pickle.loads(pickle.dumps(model))
    assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    assert restored.estimators_[0].embedding_init is restored.embed_.vectors_


def test_nested_parameters_and_clone():
    model = _model()
    params = model.get_params(deep=True)
    assert params["clf__embedding_learning_rate"] == 0.05
    assert "embed__min_df" in params
    model.set_params(clf__gamma=0.5, n_estimators=4)
    copy = clone(model)
    assert copy.clf.gamma == 0.5 and copy.n_estimators == 4
    assert copy.clf is not model.clf


@pytest.mark.parametrize("with_linear", [False, True])
def test_constant_labels_warn_once_and_get_the_smoothed_base_rate(with_linear):
    X, Y = _corpus()
    Y = np.column_stack([Y, np.zeros(len(Y), dtype=int), np.ones(len(Y), dtype=int)])
    linear = make_pipeline(TfidfVectorizer(), OneVsRestClassifier(LogisticRegression()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = _model(linear=linear if with_linear else None).fit(X, Y)
    messages = [str(w.message) for w in caught if w.category is UserWarning]
    assert messages == [
        "Labels [3, 4] have no positive or no negative training document; their "
        "probability is fixed at the smoothed base rate."
    ]
    assert_array_equal(model.constant_labels_, [3, 4])
    proba = model.predict_proba(X)
    assert_allclose(proba[:, 3], 0.5 / 61)
    assert_allclose(proba[:, 4], 60.5 / 61)
    assert_allclose(model.oof_proba_[:, 3:], proba[:, 3:])


@pytest.mark.parametrize(
    "y, match",
    [
        (np.arange(60) % 2, "label indicator matrix"),
        (np.full((60, 3), 2), r"matrix of 0 and 1; y holds the values \[2\]"),
        (np.ones((59, 3), dtype=int), r"inconsistent numbers of samples: \[60, 59\]"),
    ],
)
def test_bad_targets_are_rejected(y, match):
    X, _ = _corpus()
    with pytest.raises(ValueError, match=match):
        _model().fit(X, y)


def test_too_few_documents_for_the_folds():
    X, Y = _corpus(n_documents=60)
    with pytest.raises(ValueError, match="need at least as many documents"):
        _model(n_estimators=61).fit(X, Y)


def test_bare_string_is_rejected():
    with pytest.raises(ValueError, match="single str"):
        _model().fit("robot pilot", np.ones((1, 2)))


@pytest.mark.parametrize(
    "params",
    [
        {"n_estimators": 1},
        {"threshold": "best"},
        {"linear_weight": 1.5},
        {"clf": LogisticRegression()},
        {"min_labels": -1},
    ],
)
def test_invalid_parameters(params):
    X, Y = _corpus()
    with pytest.raises(InvalidParameterError):
        _model(**params).fit(X, Y)


def test_threshold_array_of_the_wrong_length():
    X, Y = _corpus()
    with pytest.raises(ValueError, match="one value in"):
        _fit(_model(threshold=[0.5, 0.5]), X, Y)


def test_default_genre_model_is_an_embedding_bag_ensemble():
    model = make_genre_pipeline(random_state=3)
    assert isinstance(model, EmbeddingBagClassifier)
    assert isinstance(model.clean, SynopsisCleaner)
    assert isinstance(model.embed, TfidfWeightedW2VTransformer)
    assert model.embed.random_state == 3 and model.random_state == 3
    assert model.clf.embedding_learning_rate > model.clf.learning_rate_init
    assert model.n_estimators == 5 and model.threshold == "per_label"
    assert model.linear is not None and model.linear_weight == 0.3
    assert make_genre_pipeline(linear=None).linear is None
