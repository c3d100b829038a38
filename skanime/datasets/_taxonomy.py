"""MyAnimeList genre names across MAL's 2020, 2021 and 2023 taxonomies.

MAL identifies genres by number and has renamed genres in place, keeping the
number, so the mapping between years follows the numbers:

==  ==============  ===========  ======================================
id  2020            2021         2023 (family)
==  ==============  ===========  ======================================
3   Cars            Cars         Racing (theme)
5   Dementia        Avant Garde  Avant Garde (genre)
6   Demons          Demons       Mythology (theme)
11  Game            Game         Strategy Game (theme)
16  Magic           (retired)    (retired)
26  Shoujo Ai       Girls Love   Girls Love (genre)
28  Shounen Ai      Boys Love    Boys Love (genre)
33  Yaoi            (merged)     merged into Boys Love (28)
34  Yuri            (merged)     merged into Girls Love (26)
39  Police          Police       Detective (theme)
41  Thriller        Suspense     Suspense (genre)
47  (new)           Gourmet      Gourmet (genre)
48  (new)           Work Life    Workplace (theme)
49  (new)           Erotica      Erotica (explicit genre)
==  ==============  ===========  ======================================

The other names did not change. In 2023 MAL split its list into genres,
explicit genres (Ecchi, Erotica, Hentai), themes and demographics (Josei,
Kids, Seinen, Shoujo, Shounen), and added themes with no earlier counterpart
(Isekai, Iyashikei, Gore, ...) and the genre Award Winning. A renamed genre
was not always a like-for-like relabel (Mythology is broader than Demons, and
MAL re-tagged titles by hand afterwards), so a mapped label is the closest
one-to-one counterpart, not necessarily what MAL lists today. The 2023
constants list MAL's names as of 2023-2024; MAL adds themes from time to
time, and ``unknown=`` in :func:`map_genres` decides what happens to names
not listed here.
"""

import logging
from collections import Counter
from dataclasses import dataclass, field

from sklearn.utils._param_validation import Hidden, StrOptions, validate_params

__all__ = [
    "DEMOGRAPHICS_2023",
    "EXPLICIT_GENRES_2023",
    "GENRES_2020",
    "GENRES_2021",
    "GENRES_2023",
    "THEMES_2023",
    "GenreFoldReport",
    "fold_genre_names",
    "map_genres",
    "split_genre_families",
]

logger = logging.getLogger("skanime.datasets")

# MAL genre ids and names, by taxonomy year.
_IDS_2020 = {
    1: "Action", 2: "Adventure", 3: "Cars", 4: "Comedy", 5: "Dementia",
    6: "Demons", 7: "Mystery", 8: "Drama", 9: "Ecchi", 10: "Fantasy",
    11: "Game", 12: "Hentai", 13: "Historical", 14: "Horror", 15: "Kids",
    16: "Magic", 17: "Martial Arts", 18: "Mecha", 19: "Music", 20: "Parody",
    21: "Samurai", 22: "Romance", 23: "School", 24: "Sci-Fi", 25: "Shoujo",
    26: "Shoujo Ai", 27: "Shounen", 28: "Shounen Ai", 29: "Space",
    30: "Sports", 31: "Super Power", 32: "Vampire", 33: "Yaoi", 34: "Yuri",
    35: "Harem", 36: "Slice of Life", 37: "Supernatural", 38: "Military",
    39: "Police", 40: "Psychological", 41: "Thriller", 42: "Seinen",
    43: "Josei",
}  # fmt: skip

_IDS_2021 = {
    **{k: v for k, v in _IDS_2020.items() if k not in (16, 33, 34)},
    5: "Avant Garde", 26: "Girls Love", 28: "Boys Love", 41: "Suspense",
    47: "Gourmet", 48: "Work Life", 49: "Erotica",
}  # fmt: skip

_GENRE_IDS_2023 = {
    1: "Action", 2: "Adventure", 5: "Avant Garde", 46: "Award Winning",
    28: "Boys Love", 4: "Comedy", 8: "Drama", 10: "Fantasy", 26: "Girls Love",
    47: "Gourmet", 14: "Horror", 7: "Mystery", 22: "Romance", 24: "Sci-Fi",
    36: "Slice of Life", 30: "Sports", 37: "Supernatural", 41: "Suspense",
}  # fmt: skip

_EXPLICIT_IDS_2023 = {9: "Ecchi", 49: "Erotica", 12: "Hentai"}

