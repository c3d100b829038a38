import gzip
import logging
import shutil

import numpy as np
import pandas as pd
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skanime.datasets import GENRES_2021, DataFormatError, load_anime

SEED_KEPT_IDS = [1, 5, 6, 7, 8, 15, 16, 19, 20, 21, 22, 23, 24, 25, 26, 27]


def _check_bunch_consistency(bunch):
    frame = bunch.frame
    assert list(frame.columns) == [
        "mal_id",
        "name",
        "type",
        "genres",
        "synopsis",
        "franchise",
    ]
    assert frame["mal_id"].dtype == np.int64
    assert frame["franchise"].dtype == np.int64
    assert bunch.data.tolist() == frame["synopsis"].tolist()
    assert list(bunch.target_names) == sorted(bunch.target_names)
    assert bunch.target.shape == (len(frame), len(bunch.target_names))
    for row, genres in zip(bunch.target, frame["genres"], strict=True):
        assert sorted(bunch.target_names[row.astype(bool)]) == sorted(genres)
    assert list(bunch.dropped.columns) == ["line", "mal_id", "reason"]


def test_load_seed_csv(datapath):
    bunch = load_anime(datapath("anime_seed.csv"))
    _check_bunch_consistency(bunch)
    frame = bunch.frame
    assert bunch.format == "seed anime.csv"
    assert frame["mal_id"].tolist() == SEED_KEPT_IDS
    first = frame.iloc[0]
    assert first["name"] == "Cowboy Bebop"
    assert first["type"] == "TV"
    assert first["genres"] == [
        "Action",
        "Adventure",
        "Comedy",
        "Drama",
        "Sci-Fi",
        "Space",
    ]
    trigun = frame.loc[frame["mal_id"] == 6, "synopsis"].item()
    assert trigun.endswith(
        "bounty on his head.\nThe reason: he is a merciless "
        "villain who lays waste to all those that oppose him."
    )
    assert frame["type"].tolist()[:7] == [
        "TV",
        "Movie",
        "TV",
        "OVA",
        "TV",
        "ONA",
        "Unknown",
    ]
    assert bunch.dropped.to_dict("records") == [
        {"line": 10, "mal_id": 17, "reason": "no genres"},
        {"line": 11, "mal_id": 18, "reason": "missing synopsis"},
        {"line": 21, "mal_id": 20, "reason": "duplicate mal_id"},
    ]
    assert "Thriller" in bunch.target_names and "Magic" in bunch.target_names
    assert "16 anime" in bunch.DESCR and "3 rows dropped" in bunch.DESCR


def test_load_kaggle_csv(datapath):
    bunch = load_anime(datapath("anime_with_synopsis.csv"))
    _check_bunch_consistency(bunch)
    assert bunch.format == "Kaggle anime_with_synopsis.csv"
    assert bunch.frame["mal_id"].tolist() == [1, 5, 6, 7]
    assert bunch.frame["type"].tolist() == [None, None, None, None]
    assert bunch.frame["synopsis"].iloc[1].startswith("other day, another bounty—")
    assert bunch.dropped[["mal_id", "reason"]].values.tolist() == [
        [8, "no genres"],
        [15, "missing synopsis"],
    ]


def test_load_2023_dump_genres_only(datapath):
    bunch = load_anime(datapath("anime_2023.csv"))
    _check_bunch_consistency(bunch)
    frame = bunch.frame
    assert bunch.format == "MAL 2023+ CSV dump"
    assert frame["mal_id"].tolist() == [1, 16498, 5114, 30]
    assert frame["type"].tolist() == ["TV", "TV", "TV", "TV"]
    assert frame["genres"].iloc[1] == ["Action", "Award Winning", "Drama", "Suspense"]
    assert bunch.dropped.to_dict("records") == [
        {"line": 6, "mal_id": 44, "reason": "no genres"}
    ]
    assert "Military" not in bunch.target_names


def test_load_2023_dump_merges_label_families(datapath):
    bunch = load_anime(
        datapath("anime_2023.csv"),
        label_families=("genres", "themes", "demographics"),
    )
    _check_bunch_consistency(bunch)
    frame = bunch.frame.set_index("mal_id")
    assert frame.loc[16498, "genres"] == [
        "Action", "Award Winning", "Drama", "Suspense",
        "Gore", "Military", "Survival", "Shounen",
    ]  # fmt: skip
    assert frame.loc[44, "genres"] == ["Historical", "Samurai", "Shounen"]
    assert frame.loc[44, "type"] == "OVA"
    assert len(bunch.dropped) == 0


