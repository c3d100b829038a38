"""Load pretrained word vectors as gensim ``KeyedVectors``."""

import io
import mmap
import os
import shutil
import tempfile
import zlib
from collections.abc import Mapping
from contextlib import contextmanager
from numbers import Integral

import numpy as np
from gensim.models import KeyedVectors
from sklearn.utils._param_validation import Interval, validate_params

from ._loaders import _gunzip, _size_text

__all__ = ["load_word_vectors"]

_GZIP_MAGIC = b"\x1f\x8b"

# Limits on what a word-vector file may hold, checked before gensim allocates
# anything.

#: The largest word-vector file, on disk and once decompressed: published
#: vectors such as GloVe 6B 300d (1 GB of text) fit; more than this would not
#: fit in memory next to a model anyway.
MAX_VECTOR_FILE_BYTES = 4 << 30

#: The most words read from one file. GoogleNews's 3 million fit.
MAX_VOCABULARY = 4_000_000

#: The largest vector dimension. Published word vectors have 50 to 1,024.
MAX_VECTOR_SIZE = 10_000

#: The longest line of a text file (newline included) and the longest word of
#: a binary one. A 10,000-dimension vector written in full precision takes
#: about 250 kB.
MAX_LINE_BYTES = 1 << 20


def _count(n):
    return f"{n:,}"


def _refuse(path, what, line_no=None):
    """A ``ValueError`` naming the file (and line) before the message."""
    where = os.fspath(path) if line_no is None else f"{os.fspath(path)}, line {line_no}"
    return ValueError(f"{where}: {what}")


def _too_large(path, what):
    return _refuse(
        path,
        f"the file {what} more than {_size_text(MAX_VECTOR_FILE_BYTES)}, the "
        "most a word-vector file may hold; refusing to read it. Keep fewer words "
        "(the first lines hold the most frequent ones), or check that it is the "
        "file you meant.",
    )


def _read_gzip(path):
    """The decompressed bytes of a gzip file, refused beyond the size limit."""
    with open(path, "rb") as f:
        raw = f.read(MAX_VECTOR_FILE_BYTES + 1)
    try:
        data = _gunzip(raw, MAX_VECTOR_FILE_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise _refuse(
            path,
            f"the file is gzip-compressed but cannot be decompressed ({exc}); it "
            "is probably truncated. Download or copy it again.",
        ) from None
    if data is None:
        raise _too_large(path, "decompresses to")
    return data


@contextmanager
def _byte_view(path, data):
    """``data``, or a read-only memory map of ``path``: slicing and ``find``."""
    if data is not None:
        yield data
        return
    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            yield b""
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as view:
            yield view


def _parse_header(line):
    """Return ``(count, dim)`` for a word2vec header line, else None."""
    parts = line.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1])
    return None


def _check_header(path, header, limit):
    """Refuse a header whose sizes exceed the limits, before any allocation."""
    count, dim = header
    if count < 1:
        raise _refuse(
            path,
            "the header declares 0 words; a word-vector file needs at least one. "
            "Fix the count on line 1.",
            1,
        )
    if dim < 1:
        raise _refuse(
            path,
            f"the header declares vectors of {dim} dimensions; expected 'count "
            "dimension' with a dimension of at least 1. Fix line 1.",
            1,
        )
    if dim > MAX_VECTOR_SIZE:
        raise _refuse(
            path,
            f"the header declares vectors of {_count(dim)} dimensions, more than "
            f"the {_count(MAX_VECTOR_SIZE)} a word-vector file may have; refusing "
            "to read it. Check that line 1 reads 'count dimension' and that it is "
            "the file you meant.",
            1,
        )
    if count > MAX_VOCABULARY and (limit is None or limit > MAX_VOCABULARY):
        raise _refuse(
            path,
            f"the header declares {_count(count)} words, more than the "
            f"{_count(MAX_VOCABULARY)} a word-vector file may hold; refusing to "
            f"read it. Keep at most {_count(MAX_VOCABULARY)} words "
            "(load_word_vectors(path, limit=n) reads only the first n), or fix "
            "the count on line 1.",
            1,
        )


def _too_long_line(path, line_no):
    return _refuse(
        path,
        f"the line is longer than {_size_text(MAX_LINE_BYTES)}, the longest a "
        "word-vector file may have (a 10,000-dimension vector takes about 250 "
        "kB); refusing to read it. Check that it is a word2vec or GloVe file with "
        "one word per line.",
        line_no,
    )


