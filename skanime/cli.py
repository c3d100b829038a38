"""The ``skanime`` command: build datasets, train, evaluate, predict, explain.

A thin layer over the library. Every command is a function of parsed
arguments; user mistakes (missing files, unreadable data, bad options,
refused model files) raise :class:`UsageError`, which :func:`main` prints as
one ``skanime: error: ...`` line on stderr before returning exit status 2.
Progress goes to stderr, results to stdout.

This module holds the argument parser and :func:`main`; the subcommands live
in ``_cli_commands``, the dataset checks in ``_cli_data``, the model helpers
in ``_cli_models`` and what the command prints in ``_cli_output``.
"""

import argparse
import json
import logging
import os
import sys
import warnings

from ._cli_commands import (
    BAKEMONOGATARI_SYNOPSIS,
    build_dataset_command,
    demo_command,
    evaluate_command,
    explain_command,
    predict_command,
    serve_command,
    train_command,
)
from ._cli_data import MIN_TRAINING_ANIME
from ._cli_output import PROG, LogFormatter, UsageError, WarningPrinter, one_line
from ._cli_output import Progress as _Progress

__all__ = ["BAKEMONOGATARI_SYNOPSIS", "MIN_TRAINING_ANIME", "UsageError", "main"]


# --------------------------------------------------------------- arguments
def _parse_param(text):
    """``key=value`` to ``(key, value)``; the value as a JSON literal, else str."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise argparse.ArgumentTypeError(
            f"expected KEY=VALUE such as stack__network__clf__gamma=1, got {text!r}"
        )
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return key, value


def _integer(text, expected, valid, out_of_range):
    """``text`` as an int for which ``valid(value)`` holds.

    A non-integer gets "expected {expected}, got {text!r}", an integer that
    is not valid gets the message ``out_of_range``.
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if not valid(value):
        raise argparse.ArgumentTypeError(out_of_range)
    return value


def _positive_int(text):
    message = f"expected a positive integer, got {text!r}"
    return _integer(text, "a positive integer", lambda v: v >= 1, message)


def _seed(text):
    message = f"the seed must be in [0, 2**32), got {text}"
    return _integer(text, "an integer seed", lambda v: 0 <= v < 2**32, message)


def _n_splits(text):
    value = _positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"--cv needs at least 2 folds, got {text}")
    return value


