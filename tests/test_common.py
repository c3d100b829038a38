"""scikit-learn's common estimator checks on skanime's estimators."""

import pytest
from sklearn.utils.estimator_checks import (
    check_param_validation,
    parametrize_with_checks,
)

from skanime import FocalMLPClassifier

ESTIMATORS = [FocalMLPClassifier(max_iter=200, random_state=0)]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda est: type(est).__name__)
def test_check_param_validation(estimator):
    check_param_validation(type(estimator).__name__, estimator)
