"""Build the seed's ``anime.csv`` from saved MyAnimeList pages."""

import csv
import logging
import os
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sklearn.utils._param_validation import validate_params

from .._io import atomic_writes, check_output_paths
from ._mal_page import ParseError, parse_mal_page
from ._taxonomy import _GenreFolder

__all__ = ["BuildReport", "build_dataset"]

logger = logging.getLogger("skanime.datasets")

SEED_COLUMNS = ("MAL_ID", "Name", "Type", "Genre", "Synopsis")
REJECT_COLUMNS = ("source", "reason", "detail")
_PAGE_SUFFIXES = (".html", ".htm")
_DIGITS = re.compile(r"^(\d+)$")

#: Limits on what one input may take to read. A saved MAL page is a few
#: hundred KB; a larger page is rejected ("page too large") without being
#: read. A zip is rejected whole ("zip too large when expanded") before
#: anything is decompressed when it holds more members than
#: ``MAX_ZIP_MEMBERS``, or when its members would expand to more than
#: ``MAX_ZIP_UNCOMPRESSED_BYTES`` in total, or to more than
#: ``MAX_ZIP_COMPRESSION_RATIO`` times the zip's size beyond the first
#: ``MAX_PAGE_BYTES`` (HTML compresses about ten times).
MAX_PAGE_BYTES = 8 << 20
MAX_ZIP_MEMBERS = 200_000
MAX_ZIP_UNCOMPRESSED_BYTES = 8 << 30
MAX_ZIP_COMPRESSION_RATIO = 100

#: MAL's text for a title nobody wrote a synopsis for yet ("No synopsis
#: information has been added to this title. Help improve our database by
#: adding a synopsis here.", and older "No synopsis has been added for this
#: series yet."): not a description of the story.
PLACEHOLDER_SYNOPSIS = re.compile(
    r"^\W{0,20}no synopsis(?: information)? ha(?:s|ve) been added", re.IGNORECASE
)


@dataclass
class BuildReport:
    """What :func:`build_dataset` did.

    Every input is counted once, either as written or as rejected:
    ``n_inputs == n_written + n_rejected``.

    Attributes
    ----------
    n_inputs : int
        Pages (or page archives) found in the source.

    n_written : int
        Rows written to the dataset.

    n_rejected : int
        Rows written to the rejects file.

    reasons : dict of str to int
        Number of rejects per reason.

    out_csv : str
        The dataset written.

    rejects_csv : str
        The rejects written.
    """

    n_inputs: int
    n_written: int
    n_rejected: int
    reasons: dict = field(default_factory=dict)
    out_csv: str = ""
    rejects_csv: str = ""


class _Reject(Exception):
    def __init__(self, reason, detail=""):
        self.reason = reason
        self.detail = detail
        self.args_ = (reason, detail)
        super().__init__(reason)


def _fallback_id(name):
    match = _DIGITS.match(Path(name).stem)
    return int(match.group(1)) if match else None


def _mib(n_bytes):
    return f"{n_bytes / (1 << 20):,.1f} MiB"


def _zip_too_large(archive, zip_size):
    """Why ``archive`` is refused before decompressing it, or None."""
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        return f"{len(members):,} members, more than the {MAX_ZIP_MEMBERS:,} allowed"
    total = sum(m.file_size for m in members)
    allowed = min(
        MAX_ZIP_UNCOMPRESSED_BYTES,
        MAX_PAGE_BYTES + MAX_ZIP_COMPRESSION_RATIO * zip_size,
    )
    if total > allowed:
        return (
            f"its members expand to {_mib(total)} from {_mib(zip_size)}, more than "
            f"the {_mib(allowed)} allowed (at most {_mib(MAX_ZIP_UNCOMPRESSED_BYTES)}"
            f", and {MAX_ZIP_COMPRESSION_RATIO} times the zip's size)"
        )
    return None


def _page_too_large(size):
    return _Reject(
        "page too large",
        f"{_mib(size)}, more than the {_mib(MAX_PAGE_BYTES)} a saved MAL page may "
        "have; it was not read",
    )


