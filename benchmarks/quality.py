"""Prediction quality of skanime against baselines on the MAL-2021 synopses.

One command regenerates ``benchmarks/results/quality.md`` and ``quality.json``::

    SKANIME_DATA_HOME=../shared/data python benchmarks/quality.py

Two protocols, each a 5-fold cross-validation of the 9,494 anime that have
genres, with the same folds for every system:

random
    ``MultilabelStratifiedKFold(5, shuffle=True, random_state=0)``: sequels,
    movies and specials of a franchise are spread over the folds, so a test
    anime usually has relatives in the training part.
franchise
    ``MultilabelStratifiedGroupKFold(5, shuffle=True, random_state=0)`` over
    :func:`skanime.datasets.franchise_groups`: every franchise is in one fold
    only, as when a user tags a new series.

A system sees only the training part of a fold: its thresholds and
hyper-parameters come from the training part (inner cross-validation or
out-of-fold predictions), never from the test part. In the franchise protocol
the inner splits are grouped by franchise too.

Systems
-------
prior
    The training base rates of the genres as scores; every anime gets the
    genres whose base rate passes one threshold chosen for micro-F1 on the
    training part (at least one genre per anime).
seed_recipe
    The seed report's recipe with skanime's classes: the PTB CBOW vectors,
    synopses cleaned to the words those vectors know, their TF-IDF-weighted
    mean, a 50-50 network with batch normalisation and dropout (0.2) trained
    on the binary cross-entropy (``gamma=0``), threshold 0.5.
tfidf_logreg
    TF-IDF of words and word pairs (``min_df=2``, sublinear tf, English stop
    words), one-vs-rest ``LogisticRegression(C=10)`` (liblinear), one shared
    threshold for micro-F1 from a 3-fold cross-validation of the training
    part (at least one genre per anime).
tfidf_logreg_per_label
    The same model with one threshold per genre (each genre's own F1), at
    least one genre per anime, chosen on the out-of-fold predictions of a
    3-fold split of the training part, as many folds as the default model's
    stacking has (``MultiLabelThresholdTuner(per_label=True, min_labels=1)``,
    candidates 0.02, 0.03, ..., 0.80).
tfidf_wordchar_logreg_per_label
    Word 1-2 grams plus character 2-5 grams within word boundaries
    (``char_wb``; ``min_df=5``, ``max_df=0.5``, the 20,000 most frequent: the
    cost of liblinear grows with the non-zeros of the character block), the
    same logistic regression and the per-label rule.
tfidf_logreg_shrunk
    ``tfidf_logreg_per_label`` with the shrunk per-label rule of the default
    model, ``MultiLabelThresholdTuner(per_label="shrunk")``: each genre's own
    best threshold moved half-way to the best shared one, never above it.
    (The word + character model is run with the per-label rule only: each of
    its rows costs about 25 minutes here.)
fasttext_ova, fasttext_ova_per_label
    fastText supervised classification with the one-vs-all loss (the
    optional ``fasttext-numpy2-wheel`` peer, ``pip install -e ".[peers]"``;
    the rows are skipped, with the reason printed, when it is absent), one
    thread. Learning rate, epochs and word n-grams are chosen on one inner
    split of the training part (best LRAP of 8 settings); thresholds by the
    shared rule (as tfidf_logreg) or the per-label rule.
sklearn_mlp_w2v
    scikit-learn's ``MLPClassifier`` (512 units, ``alpha=1e-3``, its own early
    stopping) on standardised TF-IDF-weighted skip-gram vectors (200-d,
    window 5, 10 epochs: the previous default's embedding, frozen), per-label
    rule.
skanime_default
    ``make_genre_pipeline(random_state=0)``, fitted with
    ``fit(X, Y, stack__groups=franchises)`` in the franchise protocol.
skanime_without_neighbors
    The default without its neighbours member (network, linear, bayes): what
    the neighbours member adds, and at what cost (``neighbors_cost.md``).

Scores: micro- and macro-averaged F1, Hamming loss, precision of the
top-scored genre (P@1), label ranking average precision (LRAP), the wall time
of the whole ``fit`` (threshold folds included) and the median time of 50
one-synopsis ``predict`` calls. Per protocol and fold, the fit time of a fixed
reference model (TF-IDF + logistic regression, no threshold tuning), timed
just before skanime_default's fit on the same training part, is stored too,
so that fit times measured at different moments of a shared machine can be
compared.

Results are cached per (protocol, system, fold) in ``benchmarks/results/
.cache/`` under a key made of the system's definition and of the skanime
source it runs (for skanime's own model the whole package; for a baseline the
modules of the threshold tuner, splitters and transformers it uses, with their
imports), so ``--systems skanime_default`` re-runs only that system and the
tables are rebuilt from the cached baselines, and a change to the threshold
tuner reruns every baseline tuned with it. ``quality.json`` stores the key of
each fold's result, so that on a machine without the cache the tables are
completed from the published results whose keys still match.
``--quick`` runs two folds of both protocols on a 2,000-anime subset as a
smoke test, caches nothing and writes nothing unless ``--output-dir`` is
given. BLAS runs on one thread (``--threads``).
"""

