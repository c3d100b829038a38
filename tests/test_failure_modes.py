"""Bad input, numerical faults and interrupted writes.

Each test is a row of the failure-mode table in ``docs/reliability.rst``;
rows already covered next to their module are linked from that table and
not repeated here.
"""

import copy
import csv
import errno
import io
import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

import skanime._io
from skanime import (
    ConstantLabelWarning,
    FocalMLPClassifier,
    GenreClassifier,
    SynopsisCleaner,
    TfidfWeightedW2VTransformer,
    make_genre_pipeline,
)
from skanime.cli import main
from skanime.datasets import (
    AnimeRecord,
    DataFormatError,
    ParseError,
    build_dataset,
    load_anime,
    parse_mal_page,
)

SPACE = ["robot", "pilot", "colony", "space", "ship", "laser", "mecha", "galaxy"]
LOVE = ["girl", "boy", "love", "school", "festival", "letter", "confess", "class"]
FILLER = ["the", "a", "story", "day", "world"]
GENRE_NAMES = ["Sci-Fi", "Romance", "Harem"]
TINY_CLI = [
    "--param",
    "stack__network__embed__vector_size=8",
    "--param",
    "stack__network__embed__epochs=2",
    "--param",
    "stack__network__clf__hidden_layer_sizes=[8]",
    "--param",
    "stack__network__clf__max_iter=3",
    "--param",
    "stack__network__clf__early_stopping=false",
]


def _corpus(n_docs=80, seed=0):
    rng = np.random.default_rng(seed)
    docs, Y = [], []
    for _ in range(n_docs):
        space, love = rng.random() < 0.5, rng.random() < 0.5
        words = list(rng.choice(SPACE, 6)) * space + list(rng.choice(LOVE, 6)) * love
        words += list(rng.choice(FILLER, 4))
        rng.shuffle(words)
        docs.append(" ".join(words))
        Y.append([int(space), int(love), int(space and love)])
    return docs, np.array(Y)


def _small_pipeline(**params):
    return make_genre_pipeline(
        stack__network__embed__vector_size=8,
        stack__network__embed__epochs=3,
        stack__network__embed__min_count=1,
        stack__network__clf__hidden_layer_sizes=(8,),
        stack__network__clf__max_iter=10,
        stack__network__clf__early_stopping=False,
        random_state=0,
        **params,
    )


def _single_network_pipeline():
    """clean -> embed -> scale -> clf: one network, its internals reachable."""
    return Pipeline(
        [
            ("clean", SynopsisCleaner(stop_words=None)),
            (
                "embed",
                TfidfWeightedW2VTransformer(
                    vector_size=8,
                    epochs=3,
                    min_count=1,
                    stop_words="english",
                    sublinear_tf=True,
                    random_state=0,
                ),
            ),
            ("scale", StandardScaler()),
            (
                "clf",
                FocalMLPClassifier(
                    hidden_layer_sizes=(8,),
                    max_iter=10,
                    threshold=0.3,
                    min_labels=1,
                    random_state=0,
                ),
            ),
        ]
    )


def _fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.fixture(scope="module")
def fitted():
    docs, Y = _corpus()
    return _fit_quietly(_small_pipeline(), docs, Y)


@pytest.fixture(scope="module")
def fitted_single():
    docs, Y = _corpus()
    return _fit_quietly(_single_network_pipeline(), docs, Y)


# ------------------------------------------------------------ synopses
@pytest.mark.parametrize(
    "bad, type_name",
    [(None, "NoneType"), (np.nan, "float"), (3.5, "float"), (b"robot", "bytes")],
    ids=["None", "NaN", "float", "bytes"],
)
def test_non_string_synopsis_is_rejected_with_its_position(fitted, bad, type_name):
    docs = ["robot in space", "love at school", bad]

    with pytest.raises(TypeError, match=f"document 2 is {type_name}"):
        fitted.predict(docs)
    with pytest.raises(TypeError, match=f"(document|position) 2 is {type_name}"):
        GenreClassifier(pipeline=_small_pipeline()).fit(docs, [["A"], ["B"], ["A"]])
    series = pd.Series(docs, index=[10, 11, 12])
    with pytest.raises(TypeError, match=r"document 2 \(index label 12\)"):
        fitted.predict_proba(series)