def test_load_2023_dump_demographics_only(datapath):
    bunch = load_anime(datapath("anime_2023.csv"), label_families=["demographics"])
    assert bunch.frame["mal_id"].tolist() == [16498, 5114, 44]
    assert bunch.target_names.tolist() == ["Shounen"]
    assert bunch.dropped["mal_id"].tolist() == [1, 30]


@pytest.mark.parametrize("filename", ["anime_seed.csv", "mal_small.jsonl"])
def test_label_family_missing_from_older_formats(datapath, filename):
    with pytest.raises(DataFormatError, match="has no 'themes' column"):
        load_anime(datapath(filename), label_families=("genres", "themes"))


@pytest.mark.parametrize(
    "families", [(), ("genres", "genres"), ("tags",), ["genres", "plot"]]
)
def test_invalid_label_families(datapath, families):
    with pytest.raises(ValueError, match="label_families must be a non-empty list"):
        load_anime(datapath("anime_seed.csv"), label_families=families)


def test_load_jsonl_reports_every_dropped_line(datapath):
    bunch = load_anime(datapath("mal_small.jsonl"))
    _check_bunch_consistency(bunch)
    frame = bunch.frame
    assert bunch.format == "MAL API JSONL"
    assert frame["mal_id"].tolist() == [1, 5, 16]
    assert frame["name"].tolist()[0] == "Cowboy Bebop"
    assert frame["type"].tolist() == [None, "Movie", None]
    assert frame["synopsis"].iloc[0].endswith("[Written by MAL Rewrite]")
    dropped = bunch.dropped
    assert dropped["line"].tolist() == [3, 4, 5, 6, 7, 9]
    assert dropped["reason"].tolist() == [
        "no genres",
        "missing synopsis",
        "synopsis is not a string",
        "invalid mal_id",
        "duplicate mal_id",
        "no genres",
    ]
    assert dropped["mal_id"].isna().tolist() == [
        False,
        False,
        False,
        True,
        False,
        False,
    ]
    assert dropped["mal_id"].dtype == "Int64"


def test_load_jsonl_truncated_last_line(datapath):
    with pytest.raises(
        DataFormatError, match=r"mal_truncated\.jsonl, line 3: invalid JSON.*truncated"
    ) as info:
        load_anime(datapath("mal_truncated.jsonl"))
    assert info.value.line == 3
    assert info.value.path.endswith("mal_truncated.jsonl")


def test_load_jsonl_invalid_middle_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": 1, "synopsis": "a", "genres": []}\n{oops}\n{"id": 2}\n')
    with pytest.raises(DataFormatError, match=r"line 2: invalid JSON.*Fix or remove"):
        load_anime(path)


def test_load_jsonl_non_list_genres(datapath):
    with pytest.raises(
        DataFormatError, match=r"mal_bad_genres\.jsonl, line 2: 'genres' must be a list"
    ):
        load_anime(datapath("mal_bad_genres.jsonl"))


