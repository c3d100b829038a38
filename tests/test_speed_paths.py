"""The fast paths give what the plain implementations they replace give.

Each optimised routine is compared with a plain reference written here: the
transformer with a per-document loop and with scikit-learn's
``TfidfVectorizer``, the tokeniser and the cleaner's word split with their
regular expressions, the focal loss with scipy's logistic functions, Adam
and the ReLU derivative with their textbook forms, and a whole training run
with all the plain routines swapped in. No test here measures time.
"""

import copy
import math
import re
import warnings
from collections import Counter

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy.special import expit, log_expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from skanime import (
    FocalMLPClassifier,
    SynopsisCleaner,
    TfidfWeightedW2VTransformer,
    _embedding,
    _focal_mlp,
    _losses,
    _text,
)

DEFAULT_PATTERN = r"(?u)\b[^\W\d_][^\W\d_]+\b"

DOCS = [
    "In the year 2071, humanity colonized the Moon. Spike and Jet hunt bounties.",
    "A girl falls in love with her classmate at the school festival; love wins!",
    "Robot robot ROBOT: the robot's pilot, robot_pilot and robot2 fight in space.",
    "Café Pokémon naïve — an AI (ai, Ai) finds a café in Tōkyō… and a robot.",
    "",
    "2071 1999 ___ !!! a b c",
    "Mecha pilots defend the colony; the colony defends the pilots. x y z",
    "The story of a young hero who finds new friends at school and in space.",
    "Tab\tseparated\nlines\r\nand\x0bother\x1cspace characters robot school",
    "UPPER CASE WORDS AND lower case words: Robot, ROBOT, robot.",
    "robots robot robotics pilot pilots piloting love loved lover",
    "日本語のテキスト and English words robot love",
]


def _vectors(words, size=6, seed=0):
    rng = np.random.default_rng(seed)
    return {w: rng.normal(size=size).astype(np.float32) for w in sorted(words)}


def _all_words(docs, lowercase=True):
    """The words of ``docs`` and all single letters (for one-group patterns)."""
    vectorizer = TfidfVectorizer(lowercase=lowercase, token_pattern=DEFAULT_PATTERN)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return set(vectorizer.fit(docs).vocabulary_) | set(letters)


def _loop_transform(transformer, documents):
    """The plain way: one document at a time, one word at a time."""
    analyze = TfidfVectorizer(
        lowercase=transformer.lowercase,
        token_pattern=transformer.token_pattern,
        stop_words=transformer.stop_words,
    ).build_analyzer()
    index, idf, vectors = (
        transformer.vocabulary_,
        transformer.idf_,
        transformer.vectors_,
    )
    out = np.zeros((len(documents), vectors.shape[1]))
    for i, doc in enumerate(documents):
        counts = Counter(token for token in analyze(doc) if token in index)
        total = 0.0
        for token, count in counts.items():
            tf = 1.0 + math.log(count) if transformer.sublinear_tf else count
            weight = tf * (idf[index[token]] if transformer.use_idf else 1.0)
            out[i] += weight * vectors[index[token]]
            total += weight
        if total:
            out[i] /= total
    if transformer.norm == "l2":
        lengths = np.linalg.norm(out, axis=1, keepdims=True)
        out /= np.where(lengths == 0, 1, lengths)
    return out


# ------------------------------------------------------------ transformer
OPTIONS = [
    {},
    {"sublinear_tf": True},
    {"use_idf": False},
    {"norm": "l2"},
    {"stop_words": "english"},
    {"stop_words": ["robot", "the", "love"]},
    {"lowercase": False},
    {"token_pattern": r"(?u)\b\w+\b"},
    {"token_pattern": r"(?u)\b(\w)\w+\b"},  # one group: the group is the token
    {"dtype": "float32", "sublinear_tf": True},
]
OPTION_IDS = [",".join(f"{k}={v}" for k, v in o.items()) or "default" for o in OPTIONS]


