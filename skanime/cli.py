"""The ``skanime`` command: build datasets, train, evaluate, predict, explain.

A thin layer over the library. Every command is a function of parsed
arguments; user mistakes (missing files, unreadable data, bad options,
refused model files) raise :class:`UsageError`, which :func:`main` prints as
one ``skanime: error: ...`` line on stderr before returning exit status 2.
Progress goes to stderr, results to stdout.
"""

import argparse
import contextlib
import difflib
import json
import logging
import os
import sys
import time
import warnings

import numpy as np

__all__ = ["BAKEMONOGATARI_SYNOPSIS", "UsageError", "main"]

PROG = "skanime"

#: A paraphrase of the premise of Bakemonogatari (MAL id 5081), the synopsis
#: the seed report predicted genres for.
BAKEMONOGATARI_SYNOPSIS = (
    "Koyomi Araragi, a third-year high school student, has just gone back to "
    "an ordinary life after surviving a vampire attack during spring break, "
    "though his body still heals far faster than a human's should. One day "
    "on the school stairs he catches Hitagi Senjougahara, an aloof classmate "
    "who slips and falls into his arms, and finds that she weighs almost "
    "nothing: a crab oddity has taken her weight. Ignoring her threats, "
    "Araragi asks Meme Oshino, the strange expert who once saved him, for "
    "help. Soon he is drawn into the troubles of other girls around him, "
    "each haunted by an apparition of her own: a lost girl who can never "
    "reach home, a junior bound to a monkey's paw, a childhood friend cursed "
    "by a snake and a class president whose perfect smile hides a cat."
)
_BAKEMONOGATARI_TITLE = "Bakemonogatari"


class UsageError(Exception):
    """A mistake of the user: shown as one line, exit status 2."""


def _one_line(text):
    return " ".join(str(text).split())


# ------------------------------------------------------------------ progress
class _Progress:
    """Stage lines with elapsed time on stderr, and a bar on terminals."""

    def __init__(self, quiet, stream=None):
        self.quiet = quiet
        self.stream = sys.stderr if stream is None else stream
        self.start = time.perf_counter()
        self._bar = None

    def log(self, message):
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
        if self._bar is not None:
            self._bar.close()
            self._bar = None


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


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an integer seed, got {text!r}"
        ) from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"the seed must be in [0, 2**32), got {text}")
    return value


def _n_splits(text):
    value = _positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"--cv needs at least 2 folds, got {text}")
    return value