def _lines(path, f, first_line):
    """``(line_no, line)`` pairs of ``f``, refusing lines over MAX_LINE_BYTES."""
    line_no = first_line
    while True:
        line = f.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        if len(line) > MAX_LINE_BYTES:
            raise _too_long_line(path, line_no)
        yield line_no, line
        line_no += 1


def _is_text_vector_line(line, dim):
    try:
        parts = line.rstrip().decode("utf-8").split(" ")
    except UnicodeDecodeError:
        return False
    if len(parts) != dim + 1:
        return False
    try:
        [float(x) for x in parts[1:]]
    except ValueError:
        return False
    return True


def _bad_line(path, line_no, message):
    return _refuse(path, message, line_no)


def _validate_text(path, open_file, header, limit):
    """Check field counts, words and vector count of a text vector file.

    gensim silently broadcasts a vector with too few numbers, so every line
    is checked before gensim reads the file. Numbers are not parsed here;
    when gensim fails on one, :func:`_locate_bad_number` finds its line.
    Lines over MAX_LINE_BYTES, more than MAX_VOCABULARY words and vectors of
    more than MAX_VECTOR_SIZE numbers are refused.
    """
    dim = header[1] if header else None
    count = header[0] if header else None
    first_line = 2 if header else 1
    seen = {}
    n_vectors = 0
    line_no = first_line - 1
    with open_file() as f:
        if header:
            f.readline(MAX_LINE_BYTES + 1)
        for line_no, line in _lines(path, f, first_line):
            stripped = line.rstrip()
            done = (count is not None and n_vectors >= count) or (
                limit is not None and n_vectors >= limit
            )
            if done:
                if limit is not None and n_vectors >= limit:
                    break
                if stripped:
                    raise _bad_line(
                        path,
                        line_no,
                        f"the header declares {count} vectors but this line holds "
                        "another one. Fix the count on line 1.",
                    )
                continue
            if not stripped:
                raise _bad_line(
                    path, line_no, "empty line; expected a word and its numbers."
                )
            if n_vectors >= MAX_VOCABULARY:
                raise _refuse(
                    path,
                    f"the file holds more than {_count(MAX_VOCABULARY)} vectors, the "
                    "most a word-vector file may hold; refusing to read further. "
                    f"Keep at most {_count(MAX_VOCABULARY)} words "
                    "(load_word_vectors(path, limit=n) reads only the first n).",
                    line_no,
                )
            parts = stripped.split(b" ")
            if dim is None:
                dim = len(parts) - 1
                if dim < 1:
                    raise _bad_line(
                        path,
                        line_no,
                        "expected a word followed by its numbers, separated by "
                        "single spaces (word2vec or GloVe text format).",
                    )
                if dim > MAX_VECTOR_SIZE:
                    raise _refuse(
                        path,
                        f"the line holds a vector of {_count(dim)} numbers, more "
                        f"than the {_count(MAX_VECTOR_SIZE)} dimensions a "
                        "word-vector file may have; refusing to read it. Check "
                        "that it is a word2vec or GloVe file with one word per "
                        "line.",
                        line_no,
                    )
            if len(parts) != dim + 1:
                raise _bad_line(
                    path,
                    line_no,
                    f"expected a word and {dim} numbers separated by single "
                    f"spaces, found {len(parts) - 1} numbers. Fix or remove this "
                    "line.",
                )
            try:
                word = parts[0].decode("utf-8")
            except UnicodeDecodeError:
                raise _bad_line(path, line_no, "the word is not valid UTF-8.") from None
            if word in seen:
                raise _bad_line(
                    path,
                    line_no,
                    f"the word {word!r} already has a vector on line {seen[word]}. "
                    "Remove one of them.",
                )
            seen[word] = line_no
            n_vectors += 1
    if n_vectors == 0:
        raise _refuse(
            path,
            "the file holds no word vectors; expected one word and its numbers "
            "per line (word2vec or GloVe text format).",
        )
    if count is not None and n_vectors < count and (limit is None or n_vectors < limit):
        raise _bad_line(
            path,
            line_no,
            f"the file ends after {n_vectors} vectors but its header declares "
            f"{count}; it may be truncated. Fix the count on line 1 or get the "
            "file again.",
        )
    return dim


