"""FastTfidfVectorizer gives exactly what scikit-learn's TfidfVectorizer gives."""

import itertools
import pickle

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
import skops.io as sio
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.estimator_checks import check_param_validation

from skanime import FastTfidfVectorizer, _tfidf
from skanime._persistence import trusted_types
from skanime._text import TOKEN_PATTERN
from skanime.datasets import load_anime

# Text that trips tokenisers: accents, other scripts, digits, underscores,
# single letters between words, apostrophes, dashes without spaces, control
# characters, non-ASCII spaces and digits, case that changes length.
HOSTILE = [
    "",
    "the and of a an it is",
    "A robot; a girl. The robot's pilot—a girl—fights in space!",
    "Pokémon trainers: école, naïve café, ÉCOLE, Pokémon—trainers",
    "x y z robot x girl 7 robot 2071 girl_robot robot_7 _ __ 7robot robot7",
    "日本の アニメ robot 日本 girl 日本の アニメ",
    "robot\x00girl \x00 robot",
    "tab\trobot\ngirl\r\x0brobot\x0cgirl\x1crobot\x1f robot\xa0girl\u2028robot",
    "it's don't can't o'neil rock'n'roll robot's girl's",
    "ab² x³ Ⅻ roman ½ half ٣ arabic digit robot٣ girl",
    "UPPER Case MiXeD robot ROBOT Robot GIRL girl",
    "ǅungla straße STRASSE İstanbul ΣΑΣ σας",
    "robot girl a robot girl the robot girl robot x girl",
    "\ud800 lone surrogate robot girl",
    "robot " * 500 + "girl " * 300 + "space robot " * 200 + "a " * 100,
]
STORY = [
    "a giant robot fights in space and the pilot is a girl",
    "the girl falls in love at school with a robot pilot",
    "robot pilots defend the space colony from the giant robot",
    "in 2071 the bounty hunters of space hunt a giant robot",
    "school girl robot pilot love story in the space colony",
    "the pokémon trainers go to école and meet a robot girl",
]
TRAIN = HOSTILE + STORY * 2 + HOSTILE[2:10]
TEST = HOSTILE + STORY + ["robot", "girl robot", "unknown words only", "7 7 7"]

WEIGHTING = ["binary", "sublinear_tf", "use_idf", "smooth_idf", "norm"]
NGRAM_RANGES = [(1, 1), (1, 2), (2, 2), (1, 3), (2, 3)]
STOP_WORDS = [None, "english", ["robot", "the", "x", "é", "日本の", "a"]]
TOKEN_PATTERNS = [
    r"(?u)\b\w\w+\b",  # scikit-learn's default
    TOKEN_PATTERN,  # skanime's default
    r"(?u)\b\w+\b",
    r"[a-zA-Z]{3,}",
]


def assert_same_matrix(X, expected):
    assert type(X) is type(expected)
    assert X.shape == expected.shape
    assert X.dtype == expected.dtype
    assert X.indices.dtype == expected.indices.dtype
    assert X.indptr.dtype == expected.indptr.dtype
    assert X.has_sorted_indices
    assert_array_equal(X.indptr, expected.indptr)
    assert_array_equal(X.indices, expected.indices)
    # Same structure, so the stored values are the whole comparison; the
    # dense form is checked too where it is small.
    assert_allclose(X.data, expected.data, rtol=1e-12, atol=1e-12)
    if X.shape[0] * X.shape[1] <= 10**6:
        assert_allclose(X.toarray(), expected.toarray(), rtol=1e-12, atol=1e-12)


def fit_both(documents=TRAIN, **params):
    fast = FastTfidfVectorizer(**params).fit(documents)
    plain = TfidfVectorizer(**params).fit(documents)
    assert fast.vocabulary_ == plain.vocabulary_
    return fast, plain


@pytest.mark.parametrize("lowercase", [True, False])
@pytest.mark.parametrize("token_pattern", TOKEN_PATTERNS)
@pytest.mark.parametrize("stop_words", STOP_WORDS, ids=["none", "english", "list"])
@pytest.mark.parametrize("ngram_range", NGRAM_RANGES, ids=str)
def test_equals_tfidf_vectorizer_on_hostile_text(
    ngram_range, stop_words, token_pattern, lowercase
):
    fast, plain = fit_both(
        ngram_range=ngram_range,
        stop_words=stop_words,
        token_pattern=token_pattern,
        lowercase=lowercase,
    )
    assert_same_matrix(fast.transform(TEST), plain.transform(TEST))


