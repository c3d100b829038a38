"""File helpers shared by the dataset builders, the model savers and the CLI.

The rules every writer of skanime follows:

- **All or nothing.** A file is written to a temporary file in its folder and
  moved over the target when complete (:func:`atomic_write`); several files
  written together are all complete before the first is replaced
  (:func:`atomic_writes`).
- **Checked before the work.** :func:`check_output_paths` runs before any
  long work starts: every output's folder exists and takes a new file, its
  name is accepted by the file system, and no output is an input of the same
  run or another of its outputs (compared by resolved real path and by
  file identity, so symbolic and hard links count).
- **Links are written through.** Writing to a symbolic link replaces the file
  the link points to and keeps the link; an existing file keeps its
  permission bits.
"""

import contextlib
import errno
import os
import secrets
import stat

__all__ = ["OutputPathError", "atomic_write", "atomic_writes", "check_output_paths"]

_TEXT_MODES = ("w", "wt")
_BINARY_MODES = ("wb",)
# Temporary names keep at most this much of the target's name, so a target
# whose name the file system accepts also gets a temporary name it accepts.
_TMP_NAME_KEEP = 64


class OutputPathError(ValueError):
    """An output file cannot be written, or would overwrite an input.

    Attributes
    ----------
    path : str
        The output concerned.
    """

    def __init__(self, message, path):
        super().__init__(message)
        self.path = path


def _temporary_name(path):
    folder, name = os.path.split(path)
    return os.path.join(folder, f".{name[:_TMP_NAME_KEEP]}.{secrets.token_hex(6)}.tmp")


def _check_mode(mode):
    if mode not in _TEXT_MODES + _BINARY_MODES:
        raise ValueError(
            f"atomic_write supports the write modes 'w', 'wt' and 'wb'; got "
            f"mode={mode!r}. Read the file with open() instead, or append by "
            "rewriting it whole."
        )


def _target(path):
    """The file really written for ``path``: symbolic links are followed."""
    path = os.fspath(path)
    real = os.path.realpath(path)
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        shown = os.path.dirname(os.path.abspath(path))
        raise FileNotFoundError(
            f"Cannot write {path!r}: its folder {shown!r} does not exist. "
            "Create it first (e.g. os.makedirs(folder, exist_ok=True))."
        )
    return real, folder


class _Pending:
    """One temporary file waiting to replace its target."""

    def __init__(self, path, mode, encoding, newline):
        _check_mode(mode)
        self.path = os.fspath(path)
        self.target, self.folder = _target(path)
        self.tmp_path = _temporary_name(self.target)
        # os.open with 0o666 lets the process umask decide the permissions of
        # a new file, as a plain open() would (tempfile.mkstemp forces 0o600);
        # an existing file keeps its own permission bits.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(self.tmp_path, flags, 0o666)
        try:
            with contextlib.suppress(FileNotFoundError):
                existing = os.stat(self.target)
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, stat.S_IMODE(existing.st_mode))
            if mode in _BINARY_MODES:
                self.file = os.fdopen(fd, "wb")
            else:
                self.file = os.fdopen(fd, "w", encoding=encoding, newline=newline)
        except BaseException:
            os.close(fd)
            _remove_quietly(self.tmp_path)
            raise

    def finish(self):
        """Flush and sync the temporary file; the target is not touched yet."""
        with self.file:
            self.file.flush()
            os.fsync(self.file.fileno())

    def discard(self):
        with contextlib.suppress(OSError):
            self.file.close()
        _remove_quietly(self.tmp_path)

    def commit(self):
        os.replace(self.tmp_path, self.target)
        _fsync_folder(self.folder)


