"""Outputs never overwrite inputs, are checked before the work, keep modes."""

import os
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skanime import _io
from skanime._io import OutputPathError, atomic_write, check_output_paths
from skanime.cli import main
from skanime.datasets import build_dataset

PAGE = (
    '<div itemprop="name"><strong>{name}</strong></div>'
    '<div><span class="dark_text">Genres:</span>'
    '<span itemprop="genre">{genre}</span></div>'
    '<p itemprop="description">{synopsis}</p>'
)


def _pages(folder, n=3):
    folder.mkdir(exist_ok=True)
    for i in range(1, n + 1):
        (folder / f"{i}.html").write_text(
            PAGE.format(name=f"Anime {i}", genre="Action", synopsis=f"Story {i}.")
        )
    return folder


def _error_line(capsys):
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if not line.startswith("[")]
    assert len(lines) == 1, err
    assert lines[0].startswith("skanime: error: ")
    return lines[0]


def _snapshot(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ----------------------------------------------------------- the cases
def test_build_dataset_refuses_the_same_file_for_dataset_and_rejects(tmp_path, capsys):
    pages = _pages(tmp_path / "pages")
    before = _snapshot(tmp_path)
    assert main(["build-dataset", str(pages), "-o", str(tmp_path / "b.csv"),
                 "--rejects", str(tmp_path / "b.csv")]) == 2  # fmt: skip
    line = _error_line(capsys)
    assert "same file as the output" in line and "b.csv" in line
    assert _snapshot(tmp_path) == before


def test_build_dataset_refuses_to_overwrite_its_input_page(tmp_path, capsys):
    pages = _pages(tmp_path / "pages")
    before = _snapshot(tmp_path)
    target = str(pages / "2.html")
    assert main(["build-dataset", str(pages), "-o", target, "-q"]) == 2
    assert "is the input" in _error_line(capsys)
    with pytest.raises(OutputPathError, match="is the input"):
        build_dataset(
            pages / "1.html", tmp_path / "x.csv", rejects_csv=pages / "1.html"
        )
    assert _snapshot(tmp_path) == before


def test_train_refuses_to_overwrite_its_data_file(tmp_path, capsys, datapath):
    data = tmp_path / "anime.csv"
    data.write_bytes(datapath("cli", "anime_small.csv").read_bytes())
    before = data.read_bytes()
    link = tmp_path / "link.csv"
    os.link(data, link)
    for output in (data, tmp_path / "." / "anime.csv", link):
        assert main(["train", str(data), "-o", str(output), "-q"]) == 2
        assert "is the input" in _error_line(capsys)
    assert data.read_bytes() == before


@pytest.mark.parametrize(
    "command",
    [["train", "{data}", "-o", "{out}"], ["demo", "--cv", "0", "-o", "{out}"]],
)
@pytest.mark.parametrize(
    "output, expected",
    [
        ("missing/model.skops", "does not exist"),
        ("afile/model.skops", "is not a folder"),
        ("x" * 300 + ".skops", "too long"),
        ("", "not a usable file name"),
    ],
)
def test_unwritable_outputs_are_refused_before_any_work(
    tmp_path, capsys, monkeypatch, datapath, command, output, expected
):
    (tmp_path / "afile").write_text("a file, not a folder")

    def no_work(*args, **kwargs):
        raise AssertionError("the work started before the output was checked")

    monkeypatch.setenv("SKANIME_DATA_HOME", str(tmp_path / "data_home"))
    monkeypatch.setattr("skanime.datasets.load_anime", no_work)
    monkeypatch.setattr("skanime.datasets.fetch_mal_anime", no_work)
    out = str(tmp_path / output) if output else ""
    data = str(datapath("cli", "anime_small.csv"))
    argv = [arg.format(data=data, out=out) for arg in command]
    assert main([*argv, "-q"]) == 2
    assert expected in _error_line(capsys)


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0,
    reason="needs POSIX permissions enforced (not root)",
)
def test_a_read_only_output_folder_is_refused_before_training(tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(OutputPathError, match="does not accept new files"):
            check_output_paths([folder / "model.skops"])
    finally:
        folder.chmod(0o755)


def test_a_folder_that_refuses_new_files_is_reported(tmp_path, monkeypatch):
    real_open = os.open

    def refusing_open(path, flags, mode=0o777, **kwargs):
        if os.fspath(path).startswith(str(tmp_path / "ro")):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, mode, **kwargs)

    (tmp_path / "ro").mkdir()
    monkeypatch.setattr(_io.os, "open", refusing_open)
    with pytest.raises(OutputPathError, match="does not accept new files"):
        check_output_paths([tmp_path / "ro" / "model.skops"])