import argparse
import ast
import datetime
import functools
import hashlib
import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    f1_score,
    hamming_loss,
    label_ranking_average_precision_score,
)
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import FeatureUnion, Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import skanime
from skanime import (
    FocalMLPClassifier,
    SynopsisCleaner,
    TfidfWeightedW2VTransformer,
    make_genre_pipeline,
)
from skanime.datasets import franchise_groups, load_anime, load_word_vectors
from skanime.metrics import precision_at_k
from skanime.model_selection import (
    MultilabelStratifiedGroupKFold,
    MultilabelStratifiedKFold,
    MultilabelStratifiedShuffleSplit,
    MultiLabelThresholdTuner,
    apply_thresholds,
)

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
CACHE = RESULTS / ".cache"
PROTOCOLS = ("random", "franchise")
SYSTEMS = (
    "prior",
    "seed_recipe",
    "tfidf_logreg",
    "tfidf_logreg_per_label",
    "tfidf_wordchar_logreg_per_label",
    "tfidf_logreg_shrunk",
    "fasttext_ova",
    "fasttext_ova_per_label",
    "sklearn_mlp_w2v",
    "skanime_default",
    "skanime_without_neighbors",
)
OWN_SYSTEMS = ("skanime_default", "skanime_without_neighbors")
METRICS = (
    "micro_f1",
    "macro_f1",
    "hamming_loss",
    "p_at_1",
    "lrap",
    "fit_seconds",
    "predict_ms",
)
HEADERS = {
    "micro_f1": "micro-F1",
    "macro_f1": "macro-F1",
    "hamming_loss": "Hamming loss",
    "p_at_1": "P@1",
    "lrap": "LRAP",
    "fit_seconds": "fit (s)",
    "predict_ms": "predict (ms)",
}
PROTOCOL_MEANING = {
    "random": (
        "random folds: a test anime usually has sequels, seasons or movies of "
        "its franchise in the training part, so this is the quality to expect "
        "on more entries of franchises the model was trained on."
    ),
    "franchise": (
        "franchise folds: every franchise is in one fold only, so this is the "
        "quality to expect when tagging a new series."
    ),
}
SEED = 0
N_SPLITS = 5
THRESHOLDS = np.round(np.arange(0.02, 0.805, 0.01), 2)
N_PREDICT_CALLS = 50


# ------------------------------------------------------------------ systems
def outer_folds(protocol, n_splits):
    if protocol == "random":
        return MultilabelStratifiedKFold(n_splits, shuffle=True, random_state=SEED)
    return MultilabelStratifiedGroupKFold(n_splits, shuffle=True, random_state=SEED)


def inner_folds(protocol, n_splits=5):
    """The inner split of a training part: grouped in the franchise protocol."""
    if protocol == "random":
        return MultilabelStratifiedKFold(n_splits, shuffle=True, random_state=SEED)
    return MultilabelStratifiedGroupKFold(n_splits, shuffle=True, random_state=SEED)


class Prior:
    """Base rates as scores; one shared threshold on them."""

    def fit(self, X, Y, groups=None):
        self.rates_ = np.asarray(Y, dtype=float).mean(axis=0)
        scores = np.broadcast_to(self.rates_, Y.shape)
        Y = np.asarray(Y, dtype=bool)
        f1 = []
        for t in THRESHOLDS:  # micro-F1 by counting, as f1_score(average="micro")
            mask = apply_thresholds(scores, t, 1).astype(bool)
            f1.append(2 * np.count_nonzero(mask & Y) / (mask.sum() + Y.sum()))
        self.threshold_ = float(THRESHOLDS[int(np.argmax(f1))])
        return self

    def predict_proba(self, X):
        return np.tile(self.rates_, (len(X), 1))

    def predict(self, X):
        return apply_thresholds(self.predict_proba(X), self.threshold_, 1)


class Plain:
    """A model whose fit takes no groups (nothing inside it splits)."""

    def __init__(self, model):
        self.model = model

    def fit(self, X, Y, groups=None):
        self.model.fit(X, Y)
        return self

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def predict(self, X):
        return self.model.predict(X)


class Tuned:
    """A ``MultiLabelThresholdTuner``, given the franchise groups if any."""

    def __init__(self, tuner):
        self.tuner = tuner

    def fit(self, X, Y, groups=None):
        params = {} if groups is None else {"groups": groups}
        self.tuner.fit(X, Y, **params)
        return self

    def predict_proba(self, X):
        return self.tuner.predict_proba(X)

    def predict(self, X):
        return self.tuner.predict(X)


class Featurized:
    """A feature pipeline fitted once, then a threshold-tuned classifier."""

    def __init__(self, features, tuner):
        self.features = features
        self.tuner = tuner

    def fit(self, X, Y, groups=None):
        Z = self.features.fit_transform(X)
        params = {} if groups is None else {"groups": groups}
        self.tuner.fit(Z, Y, **params)
        return self

    def predict_proba(self, X):
        return self.tuner.predict_proba(self.features.transform(X))

    def predict(self, X):
        return self.tuner.predict(self.features.transform(X))


class SkanimeDefault:
    """``make_genre_pipeline``; franchise groups reach its inner stacking folds."""

    def __init__(self, model=None):
        self.model = make_genre_pipeline(random_state=SEED) if model is None else model

    def fit(self, X, Y, groups=None):
        if groups is None:
            self.model.fit(X, Y)
        else:
            self.model.fit(X, Y, stack__groups=groups)
        return self

    def predict_proba(self, X):
        return self.model.predict_proba(X)

    def predict(self, X):
        return self.model.predict(X)


def shared_tuner(estimator, protocol):
    # cv=3 becomes a 3-fold MultilabelStratifiedGroupKFold when groups are given.
    return Tuned(
        MultiLabelThresholdTuner(
            estimator, scoring="f1_micro", cv=3, min_labels=1, random_state=SEED
        )
    )


def per_label_tuner(estimator, protocol):
    # As many folds as the default's stacking (checked in main): every system
    # chooses its thresholds on out-of-fold scores of models fitted on two
    # thirds of the training part.
    return MultiLabelThresholdTuner(
        estimator,
        scoring="f1_micro",
        per_label=True,
        min_labels=1,
        cv=inner_folds(protocol, n_splits=3),
        thresholds=THRESHOLDS,
    )


