"""Saving and loading fitted models as skops files.

Why not pickle or joblib
------------------------
A pickle (and a joblib file, which is a pickle with numpy arrays beside it)
is a small program: loading it calls whatever functions the file names, with
whatever arguments it holds. A model file from a stranger can therefore run
any code on your machine the moment it is loaded (delete files, start a
shell, steal credentials), before you ever call ``predict``. scikit-learn's
documentation warns about this, and no check after loading can undo it.

skanime writes models with :mod:`skops.io` instead. A skops file is a zip
archive with a JSON description of the objects and ``.npy`` arrays read with
``allow_pickle=False``. Loading rebuilds objects only from types on an
allow list; :func:`load_model` refuses, before building anything, a file that
names any other type, and lists the offending types in the error.
"""

import io
import json
import os
import struct
import warnings
import zipfile
import zlib

import sklearn
import skops.io as sio
from sklearn.exceptions import InconsistentVersionWarning

from ._io import atomic_write
from ._version import __version__

__all__ = [
    "ModelFileError",
    "ModelVersionWarning",
    "UntrustedModelError",
    "load_model",
    "save_model",
    "trusted_types",
]

# A zip member's local header (signature, version, flags, method, time,
# date, CRC-32, compressed and uncompressed sizes, name and extra lengths).
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_SIGNATURE = b"PK\x03\x04"
_DATA_DESCRIPTOR = 0x08  # sizes and CRC follow the data instead
_ZIP64_SIZE = 0xFFFFFFFF  # the sizes are in the zip64 extra field

_FORMAT = "skanime-model"
_FORMAT_VERSION = 1

#: The skanime classes a model file may hold: every estimator and
#: cross-validation splitter the package defines. Add a new estimator here
#: (tests/test_persistence.py finds the package's estimators from the code and
#: fails when one is missing, or when this list names anything else).
SKANIME_TRUSTED_TYPES = (
    "skanime._embedding.TfidfWeightedW2VTransformer",
    "skanime._focal_mlp.FocalMLPClassifier",
    "skanime._linear.MultilabelLogisticRegression",
    "skanime._linear.MultilabelMultinomialNB",
    "skanime._neighbors.MultilabelKNeighborsClassifier",
    "skanime._pipeline.GenreClassifier",
    "skanime._rare_features.RareFeatureSelector",
    "skanime._stacking.MultilabelStackingClassifier",
    "skanime._text.SynopsisCleaner",
    "skanime._tfidf.FastTfidfVectorizer",
    "skanime.model_selection._split.MultilabelStratifiedGroupKFold",
    "skanime.model_selection._split.MultilabelStratifiedKFold",
    "skanime.model_selection._split.MultilabelStratifiedShuffleSplit",
    "skanime.model_selection._threshold.MultiLabelThresholdTuner",
)

#: Types outside skanime and outside skops's default allow list (scikit-learn,
#: numpy, scipy and Python builtins) that skanime's estimators hold once
#: fitted. The embedding stores its gensim KeyedVectors as plain arrays, so
#: there are none.
EXTRA_TRUSTED_TYPES = ()

#: Limits on a model file, checked before anything is decompressed or built:
#: the file's size, the total size of its members once decompressed (at most
#: ``MAX_MODEL_COMPRESSION_RATIO`` times the file's size beyond the first
#: ``_RATIO_FREE_BYTES``, so a small file cannot expand to gigabytes), and the
#: number of members. A default model trained on MAL-2021 is far below each.
MAX_MODEL_FILE_BYTES = 1 << 30
MAX_MODEL_UNCOMPRESSED_BYTES = 2 << 30
MAX_MODEL_COMPRESSION_RATIO = 100
MAX_MODEL_MEMBERS = 20_000
_RATIO_FREE_BYTES = 64 << 20

_PICKLE_HINT = (
    "skanime reads only skops model files written by skanime.save_model; pickle "
    "and joblib files are refused because loading them can run arbitrary code."
)


class ModelFileError(ValueError):
    """A model file cannot be read: damaged, truncated or of another kind."""


class UntrustedModelError(ModelFileError):
    """A model file holds types that are not on the trusted list.

    Attributes
    ----------
    untrusted_types : list of str
        Fully qualified names of the refused types.
    """

    def __init__(self, message, untrusted_types):
        super().__init__(message)
        self.untrusted_types = list(untrusted_types)


