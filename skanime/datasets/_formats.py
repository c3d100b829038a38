"""The anime table formats :func:`load_anime` reads, and their errors.

The CSV layouts (the seed's ``anime.csv``, Kaggle's
``anime_with_synopsis.csv``, the MAL dumps from 2023 on) and MAL API JSONL.
Each reader parses its rows and genre fields and hands every record to the
loader's collector, which applies the row rules (ids, synopses, genres,
duplicates). :class:`DataFormatError` says what is wrong, where.
"""

import ast
import csv
import io
import json
import os

LABEL_FAMILIES = ("genres", "explicit_genres", "themes", "demographics")

# Normalised CSV header names accepted for each canonical role, by priority.
_ALIASES = {
    "mal_id": ("mal_id", "anime_id", "id", "myanimelist_id"),
    "name": ("name", "title"),
    "type": ("type", "media_type"),
    "synopsis": ("synopsis", "sypnopsis"),
    "genres": ("genres", "genre"),
    "explicit_genres": ("explicit_genres",),
    "themes": ("themes", "theme"),
    "demographics": ("demographics", "demographic"),
}

_FORMAT_HELP = (
    "Supported formats: the seed's anime.csv (MAL_ID, Name, Type, Genre, "
    "Synopsis); Kaggle's anime_with_synopsis.csv (MAL_ID, Name, Score, Genres, "
    "sypnopsis); MAL dumps from 2023 on (an id, a title, genres, themes, "
    "demographics and synopsis columns); MAL API JSONL (one "
    '{"id", "title", "synopsis", "genres": [{"id", "name"}]} object per line).'
)


class DataFormatError(ValueError):
    """An anime data file does not have the expected format.

    The message names the file and, when known, the line.

    Attributes
    ----------
    path : str or None
        The file.

    line : int or None
        The 1-based line number where the problem starts.
    """

    def __init__(self, message, *, path=None, line=None):
        self.path = None if path is None else os.fspath(path)
        self.line = line
        where = ""
        if self.path is not None:
            where = self.path if line is None else f"{self.path}, line {line}"
        super().__init__(f"{where}: {message}" if where else message)


def _first_char(text):
    stripped = text.lstrip()
    return stripped[:1]


def _split_genre_field(value, *, path, line, column):
    """Parse a CSV genre cell: "A, B" or a Python list literal "['A', 'B']"."""
    text = value.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            names = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            names = None
        if not isinstance(names, (list, tuple)) or not all(
            isinstance(n, str) for n in names
        ):
            raise DataFormatError(
                f"column {column!r} holds {text[:60]!r}, which is neither a "
                "comma-separated list of names nor a list literal of str such as "
                "\"['Action', 'Drama']\". Fix that cell.",
                path=path,
                line=line,
            )
        names = [n.strip() for n in names]
    else:
        names = [n.strip() for n in text.split(",")]
    if not all(names):
        raise DataFormatError(
            f"column {column!r} holds an empty genre name in {text[:60]!r} (a "
            "doubled, leading or trailing comma, or an empty string). Remove it "
            "from that cell.",
            path=path,
            line=line,
        )
    if names == ["Unknown"]:
        # The Kaggle 2020 dump writes "Unknown" for an anime without genres.
        return []
    return names


