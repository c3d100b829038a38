"""Multilabel stratified cross-validation splitters."""

import warnings
from numbers import Integral

import numpy as np
from iterstrat.ml_stratifiers import IterativeStratification
from scipy import sparse
from sklearn.model_selection import BaseCrossValidator, BaseShuffleSplit
from sklearn.model_selection._split import _validate_shuffle_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    RealNotInt,
    validate_parameter_constraints,
)
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import _num_samples, check_array

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
    y = check_array(
        y, accept_sparse=("csr", "csc"), ensure_2d=False, dtype=None, input_name="y"
    )
    y_type = type_of_target(y, input_name="y")
    if y_type != "multilabel-indicator":
        raise ValueError(
            f"Supported target type is: multilabel-indicator. Got {y_type!r} "
            f"instead. {splitter_name} stratifies a label indicator matrix of "
            "shape (n_samples, n_labels) with n_labels >= 2; encode label lists "
            "with sklearn.preprocessing.MultiLabelBinarizer, or use "
            "sklearn.model_selection.StratifiedKFold for 1-D class labels."
        )
    if sparse.issparse(y):
        y = y.toarray()
    return np.asarray(y, dtype=bool)


def _warn_ignored_groups(groups, splitter_name):
    if groups is not None:
        warnings.warn(
            f"The groups parameter is ignored by {splitter_name}.",
            UserWarning,
            stacklevel=3,
        )


class MultilabelStratifiedKFold(BaseCrossValidator):
    """Multilabel stratified K-fold cross-validator.

    Splits a multilabel data set into ``n_splits`` folds whose per-label
    proportions stay close to those of the whole set, rare labels included.
    Folds are built with the iterative stratification algorithm of Sechidis
    et al. (2011), as implemented by the ``iterative-stratification`` package:
    labels are processed from the rarest to the most frequent, and each sample
    goes to the fold that still needs the most examples of that label.

    Each sample is in exactly one test fold. Fold sizes may differ slightly,
    since the algorithm prefers label balance over equal sizes.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds. Must be at least 2 and at most the number of samples.

    shuffle : bool, default=False
        Whether to shuffle the samples before building the folds.

    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling (when ``shuffle=True``) and the random tie-breaking
        of the algorithm. Unlike :class:`~sklearn.model_selection.KFold`, it is
        used even when ``shuffle=False``. With ``shuffle=False`` and
        ``random_state=None``, ties are broken with a fixed seed, so the folds
        are the same on every call. Pass an int for reproducible output when
        ``shuffle=True``.

    See Also
    --------
    MultilabelStratifiedShuffleSplit : Random stratified train/test splits.
    sklearn.model_selection.StratifiedKFold : Stratified folds for 1-D targets.

    Notes
    -----
    Only multilabel indicator targets are accepted. For 1-D binary or
    multiclass targets, :class:`~sklearn.model_selection.StratifiedKFold`
    already gives exact stratification.

    References
    ----------
    .. [1] Sechidis, K., Tsoumakas, G., and Vlahavas, I. (2011). "On the
       stratification of multi-label data". Machine Learning and Knowledge
       Discovery in Databases (ECML PKDD 2011), LNCS 6913, pp. 145-158.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime.model_selection import MultilabelStratifiedKFold
    >>> X = np.zeros((8, 2))
    >>> y = np.array([[0, 0], [0, 0], [0, 1], [0, 1],
    ...               [1, 1], [1, 1], [1, 0], [1, 0]])
    >>> cv = MultilabelStratifiedKFold(n_splits=2)
    >>> cv.get_n_splits()
    2
    >>> for train, test in cv.split(X, y):
    ...     print("TRAIN:", train, "TEST:", test, "labels:", y[test].sum(axis=0))
    TRAIN: [0 3 4 6] TEST: [1 2 5 7] labels: [2 2]
    TRAIN: [1 2 5 7] TEST: [0 3 4 6] labels: [2 2]
    """

    _parameter_constraints: dict = {
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
    }

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        validate_parameter_constraints(
            self._parameter_constraints,
            {"n_splits": n_splits, "shuffle": shuffle, "random_state": random_state},
            caller_name=type(self).__name__,
        )
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state

    def split(self, X, y, groups=None):
        """Generate indices to split data into training and test set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. Only its length is used, so
            ``np.zeros(n_samples)`` works as a placeholder.

        y : {array-like, sparse matrix} of shape (n_samples, n_labels)
            Label indicator matrix to stratify on.

        groups : None
            Always ignored, exists for API compatibility.

        Yields
        ------
        train : ndarray
            The training set indices for that split.

        test : ndarray
            The testing set indices for that split.
        """
        name = type(self).__name__
        _warn_ignored_groups(groups, name)
        n_samples = _num_samples(X)
        if self.n_splits > n_samples:
            raise ValueError(
                f"Cannot have number of splits n_splits={self.n_splits} greater "
                f"than the number of samples: n_samples={n_samples}. Lower n_splits."
            )
        labels = _check_multilabel_target(y, name)
        if labels.shape[0] != n_samples:
            raise ValueError(
                f"X and y have inconsistent numbers of samples: {n_samples} and "
                f"{labels.shape[0]}."
            )
        return super().split(X, labels, groups=None)

    def _iter_test_masks(self, X, y=None, groups=None):
        seed = self.random_state
        if seed is None and not self.shuffle:
            seed = _UNSHUFFLED_SEED
        rng = check_random_state(seed)

        n_samples = y.shape[0]
        order = rng.permutation(n_samples) if self.shuffle else np.arange(n_samples)
        ratios = np.full(self.n_splits, 1.0 / self.n_splits)
        folds = IterativeStratification(labels=y[order], r=ratios, random_state=rng)
        test_folds = np.empty(n_samples, dtype=int)
        test_folds[order] = folds
        for fold in range(self.n_splits):
            yield test_folds == fold

    def get_n_splits(self, X=None, y=None, groups=None):
        """Return the number of splitting iterations of the cross-validator.

        Parameters
        ----------
        X : object
            Always ignored, exists for API compatibility.

        y : object
            Always ignored, exists for API compatibility.

        groups : object
            Always ignored, exists for API compatibility.

        Returns
        -------
        n_splits : int
            Number of folds.
        """
        return self.n_splits