def test_load_jsonl_bad_genre_items(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": 1, "synopsis": "a", "genres": [{"id": 1}]}\n')
    with pytest.raises(DataFormatError, match="line 1: 'genres' must hold objects"):
        load_anime(path)


def test_load_jsonl_non_object_line(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": 1, "synopsis": "a", "genres": ["Action"]}\n[1, 2]\n')
    with pytest.raises(DataFormatError, match="line 2: expected one JSON object"):
        load_anime(path)


def test_load_csv_bad_quoting(datapath):
    with pytest.raises(
        DataFormatError, match=r"anime_seed_bad_quote\.csv, line 3: malformed CSV"
    ):
        load_anime(datapath("anime_seed_bad_quote.csv"))


def test_load_csv_unterminated_quote_at_end(tmp_path):
    path = tmp_path / "anime.csv"
    path.write_text(
        'MAL_ID,Name,Type,Genre,Synopsis\n1,A,TV,Action,ok\n2,B,TV,"Drama,x\n'
    )
    with pytest.raises(DataFormatError, match=r"line 3: malformed CSV"):
        load_anime(path)


def test_load_csv_wrong_field_count(datapath):
    with pytest.raises(
        DataFormatError, match=r"line 3: expected 5 fields as in the header, found 6"
    ):
        load_anime(datapath("anime_seed_extra_field.csv"))


def test_load_csv_unknown_header(datapath):
    with pytest.raises(
        DataFormatError,
        match=r"unknown_header\.csv, line 1: unrecognised header.*no column for "
        r"\['mal_id', 'genres', 'synopsis'\].*Supported formats",
    ):
        load_anime(datapath("unknown_header.csv"))


def test_load_csv_bad_genre_literal(tmp_path):
    path = tmp_path / "dump.csv"
    path.write_text(
        "anime_id,title,genres,themes,synopsis\n1,A,\"['Action', 3]\",[],A story.\n"
    )
    with pytest.raises(DataFormatError, match="line 2: column 'genres' holds"):
        load_anime(path)


@pytest.mark.parametrize(
    "source, name",
    [("mal_small.jsonl", "data.csv"), ("anime_seed.csv", "anime.txt")],
)
def test_format_is_sniffed_from_content(datapath, tmp_path, source, name):
    copy = tmp_path / name
    shutil.copy(datapath(source), copy)
    expected = load_anime(datapath(source))
    got = load_anime(copy)
    pd.testing.assert_frame_equal(got.frame, expected.frame)
    assert got.format == expected.format


def test_gzip_input(datapath, tmp_path):
    path = tmp_path / "anime.csv.gz"
    path.write_bytes(gzip.compress(datapath("anime_seed.csv").read_bytes()))
    bunch = load_anime(path)
    assert bunch.frame["mal_id"].tolist() == SEED_KEPT_IDS


def test_truncated_gzip(datapath, tmp_path):
    path = tmp_path / "anime.csv.gz"
    path.write_bytes(gzip.compress(datapath("anime_seed.csv").read_bytes())[:60])
    with pytest.raises(DataFormatError, match="cannot be decompressed"):
        load_anime(path)


def test_not_utf8(tmp_path):
    path = tmp_path / "anime.csv"
    path.write_bytes(b"MAL_ID,Name,Type,Genre,Synopsis\n1,Caf\xe9,TV,Action,ok\n")
    with pytest.raises(DataFormatError, match="line 2: the file is not UTF-8"):
        load_anime(path)


@pytest.mark.parametrize("content", ["", "\n\n", '[{"id": 1}]'])
def test_empty_or_json_array(tmp_path, content):
    path = tmp_path / "anime.jsonl"
    path.write_text(content)
    with pytest.raises(DataFormatError, match="empty|JSON array"):
        load_anime(path)


def test_all_rows_dropped(tmp_path):
    path = tmp_path / "anime.csv"
    path.write_text("MAL_ID,Name,Type,Genre,Synopsis\n1,A,TV,,text\n2,B,TV,Action,\n")
    with pytest.raises(DataFormatError, match="no usable anime.*all 2 rows"):
        load_anime(path)


def test_keep_empty_genres(datapath):
    bunch = load_anime(datapath("anime_seed.csv"), drop_empty_genres=False)
    frame = bunch.frame
    assert 17 in frame["mal_id"].tolist()
    row = frame.index[frame["mal_id"] == 17][0]
    assert frame.loc[row, "genres"] == []
    assert bunch.target[row].sum() == 0
    assert bunch.dropped["reason"].tolist() == ["missing synopsis", "duplicate mal_id"]


def test_genre_mapping_year(datapath):
    bunch = load_anime(datapath("anime_seed.csv"), genre_mapping="2021")
    names = set(bunch.target_names)
    assert {"Suspense", "Avant Garde"} & names == {"Suspense"}
    assert "Thriller" not in names and "Magic" not in names
    assert set(names) <= set(GENRES_2021)
    robin = bunch.frame.set_index("mal_id").loc[7, "genres"]
    assert robin == ["Action", "Mystery", "Police", "Supernatural", "Drama"]


def test_genre_mapping_dict_and_callable(datapath):
    by_dict = load_anime(
        datapath("anime_seed.csv"),
        genre_mapping={
            "Thriller": "Suspense",
            "Magic": None,
            "Cars": ["Racing", "Sports"],
        },
    )
    frame = by_dict.frame.set_index("mal_id")
    assert frame.loc[19, "genres"][-1] == "Suspense"
    assert "Magic" not in by_dict.target_names

    only_action = load_anime(
        datapath("anime_seed.csv"),
        genre_mapping=lambda names: [n for n in names if n == "Action"],
    )
    assert only_action.target_names.tolist() == ["Action"]
    assert "no genres after mapping" in only_action.dropped["reason"].tolist()


def test_genre_mapping_bad_return(datapath):
    with pytest.raises(TypeError, match="genre_mapping must return a list of str"):
        load_anime(datapath("anime_seed.csv"), genre_mapping=lambda names: "Action")


def test_return_X_y(datapath):
    X, y = load_anime(datapath("anime_seed.csv"), return_X_y=True)
    bunch = load_anime(datapath("anime_seed.csv"))
    assert X.tolist() == bunch.data.tolist()
    np.testing.assert_array_equal(y, bunch.target)


def test_drops_are_logged(datapath, caplog):
    with caplog.at_level(logging.INFO, logger="skanime"):
        load_anime(datapath("anime_seed.csv"))
    (record,) = [r for r in caplog.records if r.name.startswith("skanime")]
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "dropped 3 rows" in message
    assert "no genres: 1" in message and "duplicate mal_id: 1" in message


def test_expected_drops_are_logged_at_info(datapath, caplog):
    with caplog.at_level(logging.INFO, logger="skanime"):
        load_anime(datapath("anime_with_synopsis.csv"))
    (record,) = [r for r in caplog.records if r.name.startswith("skanime")]
    assert record.levelno == logging.INFO
    assert "missing synopsis: 1" in record.getMessage()


def test_parameter_validation(datapath):
    with pytest.raises(InvalidParameterError, match="genre_mapping"):
        load_anime(datapath("anime_seed.csv"), genre_mapping="2019")
    with pytest.raises(InvalidParameterError, match="path"):
        load_anime(42)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_anime(tmp_path / "nope.csv")


@pytest.mark.real_data
def test_real_mal_jsonl(mal_jsonl_path):
    bunch = load_anime(mal_jsonl_path)
    assert len(bunch.frame) == 9494
    assert bunch.target.shape == (9494, 43)
    assert tuple(bunch.target_names) == GENRES_2021
    assert len(bunch.dropped) == 23
    assert set(bunch.dropped["reason"]) == {"no genres"}
    assert bunch.frame["mal_id"].is_unique
    assert bunch.frame["type"].isna().all()
    # About 3.2 genres per anime, Comedy in about 36 % of them.
    assert 3.0 < bunch.target.sum(axis=1).mean() < 3.4
    comedy = list(bunch.target_names).index("Comedy")
    assert 0.34 < bunch.target[:, comedy].mean() < 0.38


def test_a_gzip_bomb_is_refused_without_decompressing_it_all(tmp_path, monkeypatch):
    import gzip

    from skanime.datasets import _loaders

    monkeypatch.setattr(_loaders, "MAX_DATA_BYTES", 1 << 20)
    path = tmp_path / "anime.csv.gz"
    header = b"MAL_ID,Name,Type,Genre,Synopsis\n"
    path.write_bytes(gzip.compress(header + b"1,A,TV,Action," + b"x" * (8 << 20)))
    assert path.stat().st_size < 100_000
    with pytest.raises(DataFormatError, match="decompresses to more than 1 MiB"):
        load_anime(path)
    small = tmp_path / "small.csv.gz"
    small.write_bytes(
        gzip.compress(header + b"1,A,TV,Action,ok\n") + gzip.compress(b"2,B,TV,X,y\n")
    )
    assert load_anime(small).frame["mal_id"].tolist() == [1, 2]


def test_a_data_file_over_the_size_limit_is_refused_unread(tmp_path, monkeypatch):
    from skanime.datasets import _loaders

    monkeypatch.setattr(_loaders, "MAX_DATA_BYTES", 1000)
    path = tmp_path / "anime.csv"
    path.write_text("MAL_ID,Name,Type,Genre,Synopsis\n" + "1,A,TV,Action,x\n" * 100)
    with pytest.raises(DataFormatError, match="holds more than 1,000 bytes"):
        load_anime(path)


def test_deeply_nested_json_is_a_format_error(tmp_path):
    path = tmp_path / "anime.jsonl"
    path.write_text('{"id": 1, "genres": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    with pytest.raises(DataFormatError, match="nested too deeply") as info:
        load_anime(path)
    assert info.value.line == 1
