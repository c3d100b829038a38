import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skanime.datasets import (
    DEFAULT_BAN_PATTERNS,
    SEED_BAN_PATTERNS,
    clean_anime_frame,
    load_anime,
)


def _counts(report):
    return list(
        zip(report["rule"], report["removed"], report["remaining"], strict=True)
    )


def test_seed_report_counts(datapath):
    frame = load_anime(datapath("anime_seed.csv")).frame
    clean, report = clean_anime_frame(frame)
    assert list(report.columns) == ["rule", "removed", "remaining", "note"]
    assert _counts(report) == [
        ("input", 0, 16),
        ("type not in (TV, Movie, OVA, Special)", 2, 14),
        ("missing values", 0, 14),
        ("synopsis matches 'no synopsis'", 1, 13),
        ("synopsis matches 'sequel'", 2, 11),
        ("synopsis matches 'season'", 1, 10),
        ("synopsis matches 'recap'", 1, 9),
        ("synopsis matches 'summary'", 1, 8),
        ("synopsis matches 'educational'", 1, 7),
        ("synopsis matches 'collection'", 1, 6),
    ]
    assert clean["mal_id"].tolist() == [1, 5, 6, 7, 8, 20]
    assert report["removed"].sum() == len(frame) - len(clean)
    # Rows keep their index in the loaded frame.
    assert clean.index.tolist() == [0, 1, 2, 3, 4, 8]


def test_report_is_reproducible_and_input_untouched(datapath):
    frame = load_anime(datapath("anime_seed.csv")).frame
    before = frame.copy()
    first = clean_anime_frame(frame)
    second = clean_anime_frame(frame)
    pd.testing.assert_frame_equal(first[0], second[0])
    pd.testing.assert_frame_equal(first[1], second[1])
    pd.testing.assert_frame_equal(frame, before)


def test_missing_values_rule(datapath):
    frame = load_anime(datapath("anime_seed.csv"), drop_empty_genres=False).frame
    frame.loc[frame["mal_id"] == 1, "name"] = None
    _, report = clean_anime_frame(frame, ban_patterns=())
    assert _counts(report) == [
        ("input", 0, 17),
        ("type not in (TV, Movie, OVA, Special)", 2, 15),
        ("missing values", 2, 13),
    ]


def test_frame_without_types_is_kept_and_reported(datapath):
    frame = load_anime(datapath("mal_small.jsonl")).frame
    frame = frame.assign(type=None)
    clean, report = clean_anime_frame(frame, ban_patterns=())
    assert len(clean) == len(frame) == 3
    row = report.iloc[1]
    assert row["removed"] == 0
    assert row["note"] == "no media type in this data: all 3 rows kept"


def test_rows_without_type_among_typed_rows_are_removed(datapath):
    frame = load_anime(datapath("mal_small.jsonl")).frame  # types: None, Movie, None
    clean, report = clean_anime_frame(frame, ban_patterns=())
    assert clean["mal_id"].tolist() == [5]
    assert report.iloc[1]["removed"] == 2 and report.iloc[1]["note"] == ""


def test_types_none_and_custom_types(datapath):
    frame = load_anime(datapath("anime_seed.csv")).frame
    clean, report = clean_anime_frame(frame, types=None, ban_patterns=())
    assert len(clean) == 16
    assert report.iloc[1]["note"] == "disabled (types=None)"
    clean, _ = clean_anime_frame(frame, types={"ONA", "Unknown"}, ban_patterns=())
    assert clean["mal_id"].tolist() == [15, 16]


def test_patterns_are_case_insensitive_regexes():
    frame = pd.DataFrame(
        {
            "mal_id": [1, 2, 3, 4],
            "name": ["a", "b", "c", "d"],
            "type": ["TV"] * 4,
            "genres": [["Action"]] * 4,
            "synopsis": ["Season 2 begins.", "Part 3 of 4.", "He abducted her.", "Ok."],
        }
    )
    clean, report = clean_anime_frame(frame, ban_patterns=[r"part \d+", "SEASON"])
    assert clean["mal_id"].tolist() == [3, 4]
    assert report["removed"].tolist()[-2:] == [1, 1]
    # The seed's plain substring semantics: "bd" hits "abducted".
    clean, report = clean_anime_frame(frame, ban_patterns=SEED_BAN_PATTERNS)
    assert clean["mal_id"].tolist() == [2, 4]
    assert report.loc[report["rule"] == "synopsis matches 'bd'", "removed"].item() == 1


def test_seed_ban_patterns_content():
    assert len(SEED_BAN_PATTERNS) == 50
    assert SEED_BAN_PATTERNS[0] == "no synopsis"
    assert set(DEFAULT_BAN_PATTERNS) <= set(SEED_BAN_PATTERNS)


def test_invalid_pattern():
    frame = pd.DataFrame(
        {
            "mal_id": [1],
            "name": ["a"],
            "type": ["TV"],
            "genres": [["A"]],
            "synopsis": ["x"],
        }
    )
    with pytest.raises(
        ValueError, match=r"'\(unclosed', which is not a valid regular expression"
    ):
        clean_anime_frame(frame, ban_patterns=["(unclosed"])
    with pytest.raises(ValueError, match="non-empty str"):
        clean_anime_frame(frame, ban_patterns=[""])


def test_missing_columns():
    frame = pd.DataFrame({"MAL_ID": [1], "Synopsis": ["x"]})
    with pytest.raises(ValueError, match=r"lacks \['mal_id', 'name', 'type', 'genres'"):
        clean_anime_frame(frame)


def test_parameter_validation():
    with pytest.raises(InvalidParameterError, match="frame"):
        clean_anime_frame(np.zeros((2, 5)))


def test_empty_frame():
    frame = pd.DataFrame(columns=["mal_id", "name", "type", "genres", "synopsis"])
    clean, report = clean_anime_frame(frame)
    assert len(clean) == 0
    assert report["remaining"].tolist() == [0] * len(report)


@pytest.mark.real_data
def test_real_data_report(mal_jsonl_path):
    frame = load_anime(mal_jsonl_path).frame
    clean, report = clean_anime_frame(frame)
    assert report.iloc[1]["note"] == "no media type in this data: all 9494 rows kept"
    assert report["remaining"].iloc[-1] == len(clean)
    assert 8500 < len(clean) < 9494
