"""Multilabel stratified cross-validation splitters."""

import warnings
from numbers import Integral

import numpy as np
from iterstrat.ml_stratifiers import IterativeStratification
from sklearn.model_selection import BaseCrossValidator, BaseShuffleSplit
from sklearn.model_selection._split import GroupsConsumerMixin, _validate_shuffle_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    RealNotInt,
    validate_parameter_constraints,
)

from ._stratification import (
    _check_groups,
    _check_split_input,
    _group_label_counts,
    _iterative_group_stratification,
    _split_order,
    _warn_ignored_groups,
)


class _MultilabelKFoldMixin:
    """Parameters and fold count of the multilabel K-fold splitters.

    A mixin rather than a splitter class, so that it goes left of
    :class:`~sklearn.model_selection.BaseCrossValidator` in the bases.
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


class MultilabelStratifiedKFold(_MultilabelKFoldMixin, BaseCrossValidator):
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
        n_samples, labels = _check_split_input(X, y, name)
        if self.n_splits > n_samples:
            raise ValueError(
                f"Cannot have number of splits n_splits={self.n_splits} greater "
                f"than the number of samples: n_samples={n_samples}. Lower n_splits."
            )
        return super().split(X, labels, groups=None)

    def _iter_test_masks(self, X, y=None, groups=None):
        n_samples = y.shape[0]
        rng, order = _split_order(self.random_state, self.shuffle, n_samples)
        ratios = np.full(self.n_splits, 1.0 / self.n_splits)
        folds = IterativeStratification(labels=y[order], r=ratios, random_state=rng)
        test_folds = np.empty(n_samples, dtype=int)
        test_folds[order] = folds
        for fold in range(self.n_splits):
            yield test_folds == fold


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
        _, labels = _check_split_input(X, y, name)
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


class MultilabelStratifiedGroupKFold(
    GroupsConsumerMixin, _MultilabelKFoldMixin, BaseCrossValidator
):
    """Multilabel stratified K-fold cross-validator with non-overlapping groups.

    Splits a multilabel data set into ``n_splits`` folds whose per-label
    proportions stay close to those of the whole set, while keeping every
    group (for example all the seasons, movies and specials of one franchise)
    inside a single fold. A model evaluated on these folds is always tested on
    groups it never saw in training.

    It runs the iterative stratification algorithm of Sechidis et al. (2011)
    over groups instead of samples: each group is one unit carrying the label
    counts of its samples. Labels are processed from the rarest to the most
    frequent; the groups that carry the current label go, largest first, to
    the fold that still needs the most examples of that label, ties going to
    the fold that still wants the most samples, then at random. A group is
    never split. When every group holds one sample, the folds are exactly
    those of :class:`MultilabelStratifiedKFold` with the same ``n_splits``,
    ``shuffle`` and ``random_state``.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds. Must be at least 2 and at most the number of groups.

    shuffle : bool, default=False
        Whether to shuffle the samples (and so the order in which groups of
        equal size are placed) before building the folds.

    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling (when ``shuffle=True``) and the random tie-breaking
        of the algorithm; it is used even when ``shuffle=False``. With
        ``shuffle=False`` and ``random_state=None``, ties are broken with a
        fixed seed, so the folds are the same on every call.

    See Also
    --------
    MultilabelStratifiedKFold : The same folds without groups.
    sklearn.model_selection.StratifiedGroupKFold : Groups with 1-D targets.
    skanime.datasets.franchise_groups : Franchise ids of anime from titles.

    Notes
    -----
    Large groups make balance harder: fold sizes and label proportions vary
    more than without groups, and a label held by fewer groups than there are
    folds cannot be in every test fold. The splitter prefers label balance
    over equal fold sizes.

    References
    ----------
    .. [1] Sechidis, K., Tsoumakas, G., and Vlahavas, I. (2011). "On the
       stratification of multi-label data". Machine Learning and Knowledge
       Discovery in Databases (ECML PKDD 2011), LNCS 6913, pp. 145-158.

    Examples
    --------
    >>> import numpy as np
    >>> from skanime.model_selection import MultilabelStratifiedGroupKFold
    >>> X = np.zeros((8, 2))
    >>> y = np.array([[0, 0], [0, 0], [0, 1], [0, 1],
    ...               [1, 1], [1, 1], [1, 0], [1, 0]])
    >>> groups = np.array(["a", "a", "b", "b", "c", "d", "e", "e"])
    >>> cv = MultilabelStratifiedGroupKFold(n_splits=2)
    >>> for train, test in cv.split(X, y, groups):
    ...     print("TEST:", test, "groups:", groups[test],
    ...           "labels:", y[test].sum(axis=0))
    TEST: [0 1 4 5] groups: ['a' 'a' 'c' 'd'] labels: [2 2]
    TEST: [2 3 6 7] groups: ['b' 'b' 'e' 'e'] labels: [2 2]
    """

    def split(self, X, y, groups=None):
        """Generate indices to split data into training and test set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. Only its length is used, so
            ``np.zeros(n_samples)`` works as a placeholder.

        y : {array-like, sparse matrix} of shape (n_samples, n_labels)
            Label indicator matrix to stratify on.

        groups : array-like of shape (n_samples,)
            Group label of each sample (any hashable values: ints or
            strings). Samples of one group are always in the same fold.
            Required.

        Yields
        ------
        train : ndarray
            The training set indices for that split.

        test : ndarray
            The testing set indices for that split.
        """
        name = type(self).__name__
        n_samples, labels = _check_split_input(X, y, name)
        codes = _check_groups(groups, n_samples, name)
        n_groups = codes.max() + 1 if n_samples else 0
        if self.n_splits > n_groups:
            raise ValueError(
                f"Cannot have number of splits n_splits={self.n_splits} greater "
                f"than the number of groups: n_groups={n_groups}. Lower n_splits "
                "or use finer groups."
            )
        return super().split(X, labels, groups=codes)

    def _iter_test_masks(self, X, y=None, groups=None):
        n_samples = y.shape[0]
        rng, order = _split_order(self.random_state, self.shuffle, n_samples)
        # Groups are numbered by first appearance in the (shuffled) order;
        # unit is the group of each sample of `order`.
        unit, counts, sizes = _group_label_counts(groups[order], y[order])
        n_groups = sizes.size

        ratios = np.full(self.n_splits, 1.0 / self.n_splits)
        group_folds = _iterative_group_stratification(counts, sizes, ratios, rng)
        test_folds = np.empty(n_samples, dtype=int)
        test_folds[order] = group_folds[unit]
        empty = np.setdiff1d(np.arange(self.n_splits), test_folds)
        if empty.size:
            warnings.warn(
                f"{type(self).__name__} left test fold(s) {empty.tolist()} empty: "
                f"the {n_groups} groups cannot fill {self.n_splits} folds. Lower "
                "n_splits or use finer groups.",
                UserWarning,
                stacklevel=3,
            )
        for fold in range(self.n_splits):
            yield test_folds == fold
