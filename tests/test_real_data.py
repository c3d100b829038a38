"""Genre prediction on the real MAL-2021 synopses.

Skipped unless SKANIME_DATA_HOME holds mal_anime_2021.jsonl.
"""

import json
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score, label_ranking_average_precision_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MultiLabelBinarizer, StandardScaler

from skanime import FocalMLPClassifier, TfidfWeightedW2VTransformer

pytestmark = pytest.mark.real_data

N_TRAIN, N_TEST = 4000, 1000
THRESHOLDS = np.round(np.arange(0.1, 0.61, 0.05), 2)


def _read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    synopses, genres = [], []
    for row in rows:
        names = [g["name"] for g in row.get("genres") or []]
        synopsis = row.get("synopsis")
        if names and isinstance(synopsis, str) and synopsis.strip():
            synopses.append(synopsis)
            genres.append(names)
    return synopses, genres


def _best_threshold(Y, proba):
    return max(THRESHOLDS, key=lambda t: f1_score(Y, proba >= t, average="micro"))


@pytest.fixture(scope="module")
def genre_experiment(mal_jsonl_path):
    synopses, genres = _read_jsonl(mal_jsonl_path)
    order = np.random.default_rng(0).permutation(len(synopses))
    train, test = order[:N_TRAIN], order[N_TRAIN : N_TRAIN + N_TEST]
    binarizer = MultiLabelBinarizer().fit(genres[i] for i in train)
    with warnings.catch_warnings():
        # Genres absent from the training part are dropped from both parts.
        warnings.filterwarnings("ignore", message="unknown class", category=UserWarning)
        Y_train = binarizer.transform([genres[i] for i in train])
        Y_test = binarizer.transform([genres[i] for i in test])
    docs_train = [synopses[i] for i in train]
    docs_test = [synopses[i] for i in test]

    pipeline = Pipeline(
        [
            (
                "embed",
                TfidfWeightedW2VTransformer(
                    vector_size=100,
                    min_count=3,
                    epochs=20,
                    stop_words="english",
                    workers=1,
                    random_state=0,
                ),
            ),
            ("scale", StandardScaler()),
            (
                "mlp",
                FocalMLPClassifier(
                    hidden_layer_sizes=(128,),
                    gamma=1.0,
                    alpha=0.1,
                    dropout=0.3,
                    max_iter=30,
                    random_state=0,
                ),
            ),
        ]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(docs_train, Y_train)
    proba_train = pipeline.predict_proba(docs_train)
    threshold = _best_threshold(Y_train, proba_train)
    pipeline.set_params(mlp__threshold=threshold)
    return {
        "pipeline": pipeline,
        "binarizer": binarizer,
        "Y_train": Y_train,
        "Y_test": Y_test,
        "docs_test": docs_test,
        "proba_test": pipeline.predict_proba(docs_test),
        "Y_pred": pipeline.predict(docs_test),
        "threshold": threshold,
    }


def test_pipeline_beats_the_genre_base_rates(genre_experiment):
    Y_train, Y_test = genre_experiment["Y_train"], genre_experiment["Y_test"]
    base_rates = Y_train.mean(axis=0)
    # The prior baseline: every synopsis gets the training base rates as its
    # genre probabilities, thresholded the same way (chosen on training data).
    prior_threshold = _best_threshold(Y_train, np.tile(base_rates, (N_TRAIN, 1)))
    prior_pred = np.tile(base_rates >= prior_threshold, (N_TEST, 1))
    # Drawing each genre at random with its base rate does worse still.
    random_pred = np.random.default_rng(0).random(Y_test.shape) < base_rates

    model_f1 = f1_score(Y_test, genre_experiment["Y_pred"], average="micro")
    prior_f1 = f1_score(Y_test, prior_pred, average="micro")
    random_f1 = f1_score(Y_test, random_pred, average="micro")

    assert model_f1 > 0.40
    assert prior_f1 < 0.35
    assert model_f1 - prior_f1 > 0.10
    assert random_f1 < 0.20


def test_threshold_comes_from_training_data_and_ranks_genres(genre_experiment):
    pipeline = genre_experiment["pipeline"]
    proba = genre_experiment["proba_test"]
    Y_test = genre_experiment["Y_test"]

    assert genre_experiment["threshold"] in THRESHOLDS
    assert pipeline["mlp"].threshold == genre_experiment["threshold"]
    expected_shape = (N_TEST, len(genre_experiment["binarizer"].classes_))
    assert proba.shape == genre_experiment["Y_pred"].shape == expected_shape
    # Ranking each synopsis's genres by probability puts its true genres far
    # higher than ranking every synopsis's genres by their base rates.
    base_rates = genre_experiment["Y_train"].mean(axis=0)
    ties_broken = np.arange(len(base_rates)) * 1e-9
    prior_scores = np.tile(base_rates + ties_broken, (N_TEST, 1))
    model_lrap = label_ranking_average_precision_score(Y_test, proba)
    prior_lrap = label_ranking_average_precision_score(Y_test, prior_scores)
    assert model_lrap > prior_lrap + 0.1


def test_embedding_of_real_synopses_is_finite(genre_experiment):
    embed = genre_experiment["pipeline"]["embed"]

    X = embed.transform(genre_experiment["docs_test"])

    assert X.shape == (N_TEST, 100)
    assert X.dtype == np.float32
    assert np.isfinite(X).all()
    assert embed.n_empty_documents_ == 0
    assert len(embed.vocabulary_) > 5000
