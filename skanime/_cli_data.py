"""Datasets for the ``skanime`` command: input and output checks, loading, samples.

Every check raises :class:`~skanime._cli_output.UsageError` with a message
saying what is wrong with which file, before any long work starts.
"""

import os

import numpy as np

from ._cli_output import UsageError, one_line


def check_output_path(path, inputs=()):
    """Refuse, before any work, an output that cannot be written or is an input."""
    from ._io import OutputPathError, check_output_paths

    try:
        check_output_paths([path], inputs=inputs)
    except OutputPathError as exc:
        raise UsageError(one_line(exc)) from None


def check_input_file(path, what):
    """Refuse a missing input, or a folder where a file is expected."""
    if not os.path.exists(path):
        raise UsageError(f"{what} {path} does not exist")
    if os.path.isdir(path):
        raise UsageError(f"{what} {path} is a folder, not a file")


def genre_lists(target, names):
    """The genre names of each row of a label indicator matrix."""
    target = np.asarray(target).astype(bool)
    return [names[row].tolist() for row in target]


def load_data(path, progress):
    """The anime dataset at ``path`` as a ``Bunch``, its size logged."""
    from .datasets import load_anime

    check_input_file(path, "data file")
    try:
        bunch = load_anime(path)
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read data file {path}: {one_line(exc)}") from None
    log_loaded(bunch, path, progress)
    return bunch


def log_loaded(bunch, source, progress):
    """Log what was loaded and dropped; refuse a dataset left empty."""
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


def check_trainable(Y, names, source, n_splits=None):
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


def sample_subset(bunch, n, seed, progress):
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
