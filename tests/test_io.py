import csv
import os

import pytest

from skanime._io import atomic_write


def _leftovers(folder, keep):
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def test_atomic_write_creates_file(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_write(target) as f:
        f.write("héllo\n")
    assert target.read_text(encoding="utf-8") == "héllo\n"
    assert _leftovers(tmp_path, {"out.txt"}) == []


def test_atomic_write_replaces_existing_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_write(str(target)) as f:
        f.write("new")
    assert target.read_text() == "new"


def test_atomic_write_binary(tmp_path):
    target = tmp_path / "out.bin"
    with atomic_write(target, "wb") as f:
        f.write(b"\x00\x01\xff")
    assert target.read_bytes() == b"\x00\x01\xff"


def test_atomic_write_csv_newline(tmp_path):
    target = tmp_path / "out.csv"
    with atomic_write(target, newline="") as f:
        csv.writer(f).writerow(["a", "line\nbreak"])
    with open(target, newline="") as f:
        assert list(csv.reader(f)) == [["a", "line\nbreak"]]


@pytest.mark.parametrize("exception", [RuntimeError, KeyboardInterrupt])
def test_atomic_write_keeps_target_on_exception(tmp_path, exception):
    target = tmp_path / "out.txt"
    target.write_text("complete old content")
    with pytest.raises(exception):
        with atomic_write(target) as f:
            f.write("half-written")
            f.flush()
            raise exception()
    assert target.read_text() == "complete old content"
    assert _leftovers(tmp_path, {"out.txt"}) == []


def test_atomic_write_creates_nothing_on_exception(tmp_path):
    target = tmp_path / "new.txt"
    with pytest.raises(ValueError, match="boom"):
        with atomic_write(target) as f:
            f.write("partial")
            raise ValueError("boom")
    assert list(tmp_path.iterdir()) == []


def test_atomic_write_temp_file_is_in_target_folder(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_write(target) as f:
        f.write("x")
        (temp,) = tmp_path.iterdir()
        assert temp.name.startswith(".out.txt.") and temp.name.endswith(".tmp")
        assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


@pytest.mark.skipif(os.name != "posix", reason="permission bits are POSIX")
def test_atomic_write_permissions_follow_umask(tmp_path):
    old = os.umask(0o022)
    try:
        target = tmp_path / "out.txt"
        with atomic_write(target) as f:
            f.write("x")
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o644


def test_atomic_write_rejects_read_mode(tmp_path):
    with pytest.raises(ValueError, match="mode='r'"):
        with atomic_write(tmp_path / "x.txt", "r"):
            pass


def test_atomic_write_missing_folder(tmp_path):
    target = tmp_path / "missing" / "out.txt"
    with pytest.raises(FileNotFoundError, match="does not exist"):
        with atomic_write(target):
            pass
    assert not (tmp_path / "missing").exists()