def _port(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a TCP port number, got {text!r}"
        ) from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(
            f"a TCP port is between 0 and 65535, got {text}"
        )
    return value


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line."""

    def error(self, message):
        raise UsageError(f"{_one_line(message)} (see '{self.prog} --help')")


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

    def command(name, help, parents):
        return commands.add_parser(name, help=help, description=help, parents=parents)

    p = command(
        "build-dataset",
        "parse saved MyAnimeList pages into an anime.csv dataset",
        [common],
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
    p.set_defaults(func=_cmd_build_dataset)

    p = command(
        "train",
        "train the genre classifier on a dataset and save it",
        [common, seeded, tuned],
    )
    p.add_argument("data", metavar="DATA", help="anime CSV or JSONL file")
    p.add_argument("-o", "--output", required=True, metavar="MODEL", help="model file")
    p.set_defaults(func=_cmd_train)

    p = command(
        "evaluate",
        "cross-validate the genre classifier on a dataset",
        [common, seeded, tuned, subset],
    )
    p.add_argument("data", metavar="DATA", help="anime CSV or JSONL file")
    p.add_argument(
        "--cv",
        type=_n_splits,
        default=5,
        metavar="K",
        help="number of folds (default: 5)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=_cmd_evaluate)

    p = command("predict", "predict the genres of synopses", [common])
    p.add_argument("model", metavar="MODEL", help="model file from 'skanime train'")
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
    p.set_defaults(func=_cmd_predict)

    p = command(
        "explain", "show which words pushed each predicted genre up or down", [common]
    )
    p.add_argument("model", metavar="MODEL", help="model file from 'skanime train'")
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
    p.set_defaults(func=_cmd_explain)

    p = command(
        "demo",
        "load the default dataset, cross-validate and train the default model, "
        "and predict the genres of Bakemonogatari",
        [common, seeded, tuned, subset],
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
    p.set_defaults(func=_cmd_demo)

    p = command(
        "serve",
        "serve a web page and a JSON API predicting genres with a saved model",
        [common],
    )
    p.add_argument("model", metavar="MODEL", help="model file from 'skanime train'")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this machine only)",
    )
    p.add_argument(
        "--port", type=_port, default=8000, help="TCP port (default: 8000)"
    )
    p.set_defaults(func=_cmd_serve)
    return parser


# ------------------------------------------------------------------ helpers
def _check_output_path(path, inputs=()):
    """Refuse, before any work, an output that cannot be written or is an input."""
    from ._io import OutputPathError, check_output_paths

    try:
        check_output_paths([path], inputs=inputs)
    except OutputPathError as exc:
        raise UsageError(_one_line(exc)) from None


def _check_input_file(path, what):
    if not os.path.exists(path):
        raise UsageError(f"{what} {path} does not exist")
    if os.path.isdir(path):
        raise UsageError(f"{what} {path} is a folder, not a file")


def _genre_lists(target, names):
    target = np.asarray(target).astype(bool)
    return [names[row].tolist() for row in target]


def _load_data(path, progress):
    from .datasets import load_anime

    _check_input_file(path, "data file")
    try:
        bunch = load_anime(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read data file {path}: {_one_line(exc)}") from None
    _log_loaded(bunch, path, progress)
    return bunch


def _log_loaded(bunch, source, progress):
    n, n_genres = np.shape(bunch.target)
    if n == 0:
        raise UsageError(f"{source} holds no usable anime (every row was dropped)")
    message = f"loaded {n} anime with {n_genres} genres from {source}"
    dropped = getattr(bunch, "dropped", None)
    if dropped is not None and len(dropped):
        reasons = dropped["reason"].value_counts()
        details = ", ".join(f"{count} {reason}" for reason, count in reasons.items())
        message += f"; dropped {len(dropped)} rows ({details})"
    progress.log(message)


#: The fewest anime a model can be trained on (the default model splits its
#: training data into folds); cross-validation needs this many in every
#: training fold.
MIN_TRAINING_ANIME = 10


def _check_trainable(Y, names, source, n_splits=None):
    """Refuse, before training, data a model cannot learn anything from."""
    Y = np.asarray(Y)
    n = len(Y)
    if n_splits is not None:
        needed = max(n_splits, -(-MIN_TRAINING_ANIME * n_splits // (n_splits - 1)))
        if n < needed:
            raise UsageError(
                f"{source} holds {n} usable anime; {n_splits}-fold cross-validation "
                f"needs at least {needed} (each fold trains on at least "
                f"{MIN_TRAINING_ANIME}). Use more anime or fewer folds (--cv)"
            )
    elif n < MIN_TRAINING_ANIME:
        raise UsageError(
            f"{source} holds {n} usable anime; training needs at least "
            f"{MIN_TRAINING_ANIME}. Add anime to the dataset"
        )
    varying = Y.any(axis=0) & ~Y.all(axis=0)
    if not varying.any():
        shared = ", ".join(str(g) for g in np.asarray(names)[Y.all(axis=0)])
        raise UsageError(
            f"every anime in {source} has the same genres ({shared or 'none'}), so "
            "there is nothing to tell apart; a dataset needs anime with different "
            "genres (each genre present in some anime and absent in others)"
        )


def _subset(bunch, n, seed, progress):
    """Data, target and genre names, restricted to a random sample of ``n``."""
    X = np.asarray(bunch.data, dtype=object)
    Y = np.asarray(bunch.target)
    names = np.asarray(bunch.target_names, dtype=object)
    if n is not None and n < len(X):
        rows = np.sort(np.random.default_rng(seed).choice(len(X), n, replace=False))
        X, Y = X[rows], Y[rows]
        present = Y.any(axis=0)
        Y, names = Y[:, present], names[present]
        progress.log(f"using a random subset of {n} anime ({len(names)} genres)")
    return X, Y, names


def _estimator_parts(estimator):
    """``estimator`` and the estimators among its parameters, recursively.

    Works for a ``Pipeline`` (its steps) as well as for any estimator holding
    sub-estimators as parameters, such as ``MultilabelStackingClassifier``.
    """
    parts = [estimator]
    get_params = getattr(estimator, "get_params", None)
    if get_params is None:
        return parts
    for value in get_params(deep=False).values():
        if isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, tuple) and len(item) >= 2:
                    item = item[1]
                if hasattr(item, "get_params"):
                    parts.extend(_estimator_parts(item))
        elif hasattr(value, "get_params") and not isinstance(value, type):
            parts.extend(_estimator_parts(value))
    return parts


def _make_pipeline(params, seed):
    from sklearn.utils._param_validation import InvalidParameterError

    from ._pipeline import make_genre_pipeline

    pipeline = make_genre_pipeline(random_state=seed)
    valid = pipeline.get_params(deep=True)
    settings = {}
    for key, value in params:
        if key not in valid:
            close = difflib.get_close_matches(key, list(valid), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise UsageError(
                f"unknown --param key {key!r}{hint}; keys are set_params names of "
                "the default pipeline, such as stack__network__clf__gamma or "
                "stack__threshold"
            )
        settings[key] = value
    try:
        pipeline.set_params(**settings)
        for part in _estimator_parts(pipeline):
            validate = getattr(part, "_validate_params", None)
            if validate is not None:
                validate()
    except (InvalidParameterError, ValueError, TypeError) as exc:
        shown = ", ".join(f"{k}={v!r}" for k, v in settings.items())
        raise UsageError(f"bad --param value ({shown}): {_one_line(exc)}") from None
    return pipeline


def _fit(estimator, X, y, what):
    try:
        return estimator.fit(X, y)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"training failed on {what}: {_one_line(exc)}") from None


def _new_classifier(params, seed):
    from ._pipeline import GenreClassifier

    if params:
        return GenreClassifier(pipeline=_make_pipeline(params, seed), random_state=seed)
    return GenreClassifier(random_state=seed)


def _load_model(path):
    from ._persistence import load_model
    from ._pipeline import GenreClassifier

    _check_input_file(path, "model file")
    try:
        model = load_model(path)
    except ValueError as exc:
        raise UsageError(_one_line(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot read model file {path}: {_one_line(exc)}") from None
    if not isinstance(model, GenreClassifier):
        raise UsageError(
            f"{path} holds a {type(model).__name__}, not a GenreClassifier; "
            "write models with 'skanime train'"
        )
    _check_model_state(model, path)
    return model


def _check_model_state(model, path):
    """Refuse an untrained model, or one whose state this version cannot use."""
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        raise UsageError(
            f"{path} holds a GenreClassifier that was never trained; write a "
            "trained model with 'skanime train DATA -o MODEL'"
        ) from None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.predict_proba(["a probe synopsis"])
            model.predict(["a probe synopsis"])
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        raise UsageError(
            f"{path} holds a model whose stored state does not match this skanime "
            f"version ({type(exc).__name__}: {_one_line(exc)[:120]}); train it "
            "again with 'skanime train'"
        ) from None


def _save_model(model, path, progress):
    from ._persistence import save_model

    with progress.stage(f"saving the model to {path}", "saved the model"):
        try:
            save_model(model, path)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {_one_line(exc)}") from None


def _cross_validate(X, Y, params, seed, n_splits, progress, on_first_fold=None):
    """Out-of-fold predictions and probabilities of the default pipeline.

    ``on_first_fold(test, Y_pred, Y_score, seconds, train_size)`` is called as
    soon as the first fold is done, with that fold's held-out predictions.
    """
    from sklearn.base import clone

    from .model_selection import MultilabelStratifiedKFold

    template = _make_pipeline(params, seed)
    splitter = MultilabelStratifiedKFold(
        n_splits=n_splits, shuffle=True, random_state=seed
    )
    try:
        folds = list(splitter.split(X, Y))
    except ValueError as exc:
        raise UsageError(f"cannot make {n_splits} folds: {_one_line(exc)}") from None
    Y_pred = np.zeros_like(Y)
    Y_score = np.zeros(Y.shape, dtype=float)
    bar = progress.bar(len(folds), "cross-validation")
    try:
        for i, (train, test) in enumerate(folds, start=1):
            started = time.perf_counter()
            pipeline = _fit(clone(template), X[train], Y[train], f"fold {i}")
            Y_score[test] = pipeline.predict_proba(X[test])
            Y_pred[test] = pipeline.predict(X[test])
            progress.log(
                f"fold {i}/{len(folds)}: trained on {len(train)}, tested on "
                f"{len(test)} anime in {time.perf_counter() - started:.1f} s"
            )
            if bar is not None:
                bar.update()
            if i == 1 and on_first_fold is not None:
                on_first_fold(
                    test,
                    Y_pred[test],
                    Y_score[test],
                    time.perf_counter() - started,
                    len(train),
                )
    finally:
        progress.close_bar()
    return Y_pred, Y_score


def _quick_look(X, Y, names, progress, k=5):
    """Rank Bakemonogatari's genres with a model that trains in seconds.

    TF-IDF with one-vs-rest logistic regression: a first result to read
    while the default model is cross-validated.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from threadpoolctl import threadpool_limits

    Y = np.asarray(Y)
    learnable = Y.any(axis=0) & ~Y.all(axis=0)
    if not learnable.any():
        return
    started = time.perf_counter()
    quick = make_pipeline(
        TfidfVectorizer(sublinear_tf=True, min_df=2, stop_words="english"),
        OneVsRestClassifier(
            LogisticRegression(C=10, solver="liblinear", class_weight="balanced")
        ),
    )
    try:
        # One BLAS thread: spinning BLAS threads on a busy machine make these
        # small problems several times slower.
        with threadpool_limits(limits=1, user_api="blas"):
            quick.fit(list(X), Y[:, learnable])
    except ValueError:  # e.g. too few documents for min_df=2
        return
    scores = quick.predict_proba([BAKEMONOGATARI_SYNOPSIS])[0]
    ranked = np.asarray(names, dtype=object)[learnable][np.argsort(-scores)[:k]]
    progress.result(
        f"Quick look (TF-IDF + logistic regression, trained in "
        f"{time.perf_counter() - started:.0f} s), Bakemonogatari's most likely "
        f"genres: {', '.join(map(str, ranked))}\n"
        "  the default model is cross-validated next; its first fold shows how "
        "long the rest takes\n"
    )


