import csv
import html
import shutil
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skanime._text import normalize_whitespace
from skanime.datasets import (
    GENRES_2021,
    THEMES_2023,
    BuildReport,
    build_dataset,
    load_anime,
    parse_mal_page,
)

PAGES = [
    "cowboy_bebop_2020.html",
    "manga.html",
    "minimal_2023.html",
    "no_genres.html",
    "no_synopsis_element.html",
    "not_anime.html",
    "shingeki_2023.html",
    "truncated.html",
]


def _minimal_page(datapath):
    """minimal_2023.html with a real synopsis instead of MAL's placeholder."""
    page = datapath("pages", "minimal_2023.html").read_text(encoding="utf-8")
    start = page.index('<p itemprop="description">')
    end = page.index("</p>", start)
    return (
        page[:start]
        + '<p itemprop="description">Aoi and Hinata climb a mountain together.'
        + page[end:]
    )


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def page_2020(mal_id, name, type_, genres, synopsis):
    e = html.escape
    canonical = (
        f'<link rel="canonical" href="https://myanimelist.net/anime/{mal_id}/x">'
        if mal_id is not None
        else ""
    )
    spans = ", ".join(
        f'<span itemprop="genre" style="display: none">{e(g)}</span>'
        f'<a href="/anime/genre/1/x" title="{e(g)}">{e(g)}</a>'
        for g in genres
    )
    type_span = (
        f'<span class="information type"><a href="/topanime">{e(type_)}</a></span>'
        if type_
        else ""
    )
    return (
        f"<!DOCTYPE html><html><head>{canonical}</head><body>"
        f'<div itemprop="name"><h1 class="h1"><strong>{e(name)}</strong></h1></div>'
        f'<div class="spaceit"><span class="dark_text">Genres:</span> {spans}</div>'
        f"{type_span}"
        f'<p itemprop="description">{e(synopsis)}</p></body></html>'
    )


def page_2023(mal_id, name, type_, genres, themes, demographics, synopsis):
    e = html.escape

    def row(label, names):
        if not names:
            return ""
        spans = ", ".join(
            f'<span itemprop="genre" style="display: none">{e(n)}</span>'
            f'<a href="/anime/genre/2/x" title="{e(n)}">{e(n)}</a>'
            for n in names
        )
        return (
            f'<div class="spaceit_pad"><span class="dark_text">{label}</span> '
            f"{spans}</div>"
        )

    type_row = (
        f'<div class="spaceit_pad"><span class="dark_text">Type:</span> '
        f'<a href="/topanime">{e(type_)}</a></div>'
        if type_
        else ""
    )
    return (
        "<!DOCTYPE html><html><head>"
        f'<meta property="og:url" content="https://myanimelist.net/anime/{mal_id}/x"/>'
        "</head><body>"
        f'<div class="h1-title"><div itemprop="name"><h1 class="title-name '
        f'h1_bold_none"><strong>{e(name)}</strong></h1>'
        f'<p class="title-english">English {e(name)}</p></div></div>'
        f"{type_row}{row('Genres:', genres)}{row('Themes:', themes)}"
        f"{row('Demographic:', demographics)}"
        f'<p itemprop="description">{e(synopsis)}<br><br>[Written by MAL Rewrite]'
        "</p></body></html>"
    )


@pytest.fixture
def pages_dir(datapath, tmp_path):
    folder = tmp_path / "pages"
    shutil.copytree(datapath("pages"), folder)
    return folder


def test_build_from_folder_accounts_for_every_page(pages_dir, tmp_path):
    out = tmp_path / "anime.csv"
    report = build_dataset(pages_dir, out)
    assert isinstance(report, BuildReport)
    assert (report.n_inputs, report.n_written, report.n_rejected) == (8, 2, 6)
    assert report.reasons == {
        "manga page": 1,
        "no mal_id": 1,
        "no genres": 1,
        "no synopsis element": 1,
        "no name": 1,
        "truncated page": 1,
    }
    assert report.rejects_csv == str(tmp_path / "anime.rejects.csv")

    rows = _read_csv(out)
    assert list(rows[0]) == ["MAL_ID", "Name", "Type", "Genre", "Synopsis"]
    assert [r["MAL_ID"] for r in rows] == ["1", "16498"]
    assert rows[0]["Genre"] == "Action, Adventure, Comedy, Drama, Sci-Fi, Space"
    assert rows[1]["Genre"] == (
        "Action, Award Winning, Drama, Suspense, Gore, Military, Survival, Shounen"
    )
    assert rows[1]["Type"] == "TV"

    rejects = _read_csv(report.rejects_csv)
    assert list(rejects[0]) == ["source", "reason", "detail"]
    assert {r["source"]: r["reason"] for r in rejects} == {
        "manga.html": "manga page",
        "minimal_2023.html": "no mal_id",
        "no_genres.html": "no genres",
        "no_synopsis_element.html": "no synopsis element",
        "not_anime.html": "no name",
        "truncated.html": "truncated page",
    }
    assert all(r["detail"] for r in rejects)