class MultilabelStratifiedShuffleSplit(BaseShuffleSplit):
    """Multilabel stratified random train/test splits.

    Yields ``n_splits`` independent random train/test splits whose per-label
    proportions stay close to those of the whole set. Each split shuffles the
    samples and then runs the iterative stratification algorithm of Sechidis
    et al. (2011), as implemented by the ``iterative-stratification`` package,
    with the train, test and (when both sizes are given and leave samples
    over) unused parts as its target subsets.

    As with :class:`~sklearn.model_selection.ShuffleSplit`, different splits
    may overlap.

    Parameters
    ----------
    n_splits : int, default=10
        Number of re-shuffling and splitting iterations.

    test_size : float or int, default=None
        If float, the proportion of the data set in the test split, in (0, 1).
        If int, the absolute number of test samples. If None, the complement of
        ``train_size``; if ``train_size`` is also None, 0.1.

    train_size : float or int, default=None
        If float, the proportion of the data set in the train split, in (0, 1).
        If int, the absolute number of train samples. If None, the complement
        of ``test_size``.

    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the tie-breaking of the algorithm. Pass an int
        for reproducible output across calls.

    See Also
    --------
    MultilabelStratifiedKFold : Stratified folds with each sample tested once.
    sklearn.model_selection.StratifiedShuffleSplit : The 1-D target version.

    Notes
    -----
    Split sizes may differ slightly from the requested ones, since the
    algorithm prefers label balance over exact sizes. Only multilabel
    indicator targets are accepted.

    References
    ----------
    .. [1] Sechidis, K., Tsoumakas, G., and Vlahavas, I. (2011). "On the
       stratification of multi-label data". Machine Learning and Knowledge
       Discovery in Databases (ECML PKDD 2011), LNCS 6913, pp. 145-158.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime.model_selection import MultilabelStratifiedShuffleSplit
    >>> X = np.zeros((8, 2))
    >>> y = np.array([[0, 0], [0, 0], [0, 1], [0, 1],
    ...               [1, 1], [1, 1], [1, 0], [1, 0]])
    >>> cv = MultilabelStratifiedShuffleSplit(n_splits=3, test_size=0.5,
    ...                                       random_state=0)
    >>> for train, test in cv.split(X, y):
    ...     print("TRAIN:", train, "TEST:", test, "labels:", y[test].sum(axis=0))
    TRAIN: [1 2 5 7] TEST: [0 3 4 6] labels: [2 2]
    TRAIN: [2 3 6 7] TEST: [0 1 4 5] labels: [2 2]
    TRAIN: [1 2 5 6] TEST: [0 3 4 7] labels: [2 2]
    """

    _parameter_constraints: dict = {
        "n_splits": [Interval(Integral, 1, None, closed="left")],
        "test_size": [
            Interval(RealNotInt, 0, 1, closed="neither"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "train_size": [
            Interval(RealNotInt, 0, 1, closed="neither"),
            Interval(Integral, 1, None, closed="left"),
            None,
        ],
        "random_state": ["random_state"],
    }

    def __init__(
        self, n_splits=10, *, test_size=None, train_size=None, random_state=None
    ):
        params = {
            "n_splits": n_splits,
            "test_size": test_size,
            "train_size": train_size,
            "random_state": random_state,
        }
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name=type(self).__name__
        )
        super().__init__(
            n_splits=int(n_splits),
            test_size=test_size,
            train_size=train_size,
            random_state=random_state,
        )

    def split(self, X, y, groups=None):
        """Generate indices to split data into training and test set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. Only its length is used, so
            ``np.zeros(n_samples)`` works as a placeholder.

        y : {array-like, sparse matrix} of shape (n_samples, n_labels)
            Label indicator matrix to stratify on.

        groups : None
            Always ignored, exists for API compatibility.

        Yields
        ------
        train : ndarray
            The training set indices for that split.

        test : ndarray
            The testing set indices for that split.

        Notes
        -----
        Randomized splitters may return different results for each call of
        ``split``. Set ``random_state`` to an int to make them identical.
        """
        name = type(self).__name__
        _warn_ignored_groups(groups, name)
        labels = _check_multilabel_target(y, name)
        n_samples = _num_samples(X)
        if labels.shape[0] != n_samples:
            raise ValueError(
                f"X and y have inconsistent numbers of samples: {n_samples} and "
                f"{labels.shape[0]}."
            )
        return super().split(X, labels, groups=None)

    def _iter_indices(self, X, y, groups=None):
        n_samples = y.shape[0]
        n_train, n_test = _validate_shuffle_split(
            n_samples,
            self.test_size,
            self.train_size,
            default_test_size=self._default_test_size,
        )
        sizes = [n_train, n_test]
        n_unused = n_samples - n_train - n_test
        if n_unused > 0:
            # A third subset absorbs the samples in neither split.
            sizes.append(n_unused)
        ratios = np.asarray(sizes, dtype=float) / n_samples

        rng = check_random_state(self.random_state)
        for _ in range(self.n_splits):
            order = rng.permutation(n_samples)
            folds = IterativeStratification(labels=y[order], r=ratios, random_state=rng)
            subset = np.empty(n_samples, dtype=int)
            subset[order] = folds
            yield np.flatnonzero(subset == 0), np.flatnonzero(subset == 1)