def test_synopses_without_known_words_fall_back_to_the_min_labels_ranking(
    fitted_single,
):
    empty = ["", "   \n\t ", "zzzq xyzzy", "東京 👻🚀 ¡¿ 1984", "<br/><i></i>"]
    model = copy.deepcopy(fitted_single).set_params(
        clf__threshold=1.0, clf__min_labels=2
    )
    zero = model["clf"].predict_proba(
        model["scale"].transform(np.zeros((1, 8), dtype=np.float32))
    )[0]

    with pytest.warns(UserWarning, match="5 of 6 documents have no word with a vector"):
        proba = model.predict_proba([*empty, "robot pilot in space"])
    with pytest.warns(UserWarning, match="5 of 5 documents"):
        predicted = model.predict(empty)

    assert np.isfinite(proba).all()
    assert_allclose(proba[:5], np.tile(zero, (5, 1)), rtol=1e-6)
    assert not np.allclose(proba[5], zero)
    top_two = np.sort(np.argsort(-zero, kind="stable")[:2])
    assert_array_equal(predicted, np.tile(np.isin(np.arange(3), top_two), (5, 1)))


def test_one_megabyte_synopsis_with_tags_emoji_and_cjk(fitted_single, fitted):
    unit = "<p>The <b>robot</b> pilot&amp;ship 👻 東京 in space</p><br/>"
    big = unit * (1_000_000 // len(unit) + 1)
    assert len(big) > 1_000_000

    cleaned = fitted_single["clean"].transform([big, unit])
    proba = fitted_single.predict_proba([big, unit])

    assert cleaned[1] == "the robot pilot ship 東京 in space"
    assert cleaned[0] == " ".join([cleaned[1]] * (len(big) // len(unit)))
    # Every word of the unit occurs once, so the weighted mean is the same.
    assert_allclose(proba[0], proba[1], rtol=1e-5)

    # The default model's network member also cleans the megabyte into the
    # repeated unit; its linear member sees word pairs across units and the
    # second stage mixes both, so only bounds are checked.
    network_clean = fitted.named_steps["stack"].transformers_[0].named_steps["clean"]
    assert list(network_clean.transform([big, unit])) == list(cleaned)
    proba = fitted.predict_proba([big, unit])
    assert proba.shape == (2, 3) and np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()


def _profile_events(func):
    """Python-level calls and returns (of Python and C functions) in func()."""
    count = 0

    def profiler(frame, event, arg):
        nonlocal count
        count += 1

    sys.setprofile(profiler)
    try:
        func()
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize(
    "model, calls_per_repetition",
    # The default model runs its fold networks, its word-pair linear model
    # and the second stage; its two TF-IDF members tokenise each piece of
    # non-ASCII text of a repetition (the ghost, the place name) on its own.
    [("fitted_single", 20), ("fitted", 100)],
)
def test_work_per_synopsis_grows_linearly_with_its_length(
    request, model, calls_per_repetition
):
    fitted = request.getfixturevalue(model)
    unit = "<i>Robot</i> pilots &amp; 👻 東京 guard the space colony. (Source: ANN)\n"
    fitted.predict_proba([unit])  # warm caches and lazy imports
    counts = [
        _profile_events(lambda n=n: fitted.predict_proba([unit * n]))
        for n in (100, 200, 400)
    ]

    first_step, second_step = counts[1] - counts[0], counts[2] - counts[1]
    # Linear: doubling the added length doubles the added work.
    assert abs(second_step - 2 * first_step) <= 0.02 * second_step + 20
    # A few calls per repetition at most.
    assert first_step <= calls_per_repetition * 100


# ------------------------------------------------------------ targets
def test_genre_given_for_every_synopsis_warns_once_by_name():
    docs, Y = _corpus(n_docs=60, seed=1)
    genres = [
        ["Anime", *(name for name, y in zip(GENRE_NAMES, row, strict=True) if y)]
        for row in Y
    ]

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        model = GenreClassifier(pipeline=_small_pipeline()).fit(docs, genres)

    constant = [w for w in record if w.category is ConstantLabelWarning]
    assert len(constant) == 1
    assert constant[0].message.labels == ["Anime"]
    assert "Genres ['Anime'] are given for every synopsis" in str(constant[0].message)
    anime = model.predict_proba(docs)["Anime"].to_numpy()
    assert np.ptp(anime) == 0
    assert anime[0] == pytest.approx(60.5 / 61, rel=1e-5)


def test_genre_targets_with_wrong_length_or_shape_are_rejected():
    docs = ["robot in space", "love at school", "a robot in love"]

    with pytest.raises(ValueError, match="X has 3 synopses but y has 2 genre lists"):
        GenreClassifier(pipeline=_small_pipeline()).fit(docs, [["A"], ["B"]])
    with pytest.raises(TypeError, match="target at position 0 is int64"):
        GenreClassifier(pipeline=_small_pipeline()).fit(docs, np.array([1, 0, 1]))
    with pytest.raises(ValueError, match="inconsistent numbers of samples: \\[3, 2\\]"):
        _small_pipeline().fit(docs, np.eye(2, dtype=int))
    with pytest.raises(ValueError, match=r"indicator matrix of 0 and 1; y holds"):
        _small_pipeline().fit(docs, np.array([[0, 2], [2, 0], [2, 2]]))


# ------------------------------------------------------------ numerics
def test_features_too_large_for_float32_raise_instead_of_giving_nan():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(50, 4)), (rng.random((50, 2)) < 0.5).astype(int)
    clf = _fit_quietly(FocalMLPClassifier((8,), max_iter=5, random_state=0), X, Y)
    huge = np.full((3, 4), 3e38)
    huge[1:, ::2] = -3e38

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow notice
        with pytest.raises(ValueError, match=r"non-finite outputs for \d of 3 samples"):
            clf.predict_proba(huge)
        with pytest.raises(ValueError, match="too large for float32 arithmetic"):
            clf.predict(huge)
    assert np.isfinite(clf.predict_proba(X)).all()


@pytest.mark.parametrize("focal_alpha", [None, 0.0, 1.0])
@pytest.mark.parametrize("gamma", [0.0, 10.0])
def test_training_with_extreme_logits_stays_finite(gamma, focal_alpha):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 5)) * 1e4  # logits of order 1e4 from the first step
    Y = (rng.random((60, 3)) < 0.4).astype(int)
    clf = FocalMLPClassifier(
        (8,), gamma=gamma, focal_alpha=focal_alpha, max_iter=5, random_state=0
    )

    _fit_quietly(clf, X, Y)
    proba = clf.predict_proba(X)

    assert np.isfinite(clf.loss_curve_).all()
    assert all(np.isfinite(w).all() for w in clf.coefs_ + clf.intercepts_)
    assert np.isfinite(proba).all() and proba.min() >= 0 and proba.max() <= 1


