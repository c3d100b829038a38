import pickle
import re
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

from skanime._text import (
    SynopsisCleaner,
    normalize_whitespace,
    strip_credits,
    strip_html,
)

BEBOP = (
    "In the year 2071, humanity has colonized several of the planets and moons "
    "of the solar system.\n \nMellow and carefree Spike Spiegel is balanced by "
    "his partner Jet Black.\n\n[Written by MAL Rewrite]"
)


# --------------------------------------------------------------------------
# strip_credits / strip_html / normalize_whitespace


@pytest.mark.parametrize(
    "credit",
    [
        "[Written by MAL Rewrite]",
        "[Written By MAL Rewrite]",
        "(Source: ANN)",
        "(Source: ANN, edited)",
        "(Source : AniDB)",
        "(Source ANN)",
        "(source :jfkl.org)",
        "(Sources: ANN, AniDB)",
        "(Sourced: Crunchyroll)",
        "[Source: Enoki Films USA]",
        "(Source: translated and adapted from official site by Cranston)",
        "[Written by Katekyo Hitman Reborn! FC]",
    ],
)
def test_strip_credits_removes_real_credit_forms(credit):
    assert strip_credits(f"Two rivals meet.\n\n{credit}") == "Two rivals meet."
    assert strip_credits(f"Two rivals meet. {credit}") == "Two rivals meet."


def test_strip_credits_removes_source_lines_and_keeps_the_rest():
    text = "First paragraph.\n\nSource: ANN, Moon Phase\n\nSecond paragraph."
    assert strip_credits(text) == "First paragraph.\n\n\n\nSecond paragraph."


@pytest.mark.parametrize(
    "text",
    [
        "He found (the source of his power) at last.",
        "The Oraga Stone is the source of energy of the cyborgs.",
        "(Source of all evil) is what they call him, and he laughs.",
        "A story written by Ninomiya Tomoko, this is an extra episode.",
    ],
)
def test_strip_credits_keeps_narrative(text):
    assert strip_credits(text) == text


def test_strip_html_tags_entities_and_bracketed_titles():
    text = "S &amp; M<br/>in <i>Tokyo</i><!-- note --> &lt;3 <Infinite Dendrogram>"
    assert strip_html(text) == "S & M in  Tokyo   <3 <Infinite Dendrogram>"
    assert strip_html('<a href="x">link</a><P CLASS=a>para</P>') == " link  para "


def test_normalize_whitespace():
    assert normalize_whitespace("\t a \n\n b\u3000c ") == "a b c"


# --------------------------------------------------------------------------
# SynopsisCleaner: behaviour


def test_cleaner_default_recipe():
    out = SynopsisCleaner().fit_transform([BEBOP])
    assert out.dtype == object and out.shape == (1,)
    assert out[0] == (
        "year humanity colonized planets moons solar mellow carefree spike "
        "spiegel balanced partner jet black"
    )


def test_cleaner_keeps_credit_words_when_asked():
    out = SynopsisCleaner(remove_credits=False).transform([BEBOP])[0]
    assert out.endswith("jet black written mal rewrite")


def test_cleaner_strip_html_switch():
    doc = ["A <b>bold</b> move &amp; more"]
    assert SynopsisCleaner(stop_words=None).transform(doc)[0] == "a bold move more"
    kept = SynopsisCleaner(stop_words=None, strip_html=False).transform(doc)[0]
    assert kept == "a b bold b move amp more"


def test_cleaner_lowercase_and_alphabetic_switches():
    doc = ["Spike's $60,000 bounty!"]
    raw = SynopsisCleaner(lowercase=False, alphabetic_only=False, stop_words=None)
    assert raw.transform(doc)[0] == "Spike's $60,000 bounty!"
    assert SynopsisCleaner(stop_words=None).transform(doc)[0] == "spike s bounty"


@pytest.mark.parametrize(
    "stop_words, expected",
    [
        ("english", "pirate sails sea"),
        (None, "the pirate sails the sea"),
        (["pirate", "sea"], "the sails the"),
        (("the",), "pirate sails sea"),
        ({"sails"}, "the pirate the sea"),
    ],
)
def test_cleaner_stop_words(stop_words, expected):
    out = SynopsisCleaner(stop_words=stop_words).transform(
        ["The pirate sails the sea."]
    )
    assert out[0] == expected


def test_cleaner_english_stop_words_are_sklearns():
    doc = " ".join(sorted(ENGLISH_STOP_WORDS))
    assert SynopsisCleaner().transform([doc])[0] == ""