def test_build_round_trip_with_load_anime(pages_dir, tmp_path):
    out = tmp_path / "anime.csv"
    build_dataset(pages_dir, out)
    loaded = load_anime(out)
    records = [
        parse_mal_page((pages_dir / name).read_text())
        for name in ("cowboy_bebop_2020.html", "shingeki_2023.html")
    ]
    expected = pd.DataFrame(
        {
            "mal_id": [r.mal_id for r in records],
            "name": pd.Series([r.name for r in records], dtype=object),
            "type": pd.Series([r.type for r in records], dtype=object),
            "genres": pd.Series([r.all_labels() for r in records], dtype=object),
            "synopsis": pd.Series([r.synopsis for r in records], dtype=object),
            "franchise": pd.Series([0, 1], dtype="int64"),
        }
    )
    pd.testing.assert_frame_equal(loaded.frame, expected)
    assert len(loaded.dropped) == 0


def test_build_custom_rejects_path_and_file_name_ids(datapath, tmp_path):
    folder = tmp_path / "html"
    folder.mkdir()
    (folder / "48491.html").write_text(_minimal_page(datapath), encoding="utf-8")
    shutil.copy(datapath("pages", "cowboy_bebop_2020.html"), folder / "1.html")
    shutil.copy(datapath("pages", "cowboy_bebop_2020.html"), folder / "copy.html")
    (folder / "notes.txt").write_text("scraping notes")
    (folder / ".hidden.html").write_text("editor swap file")
    rejects = tmp_path / "rejects" / "bad.csv"
    rejects.parent.mkdir()
    report = build_dataset(folder, tmp_path / "anime.csv", rejects_csv=rejects)
    assert (report.n_inputs, report.n_written, report.n_rejected) == (4, 2, 2)
    assert report.reasons == {"duplicate mal_id": 1, "unsupported file type": 1}
    rows = _read_csv(tmp_path / "anime.csv")
    assert [(r["MAL_ID"], r["Type"]) for r in rows] == [("1", "TV"), ("48491", "")]
    bad = {r["source"]: r for r in _read_csv(rejects)}
    assert bad["copy.html"]["reason"] == "duplicate mal_id"
    assert "already read from 1.html" in bad["copy.html"]["detail"]
    assert bad["notes.txt"]["reason"] == "unsupported file type"
    assert load_anime(tmp_path / "anime.csv").frame["type"].tolist() == ["TV", None]


def test_build_from_zip_of_pages(datapath, tmp_path):
    archive = tmp_path / "pages.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(datapath("pages", "cowboy_bebop_2020.html"), "saved/bebop.html")
        zf.write(datapath("pages", "shingeki_2023.html"), "saved/aot.htm")
        zf.writestr("saved/readme.md", "notes")
        zf.writestr("__MACOSX/saved/._bebop.html", b"\x00\x05")
    report = build_dataset(archive, tmp_path / "anime.csv")
    assert (report.n_inputs, report.n_written, report.n_rejected) == (3, 2, 1)
    rejects = _read_csv(report.rejects_csv)
    assert rejects[0]["source"] == "pages.zip:saved/readme.md"


def test_build_from_kaggle_style_folder_of_zips(datapath, tmp_path):
    folder = tmp_path / "html"
    folder.mkdir()
    with zipfile.ZipFile(folder / "1.zip", "w") as zf:
        zf.write(datapath("pages", "cowboy_bebop_2020.html"), "details.html")
        zf.writestr("stats.html", "<html><body>stats</body></html>")
    with zipfile.ZipFile(folder / "48491.zip", "w") as zf:
        zf.writestr("48491/details.html", _minimal_page(datapath))
    (folder / "666.zip").write_bytes(b"PK\x03\x04 this is not a zip")
    report = build_dataset(folder, tmp_path / "anime.csv")
    assert (report.n_inputs, report.n_written, report.n_rejected) == (3, 2, 1)
    assert report.reasons == {"unreadable zip": 1}
    frame = load_anime(tmp_path / "anime.csv").frame
    assert frame["mal_id"].tolist() == [1, 48491]
    assert frame["genres"].tolist()[1] == ["Adventure", "CGDCT"]


