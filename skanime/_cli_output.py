"""What the ``skanime`` command shows: progress, warnings, errors and JSON.

Progress and warnings go to stderr, results to stdout; a user mistake is a
:class:`UsageError`, shown as one ``skanime: error: ...`` line.
"""

import contextlib
import json
import logging
import sys
import time

from ._jsonable import jsonable

PROG = "skanime"


class UsageError(Exception):
    """A mistake of the user: shown as one line, exit status 2."""


def one_line(text):
    """``text`` on one line, its runs of whitespace made single spaces."""
    return " ".join(str(text).split())


class Progress:
    """Stage lines with elapsed time on stderr, and a bar on terminals."""

    def __init__(self, quiet, stream=None):
        self.quiet = quiet
        self.stream = sys.stderr if stream is None else stream
        self.start = time.perf_counter()
        self._bar = None

    def log(self, message):
        """Print ``message`` with the elapsed time, unless quiet."""
        if self.quiet:
            return
        line = f"[{time.perf_counter() - self.start:7.1f} s] {message}"
        if self._bar is not None:
            self._bar.write(line, file=self.stream)
        else:
            print(line, file=self.stream, flush=True)

    @contextlib.contextmanager
    def stage(self, message, done=None):
        """Log ``message`` now and ``done`` (with the duration) at the end."""
        self.log(f"{message} ...")
        started = time.perf_counter()
        yield
        seconds = time.perf_counter() - started
        self.log(f"{done or message}: done in {seconds:.1f} s")

    def bar(self, total, desc):
        """A tqdm bar when stderr is a terminal and not quiet, else None."""
        isatty = getattr(self.stream, "isatty", None)
        if self.quiet or not (isatty and isatty()):
            return None
        from tqdm import tqdm

        self._bar = tqdm(total=total, desc=desc, file=self.stream, leave=False)
        return self._bar

    def result(self, text):
        """Print ``text`` on stdout, above the bar when one is drawn."""
        if self._bar is not None:
            self._bar.write(text, file=sys.stdout)
        else:
            print(text, flush=True)

    def close_bar(self):
        """Remove the bar, if one is drawn."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


class WarningPrinter:
    """Show each distinct warning once, as a ``skanime: warning:`` line."""

    def __init__(self, stream):
        self.stream = stream
        self.seen = set()

    def __call__(self, message, category, filename, lineno, file=None, line=None):
        text = f"{category.__name__}: {one_line(message)}"
        if text not in self.seen:
            self.seen.add(text)
            print(f"{PROG}: warning: {text}", file=self.stream)


class LogFormatter(logging.Formatter):
    """Log records as ``skanime: LEVEL: message`` lines."""

    def format(self, record):
        return f"{PROG}: {record.levelname.lower()}: {one_line(record.getMessage())}"


def print_json(obj):
    """Print ``obj`` on stdout as indented JSON (NaN and infinities as null)."""
    print(json.dumps(jsonable(obj), indent=2, ensure_ascii=False))
