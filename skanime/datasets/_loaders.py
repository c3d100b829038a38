"""Read MyAnimeList anime tables (CSV or JSONL) into a scikit-learn Bunch."""

import logging
import os
import zlib
from collections import Counter
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions, validate_params

from ._formats import LABEL_FAMILIES, DataFormatError, read_records
from ._franchise import franchise_groups
from ._taxonomy import _GenreFolder, map_genres

__all__ = ["DataFormatError", "load_anime"]

logger = logging.getLogger("skanime.datasets")

FRAME_COLUMNS = ("mal_id", "name", "type", "genres", "synopsis")

# Drop reasons, as reported in ``Bunch.dropped`` and in the log.
INVALID_ID = "invalid mal_id"
MISSING_SYNOPSIS = "missing synopsis"
NON_STRING_SYNOPSIS = "synopsis is not a string"
NO_GENRES = "no genres"
NO_GENRES_AFTER_MAPPING = "no genres after mapping"
DUPLICATE_ID = "duplicate mal_id"
_EXPECTED_REASONS = {MISSING_SYNOPSIS, NO_GENRES, NO_GENRES_AFTER_MAPPING}

# MAL API v2 ``media_type`` values (also used, lowercase, by some 2023 dumps)
# and the names shown on MAL pages and in the seed's CSV.
_API_MEDIA_TYPES = {
    "tv": "TV",
    "movie": "Movie",
    "ova": "OVA",
    "special": "Special",
    "ona": "ONA",
    "music": "Music",
    "unknown": "Unknown",
    "tv_special": "TV Special",
    "pv": "PV",
    "cm": "CM",
}

#: The largest data file read, on disk and once decompressed: MAL's whole
#: catalogue (about 25,000 anime) takes about 50 MB as JSONL.
MAX_DATA_BYTES = 512 << 20


def _size_text(n_bytes):
    return f"{n_bytes >> 20} MiB" if n_bytes >= 1 << 20 else f"{n_bytes:,} bytes"


def _too_large(path, what):
    return DataFormatError(
        f"the file {what} more than {_size_text(MAX_DATA_BYTES)}, the most an anime "
        "table may hold (MAL's whole catalogue takes about 50 MB); refusing to "
        "read it. Check that it is the dataset you meant.",
        path=path,
    )


def _gunzip(raw, limit=None):
    """Decompress gzip data, stopping as soon as it exceeds ``limit`` bytes.

    ``None`` means MAX_DATA_BYTES.
    """
    limit = MAX_DATA_BYTES if limit is None else limit
    out, total = [], 0
    while raw:
        inflater = zlib.decompressobj(wbits=31)
        while raw:
            chunk = inflater.decompress(raw, limit + 1 - total)
            total += len(chunk)
            out.append(chunk)
            if total > limit:
                return None
            raw = inflater.unconsumed_tail
            if inflater.eof:
                break
        if not inflater.eof:
            raise EOFError("compressed data ended before the end-of-stream marker")
        raw = inflater.unused_data  # a further gzip member, as gzip allows
    return b"".join(out)


