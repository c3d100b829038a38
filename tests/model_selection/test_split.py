import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import sparse
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    ShuffleSplit,
    cross_val_score,
)
from sklearn.neighbors import KNeighborsClassifier

from skanime.model_selection import (
    MultilabelStratifiedGroupKFold,
    MultilabelStratifiedKFold,
    MultilabelStratifiedShuffleSplit,
)

PREVALENCE = np.array([0.35, 0.25, 0.2, 0.12, 0.08, 0.05, 0.03, 0.02, 0.015, 0.01])


def make_imbalanced(n_samples=300, seed=0):
    """Multilabel targets from common to very rare labels (a few positives)."""
    rng = np.random.RandomState(seed)
    y = (rng.rand(n_samples, PREVALENCE.size) < PREVALENCE).astype(int)
    X = rng.normal(size=(n_samples, 3))
    return X, y


def fold_deviation(cv, X, y):
    """Mean absolute deviation of per-fold test label proportions from the whole."""
    whole = y.mean(axis=0)
    return np.mean([np.abs(y[test].mean(axis=0) - whole) for _, test in cv.split(X, y)])


def test_each_sample_in_exactly_one_test_fold():
    X, y = make_imbalanced()
    cv = MultilabelStratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    counts = np.zeros(len(y), dtype=int)
    for train, test in cv.split(X, y):
        assert np.intersect1d(train, test).size == 0
        assert np.union1d(train, test).size == len(y)
        counts[test] += 1
    np.testing.assert_array_equal(counts, 1)


def test_fold_proportions_closer_than_kfold():
    X, y = make_imbalanced()
    seeds = range(5)
    stratified = np.mean(
        [
            fold_deviation(
                MultilabelStratifiedKFold(5, shuffle=True, random_state=s), X, y
            )
            for s in seeds
        ]
    )
    plain = np.mean(
        [fold_deviation(KFold(5, shuffle=True, random_state=s), X, y) for s in seeds]
    )
    assert stratified < 0.5 * plain


def test_rare_labels_spread_evenly():
    X, y = make_imbalanced()
    assert y.sum(axis=0).min() <= 2  # the set has very rare labels
    cv = MultilabelStratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    counts = np.array([y[test].sum(axis=0) for _, test in cv.split(X, y)])
    # every label, rare ones included, differs by at most one across folds
    np.testing.assert_array_less(counts.max(axis=0) - counts.min(axis=0), 2)


def _folds(cv, X, y):
    return [test.tolist() for _, test in cv.split(X, y)]


def test_random_state_makes_folds_reproducible():
    X, y = make_imbalanced()
    a = MultilabelStratifiedKFold(5, shuffle=True, random_state=1)
    b = MultilabelStratifiedKFold(5, shuffle=True, random_state=1)
    c = MultilabelStratifiedKFold(5, shuffle=True, random_state=2)
    assert _folds(a, X, y) == _folds(b, X, y)
    assert _folds(a, X, y) == _folds(a, X, y)
    assert _folds(a, X, y) != _folds(c, X, y)


def test_unshuffled_folds_are_deterministic():
    X, y = make_imbalanced()
    cv = MultilabelStratifiedKFold(5)
    assert _folds(cv, X, y) == _folds(cv, X, y)
    assert _folds(cv, X, y) == _folds(MultilabelStratifiedKFold(5), X, y)


def test_random_state_instance_advances_between_calls():
    X, y = make_imbalanced()
    cv = MultilabelStratifiedKFold(
        5, shuffle=True, random_state=np.random.RandomState(0)
    )
    assert _folds(cv, X, y) != _folds(cv, X, y)


def test_sparse_y_gives_same_folds():
    X, y = make_imbalanced()
    cv = MultilabelStratifiedKFold(4, shuffle=True, random_state=0)
    assert _folds(cv, X, y) == _folds(cv, X, sparse.csr_matrix(y))


@pytest.mark.parametrize(
    "y, kind",
    [
        (np.array([0, 1] * 10), "binary"),
        (np.array([0, 1, 2, 3] * 5), "multiclass"),
        (np.linspace(0, 1, 20), "continuous"),
        (np.array([[0], [1]] * 10), "binary"),
    ],
)
@pytest.mark.parametrize(
    "cv",
    [MultilabelStratifiedKFold(2), MultilabelStratifiedShuffleSplit(2, random_state=0)],
)
def test_rejects_non_multilabel_targets(cv, y, kind):
    X = np.zeros((20, 1))
    msg = f"Supported target type is: multilabel-indicator. Got '{kind}' instead."
    with pytest.raises(ValueError, match=re.escape(msg)):
        next(cv.split(X, y))


