"""The seed recipe's row filters: media types, missing values, unusable synopses."""

import re

import pandas as pd
from sklearn.utils._param_validation import validate_params

__all__ = ["DEFAULT_BAN_PATTERNS", "SEED_BAN_PATTERNS", "clean_anime_frame"]

#: Synopses containing one of these (case-insensitive regular expressions,
#: matched anywhere) describe no story: placeholders, sequels, recaps,
#: compilations, educational shorts.
DEFAULT_BAN_PATTERNS = (
    "no synopsis",
    "sequel",
    "season",
    "recap",
    "summary",
    "educational",
    "collection",
)

#: The seed notebook's complete ban list, in the order it is written there.
#: It matches plain substrings, so short words also hit longer ones ("bd"
#: in "abducted", "ova" in "nova"); it removes about half of the synopses.
SEED_BAN_PATTERNS = (
    "no synopsis", "anime", "animation", "animated", "movie", "cinema", "film",
    "screened", "tv series", "manga", "novel", "prequel", "sequel",
    "compilation", "recap", "project", "summary", "based on", "season", "half",
    "commercial", "episode", "condensed", "collection", "ova", "dvd",
    "blu-ray", "bd", "spin-off", "spin off", "station ID", "chapter",
    "television", "continuation", "advertisement", "tv show", "tv program",
    "tv special", "promotional", "aired", "graduation", "safety",
    "educational", "retelling", "remake", "released", "collaboration",
    "education", "featured", "featuring",
)  # fmt: skip

_REQUIRED = ("mal_id", "name", "type", "genres", "synopsis")
REPORT_COLUMNS = ("rule", "removed", "remaining", "note")


def _is_missing(value):
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    return value is pd.NA or value is pd.NaT


def _missing_mask(frame):
    def row_missing(mal_id, name, genres, synopsis):
        return (
            _is_missing(mal_id)
            or _is_missing(name)
            or not isinstance(synopsis, str)
            or not synopsis.strip()
            or not isinstance(genres, (list, tuple))
            or len(genres) == 0
        )

    return pd.Series(
        [
            row_missing(*values)
            for values in zip(
                frame["mal_id"],
                frame["name"],
                frame["genres"],
                frame["synopsis"],
                strict=True,
            )
        ],
        index=frame.index,
        dtype=bool,
    )


def _compile(patterns):
    compiled = []
    for pattern in patterns:
        if not isinstance(pattern, str) or not pattern:
            raise ValueError(
                f"ban_patterns must hold non-empty str regular expressions; got "
                f"{pattern!r}."
            )
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            raise ValueError(
                f"ban_patterns holds {pattern!r}, which is not a valid regular "
                f"expression ({exc}). Escape it with re.escape() to match it "
                "literally."
            ) from None
    return compiled