def word_tfidf():
    return TfidfVectorizer(
        ngram_range=(1, 2), min_df=2, sublinear_tf=True, stop_words="english"
    )


def logreg():
    return OneVsRestClassifier(LogisticRegression(C=10.0, solver="liblinear"))


def reference_model():
    """The fixed model whose fit time is stored per protocol and fold."""
    return make_pipeline(
        TfidfVectorizer(
            ngram_range=(1, 2), min_df=2, sublinear_tf=True, stop_words="english"
        ),
        OneVsRestClassifier(LogisticRegression(C=10.0, solver="liblinear")),
    )


# fastText ------------------------------------------------------------------
def fasttext_missing():
    """Why fastText cannot run here, or None when it can."""
    try:
        import fasttext  # noqa: F401
    except ImportError as exc:
        return (
            f"fastText is not installed ({exc}); install the optional peer with "
            "pip install -e '.[peers]' (fasttext-numpy2-wheel)"
        )
    return None


_TOKEN = re.compile(r"[a-z0-9']+")


def fasttext_text(document):
    return " ".join(_TOKEN.findall(str(document).lower()))


class FastTextOVA(ClassifierMixin, BaseEstimator):
    """fastText supervised classifier with the one-vs-all loss, as an estimator.

    ``predict_proba`` gives one independent probability per label, so
    :class:`MultiLabelThresholdTuner` can choose its thresholds.
    """

    def __init__(self, lr=0.5, epoch=10, word_ngrams=1, dim=100, min_count=1):
        self.lr = lr
        self.epoch = epoch
        self.word_ngrams = word_ngrams
        self.dim = dim
        self.min_count = min_count

    def fit(self, X, y):
        import fasttext

        y = np.asarray(y)
        self.n_labels_ = y.shape[1]
        self.classes_ = np.arange(self.n_labels_)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "train.txt"
            with path.open("w", encoding="utf-8") as f:
                for document, row in zip(X, y, strict=True):
                    labels = " ".join(f"__label__{j}" for j in np.flatnonzero(row))
                    f.write(f"{labels} {fasttext_text(document)}\n")
            # This fastText build now and then stops with "Encountered NaN", or
            # returns a model that ranks its own training labels clearly worse
            # than the base rates do, on
            # the same input, settings and seed that train normally on the next
            # call: retry such fits.
            self.n_retries_ = 0
            check = slice(0, min(len(y), 500))
            rates = np.tile(y.mean(axis=0), (len(y[check]), 1))
            floor = label_ranking_average_precision_score(y[check], rates)
            while True:
                try:
                    self.model_ = self._train(fasttext, path)
                    proba = self.predict_proba(X[check])
                    fit_lrap = label_ranking_average_precision_score(
                        y[check], np.nan_to_num(proba, nan=0.0)
                    )
                    if np.isfinite(proba).all() and fit_lrap >= floor - 0.02:
                        break
                except RuntimeError as exc:
                    if "NaN" not in str(exc):
                        raise
                if self.n_retries_ >= 20:
                    raise RuntimeError("fastText failed to train 20 times in a row")
                self.n_retries_ += 1
        return self

    def _train(self, fasttext, path):
        # Each model is trained in a fresh interpreter: in one long process this
        # fastText build fails ever more often after many trainings.
        settings = {
            "input": str(path),
            "loss": "ova",
            "lr": self.lr,
            "epoch": self.epoch,
            "wordNgrams": self.word_ngrams,
            "dim": self.dim,
            "minCount": self.min_count,
            "thread": 1,
            "seed": SEED,
            "verbose": 0,
        }
        out = Path(path).with_suffix(".bin")
        code = (
            "import json, sys, fasttext\n"
            "settings = json.loads(sys.argv[1])\n"
            "fasttext.train_supervised(**settings).save_model(sys.argv[2])\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, json.dumps(settings), str(out)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip().splitlines()[-1])
        return fasttext.load_model(str(out))

    def predict_proba(self, X):
        texts = [fasttext_text(document) for document in X]
        labels, probs = self.model_.predict(texts, k=-1, threshold=0.0)
        proba = np.zeros((len(texts), self.n_labels_))
        for row, (names, values) in enumerate(zip(labels, probs, strict=True)):
            columns = [int(name[len("__label__") :]) for name in names]
            proba[row, columns] = values
        return proba

    def predict(self, X):
        return (self.predict_proba(X) >= 0.5).astype(int)


FASTTEXT_GRID = [
    {"lr": lr, "epoch": epoch, "word_ngrams": ngrams}
    for lr in (0.2, 0.5)
    for epoch in (15, 30)
    for ngrams in (1, 2)
]


class FastTextTuned:
    """fastText with settings chosen on one inner split of the training part."""

    def __init__(self, protocol, per_label):
        self.protocol = protocol
        self.per_label = per_label

    def fit(self, X, Y, groups=None):
        splitter = inner_folds(self.protocol)
        split_args = () if groups is None else (groups,)
        fit_rows, val_rows = next(splitter.split(X, Y, *split_args))
        scores = []
        for params in FASTTEXT_GRID:
            model = FastTextOVA(**params).fit(X[fit_rows], Y[fit_rows])
            proba = model.predict_proba(X[val_rows])
            scores.append(label_ranking_average_precision_score(Y[val_rows], proba))
        self.params_ = FASTTEXT_GRID[int(np.argmax(scores))]
        estimator = FastTextOVA(**self.params_)
        if self.per_label:
            self.tuner_ = Tuned(per_label_tuner(estimator, self.protocol))
        else:
            self.tuner_ = shared_tuner(estimator, self.protocol)
        self.tuner_.fit(X, Y, groups)
        return self

    def predict_proba(self, X):
        return self.tuner_.predict_proba(X)

    def predict(self, X):
        return self.tuner_.predict(X)


# ---------------------------------------------------------------------------
def build_prior(protocol, ptb):
    return Prior()


def build_seed_recipe(protocol, ptb):
    return Plain(
        make_pipeline(
            SynopsisCleaner(vocabulary=ptb),
            TfidfWeightedW2VTransformer(vectors=ptb),
            FocalMLPClassifier(
                hidden_layer_sizes=(50, 50),
                gamma=0.0,
                batch_norm=True,
                dropout=0.2,
                early_stopping=True,
                max_iter=200,
                threshold=0.5,
                min_labels=0,
                random_state=SEED,
            ),
        )
    )


def build_tfidf_logreg(protocol, ptb):
    return shared_tuner(
        Pipeline([("tfidf", word_tfidf()), ("logreg", logreg())]), protocol
    )


def build_tfidf_logreg_per_label(protocol, ptb):
    return Tuned(
        per_label_tuner(
            Pipeline([("tfidf", word_tfidf()), ("logreg", logreg())]), protocol
        )
    )


def build_tfidf_wordchar_logreg_per_label(protocol, ptb):
    features = FeatureUnion(
        [
            ("word", word_tfidf()),
            (
                "char",
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=(2, 5),
                    min_df=5,
                    max_df=0.5,
                    max_features=20_000,
                    sublinear_tf=True,
                    dtype=np.float32,
                ),
            ),
        ]
    )
    # The features do not depend on the labels: fit them once on the training
    # part, then tune thresholds on the logistic regression alone.
    return Featurized(features, per_label_tuner(logreg(), protocol))