@pytest.mark.parametrize("options", OPTIONS, ids=OPTION_IDS)
def test_transform_equals_the_per_document_loop(options):
    lowercase = options.get("lowercase", True)
    words = _all_words(DOCS, lowercase=lowercase) | {"r", "2071", "robot_pilot"}
    words = sorted(words)[::2] + ["robot", "love", "school"]  # some words lack vectors
    transformer = TfidfWeightedW2VTransformer(
        vectors=_vectors(words), **{"dtype": "float64", **options}
    )
    transformer.fit(DOCS)
    with pytest.warns(UserWarning, match="no word with a vector"):
        X = transformer.transform(DOCS[::-1] + ["", "robot"])

    expected = _loop_transform(transformer, DOCS[::-1] + ["", "robot"])
    tolerance = 1e-5 if options.get("dtype") == "float32" else 1e-12
    assert_allclose(X, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("options", OPTIONS, ids=OPTION_IDS)
def test_tfidf_weights_equal_tfidf_vectorizer_exactly(options):
    lowercase = options.get("lowercase", True)
    transformer = TfidfWeightedW2VTransformer(
        vectors=_vectors(_all_words(DOCS, lowercase)), **options
    ).fit(DOCS)
    documents = DOCS * 3 + ["robot robot robot", "", "école robot"]

    fast = transformer._tfidf_weights(documents)
    plain = transformer._vectorizer.transform(documents)  # scikit-learn's loop

    assert sp.isspmatrix_csr(fast)
    assert fast.dtype == plain.dtype
    assert_array_equal(fast.indptr, plain.indptr)
    assert_array_equal(fast.indices, plain.indices)
    assert_array_equal(fast.data, plain.data)


def test_chunked_counting_equals_one_chunk(monkeypatch):
    documents = DOCS * 5
    transformer = TfidfWeightedW2VTransformer(
        vectors=_vectors(_all_words(DOCS)), sublinear_tf=True
    ).fit(DOCS)
    whole = transformer._tfidf_weights(documents)
    monkeypatch.setattr(_embedding, "_CHUNK_DOCUMENTS", 3)

    chunked = transformer._tfidf_weights(documents)

    assert (whole != chunked).nnz == 0
    assert_array_equal(whole.indices, chunked.indices)


def test_no_documents_give_an_empty_matrix():
    transformer = TfidfWeightedW2VTransformer(vectors=_vectors(_all_words(DOCS)))
    transformer.fit(DOCS)

    assert transformer._tfidf_weights([]).shape == (0, len(transformer.vocabulary_))
    assert transformer.transform([]).shape == (0, 6)


def test_default_token_pattern_is_the_constant():
    default = TfidfWeightedW2VTransformer().token_pattern
    assert default == _embedding._DEFAULT_TOKEN_PATTERN == DEFAULT_PATTERN


_TEXT = st.text(
    alphabet=st.sampled_from(
        list("abcXYZ019_ \t\n\x0b\x0c\x1c\x1f\x7f.,'-:;!?()[]<>&")
        + ["é", "ß", "ō", "²", "٣", "日", "\xa0", "\u2028", "—"]
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT)
def test_default_pattern_candidates_hold_exactly_the_tokens(text):
    # The candidates may hold extra words, but none the pattern would give
    # (so no vocabulary word), and the pattern's tokens in the same order.
    pattern = re.compile(DEFAULT_PATTERN)
    candidates = _embedding._default_pattern_candidates(text, pattern.findall)

    assert [w for w in candidates if pattern.fullmatch(w)] == pattern.findall(text)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT)
def test_letter_words_equal_the_substitution_and_split(text):
    assert _text._letter_words(text) == _text.NON_LETTER_PATTERN.sub(" ", text).split()


def _plain_clean(doc, stop_words=frozenset(), vocabulary=None, **switches):
    """SynopsisCleaner's recipe written step by step with the regexes."""
    if switches.get("strip_html", True):
        doc = _text.strip_html(doc)
    if switches.get("remove_credits", True):
        doc = _text.strip_credits(doc)
    if switches.get("lowercase", True):
        doc = doc.lower()
    if switches.get("alphabetic_only", True):
        doc = _text.NON_LETTER_PATTERN.sub(" ", doc)
    words = [w for w in doc.split() if w not in stop_words]
    if vocabulary is not None:
        words = [w for w in words if w in vocabulary]
    return " ".join(words)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"stop_words": None},
        {"lowercase": False},
        {"alphabetic_only": False},
        {"vocabulary": ["robot", "love", "café", "school"]},
    ],
    ids=["default", "no_stop_words", "keep_case", "keep_non_letters", "vocabulary"],
)
def test_cleaner_equals_the_plain_recipe(params):
    documents = [*DOCS, "<i>Hero</i> &amp; robot<br>\n[Written by MAL Rewrite]"]
    stop_words = {"english": ENGLISH_STOP_WORDS, None: frozenset()}[
        params.get("stop_words", "english")
    ]
    vocabulary = set(params["vocabulary"]) if "vocabulary" in params else None
    switches = {
        k: v for k, v in params.items() if k not in ("stop_words", "vocabulary")
    }

    cleaned = SynopsisCleaner(**params).transform(documents)

    expected = [_plain_clean(d, stop_words, vocabulary, **switches) for d in documents]
    assert cleaned.tolist() == expected


