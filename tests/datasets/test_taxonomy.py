import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skanime.datasets import (
    DEMOGRAPHICS_2023,
    EXPLICIT_GENRES_2023,
    GENRES_2020,
    GENRES_2021,
    GENRES_2023,
    THEMES_2023,
    map_genres,
    split_genre_families,
)

README_2021 = (
    "Action, Adventure, Avant Garde, Boys Love, Cars, Comedy, Demons, Drama, Ecchi, "
    "Erotica, Fantasy, Game, Girls Love, Gourmet, Harem, Hentai, Historical, Horror, "
    "Josei, Kids, Martial Arts, Mecha, Military, Music, Mystery, Parody, Police, "
    "Psychological, Romance, Samurai, School, Sci-Fi, Seinen, Shoujo, Shounen, "
    "Slice of Life, Space, Sports, Super Power, Supernatural, Suspense, Vampire, "
    "Work Life"
).split(", ")


def test_genre_constants():
    assert GENRES_2021 == tuple(README_2021)
    assert len(GENRES_2020) == 43
    assert {"Dementia", "Thriller", "Yaoi", "Yuri", "Magic"} <= set(GENRES_2020)
    assert set(DEMOGRAPHICS_2023) == {"Josei", "Kids", "Seinen", "Shoujo", "Shounen"}
    assert set(EXPLICIT_GENRES_2023) == {"Ecchi", "Erotica", "Hentai"}
    families = [GENRES_2023, EXPLICIT_GENRES_2023, THEMES_2023, DEMOGRAPHICS_2023]
    names = [n for family in families for n in family]
    assert len(names) == len(set(names))  # the families are disjoint


@pytest.mark.parametrize(
    "old, new",
    [
        ("Dementia", "Avant Garde"),
        ("Thriller", "Suspense"),
        ("Yaoi", "Boys Love"),
        ("Shounen Ai", "Boys Love"),
        ("Yuri", "Girls Love"),
        ("Shoujo Ai", "Girls Love"),
        ("Action", "Action"),
    ],
)
def test_2020_to_2021(old, new):
    assert map_genres([old]) == [new]


@pytest.mark.parametrize(
    "old, new",
    [
        ("Cars", "Racing"),
        ("Demons", "Mythology"),
        ("Game", "Strategy Game"),
        ("Police", "Detective"),
        ("Work Life", "Workplace"),
        ("Dementia", "Avant Garde"),
        ("Yuri", "Girls Love"),
    ],
)
def test_to_2023(old, new):
    assert map_genres([old], to="2023") == [new]


@pytest.mark.parametrize(
    "name, year",
    [
        ("Magic", "2021"),
        ("Magic", "2023"),
        ("Gourmet", "2020"),
        ("Work Life", "2020"),
        ("Erotica", "2020"),
        ("Isekai", "2021"),
        ("Award Winning", "2020"),
    ],
)
def test_names_without_counterpart_are_dropped(name, year):
    assert map_genres([name, "Drama"], to=year) == ["Drama"]


def test_back_to_2020():
    assert map_genres(
        ["Avant Garde", "Suspense", "Boys Love", "Girls Love", "Racing", "Yaoi"],
        to="2020",
    ) == ["Dementia", "Thriller", "Shounen Ai", "Shoujo Ai", "Cars", "Yaoi"]


def test_round_trips():
    for name in GENRES_2021:
        assert map_genres(map_genres([name], to="2023"), to="2021") == [name]
        back = map_genres(map_genres([name], to="2020"), to="2021")
        assert back == ([] if name in ("Gourmet", "Work Life", "Erotica") else [name])


def test_order_duplicates_case_and_spaces():
    assert map_genres(["yaoi", " Boys Love ", "SCI-FI", "Shounen Ai"]) == [
        "Boys Love",
        "Sci-Fi",
    ]


def test_unknown_names():
    with pytest.raises(ValueError, match=r"\['Space Opera', 'Mahjong'\].*GENRES_2021"):
        map_genres(["Action", "Space Opera", "Mahjong"])
    assert map_genres(["Action", "Space Opera"], unknown="keep") == [
        "Action",
        "Space Opera",
    ]
    assert map_genres(["Action", "Space Opera"], unknown="drop") == ["Action"]


def test_input_validation():
    with pytest.raises(TypeError, match="single str 'Action, Drama'"):
        map_genres("Action, Drama")
    with pytest.raises(TypeError, match="item 1 is int"):
        map_genres(["Action", 3])
    with pytest.raises(InvalidParameterError, match="to"):
        map_genres(["Action"], to="2022")


def test_split_genre_families_of_2021_names():
    families = split_genre_families(list(GENRES_2021))
    assert set(families["demographics"]) == set(DEMOGRAPHICS_2023)
    assert set(families["explicit_genres"]) == set(EXPLICIT_GENRES_2023)
    assert set(families["genres"]) <= set(GENRES_2023)
    assert set(families["themes"]) <= set(THEMES_2023)
    assert {"Racing", "Mythology", "Detective", "Workplace", "Harem"} <= set(
        families["themes"]
    )
    assert sum(map(len, families.values())) == 43


def test_split_unknown_kept_as_genre():
    families = split_genre_families(["Mahjong", "School"], unknown="keep")
    assert families == {
        "genres": ["Mahjong"],
        "explicit_genres": [],
        "themes": ["School"],
        "demographics": [],
    }
