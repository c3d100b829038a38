import io
import json
import os
import pickle
import subprocess
import sys

import pytest
from _small_model import SMALL_ARGS as SMALL

from skanime import GenreClassifier, cli
from skanime._persistence import load_model
from skanime.cli import BAKEMONOGATARI_SYNOPSIS, main

GENRES = {"Action", "Comedy", "Horror", "Romance", "Sci-Fi"}
PAGE = (
    '<div itemprop="name"><strong>{name}</strong></div>'
    '<div><span class="dark_text">Genres:</span>'
    '<span itemprop="genre">{genre}</span></div>'
    '<p itemprop="description">{synopsis}</p>'
)


@pytest.fixture(scope="module")
def small_csv(datapath):
    return str(datapath("cli", "anime_small.csv"))


@pytest.fixture(scope="module")
def model_path(small_csv, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "model.skops"
    assert main(["train", small_csv, "-o", str(path), "-q", *SMALL]) == 0
    return str(path)


def _error_line(capsys):
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("[")]
    assert len(lines) == 1, err
    assert lines[0].startswith("skanime: error: ")
    assert "Traceback" not in err
    return lines[0]


def test_train_writes_a_loadable_model(model_path):
    model = load_model(model_path)
    assert isinstance(model, GenreClassifier)
    assert set(model.classes_) == GENRES
    stack = model.pipeline_.named_steps["stack"]
    params = model.pipeline_.get_params()
    assert params["stack__network__clf__hidden_layer_sizes"] == [16]
    assert params["stack__network__embed__vector_size"] == 16
    assert stack.random_state == 0
    # One list of fold models per member: the network once per fold.
    names = [name for name, _ in stack.estimators]
    assert names[0] == "network"
    assert len(stack.estimators_) == len(stack.transformers_) == len(names)
    assert len(stack.estimators_[0]) == stack.cv
    assert all(m.hidden_layer_sizes == [16] for m in stack.estimators_[0])
    assert stack.transformers_[0][-1].vector_size == 16