# ------------------------------------------------------------ fitted state
@pytest.mark.parametrize(
    "method", ["predict", "predict_proba", "predict_indicator", "top_genres", "score"]
)
def test_genre_classifier_before_fit_raises_not_fitted(method):
    args = (["robot"], [["Sci-Fi"]]) if method == "score" else (["robot"],)

    with pytest.raises(NotFittedError, match="GenreClassifier instance is not fitted"):
        getattr(GenreClassifier(), method)(*args)


# ------------------------------------------------------------ parameters
@pytest.mark.parametrize("kind", ["str", "path", "folder"])
def test_missing_vectors_path_is_an_invalid_parameter(tmp_path, kind):
    missing = tmp_path / "no" / "such" / "vectors.txt"
    vectors = {"str": str(missing), "path": missing, "folder": tmp_path}[kind]
    state = "a folder" if kind == "folder" else "no such file"

    with pytest.raises(InvalidParameterError) as info:
        TfidfWeightedW2VTransformer(vectors=vectors).fit(["robot in space"])

    message = str(info.value)
    assert f"Got {str(vectors)!r} instead ({state})" in message
    assert "'vectors' parameter of TfidfWeightedW2VTransformer must be None" in message
    assert "KeyedVectors or a mapping" in message


@pytest.mark.parametrize(
    "params, match",
    [
        ({"threshold": [0.5, np.nan, 0.5]}, "threshold values must lie in"),
        ({"threshold": [0.5, 1.5, 0.5]}, "threshold values must lie in"),
        ({"focal_alpha": [0.5, -0.1, 0.5]}, "one value in \\[0, 1\\] per label"),
        ({"focal_alpha": [0.5, np.nan, 0.5]}, "one value in \\[0, 1\\] per label"),
    ],
)
def test_out_of_range_per_label_parameters_are_invalid(params, match):
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(20, 3)), (rng.random((20, 3)) < 0.5).astype(int)
    name = next(iter(params))

    with pytest.raises(InvalidParameterError, match=match) as info:
        FocalMLPClassifier((4,), max_iter=2, **params).fit(X, Y)
    assert f"The '{name}' parameter of FocalMLPClassifier must be" in str(info.value)


