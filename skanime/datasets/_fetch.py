"""Find the anime dataset in a local cache, or download the seed's anime.csv."""

import csv
import io
import logging
import os
import urllib.error
import urllib.request
from numbers import Integral
from pathlib import Path

from sklearn.utils._param_validation import Interval, validate_params

from .._io import atomic_write, check_output_paths
from ._loaders import MAX_DATA_BYTES, DataFormatError, _size_text, load_anime

__all__ = ["DEFAULT_URL", "fetch_mal_anime", "get_data_home"]

logger = logging.getLogger("skanime.datasets")

#: The seed project's anime.csv (MAL_ID, Name, Type, Genre, Synopsis).
DEFAULT_URL = (
    "https://raw.githubusercontent.com/yh08037/anime-genre-classification/"
    "master/gen_data/anime.csv"
)
#: The environment variable naming the data folder.
DATA_HOME_ENV = "SKANIME_DATA_HOME"
#: The files looked for in the data folder, in order of preference.
CANDIDATE_FILES = ("mal_anime_2021.jsonl", "anime.csv")
_DOWNLOAD_NAME = "anime.csv"
_SEED_HEADER = ["MAL_ID", "Name", "Type", "Genre", "Synopsis"]
_TIMEOUT = 60


@validate_params(
    {"data_home": [str, os.PathLike, None]}, prefer_skip_nested_validation=True
)
def get_data_home(data_home=None):
    """Return the folder where skanime keeps its datasets, creating it.

    The folder is, by priority: ``data_home`` when given, the environment
    variable ``SKANIME_DATA_HOME`` when set, else ``~/skanime_data``. A
    leading ``~`` is expanded.

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        The folder to use.

    Returns
    -------
    data_home : str
        The folder, which exists.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skanime.datasets import get_data_home
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     home = get_data_home(Path(tmp) / "cache")
    ...     Path(home).is_dir()
    True
    """
    if data_home is None:
        data_home = os.environ.get(DATA_HOME_ENV) or os.path.join("~", "skanime_data")
    data_home = os.path.expanduser(os.fspath(data_home))
    os.makedirs(data_home, exist_ok=True)
    return data_home


def _unavailable_message(data_home, url, cause):
    return (
        f"{cause} Put mal_anime_2021.jsonl or the seed's anime.csv in "
        f"{data_home} (choose that folder with the {DATA_HOME_ENV} environment "
        f"variable or the data_home argument), or download anime.csv from {url} "
        "into it."
    )


def _check_download(content, url, min_rows):
    """Raise DataFormatError unless ``content`` is the seed's anime.csv."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataFormatError(
            f"the file downloaded from {url} is not UTF-8 text; nothing was saved."
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [h.strip() for h in next(reader)]
        n_rows = sum(1 for row in reader if row)
    except (StopIteration, csv.Error) as exc:
        raise DataFormatError(
            f"the file downloaded from {url} is not a readable CSV ({exc or 'empty'}); "
            "nothing was saved."
        ) from None
    if header != _SEED_HEADER:
        raise DataFormatError(
            f"the file downloaded from {url} has the columns {header[:8]}, not the "
            f"seed's {_SEED_HEADER}; nothing was saved. Check the url."
        )
    if n_rows < min_rows:
        raise DataFormatError(
            f"the file downloaded from {url} has {n_rows} rows, fewer than "
            f"min_rows={min_rows}: it is probably incomplete; nothing was saved. "
            "Try again later."
        )
    return n_rows


@validate_params(
    {
        "data_home": [str, os.PathLike, None],
        "download_if_missing": ["boolean"],
        "url": [str],
        "return_X_y": ["boolean"],
        "min_rows": [Interval(Integral, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def fetch_mal_anime(
    data_home=None,
    *,
    download_if_missing=True,
    url=DEFAULT_URL,
    return_X_y=False,
    min_rows=1000,
    **load_kwargs,
):
    """Load the MyAnimeList anime dataset, downloading it when missing.

    Looks in the data folder (see :func:`get_data_home`) for
    ``mal_anime_2021.jsonl`` (the real MAL API data), then for the seed's
    ``anime.csv``, and loads the first found with :func:`load_anime`. When
    neither is there, downloads the seed's ``anime.csv`` from ``url``,
    checks that it has the seed's columns and at least ``min_rows`` rows,
    and saves it atomically into the data folder (a failed or interrupted
    download leaves no file behind).

    Parameters
    ----------
    data_home : str or os.PathLike, default=None
        The data folder. None uses ``$SKANIME_DATA_HOME``, else
        ``~/skanime_data``.

    download_if_missing : bool, default=True
        Download when no file is found. When False, a missing dataset
        raises ``FileNotFoundError``.

    url : str, default=DEFAULT_URL
        Where to download the seed's ``anime.csv`` from.

    return_X_y : bool, default=False
        Return ``(data, target)`` instead of the Bunch.

    min_rows : int, default=1000
        The fewest data rows a download may have to be accepted.

    **load_kwargs : dict
        Passed to :func:`load_anime` (``label_families``, ``genre_mapping``,
        ``drop_empty_genres``).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch` or tuple
        What :func:`load_anime` returns.

    Raises
    ------
    FileNotFoundError
        If no dataset is found and ``download_if_missing`` is False.
    OSError
        If the download fails (offline, HTTP error) or is larger than 512
        MiB (not saved). The message names the ``SKANIME_DATA_HOME``
        variable and the url.
    ValueError
        If the data folder does not accept the file, checked before the
        download (``skanime._io.OutputPathError``).
    DataFormatError
        If the downloaded file is not the seed's ``anime.csv``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skanime.datasets import fetch_mal_anime
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = (Path(tmp.name) / "anime.csv").write_text(
    ...     "MAL_ID,Name,Type,Genre,Synopsis\\n"
    ...     '1,Cowboy Bebop,TV,"Action, Space",Bounty hunters in 2071.\\n')
    >>> X, y = fetch_mal_anime(tmp.name, return_X_y=True)
    >>> X.shape, y.shape
    ((1,), (1, 2))
    >>> tmp.cleanup()
    """
    home = get_data_home(data_home)
    for name in CANDIDATE_FILES:
        path = Path(home) / name
        if path.is_file():
            logger.info("Loading the anime dataset from %s.", path)
            return load_anime(path, return_X_y=return_X_y, **load_kwargs)

    if not download_if_missing:
        raise FileNotFoundError(
            _unavailable_message(
                home,
                url,
                f"No anime dataset ({' or '.join(CANDIDATE_FILES)}) in {home}, and "
                "download_if_missing=False.",
            )
        )
    target = Path(home) / _DOWNLOAD_NAME
    check_output_paths([target])
    logger.info("Downloading the anime dataset from %s into %s.", url, home)
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
            content = response.read(MAX_DATA_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise OSError(
            _unavailable_message(
                home, url, f"Could not download the anime dataset from {url} ({exc})."
            )
        ) from exc
    if len(content) > MAX_DATA_BYTES:
        raise OSError(
            _unavailable_message(
                home,
                url,
                f"The download from {url} is larger than {_size_text(MAX_DATA_BYTES)}, "
                "more than any anime table; it was not saved.",
            )
        )
    n_rows = _check_download(content, url, min_rows)
    with atomic_write(target, "wb") as f:
        f.write(content)
    logger.info("Saved %d rows to %s.", n_rows, target)
    return load_anime(target, return_X_y=return_X_y, **load_kwargs)
