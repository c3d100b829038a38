"""GenreClassifier: groups reach the default model's folds; constant genres."""

import warnings

import numpy as np
import pytest

from skanime import ConstantLabelWarning, GenreClassifier, make_genre_pipeline

SMALL = {
    "stack__network__embed__vector_size": 8,
    "stack__network__embed__min_count": 1,
    "stack__network__clf__hidden_layer_sizes": (8,),
    "stack__network__clf__max_iter": 10,
    "stack__linear__tfidf__min_df": 1,
    "stack__linear__tfidf__stop_words": None,
    "stack__bayes__tfidf__min_df": 1,
    "stack__bayes__tfidf__stop_words": None,
}


def _data(n=60):
    rng = np.random.RandomState(0)
    words = {"Mecha": "robot pilot battle", "Romance": "love kiss date"}
    docs, genres = [], []
    for i in range(n):
        genre = "Mecha" if i % 2 else "Romance"
        docs.append(
            f"{words[genre]} {rng.choice(['one', 'two', 'three'])} story {i // 3}"
        )
        genres.append([genre] + (["Comedy"] if i % 3 == 0 else []))
    return docs, genres


def _model():
    return GenreClassifier(make_genre_pipeline(random_state=0, **SMALL))


def test_groups_reach_the_stack_folds():
    docs, genres = _data()
    groups = np.arange(len(docs)) // 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        grouped = _model().fit(docs, genres, groups=groups)
        plain = _model().fit(docs, genres)
    # Whole groups per fold change the out-of-fold scores the thresholds and
    # the second stage learn from.
    assert not np.allclose(
        grouped.pipeline_[-1].oof_proba_, plain.pipeline_[-1].oof_proba_
    )


def test_groups_are_checked():
    docs, genres = _data()
    with pytest.raises(ValueError, match=r"one group per synopsis, shape \(60,\)"):
        _model().fit(docs, genres, groups=[0, 1])
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    from skanime import MultilabelLogisticRegression

    plain = GenreClassifier(
        make_pipeline(TfidfVectorizer(), MultilabelLogisticRegression())
    )
    with pytest.raises(ValueError, match="cannot use them"):
        plain.fit(docs, genres, groups=np.arange(60))


def test_constant_genre_is_named_once():
    docs, genres = _data()
    genres = [g + ["Drama"] for g in genres]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _model().fit(docs, genres)
    constant = [w for w in record if w.category is ConstantLabelWarning]
    assert len(constant) == 1
    assert constant[0].message.labels == ["Drama"]
    assert "Genres ['Drama']" in str(constant[0].message)


def test_random_state_with_a_given_pipeline_is_refused():
    # It seeds the default pipeline only: with a given one it would change
    # nothing.
    docs, genres = _data()
    model = GenreClassifier(make_genre_pipeline(**SMALL), random_state=0)
    with pytest.raises(ValueError, match="random_state seeds the default pipeline"):
        model.fit(docs, genres)
    GenreClassifier(make_genre_pipeline(random_state=0, **SMALL)).fit(docs, genres)
