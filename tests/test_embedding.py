"""Tests of TfidfWeightedW2VTransformer.

The transformer takes raw text, so scikit-learn's common checks skip it and
its API is tested here by hand.
"""

import math
import pickle
import re
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from gensim.models import KeyedVectors
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skanime import TfidfWeightedW2VTransformer

SCIFI = ["robot", "space", "pilot", "mecha", "galaxy", "laser", "colony", "android"]
ROMANCE = ["love", "school", "girl", "confession", "festival", "classmate", "heart"]
FILLER = ["the", "story", "of", "young", "hero", "who", "finds", "new", "friends"]


def _toy_corpus(n_docs=60, seed=0):
    """Short documents alternating between robots/space (0) and love/school (1)."""
    rng = np.random.default_rng(seed)
    docs, labels = [], []
    for i in range(n_docs):
        label = i % 2
        topic = SCIFI if label == 0 else ROMANCE
        words = [*rng.choice(topic, 5), *rng.choice(FILLER, 4)]
        rng.shuffle(words)
        docs.append(" ".join(words))
        labels.append(label)
    return docs, np.array(labels)


DOCS, LABELS = _toy_corpus()
VOCABULARY = sorted({*SCIFI, *ROMANCE, *FILLER})
VECTORS = {
    word: vector
    for word, vector in zip(
        VOCABULARY,
        # float32 values, so that stored vectors equal these exactly.
        np.random.default_rng(1).normal(size=(len(VOCABULARY), 5)).astype(np.float32),
        strict=True,
    )
}
HAND_DOCS = [
    "Robot robot ROBOT pilots the robot in space.",
    "A girl and her classmate: love, love and school festival!",
    "The story of the story of the hero",
    "Space colony 2071 - android friends",
]
TOKEN = re.compile(r"(?u)\b[^\W\d_][^\W\d_]+\b")


def _trained(**params):
    defaults = dict(vector_size=8, min_count=1, epochs=5, random_state=0)
    return TfidfWeightedW2VTransformer(**{**defaults, **params})


def _reference(
    fit_docs,
    docs,
    vectors,
    *,
    sublinear_tf=False,
    stop_words=(),
    min_df=1,
    lowercase=True,
):
    """The weighted mean written as a plain loop over words and documents."""

    def tokens(doc):
        text = doc.lower() if lowercase else doc
        return [t for t in TOKEN.findall(text) if t not in stop_words]

    n_docs = len(fit_docs)
    df = Counter(t for doc in fit_docs for t in set(tokens(doc)))
    idf = {
        t: math.log((1 + n_docs) / (1 + count)) + 1
        for t, count in df.items()
        if count >= min_df and t in vectors
    }
    dim = len(next(iter(vectors.values())))
    rows = []
    for doc in docs:
        total, weight_sum = np.zeros(dim), 0.0
        for term, count in Counter(t for t in tokens(doc) if t in idf).items():
            tf = 1 + math.log(count) if sublinear_tf else count
            weight = tf * idf[term]
            total += weight * np.asarray(vectors[term], dtype=np.float64)
            weight_sum += weight
        rows.append(total / weight_sum if weight_sum else total)
    return np.array(rows)


# ------------------------------------------------------------ scikit-learn API
def test_clone_and_params_round_trip():
    transformer = TfidfWeightedW2VTransformer(vector_size=20, norm="l2", min_df=2)

    copy = clone(transformer)

    assert copy is not transformer
    assert copy.get_params() == transformer.get_params()
    assert copy.get_params()["vector_size"] == 20
    assert copy.set_params(vector_size=30, sg=1) is copy
    assert (copy.vector_size, copy.sg, transformer.vector_size) == (30, 1, 20)
    with pytest.raises(ValueError, match="Invalid parameter 'size'"):
        copy.set_params(size=3)


def test_clone_of_a_fitted_transformer_is_unfitted():
    fitted = TfidfWeightedW2VTransformer(vectors=VECTORS).fit(DOCS)

    copy = clone(fitted)

    assert not hasattr(copy, "vectors_")
    assert copy.get_params()["vectors"].keys() == VECTORS.keys()
    assert_array_equal(copy.get_params()["vectors"]["robot"], VECTORS["robot"])


@pytest.mark.parametrize(
    "method", ["transform", "transform_weights", "get_feature_names_out"]
)
def test_methods_before_fit_raise_not_fitted(method):
    transformer = TfidfWeightedW2VTransformer(vectors=VECTORS)
    args = () if method == "get_feature_names_out" else (DOCS,)

    with pytest.raises(NotFittedError, match="not fitted yet"):
        getattr(transformer, method)(*args)