@pytest.mark.parametrize(
    "weighting",
    [
        dict(zip(WEIGHTING, values, strict=True))
        for values in itertools.product(
            [False, True],
            [False, True],
            [False, True],
            [False, True],
            ["l2", "l1", None],
        )
    ],
    ids=lambda w: "-".join(f"{k}={v}" for k, v in w.items()),
)
@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2)], ids=str)
def test_equals_tfidf_vectorizer_for_every_weighting(ngram_range, weighting):
    fast, plain = fit_both(ngram_range=ngram_range, stop_words="english", **weighting)
    assert_same_matrix(fast.transform(TEST), plain.transform(TEST))


@pytest.mark.parametrize(
    "pruning",
    [
        dict(min_df=2),
        dict(min_df=3, max_df=0.5),
        dict(max_df=2),
        dict(max_features=12),
        dict(min_df=2, max_features=25),
        dict(min_df=0.1, max_df=0.9, max_features=40),
    ],
    ids=str,
)
@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (2, 3)], ids=str)
def test_equals_tfidf_vectorizer_when_terms_are_pruned(ngram_range, pruning):
    # Pruning keeps word pairs whose words are not terms themselves.
    fast, plain = fit_both(ngram_range=ngram_range, stop_words="english", **pruning)
    assert_same_matrix(fast.transform(TEST), plain.transform(TEST))


@pytest.mark.parametrize(
    "params",
    [
        dict(dtype=np.float32),
        dict(dtype=np.float32, ngram_range=(1, 2), sublinear_tf=True),
        dict(strip_accents="unicode", ngram_range=(1, 2)),
        dict(strip_accents="ascii", lowercase=False, ngram_range=(1, 2)),
        dict(strip_accents=lambda text: text.replace("é", "e"), ngram_range=(1, 2)),
        dict(stop_words=["robot", "girl", "robot"], ngram_range=(1, 2)),
    ],
    ids=str,
)
def test_equals_tfidf_vectorizer_for_other_settings(params):
    fast, plain = fit_both(**params)
    assert_same_matrix(fast.transform(TEST), plain.transform(TEST))


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2), (1, 3)], ids=str)
@pytest.mark.parametrize("token_pattern", TOKEN_PATTERNS[:3])
def test_equals_tfidf_vectorizer_with_a_given_vocabulary(ngram_range, token_pattern):
    # Terms the analyser can never give: non-tokens, stop words, pairs across
    # a dash or with a stop word, double spaces, too many words.
    vocabulary = [
        "robot",
        "girl",
        "robot girl",
        "girl robot",
        "the robot",
        "x",
        "x robot",
        "7",
        "robot 7",
        "pokémon trainers",
        "pokémon",
        "trainers",
        "école",
        "日本",
        "日本の",
        "pilot—a",
        "girl—fights",
        "robot's",
        "robot  girl",
        "robot girl robot",
        "a robot girl",
        "girl_robot",
        "robot7",
        "ab²",
        "",
        " ",
        "robot ",
        "space robot",
        "robot x",
    ]
    fast, plain = fit_both(
        vocabulary=vocabulary,
        ngram_range=ngram_range,
        token_pattern=token_pattern,
        stop_words=["the", "a"],
    )
    assert_same_matrix(fast.transform(TEST), plain.transform(TEST))


@pytest.mark.parametrize("ngram_range", [(1, 1), (1, 2)], ids=str)
def test_tokens_holding_a_space_are_counted_as_scikit_learn_does(ngram_range):
    # With such tokens a term "a b c" may be the pair ("a b", "c"): the
    # counting falls back to scikit-learn's loop.
    fast, plain = fit_both(token_pattern=r"robot \w+|\w\w+", ngram_range=ngram_range)
    assert any(" " in term for term in fast.vocabulary_)
    assert_same_matrix(fast.transform(TEST), plain.transform(TEST))