def build_tfidf_logreg_shrunk(protocol, ptb):
    model = build_tfidf_logreg_per_label(protocol, ptb)
    model.tuner.set_params(per_label="shrunk")
    return model


def build_fasttext_ova(protocol, ptb):
    return FastTextTuned(protocol, per_label=False)


def build_fasttext_ova_per_label(protocol, ptb):
    return FastTextTuned(protocol, per_label=True)


def build_sklearn_mlp_w2v(protocol, ptb):
    embedding = make_pipeline(
        SynopsisCleaner(stop_words=None),
        TfidfWeightedW2VTransformer(
            sg=1,
            vector_size=200,
            window=5,
            min_count=2,
            epochs=10,
            stop_words="english",
            sublinear_tf=True,
            random_state=SEED,
        ),
        StandardScaler(),
    )
    return Featurized(
        embedding,
        per_label_tuner(
            MLPClassifier(
                hidden_layer_sizes=(512,),
                alpha=1e-3,
                early_stopping=True,
                random_state=SEED,
            ),
            protocol,
        ),
    )


def build_skanime_default(protocol, ptb):
    return SkanimeDefault()


def without_neighbors():
    """The default without its neighbours member."""
    pipeline = make_genre_pipeline(random_state=SEED)
    stack = pipeline.named_steps["stack"]
    return pipeline.set_params(
        stack__estimators=[
            (name, member) for name, member in stack.estimators if name != "neighbors"
        ]
    )


def build_skanime_without_neighbors(protocol, ptb):
    return SkanimeDefault(without_neighbors())


BUILDERS = {name: globals()[f"build_{name}"] for name in SYSTEMS}
# What each builder relies on, for the cache key.
HELPERS = {
    "prior": [Prior],
    "seed_recipe": [Plain],
    "tfidf_logreg": [shared_tuner, word_tfidf, logreg, Tuned],
    "tfidf_logreg_per_label": [per_label_tuner, word_tfidf, logreg, Tuned],
    "tfidf_wordchar_logreg_per_label": [
        per_label_tuner,
        word_tfidf,
        logreg,
        Featurized,
    ],
    "tfidf_logreg_shrunk": [
        build_tfidf_logreg_per_label,
        per_label_tuner,
        word_tfidf,
        logreg,
        Tuned,
    ],
    "fasttext_ova": [FastTextOVA, FastTextTuned, shared_tuner, fasttext_text],
    "fasttext_ova_per_label": [FastTextOVA, FastTextTuned, per_label_tuner],
    "sklearn_mlp_w2v": [per_label_tuner, Featurized],
    "skanime_default": [SkanimeDefault],
    "skanime_without_neighbors": [SkanimeDefault, without_neighbors],
}
# The skanime code each baseline runs, for its cache key: a change to the
# threshold tuner or the splitters reruns the baselines that use them, so that
# they keep the rules skanime's own model is measured with. Every system splits
# with the same splitters and is scored with precision_at_k.
_SPLITS_AND_SCORES = [
    MultilabelStratifiedKFold,
    MultilabelStratifiedGroupKFold,
    precision_at_k,
]
_TUNER = [MultiLabelThresholdTuner]
_EMBEDDING = [SynopsisCleaner, TfidfWeightedW2VTransformer]
SKANIME_PARTS = {
    "prior": [apply_thresholds],
    "seed_recipe": [*_EMBEDDING, FocalMLPClassifier],
    "tfidf_logreg": _TUNER,
    "tfidf_logreg_per_label": _TUNER,
    "tfidf_wordchar_logreg_per_label": _TUNER,
    "tfidf_logreg_shrunk": _TUNER,
    "fasttext_ova": _TUNER,
    "fasttext_ova_per_label": _TUNER,
    "sklearn_mlp_w2v": [*_EMBEDDING, *_TUNER],
}


def source_hash(named_files):
    """Hash of ``(name, path)`` pairs: each name, then the file's bytes."""
    digest = hashlib.sha256()
    for name, path in named_files:
        digest.update(name.encode())
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def package_fingerprint():
    """Hash of the skanime source files, for the cache key of skanime's models."""
    root = Path(skanime.__file__).parent
    paths = sorted(root.rglob("*.py"))
    return source_hash((str(path.relative_to(root)), path) for path in paths)


