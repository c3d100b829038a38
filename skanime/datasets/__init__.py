"""Loaders, page parsers and cleaning rules for MyAnimeList anime data."""

from ._build import BuildReport, build_dataset
from ._cleaning import DEFAULT_BAN_PATTERNS, SEED_BAN_PATTERNS, clean_anime_frame
from ._fetch import DEFAULT_URL, fetch_mal_anime, get_data_home
from ._franchise import franchise_groups, franchise_key
from ._loaders import DataFormatError, load_anime
from ._mal_page import AnimeRecord, ParseError, parse_mal_page
from ._taxonomy import (
    DEMOGRAPHICS_2023,
    EXPLICIT_GENRES_2023,
    GENRES_2020,
    GENRES_2021,
    GENRES_2023,
    THEMES_2023,
    GenreFoldReport,
    fold_genre_names,
    map_genres,
    split_genre_families,
)
from ._word_vectors import load_word_vectors

__all__ = [
    "DEFAULT_BAN_PATTERNS",
    "DEFAULT_URL",
    "DEMOGRAPHICS_2023",
    "EXPLICIT_GENRES_2023",
    "GENRES_2020",
    "GENRES_2021",
    "GENRES_2023",
    "SEED_BAN_PATTERNS",
    "THEMES_2023",
    "AnimeRecord",
    "BuildReport",
    "DataFormatError",
    "GenreFoldReport",
    "ParseError",
    "build_dataset",
    "clean_anime_frame",
    "fetch_mal_anime",
    "fold_genre_names",
    "franchise_groups",
    "franchise_key",
    "get_data_home",
    "load_anime",
    "load_word_vectors",
    "map_genres",
    "parse_mal_page",
    "split_genre_families",
]