def test_build_single_page_and_missing_source(datapath, tmp_path):
    report = build_dataset(datapath("pages", "shingeki_2023.html"), tmp_path / "a.csv")
    assert (report.n_inputs, report.n_written) == (1, 1)
    with pytest.raises(FileNotFoundError, match="is none of these"):
        build_dataset(tmp_path / "nowhere", tmp_path / "b.csv")


def test_build_missing_output_folder_writes_nothing(pages_dir, tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        build_dataset(
            pages_dir, tmp_path / "out.csv", rejects_csv=tmp_path / "no" / "r.csv"
        )
    assert not (tmp_path / "out.csv").exists()


def test_build_replaces_output_atomically(pages_dir, tmp_path):
    out = tmp_path / "anime.csv"
    out.write_text("old content")
    build_dataset(pages_dir, out)
    assert out.read_text().startswith("MAL_ID,Name,Type,Genre,Synopsis\n")
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


# --------------------------------------------------------------------------
# Property tests

_GOOD = {"good2020", "good2023", "duplicate"}
_KINDS = sorted(
    _GOOD | {"truncated", "not_anime", "manga", "no_genres", "garbage", "text"}
)


def _make_input(kind, i, mal_id, blob):
    """Return ``(file name, content)`` for one generated input."""
    name = f"{i:03d}_{kind}.html"
    if kind == "good2020":
        return name, page_2020(mal_id, f"Anime {i}", "TV", ["Action"], f"Story {i}.")
    if kind in ("good2023", "duplicate"):
        return name, page_2023(
            mal_id, f"Anime {i}", "Movie", ["Drama"], ["School"], [], f"Story {i}."
        )
    if kind == "truncated":
        return name, page_2020(mal_id, "Cut", "TV", ["Action"], "Cut off")[:-40]
    if kind == "not_anime":
        return name, "<html><body><h1>404 Not Found</h1></body></html>"
    if kind == "manga":
        return name, page_2020(mal_id, "M", "TV", ["Action"], "x").replace(
            "/anime/", "/manga/"
        )
    if kind == "no_genres":
        return name, page_2020(mal_id, "Bare", "TV", [], "No labels.")
    if kind == "garbage":
        return name, blob
    return f"{i:03d}_notes.txt", "not a page"


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_KINDS),
            st.integers(min_value=1, max_value=6),
            st.binary(max_size=64),
        ),
        max_size=14,
    )
)
def test_every_input_is_written_or_rejected(inputs):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "pages"
        folder.mkdir()
        expected_written = {}
        names = []
        for i, (kind, mal_id, blob) in enumerate(inputs):
            name, content = _make_input(kind, i, mal_id, blob)
            path = folder / name
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
            names.append(name)
            if kind in _GOOD and mal_id not in expected_written:
                expected_written[mal_id] = name

        report = build_dataset(folder, tmp / "anime.csv")
        rows = _read_csv(tmp / "anime.csv")
        rejects = _read_csv(report.rejects_csv)

    assert report.n_inputs == len(inputs)
    assert report.n_written + report.n_rejected == report.n_inputs
    assert report.n_written == len(rows)
    assert report.n_rejected == len(rejects)
    assert sum(report.reasons.values()) == report.n_rejected
    assert sorted(int(r["MAL_ID"]) for r in rows) == sorted(expected_written)
    rejected = [r["source"] for r in rejects]
    assert len(set(rejected)) == len(rejected)
    assert set(rejected) == set(names) - set(expected_written.values())


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=60
).filter(lambda s: s.strip() and normalize_whitespace(s))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "mal_id": st.integers(min_value=1, max_value=60_000),
                "name": _text,
                "type": st.sampled_from(["TV", "Movie", "OVA", "Special", "ONA", None]),
                "genres": st.lists(
                    st.sampled_from(GENRES_2021), min_size=1, max_size=5, unique=True
                ),
                "themes": st.lists(
                    st.sampled_from(THEMES_2023), max_size=3, unique=True
                ),
                "synopsis": _text,
                "layout": st.sampled_from(["2020", "2023"]),
            }
        ),
        min_size=1,
        max_size=6,
        unique_by=lambda r: r["mal_id"],
    )
)
def test_build_then_load_round_trip(records):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = tmp / "pages"
        folder.mkdir()
        expected = []
        for r in records:
            if r["layout"] == "2020":
                labels = list(dict.fromkeys(r["genres"] + r["themes"]))
                page = page_2020(
                    r["mal_id"], r["name"], r["type"], labels, r["synopsis"]
                )
                synopsis = normalize_whitespace(r["synopsis"])
            else:
                labels = list(dict.fromkeys(r["genres"] + r["themes"]))
                page = page_2023(
                    r["mal_id"], r["name"], r["type"], r["genres"], r["themes"], [],
                    r["synopsis"],
                )  # fmt: skip
                synopsis = normalize_whitespace(
                    r["synopsis"] + " [Written by MAL Rewrite]"
                )
            (folder / f"{r['mal_id']}.html").write_text(page, encoding="utf-8")
            expected.append(
                (
                    r["mal_id"],
                    normalize_whitespace(r["name"]),
                    r["type"],
                    labels,
                    synopsis,
                )
            )
        report = build_dataset(folder, tmp / "anime.csv")
        assert report.n_written == len(records), report
        loaded = load_anime(tmp / "anime.csv").frame

    expected.sort()
    assert loaded["mal_id"].tolist() == [e[0] for e in expected]
    assert loaded["name"].tolist() == [e[1] for e in expected]
    assert loaded["type"].tolist() == [e[2] for e in expected]
    assert loaded["genres"].tolist() == [e[3] for e in expected]
    assert loaded["synopsis"].tolist() == [e[4] for e in expected]


