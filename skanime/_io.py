"""File helpers shared by the dataset builders, the model savers and the CLI."""

import contextlib
import os
import secrets

__all__ = ["atomic_write"]

_TEXT_MODES = ("w", "wt")
_BINARY_MODES = ("wb",)


@contextlib.contextmanager
def atomic_write(path, mode="w", encoding="utf-8", *, newline=None):
    """Open ``path`` for writing so that it is replaced all at once or not at all.

    The data goes to a temporary file in the same folder as ``path``. When the
    ``with`` block ends normally, the temporary file is flushed, synced to disk
    and moved over ``path`` with :func:`os.replace`, which is atomic on POSIX
    and Windows when both paths are on the same file system. When the block
    raises anything (including :class:`KeyboardInterrupt`), the temporary file
    is deleted, ``path`` is left as it was and the exception propagates.

    Parameters
    ----------
    path : str or os.PathLike
        The file to create or replace. Its folder must exist.

    mode : {"w", "wt", "wb"}, default="w"
        Text (``"w"``, ``"wt"``) or binary (``"wb"``) writing.

    encoding : str, default="utf-8"
        Text encoding; ignored in binary mode.

    newline : str, default=None
        Passed to :func:`open` in text mode. Use ``newline=""`` when writing
        with the :mod:`csv` module.

    Yields
    ------
    file : file object
        The open temporary file.

    Raises
    ------
    ValueError
        If ``mode`` is not a write mode listed above.
    FileNotFoundError
        If the folder of ``path`` does not exist.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skanime._io import atomic_write
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     target = Path(tmp) / "report.txt"
    ...     with atomic_write(target) as f:
    ...         _ = f.write("all or nothing\\n")
    ...     print(target.read_text(), end="")
    all or nothing
    """
    if mode not in _TEXT_MODES + _BINARY_MODES:
        raise ValueError(
            f"atomic_write supports the write modes 'w', 'wt' and 'wb'; got "
            f"mode={mode!r}. Read the file with open() instead, or append by "
            "rewriting it whole."
        )
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"Cannot write {path!r}: its folder {folder!r} does not exist. "
            "Create it first (e.g. os.makedirs(folder, exist_ok=True))."
        )
    tmp_path = os.path.join(
        folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp"
    )
    # os.open with 0o666 lets the process umask decide the final permissions,
    # as a plain open() would (tempfile.mkstemp would force 0o600).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    fd = os.open(tmp_path, flags, 0o666)
    try:
        if mode in _BINARY_MODES:
            f = os.fdopen(fd, "wb")
        else:
            f = os.fdopen(fd, "w", encoding=encoding, newline=newline)
    except BaseException:
        os.close(fd)
        _remove_quietly(tmp_path)
        raise
    try:
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except BaseException:
        _remove_quietly(tmp_path)
        raise
    _fsync_folder(folder)


def _remove_quietly(path):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _fsync_folder(folder):
    """Persist the rename itself; a no-op where folders cannot be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