def _port(text):
    message = f"a TCP port is between 0 and 65535, got {text}"
    return _integer(text, "a TCP port number", lambda v: 0 <= v <= 65535, message)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line."""

    def error(self, message):
        raise UsageError(f"{one_line(message)} (see '{self.prog} --help')")


def _build_parser():
    from ._version import __version__

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-q", "--quiet", action="store_true", help="print no progress and no warnings"
    )
    seeded = argparse.ArgumentParser(add_help=False)
    seeded.add_argument(
        "--seed",
        "--random-state",
        dest="seed",
        type=_seed,
        default=0,
        metavar="INT",
        help="random seed of word2vec, the network and the folds (default: 0)",
    )
    tuned = argparse.ArgumentParser(add_help=False)
    tuned.add_argument(
        "--param",
        action="append",
        type=_parse_param,
        default=[],
        metavar="KEY=VALUE",
        help=(
            "set a parameter of the default pipeline, as in set_params, e.g. "
            "stack__network__clf__gamma=1 or stack__threshold=per_label; the "
            "value is read as JSON, else as a string (repeatable)"
        ),
    )
    dataset = argparse.ArgumentParser(add_help=False)
    dataset.add_argument("data", metavar="DATA", help="anime CSV or JSONL file")
    saved = argparse.ArgumentParser(add_help=False)
    saved.add_argument("model", metavar="MODEL", help="model file from 'skanime train'")
    subset = argparse.ArgumentParser(add_help=False)
    subset.add_argument(
        "--subset",
        type=_positive_int,
        metavar="N",
        help="use a random sample of N anime (faster)",
    )

    parser = _Parser(
        prog=PROG,
        description="Predict anime genres from synopses.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name, help, parents, func):
        sub = commands.add_parser(name, help=help, description=help, parents=parents)
        sub.set_defaults(func=func)
        return sub

    p = command(
        "build-dataset",
        "parse saved MyAnimeList pages into an anime.csv dataset",
        [common],
        build_dataset_command,
    )
    p.add_argument("source", metavar="PAGES_DIR_OR_ZIP", help="folder or zip of pages")
    p.add_argument(
        "-o", "--output", required=True, metavar="CSV", help="dataset to write"
    )
    p.add_argument(
        "--rejects",
        metavar="CSV",
        help="where to list rejected pages (default: next to the output)",
    )

    p = command(
        "train",
        "train the genre classifier on a dataset and save it",
        [common, seeded, tuned, dataset],
        train_command,
    )
    p.add_argument("-o", "--output", required=True, metavar="MODEL", help="model file")

    p = command(
        "evaluate",
        "cross-validate the genre classifier on a dataset",
        [common, seeded, tuned, subset, dataset],
        evaluate_command,
    )
    p.add_argument(
        "--cv",
        type=_n_splits,
        default=5,
        metavar="K",
        help="number of folds (default: 5)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")

    p = command(
        "predict", "predict the genres of synopses", [common, saved], predict_command
    )
    p.add_argument(
        "texts",
        nargs="*",
        metavar="TEXT",
        help="synopses; '-' reads one synopsis per line from stdin",
    )
    p.add_argument(
        "--top-k",
        type=_positive_int,
        metavar="K",
        help="show the K most probable genres with their probability",
    )
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(
        "explain",
        "show which words pushed each predicted genre up or down",
        [common, saved],
        explain_command,
    )
    p.add_argument("text", metavar="TEXT", help="a synopsis; '-' reads it from stdin")
    p.add_argument(
        "--genre",
        action="append",
        metavar="GENRE",
        help="explain this genre instead of the predicted ones (repeatable)",
    )
    p.add_argument(
        "--top-n", type=_positive_int, default=10, metavar="N", help="words per genre"
    )
    p.add_argument(
        "--method",
        choices=("auto", "integrated_gradients", "occlusion"),
        default="auto",
        help="attribution method: 'occlusion' (leave one word out) explains any "
        "model, the default one included; 'integrated_gradients' only a "
        "single-network pipeline; 'auto' (default) picks integrated gradients "
        "when they apply",
    )
    p.add_argument(
        "--steps",
        type=_positive_int,
        default=None,
        metavar="N",
        help="integration steps of integrated gradients (default: 64); an error "
        "for a model explained by occlusion",
    )
    p.add_argument("--json", action="store_true", help="print JSON")

    p = command(
        "demo",
        "load the default dataset, cross-validate and train the default model, "
        "and predict the genres of Bakemonogatari",
        [common, seeded, tuned, subset],
        demo_command,
    )
    p.add_argument(
        "--cv",
        type=int,
        default=5,
        metavar="K",
        help="number of folds (default: 5; 0 skips cross-validation)",
    )
    p.add_argument(
        "-o", "--output", metavar="MODEL", help="save the trained model here"
    )

    p = command(
        "serve",
        "serve a web page and a JSON API predicting genres with a saved model",
        [common, saved],
        serve_command,
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    p.add_argument("--port", type=_port, default=8000, help="TCP port (default: 8000)")
    return parser


# --------------------------------------------------------------------- main
def main(argv=None):
    """Run the ``skanime`` command.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 on a user error (a one-line message was printed on
        stderr), 130 when interrupted.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else 0

    progress = _Progress(args.quiet)
    logger = logging.getLogger("skanime")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormatter())
    handler.setLevel(logging.ERROR if args.quiet else logging.WARNING)
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings():
            if args.quiet:
                warnings.simplefilter("ignore")
            else:
                warnings.showwarning = WarningPrinter(sys.stderr)
            return args.func(args, progress)
    except UsageError as exc:
        print(f"{PROG}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `skanime predict ... | head`).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    finally:
        progress.close_bar()
        logger.removeHandler(handler)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
