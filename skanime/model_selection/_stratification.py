"""Target and group checks and the iterative stratification of the splitters.

The multilabel splitters of :mod:`skanime.model_selection` share what is
written here: the checks of ``y`` (a label indicator matrix) and ``groups``,
the sample order and random tie-breaking of a split, and the iterative
stratification of groups (Sechidis et al., 2011) that places whole groups.
"""

import warnings

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import _num_samples, check_array

from .._targets import dense_target

# Ties in iterative stratification are broken at random. Without shuffling and
# without a user seed, this fixed seed keeps ``split`` deterministic, as an
# unshuffled ``KFold`` is.
_UNSHUFFLED_SEED = 0


def _check_multilabel_target(y, splitter_name):
    """Return ``y`` as a dense boolean indicator matrix or raise a clear error."""
    if y is None:
        raise ValueError(
            f"{splitter_name}.split needs y, the (n_samples, n_labels) label "
            "indicator matrix to stratify on; got y=None."
        )
    y, y_type = dense_target(y)
    if y_type != "multilabel-indicator":
        raise ValueError(
            f"Supported target type is: multilabel-indicator. Got {y_type!r} "
            f"instead. {splitter_name} stratifies a label indicator matrix of "
            "shape (n_samples, n_labels) with n_labels >= 2; encode label lists "
            "with sklearn.preprocessing.MultiLabelBinarizer, or use "
            "sklearn.model_selection.StratifiedKFold for 1-D class labels."
        )
    return y.astype(bool)


def _check_split_input(X, y, splitter_name):
    """Return ``(n_samples, labels)`` for ``split(X, y)``, or raise a clear error.

    ``labels`` is ``y`` as a dense boolean indicator matrix with one row per
    sample of ``X``.
    """
    n_samples = _num_samples(X)
    labels = _check_multilabel_target(y, splitter_name)
    if labels.shape[0] != n_samples:
        raise ValueError(
            f"X and y have inconsistent numbers of samples: {n_samples} and "
            f"{labels.shape[0]}."
        )
    return n_samples, labels


def _warn_ignored_groups(groups, splitter_name):
    if groups is not None:
        warnings.warn(
            f"The groups parameter is ignored by {splitter_name}.",
            UserWarning,
            stacklevel=3,
        )


def _split_order(random_state, shuffle, n_samples):
    """Return the tie-breaking generator and the order samples are placed in.

    ``random_state`` seeds both; without shuffling and without a seed, ties
    are broken with :data:`_UNSHUFFLED_SEED`, so that the folds are the same
    on every call.
    """
    seed = random_state
    if seed is None and not shuffle:
        seed = _UNSHUFFLED_SEED
    rng = check_random_state(seed)
    order = rng.permutation(n_samples) if shuffle else np.arange(n_samples)
    return rng, order


def _check_groups(groups, n_samples, splitter_name):
    """Return integer group codes (0..n_groups-1) or raise a clear error."""
    if groups is None:
        raise ValueError(
            f"{splitter_name}.split needs groups, one group label per sample "
            "(for example a franchise id from skanime.datasets.franchise_groups); "
            "got groups=None. Use MultilabelStratifiedKFold when samples have no "
            "groups."
        )
    groups = check_array(
        groups,
        ensure_2d=False,
        dtype=None,
        ensure_all_finite=False,
        input_name="groups",
    )
    if groups.ndim != 1:
        raise ValueError(
            f"{splitter_name}.split expects groups as a 1-D array of shape "
            f"(n_samples,); got an array of shape {groups.shape}."
        )
    if groups.shape[0] != n_samples:
        raise ValueError(
            f"groups has {groups.shape[0]} entries but X and y have {n_samples} "
            "samples; pass one group label per sample."
        )
    if groups.dtype.kind == "f":
        missing = np.isnan(groups)
    elif groups.dtype.kind == "O":
        missing = np.array(
            [g is None or (isinstance(g, float) and g != g) for g in groups],
            dtype=bool,
        )
    else:
        missing = np.zeros(n_samples, dtype=bool)
    if missing.any():
        where = np.flatnonzero(missing)
        raise ValueError(
            f"groups has {where.size} missing value(s) (None or NaN), first at "
            f"position(s) {where[:5].tolist()}; give every sample a group label "
            "(a sample with no known group can get a label of its own)."
        )
    if groups.dtype.kind == "O":
        groups = groups.astype(str)
    _, codes = np.unique(groups, return_inverse=True)
    return codes.ravel()


def _iterative_group_stratification(counts, sizes, r, rng):
    """Assign groups to subsets by iterative stratification.

    ``counts`` is the (n_groups, n_labels) matrix of label counts of each group,
    in processing order, and ``sizes`` the number of samples of each group.
    With one sample per group this makes exactly the choices, and the random
    draws, of ``iterstrat.ml_stratifiers.IterativeStratification``.
    """
    n_groups = counts.shape[0]
    n_samples = sizes.sum()
    folds = np.zeros(n_groups, dtype=int)
    c_folds = r * n_samples
    c_folds_labels = np.outer(r, counts.sum(axis=0))
    todo = np.ones(n_groups, dtype=bool)
    # Within a label, larger groups go first (a stable order, so that equal
    # groups keep their order of appearance): they are the hardest to place.
    while todo.any():
        num_labels = counts[todo].sum(axis=0)
        if num_labels.sum() == 0:
            # Only groups without any label are left: fill the folds that
            # still want the most samples.
            left = np.flatnonzero(todo)
            left = left[np.argsort(-sizes[left], kind="stable")]
            for g in left:
                fold = np.flatnonzero(c_folds == c_folds.max())
                fold = fold[rng.choice(fold.shape[0])] if fold.shape[0] > 1 else fold[0]
                folds[g] = fold
                c_folds[fold] -= sizes[g]
            break

        label = np.flatnonzero(num_labels == num_labels[num_labels > 0].min())
        label = label[rng.choice(label.shape[0])] if label.shape[0] > 1 else label[0]

        carriers = np.flatnonzero(todo & (counts[:, label] > 0))
        key = np.lexsort((-sizes[carriers], -counts[carriers, label]))
        for g in carriers[key]:
            # The fold that most needs this label; ties go to the fold that
            # wants the most samples, then at random.
            need = c_folds_labels[:, label]
            fold = np.flatnonzero(need == need.max())
            if fold.shape[0] > 1:
                wanted = c_folds[fold]
                best = np.flatnonzero(wanted == wanted.max())
                if best.shape[0] > 1:
                    fold = fold[best][rng.choice(best.shape[0])]
                else:
                    fold = fold[best[0]]
            else:
                fold = fold[0]
            folds[g] = fold
            todo[g] = False
            c_folds_labels[fold] -= counts[g]
            c_folds[fold] -= sizes[g]
    return folds


def _group_label_counts(groups, labels):
    """Number the groups of ``labels`` and sum the labels of each group.

    Groups are numbered by first appearance in ``groups``. Returns ``unit``,
    the group of each sample, ``counts``, the (n_groups, n_labels) label
    counts of each group, and ``sizes``, the number of samples of each group.
    """
    _, first, inverse = np.unique(groups, return_index=True, return_inverse=True)
    rank = np.empty_like(first)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    unit = rank[inverse.ravel()]
    n_groups = first.size
    counts = np.zeros((n_groups, labels.shape[1]), dtype=np.int64)
    np.add.at(counts, unit, labels.astype(np.int64))
    sizes = np.bincount(unit, minlength=n_groups)
    return unit, counts, sizes
