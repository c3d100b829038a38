"""The fast paths give what the plain implementations they replace give.

Each optimised routine is compared with a plain reference written here: the
transformer with a per-document loop and with scikit-learn's
``TfidfVectorizer``, the tokeniser and the cleaner's word split with their
regular expressions, the focal loss with scipy's logistic functions, Adam
and the ReLU derivative with their textbook forms, and a whole training run
with all the plain routines swapped in. No test here measures time.
"""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _reference import (
    adam_update_params,
    embedding_row_gradients,
    focal_loss_and_gradient,
    per_document_loop,
    relu_derivative,
    rowwise_adam_update_rows,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from skanime import (
    FocalMLPClassifier,
    SynopsisCleaner,
    TfidfWeightedW2VTransformer,
    _layers,
    _losses,
    _network,
    _optimizers,
    _text,
    _tfidf,
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

    expected = per_document_loop(transformer, DOCS[::-1] + ["", "robot"])
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
    plain = TfidfVectorizer.transform(transformer._vectorizer, documents)

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
    monkeypatch.setattr(_tfidf, "_CHUNK_DOCUMENTS", 3)

    chunked = transformer._tfidf_weights(documents)

    assert (whole != chunked).nnz == 0
    assert_array_equal(whole.indices, chunked.indices)


def test_no_documents_give_an_empty_matrix():
    transformer = TfidfWeightedW2VTransformer(vectors=_vectors(_all_words(DOCS)))
    transformer.fit(DOCS)

    assert transformer._tfidf_weights([]).shape == (0, len(transformer.vocabulary_))
    with pytest.raises(ValueError, match="got no documents"):
        transformer.transform([])  # refused before the fast path


def test_default_token_pattern_is_the_constant():
    default = TfidfWeightedW2VTransformer().token_pattern
    assert default == _text.TOKEN_PATTERN == DEFAULT_PATTERN


_TEXT = st.text(
    alphabet=st.sampled_from(
        list("abcXYZ019_ \t\n\x0b\x0c\x1c\x1f\x7f.,'-:;!?()[]<>&")
        + ["é", "ß", "ō", "²", "٣", "日", "\xa0", "\u2028", "—"]
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT)
def test_word_run_candidates_hold_exactly_the_tokens(text):
    # The candidates may hold extra words, but none the pattern would give
    # (so no vocabulary word); non-ASCII candidates are tokenised again.
    pattern = re.compile(DEFAULT_PATTERN)
    tokens = []
    for candidate in _tfidf._word_run_candidates([text]):
        candidate = candidate.decode("utf-8", "surrogatepass")
        if not candidate.isascii():
            tokens.extend(pattern.findall(candidate))
        elif pattern.fullmatch(candidate):
            tokens.append(candidate)

    assert tokens == pattern.findall(text)


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

    plain_loss, plain_grad = focal_loss_and_gradient(y, z, gamma, focal_alpha)
    assert grad.dtype == dtype
    assert loss == pytest.approx(plain_loss, rel=rtol)
    assert_allclose(grad, plain_grad, rtol=rtol, atol=rtol * np.abs(plain_grad).max())


def test_focal_loss_of_infinite_logits_matches_the_formula():
    z = np.array([[np.inf, -np.inf, 1e4, -1e4]])
    y = np.array([[1, 0, 0, 1]])
    for gamma in (0.0, 2.0):
        loss, grad = _losses.focal_loss_and_gradient(y, z, gamma=gamma)
        plain_loss, plain_grad = focal_loss_and_gradient(y, z, gamma)
        assert loss == pytest.approx(plain_loss)
        assert_allclose(grad, plain_grad)


# ------------------------------------------------------------ network
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-13), (np.float32, 1e-5)])
def test_adam_step_equals_the_plain_update(dtype, rtol):
    rng = np.random.default_rng(0)
    shapes = [(5, 4), (4, 3), (4,), (3,)]
    start = [rng.normal(size=s).astype(dtype) for s in shapes]
    fast_params = [p.copy() for p in start]
    plain_params = [p.copy() for p in start]
    fast = _optimizers.AdamOptimizer(fast_params, learning_rate_init=0.01)
    plain = _optimizers.AdamOptimizer(plain_params, learning_rate_init=0.01)

    for _ in range(25):
        grads = [
            rng.normal(size=s).astype(dtype) * 10 ** rng.uniform(-6, 2) for s in shapes
        ]
        fast.update_params(fast_params, [g.copy() for g in grads])
        adam_update_params(plain, plain_params, grads)

    assert fast.t == plain.t == 25
    for a, b in zip(
        fast_params + fast.ms + fast.vs,
        plain_params + plain.ms + plain.vs,
        strict=True,
    ):
        assert a.dtype == dtype
        assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-6)