def _read_text(path):
    """Return the decoded text of ``path``, gunzipping it if needed."""
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size > MAX_DATA_BYTES:
            raise _too_large(path, "holds")
        raw = f.read(MAX_DATA_BYTES + 1)
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = _gunzip(raw)
            if raw is None:
                raise _too_large(path, "decompresses to")
        except (OSError, EOFError, zlib.error) as exc:
            raise DataFormatError(
                f"the file is gzip-compressed but cannot be decompressed ({exc}); "
                "it is probably truncated. Download or copy it again.",
                path=path,
            ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataFormatError(
            f"the file is not UTF-8 text (undecodable byte at offset {exc.start}). "
            "Re-save it as UTF-8.",
            path=path,
            line=line,
        ) from None


def _dedupe(names):
    seen = set()
    return [n for n in names if not (n in seen or seen.add(n))]


def _parse_id(value):
    """Return ``value`` as a non-negative int, or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value) if value >= 0 else None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _resolve_mapping(genre_mapping):
    """Return a function list -> list applying ``genre_mapping``."""
    if genre_mapping is None:
        return None
    if isinstance(genre_mapping, str):
        return lambda names: map_genres(names, to=genre_mapping, unknown="keep")
    if isinstance(genre_mapping, Mapping):

        def apply_mapping(names):
            out = []
            for name in names:
                new = genre_mapping.get(name, name)
                if new is None:
                    continue
                out.extend([new] if isinstance(new, str) else list(new))
            return out

        return apply_mapping
    return genre_mapping


class _Collector:
    """Accumulate kept records and dropped rows while reading a file."""

    def __init__(self, path, label_families, mapping, drop_empty_genres):
        self.path = path
        self.label_families = label_families
        self.mapping = mapping
        self.drop_empty_genres = drop_empty_genres
        self.rows = []
        self.dropped = []
        self.seen_ids = set()
        self.genre_folder = _GenreFolder()

    def add(self, line, raw_id, name, type_, synopsis, families):
        mal_id = _parse_id(raw_id)
        if mal_id is None:
            self.dropped.append((line, None, INVALID_ID))
            return
        if synopsis is None or (isinstance(synopsis, float) and synopsis != synopsis):
            self.dropped.append((line, mal_id, MISSING_SYNOPSIS))
            return
        if not isinstance(synopsis, str):
            self.dropped.append((line, mal_id, NON_STRING_SYNOPSIS))
            return
        if not synopsis.strip():
            self.dropped.append((line, mal_id, MISSING_SYNOPSIS))
            return
        genres = self.genre_folder.fold(
            [g for family in self.label_families for g in families.get(family, ())],
            f"{self.path}, line {line}",
        )
        if not genres and self.drop_empty_genres:
            self.dropped.append((line, mal_id, NO_GENRES))
            return
        if self.mapping is not None and genres:
            mapped = self.mapping(list(genres))
            if isinstance(mapped, str) or not all(isinstance(g, str) for g in mapped):
                raise TypeError(
                    f"genre_mapping must return a list of str; for {self.path}, "
                    f"line {line} it returned {mapped!r:.80}."
                )
            genres = _dedupe(mapped)
            if not genres and self.drop_empty_genres:
                self.dropped.append((line, mal_id, NO_GENRES_AFTER_MAPPING))
                return
        if mal_id in self.seen_ids:
            self.dropped.append((line, mal_id, DUPLICATE_ID))
            return
        self.seen_ids.add(mal_id)
        name = name if isinstance(name, str) and name else None
        type_ = type_.strip() if isinstance(type_, str) and type_.strip() else None
        if type_ is not None:
            type_ = _API_MEDIA_TYPES.get(type_.lower(), type_)
        self.rows.append((mal_id, name, type_, genres, synopsis))


def _check_label_families(label_families):
    families = list(label_families)
    unknown = [f for f in families if f not in LABEL_FAMILIES]
    if not families or unknown or len(set(families)) != len(families):
        raise ValueError(
            f"label_families must be a non-empty list of distinct names among "
            f"{list(LABEL_FAMILIES)}; got {label_families!r}."
        )
    return tuple(families)


def _log_dropped(path, n_kept, dropped):
    if not dropped:
        logger.info("Read %d anime from %s; no row dropped.", n_kept, path)
        return
    counts = Counter(reason for _, _, reason in dropped)
    level = logging.INFO if set(counts) <= _EXPECTED_REASONS else logging.WARNING
    logger.log(
        level,
        "Read %d anime from %s; dropped %d rows: %s. See Bunch.dropped for "
        "their line numbers.",
        n_kept,
        path,
        len(dropped),
        ", ".join(f"{reason}: {n}" for reason, n in counts.most_common()),
    )


@validate_params(
    {
        "path": [str, os.PathLike],
        "label_families": [list, tuple],
        "genre_mapping": [
            None,
            StrOptions({"2020", "2021", "2023"}),
            Mapping,
            callable,
        ],
        "drop_empty_genres": ["boolean"],
        "return_X_y": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_anime(
    path,
    *,
    label_families=("genres",),
    genre_mapping=None,
    drop_empty_genres=True,
    return_X_y=False,
):
    """Load a MyAnimeList anime table for multi-label genre prediction.

    The format is recognised from the content (first line or CSV header),
    not from the file name, and the file may be gzip-compressed:

    - the seed's ``anime.csv``: ``MAL_ID, Name, Type, Genre, Synopsis``, the
      genres comma+space separated;
    - Kaggle's ``anime_with_synopsis.csv``: ``MAL_ID, Name, Score, Genres,
      sypnopsis`` (sic), without a type column; a genre cell "Unknown"
      means no genres;
    - MAL dumps from 2023 on, with separate ``genres``, ``themes`` and
      ``demographics`` columns (id column ``mal_id``, ``anime_id`` or ``id``;
      title column ``title`` or ``name``), cells either "A, B" or a list
      literal "['A', 'B']";
    - MAL API JSONL: one ``{"id", "title", "synopsis", "genres": [{"id",
      "name"}, ...]}`` object per line (``media_type``, ``themes``,
      ``demographics`` are read when present).

    Rows that cannot be used are dropped and reported, never silently: each
    appears in ``dropped`` with its line number and reason, and the counts
    per reason are logged on the ``"skanime"`` logger. The reasons are
    "invalid mal_id", "missing synopsis" (absent, null, NaN or blank),
    "synopsis is not a string", "no genres", "no genres after mapping" and
    "duplicate mal_id" (the first usable record of an id is kept). Genre
    names are folded to one spelling per genre, as
    :func:`~skanime.datasets.fold_genre_names` does (case and spacing, the
    taxonomy's spelling for MAL's names; the count of folded names is logged
    as a warning, names outside MAL's taxonomies are kept and logged), and
    an empty genre name is a :class:`DataFormatError`. A file
    that cannot be read as a whole (unknown header, bad CSV quoting, a field
    count that differs from the header, invalid JSON, genres that are not a
    list) raises :class:`DataFormatError` naming the file and line.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.

    label_families : list or tuple of str, default=("genres",)
        Which label columns to merge into the targets, among "genres",
        "explicit_genres", "themes" and "demographics". Only dumps from 2023
        on have the last three; older files list them as genres.

    genre_mapping : {"2020", "2021", "2023"}, dict, callable or None, \
            default=None
        Renames genres before binarizing. A year maps names to that year's
        taxonomy with :func:`~skanime.datasets.map_genres` (names it does not
        know are kept). A dict maps a name to a new name, to a list of names,
        or to None to drop it; names absent from the dict are kept. A
        callable takes and returns a list of str.

    drop_empty_genres : bool, default=True
        Drop the anime left without any genre (reason "no genres", or "no
        genres after mapping"). When False they are kept with an all-zero
        target row.

    return_X_y : bool, default=False
        Return ``(data, target)`` instead of the Bunch.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        frame : pandas.DataFrame
            One row per anime kept, columns ``mal_id`` (int64), ``name``,
            ``type`` (None when the format has no type), ``genres`` (list of
            str), ``synopsis`` and ``franchise`` (int64 franchise id from
            the titles, see :func:`~skanime.datasets.franchise_groups`), in
            file order.
        data : ndarray of str, dtype=object, shape (n_anime,)
            The synopses, unprocessed.
        target : ndarray of int, shape (n_anime, n_genres)
            The genre indicator matrix (:class:`MultiLabelBinarizer`).
        target_names : ndarray of str, shape (n_genres,)
            The genre names, sorted, in the column order of ``target``.
        dropped : pandas.DataFrame
            One row per dropped row, columns ``line`` (1-based line where the
            record starts), ``mal_id`` (nullable int) and ``reason``.
        format : str
            The format recognised.
        filename : str
            The path read.
        DESCR : str
            A short description of what was read.

    (data, target) : tuple if ``return_X_y`` is True
        The synopses and the indicator matrix.

    Raises
    ------
    DataFormatError
        If the file is not in one of the formats above, or is malformed.

    See Also
    --------
    fetch_mal_anime : Finds, or downloads, a dataset and loads it.
    clean_anime_frame : The seed recipe's row filters.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skanime.datasets import load_anime
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "anime.csv"
    >>> _ = path.write_text(
    ...     "MAL_ID,Name,Type,Genre,Synopsis\\n"
    ...     '1,Cowboy Bebop,TV,"Action, Sci-Fi, Space",Bounty hunters in 2071.\\n'
    ...     "6,Trigun,TV,,A gunman with a price on his head.\\n"
    ...     '19,Monster,TV,"Drama, Mystery",A surgeon hunts a killer.\\n'
    ... )
    >>> anime = load_anime(path)
    >>> anime.target_names
    array(['Action', 'Drama', 'Mystery', 'Sci-Fi', 'Space'], dtype=object)
    >>> anime.target
    array([[1, 0, 0, 1, 1],
           [0, 1, 1, 0, 0]])
    >>> anime.dropped
       line  mal_id     reason
    0     3       6  no genres
    >>> tmp.cleanup()
    """
    families = _check_label_families(label_families)
    mapping = _resolve_mapping(genre_mapping)
    text = _read_text(path)
    collector = _Collector(path, families, mapping, drop_empty_genres)
    fmt = read_records(text, path, collector)

    rows, dropped = collector.rows, collector.dropped
    _log_dropped(os.fspath(path), len(rows), dropped)
    collector.genre_folder.log(os.fspath(path))
    if not rows:
        counts = Counter(reason for _, _, reason in dropped)
        raise DataFormatError(
            f"no usable anime in this {fmt}: all {len(dropped)} rows were dropped "
            f"({dict(counts)}).",
            path=path,
        )
    columns = list(zip(*rows, strict=True))
    frame = pd.DataFrame(
        {
            "mal_id": np.asarray(columns[0], dtype=np.int64),
            **{
                col: pd.Series(list(values), dtype=object)
                for col, values in zip(FRAME_COLUMNS[1:], columns[1:], strict=True)
            },
        }
    )
    frame["franchise"] = franchise_groups(frame["name"].tolist())
    dropped_frame = pd.DataFrame(
        {
            "line": pd.Series([d[0] for d in dropped], dtype=np.int64),
            "mal_id": pd.array([d[1] for d in dropped], dtype="Int64"),
            "reason": pd.Series([d[2] for d in dropped], dtype=object),
        }
    )
    binarizer = MultiLabelBinarizer()
    target = binarizer.fit_transform(frame["genres"])
    data = frame["synopsis"].to_numpy(dtype=object)
    if return_X_y:
        return data, target
    counts = Counter(reason for _, _, reason in dropped)
    dropped_text = (
        ", ".join(f"{reason}: {n}" for reason, n in counts.most_common()) or "none"
    )
    descr = (
        f"MyAnimeList anime read from {os.fspath(path)} ({fmt}).\n"
        f"{len(frame)} anime, {len(binarizer.classes_)} genre labels from "
        f"{', '.join(families)}; {len(dropped)} rows dropped ({dropped_text}).\n"
        "frame columns: mal_id, name, type, genres (list of str), synopsis, "
        "franchise (franchise id from the titles)."
    )
    return Bunch(
        frame=frame,
        data=data,
        target=target,
        target_names=np.asarray(binarizer.classes_, dtype=object),
        dropped=dropped_frame,
        format=fmt,
        filename=os.fspath(path),
        DESCR=descr,
    )
