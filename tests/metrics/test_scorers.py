import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer as sklearn_get_scorer
from sklearn.metrics import label_ranking_average_precision_score
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.multiclass import OneVsRestClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.svm import LinearSVC

from skanime.metrics import (
    get_scorer,
    lrap_scorer,
    precision_at_1_scorer,
    precision_at_3_scorer,
    precision_at_k,
)
from skanime.model_selection import MultilabelStratifiedKFold


def make_problem(n_samples=150, n_labels=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, 6))
    W = rng.normal(size=(6, n_labels))
    proba = 1 / (1 + np.exp(-(X @ W - 1.0)))
    y = (rng.rand(n_samples, n_labels) < proba).astype(int)
    return X, y


def logreg():
    return OneVsRestClassifier(LogisticRegression(solver="liblinear"))


@pytest.mark.parametrize("name", ["lrap", "precision_at_1", "precision_at_3"])
def test_grid_search_with_ranking_scorer_on_one_vs_rest(name):
    X, y = make_problem()
    search = GridSearchCV(
        logreg(),
        {"estimator__C": [0.01, 1.0]},
        scoring=get_scorer(name),
        cv=MultilabelStratifiedKFold(3, shuffle=True, random_state=0),
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.all((scores > 0) & (scores <= 1))
    assert search.best_params_["estimator__C"] in (0.01, 1.0)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_grid_search_with_scorer_objects_on_mlp():
    X, y = make_problem()
    search = GridSearchCV(
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=200, random_state=0),
        {"alpha": [1e-4, 1.0]},
        scoring={"lrap": lrap_scorer, "p1": precision_at_1_scorer, "f1": "f1_micro"},
        refit="lrap",
        cv=3,
    ).fit(X, y)
    for key in ["mean_test_lrap", "mean_test_p1", "mean_test_f1"]:
        assert np.all(np.isfinite(search.cv_results_[key]))
    assert search.best_score_ == search.cv_results_["mean_test_lrap"].max()


def test_scorers_equal_the_metrics_on_predict_proba():
    X, y = make_problem()
    clf = logreg().fit(X, y)
    proba = clf.predict_proba(X)
    assert lrap_scorer(clf, X, y) == pytest.approx(
        label_ranking_average_precision_score(y, proba)
    )
    assert precision_at_1_scorer(clf, X, y) == pytest.approx(
        precision_at_k(y, proba, k=1)
    )
    assert precision_at_3_scorer(clf, X, y) == pytest.approx(
        precision_at_k(y, proba, k=3)
    )


@pytest.mark.parametrize(
    "estimator",
    [RandomForestClassifier(n_estimators=10, random_state=0), KNeighborsClassifier()],
    ids=["forest", "knn"],
)
def test_per_label_probability_lists(estimator):
    X, y = make_problem()
    clf = estimator.fit(X, y)
    raw = clf.predict_proba(X)
    assert isinstance(raw, list)
    stacked = np.column_stack([p[:, 1] for p in raw])
    assert precision_at_1_scorer(clf, X, y) == pytest.approx(
        precision_at_k(y, stacked, k=1)
    )
    assert lrap_scorer(clf, X, y) == pytest.approx(
        label_ranking_average_precision_score(y, stacked)
    )


def test_label_seen_with_one_class_scores_zero():
    X, y = make_problem()
    y[:, 3] = 0
    forest = RandomForestClassifier(n_estimators=10, random_state=0).fit(X, y)
    assert forest.predict_proba(X)[3].shape == (len(X), 1)
    stacked = np.column_stack([p[:, 1] for p in forest.predict_proba(X)[:3]])
    stacked = np.column_stack([stacked, np.zeros(len(X))])
    assert lrap_scorer(forest, X, y) == pytest.approx(
        label_ranking_average_precision_score(y, stacked)
    )


def test_decision_function_fallback():
    X, y = make_problem()
    clf = OneVsRestClassifier(LinearSVC()).fit(X, y)
    assert not hasattr(clf, "predict_proba")
    assert lrap_scorer(clf, X, y) == pytest.approx(
        label_ranking_average_precision_score(y, clf.decision_function(X))
    )


def test_cross_validate_multimetric():
    X, y = make_problem()
    result = cross_validate(
        logreg(), X, y, cv=3, scoring={"p3": precision_at_3_scorer, "f1": "f1_micro"}
    )
    assert result["test_p3"].shape == (3,)
    assert result["test_f1"].shape == (3,)


def test_scorers_pass_sample_weight():
    X, y = make_problem()
    clf = logreg().fit(X, y)
    proba = clf.predict_proba(X)
    weights = np.linspace(0, 1, len(X))
    assert precision_at_1_scorer(clf, X, y, sample_weight=weights) == pytest.approx(
        precision_at_k(y, proba, k=1, sample_weight=weights)
    )
    assert lrap_scorer(clf, X, y, sample_weight=weights) == pytest.approx(
        label_ranking_average_precision_score(y, proba, sample_weight=weights)
    )


def test_get_scorer_returns_copies_and_falls_back():
    first, second = get_scorer("lrap"), get_scorer("lrap")
    assert first is not second and first is not lrap_scorer
    assert repr(get_scorer("precision_at_3")) == repr(precision_at_3_scorer)
    X, y = make_problem()
    clf = logreg().fit(X, y)
    assert get_scorer("f1_micro")(clf, X, y) == sklearn_get_scorer("f1_micro")(
        clf, X, y
    )
    assert get_scorer(None) is None
    assert get_scorer(lrap_scorer) is lrap_scorer


def test_get_scorer_unknown_name():
    with pytest.raises(ValueError, match=r"'lrp' is not a valid scoring value.*'lrap'"):
        get_scorer("lrp")
    with pytest.raises(ValueError, match="'scoring' parameter"):
        get_scorer(3)
