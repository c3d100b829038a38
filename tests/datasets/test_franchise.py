import numpy as np
import pandas as pd
import pytest

from skanime.datasets import franchise_groups, franchise_key, load_anime


def same(groups, i, j):
    return groups[i] == groups[j]


@pytest.mark.parametrize(
    "title, key",
    [
        ("Naruto", "naruto"),
        ("Naruto: Shippuuden", "naruto"),
        ("Naruto Shippuuden Movie 4: The Lost Tower", "naruto shippuuden"),
        ("Shingeki no Kyojin Season 3 Part 2", "shingeki no kyojin"),
        ("Shingeki no Kyojin 2nd Season", "shingeki no kyojin"),
        ("Fate/Zero 2nd Season", "fate zero"),
        ("Tenchi Muyou! Ryououki 3rd Season", "tenchi muyou ryououki"),
        ("Uchouten Kazoku 2", "uchouten kazoku"),
        ("Lupin III", "lupin"),
        ("Lupin III: Part II", "lupin"),
        ("Final Fantasy XV: Episode Ardyn - Prologue", "final fantasy"),
        ("InuYasha Movie 2: Kagami no Naka no Mugenjo", "inuyasha"),
        ("Itoshi no Muco OVA", "itoshi no muco"),
        ("Gekijouban Fairy Tail: Houou no Miko", "fairy tail"),
        ("Zoku Natsume Yuujinchou", "natsume yuujinchou"),
        ("Gintama'", "gintama"),
        ("Gintama.", "gintama"),
        ("Hunter x Hunter (2011)", "hunter x hunter"),
        ("Pokémon", "pokemon"),
        ("Tales of Phantasia The Animation", "tales of phantasia"),
        ("ACCA: 13-ku Kansatsu-ka Specials", "acca"),
        ("Peeping Life TV: Season 1??", "peeping life"),
        # a colon without a space is part of the title
        (
            "Re:Zero kara Hajimeru Isekai Seikatsu",
            "re zero kara hajimeru isekai seikatsu",
        ),
        # a title made of markers only keeps its words
        ("Special A", "special a"),
        ("Movie", "movie"),
        ("2", "2"),
        ("☆☆☆", ""),
    ],
)
def test_franchise_key(title, key):
    assert franchise_key(title) == key


def test_sequels_movies_and_specials_share_a_franchise():
    titles = [
        "Naruto",  # 0
        "Naruto: Shippuuden",  # 1
        "Naruto Shippuuden Movie 4: The Lost Tower",  # 2
        "Boruto: Naruto Next Generations",  # 3
        "Shingeki no Kyojin",  # 4
        "Shingeki no Kyojin Season 2",  # 5
        "Shingeki no Kyojin OVA",  # 6
        "Cowboy Bebop",  # 7
        "Cowboy Bebop: Tengoku no Tobira",  # 8
        "Trigun",  # 9
        "Macross",  # 10
        "Macross Plus",  # 11
        "Macross Zero",  # 12
    ]
    groups = franchise_groups(titles)
    assert groups.dtype == np.int64
    assert groups.shape == (len(titles),)
    assert groups.tolist() == [0, 0, 0, 1, 2, 2, 2, 3, 3, 4, 5, 5, 5]


def test_prefix_root_must_be_a_whole_title():
    # "Samurai 7" has base title "samurai", but no anime is called just
    # "Samurai", so "Samurai Champloo" stays apart; "Monster" is a title and
    # takes "Monster Strike".
    titles = ["Samurai 7", "Samurai Champloo", "Monster", "Monster Strike"]
    groups = franchise_groups(titles)
    assert not same(groups, 0, 1)
    assert same(groups, 2, 3)


def test_prefix_matching_needs_whole_words_and_min_length():
    titles = ["Ai", "Ai Yori Aoshi", "Aikatsu!", "Kanon", "Kanon (2006)", "Kanojo"]
    groups = franchise_groups(titles)
    assert not same(groups, 0, 1)  # "ai" is shorter than min_prefix_chars
    assert not same(groups, 0, 2)
    assert same(groups, 3, 4)  # equal base titles always group
    assert not same(groups, 3, 5)  # "kanon" is not a word-prefix of "kanojo"
    loose = franchise_groups(titles, min_prefix_chars=2)
    assert same(loose, 0, 1)
    assert not same(loose, 0, 2)
    strict = franchise_groups(["Monster", "Monster Strike"], min_prefix_chars=8)
    assert not same(strict, 0, 1)