def test_train_reports_progress_unless_quiet(small_csv, tmp_path, capsys):
    out = tmp_path / "m.skops"
    assert main(["train", small_csv, "-o", str(out), "--seed", "3", *SMALL]) == 0
    captured = capsys.readouterr()
    assert f"saved a model of 5 genres to {out}" in captured.out
    stages = [line for line in captured.err.splitlines() if line.startswith("[")]
    assert any("loaded 90 anime with 5 genres" in line for line in stages)
    assert any(line.endswith(" s") and "training: done in" in line for line in stages)
    assert load_model(out).pipeline_.named_steps["stack"].random_state == 3

    assert main(["train", small_csv, "-o", str(out), "-q", *SMALL]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_predict_prints_one_line_per_text(model_path, capsys):
    texts = ["a robot spaceship in orbit", "love and a kiss at the wedding"]
    assert main(["predict", model_path, *texts]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    expected = load_model(model_path).predict(texts)
    assert [line.split(", ") for line in lines] == expected


def test_predict_top_k_and_json(model_path, capsys):
    assert main(["predict", model_path, "ghost curse blood", "--top-k", "2"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    pairs = [item.rsplit(" ", 1) for item in line.split(", ")]
    assert len(pairs) == 2 and {g for g, _ in pairs} <= GENRES
    probabilities = [float(p) for _, p in pairs]
    assert probabilities == sorted(probabilities, reverse=True)

    assert main(["predict", model_path, "ghost curse", "--top-k", "3", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["text"] == "ghost curse"
    assert set(row["genres"]) <= GENRES
    assert len(row["top"]) == 3
    assert all(0 <= t["probability"] <= 1 for t in row["top"])


def test_predict_reads_stdin_lines(model_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("ghost curse\n\n  laser robot  \n"))
    assert main(["predict", model_path, "-", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["text"] for r in rows] == ["ghost curse", "laser robot"]


def test_explain_shows_word_contributions(model_path, capsys):
    text = "the ghost haunted the grave and a robot fired a laser"
    assert main(["explain", model_path, text, "--genre", "horror", "--top-n", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Horror: probability")
    # The default model is a stack of several members: explained by occlusion.
    assert "leave-one-word-out occlusion" in lines[0]
    assert len(lines) == 4
    words = [line.split()[1] for line in lines[1:]]
    assert set(words) <= set(text.split())

    assert main(["explain", model_path, text, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["method"] == "occlusion" and payload["n_steps"] is None
    predicted = load_model(model_path).predict([text])[0]
    assert [g["genre"] for g in payload["genres"]] == predicted


def test_explain_reads_the_text_from_stdin(model_path, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("A ghost\nhaunts the grave.\n"))
    assert main(["explain", model_path, "-", "--genre", "Horror", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["text"] == "A ghost\nhaunts the grave."
    words = {w["word"] for w in payload["genres"][0]["words"]}
    # Occlusion removes each word of the raw text (of two letters or more).
    assert words == {"ghost", "haunts", "the", "grave"}


def test_evaluate_prints_a_cross_validated_report(small_csv, capsys):
    assert main(["evaluate", small_csv, "--cv", "2", *SMALL]) == 0
    captured = capsys.readouterr()
    assert "micro avg" in captured.out and "Horror" in captured.out
    folds = [line for line in captured.err.splitlines() if "] fold " in line]
    assert len(folds) == 2 and "fold 2/2: trained on" in folds[1]


def test_evaluate_names_a_genre_missing_from_a_fold(small_csv, tmp_path, capsys):
    # "Horror" kept on one anime only: the fold that holds it out trains on
    # none, and the warning names the genre, not its column number.
    import pandas as pd

    frame = pd.read_csv(small_csv)
    others = frame["Genre"].str.contains("Horror")
    others[others.idxmax()] = False
    frame.loc[others, "Genre"] = (
        frame.loc[others, "Genre"]
        .str.replace(r",? ?Horror,? ?", ", ", regex=True)
        .str.strip(", ")
    )
    path = tmp_path / "one_horror.csv"
    frame.to_csv(path, index=False)

    assert main(["evaluate", str(path), "--cv", "2", *SMALL]) == 0
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if "ConstantLabelWarning" in line]
    assert warnings, err
    assert all("['Horror']" in line for line in warnings), warnings
    assert any(line.count("fold ") for line in warnings)
    assert not any("Labels [" in line for line in err.splitlines())


def test_evaluate_json(small_csv, capsys):
    args = [
        "evaluate",
        small_csv,
        "--cv",
        "3",
        "--json",
        "-q",
        "--subset",
        "60",
        *SMALL,
    ]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["n_anime"], report["cv"], report["seed"]) == (60, 3, 0)
    assert set(report["per_label"]) == GENRES
    assert 0 <= report["summary"]["f1_micro"] <= 1
    assert sum(v["support"] for v in report["per_label"].values()) > 60


def test_build_dataset_prints_the_summary(tmp_path, capsys):
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "1.html").write_text(
        PAGE.format(name="Cowboy Bebop", genre="Action", synopsis="Bounty hunters.")
    )
    (pages / "2.html").write_text("<html>not an anime page</html>")
    (pages / "notes.txt").write_text("not a page")
    out = tmp_path / "anime.csv"
    assert main(["build-dataset", str(pages), "-o", str(out), "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"3 inputs: 1 anime written to {out}, 2 rejected")
    assert sum(int(line.split()[0]) for line in lines[1:]) == 2
    assert out.read_text().splitlines()[0] == "MAL_ID,Name,Type,Genre,Synopsis"


def _fake_fetch(small_csv):
    from skanime.datasets import load_anime

    def fetch(data_home=None, **kwargs):
        bunch = load_anime(small_csv)
        frame = bunch.frame.copy()
        frame.loc[0, "name"] = "Bakemonogatari"
        bunch.frame = frame
        return bunch

    return fetch


def test_demo_on_a_small_dataset(small_csv, tmp_path, capsys, monkeypatch):
    import skanime.datasets

    monkeypatch.setattr(skanime.datasets, "fetch_mal_anime", _fake_fetch(small_csv))
    out = tmp_path / "demo.skops"
    assert main(["demo", "--cv", "2", "-o", str(out), *SMALL]) == 0
    captured = capsys.readouterr()
    assert "Cross-validated genre prediction (2 folds, 90 anime)" in captured.out
    assert "micro avg" in captured.out
    assert "Bakemonogatari" in captured.out
    assert "MyAnimeList genres: Comedy, Horror" in captured.out
    model = load_model(out)
    predicted = model.predict([BAKEMONOGATARI_SYNOPSIS])[0]
    assert f"predicted genres: {', '.join(predicted)}" in captured.out
    assert "cross-validation: done in" in captured.err


def test_demo_without_data_is_a_user_error(capsys, monkeypatch):
    import skanime.datasets

    def offline(*args, **kwargs):
        raise OSError("Cannot download the dataset: network unreachable")

    monkeypatch.setattr(skanime.datasets, "fetch_mal_anime", offline)
    assert main(["demo", "--cv", "0"]) == 2
    assert "SKANIME_DATA_HOME" in _error_line(capsys)


@pytest.mark.real_data
def test_demo_on_real_data(mal_jsonl_path, monkeypatch, capsys):
    monkeypatch.setenv("SKANIME_DATA_HOME", str(mal_jsonl_path.parent))
    args = ["demo", "--subset", "800", "--cv", "2", "-q", *SMALL]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Cross-validated genre prediction (2 folds, 800 anime)" in out
    assert "precision@1" in out
    assert "MyAnimeList genres: Mystery, Romance, Supernatural, Vampire" in out
    predicted = out.split("predicted genres: ")[1].splitlines()[0].split(", ")
    assert predicted and all(g[0].isupper() for g in predicted)


def _write(path, data):
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(
    "make_args, message",
    [
        (
            lambda d, m, t: ["train", str(t / "no.csv"), "-o", str(t / "m")],
            "does not exist",
        ),
        (lambda d, m, t: ["train", str(t), "-o", str(t / "m")], "is a folder"),
        (
            lambda d, m, t: [
                "train",
                _write(t / "x.csv", b"a,b\n1,2\n"),
                "-o",
                str(t / "m"),
            ],
            "cannot read data file",
        ),
        (
            lambda d, m, t: [
                "train",
                d,
                "-o",
                str(t / "m"),
                "--param",
                "stack__network__clf__gama=1",
            ],
            "did you mean stack__network__clf__gamma",
        ),
        (
            lambda d, m, t: [
                "train",
                d,
                "-o",
                str(t / "m"),
                "--param",
                "stack__network__clf__gamma=-1",
            ],
            "bad --param value",
        ),
        (
            lambda d, m, t: ["train", d, "-o", str(t / "m"), "--param", "gamma"],
            "expected KEY=VALUE",
        ),
        (lambda d, m, t: ["train", d, "-o", str(t / "no" / "m")], "does not exist"),
        (lambda d, m, t: ["evaluate", d, "--cv", "1"], "at least 2 folds"),
        (lambda d, m, t: ["evaluate", d, "--seed", "x"], "integer seed"),
        (lambda d, m, t: ["predict", str(t / "no.skops"), "x"], "does not exist"),
        (
            lambda d, m, t: ["predict", _write(t / "m.pkl", pickle.dumps([1])), "x"],
            "pickle",
        ),
        (lambda d, m, t: ["predict", d, "x"], "not a zip archive"),
        (lambda d, m, t: ["predict", m], "no synopsis given"),
        (
            lambda d, m, t: ["explain", m, "ghost", "--genre", "Cooking"],
            "Unknown genre",
        ),
        (lambda d, m, t: ["explain", m, "   "], "empty"),
        (lambda d, m, t: ["explain", m, "ghost", "--steps", "8"], "has no steps"),
        (
            lambda d, m, t: ["explain", m, "ghost", "--method", "integrated_gradients"],
            "Integrated gradients apply only to a single-network Pipeline",
        ),
        (lambda d, m, t: ["demo", "--cv", "1"], "--cv must be 0"),
        (lambda d, m, t: ["dance"], "invalid choice"),
        (lambda d, m, t: [], "required"),
    ],
)
def test_user_errors_are_one_line_with_status_2(
    make_args, message, small_csv, model_path, tmp_path, capsys
):
    assert main(make_args(small_csv, model_path, tmp_path)) == 2
    assert message in _error_line(capsys)


def test_help_and_version_exit_zero(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("skanime ")
    assert main(["predict", "--help"]) == 0
    assert "--top-k" in capsys.readouterr().out


def test_progress_bar_only_on_terminals():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    progress = cli._Progress(quiet=False, stream=Terminal())
    bar = progress.bar(3, "folds")
    assert bar is not None
    progress.log("fold 1/3")
    progress.close_bar()
    assert "fold 1/3" in progress.stream.getvalue()
    assert cli._Progress(quiet=True, stream=Terminal()).bar(3, "folds") is None
    assert cli._Progress(quiet=False, stream=io.StringIO()).bar(3, "folds") is None


def _start(*args):
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.Popen(
        [sys.executable, "-m", "skanime", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_python_m_skanime(model_path, tmp_path):
    # Both processes run at once: most of their time is importing.
    missing = tmp_path / "missing.csv"
    failing = _start("train", str(missing), "-o", str(tmp_path / "m"))
    predicting = _start("predict", model_path, "-", "--top-k", "1")
    out, err = predicting.communicate("ghost\nlaser robot\n", timeout=120)
    assert predicting.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == 2
    for line in lines:
        genre, probability = line.rsplit(" ", 1)
        assert genre in GENRES and 0 <= float(probability) <= 1

    out, err = failing.communicate("", timeout=120)
    assert failing.returncode == 2
    assert err.strip() == f"skanime: error: data file {missing} does not exist"
    assert out == ""