class ModelVersionWarning(UserWarning):
    """A model file was written by other skanime or scikit-learn versions.

    Attributes
    ----------
    saved_versions, current_versions : dict
        Library name to version, as written in the file and as installed.
    """

    def __init__(self, message, saved_versions=None, current_versions=None):
        super().__init__(message)
        self.saved_versions = dict(saved_versions or {})
        self.current_versions = dict(current_versions or {})


def _current_versions():
    return {"skanime": __version__, "scikit-learn": sklearn.__version__}


def trusted_types():
    """Types :func:`load_model` accepts besides skops's defaults.

    skops itself trusts scikit-learn estimators, numpy and scipy types and
    Python builtins. skanime adds its own estimators and cross-validation
    splitters, listed explicitly in ``SKANIME_TRUSTED_TYPES``.

    Returns
    -------
    names : list of str
        Sorted fully qualified type names.

    Examples
    --------
    >>> from skanime._persistence import trusted_types
    >>> "skanime._pipeline.GenreClassifier" in trusted_types()
    True
    """
    return sorted(set(SKANIME_TRUSTED_TYPES) | set(EXTRA_TRUSTED_TYPES))


def save_model(model, path):
    """Save a fitted model to a skops file.

    The file is written to a temporary file in the same folder and then
    renamed over ``path``, so ``path`` holds either the old file or the whole
    new one, never a partial write. Beside the model, the file records the
    skanime and scikit-learn versions that wrote it; :func:`load_model` warns
    when they differ from the installed ones.

    Parameters
    ----------
    model : estimator
        Usually a fitted :class:`~skanime.GenreClassifier`; any object skops
        can serialise works.
    path : str or path-like
        Target file, by convention with the ``.skops`` suffix. Its folder
        must exist.

    Warns
    -----
    UserWarning
        When the model holds types outside :func:`trusted_types`: the file is
        written, but :func:`load_model` will refuse it unless those types are
        passed as ``trusted``.

    See Also
    --------
    load_model : Read the file back.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from sklearn.preprocessing import StandardScaler
    >>> from skanime._persistence import load_model, save_model
    >>> scaler = StandardScaler().fit([[0.0], [2.0]])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_model(scaler, Path(tmp) / "scaler.skops")
    ...     loaded = load_model(Path(tmp) / "scaler.skops")
    >>> loaded.mean_.tolist()
    [1.0]
    """
    payload = {
        "format": _FORMAT,
        "format_version": _FORMAT_VERSION,
        "versions": _current_versions(),
        "model": model,
    }
    data = sio.dumps(payload, compression=zipfile.ZIP_DEFLATED, compresslevel=1)
    outside = sorted(set(sio.get_untrusted_types(data=data)) - set(trusted_types()))
    if outside:
        warnings.warn(
            f"The model holds types outside skanime's trusted list: "
            f"{', '.join(outside)}. load_model will refuse the file unless you "
            f"pass trusted={outside!r} after reviewing them.",
            UserWarning,
            stacklevel=2,
        )
    with atomic_write(path, "wb") as f:
        f.write(data)


def _one_line(exc):
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _mib(n_bytes):
    return f"{n_bytes / (1 << 20):,.1f} MiB"


def _check_archive(archive, path, file_size, limits):
    """Refuse an archive whose members would take too much to read."""
    max_uncompressed, max_members = limits
    members = archive.infolist()
    if len(members) > max_members:
        raise ModelFileError(
            f"Cannot load {path}: it holds {len(members):,} archive members, more "
            f"than the {max_members:,} a skanime model file may have. It is not a "
            "model written by skanime.save_model; refusing to read it."
        )
    total = sum(member.file_size for member in members)
    allowed = min(
        max_uncompressed,
        _RATIO_FREE_BYTES + MAX_MODEL_COMPRESSION_RATIO * file_size,
    )
    if total > allowed:
        raise ModelFileError(
            f"Cannot load {path}: its members expand to {_mib(total)} from a "
            f"{_mib(file_size)} file, more than the {_mib(allowed)} allowed (at "
            f"most {_mib(max_uncompressed)}, and {MAX_MODEL_COMPRESSION_RATIO} "
            f"times the file size beyond the first {_mib(_RATIO_FREE_BYTES)}). "
            "Refusing to decompress it; pass a larger max_uncompressed_bytes to "
            "load_model only if you trust the file."
        )