def test_y_is_required():
    with pytest.raises(ValueError, match="needs y"):
        next(MultilabelStratifiedKFold(2).split(np.zeros((4, 1)), None))


def test_more_splits_than_samples():
    X, y = np.zeros((3, 1)), np.array([[1, 0], [0, 1], [1, 1]])
    with pytest.raises(ValueError, match="n_splits=5 greater than the number of sampl"):
        next(MultilabelStratifiedKFold(5).split(X, y))


def test_inconsistent_lengths():
    X, y = np.zeros((5, 1)), np.array([[1, 0], [0, 1], [1, 1]])
    with pytest.raises(ValueError, match="inconsistent numbers of samples: 5 and 3"):
        next(MultilabelStratifiedKFold(2).split(X, y))


@pytest.mark.parametrize(
    "params, msg",
    [
        ({"n_splits": 1}, "'n_splits' parameter of MultilabelStratifiedKFold"),
        ({"n_splits": 2.5}, "'n_splits' parameter"),
        ({"shuffle": "yes"}, "'shuffle' parameter"),
        ({"random_state": "seed"}, "'random_state' parameter"),
    ],
)
def test_kfold_parameter_validation(params, msg):
    with pytest.raises(ValueError, match=msg):
        MultilabelStratifiedKFold(**params)


@pytest.mark.parametrize(
    "params, msg",
    [
        ({"n_splits": 0}, "'n_splits' parameter"),
        ({"test_size": 1.5}, "'test_size' parameter"),
        ({"test_size": 0}, "'test_size' parameter"),
        ({"train_size": -0.2}, "'train_size' parameter"),
    ],
)
def test_shuffle_split_parameter_validation(params, msg):
    with pytest.raises(ValueError, match=msg):
        MultilabelStratifiedShuffleSplit(**params)


def test_shuffle_split_sizes_checked_against_data():
    X, y = make_imbalanced(n_samples=20)
    with pytest.raises(ValueError, match="test_size=30 should be either positive"):
        next(MultilabelStratifiedShuffleSplit(1, test_size=30).split(X, y))
    with pytest.raises(ValueError, match="The sum of test_size and train_size"):
        cv = MultilabelStratifiedShuffleSplit(1, test_size=0.6, train_size=0.6)
        next(cv.split(X, y))


def test_groups_are_ignored_with_a_warning():
    X, y = make_imbalanced(n_samples=20)
    with pytest.warns(UserWarning, match="groups parameter is ignored"):
        list(MultilabelStratifiedKFold(2).split(X, y, groups=np.arange(20)))


def test_get_n_splits_and_repr():
    cv = MultilabelStratifiedKFold(4, shuffle=True, random_state=0)
    assert cv.get_n_splits() == 4
    assert repr(cv) == (
        "MultilabelStratifiedKFold(n_splits=4, random_state=0, shuffle=True)"
    )
    assert MultilabelStratifiedShuffleSplit(7).get_n_splits() == 7


def test_works_with_cross_val_score_and_grid_search():
    X, y = make_imbalanced(n_samples=120)
    cv = MultilabelStratifiedKFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(KNeighborsClassifier(), X, y, cv=cv, scoring="f1_micro")
    assert scores.shape == (3,)
    search = GridSearchCV(
        KNeighborsClassifier(),
        {"n_neighbors": [3, 5]},
        cv=MultilabelStratifiedShuffleSplit(2, test_size=0.3, random_state=0),
        scoring="f1_micro",
    ).fit(X, y)
    assert search.n_splits_ == 2
    assert search.best_params_["n_neighbors"] in (3, 5)


def test_shuffle_split_disjoint_sizes_and_reproducible():
    X, y = make_imbalanced()
    cv = MultilabelStratifiedShuffleSplit(4, test_size=0.25, random_state=0)
    splits = list(cv.split(X, y))
    assert len(splits) == 4
    for train, test in splits:
        assert np.intersect1d(train, test).size == 0
        assert train.size + test.size == len(y)
        assert abs(test.size - 75) <= 5
    again = list(cv.split(X, y))
    for (train_a, test_a), (train_b, test_b) in zip(splits, again, strict=True):
        np.testing.assert_array_equal(test_a, test_b)
        np.testing.assert_array_equal(train_a, train_b)
    assert not np.array_equal(splits[0][1], splits[1][1])


