"""Load pretrained word vectors as gensim ``KeyedVectors``."""

import gzip
import os
import shutil
import tempfile
from collections.abc import Mapping
from contextlib import contextmanager
from numbers import Integral

import numpy as np
from gensim.models import KeyedVectors
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["load_word_vectors"]

_GZIP_MAGIC = b"\x1f\x8b"
_MAX_LINE = 1 << 22


def _is_gzip(path):
    with open(path, "rb") as f:
        return f.read(2) == _GZIP_MAGIC


def _opener(path, gzipped):
    return (lambda: gzip.open(path, "rb")) if gzipped else (lambda: open(path, "rb"))


def _parse_header(line):
    """Return ``(count, dim)`` for a word2vec header line, else None."""
    parts = line.split()
    if len(parts) == 2 and all(p.isdigit() for p in parts):
        return int(parts[0]), int(parts[1])
    return None


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
    return ValueError(f"{os.fspath(path)}, line {line_no}: {message}")


def _validate_text(path, open_file, header, limit):
    """Check field counts, words and vector count of a text vector file.

    gensim silently broadcasts a vector with too few numbers, so every line
    is checked before gensim reads the file. Numbers are not parsed here;
    when gensim fails on one, :func:`_locate_bad_number` finds its line.
    """
    dim = header[1] if header else None
    count = header[0] if header else None
    first_line = 2 if header else 1
    seen = {}
    n_vectors = 0
    line_no = first_line - 1
    with open_file() as f:
        if header:
            f.readline()
        for line_no, line in enumerate(f, start=first_line):
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
    if count is not None and n_vectors < count and (limit is None or n_vectors < limit):
        raise _bad_line(
            path,
            line_no,
            f"the file ends after {n_vectors} vectors but its header declares "
            f"{count}; it may be truncated. Fix the count on line 1 or get the "
            "file again.",
        )
    return dim


def _locate_bad_number(path, open_file, header):
    """Return ``(line_no, token)`` of the first number that is not a float."""
    first_line = 2 if header else 1
    with open_file() as f:
        if header:
            f.readline()
        for line_no, line in enumerate(f, start=first_line):
            for token in line.rstrip().split(b" ")[1:]:
                try:
                    float(token)
                except ValueError:
                    return line_no, token.decode("utf-8", "replace")
    return None


@contextmanager
def _gensim_path(path, gzipped):
    """A path gensim can open: gensim only gunzips files named ``*.gz``."""
    name = os.fspath(path)
    if gzipped == name.endswith(".gz"):
        yield name
        return
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "vectors.txt")
        opener = gzip.open if gzipped else open
        with opener(name, "rb") as src, open(copy, "wb") as dst:
            shutil.copyfileobj(src, dst)
        yield copy


def _from_file(path, binary, limit):
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"No word-vector file at {os.fspath(path)!r}. Pass the path of a "
            "word2vec (text or binary, optionally .gz) or GloVe text file."
        )
    gzipped = _is_gzip(path)
    open_file = _opener(path, gzipped)
    try:
        with open_file() as f:
            first = f.readline(_MAX_LINE)
            second = f.readline(_MAX_LINE)
    except (OSError, EOFError) as exc:
        raise ValueError(f"{os.fspath(path)}: cannot be read ({exc}).") from None
    header = _parse_header(first)
    if header is None and binary:
        raise _bad_line(
            path,
            1,
            "binary word2vec files start with a 'count dimension' header line; "
            f"found {first[:60]!r}. Pass binary=False for a text file.",
        )
    if binary is None:
        binary = (
            header is not None
            and header[0] > 0
            and not (_is_text_vector_line(second, header[1]))
        )
    if not binary:
        _validate_text(path, open_file, header, limit)
    with _gensim_path(path, gzipped) as gensim_path:
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
        If a file is malformed (the message names the file and the line) or
        mapping vectors differ in dimension.

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