def _validate_binary(path, view, header, header_end, limit):
    """Check the words and the length of a binary word2vec file.

    Each entry is a word, a space and ``dim`` float32 numbers. gensim looks
    for a word's space in an ever-growing buffer, so a long run of bytes
    without a space takes time quadratic in its length: words are refused
    beyond MAX_LINE_BYTES, and a file shorter than its header declares is
    refused before gensim allocates the vectors.
    """
    count, dim = header
    n_entries = count if limit is None else min(count, limit)
    vector_bytes = dim * np.dtype(np.float32).itemsize
    size = len(view)
    pos = header_end
    for entry in range(1, n_entries + 1):
        space = view.find(b" ", pos, pos + MAX_LINE_BYTES + 1)
        if space < 0 and size - pos > MAX_LINE_BYTES:
            raise _refuse(
                path,
                f"vector {_count(entry)} (byte {_count(pos)}): no word ends within "
                f"{_size_text(MAX_LINE_BYTES)}, the longest word a word-vector "
                "file may have; refusing to read it. Check that it is a binary "
                "word2vec file (pass binary=False for a text file).",
            )
        if space < 0 or space + 1 + vector_bytes > size:
            raise _refuse(
                path,
                f"the file ends inside vector {_count(entry)} of the "
                f"{_count(count)} its header declares ({_count(dim)} dimensions, "
                f"{_count(vector_bytes)} bytes each); it may be truncated, or be a "
                "text file (pass binary=False). Fix the count on line 1 or get "
                "the file again.",
            )
        try:
            bytes(view[pos:space]).lstrip(b"\n").decode("utf-8")
        except UnicodeDecodeError:
            raise _refuse(
                path,
                f"vector {_count(entry)} (byte {_count(pos)}): the word is not "
                "valid UTF-8. Check that it is a binary word2vec file (pass "
                "binary=False for a text file).",
            ) from None
        pos = space + 1 + vector_bytes


def _locate_bad_number(path, open_file, header):
    """Return ``(line_no, token)`` of the first number that is not a float."""
    first_line = 2 if header else 1
    with open_file() as f:
        if header:
            f.readline(MAX_LINE_BYTES + 1)
        for line_no, line in _lines(path, f, first_line):
            for token in line.rstrip().split(b" ")[1:]:
                try:
                    float(token)
                except ValueError:
                    return line_no, token.decode("utf-8", "replace")
    return None


@contextmanager
def _gensim_path(path, data):
    """A path gensim can open: gensim only gunzips files named ``*.gz``.

    ``data`` is the decompressed content of a gzip file, else None.
    """
    name = os.fspath(path)
    if (data is not None) == name.endswith(".gz"):
        yield name
        return
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "vectors.txt")
        with open(copy, "wb") as dst:
            if data is not None:
                dst.write(data)
            else:
                with open(name, "rb") as src:
                    shutil.copyfileobj(src, dst)
        yield copy


def _from_file(path, binary, limit):
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"No word-vector file at {os.fspath(path)!r}. Pass the path of a "
            "word2vec (text or binary, optionally .gz) or GloVe text file."
        )
    if os.path.getsize(path) > MAX_VECTOR_FILE_BYTES:
        raise _too_large(path, "holds")
    try:
        with open(path, "rb") as f:
            gzipped = f.read(2) == _GZIP_MAGIC
        data = _read_gzip(path) if gzipped else None
    except OSError as exc:
        raise ValueError(f"{os.fspath(path)}: cannot be read ({exc}).") from None

    def open_file():
        return io.BytesIO(data) if gzipped else open(path, "rb")

    with open_file() as f:
        first = f.readline(MAX_LINE_BYTES + 1)
        header_end = len(first)
        second = f.readline(MAX_LINE_BYTES + 1)
    header = _parse_header(first)
    if header is None and len(first) > MAX_LINE_BYTES:
        raise _too_long_line(path, 1)
    if header is None and binary:
        raise _bad_line(
            path,
            1,
            "binary word2vec files start with a 'count dimension' header line; "
            f"found {first[:60]!r}. Pass binary=False for a text file.",
        )
    if header is not None:
        _check_header(path, header, limit)
    if binary is None:
        binary = (
            header is not None
            and header[0] > 0
            and not (_is_text_vector_line(second, header[1]))
        )
    if binary:
        with _byte_view(path, data) as view:
            _validate_binary(path, view, header, header_end, limit)
    else:
        _validate_text(path, open_file, header, limit)
    with _gensim_path(path, data) as gensim_path:
        try:
            return KeyedVectors.load_word2vec_format(
                gensim_path, binary=binary, limit=limit, no_header=header is None
            )
        except (ValueError, EOFError, UnicodeDecodeError) as exc:
            if not binary:
                found = _locate_bad_number(path, open_file, header)
                if found is not None:
                    raise _bad_line(
                        path,
                        found[0],
                        f"{found[1]!r} is not a number. Fix or remove this line.",
                    ) from None
            kind = "binary" if binary else "text"
            hint = " Pass binary=False if it is a text file." if binary else ""
            raise ValueError(
                f"{os.fspath(path)}: cannot be read as {kind} word2vec ({exc}).{hint}"
            ) from None