def test_shuffle_split_respects_train_size():
    X, y = make_imbalanced()
    cv = MultilabelStratifiedShuffleSplit(
        3, train_size=0.5, test_size=0.2, random_state=0
    )
    for train, test in cv.split(X, y):
        assert np.intersect1d(train, test).size == 0
        assert abs(train.size - 150) <= 5
        assert abs(test.size - 60) <= 5


def test_shuffle_split_default_test_size():
    X, y = make_imbalanced(n_samples=200)
    _, test = next(MultilabelStratifiedShuffleSplit(1, random_state=0).split(X, y))
    assert abs(test.size - 20) <= 3


def test_shuffle_split_closer_than_shuffle_split():
    X, y = make_imbalanced()
    stratified = fold_deviation(
        MultilabelStratifiedShuffleSplit(10, test_size=0.2, random_state=0), X, y
    )
    plain = fold_deviation(ShuffleSplit(10, test_size=0.2, random_state=0), X, y)
    assert stratified < 0.5 * plain


@st.composite
def multilabel_problems(draw):
    n_splits = draw(st.integers(2, 5))
    n_samples = draw(st.integers(n_splits, 40))
    n_labels = draw(st.integers(2, 6))
    y = draw(arrays(np.int8, (n_samples, n_labels), elements=st.integers(0, 1)))
    seed = draw(st.integers(0, 1000))
    shuffle = draw(st.booleans())
    return y, n_splits, seed, shuffle


@settings(max_examples=60, deadline=None)
@given(multilabel_problems())
def test_kfold_partition_property(problem):
    y, n_splits, seed, shuffle = problem
    X = np.zeros((len(y), 1))
    cv = MultilabelStratifiedKFold(
        n_splits, shuffle=shuffle, random_state=seed if shuffle else None
    )
    splits = list(cv.split(X, y))
    assert len(splits) == n_splits
    tests = np.concatenate([test for _, test in splits])
    np.testing.assert_array_equal(np.sort(tests), np.arange(len(y)))
    for train, test in splits:
        assert test.size > 0
        np.testing.assert_array_equal(
            np.sort(np.concatenate([train, test])), np.arange(len(y))
        )


@settings(max_examples=40, deadline=None)
@given(multilabel_problems(), st.floats(0.1, 0.5))
def test_shuffle_split_disjoint_property(problem, test_size):
    y, n_splits, seed, _ = problem
    if len(y) < 4:
        return
    X = np.zeros((len(y), 1))
    cv = MultilabelStratifiedShuffleSplit(
        n_splits, test_size=test_size, random_state=seed
    )
    for train, test in cv.split(X, y):
        assert np.intersect1d(train, test).size == 0
        assert np.unique(train).size == train.size
        assert np.unique(test).size == test.size
        assert train.size + test.size == len(y)


# --- MultilabelStratifiedGroupKFold ------------------------------------------


def make_grouped(n_groups=120, seed=0):
    """Imbalanced multilabel targets where members of a group share labels."""
    rng = np.random.RandomState(seed)
    sizes = rng.geometric(0.45, size=n_groups)  # many singletons, some big groups
    groups = np.repeat(np.arange(n_groups), sizes)
    base = rng.rand(n_groups, PREVALENCE.size) < PREVALENCE
    noise = rng.rand(groups.size, PREVALENCE.size) < 0.02
    y = (base[groups] ^ noise).astype(int)
    order = rng.permutation(groups.size)  # groups are not contiguous
    return np.zeros((groups.size, 2)), y[order], groups[order]


@st.composite
def grouped_problems(draw):
    n_splits = draw(st.integers(2, 5))
    n_groups = draw(st.integers(n_splits, 25))
    n_samples = draw(st.integers(n_groups, 60))
    n_labels = draw(st.integers(2, 6))
    # every group appears at least once, the rest of the samples anywhere
    extra = draw(
        arrays(np.int64, n_samples - n_groups, elements=st.integers(0, n_groups - 1))
    )
    groups = np.concatenate([np.arange(n_groups), extra])
    groups = groups[draw(st.permutations(list(range(n_samples))))]
    y = draw(arrays(np.int8, (n_samples, n_labels), elements=st.integers(0, 1)))
    seed = draw(st.integers(0, 1000))
    shuffle = draw(st.booleans())
    return y, groups, n_splits, seed, shuffle


