import csv
import json
import re
import warnings

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skanime import (
    FocalMLPClassifier,
    GenreClassifier,
    SynopsisCleaner,
    TfidfWeightedW2VTransformer,
    make_genre_pipeline,
)
from skanime._explain import (
    GenreExplanation,
    _mlp_parts,
    explain_genres,
    mlp_logits_and_input_gradients,
)
from skanime.model_selection import MultiLabelThresholdTuner

PLANTED = "zorblax"
SMALL = dict(
    embed__vector_size=16,
    embed__epochs=5,
    clf__hidden_layer_sizes=(16,),
    clf__max_iter=20,
    random_state=0,
)
TEXT = (
    "A haunted ghost and a cursed grave bring terror to the town, while a "
    "robot pilots a spaceship to another planet. [Written by MAL Rewrite]"
)


def _corpus(datapath):
    with open(datapath("cli", "anime_small.csv"), encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return [r["Synopsis"] for r in rows], [r["Genre"].split(", ") for r in rows]


def _single_network_pipeline(**params):
    """The clean -> embed -> scale -> clf Pipeline integrated gradients explain.

    ``make_genre_pipeline`` returns a stack of two members (explained by
    occlusion), so the single-network layout is built explicitly.
    """
    random_state = params.pop("random_state", None)
    pipeline = Pipeline(
        [
            ("clean", SynopsisCleaner(stop_words=None)),
            (
                "embed",
                TfidfWeightedW2VTransformer(
                    sg=1,
                    min_count=2,
                    stop_words="english",
                    sublinear_tf=True,
                    random_state=random_state,
                ),
            ),
            ("scale", StandardScaler()),
            (
                "clf",
                FocalMLPClassifier(
                    early_stopping=True,
                    threshold=0.3,
                    min_labels=1,
                    random_state=random_state,
                ),
            ),
        ]
    )
    return pipeline.set_params(**params)


def _fit(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = _single_network_pipeline(**{**SMALL, **params})
        return GenreClassifier(pipeline=pipeline).fit(X, y)


@pytest.fixture(scope="module")
def corpus(datapath):
    return _corpus(datapath)


@pytest.fixture(scope="module")
def relu_model(corpus):
    return _fit(*corpus, clf__max_iter=60)


def _logit_gap(model, text, genres):
    logits = model.pipeline_.decision_function([text])[0]
    with pytest.warns(UserWarning, match="no word with a vector"):
        empty = model.pipeline_.decision_function([""])[0]
    index = [model.classes_.tolist().index(g) for g in genres]
    return logits[index], empty[index]


def test_contributions_sum_to_the_logit_difference(relu_model):
    explanation = relu_model.explain(TEXT, top_n=None, n_steps=256)
    logits, empty = _logit_gap(relu_model, TEXT, explanation.summary.index)
    assert explanation.method == "integrated_gradients"
    summary = explanation.summary
    np.testing.assert_allclose(summary["logit"], logits, atol=1e-4)
    np.testing.assert_allclose(summary["baseline_logit"], empty, atol=1e-4)
    totals = explanation.frame.groupby("genre")["contribution"].sum()
    np.testing.assert_allclose(totals[summary.index], summary["total"], atol=1e-9)
    gap = summary["logit"] - summary["baseline_logit"]
    np.testing.assert_allclose(summary["residual"], summary["total"] - gap, atol=1e-9)
    assert np.all(np.abs(summary["residual"]) <= 0.02 * np.abs(gap) + 1e-3)


def test_residual_shrinks_with_more_steps(relu_model):
    coarse = explain_genres(relu_model, TEXT, genre="Horror", n_steps=2)
    fine = explain_genres(relu_model, TEXT, genre="Horror", n_steps=512)
    assert abs(fine.summary["residual"].iloc[0]) < 1e-2
    assert abs(fine.summary["residual"].iloc[0]) <= abs(
        coarse.summary["residual"].iloc[0]
    )


@pytest.mark.parametrize("batch_norm", [False, True])
def test_exact_for_a_network_linear_in_its_input(corpus, batch_norm):
    model = _fit(*corpus, clf__activation="identity", clf__batch_norm=batch_norm)
    explanation = explain_genres(model, TEXT, genre=["Horror", "Sci-Fi"], n_steps=1)
    assert np.all(np.abs(explanation.summary["residual"]) < 1e-9)
    logits, empty = _logit_gap(model, TEXT, ["Horror", "Sci-Fi"])
    np.testing.assert_allclose(explanation.summary["logit"], logits, atol=1e-4)
    np.testing.assert_allclose(explanation.summary["baseline_logit"], empty, atol=1e-4)


def test_words_absent_from_the_text_get_nothing(relu_model):
    explanation = explain_genres(relu_model, TEXT, genre="Horror", top_n=None)
    words = set(explanation.frame["word"])
    text_words = set(re.findall(r"[a-z]+", TEXT.lower()))
    assert words and words <= text_words
    embed = relu_model.pipeline_.named_steps["embed"]
    known = {w for w in text_words if w in embed.vocabulary_}
    assert words == known - {"a", "and", "the", "to", "while", "another"}
    assert "written" not in words  # the credit line is cleaned away
    with_unknown = explain_genres(
        relu_model, TEXT + " qwxzv", genre="Horror", top_n=None
    )
    np.testing.assert_allclose(
        with_unknown.frame["contribution"], explanation.frame["contribution"]
    )


def test_a_planted_word_drives_its_genre(corpus):
    X, y = corpus
    rng = np.random.default_rng(0)
    planted = rng.random(len(X)) < 0.35
    X = [
        f"{x} {PLANTED} {PLANTED}" if p else x for x, p in zip(X, planted, strict=True)
    ]
    y = [g + ["Mecha"] if p else g for g, p in zip(y, planted, strict=True)]
    model = _fit(
        X,
        y,
        embed__epochs=20,
        clf__max_iter=300,
        clf__early_stopping=False,
        clf__dropout=0.0,
    )
    text = f"A lonely {PLANTED} crosses the town to find a friend and a secret"
    explanation = model.explain(text, genre="mecha", top_n=3)
    top = explanation.frame.iloc[0]
    assert (top["genre"], top["word"]) == ("Mecha", PLANTED)
    others = explanation.frame["contribution"].iloc[1:]
    assert top["contribution"] > 1.0
    assert top["contribution"] > 3 * others.abs().max()
    assert explanation.summary.loc["Mecha", "probability"] > 0.5


def test_input_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 5))
    Y = (X[:, :3] + 0.3 * rng.normal(size=(60, 3)) > 0).astype(int)
    for activation in ("relu", "tanh", "logistic"):
        clf = FocalMLPClassifier(
            hidden_layer_sizes=(7, 6),
            activation=activation,
            batch_norm=True,
            max_iter=30,
            dtype="float64",
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.fit(X, Y)
        parts = _mlp_parts(clf)
        Z = X[:4]
        logits, gradients = mlp_logits_and_input_gradients(parts, Z, [0, 2])
        np.testing.assert_allclose(logits, clf.decision_function(Z), atol=1e-10)
        h = 1e-6
        for f in range(Z.shape[1]):
            step = np.zeros_like(Z)
            step[:, f] = h
            up = mlp_logits_and_input_gradients(parts, Z + step, [0])[0]
            down = mlp_logits_and_input_gradients(parts, Z - step, [0])[0]
            numeric = (up - down)[:, [0, 2]] / (2 * h)
            np.testing.assert_allclose(gradients[:, f, :], numeric, atol=1e-5)


def test_sklearn_mlp_is_supported(corpus):
    X, y = corpus
    pipeline = _single_network_pipeline(**SMALL).set_params(
        clf=MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GenreClassifier(pipeline=pipeline).fit(X, y)
    explanation = explain_genres(model, TEXT, genre="Horror", n_steps=512)
    assert explanation.method == "integrated_gradients"
    assert abs(explanation.summary["residual"].iloc[0]) < 1e-2


def test_threshold_tuners_are_looked_through(corpus):
    X, y = corpus
    tuner = MultiLabelThresholdTuner(
        _single_network_pipeline(**SMALL), cv=2, thresholds=9
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GenreClassifier(pipeline=tuner).fit(X, y)
    explanation = model.explain(TEXT, genre="Horror", n_steps=512)
    assert explanation.method == "integrated_gradients"
    proba = model.predict_proba([TEXT])["Horror"].iloc[0]
    assert explanation.summary.loc["Horror", "probability"] == pytest.approx(proba)
    assert abs(explanation.summary["residual"].iloc[0]) < 1e-2


def test_other_pipelines_use_occlusion(corpus):
    X, y = corpus
    pipe = make_pipeline(
        TfidfVectorizer(), OneVsRestClassifier(LogisticRegression(C=10))
    )
    model = GenreClassifier(pipeline=pipe).fit(X, y)
    with pytest.raises(NotImplementedError, match="method='occlusion'"):
        explain_genres(model, TEXT, method="integrated_gradients")
    explanation = explain_genres(model, "a ghost in the grave", genre="Horror")
    assert explanation.method == "occlusion"
    assert explanation.n_steps is None
    assert set(explanation.frame["word"]) == {"ghost", "in", "the", "grave"}
    row = explanation.frame.set_index("word").loc["ghost"]
    proba = model.predict_proba(["a ghost in the grave", "a   in the grave"])["Horror"]
    logit = np.log(proba / (1 - proba)).to_numpy()
    assert row["contribution"] == pytest.approx(logit[0] - logit[1])
    assert row["contribution"] > 0


def test_default_genres_are_the_predicted_ones(relu_model):
    explanation = relu_model.explain(TEXT)
    assert list(explanation.summary.index) == relu_model.predict([TEXT])[0]


def test_top_n_keeps_the_largest_contributions_in_order(relu_model):
    full = explain_genres(relu_model, TEXT, genre="Sci-Fi", top_n=None)
    top = explain_genres(relu_model, TEXT, genre="Sci-Fi", top_n=3)
    assert len(top.frame) == 3
    expected = full.frame.loc[full.frame["contribution"].abs().nlargest(3).index]
    assert set(top.frame["word"]) == set(expected["word"])
    assert top.frame["contribution"].is_monotonic_decreasing
    assert top.summary["total"].iloc[0] == pytest.approx(full.summary["total"].iloc[0])


def test_unknown_genre_lists_the_known_ones(relu_model):
    with pytest.raises(ValueError, match="Unknown genre 'Cooking'.*Horror"):
        explain_genres(relu_model, TEXT, genre="Cooking")


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"method": "shap"}, ValueError),
        ({"n_steps": 0}, ValueError),
        ({"top_n": -1}, ValueError),
    ],
)
def test_bad_arguments_are_rejected(relu_model, kwargs, error):
    with pytest.raises(error):
        explain_genres(relu_model, TEXT, **kwargs)