def skanime_modules(objects):
    """Names of the skanime modules that define ``objects``, with their imports.

    Follows the imports of skanime modules by skanime modules (``from ..x
    import y``, ``from skanime.x import y``): every skanime module whose code
    the objects can run.
    """
    todo = [obj.__module__ for obj in objects]
    seen = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in sys.modules:
            continue
        seen.add(name)
        path = Path(sys.modules[name].__file__)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = importlib.util.resolve_name(
                        "." * node.level + (node.module or ""), package
                    )
                else:
                    base = node.module or ""
                # ``from . import x`` may name a module as well as an object.
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            todo += [t for t in targets if t.split(".")[0] == "skanime"]
    return sorted(seen)


@functools.cache
def baseline_sources(name):
    """Hash of the skanime modules baseline ``name`` runs, for its cache key."""
    modules = skanime_modules(_SPLITS_AND_SCORES + SKANIME_PARTS[name])
    return source_hash((module, sys.modules[module].__file__) for module in modules)


def system_key(name, protocol, fold, data_fingerprint, n_splits):
    parts = [
        name,
        protocol,
        str(fold),
        str(n_splits),
        data_fingerprint,
        repr(THRESHOLDS.tolist()),
        repr(FASTTEXT_GRID) if name.startswith("fasttext") else "",
        inspect.getsource(BUILDERS[name]),
        inspect.getsource(outer_folds),
        inspect.getsource(inner_folds),
        inspect.getsource(measure),
    ]
    parts += [inspect.getsource(helper) for helper in HELPERS[name]]
    if name in OWN_SYSTEMS:
        parts.append(package_fingerprint())
    else:
        parts.append(baseline_sources(name))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