_THEME_IDS_2023 = {
    50: "Adult Cast", 51: "Anthropomorphic", 52: "CGDCT", 53: "Childcare",
    54: "Combat Sports", 81: "Crossdressing", 55: "Delinquents",
    39: "Detective", 56: "Educational", 57: "Gag Humor", 58: "Gore",
    35: "Harem", 59: "High Stakes Game", 13: "Historical",
    60: "Idols (Female)", 61: "Idols (Male)", 62: "Isekai", 63: "Iyashikei",
    64: "Love Polygon", 65: "Magical Sex Shift", 66: "Mahou Shoujo",
    17: "Martial Arts", 18: "Mecha", 67: "Medical", 38: "Military",
    19: "Music", 6: "Mythology", 68: "Organized Crime", 69: "Otaku Culture",
    20: "Parody", 70: "Performing Arts", 71: "Pets", 40: "Psychological",
    3: "Racing", 72: "Reincarnation", 73: "Reverse Harem",
    74: "Romantic Subtext", 21: "Samurai", 23: "School", 75: "Showbiz",
    29: "Space", 11: "Strategy Game", 31: "Super Power", 76: "Survival",
    77: "Team Sports", 78: "Time Travel", 32: "Vampire", 79: "Video Game",
    80: "Visual Arts", 48: "Workplace",
}  # fmt: skip

_DEMOGRAPHIC_IDS_2023 = {
    43: "Josei",
    15: "Kids",
    42: "Seinen",
    25: "Shoujo",
    27: "Shounen",
}

_IDS_2023 = {
    **_GENRE_IDS_2023,
    **_EXPLICIT_IDS_2023,
    **_THEME_IDS_2023,
    **_DEMOGRAPHIC_IDS_2023,
}

_FAMILY_2023 = {
    **{i: "genres" for i in _GENRE_IDS_2023},
    **{i: "explicit_genres" for i in _EXPLICIT_IDS_2023},
    **{i: "themes" for i in _THEME_IDS_2023},
    **{i: "demographics" for i in _DEMOGRAPHIC_IDS_2023},
}

# Yaoi and Yuri were merged into the ids MAL kept for Boys Love and Girls Love.
_MERGED = {33: 28, 34: 26}

_IDS_BY_YEAR = {"2020": _IDS_2020, "2021": _IDS_2021, "2023": _IDS_2023}

#: The 43 genre names of MAL's 2020 taxonomy (the Kaggle 2020 dump).
GENRES_2020 = tuple(sorted(_IDS_2020.values()))
#: The 43 genre names of MAL's 2021 taxonomy (``mal_anime_2021.jsonl``).
GENRES_2021 = tuple(sorted(_IDS_2021.values()))
#: The names MAL lists as genres since 2023 (without explicit genres).
GENRES_2023 = tuple(sorted(_GENRE_IDS_2023.values()))
#: The explicit genres of 2023: Ecchi, Erotica, Hentai.
EXPLICIT_GENRES_2023 = tuple(sorted(_EXPLICIT_IDS_2023.values()))
#: The themes of 2023.
THEMES_2023 = tuple(sorted(_THEME_IDS_2023.values()))
#: The demographics of 2023: Josei, Kids, Seinen, Shoujo, Shounen.
DEMOGRAPHICS_2023 = tuple(sorted(_DEMOGRAPHIC_IDS_2023.values()))


def _build_name_index():
    """Map every known casefolded name to its MAL id (after merges)."""
    index = {}
    for ids in (_IDS_2020, _IDS_2021, _IDS_2023):
        for genre_id, name in ids.items():
            index[name.casefold()] = _MERGED.get(genre_id, genre_id)
    return index


_NAME_TO_ID = _build_name_index()
# Yaoi and Yuri keep their own ids when mapping to 2020, where they exist.
_NAME_TO_ID_2020 = {**_NAME_TO_ID, "yaoi": 33, "yuri": 34}


def _check_names(genres, caller):
    if isinstance(genres, str):
        raise TypeError(
            f"{caller} expects a list of genre names; got the single str "
            f"{genres!r}. Wrap it in a list, or split a comma-separated string "
            "first: [g.strip() for g in text.split(',')]."
        )
    names = list(genres)
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise TypeError(
                f"{caller} expects genre names as str; item {i} is "
                f"{type(name).__name__} ({name!r:.60})."
            )
    return names


