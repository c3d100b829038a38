import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skanime.datasets import AnimeRecord, ParseError, parse_mal_page


def _page(datapath, name):
    return datapath("pages", name).read_text(encoding="utf-8")


def test_parse_2020_layout(datapath):
    record = parse_mal_page(_page(datapath, "cowboy_bebop_2020.html"))
    assert record == AnimeRecord(
        mal_id=1,
        name="Cowboy Bebop",
        type="TV",
        genres=["Action", "Adventure", "Comedy", "Drama", "Sci-Fi", "Space"],
        themes=None,
        demographics=None,
        synopsis=(
            "In the year 2071, humanity has colonized several of the planets and "
            "moons of the solar system leaving the now uninhabitable surface of "
            "planet Earth behind. Mellow and carefree Spike Spiegel is balanced by "
            "his boisterous, pragmatic partner Jet Black. [Written by MAL Rewrite]"
        ),
    )


def test_parse_2023_layout(datapath):
    record = parse_mal_page(_page(datapath, "shingeki_2023.html"))
    assert record.mal_id == 16498  # from og:url, there is no canonical link
    assert record.name == "Shingeki no Kyojin"  # not the English title
    assert record.type == "TV"  # from the sidebar "Type:" row
    assert record.genres == ["Action", "Award Winning", "Drama", "Suspense"]
    assert record.themes == ["Gore", "Military", "Survival"]
    assert record.demographics == ["Shounen"]
    assert record.synopsis.startswith("Centuries ago, mankind was slaughtered")
    assert record.all_labels() == [
        "Action", "Award Winning", "Drama", "Suspense",
        "Gore", "Military", "Survival", "Shounen",
    ]  # fmt: skip


def test_parse_minimal_2023_page(datapath):
    record = parse_mal_page(_page(datapath, "minimal_2023.html"))
    assert record.mal_id is None
    assert record.name == "Yama no Susume: Next Summit"
    assert record.type is None
    assert record.genres == ["Adventure"]
    assert record.themes == ["CGDCT"]
    assert record.demographics is None
    assert record.synopsis == (
        "No synopsis information has been added to this title. Help improve our "
        "database by adding a synopsis here."
    )


def test_parse_row_without_genres(datapath):
    record = parse_mal_page(_page(datapath, "no_genres.html"))
    assert record.genres == []
    assert record.themes is None
    assert record.type == "ONA"  # a "Type:" row without link
    assert record.all_labels() == []


def test_parse_bytes_input(datapath):
    raw = datapath("pages", "cowboy_bebop_2020.html").read_bytes()
    assert parse_mal_page(raw) == parse_mal_page(raw.decode("utf-8"))


def test_parse_fragment_and_explicit_genres():
    page = (
        '<div itemprop="name"><strong>  Kite \n Liberator </strong></div>'
        '<span class="information type"><a href="/x">OVA</a></span>'
        '<div><span class="dark_text">Genres:</span>'
        '<span itemprop="genre">Action</span><a href="/anime/genre/1">Action</a></div>'
        '<div><span class="dark_text">Explicit Genres:</span>'
        '<span itemprop="genre">Hentai</span><a href="/anime/genre/12">Hentai</a>'
        '<span itemprop="genre">Action</span></div>'
        '<div><span class="dark_text">Demographics:</span>'
        '<a href="/anime/genre/42/Seinen">Seinen</a></div>'
        '<p itemprop="description">  A girl\n\n assassin.<br><br>Again. </p>'
    )
    record = parse_mal_page(page)
    assert record.name == "Kite Liberator"
    assert record.type == "OVA"
    assert record.genres == ["Action", "Hentai"]
    assert record.demographics == ["Seinen"]  # read from the genre links
    assert record.synopsis == "A girl assassin. Again."


def test_parse_genre_spans_without_labelled_rows():
    page = (
        '<h1 class="title-name">Plain</h1>'
        '<span itemprop="genre">Drama</span><span itemprop="genre">Drama</span>'
        '<span itemprop="genre">Music</span>'
        '<p itemprop="description">Text.</p>'
    )
    assert parse_mal_page(page).genres == ["Drama", "Music"]


def test_empty_synopsis_is_none():
    page = '<h1 class="title-name">Plain</h1><p itemprop="description">  </p>'
    assert parse_mal_page(page).synopsis is None


@pytest.mark.parametrize(
    "name, reason, message",
    [
        ("truncated.html", "truncated page", "never closes it: it is truncated"),
        ("manga.html", "manga page", r"manga page \(https://myanimelist.net/manga/2"),
        ("not_anime.html", "no name", r"no title found .*div\[itemprop=name\]"),
        (
            "no_synopsis_element.html",
            "no synopsis element",
            r"'Cowboy Bebop' has no synopsis element \(p\[itemprop=description\]\)",
        ),
    ],
)
def test_parse_errors(datapath, name, reason, message):
    with pytest.raises(ParseError, match=message) as info:
        parse_mal_page(_page(datapath, name))
    assert info.value.reason == reason
    assert info.value.missing
    assert isinstance(info.value, ValueError)


def test_truncated_bytes(datapath):
    raw = datapath("pages", "truncated.html").read_bytes()
    with pytest.raises(ParseError, match="truncated"):
        parse_mal_page(raw)


def test_parse_rejects_non_text():
    with pytest.raises(InvalidParameterError, match="html"):
        parse_mal_page(42)