def _first_fold_printer(Y, names, n_splits, progress):
    """Print the first fold's held-out scores and the time the rest will take."""
    from .metrics import multilabel_report

    def show(test, Y_pred, Y_score, seconds, train_size):
        summary = multilabel_report(
            Y[test],
            Y_pred,
            Y_score,
            target_names=[str(n) for n in names],
            output_dict=True,
        )["summary"]
        # Fitting time grows about linearly with the number of anime.
        final = seconds * len(Y) / max(train_size, 1)
        left = seconds * (n_splits - 1) + final
        progress.result(
            f"First fold (held out {len(test)} of {len(Y)} anime, trained in "
            f"{seconds:.0f} s): micro-F1 {summary['f1_micro']:.3f}, macro-F1 "
            f"{summary['f1_macro']:.3f}, precision@1 "
            f"{summary['precision_at_1']:.3f}\n"
            f"  estimated time left: about {_duration(left)} ({n_splits - 1} more "
            f"fold{'s' if n_splits > 2 else ''}, then training on all anime)\n"
        )

    return show


def _duration(seconds):
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    return f"{seconds / 60:.0f} min"


def _report(X, Y, names, args, progress, *, output_dict=False, first_fold=False):
    from .metrics import multilabel_report

    on_first_fold = (
        _first_fold_printer(Y, names, args.cv, progress) if first_fold else None
    )
    with progress.stage(
        f"{args.cv}-fold cross-validation on {len(X)} anime", "cross-validation"
    ):
        Y_pred, Y_score = _cross_validate(
            X, Y, args.param, args.seed, args.cv, progress, on_first_fold
        )
    return multilabel_report(
        Y,
        Y_pred,
        Y_score,
        target_names=[str(n) for n in names],
        output_dict=output_dict,
    )


