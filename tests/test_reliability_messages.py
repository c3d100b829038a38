"""Every user mistake gets a message about the user's input, and in the CLI one
``skanime: error:`` line with exit status 2."""

import csv
import io
import json
import warnings
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline

from skanime import GenreClassifier
from skanime._persistence import save_model
from skanime.cli import MIN_TRAINING_ANIME, main
from skanime.datasets import DataFormatError, load_anime

HEADER = ["MAL_ID", "Name", "Type", "Genre", "Synopsis"]
WORDS = "robot pilot colony girl school love festival sword demon ship".split()


def _write_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return str(path)


def _rows(n, genres=lambda i: "Action" if i % 2 else "Romance, School"):
    return [
        (i + 1, f"Anime {i}", "TV", genres(i), " ".join(WORDS[i % 7 : i % 7 + 4]))
        for i in range(n)
    ]


def _error_line(capsys):
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("skanime: error")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


def _small_model():
    synopses = [" ".join(WORDS[i : i + 3]) for i in range(8)]
    genres = [["Mecha"] if i % 2 else ["Romance"] for i in range(8)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return GenreClassifier(
            pipeline=make_pipeline(
                TfidfVectorizer(), OneVsRestClassifier(LogisticRegression())
            )
        ).fit(synopses, genres)


@pytest.fixture(scope="module")
def small_model():
    return _small_model()


# ------------------------------------------------------------ data mistakes
def test_a_dataset_whose_anime_all_share_one_genre(tmp_path, capsys):
    data = _write_csv(tmp_path / "a.csv", _rows(20, genres=lambda i: "Action"))
    for command in (["train", data, "-o", str(tmp_path / "m.skops")],
                    ["evaluate", data, "--cv", "2"]):  # fmt: skip
        assert main([*command, "-q"]) == 2
        line = _error_line(capsys)
        assert "same genres (Action)" in line
        assert "MultiLabelBinarizer" not in line
    assert not (tmp_path / "m.skops").exists()


@pytest.mark.parametrize("n", [1, 2, MIN_TRAINING_ANIME - 1])
def test_a_dataset_too_small_to_train_on(tmp_path, capsys, n):
    data = _write_csv(tmp_path / "a.csv", _rows(n))
    assert main(["train", data, "-o", str(tmp_path / "m.skops"), "-q"]) == 2
    line = _error_line(capsys)
    assert f"holds {n} usable anime" in line and "at least 10" in line
    assert "max_df" not in line and "min_df" not in line
    assert main(["evaluate", data, "--cv", "3", "-q"]) == 2
    assert "3-fold cross-validation needs at least 15" in _error_line(capsys)


def test_a_csv_field_over_the_limit_is_named_as_such(tmp_path, capsys):
    rows = _rows(12)
    rows[5] = (6, "Long", "TV", "Action", "word " * 30_000)
    data = _write_csv(tmp_path / "a.csv", rows)
    with pytest.raises(DataFormatError, match="longer than 131,072 characters") as info:
        load_anime(data)
    assert info.value.line == 7
    assert main(["train", data, "-o", str(tmp_path / "m.skops"), "-q"]) == 2
    line = _error_line(capsys)
    assert "longer than 131,072 characters" in line and "line 7" in line


# ----------------------------------------------------------- model mistakes
def _rewrite(src, dst, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, change(name, zin.read(name)))


def test_a_model_from_a_newer_skops_protocol(tmp_path, capsys, small_model):
    path = tmp_path / "m.skops"
    save_model(small_model, path)

    def bump(name, data):
        if name != "schema.json":
            return data
        schema = json.loads(data)
        schema["protocol"] += 10
        return json.dumps(schema)

    _rewrite(path, tmp_path / "newer.skops", bump)
    assert main(["predict", str(tmp_path / "newer.skops"), "a robot"]) == 2
    line = _error_line(capsys)
    assert "protocol" in line and "Upgrade skops" in line and "damaged" not in line


def test_a_model_whose_state_does_not_match_this_version(tmp_path, capsys):
    model = _small_model()
    del model.pipeline_[-1].estimators_
    save_model(model, tmp_path / "old.skops")
    for command in (["predict", str(tmp_path / "old.skops"), "a robot"],
                    ["explain", str(tmp_path / "old.skops"), "a robot"]):  # fmt: skip
        assert main(command) == 2
        line = _error_line(capsys)
        assert "does not match this skanime version" in line
        assert "train it again" in line


def test_an_untrained_model_in_a_model_file(tmp_path, capsys):
    save_model(GenreClassifier(), tmp_path / "untrained.skops")
    assert main(["predict", str(tmp_path / "untrained.skops"), "a robot"]) == 2
    assert "never trained" in _error_line(capsys)


# ------------------------------------------------------------- API mistakes
@pytest.mark.parametrize("method", ["predict", "predict_proba", "top_genres"])
@pytest.mark.parametrize("empty", [[], (), iter([])])
def test_no_synopses_at_all(small_model, method, empty):
    with pytest.raises(ValueError, match="got no documents"):
        getattr(small_model, method)(empty)


@pytest.mark.parametrize("unordered", [set, frozenset])
def test_an_unordered_set_of_synopses_is_refused(small_model, unordered):
    docs = unordered(["a robot", "a girl", "a school"])
    for call in (small_model.predict, small_model.predict_proba):
        with pytest.raises(ValueError, match="order is arbitrary"):
            call(docs)
    with pytest.raises(ValueError, match="order is arbitrary"):
        GenreClassifier().fit(docs, [["A"], ["B"], ["A"]])
    # Ordered views of a dict stay accepted.
    assert len(small_model.predict({"a robot": 1, "a girl": 2}.keys())) == 2


# --------------------------------------------------------- the general rule
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    content=st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda t: t.encode("utf-8")),
        st.sampled_from(
            [
                b"PK\x05\x06" + b"\0" * 18,
                b"\x80\x04K\x01.",
                ",".join(HEADER).encode() + b"\n1,A,TV,Action,x\n",
                b'{"id": 1, "synopsis": "x", "genres": []}\n',
            ]
        ),
    ),
    command=st.sampled_from(["train", "evaluate", "predict", "explain"]),
)
def test_any_bad_file_gives_one_error_line_and_status_2(
    tmp_path_factory, capsys, content, command
):
    folder = tmp_path_factory.mktemp("bad")
    bad = folder / "input"
    bad.write_bytes(content)
    argv = {
        "train": ["train", str(bad), "-o", str(folder / "m.skops")],
        "evaluate": ["evaluate", str(bad)],
        "predict": ["predict", str(bad), "a robot"],
        "explain": ["explain", str(bad), "a robot"],
    }[command]
    capsys.readouterr()
    assert main([*argv, "-q"]) == 2
    _error_line(capsys)
    assert not (folder / "m.skops").exists()


def test_stdin_without_synopses_is_a_usage_error(tmp_path, capsys, small_model,
                                                 monkeypatch):  # fmt: skip
    save_model(small_model, tmp_path / "m.skops")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n  \n"))
    assert main(["predict", str(tmp_path / "m.skops"), "-"]) == 2
    assert "no synopsis given" in _error_line(capsys)