@contextlib.contextmanager
def atomic_write(path, mode="w", encoding="utf-8", *, newline=None):
    """Open ``path`` for writing so that it is replaced all at once or not at all.

    The data goes to a temporary file in the same folder as ``path``. When the
    ``with`` block ends normally, the temporary file is flushed, synced to disk
    and moved over ``path`` with :func:`os.replace`, which is atomic on POSIX
    and Windows when both paths are on the same file system. When the block
    raises anything (including :class:`KeyboardInterrupt`), the temporary file
    is deleted, ``path`` is left as it was and the exception propagates.

    When ``path`` exists, the new file gets its permission bits. When
    ``path`` is a symbolic link, the file it points to is replaced and the
    link is kept.

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

    See Also
    --------
    atomic_writes : Several files, all replaced only once all are written.

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
    with atomic_writes([(path, mode)], encoding=encoding, newline=newline) as (f,):
        yield f


@contextlib.contextmanager
def atomic_writes(paths, encoding="utf-8", *, newline=None):
    """Write several files, replacing none of them unless all are written.

    Every file is written to its own temporary file. Only when the ``with``
    block ends normally and every temporary file is synced to disk are the
    targets replaced, one after the other; any error before that leaves all
    of them as they were.

    Parameters
    ----------
    paths : list of (path, mode)
        The files and their modes, as for :func:`atomic_write`.

    encoding : str, default="utf-8"
        Text encoding of the text-mode files.

    newline : str, default=None
        Passed to :func:`open` for the text-mode files.

    Yields
    ------
    files : list of file objects
        The open temporary files, in the order of ``paths``.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skanime._io import atomic_writes
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     a, b = Path(tmp) / "a.txt", Path(tmp) / "b.txt"
    ...     with atomic_writes([(a, "w"), (b, "w")]) as (fa, fb):
    ...         _ = fa.write("A")
    ...         _ = fb.write("B")
    ...     print(a.read_text() + b.read_text())
    AB
    """
    for _, mode in paths:
        _check_mode(mode)
    pending = []
    try:
        for path, mode in paths:
            pending.append(_Pending(path, mode, encoding, newline))
        yield [p.file for p in pending]
        for p in pending:
            p.finish()
    except BaseException:
        for p in pending:
            p.discard()
        raise
    try:
        for p in pending:
            p.commit()
    finally:
        for p in pending:
            _remove_quietly(p.tmp_path)


def _identity(path):
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return (st.st_dev, st.st_ino)


def _probe_folder(path, real, folder):
    """Create and remove a temporary file where ``path`` will be written."""
    probe = _temporary_name(real)
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise OutputPathError(
            f"cannot write {path}: the folder {folder} does not accept new files "
            f"({os.strerror(exc.errno) if exc.errno else exc}). Choose a writable "
            "folder.",
            path,
        ) from None
    os.close(fd)
    _remove_quietly(probe)


def _probe_name(path, real):
    """Create and remove ``real`` itself, to see that its name is accepted."""
    try:
        fd = os.open(real, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except (OSError, ValueError) as exc:
        errno_ = getattr(exc, "errno", None)
        if errno_ == errno.ENAMETOOLONG:
            reason = "the file name is too long for the file system"
        elif isinstance(exc, ValueError):
            reason = "the file name holds a NUL character"
        else:
            reason = f"the file system refuses the name ({os.strerror(errno_)})"
        raise OutputPathError(
            f"cannot write {path}: {reason}. Choose another name.", path
        ) from None
    os.close(fd)
    _remove_quietly(real)


def check_output_paths(outputs, inputs=()):
    """Check, before any work, that every output can be written safely.

    For each output: its folder exists and takes a new file; the output is
    not a folder and not a read-only file; its name is accepted by the file
    system (a file of that name is created and removed again when none
    exists). No output may be the same file as an input or as another
    output: paths are compared after resolving symbolic links, ``..`` and
    the current folder, and existing files also by identity (device and
    inode), so a hard link to an input is refused too.

    Parameters
    ----------
    outputs : list of (str or os.PathLike)
        The files the run will write.

    inputs : list of (str or os.PathLike), default=()
        The files the run reads.

    Raises
    ------
    OutputPathError
        The first problem found, naming the output, what is wrong and what
        to do. Nothing is written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skanime._io import OutputPathError, check_output_paths
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     data = Path(tmp) / "anime.csv"
    ...     _ = data.write_text("MAL_ID,Name,Type,Genre,Synopsis\\n")
    ...     check_output_paths([Path(tmp) / "model.skops"], inputs=[data])
    ...     try:
    ...         check_output_paths([Path(tmp) / "." / "anime.csv"], inputs=[data])
    ...     except OutputPathError as exc:
    ...         print("refused:", "is the input" in str(exc))
    refused: True
    """
    inputs = [os.fspath(p) for p in inputs]
    input_reals = {os.path.realpath(p): p for p in inputs}
    input_ids = {}
    for p in inputs:
        identity = _identity(p)
        if identity is not None:
            input_ids.setdefault(identity, p)
    seen_reals, seen_ids = {}, {}
    for raw in outputs:
        path = os.fspath(raw)
        if not path or "\0" in path:
            raise OutputPathError(
                f"cannot write {path!r}: not a usable file name. Choose another.",
                path,
            )
        real = os.path.realpath(path)
        folder = os.path.dirname(real)
        if os.path.isdir(real):
            raise OutputPathError(
                f"cannot write {path}: it is a folder. Give a file name.", path
            )
        if not os.path.isdir(folder):
            kind = "is not a folder" if os.path.exists(folder) else "does not exist"
            raise OutputPathError(
                f"cannot write {path}: the folder {folder} {kind}. Create the "
                "folder first or choose another.",
                path,
            )
        identity = _identity(real)
        same_input = input_reals.get(real) or (
            input_ids.get(identity) if identity is not None else None
        )
        if same_input is not None:
            raise OutputPathError(
                f"cannot write {path}: it is the input {same_input} of this run, "
                "which would be overwritten. Write to another file; nothing was "
                "written.",
                path,
            )
        same_output = seen_reals.get(real) or (
            seen_ids.get(identity) if identity is not None else None
        )
        if same_output is not None:
            raise OutputPathError(
                f"cannot write {path}: it is the same file as the output "
                f"{same_output} of this run. Give each output its own file; "
                "nothing was written.",
                path,
            )
        seen_reals[real] = path
        if identity is not None:
            seen_ids[identity] = path
        if identity is not None and not os.access(real, os.W_OK):
            raise OutputPathError(
                f"cannot write {path}: the file exists and is read-only. Make "
                "it writable or choose another name.",
                path,
            )
        _probe_folder(path, real, folder)
        _probe_name(path, real)


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