def test_transformer_names_the_bad_line_of_a_vectors_file(datapath):
    transformer = TfidfWeightedW2VTransformer(vectors=datapath("tiny_w2v_bad.txt"))

    with pytest.raises(ValueError, match=r"tiny_w2v_bad\.txt, line 4: expected a word"):
        transformer.fit(["robot in space"])


# ------------------------------------------------------------ fuzzing
PAGE_DIR = Path(__file__).parent / "data" / "pages"
PAGES = sorted(p.read_text(encoding="utf-8") for p in PAGE_DIR.glob("*.html"))
MARKUP = [
    "<html>",
    "</html>",
    '<div itemprop="name">',
    "<strong>",
    '<h1 class="title-name">',
    '<p itemprop="description">',
    '<span class="dark_text">Genres:</span>',
    '<span class="dark_text">Type:</span>',
    '<span itemprop="genre">',
    '<a href="/anime/genre/1">',
    '<link rel="canonical" href="https://myanimelist.net/anime/7/x">',
    '<meta property="og:url" content="https://myanimelist.net/manga/3/x">',
    "</div>",
    "</span>",
    "<br>",
    "<!--",
    "<![CDATA[",
    "<![DATA[",
    "&amp;",
    "\x00",
]


@st.composite
def _damaged_pages(draw):
    """A saved page with a slice cut out, markup spliced in and a tail cut off."""
    page = draw(st.sampled_from(PAGES))
    start = draw(st.integers(0, len(page)))
    stop = draw(st.integers(start, min(len(page), start + 400)))
    splice = draw(st.lists(st.sampled_from(MARKUP) | st.text(max_size=10), max_size=4))
    page = page[:start] + "".join(splice) + page[stop:]
    page = page[: draw(st.integers(0, len(page)))] if draw(st.booleans()) else page
    if draw(st.booleans()):
        return page.encode("utf-8", "surrogatepass") + draw(st.binary(max_size=8))
    return page


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(_damaged_pages(), st.text(max_size=200), st.binary(max_size=200)))
def test_parse_mal_page_fuzz_returns_a_record_or_a_parse_error(html):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4's notice about undecodable bytes
        try:
            record = parse_mal_page(html)
        except ParseError as exc:
            assert exc.reason in {
                "truncated page",
                "unparsable markup",
                "manga page",
                "no name",
                "no synopsis element",
            }
            return
    assert isinstance(record, AnimeRecord)
    assert record.name and record.name == record.name.strip()
    assert record.mal_id is None or record.mal_id >= 0
    for labels in (record.genres, record.themes, record.demographics):
        assert labels is None or all(isinstance(name, str) for name in labels)


def test_markup_the_html_parser_rejects_is_a_parse_error_and_a_reject(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    damaged = '<div itemprop="name"><strong>Cut</strong></div><![DATA[<p>'
    (pages / "1.html").write_text(damaged, encoding="utf-8")

    with pytest.raises(ParseError, match="markup cannot be parsed") as info:
        parse_mal_page(damaged)
    report = build_dataset(pages, tmp_path / "anime.csv")

    assert info.value.reason == "unparsable markup"
    assert (report.n_inputs, report.n_written) == (1, 0)
    assert report.reasons == {"unparsable markup": 1}


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["id", "name"]), inner, max_size=2)
    ),
    max_leaves=6,
)
_RECORDS = st.lists(
    st.dictionaries(
        st.sampled_from(["id", "title", "synopsis", "genres", "media_type"]),
        _JSON_VALUES,
        max_size=5,
    ),
    min_size=1,
    max_size=6,
)
_CELLS = st.text(max_size=12) | st.sampled_from(
    ['"', ",", "\n", "Action, Drama", "['A', 'B']", "[", "1", "-1", "Unknown", " "]
)
_CSV_ROWS = st.lists(st.lists(_CELLS, max_size=6), max_size=6)