@validate_params(
    {
        "genres": ["array-like", set, frozenset, Hidden(str)],
        "to": [StrOptions({"2020", "2021", "2023"})],
        "unknown": [StrOptions({"error", "keep", "drop"})],
    },
    prefer_skip_nested_validation=True,
)
def map_genres(genres, *, to="2021", unknown="error"):
    """Translate genre names to MAL's 2020, 2021 or 2023 names.

    Names from any of the three taxonomies are accepted and matched without
    regard to case or surrounding spaces. The mapping follows MAL's genre
    ids, which MAL kept when renaming (see the table in
    :mod:`skanime.datasets._taxonomy`): Dementia and Avant Garde, Thriller
    and Suspense, Shounen Ai and Boys Love, Shoujo Ai and Girls Love, Cars
    and Racing, Demons and Mythology, Game and Strategy Game, Police and
    Detective, Work Life and Workplace. Yaoi maps to Boys Love and Yuri to
    Girls Love; going back to 2020, Boys Love becomes Shounen Ai and Girls
    Love Shoujo Ai (the ids MAL kept).

    A name with no counterpart in the target taxonomy is dropped: Magic (2020
    only), Gourmet, Work Life and Erotica when mapping to 2020, and the
    themes and genres MAL introduced in 2023 (Award Winning, Isekai, Gore,
    ...) when mapping to 2020 or 2021.

    Parameters
    ----------
    genres : list of str
        Genre names of one anime.

    to : {"2020", "2021", "2023"}, default="2021"
        The target taxonomy.

    unknown : {"error", "keep", "drop"}, default="error"
        What to do with a name found in none of the three taxonomies: raise a
        ``ValueError``, keep it unchanged, or drop it.

    Returns
    -------
    genres : list of str
        The mapped names, in input order, without duplicates.

    Raises
    ------
    ValueError
        If a name is unknown and ``unknown="error"``.

    See Also
    --------
    split_genre_families : Split names into 2023 genres, themes and
        demographics.

    Examples
    --------
    >>> from skanime.datasets import map_genres
    >>> map_genres(["Dementia", "Thriller", "Yaoi", "Shounen Ai", "Magic"])
    ['Avant Garde', 'Suspense', 'Boys Love']
    >>> map_genres(["Avant Garde", "Girls Love", "Work Life"], to="2020")
    ['Dementia', 'Shoujo Ai']
    >>> map_genres(["Cars", "Demons", "Police"], to="2023")
    ['Racing', 'Mythology', 'Detective']
    """
    names = _check_names(genres, "map_genres")
    index = _NAME_TO_ID_2020 if to == "2020" else _NAME_TO_ID
    target = _IDS_BY_YEAR[to]
    out, seen, unknown_names = [], set(), []
    for name in names:
        key = name.strip().casefold()
        genre_id = index.get(key)
        if genre_id is None:
            if unknown == "error":
                unknown_names.append(name)
                continue
            mapped = name.strip() if unknown == "keep" else None
        else:
            mapped = target.get(genre_id)
        if mapped is not None and mapped not in seen:
            seen.add(mapped)
            out.append(mapped)
    if unknown_names:
        raise ValueError(
            f"map_genres got genre names found in none of MAL's 2020, 2021 and "
            f"2023 taxonomies: {unknown_names}. Check their spelling against "
            "skanime.datasets.GENRES_2021 (or GENRES_2020, GENRES_2023, "
            "THEMES_2023), or pass unknown='keep' or unknown='drop'."
        )
    return out


@validate_params(
    {
        "genres": ["array-like", set, frozenset, Hidden(str)],
        "unknown": [StrOptions({"error", "keep", "drop"})],
    },
    prefer_skip_nested_validation=True,
)
def split_genre_families(genres, *, unknown="error"):
    """Split genre names into MAL's 2023 families.

    Names are first mapped to 2023 names with :func:`map_genres`, then sorted
    into genres, explicit genres, themes and demographics, as MAL lists them
    since 2023. This turns a 2020 or 2021 genre list (where everything was a
    genre) into the columns of newer dumps.

    Parameters
    ----------
    genres : list of str
        Genre names of one anime, from any of the three taxonomies.

    unknown : {"error", "keep", "drop"}, default="error"
        What to do with a name found in no taxonomy: raise, keep it under
        ``"genres"``, or drop it.

    Returns
    -------
    families : dict of str to list of str
        Keys ``"genres"``, ``"explicit_genres"``, ``"themes"`` and
        ``"demographics"``, each with the 2023 names in input order.

    Examples
    --------
    >>> from skanime.datasets import split_genre_families
    >>> split_genre_families(["Action", "Military", "Shounen", "Police", "Ecchi"])
    {'genres': ['Action'], 'explicit_genres': ['Ecchi'], 'themes': ['Military', \
'Detective'], 'demographics': ['Shounen']}
    """
    families = {"genres": [], "explicit_genres": [], "themes": [], "demographics": []}
    for name in map_genres(genres, to="2023", unknown=unknown):
        genre_id = _NAME_TO_ID.get(name.casefold())
        families[_FAMILY_2023.get(genre_id, "genres")].append(name)
    return families


