"""Binary, multiclass and label indicator targets of the linear models."""

import numpy as np
import pytest
from scipy.special import expit
from scipy.stats import rankdata
from sklearn.base import clone
from sklearn.exceptions import DataConversionWarning
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.naive_bayes import MultinomialNB

from skanime import MultilabelLogisticRegression, MultilabelMultinomialNB

# (model, the single-label scikit-learn model it must equal, tolerance on the
# probabilities): the L-BFGS objectives of the two are the same but their
# stopping rules differ.
MODELS = [
    (
        MultilabelLogisticRegression(dtype="float64"),
        LogisticRegression(solver="liblinear"),
        1e-6,
    ),
    (
        MultilabelLogisticRegression(
            solver="lbfgs", tol=1e-10, max_iter=1000, dtype="float64"
        ),
        LogisticRegression(solver="lbfgs", tol=1e-10, max_iter=1000),
        1e-3,
    ),
    (
        MultilabelMultinomialNB(alpha=0.5, dtype="float64"),
        MultinomialNB(alpha=0.5),
        1e-6,
    ),
]
IDS = ["liblinear", "lbfgs", "naive_bayes"]


def _counts(n_classes, seed=0):
    """Word counts whose distribution depends on the class."""
    rng = np.random.RandomState(seed)
    y = rng.randint(n_classes, size=240)
    rates = rng.rand(n_classes, 12) * 3
    X = rng.poisson(rates[y]).astype(np.float64)
    return X, y


@pytest.mark.parametrize(("model", "reference", "atol"), MODELS, ids=IDS)
def test_binary_target_matches_the_single_label_model(model, reference, atol):
    model, reference = clone(model), clone(reference)
    X, y = _counts(2)
    names = np.array(["drama", "comedy"])[y]
    model.fit(X, names)
    reference.fit(X, names)
    assert model.classes_.tolist() == ["comedy", "drama"]
    decision = model.decision_function(X)
    proba = model.predict_proba(X)
    assert decision.shape == (len(X),)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba[:, 1], expit(decision))
    np.testing.assert_allclose(proba, reference.predict_proba(X), atol=atol)
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))
    # The stacker's scores stay one column per row of coef_.
    np.testing.assert_allclose(
        model._trusted_decision_function(X), decision[:, np.newaxis]
    )


@pytest.mark.parametrize(("model", "reference", "atol"), MODELS, ids=IDS)
def test_multiclass_target_is_one_vs_rest(model, reference, atol):
    model, reference = clone(model), clone(reference)
    X, y = _counts(4)
    model.fit(X, y + 10)
    reference = OneVsRestClassifier(reference).fit(X, y + 10)
    assert model.classes_.tolist() == [10, 11, 12, 13]
    decision = model.decision_function(X)
    proba = model.predict_proba(X)
    assert decision.shape == proba.shape == (len(X), 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(proba, reference.predict_proba(X), atol=atol)
    np.testing.assert_array_equal(model.predict(X), model.classes_[decision.argmax(1)])
    np.testing.assert_array_equal(model.predict(X), reference.predict(X))


@pytest.mark.parametrize(("model", "reference", "atol"), MODELS, ids=IDS)
def test_label_indicator_target_keeps_independent_labels(model, reference, atol):
    model, reference = clone(model), clone(reference)
    X, y = _counts(3)
    Y = np.stack([y == 0, y != 1, y == 2], axis=1).astype(int)
    model.fit(X, Y)
    assert model.classes_.tolist() == [0, 1, 2]
    decision = model.decision_function(X)
    proba = model.predict_proba(X)
    assert decision.shape == proba.shape == (len(X), 3)
    np.testing.assert_allclose(proba, expit(decision))
    assert not np.allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X), (proba >= 0.5).astype(int))
    np.testing.assert_allclose(model._trusted_decision_function(X), decision)
    for j in range(3):
        single = clone(reference).fit(X, Y[:, j])
        np.testing.assert_allclose(
            proba[:, j], single.predict_proba(X)[:, 1], atol=atol
        )


@pytest.mark.parametrize("model", [m for m, _, _ in MODELS], ids=IDS)
def test_one_class_is_always_predicted(model):
    model = clone(model)
    X, _ = _counts(2)
    model.fit(X, np.full(len(X), "mecha"))
    assert model.classes_.tolist() == ["mecha"]
    assert model.predict(X[:3]).tolist() == ["mecha"] * 3
    np.testing.assert_array_equal(model.predict_proba(X[:3]), np.ones((3, 1)))


@pytest.mark.parametrize("model", [m for m, _, _ in MODELS], ids=IDS)
def test_column_vector_target_warns_at_the_callers_line(model):
    model = clone(model)
    X, y = _counts(2)
    with pytest.warns(DataConversionWarning, match="column-vector y") as record:
        model.fit(X, y[:, np.newaxis])
    assert record[0].filename == __file__
    assert model.decision_function(X).shape == (len(X),)


@pytest.mark.parametrize("model", [m for m, _, _ in MODELS], ids=IDS)
@pytest.mark.parametrize(
    ("y", "kind"),
    [
        (np.linspace(0, 1, 240), "continuous"),
        (np.random.RandomState(0).randint(3, size=(240, 2)), "multiclass-multioutput"),
    ],
    ids=["continuous", "multiclass-multioutput"],
)
def test_other_targets_are_rejected_with_their_kind(model, y, kind):
    X, _ = _counts(2)
    name = type(model).__name__
    msg = f"Unknown label type: '{kind}'. {name} expects y as a label indicator matrix"
    with pytest.raises(ValueError, match=msg):
        model.fit(X, y)


def test_naive_bayes_rejects_negative_features_and_declares_it():
    X, y = _counts(2)
    X[3, 4] = -1.0
    with pytest.raises(
        ValueError, match="Negative values in data passed to MultilabelMultinomialNB"
    ):
        MultilabelMultinomialNB().fit(X, y)
    assert MultilabelMultinomialNB().__sklearn_tags__().input_tags.positive_only


def test_naive_bayes_binary_scores_rank_as_its_probabilities():
    # check_decision_proba_consistency of the common checks, on counts.
    # Weakly informative counts, so that no probability rounds to 0 or 1.
    rng = np.random.RandomState(0)
    y = rng.randint(2, size=240)
    X = rng.poisson(1.0 + 0.2 * y[:, np.newaxis], size=(240, 12))
    model = MultilabelMultinomialNB().fit(X[:200], y[:200])
    np.testing.assert_array_equal(
        rankdata(model.predict_proba(X[200:])[:, 1].round(10)),
        rankdata(model.decision_function(X[200:]).round(10)),
    )
