"""Genre names are folded to one spelling per genre, everywhere they enter."""

import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline

from skanime import GenreClassifier
from skanime.datasets import (
    GENRES_2020,
    GENRES_2021,
    GENRES_2023,
    THEMES_2023,
    DataFormatError,
    build_dataset,
    fold_genre_names,
    load_anime,
)

KNOWN = sorted(
    set(GENRES_2020) | set(GENRES_2021) | set(GENRES_2023) | set(THEMES_2023)
)
HEADER = "MAL_ID,Name,Type,Genre,Synopsis\n"


def _small_classifier():
    return GenreClassifier(
        pipeline=make_pipeline(
            TfidfVectorizer(), OneVsRestClassifier(LogisticRegression(C=10))
        )
    )


SYNOPSES = [
    "robots fight in space",
    "pilots defend the colony in space",
    "a girl falls in love",
    "two students fall in love at school",
]


def test_the_issue_cell_gives_two_genres_and_logs_the_folding(tmp_path, caplog):
    path = tmp_path / "anime.csv"
    path.write_text(
        HEADER + '1,A,TV," Action ,sci-fi,  ACTION, Sci-Fi ",A heist in space.\n'
        '2,B,TV,"Drama",A quiet drama.\n'
    )
    with caplog.at_level(logging.INFO, logger="skanime"):
        anime = load_anime(path)
    assert anime.target_names.tolist() == ["Action", "Drama", "Sci-Fi"]
    assert anime.frame["genres"].tolist() == [["Action", "Sci-Fi"], ["Drama"]]
    folded = [r for r in caplog.records if "folded" in r.getMessage()]
    assert len(folded) == 1 and folded[0].levelno == logging.WARNING
    assert "folded 2 genre names" in folded[0].getMessage()
    assert "'sci-fi' -> 'Sci-Fi'" in folded[0].getMessage()


def test_jsonl_names_are_folded_and_unknown_ones_kept_and_reported(tmp_path, caplog):
    path = tmp_path / "anime.jsonl"
    records = [
        {"id": 1, "synopsis": "x", "genres": [{"name": "slice  of life"}]},
        {"id": 2, "synopsis": "y", "genres": ["Isekai-ish", "Slice of Life"]},
        {"id": 3, "synopsis": "z", "genres": [{"name": "ISEKAI-ISH"}]},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    with caplog.at_level(logging.INFO, logger="skanime"):
        anime = load_anime(path)
    assert anime.target_names.tolist() == ["Isekai-ish", "Slice of Life"]
    assert anime.target.sum(axis=0).tolist() == [2, 2]
    unknown = [r for r in caplog.records if "none of MAL's" in r.getMessage()]
    assert len(unknown) == 1 and "Isekai-ish" in unknown[0].getMessage()


@pytest.mark.parametrize(
    "cell", ['"Action,,Drama"', '"Action, "', '", Action"', "\"['Action', ' ']\""]
)
def test_an_empty_genre_name_in_a_csv_cell_is_refused_with_its_line(tmp_path, cell):
    path = tmp_path / "anime.csv"
    path.write_text(HEADER + "1,A,TV,Drama,ok\n" + f"2,B,TV,{cell},A story.\n")
    with pytest.raises(DataFormatError, match="empty genre name") as info:
        load_anime(path)
    assert info.value.line == 3


def test_an_empty_genre_name_in_jsonl_is_refused(tmp_path):
    path = tmp_path / "anime.jsonl"
    path.write_text(json.dumps({"id": 1, "synopsis": "x", "genres": [{"name": " "}]}))
    with pytest.raises(DataFormatError, match="empty genre name") as info:
        load_anime(path)
    assert info.value.line == 1


def test_genre_classifier_folds_names_and_refuses_empty_ones(caplog):
    genres = [[" Mecha ", "sci-fi"], ["Sci-Fi"], ["romance"], ["ROMANCE", "School"]]
    with caplog.at_level(logging.WARNING, logger="skanime"):
        model = _small_classifier().fit(SYNOPSES, genres)
    assert model.classes_.tolist() == ["Mecha", "Romance", "School", "Sci-Fi"]
    assert any("folded 4 genre names" in r.getMessage() for r in caplog.records)
    for bad in ("", "   "):
        with pytest.raises(ValueError, match=r"entry 2 holds an empty genre name"):
            _small_classifier().fit(SYNOPSES, [["Mecha"], ["Sci-Fi"], [bad], ["A"]])


def test_build_dataset_writes_one_spelling_per_genre(tmp_path):
    pages = tmp_path / "pages"
    pages.mkdir()
    page = (
        '<div itemprop="name"><strong>{name}</strong></div>'
        '<div><span class="dark_text">Genres:</span>{genres}</div>'
        '<p itemprop="description">A story.</p>'
    )
    for i, names in enumerate([["action", "Sci-fi"], ["Action"]], start=1):
        spans = "".join(f'<span itemprop="genre">{n}</span>' for n in names)
        (pages / f"{i}.html").write_text(page.format(name=f"A{i}", genres=spans))
    build_dataset(pages, tmp_path / "anime.csv")
    anime = load_anime(tmp_path / "anime.csv")
    assert anime.frame["genres"].tolist() == [["Action", "Sci-Fi"], ["Action"]]


# ----------------------------------------------------------------- property
def _respell(draw, name):
    cased = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in name)
    spaced = " ".join(word + " " * draw(st.integers(0, 2)) for word in cased.split(" "))
    return " " * draw(st.integers(0, 2)) + spaced + "\t" * draw(st.integers(0, 1))


@st.composite
def _respelled_lists(draw):
    lists, expected = [], []
    for _ in range(draw(st.integers(1, 6))):
        names = draw(st.lists(st.sampled_from(KNOWN), min_size=1, max_size=4))
        lists.append([_respell(draw, n) for n in names])
        expected.append(list(dict.fromkeys(names)))
    return lists, expected


@settings(max_examples=100, deadline=None)
@given(_respelled_lists())
def test_any_case_and_spacing_of_a_known_name_folds_to_its_spelling(case):
    lists, expected = case
    folded, report = fold_genre_names(lists)
    assert folded == expected
    assert report.unknown == []
    assert fold_genre_names(folded)[1].n_folded == 0  # idempotent


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.text(st.characters(categories=("L", "N", "Zs")), min_size=1, max_size=12),
        min_size=1,
        max_size=8,
    )
)
def test_names_differing_only_in_case_and_spacing_become_one(names):
    names = [n for n in names if n.strip()]
    folded, _ = fold_genre_names([[n] for n in names])
    keys = {" ".join(n.split()).casefold() for n in names}
    assert len({f[0] for f in folded}) == len(keys)
    assert all(f[0] == " ".join(f[0].split()) for f in folded)
