"""Parse saved MyAnimeList anime detail pages (2020 and 2023+ layouts)."""

import re
from dataclasses import dataclass

from bs4 import BeautifulSoup, CData, NavigableString, Tag
from bs4.builder import ParserRejectedMarkup
from sklearn.utils._param_validation import validate_params

from .._text import normalize_whitespace

__all__ = ["AnimeRecord", "ParseError", "parse_mal_page"]

_ANIME_URL = re.compile(r"/anime/(\d+)(?:/|$|\?)")
_MANGA_URL = re.compile(r"/manga/\d+")

# Sidebar row labels (lowercase, without the colon) and the family they feed.
_ROW_FAMILIES = {
    "genre": "genres",
    "genres": "genres",
    "explicit genre": "genres",
    "explicit genres": "genres",
    "theme": "themes",
    "themes": "themes",
    "demographic": "demographics",
    "demographics": "demographics",
}


@dataclass
class AnimeRecord:
    """The fields of one anime read from its MAL page.

    A field the page does not show is None. For the label lists, None means
    the page has no such row (2020 pages have no "Themes:" or "Demographic:"
    row: everything is under "Genres:"), and an empty list means the row is
    there but lists nothing.

    Attributes
    ----------
    mal_id : int or None
        The MAL id, from the canonical link or ``og:url`` of the page.

    name : str
        The title.

    type : str or None
        The media type ("TV", "Movie", "OVA", ...).

    genres : list of str or None
        Names under "Genres:" (and "Explicit Genres:").

    themes : list of str or None
        Names under "Themes:" (2023+ pages).

    demographics : list of str or None
        Names under "Demographic:" (2023+ pages).

    synopsis : str or None
        The synopsis, whitespace collapsed, MAL's credit lines kept.
    """

    mal_id: int | None
    name: str
    type: str | None = None
    genres: list | None = None
    themes: list | None = None
    demographics: list | None = None
    synopsis: str | None = None

    def all_labels(self):
        """Genres, themes and demographics merged, in that order, deduplicated.

        Returns
        -------
        labels : list of str
            What a 2020 page lists under "Genres:".
        """
        seen, out = set(), []
        for names in (self.genres, self.themes, self.demographics):
            for name in names or ():
                if name not in seen:
                    seen.add(name)
                    out.append(name)
        return out


class ParseError(ValueError):
    """A page is not a complete MyAnimeList anime page.

    Attributes
    ----------
    reason : str
        A short category, used to count rejects: "truncated page",
        "unparsable markup", "manga page", "no name", "no synopsis element".

    missing : str or None
        What was looked for and not found.
    """

    def __init__(self, message, *, reason, missing=None):
        self.reason = reason
        self.missing = missing
        super().__init__(message)


def _text(element):
    return normalize_whitespace(element.get_text()) if element is not None else ""


def _canonical_url(soup):
    link = soup.find("link", rel="canonical")
    if link is not None and link.get("href"):
        return link["href"]
    meta = soup.find("meta", attrs={"property": "og:url"})
    if meta is not None and meta.get("content"):
        return meta["content"]
    return None


def _text_with_breaks(element):
    """The text of ``element`` with each ``<br>`` read as a line break.

    One pass over the element's descendants (replacing each ``<br>`` in the
    tree would cost a scan of its siblings each, quadratic in their number).
    """
    parts = []
    for node in element.descendants:
        if type(node) in (NavigableString, CData):
            parts.append(node)
        elif isinstance(node, Tag) and node.name == "br":
            parts.append("\n")
    return normalize_whitespace("".join(parts))


def _sidebar_rows(soup):
    """Yield ``(label, row)`` for each "Label:" row of the left sidebar.

    A row is yielded once, with its first label, however many label spans it
    holds, so the work stays linear in the size of the page.
    """
    seen = set()
    for label_span in soup.find_all("span", class_="dark_text"):
        row = label_span.parent
        if id(row) in seen:
            continue
        seen.add(id(row))
        label = _text(label_span).rstrip(":").strip().lower()
        yield label, row


def _row_value_after_label(row):
    """The text of a sidebar row without its "Label:" span."""
    parts = [
        normalize_whitespace(str(s)) if isinstance(s, str) else _text(s)
        for s in row.children
        if not (
            getattr(s, "name", None) == "span" and "dark_text" in s.get("class", ())
        )
    ]
    return normalize_whitespace(" ".join(p for p in parts if p))


def _names_in_row(row):
    spans = row.find_all("span", attrs={"itemprop": "genre"})
    if spans:
        names = [_text(s) for s in spans]
    else:
        names = [_text(a) for a in row.find_all("a", href=re.compile(r"/genre/"))]
    return list(dict.fromkeys(name for name in names if name))


def _looks_truncated(html):
    if isinstance(html, bytes):
        lowered = html.lower()
        return b"<html" in lowered and b"</html>" not in lowered
    lowered = html.lower()
    return "<html" in lowered and "</html>" not in lowered