@settings(max_examples=80, deadline=None)
@given(grouped_problems())
def test_group_kfold_partition_property(problem):
    y, groups, n_splits, seed, shuffle = problem
    X = np.zeros((len(y), 1))
    cv = MultilabelStratifiedGroupKFold(n_splits, shuffle=shuffle, random_state=seed)
    splits = list(cv.split(X, y, groups))
    assert len(splits) == n_splits
    tests = np.concatenate([test for _, test in splits])
    # every sample is in exactly one test fold
    np.testing.assert_array_equal(np.sort(tests), np.arange(len(y)))
    seen = {}
    for fold, (train, test) in enumerate(splits):
        np.testing.assert_array_equal(
            np.sort(np.concatenate([train, test])), np.arange(len(y))
        )
        # no group on both sides, and no group in two test folds
        assert np.intersect1d(groups[train], groups[test]).size == 0
        for g in np.unique(groups[test]):
            assert seen.setdefault(g, fold) == fold


@settings(max_examples=60, deadline=None)
@given(multilabel_problems())
def test_group_kfold_equals_kfold_on_singleton_groups(problem):
    y, n_splits, seed, shuffle = problem
    X = np.zeros((len(y), 1))
    # group labels in another order than the samples, and not 0..n-1
    groups = 1000 - 3 * np.arange(len(y))
    for random_state in (seed, None) if not shuffle else (seed,):
        plain = MultilabelStratifiedKFold(
            n_splits, shuffle=shuffle, random_state=random_state
        )
        grouped = MultilabelStratifiedGroupKFold(
            n_splits, shuffle=shuffle, random_state=random_state
        )
        expected = [test.tolist() for _, test in plain.split(X, y)]
        got = [test.tolist() for _, test in grouped.split(X, y, groups)]
        assert got == expected


def test_group_kfold_singleton_proportions_match_kfold():
    X, y = make_imbalanced(n_samples=400)
    groups = np.arange(len(y))
    plain = MultilabelStratifiedKFold(5, shuffle=True, random_state=1)
    grouped = MultilabelStratifiedGroupKFold(5, shuffle=True, random_state=1)
    expected = np.array([y[test].mean(axis=0) for _, test in plain.split(X, y)])
    got = np.array([y[test].mean(axis=0) for _, test in grouped.split(X, y, groups)])
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_group_kfold_stratifies_better_than_group_kfold():
    from sklearn.model_selection import GroupKFold

    X, y, groups = make_grouped()
    whole = y.mean(axis=0)

    def deviation(splits):
        return np.mean([np.abs(y[test].mean(axis=0) - whole) for _, test in splits])

    ours = np.mean(
        [
            deviation(
                MultilabelStratifiedGroupKFold(5, shuffle=True, random_state=s).split(
                    X, y, groups
                )
            )
            for s in range(5)
        ]
    )
    plain = np.mean(
        [
            deviation(GroupKFold(5, shuffle=True, random_state=s).split(X, y, groups))
            for s in range(5)
        ]
    )
    assert ours < 0.7 * plain
    # folds stay reasonably even in size
    sizes = [
        test.size
        for _, test in MultilabelStratifiedGroupKFold(
            5, shuffle=True, random_state=0
        ).split(X, y, groups)
    ]
    assert max(sizes) < 1.5 * len(y) / 5


def test_group_kfold_reproducible_and_deterministic():
    X, y, groups = make_grouped()
    a = MultilabelStratifiedGroupKFold(5, shuffle=True, random_state=3)
    b = MultilabelStratifiedGroupKFold(5, shuffle=True, random_state=3)
    assert _group_folds(a, X, y, groups) == _group_folds(b, X, y, groups)
    c = MultilabelStratifiedGroupKFold(5, shuffle=True, random_state=4)
    assert _group_folds(a, X, y, groups) != _group_folds(c, X, y, groups)
    d = MultilabelStratifiedGroupKFold(5)
    assert _group_folds(d, X, y, groups) == _group_folds(d, X, y, groups)


def _group_folds(cv, X, y, groups):
    return [test.tolist() for _, test in cv.split(X, y, groups)]