def _check_integrity(archive, data, path):
    """Refuse an archive whose members' headers do not match its directory.

    ``zipfile`` checks each member's data against the CRC-32 of the
    archive's directory as it reads it, but ignores the copy of the CRC,
    sizes, method and time in the member's own header: a flipped byte there
    would go unnoticed.
    """
    for member in archive.infolist():
        start = member.header_offset
        header = data[start : start + _LOCAL_HEADER.size]
        if len(header) < _LOCAL_HEADER.size:
            raise _damaged(path, EOFError(f"member {member.filename} is cut short"))
        signature, _, flags, method, time, date, crc, compressed, size, _, _ = (
            _LOCAL_HEADER.unpack(header)
        )
        expected = [
            (signature, _LOCAL_SIGNATURE),
            (flags, member.flag_bits),
            (method, member.compress_type),
            (
                time,
                member.date_time[3] << 11
                | member.date_time[4] << 5
                | member.date_time[5] // 2,
            ),
            (
                date,
                (member.date_time[0] - 1980) << 9
                | member.date_time[1] << 5
                | member.date_time[2],
            ),
        ]
        if not flags & _DATA_DESCRIPTOR and _ZIP64_SIZE not in (compressed, size):
            expected += [
                (crc, member.CRC),
                (compressed, member.compress_size),
                (size, member.file_size),
            ]
        if any(found != wanted for found, wanted in expected):
            raise _damaged(
                path,
                zipfile.BadZipFile(
                    f"the header of member {member.filename} does not match the "
                    "archive's directory"
                ),
            )


def _check_protocol(archive, path):
    """Refuse a file written by a newer skops, before skops reads it."""
    try:
        schema = json.loads(archive.read("schema.json"))
    except (ValueError, RecursionError) as exc:
        raise _damaged(path, exc) from exc
    protocol = schema.get("protocol") if isinstance(schema, dict) else None
    supported = sio._protocol.PROTOCOL
    if isinstance(protocol, int) and protocol > supported:
        saved_by = schema.get("_skops_version", "a newer version")
        raise ModelFileError(
            f"Cannot load {path}: it was written by skops {saved_by} with file "
            f"protocol {protocol}, newer than the installed skops "
            f"{_skops_version()} reads (up to protocol {supported}). Upgrade "
            "skops (pip install -U skops) or save the model again with the "
            "installed versions."
        )


def _skops_version():
    import skops

    return skops.__version__