def _n_jsonl_records(text):
    return sum(1 for line in text.splitlines() if line.strip())


def _n_csv_records(text):
    rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    return sum(1 for row in rows[1:] if row)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.one_of(
        _RECORDS.map(lambda rs: ("jsonl", "\n".join(json.dumps(r) for r in rs))),
        _CSV_ROWS.map(
            lambda rows: (
                "csv",
                "MAL_ID,Name,Type,Genre,Synopsis\n"
                + "\n".join(",".join(row) for row in rows),
            )
        ),
        st.text(max_size=120).map(lambda text: ("text", text)),
    ),
    st.integers(0, 10),
)
def test_load_anime_fuzz_accounts_for_every_record(tmp_path_factory, sample, cut):
    kind, text = sample
    if cut and kind == "jsonl":
        text = text[: max(len(text) - cut, 1)]  # a truncated last line
    path = tmp_path_factory.mktemp("fuzz") / "anime.data"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    try:
        bunch = load_anime(path)
    except DataFormatError as exc:
        assert str(exc).startswith(str(path))
        return

    n_read = len(bunch.frame) + len(bunch.dropped)
    if text.lstrip()[:1] == "{":
        assert n_read == _n_jsonl_records(text)
    else:
        assert n_read == _n_csv_records(text)
    assert bunch.frame["mal_id"].is_unique
    assert bunch.target.shape == (len(bunch.frame), len(bunch.target_names))
    assert bunch.target.sum(axis=1).min() >= 1


# ------------------------------------------------------------ interrupted writes
class _FailingFile:
    """A file whose writes stop with ``error`` after ``budget`` characters."""

    def __init__(self, file, error, budget):
        self._file, self._error, self._budget = file, error, budget

    def write(self, data):
        if len(data) > self._budget:
            self._file.write(data[: self._budget])
            self._file.flush()
            raise self._error
        self._budget -= len(data)
        return self._file.write(data)

    def __getattr__(self, name):
        return getattr(self._file, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return self._file.__exit__(*exc_info)


class _OsWithFailingWrites:
    """``os`` for skanime._io, whose opened files fail part-way through."""

    def __init__(self, error, budget):
        self._error, self._budget = error, budget

    def __getattr__(self, name):
        return getattr(os, name)

    def fdopen(self, fd, *args, **kwargs):
        return _FailingFile(os.fdopen(fd, *args, **kwargs), self._error, self._budget)


FAULTS = [
    pytest.param(KeyboardInterrupt(), 130, "interrupted", id="KeyboardInterrupt"),
    pytest.param(
        OSError(errno.ENOSPC, "No space left on device"),
        2,
        "No space left on device",
        id="disk-full",
    ),
]


def _temporary_files(folder):
    return sorted(p.name for p in Path(folder).iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("error, status, message", FAULTS)
def test_interrupted_build_dataset_leaves_the_old_output(
    datapath, tmp_path, monkeypatch, capsys, error, status, message
):
    out = tmp_path / "anime.csv"
    out.write_text("previous dataset\n")
    monkeypatch.setattr(skanime._io, "os", _OsWithFailingWrites(error, budget=60))

    code = main(["build-dataset", str(datapath("pages")), "-o", str(out)])

    assert code == status
    assert message in capsys.readouterr().err
    assert out.read_text() == "previous dataset\n"
    assert not (tmp_path / "anime.rejects.csv").exists()
    assert _temporary_files(tmp_path) == []


@pytest.mark.parametrize("error, status, message", FAULTS)
def test_interrupted_train_keeps_the_previous_model(
    datapath, tmp_path, monkeypatch, capsys, error, status, message
):
    model = tmp_path / "model.skops"
    model.write_bytes(b"previous model")
    monkeypatch.setattr(skanime._io, "os", _OsWithFailingWrites(error, budget=1000))
    data = str(datapath("cli", "anime_small.csv"))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = main(["train", data, "-o", str(model), "-q", *TINY_CLI])

    assert code == status
    assert message in capsys.readouterr().err
    assert model.read_bytes() == b"previous model"
    assert _temporary_files(tmp_path) == []