def _from_mapping(mapping, limit):
    keys = list(mapping)
    if limit is not None:
        keys = keys[:limit]
    if not keys:
        raise ValueError("The word-vector mapping is empty; give at least one word.")
    vectors, dim = [], None
    for key in keys:
        if not isinstance(key, str):
            raise TypeError(
                f"Word-vector mapping keys must be str; got {type(key).__name__} "
                f"({key!r:.40})."
            )
        vector = np.asarray(mapping[key], dtype=np.float32)
        if vector.ndim != 1 or vector.size == 0:
            raise ValueError(
                f"The vector of {key!r} has shape {vector.shape}; expected a "
                "non-empty 1-D vector."
            )
        if dim is None:
            dim = vector.size
        elif vector.size != dim:
            raise ValueError(
                f"The vector of {key!r} has {vector.size} numbers but the first "
                f"word's has {dim}; all vectors need the same dimension."
            )
        vectors.append(vector)
    kv = KeyedVectors(vector_size=dim)
    kv.add_vectors(keys, np.vstack(vectors))
    return kv


@validate_params(
    {
        "source": [str, os.PathLike, KeyedVectors, Mapping],
        "binary": [None, "boolean"],
        "limit": [None, Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def load_word_vectors(source, *, binary=None, limit=None):
    """Load word vectors as a gensim ``KeyedVectors``.

    Accepted sources:

    - a word2vec file, text or binary, possibly gzip-compressed (read with
      ``KeyedVectors.load_word2vec_format``), such as the seed's
      ``ptb_cbow_100d.txt.gz``;
    - a GloVe text file: the word2vec text format without the header line
      (recognised because its first line is not "count dimension");
    - a ``KeyedVectors`` (returned as is, or its first ``limit`` words);
    - a mapping from word to vector.

    Text files are checked line by line before loading, because gensim
    would silently broadcast a vector with too few numbers: a line with the
    wrong number of fields, a word already seen, a token that is not a
    number, or fewer vectors than the header declares raise a
    ``ValueError`` naming the file and the line.

    Files may come from anywhere, so what is read is bounded before gensim
    allocates anything, and each limit is refused with a ``ValueError``
    that names it:

    - at most 512 MiB on disk and once decompressed (the limit of the anime
      data files; gzip data is decompressed in a stream that stops there);
    - at most 4,000,000 words (a header may declare more when ``limit`` is
      at most that) and 10,000 dimensions, checked on the header line, or on
      the lines of a GloVe file;
    - lines of a text file, and words of a binary file, of at most 1 MiB;
    - a binary file must hold every vector its header declares (up to
      ``limit``).

    The vectors then take at most twice the decompressed size (4 bytes a
    number, each written with at least 2 bytes), plus the words.

    Parameters
    ----------
    source : str, os.PathLike, KeyedVectors or mapping of str to array-like
        Where the vectors come from.

    binary : bool, default=None
        Whether a word2vec file is binary. None detects it from the content.

    limit : int, default=None
        Keep only the first ``limit`` words (the most frequent ones in
        word2vec and GloVe files).

    Returns
    -------
    vectors : gensim.models.KeyedVectors
        The word vectors.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    ValueError
        If a file is malformed (the message names the file and the line),
        exceeds one of the limits above, or mapping vectors differ in
        dimension.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skanime.datasets import load_word_vectors
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = Path(tmp.name) / "glove.txt"
    >>> _ = path.write_text("space 0.1 0.2 0.3\\nrobot 0.3 0.1 0.0\\n")
    >>> kv = load_word_vectors(path)
    >>> kv.index_to_key, kv.vector_size
    (['space', 'robot'], 3)
    >>> load_word_vectors({"mecha": [1.0, 0.0]}).vector_size
    2
    >>> tmp.cleanup()
    """
    if isinstance(source, KeyedVectors):
        if limit is None or limit >= len(source.index_to_key):
            return source
        kv = KeyedVectors(vector_size=source.vector_size)
        kv.add_vectors(source.index_to_key[:limit], source.vectors[:limit])
        return kv
    if isinstance(source, Mapping):
        return _from_mapping(source, limit)
    return _from_file(source, binary, limit)