def _json_genre_names(value, *, path, line, key):
    """Parse a JSON genre list: [{"id": 1, "name": "Action"}, ...] or names."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise DataFormatError(
            f'{key!r} must be a list of {{"id", "name"}} objects or of names; '
            f"got {type(value).__name__} ({value!r:.60}). Fix that record.",
            path=path,
            line=line,
        )
    names = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str) and name.strip():
            names.append(name.strip())
            continue
        problem = (
            f"must hold objects with a str 'name' or plain names; found {item!r:.60}. "
            "Fix that record."
            if not isinstance(name, str)
            else f"holds an empty genre name ({item!r:.60}). Remove it from that "
            "record."
        )
        raise DataFormatError(f"{key!r} {problem}", path=path, line=line)
    return names


def _missing_family_error(path, fmt, family):
    return DataFormatError(
        f"label_families includes {family!r} but this {fmt} has no {family!r} "
        "column. Files before 2023 list themes and demographics among the genres: "
        "use label_families=('genres',) for them.",
        path=path,
    )


def _read_jsonl(text, path, collector):
    lines = text.splitlines()
    last = len(lines)
    while last and not lines[last - 1].strip():
        last -= 1
    families_seen = set()
    for number, line in enumerate(lines[:last], start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except RecursionError:
            raise DataFormatError(
                "the JSON on this line is nested too deeply to read; an anime "
                "record is a flat object. Fix or remove that line.",
                path=path,
                line=number,
            ) from None
        except json.JSONDecodeError as exc:
            hint = (
                " This is the last line: the file looks truncated. Download or "
                "copy it again."
                if number == last
                else " Fix or remove that line."
            )
            raise DataFormatError(
                f"invalid JSON ({exc.msg} at column {exc.colno}).{hint}",
                path=path,
                line=number,
            ) from None
        if not isinstance(record, dict):
            raise DataFormatError(
                f"expected one JSON object per line; got {type(record).__name__}.",
                path=path,
                line=number,
            )
        families = {}
        for family in LABEL_FAMILIES:
            if family in record:
                families_seen.add(family)
                families[family] = _json_genre_names(
                    record[family], path=path, line=number, key=family
                )
        raw_id = record.get("id", record.get("mal_id"))
        name = record.get("title", record.get("name"))
        type_ = record.get("media_type", record.get("type"))
        synopsis = record.get("synopsis", record.get("sypnopsis"))
        collector.add(number, raw_id, name, type_, synopsis, families)
    for family in collector.label_families:
        if family != "genres" and family not in families_seen:
            raise _missing_family_error(path, "JSONL file", family)
    return "MAL API JSONL"


def _normalise_header(name):
    return "_".join(name.strip().lower().split())


def _read_csv(text, path, collector):
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise DataFormatError("the file is empty.", path=path, line=1) from None
    except csv.Error as exc:
        raise DataFormatError(
            f"cannot read the CSV header ({exc}).", path=path, line=1
        ) from None
    columns = [_normalise_header(h) for h in header]
    index = {}
    for role, aliases in _ALIASES.items():
        for alias in aliases:
            if alias in columns:
                index[role] = columns.index(alias)
                break
    if "sypnopsis" in columns:
        fmt = "Kaggle anime_with_synopsis.csv"
    elif "themes" in index or "demographics" in index:
        fmt = "MAL 2023+ CSV dump"
    elif {"mal_id", "name", "type", "genre", "synopsis"} <= set(columns):
        fmt = "seed anime.csv"
    else:
        fmt = "CSV file"
    missing = [role for role in ("mal_id", "genres", "synopsis") if role not in index]
    if missing:
        raise DataFormatError(
            f"unrecognised header {header}: no column for {missing}. {_FORMAT_HELP}",
            path=path,
            line=1,
        )
    for family in collector.label_families:
        if family not in index:
            raise _missing_family_error(path, fmt, family)
    n_columns = len(header)
    previous = reader.line_num
    while True:
        start = previous + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "field larger than field limit" in str(exc):
                raise DataFormatError(
                    f"a field of the record starting on this line is longer than "
                    f"{csv.field_size_limit():,} characters, the most a CSV field "
                    "may hold here. Shorten that field (no synopsis needs this "
                    "much), or, if the record is short, look for a quote it opens "
                    "and never closes: the rest of the file then reads as one "
                    "field.",
                    path=path,
                    line=start,
                ) from None
            raise DataFormatError(
                f"malformed CSV ({exc}); a quoted field that starts on this line is "
                "not closed properly. Check the quotes of that record.",
                path=path,
                line=start,
            ) from None
        previous = reader.line_num
        if not row:
            continue
        if len(row) != n_columns:
            raise DataFormatError(
                f"expected {n_columns} fields as in the header, found {len(row)}. "
                "A field holding a comma or a line break must be quoted.",
                path=path,
                line=start,
            )
        families = {
            family: _split_genre_field(
                row[index[family]], path=path, line=start, column=header[index[family]]
            )
            for family in LABEL_FAMILIES
            if family in index
        }
        collector.add(
            start,
            row[index["mal_id"]],
            row[index["name"]] if "name" in index else None,
            row[index["type"]] if "type" in index else None,
            row[index["synopsis"]],
            families,
        )
    return fmt


def read_records(text, path, collector):
    """Read the anime records of ``text`` into ``collector``; return the format.

    A first character ``{`` is MAL API JSONL; anything else but an empty file
    or a JSON array is one of the CSV layouts.
    """
    first = _first_char(text)
    if first == "{":
        return _read_jsonl(text, path, collector)
    if first == "[":
        raise DataFormatError(
            "the file holds a JSON array; expected JSONL, one JSON object per line "
            "(convert with: '\\n'.join(json.dumps(r) for r in records)).",
            path=path,
            line=1,
        )
    if not first:
        raise DataFormatError(f"the file is empty. {_FORMAT_HELP}", path=path, line=1)
    return _read_csv(text, path, collector)