@pytest.mark.parametrize(
    "vocabulary",
    [
        ["spike", "jet", "moons"],
        ("spike", "jet", "moons"),
        {"spike", "jet", "moons"},
        frozenset({"spike", "jet", "moons"}),
        {"spike": 0, "jet": 1, "moons": 2},
        np.array(["spike", "jet", "moons"]),
    ],
)
def test_cleaner_vocabulary_forms(vocabulary):
    out = SynopsisCleaner(vocabulary=vocabulary).transform([BEBOP])
    assert out[0] == "moons spike jet"


def test_cleaner_vocabulary_keyed_vectors():
    from gensim.models import KeyedVectors

    kv = KeyedVectors(vector_size=2)
    kv.add_vectors(["spike", "moons"], np.zeros((2, 2), dtype=np.float32))
    assert SynopsisCleaner(vocabulary=kv).transform([BEBOP])[0] == "moons spike"


def test_cleaner_never_drops_rows():
    docs = ["", "   ", "!!! 123 ???", "the and of", "Mecha"]
    out = SynopsisCleaner().transform(docs)
    assert out.tolist() == ["", "", "", "", "mecha"]


@pytest.mark.parametrize(
    "container",
    [list, tuple, np.array, pd.Series, lambda d: (x for x in d)],
    ids=["list", "tuple", "ndarray", "series", "generator"],
)
def test_cleaner_accepts_1d_containers(container):
    docs = ["Space cowboys!", "A samurai's quest."]
    out = SynopsisCleaner().transform(container(docs))
    assert out.tolist() == ["space cowboys", "samurai s quest"]


def test_cleaner_unicode_emoji_cjk():
    doc = "Café owner 東京の少年 meets a ghost 👻🚀 in Ōsaka — again…"
    out = SynopsisCleaner().transform([doc])[0]
    assert out == "café owner 東京の少年 meets ghost ōsaka"
    english = SynopsisCleaner(vocabulary=["owner", "meets", "ghost"])
    assert english.transform([doc])[0] == "owner meets ghost"


def test_cleaner_large_synopsis_is_fast():
    unit = "<i>Spike</i> chases a bounty across Mars (Source: ANN) &amp; 🚀 東京 "
    doc = unit * (1_000_000 // len(unit))
    assert len(doc) > 990_000
    start = time.perf_counter()
    out = SynopsisCleaner().transform([doc])[0]
    elapsed = time.perf_counter() - start
    assert out.startswith("spike chases bounty mars source ann 東京 spike")
    assert elapsed < 5.0


@pytest.mark.parametrize(
    "doc",
    [
        "(" * 1_000_000,
        "<" * 1_000_000,
        "(Source " * 150_000,
        "[Written by " * 100_000,
        "<!--" * 250_000,
        "<br " * 250_000,
        "\nSource: " * 110_000,
    ],
    ids=["parens", "angles", "source", "written", "comments", "tags", "lines"],
)
def test_cleaner_pathological_inputs_run_in_linear_time(doc):
    start = time.perf_counter()
    out = SynopsisCleaner(stop_words=None).transform([doc])
    assert out.shape == (1,)
    assert time.perf_counter() - start < 5.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=5))
def test_cleaner_output_properties(docs):
    out = SynopsisCleaner().transform(docs)
    assert len(out) == len(docs)
    for text in out:
        assert text == text.strip()
        assert "  " not in text
        assert not re.search(r"[\W\d_]", text.replace(" ", ""))
        assert text == text.lower()
        assert not set(text.split()) & ENGLISH_STOP_WORDS
    # Cleaning cleaned text changes nothing.
    assert SynopsisCleaner().transform(list(out)).tolist() == out.tolist()


# --------------------------------------------------------------------------
# SynopsisCleaner: input validation


def test_cleaner_rejects_bare_string():
    with pytest.raises(ValueError, match="got a single str. Wrap one document"):
        SynopsisCleaner().fit(BEBOP)
    with pytest.raises(ValueError, match="got a single str"):
        SynopsisCleaner().transform(BEBOP)


def test_cleaner_rejects_bytes_documents():
    with pytest.raises(TypeError, match=r"document 1 is bytes .*Decode bytes"):
        SynopsisCleaner().transform(["ok", b"raw bytes"])


@pytest.mark.parametrize("missing", [None, float("nan"), np.nan])
def test_cleaner_rejects_missing_documents(missing):
    with pytest.raises(TypeError, match=r"document 2 is .*dropna"):
        SynopsisCleaner().transform(["a", "b", missing])