# ------------------------------------------------------------ focal loss
def _plain_focal(y, z, gamma, focal_alpha=None):
    """The focal loss and gradient through scipy's logistic functions."""
    y = np.asarray(y, dtype=z.dtype)
    sign = 2 * y - 1
    u = sign * z
    log_pt = log_expit(u)
    if gamma == 0:
        terms, grad_u = -log_pt, -expit(-u)
    else:
        modulator = np.exp(gamma * log_expit(-u))
        terms = -modulator * log_pt
        grad_u = modulator * (gamma * expit(u) * log_pt - expit(-u))
    if focal_alpha is not None:
        weights = np.where(y > 0.5, focal_alpha, 1 - focal_alpha).astype(z.dtype)
        terms, grad_u = terms * weights, grad_u * weights
    return float(terms.sum(dtype=np.float64) / len(z)), grad_u * sign / len(z)


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0, 3.7])
@pytest.mark.parametrize("focal_alpha", [None, 0.25, "per_label"])
def test_focal_loss_equals_the_scipy_formula(dtype, rtol, gamma, focal_alpha):
    rng = np.random.default_rng(0)
    scale = rng.choice([0.01, 1.0, 10.0, 80.0], size=(64, 7))
    z = (rng.normal(size=(64, 7)) * scale).astype(dtype)
    z[0] = [0.0, 1e-8, -1e-8, 30.0, -30.0, 85.0, -85.0]
    y = (rng.random((64, 7)) < 0.3).astype(np.int64)
    if focal_alpha == "per_label":
        focal_alpha = rng.random(7)

    loss, grad = _losses.focal_loss_and_gradient(
        y, z, gamma=gamma, focal_alpha=focal_alpha
    )

    plain_loss, plain_grad = _plain_focal(y, z, gamma, focal_alpha)
    assert grad.dtype == dtype
    assert loss == pytest.approx(plain_loss, rel=rtol)
    assert_allclose(grad, plain_grad, rtol=rtol, atol=rtol * np.abs(plain_grad).max())


def test_focal_loss_of_infinite_logits_matches_the_formula():
    z = np.array([[np.inf, -np.inf, 1e4, -1e4]])
    y = np.array([[1, 0, 0, 1]])
    for gamma in (0.0, 2.0):
        loss, grad = _losses.focal_loss_and_gradient(y, z, gamma=gamma)
        plain_loss, plain_grad = _plain_focal(y, z, gamma)
        assert loss == pytest.approx(plain_loss)
        assert_allclose(grad, plain_grad)


# ------------------------------------------------------------ network
def _plain_adam_step(self, grads):
    """Adam as first written: temporaries and a float64 step size."""
    self.t_ += 1
    b1, b2 = self.beta_1, self.beta_2
    lr = self.learning_rate_init * np.sqrt(1 - b2**self.t_) / (1 - b1**self.t_)
    for param, grad, m, v in zip(
        self._params_flat(), grads, self._adam_m, self._adam_v, strict=True
    ):
        m *= b1
        m += (1 - b1) * grad
        v *= b2
        v += (1 - b2) * grad * grad
        param -= (lr * m / (np.sqrt(v) + self.epsilon)).astype(param.dtype)


def _plain_relu_derivative(a, delta):
    delta[a <= 0] = 0


class _State:
    """The attributes ``_adam_step`` reads, with copies of one state."""

    def __init__(self, params, dtype):
        self.coefs = [p.astype(dtype) for p in params]
        self._adam_m = [np.zeros_like(p) for p in self.coefs]
        self._adam_v = [np.zeros_like(p) for p in self.coefs]
        self.t_ = 0
        self.beta_1, self.beta_2, self.epsilon = 0.9, 0.999, 1e-8
        self.learning_rate_init = 0.01

    def _params_flat(self):
        return self.coefs


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-5)])
def test_adam_step_equals_the_plain_update(dtype, rtol):
    rng = np.random.default_rng(0)
    shapes = [(5, 4), (4, 3), (4,), (3,)]
    params = [rng.normal(size=s) for s in shapes]
    fast, plain = _State(params, dtype), _State(params, dtype)

    for _ in range(25):
        grads = [
            rng.normal(size=s).astype(dtype) * 10 ** rng.uniform(-6, 2) for s in shapes
        ]
        _focal_mlp.FocalMLPClassifier._adam_step(fast, [g.copy() for g in grads])
        _plain_adam_step(plain, grads)

    assert fast.t_ == plain.t_ == 25
    for a, b in zip(
        fast.coefs + fast._adam_m + fast._adam_v,
        plain.coefs + plain._adam_m + plain._adam_v,
        strict=True,
    ):
        assert a.dtype == dtype
        assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-6)


def test_relu_derivative_equals_mask_assignment():
    rng = np.random.default_rng(0)
    a = np.maximum(rng.normal(size=(30, 20)), 0)
    delta = rng.normal(size=(30, 20))
    expected = delta.copy()
    _plain_relu_derivative(a, expected)

    _focal_mlp._relu_derivative(a, delta)

    assert_array_equal(delta, expected)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-9), ("float32", 2e-3)])