def _to_builtin(value):
    if isinstance(value, dict):
        return {str(k): _to_builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_builtin(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _print_json(obj):
    print(json.dumps(_to_builtin(obj), indent=2, ensure_ascii=False))


# ----------------------------------------------------------------- commands
def _cmd_build_dataset(args, progress):
    from .datasets import build_dataset

    if not os.path.exists(args.source):
        raise UsageError(f"source {args.source} does not exist")
    _check_output_path(args.output)
    if args.rejects is not None:
        _check_output_path(args.rejects)
    with progress.stage(f"reading pages from {args.source}", "read the pages"):
        try:
            report = build_dataset(args.source, args.output, rejects_csv=args.rejects)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot build a dataset: {_one_line(exc)}") from None
    if not hasattr(report, "n_written"):
        print(report)
        return 0
    print(
        f"{report.n_inputs} inputs: {report.n_written} anime written to "
        f"{report.out_csv or args.output}, {report.n_rejected} rejected"
        + (f" (listed in {report.rejects_csv})" if report.rejects_csv else "")
    )
    reasons = sorted(report.reasons.items(), key=lambda item: (-item[1], item[0]))
    width = max((len(str(count)) for _, count in reasons), default=1)
    for reason, count in reasons:
        print(f"  {count:>{width}}  {reason}")
    return 0


def _cmd_train(args, progress):
    _check_output_path(args.output, inputs=[args.data])
    model = _new_classifier(args.param, args.seed)
    bunch = _load_data(args.data, progress)
    names = np.asarray(bunch.target_names, dtype=object)
    X = np.asarray(bunch.data, dtype=object)
    _check_trainable(bunch.target, names, args.data)
    with progress.stage(f"training on {len(X)} anime", "training"):
        _fit(model, X, _genre_lists(bunch.target, names), args.data)
    _save_model(model, args.output, progress)
    if not args.quiet:
        print(f"saved a model of {len(model.classes_)} genres to {args.output}")
    return 0


def _cmd_evaluate(args, progress):
    _make_pipeline(args.param, args.seed)
    bunch = _load_data(args.data, progress)
    X, Y, names = _subset(bunch, args.subset, args.seed, progress)
    _check_trainable(Y, names, args.data, n_splits=args.cv)
    report = _report(X, Y, names, args, progress, output_dict=args.json)
    if args.json:
        _print_json(
            {
                "n_anime": len(X),
                "n_genres": len(names),
                "cv": args.cv,
                "seed": args.seed,
                **report,
            }
        )
    else:
        print(report)
    return 0


def _read_stdin_lines():
    return [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]


def _cmd_predict(args, progress):
    model = _load_model(args.model)
    texts = []
    for text in args.texts:
        texts.extend(_read_stdin_lines() if text == "-" else [text])
    if not texts:
        raise UsageError("no synopsis given: pass TEXT arguments, or - to read stdin")
    predicted = model.predict(texts)
    top = model.top_genres(texts, k=args.top_k) if args.top_k else None
    if args.json:
        rows = []
        for i, text in enumerate(texts):
            row = {"text": text, "genres": predicted[i]}
            if top is not None:
                row["top"] = [{"genre": g, "probability": p} for g, p in top[i]]
            rows.append(row)
        _print_json(rows)
        return 0
    for i in range(len(texts)):
        if top is not None:
            print(", ".join(f"{g} {p:.3f}" for g, p in top[i]))
        else:
            print(", ".join(predicted[i]) if predicted[i] else "(no genre)")
    return 0


def _cmd_explain(args, progress):
    model = _load_model(args.model)
    text = sys.stdin.read().strip() if args.text == "-" else args.text
    if not text.strip():
        raise UsageError("the synopsis to explain is empty")
    try:
        explanation = model.explain(
            text,
            genre=args.genre,
            top_n=args.top_n,
            method=args.method,
            n_steps=args.steps,
        )
    except (ValueError, NotImplementedError) as exc:
        raise UsageError(_one_line(exc)) from None
    if args.json:
        _print_json(explanation.to_dict())
    else:
        print(explanation)
    return 0


def _cmd_demo(args, progress):
    from .datasets import fetch_mal_anime

    if args.cv == 1 or args.cv < 0:
        raise UsageError(
            f"--cv must be 0 (no cross-validation) or at least 2, got {args.cv}"
        )
    if args.output is not None:
        from .datasets._fetch import CANDIDATE_FILES, get_data_home

        home = get_data_home()
        _check_output_path(
            args.output, inputs=[os.path.join(home, name) for name in CANDIDATE_FILES]
        )
    model = _new_classifier(args.param, args.seed)
    with progress.stage("loading the default dataset", "loading"):
        try:
            bunch = fetch_mal_anime()
        except (OSError, ValueError) as exc:
            raise UsageError(
                f"cannot load the default dataset: {_one_line(exc)} Set "
                "SKANIME_DATA_HOME to a folder holding mal_anime_2021.jsonl or "
                "anime.csv"
            ) from None
    _log_loaded(bunch, getattr(bunch, "filename", "the default dataset"), progress)
    X, Y, names = _subset(bunch, args.subset, args.seed, progress)

    if args.cv:
        _quick_look(X, Y, names, progress)
        report = _report(X, Y, names, args, progress, first_fold=True)
        print(f"Cross-validated genre prediction ({args.cv} folds, {len(X)} anime)")
        print(report)
        print()

    with progress.stage(f"training on {len(X)} anime", "training"):
        _fit(model, X, _genre_lists(Y, names), "the default dataset")
    proba = model.predict_proba([BAKEMONOGATARI_SYNOPSIS]).iloc[0]
    predicted = model.predict([BAKEMONOGATARI_SYNOPSIS])[0]
    print("Bakemonogatari (a paraphrase of its premise):")
    print(f"  predicted genres: {', '.join(predicted) or '(none)'}")
    frame = getattr(bunch, "frame", None)
    if frame is not None and "name" in frame:
        listed = frame.loc[frame["name"] == _BAKEMONOGATARI_TITLE, "genres"]
        if len(listed):
            print(f"  MyAnimeList genres: {', '.join(listed.iloc[0])}")
    print("  most probable:")
    for genre, p in proba.sort_values(ascending=False).head(5).items():
        print(f"    {p:6.3f}  {genre}")
    if args.output is not None:
        _save_model(model, args.output, progress)
        print(f"saved the model to {args.output}")
    return 0


def _cmd_serve(args, progress):
    try:
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            f"skanime serve needs the 'serve' extra ({exc.name} is not installed): "
            "pip install 'skanime[serve]'"
        ) from None
    from ._serve import create_app, model_info, serve

    model = _load_model(args.model)
    app = create_app(model, model_info=model_info(args.model))
    if not args.quiet:
        print(
            f"serving {len(model.classes_)} genres from {args.model} on "
            f"http://{args.host}:{args.port} (Ctrl+C stops)",
            flush=True,
        )
    log_level = "warning" if args.quiet else "info"
    serve(app, host=args.host, port=args.port, log_level=log_level)
    return 0


# --------------------------------------------------------------------- main
class _WarningPrinter:
    """Show each distinct warning once, as a ``skanime: warning:`` line."""

    def __init__(self, stream):
        self.stream = stream
        self.seen = set()

    def __call__(self, message, category, filename, lineno, file=None, line=None):
        text = f"{category.__name__}: {_one_line(message)}"
        if text not in self.seen:
            self.seen.add(text)
            print(f"{PROG}: warning: {text}", file=self.stream)


class _LogFormatter(logging.Formatter):
    def format(self, record):
        return f"{PROG}: {record.levelname.lower()}: {_one_line(record.getMessage())}"


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
    handler.setFormatter(_LogFormatter())
    handler.setLevel(logging.ERROR if args.quiet else logging.WARNING)
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings():
            if args.quiet:
                warnings.simplefilter("ignore")
            else:
                warnings.showwarning = _WarningPrinter(sys.stderr)
            return args.func(args, progress)
    except UsageError as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
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