def _read_schema_types(data, path, limits):
    """Untrusted types of a skops archive, or a clear error if it is not one."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if data[:1] == b"\x80" or data[:2] in (b"(d", b"(l", b"}q", b"]q"):
            kind = "it looks like a pickle or joblib file"
        elif not data:
            kind = "it is empty"
        else:
            kind = "it is not a zip archive (damaged, truncated or another format)"
        raise ModelFileError(f"Cannot load {path}: {kind}. {_PICKLE_HINT}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_archive(archive, path, len(data), limits)
            _check_integrity(archive, data, path)
            if "schema.json" not in archive.namelist():
                raise ModelFileError(
                    f"Cannot load {path}: it is a zip archive but not a skops model "
                    f"file (no schema.json). {_PICKLE_HINT}"
                )
            _check_protocol(archive, path)
        return sio.get_untrusted_types(data=data)
    except ModelFileError:
        raise
    except Exception as exc:
        raise _damaged(path, exc) from exc


def _damaged(path, exc):
    return ModelFileError(
        f"Cannot load {path}: the file is damaged or truncated "
        f"({type(exc).__name__}: {_one_line(exc)}). Save the model again or "
        "fetch a fresh copy."
    )


def load_model(
    path,
    *,
    trusted=None,
    max_file_bytes=MAX_MODEL_FILE_BYTES,
    max_uncompressed_bytes=MAX_MODEL_UNCOMPRESSED_BYTES,
):
    """Load a model saved with :func:`save_model`, refusing untrusted types.

    The file is checked before any object is built: every type it names must
    be on skops's default allow list (scikit-learn, numpy, scipy, builtins),
    in :func:`trusted_types`, or in ``trusted``. Damaged files, other
    archives and pickle or joblib files are refused with
    :class:`ModelFileError`; never load a pickle you did not write yourself,
    as loading it can run arbitrary code.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save_model`.
    trusted : sequence of str or None, default=None
        Extra fully qualified type names to accept (for models holding your
        own estimators). Only list types whose code you have reviewed.
    max_file_bytes : int, default=1 GiB
        Largest file read; a larger one is refused before it is read.
    max_uncompressed_bytes : int, default=2 GiB
        Largest total size of the archive's members once decompressed. The
        total is also limited to 100 times the file's size beyond the first
        64 MiB, so a small file cannot expand to gigabytes. An archive with
        more than 20,000 members is refused too. These limits are checked
        from the archive's directory, before anything is decompressed.

    Returns
    -------
    model : estimator
        The saved model.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    UntrustedModelError
        If the file holds types that are not trusted; its
        ``untrusted_types`` lists them.
    ModelFileError
        If the file is not a skanime model file, is damaged, exceeds a size
        limit, or was written by a newer skops or skanime file format.

    Warns
    -----
    ModelVersionWarning
        When the file was written with another skanime or scikit-learn
        version; predictions may then differ or fail.

    See Also
    --------
    save_model : Write a model file.

    Notes
    -----
    Why skanime does not read pickle or joblib files: unpickling calls the
    functions the file names, so a model file from a stranger could run any
    code (delete files, open a shell, read credentials) while it is loaded,
    before any check is possible. A skops file only describes objects; the
    types it may rebuild are checked first against the allow list.
    """
    if isinstance(trusted, str) or trusted is True:
        raise TypeError(
            "trusted must be a list of fully qualified type names, e.g. "
            "['mypackage.MyTransformer']; got "
            f"{trusted!r}. Trusting everything is not supported."
        )
    path = os.fspath(path)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        if size > max_file_bytes:
            raise ModelFileError(
                f"Cannot load {path}: the file has {_mib(size)}, more than the "
                f"{_mib(max_file_bytes)} a model file may have. Pass a larger "
                "max_file_bytes to load_model only if you trust the file."
            )
        data = f.read(max_file_bytes + 1)
    allowed = set(trusted_types()) | set(trusted or ())
    found = _read_schema_types(data, path, (max_uncompressed_bytes, MAX_MODEL_MEMBERS))
    refused = sorted(set(found) - allowed)
    if refused:
        raise UntrustedModelError(
            f"Refusing to load {path}: it holds types that are not trusted: "
            f"{', '.join(refused)}. If you trust where the file comes from and "
            "have reviewed these types, pass them as load_model(path, "
            "trusted=[...]).",
            refused,
        )
    try:
        with warnings.catch_warnings():
            # The versions recorded by save_model are compared below, once.
            warnings.simplefilter("ignore", InconsistentVersionWarning)
            payload = sio.loads(data, trusted=sorted(set(found)))
    except (zipfile.BadZipFile, zlib.error, EOFError, RecursionError) as exc:
        raise _damaged(path, exc) from exc
    except Exception as exc:
        raise ModelFileError(
            f"Cannot load {path}: the model could not be rebuilt "
            f"({type(exc).__name__}: {_one_line(exc)}). It may come from an "
            "incompatible skops or scikit-learn version."
        ) from exc
    if not (isinstance(payload, dict) and payload.get("format") == _FORMAT):
        raise ModelFileError(
            f"Cannot load {path}: it is a skops file but was not written by "
            "skanime.save_model (no skanime header). Load it with skops.io.load "
            "if you know what it holds."
        )
    if payload.get("format_version", 0) > _FORMAT_VERSION:
        raise ModelFileError(
            f"Cannot load {path}: it uses model file format version "
            f"{payload['format_version']}, newer than this skanime reads "
            f"({_FORMAT_VERSION}). Upgrade skanime."
        )
    _check_versions(payload.get("versions") or {}, path)
    return payload["model"]


def _check_versions(saved, path):
    current = _current_versions()
    changed = [
        f"{name} {saved.get(name, 'unknown')} (installed: {version})"
        for name, version in current.items()
        if saved.get(name) != version
    ]
    if changed:
        warnings.warn(
            ModelVersionWarning(
                f"{path} was saved with {', '.join(changed)}. Predictions may "
                "differ or fail; refit and save the model with the installed "
                "versions to be safe.",
                saved,
                current,
            ),
            stacklevel=3,
        )