def test_a_list_of_texts_is_rejected(relu_model):
    with pytest.raises(TypeError, match="one synopsis given as a str"):
        explain_genres(relu_model, [TEXT])


def test_text_without_known_words(relu_model):
    explanation = explain_genres(relu_model, "Qwxzv 123!", genre="Horror")
    assert explanation.frame.empty
    summary = explanation.summary.iloc[0]
    assert summary["logit"] == pytest.approx(summary["baseline_logit"])
    assert "no known word" in str(explanation)


def test_str_and_dict(relu_model):
    explanation = explain_genres(relu_model, TEXT, genre=["Horror", "Sci-Fi"], top_n=2)
    assert isinstance(explanation, GenreExplanation)
    text = str(explanation)
    assert text.splitlines()[0].startswith("Horror: probability")
    assert "integrated gradients, 64 steps" in text
    assert len(text.splitlines()) == 6
    payload = json.loads(json.dumps(explanation.to_dict()))
    assert [g["genre"] for g in payload["genres"]] == ["Horror", "Sci-Fi"]
    assert len(payload["genres"][0]["words"]) == 2
    assert payload["genres"][0]["words"][0]["contribution"] == pytest.approx(
        explanation.frame["contribution"].iloc[0]
    )
    assert "Horror" in repr(explanation)