def test_relu_derivative_equals_mask_assignment():
    rng = np.random.default_rng(0)
    a = np.maximum(rng.normal(size=(30, 20)), 0)
    delta = rng.normal(size=(30, 20))
    expected = delta.copy()
    relu_derivative(a, expected)

    _layers.DERIVATIVES["relu"](a, delta)

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
            _network,
            "focal_loss_and_gradient",
            lambda y, z, gamma, focal_alpha: focal_loss_and_gradient(
                y, z, gamma, focal_alpha
            ),
        )
        patch.setitem(_layers.DERIVATIVES, "relu", relu_derivative)
        patch.setattr(_optimizers.AdamOptimizer, "update_params", adam_update_params)
        plain = fit()

    assert fast.n_iter_ == plain.n_iter_ == 8
    assert_allclose(fast.loss_curve_, plain.loss_curve_, rtol=rtol)
    for a, b in zip(
        fast.coefs_ + fast.intercepts_, plain.coefs_ + plain.intercepts_, strict=True
    ):
        assert_allclose(a, b, rtol=rtol, atol=rtol)
    assert_allclose(fast.predict_proba(X), plain.predict_proba(X), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("sparse", [True, False])
def test_embedding_row_gradients_equal_the_full_product(sparse):
    rng = np.random.default_rng(0)
    X = sp.random(25, 40, density=0.1, random_state=0, format="csr")
    if not sparse:
        X = X.toarray()
    grad_inputs = rng.normal(size=(25, 5))

    rows, grad = _layers.embedding_row_gradients(X, grad_inputs)

    plain_rows, plain_grad = embedding_row_gradients(X, grad_inputs)
    assert 0 < rows.size < 40
    assert_array_equal(rows, plain_rows)
    assert_allclose(grad, plain_grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("chunk_rows", [3, 256])
def test_rowwise_adam_equals_the_update_of_all_rows_at_once(dtype, chunk_rows):
    rng = np.random.default_rng(0)
    start = rng.normal(size=(40, 5)).astype(dtype)
    fast_param, plain_param = start.copy(), start.copy()
    fast = _optimizers.RowwiseAdamOptimizer(
        fast_param, learning_rate_init=0.05, chunk_rows=chunk_rows
    )
    plain = _optimizers.RowwiseAdamOptimizer(plain_param, learning_rate_init=0.05)

    for _ in range(4):
        rows = np.sort(rng.choice(40, size=17, replace=False))
        grad = rng.normal(size=(17, 5)).astype(dtype)
        fast.update_rows(fast_param, rows, grad.copy())
        rowwise_adam_update_rows(plain, plain_param, rows, grad.copy())

    assert fast.t == plain.t == 4
    # The moments exactly; the step up to the order of its last two roundings.
    assert_array_equal(fast.ms, plain.ms)
    assert_array_equal(fast.vs, plain.vs)
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    assert_allclose(fast_param, plain_param, rtol=rtol, atol=rtol)
    assert not np.array_equal(fast_param, start)