# ------------------------------------------------------------------ scoring
def score(Y_true, Y_pred, proba):
    return {
        "micro_f1": float(f1_score(Y_true, Y_pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(Y_true, Y_pred, average="macro", zero_division=0)),
        "hamming_loss": float(hamming_loss(Y_true, Y_pred)),
        "p_at_1": float(precision_at_k(Y_true, proba, k=1)),
        "lrap": float(label_ranking_average_precision_score(Y_true, proba)),
    }


def measure(model, X, Y, train, test, groups):
    """Fit on the training rows, score the test rows, time fit and predict."""
    start = time.perf_counter()
    model.fit(X[train], Y[train], None if groups is None else groups[train])
    fit_seconds = time.perf_counter() - start
    proba = np.asarray(model.predict_proba(X[test]))
    scores = score(Y[test], np.asarray(model.predict(X[test])), proba)
    scores["fit_seconds"] = fit_seconds
    calls = []
    for i in test[:N_PREDICT_CALLS]:
        start = time.perf_counter()
        model.predict(X[i : i + 1])
        calls.append(time.perf_counter() - start)
    scores["predict_ms"] = 1000 * float(np.median(calls))
    return scores


def reference_key(protocol, fold, data_fingerprint, n_splits):
    parts = [protocol, str(fold), str(n_splits), data_fingerprint]
    parts += [inspect.getsource(f) for f in (reference_model, outer_folds)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def time_reference(X, Y, train):
    start = time.perf_counter()
    reference_model().fit(X[train], Y[train])
    return time.perf_counter() - start


# ------------------------------------------------------------------- output
def commit():
    try:
        out = subprocess.run(
            ["git", "describe", "--always", "--dirty", "--abbrev=40"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def mean_std(values, digits):
    values = np.asarray(values, dtype=float)
    std = values.std(ddof=1) if values.size > 1 else 0.0
    return f"{values.mean():.{digits}f} ± {std:.{digits}f}"


DIGITS = {"fit_seconds": 1, "predict_ms": 2}


# The lead skanime_default must have over the best fair baseline of each
# metric, on both protocols.
LEAD_TARGETS = {"micro_f1": 0.010, "macro_f1": 0.010, "p_at_1": 0.015}


def best_baseline(systems, metric="micro_f1"):
    """The baseline with the best mean ``metric``."""
    baselines = {
        name: np.mean(s[metric])
        for name, s in systems.items()
        if name not in OWN_SYSTEMS and s[metric]
    }
    return max(baselines, key=baselines.get) if baselines else None


def per_fold_differences(own, baseline, metric):
    """``own`` minus ``baseline`` on each fold both ran, e.g. "+0.004, -0.002"."""
    theirs = dict(zip(baseline["folds"], baseline[metric], strict=True))
    return ", ".join(
        f"{mine - theirs[k]:+.3f}"
        for k, mine in zip(own["folds"], own[metric], strict=True)
        if k in theirs
    )


def markdown(result, quick):
    meta = result
    lines = [
        "# Prediction quality on MAL-2021",
        "",
        f"{meta['n_documents']:,} anime with genres ({meta['n_labels']} genres, "
        f"{meta['n_franchises']:,} franchises from "
        "`skanime.datasets.franchise_groups`)"
        f"{', a subset' if quick else ''}; {meta['n_splits']}-fold "
        "cross-validation under two protocols, the same folds for every system; "
        "mean ± standard deviation over the folds (ddof=1). Thresholds and "
        "hyper-parameters come from the training part only. Generated by "
        f"`python benchmarks/quality.py` at commit `{meta['commit']}` "
        f"({meta['date']}).",
    ]
    if "rendered" in meta:
        lines[-1] += (
            " Tables rebuilt from those results at commit "
            f"`{meta['rendered']['commit']}` ({meta['rendered']['date']})."
        )
    for protocol, block in result["protocols"].items():
        splitter = (
            "MultilabelStratifiedKFold"
            if protocol == "random"
            else "MultilabelStratifiedGroupKFold"
        )
        over = " over the franchise ids" if protocol == "franchise" else ""
        lines += [
            "",
            f"## Protocol `{protocol}`",
            "",
            f"`{splitter}(n_splits={meta['n_splits']}, shuffle=True, "
            f"random_state=0)`{over}"
            f": {PROTOCOL_MEANING[protocol]}",
            "",
            "| system | " + " | ".join(HEADERS[m] for m in METRICS) + " |",
            "|---|" + "---:|" * len(METRICS),
        ]
        for name, scores in block["systems"].items():
            cells = [mean_std(scores[m], DIGITS.get(m, 3)) for m in METRICS]
            folds = scores.get("folds", [])
            note = "" if len(folds) == meta["n_splits"] else f" (folds {folds})"
            lines.append(f"| {name}{note} | " + " | ".join(cells) + " |")
        earlier = {}  # label of an earlier run -> the systems it measured
        for name, scores in block["systems"].items():
            for run in map(run_label, scores.get("runs", [])):
                if run != run_label(meta) and name not in earlier.setdefault(run, []):
                    earlier[run].append(name)
        for run, names in earlier.items():
            lines += [
                "",
                f"From the run at commit {run}, whose code and definition they "
                f"still have: {', '.join(names)}. Its times were measured on "
                "that run's machine; compare fit times within one run, or "
                "through the reference fit of each.",
            ]
        reference = block.get("reference_fit_seconds", [])
        if reference:
            lines += [
                "",
                "Reference fit (TF-IDF 1-2 grams + one-vs-rest logistic "
                "regression, no tuning) on the same training parts: "
                f"{mean_std(reference, 1)} s.",
            ]
        skipped = block.get("skipped", {})
        for name, reason in skipped.items():
            lines += ["", f"`{name}` skipped: {reason}."]
        own = block["systems"].get("skanime_default")
        if best_baseline(block["systems"]) is None:
            continue
        lines += [
            "",
            "skanime_default against the best fair baseline of each metric "
            "(every baseline tuned on the training part only; the target is "
            "the lead the default model must have; per fold: the default "
            "minus that baseline on each fold, both tested on the same anime):",
            "",
            "| metric | best baseline | its mean | skanime_default | difference "
            "| per fold | target |",
            "|---|---|---:|---:|---:|---|---|",
        ]
        for metric, target in LEAD_TARGETS.items():
            best = best_baseline(block["systems"], metric)
            value = np.mean(block["systems"][best][metric])
            if own and own[metric]:
                mine = np.mean(own[metric])
                status = "met" if mine - value >= target else "**missed**"
                cells = (
                    f"{mine:.3f} | {mine - value:+.3f} | "
                    f"{per_fold_differences(own, block['systems'][best], metric)} | "
                    f"+{target:.3f}: {status}"
                )
            else:
                cells = "not run | - | - | -"
            lines.append(f"| {HEADERS[metric]} | {best} | {value:.3f} | {cells} |")
        if own and own["fit_seconds"] and reference:
            ratio = np.array(own["fit_seconds"]) / np.array(reference)
            lines += [
                "",
                f"Fit of skanime_default / reference fit, per fold: "
                f"{', '.join(f'{r:.1f}x' for r in ratio)} (mean {ratio.mean():.1f}x; "
                "target <= 5x).",
            ]
    lines += ["", "## Systems", ""]
    lines += SYSTEMS_TEXT.strip().splitlines()
    return "\n".join(lines) + "\n"


SYSTEMS_TEXT = """
- **prior**: the training base rate of each genre as its score; every anime
  gets the genres whose base rate passes a threshold tuned for micro-F1 on
  the training part (at least one genre).
- **seed_recipe**: the seed report's recipe with skanime's classes: PTB CBOW
  vectors (100-d, 10,000 words), synopses reduced to the words they know,
  TF-IDF-weighted mean vector, `FocalMLPClassifier((50, 50), gamma=0,
  batch_norm=True, dropout=0.2, early_stopping=True)`, threshold 0.5.
- **tfidf_logreg**: TF-IDF of words and word pairs (`min_df=2`, sublinear
  tf, English stop words), one-vs-rest `LogisticRegression(C=10)`
  (liblinear), one shared threshold from a 3-fold cross-validation of the
  training part (grouped by franchise in the franchise protocol), at least
  one genre per anime.
- **tfidf_logreg_per_label**: the same model with one threshold per
  genre: `MultiLabelThresholdTuner(per_label=True, min_labels=1,
  thresholds=0.02..0.80)` on a 3-fold split of the training part, as many
  folds as the default's stacking (`MultilabelStratifiedKFold`, or
  `MultilabelStratifiedGroupKFold` over the training part's franchises in
  the franchise protocol).
- **tfidf_wordchar_logreg_per_label**: word 1-2 grams plus `char_wb` 2-5
  grams (`min_df=5`, `max_df=0.5`, at most 20,000), the same logistic
  regression and per-label rule; both vectorizers are fitted once on the
  training part (they see no labels), the inner folds refit only the
  classifier.
- **tfidf_logreg_shrunk**: tfidf_logreg_per_label with the default model's
  shrunk per-genre rule, `MultiLabelThresholdTuner(per_label="shrunk")`:
  each genre's own best threshold moved half-way to the best shared one,
  never above it. (The word + character model runs with the per-label rule
  only: each of its rows costs about 25 minutes on this machine.)
- **fasttext_ova**, **fasttext_ova_per_label**: fastText supervised with the
  one-vs-all loss (`fasttext-numpy2-wheel`, one thread, 100-d); learning rate
  (0.2, 0.5), epochs (15, 30) and word n-grams (1, 2) chosen by LRAP on one
  inner split of the training part; the shared or the per-label threshold
  rule.
- **sklearn_mlp_w2v**: `MLPClassifier((512,), alpha=1e-3,
  early_stopping=True)` on standardised TF-IDF-weighted skip-gram vectors
  (200-d, window 5, 10 epochs, the previous default's embedding, trained on
  the training part and frozen), per-label rule.
- **skanime_default**: `make_genre_pipeline(random_state=0)`, fitted with
  `fit(X, Y, stack__groups=train_franchises)` in the franchise protocol.
- **skanime_without_neighbors**: the default without its `neighbors`
  member (network, linear and bayes), to show what that member adds and
  what it costs (`neighbors_cost.md`).

Scores use `sklearn.metrics` (`f1_score` micro and macro with
`zero_division=0`, `hamming_loss`, `label_ranking_average_precision_score`)
and `skanime.metrics.precision_at_k(k=1)`. Fit time is the wall time of the
whole `fit` (threshold folds and hyper-parameter search included); predict
time is the median of 50 one-synopsis `predict` calls. BLAS on one thread, on
a shared two-core machine: compare fit times through the reference fit of
the same protocol.
"""


# --------------------------------------------------------------------- main
def default_data_path():
    home = os.environ.get("SKANIME_DATA_HOME")
    base = Path(home) if home else REPO.parent / "shared" / "data"
    return base / "mal_anime_2021.jsonl"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="MAL-2021 JSONL")
    parser.add_argument("--vectors", type=Path, default=None, help="PTB vectors")
    parser.add_argument(
        "--protocols", nargs="+", choices=PROTOCOLS, default=list(PROTOCOLS)
    )
    parser.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    parser.add_argument(
        "--folds", nargs="+", type=int, default=None, help="fold numbers to run"
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 folds on 2,000 anime, no files"
    )
    parser.add_argument(
        "--force", action="store_true", help="recompute even when cached"
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing; rebuild the tables from the cache",
    )
    parser.add_argument("--output-dir", type=Path, default=None)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
    return parser.parse_args(argv)


def load_cached(path, key):
    if not path.exists():
        return None
    entry = json.loads(path.read_text())
    return entry if entry.get("key") == key else None


def load_published(output_dir):
    """The last published ``quality.json`` of ``output_dir``, or ``{}``."""
    path = None if output_dir is None else output_dir / "quality.json"
    if path is None or not path.exists():
        return {}
    return json.loads(path.read_text())


def run_label(run):
    """How a run is named in the tables: its short commit and its date."""
    if isinstance(run, str):  # a run that did not record its commit
        return run
    return f"`{run['commit'][:7]}` ({run['date']})"


def published_results(published):
    """Per-fold results of a published ``quality.json``, by cache key.

    Returns ``{key: scores}`` and ``{key: seconds}`` (reference fits), so that
    a machine without the cache rebuilds the tables from the published rows
    of systems whose definition and code have not changed.
    """
    scores, references = {}, {}
    default_run = (
        {"commit": published["commit"], "date": published["date"]}
        if published
        else None
    )
    for block in published.get("protocols", {}).values():
        for system in block.get("systems", {}).values():
            runs = system.get("runs", [default_run] * len(system.get("keys", [])))
            for i, key in enumerate(system.get("keys", [])):
                scores[key] = {m: system[m][i] for m in METRICS} | {"run": runs[i]}
        if "reference_keys" in block:
            seconds = block["reference_fit_seconds"]
            references.update(zip(block["reference_keys"], seconds, strict=True))
    return scores, references


def main(argv=None):
    args = parse_args(argv)
    default_cv = make_genre_pipeline().get_params()["stack__cv"]
    if default_cv != 3:
        raise RuntimeError(
            f"the default model stacks on {default_cv} folds; the baselines' "
            "threshold folds (shared_tuner, per_label_tuner) assume 3: make "
            "them equal"
        )
    data_path = args.data or default_data_path()
    vectors_path = args.vectors or data_path.parent / "vectors" / "ptb_cbow_100d.txt.gz"
    anime = load_anime(data_path)
    X, Y = np.asarray(anime.data, dtype=object), np.asarray(anime.target)
    groups = franchise_groups(anime.frame)
    n_splits = N_SPLITS
    if args.quick:
        subset, _ = next(
            MultilabelStratifiedShuffleSplit(
                n_splits=1, train_size=2000, random_state=SEED
            ).split(X, Y)
        )
        X, Y, groups, n_splits = X[subset], Y[subset], groups[subset], 2
    output_dir = args.output_dir or (None if args.quick else RESULTS)
    cache_dir = None if args.quick else (args.cache_dir or CACHE)
    if cache_dir is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        (cache_dir / ".gitignore").write_text("*\n")
    folds_to_run = args.folds if args.folds is not None else list(range(n_splits))
    data_fingerprint = hashlib.sha256(
        "\n".join(X.tolist()).encode() + Y.tobytes() + groups.tobytes()
    ).hexdigest()[:16]

    missing_fasttext = fasttext_missing()
    ptb = None
    if "seed_recipe" in args.systems and not args.report_only:
        ptb = load_word_vectors(vectors_path)

    results = {}  # (protocol, system, fold) -> scores
    this_run = {
        "commit": commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"
        ),
    }
    computed = False  # whether this process measured any fold
    references = {}  # (protocol, fold) -> seconds
    skipped = {}  # (protocol, system) -> reason
    from_cache = set()  # results completed from the local cache
    published_run = load_published(output_dir)

    def cache_path(protocol, name, fold):
        return cache_dir / f"{protocol}-{name}-fold{fold}.json"

    def reference_path(protocol, fold):
        return cache_dir / f"{protocol}-reference-fold{fold}.json"

    with threadpool_limits(args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=r".*have no (positive|word)")
        warnings.filterwarnings("ignore", message=r"Label not \d+ is present")
        warnings.filterwarnings("ignore", message=r"Label \d+ is present in all")
        for protocol in args.protocols:
            splitter = outer_folds(protocol, n_splits)
            split_args = (groups,) if protocol == "franchise" else ()
            folds = list(splitter.split(X, Y, *split_args))
            fold_groups = groups if protocol == "franchise" else None
            run = folds_to_run if not args.report_only else []
            # One system over all its folds, then the next: an interrupted run
            # leaves whole rows behind.
            for name in args.systems if run else []:
                if name.startswith("fasttext") and missing_fasttext:
                    skipped[protocol, name] = missing_fasttext
                    print(f"skipping {name}: {missing_fasttext}", flush=True)
                    continue
                for k in run:
                    train, test = folds[k]
                    key = system_key(name, protocol, k, data_fingerprint, n_splits)
                    path = cache_path(protocol, name, k) if cache_dir else None
                    cached = (
                        None if args.force or path is None else load_cached(path, key)
                    )
                    if cached is not None:
                        results[protocol, name, k] = cached["scores"]
                        continue
                    if name == "skanime_default":
                        # Timed just before the fit it is the yardstick of,
                        # so that the ratio of the two sees the same load of
                        # a shared machine.
                        seconds = time_reference(X, Y, train)
                        references[protocol, k] = seconds
                        if cache_dir is not None:
                            ref_key = reference_key(
                                protocol, k, data_fingerprint, n_splits
                            )
                            reference_path(protocol, k).write_text(
                                json.dumps({"key": ref_key, "seconds": seconds}) + "\n"
                            )
                    model = BUILDERS[name](protocol, ptb)
                    try:
                        scores = measure(model, X, Y, train, test, fold_groups)
                    except TypeError as exc:
                        if name not in OWN_SYSTEMS:
                            raise
                        reason = f"its fit does not take these arguments yet ({exc})"
                        skipped[protocol, name] = reason
                        print(f"skipping {name} ({protocol}): {reason}", flush=True)
                        break
                    scores["run"] = this_run
                    computed = True
                    results[protocol, name, k] = scores
                    if path is not None:
                        path.write_text(
                            json.dumps({"key": key, "scores": scores}, indent=1) + "\n"
                        )
                    print(
                        f"{protocol:9s} fold {k} {name:32s} "
                        + " ".join(f"{m} {scores[m]:.4f}" for m in METRICS),
                        flush=True,
                    )

        # Complete the tables from the cache, then from the published results
        # (every system, every fold), wherever the key is the same.
        published, published_references = published_results(published_run)
        for protocol in PROTOCOLS:
            for k in range(n_splits):
                ref_key = reference_key(protocol, k, data_fingerprint, n_splits)
                entry = None
                if cache_dir is not None:
                    entry = load_cached(reference_path(protocol, k), ref_key)
                if entry is not None:
                    references.setdefault((protocol, k), entry["seconds"])
                if ref_key in published_references:
                    references.setdefault((protocol, k), published_references[ref_key])
                for name in SYSTEMS:
                    key = system_key(name, protocol, k, data_fingerprint, n_splits)
                    entry = None
                    if cache_dir is not None:
                        entry = load_cached(cache_path(protocol, name, k), key)
                    if entry is not None and (protocol, name, k) not in results:
                        results[protocol, name, k] = entry["scores"]
                        from_cache.add((protocol, name, k))
                    if key in published:
                        results.setdefault((protocol, name, k), published[key])

    protocols = {}
    for protocol in PROTOCOLS:
        systems = {}
        for name in SYSTEMS:
            done = [k for k in range(n_splits) if (protocol, name, k) in results]
            if not done:
                continue
            systems[name] = {
                m: [results[protocol, name, k][m] for k in done] for m in METRICS
            }
            systems[name]["folds"] = done
            systems[name]["runs"] = [
                results[protocol, name, k].get("run", "an earlier run (local cache)")
                for k in done
            ]
            systems[name]["keys"] = [
                system_key(name, protocol, k, data_fingerprint, n_splits) for k in done
            ]
        ref_folds = [k for k in range(n_splits) if (protocol, k) in references]
        if not systems and not ref_folds:
            continue
        block = {
            "reference_fit_seconds": [references[protocol, k] for k in ref_folds],
            "reference_keys": [
                reference_key(protocol, k, data_fingerprint, n_splits)
                for k in ref_folds
            ],
            "systems": systems,
        }
        reasons = {name: r for (p, name), r in skipped.items() if p == protocol}
        if reasons:
            block["skipped"] = reasons
        protocols[protocol] = block

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    result = dict(this_run)
    if args.report_only and published_run and not from_cache:
        # Nothing ran: the figures are those of the published run.
        result = {
            "commit": published_run["commit"],
            "date": published_run["date"],
            "rendered": {"commit": commit(), "date": now},
        }
    elif not computed:
        # Nothing ran: when the cached folds are all of one run, the header
        # names that run; otherwise each table names the runs of its rows.
        cached_runs = {
            json.dumps(results[key].get("run"), sort_keys=True) for key in from_cache
        }
        only_run = json.loads(cached_runs.pop()) if len(cached_runs) == 1 else None
        if isinstance(only_run, dict):
            result = only_run | {"rendered": {"commit": commit(), "date": now}}
    result |= {
        "dataset": data_path.name,
        "n_documents": int(len(X)),
        "n_labels": int(Y.shape[1]),
        "n_franchises": int(np.unique(groups).size),
        "n_splits": n_splits,
        "threads": args.threads,
        "protocols": protocols,
    }
    report = markdown(result, args.quick)
    print(report)
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
        (output_dir / "quality.json").write_text(json.dumps(result, indent=2) + "\n")
        (output_dir / "quality.md").write_text(report)
    return result


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