def test_chunks_do_not_change_the_counts(monkeypatch):
    fast, plain = fit_both(ngram_range=(1, 3), stop_words="english", min_df=2)
    whole = fast.transform(TEST)
    monkeypatch.setattr(_tfidf, "_CHUNK_DOCUMENTS", 3)
    fast = clone(fast).fit(TRAIN)

    chunked = fast.transform(TEST)

    assert_same_matrix(chunked, whole)
    assert_same_matrix(chunked, plain.transform(TEST))


def test_documents_of_other_types_and_shapes():
    fast, plain = fit_both(ngram_range=(1, 2))
    for documents in [
        np.array(STORY),
        tuple(STORY),
        [doc.encode("utf-8") for doc in STORY],
        [""],
    ]:
        assert_same_matrix(fast.transform(documents), plain.transform(documents))
    X = fast.transform(doc for doc in STORY)  # read once, like scikit-learn
    assert_same_matrix(X, plain.transform(STORY))


def test_refuses_what_scikit_learn_refuses():
    fast, _ = fit_both()
    with pytest.raises(ValueError, match="string object received"):
        fast.transform("a robot")
    with pytest.raises(ValueError, match="np.nan is an invalid document"):
        fast.transform(["robot", np.nan])
    with pytest.raises(ValueError, match="0 sample"):
        fast.transform([])
    with pytest.raises(NotFittedError):
        FastTfidfVectorizer().transform(["robot"])


@pytest.mark.parametrize(
    "params",
    [
        dict(analyzer=lambda text: text.split()),
        dict(tokenizer=str.split, token_pattern=None),
        dict(preprocessor=str.upper, lowercase=False),
        dict(analyzer="char", ngram_range=(2, 3)),
        dict(analyzer="char_wb", ngram_range=(1, 2)),
    ],
    ids=["analyzer", "tokenizer", "preprocessor", "char", "char_wb"],
)
def test_other_analysers_fall_back_to_scikit_learn(params, monkeypatch):
    fast, plain = fit_both(**params)

    def refuse(*args, **kwargs):
        raise AssertionError("the numpy counting ran")

    monkeypatch.setattr(_tfidf, "_TermCounter", refuse)
    assert_same_matrix(fast.transform(TEST), plain.transform(TEST))


def test_settings_changed_after_fit_are_used(monkeypatch):
    fast, plain = fit_both(ngram_range=(1, 2))
    fast.transform(TEST)  # builds the cached counter
    for params in [dict(stop_words="english"), dict(lowercase=False)]:
        fast.set_params(**params)
        plain.set_params(**params)
        assert_same_matrix(fast.transform(TEST), plain.transform(TEST))


def test_refit_forgets_the_old_vocabulary():
    fast = FastTfidfVectorizer(ngram_range=(1, 2)).fit(STORY)
    fast.transform(STORY)
    fast.fit(HOSTILE)
    plain = TfidfVectorizer(ngram_range=(1, 2)).fit(HOSTILE)
    assert_same_matrix(fast.transform(TEST), plain.transform(TEST))


@pytest.mark.skipif(
    "sparse_interface" not in sklearn.get_config(),
    reason="this scikit-learn has no sparse_interface setting",
)
def test_follows_the_sparse_interface_setting():
    fast, plain = fit_both(ngram_range=(1, 2))
    with sklearn.config_context(sparse_interface="sparray"):
        X, expected = fast.transform(TEST), plain.transform(TEST)
    assert isinstance(X, sp.sparray)
    assert_same_matrix(X, expected)


_WORDS = st.sampled_from(
    ["robot", "girl", "the", "a", "x", "7", "é", "école", "日本", "_", "robot_7"]
)
_GLUE = st.sampled_from([" ", "  ", ", ", "—", "'", "\n", "-", "\xa0", "²", ""])


@settings(max_examples=150, deadline=None)
@given(
    documents=st.lists(
        st.lists(st.tuples(_WORDS, _GLUE), max_size=12).map(
            lambda pairs: "".join(word + glue for word, glue in pairs)
        ),
        min_size=1,
        max_size=6,
    ),
    ngram_range=st.sampled_from([(1, 1), (1, 2), (2, 2), (1, 3)]),
    token_pattern=st.sampled_from(TOKEN_PATTERNS[:3]),
    stop_words=st.sampled_from([None, "english"]),
)
def test_equals_tfidf_vectorizer_on_random_text(
    documents, ngram_range, token_pattern, stop_words
):
    params = dict(
        ngram_range=ngram_range, token_pattern=token_pattern, stop_words=stop_words
    )
    plain = TfidfVectorizer(**params)
    try:
        plain.fit(documents)
    except ValueError:  # nothing but stop words
        assume(False)
    fast = FastTfidfVectorizer(**params).fit(documents)
    assert_same_matrix(fast.transform(documents), plain.transform(documents))