@pytest.mark.parametrize("vectors", [None, VECTORS], ids=["trained", "mapping"])
def test_pickle_round_trip_gives_identical_vectors(vectors):
    transformer = _trained(vectors=vectors).fit(DOCS)

    restored = pickle.loads(pickle.dumps(transformer))

    assert_array_equal(restored.transform(HAND_DOCS), transformer.transform(HAND_DOCS))
    assert restored.vocabulary_ == transformer.vocabulary_
    assert restored.get_params().keys() == transformer.get_params().keys()


def test_pipeline_and_grid_search_over_vector_size():
    pipeline = Pipeline(
        [
            ("embed", _trained(epochs=30, sample=0.0)),
            ("scale", StandardScaler()),
            ("clf", LogisticRegression()),
        ]
    )
    search = GridSearchCV(
        pipeline,
        {"embed__vector_size": [4, 12]},
        cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
    )

    search.fit(DOCS, LABELS)

    assert list(search.cv_results_["param_embed__vector_size"]) == [4, 12]
    best_size = search.best_params_["embed__vector_size"]
    assert search.best_estimator_["embed"].vectors_.shape[1] == best_size
    assert search.best_score_ >= 0.9
    new_docs = ["a robot pilot flies to the galaxy", "a school girl in love"]
    assert_array_equal(search.predict(new_docs), [0, 1])


@pytest.mark.parametrize(
    "params, match",
    [
        ({"vector_size": 0}, r"'vector_size' parameter .* range \[1, inf\)"),
        ({"sg": 2}, r"'sg' parameter .* range \[0, 1\]"),
        ({"norm": "l1"}, r"'norm' parameter .* among \{'l2'\} or None"),
        ({"dtype": "float16"}, r"'dtype' parameter .* among \{.*'float64'"),
        ({"dtype": int}, "must be 'float32', 'float64', numpy.float32"),
        ({"vectors": 42}, r"'vectors' parameter .* Got 42 instead"),
        ({"min_df": -1}, r"'min_df' parameter .* Got -1 instead"),
        ({"stop_words": "french"}, r"'stop_words' parameter .*'english'"),
        ({"workers": 0}, r"'workers' parameter .* range \[1, inf\)"),
    ],
)
def test_invalid_parameters_raise_at_fit(params, match):
    transformer = TfidfWeightedW2VTransformer(**params)

    with pytest.raises(InvalidParameterError, match=match):
        transformer.fit(DOCS)