def test_group_kfold_string_groups_same_as_codes():
    X, y, groups = make_grouped()
    names = np.array([f"franchise-{g}" for g in groups], dtype=object)
    cv = MultilabelStratifiedGroupKFold(5, shuffle=True, random_state=0)
    assert _group_folds(cv, X, y, names) == _group_folds(cv, X, y, groups)


def test_group_kfold_requires_groups():
    X, y = make_imbalanced(n_samples=20)
    cv = MultilabelStratifiedGroupKFold(3)
    with pytest.raises(ValueError, match="needs groups.*got groups=None"):
        next(cv.split(X, y))


def test_group_kfold_rejects_missing_group_values():
    X, y = make_imbalanced(n_samples=20)
    groups = np.arange(20, dtype=float)
    groups[[4, 7]] = np.nan
    cv = MultilabelStratifiedGroupKFold(3)
    with pytest.raises(ValueError, match=r"2 missing value\(s\).*\[4, 7\]"):
        next(cv.split(X, y, groups))
    groups = np.array(["a"] * 10 + [None] + ["b"] * 9, dtype=object)
    with pytest.raises(ValueError, match=r"1 missing value\(s\).*\[10\]"):
        next(cv.split(X, y, groups))


def test_group_kfold_length_mismatch():
    X, y = make_imbalanced(n_samples=20)
    cv = MultilabelStratifiedGroupKFold(3)
    with pytest.raises(ValueError, match="groups has 19 entries but X and y have 20"):
        next(cv.split(X, y, np.arange(19)))
    with pytest.raises(ValueError, match="inconsistent numbers of samples: 20 and 19"):
        next(cv.split(X, y[:19], np.arange(20)))


def test_group_kfold_fewer_groups_than_folds():
    X, y = make_imbalanced(n_samples=20)
    cv = MultilabelStratifiedGroupKFold(5)
    with pytest.raises(
        ValueError, match="n_splits=5 greater than the number of groups: n_groups=4"
    ):
        next(cv.split(X, y, np.arange(20) % 4))


def test_group_kfold_rejects_non_multilabel_y():
    X = np.zeros((10, 1))
    cv = MultilabelStratifiedGroupKFold(2)
    with pytest.raises(
        ValueError, match="Supported target type is: multilabel-indicator. Got 'binary'"
    ):
        next(cv.split(X, np.arange(10) % 2, np.arange(10)))


@pytest.mark.parametrize(
    "params, msg",
    [
        ({"n_splits": 1}, "n_splits"),
        ({"shuffle": "yes"}, "shuffle"),
        ({"random_state": "x"}, "random_state"),
    ],
)
def test_group_kfold_parameter_validation(params, msg):
    with pytest.raises(ValueError, match=msg):
        MultilabelStratifiedGroupKFold(**params)


def test_group_kfold_in_cross_val_score_with_routing():
    from sklearn import config_context

    X, y, groups = make_grouped(n_groups=60)
    X = np.random.RandomState(0).normal(size=(len(y), 3))
    cv = MultilabelStratifiedGroupKFold(3, shuffle=True, random_state=0)
    assert cv.get_n_splits() == 3
    assert "MultilabelStratifiedGroupKFold(n_splits=3" in repr(cv)
    est = KNeighborsClassifier(n_neighbors=3)
    scores = cross_val_score(est, X, y, groups=groups, cv=cv)
    assert scores.shape == (3,)
    with config_context(enable_metadata_routing=True):
        routed = cross_val_score(est, X, y, cv=cv, params={"groups": groups})
    np.testing.assert_allclose(routed, scores)


def test_group_kfold_fast_on_dataset_scale():
    import time

    rng = np.random.RandomState(0)
    n_samples, n_labels = 9500, 43
    prevalence = np.r_[0.36, 0.28, rng.uniform(0.002, 0.15, n_labels - 2)]
    y = (rng.rand(n_samples, n_labels) < prevalence).astype(int)
    groups = rng.zipf(1.6, size=n_samples) * 7919 % 6000  # skewed, ~4k groups
    cv = MultilabelStratifiedGroupKFold(5, shuffle=True, random_state=0)
    start = time.perf_counter()
    splits = list(cv.split(np.zeros(n_samples), y, groups))
    assert time.perf_counter() - start < 1.0
    assert len(splits) == 5
