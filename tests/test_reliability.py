"""Determinism and thread safety of fitted models."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone

from skanime import make_genre_pipeline

SPACE = ["robot", "pilot", "colony", "space", "ship", "laser", "mecha", "galaxy"]
LOVE = ["girl", "boy", "love", "school", "festival", "letter", "confess", "class"]


def _corpus(n_docs=120, seed=0):
    rng = np.random.default_rng(seed)
    docs, Y = [], []
    for _ in range(n_docs):
        space, love = rng.random() < 0.5, rng.random() < 0.5
        words = list(rng.choice(SPACE, 6)) * space + list(rng.choice(LOVE, 6)) * love
        words += list(rng.choice(["the", "a", "story", "day", "world"], 4))
        rng.shuffle(words)
        docs.append(" ".join(words))
        Y.append([int(space), int(love), int(space and love)])
    return docs, np.array(Y)


def _small_pipeline(random_state):
    return make_genre_pipeline(
        stack__network__embed__vector_size=16,
        stack__network__embed__epochs=5,
        stack__network__embed__min_count=1,
        stack__network__clf__hidden_layer_sizes=(16,),
        stack__network__clf__max_iter=30,
        stack__network__clf__early_stopping=False,
        random_state=random_state,
    )


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_same_random_state_gives_identical_predictions():
    docs, Y = _corpus()
    first = _small_pipeline(random_state=3).fit(docs, Y)
    second = clone(_small_pipeline(random_state=3)).fit(docs, Y)
    np.testing.assert_array_equal(first.predict_proba(docs), second.predict_proba(docs))
    np.testing.assert_array_equal(first.predict(docs), second.predict(docs))
    other = _small_pipeline(random_state=4).fit(docs, Y)
    assert not np.array_equal(first.predict_proba(docs), other.predict_proba(docs))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_concurrent_predictions_equal_serial_ones():
    docs, Y = _corpus()
    model = _small_pipeline(random_state=0).fit(docs, Y)
    chunks = [docs[i::8] for i in range(8)]
    serial = [model.predict_proba(chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _ in range(5):
            concurrent = list(pool.map(model.predict_proba, chunks))
            for expected, got in zip(serial, concurrent, strict=True):
                np.testing.assert_array_equal(expected, got)


# Fits the pipeline of these tests in a fresh interpreter and prints the hash
# of a word (to show PYTHONHASHSEED took effect) and the probabilities' bytes.
_FIT_IN_A_NEW_PROCESS = """
import sys, warnings
warnings.simplefilter("ignore")
sys.path.insert(0, {tests!r})
from test_reliability import _corpus, _small_pipeline
docs, Y = _corpus()
model = _small_pipeline(random_state=3).fit(docs, Y)
print(hash("robot"))
print(model.predict_proba(docs).tobytes().hex())
"""


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_predictions_are_identical_across_processes_and_hash_seeds():
    script = _FIT_IN_A_NEW_PROCESS.format(tests=str(Path(__file__).parent))
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )
        for hash_seed in ("0", "4242")
    ]
    docs, Y = _corpus()
    here = _small_pipeline(random_state=3).fit(docs, Y).predict_proba(docs)

    outputs = []
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        outputs.append(out.split())
    (hash_0, proba_0), (hash_1, proba_1) = outputs
    assert hash_0 != hash_1
    assert proba_0 == proba_1 == here.tobytes().hex()