@validate_params(
    {
        "frame": [pd.DataFrame],
        "types": [list, tuple, set, frozenset, None],
        "ban_patterns": [list, tuple],
    },
    prefer_skip_nested_validation=True,
)
def clean_anime_frame(
    frame,
    *,
    types=("TV", "Movie", "OVA", "Special"),
    ban_patterns=DEFAULT_BAN_PATTERNS,
):
    """Apply the seed recipe's row filters and report what each removed.

    The rules run in this order, each on the rows the previous ones kept:

    1. media type: keep the rows whose ``type`` is in ``types`` (the seed
       drops ONA, Music and Unknown). When no row has a type (formats
       without one, such as the MAL JSONL or Kaggle's CSV), every row is kept
       and the report says so. Rows with a missing type in a frame where
       other rows have one are removed, as in the seed.
    2. missing values: remove rows with a missing ``mal_id`` or ``name``, an
       empty or non-str ``synopsis``, or an empty ``genres`` list.
    3. one rule per ban pattern, in the given order: remove rows whose
       synopsis matches the pattern (regular expression, case ignored,
       matched anywhere, so plain words also match inside longer words).

    Parameters
    ----------
    frame : pandas.DataFrame
        A frame with the columns of :func:`load_anime`'s ``frame``:
        ``mal_id``, ``name``, ``type``, ``genres`` (list of str) and
        ``synopsis``.

    types : list, tuple or set of str, or None, default=("TV", "Movie", \
"OVA", "Special")
        The media types to keep. None keeps every type.

    ban_patterns : list or tuple of str, default=DEFAULT_BAN_PATTERNS
        Regular expressions marking unusable synopses. Use
        ``SEED_BAN_PATTERNS`` for the seed notebook's full list, or ``()``
        for none.

    Returns
    -------
    clean_frame : pandas.DataFrame
        The rows kept, with their original index.

    report : pandas.DataFrame
        One row per rule, in order, columns ``rule``, ``removed`` (rows
        this rule removed), ``remaining`` (rows left after it) and ``note``.
        The first row, "input", gives the starting count.

    Raises
    ------
    ValueError
        If a column is missing or a pattern is not a valid regular
        expression.

    See Also
    --------
    load_anime : Produces the frame.

    Examples
    --------
    >>> import pandas as pd
    >>> from skanime.datasets import clean_anime_frame
    >>> frame = pd.DataFrame({
    ...     "mal_id": [1, 2, 3, 4],
    ...     "name": ["A", "B", "C", "D"],
    ...     "type": ["TV", "ONA", "Movie", "TV"],
    ...     "genres": [["Action"], ["Comedy"], ["Drama"], ["Drama"]],
    ...     "synopsis": ["A heist.", "A gag.", "Recap of season 1.", "A duel."],
    ... })
    >>> clean, report = clean_anime_frame(frame)
    >>> clean["mal_id"].tolist()
    [1, 4]
    >>> report[["rule", "removed", "remaining"]].head(4)
                                        rule  removed  remaining
    0                                  input        0          4
    1  type not in (TV, Movie, OVA, Special)        1          3
    2                         missing values        0          3
    3          synopsis matches 'no synopsis'        0          3
    >>> report.loc[report["rule"] == "synopsis matches 'season'", "removed"].item()
    1
    """
    missing_columns = [c for c in _REQUIRED if c not in frame.columns]
    if missing_columns:
        raise ValueError(
            f"clean_anime_frame needs the columns {list(_REQUIRED)}; the frame lacks "
            f"{missing_columns} (it has {list(frame.columns)}). Pass the frame of "
            "load_anime(...), e.g. load_anime(path).frame."
        )
    compiled = _compile(ban_patterns)
    records = [("input", 0, len(frame), "")]
    current = frame

    if types is not None:
        types = tuple(types)
        rule = f"type not in ({', '.join(map(str, types))})"
        has_type = current["type"].map(lambda t: isinstance(t, str))
        if len(current) and not has_type.any():
            records.append(
                (
                    rule,
                    0,
                    len(current),
                    f"no media type in this data: all {len(current)} rows kept",
                )
            )
        else:
            keep = current["type"].isin(types) & has_type
            current = current[keep]
            records.append((rule, int((~keep).sum()), len(current), ""))
    else:
        records.append(("type filter", 0, len(current), "disabled (types=None)"))

    keep = ~_missing_mask(current)
    current = current[keep]
    records.append(("missing values", int((~keep).sum()), len(current), ""))

    # Plain words are matched as substrings of the lowercased synopsis, which
    # gives the same result as a case-insensitive search, much faster.
    synopses = current["synopsis"].tolist()
    lowered = [s.lower() for s in synopses]
    alive = list(range(len(synopses)))
    for pattern, regex in zip(ban_patterns, compiled, strict=True):
        if re.escape(pattern) == pattern:
            word = pattern.lower()
            kept = [i for i in alive if word not in lowered[i]]
        else:
            kept = [i for i in alive if regex.search(synopses[i]) is None]
        records.append(
            (f"synopsis matches {pattern!r}", len(alive) - len(kept), len(kept), "")
        )
        alive = kept
    current = current.iloc[alive]

    report = pd.DataFrame.from_records(records, columns=list(REPORT_COLUMNS))
    report = report.astype({"rule": object, "note": object})
    return current.copy(), report
