import functools
import os
import shutil
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skanime.datasets import (
    DEFAULT_URL,
    DataFormatError,
    fetch_mal_anime,
    get_data_home,
    load_anime,
)


class _QuietHandler(SimpleHTTPRequestHandler):
    requests = []

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        super().do_GET()


@pytest.fixture
def http_server(datapath):
    """Serve tests/data on 127.0.0.1; yields the base url and the request log."""
    handler = type("Handler", (_QuietHandler,), {"requests": []})
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0),
        functools.partial(handler, directory=str(datapath())),
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def unused_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------
# get_data_home


def test_get_data_home_explicit(tmp_path):
    home = get_data_home(tmp_path / "a" / "b")
    assert home == str(tmp_path / "a" / "b")
    assert Path(home).is_dir()


def test_get_data_home_env_var(tmp_path, monkeypatch):
    monkeypatch.setenv("SKANIME_DATA_HOME", str(tmp_path / "env"))
    assert get_data_home() == str(tmp_path / "env")
    assert get_data_home(tmp_path / "arg") == str(tmp_path / "arg")


def test_get_data_home_default(tmp_path, monkeypatch):
    monkeypatch.delenv("SKANIME_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    assert get_data_home() == str(tmp_path / "skanime_data")
    assert get_data_home("~/other") == str(tmp_path / "other")


# --------------------------------------------------------------------------
# fetch_mal_anime: local files


def test_fetch_prefers_the_jsonl(datapath, tmp_path):
    shutil.copy(datapath("mal_small.jsonl"), tmp_path / "mal_anime_2021.jsonl")
    shutil.copy(datapath("anime_seed.csv"), tmp_path / "anime.csv")
    bunch = fetch_mal_anime(tmp_path, download_if_missing=False)
    assert bunch.format == "MAL API JSONL"
    assert bunch.frame["mal_id"].tolist() == [1, 5, 16]


def test_fetch_uses_the_seed_csv_and_load_kwargs(datapath, tmp_path, monkeypatch):
    shutil.copy(datapath("anime_seed.csv"), tmp_path / "anime.csv")
    monkeypatch.setenv("SKANIME_DATA_HOME", str(tmp_path))
    X, y = fetch_mal_anime(genre_mapping="2021", return_X_y=True)
    expected = load_anime(datapath("anime_seed.csv"), genre_mapping="2021")
    assert X.tolist() == expected.data.tolist()
    assert (y == expected.target).all()


def test_fetch_missing_without_download(tmp_path):
    with pytest.raises(FileNotFoundError, match="SKANIME_DATA_HOME") as info:
        fetch_mal_anime(tmp_path, download_if_missing=False)
    message = str(info.value)
    assert str(tmp_path) in message and DEFAULT_URL in message
    assert "download_if_missing=False" in message


# --------------------------------------------------------------------------
# fetch_mal_anime: downloads from a local server


def test_fetch_downloads_once_and_caches(http_server, tmp_path, datapath):
    base, requests = http_server
    url = f"{base}/anime_seed.csv"
    home = tmp_path / "home"
    bunch = fetch_mal_anime(home, url=url, min_rows=5)
    saved = home / "anime.csv"
    assert saved.read_bytes() == datapath("anime_seed.csv").read_bytes()
    assert bunch.frame["mal_id"].tolist() == load_anime(saved).frame["mal_id"].tolist()
    assert [p.name for p in home.iterdir()] == ["anime.csv"]

    again = fetch_mal_anime(home, url=url, min_rows=5)
    assert requests == ["/anime_seed.csv"]
    assert again.frame.equals(bunch.frame)


def test_fetch_http_error_names_env_var_and_url(http_server, tmp_path):
    base, _ = http_server
    url = f"{base}/missing.csv"
    with pytest.raises(OSError, match="HTTP Error 404") as info:
        fetch_mal_anime(tmp_path, url=url)
    assert "SKANIME_DATA_HOME" in str(info.value) and url in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_fetch_offline_names_env_var_and_url(tmp_path, unused_port):
    url = f"http://127.0.0.1:{unused_port}/anime.csv"
    with pytest.raises(
        OSError, match=r"Could not download .*SKANIME_DATA_HOME"
    ) as info:
        fetch_mal_anime(tmp_path, url=url)
    assert url in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_fetch_rejects_wrong_columns(http_server, tmp_path):
    base, _ = http_server
    with pytest.raises(
        DataFormatError,
        match=r"has the columns \['MAL_ID', 'Name', "
        r"'Score', 'Genres', 'sypnopsis'\].*nothing was saved",
    ):
        fetch_mal_anime(tmp_path, url=f"{base}/anime_with_synopsis.csv", min_rows=1)
    assert list(tmp_path.iterdir()) == []


def test_fetch_rejects_too_few_rows(http_server, tmp_path):
    base, _ = http_server
    with pytest.raises(DataFormatError, match=r"has 19 rows, fewer than min_rows=1000"):
        fetch_mal_anime(tmp_path, url=f"{base}/anime_seed.csv")
    assert list(tmp_path.iterdir()) == []


def test_fetch_rejects_unreadable_download(http_server, tmp_path):
    base, _ = http_server
    with pytest.raises(DataFormatError, match="not a readable CSV"):
        fetch_mal_anime(tmp_path, url=f"{base}/anime_seed_bad_quote.csv", min_rows=1)
    assert list(tmp_path.iterdir()) == []


def test_fetch_parameter_validation(tmp_path):
    with pytest.raises(InvalidParameterError, match="min_rows"):
        fetch_mal_anime(tmp_path, min_rows=-1)
    with pytest.raises(InvalidParameterError, match="url"):
        fetch_mal_anime(tmp_path, url=None)


@pytest.mark.real_data
def test_fetch_real_data_home(mal_jsonl_path):
    bunch = fetch_mal_anime(mal_jsonl_path.parent, download_if_missing=False)
    assert bunch.target.shape == (9494, 43)


def test_a_download_over_the_size_limit_is_not_saved(
    http_server, tmp_path, monkeypatch
):
    from skanime.datasets import _fetch

    base, _ = http_server
    monkeypatch.setattr(_fetch, "MAX_DATA_BYTES", 100)
    home = tmp_path / "home"
    with pytest.raises(OSError, match="larger than 100 bytes"):
        fetch_mal_anime(home, url=f"{base}/anime_seed.csv", min_rows=5)
    assert list(home.iterdir()) == []


def test_an_unwritable_data_home_is_reported_before_downloading(
    http_server, tmp_path, monkeypatch
):
    from skanime import _io

    base, requests = http_server
    home = tmp_path / "home"
    home.mkdir()
    real_open = os.open

    def refusing_open(path, flags, mode=0o777, **kwargs):
        if os.fspath(path).startswith(str(home)):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(_io.os, "open", refusing_open)
    with pytest.raises(ValueError, match="does not accept new files"):
        fetch_mal_anime(home, url=f"{base}/anime_seed.csv", min_rows=5)
    assert requests == []