def test_cleaner_error_names_series_label():
    docs = pd.Series(["a", np.nan], index=["x", "y"])
    with pytest.raises(TypeError, match=r"document 1 \(index label 'y'\) is float"):
        SynopsisCleaner().fit_transform(docs)


def test_cleaner_rejects_other_types():
    with pytest.raises(TypeError, match="document 0 is int"):
        SynopsisCleaner().transform([3])


def test_cleaner_rejects_2d_input():
    with pytest.raises(ValueError, match=r"shape \(2, 1\).*ravel"):
        SynopsisCleaner().transform(np.array([["a"], ["b"]]))
    with pytest.raises(ValueError, match=r"DataFrame.*frame\['synopsis'\]"):
        SynopsisCleaner().transform(pd.DataFrame({"synopsis": ["a"]}))


def test_cleaner_rejects_non_iterables_and_dicts():
    with pytest.raises(ValueError, match="not iterable"):
        SynopsisCleaner().transform(3)
    with pytest.raises(ValueError, match="got a dict"):
        SynopsisCleaner().transform({"a": "b"})


@pytest.mark.parametrize(
    "params, name",
    [
        ({"stop_words": "french"}, "stop_words"),
        ({"lowercase": "yes"}, "lowercase"),
        ({"vocabulary": "spike"}, "vocabulary"),
        ({"remove_credits": 1.5}, "remove_credits"),
    ],
)
def test_cleaner_parameter_validation(params, name):
    with pytest.raises(InvalidParameterError, match=name):
        SynopsisCleaner(**params).fit(["a"])
    with pytest.raises(InvalidParameterError, match=name):
        SynopsisCleaner(**params).transform(["a"])


# --------------------------------------------------------------------------
# SynopsisCleaner: scikit-learn API


def test_cleaner_get_set_params_and_clone():
    cleaner = SynopsisCleaner(stop_words=None, vocabulary=["a", "b"])
    params = cleaner.get_params()
    assert params == {
        "alphabetic_only": True,
        "lowercase": True,
        "remove_credits": True,
        "stop_words": None,
        "strip_html": True,
        "vocabulary": ["a", "b"],
    }
    copy = clone(cleaner)
    assert copy is not cleaner
    assert copy.get_params() == params
    assert copy.set_params(lowercase=False) is copy
    assert copy.lowercase is False and cleaner.lowercase is True


def test_cleaner_is_stateless_and_needs_no_fit():
    cleaner = SynopsisCleaner()
    before = dict(vars(cleaner))
    out = cleaner.transform(["Giant robots!"])
    assert out.tolist() == ["giant robots"]
    assert cleaner.fit(["x"]) is cleaner
    assert vars(cleaner) == before


def test_cleaner_pickle_round_trip():
    cleaner = SynopsisCleaner(stop_words=["spike"], vocabulary={"jet", "spike"})
    restored = pickle.loads(pickle.dumps(cleaner))
    assert restored.get_params() == cleaner.get_params()
    assert restored.transform([BEBOP]).tolist() == cleaner.transform([BEBOP]).tolist()


def test_cleaner_tags():
    tags = SynopsisCleaner().__sklearn_tags__()
    assert tags.input_tags.string is True
    assert tags.input_tags.two_d_array is False
    assert tags.requires_fit is False
    assert not hasattr(SynopsisCleaner(), "set_output")


def test_cleaner_in_pipeline_and_grid_search():
    docs = [
        "Giant robots fight in space. [Written by MAL Rewrite]",
        "Mecha pilots defend the colony ship. (Source: ANN)",
        "A robot army invades the moon base.",
        "Students fall in love at school.",
        "Two classmates confess their love on the roof.",
        "A shy girl falls for her school senpai.",
    ] * 3
    y = np.array([1, 1, 1, 0, 0, 0] * 3)
    pipe = make_pipeline(SynopsisCleaner(), TfidfVectorizer(), LogisticRegression())
    search = GridSearchCV(
        pipe,
        {"synopsiscleaner__stop_words": [None, "english"]},
        cv=3,
    )
    search.fit(docs, y)
    assert search.best_params_["synopsiscleaner__stop_words"] in (None, "english")
    assert search.predict(["robots in space", "love at school"]).tolist() == [1, 0]
    vocabulary = search.best_estimator_.named_steps["tfidfvectorizer"].vocabulary_
    assert "written" not in vocabulary and "source" not in vocabulary