# Every name of the three taxonomies, by its folded form ("slice of life").
_SPELLING = {
    " ".join(name.split()).casefold(): name
    for ids in (_IDS_2020, _IDS_2021, _IDS_2023)
    for name in ids.values()
}


@dataclass
class GenreFoldReport:
    """What :func:`fold_genre_names` changed.

    Attributes
    ----------
    n_folded : int
        Genre names (occurrences) whose spelling was changed.

    folded : dict of str to str
        Each changed spelling and the spelling it became.

    unknown : list of str
        The names found in none of MAL's 2020, 2021 and 2023 taxonomies,
        kept (spacing folded, first-seen case), sorted.
    """

    n_folded: int = 0
    folded: dict = field(default_factory=dict)
    unknown: list = field(default_factory=list)


class _GenreFolder:
    """Fold genre spellings list by list, counting what was changed."""

    def __init__(self):
        self._unknown_spelling = {}
        self._folded = Counter()
        self._unknown = Counter()

    def fold(self, names, where):
        out, seen = [], set()
        for name in names:
            clean = " ".join(name.split())
            if not clean:
                raise ValueError(
                    f"{where} holds an empty genre name ({name!r}). Genre names "
                    "must hold a letter; remove the empty entry (a doubled or "
                    "trailing comma gives one)."
                )
            key = clean.casefold()
            spelling = _SPELLING.get(key)
            if spelling is None:
                spelling = self._unknown_spelling.setdefault(key, clean)
                self._unknown[spelling] += 1
            if spelling != name:
                self._folded[(name, spelling)] += 1
            if spelling not in seen:
                seen.add(spelling)
                out.append(spelling)
        return out

    def report(self):
        folded = {}
        for (raw, spelling), _ in self._folded.most_common():
            folded.setdefault(raw, spelling)
        return GenreFoldReport(
            n_folded=sum(self._folded.values()),
            folded=folded,
            unknown=sorted(self._unknown),
        )

    def log(self, source):
        report = self.report()
        if report.n_folded:
            shown = ", ".join(
                f"{raw!r} -> {spelling!r}"
                for raw, spelling in list(report.folded.items())[:5]
            )
            more = len(report.folded) - 5
            logger.warning(
                "%s: folded %d genre names to one spelling per genre (case and "
                "spacing): %s%s.",
                source,
                report.n_folded,
                shown,
                f" and {more} more spellings" if more > 0 else "",
            )
        if report.unknown:
            logger.info(
                "%s: %d genre names are in none of MAL's 2020, 2021 and 2023 "
                "taxonomies and were kept as given: %s.",
                source,
                len(report.unknown),
                ", ".join(report.unknown[:20]),
            )
        return report


def fold_genre_names(genre_lists, *, source="genre lists"):
    """Fold the spellings of genre names so each genre has one name.

    Case and spacing are folded: surrounding spaces are removed, inner runs
    of whitespace become one space, and a name known to MAL's 2020, 2021 or
    2023 taxonomy takes that taxonomy's spelling (``" sci-fi"`` becomes
    ``"Sci-Fi"``, ``"SLICE  OF LIFE"`` becomes ``"Slice of Life"``). Names
    the taxonomies do not know are kept, spacing folded, with the case of
    their first occurrence, so ``"Isekai-ish"`` and ``"isekai-ish"`` are one
    genre. Names are not renamed between years (that is :func:`map_genres`'
    job). Repeats within one list are removed.

    The number of changed names is logged as a warning on the
    ``"skanime.datasets"`` logger, with examples; the unknown names are
    logged at INFO level.

    Parameters
    ----------
    genre_lists : iterable of list of str
        The genre names of each anime.

    source : str, default="genre lists"
        What the lists are, for the log and error messages.

    Returns
    -------
    genre_lists : list of list of str
        The folded lists, in input order.

    report : GenreFoldReport
        The count and spellings folded, and the unknown names.

    Raises
    ------
    ValueError
        If a name is empty or only whitespace; the message gives its
        position.

    Examples
    --------
    >>> from skanime.datasets import fold_genre_names
    >>> lists, report = fold_genre_names([[" Action ", "sci-fi", "ACTION"],
    ...                                   ["Sci-Fi", "Isekai-ish"]])
    >>> lists
    [['Action', 'Sci-Fi'], ['Sci-Fi', 'Isekai-ish']]
    >>> report.n_folded, report.unknown
    (3, ['Isekai-ish'])
    """
    folder = _GenreFolder()
    out = [
        folder.fold(list(names), f"{source}: entry {i}")
        for i, names in enumerate(genre_lists)
    ]
    return out, folder.log(source)