def test_shortest_prefix_wins_and_chains_collapse():
    titles = [
        "Dragon Ball Z Kai",
        "Dragon Ball Z",
        "Dragon Ball",
        "Dragon Ball Super",
        "Dragon Quest",
    ]
    groups = franchise_groups(titles)
    assert len(set(groups[:4])) == 1
    assert groups[4] != groups[0]
    # numbered by first appearance
    assert groups.tolist() == [0, 0, 0, 0, 1]


def test_missing_and_empty_titles_are_their_own_franchise():
    titles = ["Naruto", None, np.nan, "☆", "☆", "Naruto OVA"]
    groups = franchise_groups(titles)
    assert groups.tolist() == [0, 1, 2, 3, 4, 0]


def test_frame_input_uses_name_or_title_column():
    frame = pd.DataFrame({"mal_id": [1, 2, 3], "name": ["K-On!", "K-On!!", "Kanon"]})
    np.testing.assert_array_equal(franchise_groups(frame), [0, 0, 1])
    frame = pd.DataFrame({"title": ["Bleach", "Bleach Movie 1"]})
    np.testing.assert_array_equal(franchise_groups(frame), [0, 0])
    with pytest.raises(ValueError, match="needs a 'name' or 'title' column"):
        franchise_groups(pd.DataFrame({"synopsis": ["x"]}))


def test_related_links_join_franchises():
    frame = pd.DataFrame(
        {
            "mal_id": [10, 20, 30, 40],
            "name": [
                "Bakemonogatari",
                "Nisemonogatari",
                "Kizumonogatari",
                "Trigun",
            ],
        }
    )
    assert len(set(franchise_groups(frame))) == 4
    related = [[20], [10, 999], [{"node": {"id": 10}}], []]  # 999: not in frame
    groups = franchise_groups(frame, related=related)
    assert groups.tolist() == [0, 0, 0, 1]
    with_column = frame.assign(related=[[20], None, [10], []])
    assert franchise_groups(with_column).tolist() == [0, 0, 0, 1]


def test_related_links_errors():
    frame = pd.DataFrame({"mal_id": [1, 2], "name": ["A title", "Another"]})
    with pytest.raises(ValueError, match="related has 1 entries but there are 2"):
        franchise_groups(frame, related=[[2]])
    with pytest.raises(ValueError, match="needs a DataFrame with a 'mal_id' column"):
        franchise_groups(["A title", "Another"], related=[[2], [1]])
    with pytest.raises(TypeError, match=r"related\[0\] must be a list of MAL ids"):
        franchise_groups(frame, related=["2", [1]])


def test_argument_errors():
    with pytest.raises(TypeError, match="got a single string"):
        franchise_groups("Naruto")
    with pytest.raises(ValueError, match="min_prefix_chars must be at least 1"):
        franchise_groups(["Naruto"], min_prefix_chars=0)
    with pytest.raises(TypeError, match="min_prefix_chars must be an int"):
        franchise_groups(["Naruto"], min_prefix_chars=2.5)


def test_empty_input():
    groups = franchise_groups([])
    assert groups.shape == (0,)
    assert groups.dtype == np.int64


def test_load_anime_frame_has_franchise_column(datapath):
    bunch = load_anime(datapath("mal_small.jsonl"))
    frame = bunch.frame
    assert frame["franchise"].dtype == np.int64
    np.testing.assert_array_equal(frame["franchise"], franchise_groups(frame["name"]))
    assert "franchise" in bunch.DESCR


def test_groups_feed_the_group_splitter():
    from skanime.model_selection import MultilabelStratifiedGroupKFold

    titles = [f"Series {chr(97 + i)}" for i in range(6)]
    titles = [t + suffix for t in titles for suffix in ("", " 2nd Season", " Movie")]
    groups = franchise_groups(titles)
    assert len(set(groups)) == 6
    y = np.tile([[1, 0], [0, 1], [1, 1]], (6, 1))
    cv = MultilabelStratifiedGroupKFold(3, shuffle=True, random_state=0)
    for train, test in cv.split(np.zeros(len(titles)), y, groups):
        assert not set(groups[train]) & set(groups[test])
