"""Cross-validation and decision-threshold tuning for multilabel targets."""

from ._split import (
    MultilabelStratifiedGroupKFold,
    MultilabelStratifiedKFold,
    MultilabelStratifiedShuffleSplit,
)
from ._threshold import MultiLabelThresholdTuner, apply_thresholds

__all__ = [
    "MultiLabelThresholdTuner",
    "MultilabelStratifiedGroupKFold",
    "MultilabelStratifiedKFold",
    "MultilabelStratifiedShuffleSplit",
    "apply_thresholds",
]
