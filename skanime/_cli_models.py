"""Models for the ``skanime`` command: build, train, cross-validate, load, save.

The default pipeline with the user's ``--param`` settings, training and model
files whose failures become one-line :class:`~skanime._cli_output.UsageError`
messages, and the out-of-fold report of ``evaluate`` and ``demo``.
"""

import difflib
import time
import warnings

import numpy as np

from ._cli_data import check_input_file
from ._cli_output import UsageError, one_line


def estimator_parts(estimator):
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
                    parts.extend(estimator_parts(item))
        elif hasattr(value, "get_params") and not isinstance(value, type):
            parts.extend(estimator_parts(value))
    return parts


def default_pipeline(params, seed):
    """The default pipeline with ``--param`` settings, checked up front."""
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
        for part in estimator_parts(pipeline):
            validate = getattr(part, "_validate_params", None)
            if validate is not None:
                validate()
    except (InvalidParameterError, ValueError, TypeError) as exc:
        shown = ", ".join(f"{k}={v!r}" for k, v in settings.items())
        raise UsageError(f"bad --param value ({shown}): {one_line(exc)}") from None
    return pipeline


def fit_estimator(estimator, X, y, what):
    """Fit ``estimator``; a rejected ``X`` or ``y`` is a user error on ``what``."""
    try:
        return estimator.fit(X, y)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"training failed on {what}: {one_line(exc)}") from None


def new_classifier(params, seed):
    """An unfitted ``GenreClassifier`` with the ``--param`` settings."""
    from ._pipeline import GenreClassifier

    if params:
        return GenreClassifier(pipeline=default_pipeline(params, seed))
    return GenreClassifier(random_state=seed)


def load_model_file(path):
    """The trained ``GenreClassifier`` saved at ``path``, checked to be usable."""
    from ._persistence import load_model
    from ._pipeline import GenreClassifier

    check_input_file(path, "model file")
    try:
        model = load_model(path)
    except ValueError as exc:
        raise UsageError(one_line(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot read model file {path}: {one_line(exc)}") from None
    if not isinstance(model, GenreClassifier):
        raise UsageError(
            f"{path} holds a {type(model).__name__}, not a GenreClassifier; "
            "write models with 'skanime train'"
        )
    check_model_state(model, path)
    return model


def check_model_state(model, path):
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
            f"version ({type(exc).__name__}: {one_line(exc)[:120]}); train it "
            "again with 'skanime train'"
        ) from None


def save_model_file(model, path, progress):
    """Save ``model`` to ``path`` as a skops file."""
    from ._persistence import save_model

    with progress.stage(f"saving the model to {path}", "saved the model"):
        try:
            save_model(model, path)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {one_line(exc)}") from None


def fit_fold(estimator, X, y, what, names):
    """``fit_estimator`` on a fold; a constant genre is named, not numbered."""
    from ._targets import ConstantLabelWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConstantLabelWarning)
        fitted = fit_estimator(estimator, X, y, what)
    for warning in caught:
        if isinstance(warning.message, ConstantLabelWarning):
            genres = [str(names[j]) for j in warning.message.labels]
            warnings.warn(
                ConstantLabelWarning(
                    f"{what}: genres {genres} have no positive or no negative "
                    "anime in its training part; their probability is fixed at "
                    "the smoothed base rate there.",
                    genres,
                ),
                stacklevel=2,
            )
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return fitted


def cross_validate(
    X, Y, params, seed, n_splits, progress, on_first_fold=None, names=None
):
    """Out-of-fold predictions and probabilities of the default pipeline.

    ``on_first_fold(test, Y_pred, Y_score, seconds, train_size)`` is called as
    soon as the first fold is done, with that fold's held-out predictions.
    ``names`` (the genre of each column) names the genres a fold's training
    part has no positive of.
    """
    from sklearn.base import clone

    from .model_selection import MultilabelStratifiedKFold

    template = default_pipeline(params, seed)
    splitter = MultilabelStratifiedKFold(
        n_splits=n_splits, shuffle=True, random_state=seed
    )
    try:
        folds = list(splitter.split(X, Y))
    except ValueError as exc:
        raise UsageError(f"cannot make {n_splits} folds: {one_line(exc)}") from None
    Y_pred = np.zeros_like(Y)
    Y_score = np.zeros(Y.shape, dtype=float)
    bar = progress.bar(len(folds), "cross-validation")
    try:
        for i, (train, test) in enumerate(folds, start=1):
            started = time.perf_counter()
            pipeline = fit_fold(
                clone(template),
                X[train],
                Y[train],
                f"fold {i}",
                np.arange(Y.shape[1]) if names is None else names,
            )
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


def _genre_report(Y, Y_pred, Y_score, names, output_dict):
    """The multilabel report of predictions ``Y_pred`` and ``Y_score`` of ``Y``."""
    from .metrics import multilabel_report

    return multilabel_report(
        Y,
        Y_pred,
        Y_score,
        target_names=[str(n) for n in names],
        output_dict=output_dict,
    )


def first_fold_printer(Y, names, n_splits, progress):
    """Print the first fold's held-out scores and the time the rest will take."""

    def show(test, Y_pred, Y_score, seconds, train_size):
        summary = _genre_report(Y[test], Y_pred, Y_score, names, True)["summary"]
        # Fitting time grows about linearly with the number of anime.
        final = seconds * len(Y) / max(train_size, 1)
        left = seconds * (n_splits - 1) + final
        progress.result(
            f"First fold (held out {len(test)} of {len(Y)} anime, trained in "
            f"{seconds:.0f} s): micro-F1 {summary['f1_micro']:.3f}, macro-F1 "
            f"{summary['f1_macro']:.3f}, precision@1 "
            f"{summary['precision_at_1']:.3f}\n"
            f"  estimated time left: about {duration(left)} ({n_splits - 1} more "
            f"fold{'s' if n_splits > 2 else ''}, then training on all anime)\n"
        )

    return show


def duration(seconds):
    """``seconds`` as a rough duration: seconds below 90 s, else minutes."""
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    return f"{seconds / 60:.0f} min"


def cross_validated_report(
    X, Y, names, args, progress, *, output_dict=False, first_fold=False
):
    """The report of out-of-fold predictions, ``--cv`` folds of ``X`` and ``Y``.

    With ``first_fold``, the first fold's scores and the time left are
    printed as soon as that fold is done.
    """
    on_first_fold = (
        first_fold_printer(Y, names, args.cv, progress) if first_fold else None
    )
    with progress.stage(
        f"{args.cv}-fold cross-validation on {len(X)} anime", "cross-validation"
    ):
        Y_pred, Y_score = cross_validate(
            X, Y, args.param, args.seed, args.cv, progress, on_first_fold, names
        )
    return _genre_report(Y, Y_pred, Y_score, names, output_dict)