def _zip_inputs(zip_path, display):
    """Yield ``(source, fallback_id, read)`` for the pages of one zip file."""
    try:
        archive = zipfile.ZipFile(zip_path)
        zip_size = os.path.getsize(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield display, None, _raiser("unreadable zip", str(exc))
        return
    with archive:
        too_large = _zip_too_large(archive, zip_size)
        if too_large is not None:
            yield display, None, _raiser("zip too large when expanded", too_large)
            return
        members = [m for m in archive.infolist() if not m.is_dir()]
        details = [m for m in members if Path(m.filename).name == "details.html"]
        if details:
            # The Kaggle HTML dump: one zip per anime, <id>.zip/details.html.
            member = details[0]
            yield display, _fallback_id(display), _member_reader(archive, member)
            return
        for member in members:
            source = f"{display}:{member.filename}"
            if Path(member.filename).name.startswith("."):
                continue
            if Path(member.filename).suffix.lower() not in _PAGE_SUFFIXES:
                yield (
                    source,
                    None,
                    _raiser("unsupported file type", "expected .html or .htm pages"),
                )
                continue
            yield source, _fallback_id(member.filename), _member_reader(archive, member)


def _member_reader(archive, member):
    data = None
    if member.file_size > MAX_PAGE_BYTES:
        return _raiser(*_page_too_large(member.file_size).args_)
    try:
        data = archive.read(member)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        return _raiser("unreadable zip member", str(exc))
    return lambda: data


def _raiser(reason, detail):
    def read():
        raise _Reject(reason, detail)

    return read


def _file_reader(path):
    def read():
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                if size > MAX_PAGE_BYTES:
                    raise _page_too_large(size)
                return f.read(MAX_PAGE_BYTES + 1)
        except OSError as exc:
            raise _Reject("unreadable file", str(exc)) from None

    return read


def _source_files(source):
    """The files :func:`build_dataset` reads from ``source``, in reading order."""
    source = Path(source)
    if source.is_dir():
        return sorted(
            p
            for p in source.rglob("*")
            if p.is_file()
            and not any(part.startswith(".") for part in p.relative_to(source).parts)
        )
    if source.is_file() and (
        zipfile.is_zipfile(source) or source.suffix.lower() in _PAGE_SUFFIXES
    ):
        return [source]
    raise FileNotFoundError(
        f"build_dataset reads a folder of saved MAL pages, a zip of pages, or a "
        f"folder of <id>.zip files holding details.html; {str(source)!r} is "
        "none of these (missing, or not a folder, zip or .html file)."
    )


def _inputs(source, files):
    """Yield ``(source name, fallback id, read)`` for every input under source."""
    source = Path(source)
    if not source.is_dir():
        (path,) = files
        if zipfile.is_zipfile(path):
            yield from _zip_inputs(path, path.name)
        else:
            yield path.name, _fallback_id(path.name), _file_reader(path)
        return
    for path in files:
        display = path.relative_to(source).as_posix()
        suffix = path.suffix.lower()
        if suffix == ".zip":
            yield from _zip_inputs(path, display)
        elif suffix in _PAGE_SUFFIXES:
            yield display, _fallback_id(display), _file_reader(path)
        else:
            yield (
                display,
                None,
                _raiser(
                    "unsupported file type",
                    "expected .html/.htm pages or .zip files",
                ),
            )


def _record_row(source, fallback_id, read, seen_ids, genre_folder):
    """Parse one input into a seed CSV row, or raise _Reject."""
    data = read()
    try:
        record = parse_mal_page(data)
    except ParseError as exc:
        raise _Reject(exc.reason, str(exc)) from None
    mal_id = record.mal_id if record.mal_id is not None else fallback_id
    if mal_id is None:
        raise _Reject(
            "no mal_id",
            "the page has no /anime/<id>/ link and its file name is not <id>.html",
        )
    labels = genre_folder.fold(record.all_labels(), source)
    if not labels:
        raise _Reject("no genres", "the page lists no genre, theme or demographic")
    if any("," in label for label in labels):
        raise _Reject(
            "genre name contains a comma",
            f"{labels}: the Genre column is comma-separated",
        )
    if record.synopsis is None:
        raise _Reject("no synopsis", "the synopsis element is empty")
    if PLACEHOLDER_SYNOPSIS.search(record.synopsis):
        raise _Reject(
            "placeholder synopsis",
            f"MAL's text for a missing synopsis ({record.synopsis[:60]!r}), not a "
            "story",
        )
    if mal_id in seen_ids:
        raise _Reject(
            "duplicate mal_id",
            f"mal_id {mal_id} was already read from {seen_ids[mal_id]}",
        )
    seen_ids[mal_id] = source
    return (mal_id, record.name, record.type or "", ", ".join(labels), record.synopsis)


def _default_rejects_path(out_csv):
    out = Path(out_csv)
    stem = out.name[: -len(out.suffix)] if out.suffix else out.name
    return out.with_name(f"{stem}.rejects.csv")


@validate_params(
    {
        "source": [str, os.PathLike],
        "out_csv": [str, os.PathLike],
        "rejects_csv": [str, os.PathLike, None],
    },
    prefer_skip_nested_validation=True,
)
def build_dataset(source, out_csv, *, rejects_csv=None):
    """Parse saved MyAnimeList pages into the seed's ``anime.csv`` format.

    ``source`` is one of:

    - a folder of saved pages (``.html``/``.htm``, searched recursively);
    - a zip file of pages;
    - a folder of ``<id>.zip`` files each holding ``details.html`` (the
      Kaggle "Anime Recommendation Database 2020" HTML dump); mixing is fine.

    Each page is read with :func:`parse_mal_page`. Its genres, themes and
    demographics are merged into the ``Genre`` column, as 2020 pages list
    them. The id comes from the page, else from a file name ``<id>.html`` or
    ``<id>.zip``. Every input ends up in exactly one of the two outputs: the
    dataset (columns ``MAL_ID, Name, Type, Genre, Synopsis``, sorted by id,
    ``Type`` empty when unknown) or the rejects file (columns ``source``,
    ``reason``, ``detail``). Inputs are rejected when unreadable, larger than
    ``MAX_PAGE_BYTES`` (8 MiB), not a complete anime page, without id,
    genres or synopsis, with MAL's placeholder "No synopsis information has
    been added to this title..." as synopsis, or when their id was already
    written (the first in file-name order is kept). A zip whose members would
    expand to more than 100 times its size (or 8 GiB), or that holds more
    than 200,000 members, is rejected whole before anything is decompressed.

    Before any page is read, both outputs are checked: their folders take
    new files, their names are accepted, and neither is an input file, the
    other output, or a link to one of them. Both files are then written to
    temporary files and replace the old ones only once both are complete.

    Parameters
    ----------
    source : str or os.PathLike
        The folder or zip to read.

    out_csv : str or os.PathLike
        The dataset to write; :func:`load_anime` reads it back.

    rejects_csv : str or os.PathLike, default=None
        The rejects file. Default: next to ``out_csv``, named
        ``<out stem>.rejects.csv``.

    Returns
    -------
    report : BuildReport
        Counts of inputs, rows written and rejects, and rejects per reason.

    Raises
    ------
    FileNotFoundError
        If ``source`` is not a folder, a zip or an ``.html`` file, or the
        folder of an output does not exist.
    ValueError
        If an output is an input, the other output, or cannot be written
        (``skanime._io.OutputPathError``); nothing is written.

    See Also
    --------
    parse_mal_page : Reads one page.
    load_anime : Loads the dataset written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skanime.datasets import build_dataset, load_anime
    >>> tmp = tempfile.TemporaryDirectory()
    >>> pages = Path(tmp.name) / "pages"
    >>> pages.mkdir()
    >>> _ = (pages / "1.html").write_text(
    ...     '<div itemprop="name"><strong>Cowboy Bebop</strong></div>'
    ...     '<div><span class="dark_text">Genres:</span>'
    ...     '<span itemprop="genre">Action</span></div>'
    ...     '<p itemprop="description">Bounty hunters in space.</p>')
    >>> _ = (pages / "notes.txt").write_text("not a page")
    >>> report = build_dataset(pages, Path(tmp.name) / "anime.csv")
    >>> report.n_inputs, report.n_written, report.n_rejected, report.reasons
    (2, 1, 1, {'unsupported file type': 1})
    >>> load_anime(Path(tmp.name) / "anime.csv").frame.loc[0, "name"]
    'Cowboy Bebop'
    >>> tmp.cleanup()
    """
    out_csv = Path(out_csv)
    rejects_csv = (
        _default_rejects_path(out_csv) if rejects_csv is None else Path(rejects_csv)
    )
    for path in (out_csv, rejects_csv):
        folder = path.absolute().parent
        if not folder.is_dir():
            raise FileNotFoundError(
                f"Cannot write {str(path)!r}: its folder {str(folder)!r} does not "
                "exist. Create it first."
            )
    files = _source_files(source)
    check_output_paths([out_csv, rejects_csv], inputs=[source, *files])
    rows, rejects, seen_ids = [], [], {}
    genre_folder = _GenreFolder()
    n_inputs = 0
    for source_name, fallback_id, read in _inputs(source, files):
        n_inputs += 1
        try:
            rows.append(
                _record_row(source_name, fallback_id, read, seen_ids, genre_folder)
            )
        except _Reject as reject:
            rejects.append((source_name, reject.reason, reject.detail))
    rows.sort(key=lambda row: row[0])
    genre_folder.log(f"build_dataset({str(source)!r})")

    # Both files are complete on disk before either replaces an old one.
    with atomic_writes([(out_csv, "w"), (rejects_csv, "w")], newline="") as files:
        writer = csv.writer(files[0], lineterminator="\n")
        writer.writerow(SEED_COLUMNS)
        writer.writerows(rows)
        writer = csv.writer(files[1], lineterminator="\n")
        writer.writerow(REJECT_COLUMNS)
        writer.writerows(rejects)

    reasons = dict(Counter(reason for _, reason, _ in rejects).most_common())
    logger.info(
        "build_dataset: %d inputs, %d rows written to %s, %d rejected (%s) to %s.",
        n_inputs,
        len(rows),
        out_csv,
        len(rejects),
        ", ".join(f"{r}: {n}" for r, n in reasons.items()) or "none",
        rejects_csv,
    )
    return BuildReport(
        n_inputs=n_inputs,
        n_written=len(rows),
        n_rejected=len(rejects),
        reasons=reasons,
        out_csv=str(out_csv),
        rejects_csv=str(rejects_csv),
    )