def test_has_the_parameters_of_tfidf_vectorizer():
    assert FastTfidfVectorizer().get_params() == TfidfVectorizer().get_params()
    check_param_validation("FastTfidfVectorizer", FastTfidfVectorizer())


def test_pickles_without_its_cache():
    fast, plain = fit_both(ngram_range=(1, 2), stop_words="english")
    expected = fast.transform(TEST)
    assert "_term_counter_cache" in vars(fast)

    loaded = pickle.loads(pickle.dumps(fast))

    assert "_term_counter_cache" not in vars(loaded)
    assert_same_matrix(loaded.transform(TEST), expected)
    assert_same_matrix(loaded.transform(TEST), plain.transform(TEST))


def test_skops_file_holds_only_trusted_types():
    fast, _ = fit_both(ngram_range=(1, 2), stop_words="english")
    expected = fast.transform(TEST)
    data = sio.dumps(fast)

    untrusted = sio.get_untrusted_types(data=data)
    assert set(untrusted) <= set(trusted_types())
    loaded = sio.loads(data, trusted=untrusted)
    assert_same_matrix(loaded.transform(TEST), expected)


@pytest.mark.real_data
@pytest.mark.parametrize(
    "params",
    [
        # The default genre model's two members.
        dict(ngram_range=(1, 2), min_df=2, sublinear_tf=True, stop_words="english"),
        dict(min_df=2, sublinear_tf=True, stop_words="english"),
        dict(ngram_range=(1, 3), max_features=30000, binary=True, norm="l1"),
        dict(ngram_range=(1, 2), token_pattern=TOKEN_PATTERN, lowercase=False),
    ],
    ids=["linear", "bayes", "trigrams-pruned", "letters-cased"],
)
def test_equals_tfidf_vectorizer_on_mal_synopses(mal_jsonl_path, params):
    synopses = list(load_anime(mal_jsonl_path).data)
    train, test = synopses[::2], synopses
    fast, plain = fit_both(train, **params)
    assert_same_matrix(fast.transform(test), plain.transform(test))


@pytest.mark.parametrize("n_keys", [1, 3, 4, 37, 1000])
def test_the_term_table_finds_every_key_and_only_its_keys(n_keys):
    # Dense keys in small tables give long probe runs that wrap around the
    # table's end, longer than one probing window.
    rng = np.random.RandomState(n_keys)
    for _ in range(20):
        keys = rng.choice(4 * n_keys + 8, size=n_keys, replace=False).astype(np.int64)
        values = rng.permutation(n_keys).astype(np.intp)
        table = _tfidf._IntegerTable(keys, values)
        queries = np.arange(4 * n_keys + 16, dtype=np.int64)
        expected = dict(zip(keys.tolist(), values.tolist(), strict=True))
        found = table.get(rng.permutation(queries))
        np.testing.assert_array_equal(np.sort(found[found >= 0]), np.sort(values))
        np.testing.assert_array_equal(
            table.get(queries), [expected.get(q, -1) for q in queries.tolist()]
        )


def test_counts_are_those_of_scipys_coo_conversion():
    rng = np.random.RandomState(0)
    rows = rng.randint(0, 30, size=2000)
    columns = rng.randint(0, 50, size=2000)
    counts = _tfidf._count_matrix(rows, columns, (31, 50), np.float32)
    expected = sp.csr_matrix(
        (np.ones(rows.size, dtype=np.float32), (rows, columns)), shape=(31, 50)
    )
    expected.sum_duplicates()
    assert counts.dtype == np.float32 and counts.has_sorted_indices
    np.testing.assert_array_equal(counts.indptr, expected.indptr)
    np.testing.assert_array_equal(counts.indices, expected.indices)
    np.testing.assert_array_equal(counts.data, expected.data)
