"""Groups reach the internal splits of MultiLabelThresholdTuner."""

import numpy as np
import pytest
import sklearn
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import GridSearchCV, cross_validate

from skanime.model_selection import (
    MultilabelStratifiedGroupKFold,
    MultilabelStratifiedKFold,
    MultiLabelThresholdTuner,
)


class GroupLeakError(AssertionError):
    pass


class LeakCheckingClassifier(ClassifierMixin, BaseEstimator):
    """Predicts label prevalence; fails when it predicts a group it was fit on.

    ``X[:, 0]`` holds each row's group id, so the check needs no side channel:
    it runs inside whatever splits the tuner makes.
    """

    def fit(self, X, y):
        X = np.asarray(X)
        self.groups_seen_ = set(X[:, 0].astype(int).tolist())
        y = np.asarray(y)
        self.prevalence_ = y.mean(axis=0)
        self.classes_ = np.arange(y.shape[1])
        return self

    def predict_proba(self, X):
        X = np.asarray(X)
        leaked = self.groups_seen_ & set(X[:, 0].astype(int).tolist())
        if leaked:
            raise GroupLeakError(
                f"groups {sorted(leaked)[:5]} are in both training and test rows"
            )
        return np.tile(self.prevalence_, (len(X), 1))


def make_grouped(n_groups=40, per_group=4, n_labels=4, seed=0):
    """Groups of identical-label rows, groups id in the first column of X."""
    rng = np.random.RandomState(seed)
    groups = np.repeat(np.arange(n_groups), per_group)
    group_labels = (rng.rand(n_groups, n_labels) < 0.4).astype(int)
    group_labels[np.arange(n_groups), rng.randint(n_labels, size=n_groups)] = 1
    y = group_labels[groups]
    X = np.column_stack([groups, rng.normal(size=(groups.size, 2))])
    order = rng.permutation(groups.size)
    return X[order], y[order], groups[order]


def test_ignoring_groups_is_detected():
    # The check itself: an ungrouped inner split puts groups on both sides.
    X, y, groups = make_grouped()
    tuner = MultiLabelThresholdTuner(
        LeakCheckingClassifier(), cv=MultilabelStratifiedKFold(3), thresholds=5
    )
    with pytest.raises(GroupLeakError), pytest.warns(UserWarning, match="ignored"):
        tuner.fit(X, y, groups=groups)
    with pytest.raises(GroupLeakError):
        MultiLabelThresholdTuner(LeakCheckingClassifier(), cv=3, thresholds=5).fit(X, y)


@pytest.mark.parametrize("cv", [3, MultilabelStratifiedGroupKFold(3)], ids=repr)
def test_fit_groups_reach_the_inner_splits(cv):
    X, y, groups = make_grouped()
    tuner = MultiLabelThresholdTuner(
        LeakCheckingClassifier(), cv=cv, thresholds=5, random_state=0, per_label=True
    )
    tuner.fit(X, y, groups=groups)
    assert tuner.thresholds_.shape == (y.shape[1],)


@pytest.mark.parametrize("cv", [None, 4, MultilabelStratifiedGroupKFold(4)], ids=repr)
def test_groups_reach_the_inner_splits_with_metadata_routing(cv):
    X, y, groups = make_grouped()
    with sklearn.config_context(enable_metadata_routing=True):
        tuner = MultiLabelThresholdTuner(
            LeakCheckingClassifier(), cv=cv, thresholds=5, random_state=0
        )
        tuner.fit(X, y, groups=groups)
        # through an outer cross-validation that is grouped too
        outer = MultilabelStratifiedGroupKFold(3, shuffle=True, random_state=1)
        result = cross_validate(
            tuner, X, y, cv=outer, params={"groups": groups}, scoring="f1_micro"
        )
        assert result["test_score"].shape == (3,)
        # and through a grid search
        search = GridSearchCV(
            tuner, {"per_label": [False, True]}, cv=outer, scoring="f1_micro"
        )
        search.fit(X, y, groups=groups)
        assert search.best_params_["per_label"] in (False, True)


def test_routing_without_groups_uses_the_plain_splitter():
    X, y, _ = make_grouped()
    X[:, 0] = np.arange(len(X))  # every row its own group: nothing can leak
    with sklearn.config_context(enable_metadata_routing=True):
        tuner = MultiLabelThresholdTuner(
            LeakCheckingClassifier(), cv=3, thresholds=5, random_state=0
        )
        tuner.fit(X, y)
    assert isinstance(tuner._check_cv(), MultilabelStratifiedKFold)
    assert np.isfinite(tuner.best_score_)


def test_integer_cv_with_groups_gives_grouped_folds_of_the_same_seed():
    X, y, groups = make_grouped()
    tuner = MultiLabelThresholdTuner(LeakCheckingClassifier(), cv=3, random_state=5)
    expected = MultilabelStratifiedGroupKFold(3, shuffle=True, random_state=5)
    got = tuner._check_cv(groups=groups)
    assert isinstance(got, MultilabelStratifiedGroupKFold)
    assert [t.tolist() for _, t in got.split(X, y, groups)] == [
        t.tolist() for _, t in expected.split(X, y, groups)
    ]