def test_a_failed_rejects_write_leaves_the_old_dataset(tmp_path, monkeypatch):
    pages = _pages(tmp_path / "pages")
    (pages / "notes.txt").write_text("a reject")
    out, rejects = tmp_path / "anime.csv", tmp_path / "anime.rejects.csv"
    out.write_text("old dataset\n")
    rejects.write_text("old rejects\n")
    real_finish = _io._Pending.finish

    def finish(self):
        if self.target == os.path.realpath(rejects):
            raise OSError(28, "No space left on device")
        real_finish(self)

    monkeypatch.setattr(_io._Pending, "finish", finish)
    with pytest.raises(OSError, match="No space left"):
        build_dataset(pages, out)
    assert out.read_text() == "old dataset\n"
    assert rejects.read_text() == "old rejects\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "anime.csv",
        "anime.rejects.csv",
        "pages",
    ]


@pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX")
def test_overwriting_keeps_the_file_mode(tmp_path):
    target = tmp_path / "shared.csv"
    target.write_text("old")
    target.chmod(0o640)
    with atomic_write(target) as f:
        f.write("new")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text() == "new"


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_writing_to_a_symlink_writes_through_and_keeps_the_link(tmp_path):
    real = tmp_path / "data" / "anime.csv"
    real.parent.mkdir()
    real.write_text("old")
    real.chmod(0o600)
    link = tmp_path / "current.csv"
    link.symlink_to(real)
    with atomic_write(link) as f:
        f.write("new")
    assert link.is_symlink() and real.read_text() == "new"
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in real.parent.iterdir()) == ["anime.csv"]


@pytest.mark.skipif(os.name != "posix", reason="symbolic links")
def test_a_symlink_to_an_input_is_refused(tmp_path, capsys):
    pages = _pages(tmp_path / "pages")
    link = tmp_path / "out.csv"
    link.symlink_to(pages / "3.html")
    assert main(["build-dataset", str(pages), "-o", str(link), "-q"]) == 2
    assert "is the input" in _error_line(capsys)
    assert "Story 3" in (pages / "3.html").read_text()


# ----------------------------------------------------------- the general rule
_OUTPUTS = [
    "a.csv",
    "b.csv",
    "sub/a.csv",
    "hard_a.csv",
    "sym_a.csv",
    "sym_sub/a.csv",
    "new.csv",
    "sub/../new.csv",
    "sym_sub/new.csv",
]


def _layout(folder):
    """Files, a hard link and symbolic links whose real files are known."""
    (folder / "sub").mkdir(exist_ok=True)
    for name in ("a.csv", "b.csv", "sub/a.csv"):
        (folder / name).write_text(name)
    if not (folder / "hard_a.csv").exists():
        os.link(folder / "a.csv", folder / "hard_a.csv")
        (folder / "sym_a.csv").symlink_to(folder / "a.csv")
        (folder / "sym_sub").symlink_to(folder / "sub")
    return {
        "a.csv": "a.csv",
        "b.csv": "b.csv",
        "sub/a.csv": "sub/a.csv",
        "hard_a.csv": "a.csv",
        "sym_a.csv": "a.csv",
        "sym_sub/a.csv": "sub/a.csv",
        "new.csv": "new.csv",
        "sub/../new.csv": "new.csv",
        "sym_sub/new.csv": "sub/new.csv",
    }


@pytest.mark.skipif(os.name != "posix", reason="symbolic and hard links")
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    outputs=st.lists(st.sampled_from(_OUTPUTS), min_size=1, max_size=3),
    inputs=st.lists(st.sampled_from(["a.csv", "b.csv", "sub/a.csv"]), max_size=2),
)
def test_outputs_are_refused_exactly_when_they_share_a_file(
    tmp_path_factory, outputs, inputs
):
    folder = tmp_path_factory.mktemp("layout")
    real = _layout(folder)
    before = _snapshot(folder)
    clash = set(real[o] for o in outputs) & set(real[i] for i in inputs) or len(
        {real[o] for o in outputs}
    ) < len(outputs)
    call = lambda: check_output_paths(  # noqa: E731
        [folder / o for o in outputs], inputs=[folder / i for i in inputs]
    )
    if clash:
        with pytest.raises(OutputPathError, match="nothing was written"):
            call()
    else:
        call()
    assert _snapshot(folder) == before
    assert not any(p.name.endswith(".tmp") for p in folder.rglob("*"))