# ------------------------------------------------------------ the formula
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"sublinear_tf": True},
        {"stop_words": ["the", "of", "robot"]},
        {"stop_words": "english"},
        {"min_df": 2},
    ],
    ids=["plain", "sublinear_tf", "stop_word_list", "stop_words_english", "min_df"],
)
def test_weighted_mean_matches_a_per_document_loop(options):
    fit_docs = DOCS[:20] + HAND_DOCS
    transformer = TfidfWeightedW2VTransformer(
        vectors=VECTORS, dtype="float64", **options
    ).fit(fit_docs)
    stop_words = options.get("stop_words", ())
    if stop_words == "english":
        stop_words = ENGLISH_STOP_WORDS
    reference_options = {
        "sublinear_tf": options.get("sublinear_tf", False),
        "stop_words": stop_words,
        "min_df": options.get("min_df", 1),
    }

    X = transformer.transform(HAND_DOCS + DOCS[20:30])

    expected = _reference(
        fit_docs, HAND_DOCS + DOCS[20:30], VECTORS, **reference_options
    )
    assert X.dtype == np.float64
    assert_allclose(X, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("lowercase", [True, False])
def test_tokenisation_matches_the_token_pattern(lowercase):
    # Letters only, two or more: digits, underscores, apostrophes, hyphens
    # and non-ASCII letters all delimit or join tokens as the pattern says.
    words = ["café", "pokémon", "naïve", "robot", "pilot", "mecha", "Robot", "ai"]
    rng = np.random.default_rng(2)
    vectors = {w: rng.normal(size=3).astype(np.float32) for w in words}
    fit_docs = [
        "Café robots: the robot's pilot-mecha, robot_pilot and robot2 in 2071.",
        "POKÉMON café naïve AI, ai Ai; Robot robot ROBOT x y z",
        "Pokémon pilot\tmecha\nrobot  pilot é ß mecha",
        "mecha_robot ãb robot-pilot r2d2 pilot's",
    ]
    docs = [*fit_docs, "naïve pokémon café", "ROBOT robot Robot"]
    transformer = TfidfWeightedW2VTransformer(
        vectors=vectors, lowercase=lowercase, dtype="float64"
    ).fit(fit_docs)

    X = transformer.transform(docs)

    expected = _reference(fit_docs, docs, vectors, lowercase=lowercase)
    assert_allclose(X, expected, rtol=1e-10, atol=1e-12)


def test_many_documents_match_the_loop():
    docs = DOCS * 80  # several thousand documents
    transformer = TfidfWeightedW2VTransformer(
        vectors=VECTORS, sublinear_tf=True, dtype="float64"
    ).fit(DOCS)

    X = transformer.transform(docs)

    expected = _reference(DOCS, DOCS, VECTORS, sublinear_tf=True)
    assert X.shape == (len(docs), 5)
    assert_allclose(X, np.tile(expected, (80, 1)), rtol=1e-10, atol=1e-12)


def test_weighted_mean_with_trained_vectors_matches_the_loop():
    transformer = _trained(dtype="float64").fit(DOCS)
    vectors = {word: transformer.wv_[word] for word in transformer.wv_.index_to_key}

    X = transformer.transform(HAND_DOCS)

    assert_allclose(X, _reference(DOCS, HAND_DOCS, vectors), rtol=1e-6, atol=1e-9)


def test_fitted_attributes_describe_the_vocabulary():
    vectors = {w: v for w, v in VECTORS.items() if w not in {"robot", "love"}}

    transformer = TfidfWeightedW2VTransformer(vectors=vectors).fit(DOCS)

    assert set(transformer.vocabulary_) == set(VOCABULARY) - {"robot", "love"}
    assert transformer.n_oov_terms_ == 2
    assert transformer.vectors_.shape == (len(VOCABULARY) - 2, 5)
    for word, row in transformer.vocabulary_.items():
        assert_allclose(transformer.vectors_[row], vectors[word], rtol=1e-6)
    assert transformer.idf_.shape == (len(transformer.vocabulary_),)
    assert transformer.n_empty_documents_ == 0


def test_transform_weights_times_vectors_is_transform():
    transformer = TfidfWeightedW2VTransformer(vectors=VECTORS).fit(DOCS)
    docs = HAND_DOCS + ["", "nothing known here"]

    with pytest.warns(UserWarning, match="2 of 6 documents"):
        weights = transformer.transform_weights(docs)
    with pytest.warns(UserWarning, match="2 of 6 documents"):
        X = transformer.transform(docs)

    assert weights.shape == (6, len(transformer.vocabulary_))
    assert_allclose(weights.sum(axis=1).A1, [1, 1, 1, 1, 0, 0], rtol=1e-6)
    assert_allclose(weights @ transformer.vectors_, X, rtol=1e-6)


def test_use_idf_false_weights_by_term_counts():
    transformer = TfidfWeightedW2VTransformer(vectors=VECTORS, use_idf=False)

    X = transformer.fit_transform(["robot robot robot love"])

    expected = (3 * VECTORS["robot"] + VECTORS["love"]) / 4
    assert_allclose(X[0], expected, rtol=1e-6)
    assert_array_equal(transformer.idf_, np.ones(2))


# ------------------------------------------------------------ edge cases
def test_documents_without_known_words_get_zero_vectors_and_one_warning():
    transformer = TfidfWeightedW2VTransformer(vectors=VECTORS, norm="l2")
    docs = ["robot in space", "", "zzz qqq", "1234 !!", "love at school"]

    with pytest.warns(UserWarning, match="3 of 5 documents have no word") as record:
        X = transformer.fit_transform(docs)

    assert len([w for w in record if "have no word" in str(w.message)]) == 1
    assert transformer.n_empty_documents_ == 3
    assert not np.isnan(X).any()
    assert_array_equal(X[1:4], 0)
    assert_allclose(np.linalg.norm(X[[0, 4]], axis=1), 1, rtol=1e-6)


def test_fit_counts_empty_documents_without_warning():
    docs = [*DOCS[:10], "", "unknownword"]

    transformer = TfidfWeightedW2VTransformer(vectors=VECTORS).fit(docs)

    assert transformer.n_empty_documents_ == 2


def test_l2_norm_gives_unit_rows_in_the_same_direction():
    raw = TfidfWeightedW2VTransformer(vectors=VECTORS).fit(DOCS)
    normed = TfidfWeightedW2VTransformer(vectors=VECTORS, norm="l2").fit(DOCS)

    X_raw, X_normed = raw.transform(HAND_DOCS), normed.transform(HAND_DOCS)

    assert_allclose(np.linalg.norm(X_normed, axis=1), 1, rtol=1e-6)
    assert_allclose(
        X_normed, X_raw / np.linalg.norm(X_raw, axis=1, keepdims=True), rtol=1e-6
    )


@pytest.mark.parametrize(
    "dtype, expected",
    [
        ("float32", np.float32),
        ("float64", np.float64),
        (np.float32, np.float32),
        (np.float64, np.float64),
    ],
)
def test_output_dtype(dtype, expected):
    transformer = TfidfWeightedW2VTransformer(vectors=VECTORS, dtype=dtype).fit(DOCS)

    assert transformer.transform(HAND_DOCS).dtype == expected
    assert transformer.vectors_.dtype == expected


def test_default_dtype_is_float32():
    transformer = TfidfWeightedW2VTransformer(vectors=VECTORS)

    assert transformer.fit_transform(DOCS).dtype == np.float32


def test_set_output_pandas_gives_named_columns():
    transformer = TfidfWeightedW2VTransformer(vectors=VECTORS).fit(DOCS)
    expected = transformer.transform(HAND_DOCS)

    frame = transformer.set_output(transform="pandas").transform(HAND_DOCS)

    assert isinstance(frame, pd.DataFrame)
    assert_array_equal(frame.columns, transformer.get_feature_names_out())
    assert list(frame.columns) == [f"tfidfweightedw2vtransformer{i}" for i in range(5)]
    assert_array_equal(frame.to_numpy(), expected)


@pytest.mark.parametrize(
    "container",
    [
        lambda docs: pd.Series(docs, index=np.arange(100, 100 + len(docs))),
        lambda docs: np.array(docs, dtype=object),
        lambda docs: np.array(docs),
        tuple,
        iter,
    ],
    ids=["series", "object_array", "str_array", "tuple", "iterator"],
)
def test_containers_of_str_give_the_list_result(container):
    transformer = TfidfWeightedW2VTransformer(vectors=VECTORS).fit(DOCS)

    X = transformer.transform(container(HAND_DOCS))

    assert_array_equal(X, transformer.transform(list(HAND_DOCS)))
    refit = TfidfWeightedW2VTransformer(vectors=VECTORS).fit(container(DOCS))
    assert refit.vocabulary_ == transformer.vocabulary_


@pytest.mark.parametrize("document", ["robot in space", b"robot in space"])
def test_a_bare_string_is_rejected(document):
    transformer = TfidfWeightedW2VTransformer(vectors=VECTORS)

    with pytest.raises(
        ValueError, match=r"got a single (str|bytes). Wrap one document in a list"
    ):
        transformer.fit(document)
    transformer.fit(DOCS)
    with pytest.raises(ValueError, match=r"got a single (str|bytes)\."):
        transformer.transform(document)


def test_a_two_dimensional_array_is_rejected():
    transformer = TfidfWeightedW2VTransformer(vectors=VECTORS)

    with pytest.raises(
        ValueError, match=r"expects 1-D text input; got an array of shape \(2, 2\)"
    ):
        transformer.fit(np.array([DOCS[:2], DOCS[2:4]]))


@pytest.mark.parametrize(
    "bad, type_name",
    [(None, "NoneType"), (np.nan, "float"), (b"robot", "bytes"), (3.5, "float")],
)
def test_non_string_documents_are_rejected_with_their_position(bad, type_name):
    transformer = TfidfWeightedW2VTransformer(vectors=VECTORS)
    docs = ["robot in space", "love at school", bad]

    with pytest.raises(TypeError, match=f"document 2 is {type_name}"):
        transformer.fit(docs)
    transformer.fit(DOCS)
    with pytest.raises(TypeError, match=f"document 2 is {type_name}"):
        transformer.transform(np.array(docs, dtype=object))


def test_missing_values_in_a_series_are_rejected_with_their_position():
    transformer = TfidfWeightedW2VTransformer(vectors=VECTORS).fit(DOCS)
    docs = pd.Series(["robot in space", None, "love at school"], index=[7, 8, 9])

    with pytest.raises(
        TypeError, match=r"document 1 \(index label 8\) is .*missing synopses"
    ):
        transformer.transform(docs)


def test_fit_errors_name_the_cause():
    with pytest.raises(ValueError, match="contain no token matching token_pattern"):
        _trained().fit(["", "1234", "!!"])
    with pytest.raises(ValueError, match="None of the 2 terms"):
        TfidfWeightedW2VTransformer(vectors=VECTORS).fit(["unknown words"])
    with pytest.raises(ValueError, match="got no documents"):
        TfidfWeightedW2VTransformer(vectors=VECTORS).fit([])


# ------------------------------------------------------------ word vectors
def test_word2vec_training_is_deterministic_with_one_worker():
    first = _trained(workers=1, random_state=3).fit(DOCS)
    second = _trained(workers=1, random_state=3).fit(DOCS)
    other = _trained(workers=1, random_state=4).fit(DOCS)

    assert_array_equal(first.vectors_, second.vectors_)
    assert_array_equal(first.transform(HAND_DOCS), second.transform(HAND_DOCS))
    assert not np.allclose(first.vectors_, other.vectors_)


def test_trained_vectors_follow_the_training_parameters():
    transformer = _trained(vector_size=7, min_count=3).fit(DOCS)

    counts = Counter(t for doc in DOCS for t in TOKEN.findall(doc.lower()))
    assert transformer.vectors_.shape[1] == 7
    assert len(transformer.get_feature_names_out()) == 7
    assert set(transformer.wv_.index_to_key) == {t for t, c in counts.items() if c >= 3}


def test_keyed_vectors_are_used_as_given():
    kv = KeyedVectors(vector_size=5)
    kv.add_vectors(list(VECTORS), np.array(list(VECTORS.values())))

    from_kv = TfidfWeightedW2VTransformer(vectors=kv).fit(DOCS)
    from_mapping = TfidfWeightedW2VTransformer(vectors=VECTORS).fit(DOCS)

    assert_allclose(from_kv.transform(HAND_DOCS), from_mapping.transform(HAND_DOCS))
    assert from_kv.wv_.index_to_key == kv.index_to_key


@pytest.mark.parametrize("as_str", [True, False])
def test_vectors_from_a_word2vec_file(datapath, as_str):
    path = datapath("tiny_w2v.txt")
    docs = ["a robot in space", "school sword school", "space space robot"]

    transformer = TfidfWeightedW2VTransformer(
        vectors=str(path) if as_str else path, dtype="float64"
    )
    X = transformer.fit_transform(docs)

    file_vectors = {
        "space": [0.1, 0.2, 0.3],
        "robot": [0.3, 0.1, 0.0],
        "sword": [-0.2, 0.5, 0.1],
        "school": [0.0, 0.0, 1.0],
    }
    assert_allclose(X, _reference(docs, docs, file_vectors), rtol=1e-6)


def test_pickled_state_stores_words_as_arrays_and_restores_them():
    transformer = TfidfWeightedW2VTransformer(
        vector_size=8, min_count=1, epochs=3, random_state=0
    ).fit(DOCS)
    state = transformer.__getstate__()
    assert isinstance(state["vocabulary_"], np.ndarray)
    assert "wv_" not in state and "_vectorizer" not in state

    restored = pickle.loads(pickle.dumps(transformer))
    assert restored.vocabulary_ == transformer.vocabulary_
    assert restored.wv_.index_to_key == transformer.wv_.index_to_key
    np.testing.assert_array_equal(restored.wv_.vectors, transformer.wv_.vectors)
    np.testing.assert_array_equal(restored.transform(DOCS), transformer.transform(DOCS))


def test_discard_vectors_keeps_weights_transform_and_pickles():
    import pickle

    docs = ["a robot pilot in space", "love at school", "space robot war"] * 5
    transformer = TfidfWeightedW2VTransformer(
        vector_size=4, min_count=1, epochs=2, output="weights", random_state=0
    ).fit(docs)
    before = transformer.transform(docs).toarray()
    transformer.discard_vectors()
    assert transformer.vectors_ is None and transformer.wv_ is None
    again = pickle.loads(pickle.dumps(transformer))
    np.testing.assert_array_equal(again.transform(docs).toarray(), before)
    assert again.vectors_ is None and again.wv_ is None
    mean = TfidfWeightedW2VTransformer(vector_size=4, min_count=1, epochs=2).fit(docs)
    with pytest.raises(ValueError, match="output='weights' only"):
        mean.discard_vectors()