@pytest.mark.parametrize(
    "params",
    [
        {},
        {"focal_alpha": 0.3, "gamma": 0.0},
        {"activation": "tanh", "hidden_layer_sizes": (8, 6)},
    ],
)
def test_training_equals_training_with_the_plain_routines(
    monkeypatch, dtype, rtol, params
):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 6))
    Y = (X @ rng.normal(size=(6, 4)) + rng.normal(size=(120, 4)) > 0.3).astype(int)
    settings_ = dict(
        hidden_layer_sizes=(16,),
        max_iter=8,
        batch_size=32,
        random_state=0,
        dtype=dtype,
        tol=0.0,
    )
    settings_.update(params)

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return FocalMLPClassifier(**settings_).fit(X, Y)

    fast = fit()
    with monkeypatch.context() as patch:
        patch.setattr(
            _focal_mlp,
            "focal_loss_and_gradient",
            lambda y, z, gamma, focal_alpha: _plain_focal(y, z, gamma, focal_alpha),
        )
        patch.setitem(
            _focal_mlp._ACTIVATIONS, "relu", (_focal_mlp._relu, _plain_relu_derivative)
        )
        patch.setattr(FocalMLPClassifier, "_adam_step", _plain_adam_step)
        plain = fit()

    assert fast.n_iter_ == plain.n_iter_ == 8
    assert_allclose(fast.loss_curve_, plain.loss_curve_, rtol=rtol)
    for a, b in zip(
        fast.coefs_ + fast.intercepts_, plain.coefs_ + plain.intercepts_, strict=True
    ):
        assert_allclose(a, b, rtol=rtol, atol=rtol)
    assert_allclose(fast.predict_proba(X), plain.predict_proba(X), rtol=rtol, atol=rtol)


def _plain_embedding_step(self, X, grad_inputs):
    """The lazy Adam step of the embedding on all rows at once."""
    if sp.issparse(X):
        X = X.tocsr()
        rows, columns = np.unique(X.indices, return_inverse=True)
        compact = sp.csr_matrix(
            (X.data, columns.ravel(), X.indptr), shape=(X.shape[0], rows.size)
        )
        grad = np.asarray(compact.T @ grad_inputs)
    else:
        rows = np.arange(X.shape[1])
        grad = np.asarray(X.T @ grad_inputs)
    b1, b2 = self.beta_1, self.beta_2
    rate = self.embedding_learning_rate
    rate = self.learning_rate_init if rate is None else rate
    lr = float(rate * np.sqrt(1 - b2**self.t_) / (1 - b1**self.t_))
    m = self._embedding_m[rows]
    v = self._embedding_v[rows]
    m *= b1
    m += (1 - b1) * grad
    v *= b2
    v += (1 - b2) * grad * grad
    self._embedding_m[rows] = m
    self._embedding_v[rows] = v
    self.embedding_[rows] -= (lr * m / (np.sqrt(v) + self.epsilon)).astype(
        self._dtype, copy=False
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("sparse", [True, False])
@pytest.mark.parametrize("chunk_rows", [3, 256])
def test_embedding_step_equals_the_update_of_all_rows_at_once(
    monkeypatch, dtype, sparse, chunk_rows
):
    rng = np.random.default_rng(0)
    X = sp.random(60, 40, density=0.15, random_state=0, format="csr")
    X = X.multiply(1 / np.maximum(X.sum(axis=1), 1e-12)).tocsr()
    Y = (rng.random((60, 3)) < 0.4).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = FocalMLPClassifier(
            (8,), max_iter=2, random_state=0, dtype=dtype,
            embedding_init=rng.normal(size=(40, 5)), embedding_learning_rate=0.05,
        ).fit(X, Y)
    fast, plain = copy.deepcopy(clf), copy.deepcopy(clf)
    monkeypatch.setattr(_focal_mlp, "_EMBEDDING_CHUNK_ROWS", chunk_rows)
    # Dense rows without zeros: every embedding row is updated in either case.
    batch = X[:25] if sparse else rng.random((25, 40)) + 0.1
    batch = batch.astype(dtype)

    for _ in range(4):
        fast.t_ += 1
        plain.t_ += 1
        grad_inputs = rng.normal(size=(25, 5)).astype(dtype)
        fast._embedding_step(batch, grad_inputs.copy())
        _plain_embedding_step(plain, batch, grad_inputs.copy())

    assert_array_equal(fast.embedding_, plain.embedding_)
    assert_array_equal(fast._embedding_m, plain._embedding_m)
    assert_array_equal(fast._embedding_v, plain._embedding_v)
    assert not np.array_equal(fast.embedding_, clf.embedding_)