def test_mal_placeholder_synopsis_is_rejected_with_its_reason(datapath, tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(datapath("pages", "minimal_2023.html"), folder / "48491.html")
    (folder / "48492.html").write_text(
        _minimal_page(datapath).replace(
            "Aoi and Hinata climb a mountain together.",
            "  No synopsis has been added for this series yet.",
        ),
        encoding="utf-8",
    )
    (folder / "1.html").write_text(_minimal_page(datapath), encoding="utf-8")
    report = build_dataset(folder, tmp_path / "anime.csv")
    assert (report.n_written, report.reasons) == (1, {"placeholder synopsis": 2})
    rejects = _read_csv(report.rejects_csv)
    assert {r["source"] for r in rejects} == {"48491.html", "48492.html"}
    assert "not a story" in rejects[0]["detail"]


def test_a_synopsis_that_only_mentions_the_placeholder_is_kept(datapath, tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "7.html").write_text(
        _minimal_page(datapath).replace(
            "Aoi and Hinata climb a mountain together.",
            "A wiki editor reads 'no synopsis has been added' and writes one.",
        ),
        encoding="utf-8",
    )
    assert build_dataset(folder, tmp_path / "anime.csv").n_written == 1


def test_a_zip_that_expands_too_much_is_rejected_before_decompressing(
    datapath, tmp_path, monkeypatch
):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for i in range(3):
            zf.writestr(f"{i}.html", b"<p>" + b" " * (4 << 20) + b"</p>")
    assert archive.stat().st_size < 100_000

    def no_read(*args, **kwargs):
        raise AssertionError("a member was decompressed")

    monkeypatch.setattr(zipfile.ZipFile, "read", no_read)
    report = build_dataset(archive, tmp_path / "anime.csv")
    assert report.reasons == {"zip too large when expanded": 1}
    (reject,) = _read_csv(report.rejects_csv)
    assert "12.0 MiB from" in reject["detail"] and "allowed" in reject["detail"]


def test_too_many_zip_members_are_rejected(datapath, tmp_path, monkeypatch):
    from skanime.datasets import _build

    monkeypatch.setattr(_build, "MAX_ZIP_MEMBERS", 5)
    archive = tmp_path / "many.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(6):
            zf.writestr(f"{i}.html", "<p>x</p>")
    report = build_dataset(archive, tmp_path / "anime.csv")
    assert report.reasons == {"zip too large when expanded": 1}
    assert (
        "6 members, more than the 5 allowed"
        in _read_csv(report.rejects_csv)[0]["detail"]
    )


def test_pages_over_the_size_limit_are_rejected_unread(datapath, tmp_path, monkeypatch):
    from skanime.datasets import _build

    monkeypatch.setattr(_build, "MAX_PAGE_BYTES", 2000)
    folder = tmp_path / "pages"
    folder.mkdir()
    (folder / "1.html").write_text(_minimal_page(datapath), encoding="utf-8")
    (folder / "2.html").write_text(
        _minimal_page(datapath).replace("together.", "together." + " x" * 2000),
        encoding="utf-8",
    )
    with zipfile.ZipFile(folder / "3.zip", "w") as zf:
        zf.writestr("details.html", "<p>" + "y" * 3000 + "</p>")
    report = build_dataset(folder, tmp_path / "anime.csv")
    assert report.n_written == 1
    assert report.reasons == {"page too large": 2}