@validate_params({"html": [str, bytes]}, prefer_skip_nested_validation=True)
def parse_mal_page(html):
    """Read the fields of one saved MyAnimeList anime detail page.

    Handles the 2020 layout (all labels under "Genres:") and the 2023+ layout
    (separate "Genres:", "Themes:" and "Demographic:" rows, the title in
    ``h1.title-name``). The fields are found as follows:

    - name: the ``strong`` of ``div[itemprop=name]``, else ``h1.title-name``;
    - type: ``span.information.type a``, else the sidebar's "Type:" row;
    - genres, themes, demographics: the ``span[itemprop=genre]`` of the
      sidebar rows "Genres:"/"Genre:", "Themes:"/"Theme:" and
      "Demographic:"/"Demographics:" ("Explicit Genres:" counts as genres);
    - synopsis: ``p[itemprop=description]``, ``<br>`` read as line breaks;
    - mal_id: ``/anime/<id>/`` in the canonical link or ``og:url``.

    Whitespace in every field is collapsed to single spaces and stripped.

    Parameters
    ----------
    html : str or bytes
        The page source. Bytes are decoded as UTF-8, or, when they are not
        valid UTF-8, with the encoding BeautifulSoup detects.

    Returns
    -------
    record : AnimeRecord
        The fields; optional ones the page lacks are None.

    Raises
    ------
    ParseError
        If the page opens ``<html>`` but never closes it (truncated), holds
        markup the HTML parser rejects, is a manga page, has no title, or has
        no synopsis element. The message says what was missing.

    See Also
    --------
    build_dataset : Parses a folder or zip of pages into a CSV.

    Examples
    --------
    >>> from skanime.datasets import parse_mal_page
    >>> page = '''<html><head>
    ... <link rel="canonical" href="https://myanimelist.net/anime/1/Cowboy_Bebop">
    ... </head><body>
    ... <div itemprop="name"><h1 class="title-name"><strong>Cowboy Bebop</strong>
    ... </h1></div>
    ... <div><span class="dark_text">Type:</span> <a href="/topanime">TV</a></div>
    ... <div><span class="dark_text">Genres:</span>
    ...   <span itemprop="genre">Action</span><a href="/anime/genre/1">Action</a>,
    ...   <span itemprop="genre">Sci-Fi</span><a href="/anime/genre/24">Sci-Fi</a>
    ... </div>
    ... <p itemprop="description">In the year 2071,   humanity<br>left Earth.</p>
    ... </body></html>'''
    >>> record = parse_mal_page(page)
    >>> record.mal_id, record.name, record.type, record.genres
    (1, 'Cowboy Bebop', 'TV', ['Action', 'Sci-Fi'])
    >>> record.synopsis
    'In the year 2071, humanity left Earth.'
    """
    if _looks_truncated(html):
        raise ParseError(
            "The page opens <html> but never closes it: it is truncated. Save "
            "it again.",
            reason="truncated page",
            missing="</html>",
        )
    if isinstance(html, bytes):
        # MAL serves UTF-8. Decoding it here avoids BeautifulSoup's encoding
        # guess, which is slow and can pick a wrong codec for pages without a
        # <meta charset>; other encodings are still left to its detection.
        try:
            html = html.decode("utf-8")
        except UnicodeDecodeError:
            pass
    try:
        soup = BeautifulSoup(html, "html.parser")
    except ParserRejectedMarkup as exc:
        # html.parser gives up on some damaged markup, e.g. "<![DATA[".
        cause = str(exc).strip().splitlines()[-1].strip()
        raise ParseError(
            f"The page's markup cannot be parsed ({cause}): the file is damaged "
            "or is not HTML. Save the page again.",
            reason="unparsable markup",
            missing="parsable HTML",
        ) from None

    url = _canonical_url(soup)
    if url is not None and _MANGA_URL.search(url):
        raise ParseError(
            f"The page is a MAL manga page ({url}), not an anime page.",
            reason="manga page",
            missing="/anime/<id>/ URL",
        )
    match = _ANIME_URL.search(url) if url else None
    mal_id = int(match.group(1)) if match else None

    name = ""
    name_div = soup.find("div", attrs={"itemprop": "name"})
    if name_div is not None:
        name = _text(name_div.find("strong")) or _text(
            name_div.find("h1", class_="title-name")
        )
    if not name:
        name = _text(soup.select_one("h1.title-name"))
    if not name:
        raise ParseError(
            "Not a MAL anime page: no title found (looked for the strong of "
            "div[itemprop=name] and for h1.title-name).",
            reason="no name",
            missing="name",
        )

    description = soup.find("p", attrs={"itemprop": "description"})
    if description is None:
        raise ParseError(
            f"The page of {name!r} has no synopsis element "
            "(p[itemprop=description]); it is not a complete anime page.",
            reason="no synopsis element",
            missing="synopsis",
        )
    synopsis = _text_with_breaks(description) or None

    type_ = _text(soup.select_one("span.information.type a")) or None
    families = {}
    type_row_read = type_ is not None
    for label, row in _sidebar_rows(soup):
        if label == "type" and not type_row_read:
            type_row_read = True
            link = row.find("a")
            type_ = _text(link) or _row_value_after_label(row) or None
        family = _ROW_FAMILIES.get(label)
        if family is not None:
            # A dict keeps the first occurrence of each name, in order.
            names = families.setdefault(family, {})
            names.update(dict.fromkeys(_names_in_row(row)))
    families = {family: list(names) for family, names in families.items()}
    if "genres" not in families:
        spans = soup.find_all("span", attrs={"itemprop": "genre"})
        if spans and not families:
            families["genres"] = list(
                dict.fromkeys(_text(s) for s in spans if _text(s))
            )

    return AnimeRecord(
        mal_id=mal_id,
        name=name,
        type=type_,
        genres=families.get("genres"),
        themes=families.get("themes"),
        demographics=families.get("demographics"),
        synopsis=synopsis,
    )