def test_the_default_stack_is_explained_by_occlusion(corpus):
    X, y = corpus
    pipeline = make_genre_pipeline(
        random_state=0,
        stack__network__embed__vector_size=16,
        stack__network__embed__epochs=5,
        stack__network__clf__hidden_layer_sizes=(16,),
        stack__network__clf__max_iter=20,
        stack__cv=2,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GenreClassifier(pipeline=pipeline).fit(X, y)
    with pytest.raises(NotImplementedError, match="single-network Pipeline"):
        model.explain(TEXT, method="integrated_gradients")
    with pytest.raises(ValueError, match="which has no steps"):
        model.explain(TEXT, n_steps=8)
    text = "a ghost in the grave"
    explanation = model.explain(text, genre="Horror")
    assert explanation.method == "occlusion" and explanation.n_steps is None
    assert set(explanation.frame["word"]) == {"ghost", "in", "the", "grave"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proba = model.predict_proba([text, "a   in the grave", ""])["Horror"]
    logit = np.log(proba / (1 - proba)).to_numpy()
    row = explanation.frame.set_index("word").loc["ghost"]
    assert row["contribution"] == pytest.approx(logit[0] - logit[1])
    summary = explanation.summary.loc["Horror"]
    assert summary["probability"] == pytest.approx(proba.iloc[0])
    assert summary["baseline_logit"] == pytest.approx(logit[2])
    assert "leave-one-word-out occlusion" in str(explanation)


class _CountingModel:
    """A text -> label-probability model that counts the work it is given."""

    def __init__(self, model):
        self.model = model
        self.n_texts = 0
        self.n_characters = 0
        self.largest_call = 0

    def __sklearn_is_fitted__(self):
        return True

    def predict_proba(self, texts):
        self.n_texts += len(texts)
        self.n_characters += sum(len(t) for t in texts)
        self.largest_call = max(self.largest_call, len(texts))
        return self.model.predict_proba(texts)

    def predict(self, texts):
        return self.model.predict(texts)


@pytest.fixture(scope="module")
def linear_pipeline(corpus):
    X, y = corpus
    model = GenreClassifier(
        pipeline=make_pipeline(
            TfidfVectorizer(), OneVsRestClassifier(LogisticRegression(C=10))
        )
    ).fit(X, y)
    return model, model.pipeline_


def _text_of(n_words, seed=0):
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    words = {"".join(rng.choice(letters, size=8)) for _ in range(2 * n_words)}
    words = sorted(words)[:n_words]
    return " ".join(words + words[: n_words // 2] + ["ghost"])


@pytest.mark.parametrize("n_words", [50, 600])
def test_occlusion_scores_one_copy_of_the_text_per_distinct_word(
    linear_pipeline, n_words
):
    text = _text_of(n_words)
    model = _CountingModel(linear_pipeline[1])

    explanation = explain_genres(model, text, genre="0", top_n=None)

    distinct = n_words + 1  # and "ghost"
    assert len(explanation.frame) == distinct
    # The text, the empty text and one text per word, each at most as long
    # as the text (and one empty text that tells the number of labels): the
    # work is linear in the number of distinct words.
    assert model.n_texts == distinct + 3
    assert model.n_characters <= (distinct + 2) * len(text)
    assert model.largest_call <= 256  # scored in batches


def test_occlusion_refuses_more_distinct_words_than_max_words(linear_pipeline):
    model = _CountingModel(linear_pipeline[1])
    text = _text_of(1100)

    with pytest.raises(ValueError, match="1,101 distinct words.*max_words=1,000"):
        explain_genres(model, text)
    assert model.n_texts <= 1  # refused before any work (but the label count)

    with pytest.raises(ValueError, match="31 distinct words.*max_words=30"):
        explain_genres(model, _text_of(30), max_words=30)
    assert explain_genres(model, _text_of(30), genre="1", max_words=31).frame.size


def test_occlusion_explains_any_text_to_proba_model(linear_pipeline):
    genre_model, pipeline = linear_pipeline
    text = "a ghost in the grave"
    horror = list(genre_model.classes_).index("Horror")
    by_name = explain_genres(genre_model, text, genre="Horror")
    for model in (pipeline, _CountingModel(pipeline)):
        explanation = explain_genres(model, text, genre=str(horror))
        assert explanation.method == "occlusion"
        assert_frame = explanation.frame.drop(columns="genre")
        np.testing.assert_allclose(
            assert_frame["contribution"], by_name.frame["contribution"]
        )
        assert list(assert_frame["word"]) == list(by_name.frame["word"])


def test_occlusion_removes_every_spelling_of_a_word(linear_pipeline):
    model = _CountingModel(linear_pipeline[1])
    seen = []
    predict_proba = model.predict_proba

    def recording(texts):
        seen.extend(texts)
        return predict_proba(texts)

    model.predict_proba = recording
    explain_genres(model, "Ghost, ghost... GHOST! A grave_ghost.", genre="0")
    seen = seen[1:]  # the first text tells the number of labels
    assert seen[:2] == ["Ghost, ghost... GHOST! A grave_ghost.", ""]
    # "A" is one letter and "grave_ghost" one token with an underscore: only
    # "ghost" is a word, and all its spellings go together.
    assert seen[2:] == [" ,  ...  ! A grave_ghost."]


def test_n_steps_is_an_error_where_occlusion_explains(linear_pipeline, corpus):
    genre_model, _ = linear_pipeline
    with pytest.raises(ValueError, match="which has no steps"):
        explain_genres(genre_model, TEXT, n_steps=8)
    with pytest.raises(ValueError, match="method='occlusion'"):
        explain_genres(genre_model, TEXT, method="occlusion", n_steps=8)


def test_models_without_text_probabilities_are_refused():
    with pytest.raises(TypeError, match="predict_proba and predict"):
        explain_genres(object(), TEXT)
