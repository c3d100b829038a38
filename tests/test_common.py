"""scikit-learn's common estimator checks on skanime's estimators."""

import pytest
from sklearn.utils.estimator_checks import (
    check_param_validation,
    parametrize_with_checks,
)

from skanime import (
    FocalMLPClassifier,
    MultilabelKNeighborsClassifier,
    MultilabelLogisticRegression,
    MultilabelMultinomialNB,
    RareFeatureSelector,
)

ESTIMATORS = [
    FocalMLPClassifier(max_iter=200, random_state=0),
    MultilabelLogisticRegression(),
    MultilabelLogisticRegression(solver="lbfgs"),
    MultilabelMultinomialNB(),
    MultilabelKNeighborsClassifier(),
    MultilabelKNeighborsClassifier(n_neighbors=5, similarity_power=0.0),
    RareFeatureSelector(max_df=1.0),
    RareFeatureSelector(max_df=0.5, norm=None),
]


def _expected_failed_checks(estimator):
    if isinstance(estimator, MultilabelMultinomialNB):
        return {
            "check_decision_proba_consistency": (
                "the check fits on features with negative values, which naive "
                "Bayes rejects; tests/test_linear_targets.py checks it on counts"
            ),
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda est: repr(est))
def test_check_param_validation(estimator):
    check_param_validation(type(estimator).__name__, estimator)
