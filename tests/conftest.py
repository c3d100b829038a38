import os
from pathlib import Path

import pytest

TEST_DATA_DIR = Path(__file__).parent / "data"
MAL_FILENAME = "mal_anime_2021.jsonl"
PTB_VECTORS = Path("vectors") / "ptb_cbow_100d.txt.gz"


@pytest.fixture(scope="session")
def datapath():
    """Return a function mapping names to hand-made fixtures in ``tests/data``."""

    def _datapath(*parts):
        return TEST_DATA_DIR.joinpath(*parts)

    return _datapath


def _data_home():
    value = os.environ.get("SKANIME_DATA_HOME")
    return Path(value) if value else None


@pytest.fixture(scope="session")
def mal_jsonl_path():
    """The real MAL-2021 JSONL file, or skip when SKANIME_DATA_HOME lacks it."""
    home = _data_home()
    if home is None:
        pytest.skip(
            "SKANIME_DATA_HOME is not set; real-data tests need mal_anime_2021.jsonl"
        )
    path = home / MAL_FILENAME
    if not path.is_file():
        pytest.skip(f"{path} not found; set SKANIME_DATA_HOME to the folder holding it")
    return path


@pytest.fixture(scope="session")
def ptb_vectors_path():
    """The seed's PTB CBOW vectors, or skip when SKANIME_DATA_HOME lacks them."""
    home = _data_home()
    if home is None:
        pytest.skip("SKANIME_DATA_HOME is not set; this test needs the PTB vectors")
    path = home / PTB_VECTORS
    if not path.is_file():
        pytest.skip(
            f"{path} not found; set SKANIME_DATA_HOME to the shared data folder"
        )
    return path
